"""The timed part of a bench run: the processes under test, the answers checked, the rounds.

A setup is a number of server processes and where their reads go ("primary", or "replica"
under `--replica`); each setup has its own server and its own floor. Peers (PostGraphile)
run with the first setup only. In each round, every planned workload runs against its
server, then against each peer that answers it, then against its floor, with the same
bodies, so slow drifts of the machine hit all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import orjson

from bench import dataset, load, peers, report, workloads
from bench.processes import (
    Service,
    answers_graphql,
    floor_command,
    free_port,
    machine_ticks,
    running,
    server_command,
)
from bench.replica import Sample
from bench.workloads import Workload

PRIMARY, REPLICA = "primary", "replica"
CHECKED_BODIES = 5  # bodies of each workload whose answers are compared before timing

Setup = tuple[int, str]  # (server processes, where reads go)
Sampler = Callable[[], Sample]  # what each database node has done so far


@dataclass(frozen=True)
class Planned:
    workload: Workload
    setup: Setup

    @property
    def target(self) -> str:
        """The row's name: "W1", or "W1 replica" for reads on the replica."""
        reads = self.setup[1]
        return self.workload.name if reads == PRIMARY else f"{self.workload.name} {reads}"


@dataclass
class Services:
    servers: dict[Setup, Service] = field(default_factory=dict)
    floors: dict[Setup, Service] = field(default_factory=dict)
    peers: dict[str, tuple[Service, dict[str, Workload]]] = field(default_factory=dict)


def start(
    stack: ExitStack,
    setups: list[Setup],
    urls: dict[str, str],
    env: dict[str, str],
    results: Path,
    peer_workloads: dict[str, dict[str, Workload]],
) -> Services:
    """A server and a floor per setup, and each peer that starts (one that does not is
    left out with a line saying so); stopped when `stack` closes.

    `urls` maps where reads go to a database URL; the server always writes to the primary
    and is told of the replica by `CATALOG_READ_DATABASE_URLS`; a floor reads from the node
    its setup reads from.
    """
    services = Services()
    for workers, reads in setups:
        suffix = f"{workers}w" if reads == PRIMARY else f"{workers}w-{reads}"
        # The URL is given both ways: the replica settings are checked against the
        # environment's primary, the command line's --database-url is the one that serves.
        server_env = {**env, "CATALOG_DATABASE_URL": urls[PRIMARY]}
        if reads != PRIMARY:
            server_env["CATALOG_READ_DATABASE_URLS"] = urls[reads]
        port = free_port()
        services.servers[workers, reads] = stack.enter_context(
            running(
                f"server-{suffix}",
                server_command(port, urls[PRIMARY], workers),
                port,
                server_env,
                results,
            )
        )
        port = free_port()
        services.floors[workers, reads] = stack.enter_context(
            running(
                f"floor-{suffix}", floor_command(port, urls[reads], workers), port, env, results
            )
        )
    for name, translated in peer_workloads.items():
        port = free_port()
        started = running(
            name,
            peers.command(),
            port,
            peers.environment(env, urls[PRIMARY], port),
            results,
            ready=answers_graphql,
        )
        try:
            service = stack.enter_context(started)
        except RuntimeError as error:  # a peer that does not start is left out, not fatal
            first = str(error).splitlines()[0]
            print(f"bench: {name} left out, it did not start ({first}; see {name}.log)")
            continue
        services.peers[name] = (service, translated)
    return services


def check_answers(services: Services, chosen: list[Workload], floored: set[str]) -> list[str]:
    """Fail fast unless every workload succeeds and each floor answers what its workload
    answers: the same `data`, byte for byte once re-serialized (PostgreSQL's JSON has
    spaces after its colons; keys, their order and every value must be the same).

    A peer's answers must hold the same facts (peers.facts); a peer workload that does not
    is dropped with a line saying so. Returns lines on the sizes of the peers' answers.
    """
    for service in services.servers.values():
        for workload in chosen:
            response = _post(service.graphql_url, workload, workload.bodies[0])
            if workloads.failed(response.status_code, response.content):
                raise RuntimeError(f"{workload.name} fails on {service.name}: {response.text}")
    for setup, floor in services.floors.items():
        for workload in (w for w in chosen if w.name in floored):
            for body in workload.bodies[:CHECKED_BODIES]:
                expected = _data(_post(services.servers[setup].graphql_url, workload, body))
                got = _data(_post(_floor_url(floor, workload), workload, body))
                if got != expected:
                    raise RuntimeError(
                        f"{workload.name}'s floor answers differently (bench/workloads.py):\n"
                        f"server: {expected[:400]!r}\nfloor:  {got[:400]!r}"
                    )
    server = next(iter(services.servers.values()))
    notes = []
    for name, (peer, translated) in services.peers.items():
        for workload in chosen:
            theirs = translated.get(workload.name)
            if theirs is None:
                continue
            ours = _post(server.graphql_url, workload, workload.bodies[0])
            answer = _post(peer.graphql_url, theirs, theirs.bodies[0])
            same = not workloads.failed(answer.status_code, answer.content) and peers.facts(
                orjson.loads(ours.content).get("data")
            ) == peers.facts(orjson.loads(answer.content).get("data"))
            if not same:
                del translated[workload.name]
                notes.append(
                    f"{workload.name}: {name} left out, its answer differs: {answer.text[:300]}"
                )
                continue
            notes.append(
                f"{workload.name}: answer {len(ours.content):,} bytes here,"
                f" {len(answer.content):,} bytes from {name}"
            )
    return notes


