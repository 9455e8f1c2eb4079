"""Who is calling: bearer tokens checked in constant time, never logged."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal

Caller = Literal["anonymous", "read", "write", "invalid"]


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


def _matches(given: bytes, tokens: tuple[str, ...]) -> bool:
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode())
    return found
