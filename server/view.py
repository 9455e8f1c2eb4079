"""The /graphql endpoint: Strawberry's ASGI view, given a session and loaders per request."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from resolvers.context import Limits, RequestContext
from server.settings import Settings

SESSION = "catalog.session"
REQUEST_ID = "catalog.request_id"


class CatalogView(GraphQL[RequestContext, None]):
    """GraphQL over HTTP with one database session per request, closed when it ends."""

    def __init__(
        self, schema: Any, sessions: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self._sessions = sessions
        self._limits = Limits(max_items=settings.max_items)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})[REQUEST_ID] = request_id
        async with self._sessions() as session:
            scope["state"][SESSION] = session
            request = Request(scope, receive)
            try:
                response = await self.run(request)
            except HTTPException as error:
                response = error_response(error.status_code, error.reason, "BAD_REQUEST")
            response.headers["x-request-id"] = request_id
            await response(scope, receive, send)

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        return RequestContext(
            session=request.scope["state"][SESSION],
            limits=self._limits,
            request_id=request.scope["state"][REQUEST_ID],
        )

    def decode_json(self, data: str | bytes) -> object:
        parsed = orjson.loads(data)
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def error_response(status: int, message: str, code: str) -> Response:
    """A GraphQL-shaped error body, so clients can read every refusal the same way."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
