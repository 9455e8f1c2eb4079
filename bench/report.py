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
    cores: float | None = None  # CPU seconds of the process and its children per second
    busy: float | None = None  # share of the whole machine's CPU time that was busy
    nodes: dict[str, int] | None = None  # statements each database node ran (--replica)
    node_cores: dict[str, float] | None = None  # CPU each database node used (--replica)


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
    cores: float | None = None
    busy: float | None = None
    nodes: dict[str, int] | None = None
    node_cores: dict[str, float] | None = None


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
                cores=_median(m.cores for m in runs),
                busy=_median(m.busy for m in runs),
                nodes=_added(m.nodes for m in runs),
                node_cores=_node_medians(m.node_cores for m in runs),
            )
        )
    # Each workload, then its floor.
    table.sort(key=lambda row: (row.target.split()[0], row.workers, row.target))
    return table


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _added(counts: Iterable[dict[str, int] | None]) -> dict[str, int] | None:
    present = [c for c in counts if c is not None]
    if not present:
        return None
    return {node: sum(c.get(node, 0) for c in present) for node in present[0]}


def _node_medians(cores: Iterable[dict[str, float] | None]) -> dict[str, float] | None:
    present = [c for c in cores if c is not None]
    if not present:
        return None
    return {node: statistics.median(c.get(node, 0.0) for c in present) for node in present[0]}


def markdown(table: list[Row]) -> str:
    by_node = any(row.nodes for row in table)
    lines = [
        "| workload | what | workers | req/s | p50 ms | p99 ms | SQL/req | peak RSS MiB"
        " | ÷ floor | cores used | machine busy | failed |"
        + (" statements by node | database cores |" if by_node else ""),
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|" + ("---|---|" if by_node else ""),
    ]
    for row in table:
        lines.append(
            f"| {row.target} | {row.title} | {row.workers} | {row.per_second:,.0f}"
            f" | {row.p50_ms:.1f} | {row.p99_ms:.1f}"
            f" | {'' if row.statements is None else row.statements}"
            f" | {row.peak_mib:.0f} | {'' if row.ratio is None else f'{row.ratio:.2f}'}"
            f" | {'' if row.cores is None else f'{row.cores:.2f}'}"
            f" | {'' if row.busy is None else f'{row.busy:.0%}'}"
            f" | {row.failures}/{row.requests:,} |"
            + (f" {nodes(row.nodes)} | {cores(row.node_cores)} |" if by_node else "")
        )
    return "\n".join(lines)


def nodes(counts: dict[str, int] | None) -> str:
    """Where the statements went, busiest node first: "replica 12,034, primary 3"."""
    if not counts:
        return ""
    return ", ".join(f"{node} {n:,}" for node, n in sorted(counts.items(), key=lambda c: -c[1]))


def cores(per_node: dict[str, float] | None) -> str:
    """The cores each database node used, in a fixed order: "primary 0.41, replica 0.02"."""
    if not per_node:
        return ""
    return ", ".join(f"{node} {n:.2f}" for node, n in sorted(per_node.items()))


def side_by_side(table: list[Row], peer: str | None) -> str:
    """One line per workload and setup: this server, the peer and the floor in columns."""
    found: dict[tuple[str, int], dict[str, Row]] = {}
    for row in table:
        words = row.target.split()
        kind = "floor" if words[-1] == FLOOR else "peer" if words[-1] == peer else "server"
        setup = " ".join(words[: -1 if kind != "server" else None])
        found.setdefault((setup, row.workers), {})[kind] = row
    peer_columns = f" {peer} req/s | {peer} ÷ floor |" if peer else ""
    lines = [
        "| workload | workers | server req/s |" + peer_columns + " floor req/s | server ÷ floor |",
        "|---|--:|--:|" + ("--:|--:|" if peer else "") + "--:|--:|",
    ]
    for (setup, workers), kinds in found.items():
        server, theirs, floor = kinds.get("server"), kinds.get("peer"), kinds.get("floor")
        if server is None:
            continue
        cells = [setup, str(workers), f"{server.per_second:,.0f}"]
        if peer:
            cells += [_per_second(theirs), _ratio(theirs)]
        cells += [_per_second(floor), _ratio(server)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _per_second(row: Row | None) -> str:
    return "" if row is None else f"{row.per_second:,.0f}"


def _ratio(row: Row | None) -> str:
    return "" if row is None or row.ratio is None else f"{row.ratio:.2f}"


def progress(m: Measurement) -> str:
    """One line per timed run, printed as the benchmark goes."""
    r = m.result
    line = (
        f"  {m.target:<5} workers={m.workers}  {r.per_second:8,.0f} req/s"
        f"  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  peak {m.peak_mib:5.0f} MiB"
    )
    if m.floor_per_second:
        line += f"  ÷ floor {r.per_second / m.floor_per_second:.2f}"
    if m.cores is not None and m.busy is not None:
        line += f"  cores {m.cores:.2f}  machine busy {m.busy:.0%}"
    if m.nodes:
        line += f"  statements: {nodes(m.nodes)}"
    if m.node_cores:
        line += f"  database cores: {cores(m.node_cores)}"
    if r.failures:
        line += f"  FAILED {r.failures}/{r.requests}"
    return line


def scaling(table: list[Row]) -> list[str]:
    """How each workload run with several process counts scaled against its fewest, with
    the cores the server used and how busy the machine was: a machine near 100% busy is
    the bottleneck, whatever the server could do with more cores."""
    lines = []
    servers = [r for r in table if len(r.target.split()) == 1 or r.target.endswith(" replica")]
    for target in dict.fromkeys(r.target for r in servers):
        runs = sorted((r for r in servers if r.target == target), key=lambda r: r.workers)
        floors = {r.workers: r for r in table if r.target == floor_of(target)}
        fewest = runs[0]
        for more in runs[1:]:
            line = (
                f"{target}: {more.workers} processes {more.per_second / fewest.per_second:.2f}x"
                f" {fewest.workers} ({fewest.per_second:,.0f} → {more.per_second:,.0f} req/s)"
            )
            if fewest.workers in floors and more.workers in floors:
                low, high = floors[fewest.workers], floors[more.workers]
                line += f"; its floor {high.per_second / low.per_second:.2f}x"
            if fewest.cores is not None and more.cores is not None:
                line += f"; server cores {fewest.cores:.2f} → {more.cores:.2f}"
            if fewest.busy is not None and more.busy is not None:
                line += f", machine busy {fewest.busy:.0%} → {more.busy:.0%}"
            lines.append(line)
    return lines
