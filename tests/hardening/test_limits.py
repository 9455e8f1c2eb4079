"""Every request limit: just under it passes, just over it is refused before any SQL runs.

Refusals are checked for their code and for a statement count of zero: a limit that let
the query reach the database first would protect nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import orjson
import pytest

from db.statements import record_statements
from tests.hardening.api import WRITE, codes, create_product, post
from tests.hardening.conftest import MakeClient


async def statements_and_response(
    request: Awaitable[httpx.Response],
) -> tuple[int, httpx.Response]:
    """The response to a request, and how many SQL statements answering it ran."""
    with record_statements() as statements:
        response = await request
    return statements.count, response


async def passes(client: httpx.AsyncClient, query: str, variables: Any = None) -> dict[str, Any]:
    response = await post(client, query, variables, headers=WRITE)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body


async def refused(
    client: httpx.AsyncClient, query: str, code: str, variables: Any = None
) -> dict[str, Any]:
    count, response = await statements_and_response(post(client, query, variables, headers=WRITE))
    body: dict[str, Any] = response.json()
    assert codes(body) == [code], body
    assert body.get("data") is None
    assert count == 0
    return body


# -- body size ---------------------------------------------------------------------------------

COUNT = "{ products { totalCount } }"
LIMIT = 2000


def body_of_size(size: int) -> bytes:
    """A JSON body of exactly `size` bytes: a small query padded with spaces."""
    body = orjson.dumps({"query": COUNT})
    body = orjson.dumps({"query": COUNT + " " * (size - len(body))})
    assert len(body) == size
    return body


async def send_body(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    headers = {**WRITE, "Content-Type": "application/json"}
    return await client.post("/graphql", content=body, headers=headers)


async def test_a_body_at_the_size_limit_passes(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=LIMIT)

    response = await send_body(client, body_of_size(LIMIT))

    assert response.status_code == 200
    assert response.json() == {"data": {"products": {"totalCount": 0}}}


async def test_a_body_over_the_size_limit_is_refused(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=LIMIT)

    count, response = await statements_and_response(send_body(client, body_of_size(LIMIT + 1)))

    assert response.status_code == 413
    assert codes(response.json()) == ["BODY_TOO_LARGE"]
    assert count == 0


async def test_a_streamed_body_over_the_size_limit_is_refused(make_client: MakeClient) -> None:
    """No Content-Length to trust: the limit holds while the body is read."""
    client = make_client(max_body_bytes=LIMIT)
    body = body_of_size(LIMIT + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    headers = {**WRITE, "Content-Type": "application/json"}
    count, response = await statements_and_response(
        client.post("/graphql", content=chunks(), headers=headers)
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert codes(response.json()) == ["BODY_TOO_LARGE"]
    assert count == 0


async def test_a_query_string_over_the_size_limit_is_refused(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=LIMIT)
    params = {"query": COUNT + " " * LIMIT}

    count, response = await statements_and_response(client.get("/graphql", params=params))

    assert response.status_code == 413
    assert codes(response.json()) == ["BODY_TOO_LARGE"]
    assert count == 0


# -- tokens, depth, aliases --------------------------------------------------------------------

SIX_TOKENS = "{ products { totalCount } }"
SEVEN_TOKENS = "{ products { totalCount __typename } }"


async def test_a_document_at_the_token_limit_passes(make_client: MakeClient) -> None:
    await passes(make_client(max_tokens=6), SIX_TOKENS)


async def test_a_document_over_the_token_limit_is_refused(make_client: MakeClient) -> None:
    await refused(make_client(max_tokens=6), SEVEN_TOKENS, "MAX_TOKENS_EXCEEDED")


async def test_comments_and_whitespace_are_not_tokens(make_client: MakeClient) -> None:
    await passes(make_client(max_tokens=6), "# a comment\n" + SIX_TOKENS.replace(" ", "   "))


THREE_DEEP = "{ products { nodes { name } } }"
FOUR_DEEP = "{ products { nodes { tags { totalCount } } } }"


async def test_a_query_at_the_depth_limit_passes(make_client: MakeClient) -> None:
    await passes(make_client(max_depth=3), THREE_DEEP)


async def test_a_query_over_the_depth_limit_is_refused(make_client: MakeClient) -> None:
    await refused(make_client(max_depth=3), FOUR_DEEP, "MAX_DEPTH_EXCEEDED")


async def test_depth_counts_through_fragments(make_client: MakeClient) -> None:
    query = (
        "{ products { ...P } } fragment P on ProductConnection { nodes { tags { totalCount } } }"
    )

    await refused(make_client(max_depth=3), query, "MAX_DEPTH_EXCEEDED")


TWO_ALIASES = "{ a: products { totalCount } b: products { totalCount } }"
THREE_ALIASES = "{ a: products { totalCount } b: products { totalCount } c: tags { totalCount } }"


async def test_a_query_at_the_alias_limit_passes(make_client: MakeClient) -> None:
    await passes(make_client(max_aliases=2), TWO_ALIASES)


async def test_a_query_over_the_alias_limit_is_refused(make_client: MakeClient) -> None:
    await refused(make_client(max_aliases=2), THREE_ALIASES, "MAX_ALIASES_EXCEEDED")


# -- page sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ products(first: 100) { totalCount } }",
        "{ tags(first: 100) { totalCount } }",
        "{ products(first: 1) { nodes { tags(first: 100) { totalCount } } } }",
        "{ tags(first: 1) { nodes { products(first: 100) { totalCount } } } }",
    ],
)
async def test_first_of_100_passes(make_client: MakeClient, query: str) -> None:
    await passes(make_client(), query)


@pytest.mark.parametrize(
    "query",
    [
        "{ products(first: 101) { totalCount } }",
        "{ tags(first: 101) { totalCount } }",
        "{ products(first: 1) { nodes { tags(first: 101) { totalCount } } } }",
        "{ tags(first: 1) { nodes { products(first: 101) { totalCount } } } }",
    ],
)
async def test_first_of_101_is_refused(make_client: MakeClient, query: str) -> None:
    await refused(make_client(), query, "MAX_FIRST_EXCEEDED")


async def test_first_from_a_variable_is_checked_too(make_client: MakeClient) -> None:
    client = make_client()
    query = "query ($n: Int) { products(first: $n) { totalCount } }"

    await passes(client, query, {"n": 100})
    await refused(client, query, "MAX_FIRST_EXCEEDED", {"n": 101})


# -- list items per request ----------------------------------------------------------------------

ADD_TAGS = """
mutation ($input: AddTagsInput!) {
  addTags(input: $input) { added { id } userErrors { code } }
}
"""


async def test_100_tags_in_one_mutation_pass(make_client: MakeClient) -> None:
    client = make_client()
    product = await create_product(client, "Lamp")
    names = [f"tag {n}" for n in range(100)]

    body = await passes(client, ADD_TAGS, {"input": {"productId": product, "tagNames": names}})

    assert len(body["data"]["addTags"]["added"]) == 100


@pytest.mark.parametrize("field", ["tagIds", "tagNames"])
async def test_101_tags_in_one_mutation_are_refused(make_client: MakeClient, field: str) -> None:
    client = make_client()
    product = await create_product(client, "Lamp")
    items = [f"tag {n}" for n in range(101)]

    await refused(
        client, ADD_TAGS, "MAX_ITEMS_EXCEEDED", {"input": {"productId": product, field: items}}
    )


async def test_101_tags_written_into_the_document_are_refused(make_client: MakeClient) -> None:
    client = make_client()
    product = await create_product(client, "Lamp")
    names = orjson.dumps([f"tag {n}" for n in range(101)]).decode()
    mutation = (
        f'mutation {{ addTags(input: {{productId: "{product}", tagNames: {names}}}) '
        "{ userErrors { code } } }"
    )

    await refused(client, mutation, "MAX_ITEMS_EXCEEDED")


async def test_101_ids_in_one_nodes_lookup_are_refused(make_client: MakeClient) -> None:
    client = make_client()
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    await passes(client, query, {"ids": ["x"] * 100})
    await refused(client, query, "MAX_ITEMS_EXCEEDED", {"ids": ["x"] * 101})


# -- the node estimate: sum over connections of the product of `first` along the path -------

HUGE = """
{ products(first: 100) { nodes {
    tags(first: 100) { nodes {
      products(first: 100) { nodes { id } } } } } } }
