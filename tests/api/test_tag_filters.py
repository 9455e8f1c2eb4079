"""products(filter:) by tag names and by the priority of the links that count."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.statements import record_statements
from tests.api.conftest import add_tags, create_product, error_code, gql, gql_data

QUERY = """
query ($filter: ProductFilter) {
  products(first: 100, filter: $filter) { totalCount nodes { name } }
}
"""


async def names_kept(client: httpx.AsyncClient, product_filter: dict[str, Any]) -> list[str]:
    data = await gql_data(client, QUERY, {"filter": product_filter})
    kept = [node["name"] for node in data["products"]["nodes"]]
    assert data["products"]["totalCount"] == len(kept)
    return kept


async def shop(client: httpx.AsyncClient) -> dict[str, str]:
    """Red Lamp: Sale (priority 5), New (1). Blue Lamp: Sale (0). Chair: New (7). Stool: none.
    Returns the tag ids by name."""
    red = await create_product(client, "Red Lamp")
    await add_tags(client, red["id"], ["Sale"], priority=5)
    await add_tags(client, red["id"], ["New"], priority=1)
    await create_product(client, "Blue Lamp", ["Sale"])
    chair = await create_product(client, "Chair")
    await add_tags(client, chair["id"], ["New"], priority=7)
    await create_product(client, "Stool")
    tags = await gql_data(client, "{ tags { nodes { id name } } }")
    return {tag["name"]: tag["id"] for tag in tags["tags"]["nodes"]}


async def test_tag_names_are_trimmed_and_case_insensitive(client: httpx.AsyncClient) -> None:
    await shop(client)

    assert await names_kept(client, {"tagNames": {"any": [" sale ", "NEW"]}}) == [
        "Red Lamp",
        "Blue Lamp",
        "Chair",
    ]
    assert await names_kept(client, {"tagNames": {"all": ["SALE", "new"]}}) == ["Red Lamp"]
    assert await names_kept(client, {"tagNames": {"none": ["Sale"]}}) == ["Chair", "Stool"]


async def test_an_unknown_tag_name_matches_nothing(client: httpx.AsyncClient) -> None:
    await shop(client)

    assert await names_kept(client, {"tagNames": {"any": ["Nowhere"]}}) == []
    assert await names_kept(client, {"tagNames": {"any": ["Nowhere", "new"]}}) == [
        "Red Lamp",
        "Chair",
    ]
    assert await names_kept(client, {"tagNames": {"all": ["Sale", "Nowhere"]}}) == []
    assert await names_kept(client, {"tagNames": {"all": ["Sale", "   "]}}) == []  # no such name
    assert await names_kept(client, {"tagNames": {"none": ["Nowhere", ""]}}) == [
        "Red Lamp",
        "Blue Lamp",
        "Chair",
        "Stool",
    ]


@pytest.mark.parametrize("by", ["tags", "tagNames"])
async def test_only_links_within_the_priority_range_count(
    client: httpx.AsyncClient, by: str
) -> None:
    tag_ids = await shop(client)

    def tags(*names: str) -> list[str]:
        return [tag_ids[name] for name in names] if by == "tags" else list(names)

    high = {"gte": 5}
    assert await names_kept(client, {by: {"any": tags("Sale", "New"), "priority": high}}) == [
        "Red Lamp",
        "Chair",
    ]
    assert await names_kept(client, {by: {"all": tags("Sale", "New"), "priority": high}}) == []
    assert await names_kept(
        client, {by: {"all": tags("Sale", "New"), "priority": {"gte": 1, "lte": 5}}}
    ) == ["Red Lamp"]
    # none: linked to none of them within the range (Blue Lamp's Sale link is priority 0)
    assert await names_kept(client, {by: {"none": tags("Sale"), "priority": {"gte": 1}}}) == [
        "Blue Lamp",
        "Chair",
        "Stool",
    ]
    # a range alone: some link within it
    assert await names_kept(client, {by: {"priority": {"lte": 0}}}) == ["Blue Lamp"]


async def test_ids_and_names_combine(client: httpx.AsyncClient) -> None:
    tag_ids = await shop(client)

    kept = await names_kept(
        client,
        {"tags": {"any": [tag_ids["Sale"]]}, "tagNames": {"none": ["new"]}, "nameContains": "lamp"},
    )

    assert kept == ["Blue Lamp"]


async def test_more_tag_names_than_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, QUERY, {"filter": {"tagNames": {"all": [f"t{n}" for n in range(101)]}}}
    )

    assert error_code(body) == "MAX_ITEMS_EXCEEDED"


async def test_a_filter_by_names_is_one_statement_for_the_page(client: httpx.AsyncClient) -> None:
    await shop(client)
    query = """
    { products(filter: {tagNames: {any: ["sale"], none: ["New"], priority: {gte: 0}}}) {
        nodes { name } } }
    """

    with record_statements() as log:
        data = await gql_data(client, query)

    assert [node["name"] for node in data["products"]["nodes"]] == ["Blue Lamp"]
    assert log.count == 1
