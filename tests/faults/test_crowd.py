"""200 requests at once on a pool of 10 (20 with overflow): every one answered, none
internal, and afterwards the database holds no more connections than the pool keeps idle,
none of them inside a transaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import StartServer
from tests.faults.conftest import backends, backends_in_transaction
from tests.faults.load import Tally, classify
from tests.hardening.api import WRITE

POOL = 10
READ = "{ products(first: 10) { totalCount nodes { name tags { nodes { name } } } } }"
CREATE_PRODUCT = """
mutation ($name: String!) {
  createProduct(input: {name: $name, tagNames: ["Start"]}) { product { id } }
}
"""
SET_TAGS = """
mutation ($input: SetTagsInput!) { setTags(input: $input) { userErrors { code } } }
"""


async def test_200_concurrent_requests_on_a_pool_of_10_all_answer_and_leak_no_connection(
    database_url: str, start_server: StartServer, admin: AsyncEngine
) -> None:
    # A budget far above what 200 requests need, even queued on a loaded two-core machine:
    # the test is about the pool, and a timeout would hide a hang behind a 503.
    server = start_server(
        database_url,
        CATALOG_WRITE_TOKENS="w-token",
        CATALOG_DB_POOL_SIZE=str(POOL),
        CATALOG_REQUEST_TIMEOUT_MS="90000",
    )
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        asyncio.timeout(180),
        httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client,
    ):
        ids = []
        for n in range(10):
            payload = {"query": CREATE_PRODUCT, "variables": {"name": f"Product {n}"}}
            response = await client.post("/graphql", json=payload, headers=WRITE)
            ids.append(response.json()["data"]["createProduct"]["product"]["id"])

        def write(n: int) -> dict[str, Any]:
            names = [f"Tag {n % 7}", f"Tag {(n + 1) % 7}"]
            return {
                "query": SET_TAGS,
                "variables": {"input": {"productId": ids[n % 10], "tagNames": names}},
            }

        requests = [({"query": READ}, None) for _ in range(150)]
        requests += [(write(n), WRITE) for n in range(50)]
        responses = await asyncio.gather(
            *(client.post("/graphql", json=body, headers=headers) for body, headers in requests)
        )

        reads, writes = Tally(), Tally()
        for (_body, headers), response in zip(requests, responses, strict=True):
            (writes if headers else reads).add(classify(response))
        print(
            f"\n200 at once, pool {POOL}: reads {dict(reads.counts)}, writes {dict(writes.counts)}"
        )
        assert reads.counts == {"ok": 150}, reads.examples
        # Writes of one product queue on its row lock; one that waits too long is TRY_AGAIN.
        assert set(writes.counts) <= {"ok", "retry:TRY_AGAIN"}, writes.examples

        assert await backends_in_transaction(admin) == []
        assert await backends(admin) <= POOL
        after = await client.post("/graphql", json={"query": READ})
        assert classify(after).kind == "ok"
