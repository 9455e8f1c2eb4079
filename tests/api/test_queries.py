"""Every query of the contract, over HTTP: lookups by id and name, the two lists, filters."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import (
    add_tags,
    create_product,
    create_tag,
    error_code,
    global_id,
    gql,
    gql_data,
)


def names(connection: dict[str, Any]) -> list[str]:
    return [node["name"] for node in connection["nodes"]]


# -- node, nodes, product ----------------------------------------------------------------

NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Product { databaseId name }
    ... on Tag { databaseId name }
  }
}
"""


async def test_node_finds_a_product_by_global_id(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")

    node = (await gql_data(client, NODE, {"id": lamp["id"]}))["node"]

    assert node == {
        "__typename": "Product",
        "id": lamp["id"],
        "databaseId": lamp["databaseId"],
        "name": "Lamp",
    }
    assert lamp["id"] == global_id("Product", lamp["databaseId"])


async def test_node_finds_a_tag_by_global_id(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")

    node = (await gql_data(client, NODE, {"id": sale["id"]}))["node"]

    assert node == {
        "__typename": "Tag",
        "id": sale["id"],
        "databaseId": sale["databaseId"],
        "name": "Sale",
    }
    assert sale["id"] == global_id("Tag", sale["databaseId"])


async def test_node_is_null_for_unknown_malformed_and_foreign_ids(
    client: httpx.AsyncClient,
) -> None:
    await create_product(client, "Lamp")

    for unknown in (global_id("Product", 999), "not-an-id", global_id("User", 1), "", "UHJvZHVjdA"):
        body = await gql(client, NODE, {"id": unknown})
        assert body == {"data": {"node": None}}, unknown


async def test_nodes_returns_objects_in_the_order_asked_with_null_gaps(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")
    sale = await create_tag(client, "Sale")
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"

    ids = [sale["id"], global_id("Product", 999), lamp["id"], "garbage", sale["id"]]
    nodes = (await gql_data(client, query, {"ids": ids}))["nodes"]

    assert nodes == [
        {"__typename": "Tag", "id": sale["id"]},
        None,
        {"__typename": "Product", "id": lamp["id"]},
        None,
        {"__typename": "Tag", "id": sale["id"]},
    ]


async def test_nodes_refuses_more_than_100_ids(client: httpx.AsyncClient) -> None:
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    body = await gql(client, query, {"ids": [global_id("Product", 1)] * 101})

    assert error_code(body) == "MAX_ITEMS_EXCEEDED"


async def test_product_returns_the_product_with_its_fields(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Desk lamp", ["Sale"])
    query = """
    query ($id: ID!) {
      product(id: $id) {
        id databaseId name createdAt updatedAt
        tags { totalCount nodes { name } }
      }
    }
    """

    product = (await gql_data(client, query, {"id": lamp["id"]}))["product"]

    assert product["id"] == lamp["id"]
    assert product["databaseId"] == lamp["databaseId"]
    assert product["name"] == "Desk lamp"
    assert product["createdAt"] == product["updatedAt"]
    assert product["createdAt"].endswith("+00:00")  # timezone-aware UTC on both databases
    assert product["tags"] == {"totalCount": 1, "nodes": [{"name": "Sale"}]}


async def test_product_is_null_for_a_tag_id_and_an_unknown_id(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")
    query = "query ($id: ID!) { product(id: $id) { id } }"

    assert await gql(client, query, {"id": sale["id"]}) == {"data": {"product": None}}
    assert await gql(client, query, {"id": global_id("Product", 42)}) == {"data": {"product": None}}


# -- tag ---------------------------------------------------------------------------------

TAG_BY_ID = "query ($id: ID) { tag(id: $id) { id name } }"
TAG_BY_NAME = "query ($name: String) { tag(name: $name) { id name } }"


async def test_tag_by_id(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")

    tag = (await gql_data(client, TAG_BY_ID, {"id": sale["id"]}))["tag"]

    assert tag == {"id": sale["id"], "name": "Sale"}


async def test_tag_by_id_is_null_for_a_product_id(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")

    assert await gql(client, TAG_BY_ID, {"id": lamp["id"]}) == {"data": {"tag": None}}


async def test_tag_by_name_is_trimmed_and_case_insensitive(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")

    for spelling in ("Sale", "sale", "  SALE  "):
        tag = (await gql_data(client, TAG_BY_NAME, {"name": spelling}))["tag"]
        assert tag == {"id": sale["id"], "name": "Sale"}, spelling


async def test_tag_by_name_is_null_when_no_tag_has_it(client: httpx.AsyncClient) -> None:
    await create_tag(client, "Sale")

    for name in ("Sales", "", "   "):
        assert await gql(client, TAG_BY_NAME, {"name": name}) == {"data": {"tag": None}}, name


async def test_tag_needs_exactly_one_of_id_and_name(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")
    both = "query ($id: ID, $name: String) { tag(id: $id, name: $name) { id } }"

    neither = await gql(client, "{ tag { id } }")
    given_both = await gql(client, both, {"id": sale["id"], "name": "Sale"})

    assert error_code(neither) == "BAD_USER_INPUT"
    assert error_code(given_both) == "BAD_USER_INPUT"


# -- products ----------------------------------------------------------------------------

PRODUCTS = """
query ($first: Int, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    nodes { name }
    pageInfo { hasNextPage hasPreviousPage }
  }
}
"""


async def test_products_lists_by_database_id_ascending(client: httpx.AsyncClient) -> None:
    for name in ("Zebra rug", "Anvil", "Mug"):
        await create_product(client, name)

    products = (await gql_data(client, PRODUCTS))["products"]

    assert names(products) == ["Zebra rug", "Anvil", "Mug"]
    assert products["totalCount"] == 3
    assert products["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}


async def test_products_filter_name_contains_is_case_insensitive(
    client: httpx.AsyncClient,
) -> None:
    for name in ("Desk Lamp", "Floor lamp", "Mug", "LAMPSHADE"):
        await create_product(client, name)

    products = (await gql_data(client, PRODUCTS, {"filter": {"nameContains": "lamp"}}))["products"]

    assert names(products) == ["Desk Lamp", "Floor lamp", "LAMPSHADE"]
    assert products["totalCount"] == 3


async def test_products_filter_name_contains_takes_wildcards_literally(
    client: httpx.AsyncClient,
) -> None:
    for name in ("100% cotton", "1000 cotton buds", "cotton_swab", "cotton swab"):
        await create_product(client, name)

    percent = await gql_data(client, PRODUCTS, {"filter": {"nameContains": "0%"}})
    underscore = await gql_data(client, PRODUCTS, {"filter": {"nameContains": "n_s"}})

    assert names(percent["products"]) == ["100% cotton"]
    assert names(underscore["products"]) == ["cotton_swab"]


async def tagged_catalog(client: httpx.AsyncClient) -> dict[str, str]:
    """Four products over three tags; returns tag ids by name."""
    await create_product(client, "Lamp", ["Sale", "New"])
    await create_product(client, "Mug", ["Sale"])
    await create_product(client, "Rug", ["New", "Eco"])
    await create_product(client, "Vase")
    tags = (await gql_data(client, "{ tags { nodes { id name } } }"))["tags"]["nodes"]
    return {tag["name"]: tag["id"] for tag in tags}


async def test_products_filter_tags_any(client: httpx.AsyncClient) -> None:
    tag = await tagged_catalog(client)

    filter_ = {"tags": {"any": [tag["Sale"], tag["Eco"]]}}
    products = (await gql_data(client, PRODUCTS, {"filter": filter_}))["products"]

    assert names(products) == ["Lamp", "Mug", "Rug"]
    assert products["totalCount"] == 3


async def test_products_filter_tags_all(client: httpx.AsyncClient) -> None:
    tag = await tagged_catalog(client)

    filter_ = {"tags": {"all": [tag["Sale"], tag["New"]]}}
    products = (await gql_data(client, PRODUCTS, {"filter": filter_}))["products"]

    assert names(products) == ["Lamp"]
    assert products["totalCount"] == 1


async def test_products_filter_tags_none(client: httpx.AsyncClient) -> None:
    tag = await tagged_catalog(client)

    filter_ = {"tags": {"none": [tag["Sale"]]}}
    products = (await gql_data(client, PRODUCTS, {"filter": filter_}))["products"]

    assert names(products) == ["Rug", "Vase"]
    assert products["totalCount"] == 2


async def test_products_filter_combines_name_and_every_tag_condition(
    client: httpx.AsyncClient,
) -> None:
    tag = await tagged_catalog(client)
    await create_product(client, "Lamp stand", ["New"])

    filter_ = {
        "nameContains": "lamp",
        "tags": {"any": [tag["New"], tag["Eco"]], "all": [tag["New"]], "none": [tag["Sale"]]},
    }
    products = (await gql_data(client, PRODUCTS, {"filter": filter_}))["products"]

    assert names(products) == ["Lamp stand"]
    assert products["totalCount"] == 1


async def test_products_filter_with_a_malformed_tag_id_is_an_error(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")

    body = await gql(client, PRODUCTS, {"filter": {"tags": {"any": [lamp["id"]]}}})

    assert error_code(body) == "BAD_USER_INPUT"


# -- tags --------------------------------------------------------------------------------

TAGS = """
query ($first: Int, $filter: TagFilter) {
  tags(first: $first, filter: $filter) { totalCount nodes { name } }
}
"""


async def test_tags_lists_by_name_case_insensitively(client: httpx.AsyncClient) -> None:
    for name in ("sale", "Eco", "new", "Autumn"):
        await create_tag(client, name)

    tags = (await gql_data(client, TAGS))["tags"]

    assert names(tags) == ["Autumn", "Eco", "new", "sale"]
    assert tags["totalCount"] == 4


async def test_tags_filter_name_contains_is_case_insensitive(client: httpx.AsyncClient) -> None:
    for name in ("Summer sale", "SALE", "New", "wholesale"):
        await create_tag(client, name)

    tags = (await gql_data(client, TAGS, {"filter": {"nameContains": "Sale"}}))["tags"]

    assert names(tags) == ["SALE", "Summer sale", "wholesale"]
    assert tags["totalCount"] == 3


# -- page size ---------------------------------------------------------------------------


async def test_first_defaults_to_20(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Common"])
    for number in range(24):
        await create_product(client, f"Product {number}", ["Common"])
    await add_tags(client, lamp["id"], [f"tag {number:02}" for number in range(23)])
    query = """
    query ($id: ID!) {
      products { nodes { id } pageInfo { hasNextPage } }
      tags { nodes { id } pageInfo { hasNextPage } }
      product(id: $id) { tags { nodes { id } pageInfo { hasNextPage } } }
      tag(name: "Common") { products { nodes { id } pageInfo { hasNextPage } } }
    }
    """

    data = await gql_data(client, query, {"id": lamp["id"]})

    connections = [data["products"], data["tags"], data["product"]["tags"]]
    for connection in [*connections, data["tag"]["products"]]:
        assert len(connection["nodes"]) == 20
        assert connection["pageInfo"] == {"hasNextPage": True}


async def test_first_above_100_is_an_error_not_a_clamp(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    queries = [
        ("{ products(first: 101) { nodes { id } } }", {}),
        ("{ tags(first: 101) { nodes { id } } }", {}),
        (
            "query ($id: ID!) { product(id: $id) { tags(first: 101) { nodes { id } } } }",
            {"id": lamp["id"]},
        ),
        ('{ tag(name: "Sale") { products(first: 101) { nodes { id } } } }', {}),
    ]

    for query, variables in queries:
        body = await gql(client, query, variables)
        assert error_code(body) == "MAX_FIRST_EXCEEDED", query
        assert "101" in body["errors"][0]["message"]


async def test_first_of_100_is_allowed(client: httpx.AsyncClient) -> None:
    await create_product(client, "Lamp")

    products = (await gql_data(client, "{ products(first: 100) { nodes { name } } }"))["products"]

    assert names(products) == ["Lamp"]


async def test_negative_first_is_an_error(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ products(first: -1) { nodes { id } } }")

    assert error_code(body) == "BAD_USER_INPUT"


async def test_several_root_fields_resolve_in_one_request(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    query = """
    query ($id: ID!) {
      products { totalCount nodes { name hasTags(names: ["Sale"]) } }
      tags { totalCount nodes { name products { totalCount } } }
      product(id: $id) { tags { totalCount } }
      tag(name: "sale") { name }
      node(id: $id) { id }
    }
    """

    data = await gql_data(client, query, {"id": lamp["id"]})

    assert data == {
        "products": {"totalCount": 1, "nodes": [{"name": "Lamp", "hasTags": True}]},
        "tags": {"totalCount": 1, "nodes": [{"name": "Sale", "products": {"totalCount": 1}}]},
        "product": {"tags": {"totalCount": 1}},
        "tag": {"name": "Sale"},
        "node": {"id": lamp["id"]},
    }
