"""The change log as pages: cursors, filters, and a page after a cursor (Query.changes),
which the subscriptions' replays read too (resolvers.live)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import changes
from db.changes import ChangeFilter, Entry, Position
from resolvers.errors import BadInput
from resolvers.ids import BadId, decode_cursor, decode_id, encode_cursor


def encode_change_cursor(position: Position) -> str:
    return encode_cursor("change", position.version, position.ordinal)


def decode_change_cursor(value: str) -> Position:
    """The position a cursor names; BadInput when it is not a change cursor."""
    try:
        kind, version, ordinal = decode_cursor(value, str, int, int)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if kind != "change" or version < 0 or ordinal < 0:
        raise BadInput(f"{value[:40]!r} is not a cursor of the change log")
    return Position(version, ordinal)


class CursorExpired(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "The cursor is older than the change log's retention: entries after it were "
            "pruned. Read the current state again, then follow the changes from now.",
            extensions={"code": "CURSOR_EXPIRED"},
        )


@dataclass(frozen=True, slots=True)
class FilterArgs:
    product_ids: Sequence[str] | None = None
    tag_ids: Sequence[str] | None = None
    kinds: Sequence[str] | None = None


def change_filter(given: FilterArgs | None) -> ChangeFilter:
    if given is None:
        return ChangeFilter()
    try:
        products = _ids(given.product_ids, "Product")
        tags = _ids(given.tag_ids, "Tag")
    except BadId as error:
        raise BadInput(str(error)) from None
    kinds = None if given.kinds is None else frozenset(given.kinds)
    return ChangeFilter(products, tags, kinds)


def _ids(values: Sequence[str] | None, type_name: str) -> frozenset[int] | None:
    if values is None:
        return None
    return frozenset(decode_id(v, type_name)[1] for v in values)


async def start_after(db: AsyncConnection, cursor: str | None) -> Position:
    """Where a read of the log starts: after the cursor, else at the beginning;
    BAD_USER_INPUT when the cursor lies beyond the last write (a cursor of another
    database). Whether it expired is checked with each read (`read_page`)."""
    if cursor is None:
        return changes.START
    position = decode_change_cursor(cursor)
    if position > await changes.head(db):
        raise BadInput("The cursor lies beyond the last change: it is not of this catalog")
    return position


async def read_page(
    db: AsyncConnection, position: Position, limit: int, wanted: ChangeFilter
) -> list[Entry]:
    """Entries after `position`; CURSOR_EXPIRED when some after it were pruned."""
    try:
        return await changes.read_checked(db, position, limit, wanted)
    except changes.Expired:
        raise CursorExpired() from None


@dataclass(frozen=True, slots=True)
class ChangesPage:
    entries: list[Entry]
    has_next: bool
    has_previous: bool  # paging forward, as Relay has it: whether `after` was given


async def changes_page(
    db: AsyncConnection, after: str | None, first: int, wanted: FilterArgs | None
) -> ChangesPage:
    """A page of the log after the cursor, in commit order (two statements: the page and
    the horizon; three with a cursor, which is checked against the head first)."""
    position = await start_after(db, after)
    entries = await read_page(db, position, first + 1, change_filter(wanted))
    return ChangesPage(entries[:first], len(entries) > first, after is not None)
