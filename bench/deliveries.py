"""What the live workload's subscribers received, checked against the change log and
turned into figures: latency from commit to delivery, events lost or extra, the table.

Pure functions over plain records, so that the checks that decide "0 lost" are tested on
their own (tests/bench/test_deliveries.py); bench/live.py gathers the records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Logged:
    """One entry of the log, as Query.changes lists it: its cursor, its write's version,
    and when it was committed (seconds since the epoch)."""

    cursor: str
    version: int
    at: float


@dataclass(frozen=True)
class Received:
    """One subscription's events after the start: (receipt time, cursor or None) each, in
    the order they arrived. productChanged events carry no cursor."""

    kind: str  # "catalogChanges" or "productChanged"
    product: str  # the product's global id
    events: tuple[tuple[float, str | None], ...]
    failed: str | None = None  # an error, a `complete` or a closed socket, if any


@dataclass
class Checked:
    """All subscriptions against the log: latencies of every delivery, and what is off."""

    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0  # events the log says a subscription should have had, and it did not
    extra: int = 0  # events a subscription had beyond the log's, or out of order
    failed: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0-100): the smallest value with at least
    `share` percent of the values at or below it. NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def check(received: Iterable[Received], log: dict[str, list[Logged]]) -> Checked:
    """Each subscription's events against the log's entries of its product (`log`, by the
    product's global id, in commit order).

    catalogChanges must deliver exactly the log's entries, cursor by cursor, in order.
    productChanged must deliver one event per write (version) of its product, in order;
    its k-th event is matched to the k-th such write. A delivery's latency is its receipt
    time minus its entry's commit time.
    """
    checked = Checked()
    for sub in received:
        if sub.failed:
            checked.failed.append(f"{sub.kind}({sub.product}): {sub.failed}")
        entries = log.get(sub.product, [])
        if sub.kind == "catalogChanges":
            expected = [(e.cursor, e.at) for e in entries]
        else:  # no cursor to compare: the k-th event is the k-th write
            expected = [(None, at) for _, at in _writes(entries)]
        matched = 0
        for (at_receipt, cursor), (want, at) in zip(sub.events, expected, strict=False):
            if cursor != want:
                break
            checked.latencies_ms.append((at_receipt - at) * 1000)
            matched += 1
        checked.lost += len(expected) - matched
        checked.extra += len(sub.events) - matched
    return checked


def _writes(entries: list[Logged]) -> list[tuple[int, float]]:
    """(version, commit time) of each write, once however many entries it has."""
    seen: dict[int, float] = {}
    for e in entries:
        seen.setdefault(e.version, e.at)
    return list(seen.items())


@dataclass(frozen=True)
class LiveRun:
    """The figures of one live run, as the table shows them."""

    subscribers: int
    writes: int
    seconds: float
    checked: Checked
    floor_ms: list[float]  # commit to NOTIFY on one raw LISTEN connection, per write
    floor_missed: int  # writes whose NOTIFY the floor's connection did not receive
    cores: float  # server CPU seconds per second of the run
    peak_mib: float
    failed_writes: int


def markdown(run: LiveRun) -> str:
    """The live table: server against its floor, latency percentiles in ms."""
    c = run.checked
    lat, floor = c.latencies_ms, run.floor_ms
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    lines = [
        "| live | subscribers | writes/s | deliveries | p50 ms | p99 ms | max ms | lost"
        " | extra | failed writes | cores used | peak RSS MiB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| server | {run.subscribers:,} | {run.writes / run.seconds:.0f} | {len(lat):,}"
        f" | {p50:.1f} | {p99:.1f} | {max(lat, default=math.nan):.1f} | {c.lost}"
        f" | {c.extra} | {run.failed_writes} | {run.cores:.2f} | {run.peak_mib:.0f} |",
        f"| floor: LISTEN | 1 | {run.writes / run.seconds:.0f} | {len(floor):,}"
        f" | {f50:.1f} | {f99:.1f} | {max(floor, default=math.nan):.1f} | {run.floor_missed}"
        " | | | | |",
    ]
    text = "\n".join(lines)
    text += (
        f"\n\nLatency from commit (the entry's `at`) to receipt; server ÷ floor:"
        f" p50 {_ratio(p50, f50)}, p99 {_ratio(p99, f99)}."
    )
    if c.failed:
        text += "\n\nSubscriptions that failed:\n" + "\n".join(f"- {f}" for f in c.failed[:10])
    return text


def _ratio(server: float, floor: float) -> str:
    return f"{server / floor:.1f}" if floor > 0 and not math.isnan(server) else "n/a"


def verdict(run: LiveRun) -> list[str]:
    """Problems that make the live run's exit status 1: lost or extra events, failures."""
    c = run.checked
    problems = []
    if c.lost or c.extra:
        problems.append(f"live: {c.lost} events lost, {c.extra} extra")
    if c.failed:
        problems.append(f"live: {len(c.failed)} subscriptions failed")
    if run.failed_writes:
        problems.append(f"live: {run.failed_writes} writes failed")
    return problems
