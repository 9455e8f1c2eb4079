"""PostgreSQL restarts under read and write load: a cluster of the test's own (never the
shared server) behind a real `catalog serve` process.

While the database is down every answer is 503 with Retry-After (SERVICE_UNAVAILABLE, or
TRY_AGAIN), never an internal error or a dropped connection; every acknowledged write is
there afterwards; and the same server process answers again once the database is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from clusters import PgCluster
from tests.e2e.conftest import StartServer
from tests.faults.load import Outcome, Tally, classify
from tests.hardening.api import WRITE

READ = "{ products(first: 5) { totalCount nodes { id name } } }"
CREATE = {
    "tags": "mutation ($name: String!) { createTag(input: {name: $name}) { tag { name } } }",
    "products": (
        "mutation ($name: String!) { createProduct(input: {name: $name}) { product { name } } }"
    ),
}
Written = tuple[str, str]  # (table, name) of a write answered 200
Send = Callable[[int], Awaitable[tuple[Outcome, Written | None]]]


async def test_a_database_restart_under_load_answers_503_and_loses_no_acknowledged_write(
    pg_cluster: PgCluster, start_server: StartServer
) -> None:
    pg_cluster.create_database("catalog")
    url = pg_cluster.url("catalog")
    server = start_server(url, CATALOG_WRITE_TOKENS="w-token", CATALOG_DB_POOL_SIZE="5")
    tally = Tally()
    acknowledged: set[Written] = set()
    back = asyncio.Event()  # the database accepts connections again
    recovered = asyncio.Event()  # and a request succeeded after that
    stop = asyncio.Event()

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:

        def reader() -> Send:
            async def send(_n: int) -> tuple[Outcome, Written | None]:
                return classify(await client.post("/graphql", json={"query": READ})), None

            return send

        def writer(worker: int, table: str) -> Send:
            async def send(n: int) -> tuple[Outcome, Written | None]:
                name = f"w{worker}-{n}"
                payload = {"query": CREATE[table], "variables": {"name": name}}
                outcome = classify(await client.post("/graphql", json=payload, headers=WRITE))
                return outcome, ((table, name) if outcome.kind == "ok" else None)

            return send

        async def loop(send: Send) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    outcome, written = await send(n)
                except httpx.TransportError as error:
                    outcome, written = Outcome(f"transport:{type(error).__name__}"), None
                tally.add(outcome)
                if outcome.kind != "ok":
                    await asyncio.sleep(0.05)
                    continue
                if written is not None:
                    acknowledged.add(written)
                if back.is_set():
                    recovered.set()

        senders = [reader() for _ in range(4)]
        senders += [writer(w, "tags" if w % 2 else "products") for w in range(4)]
        async with asyncio.timeout(180):
            workers = [asyncio.create_task(loop(send)) for send in senders]
            try:
                await asyncio.sleep(1.5)
                before = tally.counts["ok"]
                await asyncio.to_thread(pg_cluster.restart, pause=2.0)
                back.set()
                back_at = time.monotonic()
                async with asyncio.timeout(60):
                    await recovered.wait()
                recovery = time.monotonic() - back_at
                await asyncio.sleep(1.5)  # and it keeps answering
            finally:
                stop.set()
                await asyncio.gather(*workers)

        print(
            f"\nrestart under load: {dict(tally.counts)}; {len(acknowledged)} writes"
            f" acknowledged; first success {recovery:.3f} s after the database was back"
        )
        assert tally.unexpected() == {}
        assert before > 0, "no request succeeded before the restart"
        assert tally.counts["retry:SERVICE_UNAVAILABLE"] > 0, "the outage was not observed"
        assert server.process.poll() is None  # the same process throughout

        # Every acknowledged write is stored, and the server answers from what is stored.
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                stored = {
                    (table, name)
                    for table in CREATE
                    for name in (await connection.execute(text(f"SELECT name FROM {table}")))
                    .scalars()
                    .all()
                }
        finally:
            await engine.dispose()
        assert acknowledged <= stored, acknowledged - stored
        response = await client.post("/graphql", json={"query": READ})
        assert response.status_code == 200, response.text
        products = sum(1 for table, _name in stored if table == "products")
        assert response.json()["data"]["products"]["totalCount"] == products
