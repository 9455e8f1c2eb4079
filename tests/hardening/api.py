"""Speaking to the API as a client would, and reading back what the database holds.

Requests go through httpx's ASGI transport, so a test sees status codes, headers and JSON
bodies exactly as a client does. `Stored` reads the tables directly, through an engine of
its own, so "nothing changed" means nothing was committed, whatever the API says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import product_tags, products, tags
from db.names import tag_key

WRITE_TOKEN = "w-token"
READ_TOKEN = "r-token"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


WRITE = bearer(WRITE_TOKEN)
READ = bearer(READ_TOKEN)


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST one operation as JSON; `headers` carry the caller's token (none by default)."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = dict(variables)
    return await client.post("/graphql", json=payload, headers=headers)


async def write(
    client: httpx.AsyncClient, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The data of an operation sent with the write token, which must succeed cleanly."""
    response = await post(client, query, variables, headers=WRITE)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def codes(body: Any) -> list[str]:
    """The `extensions.code` of every GraphQL error in a response body."""
    errors = (body.get("errors") or []) if isinstance(body, dict) else []
    return [(error.get("extensions") or {}).get("code", "") for error in errors]


# -- arranging through the API -----------------------------------------------------------

CREATE_PRODUCT = """
mutation ($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { message } }
}
"""

CREATE_TAG = """
mutation ($input: CreateTagInput!) {
  createTag(input: $input) { tag { id } userErrors { message } }
}
"""


async def create_product(
    client: httpx.AsyncClient, name: str, tag_names: Iterable[str] = ()
) -> str:
    """A new product's global id; its tags are given by name and created as needed."""
    variables = {"input": {"name": name, "tagNames": list(tag_names)}}
    payload = (await write(client, CREATE_PRODUCT, variables))["createProduct"]
    assert payload["userErrors"] == [], payload
    product_id: str = payload["product"]["id"]
    return product_id


async def create_tag(client: httpx.AsyncClient, name: str) -> str:
    """A new tag's global id."""
    payload = (await write(client, CREATE_TAG, {"input": {"name": name}}))["createTag"]
    assert payload["userErrors"] == [], payload
    tag_id: str = payload["tag"]["id"]
    return tag_id


# -- reading back what is stored ---------------------------------------------------------

Rows = dict[str, list[tuple[Any, ...]]]


class Stored:
    """What is committed right now, read straight from the tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def snapshot(self) -> Rows:
        """Every row of products, tags and product_tags, every column, in key order."""
        result: Rows = {}
        async with self._engine.connect() as connection:
            for table in (products, tags, product_tags):
                query = select(table).order_by(*table.primary_key.columns)
                result[table.name] = [tuple(row) for row in await connection.execute(query)]
        return result

    async def tag_names_of(self, product_db_id: int) -> set[str]:
        query = (
            select(tags.c.name)
            .join(product_tags, product_tags.c.tag_id == tags.c.id)
            .where(product_tags.c.product_id == product_db_id)
        )
        async with self._engine.connect() as connection:
            return set((await connection.execute(query)).scalars())

    async def check_invariants(self) -> None:
        """The rules no request may break, whatever it sends.

        Every junction row has both ends; junction pairs are unique; every tag's name_key
        is the fold of its name (db.names, the one rule), and no two tags share one.
        """
        rows = await self.snapshot()
        product_ids = {row[0] for row in rows["products"]}
        tag_ids = {row[0] for row in rows["tags"]}
        pairs = [(row[0], row[1]) for row in rows["product_tags"]]
        dangling = [p for p in pairs if p[0] not in product_ids or p[1] not in tag_ids]
        assert dangling == [], f"junction rows without both ends: {dangling}"
        assert len(pairs) == len(set(pairs)), "duplicate junction rows"
        async with self._engine.connect() as connection:
            stored = (await connection.execute(select(tags.c.name, tags.c.name_key))).all()
        wrong = [(name, key) for name, key in stored if key != tag_key(name)]
        assert wrong == [], f"name_key is not tag_key(name): {wrong}"
        keys = [key for _name, key in stored]
        assert len(keys) == len(set(keys)), "two tags share a name_key"
