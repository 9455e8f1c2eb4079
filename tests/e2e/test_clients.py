"""Real GraphQL clients against a real server process: the Node project in tests/clients
(the graphql-http audit, Apollo Client, urql, graphql-request, and the live updates through
graphql-ws, Apollo's GraphQLWsLink, urql's subscriptionExchange and graphql-sse) run with
`node --test`, and Python's `gql`: the schema fetched by introspection, subscriptions over
WebSocket.

Node and npm must be on the machine; node_modules is installed from the lock file with
`npm ci` when it is missing or older than the lock. Under CI these tests fail, never skip,
when Node is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLError

from tests.e2e.conftest import ROOT, Server, StartServer, graphql

pytestmark = pytest.mark.e2e

CLIENTS = ROOT / "tests" / "clients"
TOKEN = "e2e-client-token"
READ_TOKEN = "e2e-client-read-token"
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


def run_node_test(node: str, test_file: str, graphql_url: str, **env: str) -> str:
    """Run one file of tests/clients with node's test runner (`env` added to its
    environment); fail with its output."""
    try:
        done = subprocess.run(
            [node, "--test", "--test-reporter=spec", test_file],
            cwd=CLIENTS,
            env={
                **os.environ,
                "CATALOG_GRAPHQL_URL": graphql_url,
                "CATALOG_WRITE_TOKEN": TOKEN,
                **env,
            },
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


def test_subscription_clients_follow_the_changes_with_a_read_token(
    node: str, start_server: StartServer, database_url: str
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_READ_TOKENS=READ_TOKEN)

    run_node_test(node, "subscriptions.test.js", server.graphql, CATALOG_READ_TOKEN=READ_TOKEN)


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


CHANGES = """query ($after: String) {
  changes(after: $after, first: 100) { edges { cursor node { kind productId tagId } } }
}"""


def _changes_after(server: Server, cursor: str | None) -> list[dict[str, Any]]:
    """The log's changes after `cursor` (one page is enough here), as events show them."""
    edges = graphql(server, TOKEN, CHANGES, after=cursor).json()["data"]["changes"]["edges"]
    return [{"cursor": edge["cursor"], **edge["node"]} for edge in edges]


async def test_gql_subscribes_over_websocket_and_receives_a_mutations_changes(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server(database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_READ_TOKENS=READ_TOKEN)
    graphql(server, TOKEN, 'mutation { createTag(input: {name: "Sale"}) { tag { id } } }')
    # `after` the log's last change: the mutation below is told of whenever it commits.
    head = _changes_after(server, None)[-1]["cursor"]
    transport = WebsocketsTransport(
        url=server.graphql.replace("http://", "ws://"),
        init_payload={"Authorization": f"Bearer {READ_TOKEN}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    subscription = gql(
        "subscription ($after: String) "
        "{ catalogChanges(after: $after) { cursor kind productId tagId } }"
    )
    subscription.variable_values = {"after": head}
    create = 'mutation { createProduct(input: {name: "Lamp", tagNames: ["Sale", "Light"]}) '
    create += "{ product { id } } }"

    async def take(count: int) -> list[dict[str, Any]]:
        events = session.subscribe(subscription)
        try:
            return [await anext(events) for _ in range(count)]
        finally:
            await events.aclose()

    async with asyncio.timeout(30), Client(transport=transport) as session:
        receiving = asyncio.create_task(take(4))
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                server.graphql,
                json={"query": create},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        received = await receiving

    assert response.status_code == 200, response.text
    committed = _changes_after(server, head)
    assert [event["catalogChanges"] for event in received] == committed
    assert sorted(change["kind"] for change in committed) == [
        "LINK_ADDED",
        "LINK_ADDED",
        "PRODUCT_CREATED",
        "TAG_CREATED",
    ]
