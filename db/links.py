"""Set-based statements on the junction: one statement each, whatever the number of pairs.

The association service decides what to write; these run it. Pairs travel as one bound
parameter (db.dialects.rows_of), so neither the statement count nor the number of bound
parameters grows with the pairs. Each write returns the pairs it really changed, and notes
them, with their priorities, in the transaction's journal (db.changes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningDelete

from db.changes import journal
from db.dialects import insert_selected_ignoring_conflicts, rows_of
from db.models import product_tags

Pair = tuple[int, int]  # (product_id, tag_id)


async def current(connection: AsyncConnection, where: ColumnElement[bool]) -> dict[Pair, int]:
    """The links matching `where` (parents of one side), with their priorities."""
    pt = product_tags
    query = select(pt.c.product_id, pt.c.tag_id, pt.c.priority).where(where)
    return {(p, t): priority for p, t, priority in await connection.execute(query)}


async def insert(
    connection: AsyncConnection, pairs: Mapping[Pair, int], added_at: datetime
) -> list[Pair]:
    """Insert pairs with their priorities, skipping any that exist; returns those inserted.

    INSERT ... SELECT from the rows, in (product_id, tag_id) order, ON CONFLICT DO NOTHING.
    """
    if not pairs:
        return []
    rows = rows_of(
        connection,
        "new_links",
        {"product_id": "int", "tag_id": "int", "priority": "int"},
        [(p, t, priority) for (p, t), priority in sorted(pairs.items())],
    )
    chosen = select(
        rows.c.product_id,
        rows.c.tag_id,
        rows.c.priority,
        literal(added_at, type_=product_tags.c.added_at.type),
    ).order_by(rows.c.product_id, rows.c.tag_id)
    statement = insert_selected_ignoring_conflicts(
        connection,
        product_tags,
        ["product_id", "tag_id", "priority", "added_at"],
        chosen,
        on=["product_id", "tag_id"],
    ).returning(product_tags.c.product_id, product_tags.c.tag_id)
    added = sorted((row[0], row[1]) for row in await connection.execute(statement))
    journal(connection).links("LINK_ADDED", {pair: pairs[pair] for pair in added})
    return added


async def set_priorities(connection: AsyncConnection, pairs: Mapping[Pair, int]) -> list[Pair]:
    """Give existing pairs new priorities; returns the pairs whose priority really changed.

    UPDATE product_tags SET priority = rows.priority FROM rows
    WHERE (product_id, tag_id) match AND priority <> rows.priority
    """
    if not pairs:
        return []
    pt = product_tags
    rows = rows_of(
        connection,
        "priorities",
        {"product_id": "int", "tag_id": "int", "priority": "int"},
        [(p, t, priority) for (p, t), priority in sorted(pairs.items())],
    )
    statement = (
        update(pt)
        .where(
            pt.c.product_id == rows.c.product_id,
            pt.c.tag_id == rows.c.tag_id,
            pt.c.priority != rows.c.priority,
        )
        .values(priority=rows.c.priority)
        .returning(pt.c.product_id, pt.c.tag_id)
    )
    updated = sorted((row[0], row[1]) for row in await connection.execute(statement))
    journal(connection).links("LINK_UPDATED", {pair: pairs[pair] for pair in updated})
    return updated


async def remove(connection: AsyncConnection, pairs: Collection[Pair]) -> list[Pair]:
    """Delete pairs; absent ones are no error. Returns the pairs really deleted."""
    if not pairs:
        return []
    pt = product_tags
    rows = rows_of(connection, "gone_links", {"product_id": "int", "tag_id": "int"}, sorted(pairs))
    statement = (
        delete(pt)
        .where(tuple_(pt.c.product_id, pt.c.tag_id).in_(select(rows.c.product_id, rows.c.tag_id)))
        .returning(pt.c.product_id, pt.c.tag_id, pt.c.priority)
    )
    return await _removed(connection, statement)


async def remove_where(connection: AsyncConnection, where: ColumnElement[bool]) -> list[Pair]:
    """Delete the links matching `where` (every link of a parent about to be deleted, which
    would otherwise go by ON DELETE CASCADE, unrecorded). Returns the pairs deleted."""
    pt = product_tags
    statement = delete(pt).where(where).returning(pt.c.product_id, pt.c.tag_id, pt.c.priority)
    return await _removed(connection, statement)


async def _removed(connection: AsyncConnection, statement: ReturningDelete[Any]) -> list[Pair]:
    removed = {(p, t): priority for p, t, priority in await connection.execute(statement)}
    journal(connection).links("LINK_REMOVED", dict(sorted(removed.items())))
    return sorted(removed)
