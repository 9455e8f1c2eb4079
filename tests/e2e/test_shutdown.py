"""SIGTERM under load, on PostgreSQL: the server stops accepting, lets the requests in flight
finish within the grace (CATALOG_SHUTDOWN_GRACE_MS), closes its pool and exits 0. No write
is half-applied and no backend of the database outlives the process.

The 20 requests are made slow without touching the database's configuration: a test
connection holds the product's row lock, so 20 setTags queue behind it until it lets go.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from tests.e2e.conftest import Server, StartServer, graphql

pytestmark = [pytest.mark.e2e, pytest.mark.postgres_only]

TOKEN = "shutdown-write-token"
IN_FLIGHT = 20
PRODUCT = base64.b64encode(b"Product:1").decode()
SET_TAGS = """mutation ($p: ID!, $names: [String!]) {
  setTags(input: {productId: $p, tagNames: $names}) { userErrors { code } } }"""


async def connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database,
    )  # fmt: skip


@pytest.fixture
async def monitor(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(database_url)
    yield connection
    await connection.close()


async def until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def server_backends(monitor: asyncpg.Connection, *, waiting: bool = False) -> int:
    """Backends of this database other than the test's own connections."""
    count: int = await monitor.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name <> 'catalog-test' AND pid <> pg_backend_pid() "
        "AND ($1 = false OR wait_event_type = 'Lock')",
        waiting,
    )
    return count


async def refuses_connections(server: Server) -> bool:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def tags_of_product_1(monitor: asyncpg.Connection) -> set[str]:
    rows = await monitor.fetch(
        "SELECT t.name FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id = 1"
    )
    return {row["name"] for row in rows}


@dataclass
class Outcome:
    answers: list[httpx.Response | BaseException]
    exited_while_locked: bool  # the server had exited before the lock was released


async def sigterm_with_writes_in_flight(
    server: Server, database_url: str, monitor: asyncpg.Connection, hold_after_sigterm: float
) -> Outcome:
    """Queue IN_FLIGHT setTags behind a row lock, SIGTERM the server, release the lock
    `hold_after_sigterm` seconds later; the answers (or transport errors) in order."""
    await monitor.execute("SET application_name = 'catalog-test'")
    holder = await connect(database_url)
    await holder.execute("SET application_name = 'catalog-test'")
    lock = holder.transaction()
    await lock.start()
    await holder.execute("SELECT id FROM products WHERE id = 1 FOR UPDATE")
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    ) as client:
        requests = [
            asyncio.ensure_future(
                client.post(
                    server.graphql,
                    json={
                        "query": SET_TAGS,
                        "variables": {"p": PRODUCT, "names": [f"S{i}a", f"S{i}b"]},
                    },
                )
            )
            for i in range(IN_FLIGHT)
        ]

        async def all_waiting() -> bool:
            return await server_backends(monitor, waiting=True) >= IN_FLIGHT

        await until(all_waiting, 30, f"{IN_FLIGHT} writers waiting on the lock")
        server.process.send_signal(signal.SIGTERM)
        await until(lambda: refuses_connections(server), 10, "the listener to close")
        await asyncio.sleep(hold_after_sigterm)
        exited = server.process.poll() is not None
        await lock.rollback()
        await holder.close()
        return Outcome(list(await asyncio.gather(*requests, return_exceptions=True)), exited)


async def test_in_flight_writes_finish_and_the_server_exits_0(
    start_server: StartServer, database_url: str, monitor: asyncpg.Connection
) -> None:
    server = start_server(
        database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_DB_POOL_SIZE="25",
        CATALOG_SHUTDOWN_GRACE_MS="15000",
    )  # fmt: skip
    graphql(server, TOKEN, 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }')

    outcome = await sigterm_with_writes_in_flight(server, database_url, monitor, 1.0)

    assert not outcome.exited_while_locked
    for answer in outcome.answers:
        assert isinstance(answer, httpx.Response), repr(answer)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"data": {"setTags": {"userErrors": []}}}
    assert server.process.wait(timeout=30) == 0
    final = await tags_of_product_1(monitor)
    assert final in [{f"S{i}a", f"S{i}b"} for i in range(IN_FLIGHT)]  # one whole set

    async def none_left() -> bool:
        return await server_backends(monitor) == 0

    await until(none_left, 10, "the server's backends to end")


async def test_past_the_grace_requests_are_cut_off_and_nothing_is_half_written(
    start_server: StartServer, database_url: str, monitor: asyncpg.Connection
) -> None:
    """The grace bounds the shutdown: the server exits 0 while the writers still wait."""
    server = start_server(
        database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_DB_POOL_SIZE="25",
        CATALOG_SHUTDOWN_GRACE_MS="1000",
    )  # fmt: skip
    graphql(server, TOKEN, 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }')

    outcome = await sigterm_with_writes_in_flight(server, database_url, monitor, 8.0)

    assert outcome.exited_while_locked
    assert server.process.wait(timeout=30) == 0
    for answer in outcome.answers:  # cut off: a 503 to retry (or a closed connection)
        if isinstance(answer, httpx.Response):
            assert answer.status_code == 503, answer.text
            assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        else:
            assert isinstance(answer, httpx.TransportError), repr(answer)
    assert await tags_of_product_1(monitor) == set()  # no write got through, not even half

    async def none_left() -> bool:
        return await server_backends(monitor) == 0

    await until(none_left, 10, "the server's backends to end")
