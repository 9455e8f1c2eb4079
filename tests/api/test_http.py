"""The HTTP surface around GraphQL: health and readiness, GET requests, GraphiQL and the
write token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.config.settings import Settings
from tests.api.conftest import create_product, snapshot

CREATE_TAG = 'mutation { createTag(input: {name: "Sale"}) { tag { id } } }'


async def test_healthz_answers_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_answers_200_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.fixture
async def unmigrated_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose database is an empty SQLite file, never migrated."""
    path = tmp_path / "empty.db"
    path.touch()
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client
    await app.state.engine.dispose()


async def test_readyz_answers_503_before_migrations(unmigrated_client: httpx.AsyncClient) -> None:
    response = await unmigrated_client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_healthz_answers_200_even_before_migrations(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    response = await unmigrated_client.get("/healthz")

    assert response.status_code == 200


# -- GET ---------------------------------------------------------------------------------


async def test_a_query_works_over_get(client: httpx.AsyncClient) -> None:
    await create_product(client, "Lamp")

    response = await client.get("/graphql", params={"query": "{ products { nodes { name } } }"})

    assert response.status_code == 200
    assert response.json() == {"data": {"products": {"nodes": [{"name": "Lamp"}]}}}


async def test_a_query_over_get_takes_variables(client: httpx.AsyncClient) -> None:
    await create_product(client, "Lamp")
    await create_product(client, "Mug")

    response = await client.get(
        "/graphql",
        params={
            "query": "query ($first: Int) { products(first: $first) { nodes { name } } }",
            "variables": '{"first": 1}',
        },
    )

    assert response.json() == {"data": {"products": {"nodes": [{"name": "Lamp"}]}}}


async def test_a_mutation_over_get_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await snapshot(client)

    response = await client.get("/graphql", params={"query": CREATE_TAG})

    assert 400 <= response.status_code < 500
    assert response.json()["errors"]
    assert await snapshot(client) == before


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


# -- the write token ---------------------------------------------------------------------


async def test_a_mutation_without_a_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await snapshot(client)

    response = await client.post(
        "/graphql", json={"query": CREATE_TAG}, headers={"Authorization": ""}
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await snapshot(client) == before


async def test_a_mutation_with_a_wrong_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await snapshot(client)

    response = await client.post(
        "/graphql", json={"query": CREATE_TAG}, headers={"Authorization": "Bearer guess"}
    )

    assert response.status_code == 401
    assert await snapshot(client) == before


async def test_queries_need_no_token_when_no_read_tokens_are_set(
    client: httpx.AsyncClient,
) -> None:
    await create_product(client, "Lamp")

    response = await client.post(
        "/graphql",
        json={"query": "{ products { nodes { name } } }"},
        headers={"Authorization": ""},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"products": {"nodes": [{"name": "Lamp"}]}}}
