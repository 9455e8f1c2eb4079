"""Paging every connection to the end with `after: endCursor`: every item exactly once, in
the connection's order, with no empty page at the end."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tests.api.conftest import add_tags, create_product, create_tag, error_code, gql, gql_data

EDGES = (
    "edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
)

PRODUCTS = f"""
query ($first: Int, $after: String, $filter: ProductFilter) {{
  products(first: $first, after: $after, filter: $filter) {{ {EDGES} }}
}}
"""

TAGS = f"""
query ($first: Int, $after: String) {{
  tags(first: $first, after: $after) {{ {EDGES} }}
}}
"""

PRODUCT_TAGS = f"""
query ($id: ID!, $first: Int, $after: String) {{
  product(id: $id) {{ tags(first: $first, after: $after) {{ {EDGES} }} }}
}}
"""

TAG_PRODUCTS = f"""
query ($name: String!, $first: Int, $after: String) {{
  tag(name: $name) {{ products(first: $first, after: $after) {{ {EDGES} }} }}
}}
"""


def connection_at(data: dict[str, Any]) -> dict[str, Any]:
    """The one connection in a response: data.<root> or data.<root>.<field>."""
    (value,) = data.values()
    if "edges" not in value:
        (value,) = value.values()
    connection: dict[str, Any] = value
    return connection


async def page_through(
    client: httpx.AsyncClient, query: str, first: int, **variables: Any
) -> tuple[list[str], int]:
    """Every name the connection yields, following endCursor; and how many pages it took."""
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        data = await gql_data(client, query, {**variables, "first": first, "after": after})
        connection = connection_at(data)
        pages += 1
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert len(edges) <= first
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        seen.extend(edge["node"]["name"] for edge in edges)
        if not info["hasNextPage"]:
            return seen, pages
        assert len(edges) == first
        after = info["endCursor"]
        assert pages < 100, "paging does not end"


@pytest.mark.parametrize("first", [1, 3, 5])
async def test_paging_products_yields_each_once_by_database_id(
    client: httpx.AsyncClient, first: int
) -> None:
    # Names out of alphabetical order: the order is the database id, not the name.
    expected = ["Zinc", "Apple", "Mug", "Bowl", "Lamp", "Vase", "Chair", "Desk", "Rug", "Fan"]
    for name in expected:
        await create_product(client, name)

    seen, pages = await page_through(client, PRODUCTS, first)

    assert seen == expected
    assert pages == math.ceil(len(expected) / first)


async def test_paging_filtered_products_keeps_the_filter(client: httpx.AsyncClient) -> None:
    for number in range(12):
        await create_product(client, f"{'Lamp' if number % 3 else 'Mug'} {number}")

    seen, pages = await page_through(client, PRODUCTS, 3, filter={"nameContains": "lamp"})

    assert seen == [f"Lamp {number}" for number in range(12) if number % 3]
    assert pages == 3


async def test_paging_tags_yields_each_once_by_name_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    names = ["delta", "Alpha", "charlie", "Echo", "bravo", "Foxtrot", "golf", "Hotel", "india"]
    for name in names:
        await create_tag(client, name)

    seen, pages = await page_through(client, TAGS, 3)

    assert seen == sorted(names, key=str.casefold)
    assert pages == 3


async def test_paging_a_products_tags_yields_each_once_by_priority_then_name(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["kiwi", "Apple", "fig"])
    await add_tags(client, lamp["id"], ["Mango", "banana", "Cherry"], priority=5)
    await add_tags(client, lamp["id"], ["lime", "Date"], priority=-1)
    await add_tags(client, lamp["id"], ["Grape"], priority=10)

    seen, pages = await page_through(client, PRODUCT_TAGS, 2, id=lamp["id"])

    assert seen == [
        "Grape",
        "banana",
        "Cherry",
        "Mango",
        "Apple",
        "fig",
        "kiwi",
        "Date",
        "lime",
    ]
    assert pages == 5


async def test_paging_a_tags_products_yields_each_once_by_database_id(
    client: httpx.AsyncClient,
) -> None:
    products = [await create_product(client, f"Product {number}") for number in range(9)]
    sale = await create_tag(client, "Sale")
    tagged = [products[i] for i in (7, 0, 4, 8, 2, 5)]
    await gql_data(
        client,
        "mutation ($input: AddProductsInput!) { addProducts(input: $input) { tag { id } } }",
        {"input": {"tagId": sale["id"], "productIds": [p["id"] for p in tagged]}},
    )

    seen, pages = await page_through(client, TAG_PRODUCTS, 4, name="Sale")

    assert seen == [f"Product {number}" for number in (0, 2, 4, 5, 7, 8)]
    assert pages == 2


async def test_a_cursor_survives_deleting_the_item_it_points_at(
    client: httpx.AsyncClient,
) -> None:
    products = [await create_product(client, f"Product {number}") for number in range(6)]
    first_page = connection_at(await gql_data(client, PRODUCTS, {"first": 3}))
    await gql_data(
        client,
        "mutation ($id: ID!) { deleteProduct(input: {id: $id}) { deletedId } }",
        {"id": products[2]["id"]},
    )

    rest = connection_at(
        await gql_data(client, PRODUCTS, {"first": 3, "after": first_page["pageInfo"]["endCursor"]})
    )

    assert [edge["node"]["name"] for edge in rest["edges"]] == [
        "Product 3",
        "Product 4",
        "Product 5",
    ]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_an_empty_connection_has_no_cursors(client: httpx.AsyncClient) -> None:
    connection = connection_at(await gql_data(client, PRODUCTS))

    assert connection == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_a_malformed_cursor_is_an_error(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    tag_cursor = connection_at(await gql_data(client, TAGS))["pageInfo"]["endCursor"]

    for query, variables in [
        (PRODUCTS, {"after": "not a cursor"}),
        (TAGS, {"after": "bm9wZQ=="}),
        (PRODUCT_TAGS, {"id": lamp["id"], "after": "garbage"}),
        (PRODUCTS, {"after": tag_cursor}),  # a cursor of another connection
    ]:
        body = await gql(client, query, variables)
        assert error_code(body) == "BAD_USER_INPUT", (query, variables)
