"""The change log: what every committed write changed, written in the write's transaction.

Rules kept here:
- every write transaction (db.connections.write_transaction) collects what it changes in
  a Journal (the writers note entries as they write: db.catalog for products and tags,
  db.links for the junction, the tag creation of the association service), and its last
  statement moves the data version and appends the entries at that version: one
  statement on PostgreSQL (a data-modifying CTE), two on SQLite, however many entries;
- positions are (version, ordinal): the data version the write moved to and the entry's
  place in the write. The data version's row lock, held from that statement to the
  commit, serialises writers, so positions follow commit order: a reader that sees a
  position sees every position before it;
- a dry run appends nothing (it is rolled back, the version does not move);
- entries older than the retention are pruned in small batches (`prune`); the horizon row
  keeps the last position pruned, so a cursor before it is `Expired`, never silently
  short of events;
- on PostgreSQL, a statement trigger NOTIFYs the new version on `catalog_changes` at the
  commit (migration 0004): listeners learn of a position, then read the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, insert, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialects import rows_of
from db.engine import write_options
from db.models import change_horizon, changes, data_version, utcnow

CHANNEL = "catalog_changes"

Kind = Literal[
    "PRODUCT_CREATED",
    "PRODUCT_UPDATED",
    "PRODUCT_DELETED",
    "TAG_CREATED",
    "TAG_UPDATED",
    "TAG_DELETED",
    "LINK_ADDED",
    "LINK_UPDATED",
    "LINK_REMOVED",
]

_JOURNAL = "catalog.journal"  # the key of the write's Journal in the connection's info
_VERSION_ROW = data_version.c.id == 1
_HORIZON_ROW = change_horizon.c.id == 1


class Position(NamedTuple):
    """A place in the log: after (version, ordinal). (0, 0) is before everything."""

    version: int
    ordinal: int


START = Position(0, 0)


class Entry(NamedTuple):
    """One change as the log keeps it."""

    position: Position
    kind: Kind
    product_id: int | None
    tag_id: int | None
    priority: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """Which entries a reader wants: each given set narrows (None: any)."""

    product_ids: frozenset[int] | None = None
    tag_ids: frozenset[int] | None = None
    kinds: frozenset[str] | None = None

    def keeps(self, entry: Entry) -> bool:
        return (
            (self.product_ids is None or entry.product_id in self.product_ids)
            and (self.tag_ids is None or entry.tag_id in self.tag_ids)
            and (self.kinds is None or entry.kind in self.kinds)
        )


class Expired(Exception):
    """The position is older than the log's horizon: entries after it were pruned."""

    def __init__(self, position: Position, horizon: Position) -> None:
        super().__init__(f"position {position} is before the horizon {horizon}")
        self.position = position
        self.horizon = horizon


@dataclass(slots=True)
class Journal:
    """What one write transaction changed, in the order it changed it."""

    entries: list[tuple[Kind, int | None, int | None, int | None]] = field(default_factory=list)

    def note(
        self,
        kind: Kind,
        *,
        product_id: int | None = None,
        tag_id: int | None = None,
        priority: int | None = None,
    ) -> None:
        self.entries.append((kind, product_id, tag_id, priority))

    def links(self, kind: Kind, pairs: Mapping[tuple[int, int], int]) -> None:
        """Note a link entry per (product, tag) pair, with the link's priority."""
        for (product_id, tag_id), priority in pairs.items():
            self.entries.append((kind, product_id, tag_id, priority))


def journal(connection: AsyncConnection) -> Journal:
    """The Journal of the write transaction under way on `connection`.

    Every write runs in db.connections.write_transaction, which opens it: a write outside
    one is a bug, and fails here rather than going unrecorded.
    """
    found = connection.info.get(_JOURNAL)
    if not isinstance(found, Journal):
        raise RuntimeError("a catalog write outside write_transaction")
    return found


def open_journal(connection: AsyncConnection) -> Journal:
    opened = connection.info[_JOURNAL] = Journal()
    return opened


def close_journal(connection: AsyncConnection) -> None:
    connection.info.pop(_JOURNAL, None)


async def commit_entries(connection: AsyncConnection, written: Journal) -> int:
    """Move the data version and append the write's entries at it (the write's last
    statement, see the module's rules); the new version.

    PostgreSQL, one statement:
        WITH v AS (UPDATE data_version SET value = value + 1 WHERE id = 1 RETURNING value)
        INSERT INTO changes (version, ordinal, kind, product_id, tag_id, priority, at)
        SELECT v.value, e.ordinal, e.kind, ... FROM v, <entries as one parameter> AS e
    SQLite: the UPDATE ... RETURNING, then the INSERT ... SELECT at that version.
    """
    moved = (
        update(data_version)
        .where(_VERSION_ROW)
        .values(value=data_version.c.value + 1)
        .returning(data_version.c.value)
    )
    if not written.entries:
        return int((await connection.execute(moved)).scalar_one())
    rows = rows_of(
        connection,
        "entries",
        {
            "ordinal": "int",
            "kind": "text",
            "product_id": "int",
            "tag_id": "int",
            "priority": "int",
        },
        [(n, *entry) for n, entry in enumerate(written.entries, start=1)],
    )
    at = literal(utcnow(), type_=changes.c.at.type)
    columns = ["version", "ordinal", "kind", "product_id", "tag_id", "priority", "at"]
    entries = (rows.c.ordinal, rows.c.kind, rows.c.product_id, rows.c.tag_id, rows.c.priority)
    if connection.dialect.name == "postgresql":
        version = moved.cte("v")
        chosen = select(version.c.value, *entries, at).select_from(version).join(rows, true())
        statement = (
            insert(changes)
            .from_select(columns, chosen)
            .returning(changes.c.version)
            .add_cte(version)
        )
        return int((await connection.execute(statement)).scalars().first())
    value = int((await connection.execute(moved)).scalar_one())
    chosen = select(literal(value, type_=changes.c.version.type), *entries, at)
    await connection.execute(insert(changes).from_select(columns, chosen))
    return value


