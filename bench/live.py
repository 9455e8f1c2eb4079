"""The live workload: 1,000 WebSocket subscribers on one server process while writes
arrive at a steady 50 per second, next to its floor (PostgreSQL only).

- The server: `serve --workers 1`, as the other workloads' servers, started for this run.
- The subscribers: a few `python -m bench.subscribers` processes; each socket follows one
  of a few products, by catalogChanges (filtered to it) or productChanged.
- The writer: each request sent on schedule, whatever the answers before it: addTags of
  tags the products lack, one per write, each product in turn, then removeTags of them in
  the same order; the links end as the dataset's.
- Before timing, marker writes go out until every subscription has had an event, so
  every subscription is live when the timed writes begin.
- The floor: one raw asyncpg connection LISTENing on the log's channel, the shortest path
  from a commit to a process that learns of it.
- After the run, each subscription's events are checked against the log read through
  Query.changes (bench/deliveries.py): latency from each entry's `at` to its receipt,
  events lost or extra.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import make_url

from bench import deliveries, processes
from bench.dataset import Dataset
from bench.deliveries import Logged, Received
from bench.subscribers import CATALOG
from bench.workloads import TOKEN
from db.changes import CHANNEL
from resolvers.changes import decode_change_cursor
from resolvers.ids import encode_id

SUBSCRIBERS = 1000
PRODUCTS = 100  # the products followed (a tenth of the subscribers each); --live-products
CLIENT_PROCESSES = 2
RATE = 50  # writes per second
STEP_TIMEOUT_S = 120.0
HEADERS = {"Authorization": f"Bearer {TOKEN}"}

ADD = """mutation($p: ID!, $t: [ID!]!) {
  addTags(input: {productId: $p, tagIds: $t}) { added { id } userErrors { code message } }
}"""
REMOVE = """mutation($p: ID!, $t: [ID!]!) {
  removeTags(input: {productId: $p, tagIds: $t}) { removed { id } userErrors { code message } }
}"""
CHANGES = """query($after: String, $p: ID!) {
  changes(first: 100, after: $after, filter: {productIds: [$p]}) {
    edges { cursor node { at } } pageInfo { hasNextPage endCursor }
  }
}"""


def run(
    url: str,
    data: Dataset,
    env: dict[str, str],
    seconds: float,
    results: Path,
    products: int = PRODUCTS,
) -> deliveries.LiveRun:
    port = processes.free_port()
    command = processes.server_command(port, url, 1)
    with processes.running("server-live", command, port, env, results) as server:
        return asyncio.run(_run(server, url, data, seconds, results, products))


class _Writer:
    """Each write sent on schedule, whatever the answers before it (an open loop).

    The first half of a run adds tags each product lacks, one per write, each product in
    turn; the second half removes them in the same order. Adds of distinct tags commute,
    and so do removes, so the answers may come back in any order and the links still end
    as the dataset's.
    """

    def __init__(self, client: httpx.AsyncClient, url: str, data: Dataset, ids: list[int]):
        self.client, self.url = client, url
        self.products = [encode_id("Product", p) for p in ids]
        self.extra = [
            [encode_id("Tag", t) for t in data.tag_ids if t not in data.tags_by_product[p]]
            for p in ids
        ]
        self.failed = 0

    def cycle(self, writes: int) -> list[tuple[int, str, str]]:
        """(product, mutation, tag) of each write of a run of `writes` (a multiple of
        twice the products)."""
        half, count = writes // 2, len(self.products)
        if half // count > len(self.extra[0]):
            raise RuntimeError("the live run is too long for the tags a product lacks")
        adds = [(i % count, "addTags", self.extra[i % count][i // count]) for i in range(half)]
        return adds + [(which, "removeTags", tag) for which, _, tag in adds]

    async def send(self, which: int, mutation: str, tag: str) -> None:
        query = ADD if mutation == "addTags" else REMOVE
        body = {"query": query, "variables": {"p": self.products[which], "t": [tag]}}
        try:
            response = await self.client.post(self.url, json=body, headers=HEADERS)
            answer = orjson.loads(response.content)
            field = answer["data"][mutation]
            changed = field["added" if mutation == "addTags" else "removed"]
            if answer.get("errors") or field["userErrors"] or len(changed) != 1:
                raise ValueError(response.text[:300])
        except Exception as error:  # counted, and the run fails on it
            self.failed += 1
            print(f"live: a write failed: {error}")


async def _run(
    server: processes.Service,
    url: str,
    data: Dataset,
    seconds: float,
    results: Path,
    products: int,
) -> deliveries.LiveRun:
    ids = list(data.product_ids[:products])
    heard: list[tuple[int, float]] = []
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    listener = await asyncpg.connect(plain)
    await listener.add_listener(CHANNEL, lambda *n: heard.append((int(n[3]), time.time())))
    clients = await _start_clients(server, [encode_id("Product", p) for p in ids], results)
    try:
        await _each_says(clients, "subscribed")
        async with httpx.AsyncClient(timeout=30) as http:
            writer = _Writer(http, server.graphql_url, data, ids)
            # Marker writes (one tag added to each product, then removed) until every
            # subscription has had an event.
            seen = asyncio.ensure_future(_each_says(clients, "seen"))
            while not seen.done():
                for mutation in ("addTags", "removeTags"):
                    marks = [writer.send(p, mutation, writer.extra[p][0]) for p in range(products)]
                    await asyncio.gather(*marks)
                await asyncio.wait([seen], timeout=1.0)
            await seen
            await asyncio.get_running_loop().run_in_executor(None, server.wait_idle)
            writes = max(1, round(RATE * seconds / (2 * products))) * 2 * products
            start, cpu = time.time(), server.cpu_seconds()
            sent = []
            for index, write in enumerate(writer.cycle(writes)):
                await asyncio.sleep(max(0.0, start + index / RATE - time.time()))
                sent.append(asyncio.create_task(writer.send(*write)))
            await asyncio.gather(*sent)
            written = time.time() - start
            await asyncio.get_running_loop().run_in_executor(None, server.wait_idle)
            cpu = server.cpu_seconds() - cpu
            received = await _stop_clients(clients, results)
            log = await _log(http, server.graphql_url, received, start)
    finally:
        for client in clients:
            if client.returncode is None:
                client.kill()
        await listener.close()
    timed = [_after(r, start) for r in received]
    checked = deliveries.check(timed, log)
    commits = {e.version: e.at for entries in log.values() for e in entries}
    notified = {version: at for version, at in heard if version in commits}
    return deliveries.LiveRun(
        subscribers=SUBSCRIBERS,
        writes=writes,
        seconds=written,
        checked=checked,
        floor_ms=[(at - commits[v]) * 1000 for v, at in notified.items()],
        floor_missed=len(commits) - len(notified),
        cores=cpu / written,
        peak_mib=server.peak_memory_mib(),
        failed_writes=writer.failed,
    )


async def _start_clients(
    server: processes.Service, products: list[str], results: Path
) -> list[asyncio.subprocess.Process]:
    ws = server.graphql_url.replace("http://", "ws://")
    share = SUBSCRIBERS // CLIENT_PROCESSES
    clients = []
    for n in range(CLIENT_PROCESSES):
        count = share if n < CLIENT_PROCESSES - 1 else SUBSCRIBERS - share * n
        command = [sys.executable, "-m", "bench.subscribers", "--url", ws]
        command += ["--products", ",".join(products), "--first", str(n * share)]
        command += ["--count", str(count), "--out", str(results / f"live-{n}.json")]
        clients.append(
            await asyncio.create_subprocess_exec(
                *command,
                cwd=processes.ROOT,
                env=dict(os.environ),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    return clients


async def _each_says(clients: list[asyncio.subprocess.Process], word: str) -> None:
    async def says(client: asyncio.subprocess.Process) -> None:
        assert client.stdout is not None
        line = await client.stdout.readline()
        if line.decode().strip() != word:
            raise RuntimeError(f"a subscriber process said {line!r}, not {word!r}")

    await asyncio.wait_for(asyncio.gather(*(says(c) for c in clients)), STEP_TIMEOUT_S)


async def _stop_clients(
    clients: list[asyncio.subprocess.Process], results: Path
) -> list[dict[str, Any]]:
    for client in clients:
        assert client.stdin is not None
        client.stdin.write(b"stop\n")
        await client.stdin.drain()
    codes = await asyncio.wait_for(asyncio.gather(*(c.wait() for c in clients)), STEP_TIMEOUT_S)
    if any(codes):
        raise RuntimeError(f"subscriber processes exited with {codes}")
    received: list[dict[str, Any]] = []
    for n in range(len(clients)):
        received += orjson.loads((results / f"live-{n}.json").read_bytes())
    return received


def _after(sub: dict[str, Any], start: float) -> Received:
    events = tuple((at, cursor) for at, cursor in sub["events"] if at >= start)
    return Received(sub["kind"], sub["product"], events, sub["failed"])


async def _log(
    http: httpx.AsyncClient, url: str, received: list[dict[str, Any]], start: float
) -> dict[str, list[Logged]]:
    """Each product's log entries after the last one delivered before the start, read
    through Query.changes."""
    log: dict[str, list[Logged]] = {}
    for product in sorted({sub["product"] for sub in received}):
        before = [
            e
            for sub in received
            if sub["product"] == product and sub["kind"] == CATALOG
            for e in sub["events"]
            if e[0] < start
        ]
        after = max(before)[1] if before else None
        entries = log[product] = []
        while True:
            body = {"query": CHANGES, "variables": {"after": after, "p": product}}
            page = (await http.post(url, json=body)).json()["data"]["changes"]
            for edge in page["edges"]:
                version = decode_change_cursor(edge["cursor"]).version
                at = datetime.fromisoformat(edge["node"]["at"]).timestamp()
                entries.append(Logged(edge["cursor"], version, at))
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return log
