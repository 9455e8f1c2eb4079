"""Where SQLite and PostgreSQL differ. Callers ask for intent; this module picks the SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    Table,
    any_,
    bindparam,
    column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

RowType = Literal["int", "text"]


def _name(connection: AsyncConnection) -> str:
    return connection.engine.dialect.name


def insert_ignoring_conflicts(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], *, on: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (on) DO NOTHING for the connection's database."""
    module: Any = postgresql if _name(connection) == "postgresql" else sqlite
    return module.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(on))


def insert_selected_ignoring_conflicts(
    connection: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    rows: Select[Any],
    *,
    on: Sequence[str],
) -> Insert:
    """INSERT INTO table (columns) SELECT ... ON CONFLICT (on) DO NOTHING.

    SQLite cannot tell ON CONFLICT from a join's ON after a bare SELECT, so the SELECT
    must carry a WHERE clause; callers' selects always get one here.
    """
    module: Any = postgresql if _name(connection) == "postgresql" else sqlite
    select_ = rows.where(text("1 = 1"))
    return (
        module.insert(table)
        .from_select(list(columns), select_)
        .on_conflict_do_nothing(index_elements=list(on))
    )


def rows_of(
    connection: AsyncConnection,
    name: str,
    columns: Mapping[str, RowType],
    rows: Sequence[Sequence[Any]],
) -> Subquery:
    """A subquery over `rows`, sent as ONE bound parameter (a JSON array of arrays).

    Bulk statements read their rows from here instead of a VALUES list or an IN list,
    whose bound parameters grow with the rows (SQLite allows 32,766 of them, asyncpg
    32,767): the statement and its one parameter stay the same shape for 1 row or 100,000.
    PostgreSQL unpacks it with jsonb_array_elements, SQLite with json_each.
    """
    payload = json.dumps([list(row) for row in rows], ensure_ascii=False)
    if _name(connection) == "postgresql":
        casts = {"int": "integer", "text": "text"}
        selected = ", ".join(
            f"CAST(value ->> {n} AS {casts[kind]}) AS {column_name}"
            for n, (column_name, kind) in enumerate(columns.items())
        )
        source = f"jsonb_array_elements(CAST(CAST(:{name} AS text) AS jsonb)) AS elements(value)"
    else:
        selected = ", ".join(
            f"json_extract(value, '$[{n}]') AS {column_name}"
            for n, column_name in enumerate(columns)
        )
        source = f"json_each(:{name})"
    types = {"int": Integer, "text": String}
    statement = (
        text(f"SELECT {selected} FROM {source}")
        .bindparams(bindparam(name, payload, type_=String))
        .columns(*(column(c, types[kind]()) for c, kind in columns.items()))
    )
    return statement.subquery(name)


