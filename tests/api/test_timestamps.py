"""A request whose documents read no timestamp leaves them out of its reads (db.readers);
every way a document can read one still gets it, batches included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from db.statements import record_statements
from server.app import create_app
from server.config.settings import Settings
from tests.api.conftest import WRITE_TOKEN, add_tags, create_product, gql_data, speaking_to

# A timestamp column read from its table (a NULL standing in for it is not). The documents
# below neither order nor filter by a timestamp, so this finds only what is selected.
READ_TIMESTAMP = re.compile(
    r"\b(products|tags|product_tags|link)\.(created_at|updated_at|added_at)\b"
)

NAMES_ONLY = """
query ($id: ID!) {
  node(id: $id) { ... on Product { name tags { nodes { name products { nodes { name } } } } } }
  tags(first: 5) { nodes { name } }
}
"""


async def catalog(client: httpx.AsyncClient) -> str:
    product = await create_product(client, "Lamp", ["Sale", "New"])
    await create_product(client, "Desk", ["Sale"])
    await add_tags(client, product["id"], ["Eco"], priority=3)
    return str(product["id"])


def reads_timestamps(statement: str) -> bool:
    return READ_TIMESTAMP.search(statement) is not None


async def test_a_document_without_timestamps_reads_none_and_answers_the_same(
    client: httpx.AsyncClient,
) -> None:
    product_id = await catalog(client)

    with record_statements() as lean:
        data = await gql_data(client, NAMES_ONLY, {"id": product_id})
    # The same document, plus one timestamp far from the rest: every read takes them all.
    with_a_timestamp = NAMES_ONLY.replace(
        "tags(first: 5) { nodes { name } }", "tags(first: 5) { nodes { name createdAt } }"
    )
    with record_statements() as full:
        full_data = await gql_data(client, with_a_timestamp, {"id": product_id})

    assert data["node"] == full_data["node"]
    products_by_tag = {
        tag["name"]: [product["name"] for product in tag["products"]["nodes"]]
        for tag in data["node"]["tags"]["nodes"]
    }
    assert products_by_tag == {"Eco": ["Lamp"], "Sale": ["Lamp", "Desk"], "New": ["Lamp"]}
    assert lean.count == full.count
    assert [s for s in lean.statements if reads_timestamps(s)] == []
    assert all(
        reads_timestamps(s) for s in full.statements if "FROM tags" in s or "product_tags" in s
    )


@pytest.mark.parametrize(
    "selection",
    [
        "createdAt updatedAt",
        "when: createdAt",
        "tags { edges { addedAt node { createdAt } } }",
        "tags { nodes { ...Stamped } }",
        "tags { edges { cursor } }",
        "tags(orderBy: {field: ADDED_AT}) { pageInfo { endCursor } }",
    ],
)
async def test_every_way_to_read_a_timestamp_gets_one(
    client: httpx.AsyncClient, selection: str
) -> None:
    product_id = await catalog(client)
    fragment = "fragment Stamped on Tag { createdAt }" if "Stamped" in selection else ""
    query = (
        f"query ($id: ID!) {{ node(id: $id) {{ ... on Product {{ {selection} }} }} }} {fragment}"
    )

    data = await gql_data(client, query, {"id": product_id})

    values = list(_leaves(data["node"]))
    assert values and all(isinstance(value, str) for value in values), data
    for key, value in _keyed_leaves(data["node"]):
        if key in ("createdAt", "updatedAt", "addedAt", "when"):
            datetime.fromisoformat(value)


@pytest.fixture
async def batching(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a server that takes batches of two operations."""
    app = create_app(Settings(database_url=database_url, write_tokens=(WRITE_TOKEN,), max_batch=2))
    async with speaking_to(app) as client:
        yield client
    await app.state.engine.dispose()


async def test_one_operation_of_a_batch_reading_a_timestamp_makes_the_batch_read_them(
    batching: httpx.AsyncClient,
) -> None:
    product_id = await catalog(batching)
    # The first operation loads the product without asking for a timestamp; the second
    # asks for its createdAt and is answered from the same request's loaders.
    first = "query ($id: ID!) { node(id: $id) { ... on Product { name } } }"
    second = "query ($id: ID!) { node(id: $id) { ... on Product { createdAt } } }"
    operations = [
        {"query": first, "variables": {"id": product_id}},
        {"query": second, "variables": {"id": product_id}},
    ]

    response = await batching.post("/graphql", json=operations)

    answers = response.json()
    assert [answer.get("errors") for answer in answers] == [None, None], answers
    assert answers[0]["data"]["node"] == {"name": "Lamp"}
    datetime.fromisoformat(answers[1]["data"]["node"]["createdAt"])


def _keyed_leaves(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        for inner_key, inner in value.items():
            yield from _keyed_leaves(inner, inner_key)
    elif isinstance(value, list):
        for item in value:
            yield from _keyed_leaves(item, key)
    else:
        yield key, value


def _leaves(value: Any) -> Any:
    for _key, leaf in _keyed_leaves(value):
        yield leaf
