"""Numbers too long for int(): ids, cursors and Int literals of thousands of digits are bad
input like any other, never an internal error (CPython's int() refuses more than 4,300
digits with a ValueError).
"""

from __future__ import annotations

import base64

import httpx

from tests.api.conftest import create_product, create_tag, error_code, gql, gql_data, snapshot

DIGITS = "1" * 4301


def long_id(type_name: str) -> str:
    return base64.b64encode(f"{type_name}:{DIGITS}".encode()).decode()


async def test_node_is_null_for_an_id_of_4301_digits(client: httpx.AsyncClient) -> None:
    body = await gql(client, "query ($id: ID!) { node(id: $id) { id } }", {"id": long_id("Tag")})

    assert body == {"data": {"node": None}}


async def test_nodes_are_null_for_ids_of_4301_digits(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp")
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    body = await gql(client, query, {"ids": [long_id("Product"), lamp["id"]]})

    assert body == {"data": {"nodes": [None, {"id": lamp["id"]}]}}


async def test_add_tags_with_ids_of_4301_digits_is_invalid_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp")
    before = await snapshot(client)
    mutation = """
    mutation ($input: AddTagsInput!) {
      addTags(input: $input) { added { id } userErrors { field code message } }
    }
    """

    for bad in (
        {"productId": long_id("Product"), "tagNames": ["Sale"]},
        {"productId": lamp["id"], "tagIds": [long_id("Tag")]},
    ):
        payload = (await gql_data(client, mutation, {"input": bad}))["addTags"]
        assert payload["added"] == []
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID"]
        assert len(payload["userErrors"][0]["message"]) < 100  # the id is not echoed whole

    assert await snapshot(client) == before


async def test_delete_tag_with_an_id_of_4301_digits_is_invalid(client: httpx.AsyncClient) -> None:
    await create_tag(client, "Sale")
    before = await snapshot(client)
    mutation = """
    mutation ($input: DeleteInput!) {
      deleteTag(input: $input) { deletedId userErrors { field code } }
    }
    """

    payload = (await gql_data(client, mutation, {"input": {"id": long_id("Tag")}}))["deleteTag"]

    assert payload == {
        "deletedId": None,
        "userErrors": [{"field": ["input", "id"], "code": "INVALID"}],
    }
    assert await snapshot(client) == before


async def test_a_cursor_holding_4301_digits_is_bad_input(client: httpx.AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(f'["sale",{DIGITS}]'.encode()).decode()

    body = await gql(
        client, "query ($after: String) { tags(after: $after) { totalCount } }", {"after": cursor}
    )

    assert error_code(body) == "BAD_USER_INPUT"


async def test_an_int_literal_of_5000_digits_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ products(first: %s) { totalCount } }" % ("9" * 5000))

    assert body.get("data") is None
    [error] = body["errors"]
    assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
    assert "Int" in error["message"]
