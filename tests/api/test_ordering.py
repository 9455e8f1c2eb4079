"""orderBy on every connection, read forwards (first/after) and backwards (last/before).

Every order is checked against the same order computed here in Python from the fields the
API returns: names case-folded, by code point; ties by databaseId ascending. Names
mix case and non-ASCII letters, several rows share a priority or a timestamp (the tags of
one write share their addedAt and createdAt), so every tie-break is exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.api.conftest import add_tags, create_product, error_code, gql, gql_data
from tests.api.paging import PRODUCT_TAGS, PRODUCTS, TAG_PRODUCTS, TAGS, connection_at, walk

# Mixed case (with names equal but for case), accents, a non-Latin script and an emoji:
# code point order differs from any locale's, and both databases must compare bytes.
PRODUCT_NAMES = [
    "lamp",
    "Lamp",
    "Ölkanne",
    "apple",
    "Zebra",
    "édredon",
    "Äpfel",
    "Лампа",
    "🍎",
    "Lamp",
]
TAG_NAMES = ["sale", "Éco", "new", "Zap", "ärger", "Beta", "ünder", "Ωmega", "alpha"]

Key = Callable[[dict[str, Any]], Any]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def ordered(edges: list[dict[str, Any]], key: Key, descending: bool) -> list[int]:
    """databaseIds sorted by `key` (descending when asked), ties by databaseId ascending
    (Python's sort is stable, also in reverse)."""
    by_id = sorted(edges, key=lambda e: e["node"]["databaseId"])
    return [e["node"]["databaseId"] for e in sorted(by_id, key=key, reverse=descending)]


def by_priority_then_name(edges: list[dict[str, Any]], descending: bool) -> list[int]:
    """Product.tags by PRIORITY: ties by name ascending, then databaseId."""
    by_name = sorted(edges, key=lambda e: (fold(e["node"]["name"]), e["node"]["databaseId"]))
    return [
        e["node"]["databaseId"]
        for e in sorted(by_name, key=lambda e: e["priority"], reverse=descending)
    ]


def ids(edges: list[dict[str, Any]]) -> list[int]:
    return [e["node"]["databaseId"] for e in edges]


def fold(name: str) -> str:
    """The key names sort by (db.names.fold); for the names here, plain case folding."""
    return name.casefold()


PRODUCT_ORDERS: dict[str, Key] = {
    "DATABASE_ID": lambda e: e["node"]["databaseId"],
    "NAME": lambda e: fold(e["node"]["name"]),
    "CREATED_AT": lambda e: when(e["node"]["createdAt"]),
}
TAG_ORDERS: dict[str, Key] = {
    "NAME": lambda e: fold(e["node"]["name"]),
    "DATABASE_ID": lambda e: e["node"]["databaseId"],
    "CREATED_AT": lambda e: when(e["node"]["createdAt"]),
}
PRODUCT_TAG_ORDERS: dict[str, Key] = {
    "PRIORITY": lambda e: e["priority"],
    "NAME": lambda e: fold(e["node"]["name"]),
    "ADDED_AT": lambda e: when(e["addedAt"]),
}
TAG_PRODUCT_ORDERS: dict[str, Key] = {
    "DATABASE_ID": lambda e: e["node"]["databaseId"],
    "NAME": lambda e: fold(e["node"]["name"]),
    "PRIORITY": lambda e: e["priority"],
    "ADDED_AT": lambda e: when(e["addedAt"]),
}


async def tagged_catalog(client: httpx.AsyncClient) -> tuple[str, str]:
    """Products and tags with shared priorities and timestamps; (a product id, a tag id)."""
    lamp = await create_product(client, "Desk lamp", TAG_NAMES[:3])
    await add_tags(client, lamp["id"], TAG_NAMES[3:6], priority=5)
    await add_tags(client, lamp["id"], TAG_NAMES[6:], priority=-2)
    await add_tags(client, lamp["id"], ["Beta"], priority=0)  # a tie with the first three
    products = [await create_product(client, name, ["sale"]) for name in PRODUCT_NAMES]
    for number, product in enumerate(products):
        await add_tags(client, product["id"], ["sale"], priority=number % 3)
    sale = await gql_data(client, '{ tag(name: "sale") { id } }')
    return lamp["id"], sale["tag"]["id"]


def with_order(field: str, direction: str | None) -> dict[str, Any]:
    return {"field": field} if direction is None else {"field": field, "direction": direction}


def is_descending(field: str, direction: str | None) -> bool:
    return direction == "DESC" or (direction is None and field == "PRIORITY")


CONNECTIONS: dict[str, tuple[str, dict[str, Key]]] = {
    "products": (PRODUCTS, PRODUCT_ORDERS),
    "tags": (TAGS, TAG_ORDERS),
    "Product.tags": (PRODUCT_TAGS, PRODUCT_TAG_ORDERS),
    "Tag.products": (TAG_PRODUCTS, TAG_PRODUCT_ORDERS),
}


@pytest.mark.parametrize("connection", CONNECTIONS)
async def test_every_order_pages_the_same_forwards_and_backwards(
    client: httpx.AsyncClient, connection: str
) -> None:
    lamp, sale = await tagged_catalog(client)
    query, orders = CONNECTIONS[connection]
    variables = {"Product.tags": {"id": lamp}, "Tag.products": {"id": sale}}.get(connection, {})
    everything = connection_at(await gql_data(client, query, {**variables, "first": 100}))
    assert everything["totalCount"] == len(everything["edges"]) >= 9

    for field, key in orders.items():
        for direction in ("ASC", "DESC", None):
            order = with_order(field, direction)
            descending = is_descending(field, direction)
            if connection == "Product.tags" and field == "PRIORITY":
                expected = by_priority_then_name(everything["edges"], descending)
            else:
                expected = ordered(everything["edges"], key, descending)

            forward, pages = await walk(client, query, 2, orderBy=order, **variables)
            backward, _ = await walk(client, query, 3, backward=True, orderBy=order, **variables)

            assert ids(forward) == expected, order
            assert ids(backward) == expected, order
            assert pages == -(-len(expected) // 2)


async def test_the_default_orders_are_the_documented_ones(client: httpx.AsyncClient) -> None:
    lamp, sale = await tagged_catalog(client)

    for query, variables, key, descending in [
        (PRODUCTS, {}, PRODUCT_ORDERS["DATABASE_ID"], False),
        (TAGS, {}, TAG_ORDERS["NAME"], False),
        (PRODUCT_TAGS, {"id": lamp}, None, True),
        (TAG_PRODUCTS, {"id": sale}, TAG_PRODUCT_ORDERS["DATABASE_ID"], False),
    ]:
        edges, _ = await walk(client, query, 4, **variables)
        if key is None:
            expected = by_priority_then_name(edges, descending=True)
        else:
            expected = ordered(edges, key, descending)
        assert ids(edges) == expected, query


async def test_last_and_before_page_from_the_end(client: httpx.AsyncClient) -> None:
    for name in ["A", "B", "C", "D", "E"]:
        await create_product(client, name)
    query = PRODUCTS

    last_two = connection_at(await gql_data(client, query, {"last": 2}))
    before = last_two["pageInfo"]["startCursor"]
    previous = connection_at(await gql_data(client, query, {"last": 2, "before": before}))
    first = connection_at(
        await gql_data(client, query, {"last": 2, "before": previous["pageInfo"]["startCursor"]})
    )

    assert [e["node"]["name"] for e in last_two["edges"]] == ["D", "E"]
    assert last_two["pageInfo"]["hasPreviousPage"] is True
    assert last_two["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["name"] for e in previous["edges"]] == ["B", "C"]
    assert previous["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in first["edges"]] == ["A"]
    assert first["pageInfo"]["hasPreviousPage"] is False


async def test_after_and_before_together_bound_the_page(client: httpx.AsyncClient) -> None:
    for name in ["A", "B", "C", "D", "E", "F"]:
        await create_product(client, name)
    edges = connection_at(await gql_data(client, PRODUCTS))["edges"]
    after, before = edges[0]["cursor"], edges[5]["cursor"]

    forward = connection_at(
        await gql_data(client, PRODUCTS, {"first": 10, "after": after, "before": before})
    )
    backward = connection_at(
        await gql_data(client, PRODUCTS, {"last": 2, "after": after, "before": before})
    )

    assert [e["node"]["name"] for e in forward["edges"]] == ["B", "C", "D", "E"]
    assert forward["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["name"] for e in backward["edges"]] == ["D", "E"]
    assert backward["pageInfo"]["hasPreviousPage"] is True


async def test_a_cursor_of_another_order_is_invalid(client: httpx.AsyncClient) -> None:
    lamp, sale = await tagged_catalog(client)

    for query, variables, made_with, used_with in [
        (PRODUCTS, {}, {"field": "NAME"}, {"field": "CREATED_AT"}),
        (PRODUCTS, {}, {"field": "NAME"}, {"field": "NAME", "direction": "DESC"}),
        (TAGS, {}, None, {"field": "DATABASE_ID"}),
        (PRODUCT_TAGS, {"id": lamp}, None, {"field": "NAME"}),
        (TAG_PRODUCTS, {"id": sale}, {"field": "PRIORITY"}, None),
    ]:
        page = connection_at(
            await gql_data(client, query, {**variables, "first": 1, "orderBy": made_with})
        )
        cursor = page["pageInfo"]["endCursor"]
        for argument in ("after", "before"):
            body = await gql(client, query, {**variables, argument: cursor, "orderBy": used_with})

            assert error_code(body) == "INVALID", body
            message = body["errors"][0]["message"]
            assert message.startswith(f"`{argument}`: this cursor was made for orderBy"), message
            assert body["data"] is None or connection_is_absent(body["data"])


def connection_is_absent(data: dict[str, Any]) -> bool:
    return all(value is None or all(v is None for v in value.values()) for value in data.values())


async def test_a_cursor_of_another_connection_is_bad_input(client: httpx.AsyncClient) -> None:
    lamp, _sale = await tagged_catalog(client)
    tag_cursor = connection_at(await gql_data(client, TAGS, {"first": 1}))["pageInfo"]["endCursor"]

    body = await gql(client, PRODUCT_TAGS, {"id": lamp, "after": tag_cursor})

    assert error_code(body) == "BAD_USER_INPUT"
    assert "is not a cursor of Product.tags" in body["errors"][0]["message"]


@pytest.mark.parametrize("query", [PRODUCTS, TAGS, PRODUCT_TAGS, TAG_PRODUCTS])
async def test_first_together_with_last_is_refused(client: httpx.AsyncClient, query: str) -> None:
    lamp, sale = await tagged_catalog(client)
    variables = {"id": lamp if query is PRODUCT_TAGS else sale} if "$id" in query else {}

    body = await gql(client, query, {**variables, "first": 2, "last": 2})

    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "Give `first` or `last`, not both"


async def test_last_has_the_limit_of_first(client: httpx.AsyncClient) -> None:
    too_many = await gql(client, "{ products(last: 101) { totalCount } }")
    negative = await gql(client, "{ products(last: -1) { totalCount } }")
    nested = await gql(
        client, "{ products(last: 100) { nodes { tags(last: 101) { totalCount } } } }"
    )

    assert error_code(too_many) == "MAX_FIRST_EXCEEDED"
    assert "`last` may be at most 100, got 101" in too_many["errors"][0]["message"]
    assert error_code(negative) == "BAD_USER_INPUT"
    assert error_code(nested) == "MAX_FIRST_EXCEEDED"


async def test_the_node_estimate_counts_last_like_first(client: httpx.AsyncClient) -> None:
    query = (
        "{ products(last: 100) { nodes { tags(last: 100) { nodes {"
        " products(last: 100) { nodes { id } } } } } } }"
    )

    body = await gql(client, query)

    assert error_code(body) == "MAX_NODES_EXCEEDED"
