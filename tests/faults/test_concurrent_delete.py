"""A link write racing a delete of a row it references: NOT_FOUND naming the id, never an
internal error (the junction's foreign key must never be what notices the row is gone).

A connection of the test's own deletes the row and holds its transaction open; the write
is sent, and once it waits on the deleting transaction, the delete commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resolvers.ids import decode_id
from tests.faults.conftest import MakeClient
from tests.hardening.api import WRITE, create_product, create_tag, post

LINK_PAYLOAD = "userErrors { field message code }"
SET_TAGS = f"mutation ($input: SetTagsInput!) {{ setTags(input: $input) {{ {LINK_PAYLOAD} }} }}"
ADD_TAGS = f"mutation ($input: AddTagsInput!) {{ addTags(input: $input) {{ {LINK_PAYLOAD} }} }}"
ADD_PRODUCTS = (
    f"mutation ($input: AddProductsInput!) {{ addProducts(input: $input) {{ {LINK_PAYLOAD} }} }}"
)
TAGS_OF = "query ($id: ID!) { node(id: $id) { ... on Product { tags { nodes { name } } } } }"


async def delete_while(
    admin: AsyncEngine, table: str, row_id: int, write: Awaitable[httpx.Response]
) -> httpx.Response:
    """Delete the row in an open transaction, start the write, and commit the delete only
    once the write waits for it (so the write must see the row vanish under it)."""
    async with admin.begin() as deleter:
        await deleter.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})
        pending = asyncio.ensure_future(write)
        await waiting_for_a_lock(deleter, pending)
    return await pending


async def waiting_for_a_lock(deleter: AsyncConnection, pending: asyncio.Future[Any]) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
    )
    while (await deleter.execute(query)).scalar_one() == 0:
        assert not pending.done(), (await pending).text  # it must wait, not go through
        await asyncio.sleep(0.02)


def not_found(response: httpx.Response, field: str, db_id: int) -> None:
    """The write was refused with NOT_FOUND on `field`, naming the id."""
    assert response.status_code == 200, response.text
    assert response.json().get("data"), response.text
    [payload] = response.json()["data"].values()
    [error] = payload["userErrors"]
    assert error["code"] == "NOT_FOUND", payload
    assert error["field"][-1] == field, payload
    assert str(db_id) in error["message"], payload


async def test_set_tags_with_a_tag_being_deleted_is_not_found(
    make_client: MakeClient, admin: AsyncEngine
) -> None:
    client = make_client()
    product = await create_product(client, "Lamp", ["Old"])
    tag = await create_tag(client, "Doomed")
    tag_id = decode_id(tag)[1]
    async with asyncio.timeout(60):
        write = post(
            client, SET_TAGS, {"input": {"productId": product, "tagIds": [tag]}}, headers=WRITE
        )
        response = await delete_while(admin, "tags", tag_id, write)
    not_found(response, "tagIds", tag_id)
    tags = await post(client, TAGS_OF, {"id": product})
    assert tags.json()["data"]["node"]["tags"]["nodes"] == [{"name": "Old"}]  # unchanged


async def test_add_tags_with_a_tag_being_deleted_is_not_found(
    make_client: MakeClient, admin: AsyncEngine
) -> None:
    client = make_client()
    product = await create_product(client, "Lamp")
    tag = await create_tag(client, "Doomed")
    tag_id = decode_id(tag)[1]
    async with asyncio.timeout(60):
        write = post(
            client, ADD_TAGS, {"input": {"productId": product, "tagIds": [tag]}}, headers=WRITE
        )
        response = await delete_while(admin, "tags", tag_id, write)
    not_found(response, "tagIds", tag_id)


async def test_add_tags_by_the_name_of_a_tag_being_deleted_links_it_created_anew(
    make_client: MakeClient, admin: AsyncEngine
) -> None:
    client = make_client()
    product = await create_product(client, "Lamp")
    tag_id = decode_id(await create_tag(client, "Phoenix"))[1]
    async with asyncio.timeout(60):
        write = post(
            client,
            ADD_TAGS,
            {"input": {"productId": product, "tagNames": ["Phoenix"]}},
            headers=WRITE,
        )
        response = await delete_while(admin, "tags", tag_id, write)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["addTags"]["userErrors"] == []
    tags = await post(client, TAGS_OF, {"id": product})
    assert tags.json()["data"]["node"]["tags"]["nodes"] == [{"name": "Phoenix"}]


async def test_add_products_with_a_product_being_deleted_is_not_found(
    make_client: MakeClient, admin: AsyncEngine
) -> None:
    client = make_client()
    kept = await create_product(client, "Kept")
    doomed = await create_product(client, "Doomed")
    tag = await create_tag(client, "Sale")
    doomed_id = decode_id(doomed)[1]
    async with asyncio.timeout(60):
        write = post(
            client,
            ADD_PRODUCTS,
            {"input": {"tagId": tag, "productIds": [kept, doomed]}},
            headers=WRITE,
        )
        response = await delete_while(admin, "products", doomed_id, write)
    not_found(response, "productIds", doomed_id)
    tags = await post(client, TAGS_OF, {"id": kept})
    assert tags.json()["data"]["node"]["tags"]["nodes"] == []  # all or nothing
