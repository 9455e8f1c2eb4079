"""Speaking to the long-lived side of /graphql over real sockets.

`serving(database_url, **overrides)` runs the app, built from Settings as `make_client`
builds it, in a uvicorn server of its own on a free port of this process's loop: the
client's bytes cross a real TCP connection, and the test still sees the app (its feed).
`socket(...)` opens a graphql-transport-ws WebSocket; `events(...)` reads an event stream.
Every wait is bounded: a server that stays silent fails the test, it never hangs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from server.app import create_app
from server.config.settings import Settings
from tests.e2e.conftest import free_port
from tests.hardening.api import WRITE_TOKEN

WAIT_S = 5.0  # the longest any single step may take
CHANGES = "subscription ($after: String) { catalogChanges(after: $after) { cursor kind } }"
CREATE = 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }'


@dataclass
class LiveServer:
    app: Starlette
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def subscribers(self) -> int:
        """Subscriptions open in the process (the feed's own count)."""
        return int(self.app.state.feed.subscribers)


@asynccontextmanager
async def serving(database_url: str, **overrides: Any) -> AsyncIterator[LiveServer]:
    settings = Settings(
        **{"database_url": database_url, "write_tokens": (WRITE_TOKEN,)} | overrides
    )
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT_S * 2):
            while not server.started:
                assert not task.done(), "the server did not start"
                await asyncio.sleep(0.02)
        yield LiveServer(app, port)
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT_S * 2):
            await task


@asynccontextmanager
async def socket(
    server: LiveServer,
    *,
    token: str | None = None,
    origin: str | None = None,
    init: bool = True,
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection; with `init`, initialised (and acknowledged)."""
    headers = {"Origin": origin} if origin else {}
    async with connect(
        server.ws,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        open_timeout=WAIT_S,
        ping_interval=None,
    ) as ws:
        if init:
            await send_init(ws, token)
            assert await receive(ws) == {"type": "connection_ack"}
        yield ws


async def send_init(ws: ClientConnection, token: str | None) -> None:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await send(ws, {"type": "connection_init", "payload": payload})


async def send(ws: ClientConnection, message: Mapping[str, Any]) -> None:
    await ws.send(orjson.dumps(message).decode())


async def subscribe(
    ws: ClientConnection, op_id: str, query: str = CHANGES, **variables: Any
) -> None:
    await send(
        ws, {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )


async def receive(ws: ClientConnection, within_s: float = WAIT_S) -> dict[str, Any]:
    async with asyncio.timeout(within_s):
        message: dict[str, Any] = orjson.loads(await ws.recv())
    return message


async def close_code(ws: ClientConnection, within_s: float = WAIT_S) -> int | None:
    """The code the server closes the socket with (reading, and dropping, what comes first)."""
    async with asyncio.timeout(within_s):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    return ws.close_code


def error_codes(payload: Any) -> list[str]:
    """The codes of a graphql-transport-ws `error` payload, or of a `next` result's errors."""
    errors = payload.get("errors", []) if isinstance(payload, dict) else payload
    return [(error.get("extensions") or {}).get("code", "") for error in errors]


@dataclass
class Event:
    name: str  # "next", "complete", or "" for a comment line
    data: Any


async def events(response: httpx.Response, count: int, within_s: float = WAIT_S) -> list[Event]:
    """The next `count` events (comments too) of an event stream."""
    found: list[Event] = []
    name, data = "", ""
    async with asyncio.timeout(within_s):
        async for line in response.aiter_lines():
            if line.startswith(":"):
                found.append(Event("", line[1:].strip()))
            elif line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data = line[len("data:") :].strip()
            elif line == "" and name:
                found.append(Event(name, orjson.loads(data) if data else None))
                name, data = "", ""
            if len(found) >= count:
                break
    return found


def sse_headers(token: str | None = None, origin: str | None = None) -> dict[str, str]:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if origin:
        headers["Origin"] = origin
    return headers


async def write_product(server: LiveServer) -> None:
    """One committed write, over HTTP with the write token."""
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        response = await client.post(
            server.http,
            json={"query": CREATE},
            headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
        )
    assert response.status_code == 200 and "errors" not in response.json(), response.text


async def count_rows(server: LiveServer, table: str) -> int:
    """Rows of a table, read through the app's own engine."""
    async with server.app.state.engine.connect() as connection:
        return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")))
