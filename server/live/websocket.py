"""Subscriptions over WebSocket: the graphql-transport-ws protocol, through Strawberry's own
ASGI handler (`strawberry.asgi.GraphQL`) and its documented hooks.

- The handshake: when CATALOG_CORS_ORIGINS is set, a handshake whose Origin is not listed
  is refused (browsers apply no CORS to WebSockets: cross-site WebSocket hijacking).
- `connection_init` must arrive within CATALOG_WS_INIT_TIMEOUT_MS (4408 otherwise); its
  payload's `Authorization: Bearer …` is checked like the header of a request, and a caller
  who may not read is closed with 4403.
- At most CATALOG_MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once on one socket; the
  feed caps the subscribers of the process (CATALOG_MAX_SUBSCRIBERS).
- Keep-alive pings every CATALOG_WS_KEEPALIVE_MS.
- Every document goes through the same plans and limits as a query over HTTP (the schema's
  Planning extension); mutations are refused here: they are accepted over HTTP POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from resolvers.live import LiveContext
from schema import CatalogSchema
from server.live.sessions import LiveSessions
from server.request.headers import header


class LiveSocket(GraphQL[LiveContext, None]):
    """The WebSocket side of /graphql (an ASGI app for `websocket` scopes)."""

    def __init__(
        self,
        schema: CatalogSchema,
        sessions: LiveSessions,
        *,
        allowed_origins: Sequence[str],
        init_timeout_s: float,
        keepalive_s: float,
        max_per_connection: int,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            keep_alive=keepalive_s > 0,
            keep_alive_interval=keepalive_s,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=init_timeout_s),
            max_subscriptions_per_connection=max_per_connection,
        )
        self._sessions = sessions
        self._origins = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self._origin_allowed(scope):
            # Closing before accepting answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": "Origin not allowed"})
            return
        await super().__call__(scope, receive, send)

    def _origin_allowed(self, scope: Scope) -> bool:
        if not self._origins or "*" in self._origins:
            return True
        origin = header(scope, b"origin")
        return origin is None or origin in self._origins  # no Origin: not a browser

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> LiveContext:
        return self._sessions.context()

    async def on_ws_connect(self, context: LiveContext) -> Any:
        params = context.connection_params
        authorization = params.get("Authorization") or params.get("authorization")
        caller = self._sessions.tokens.caller(
            authorization if isinstance(authorization, str) else None
        )
        if not self._sessions.admit(context, caller):
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)
