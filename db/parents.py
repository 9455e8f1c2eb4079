"""The parents of a link, for the association service: locked for a write, or required.

A write locks the parents whose links it changes, so writers of one parent are serialized
(a row lock on PostgreSQL, taken in id order when there are several, so concurrent bulk
writers queue and never deadlock; on SQLite the IMMEDIATE transaction already holds the
database's write lock). The other side's rows a write links to are read under a key-share
lock (db.dialects.locked_for_reference), so they cannot be deleted before the transaction
ends. A read requires its parent without locking it. A missing parent is NotFound.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.dialects import lock_parent, lock_rows, locked_for_reference, rows_of
from db.errors import NotFound
from db.models import is_storable_id, products
from db.references import TagsOf, WantedProduct, part_of


async def lock_products(connection: AsyncConnection, items: Sequence[TagsOf]) -> None:
    """Lock the items' products in id order; NotFound names every missing one."""
    ids = rows_of(connection, "locked_ids", {"id": "int"}, sorted_product_ids(items))
    found = set(await lock_rows(connection, products, ids))
    missing = [item for item in items if item.product_id not in found]
    if missing:
        raise NotFound("product", [item.product_id for item in missing], at=missing[0].product_at)


async def lock_one(connection: AsyncConnection, table: Table, row_id: int, kind: str) -> None:
    """Lock one parent row for the rest of the transaction; NotFound if there is none."""
    if not is_storable_id(row_id) or not await lock_parent(connection, table, row_id):
        raise NotFound(kind, [row_id])


async def require_products(connection: AsyncConnection, wanted: Sequence[WantedProduct]) -> None:
    """Check the products exist, holding them against deletes until the transaction ends."""
    ids = list(dict.fromkeys(w.id for w in wanted))
    if not ids:
        return
    query = select(products.c.id).where(products.c.id.in_([i for i in ids if is_storable_id(i)]))
    query = locked_for_reference(connection, query, products)
    found = set((await connection.execute(query)).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        first = next(w for w in wanted if w.id in missing)
        raise NotFound("product", missing, field="products", at=part_of(first.at, "id"))


async def require(
    connection: AsyncConnection,
    table: Table,
    ids: Sequence[int],
    kind: str,
    field: str | None = None,
) -> None:
    """Check the rows exist, without locking them (for reads); NotFound names the missing."""
    if not ids:
        return
    query = select(table.c.id).where(table.c.id.in_([i for i in ids if is_storable_id(i)]))
    found = set((await connection.execute(query)).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(kind, missing, field=field)


def sorted_product_ids(items: Sequence[TagsOf]) -> list[tuple[int]]:
    """The items' distinct storable product ids, ascending, as rows for db.dialects.rows_of."""
    return [
        (i,) for i in sorted({item.product_id for item in items if is_storable_id(item.product_id)})
    ]
