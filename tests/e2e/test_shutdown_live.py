"""SIGTERM with subscribers: each is handed what was committed before, then a WebSocket
closes with 1001 (going away) and an event stream ends with `complete`; the process exits
0 well within the grace, held by no long-lived connection."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.conftest import StartServer, graphql

pytestmark = [pytest.mark.e2e]

TOKEN = "shutdown-live-token"
GRACE_S = 20
CHANGES = "subscription { catalogChanges { cursor kind } }"
CREATE = 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }'


async def test_sigterm_closes_sockets_1001_and_streams_with_complete(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server(
        database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_SHUTDOWN_GRACE_MS=str(GRACE_S * 1000)
    )
    ws_url = server.graphql.replace("http://", "ws://")
    async with (
        connect(
            ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None
        ) as ws,
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "GET",
            server.graphql,
            params={"query": CHANGES},
            headers={"Accept": "text/event-stream"},
        ) as stream,
    ):
        async with asyncio.timeout(10):
            await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
            assert orjson.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(
                orjson.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}}
                ).decode()
            )
            assert stream.status_code == 200
            # Both subscriptions are open once a write reaches both.
            graphql(server, TOKEN, CREATE)
            first = orjson.loads(await ws.recv())
            assert first["type"] == "next", first
            lines = stream.aiter_lines()
            assert await _next_event(lines) == "next"

        graphql(server, TOKEN, CREATE)  # committed just before the signal
        sent = time.monotonic()
        server.process.send_signal(signal.SIGTERM)

        async with asyncio.timeout(10):
            socket_saw: list[str] = []
            try:
                while True:
                    socket_saw.append(orjson.loads(await ws.recv())["type"])
            except ConnectionClosed:
                pass
            stream_saw = [await _next_event(lines), await _next_event(lines)]
    assert socket_saw == ["next", "complete"]
    assert ws.close_code == 1001
    assert stream_saw == ["next", "complete"]
    assert await asyncio.to_thread(server.process.wait, GRACE_S) == 0
    assert time.monotonic() - sent < GRACE_S / 2  # not held until the grace ends


async def _next_event(lines: AsyncIterator[str]) -> str:
    """The name of the stream's next event (comments skipped)."""
    async for line in lines:
        if line.startswith("event:"):
            return line[len("event:") :].strip()
    return "(end of stream)"
