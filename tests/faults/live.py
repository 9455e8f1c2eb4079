"""Live clients for the fault tests: followers of `catalogChanges` over WebSocket
(graphql-transport-ws, through the `websockets` package) and over Server-Sent Events
(graphql-sse, through httpx), a writer that goes on through faults, and the log as
`Query.changes` reads it over HTTP.

A `Follower` does what docs/live.md asks of a client: it keeps the last cursor it received
and, whenever its stream ends (the socket drops, the server dies, the stream answers an
error), subscribes again with `after` set to it, on the same server or the next one. What
it received (`events`) is then compared with the log, position by position.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from tests.hardening.api import WRITE

FOLLOW = """
subscription ($after: String) {
  catalogChanges(after: $after) { cursor kind productId tagId priority }
}
"""
CHANGES = """
query ($after: String) {
  changes(first: 100, after: $after) {
    edges { cursor node { kind productId tagId priority } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_PRODUCT = (
    "mutation ($name: String!) { createProduct(input: {name: $name}) { product { id } } }"
)
ADD_TAGS = """
mutation ($input: AddTagsInput!) { addTags(input: $input) { userErrors { code } } }
"""
PROTOCOL = Subprotocol("graphql-transport-ws")

Change = tuple[str, str, str | None, str | None, int | None]  # cursor, kind, ids, priority


def change(node: dict[str, Any], cursor: str) -> Change:
    return (cursor, node["kind"], node["productId"], node["tagId"], node["priority"])


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/graphql"


async def log_after(client: httpx.AsyncClient, server: str, after: str | None) -> list[Change]:
    """Every change of the log after `after` (from the start without it), paging over HTTP."""
    found: list[Change] = []
    while True:
        payload = {"query": CHANGES, "variables": {"after": after}}
        response = await client.post(f"{server}/graphql", json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        page = body["data"]["changes"]
        found += [change(edge["node"], edge["cursor"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def last_cursor(client: httpx.AsyncClient, server: str, after: str | None) -> str | None:
    entries = await log_after(client, server, after)
    return entries[-1][0] if entries else after


class Socket:
    """One graphql-transport-ws connection: init, subscribe, and its messages as they come
    (pings answered on the way)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = itertools.count(1)

    @classmethod
    async def open(cls, http_url: str, **options: Any) -> Socket:
        connection = await connect(
            ws_url(http_url), subprotocols=[PROTOCOL], open_timeout=10, **options
        )
        socket = cls(connection)
        await socket.send({"type": "connection_init", "payload": {}})
        ack = await socket.receive()
        assert ack["type"] == "connection_ack", ack
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def subscribe(self, query: str, **variables: Any) -> str:
        operation = str(next(self._ids))
        payload = {"query": query, "variables": variables}
        await self.send({"id": operation, "type": "subscribe", "payload": payload})
        return operation

    async def receive(self) -> dict[str, Any]:
        """The next message that is not a ping (ConnectionClosed when the socket ends)."""
        while True:
            message: dict[str, Any] = json.loads(await self.connection.recv())
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] != "pong":
                return message

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close()


def error_codes(errors: Sequence[dict[str, Any]]) -> list[str]:
    return [str((e.get("extensions") or {}).get("code")) for e in errors]


@dataclass
class Follower:
    """Follows catalogChanges after `start` on `servers` (by their http URLs), over
    `transport` ("ws" or "sse"), resuming after every end with its last cursor.

    `ends` counts how its streams ended: "closed" (the connection dropped or could not be
    made), "complete", or "error:<CODE>" for an error the stream answered.
    """

    servers: list[str]
    transport: str
    start: str | None
    events: list[Change] = field(default_factory=list)
    ends: Counter[str] = field(default_factory=Counter)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _received: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: int = 0

    @property
    def last(self) -> str | None:
        return self.events[-1][0] if self.events else self.start

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until `stop` is set, resuming after each end (a short pause between)."""
        while not stop.is_set():
            stream = self._ws() if self.transport == "ws" else self._sse()
            ending = asyncio.ensure_future(stop.wait())
            try:
                async for item in _until(stream, ending):
                    async with self._received:
                        self.events.append(item)
                        self._received.notify_all()
            finally:
                ending.cancel()
            if not stop.is_set():
                await asyncio.sleep(0.1)

    async def reach(self, count: int) -> None:
        """Wait until `count` events were received in all."""
        async with self._received:
            await self._received.wait_for(lambda: len(self.events) >= count)

    async def reach_cursor(self, cursor: str | None) -> None:
        """Wait until the last event received is the one at `cursor`."""
        async with self._received:
            await self._received.wait_for(lambda: self.last == cursor)

    def switch(self) -> None:
        self._server = (self._server + 1) % len(self.servers)

    async def _ws(self) -> AsyncIterator[Change]:
        try:
            socket = await Socket.open(self.servers[self._server])
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            self.ends["closed"] += 1
            self.switch()
            return
        try:
            await socket.subscribe(FOLLOW, after=self.last)
            self.subscribed.set()
            while True:
                message = await socket.receive()
                if message["type"] == "complete":
                    self.ends["complete"] += 1
                    return
                payload = message["payload"]
                errors = payload if message["type"] == "error" else payload.get("errors")
                if errors:
                    self.ends.update(f"error:{code}" for code in error_codes(errors))
                    return
                node = payload["data"]["catalogChanges"]
                yield change(node, node["cursor"])
        except (ConnectionClosed, OSError):
            self.ends["closed"] += 1
            self.switch()
        finally:
            await socket.close()

    async def _sse(self) -> AsyncIterator[Change]:
        headers = {"Accept": "text/event-stream"}
        payload = {"query": FOLLOW, "variables": {"after": self.last}}
        url = f"{self.servers[self._server]}/graphql"
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
                client.stream("POST", url, json=payload, headers=headers) as response,
            ):
                if response.status_code != 200:
                    self.ends[f"status:{response.status_code}"] += 1
                    return
                self.subscribed.set()
                async for event, data in _sse_events(response):
                    if event == "complete":
                        self.ends["complete"] += 1
                        return
                    if data.get("errors"):
                        self.ends.update(f"error:{code}" for code in error_codes(data["errors"]))
                        continue  # `complete` follows
                    node = data["data"]["catalogChanges"]
                    yield change(node, node["cursor"])
            self.ends["closed"] += 1
        except httpx.TransportError:
            self.ends["closed"] += 1
            self.switch()


async def _sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(event, data) of an event stream; comments (keep-alives) skipped."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line == "":
            if data or event == "complete":
                yield event, (json.loads(data) if data else {})
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data += line[len("data:") :].strip()


async def _until(
    stream: AsyncIterator[Change], ending: asyncio.Future[Any]
) -> AsyncIterator[Change]:
    """The stream's items until it ends or `ending` is done (then it is closed)."""
    iterator = aiter(stream)
    try:
        while True:
            step = asyncio.ensure_future(anext(iterator))
            await asyncio.wait([step, ending], return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await step
                return
            try:
                yield step.result()
            except StopAsyncIteration:
                return
    finally:
        with contextlib.suppress(Exception):
            await iterator.aclose()  # type: ignore[attr-defined]


@dataclass
class Writer:
    """Writes through `server` until stopped: products, each with `tags` new tags (1 + 2 *
    `tags` changes, in two requests). A write that fails (the server or its database down)
    is sent again; only acknowledged ones are counted, with the products they created."""

    client: httpx.AsyncClient
    server: str
    name: str = "w"
    padding: str = ""  # appended to product names, to make events larger
    tags: int = 2
    acknowledged: int = 0
    products: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    _acknowledged: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The answer's data, or None when the write was not acknowledged."""
        try:
            response = await self.client.post(
                f"{self.server}/graphql",
                json={"query": query, "variables": variables},
                headers=WRITE,
            )
        except httpx.TransportError as error:
            self.failures[type(error).__name__] += 1
            return None
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if response.status_code != 200 or body.get("errors"):
            self.failures[f"status:{response.status_code}"] += 1
            return None
        data: dict[str, Any] = body["data"]
        for answer in data.values():  # a refused write is a mistake of the test's own
            assert not (answer or {}).get("userErrors"), body
        return data

    async def until_acknowledged(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Send the write again and again (a pause between) until it is acknowledged."""
        for _attempt in itertools.count():
            data = await self.post(query, variables)
            if data is not None:
                async with self._acknowledged:
                    self.acknowledged += 1
                    self._acknowledged.notify_all()
                return data
            await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    async def write_one(self, n: int) -> None:
        """One product with two new tags, each write sent until it is acknowledged."""
        data = await self.until_acknowledged(
            CREATE_PRODUCT, {"name": f"{self.name}-{n}{self.padding}"}
        )
        product = data["createProduct"]["product"]["id"]
        self.products.append(product)
        tags: list[dict[str, Any]] = [{"name": f"{self.name}-{n}-{t}"} for t in range(self.tags)]
        tags[0]["priority"] = n
        await self.until_acknowledged(ADD_TAGS, {"input": {"productId": product, "tags": tags}})

    async def reach(self, count: int) -> None:
        """Wait until `count` writes were acknowledged in all."""
        async with self._acknowledged:
            await self._acknowledged.wait_for(lambda: self.acknowledged >= count)

    async def run(self, stop: asyncio.Event, pause: float = 0.02) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await self.write_one(n)
            await asyncio.sleep(pause)


async def caught_up(followers: Sequence[Follower], head: str | None, within: float) -> None:
    """Wait until every follower has received the log up to `head`."""
    async with asyncio.timeout(within):
        await asyncio.gather(*(f.reach_cursor(head) for f in followers))
