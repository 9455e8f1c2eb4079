"""A refusal: the request is answered with an error before (or instead of) execution.

`Refusal` is what the gates raise (auth, the payload's checks, the view's own); the
middlewares that refuse a request before the endpoint sees it answer `error_response`
directly. Both give the GraphQL error shape with an `extensions.code`, so clients read every
refusal the same way, and a 503 always carries Retry-After.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from server.request.media import JSON
from server.request.state import RequestState

RETRY_AFTER_SECONDS = 1


class Refusal(Exception):
    """The request is refused before (or instead of) execution, with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})  # besides the code, e.g. retryAfter


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """A GraphQL-shaped error body, so clients read every refusal the same way."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    response = Response(
        orjson.dumps(body), status_code=status, media_type=media_type, headers=headers
    )
    if status == 503:
        response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


def refusal_response(refusal: Refusal, state: RequestState, media_type: str) -> Response:
    state.refused(refusal.code)
    return error_response(
        refusal.status,
        refusal.code,
        refusal.message,
        refusal.headers,
        media_type,
        refusal.extensions,
    )
