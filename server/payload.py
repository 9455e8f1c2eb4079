"""A request's operations, read once: for the persisted documents and the response cache
before Strawberry sees the request, and handed on to it (rewritten when a document named by
hash was filled in)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.types import Message, Receive, Scope


def read_payload(request: Request, body: bytes) -> Any:
    """The operation(s) of a request as JSON values: the POST body, or the GET parameters
    with `variables` and `extensions` decoded. None when they do not parse (the view then
    says why)."""
    try:
        if request.method == "POST":
            return orjson.loads(body) if body else None
        params = request.query_params
        payload: dict[str, Any] = {
            "query": params.get("query"),
            "operationName": params.get("operationName"),
            "documentId": params.get("documentId"),
        }
        for name in ("variables", "extensions"):
            raw = params.get(name)
            payload[name] = orjson.loads(raw) if raw else None
        return payload
    except orjson.JSONDecodeError:
        return None


def with_payload(scope: Scope, payload: Any) -> tuple[Scope, bytes]:
    """The request carrying this payload instead: a new body for a POST, a new `query`
    parameter for a GET."""
    if scope.get("method") == "POST":
        return scope, orjson.dumps(payload)
    params = dict(Request(scope).query_params)
    params["query"] = payload["query"]
    return {**scope, "query_string": urlencode(params).encode()}, b""


def replay(body: bytes) -> Receive:
    """A receive channel that hands on a body already read."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
