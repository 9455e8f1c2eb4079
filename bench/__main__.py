"""`make bench` / `python -m bench`: the workloads against the real server, next to their floors.

Each timed run of a workload is followed by one of its own floor (the same answer built by
one SQL statement, bench/floor.py) with the same number of workers, so slow drifts of the
machine hit both; see bench/README.md for the columns.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from sqlalchemy import make_url

from bench import dataset, imports, load, report, workloads
from bench.floor import floor_sql
from bench.processes import Service, floor_command, free_port, running, server_command
from bench.workloads import Workload
from server.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE_ENV = "CATALOG_BENCH_DATABASE_URL"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = dict(os.environ)
    url = env.get(DATABASE_ENV, "").strip() or f"sqlite+aiosqlite:///{RESULTS / 'bench.db'}"
    # The server runs with the caller's CATALOG_* settings, plus a write token for W4.
    server_env = {**env, "CATALOG_WRITE_TOKENS": workloads.TOKEN}
    settings = Settings.from_env(server_env).but(database_url=url)
    generator = load.available_generator() if args.generator == "auto" else args.generator
    timed = load.Load(args.duration, args.connections, generator=generator)
    warmup = replace(timed, seconds=args.warmup)
    RESULTS.mkdir(parents=True, exist_ok=True)

    where = make_url(url).render_as_string(hide_password=True)
    print(f"bench: database {where}")
    data = dataset.prepare(url)
    every = workloads.build(data)
    chosen = [every[name] for name in args.only if name in every]
    plan = [
        (workload, workers)
        for workload in chosen
        for workers in (args.workers if workload.name == "W1" else args.workers[:1])
    ]
    print("bench: counting SQL statements per request in-process")
    statements = {
        w.name: asyncio.run(workloads.statements_per_request(settings, w)) for w in chosen
    }
    floored = {w.name for w in chosen if floor_sql(w.floor, url) is not None}
    for w in chosen:
        if w.name in floored:
            statements[report.floor_of(w.name)] = len(floor_sql(w.floor, url) or ())
    no_floor = [w.name for w in chosen if w.name not in floored]
    setup = (
        f"{generator} load, {timed.connections} connections,"
        f" {args.rounds} round(s) of {args.duration:g} s per workload and floor"
    )
    print(f"bench: {setup}")

    with ExitStack() as stack:
        counts = {n for _, n in plan} | ({args.workers[0]} if "W6" in args.only else set())
        servers, floors = _start(stack, sorted(counts), url, server_env)
        _check_answers(servers, floors, chosen, [w for w in chosen if w.name in floored])
        measurements, problems = _rounds(
            args.rounds, plan, servers, floors, floored, data, timed, warmup
        )
        imported = None
        if "W6" in args.only:
            print("W6: examples/apply_tags.py, 10,000 rows, then 1,000 rows one request each")
            server = servers[args.workers[0]]
            imported = imports.run(server.graphql_url, data, args.rounds, RESULTS / "w6")
            problems += [f"after W6: {p}" for p in dataset.verify(data)]

    titles = {w.name: w.title for w in every.values()}
    titles |= {report.floor_of(n): f"{n}'s answer in SQL" for n in floored}
    table = report.rows(measurements, titles, statements)
    text = report.markdown(table)
    if no_floor:
        text += (
            f"\n\n{', '.join(no_floor)}: {workloads.NO_BASE64}; no ratio is given rather"
            " than one to another workload's floor."
        )
    if imported is not None:
        text += "\n\n" + imports.markdown(imported)
    verdict = _verdict(chosen, problems, imported)
    print()
    print(text)
    print()
    print(verdict)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (RESULTS / "latest.md").write_text(
        f"# Benchmark, {stamp}\n\n{make_url(url).get_backend_name()}, {setup}.\n\n"
        f"{text}\n\n{verdict}\n"
    )
    failures = sum(row.failures for row in table) + (imported.failures() if imported else 0)
    return 1 if problems or failures else 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=f"Benchmark the catalog server. Database: ${DATABASE_ENV}, "
        "else a SQLite file in bench/results/.",
    )
    parser.add_argument("--rounds", type=int, default=2, help="timed runs per workload")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per timed run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--connections", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="server workers to run W1 with"
    )
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6", help="workloads, e.g. W1,W4")
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator (auto: wrk when installed)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 2 s")
    args = parser.parse_args(argv)
    args.only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    if unknown := [name for name in args.only if name not in {"W1", "W2", "W3", "W4", "W5", "W6"}]:
        parser.error(f"unknown workloads: {', '.join(unknown)}")
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2.0, 1.0
    if args.rounds < 1 or args.duration <= 0 or min(args.workers) < 1:
        parser.error("--rounds, --duration and --workers must be positive")
    return args


def _start(
    stack: ExitStack, worker_counts: list[int], url: str, env: dict[str, str]
) -> tuple[dict[int, Service], dict[int, Service]]:
    """A server and a floor for each worker count, stopped when `stack` closes."""
    servers: dict[int, Service] = {}
    floors: dict[int, Service] = {}
    for workers in worker_counts:
        port = free_port()
        command = server_command(port, url, workers)
        servers[workers] = stack.enter_context(
            running(f"server-{workers}w", command, port, env, RESULTS)
        )
        port = free_port()
        command = floor_command(port, url, workers)
        floors[workers] = stack.enter_context(
            running(f"floor-{workers}w", command, port, env, RESULTS)
        )
    return servers, floors


def _rounds(
    rounds: int,
    plan: list[tuple[Workload, int]],
    servers: dict[int, Service],
    floors: dict[int, Service],
    floored: set[str],
    data: dataset.Dataset,
    timed: load.Load,
    warmup: load.Load,
) -> tuple[list[report.Measurement], list[str]]:
    """Every workload of the plan, each followed by its own floor when it has one on this
    database; the links checked after W4 and after its floor."""
    measurements: list[report.Measurement] = []
    problems: list[str] = []
    for round_number in range(1, rounds + 1):
        print(f"round {round_number}/{rounds}")
        for workload, workers in plan:
            measured = _measure(servers[workers], workload, workers, timed, warmup)
            if workload.name == "W4":
                problems += [f"after W4: {p}" for p in dataset.verify(data)]
            if workload.name not in floored:
                measurements.append(measured)
                print(report.progress(measured))
                continue
            floor = _measure(floors[workers], workload, workers, timed, warmup, floor=True)
            measured = replace(measured, floor_per_second=floor.result.per_second)
            measurements += [measured, floor]
            print(report.progress(measured))
            print(report.progress(floor))
            if workload.name == "W4":
                problems += [f"after W4's floor: {p}" for p in dataset.verify(data)]
    return measurements, problems


def _measure(
    service: Service,
    workload: Workload,
    workers: int,
    timed: load.Load,
    warmup: load.Load,
    *,
    floor: bool = False,
) -> report.Measurement:
    url = _floor_url(service, workload) if floor else service.graphql_url
    if warmup.seconds > 0:
        load.run(url, workload, warmup, RESULTS / "lua")
        service.wait_idle()
    if not service.reset_peak_memory():
        print(f"bench: cannot reset peak memory of {service.name}: peaks are since start")
    result = load.run(url, workload, timed, RESULTS / "lua")
    service.wait_idle()
    if service.process.poll() is not None:
        raise RuntimeError(f"{service.name} died during {workload.name}:\n{service.log_tail()}")
    target = report.floor_of(workload.name) if floor else workload.name
    return report.Measurement(target, workers, result, service.peak_memory_mib())


CHECKED_BODIES = 5  # bodies of each workload whose answers are compared before timing


def _check_answers(
    servers: dict[int, Service],
    floors: dict[int, Service],
    chosen: list[Workload],
    floored: list[Workload],
) -> None:
    """Fail fast unless every workload succeeds and each floor answers what its workload
    answers: the same `data`, byte for byte once re-serialized (PostgreSQL's JSON has
    spaces after its colons; keys, their order and every value must be the same)."""
    for service in servers.values():
        for workload in chosen:
            response = _post(service.graphql_url, workload, workload.bodies[0])
            if workloads.failed(response.status_code, response.content):
                raise RuntimeError(f"{workload.name} fails on {service.name}: {response.text}")
    for workers, floor in floors.items():
        for workload in floored:
            for body in workload.bodies[:CHECKED_BODIES]:
                expected = _data(_post(servers[workers].graphql_url, workload, body))
                got = _data(_post(_floor_url(floor, workload), workload, body))
                if got != expected:
                    raise RuntimeError(
                        f"{workload.name}'s floor answers differently (bench/workloads.py):\n"
                        f"server: {expected[:400]!r}\nfloor:  {got[:400]!r}"
                    )


def _data(response: httpx.Response) -> bytes:
    """The response's `data`, without insignificant whitespace."""
    return orjson.dumps(orjson.loads(response.content).get("data"))


def _floor_url(floor: Service, workload: Workload) -> str:
    return f"{floor.base_url}/floor/{workload.name}"


def _post(url: str, workload: Workload, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=workload.headers, timeout=30)


def _verdict(
    chosen: list[Workload], problems: list[str], imported: imports.ImportResult | None
) -> str:
    writers = [w.name for w in chosen if w.name == "W4"] + (["W6"] if imported else [])
    if not writers:
        return "W4 and W6 did not run: writes not checked."
    if problems:
        return "LOST OR DUPLICATED WRITES:\n" + "\n".join(f"- {p}" for p in problems)
    return (
        "Write check: the 50,000 links are exactly the dataset's after every "
        f"{' and '.join(writers)} run."
    )


if __name__ == "__main__":
    sys.exit(main())
