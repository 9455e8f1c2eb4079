"""What every long-lived connection shares: the process's change feed, the databases it
reads from, the limits, and the tokens that decide who may subscribe."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed import ChangeFeed
from db.replicas import ReplicaSet
from resolvers.limits import Limits
from resolvers.live import LiveContext
from server.refusals.auth import Caller, Tokens


@dataclass(frozen=True)
class LiveSessions:
    feed: ChangeFeed
    databases: AsyncEngine | ReplicaSet
    limits: Limits
    tokens: Tokens
    # Set when the process shuts down: every live connection ends (see `close`).
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def context(self, request_id: str = "") -> LiveContext:
        """A connection's context, admitted to nothing until `admit` says so."""
        return LiveContext(
            self.feed, self.databases, limits=self.limits, access="none", request_id=request_id
        )

    def admit(self, context: LiveContext, caller: Caller) -> bool:
        """Whether the caller may subscribe (may read); if so, the context is theirs."""
        if not self.tokens.may_read(caller):
            return False
        context.access = "write" if self.tokens.may_write(caller) else "read"
        return True

    def close(self) -> None:
        """The process is shutting down: every subscription ends after the events already
        handed to it (an event stream then sends `complete`), and every WebSocket closes
        with 1001 once its operations have ended. Idempotent."""
        self.closing.set()
        self.feed.close()
