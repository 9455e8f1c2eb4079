"""The bench's peer translation and its side-by-side table (bench/peers.py, bench/report.py).

PostGraphile's own run needs Node and npm, so `make bench PEERS=postgraphile` checks its
answers against the server's before timing; these tests pin the pieces that decide what
is compared and how it is shown.
"""

from __future__ import annotations

import orjson

from bench import peers, report
from bench.load import Result
from bench.workloads import Floor, Workload
from resolvers.ids import encode_id


def _workload(name: str, bodies: list[dict[str, object]]) -> Workload:
    return Workload(
        name, name, tuple(orjson.dumps(b) for b in bodies), {}, Floor(postgresql=None, sqlite=None)
    )


def test_the_peer_w3_asks_for_the_product_by_its_row_id() -> None:
    ours = _workload("W3", [{"query": "q", "variables": {"id": encode_id("Product", 42)}}])

    theirs = peers.workload(ours)

    assert theirs is not None
    body = orjson.loads(theirs.bodies[0])
    assert body == {"query": peers.QUERIES["W3"].query, "variables": {"id": 42}}


def test_a_workload_the_peer_cannot_answer_has_no_peer_workload() -> None:
    assert peers.workload(_workload("W4", [{"query": "mutation { x }"}])) is None


def test_answers_with_the_same_data_under_other_names_and_orders_have_the_same_facts() -> None:
    ours = {"product": {"id": "UHJvZHVjdDox", "name": "Lamp", "tags": {"edges": [
        {"priority": 2, "addedAt": "2026-01-01T00:00:00+00:00", "node": {"name": "wood"}},
        {"priority": 0, "addedAt": "2026-01-02T00:00:00+00:00", "node": {"name": "new"}},
    ]}}}  # fmt: skip
    theirs = {"productByRowId": {"id": "WyJQcm9kdWN0IiwxXQ==", "name": "Lamp", "tags": {"edges": [
        {"priority": 0, "addedAt": "2026-01-02T00:00:00+00:00", "node": {"name": "new"}},
        {"priority": 2, "addedAt": "2026-01-01T00:00:00+00:00", "node": {"name": "wood"}},
    ]}}}  # fmt: skip
    other_priority = orjson.loads(orjson.dumps(theirs).replace(b'"priority":2', b'"priority":3'))

    assert peers.facts(ours) == peers.facts(theirs)
    assert peers.facts(ours) != peers.facts(other_priority)


def _measured(target: str, per_second: float, workers: int = 1) -> report.Measurement:
    result = Result(int(per_second * 10), 10.0, 1.0, 2.0, 0)
    floor = None if target.endswith(report.FLOOR) else 400.0
    return report.Measurement(target, workers, result, 100.0, floor_per_second=floor)


def test_the_side_by_side_table_puts_server_peer_and_floor_in_columns() -> None:
    table = report.rows(
        [
            _measured("W3", 100),
            _measured("W3 PostGraphile", 200),
            _measured(report.floor_of("W3"), 400),
            _measured("W3", 180, workers=2),
            _measured(report.floor_of("W3"), 400, workers=2),
        ],
        {},
        {},
    )

    lines = report.side_by_side(table, "PostGraphile").splitlines()

    assert lines[0] == (
        "| workload | workers | server req/s | PostGraphile req/s | PostGraphile ÷ floor"
        " | floor req/s | server ÷ floor |"
    )
    assert lines[2:] == [
        "| W3 | 1 | 100 | 200 | 0.50 | 400 | 0.25 |",
        "| W3 | 2 | 180 |  |  | 400 | 0.45 |",
    ]
    assert report.scaling(table) == ["W3: 2 processes 1.80x 1 (100 → 180 req/s); its floor 1.00x"]
