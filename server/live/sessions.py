"""What every long-lived connection shares: the process's change feed, the databases it
reads from, the limits, the tokens that decide who may subscribe, and the rate limits an
operation is opened under (an event stream's and a socket's alike)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed import ChangeFeed
from db.replicas import ReplicaSet
from resolvers.limits import Limits
from resolvers.live import LiveContext
from schema.plans import Plan
from schema.points import points
from server.refusals.auth import Caller, Tokens
from server.refusals.rate_limit import RateLimits
from server.request.client import Client, Clients


@dataclass(frozen=True)
class LiveSessions:
    feed: ChangeFeed
    databases: AsyncEngine | ReplicaSet
    limits: Limits
    tokens: Tokens
    # Set when the process shuts down: every live connection ends (see `close`).
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    rate: RateLimits = field(default_factory=RateLimits)
    clients: Clients = field(default_factory=Clients)

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

    async def open(self, client: Client, plan: Plan | None, variables: Any) -> Callable[[], None]:
        """Open one operation of a long-lived connection for `client`; the function that
        counts it closed.

        It counts against the caller's open subscriptions (CATALOG_MAX_SUBSCRIPTIONS_PER_CLIENT)
        until closed, and costs its document's points by the estimate, charged once as it
        opens: what it later sends is not charged. Refused (Refusal: TOO_MANY_SUBSCRIPTIONS,
        RATE_LIMITED, QUERY_TOO_EXPENSIVE) before anything runs, and then charged nothing.
        """
        close = self.rate.open_stream(client)
        try:
            # A mutation is refused here (schema.plans): it costs nothing.
            if plan is not None and plan.operation_type != "mutation" and self.rate.enabled:
                judged = variables is None or isinstance(variables, dict)
                verdict = plan.verdict(variables) if judged else None
                if verdict is not None:
                    cost = points(verdict, plan.operation_type)
                    await self.rate.charge(client, cost, await self.rate.check(client, cost))
        except BaseException:
            close()
            raise
        return close
