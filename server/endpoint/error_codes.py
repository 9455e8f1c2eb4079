"""Every GraphQL error leaves the server with an `extensions.code`.

Our own errors carry theirs (the request limits, the refusals, masked failures). Those of
graphql-core carry none, so the phase that raised them names them:

- GRAPHQL_PARSE_FAILED: the document is not GraphQL (a syntax error).
- GRAPHQL_VALIDATION_FAILED: the document does not validate against the schema.
- BAD_USER_INPUT: the variables do not coerce to the types the operation declares.
- INTERNAL_SERVER_ERROR: an execution error of graphql-core's own (such as a null in a
  non-null field), which is a fault of the server's, not the client's.

A result is a *request error* when nothing was executed: it failed to parse, to validate or
to coerce its variables, or a limit refused it. GraphQL over HTTP gives request errors their
own status under `application/graphql-response+json` (see server.request.media).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def is_request_error(result: ExecutionResult) -> bool:
    """Did the request fail before execution began?

    Strawberry returns parse and validation failures (and errors raised by extensions
    before execution) as a PreExecutionError. graphql-core reports variables that do not
    coerce as a result with no data whose errors have no path; a field error always has one.
    """
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def code_for(error: GraphQLError, result: ExecutionResult) -> str:
    """The code of an error that came without one, from the phase that raised it."""
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if isinstance(result, PreExecutionError):
        return VALIDATION_FAILED
    if error.path is None:
        return BAD_USER_INPUT
    return INTERNAL_SERVER_ERROR


def with_code(formatted: dict[str, Any], code: str) -> dict[str, Any]:
    """The formatted error with `extensions.code` set, unless it already has one."""
    extensions = formatted.get("extensions") or {}
    if "code" in extensions:
        return formatted
    return {**formatted, "extensions": {**extensions, "code": code}}
