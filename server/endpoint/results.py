"""What the /graphql endpoint answers: GraphQL results shaped for the client.

Every error leaves with an `extensions.code` (server.endpoint.error_codes). Our own errors go out as
they are; anything else that failed inside an operation is masked: a database that is down,
timed out or was busy becomes SERVICE_UNAVAILABLE, REQUEST_TIMEOUT or TRY_AGAIN (and the
response a 503 with Retry-After, its body still holding any data), and an unexpected error
becomes INTERNAL_SERVER_ERROR with the request id, its traceback logged once under that id.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult

from db.dialects import is_timeout, is_transient, is_unavailable
from server.endpoint.error_codes import code_for, is_request_error, with_code
from server.refusals.refusal import RETRY_AFTER_SECONDS, error_response
from server.request.media import GRAPHQL_RESPONSE_JSON, request_error_status
from server.request.state import RequestState

log = logging.getLogger("catalog.request")

# Codes that say "not now": the request may well succeed when retried a little later. A
# response carrying one is HTTP 503 with Retry-After (its body still holds any data).
_OUTCOMES = {
    "REQUEST_TIMEOUT": "timeout",
    "TRY_AGAIN": "transient",
    "SERVICE_UNAVAILABLE": "unavailable",
}


def database_failure(error: BaseException) -> tuple[str | None, str]:
    """The retry-later code and message for a database failure; (None, "") for others."""
    if is_unavailable(error):
        return "SERVICE_UNAVAILABLE", "The database is unavailable; retry the request"
    if is_timeout(error):
        return "REQUEST_TIMEOUT", "A statement ran past the time budget"
    if is_transient(error):
        return "TRY_AGAIN", "The database was busy; retry the request"
    return None, ""


def unavailable_response(code: str, message: str, state: RequestState, media_type: str) -> Response:
    """A database failure outside an operation (the cache's version read, the handle's
    close), answered like one inside it."""
    state.outcome = _OUTCOMES[code]
    return error_response(503, code, message, media_type=media_type)


class Results:
    """The GraphQL results of one response (several for a batch), shaped for the client."""

    def __init__(self, state: RequestState, media_type: str) -> None:
        self.state = state
        self.media_type = media_type
        self.had_errors = False
        self._shaped: list[dict[str, Any]] = []
        self._request_errors = 0  # results that failed before execution
        self._retry_later = False  # an error of a retry-later code: the answer is a 503
        self._costs: list[dict[str, Any] | None] = []  # each result's rate-limit cost

    def add(self, result: ExecutionResult, cost: dict[str, Any] | None = None) -> None:
        shaped: dict[str, Any] = {"data": result.data}
        request_error = is_request_error(result)
        if request_error:
            self._request_errors += 1
            if self.media_type == GRAPHQL_RESPONSE_JSON:
                # Nothing was executed, so there is no data, not even null.
                del shaped["data"]
        if result.errors:
            self.had_errors = True
            errors = [with_code(self._public(e), code_for(e, result)) for e in result.errors]
            shaped["errors"] = errors
            if request_error:  # refused before execution: count it by code
                self.state.refusals.update(error["extensions"]["code"] for error in errors)
            if self.state.outcome == "ok":
                self.state.outcome = "errors"
        if result.extensions:
            shaped["extensions"] = result.extensions
        self._shaped.append(shaped)
        self._costs.append(cost)

    def response(
        self, batch: bool, consistency_token: str | None = None, *, costs: bool = True
    ) -> Response:
        """The response: HTTP 200, the status of a request error under the negotiated media
        type when nothing in it was executed (server.request.media), 503 when a retry may succeed.
        After a committed write every result carries its consistency token in
        `extensions.consistency`, and with rate limits its cost in `extensions.cost`
        (unless `costs` is False: the answer as the response cache files it)."""
        shaped_all = []
        for shaped, cost in zip(self._shaped, self._costs, strict=True):
            extensions = {**(shaped.get("extensions") or {})}
            if consistency_token is not None:
                extensions["consistency"] = {"token": consistency_token}
            if cost is not None and costs:
                extensions["cost"] = cost
            shaped_all.append({**shaped, "extensions": extensions} if extensions else shaped)
        body = shaped_all if batch else shaped_all[0]
        status = 200
        if self._request_errors == len(self._shaped):
            status = request_error_status(self.media_type)
        if self._retry_later and status == 200:
            status = 503
        response = Response(orjson.dumps(body), status_code=status, media_type=self.media_type)
        if status == 503:
            response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return response

    def _public(self, error: GraphQLError) -> dict[str, Any]:
        """The error as the client may see it: our own errors as they are, others masked."""
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error.formatted  # type: ignore[return-value]
        code, message = database_failure(original)
        if code is not None:
            self.state.outcome = _OUTCOMES[code]
            self._retry_later = True
            return _masked(error, code, message)
        request_id = self.state.request_id
        self.state.outcome = "internal_error"
        log.error(
            "unexpected error",
            exc_info=original,
            extra={"fields": {"request_id": request_id, "path": error.path}},
        )
        return _masked(
            error,
            "INTERNAL_SERVER_ERROR",
            f"Internal server error (request id {request_id})",
            requestId=request_id,
        )


def _masked(error: GraphQLError, code: str, message: str, **extra: str) -> dict[str, Any]:
    masked: dict[str, Any] = {"message": message, "extensions": {"code": code, **extra}}
    if error.path is not None:
        masked["path"] = error.path
    return masked
