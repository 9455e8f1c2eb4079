"""The bench's floors (bench/workloads.py) answer exactly what the server answers.

A floor is the divisor of its workload in `make bench`: if its SQL drifted from the API
(another order, another id encoding, a missing field), the ratio would compare two
different answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from bench.floor import create_floor_app, floor_sql
from bench.workloads import FLOORS, W1, W2, W3, W4, W5
from server.config.settings import Settings
from tests.api.conftest import add_tags, create_product, create_tag


@pytest.fixture
async def floor_app(database_url: str) -> AsyncIterator[Starlette]:
    app = create_floor_app(Settings(database_url=database_url))
    yield app
    await app.state.engine.dispose()


async def _catalog(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Three products with links of several priorities (ties broken by name), one untagged."""
    lamp = await create_product(client, "Lamp")
    desk = await create_product(client, "Desk")
    await create_product(client, "Chair")
    wood = await create_tag(client, "wood")
    await add_tags(client, lamp["id"], ["wood"], priority=2)
    await add_tags(client, lamp["id"], ["sale", "new"], priority=0)
    await add_tags(client, desk["id"], ["sale"], priority=1)
    return {"lamp": lamp, "desk": desk, "wood": wood}


@pytest.mark.parametrize("name", sorted(FLOORS))
async def test_a_floor_answers_the_same_data_as_its_workload(
    name: str, database_url: str, client: httpx.AsyncClient, floor_app: Starlette
) -> None:
    if floor_sql(FLOORS[name], database_url) is None:
        pytest.skip(f"{name} has no floor on this database")
    made = await _catalog(client)
    tag_ids = {
        node["name"]: node["id"]
        for node in (
            await client.post("/graphql", json={"query": "{ tags { nodes { id name } } }"})
        ).json()["data"]["tags"]["nodes"]
    }
    requests: dict[str, dict[str, Any]] = {
        "W1": {"query": W1},
        "W2": {"query": W2},
        "W3": {"query": W3, "variables": {"id": made["lamp"]["id"]}},
        "W4": {
            "query": W4,
            "variables": {"product": made["desk"]["id"], "tags": [tag_ids["wood"], tag_ids["new"]]},
        },
        "W5": {"query": W5, "variables": {"tags": [tag_ids["wood"], tag_ids["sale"]]}},
    }
    body = orjson.dumps(requests[name])
    json = {"Content-Type": "application/json"}
    served = (await client.post("/graphql", content=body, headers=json)).json()
    assert "errors" not in served
    transport = httpx.ASGITransport(app=floor_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://floor") as floor:
        floored = (await floor.post(f"/floor/{name}", content=body, headers=json)).json()

    assert orjson.dumps(floored["data"]) == orjson.dumps(served["data"])
