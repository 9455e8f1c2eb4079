"""Bring stored names and keys in line with the rules of db.names; migrations call this.

Keys are computed in Python only, so a change of the rules needs the stored rows refolded:
every product and tag name is cleaned again and its key recomputed. Tags whose names now
share one key are merged into one:

- the oldest tag (lowest id) survives, with its own (cleaned) name;
- every product linked to any tag of the group is linked to the survivor, keeping the
  highest priority and the earliest added_at among its links to the group;
- the other tags and their links are deleted.

A name the current rules refuse (say one made only of zero-width spaces, or one whose key
would be too long) is left exactly as stored, with its old key: it stays reachable by id.
Anything changed moves the data version, so no cached response outlives the change.

It runs on the migration's own (synchronous) connection, inside its transaction, and
names only the columns it needs (not the models), so later migrations can call it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam

from db import names
from db.errors import Invalid

_products = sa.table("products", sa.column("id"), sa.column("name"), sa.column("name_key"))
_tags = sa.table("tags", sa.column("id"), sa.column("name"), sa.column("name_key"))
_links = sa.table(
    "product_tags",
    sa.column("product_id"),
    sa.column("tag_id"),
    sa.column("priority"),
    sa.column("added_at", sa.DateTime(timezone=True)),
)
_data_version = sa.table("data_version", sa.column("value"))
_CHUNK = 500  # ids per IN list, well under every database's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Refolded:
    """What a refold changed: rows renamed or rekeyed, and tags merged away."""

    products: int
    tags: int
    merged_tags: int


def refold(connection: Connection) -> Refolded:
    """Clean every name and recompute every key; merge tags that now share a key."""
    changed_products = _refold_products(connection)
    changed_tags, merged = _refold_tags(connection)
    if changed_products or changed_tags or merged:
        connection.execute(sa.update(_data_version).values(value=_data_version.c.value + 1))
    return Refolded(changed_products, changed_tags, merged)


def _cleaned(name: str, clean: Any, old_key: str | None) -> tuple[str, str | None]:
    """(name, key) by the current rules; the stored pair when the rules refuse the name."""
    try:
        cleaned = clean(name)
    except Invalid:
        return name, old_key
    return cleaned, names.fold(cleaned)


def _refold_products(connection: Connection) -> int:
    rows = connection.execute(sa.select(_products.c.id, _products.c.name, _products.c.name_key))
    changes = []
    for row in rows:
        name, key = _cleaned(row.name, names.product_name, row.name_key)
        key = key if key is not None else names.fold(row.name)
        if (name, key) != (row.name, row.name_key):
            changes.append({"row_id": row.id, "new_name": name, "new_key": key})
    _update(connection, _products, changes)
    return len(changes)


def _refold_tags(connection: Connection) -> tuple[int, int]:
    rows = connection.execute(
        sa.select(_tags.c.id, _tags.c.name, _tags.c.name_key).order_by(_tags.c.id)
    ).all()
    wanted: dict[int, tuple[str, str]] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        name, key = _cleaned(row.name, names.tag_name, row.name_key)
        assert key is not None
        wanted[row.id] = (name, key)
        groups[key].append(row.id)  # ids ascending: the first is the oldest
    merged = 0
    for ids in groups.values():
        if len(ids) > 1:
            _merge(connection, survivor=ids[0], others=ids[1:])
            merged += len(ids) - 1
    stored = {row.id: (row.name, row.name_key) for row in rows}
    changes = []
    for key, ids in groups.items():
        name = wanted[ids[0]][0]
        if (name, key) != stored[ids[0]]:
            changes.append({"row_id": ids[0], "new_name": name, "new_key": key})
    # Through a placeholder key first: a new key may still be another row's old key.
    placeholders = [{**c, "new_key": f"\x01refold {c['row_id']}"} for c in changes]
    _update(connection, _tags, placeholders)
    _update(connection, _tags, changes)
    return len(changes), merged


def _merge(connection: Connection, survivor: int, others: Sequence[int]) -> None:
    """Move the links of `others` onto `survivor` (best priority, first added), drop them."""
    group = [survivor, *others]
    links = connection.execute(
        sa.select(_links.c.product_id, _links.c.tag_id, _links.c.priority, _links.c.added_at)
        .where(_links.c.tag_id.in_(group))
        .order_by(_links.c.product_id)
    ).all()
    best: dict[int, tuple[int, datetime]] = {}
    kept: dict[int, tuple[int, datetime]] = {}
    for link in links:
        if link.tag_id == survivor:
            kept[link.product_id] = (link.priority, link.added_at)
        priority, added_at = best.get(link.product_id, (link.priority, link.added_at))
        best[link.product_id] = (max(priority, link.priority), min(added_at, link.added_at))
    for chunk in _chunks(others):
        connection.execute(sa.delete(_links).where(_links.c.tag_id.in_(chunk)))
        connection.execute(sa.delete(_tags).where(_tags.c.id.in_(chunk)))
    inserts = [
        {"product_id": p, "tag_id": survivor, "priority": pr, "added_at": at}
        for p, (pr, at) in best.items()
        if p not in kept
    ]
    if inserts:
        connection.execute(sa.insert(_links), inserts)
    updates = [
        {"p": p, "new_priority": pr, "new_added_at": at}
        for p, (pr, at) in best.items()
        if p in kept and kept[p] != (pr, at)
    ]
    if updates:
        connection.execute(
            sa.update(_links)
            .where(_links.c.product_id == bindparam("p"), _links.c.tag_id == survivor)
            .values(priority=bindparam("new_priority"), added_at=bindparam("new_added_at")),
            updates,
        )


def _update(connection: Connection, table: sa.TableClause, changes: list[dict[str, Any]]) -> None:
    if changes:
        connection.execute(
            sa.update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(name=bindparam("new_name"), name_key=bindparam("new_key")),
            changes,
        )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
