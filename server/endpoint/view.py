"""The /graphql endpoint: GraphQL over HTTP on Strawberry's public `Schema.execute`.

Per request it reads the operations once (server.endpoint.payload), fills in the documents
they name by hash (server.caches.documents), decides the caller's access to every operation
before any runs (server.refusals.auth), checks its rate limits (server.endpoint.metering:
the points of each operation by its plan's cost verdict, judged once with the request's
variables and handed on to the schema), answers a query from the response cache when it may
(server.caches.responses), and otherwise executes each operation once, on the request's one
database handle, closed when the request ends. The request id, log line and metrics
(server.observability.tracking), the time budget (server.refusals.budget) and the body limit
(server.refusals.body_limit) are middlewares around it; what it answers, masked errors
included, is shaped by server.endpoint.results.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from db import data_version
from db.connections import RequestConnection, open_request
from db.replicas import BadPosition, ReplicaSet, parse_position, position_token
from resolvers.context import RequestContext
from schema import CatalogSchema
from schema.plans import Plan
from server.caches.documents import DocumentRefused, Documents, Malformed, expand_documents
from server.caches.responses import CacheableQuery, ResponseStore, cacheable
from server.config.settings import Settings
from server.endpoint.metering import Meter, measure, verdict_of
from server.endpoint.payload import Operation, bad_request, read_body, read_operations
from server.endpoint.results import Results, database_failure, unavailable_response
from server.live.sessions import LiveSessions
from server.live.sse import event_stream, wants_events
from server.playground.page import page_response
from server.refusals.auth import Caller, Tokens
from server.refusals.rate_limit import RateLimits
from server.refusals.refusal import Refusal, error_response, refusal_response
from server.request.client import Client, Clients
from server.request.headers import header
from server.request.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate, request_error_status
from server.request.state import RequestState

# A mutation's consistency token goes out in this header; a client sends it back in it.
CONSISTENCY_HEADER = "Catalog-Consistency-Token"
_CONSISTENCY_NAME = CONSISTENCY_HEADER.lower().encode()


class CatalogView:
    """The /graphql endpoint (an ASGI app): GET and POST, single operations and batches."""

    def __init__(
        self,
        schema: CatalogSchema,
        databases: AsyncEngine | ReplicaSet,
        settings: Settings,
        documents: Documents,
        store: ResponseStore | None = None,
        live: LiveSessions | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self._schema = schema
        self._plans = schema.plans
        self._databases = databases
        self._documents = documents
        self._store = store
        self._tokens = Tokens(write=settings.write_tokens, read=settings.read_tokens)
        self._limits = schema.limits
        self._max_batch = settings.max_batch
        self._graphiql = settings.graphiql
        # Traced statements are SQLAlchemy's: with tracing on, reads stay on its cursor.
        self._direct_reads = not settings.otel_endpoint
        # Subscriptions over Server-Sent Events, and the feed this process's commits wake.
        self._live = live
        self._keepalive_s = settings.keepalive_ms / 1000
        self._rate = rate_limits or RateLimits()
        self._clients = Clients(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._respond(Request(scope, receive), RequestState.of(scope))
        await response(scope, receive, send)

    async def _respond(self, request: Request, state: RequestState) -> Response:
        media_type = JSON
        method = request.method
        try:
            body = await read_body(request.receive) if method == "POST" else b""
            events = self._live is not None and wants_events(header(request.scope, b"accept"))
            if not events:  # an event stream's refusals, before it starts, are JSON
                media_type = self._media_type(request)
            caller = self._tokens.caller(header(request.scope, b"authorization"))
            if method not in ("GET", "POST"):
                raise Refusal(405, "BAD_REQUEST", "GraphQL only supports GET and POST requests.")
            payload = await expand_documents(
                self._documents, read_operations(request, body, self._max_batch)
            )
            if isinstance(payload, dict) and _wants_graphiql(request, payload.get("query")):
                if not self._graphiql:
                    raise Refusal(404, "BAD_REQUEST", "Not Found")
                return page_response()
            client = self._clients.of(request.scope, header(request.scope, b"authorization"))
            if events:
                return await self._stream(payload, caller, client, state)
            operations = payload if isinstance(payload, list) else [payload]
            # Every operation is planned and decided before any runs or a handle opens.
            plans = [self._check(op, caller, method, state) for op in operations]
            verdicts = [verdict_of(op, plan) for op, plan in zip(operations, plans, strict=True)]
            with self._rate.running(client):
                meter = await measure(self._rate, client, plans, verdicts)
                async with self._database(plans, request) as db:
                    response = await self._answer(
                        request, payload, plans, caller, db, state, media_type, meter
                    )
                    if db.committed_at is not None:
                        response.headers[CONSISTENCY_HEADER] = position_token(db.committed_at)
                    if db.committed_version is not None and self._live is not None:
                        self._live.feed.wake()  # this process's subscribers hear of it at once
                    if meter is not None and meter.budget is not None:
                        response.headers.update(self._rate.headers(meter.budget))
                    return response
        except DocumentRefused as refused:
            state.refused(refused.code)
            status = 400 if isinstance(refused, Malformed) else request_error_status(media_type)
            return error_response(
                status,
                refused.code,
                refused.message,
                {"Cache-Control": "no-store"},  # a CDN must not keep a refusal of a GET
                media_type,
            )
        except Refusal as refusal:
            return refusal_response(refusal, state, media_type)
        except Exception as error:
            code, message = database_failure(error)
            if code is None:
                raise
            return unavailable_response(code, message, state, media_type)

    async def _stream(
        self,
        payload: Operation | list[Operation],
        caller: Caller,
        client: Client,
        state: RequestState,
    ) -> Response:
        """One operation answered as an event stream (server.live.sse): a subscription, or
        a query; refused like any request before the stream starts."""
        assert self._live is not None
        if isinstance(payload, list):
            raise bad_request("An event stream carries one operation, not a batch")
        plan = self._check(payload, caller, "GET", state, streaming=True)
        if plan is not None and plan.operation_type == "mutation":
            raise Refusal(
                400,
                "OPERATION_NOT_SUPPORTED",
                "Mutations are not accepted over an event stream; POST them as JSON",
            )
        # Opening a stream costs its document's points; each caller may keep a number open.
        closed = await self._live.open(client, plan, payload.get("variables"))
        context = self._live.context(state.request_id)
        self._live.admit(context, caller)
        response = event_stream(self._schema, context, dict(payload), self._keepalive_s)
        response.background = BackgroundTask(closed)
        return response

    def _database(self, plans: list[Plan | None], request: Request) -> RequestConnection:
        """The request's one database handle, closed when the request ends: whether any of
        its operations may write, and the client's consistency token, decide which
        database node serves its reads (db.replicas)."""
        writes = any(plan is not None and plan.operation_type == "mutation" for plan in plans)
        return open_request(
            self._databases,
            writes=writes,
            min_position=_position(request),
            direct_reads=self._direct_reads,
        )

    async def _answer(
        self,
        request: Request,
        payload: Operation | list[Operation],
        plans: list[Plan | None],
        caller: Caller,
        db: RequestConnection,
        state: RequestState,
        media_type: str,
        meter: Meter | None = None,
    ) -> Response:
        batch = isinstance(payload, list)
        operations = payload if isinstance(payload, list) else [payload]
        context = RequestContext(
            db=db,
            limits=self._limits,
            access="write" if self._tokens.may_write(caller) else "read",
            request_id=state.request_id,
            # The loaders serve every operation of a batch: one that reads a timestamp
            # makes them all read theirs.
            timestamps=any(plan is None or plan.reads_timestamps for plan in plans),
        )
        method = request.method
        allowed = self._tokens.allowed(caller, method)
        query = (
            self._cacheable(payload, plans[0], caller, meter) if isinstance(payload, dict) else None
        )
        if query is not None:
            assert self._store is not None
            key = query.key(await data_version.current(db))
            cached = await self._store.get(key)
            if cached is not None:
                state.outcome, state.cache = "cache_hit", "hit"
                db.settled()  # its one statement, the data version, was awaited
                if meter is not None:  # no row read: the least an operation costs
                    cached = await self._charged(cached, meter)
                return Response(cached, media_type=media_type, headers={"x-cache": "hit"})
        results = Results(state, media_type)
        try:
            for index, (operation, plan) in enumerate(zip(operations, plans, strict=True)):
                context.plan = plan
                read_before = context.nodes_read
                if meter is not None:
                    context.verdict, context.budget = meter.verdicts[index], meter.budget
                result = await self._execute(operation, context, allowed, method, caller)
                cost = None
                if meter is not None and plan is not None:
                    read = context.nodes_read - read_before
                    cost = await meter.charge(self._rate, index, plan.operation_type, read)
                results.add(result, cost)
        finally:
            context.release()
        if not results.had_errors:
            # No field failed, so every statement asked for was awaited: none is pending.
            db.settled()
        committed = db.committed_at
        response = results.response(batch, None if committed is None else position_token(committed))
        if query is not None:
            if response.status_code == 200 and not results.had_errors:
                # Filed without its cost: each answer from the cache is charged anew.
                stored = results.response(batch, None, costs=False).body
                await self._store.put(key, bytes(stored))  # type: ignore[union-attr]
            response.headers["x-cache"] = state.cache = "miss"
        return response

    def _check(
        self,
        operation: Operation,
        caller: Caller,
        method: str,
        state: RequestState,
        *,
        streaming: bool = False,
    ) -> Plan | None:
        """The operation's plan, made once (None without a document: the schema says why);
        refused before it runs when the caller may not run it or the document is ambiguous."""
        query, name = operation.get("query"), operation.get("operationName")
        plan = self._plans.plan(query, name) if isinstance(query, str) and query else None
        if plan is None:
            state.operation, state.operation_type = name, None
        else:
            state.operation, state.operation_type = plan.chosen_name, plan.operation_type
        self._tokens.check_caller(caller)
        if plan is None or plan.parse_error is not None:
            return plan  # the schema answers with the syntax error or the limit
        if name is None and plan.operation_count > 1:
            raise bad_request("Must provide operation name if query contains multiple operations")
        if not streaming:  # an event stream takes subscriptions and queries alike
            self._tokens.check_operation(caller, method, plan.operation_type)
        return plan

    async def _execute(
        self,
        operation: Operation,
        context: RequestContext,
        allowed: frozenset[OperationType],
        method: str,
        caller: Caller,
    ) -> ExecutionResult:
        try:
            return await self._schema.execute(
                operation.get("query"),
                variable_values=operation.get("variables"),
                context_value=context,
                operation_name=operation.get("operationName"),
                allowed_operation_types=allowed,
                operation_extensions=operation.get("extensions"),
            )
        except InvalidOperationTypeError as error:
            raise self._tokens.refusal(error.operation_type, method, caller) from error
        except CannotGetOperationTypeError as error:
            raise bad_request(error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise bad_request("No GraphQL query found in the request") from error

    async def _charged(self, cached: bytes, meter: Meter) -> bytes:
        """A cached answer with the cost of this answer from the cache in its extensions."""
        verdict = meter.verdicts[0]
        cost = await meter.charge(self._rate, 0, "query", 0) if verdict is not None else None
        if cost is None:
            return cached
        body = orjson.loads(cached)
        body["extensions"] = {**(body.get("extensions") or {}), "cost": cost}
        return orjson.dumps(body)

    def _cacheable(
        self, payload: Operation, plan: Plan | None, caller: Caller, meter: Meter | None
    ) -> CacheableQuery | None:
        if self._store is None or plan is None or not self._tokens.may_read(caller):
            return None
        verdict = meter.verdicts[0] if meter is not None else None
        if verdict is not None and verdict.reads_budget:
            return None  # the budget changes with every request
        access = "write" if self._tokens.may_write(caller) else "read"
        return cacheable(plan, payload.get("variables"), access)

    def _media_type(self, request: Request) -> str:
        """The response's media type (server.request.media); 406 when the client accepts none of
        ours, unless it is a browser asking for the GraphiQL page."""
        media_type = negotiate(header(request.scope, b"accept"))
        if media_type is not None:
            return media_type
        if _wants_graphiql(request, request.query_params.get("query")):
            return JSON
        raise Refusal(
            406,
            "NOT_ACCEPTABLE",
            f"This server answers in {GRAPHQL_RESPONSE_JSON} or {JSON}; the Accept header "
            "names neither",
        )


def _position(request: Request) -> int | None:
    """The client's consistency token (a mutation's, sent back), as a position; refused
    with 400 when it is not one this server issues."""
    token = header(request.scope, _CONSISTENCY_NAME)
    if token is None:
        return None
    try:
        return parse_position(token)
    except BadPosition:
        raise Refusal(
            400,
            "BAD_REQUEST",
            f"The {CONSISTENCY_HEADER} header is not a consistency token; send back the "
            "token of a mutation's response as it came",
        ) from None


def _wants_graphiql(request: Request, query: Any) -> bool:
    """A browser's GET without a query: it is answered GraphiQL's page."""
    if request.method != "GET" or query is not None:
        return False
    accept = header(request.scope, b"accept") or ""
    return "text/html" in accept or "*/*" in accept
