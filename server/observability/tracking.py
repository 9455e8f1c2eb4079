"""Each /graphql request's id, its one structured log line and its metrics.

The outermost of the endpoint's middlewares: it gives the request an id (the response's
`x-request-id`), counts its SQL statements, and when the response starts writes the log
line and observes the request's metrics, from the `RequestState` that the middlewares and
the endpoint inside it fill in (the operation, its type, the outcome, refusals by code).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.statements import record_statements
from server.request.state import RequestState

if TYPE_CHECKING:
    from server.observability.metrics import Metrics

log = logging.getLogger("catalog.request")


class RequestTracking:
    """A request id, a statement count, one log line and the metrics of every request."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = RequestState.begin(scope)
        started = time.perf_counter()
        with record_statements() as statements:

            async def send_tracked(message: Message) -> None:
                if message["type"] == "http.response.start":
                    header = (b"x-request-id", state.request_id.encode())
                    message["headers"] = [*message.get("headers", ()), header]
                    # Written before the response leaves, so a client that reads the
                    # metrics after its answer finds its request counted.
                    self._finished(
                        scope,
                        state,
                        message["status"],
                        started,
                        statements.count,
                    )
                await send(message)

            await self.app(scope, receive, send_tracked)

    def _finished(
        self,
        scope: Scope,
        state: RequestState,
        status: int,
        started: float,
        statements: int,
    ) -> None:
        seconds = time.perf_counter() - started
        if log.isEnabledFor(logging.INFO):
            fields = {
                "request_id": state.request_id,
                "method": scope.get("method"),
                "operation": state.operation,
                "status": status,
                "outcome": state.outcome,
                "duration_ms": round(seconds * 1000, 2),
                "statements": statements,
            }
            # Made and handled as `log.info` would, through the logger's documented
            # `makeRecord` and `handle`, but without looking up the caller's file and
            # line, which the line does not show (a sixth of its cost).
            record = log.makeRecord(
                log.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
            )
            log.handle(record)
        if self.metrics is not None:
            self.metrics.observe_request(
                operation=state.operation,
                operation_type=state.operation_type,
                outcome=state.outcome,
                seconds=seconds,
                statements=statements,
                cache=state.cache,
                refusals=state.refusals,
            )
