"""Operations over Server-Sent Events: the graphql-sse protocol's distinct connections mode,
for clients behind proxies that block WebSockets.

A request to /graphql that accepts `text/event-stream` (GET or POST, one operation) is
answered with an event stream: each result as a `next` event, then `complete`. Errors found
before execution (syntax, validation, limits) come as a `next` event too, as the protocol
asks, so an EventSource sees them. A comment line every keep-alive interval keeps proxies
from closing a quiet stream; the client ends a subscription by closing the connection.

The request has passed the same middlewares, CORS and CSRF rules, token checks and
persisted-document expansion as any other; its document the same plans and limits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import StreamingResponse
from strawberry.types import ExecutionResult

from resolvers.live import LiveContext
from schema import CatalogSchema

EVENT_STREAM = "text/event-stream"
_COMPLETE = b"event: complete\ndata:\n\n"
_PING = b": keep-alive\n\n"
_DONE = object()


def wants_events(accept: str | None) -> bool:
    """Whether the client asks for an event stream (and not for JSON first)."""
    if not accept:
        return False
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first == EVENT_STREAM or (
        EVENT_STREAM in accept.lower() and "json" not in accept.lower()
    )


def event_stream(
    schema: CatalogSchema, context: LiveContext, operation: dict[str, Any], keepalive_s: float
) -> StreamingResponse:
    return StreamingResponse(
        _events(schema, context, operation, keepalive_s),
        media_type=EVENT_STREAM,
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on as it comes
        },
    )


async def _events(
    schema: CatalogSchema, context: LiveContext, operation: dict[str, Any], keepalive_s: float
) -> AsyncIterator[bytes]:
    results = await schema.stream(
        operation.get("query"),
        variable_values=operation.get("variables"),
        context_value=context,
        operation_name=operation.get("operationName"),
    )
    # One result at a time between the operation and the socket: a client that reads
    # slowly holds its operation back (and the feed then cuts it off), never the server.
    handed: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    async def pump() -> None:
        try:
            async for result in results:
                await handed.put(result)
        except Exception as error:  # an error escaping the operation ends its stream
            await handed.put(ExecutionResult(data=None, errors=[_unexpected(error)]))
        finally:
            await handed.put(_DONE)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(keepalive_s):
                    result = await handed.get()
            except TimeoutError:
                yield _PING
                continue
            if result is _DONE:
                break
            yield _next(result)
        yield _COMPLETE
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await results.aclose()


def _next(result: Any) -> bytes:
    body: dict[str, Any] = {}
    if getattr(result, "data", None) is not None or not getattr(result, "errors", None):
        body["data"] = getattr(result, "data", None)
    if getattr(result, "errors", None):
        body["errors"] = [error.formatted for error in result.errors]
    if getattr(result, "extensions", None):
        body["extensions"] = result.extensions
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


def _unexpected(error: Exception) -> GraphQLError:
    return GraphQLError(
        "The operation failed unexpectedly", extensions={"code": "INTERNAL_SERVER_ERROR"}
    )
