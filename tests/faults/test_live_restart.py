"""PostgreSQL restarted under subscribers: a cluster of the test's own (never the shared
server) behind a real `catalog serve` process, followed over WebSocket and over Server-Sent
Events while a writer writes.

Each subscriber either keeps its stream (the feed's listener reconnects and reads what it
missed from the log) or is told of an error and resumes with its last cursor. Either way
what it received in the end is the log itself, and every acknowledged write is in it.
"""

from __future__ import annotations

import asyncio

import httpx

from clusters import PgCluster
from tests.e2e.conftest import StartServer
from tests.faults.live import Follower, Writer, caught_up, last_cursor, log_after

UNEXPECTED = {"error:INTERNAL_SERVER_ERROR", "error:CURSOR_EXPIRED", "error:BAD_USER_INPUT"}


async def test_a_database_restart_under_subscribers_loses_no_acknowledged_change(
    pg_cluster: PgCluster, start_server: StartServer
) -> None:
    pg_cluster.create_database("catalog")
    server = start_server(
        pg_cluster.url("catalog"),
        CATALOG_WRITE_TOKENS="w-token",
        CATALOG_DB_POOL_SIZE="5",
        CATALOG_KEEPALIVE_MS="1000",
    )
    async with asyncio.timeout(180), httpx.AsyncClient(timeout=30) as client:
        writer = Writer(client, server.url)
        await writer.write_one(0)  # the log is not empty: followers start from a cursor
        start = await last_cursor(client, server.url, None)
        followers = [Follower([server.url], transport, start) for transport in ("ws", "sse")]
        stop_following, stop_writing = asyncio.Event(), asyncio.Event()
        following = [asyncio.create_task(f.run(stop_following)) for f in followers]
        for follower in followers:
            await follower.subscribed.wait()
        writing = asyncio.create_task(writer.run(stop_writing))
        try:
            await asyncio.gather(*(f.reach(30) for f in followers))
            before = writer.acknowledged
            await asyncio.to_thread(pg_cluster.restart, pause=2.0)
            after_restart = writer.acknowledged
            await writer.reach(after_restart + 20)  # writes go on after it
        finally:
            stop_writing.set()
            await writing
        head = await last_cursor(client, server.url, start)
        try:
            await caught_up(followers, head, within=60)
        finally:
            stop_following.set()
            await asyncio.gather(*following)
        log = await log_after(client, server.url, start)

    print(
        f"\nrestart under subscribers: {len(log)} changes; {before} writes acknowledged"
        f" before, {writer.acknowledged} in all; write failures {dict(writer.failures)};"
        + "".join(f" {f.transport} ends {dict(f.ends)};" for f in followers)
    )
    assert server.process.poll() is None  # the same process throughout
    assert sum(writer.failures.values()) > 0, "the outage was not observed by the writer"
    created = {c[2] for c in log if c[1] == "PRODUCT_CREATED"}
    assert set(writer.products[1:]) <= created  # every acknowledged write is in the log
    for follower in followers:
        assert not (set(follower.ends) & UNEXPECTED), (follower.transport, follower.ends)
        assert follower.events == log, follower.transport  # no gap, no duplicate, in order
