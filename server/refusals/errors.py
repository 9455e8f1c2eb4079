"""Every error the server sends is JSON, with a request id: the outermost ASGI middleware.

The GraphQL view masks what fails inside an operation; this catches whatever escapes any
route (a bug, a dependency that raised where nothing expected it) and answers 500 in the
same GraphQL error shape, logging the traceback under the same request id. Without it
Starlette would answer `Internal Server Error` in plain text and uvicorn would log the
traceback outside the JSON log. A request cancelled by a shutdown past its grace is a 503
to retry, not uvicorn's plain-text 500. Starlette's own HTTP errors (404, 405) get the
shape too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.request.state import new_request_id

log = logging.getLogger("catalog.request")

_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class JsonErrors:
    """Answer an exception that escapes the app with a JSON 500 carrying a request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            # Only the server cancels a request: a shutdown whose grace ran out. The work is
            # abandoned (a write rolls back whole), so the client may retry elsewhere.
            if started:
                raise
            response = json_error(
                503,
                "SERVICE_UNAVAILABLE",
                "The server shut down before the request finished; retry the request",
                None,
                {"Retry-After": "1"},
            )
            await response(scope, receive, send)
        except Exception as error:
            if started:  # too late for a response: the client sees the connection end
                _log_unexpected(scope, new_request_id(), error)
                return
            await _internal_error(scope, receive, send, error)
        else:
            if not started:  # uvicorn would answer this in plain text
                await _internal_error(scope, receive, send, None)


async def _internal_error(
    scope: Scope, receive: Receive, send: Send, error: Exception | None
) -> None:
    request_id = new_request_id()
    _log_unexpected(scope, request_id, error)
    response = json_error(
        500,
        "INTERNAL_SERVER_ERROR",
        f"Internal server error (request id {request_id})",
        request_id,
    )
    await response(scope, receive, send)


def _log_unexpected(scope: Scope, request_id: str, error: Exception | None) -> None:
    log.error(
        "unexpected error" if error else "the app returned without a response",
        exc_info=error,
        extra={"fields": {"request_id": request_id, "path": scope.get("path")}},
    )


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's HTTP errors (no such path, wrong method) in the same JSON shape."""
    assert isinstance(error, HTTPException)
    code = _CODES.get(error.status_code, "BAD_REQUEST")
    return json_error(error.status_code, code, str(error.detail), None, error.headers)


def json_error(
    status: int,
    code: str,
    message: str,
    request_id: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    request_id = request_id or new_request_id()
    extensions = {"code": code, "requestId": request_id}
    body = orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={**(headers or {}), "x-request-id": request_id},
    )