def rounds(
    count: int,
    plan: list[Planned],
    services: Services,
    floored: set[str],
    data: dataset.Dataset,
    timed: load.Load,
    warmup: load.Load,
    results: Path,
    nodes: Sampler | None,
) -> tuple[list[report.Measurement], list[str]]:
    """Every planned run, each followed by its peers' and its own floor's when they answer
    it; the links checked after W4 and after its floor."""
    measurements: list[report.Measurement] = []
    problems: list[str] = []
    first = plan[0].setup if plan else None

    def measure(
        service: Service, target: str, w: Workload, url: str, workers: int
    ) -> report.Measurement:
        return _measure(service, target, w, url, workers, timed, warmup, results, nodes)

    for round_number in range(1, count + 1):
        print(f"round {round_number}/{count}")
        for planned in plan:
            workload, setup, target = planned.workload, planned.setup, planned.target
            server = services.servers[setup]
            measured = measure(server, target, workload, server.graphql_url, setup[0])
            if workload.name == "W4":
                problems += [f"after W4: {p}" for p in dataset.verify(data)]
            others = []
            if setup == first:
                for name, (peer, translated) in services.peers.items():
                    if (theirs := translated.get(workload.name)) is not None:
                        # Node runs JavaScript on one thread: one process.
                        peer_target = f"{target} {name}"
                        others.append(measure(peer, peer_target, theirs, peer.graphql_url, 1))
            if workload.name in floored:
                floor = services.floors[setup]
                floor_url = _floor_url(floor, workload)
                floor_run = measure(floor, report.floor_of(target), workload, floor_url, setup[0])
                per_second = floor_run.result.per_second
                measured = replace(measured, floor_per_second=per_second)
                others = [replace(m, floor_per_second=per_second) for m in others]
                others.append(floor_run)
                if workload.name == "W4":
                    problems += [f"after W4's floor: {p}" for p in dataset.verify(data)]
            for m in [measured, *others]:
                measurements.append(m)
                print(report.progress(m))
    return measurements, problems


def _measure(
    service: Service,
    target: str,
    workload: Workload,
    url: str,
    workers: int,
    timed: load.Load,
    warmup: load.Load,
    results: Path,
    nodes: Sampler | None,
) -> report.Measurement:
    if warmup.seconds > 0:
        load.run(url, workload, warmup, results / "lua")
        service.wait_idle()
    if not service.reset_peak_memory():
        print(f"bench: cannot reset peak memory of {service.name}: peaks are since start")
    before = nodes() if nodes else None
    cpu, (busy, total) = service.cpu_seconds(), machine_ticks()
    result = load.run(url, workload, timed, results / "lua")
    cpu, (busy, total) = service.cpu_seconds() - cpu, _minus(machine_ticks(), (busy, total))
    counted = nodes() if nodes else None
    service.wait_idle()
    if service.process.poll() is not None:
        raise RuntimeError(f"{service.name} died during {workload.name}:\n{service.log_tail()}")
    by_node = node_cores = None
    if before is not None and counted is not None:
        by_node = {n: counted.statements[n] - before.statements[n] for n in counted.statements}
        node_cores = {
            n: (counted.cpu_seconds[n] - before.cpu_seconds[n]) / result.seconds
            for n in counted.cpu_seconds
            if result.seconds
        }
    return report.Measurement(
        target,
        workers,
        result,
        service.peak_memory_mib(),
        cores=cpu / result.seconds if result.seconds else None,
        busy=busy / total if total else None,
        nodes=by_node,
        node_cores=node_cores,
    )


def _minus(now: tuple[int, int], then: tuple[int, int]) -> tuple[int, int]:
    return now[0] - then[0], now[1] - then[1]


def _data(response: httpx.Response) -> bytes:
    """The response's `data`, without insignificant whitespace."""
    return orjson.dumps(orjson.loads(response.content).get("data"))


def _floor_url(floor: Service, workload: Workload) -> str:
    return f"{floor.base_url}/floor/{workload.name}"


def _post(url: str, workload: Workload, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=workload.headers, timeout=30)
