"""The time budget of a /graphql request (CATALOG_REQUEST_TIMEOUT_MS).

A request that has not started its response within the budget is cancelled and answered
503 REQUEST_TIMEOUT with Retry-After, in the media type the client accepts (server.request.media).
Statement and lock timeouts inside the database are set within the same budget
(db.engine.timeouts_within), so the database gives up first in the common case.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.refusals.refusal import error_response
from server.request.media import JSON, negotiate
from server.request.state import RequestState


class TimeBudget:
    """Cancel a request that has not started its response within `seconds`."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        try:
            async with asyncio.timeout(self.seconds) as budget:

                async def send_started(message: Message) -> None:
                    nonlocal started
                    if message["type"] == "http.response.start":
                        started = True
                        budget.reschedule(None)  # the answer is ready: let it be sent
                    await send(message)

                await self.app(scope, receive, send_started)
        except TimeoutError:
            if started:
                raise
            RequestState.of(scope).outcome = "timeout"
            media_type = negotiate(Headers(scope=scope).get("accept")) or JSON
            response = error_response(
                503,
                "REQUEST_TIMEOUT",
                f"The request ran past its time budget of {self.seconds * 1000:.0f} ms",
                media_type=media_type,
            )
            await response(scope, receive, send)
