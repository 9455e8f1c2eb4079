"""The change log as clients see it: ChangeKind, ChangeFilter, ChangeEvent and its
connection (Query.changes), and the events the subscriptions deliver."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from db.changes import Entry
from resolvers import changes as change_log
from resolvers.ids import encode_id
from schema.types import Info, PageInfo, Product, Tag


@strawberry.enum(description="What a change did.")
class ChangeKind(Enum):
    PRODUCT_CREATED = strawberry.enum_value("PRODUCT_CREATED", description="Created.")
    PRODUCT_UPDATED = strawberry.enum_value("PRODUCT_UPDATED", description="Renamed.")
    PRODUCT_DELETED = strawberry.enum_value(
        "PRODUCT_DELETED", description="Deleted; its links were removed first (LINK_REMOVED)."
    )
    TAG_CREATED = strawberry.enum_value(
        "TAG_CREATED", description="Created, by createTag or by a link to a new name."
    )
    TAG_UPDATED = strawberry.enum_value("TAG_UPDATED", description="Renamed.")
    TAG_DELETED = strawberry.enum_value(
        "TAG_DELETED", description="Deleted; its links were removed first (LINK_REMOVED)."
    )
    LINK_ADDED = strawberry.enum_value(
        "LINK_ADDED", description="A tag was linked to a product, with `priority`."
    )
    LINK_UPDATED = strawberry.enum_value(
        "LINK_UPDATED", description="A link's priority changed; `priority` is the new one."
    )
    LINK_REMOVED = strawberry.enum_value(
        "LINK_REMOVED",
        description="A link was removed (by a mutation, or as its product or tag was deleted); "
        "`priority` is the one it had.",
    )


@strawberry.input(description="Which changes to keep: each list given narrows (all must hold).")
class ChangeFilter:
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Changes of these products (global ids), links included."
    )
    tag_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Changes of these tags (global ids), links included."
    )
    kinds: list[ChangeKind] | None = strawberry.field(
        default=None, description="Changes of these kinds."
    )

    def args(self) -> change_log.FilterArgs:
        kinds = None if self.kinds is None else [k.name for k in self.kinds]
        return change_log.FilterArgs(self.product_ids, self.tag_ids, kinds)


def filter_args(given: ChangeFilter | None) -> change_log.FilterArgs | None:
    return None if given is None else given.args()


@strawberry.type(
    description="One committed change, in commit order. Every write's changes are recorded "
    "in the same transaction as the write."
)
class ChangeEvent:
    entry: strawberry.Private[Entry]

    @strawberry.field(description="Opaque: resume after this change with `after`.")
    def cursor(self) -> str:
        return change_log.encode_change_cursor(self.entry.position)

    @strawberry.field(description="What the change did.")
    def kind(self) -> ChangeKind:
        return ChangeKind[self.entry.kind]

    @strawberry.field(description="When the write was committed (UTC).")
    def at(self) -> datetime:
        return self.entry.at

    @strawberry.field(description="The product's global id, present even once it is gone.")
    def product_id(self) -> strawberry.ID | None:
        product_id = self.entry.product_id
        return None if product_id is None else strawberry.ID(encode_id("Product", product_id))

    @strawberry.field(description="The tag's global id, present even once it is gone.")
    def tag_id(self) -> strawberry.ID | None:
        tag_id = self.entry.tag_id
        return None if tag_id is None else strawberry.ID(encode_id("Tag", tag_id))

    @strawberry.field(description="The link's priority, for LINK_* changes.")
    def priority(self) -> int | None:
        return self.entry.priority

    @strawberry.field(description="The product as it is now; null once deleted.")
    async def product(self, info: Info) -> Product | None:
        if self.entry.product_id is None:
            return None
        record = await info.context.loaders.product.load(self.entry.product_id)
        return None if record is None else Product.of(record)

    @strawberry.field(description="The tag as it is now; null once deleted.")
    async def tag(self, info: Info) -> Tag | None:
        if self.entry.tag_id is None:
            return None
        record = await info.context.loaders.tag.load(self.entry.tag_id)
        return None if record is None else Tag.of(record)


@strawberry.type(description="A change and its cursor.")
class ChangeEdge:
    cursor: str = strawberry.field(description="Where this change lies, for `after`.")
    node: ChangeEvent = strawberry.field(description="The change.")


@strawberry.type(description="A page of the change log, oldest first.")
class ChangeConnection:
    page: strawberry.Private[change_log.ChangesPage]

    @strawberry.field(description="The changes with their cursors.")
    def edges(self) -> list[ChangeEdge]:
        return [
            ChangeEdge(
                cursor=change_log.encode_change_cursor(e.position), node=ChangeEvent(entry=e)
            )
            for e in self.page.entries
        ]

    @strawberry.field(description="The changes alone.")
    def nodes(self) -> list[ChangeEvent]:
        return [ChangeEvent(entry=e) for e in self.page.entries]

    @strawberry.field(
        description="Where this page lies: endCursor resumes the log after it, as `after` "
        "here or to catalogChanges (hasNextPage: more changes follow now)."
    )
    def page_info(self) -> PageInfo:
        entries = self.page.entries
        cursor = change_log.encode_change_cursor
        return PageInfo(
            has_next_page=self.page.has_next,
            has_previous_page=self.page.has_previous,
            start_cursor=cursor(entries[0].position) if entries else None,
            end_cursor=cursor(entries[-1].position) if entries else None,
        )


CHANGES_AFTER = Annotated[
    str | None,
    strawberry.argument(
        description="Only changes after this cursor (an edge's, or an event's). An unknown "
        "cursor is BAD_USER_INPUT; one older than the retention is CURSOR_EXPIRED."
    ),
]
CHANGES_FILTER = Annotated[
    ChangeFilter | None, strawberry.argument(description="Which changes to keep.")
]
