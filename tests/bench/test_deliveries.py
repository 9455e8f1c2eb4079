"""The live workload's checks (bench/deliveries.py): what counts as lost, extra and late.

The run itself needs PostgreSQL and a thousand sockets (`make bench BENCH_ARGS="--only
live"`); these pin the pure pieces that decide its verdict.
"""

from __future__ import annotations

import math

from bench import deliveries
from bench.deliveries import Checked, LiveRun, Logged, Received
from bench.subscribers import CATALOG, PRODUCT, kind_of

LOG = {
    "P1": [
        Logged("c1", version=10, at=100.0),
        Logged("c2", version=11, at=101.0),
        Logged("c3", version=11, at=101.0),  # the same write as c2
        Logged("c4", version=12, at=102.0),
    ]
}


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert deliveries.percentile(values, 50) == 50.0
    assert deliveries.percentile(values, 99) == 99.0
    assert deliveries.percentile([3.0, 1.0, 2.0], 100) == 3.0
    assert deliveries.percentile([7.0], 1) == 7.0
    assert math.isnan(deliveries.percentile([], 50))


def test_catalog_changes_must_deliver_every_entry_in_order() -> None:
    events = ((100.5, "c1"), (101.25, "c2"), (101.5, "c3"), (102.125, "c4"))

    checked = deliveries.check([Received(CATALOG, "P1", events)], LOG)

    assert (checked.lost, checked.extra) == (0, 0)
    assert checked.latencies_ms == [500.0, 250.0, 500.0, 125.0]


def test_a_missing_entry_counts_as_lost_and_what_follows_it_as_extra() -> None:
    events = ((100.5, "c1"), (101.5, "c3"), (102.5, "c4"))

    checked = deliveries.check([Received(CATALOG, "P1", events)], LOG)

    assert checked.lost == 3  # c2, and c3 and c4 are no longer where they should be
    assert checked.extra == 2
    assert checked.latencies_ms == [500.0]


def test_product_changed_delivers_once_per_write() -> None:
    events = ((100.5, None), (101.5, None), (102.5, None))

    checked = deliveries.check([Received(PRODUCT, "P1", events)], LOG)

    assert (checked.lost, checked.extra) == (0, 0)
    assert checked.latencies_ms == [500.0, 500.0, 500.0]


def test_product_changed_short_of_writes_counts_lost_and_beyond_them_extra() -> None:
    short = Received(PRODUCT, "P1", ((100.5, None),))
    long = Received(PRODUCT, "P1", tuple((100.0 + n, None) for n in range(5)))

    checked = deliveries.check([short, long], LOG)

    assert (checked.lost, checked.extra) == (2, 2)


def test_a_failed_subscription_is_reported() -> None:
    checked = deliveries.check([Received(CATALOG, "P1", (), failed="complete")], LOG)

    assert checked.failed == [f"{CATALOG}(P1): complete"]
    assert checked.lost == 4


def test_subscriptions_alternate_kinds_over_each_round_of_products() -> None:
    kinds = [kind_of(i, products=2) for i in range(6)]

    assert kinds == [CATALOG, CATALOG, PRODUCT, PRODUCT, CATALOG, CATALOG]


def test_the_table_shows_the_server_against_its_floor_and_the_verdict_its_losses() -> None:
    run = LiveRun(
        subscribers=1000,
        writes=500,
        seconds=10.0,
        checked=Checked(latencies_ms=[10.0, 20.0, 30.0], lost=1),
        floor_ms=[1.0, 2.0],
        floor_missed=0,
        cores=0.5,
        peak_mib=120.0,
        failed_writes=0,
    )

    text = deliveries.markdown(run)

    assert "| server | 1,000 | 50 | 3 | 20.0 | 30.0 | 30.0 | 1 | 0 | 0 | 0.50 | 120 |" in text
    assert "| floor: LISTEN | 1 | 50 | 2 | 1.0 | 2.0 | 2.0 | 0 |" in text
    assert "p50 20.0, p99 15.0" in text
    assert deliveries.verdict(run) == ["live: 1 events lost, 0 extra"]