"""


async def test_a_query_that_could_return_a_million_nodes_is_refused(
    make_client: MakeClient,
) -> None:
    body = await refused(make_client(), HUGE, "MAX_NODES_EXCEEDED")

    assert "1010100" in body["errors"][0]["message"]  # 100 + 100*100 + 100*100*100


def nested(outer: int, middle: int, inner: int) -> str:
    return (
        f"{{ products(first: {outer}) {{ nodes {{ tags(first: {middle}) {{ nodes {{ "
        f"products(first: {inner}) {{ nodes {{ id }} }} }} }} }} }} }}"
    )


async def test_a_query_estimated_at_exactly_the_default_limit_passes(
    make_client: MakeClient,
) -> None:
    await passes(make_client(), nested(80, 8, 77))  # 80 + 640 + 49,280 = 50,000


async def test_a_query_estimated_just_over_the_default_limit_is_refused(
    make_client: MakeClient,
) -> None:
    await refused(make_client(), nested(80, 8, 78), "MAX_NODES_EXCEEDED")  # 50,640


TWO_LEVELS = """
query ($a: Int, $b: Int) { products(first: $a) { nodes { tags(first: $b) { nodes { id } } } } }
"""


async def test_the_estimate_uses_first_from_variables(make_client: MakeClient) -> None:
    client = make_client(max_nodes=15)

    await passes(client, TWO_LEVELS, {"a": 3, "b": 4})  # 3 + 12 = 15
    await refused(client, TWO_LEVELS, "MAX_NODES_EXCEEDED", {"a": 4, "b": 3})  # 4 + 12 = 16


async def test_the_estimate_counts_an_omitted_first_as_20(make_client: MakeClient) -> None:
    query = "{ products { nodes { tags { nodes { id } } } } }"  # 20 + 20*20 = 420

    await passes(make_client(max_nodes=420), query)
    await refused(make_client(max_nodes=419), query, "MAX_NODES_EXCEEDED")


async def test_the_estimate_sums_sibling_connections(make_client: MakeClient) -> None:
    query = "{ products(first: 10) { totalCount } tags(first: 6) { totalCount } }"  # 16

    await passes(make_client(max_nodes=16), query)
    await refused(make_client(max_nodes=15), query, "MAX_NODES_EXCEEDED")


# -- batching ------------------------------------------------------------------------------------


async def send_batch(client: httpx.AsyncClient, size: int) -> tuple[int, httpx.Response]:
    batch = [{"query": COUNT}] * size
    return await statements_and_response(client.post("/graphql", json=batch, headers=WRITE))


async def test_batching_is_off_by_default(make_client: MakeClient) -> None:
    count, response = await send_batch(make_client(), 1)

    assert response.status_code == 400
    assert codes(response.json()) == ["BATCHING_DISABLED"]
    assert count == 0


async def test_a_batch_at_the_limit_passes(make_client: MakeClient) -> None:
    _count, response = await send_batch(make_client(max_batch=2), 2)

    assert response.status_code == 200
    assert response.json() == [{"data": {"products": {"totalCount": 0}}}] * 2


async def test_a_batch_over_the_limit_is_refused(make_client: MakeClient) -> None:
    count, response = await send_batch(make_client(max_batch=2), 3)

    assert response.status_code == 400
    assert codes(response.json()) == ["MAX_BATCH_EXCEEDED"]
    assert count == 0


# -- introspection -------------------------------------------------------------------------------

INTROSPECTION = "{ __schema { types { name } } }"


async def test_introspection_is_allowed_by_default(make_client: MakeClient) -> None:
    body = await passes(make_client(), INTROSPECTION)

    assert "Product" in {t["name"] for t in body["data"]["__schema"]["types"]}


@pytest.mark.parametrize("query", [INTROSPECTION, '{ __type(name: "Product") { name } }'])
async def test_introspection_can_be_turned_off(make_client: MakeClient, query: str) -> None:
    count, response = await statements_and_response(
        post(make_client(introspection=False), query, headers=WRITE)
    )

    body = response.json()
    assert body["data"] is None
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert count == 0


async def test_typename_still_works_without_introspection(make_client: MakeClient) -> None:
    body = await passes(make_client(introspection=False), "{ __typename }")

    assert body == {"data": {"__typename": "Query"}}
