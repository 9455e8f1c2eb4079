"""Clients that send back their consistency token read their writes through a `catalog
serve` process whose replica's replay is paused: the Node clients (Apollo Client, urql,
graphql-request, tests/clients/consistency.test.js) and examples/apply_tags.py's client.

The lag bound is a minute here, so the paused replica keeps serving the reads that carry
no token: they do not see the writes, which shows the replica really answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from clusters import Replicated
from examples.apply_tags import Client
from tests.e2e.conftest import Server, StartServer, start_server  # noqa: F401  (a fixture)
from tests.e2e.test_clients import TOKEN, node, run_node_test  # noqa: F401  (a fixture)

pytestmark = pytest.mark.e2e

CREATE = "mutation ($name: String!) { createProduct(input: {name: $name}) { product { id } } }"
NAMES = "{ products(first: 10) { nodes { name } } }"


@pytest.fixture
def server(start_server: StartServer, replicated: Replicated) -> Iterator[Server]:  # noqa: F811
    """A server reading from the replica (once its monitor finds it fit), replay paused."""
    server = start_server(
        replicated.primary_url,
        CATALOG_READ_DATABASE_URLS=replicated.standby_url,
        CATALOG_REPLICA_MAX_LAG_MS="60000",
        CATALOG_WRITE_TOKENS=TOKEN,
    )
    deadline = time.monotonic() + 30
    while not all(r["healthy"] for r in httpx.get(f"{server.url}/readyz").json()["replicas"]):
        assert time.monotonic() < deadline, "the replica never became fit to serve"
        time.sleep(0.1)
    replicated.pause_replay()
    yield server


def test_node_clients_read_their_writes_with_the_token(node: str, server: Server) -> None:  # noqa: F811
    run_node_test(node, "consistency.test.js", server.graphql)


def test_the_apply_tags_client_reads_its_writes_with_the_token(server: Server) -> None:
    script = Client(server.graphql, TOKEN)
    script.run(CREATE, name="Lamp")

    assert Client(server.graphql, TOKEN).run(NAMES)["products"]["nodes"] == []
    assert script.run(NAMES)["products"]["nodes"] == [{"name": "Lamp"}]
