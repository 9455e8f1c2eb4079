"""kill -9 of the server in the middle of writes: every acknowledged write is stored, and
none is half-applied.

One writer per product sends setTags with known tag sets, one after another. After the
kill, each product's tags must be exactly one of the sets written to it: the last
acknowledged one, or the one that was in flight when the server died (its commit may or
may not have happened), never a mix.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import StartServer
from tests.faults.load import classify
from tests.hardening.api import WRITE

NAMES = ["Red", "Green", "Blue", "Cyan", "Magenta", "Yellow", "Black", "White"]
CREATE_PRODUCT = (
    "mutation ($name: String!) { createProduct(input: {name: $name}) { product { id } } }"
)
SET_TAGS = """
mutation ($input: SetTagsInput!) { setTags(input: $input) { userErrors { code } } }
"""


@dataclass
class Writes:
    """The sets sent to one product, in order, and how many of them were acknowledged."""

    product_id: int
    sent: list[frozenset[str]] = field(default_factory=list)
    acknowledged: int = 0  # the first `acknowledged` sets were answered 200

    def possible_finals(self) -> set[frozenset[str]]:
        """Sets the product may hold now: the last acknowledged (or none yet), or the one
        sent after it, whose answer never came."""
        last = self.sent[self.acknowledged - 1] if self.acknowledged else frozenset()
        return {last, *self.sent[self.acknowledged : self.acknowledged + 1]}


async def test_kill_9_during_writes_keeps_every_acknowledged_write_and_none_half_applied(
    database_url: str, start_server: StartServer, admin: AsyncEngine
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS="w-token")
    chance = random.Random(8)
    async with asyncio.timeout(120), httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        products: list[tuple[str, Writes]] = []
        for n in range(8):
            variables = {"name": f"Product {n}"}
            response = await client.post(
                "/graphql", json={"query": CREATE_PRODUCT, "variables": variables}, headers=WRITE
            )
            global_id = response.json()["data"]["createProduct"]["product"]["id"]
            products.append((global_id, Writes(product_id=n + 1)))
        acknowledged = asyncio.Event()
        total = 0

        async def write(global_id: str, writes: Writes) -> None:
            nonlocal total
            while True:
                wanted = frozenset(chance.sample(NAMES, chance.randint(1, 4)))
                writes.sent.append(wanted)
                variables = {"input": {"productId": global_id, "tagNames": sorted(wanted)}}
                try:
                    response = await client.post(
                        "/graphql", json={"query": SET_TAGS, "variables": variables}, headers=WRITE
                    )
                except httpx.TransportError:
                    return  # the server is gone; this write's fate is unknown
                outcome = classify(response)
                if outcome.kind == "retry:TRY_AGAIN":  # nothing was written: not a write
                    writes.sent.pop()
                    continue
                assert outcome.kind == "ok", outcome
                assert outcome.body["data"]["setTags"]["userErrors"] == []
                writes.acknowledged += 1
                total += 1
                if total >= 100:
                    acknowledged.set()

        writers = [asyncio.create_task(write(g, w)) for g, w in products]
        await acknowledged.wait()
        os.kill(server.process.pid, signal.SIGKILL)
        await asyncio.gather(*writers)
        assert server.process.wait(timeout=30) == -signal.SIGKILL

    query = text(
        "SELECT p.id, t.name FROM products p"
        " LEFT JOIN product_tags pt ON pt.product_id = p.id LEFT JOIN tags t ON t.id = pt.tag_id"
    )
    async with admin.connect() as connection:
        rows = (await connection.execute(query)).all()
    stored: dict[int, set[str]] = {}
    for product_id, name in rows:
        stored.setdefault(product_id, set()).update([name] if name else [])
    in_flight = 0
    for _global_id, writes in products:
        final = frozenset(stored[writes.product_id])
        assert final in writes.possible_finals(), (writes.product_id, final, writes)
        in_flight += len(writes.sent) > writes.acknowledged
    print(
        f"\nkill -9: {sum(w.acknowledged for _g, w in products)} writes acknowledged,"
        f" {in_flight} in flight at the kill"
    )
