"""What travels with one request: its session, its loaders, its limits and its caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from db.associations import Associations
from db.catalog import Catalog
from resolvers.limits import Limits
from resolvers.loaders import Loaders

Access = Literal["none", "read", "write"]


@dataclass
class RequestContext:
    session: AsyncSession
    limits: Limits = field(default_factory=Limits)
    access: Access = "write"
    request_id: str = ""
    # The request's plan (schema.plans.Plan), made once by the view. Typed loosely:
    # resolvers never import the schema layer.
    plan: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session)

    def catalog(self) -> Catalog:
        return Catalog(self.session, max_items=self.limits.max_items)

    def associations(self) -> Associations:
        return Associations(self.session, max_items=self.limits.max_items)

    def after_write(self) -> None:
        """Forget everything loaded so far: what follows a write must see it."""
        self.loaders = Loaders(self.session)
