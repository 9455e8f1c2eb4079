"""Batching: a request costs SQL statements per level of the query, never per row.

Each test measures the same query over a catalog of 1 product and one of 100 products
(each with several tags) and expects the same exact count.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from db.statements import record_statements
from tests.api.conftest import gql_data

TAGS_PER_PRODUCT = ("Sale", "New", "Eco", "Gift")


async def catalog_of(client: httpx.AsyncClient, size: int) -> None:
    """`size` products, each tagged with four shared tags and one of its own.

    Created 25 to a request (one aliased createProduct each) to keep the arranging quick.
    """
    for start in range(0, size, 25):
        fields = [
            f"p{number}: createProduct(input: {{name: {json.dumps(f'Product {number}')}, "
            f"tagNames: {json.dumps([*TAGS_PER_PRODUCT, f'Own {number}'])}}}) "
            "{ userErrors { code } }"
            for number in range(start, min(start + 25, size))
        ]
        data = await gql_data(client, f"mutation {{ {' '.join(fields)} }}")
        assert all(payload["userErrors"] == [] for payload in data.values())


async def statements_for(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """How many SQL statements one request runs, and its data."""
    with record_statements() as log:
        data = await gql_data(client, query, variables)
    return log.count, data


NESTED = """
{
  products(first: 100) {
    nodes { tags { nodes { name products(first: 5) { nodes { name } } } } }
  }
}
"""

NESTED_WITH_COUNTS = """
{
  products(first: 100) {
    totalCount
    nodes {
      tags {
        totalCount
        nodes { name products(first: 5) { totalCount nodes { name } } }
      }
    }
  }
}
"""

HAS_TAGS_BY_NAME = """
{
  products(first: 100) {
    nodes {
      name
      all: hasTags(names: ["Sale", "new", "Missing"])
      any: hasTags(names: ["Missing", "ECO"], match: ANY)
    }
  }
}
"""

HAS_TAGS_BY_ID = """
query ($ids: [ID!]!) {
  products(first: 100) {
    nodes { name hasTags(ids: $ids) }
  }
}
"""


@pytest.mark.parametrize("size", [1, 100])
async def test_nested_tags_and_their_products_cost_three_statements(
    client: httpx.AsyncClient, size: int
) -> None:
    await catalog_of(client, size)

    count, data = await statements_for(client, NESTED)

    products = data["products"]["nodes"]
    assert len(products) == size
    assert all(len(p["tags"]["nodes"]) == 5 for p in products)
    sale = next(t for t in products[-1]["tags"]["nodes"] if t["name"] == "Sale")
    assert len(sale["products"]["nodes"]) == min(size, 5)
    print(f"nested query, {size} products: {count} statements")
    assert count == 3  # the products page, tags of all products, products of all tags


@pytest.mark.parametrize("size", [1, 100])
async def test_total_counts_cost_one_statement_per_level(
    client: httpx.AsyncClient, size: int
) -> None:
    await catalog_of(client, size)

    count, data = await statements_for(client, NESTED_WITH_COUNTS)

    assert data["products"]["totalCount"] == size
    first = data["products"]["nodes"][0]
    assert first["tags"]["totalCount"] == 5
    sale = next(t for t in first["tags"]["nodes"] if t["name"] == "Sale")
    assert sale["products"]["totalCount"] == size
    print(f"nested query with totalCount, {size} products: {count} statements")
    # The three pages, plus one count each: products in all, tags per product, products per tag.
    assert count == 6


@pytest.mark.parametrize("size", [1, 100])
async def test_has_tags_by_name_costs_the_same_for_any_number_of_products(
    client: httpx.AsyncClient, size: int
) -> None:
    await catalog_of(client, size)

    count, data = await statements_for(client, HAS_TAGS_BY_NAME)

    products = data["products"]["nodes"]
    assert len(products) == size
    assert all(p["all"] is False and p["any"] is True for p in products)
    print(f"hasTags by name, {size} products: {count} statements")
    # The products page, the tags by name (all names at once), which of them each product has.
    assert count == 3


@pytest.mark.parametrize("size", [1, 100])
async def test_has_tags_by_id_costs_the_same_for_any_number_of_products(
    client: httpx.AsyncClient, size: int
) -> None:
    await catalog_of(client, size)
    tags = await gql_data(client, '{ sale: tag(name: "Sale") { id } eco: tag(name: "Eco") { id } }')

    ids = [tags["sale"]["id"], tags["eco"]["id"]]
    count, data = await statements_for(client, HAS_TAGS_BY_ID, {"ids": ids})

    products = data["products"]["nodes"]
    assert len(products) == size
    assert all(p["hasTags"] is True for p in products)
    print(f"hasTags by id, {size} products: {count} statements")
    assert count == 2  # the products page, which of the tags each product has


async def test_nodes_loads_products_and_tags_in_one_statement_each(
    client: httpx.AsyncClient,
) -> None:
    await catalog_of(client, 5)
    listed = await gql_data(client, "{ products { nodes { id } } tags { nodes { id } } }")
    ids = [node["id"] for kind in ("products", "tags") for node in listed[kind]["nodes"]]

    count, data = await statements_for(
        client, "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}
    )

    assert [node["id"] for node in data["nodes"]] == ids
    print(f"nodes of {len(ids)} products and tags: {count} statements")
    assert count == 2


async def test_aliased_lookups_share_one_statement(client: httpx.AsyncClient) -> None:
    await catalog_of(client, 3)
    listed = await gql_data(client, "{ products { nodes { id } } }")
    a, b, c = (node["id"] for node in listed["products"]["nodes"])
    query = """
    query ($a: ID!, $b: ID!, $c: ID!) {
      a: product(id: $a) { name }
      b: product(id: $b) { name }
      c: product(id: $c) { name }
    }
    """

    count, data = await statements_for(client, query, {"a": a, "b": b, "c": c})

    assert [data[key]["name"] for key in "abc"] == ["Product 0", "Product 1", "Product 2"]
    print(f"three aliased product lookups: {count} statements")
    assert count == 1


WITH_FRAGMENTS = {
    "named": """
    { products { totalCount nodes { ...Item } } }
    fragment Item on Product { name tags { nodes { name } } }
    """,
    "inline": """
    { products { totalCount nodes { ... on Product { name tags { nodes { name } } } } } }
    """,
}


@pytest.mark.parametrize("fragment", WITH_FRAGMENTS)
async def test_a_query_written_with_fragments_costs_the_same(
    client: httpx.AsyncClient, fragment: str
) -> None:
    await catalog_of(client, 3)
    plain = "{ products { totalCount nodes { name tags { nodes { name } } } } }"

    plain_count, plain_data = await statements_for(client, plain)
    count, data = await statements_for(client, WITH_FRAGMENTS[fragment])

    assert data == plain_data
    print(f"products with tags: {plain_count} statements plain, {count} with {fragment} fragment")
    assert plain_count == 3  # the products page, its total, the tags of all products
    assert count == plain_count


async def test_node_beside_a_list_runs_each_statement_once(client: httpx.AsyncClient) -> None:
    await catalog_of(client, 3)
    first = (await gql_data(client, "{ products(first: 1) { nodes { id } } }"))["products"]
    query = "query ($id: ID!) { products { totalCount nodes { name } } node(id: $id) { id } }"

    count, data = await statements_for(client, query, {"id": first["nodes"][0]["id"]})

    assert data["products"]["totalCount"] == 3
    print(f"products with totalCount beside node: {count} statements")
    assert count == 3  # the products page, its total, the product by id


ORDERED = """
query ($p: ProductOrder, $t: ProductTagOrder, $tp: TagProductOrder, $last: Int) {
  products(first: 100, orderBy: $p) {
    totalCount
    nodes {
      tags(orderBy: $t, last: $last, filter: {priority: {gte: -5, lte: 5}}) {
        totalCount
        edges { cursor priority node { name products(first: 5, orderBy: $tp) { totalCount
          edges { cursor node { name } } } } }
      }
    }
  }
  tags(first: 100, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { name } }
}
"""

PRODUCT_ORDERS = ["DATABASE_ID", "NAME", "CREATED_AT"]
PRODUCT_TAG_ORDERS = ["PRIORITY", "NAME", "ADDED_AT"]
TAG_PRODUCT_ORDERS = ["DATABASE_ID", "NAME", "PRIORITY", "ADDED_AT"]
TAG_ORDERS = ["NAME", "DATABASE_ID", "CREATED_AT"]


@pytest.mark.parametrize("size", [1, 100])
async def test_every_order_and_direction_costs_one_statement_per_level(
    client: httpx.AsyncClient, size: int
) -> None:
    await catalog_of(client, size)

    for number, tag_product_order in enumerate(TAG_PRODUCT_ORDERS):
        for direction in ("ASC", "DESC"):
            variables = {
                "p": {"field": PRODUCT_ORDERS[number % 3], "direction": direction},
                "t": {"field": PRODUCT_TAG_ORDERS[number % 3], "direction": direction},
                "tp": {"field": tag_product_order, "direction": direction},
                "last": 4 if direction == "DESC" else None,  # backwards too
            }
            count, data = await statements_for(client, ORDERED, variables)

            products = data["products"]["nodes"]
            assert len(products) == size
            assert all(len(p["tags"]["edges"]) == (4 if variables["last"] else 5) for p in products)
            print(f"orders {variables}, {size} products: {count} statements")
            # Pages and counts of the three nested levels, plus the tags list.
            assert count == 7, variables


@pytest.mark.parametrize("size", [1, 100])
async def test_tags_in_every_order_cost_one_statement(client: httpx.AsyncClient, size: int) -> None:
    await catalog_of(client, size)

    for field in TAG_ORDERS:
        for direction in ("ASC", "DESC"):
            query = (
                "query ($o: TagOrder, $l: Int) { tags(orderBy: $o, last: $l) { nodes { name } } }"
            )
            variables = {"o": {"field": field, "direction": direction}, "l": 3}

            count, data = await statements_for(client, query, variables)

            assert len(data["tags"]["nodes"]) == 3
            assert count == 1, variables
