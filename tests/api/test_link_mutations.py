"""The relation's mutations over HTTP: addTags, setTags, removeTags from the product side,
addProducts and removeProducts from the tag side. Each reports what it actually changed."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import add_tags, create_product, create_tag, gql_data, tag_names_of

PRODUCT_TAGS_PAYLOAD = """
  product { id tags { edges { priority node { name } } } }
  added { name }
  removed { name }
  userErrors { field message code }
"""

TAG_PRODUCTS_PAYLOAD = """
  tag { id products { edges { priority node { name } } } }
  added { name }
  removed { name }
  userErrors { field message code }
"""


def operation(name: str, input_type: str, payload: str) -> str:
    return f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ {payload} }} }}"


ADD_TAGS = operation("addTags", "AddTagsInput", PRODUCT_TAGS_PAYLOAD)
SET_TAGS = operation("setTags", "SetTagsInput", PRODUCT_TAGS_PAYLOAD)
REMOVE_TAGS = operation("removeTags", "RemoveTagsInput", PRODUCT_TAGS_PAYLOAD)
ADD_PRODUCTS = operation("addProducts", "AddProductsInput", TAG_PRODUCTS_PAYLOAD)
REMOVE_PRODUCTS = operation("removeProducts", "RemoveProductsInput", TAG_PRODUCTS_PAYLOAD)


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def edges(connection: dict[str, Any]) -> list[tuple[str, int]]:
    return [(edge["node"]["name"], edge["priority"]) for edge in connection["edges"]]


async def mutate(client: httpx.AsyncClient, mutation: str, **input: Any) -> dict[str, Any]:
    """Run one relation mutation and return its payload, which must have no userErrors."""
    data = await gql_data(client, mutation, {"input": input})
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload["userErrors"]
    result: dict[str, Any] = payload
    return result


# -- addTags -----------------------------------------------------------------------------


async def test_add_tags_by_name_creates_and_links_them(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagNames=["Sale", "New"])

    assert sorted(names(payload["added"])) == ["New", "Sale"]
    assert payload["removed"] == []
    assert edges(payload["product"]["tags"]) == [("New", 0), ("Sale", 0)]


async def test_add_tags_by_id_links_them(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")
    sale = await create_tag(client, "Sale")

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagIds=[sale["id"]])

    assert names(payload["added"]) == ["Sale"]
    assert await tag_names_of(client, lamp["id"]) == ["Sale"]


async def test_add_tags_is_idempotent(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagNames=["SALE", "New"])

    assert names(payload["added"]) == ["New"]  # Sale was already there
    assert edges(payload["product"]["tags"]) == [("New", 0), ("Sale", 0)]


async def test_add_tags_with_priority_orders_tags_highest_first(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Apple", "Zinc"])

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagNames=["Mango"], priority=5)

    assert names(payload["added"]) == ["Mango"]
    assert edges(payload["product"]["tags"]) == [("Mango", 5), ("Apple", 0), ("Zinc", 0)]


async def test_add_tags_with_priority_updates_existing_pairs_without_adding_them(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Apple", "Zinc"])

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagNames=["zinc"], priority=9)

    assert payload["added"] == []
    assert edges(payload["product"]["tags"]) == [("Zinc", 9), ("Apple", 0)]


async def test_add_tags_without_priority_keeps_existing_priorities(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")
    await add_tags(client, lamp["id"], ["Zinc"], priority=9)

    payload = await mutate(client, ADD_TAGS, productId=lamp["id"], tagNames=["Zinc", "Apple"])

    assert names(payload["added"]) == ["Apple"]
    assert edges(payload["product"]["tags"]) == [("Zinc", 9), ("Apple", 0)]


async def test_negative_priorities_sort_last(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Middle"])

    await add_tags(client, lamp["id"], ["Bottom"], priority=-3)
    await add_tags(client, lamp["id"], ["Top"], priority=3)

    assert await tag_names_of(client, lamp["id"]) == ["Top", "Middle", "Bottom"]


# -- setTags -----------------------------------------------------------------------------


async def test_set_tags_makes_the_tags_exactly_these(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New", "Eco"])
    gift = await create_tag(client, "Gift")

    payload = await mutate(
        client, SET_TAGS, productId=lamp["id"], tagIds=[gift["id"]], tagNames=["new", "Fresh"]
    )

    assert sorted(names(payload["added"])) == ["Fresh", "Gift"]
    assert sorted(names(payload["removed"])) == ["Eco", "Sale"]
    assert await tag_names_of(client, lamp["id"]) == ["Fresh", "Gift", "New"]


async def test_set_tags_keeps_the_priority_of_pairs_that_stay(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    await add_tags(client, lamp["id"], ["New"], priority=7)

    payload = await mutate(client, SET_TAGS, productId=lamp["id"], tagNames=["New", "Eco"])

    assert names(payload["added"]) == ["Eco"]
    assert names(payload["removed"]) == ["Sale"]
    assert edges(payload["product"]["tags"]) == [("New", 7), ("Eco", 0)]


async def test_set_tags_to_the_same_tags_changes_nothing(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])

    payload = await mutate(client, SET_TAGS, productId=lamp["id"], tagNames=["new", "sale"])

    assert payload["added"] == []
    assert payload["removed"] == []


async def test_set_tags_to_nothing_removes_every_tag(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])

    payload = await mutate(client, SET_TAGS, productId=lamp["id"], tagNames=[])

    assert sorted(names(payload["removed"])) == ["New", "Sale"]
    assert await tag_names_of(client, lamp["id"]) == []
    tags = await gql_data(client, "{ tags { totalCount } }")
    assert tags == {"tags": {"totalCount": 2}}  # unlinked, not deleted


# -- removeTags --------------------------------------------------------------------------


async def test_remove_tags_unlinks_them(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New", "Eco"])
    eco = (await gql_data(client, '{ tag(name: "Eco") { id } }'))["tag"]

    payload = await mutate(
        client, REMOVE_TAGS, productId=lamp["id"], tagIds=[eco["id"]], tagNames=["SALE"]
    )

    assert sorted(names(payload["removed"])) == ["Eco", "Sale"]
    assert payload["added"] == []
    assert edges(payload["product"]["tags"]) == [("New", 0)]


async def test_remove_tags_ignores_absent_links_and_unknown_names(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    await create_tag(client, "Unused")

    payload = await mutate(
        client, REMOVE_TAGS, productId=lamp["id"], tagNames=["Unused", "Never heard of it"]
    )

    assert payload["removed"] == []
    assert await tag_names_of(client, lamp["id"]) == ["Sale"]
    tag = await gql_data(client, '{ tag(name: "Never heard of it") { id } }')
    assert tag == {"tag": None}  # removing by name never creates a tag


# -- addProducts -------------------------------------------------------------------------


async def test_add_products_links_them_to_the_tag(client: httpx.AsyncClient) -> None:
    sale = await create_tag(client, "Sale")
    lamp = await create_product(client, "Lamp")
    mug = await create_product(client, "Mug")

    payload = await mutate(
        client, ADD_PRODUCTS, tagId=sale["id"], productIds=[mug["id"], lamp["id"], mug["id"]]
    )

    assert names(payload["added"]) == ["Lamp", "Mug"]
    assert payload["removed"] == []
    assert edges(payload["tag"]["products"]) == [("Lamp", 0), ("Mug", 0)]
    assert await tag_names_of(client, lamp["id"]) == ["Sale"]


async def test_add_products_is_idempotent(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug")
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]

    payload = await mutate(
        client, ADD_PRODUCTS, tagId=sale["id"], productIds=[lamp["id"], mug["id"]]
    )

    assert names(payload["added"]) == ["Mug"]


async def test_add_products_with_priority_sets_it_on_new_and_existing_pairs(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    mug = await create_product(client, "Mug")
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]

    payload = await mutate(
        client, ADD_PRODUCTS, tagId=sale["id"], productIds=[lamp["id"], mug["id"]], priority=4
    )

    assert names(payload["added"]) == ["Mug"]
    assert edges(payload["tag"]["products"]) == [("Lamp", 4), ("Mug", 4)]
    assert await tag_names_of(client, lamp["id"]) == ["Sale", "New"]  # Sale now comes first


# -- removeProducts ----------------------------------------------------------------------


async def test_remove_products_unlinks_them_and_ignores_absent_links(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    mug = await create_product(client, "Mug", ["Sale"])
    vase = await create_product(client, "Vase")
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]

    payload = await mutate(
        client, REMOVE_PRODUCTS, tagId=sale["id"], productIds=[lamp["id"], vase["id"]]
    )

    assert names(payload["removed"]) == ["Lamp"]
    assert payload["added"] == []
    assert edges(payload["tag"]["products"]) == [("Mug", 0)]
    assert await tag_names_of(client, lamp["id"]) == ["New"]
    assert await tag_names_of(client, mug["id"]) == ["Sale"]
