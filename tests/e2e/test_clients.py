"""Real GraphQL clients against a real server process: the Node project in tests/clients
(the graphql-http audit, Apollo Client, urql, graphql-request) run with `node --test`, and
Python's `gql` with the schema fetched by introspection.

Node and npm must be on the machine; node_modules is installed from the lock file with
`npm ci` when it is missing or older than the lock. Under CI these tests fail, never skip,
when Node is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError

from tests.e2e.conftest import ROOT, StartServer

pytestmark = pytest.mark.e2e

CLIENTS = ROOT / "tests" / "clients"
TOKEN = "e2e-client-token"
IN_CI = os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI must run the client tests: `{name}` is not installed")
        pytest.skip(f"`{name}` is not installed")
    return path


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with tests/clients/node_modules installed from the lock file."""
    node, npm = _tool("node"), _tool("npm")
    installed = CLIENTS / "node_modules" / ".package-lock.json"
    lock = CLIENTS / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return node


def run_node_test(node: str, test_file: str, graphql_url: str) -> str:
    """Run one file of tests/clients with node's test runner; fail with its output."""
    try:
        done = subprocess.run(
            [node, "--test", "--test-reporter=spec", test_file],
            cwd=CLIENTS,
            env={**os.environ, "CATALOG_GRAPHQL_URL": graphql_url, "CATALOG_WRITE_TOKEN": TOKEN},
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{test_file} did not finish in 120 s:\n{expired.stdout}\n{expired.stderr}")
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    return output


def test_the_server_passes_the_graphql_over_http_audit(
    node: str, start_server: StartServer, database_url: str
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS=TOKEN)

    run_node_test(node, "audit.test.js", server.graphql)


@pytest.mark.parametrize("test_file", ["apollo.test.js", "urql.test.js", "graphql-request.test.js"])
def test_a_client_library_works_against_the_server(
    node: str, start_server: StartServer, database_url: str, test_file: str
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS=TOKEN)

    run_node_test(node, test_file, server.graphql)


def test_gql_fetches_the_schema_and_validates_against_it(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS=TOKEN)
    transport = HTTPXTransport(url=server.graphql, headers={"Authorization": f"Bearer {TOKEN}"})
    create = gql(
        'mutation ($name: String!) { createProduct(input: {name: $name, tagNames: ["Sale"]}) '
        "{ product { id } } }"
    )
    create.variable_values = {"name": "Lamp"}
    names = gql("{ products { nodes { name tags { nodes { name } } } } }")

    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        session.execute(create)
        result = session.execute(names)
        schema = session.client.schema
        with pytest.raises(GraphQLError, match="price"):  # checked here, never sent
            session.execute(gql("{ products { nodes { price } } }"))

    assert schema is not None
    assert {"Product", "Tag", "ProductTagEdge"} <= set(schema.type_map)
    assert result == {
        "products": {"nodes": [{"name": "Lamp", "tags": {"nodes": [{"name": "Sale"}]}}]}
    }
