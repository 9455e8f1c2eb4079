"""createProduct, updateProduct and deleteProduct over HTTP."""

from __future__ import annotations

import httpx

from tests.api.conftest import create_product, create_tag, gql_data, snapshot, tag_names_of

CREATE_PRODUCT = """
mutation ($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id databaseId name tags { nodes { name } } }
    userErrors { field message code }
  }
}
"""

UPDATE_PRODUCT = """
mutation ($input: UpdateProductInput!) {
  updateProduct(input: $input) {
    product { id name createdAt updatedAt }
    userErrors { field message code }
  }
}
"""

DELETE_PRODUCT = """
mutation ($input: DeleteInput!) {
  deleteProduct(input: $input) { deletedId userErrors { field message code } }
}
"""


async def test_create_product_returns_it_and_stores_it(client: httpx.AsyncClient) -> None:
    payload = (await gql_data(client, CREATE_PRODUCT, {"input": {"name": "  Desk lamp "}}))[
        "createProduct"
    ]

    assert payload["userErrors"] == []
    product = payload["product"]
    assert product["name"] == "Desk lamp"  # trimmed
    assert product["tags"] == {"nodes": []}
    stored = await gql_data(
        client, "query ($id: ID!) { node(id: $id) { id } }", {"id": product["id"]}
    )
    assert stored == {"node": {"id": product["id"]}}


async def test_create_product_with_tag_names_creates_missing_tags(
    client: httpx.AsyncClient,
) -> None:
    await create_tag(client, "Sale")
    variables = {"input": {"name": "Lamp", "tagNames": ["sale", "New", " new "]}}

    payload = (await gql_data(client, CREATE_PRODUCT, variables))["createProduct"]

    assert payload["userErrors"] == []
    assert payload["product"]["tags"] == {"nodes": [{"name": "New"}, {"name": "Sale"}]}
    tags = await gql_data(client, "{ tags { nodes { name } } }")
    assert tags == {"tags": {"nodes": [{"name": "New"}, {"name": "Sale"}]}}


async def test_create_product_with_tag_ids_links_them(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")
    eco = await create_tag(client, "Eco")
    variables = {"input": {"name": "Lamp", "tagIds": [sale["id"], eco["id"], sale["id"]]}}

    payload = (await gql_data(client, CREATE_PRODUCT, variables))["createProduct"]

    assert payload["userErrors"] == []
    assert payload["product"]["tags"] == {"nodes": [{"name": "Eco"}, {"name": "Sale"}]}


async def test_create_product_with_tag_ids_and_names_links_both(
    client: httpx.AsyncClient,
) -> None:
    sale = await create_tag(client, "Sale")
    variables = {"input": {"name": "Lamp", "tagIds": [sale["id"]], "tagNames": ["New", "SALE"]}}

    payload = (await gql_data(client, CREATE_PRODUCT, variables))["createProduct"]

    assert payload["userErrors"] == []
    assert await tag_names_of(client, payload["product"]["id"]) == ["New", "Sale"]


async def test_products_with_the_same_name_are_distinct(client: httpx.AsyncClient) -> None:
    first = await create_product(client, "Lamp")
    second = await create_product(client, "Lamp")

    assert first["id"] != second["id"]
    assert second["databaseId"] > first["databaseId"]


async def test_update_product_renames_it_and_moves_updated_at(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")
    before = await snapshot(client)

    variables = {"input": {"id": lamp["id"], "name": " Desk lamp "}}
    payload = (await gql_data(client, UPDATE_PRODUCT, variables))["updateProduct"]

    assert payload["userErrors"] == []
    product = payload["product"]
    assert product["id"] == lamp["id"]
    assert product["name"] == "Desk lamp"
    assert product["updatedAt"] > before["products"]["nodes"][0]["updatedAt"]
    assert product["createdAt"] < product["updatedAt"]
    after = await snapshot(client)
    assert [p["name"] for p in after["products"]["nodes"]] == ["Desk lamp"]


async def test_update_product_without_a_name_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    before = await snapshot(client)

    payload = (await gql_data(client, UPDATE_PRODUCT, {"input": {"id": lamp["id"]}}))[
        "updateProduct"
    ]

    assert payload["userErrors"] == []
    assert payload["product"]["name"] == "Lamp"
    assert await snapshot(client) == before


async def test_update_product_leaves_its_tags_alone(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])

    await gql_data(client, UPDATE_PRODUCT, {"input": {"id": lamp["id"], "name": "Desk lamp"}})

    assert await tag_names_of(client, lamp["id"]) == ["New", "Sale"]


async def test_delete_product_removes_it_and_its_links_but_not_its_tags(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug", ["Sale"])

    payload = (await gql_data(client, DELETE_PRODUCT, {"input": {"id": lamp["id"]}}))[
        "deleteProduct"
    ]

    assert payload == {"deletedId": lamp["id"], "userErrors": []}
    after = await gql_data(
        client,
        """
        query ($id: ID!) {
          node(id: $id) { id }
          tag(name: "Sale") { products { totalCount nodes { id } } }
        }
        """,
        {"id": lamp["id"]},
    )
    assert after["node"] is None
    assert after["tag"]["products"] == {"totalCount": 1, "nodes": [{"id": mug["id"]}]}


async def test_a_deleted_product_id_is_never_reused(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")
    await gql_data(client, DELETE_PRODUCT, {"input": {"id": lamp["id"]}})

    mug = await create_product(client, "Mug")

    assert mug["id"] != lamp["id"]
