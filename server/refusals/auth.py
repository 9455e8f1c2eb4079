"""Who is calling, and what it may run: bearer tokens checked in constant time, never
logged, and the gate every operation passes before it executes.

The gate, in order: a token that matches none is 401; reading without a token where reads
need one is 401; then by the operation's type, queries pass (GET or POST), subscriptions
are never offered over HTTP (400), and mutations need POST (405 otherwise) and a write
token (403 for a read token, 401 without one) unless writes are open.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal

from strawberry.types.graphql import OperationType

from server.refusals.refusal import Refusal

Caller = Literal["anonymous", "read", "write", "invalid"]

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="catalog"'}
_QUERIES = frozenset({OperationType.QUERY})
_QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass(frozen=True)
class Tokens:
    write: tuple[str, ...] = field(default=(), repr=False)
    read: tuple[str, ...] = field(default=(), repr=False)

    @property
    def writes_open(self) -> bool:
        """No write token configured: anyone who reaches the server may write.

        The CLI allows this only on a loopback address (or with --allow-open-writes).
        """
        return not self.write

    @property
    def reads_open(self) -> bool:
        return not self.read

    def caller(self, authorization: str | None) -> Caller:
        """Classify the Authorization header. Every token is compared, whatever matches."""
        if not authorization:
            return "anonymous"
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return "invalid"
        given = token.encode()
        is_write = _matches(given, self.write)
        is_read = _matches(given, self.read)
        if is_write:
            return "write"
        if is_read:
            return "read"
        return "invalid"

    def may_read(self, caller: Caller) -> bool:
        return caller in ("read", "write") or (caller == "anonymous" and self.reads_open)

    def may_write(self, caller: Caller) -> bool:
        return caller == "write" or (caller == "anonymous" and self.writes_open)

    def check_caller(self, caller: Caller) -> None:
        """Refuse (401) a caller who may not even read."""
        if caller == "invalid":
            raise Refusal(401, "UNAUTHENTICATED", "The bearer token is not valid", CHALLENGE)
        if not self.may_read(caller):
            raise Refusal(
                401, "UNAUTHENTICATED", "This server needs a bearer token to read", CHALLENGE
            )

    def allowed(self, caller: Caller, method: str) -> frozenset[OperationType]:
        """The operation types this caller may run with this HTTP method."""
        if method == "POST" and self.may_write(caller):
            return _QUERIES_AND_MUTATIONS
        return _QUERIES

    def check_operation(self, caller: Caller, method: str, operation_type: str | None) -> None:
        """Refuse an operation of this type (None: unknown yet, the schema says why)."""
        if operation_type is None:
            return
        kind = OperationType(operation_type)
        if kind not in self.allowed(caller, method):
            raise self.refusal(kind, method, caller)

    def refusal(self, operation: OperationType, method: str, caller: Caller) -> Refusal:
        """Why this caller may not run an operation of this type with this method."""
        if operation not in (OperationType.QUERY, OperationType.MUTATION):
            # Not a matter of tokens or methods: no caller can run it here.
            return Refusal(
                400,
                "OPERATION_NOT_SUPPORTED",
                f"A {operation.value} needs a long-lived connection: open a WebSocket "
                "(graphql-transport-ws) to /graphql, or ask for an event stream "
                "(Accept: text/event-stream)",
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
            CHALLENGE,
        )


def _matches(given: bytes, tokens: tuple[str, ...]) -> bool:
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode())
    return found
