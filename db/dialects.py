"""Where SQLite and PostgreSQL differ. Callers ask for intent; this module picks the SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def _name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_ignoring_conflicts(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *, on: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (on) DO NOTHING for the session's database."""
    module: Any = postgresql if _name(session) == "postgresql" else sqlite
    return module.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(on))


async def lock_parent(session: AsyncSession, table: Table, row_id: int) -> bool:
    """Lock one parent row for the rest of the transaction; False when it does not exist.

    PostgreSQL takes FOR NO KEY UPDATE, which serializes writers of the same parent but
    still lets junction inserts elsewhere take their foreign-key share locks. SQLite needs
    no row lock: write transactions begin IMMEDIATE and so already run one at a time.
    """
    query = select(table.c.id).where(table.c.id == row_id)
    if _name(session) == "postgresql":
        query = query.with_for_update(key_share=True)
    return (await session.execute(query)).first() is not None


# SQLSTATEs of PostgreSQL failures that a retry of the same request can cure.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock timeout
_CANCELED_SQLSTATE = "57014"  # statement timeout or cancel
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED


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
