"""Turning measurements into the Markdown table `make bench` prints and saves."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.load import Result

FLOOR = "floor"


def floor_of(workload: str) -> str:
    """The name a workload's floor has in the table: "W1 floor"."""
    return f"{workload} {FLOOR}"


@dataclass(frozen=True)
class Measurement:
    """One timed run against the server (a workload) or the floor, with its peak memory."""

    target: str  # "W1" ... "W5", or floor_of("W1") ...
    workers: int
    result: Result
    peak_mib: float
    floor_per_second: float | None = None  # the floor run paired with this one


@dataclass(frozen=True)
class Row:
    target: str
    title: str
    workers: int
    per_second: float
    p50_ms: float
    p99_ms: float
    statements: int | None
    peak_mib: float
    ratio: float | None
    failures: int
    requests: int


def rows(
    measurements: Iterable[Measurement], titles: dict[str, str], statements: dict[str, int]
) -> list[Row]:
    """One row per workload and worker count: medians over rounds, peak memory at its highest.

    The ratio is the median of each round's (workload req/s ÷ floor req/s), the floor
    having run right after the workload with the same number of workers.
    """
    groups: dict[tuple[str, int], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.target, m.workers), []).append(m)
    table = []
    for (target, workers), runs in groups.items():
        ratios = [m.result.per_second / m.floor_per_second for m in runs if m.floor_per_second]
        table.append(
            Row(
                target=target,
                title=titles.get(target, ""),
                workers=workers,
                per_second=statistics.median(m.result.per_second for m in runs),
                p50_ms=statistics.median(m.result.p50_ms for m in runs),
                p99_ms=statistics.median(m.result.p99_ms for m in runs),
                statements=statements.get(target),
                peak_mib=max(m.peak_mib for m in runs),
                ratio=statistics.median(ratios) if ratios else None,
                failures=sum(m.result.failures for m in runs),
                requests=sum(m.result.requests for m in runs),
            )
        )
    # Each workload, then its floor.
    table.sort(key=lambda row: (row.target.split()[0], row.workers, row.target))
    return table


def markdown(table: list[Row]) -> str:
    lines = [
        "| workload | what | workers | req/s | p50 ms | p99 ms | SQL/req | peak RSS MiB"
        " | ÷ floor | failed |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in table:
        lines.append(
            f"| {row.target} | {row.title} | {row.workers} | {row.per_second:,.0f}"
            f" | {row.p50_ms:.1f} | {row.p99_ms:.1f}"
            f" | {'' if row.statements is None else row.statements}"
            f" | {row.peak_mib:.0f} | {'' if row.ratio is None else f'{row.ratio:.2f}'}"
            f" | {row.failures}/{row.requests:,} |"
        )
    return "\n".join(lines)


def progress(m: Measurement) -> str:
    """One line per timed run, printed as the benchmark goes."""
    r = m.result
    line = (
        f"  {m.target:<5} workers={m.workers}  {r.per_second:8,.0f} req/s"
        f"  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  peak {m.peak_mib:5.0f} MiB"
    )
    if m.floor_per_second:
        line += f"  ÷ floor {r.per_second / m.floor_per_second:.2f}"
    if r.failures:
        line += f"  FAILED {r.failures}/{r.requests}"
    return line
