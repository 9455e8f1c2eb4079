"""A request's state: what its log line and metrics say of it, filled in as it is answered.

RequestTracking (server.observability.tracking) begins one per request and reads it when the
response starts; the middlewares and the endpoint inside it fill it in (the operation, its
type, the outcome, refusals by code). It lives below all of them, so each may import it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from starlette.types import Scope

_STATE = "catalog"


def new_request_id() -> str:
    """16 hex digits, random: a request's id in its log line, errors and x-request-id.

    An id must tell requests apart, not keep a secret: the process's own generator gives
    one without the system call os.urandom costs on every request.
    """
    return f"{random.getrandbits(64):016x}"


@dataclass
class RequestState:
    """What the log line and the metrics say of one request, filled in as it is answered."""

    request_id: str = field(default_factory=new_request_id)
    operation: str | None = None
    operation_type: str | None = None  # query or mutation, once known
    outcome: str = "ok"
    cache: str | None = None  # the response cache's answer (hit or miss), when asked
    refusals: set[str] = field(default_factory=set)  # codes of refusals, for metrics

    @staticmethod
    def begin(scope: Scope) -> RequestState:
        """A new state for the request, kept in its scope where `of` finds it."""
        state = scope.setdefault("state", {})[_STATE] = RequestState()
        return state

    @staticmethod
    def of(scope: Scope) -> RequestState:
        """The request's state: the one RequestTracking made, or a new one without it."""
        states = scope.setdefault("state", {})
        state = states.get(_STATE)
        if not isinstance(state, RequestState):
            state = states[_STATE] = RequestState()
        return state

    def refused(self, code: str) -> None:
        """The request (or one of its operations) was refused with this code."""
        self.outcome = f"refused:{code}"
        self.refusals.add(code)
