"""The /graphql endpoint plans each operation once and decides it before anything runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import graphql
import httpx
import pytest
import strawberry.schema.schema

import schema.plans
from db.statements import record_statements
from tests.apps import app_clients

WRITE = "endpoint-write-token"
READ = "endpoint-read-token"
COUNT = "query Count { products { totalCount } }"
CREATE = 'mutation { createProduct(input: {name: "Never"}) { product { id } } }'


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document parsed, by the plans or by anything else on the way."""
    parsed: list[str] = []
    parse = graphql.parse

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(str(source))
        return parse(source, *args, **kwargs)

    monkeypatch.setattr(schema.plans, "parse", counting)
    monkeypatch.setattr(strawberry.schema.schema, "parse", counting)
    monkeypatch.setattr(graphql, "parse", counting)
    return parsed


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_clients(database_url, WRITE, base_url="http://test") as make:
        yield make(read_tokens=(READ,), response_cache="memory", max_batch=5)


async def test_a_repeated_document_is_parsed_once_over_http(
    client: httpx.AsyncClient, parses: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {READ}"}
    bodies = [
        (await client.post("/graphql", json={"query": COUNT}, headers=headers)).json(),
        (await client.get("/graphql", params={"query": COUNT}, headers=headers)).json(),
        (await client.post("/graphql", json={"query": COUNT}, headers=headers)).json(),
    ]

    assert bodies == [{"data": {"products": {"totalCount": 0}}}] * 3
    assert parses == [COUNT]


async def test_a_batch_is_refused_whole_before_any_operation_runs(
    client: httpx.AsyncClient,
) -> None:
    batch = [{"query": COUNT}, {"query": CREATE}]

    with record_statements() as statements:
        response = await client.post(
            "/graphql", json=batch, headers={"Authorization": f"Bearer {READ}"}
        )

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert statements.count == 0


async def test_a_mutation_over_get_is_refused_before_it_is_validated(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "mutation { noSuchField }"},
        headers={"Authorization": f"Bearer {WRITE}"},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