def _after(position: Position) -> ColumnElement[bool]:
    return or_(
        changes.c.version > position.version,
        and_(changes.c.version == position.version, changes.c.ordinal > position.ordinal),
    )


def _kept(wanted: ChangeFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.product_ids is not None:
        conditions.append(changes.c.product_id.in_(sorted(wanted.product_ids)))
    if wanted.tag_ids is not None:
        conditions.append(changes.c.tag_id.in_(sorted(wanted.tag_ids)))
    if wanted.kinds is not None:
        conditions.append(changes.c.kind.in_(sorted(wanted.kinds)))
    return conditions


async def read_after(
    connection: AsyncConnection,
    position: Position,
    limit: int,
    wanted: ChangeFilter | None = None,
) -> list[Entry]:
    """Up to `limit` entries after `position`, in commit order (one statement).

    SELECT ... FROM changes WHERE (version, ordinal) > :position [AND filters]
    ORDER BY version, ordinal LIMIT :limit
    """
    query = (
        select(
            changes.c.version,
            changes.c.ordinal,
            changes.c.kind,
            changes.c.product_id,
            changes.c.tag_id,
            changes.c.priority,
            changes.c.at,
        )
        .where(_after(position), *_kept(wanted or ChangeFilter()))
        .order_by(changes.c.version, changes.c.ordinal)
        .limit(limit)
    )
    return [
        Entry(Position(v, o), kind, product_id, tag_id, priority, at)
        for v, o, kind, product_id, tag_id, priority, at in await connection.execute(query)
    ]


async def head(connection: AsyncConnection) -> Position:
    """The position of the last committed write: its version, after all its entries.

    A write's entries are at ordinals 1..n of its version, so (version, max int) is after
    every one of them and before the next write's.
    """
    query = select(data_version.c.value).where(_VERSION_ROW)
    version = int((await connection.execute(query)).scalar_one())
    return Position(version, _LAST_ORDINAL)


_LAST_ORDINAL = 2**31 - 1


async def check_position(connection: AsyncConnection, position: Position) -> None:
    """Expired when entries after `position` were pruned (one statement)."""
    query = select(change_horizon.c.version, change_horizon.c.ordinal).where(_HORIZON_ROW)
    version, ordinal = (await connection.execute(query)).one()
    horizon = Position(int(version), int(ordinal))
    if position < horizon:
        raise Expired(position, horizon)


async def read_checked(
    connection: AsyncConnection,
    position: Position,
    limit: int,
    wanted: ChangeFilter | None = None,
) -> list[Entry]:
    """read_after, then the horizon: Expired when entries after `position` were pruned,
    whether before the read or while it ran (the horizon moves in the prune's own
    transaction, so a read that missed pruned entries sees the horizon past its position
    when it looks afterwards). Two statements."""
    entries = await read_after(connection, position, limit, wanted)
    await check_position(connection, position)
    return entries


async def prune(engine: AsyncEngine, older_than: timedelta, batch: int = 500) -> int:
    """Delete up to `batch` of the oldest entries written before `older_than` ago, and
    move the horizon past them, in one short write transaction; how many went.

    Pruning takes the log's prefix in position order, so the horizon stays exact even
    when the clocks of several writers disagree a little.
    """
    cutoff = utcnow() - older_than
    async with engine.connect() as connection:
        # The engine reads outside transactions on PostgreSQL: this one must be one.
        await connection.execution_options(**write_options(engine))
        return await _prune(connection, cutoff, batch)


async def _prune(connection: AsyncConnection, cutoff: datetime, batch: int) -> int:
    async with connection.begin():
        oldest = await connection.execute(
            select(changes.c.version, changes.c.ordinal, changes.c.at)
            .order_by(changes.c.version, changes.c.ordinal)
            .limit(batch)
        )
        last: Position | None = None
        count = 0
        for version, ordinal, at in oldest:
            if at >= cutoff:
                break
            last, count = Position(version, ordinal), count + 1
        if last is None:
            return 0
        await connection.execute(delete(changes).where(~_after(last)))
        # Only ever forward: a prune of another process may have gone further meanwhile.
        behind = or_(
            change_horizon.c.version < last.version,
            and_(change_horizon.c.version == last.version, change_horizon.c.ordinal < last.ordinal),
        )
        await connection.execute(
            update(change_horizon)
            .where(_HORIZON_ROW, behind)
            .values(version=last.version, ordinal=last.ordinal)
        )
    return count
