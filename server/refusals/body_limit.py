"""The size limit of a /graphql request (CATALOG_MAX_BODY_BYTES).

The body, the query string of a GET and a declared Content-Length may each be at most the
limit; anything larger is answered 413 BODY_TOO_LARGE without reading further.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.refusals.refusal import error_response
from server.request.headers import header
from server.request.state import RequestState

CODE = "BODY_TOO_LARGE"


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 to a request whose body or query string is over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if len(scope.get("query_string", b"")) > self.max_bytes or (
            declared and declared.isdigit() and int(declared) > self.max_bytes
        ):
            await self._refuse(scope, receive, send)
            return
        size = 0
        started = False

        async def receive_limited() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    raise _TooLarge
            return message

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_limited, send_started)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        RequestState.of(scope).refused(CODE)
        response = error_response(
            413, CODE, f"The request body may be at most {self.max_bytes} bytes"
        )
        await response(scope, receive, send)
