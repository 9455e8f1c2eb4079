"""A write that fails halfway leaves nothing behind.

The failure is injected where it hurts most: after a write has already changed rows in its
transaction (setTags has deleted the old links; createProduct has inserted the product and
its new tags) and before the junction insert. The client sees a masked error, not a 500,
and every table is as it was before the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from db import links
from db.statements import record_statements
from resolvers.ids import decode_id
from tests.hardening.api import WRITE, Stored, codes, create_product, create_tag, post
from tests.hardening.conftest import MakeClient


async def fail(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("the junction insert failed")


@pytest.fixture
def break_linking(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it (after arranging) to make every junction insert fail from then on."""
    return lambda: monkeypatch.setattr(links, "insert", fail)


def ran(statements: list[str], verb: str, table: str) -> bool:
    return any(s.lstrip().upper().startswith(verb) and table in s for s in statements)


SET_TAGS = """
mutation ($input: SetTagsInput!) {
  setTags(input: $input) { product { id } userErrors { code } }
}
"""


async def test_set_tags_failing_after_its_deletes_keeps_the_old_tags(
    make_client: MakeClient, stored: Stored, break_linking: Callable[[], None]
) -> None:
    client = make_client()
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    gift = await create_tag(client, "Gift")
    before = await stored.snapshot()
    break_linking()

    with record_statements() as statements:
        response = await post(
            client,
            SET_TAGS,
            {"input": {"productId": lamp, "tagIds": [gift], "tagNames": ["Brand new"]}},
            headers=WRITE,
        )

    assert response.status_code == 200
    assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    assert ran(statements.statements, "DELETE", "product_tags")  # the failure came after
    assert await stored.tag_names_of(decode_id(lamp)[1]) == {"Sale", "New"}
    assert await stored.snapshot() == before  # nor was the tag "Brand new" kept


CREATE_PRODUCT = """
mutation ($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { code } }
}
"""


async def test_create_product_failing_before_its_links_creates_nothing(
    make_client: MakeClient, stored: Stored, break_linking: Callable[[], None]
) -> None:
    client = make_client()
    await create_tag(client, "Sale")
    before = await stored.snapshot()
    break_linking()

    with record_statements() as statements:
        response = await post(
            client,
            CREATE_PRODUCT,
            {"input": {"name": "Desk", "tagNames": ["Sale", "Oak"]}},
            headers=WRITE,
        )

    assert response.status_code == 200
    assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    assert ran(statements.statements, "INSERT", "products")  # the failure came after
    assert ran(statements.statements, "INSERT", "tags")
    assert await stored.snapshot() == before  # no product, no tag "Oak"


ADD_TAGS = """
mutation ($input: AddTagsInput!) {
  addTags(input: $input) { product { id } userErrors { code } }
}
"""


async def test_add_tags_failing_before_its_links_creates_no_tags(
    make_client: MakeClient, stored: Stored, break_linking: Callable[[], None]
) -> None:
    client = make_client()
    lamp = await create_product(client, "Lamp", ["Sale"])
    before = await stored.snapshot()
    break_linking()

    response = await post(
        client, ADD_TAGS, {"input": {"productId": lamp, "tagNames": ["Oak", "Pine"]}}, headers=WRITE
    )

    assert response.status_code == 200
    assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    assert await stored.snapshot() == before


async def test_the_server_writes_normally_after_a_failed_write(
    make_client: MakeClient, stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed transaction leaves no lock or broken connection behind."""
    client = make_client()
    lamp = await create_product(client, "Lamp", ["Sale"])
    set_oak = {"input": {"productId": lamp, "tagNames": ["Oak"]}}
    with monkeypatch.context() as patch:
        patch.setattr(links, "insert", fail)
        failed = await post(client, SET_TAGS, set_oak, headers=WRITE)
        assert codes(failed.json()) == ["INTERNAL_SERVER_ERROR"]

    response = await post(client, SET_TAGS, set_oak, headers=WRITE)

    assert response.json()["data"]["setTags"]["userErrors"] == []
    assert await stored.tag_names_of(decode_id(lamp)[1]) == {"Oak"}
