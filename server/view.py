"""The /graphql endpoint: Strawberry's ASGI view, plus what a public endpoint must add.

Per request: a request id, one database handle (closed when the request ends), the
caller's access from its bearer token, a body size limit, a time budget, masked
unexpected errors, and one structured log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from db import data_version
from db.connections import RequestConnection, open_request
from db.dialects import is_timeout, is_transient, is_unavailable
from db.replicas import BadPosition, ReplicaSet, parse_position, position_token
from db.statements import record_statements
from resolvers.context import RequestContext
from schema.plans import Plan, Plans
from server import playground
from server.auth import Caller, Tokens
from server.cache import CacheableQuery, ResponseStore, cacheable
from server.error_codes import code_for, is_request_error, with_code
from server.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate, request_error_status
from server.metrics import Metrics
from server.payload import read_payload, replay, with_payload
from server.persisted import DocumentRefused, Documents, Malformed, expand_documents
from server.settings import Settings

log = logging.getLogger("catalog.request")

_STATE = "catalog"
# A mutation's consistency token goes out in this header; a client sends it back in it.
CONSISTENCY_HEADER = "Catalog-Consistency-Token"

# Codes that say "not now": the request may well succeed when retried a little later. A
# response carrying one is HTTP 503 with Retry-After (its body still holds any data).
RETRY_LATER = {"REQUEST_TIMEOUT", "TRY_AGAIN", "SERVICE_UNAVAILABLE"}
RETRY_AFTER_SECONDS = 1
_OUTCOMES = {
    "REQUEST_TIMEOUT": "timeout",
    "TRY_AGAIN": "transient",
    "SERVICE_UNAVAILABLE": "unavailable",
}


class Refusal(Exception):
    """The request is refused before (or instead of) execution, with an HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class RequestState:
    request_id: str
    db: RequestConnection | None = None
    caller: Caller = "anonymous"
    operation: str | None = None
    operation_type: str | None = None  # query or mutation, once known
    plan: Plan | None = None  # of the request's one operation, once made
    outcome: str = "ok"
    refusals: set[str] = field(default_factory=set)  # codes of refusals, for metrics
    had_errors: bool = False
    media_type: str = JSON
    results: int = 0  # GraphQL results in the response (several for a batch)
    request_errors: int = 0  # of which failed before execution
    retry_later: bool = False  # an error of RETRY_LATER: the answer is a 503


