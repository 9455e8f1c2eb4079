"""A request's operations, read once: the POST body or the GET parameters, checked for the
shape GraphQL over HTTP gives them. Anything malformed is refused here (400 BAD_REQUEST),
before a document is looked at; batches (a JSON array of operations) only when enabled and
within CATALOG_MAX_BATCH."""

from __future__ import annotations

from email.message import Message as MimeMessage
from functools import lru_cache
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Receive

from server.refusals.refusal import Refusal
from server.request.headers import header

Operation = dict[str, Any]


def bad_request(message: str) -> Refusal:
    return Refusal(400, "BAD_REQUEST", message)


async def read_body(receive: Receive) -> bytes:
    """The whole body (what arrived of it, when the client went away)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def read_operations(request: Request, body: bytes, max_batch: int) -> Operation | list[Operation]:
    """One operation (a JSON object), or a batch of them, from the GET parameters or the
    POST body; `variables` and `extensions` decoded."""
    if request.method != "POST":
        return _checked(_from_query_string(request))
    if "application/json" not in _media_type(header(request.scope, b"content-type") or ""):
        raise bad_request("Unsupported content type")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise bad_request("Unable to parse request body as JSON") from error
    if isinstance(parsed, dict):
        _check_operation_name(parsed)
        return _checked(parsed)
    if not isinstance(parsed, list):
        raise bad_request("The request body must be a JSON object")
    if not all(isinstance(item, dict) for item in parsed):
        raise bad_request("Each operation of a batch must be a JSON object")
    for item in parsed:
        _check_operation_name(item)
    if max_batch == 0:
        raise Refusal(400, "BATCHING_DISABLED", "Batched requests are not enabled")
    if len(parsed) > max_batch:
        raise Refusal(
            400,
            "MAX_BATCH_EXCEEDED",
            f"A batch may hold at most {max_batch} operations, got {len(parsed)}",
        )
    return parsed


def _from_query_string(request: Request) -> Operation:
    """GET parameters; `variables` and `extensions`, when given, must each be a JSON object."""
    operation: Operation = dict(request.query_params)
    for name in ("variables", "extensions"):
        raw = operation.get(name)
        if not raw:
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise bad_request(f"The `{name}` parameter is not valid JSON") from error
        if not isinstance(value, dict):
            raise bad_request(f"The `{name}` parameter must be a JSON object")
        operation[name] = value
    return operation


def _checked(operation: Operation) -> Operation:
    """A single operation whose `query`, `variables` and `extensions` have their types."""
    if not isinstance(operation.get("query"), str | None):
        raise bad_request("The GraphQL operation's `query` must be a string or null, if provided.")
    for name in ("variables", "extensions"):
        if not isinstance(operation.get(name), dict | None):
            raise bad_request(
                f"The GraphQL operation's `{name}` must be an object or null, if provided."
            )
    return operation


def _check_operation_name(operation: Operation) -> None:
    if not isinstance(operation.get("operationName"), str | None):
        raise bad_request("The `operationName` must be a string or null")


@lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """The media type of a Content-Type header as sent, without its parameters (clients
    send a handful of distinct headers: each is parsed once)."""
    message = MimeMessage()
    message["content-type"] = content_type
    params = message.get_params()
    return params[0][0] if params else ""
