"""`make bench` / `python -m bench`: the workloads against the real server, next to their floors.

Each timed run of a workload is followed by one of its own floor (the same answer built by
one SQL statement, bench/floor.py) with the same number of workers, so slow drifts of the
machine hit both; see bench/README.md for the columns. The live workload (bench/live.py)
runs last, on a server process of its own, with its floor in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import make_url

from bench import dataset, deliveries, imports, live, load, peers, replica, report, runs, workloads
from bench.floor import floor_sql
from bench.workloads import Workload
from db.engine import is_sqlite
from server.config.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE_ENV = "CATALOG_BENCH_DATABASE_URL"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = dict(os.environ)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if args.replica:
            if env.get(DATABASE_ENV, "").strip():
                print(f"bench: --replica runs on a pair of its own, not ${DATABASE_ENV}")
            print("bench: starting a PostgreSQL primary and a streaming replica of the bench's own")
            pair = stack.enter_context(replica.replicated())
            urls = {runs.PRIMARY: pair.primary_url, runs.REPLICA: pair.standby_url}
        else:
            pair = None
            url = env.get(DATABASE_ENV, "").strip() or f"sqlite+aiosqlite:///{RESULTS / 'bench.db'}"
            urls = {runs.PRIMARY: url}
        return _bench(args, env, urls, pair)


def _bench(
    args: argparse.Namespace,
    env: dict[str, str],
    urls: dict[str, str],
    pair: replica.Replicated | None,
) -> int:
    url = urls[runs.PRIMARY]
    # The server runs with the caller's CATALOG_* settings, plus a write token for W4.
    server_env = {**env, "CATALOG_WRITE_TOKENS": workloads.TOKEN}
    settings = Settings.from_env(server_env).but(database_url=url)
    generator = load.available_generator() if args.generator == "auto" else args.generator
    timed = load.Load(args.duration, args.connections, generator=generator)
    warmup = replace(timed, seconds=args.warmup)

    where = make_url(url).render_as_string(hide_password=True)
    print(f"bench: database {where}")
    data = dataset.prepare(url)
    if pair is not None:
        pair.wait_for_replay(timeout=120.0)
    every = workloads.build(data)
    chosen = [every[name] for name in args.only if name in every]
    setups = [(n, runs.PRIMARY) for n in args.workers]
    if pair is not None:
        setups.append((args.workers[0], runs.REPLICA))
    plan = [
        runs.Planned(workload, setup)
        for workload in chosen
        for setup in setups
        if _runs_with(workload, setup, setups)
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
    peer_workloads, peer_notes = _peers(args.peers, url, chosen)
    setup = (
        f"{generator} load, {timed.connections} connections,"
        f" {args.rounds} round(s) of {args.duration:g} s per workload, peer and floor"
    )
    print(f"bench: {setup}")

    with ExitStack() as processes:
        used = {s for s in setups if any(p.setup == s for p in plan)}
        if "W6" in args.only:
            used.add(setups[0])
        services = runs.start(processes, sorted(used), urls, server_env, RESULTS, peer_workloads)
        if chosen:
            peer_notes += runs.check_answers(services, chosen, floored)
        for note in peer_notes:
            print(f"bench: {note}")
        measurements, problems = runs.rounds(
            args.rounds,
            plan,
            services,
            floored,
            data,
            timed,
            warmup,
            RESULTS,
            partial(replica.sample, pair) if pair is not None else None,
        )
        imported = None
        if "W6" in args.only:
            print("W6: examples/apply_tags.py, 10,000 rows, then 1,000 rows one request each")
            server = services.servers[setups[0]]
            imported = imports.run(server.graphql_url, data, args.rounds, RESULTS / "w6")
            problems += [f"after W6: {p}" for p in dataset.verify(data)]

    lived, live_note = None, None
    if LIVE in args.only:
        if is_sqlite(url) or pair is not None:
            live_note = f"{LIVE} left out: it needs PostgreSQL (${DATABASE_ENV}), not --replica"
            print(f"bench: {live_note}")
        else:
            print(
                f"{LIVE}: {live.SUBSCRIBERS:,} WebSocket subscribers of {args.live_products}"
                f" products on one process, {live.RATE} writes/s for {args.live_seconds:g} s"
            )
            live_env = {**server_env, "CATALOG_DATABASE_URL": url}
            lived = live.run(url, data, live_env, args.live_seconds, RESULTS, args.live_products)
            problems += deliveries.verdict(lived)
            problems += [f"after {LIVE}: {p}" for p in dataset.verify(data)]

    titles = {w.name: w.title for w in every.values()}
    for planned in plan:
        titles[planned.target] = planned.workload.title
        if planned.workload.name in floored:
            titles[report.floor_of(planned.target)] = f"{planned.workload.name}'s answer in SQL"
        for name in peer_workloads:
            titles[f"{planned.target} {name}"] = f"{planned.workload.name} on {name}"
        if planned.target != planned.workload.name:  # the same request, another node
            statements[planned.target] = statements[planned.workload.name]
            if planned.workload.name in floored:
                statements[report.floor_of(planned.target)] = 1
    table = report.rows(measurements, titles, statements)
    peer = next(iter(peer_workloads), None)
    text = report.markdown(table) + "\n\n" + report.side_by_side(table, peer) if table else ""
    if scaled := report.scaling(table):
        text += "\n\n" + "\n".join(f"- {line}" for line in scaled)
    if peer_notes:
        text += "\n\n" + "\n".join(f"- {note}" for note in peer_notes)
    if no_floor:
        text += (
            f"\n\n{', '.join(no_floor)}: {workloads.NO_BASE64}; no ratio is given rather"
            " than one to another workload's floor."
        )
    if imported is not None:
        text += "\n\n" + imports.markdown(imported)
    if lived is not None:
        text += "\n\n" + deliveries.markdown(lived)
    if live_note is not None:
        text += f"\n\n{live_note}"
    text = text.strip()
    verdict = _verdict(chosen, problems, imported, lived)
    print()
    print(text)
    print()
    print(verdict)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    backend = make_url(url).get_backend_name() + (" primary and streaming replica" if pair else "")
    (RESULTS / "latest.md").write_text(
        f"# Benchmark, {stamp}\n\n{backend}, {setup}.\n\n{text}\n\n{verdict}\n"
    )
    failures = sum(row.failures for row in table) + (imported.failures() if imported else 0)
    return 1 if problems or failures else 0


LIVE = "LIVE"
NAMES = ("W1", "W2", "W3", "W4", "W5", "W6", LIVE)

# W1 and W3 run with every process count (issue figures: one process against two); every
# read workload runs with reads on the replica under --replica; the rest once.
SCALED = {"W1", "W3"}


def _runs_with(workload: Workload, setup: runs.Setup, setups: list[runs.Setup]) -> bool:
    if setup[1] == runs.REPLICA:
        return not workload.floor.writes
    return setup == setups[0] or workload.name in SCALED


def _peers(
    names: list[str], url: str, chosen: list[Workload]
) -> tuple[dict[str, dict[str, Workload]], list[str]]:
    """The peers to run and their translated workloads, or lines saying why they cannot."""
    if not names:
        return {}, []
    if is_sqlite(url):
        return {}, [f"{peers.NAME} left out: it needs PostgreSQL (set ${DATABASE_ENV})"]
    print(f"bench: installing {peers.NAME} and Node 22 (bench/peers/postgraphile/) if needed")
    if (why := peers.install()) is not None:
        return {}, [f"{peers.NAME} left out: {why}"]
    translated = {w.name: t for w in chosen if (t := peers.workload(w)) is not None}
    if not translated:
        return {}, [f"{peers.NAME} left out: it answers none of the chosen workloads"]
    return {peers.NAME: translated}, []


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
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="server processes to run W1 and W3 with (the others: the first)",
    )
    parser.add_argument("--only", default=",".join(NAMES), help="workloads, e.g. W1,W4 or live")
    parser.add_argument(
        "--live-seconds", type=float, default=25.0, help="seconds of writes in the live run"
    )
    parser.add_argument(
        "--live-products",
        type=int,
        default=live.PRODUCTS,
        help="products the live run's subscribers follow (each write reaches "
        "subscribers / products of them)",
    )
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator (auto: wrk when installed)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 2 s")
    parser.add_argument(
        "--peers",
        default="",
        help="other servers to run beside this one on the same database: postgraphile",
    )
    parser.add_argument(
        "--replica",
        action="store_true",
        help="run on a PostgreSQL primary and streaming replica of the bench's own, and add"
        " each read workload with the server reading from the replica",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    if unknown := [name for name in args.only if name not in NAMES]:
        parser.error(f"unknown workloads: {', '.join(unknown)}")
    args.peers = [name.strip().lower() for name in args.peers.split(",") if name.strip()]
    if unknown := [name for name in args.peers if name != "postgraphile"]:
        parser.error(f"unknown peers: {', '.join(unknown)} (known: postgraphile)")
    if args.quick:
        args.rounds, args.duration, args.warmup, args.live_seconds = 1, 2.0, 1.0, 5.0
    if args.rounds < 1 or args.duration <= 0 or args.live_seconds <= 0 or min(args.workers) < 1:
        parser.error("--rounds, --duration, --live-seconds and --workers must be positive")
    return args


def _verdict(
    chosen: list[Workload],
    problems: list[str],
    imported: imports.ImportResult | None,
    lived: deliveries.LiveRun | None,
) -> str:
    writers = [w.name for w in chosen if w.name == "W4"] + (["W6"] if imported else [])
    writers += [LIVE] if lived else []
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
