"""Links with their columns over HTTP: TagLinkInput and ProductLinkInput, `updated` in the
payloads, setProducts, and dryRun on every link mutation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from db import data_version
from tests.api.conftest import (
    add_tags,
    create_product,
    create_tag,
    gql_data,
    snapshot,
)

PRODUCT_TAGS_PAYLOAD = """
  product { id tags { edges { priority node { name } } } }
  added { name } updated { name } removed { name }
  userErrors { field message code }
"""
TAG_PRODUCTS_PAYLOAD = """
  tag { id products { edges { priority node { name } } } }
  added { name } updated { name } removed { name }
  userErrors { field message code }
"""


def operation(name: str, input_type: str, payload: str) -> str:
    return f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ {payload} }} }}"


ADD_TAGS = operation("addTags", "AddTagsInput", PRODUCT_TAGS_PAYLOAD)
SET_TAGS = operation("setTags", "SetTagsInput", PRODUCT_TAGS_PAYLOAD)
REMOVE_TAGS = operation("removeTags", "RemoveTagsInput", PRODUCT_TAGS_PAYLOAD)
ADD_PRODUCTS = operation("addProducts", "AddProductsInput", TAG_PRODUCTS_PAYLOAD)
SET_PRODUCTS = operation("setProducts", "SetProductsInput", TAG_PRODUCTS_PAYLOAD)
REMOVE_PRODUCTS = operation("removeProducts", "RemoveProductsInput", TAG_PRODUCTS_PAYLOAD)
CREATE_PRODUCT = operation(
    "createProduct",
    "CreateProductInput",
    "product { tags { edges { priority node { name } } } } userErrors { field message code }",
)


async def payload_of(client: httpx.AsyncClient, mutation: str, **input: Any) -> dict[str, Any]:
    data = await gql_data(client, mutation, {"input": input})
    (payload,) = data.values()
    result: dict[str, Any] = payload
    return result


async def mutate(client: httpx.AsyncClient, mutation: str, **input: Any) -> dict[str, Any]:
    payload = await payload_of(client, mutation, **input)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


def names(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item["name"] for item in items)


def edges(connection: dict[str, Any]) -> list[tuple[str, int]]:
    return [(edge["node"]["name"], edge["priority"]) for edge in connection["edges"]]


async def tag_id(client: httpx.AsyncClient, name: str) -> str:
    data = await gql_data(client, "query ($n: String!) { tag(name: $n) { id } }", {"n": name})
    found: str = data["tag"]["id"]
    return found


# -- TagLinkInput ------------------------------------------------------------------------------


async def test_add_tags_gives_each_link_its_own_priority(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")
    sale = await create_tag(client, "Sale")

    payload = await mutate(
        client,
        ADD_TAGS,
        productId=lamp["id"],
        tags=[{"id": sale["id"], "priority": 5}, {"name": "New"}, {"name": "Eco", "priority": -1}],
    )

    assert names(payload["added"]) == ["Eco", "New", "Sale"]
    assert edges(payload["product"]["tags"]) == [("Sale", 5), ("New", 0), ("Eco", -1)]


async def test_add_tags_reports_links_whose_priority_changed_as_updated(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])

    payload = await mutate(
        client,
        ADD_TAGS,
        productId=lamp["id"],
        tags=[{"name": "sale", "priority": 3}, {"name": "New"}, {"name": "Eco", "priority": 1}],
    )

    assert names(payload["added"]) == ["Eco"]
    assert names(payload["updated"]) == ["Sale"]
    assert payload["removed"] == []
    assert edges(payload["product"]["tags"]) == [("Sale", 3), ("Eco", 1), ("New", 0)]


async def test_shorthands_and_links_mix_and_priority_is_the_default_for_all(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")

    payload = await mutate(
        client,
        ADD_TAGS,
        productId=lamp["id"],
        tagNames=["Plain"],
        tags=[{"name": "Own", "priority": 9}, {"name": "Default"}],
        priority=2,
    )

    assert edges(payload["product"]["tags"]) == [("Own", 9), ("Default", 2), ("Plain", 2)]


async def test_set_tags_with_priorities_updates_the_links_that_stay(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "Old"])
    await add_tags(client, lamp["id"], ["Kept"], priority=4)

    payload = await mutate(
        client,
        SET_TAGS,
        productId=lamp["id"],
        tags=[{"name": "Sale", "priority": 8}, {"name": "Kept"}, {"name": "New", "priority": 1}],
    )

    assert names(payload["added"]) == ["New"]
    assert names(payload["updated"]) == ["Sale"]
    assert names(payload["removed"]) == ["Old"]
    assert edges(payload["product"]["tags"]) == [("Sale", 8), ("Kept", 4), ("New", 1)]


async def test_create_product_with_tag_links_and_their_priorities(
    client: httpx.AsyncClient,
) -> None:
    payload = await mutate(
        client,
        CREATE_PRODUCT,
        name="Lamp",
        tags=[{"name": "Sale", "priority": 2}, {"name": "New"}],
    )

    assert edges(payload["product"]["tags"]) == [("Sale", 2), ("New", 0)]


async def test_remove_tags_takes_tag_links(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New", "Eco"])
    eco = await tag_id(client, "Eco")

    payload = await mutate(
        client, REMOVE_TAGS, productId=lamp["id"], tags=[{"id": eco}, {"name": "SALE"}]
    )

    assert names(payload["removed"]) == ["Eco", "Sale"]
    assert edges(payload["product"]["tags"]) == [("New", 0)]


@pytest.mark.parametrize(
    ("link", "field"),
    [
        ({"name": "Sale", "id": "<sale>"}, "name"),
        ({"priority": 3}, "id"),
        ({"id": "not-an-id"}, "id"),
        ({"id": "<lamp>"}, "id"),
        ({"id": "<tag:999>"}, "id"),
        ({"name": "x" * 65}, "name"),
        ({"name": "  "}, "name"),
    ],
    ids=["both", "neither", "malformed", "a-product-id", "unknown", "too-long", "blank"],
)
async def test_a_bad_tag_link_is_a_user_error_naming_it_and_changes_nothing(
    client: httpx.AsyncClient, link: dict[str, Any], field: str
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    ids = {"<sale>": await tag_id(client, "Sale"), "<lamp>": lamp["id"]}
    ids["<tag:999>"] = "VGFnOjk5OQ=="  # Tag:999
    bad = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in link.items()}
    before = await snapshot(client)

    for mutation in (ADD_TAGS, SET_TAGS):
        payload = await payload_of(
            client, mutation, productId=lamp["id"], tags=[{"name": "Fresh"}, bad]
        )

        [error] = payload["userErrors"]
        assert error["field"] == ["input", "tags", "1", field]
        assert error["code"] in {"INVALID", "NOT_FOUND"}
        assert payload["product"] is None
        assert await snapshot(client) == before


async def test_one_tag_linked_twice_with_two_priorities_is_invalid(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")

    payload = await payload_of(
        client,
        ADD_TAGS,
        productId=lamp["id"],
        tags=[{"name": "Sale", "priority": 1}, {"name": "SALE", "priority": 2}],
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "tags", "1", "priority"], "INVALID")
    ]


# -- ProductLinkInput, setProducts ---------------------------------------------------------------


async def test_add_products_gives_each_link_its_own_priority(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug")
    sale = await tag_id(client, "Sale")

    payload = await mutate(
        client,
        ADD_PRODUCTS,
        tagId=sale,
        products=[{"id": lamp["id"], "priority": 4}, {"id": mug["id"]}],
    )

    assert names(payload["added"]) == ["Mug"]
    assert names(payload["updated"]) == ["Lamp"]
    assert edges(payload["tag"]["products"]) == [("Lamp", 4), ("Mug", 0)]


async def test_set_products_makes_the_tags_products_exactly_these(
    client: httpx.AsyncClient,
) -> None:
    await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug", ["Sale"])
    vase = await create_product(client, "Vase")
    sale = await tag_id(client, "Sale")

    payload = await mutate(
        client,
        SET_PRODUCTS,
        tagId=sale,
        productIds=[vase["id"]],
        products=[{"id": mug["id"], "priority": 6}],
    )

    assert names(payload["added"]) == ["Vase"]
    assert names(payload["updated"]) == ["Mug"]
    assert names(payload["removed"]) == ["Lamp"]
    assert edges(payload["tag"]["products"]) == [("Mug", 6), ("Vase", 0)]


async def test_set_products_errors_name_the_link(client: httpx.AsyncClient) -> None:
    mug = await create_product(client, "Mug", ["Sale"])
    sale = await tag_id(client, "Sale")
    before = await snapshot(client)

    payload = await payload_of(
        client,
        SET_PRODUCTS,
        tagId=sale,
        products=[{"id": mug["id"]}, {"id": "UHJvZHVjdDo5OTk="}],  # Product:999
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "products", "1", "id"], "NOT_FOUND")
    ]
    assert await snapshot(client) == before


async def test_remove_products_takes_product_links(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    await create_product(client, "Mug", ["Sale"])
    sale = await tag_id(client, "Sale")

    payload = await mutate(client, REMOVE_PRODUCTS, tagId=sale, products=[{"id": lamp["id"]}])

    assert names(payload["removed"]) == ["Lamp"]
    assert edges(payload["tag"]["products"]) == [("Mug", 0)]


# -- dryRun ----------------------------------------------------------------------------------


async def version(app: Starlette) -> int:
    async with app.state.engine.connect() as session:
        return await data_version.current(session)


def changes(payload: dict[str, Any]) -> dict[str, list[str]]:
    return {key: names(payload[key]) for key in ("added", "updated", "removed")}


async def test_dry_run_answers_what_each_link_mutation_would_change_and_writes_nothing(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "Old"])
    mug = await create_product(client, "Mug", ["Sale"])
    sale = await tag_id(client, "Sale")
    cases: list[tuple[str, dict[str, Any]]] = [
        (
            ADD_TAGS,
            {"productId": lamp["id"], "tags": [{"name": "Sale", "priority": 2}, {"name": "New"}]},
        ),
        (SET_TAGS, {"productId": lamp["id"], "tagNames": ["Fresh", "Sale"]}),
        (REMOVE_TAGS, {"productId": lamp["id"], "tagNames": ["Fresh"]}),
        (ADD_PRODUCTS, {"tagId": sale, "products": [{"id": lamp["id"], "priority": 7}]}),
        (SET_PRODUCTS, {"tagId": sale, "productIds": [lamp["id"]]}),
        (REMOVE_PRODUCTS, {"tagId": sale, "productIds": [lamp["id"], mug["id"]]}),
    ]
    for mutation, input in cases:
        before, before_version = await snapshot(client), await version(app)

        dry = await mutate(client, mutation, **input, dryRun=True)

        assert await snapshot(client) == before
        assert await version(app) == before_version
        real = await mutate(client, mutation, **input)
        assert changes(dry) == changes(real)
        assert any(changes(dry).values()), changes(dry)


async def test_a_refused_dry_run_reports_the_same_user_errors(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")

    payload = await payload_of(
        client, ADD_TAGS, productId=lamp["id"], tags=[{"name": ""}], dryRun=True
    )

    assert [e["field"] for e in payload["userErrors"]] == [["input", "tags", "0", "name"]]
