"""Live updates across server processes on one PostgreSQL: a write through one process
reaches a subscriber of another, and a subscriber whose process is killed (SIGKILL) resumes
on another with its last cursor, missing nothing and receiving nothing twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx

from tests.e2e.conftest import StartServer
from tests.faults.live import (
    FOLLOW,
    Follower,
    Socket,
    Writer,
    caught_up,
    last_cursor,
    log_after,
)

SERVER = {"CATALOG_WRITE_TOKENS": "w-token", "CATALOG_KEEPALIVE_MS": "1000"}


async def test_a_write_through_one_process_reaches_a_subscriber_of_another(
    database_url: str, start_server: StartServer
) -> None:
    a = start_server(database_url, **SERVER)
    b = start_server(database_url, **SERVER)
    async with asyncio.timeout(60), httpx.AsyncClient(timeout=30) as client:
        start = await last_cursor(client, b.url, None)
        socket = await Socket.open(a.url)
        writer = Writer(client, b.url)
        received = []
        try:
            await socket.subscribe(FOLLOW, after=start)

            async def receive(count: int) -> None:
                while len(received) < count:
                    message = await socket.receive()
                    assert message["type"] == "next", message
                    received.append(message["payload"]["data"]["catalogChanges"])

            # The first write is replayed or live; once it is received the replay is over,
            # so the second one can only come live, through the feed of A.
            await writer.write_one(1)
            await receive(5)
            written = time.monotonic()
            await writer.write_one(2)
            async with asyncio.timeout(5):  # the bound: a few seconds, on a loaded machine
                await receive(10)
            latency = time.monotonic() - written
        finally:
            await socket.close()
        log = await log_after(client, b.url, start)
    assert [e["cursor"] for e in received] == [c[0] for c in log]
    assert [e["kind"] for e in received] == 2 * [
        "PRODUCT_CREATED",
        "TAG_CREATED",
        "TAG_CREATED",
        "LINK_ADDED",
        "LINK_ADDED",
    ]
    assert [e["productId"] for e in received[::5]] == writer.products
    print(f"\nacross processes: a write (two requests) and its changes took {latency:.3f} s")


async def test_a_subscriber_whose_process_is_killed_resumes_on_another_with_no_gap(
    database_url: str, start_server: StartServer
) -> None:
    a = start_server(database_url, **SERVER)
    b = start_server(database_url, **SERVER)
    async with asyncio.timeout(120), httpx.AsyncClient(timeout=30) as client:
        start = await last_cursor(client, b.url, None)
        follower = Follower([a.url, b.url], "ws", start)
        writer = Writer(client, b.url)
        stop_following, stop_writing = asyncio.Event(), asyncio.Event()
        following = asyncio.create_task(follower.run(stop_following))
        await follower.subscribed.wait()
        writing = asyncio.create_task(writer.run(stop_writing))
        try:
            await follower.reach(60)  # writes flow, and the subscriber receives them
            os.kill(a.process.pid, signal.SIGKILL)
            assert await asyncio.to_thread(a.process.wait, 30) == -signal.SIGKILL
            received_at_kill = len(follower.events)
            await follower.reach(received_at_kill + 60)  # and on, through B
        finally:
            stop_writing.set()
            await writing
        head = await last_cursor(client, b.url, start)
        try:
            await caught_up([follower], head, within=30)
        finally:
            stop_following.set()
            await following
        log = await log_after(client, b.url, start)

    print(
        f"\nkill -9 mid-stream: {len(log)} changes, {received_at_kill} received before the"
        f" kill; ends {dict(follower.ends)}; {writer.acknowledged} writes acknowledged"
    )
    assert follower.ends["closed"] >= 1, "the kill was not seen by the subscriber"
    assert follower.events == log  # every position, in order, once
    assert len({c[0] for c in follower.events}) == len(follower.events)
    created = {c[2] for c in log if c[1] == "PRODUCT_CREATED"}
    assert set(writer.products) <= created
