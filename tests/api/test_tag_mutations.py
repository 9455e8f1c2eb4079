"""createTag, updateTag and deleteTag over HTTP."""

from __future__ import annotations

import httpx

from tests.api.conftest import create_product, create_tag, gql_data, tag_names_of

CREATE_TAG = """
mutation ($input: CreateTagInput!) {
  createTag(input: $input) { tag { id databaseId name createdAt } userErrors { code } }
}
"""

UPDATE_TAG = """
mutation ($input: UpdateTagInput!) {
  updateTag(input: $input) { tag { id name } userErrors { field message code } }
}
"""

DELETE_TAG = """
mutation ($input: DeleteInput!) {
  deleteTag(input: $input) { deletedId userErrors { field message code } }
}
"""


async def test_create_tag_trims_the_name_and_keeps_its_case(client: httpx.AsyncClient) -> None:
    payload = (await gql_data(client, CREATE_TAG, {"input": {"name": "  Summer Sale "}}))[
        "createTag"
    ]

    assert payload["userErrors"] == []
    tag = payload["tag"]
    assert tag["name"] == "Summer Sale"
    assert tag["createdAt"].endswith("+00:00")
    found = await gql_data(client, '{ tag(name: "summer sale") { id } }')
    assert found == {"tag": {"id": tag["id"]}}


async def test_create_tag_accepts_a_name_of_64_characters(client: httpx.AsyncClient) -> None:
    name = "x" * 64

    payload = (await gql_data(client, CREATE_TAG, {"input": {"name": name}}))["createTag"]

    assert payload["userErrors"] == []
    assert payload["tag"]["name"] == name


async def test_tag_names_are_compared_after_unicode_normalization(
    client: httpx.AsyncClient,
) -> None:
    decomposed = await create_tag(client, "Cafe\u0301")  # "e" + combining acute accent

    found = await gql_data(client, '{ tag(name: "CAF\u00c9") { id name } }')
    again = await gql_data(client, CREATE_TAG, {"input": {"name": "caf\u00e9"}})

    assert found == {"tag": {"id": decomposed["id"], "name": "Caf\u00e9"}}
    assert again["createTag"] == {"tag": None, "userErrors": [{"code": "CONFLICT"}]}


async def test_update_tag_renames_it(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")

    payload = (await gql_data(client, UPDATE_TAG, {"input": {"id": sale["id"], "name": "Promo"}}))[
        "updateTag"
    ]

    assert payload == {"tag": {"id": sale["id"], "name": "Promo"}, "userErrors": []}
    tags = await gql_data(client, "{ tags { nodes { name } } }")
    assert tags == {"tags": {"nodes": [{"name": "Promo"}]}}


async def test_update_tag_may_change_only_the_case_of_its_own_name(
    client: httpx.AsyncClient,
) -> None:
    sale = await create_tag(client, "sale")

    payload = (await gql_data(client, UPDATE_TAG, {"input": {"id": sale["id"], "name": "SALE"}}))[
        "updateTag"
    ]

    assert payload == {"tag": {"id": sale["id"], "name": "SALE"}, "userErrors": []}


async def test_a_renamed_tag_is_found_by_its_new_name_only(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")

    await gql_data(client, UPDATE_TAG, {"input": {"id": sale["id"], "name": "Promo"}})

    found = await gql_data(
        client, '{ old: tag(name: "sale") { id } new: tag(name: "PROMO") { id } }'
    )
    assert found == {"old": None, "new": {"id": sale["id"]}}


async def test_update_tag_keeps_its_products(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]

    await gql_data(client, UPDATE_TAG, {"input": {"id": sale["id"], "name": "Promo"}})

    assert await tag_names_of(client, lamp["id"]) == ["Promo"]


async def test_delete_tag_removes_it_from_every_product(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    mug = await create_product(client, "Mug", ["Sale"])
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]

    payload = (await gql_data(client, DELETE_TAG, {"input": {"id": sale["id"]}}))["deleteTag"]

    assert payload == {"deletedId": sale["id"], "userErrors": []}
    assert await tag_names_of(client, lamp["id"]) == ["New"]
    assert await tag_names_of(client, mug["id"]) == []
    gone = await gql_data(client, "query ($id: ID!) { node(id: $id) { id } }", {"id": sale["id"]})
    assert gone == {"node": None}


async def test_a_deleted_tag_name_can_be_created_again(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")
    await gql_data(client, DELETE_TAG, {"input": {"id": sale["id"]}})

    again = await create_tag(client, "sale")

    assert again["id"] != sale["id"]
    assert again["name"] == "sale"
