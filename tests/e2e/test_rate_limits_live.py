"""Rate limits on subscriptions over a real WebSocket: opening one costs its document's
points, each caller may keep a number open, and one refused never runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import Server, StartServer

CHANGES = "subscription { catalogChanges { kind } }"  # 1 point
TIMEOUT_S = 10.0


class Socket:
    """One graphql-transport-ws connection, acknowledged."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                message = json.loads(await self.connection.recv())
                if message["type"] != "ping":
                    return dict(message)
                await self.send({"type": "pong"})

    async def subscribe(self, id: str, query: str = CHANGES) -> dict[str, Any]:
        """Subscribe, then ping: the pong when it was accepted, else its error message
        (the server answers a socket's messages in order)."""
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query}})
        await self.send({"type": "ping"})
        answer = await self.receive()
        if answer["type"] == "error":
            assert (await self.receive())["type"] == "pong"
        return answer

    async def complete(self, id: str) -> None:
        await self.send({"id": id, "type": "complete"})


@asynccontextmanager
async def socket(server: Server, token: str | None = None) -> AsyncIterator[Socket]:
    url = server.graphql.replace("http://", "ws://")
    async with connect(url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        opened = Socket(connection)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await opened.send({"type": "connection_init", "payload": payload})
        assert (await opened.receive())["type"] == "connection_ack"
        yield opened


def code(answer: dict[str, Any]) -> str | None:
    return answer["payload"][0]["extensions"]["code"] if answer["type"] == "error" else None


async def subscribe_once_released(on: Socket, id: str) -> dict[str, Any]:
    """Subscribe until the cap lets it in: a subscription completed elsewhere is counted
    closed once its task has ended, a moment after `complete`. A refusal charges nothing."""
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            answer = await on.subscribe(id)
            if code(answer) != "TOO_MANY_SUBSCRIPTIONS":
                return answer
            await asyncio.sleep(0.05)


async def post(server: Server, query: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        return await client.post(
            server.graphql, json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture
def server(start_server: StartServer, database_url: str) -> Server:
    return start_server(
        database_url,
        CATALOG_RATE_LIMIT="13/hour",
        CATALOG_MAX_SUBSCRIPTIONS_PER_CLIENT="2",
        CATALOG_WRITE_TOKENS="a,b",
    )


async def test_a_subscription_costs_its_points_and_counts_against_the_callers_cap(
    server: Server,
) -> None:
    async with socket(server, "a") as first, socket(server, "a") as second:
        assert (await first.subscribe("1"))["type"] == "pong"
        assert (await first.subscribe("2"))["type"] == "pong"  # 11 points left
        # The cap is the caller's, across its sockets; a refusal charges nothing.
        refused = await second.subscribe("3")
        assert code(refused) == "TOO_MANY_SUBSCRIPTIONS"
        assert refused["payload"][0]["extensions"]["retryAfter"] >= 1
        await first.complete("1")
        assert (await subscribe_once_released(second, "4"))["type"] == "pong"  # 10 left

        mutation = 'mutation { createTag(input: {name: "x"}) { tag { id } } }'
        created = await post(server, mutation, "a")
        assert created.json()["extensions"]["cost"]["remaining"] == 0  # 10 points
        # The open subscriptions hear of it; the refused one never ran.
        assert (await first.receive())["id"] == "2"
        assert (await second.receive())["id"] == "4"

        await second.complete("4")
        limited = await subscribe_once_released(second, "5")
        assert code(limited) == "RATE_LIMITED"
        assert limited["payload"][0]["extensions"]["retryAfter"] > 0

        # Another token has a budget and a cap of its own.
        async with socket(server, "b") as other:
            assert (await other.subscribe("1"))["type"] == "pong"

    budget = await post(server, "{ rateLimit { remaining } }", "a")
    assert budget.json()["data"]["rateLimit"]["remaining"] == 0


async def test_anonymous_sockets_are_one_caller_by_their_address(server: Server) -> None:
    async with socket(server) as first, socket(server) as second:
        assert (await first.subscribe("1"))["type"] == "pong"
        assert (await second.subscribe("1"))["type"] == "pong"
        assert code(await second.subscribe("2")) == "TOO_MANY_SUBSCRIPTIONS"
        async with socket(server, "a") as token:
            assert (await token.subscribe("1"))["type"] == "pong"
