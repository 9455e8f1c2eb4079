"""Races through the API: many clients writing the same rows at the same moment.

Requests run concurrently in one event loop (asyncio.gather over the ASGI client), each
with its own session and connection, as a busy server runs them. Every response is either
a success or a clear retryable error (TRY_AGAIN), and what is stored afterwards is what
some order of the successful requests would have produced: no duplicate rows, one tag
per case-insensitive name.

PostgreSQL runs 20 and 50 writers at once; SQLite, whose writers queue behind BEGIN
IMMEDIATE and the busy timeout, runs 5 and 10 to keep the suite quick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from resolvers.ids import decode_id
from tests.hardening.api import WRITE, Stored, codes, create_product, post
from tests.hardening.conftest import MakeClient

SET_TAGS = """
mutation ($input: SetTagsInput!) {
  setTags(input: $input) { product { id } userErrors { code message } }
}
"""

ADD_TAGS = """
mutation ($input: AddTagsInput!) {
  addTags(input: $input) { product { id } userErrors { code message } }
}
"""


async def all_at_once(
    client: httpx.AsyncClient, mutation: str, inputs: list[dict[str, Any]]
) -> list[bool]:
    """Send every mutation at the same time; for each, whether it succeeded.

    A response that did not succeed must be a TRY_AGAIN (HTTP 503), which a client retries.
    """
    responses = await asyncio.gather(
        *(post(client, mutation, {"input": i}, headers=WRITE) for i in inputs)
    )
    succeeded = []
    for response in responses:
        body = response.json()
        if body.get("errors"):
            assert response.status_code == 503, response.text
            assert set(codes(body)) == {"TRY_AGAIN"}, body
            succeeded.append(False)
        else:
            assert response.status_code == 200, response.text
            [payload] = body["data"].values()
            assert payload["userErrors"] == [], payload
            succeeded.append(True)
    return succeeded


def database_id(global_id: str) -> int:
    return decode_id(global_id)[1]


@pytest.fixture
def scale(backend: str) -> tuple[int, int]:
    """(setTags writers, addTags writers)."""
    return (20, 50) if backend == "postgres" else (5, 10)


async def test_concurrent_set_tags_leave_exactly_one_requested_set(
    make_client: MakeClient, stored: Stored, scale: tuple[int, int]
) -> None:
    client = make_client()
    product = await create_product(client, "Lamp", ["Old"])
    writers = scale[0]
    # Distinct sets that overlap, and name tags nobody has created yet.
    wanted = [{f"Tag {n}", f"Tag {(n + 1) % writers}", "Common"} for n in range(writers)]

    succeeded = await all_at_once(
        client, SET_TAGS, [{"productId": product, "tagNames": sorted(w)} for w in wanted]
    )

    assert any(succeeded)
    final = await stored.tag_names_of(database_id(product))
    assert final in [w for w, ok in zip(wanted, succeeded, strict=True) if ok]
    await stored.check_invariants()


async def test_concurrent_add_tags_create_one_tag_per_name_whatever_the_case(
    make_client: MakeClient, stored: Stored, scale: tuple[int, int]
) -> None:
    client = make_client()
    products = [await create_product(client, f"Product {n}") for n in range(5)]
    writers = scale[1]
    spellings: list[Callable[[str], str]] = [str, str.upper, str.lower, lambda n: f" {n} "]
    inputs = [
        {
            "productId": products[n % len(products)],
            "tagNames": [
                spellings[n % 4](f"Colour {n % 7}"),
                spellings[(n + 1) % 4](f"Colour {(n + 3) % 7}"),
                spellings[(n + 2) % 4]("Shared"),
            ],
        }
        for n in range(writers)
    ]

    succeeded = await all_at_once(client, ADD_TAGS, inputs)

    await stored.check_invariants()  # no duplicate pairs; one tag per name key
    rows = await stored.snapshot()
    keys = {name.strip().casefold() for i in inputs for name in i["tagNames"]}
    assert len(rows["tags"]) == len(keys)
    done = [i for i, ok in zip(inputs, succeeded, strict=True) if ok]
    for product in products:
        asked = [name for i in done if i["productId"] == product for name in i["tagNames"]]
        stored_names = await stored.tag_names_of(database_id(product))
        assert {n.casefold() for n in stored_names} == {n.strip().casefold() for n in asked}
