"""The Subscription root: the change log, live, over WebSocket (graphql-transport-ws) and
Server-Sent Events (graphql-sse)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from db.changes import ChangeFilter as WantedChanges
from resolvers import changes as change_log
from resolvers import live
from schema.changes import CHANGES_AFTER, CHANGES_FILTER, ChangeEvent, filter_args
from schema.types import Info, Product, Tag


@strawberry.type(
    description="Live updates, in commit order. Each subscription delivers every change "
    "exactly once; a client that reconnects resumes with `after` set to the last cursor it "
    "received, with no gap and no duplicate."
)
class Subscription:
    @strawberry.subscription(
        description="Every change after `after`, replayed from the log, then live; from now "
        "without it. A subscriber that falls too far behind ends with SUBSCRIBER_TOO_SLOW, "
        "whose extensions carry `lastCursor` to resume from."
    )
    async def catalog_changes(
        self, info: Info, after: CHANGES_AFTER = None, filter: CHANGES_FILTER = None
    ) -> AsyncGenerator[ChangeEvent, None]:
        wanted: WantedChanges = change_log.change_filter(filter_args(filter))
        async for entry in live.follow(info.context, after, wanted):  # type: ignore[arg-type]
            yield ChangeEvent(entry=entry)

    @strawberry.subscription(
        description="The product after each write that changes it or its links; the "
        "subscription ends when the product is deleted."
    )
    async def product_changed(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The product's global id.")],
    ) -> AsyncGenerator[Product, None]:
        async for record in live.product_after_changes(info.context, id):  # type: ignore[arg-type]
            yield Product.of(record)

    @strawberry.subscription(
        description="The tag after each write that changes it or its links; the subscription "
        "ends when the tag is deleted."
    )
    async def tag_changed(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The tag's global id.")],
    ) -> AsyncGenerator[Tag, None]:
        async for record in live.tag_after_changes(info.context, id):  # type: ignore[arg-type]
            yield Tag.of(record)