class CatalogView(GraphQL[RequestContext, None]):
    """GraphQL over HTTP for the catalog."""

    def __init__(
        self,
        schema: Any,
        databases: AsyncEngine | ReplicaSet,
        settings: Settings,
        documents: Documents,
        store: ResponseStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self._databases = databases
        self._documents = documents
        self._store = store
        self._metrics = metrics
        self._tokens = Tokens(write=settings.write_tokens, read=settings.read_tokens)
        self._plans: Plans = schema.plans
        self._limits = schema.limits
        self._max_body = settings.max_body_bytes
        self._budget = settings.request_timeout_ms / 1000
        self._max_batch = settings.max_batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: refuse websockets politely
            await send({"type": "websocket.close", "code": 1003})
            return
        state = RequestState(request_id=uuid.uuid4().hex[:16])
        started = time.perf_counter()
        with record_statements() as statements:
            try:
                async with asyncio.timeout(self._budget):
                    response = await self._respond(scope, receive, state)
            except TimeoutError:
                state.outcome = "timeout"
                response = error_response(
                    503,
                    "REQUEST_TIMEOUT",
                    f"The request ran past its time budget of {self._budget * 1000:.0f} ms",
                    media_type=state.media_type,
                )
        if state.retry_later and response.status_code == 200:
            response.status_code = 503
        if response.status_code == 503:
            response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        response.headers["x-request-id"] = state.request_id
        seconds = time.perf_counter() - started
        log.info(
            "request",
            extra={
                "fields": {
                    "request_id": state.request_id,
                    "method": scope.get("method"),
                    "operation": state.operation,
                    "status": response.status_code,
                    "outcome": state.outcome,
                    "duration_ms": round(seconds * 1000, 2),
                    "statements": statements.count,
                }
            },
        )
        if self._metrics is not None:
            self._metrics.observe_request(
                operation=state.operation,
                operation_type=state.operation_type,
                outcome=state.outcome,
                seconds=seconds,
                statements=statements.count,
                cache=response.headers.get("x-cache"),
                refusals=state.refusals,
            )
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive, state: RequestState) -> Response:
        try:
            body = await self._limited_body(scope, receive)
            state.media_type = self._media_type(Request(scope))
            state.caller = self._tokens.caller(Request(scope).headers.get("authorization"))
            payload = read_payload(Request(scope), body)
            expanded = await expand_documents(self._documents, payload)
            if expanded is not payload:
                scope, body = with_payload(scope, expanded)
            async with self._open_database(expanded, state, Request(scope)) as db:
                state.db = db
                scope.setdefault("state", {})[_STATE] = state
                request = Request(scope, replay(body))
                query = self._cacheable(expanded, state)
                if query is None:
                    response = await self.run(request)
                else:
                    response = await self._run_cached(request, query, db, state)
                if db.committed_at is not None:
                    response.headers[CONSISTENCY_HEADER] = position_token(db.committed_at)
                return _as_negotiated(response, state)
        except DocumentRefused as refused:
            state.outcome = f"refused:{refused.code}"
            state.refusals.add(refused.code)
            status = 400 if isinstance(refused, Malformed) else None
            return error_response(
                status or request_error_status(state.media_type),
                refused.code,
                refused.message,
                {"Cache-Control": "no-store"},  # a CDN must not keep a refusal of a GET
                state.media_type,
            )
        except Refusal as refusal:
            state.outcome = f"refused:{refusal.code}"
            state.refusals.add(refusal.code)
            return error_response(
                refusal.status, refusal.code, refusal.message, refusal.headers, state.media_type
            )
        except HTTPException as error:
            state.outcome = "refused:BAD_REQUEST"
            state.refusals.add("BAD_REQUEST")
            return error_response(
                error.status_code, "BAD_REQUEST", error.reason, media_type=state.media_type
            )
        except Exception as error:
            # A database failure outside GraphQL's execution (the cache's version read, the
            # connection's close) is answered like one inside it.
            code, message = _database_failure(error)
            if code is None:
                raise
            state.outcome = _OUTCOMES[code]
            return error_response(503, code, message, media_type=state.media_type)

    def _open_database(
        self, payload: Any, state: RequestState, request: Request
    ) -> RequestConnection:
        """The request's database handle: whether it may write, and the client's consistency
        token, decide which database node serves its reads (db.replicas)."""
        operations = payload if isinstance(payload, list) else [payload]
        plans = (
            self._plan(state, operation.get("query"), operation.get("operationName"))
            for operation in operations
            if isinstance(operation, dict)
        )
        writes = any(plan is not None and plan.operation_type == "mutation" for plan in plans)
        return open_request(self._databases, writes=writes, min_position=_position(request))

    def _media_type(self, request: Request) -> str:
        """The response's media type (server.media); 406 when the client accepts none of
        ours, unless it is a browser asking for the GraphiQL page."""
        media_type = negotiate(request.headers.get("accept"))
        if media_type is not None:
            return media_type
        if self.should_render_graphql_ide(request):  # type: ignore[arg-type]
            return JSON
        raise Refusal(
            406,
            "NOT_ACCEPTABLE",
            f"This server answers in {GRAPHQL_RESPONSE_JSON} or {JSON}; the Accept header "
            "names neither",
        )

    def _cacheable(self, payload: Any, state: RequestState) -> CacheableQuery | None:
        caller = state.caller
        if self._store is None or caller == "invalid" or not self._tokens.may_read(caller):
            return None
        access = "write" if self._tokens.may_write(caller) else "read"
        if not isinstance(payload, dict):
            return None
        plan = self._plan(state, payload.get("query"), payload.get("operationName"))
        query = None if plan is None else cacheable(plan, payload.get("variables"), access)
        if plan is not None and query is not None:
            # One query operation: a cache hit never reaches execute_single.
            state.operation, state.operation_type = plan.chosen_name, plan.operation_type
        return query

    def _plan(self, state: RequestState, query: Any, operation_name: Any) -> Plan | None:
        """The plan of one operation, made once per request (and once per document)."""
        if not isinstance(query, str) or not query or not isinstance(operation_name, str | None):
            return None  # the schema says what is wrong with it
        plan = state.plan
        if plan is None or plan.query != query or plan.operation_name != operation_name:
            plan = state.plan = self._plans.plan(query, operation_name)
        return plan

    async def _run_cached(
        self, request: Request, query: CacheableQuery, db: AsyncConnection, state: RequestState
    ) -> Response:
        """Answer from the cache when the data has not moved since the answer was filed."""
        assert self._store is not None
        key = query.key(await data_version.current(db))
        body = await self._store.get(key)
        if body is not None:
            state.outcome = "cache_hit"
            return Response(body, media_type=state.media_type, headers={"x-cache": "hit"})
        response = await self.run(request)
        if response.status_code == 200 and not state.had_errors:
            await self._store.put(key, bytes(response.body))
        response.headers["x-cache"] = "miss"
        return response

    async def _limited_body(self, scope: Scope, receive: Receive) -> bytes:
        """Read the body up to the limit (413 beyond it); `replay` hands it on to the view."""
        too_large = Refusal(
            413, "BODY_TOO_LARGE", f"The request body may be at most {self._max_body} bytes"
        )
        if len(scope.get("query_string", b"")) > self._max_body:
            raise too_large
        declared = Request(scope).headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max_body:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        more = scope.get("method") == "POST"
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise too_large
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the server's own files (server/playground.py), never a CDN."""
        return playground.page_response()

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        state: RequestState = request.scope["state"][_STATE]
        assert state.db is not None
        return RequestContext(
            db=state.db,
            limits=self._limits,
            access="write" if self._tokens.may_write(state.caller) else "read",
            request_id=state.request_id,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: Any,
    ) -> ExecutionResult:
        state: RequestState = request.scope["state"][_STATE]
        plan = self._plan(state, request_data.query, request_data.operation_name)
        context.plan = plan
        if plan is None:
            state.operation, state.operation_type = request_data.operation_name, None
        else:
            state.operation, state.operation_type = plan.chosen_name, plan.operation_type
        caller = state.caller
        if caller == "invalid":
            raise Refusal(401, "UNAUTHENTICATED", "The bearer token is not valid", _CHALLENGE)
        if not self._tokens.may_read(caller):
            raise Refusal(
                401, "UNAUTHENTICATED", "This server needs a bearer token to read", _CHALLENGE
            )
        if request_data.operation_name is None and plan is not None and plan.operation_count > 1:
            raise Refusal(
                400,
                "BAD_REQUEST",
                "Must provide operation name if query contains multiple operations",
            )
        method = request_adapter.method
        allowed = {OperationType.QUERY}
        if method == "POST" and self._tokens.may_write(caller):
            allowed.add(OperationType.MUTATION)
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            raise self._why_not_allowed(error.operation_type, method, caller) from error
        except CannotGetOperationTypeError as error:
            raise Refusal(400, "BAD_REQUEST", error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise Refusal(400, "BAD_REQUEST", "No GraphQL query found in the request") from error

    def _why_not_allowed(self, operation: OperationType, method: str, caller: Caller) -> Refusal:
        if operation not in _OFFERED:
            # Not a matter of tokens or methods: no caller can run it here.
            return Refusal(
                400,
                "OPERATION_NOT_SUPPORTED",
                f"This server does not offer {operation.value} operations; "
                "it answers queries and mutations over HTTP",
            )
        if method != "POST":
            return Refusal(
                405,
                "METHOD_NOT_ALLOWED",
                "Mutations are only accepted over POST",
                {"Allow": "POST"},
            )
        if caller == "read":
            return Refusal(403, "FORBIDDEN", "This token may read but not write")
        return Refusal(
            401,
            "UNAUTHENTICATED",
            "Mutations need a write token: send Authorization: Bearer <token>",
            _CHALLENGE,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        state: RequestState = request.scope["state"][_STATE]
        state.results += 1
        response: GraphQLHTTPResponse = {"data": result.data}
        if is_request_error(result):
            state.request_errors += 1
            if state.media_type == GRAPHQL_RESPONSE_JSON:
                # Nothing was executed, so there is no data, not even null.
                del response["data"]
        if result.errors:
            state.had_errors = True
            errors: list[Any] = [
                with_code(self._public_error(e, state), code_for(e, result)) for e in result.errors
            ]
            response["errors"] = errors
            if is_request_error(result):  # refused before execution: count it by code
                state.refusals.update(error["extensions"]["code"] for error in errors)
            if state.outcome == "ok":
                state.outcome = "errors"
        if result.extensions:
            response["extensions"] = result.extensions
        if state.db is not None and state.db.committed_at is not None:
            token = {"token": position_token(state.db.committed_at)}
            response["extensions"] = {**(response.get("extensions") or {}), "consistency": token}
        return response

    def _public_error(self, error: GraphQLError, state: RequestState) -> dict[str, Any]:
        """The error as the client may see it: our own errors as they are, others masked."""
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error.formatted  # type: ignore[return-value]
        code, message = _database_failure(original)
        if code is not None:
            state.outcome = _OUTCOMES[code]
            state.retry_later = True
            return _masked(error, code, message)
        state.outcome = "internal_error"
        log.error(
            "unexpected error",
            exc_info=original,
            extra={"fields": {"request_id": state.request_id, "path": error.path}},
        )
        return _masked(
            error,
            "INTERNAL_SERVER_ERROR",
            f"Internal server error (request id {state.request_id})",
            requestId=state.request_id,
        )

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """GET parameters; `variables` and `extensions` must each be a JSON object."""
        parsed = dict(params)
        for name in ("variables", "extensions"):
            raw = parsed.get(name)
            if not raw:
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                raise HTTPException(400, f"The `{name}` parameter is not valid JSON") from error
            if not isinstance(value, dict):
                raise HTTPException(400, f"The `{name}` parameter must be a JSON object")
            parsed[name] = value
        return parsed

    def decode_json(self, data: str | bytes) -> object:
        parsed = orjson.loads(data)
        if isinstance(parsed, list):
            if not all(isinstance(item, dict) for item in parsed):
                raise HTTPException(400, "Each operation of a batch must be a JSON object")
            for item in parsed:
                _check_operation_name(item)
            if self._max_batch == 0:
                raise Refusal(400, "BATCHING_DISABLED", "Batched requests are not enabled")
            if len(parsed) > self._max_batch:
                raise Refusal(
                    400,
                    "MAX_BATCH_EXCEEDED",
                    f"A batch may hold at most {self._max_batch} operations, got {len(parsed)}",
                )
        elif isinstance(parsed, dict):
            _check_operation_name(parsed)
        else:
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="catalog"'}
_OFFERED = frozenset({OperationType.QUERY, OperationType.MUTATION})


def _check_operation_name(operation: dict[str, Any]) -> None:
    if not isinstance(operation.get("operationName"), str | None):
        raise HTTPException(400, "The `operationName` must be a string or null")


def _position(request: Request) -> int | None:
    """The client's consistency token (a mutation's, sent back), as a position; refused
    with 400 when it is not one this server issues."""
    token = request.headers.get(CONSISTENCY_HEADER)
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


def _database_failure(error: BaseException) -> tuple[str | None, str]:
    """The RETRY_LATER code and message for a database failure; (None, "") for others."""
    if is_unavailable(error):
        return "SERVICE_UNAVAILABLE", "The database is unavailable; retry the request"
    if is_timeout(error):
        return "REQUEST_TIMEOUT", "A statement ran past the time budget"
    if is_transient(error):
        return "TRY_AGAIN", "The database was busy; retry the request"
    return None, ""


def _masked(error: GraphQLError, code: str, message: str, **extra: str) -> dict[str, Any]:
    masked: dict[str, Any] = {"message": message, "extensions": {"code": code, **extra}}
    if error.path is not None:
        masked["path"] = error.path
    return masked


def _as_negotiated(response: Response, state: RequestState) -> Response:
    """A GraphQL response in the negotiated media type, with its status: when nothing in it
    was executed, the status of a request error under that type (server.media)."""
    if state.results == 0:  # not a GraphQL result: the GraphiQL page
        return response
    response.headers["content-type"] = state.media_type
    if state.request_errors == state.results:
        response.status_code = request_error_status(state.media_type)
    return response


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
) -> Response:
    """A GraphQL-shaped error body, so clients read every refusal the same way."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
