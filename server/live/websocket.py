"""Subscriptions over WebSocket: the graphql-transport-ws protocol, through Strawberry's own
ASGI handler (`strawberry.asgi.GraphQL`) and its documented hooks.

- The handshake: a browser's (one with an Origin) is accepted from the server's own
  origin or one of CATALOG_CORS_ORIGINS, else refused with 403 (browsers apply no CORS to
  WebSockets: cross-site WebSocket hijacking).
- `connection_init` must arrive within CATALOG_WS_INIT_TIMEOUT_MS (4408 otherwise); its
  payload's `Authorization: Bearer …` is checked like the header of a request, and a caller
  who may not read is closed with 4403.
- At most CATALOG_MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once on one socket; the
  feed caps the subscribers of the process (CATALOG_MAX_SUBSCRIBERS).
- Keep-alive: a graphql-transport-ws `ping` every CATALOG_KEEPALIVE_MS once the connection
  is acknowledged (Strawberry's own keep-alive serves only the older graphql-ws protocol).
- When the process shuts down (LiveSessions.close), every subscription ends after the
  events handed to it, and the socket then closes with 1001 (going away).
- Rate limits (docs/api.md, "Rate limits"): the caller of a socket is its
  `connection_init` token, else the peer's address. Each operation costs its document's
  points as it opens and counts against the caller's open subscriptions while it runs
  (server.live.sessions); one refused is answered with an `error` message carrying
  RATE_LIMITED, TOO_MANY_SUBSCRIPTIONS or QUERY_TOO_EXPENSIVE (and `retryAfter`), and
  nothing of it runs.
- Every document goes through the same plans and limits as a query over HTTP (the schema's
  Planning extension); mutations are refused here: they are accepted over HTTP POST.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from resolvers.live import LiveContext
from schema import CatalogSchema
from server.live.sessions import LiveSessions
from server.refusals.refusal import Refusal
from server.request.client import Client
from server.request.headers import header

GOING_AWAY = 1001


class LiveSocketHandler(BaseGraphQLTransportWSHandler[LiveContext, None]):
    """Strawberry's graphql-transport-ws handler, plus the keep-alive, the close at
    shutdown, and each operation opened under the caller's rate limits (`LiveSessions.open`)
    and counted closed when its task ends (see the module's docstring)."""

    async def handle(self) -> None:
        view = self.view
        assert isinstance(view, LiveSocket)
        watchers = [asyncio.create_task(self._close_when_the_process_does(view.sessions))]
        if view.keepalive_s > 0:
            watchers.append(asyncio.create_task(self._keep_alive(view.keepalive_s)))
        try:
            await super().handle()
        finally:
            for watcher in watchers:
                watcher.cancel()
            for watcher in watchers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher

    async def _keep_alive(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            if self.connection_acknowledged:
                await self.send_message({"type": "ping"})

    async def _close_when_the_process_does(self, sessions: LiveSessions) -> None:
        await sessions.closing.wait()
        # The feed ends every subscription after what it was handed; queries finish.
        while running := [
            operation.task
            for operation in self.operations.values()
            if operation.task is not None and not operation.task.done()
        ]:
            await asyncio.wait(running)
        await self.websocket.close(code=GOING_AWAY, reason="The server is shutting down")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        view = self.view
        if (
            not isinstance(view, LiveSocket)
            or not self.connection_acknowledged
            or message["id"] in self.operations
            or self._connection_full()
        ):
            await super().handle_subscribe(message)  # refused by the protocol's own rules
            return
        sessions = view.sessions
        payload = message["payload"]
        query = payload.get("query")
        name = payload.get("operationName")
        plan = view.plans.plan(query, name) if isinstance(query, str) and query else None
        try:
            close = await sessions.open(self._client(sessions), plan, payload.get("variables"))
        except Refusal as refusal:
            sessions.rate.refused(refusal.code)
            error = GraphQLError(
                refusal.message, extensions={"code": refusal.code, **refusal.extensions}
            )
            await self.send_message(
                ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
            )
            return
        await super().handle_subscribe(message)
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            close()
        else:
            operation.task.add_done_callback(lambda _task: close())

    def _connection_full(self) -> bool:
        most = self.max_subscriptions_per_connection
        return most is not None and len(self.operations) >= most

    def _client(self, sessions: LiveSessions) -> Client:
        """The socket's caller: its connection_init token, else the peer's address."""
        params = self.context.connection_params
        authorization = params.get("Authorization") or params.get("authorization")
        scope = self.websocket.ws.scope if isinstance(self.websocket, ASGIWebSocketAdapter) else {}
        return sessions.clients.of(scope, authorization if isinstance(authorization, str) else None)


class LiveSocket(GraphQL[LiveContext, None]):
    """The WebSocket side of /graphql (an ASGI app for `websocket` scopes)."""

    graphql_transport_ws_handler_class = LiveSocketHandler

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
        self.plans = schema.plans
        self.keepalive_s = keepalive_s
        self._origins = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self._origin_allowed(scope):
            # Closing before accepting answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": "Origin not allowed"})
            return
        await super().__call__(scope, receive, send)

    @property
    def sessions(self) -> LiveSessions:
        return self._sessions

    def _origin_allowed(self, scope: Scope) -> bool:
        """A handshake with no Origin (not a browser: no ambient credentials to abuse), from
        the server's own origin, or from an origin of CATALOG_CORS_ORIGINS."""
        origin = header(scope, b"origin")
        if origin is None or "*" in self._origins or origin in self._origins:
            return True
        host = header(scope, b"host")
        return host is not None and urlsplit(origin).netloc.lower() == host.lower()

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """Strawberry's own origin check, in the versions that have one: this class has
        decided already (`_origin_allowed`), the same way on every version."""
        return True

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> LiveContext:
        return self.sessions.context()

    async def on_ws_connect(self, context: LiveContext) -> Any:
        params = context.connection_params
        authorization = params.get("Authorization") or params.get("authorization")
        caller = self.sessions.tokens.caller(
            authorization if isinstance(authorization, str) else None
        )
        if not self.sessions.admit(context, caller):
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)