def among(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column` is one of the values of the list bound as :name, for the dialect named.

    PostgreSQL: `column = ANY(:name)`, the list bound as ONE array parameter, so the SQL
    is the same for 1 value or 1,000: SQLAlchemy's cached compilation is used as it is
    (an expanding IN re-renders the SQL and its parameters on every call) and the driver
    reuses one prepared statement. SQLite has no arrays: `column IN (:name)`, expanding.
    Bind a list (asyncpg wants a sequence, not a set).

    Meant for lookups by key. In a statement with joins or a window PostgreSQL plans an
    array afresh at each execution (its generic plan, made for an array of unknown
    length, looks dearer than a custom one), which costs more than the expansion saves.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


async def lock_rows(connection: AsyncConnection, table: Table, ids: Subquery) -> list[int]:
    """Lock the rows whose ids `ids` lists, in id order; returns the ids that exist.

    The same lock as lock_parent, taken in ascending id order so that writers of
    overlapping sets of parents queue instead of deadlocking. One statement.
    """
    query = select(table.c.id).where(table.c.id.in_(select(ids.c.id))).order_by(table.c.id)
    if _name(connection) == "postgresql":
        query = query.with_for_update(key_share=True)
    return list((await connection.execute(query)).scalars())


async def lock_parent(connection: AsyncConnection, table: Table, row_id: int) -> bool:
    """Lock one parent row for the rest of the transaction; False when it does not exist.

    PostgreSQL takes FOR NO KEY UPDATE, which serializes writers of the same parent but
    still lets junction inserts elsewhere take their foreign-key share locks. SQLite needs
    no row lock: write transactions begin IMMEDIATE and so already run one at a time.
    """
    query = select(table.c.id).where(table.c.id == row_id)
    if _name(connection) == "postgresql":
        query = query.with_for_update(key_share=True)
    return (await connection.execute(query)).first() is not None


def locked_for_reference(
    connection: AsyncConnection, query: Select[Any], table: Table
) -> Select[Any]:
    """The existence check of rows a write is about to reference, locked until it commits.

    PostgreSQL takes FOR KEY SHARE on the rows of `table` the query finds: a concurrent
    delete of one of them then waits for this transaction (instead of the write's foreign
    key failing at insert), and a delete already under way is waited for, after which the
    row is gone and not returned, so the caller reports it as not found. The lock conflicts
    only with deletes and key updates. SQLite's writers already run one at a time.
    """
    if _name(connection) == "postgresql":
        return query.with_for_update(read=True, key_share=True, of=table)
    return query


# SQLSTATEs of PostgreSQL failures that a retry of the same request can cure.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock timeout
_CANCELED_SQLSTATE = "57014"  # statement timeout or cancel
# The server is going away or not there yet: shutting down (57P01, 57P02), starting up
# (57P03), and the connection exceptions of class 08.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_UNREACHABLE_CODES = {10, 14}  # SQLITE_IOERR, SQLITE_CANTOPEN
# SQLAlchemy's documented error code for "Can't reconnect until invalid transaction is
# rolled back": the connection was invalidated (lost) by an earlier statement.
_INVALIDATED_CONNECTION = "8s2b"


def _driver_error(error: BaseException) -> object:
    return getattr(error, "orig", None) or error


def _sqlstate(error: BaseException) -> str | None:
    driver = _driver_error(error)
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(driver, attribute, None)
        if isinstance(value, str):
            return value
    cause = getattr(driver, "__cause__", None)
    value = getattr(cause, "sqlstate", None)
    return value if isinstance(value, str) else None


def is_transient(error: BaseException) -> bool:
    """A database failure that the same request may well get past if retried."""
    if _sqlstate(error) in _TRANSIENT_SQLSTATES:
        return True
    return getattr(_driver_error(error), "sqlite_errorcode", None) in _SQLITE_BUSY_CODES


def is_timeout(error: BaseException) -> bool:
    """The database cancelled a statement that ran past its time budget."""
    return _sqlstate(error) == _CANCELED_SQLSTATE


def is_unavailable(error: BaseException) -> bool:
    """The database could not be reached, or the connection died under the request.

    Connection refused or reset (the driver raises the OS error as it is), the server
    shutting down or starting up, a connection closed mid-request (SQLAlchemy invalidates
    it): all end when the database is back, and the pool reconnects on its own.
    """
    for link in _chain(error):
        if isinstance(link, OSError) or getattr(link, "connection_invalidated", False):
            return True
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str) and (state in _UNAVAILABLE_SQLSTATES or state[:2] == "08"):
            return True
        if getattr(link, "sqlite_errorcode", None) in _SQLITE_UNREACHABLE_CODES:
            return True
        if isinstance(link, PendingRollbackError) and link.code == _INVALIDATED_CONNECTION:
            return True  # a later statement of a request whose connection died under it
    return False


def _chain(error: BaseException) -> list[BaseException]:
    """The error, the driver's error it wraps, and their causes (each once)."""
    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        link = pending.pop()
        if isinstance(link, BaseException) and all(link is not s for s in seen):
            seen.append(link)
            pending.extend([getattr(link, "orig", None), link.__cause__])
    return seen
