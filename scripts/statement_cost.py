"""What one SQL statement costs the server, in process: no HTTP client, no wrk.

    .venv/bin/python scripts/statement_cost.py postgresql+asyncpg://user@host/postgres

Creates a scratch database beside the one named (dropped at the end), migrates it and
seeds the demo catalog, then times, in alternating rounds:

- `asyncpg`: `conn.fetch` of a product by id on a bare asyncpg connection, the floor;
- `handle`: `readers.products_by_ids` through one request's connection
  (db.connections.open_request), checked out once for all the statements;
- `W3 request`: the bench's W3 (`product(id:)` with its tag edges) posted to the ASGI app
  directly, one request at a time, and 16 at a time.

Each figure is printed twice: the wall time of the best round (the least disturbed by
whatever else the machine runs), and the median CPU time of this process (the Python
around the round trips; the database's own work is not in it).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import orjson
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import ASGIApp, Message

from bench.workloads import W3
from db import readers
from db.connections import open_request
from db.engine import create_engine
from db.migrate import upgrade
from db.seed import seed_demo
from resolvers.ids import encode_id
from server.app import create_app
from server.config.settings import Settings

STATEMENTS = 2_000
REQUESTS = 400
ROUNDS = 7


async def main(admin_url: str) -> None:
    async with scratch_database(admin_url, "catalog_cost") as url:
        await measure(url)


@asynccontextmanager
async def scratch_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """A migrated database of its own beside the one `admin_url` names, dropped at the end
    (scripts/instructions.py uses it too)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def measure(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await seed_demo(connection, products_count=300)
    raw = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    app = create_app(Settings.from_env({"CATALOG_DATABASE_URL": url}))

    async def bare() -> None:
        for i in range(STATEMENTS):
            await raw.fetch("SELECT id, name, created_at FROM products WHERE id = $1", i % 300 + 1)

    async def handle() -> None:
        async with open_request(engine, writes=False) as connection:
            for i in range(STATEMENTS):
                await readers.products_by_ids(connection, [i % 300 + 1])

    async def request(product_id: int) -> None:
        variables = {"id": encode_id("Product", product_id)}
        await post(app, orjson.dumps({"query": W3, "variables": variables}))

    async def sequential() -> None:
        for i in range(REQUESTS):
            await request(i % 300 + 1)

    async def concurrent() -> None:
        async def client(k: int) -> None:
            for i in range(REQUESTS // 16):
                await request((k * 31 + i) % 300 + 1)

        await asyncio.gather(*(client(k) for k in range(16)))

    runs: dict[str, tuple[Callable[[], Awaitable[None]], int]] = {
        "asyncpg fetch, µs per statement": (bare, STATEMENTS),
        "handle reader, µs per statement": (handle, STATEMENTS),
        "W3 request, one at a time, µs each": (sequential, REQUESTS),
        "W3 request, 16 at a time, µs each": (concurrent, REQUESTS),
    }
    wall: dict[str, list[float]] = {label: [] for label in runs}
    cpu: dict[str, list[float]] = {label: [] for label in runs}
    for _round in range(ROUNDS + 1):
        for label, (run, count) in runs.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            await run()
            if _round:  # the first round warms caches and the pool
                wall[label].append((time.perf_counter() - started) / count * 1e6)
                cpu[label].append((time.process_time() - started_cpu) / count * 1e6)
    for label in runs:
        print(
            f"{label}: wall {min(wall[label]):.0f} (best round),"
            f" CPU {statistics.median(cpu[label]):.0f} (median)"
        )
    await raw.close()
    await engine.dispose()
    await app.state.engine.dispose()


async def post(app: ASGIApp, body: bytes, scope: dict[str, object] | None = None) -> None:
    """Post one JSON body to the ASGI app directly (to /graphql unless `scope` says
    otherwise); it must answer 200 (scripts/instructions.py posts the same way)."""
    sent = False
    status = 0

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app({**(scope or post_scope()), "state": {}}, receive, send)
    assert status == 200, status


def post_scope() -> dict[str, object]:
    """The ASGI scope of a JSON POST to /graphql (scripts/instructions.py posts the same)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
