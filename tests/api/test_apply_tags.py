"""applyTags over HTTP: many products' tags in one transaction, all or nothing, results per
item, user errors that name the item and the tag, the 1,000-item limit, and a statement
count that does not grow with the items."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import strawberry
from graphql import coerce_input_value
from sqlalchemy import insert
from starlette.applications import Starlette

from db import data_version
from db.models import products, utcnow
from db.statements import record_statements
from schema import build_schema
from schema.compat import graphql_schema
from schema.inputs import ApplyTagsInput, ApplyTagsItem, LinkMode, TagLinkInput
from tests.api.conftest import (
    create_product,
    error_code,
    global_id,
    gql,
    gql_data,
    snapshot,
)

APPLY_TAGS = """
mutation ($input: ApplyTagsInput!) {
  applyTags(input: $input) {
    results {
      product { name }
      added { name } updated { name } removed { name }
    }
    userErrors { field message code }
  }
}
"""

TAGS_OF = """
{ products(first: 100) { nodes { name tags(first: 100) { edges { priority node { name } } } } } }
"""


async def apply(client: httpx.AsyncClient, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql_data(client, APPLY_TAGS, {"input": input}))["applyTags"]
    return payload


async def stored_tags(client: httpx.AsyncClient) -> dict[str, list[tuple[str, int]]]:
    """Every product's (tag, priority) pairs, in the API's order."""
    nodes = (await gql_data(client, TAGS_OF))["products"]["nodes"]
    return {
        p["name"]: [(e["node"]["name"], e["priority"]) for e in p["tags"]["edges"]] for p in nodes
    }


def summary(result: dict[str, Any]) -> tuple[str, list[str], list[str], list[str]]:
    return (
        result["product"]["name"],
        sorted(t["name"] for t in result["added"]),
        sorted(t["name"] for t in result["updated"]),
        sorted(t["name"] for t in result["removed"]),
    )


async def catalog(app: Starlette, size: int) -> list[str]:
    """`size` products (global ids), inserted in one statement to keep the arranging quick."""
    now = utcnow()
    rows = [{"name": f"Product {n}", "created_at": now, "updated_at": now} for n in range(size)]
    async with app.state.engine.connect() as session, session.begin():
        ids = (await session.execute(insert(products).returning(products.c.id), rows)).scalars()
        return [global_id("Product", i) for i in sorted(ids)]


async def test_apply_tags_adds_by_default_and_answers_per_item(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug")

    payload = await apply(
        client,
        items=[
            {"productId": lamp["id"], "tags": [{"name": "Sale", "priority": 5}, {"name": "New"}]},
            {"productId": mug["id"], "tags": [{"name": "new", "priority": 1}]},
        ],
    )

    assert payload["userErrors"] == []
    assert [summary(r) for r in payload["results"]] == [
        ("Lamp", ["New"], ["Sale"], []),
        ("Mug", ["New"], [], []),
    ]
    assert await stored_tags(client) == {
        "Lamp": [("Sale", 5), ("New", 0)],
        "Mug": [("New", 1)],
    }


async def test_apply_tags_set_mode_makes_each_products_tags_exactly_these(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "Old"])
    mug = await create_product(client, "Mug", ["Old"])
    await create_product(client, "Vase", ["Old"])

    payload = await apply(
        client,
        mode="SET",
        items=[
            {"productId": lamp["id"], "tags": [{"name": "Sale"}, {"name": "Eco", "priority": 2}]},
            {"productId": mug["id"], "tags": []},
        ],
    )

    assert [summary(r) for r in payload["results"]] == [
        ("Lamp", ["Eco"], [], ["Old"]),
        ("Mug", [], [], ["Old"]),
    ]
    assert await stored_tags(client) == {
        "Lamp": [("Eco", 2), ("Sale", 0)],
        "Mug": [],
        "Vase": [("Old", 0)],
    }


async def test_apply_tags_remove_mode_unlinks_and_never_creates(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])

    payload = await apply(
        client,
        mode="REMOVE",
        items=[{"productId": lamp["id"], "tags": [{"name": "SALE"}, {"name": "Nowhere"}]}],
    )

    assert [summary(r) for r in payload["results"]] == [("Lamp", [], [], ["Sale"])]
    assert (await gql_data(client, '{ tag(name: "Nowhere") { id } }')) == {"tag": None}


async def test_a_dry_run_answers_the_same_and_writes_nothing(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "Old"])
    mug = await create_product(client, "Mug")
    items = [
        {"productId": lamp["id"], "tags": [{"name": "Sale", "priority": 3}, {"name": "Fresh"}]},
        {"productId": mug["id"], "tags": [{"name": "Fresh"}]},
    ]
    before = await snapshot(client)
    async with app.state.engine.connect() as session:
        version = await data_version.current(session)

    dry = await apply(client, items=items, mode="SET", dryRun=True)

    assert await snapshot(client) == before
    async with app.state.engine.connect() as session:
        assert await data_version.current(session) == version
    real = await apply(client, items=items, mode="SET")
    assert [summary(r) for r in dry["results"]] == [summary(r) for r in real["results"]]
    assert [summary(r) for r in real["results"]] == [
        ("Lamp", ["Fresh"], ["Sale"], ["Old"]),
        ("Mug", ["Fresh"], [], []),
    ]


@pytest.mark.parametrize(
    ("item", "field", "code"),
    [
        ({"tags": [{"name": "Fine"}, {"name": "x" * 65}]}, ["tags", "1", "name"], "INVALID"),
        ({"tags": [{"name": "Fine"}, {"name": "A", "id": "<tag>"}]}, ["tags", "1", "name"], None),
        ({"tags": [{"priority": 1}]}, ["tags", "0", "id"], "INVALID"),
        ({"tags": [{"id": "VGFnOjk5OQ=="}]}, ["tags", "0", "id"], "NOT_FOUND"),
        ({"tags": [{"id": "garbage"}]}, ["tags", "0", "id"], "INVALID"),
        ({"productId": "UHJvZHVjdDo5OTk=", "tags": []}, ["productId"], "NOT_FOUND"),
        ({"productId": "garbage", "tags": []}, ["productId"], "INVALID"),
        ({"productId": "<lamp>", "tags": []}, ["productId"], "INVALID"),  # twice
    ],
    ids=[
        "long-name",
        "id-and-name",
        "neither",
        "unknown-tag",
        "bad-tag-id",
        "unknown-product",
        "bad-product-id",
        "product-twice",
    ],
)
async def test_a_bad_item_is_a_user_error_naming_item_and_tag_and_nothing_is_written(
    client: httpx.AsyncClient, item: dict[str, Any], field: list[str], code: str | None
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    mug = await create_product(client, "Mug")
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]["id"]
    third: dict[str, Any] = {"productId": mug["id"], **item}
    if third["productId"] == "<lamp>":
        third["productId"] = lamp["id"]
    third["tags"] = [
        {k: sale if v == "<tag>" else v for k, v in link.items()} for link in third["tags"]
    ]
    items = [
        {"productId": lamp["id"], "tags": [{"name": "Brand new"}]},
        {"productId": mug["id"], "tags": [{"name": "Other"}]} if "productId" in item else {},
        third,
    ]
    items = [i for i in items if i]
    index = str(len(items) - 1)
    before = await snapshot(client)

    payload = await apply(client, items=items)

    [error] = payload["userErrors"]
    assert error["field"] == ["input", "items", index, *field], error
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    assert payload["results"] == []
    assert await snapshot(client) == before


async def test_more_than_1000_items_are_refused_before_any_sql(client: httpx.AsyncClient) -> None:
    items = [{"productId": "UHJvZHVjdDox", "tags": [{"name": "Sale"}]}] * 1001

    with record_statements() as log:
        body = await gql(client, APPLY_TAGS, {"input": {"items": items}})

    assert error_code(body) == "MAX_ITEMS_EXCEEDED"
    assert "1000" in body["errors"][0]["message"]
    assert log.count == 0


async def test_more_than_100_tags_in_one_item_are_refused_before_any_sql(
    client: httpx.AsyncClient,
) -> None:
    tags = [{"name": f"Tag {n}"} for n in range(101)]

    with record_statements() as log:
        body = await gql(
            client, APPLY_TAGS, {"input": {"items": [{"productId": "UHJvZHVjdDox", "tags": tags}]}}
        )

    assert error_code(body) == "MAX_ITEMS_EXCEEDED"
    assert log.count == 0


# lock the products, create and read the names, the products' links, [delete], update,
# insert, the data version; then the payload: its products, its tags (one statement each).
# REMOVE creates no names and deletes by key without reading the links first.
STATEMENTS = {"ADD": 9, "SET": 10, "REMOVE": 6}
# The data version and the change log's entries are one statement on PostgreSQL and two on
# SQLite, which has no data-modifying CTE (db.changes.commit_entries).
LOG_ON_SQLITE = 1


@pytest.mark.parametrize("mode", STATEMENTS)
async def test_apply_tags_costs_the_same_statements_for_1_and_1000_items(
    client: httpx.AsyncClient, app: Starlette, mode: str, backend: str
) -> None:
    product_ids = await catalog(app, 1001)
    for ids in (product_ids[:1], product_ids[1:]):
        old = [{"productId": p, "tags": [{"name": "Old"}, {"name": "Sale"}]} for p in ids]
        assert (await apply(client, items=old))["userErrors"] == []
    counts = []
    for ids in (product_ids[:1], product_ids[1:]):
        items = [
            {
                "productId": p,
                "tags": [{"name": "Sale", "priority": 2}, {"name": "New"}, {"name": f"Own {p}"}],
            }
            for p in ids
        ]
        with record_statements() as log:
            payload = await apply(client, items=items, mode=mode)
        counts.append(log.count)
        assert payload["userErrors"] == []
        assert len(payload["results"]) == len(ids)
        removed = {"ADD": [], "SET": ["Old"], "REMOVE": ["Sale"]}[mode]
        for result in payload["results"]:
            assert [t["name"] for t in result["removed"]] == removed
            if mode != "REMOVE":
                assert (len(result["added"]), len(result["updated"])) == (2, 1)
    print(f"applyTags {mode}: {counts[0]} statements for 1 item, {counts[1]} for 1,000")
    expected = STATEMENTS[mode] + (LOG_ON_SQLITE if backend == "sqlite" else 0)
    assert counts[0] == counts[1] == expected


COLOURS = ["Red", "Green", "Blue", "Cyan", "Magenta", "Yellow", "Black", "White"]


@pytest.mark.postgres_only
async def test_20_concurrent_apply_tags_of_overlapping_products_and_new_names(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    """No duplicate tag, no lost or duplicated link, every request answered without error."""
    product_ids = await catalog(app, 10)
    requests = []
    for n in range(20):
        items = []
        for k in range(5):
            product = (n + 2 * k) % 10
            colours = [COLOURS[(n + k + j) % 8] for j in range(3)]
            spelled = [
                c.upper() if (n + j) % 2 else f" {c.lower()} " for j, c in enumerate(colours)
            ]
            tags = [
                {"name": s, "priority": (product + COLOURS.index(c)) % 5}
                for s, c in zip(spelled, colours, strict=True)
            ]
            items.append({"productId": product_ids[product], "tags": tags})
        requests.append(items)

    responses = await asyncio.gather(
        *(
            client.post(
                "/graphql", json={"query": APPLY_TAGS, "variables": {"input": {"items": i}}}
            )
            for i in requests
        )
    )

    assert [r.status_code for r in responses] == [200] * 20
    bodies = [r.json() for r in responses]
    assert [b.get("errors") for b in bodies] == [None] * 20, bodies
    assert all(b["data"]["applyTags"]["userErrors"] == [] for b in bodies)
    tags = (await gql_data(client, "{ tags(first: 100) { nodes { name } } }"))["tags"]["nodes"]
    assert sorted(t["name"].casefold() for t in tags) == sorted(c.casefold() for c in COLOURS)
    wanted: dict[tuple[str, str], int] = {}
    for items in requests:
        for item in items:
            name = product_ids.index(item["productId"])
            for tag in item["tags"]:
                wanted[(f"Product {name}", tag["name"].strip().casefold())] = tag["priority"]
    stored = await stored_tags(client)
    links = {(p, t.casefold()): priority for p, pairs in stored.items() for t, priority in pairs}
    assert sum(len(pairs) for pairs in stored.values()) == len(links)  # no duplicates
    assert links == wanted
    added = [
        (r["product"]["name"], t["name"].casefold())
        for b in bodies
        for r in b["data"]["applyTags"]["results"]
        for t in r["added"]
    ]
    assert sorted(added) == sorted(links), "each link is reported added exactly once"


def test_apply_tags_input_is_built_by_its_own_plain_walk() -> None:
    """The installed Strawberry takes the builder (else the speed-up is silently off), and
    the builder makes what Strawberry's generic conversion makes."""
    schema = build_schema()
    coerced = coerce_input_value(
        {
            "items": [{"productId": "x", "tags": [{"name": "a", "priority": 1}, {"id": "y"}]}],
            "mode": "SET",
            "dryRun": True,
        },
        graphql_schema(schema).type_map["ApplyTagsInput"],
    )
    from_input = ApplyTagsInput.__strawberry_definition__.from_input  # type: ignore[attr-defined]

    assert from_input is not None
    assert from_input(ApplyTagsInput, coerced, None) == ApplyTagsInput(
        items=[
            ApplyTagsItem(
                product_id=strawberry.ID("x"),
                tags=[TagLinkInput(name="a", priority=1), TagLinkInput(id=strawberry.ID("y"))],
            )
        ],
        mode=LinkMode.SET,
        dry_run=True,
    )
