"""Introspection: the standard queries of the common clients work at the default limits,
while circular and over-deep introspection is refused before anything runs.

The graphql-js query is graphql_js_introspection.graphql beside this file, as graphql-js
writes it (16.15.0, which tests/clients pins, and 17.1.0 write the same text); a test runs
graphql-js from tests/clients to check that the file is still exactly that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import build_client_schema, get_introspection_query, print_schema

from db.statements import record_statements
from schema import build_schema
from schema.compat import graphql_schema
from tests.hardening.api import WRITE, codes, post
from tests.hardening.conftest import MakeClient

GRAPHQL_JS = (Path(__file__).parent / "graphql_js_introspection.graphql").read_text()
GRAPHQL_JS_OPTIONS = (
    "{descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,"
    " schemaDescription: true, inputValueDeprecation: true,"
    " experimentalDirectiveDeprecation: true, oneOf: true}"
)
CLIENTS = Path(__file__).resolve().parents[1] / "clients"
IN_CI = os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"
GRAPHQL_CORE = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    experimental_directive_deprecation=True,
    one_of=True,
)
STANDARD = {"graphql-js": GRAPHQL_JS, "graphql-core": GRAPHQL_CORE}
EXPECTED_SCHEMA = print_schema(graphql_schema(build_schema()))


async def introspect(client: httpx.AsyncClient, query: str) -> tuple[int, httpx.Response]:
    with record_statements() as statements:
        response = await post(client, query, headers=WRITE)
    return statements.count, response


# -- the standard queries ------------------------------------------------------------------------


def test_the_graphql_js_query_is_what_graphql_js_writes() -> None:
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules" / "graphql").is_dir():
        message = "needs node and tests/clients/node_modules (npm ci in tests/clients)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    script = (
        "process.stdout.write(require('graphql').getIntrospectionQuery(" + GRAPHQL_JS_OPTIONS + "))"
    )

    written = subprocess.run(
        [node, "-e", script], cwd=CLIENTS, capture_output=True, text=True, check=True, timeout=60
    ).stdout

    query = "".join(line for line in GRAPHQL_JS.splitlines(True) if not line.startswith("#"))
    assert written.strip() == query.strip()


@pytest.mark.parametrize("client_library", STANDARD)
async def test_the_standard_introspection_query_describes_the_whole_schema(
    make_client: MakeClient, client_library: str
) -> None:
    count, response = await introspect(make_client(), STANDARD[client_library])

    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    assert print_schema(build_client_schema(body["data"])) == EXPECTED_SCHEMA
    assert count == 0


async def test_gql_fetches_the_schema_and_validates_against_it(make_client: MakeClient) -> None:
    app = make_client()._transport.app  # type: ignore[attr-defined]
    transport = HTTPXAsyncTransport(
        url="http://catalog.test/graphql",
        headers=WRITE,
        transport=httpx.ASGITransport(app=app),
    )
    client = Client(
        transport=transport,
        fetch_schema_from_transport=True,
        introspection_args={
            "descriptions": True,
            "specified_by_url": True,
            "directive_is_repeatable": True,
            "schema_description": True,
            "input_value_deprecation": True,
            "input_object_one_of": True,
        },
    )

    async with client as session:
        result = await session.execute(gql("{ products { totalCount } }"))
        with pytest.raises(Exception, match="Cannot query field 'price'"):
            await session.execute(gql("{ products { price } }"))

    assert result == {"products": {"totalCount": 0}}
    assert client.schema is not None
    assert print_schema(client.schema) == EXPECTED_SCHEMA


@pytest.mark.parametrize("client_library", STANDARD)
async def test_introspection_turned_off_refuses_the_standard_query(
    make_client: MakeClient, client_library: str
) -> None:
    count, response = await introspect(make_client(introspection=False), STANDARD[client_library])

    body = response.json()
    assert body["data"] is None
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert count == 0


# -- the bound of its own ------------------------------------------------------------------------

CIRCULAR = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
TWO_LISTS = "{ __schema { types { fields { type { fields { name } } } } } }"


def of_type_chain(levels: int) -> str:
    """`__type` with `levels` nested fields in all: a chain of `ofType` ending in `name`."""
    inner = "name"
    for _ in range(levels - 2):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Product") {{ {inner} }} }}'


async def refused(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    count, response = await introspect(client, query)
    body: dict[str, Any] = response.json()
    assert codes(body) == ["MAX_INTROSPECTION_DEPTH_EXCEEDED"], body
    assert body.get("data") is None
    assert count == 0
    return body


async def test_circular_introspection_is_refused(make_client: MakeClient) -> None:
    body = await refused(make_client(), CIRCULAR)

    assert "3 lists" in body["errors"][0]["message"]


async def test_circular_introspection_through_type_is_refused(make_client: MakeClient) -> None:
    query = """
    { __type(name: "Product") { fields { type { interfaces { possibleTypes { name } } } } } }
    """

    await refused(make_client(), query)


async def test_circular_introspection_through_fragments_is_refused(
    make_client: MakeClient,
) -> None:
    query = """
    { __schema { types { ...Members } } }
    fragment Members on __Type { fields { type { ...More } } }
    fragment More on __Type { inputFields { type { ...Last } } }
    fragment Last on __Type { possibleTypes { name } }
    """

    await refused(make_client(), query)


async def test_two_nested_lists_of_members_pass(make_client: MakeClient) -> None:
    response = await post(make_client(), TWO_LISTS, headers=WRITE)

    body = response.json()
    assert "errors" not in body, body
    assert any(t["fields"] for t in body["data"]["__schema"]["types"])


async def test_introspection_at_its_nesting_bound_passes(make_client: MakeClient) -> None:
    response = await post(make_client(), of_type_chain(20), headers=WRITE)

    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["__type"]["ofType"] is None  # Product is a named type


async def test_introspection_past_its_nesting_bound_is_refused(make_client: MakeClient) -> None:
    body = await refused(make_client(), of_type_chain(21))

    assert "21 levels" in body["errors"][0]["message"]


async def test_the_general_depth_limit_still_counts_the_rest_of_the_operation(
    make_client: MakeClient,
) -> None:
    query = """
    { __schema { queryType { name } }
      products { nodes { tags { nodes { products { nodes { tags { nodes { id } } } } } } } } }
    """
    client = make_client(max_depth=8)

    count, response = await introspect(client, query)

    assert codes(response.json()) == ["MAX_DEPTH_EXCEEDED"]
    assert count == 0


async def test_a_fragment_spread_many_times_is_walked_once(make_client: MakeClient) -> None:
    # Each fragment spreads the next twice: walked naively, 2**40 paths.
    chain = [f"fragment F{i} on __Type {{ name ...F{i + 1} ...F{i + 1} }}" for i in range(40)]
    chain.append("fragment F40 on __Type { name }")
    query = '{ __type(name: "Product") { ...F0 } } ' + " ".join(chain)

    response = await post(make_client(), query, headers=WRITE)

    assert response.status_code == 200
    assert response.json()["data"]["__type"]["name"] == "Product"
