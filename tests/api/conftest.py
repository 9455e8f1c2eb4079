"""The API under test: the ASGI app over HTTP, plus helpers that speak GraphQL to it.

Every request goes through httpx's ASGI transport, so tests see exactly what a client
sees: status codes, JSON bodies, userErrors. Factories arrange data through the API's own
mutations, and `snapshot` reads back everything a mutation could have changed.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.config.settings import Settings

WRITE_TOKEN = "test-write-token"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Starlette]:
    app = create_app(Settings(database_url=database_url, write_tokens=(WRITE_TOKEN,)))
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with speaking_to(app) as client:
        yield client


@asynccontextmanager
async def speaking_to(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` over httpx's ASGI transport, with the write token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
    ) as client:
        yield client


# -- speaking GraphQL ----------------------------------------------------------------------


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST one operation to /graphql and return the parsed response body."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await client.post("/graphql", json=payload)
    body: dict[str, Any] = response.json()
    return body


async def gql_data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `data` of an operation that must succeed without GraphQL errors."""
    body = await gql(client, query, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def global_id(type_name: str, database_id: int) -> str:
    """A global id as the API makes them: base64 of "Product:12" or "Tag:3"."""
    return base64.b64encode(f"{type_name}:{database_id}".encode()).decode()


def error_code(body: dict[str, Any]) -> str:
    """The code of the first GraphQL error of a response."""
    assert body.get("errors"), f"expected a GraphQL error, got {body}"
    code: str = body["errors"][0]["extensions"]["code"]
    return code


# -- factories: arrange through the API's own mutations ------------------------------------

CREATE_PRODUCT = """
mutation ($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id databaseId name }
    userErrors { field message code }
  }
}
"""

CREATE_TAG = """
mutation ($input: CreateTagInput!) {
  createTag(input: $input) {
    tag { id databaseId name }
    userErrors { field message code }
  }
}
"""

ADD_TAGS = """
mutation ($input: AddTagsInput!) {
  addTags(input: $input) {
    added { name }
    userErrors { field message code }
  }
}
"""


async def create_product(
    client: httpx.AsyncClient, name: str = "Lamp", tag_names: Iterable[str] = ()
) -> dict[str, Any]:
    """A new product ({id, databaseId, name}), tagged by name (tags created as needed)."""
    variables = {"input": {"name": name, "tagNames": list(tag_names)}}
    payload = (await gql_data(client, CREATE_PRODUCT, variables))["createProduct"]
    assert payload["userErrors"] == []
    product: dict[str, Any] = payload["product"]
    return product


async def create_tag(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """A new tag ({id, databaseId, name})."""
    payload = (await gql_data(client, CREATE_TAG, {"input": {"name": name}}))["createTag"]
    assert payload["userErrors"] == []
    tag: dict[str, Any] = payload["tag"]
    return tag


async def add_tags(
    client: httpx.AsyncClient, product_id: str, tag_names: Iterable[str], priority: int = 0
) -> None:
    """Link tags (by name) to a product with a priority."""
    variables = {
        "input": {"productId": product_id, "tagNames": list(tag_names), "priority": priority}
    }
    payload = (await gql_data(client, ADD_TAGS, variables))["addTags"]
    assert payload["userErrors"] == []


# -- reading state back --------------------------------------------------------------------

SNAPSHOT = """
{
  products(first: 100) {
    totalCount
    nodes {
      id name updatedAt
      tags(first: 100) { edges { priority addedAt node { id name } } }
    }
  }
  tags(first: 100) { totalCount nodes { id name createdAt } }
}
"""


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    """Everything a mutation could change: products, tags and every link with its columns."""
    return await gql_data(client, SNAPSHOT)


TAG_NAMES = """
query ($id: ID!) {
  product(id: $id) { tags(first: 100) { nodes { name } } }
}
"""


async def tag_names_of(client: httpx.AsyncClient, product_id: str) -> list[str]:
    """A product's tag names, in the API's order (priority DESC, then name)."""
    product = (await gql_data(client, TAG_NAMES, {"id": product_id}))["product"]
    return [tag["name"] for tag in product["tags"]["nodes"]]
