"""What travels with one request: its database handle, loaders, limits and caller.

`db` is the request's connection (db.connections.RequestConnection in the server): reads
run on it as they come, and the services run each write as one transaction on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from db.associations import Associations
from db.catalog import Catalog
from resolvers.limits import Limits
from resolvers.loaders import Loaders

Access = Literal["none", "read", "write"]


@dataclass
class RequestContext:
    db: AsyncConnection
    limits: Limits = field(default_factory=Limits)
    access: Access = "write"
    request_id: str = ""
    # The request's plan (schema.plans.Plan), made once by the view. Typed loosely:
    # resolvers never import the schema layer.
    plan: Any = None
    # The plan's cost verdict with this request's variables (schema.cost.Verdict), judged
    # once by the view for the rate limit, and the caller's budget (schema.points.Budget)
    # that `rateLimit` shows; None without a rate limit.
    verdict: Any = None
    budget: Any = None
    # Rows the connections returned so far: what an operation is charged once answered.
    nodes_read: int = 0
    # Whether any operation of the request may read a timestamp (schema.plans); False
    # leaves them out of every read (db.readers).
    timestamps: bool = True
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = self._fresh_loaders()

    def _fresh_loaders(self) -> Loaders:
        return Loaders(self.db, timestamps=self.timestamps)

    def catalog(self) -> Catalog:
        return Catalog(self.db, max_items=self.limits.max_items)

    def associations(self) -> Associations:
        return Associations(self.db, max_items=self.limits.max_items)

    def release(self) -> None:
        """Let go of everything the request loaded, once it is answered.

        graphql-core's executor keeps the context in a reference cycle of its own, so what
        the loaders hold would otherwise wait for the cycle collector (server/process/heap.py)
        instead of being freed as the request ends.
        """
        self.loaders = self._fresh_loaders()

    def after_write(self) -> None:
        """Forget everything loaded so far: what follows a write must see it."""
        self.loaders = self._fresh_loaders()
