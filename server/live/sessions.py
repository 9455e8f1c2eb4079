"""What every long-lived connection shares: the process's change feed, the databases it
reads from, the limits, and the tokens that decide who may subscribe."""

from __future__ import annotations

from dataclasses import dataclass

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
