"""Query.changes: the change log as a Relay connection, read by a client over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from db.statements import record_statements
from tests.api.conftest import add_tags, create_product, error_code, gql, gql_data

CHANGES = """
query ($after: String, $first: Int, $filter: ChangeFilter) {
  changes(after: $after, first: $first, filter: $filter) {
    edges { cursor node { kind productId tagId priority product { name } tag { name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def changes(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await gql_data(client, CHANGES, variables))["changes"]
    return data


def kinds(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["kind"] for edge in page["edges"]]


async def test_each_write_is_read_back_in_commit_order_with_the_entities_as_they_are_now(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    await add_tags(client, lamp["id"], ["Sale"], priority=5)

    page = await changes(client)

    assert kinds(page) == ["PRODUCT_CREATED", "TAG_CREATED", "LINK_ADDED", "LINK_UPDATED"]
    created, _tag, added, updated = (edge["node"] for edge in page["edges"])
    assert created["productId"] == lamp["id"]
    assert created["product"] == {"name": "Lamp"}
    assert (added["priority"], updated["priority"]) == (0, 5)
    assert updated["tag"] == {"name": "Sale"}
    assert page["pageInfo"]["hasNextPage"] is False


async def test_pages_resume_after_the_end_cursor_with_no_gap_and_no_repeat(
    client: httpx.AsyncClient,
) -> None:
    for n in range(5):
        await create_product(client, f"Product {n}", [f"Tag {n}"])
    seen: list[str] = []
    after = None
    while True:
        page = await changes(client, first=4, after=after)
        seen += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    everything = await changes(client, first=100)
    assert seen == [edge["cursor"] for edge in everything["edges"]]
    assert len(seen) == 15


async def test_a_filter_keeps_the_changes_of_the_products_and_kinds_asked_for(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    await create_product(client, "Desk", ["Sale"])

    page = await changes(client, filter={"productIds": [lamp["id"]], "kinds": ["LINK_ADDED"]})

    assert kinds(page) == ["LINK_ADDED", "LINK_ADDED"]
    assert {edge["node"]["tag"]["name"] for edge in page["edges"]} == {"Sale", "New"}


async def test_a_deleted_product_keeps_its_id_in_the_log_and_shows_null(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])
    body = await gql(
        client,
        "mutation ($id: ID!) { deleteProduct(input: {id: $id}) { userErrors { code } } }",
        {"id": lamp["id"]},
    )
    assert body["data"]["deleteProduct"]["userErrors"] == []

    page = await changes(client, filter={"productIds": [lamp["id"]]})

    assert kinds(page)[-2:] == ["LINK_REMOVED", "PRODUCT_DELETED"]
    assert all(edge["node"]["productId"] == lamp["id"] for edge in page["edges"])
    assert all(edge["node"]["product"] is None for edge in page["edges"])


async def test_a_malformed_cursor_is_bad_user_input_and_reads_nothing(
    client: httpx.AsyncClient,
) -> None:
    with record_statements() as statements:
        body = await gql(client, CHANGES, {"after": "not-a-cursor"})

    assert error_code(body) == "BAD_USER_INPUT"
    assert statements.count == 0


async def test_a_cursor_of_a_product_page_is_not_a_change_cursor(client: httpx.AsyncClient) -> None:
    await create_product(client, "Lamp")
    products = await gql_data(client, "{ products { edges { cursor } } }")
    cursor = products["products"]["edges"][0]["cursor"]

    assert error_code(await gql(client, CHANGES, {"after": cursor})) == "BAD_USER_INPUT"
