"""`python -m bench.subscribers`: many WebSocket subscribers in one asyncio process, for
the live workload (bench/live.py starts a few of these).

Each socket speaks graphql-transport-ws and holds one subscription: subscription i follows
product i mod P, by catalogChanges (filtered to it) or by productChanged, alternately. Every
message is stamped with the receipt time (time.time(), the machine's clock, as the
server's `at`) and kept as it came; it is parsed only after the run, so the loop does
nothing but receive while timing.

The process talks to bench/live.py by lines: it prints `subscribed` once every socket is
acknowledged and has sent its subscription, `seen` once every subscription has had an
event, and on `stop` from stdin closes its sockets, writes what each received to --out
(JSON), and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from websockets.asyncio.client import ClientConnection, connect

CATALOG = "catalogChanges"
PRODUCT = "productChanged"
QUERIES = {
    CATALOG: "subscription($p: ID!) { catalogChanges(filter: {productIds: [$p]}) "
    "{ cursor kind at productId tagId priority } }",
    PRODUCT: "subscription($p: ID!) { productChanged(id: $p) "
    "{ id name tags { nodes { id name } } } }",
}
OPENING_AT_ONCE = 50  # handshakes in flight together


def kind_of(index: int, products: int) -> str:
    """The subscription the index-th socket holds: catalogChanges and productChanged
    alternate over each round of the products."""
    return CATALOG if (index // products) % 2 == 0 else PRODUCT


@dataclass
class Socket:
    kind: str
    product: str
    messages: list[tuple[float, str]] = field(default_factory=list)
    closed: str | None = None
    first: asyncio.Event = field(default_factory=asyncio.Event)  # set at its first event


async def _open(url: str, socket: Socket, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        connection = await connect(
            url,
            subprotocols=["graphql-transport-ws"],
            max_size=None,
            ping_interval=None,  # type: ignore[list-item]
        )
        await connection.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        ack = orjson.loads(await connection.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        query = QUERIES[socket.kind]
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": query}}
        subscribe["payload"]["variables"] = {"p": socket.product}  # type: ignore[index]
        await connection.send(orjson.dumps(subscribe).decode())
        return connection


async def _receive(connection: ClientConnection, socket: Socket) -> None:
    kept = socket.messages
    try:
        async for message in connection:
            kept.append((time.time(), message))  # type: ignore[arg-type]
            if not socket.first.is_set() and '"next"' in message:
                socket.first.set()
            if message.startswith('{"type":"ping"'):
                await connection.send('{"type":"pong"}')
    except Exception as error:  # any end is recorded, and checked after
        socket.closed = f"{type(error).__name__}: {error}"


async def run(url: str, products: list[str], first: int, count: int) -> list[dict[str, object]]:
    sockets = [
        Socket(kind_of(i, len(products)), products[i % len(products)])
        for i in range(first, first + count)
    ]
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    connections = await asyncio.gather(*(_open(url, s, gate) for s in sockets))
    readers = [
        asyncio.create_task(_receive(c, s)) for c, s in zip(connections, sockets, strict=True)
    ]
    print("subscribed", flush=True)
    await asyncio.gather(*(s.first.wait() for s in sockets))
    print("seen", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(connection.close() for connection in connections))
    await asyncio.gather(*readers)
    return [_parsed(s) for s in sockets]


def _parsed(socket: Socket) -> dict[str, object]:
    """What one socket received: (time, cursor or None) per event, and how it ended if it
    did not end by `stop`."""
    events: list[tuple[float, str | None]] = []
    failed = None
    for at, raw in socket.messages:
        message = orjson.loads(raw)
        kind = message.get("type")
        if kind == "next":
            payload = message.get("payload") or {}
            data = payload.get("data") or {}
            if payload.get("errors") or not data.get(socket.kind):
                failed = failed or f"an event with errors: {raw[:300]}"
                continue
            events.append((at, data[socket.kind].get("cursor")))
        elif kind in ("error", "complete"):
            failed = failed or f"{kind}: {raw[:300]}"
    if socket.closed:
        failed = failed or socket.closed
    return {"kind": socket.kind, "product": socket.product, "events": events, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers")
    parser.add_argument("--url", required=True, help="ws://host:port/graphql")
    parser.add_argument("--products", required=True, help="global ids, comma-separated")
    parser.add_argument("--first", type=int, default=0, help="index of the first socket")
    parser.add_argument("--count", type=int, required=True, help="sockets in this process")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    received = asyncio.run(run(args.url, args.products.split(","), args.first, args.count))
    args.out.write_bytes(orjson.dumps(received))


if __name__ == "__main__":
    main()
