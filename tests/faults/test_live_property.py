"""A property of live updates: whatever the writes and however clients drop and resume,
each client's stream is the log.

Random sequences of writes (create a product, add, set or remove tags with priorities,
rename, delete) interleaved with client disconnects, across one to three clients over
WebSocket or Server-Sent Events on two server processes of one PostgreSQL. Each client
resumes with its last cursor, on either process. At the end each client's events
(positions, kinds, ids, priorities) equal the log read over HTTP after its first position:
in commit order, no gap, no duplicate.

The servers start once for the whole test; each example starts from the log's current end.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import StartServer
from tests.faults.live import Follower, Writer, caught_up, last_cursor, log_after

SERVER = {"CATALOG_WRITE_TOKENS": "w-token", "CATALOG_KEEPALIVE_MS": "1000"}
NAMES = ["red", "green", "blue", "cyan"]
CREATE = "mutation ($name: String!) { createProduct(input: {name: $name}) { product { id } } }"
UPDATE = """
mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { userErrors { code } } }
"""
DELETE = "mutation ($input: DeleteInput!) { deleteProduct(input: $input) { userErrors { code } } }"
TAGS = {
    mode: f"mutation ($input: {mode.capitalize()}TagsInput!) {{"
    f" {mode}Tags(input: $input) {{ userErrors {{ code }} }} }}"
    for mode in ("add", "set", "remove")
}

links = st.lists(
    st.tuples(st.sampled_from(NAMES), st.none() | st.integers(-5, 5)),
    min_size=1,
    max_size=3,
    unique_by=lambda link: link[0],
)
steps = st.one_of(
    st.tuples(st.just("create")),
    st.tuples(st.sampled_from(["add", "set", "remove"]), st.integers(0, 9), links),
    st.tuples(st.just("rename"), st.integers(0, 9)),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("drop"), st.integers(0, 2), st.integers(0, 1)),  # client, resume on
)
clients = st.lists(st.sampled_from(["ws", "sse"]), min_size=1, max_size=3)


async def apply(writer: Writer, products: list[str], step: tuple[Any, ...], n: int) -> None:
    """One write through the writer (a step on no product creates one first)."""
    kind = step[0]
    if kind == "create" or not products:
        data = await writer.until_acknowledged(CREATE, {"name": f"p{n}"})
        products.append(data["createProduct"]["product"]["id"])
        if kind == "create":
            return
    product = products[step[1] % len(products)]
    if kind == "rename":
        await writer.until_acknowledged(UPDATE, {"input": {"id": product, "name": f"r{n}"}})
    elif kind == "delete":
        await writer.until_acknowledged(DELETE, {"input": {"id": product}})
        products.remove(product)
    else:
        tags = [
            {"name": name} | ({} if priority is None else {"priority": priority})
            for name, priority in step[2]
        ]
        await writer.until_acknowledged(TAGS[kind], {"input": {"productId": product, "tags": tags}})


def test_every_client_receives_the_log_whatever_the_writes_and_drops(
    database_url: str, start_server: StartServer
) -> None:
    servers = [start_server(database_url, **SERVER).url for _ in range(2)]

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(transports=clients, plan=st.lists(steps, min_size=1, max_size=12))
    def run(transports: list[str], plan: list[tuple[Any, ...]]) -> None:
        asyncio.run(asyncio.wait_for(example(servers, transports, plan), timeout=90))

    run()


async def example(servers: list[str], transports: list[str], plan: list[tuple[Any, ...]]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        writer = Writer(client, servers[0])
        start = await last_cursor(client, servers[0], None)
        followers = [
            Follower(servers[n % 2 :] + servers[: n % 2], transport, start)
            for n, transport in enumerate(transports)
        ]
        stops = [asyncio.Event() for _ in followers]
        running = [asyncio.create_task(f.run(s)) for f, s in zip(followers, stops, strict=True)]
        try:
            for follower in followers:
                await follower.subscribed.wait()
            products: list[str] = []
            for n, step in enumerate(plan):
                if step[0] != "drop":
                    writer.server = servers[n % 2]  # writes go through either process
                    await apply(writer, products, step, n)
                    continue
                which = step[1] % len(followers)
                follower = followers[which]
                stops[which].set()  # the client drops its stream...
                await running[which]
                if step[2]:
                    follower.switch()  # ...and resumes on the other process
                follower.subscribed.clear()
                stops[which] = asyncio.Event()
                running[which] = asyncio.create_task(follower.run(stops[which]))
                await follower.subscribed.wait()
            head = await last_cursor(client, servers[1], start)
            await caught_up(followers, head, within=30)
        finally:
            for stop in stops:
                stop.set()
            await asyncio.gather(*running)
        log = await log_after(client, servers[1], start)
    for follower in followers:
        assert follower.events == log, (follower.transport, follower.ends)
