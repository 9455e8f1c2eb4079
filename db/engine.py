"""Engines: the only long-lived database object in the process, and how it connects."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger("catalog.db")

SQLITE_BUSY_TIMEOUT_MS = 5_000
WRITE_OPTION = "catalog_write"


_READS = "catalog_reads"  # the isolation level reads run at: see create_engine

# Behind PgBouncer in transaction mode (CATALOG_DB_PGBOUNCER), as SQLAlchemy's asyncpg
# documentation prescribes: no statement cache in asyncpg nor in SQLAlchemy, and unique
# names for the statements asyncpg still prepares, so that two clients never collide on
# one server connection. No startup parameters: PgBouncer refuses those it does not know
# (the timeouts are set on the database role instead, see docs/deployment.md).
PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": lambda: f"__catalog_{uuid.uuid4().hex}__",
}


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """PostgreSQL's own bounds for one statement and for one lock wait, in milliseconds."""

    statement_ms: int
    lock_ms: int


def timeouts_within(budget_ms: int) -> DatabaseTimeouts:
    """The database's timeouts for a request time budget: the database gives up first.

    A statement may run until a margin before the budget (a tenth of it, at least 100 ms,
    at most half the budget), so the database, not the asyncio budget, ends a slow
    statement and the request still has time to roll back and answer. A lock wait gets
    half of that: a write queued behind another transaction's lock gives up with a
    retryable lock timeout well before the budget runs out.
    """
    margin = min(max(budget_ms // 10, 100), budget_ms // 2)
    statement_ms = max(budget_ms - margin, 1)
    return DatabaseTimeouts(statement_ms=statement_ms, lock_ms=max(statement_ms // 2, 1))


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
    pgbouncer: bool = False,
    echo: bool = False,
) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    SQLite gets foreign keys, WAL and a busy timeout on every connection, and write
    transactions open with BEGIN IMMEDIATE so that concurrent writers queue instead of
    failing. PostgreSQL gets a pool of at most `pool_size` connections, each kept once
    opened (no overflow: connections opened for a burst and closed right after it would
    cost a connect per burst), when asked a per-statement and a per-lock-wait
    timeout, and a guard that never lets a connection back into the pool while it is
    still inside a transaction (see _discard_if_in_transaction).
    """
    if is_sqlite(url):
        engine = _create_async_engine(url, echo=echo)
        _configure_sqlite(engine)
        return engine
    # Reads run without a transaction: at READ COMMITTED one gives a request nothing (each
    # statement sees its own snapshot either way) and costs a BEGIN and a ROLLBACK round
    # trip. Writes ask for a READ COMMITTED transaction (see
    # db.connections.write_transaction). Behind PgBouncer reads run in a transaction too
    # (rolled back when the request ends): outside one, PgBouncer may send a statement's
    # prepare and its execution to two different server connections.
    server_settings: dict[str, str] = {}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    if lock_timeout_ms:
        server_settings["lock_timeout"] = str(lock_timeout_ms)
    connect_args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    reads = "AUTOCOMMIT"
    if pgbouncer:
        connect_args, reads = PGBOUNCER_CONNECT_ARGS, "READ COMMITTED"
    engine = _create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
        isolation_level=reads,
        execution_options={_READS: reads},
    )
    event.listen(engine.sync_engine, "checkin", _discard_if_in_transaction)
    return engine


def _discard_if_in_transaction(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """The last guard of the pool: a connection still inside a transaction is closed.

    The pool's own reset rolls back the transactions SQLAlchemy knows of. One it lost track
    of (a rollback that failed because a statement was still running) would hand the next
    request an open, perhaps aborted, transaction, and every request after it would fail.
    The driver knows the server's transaction state from its last message: ask it.
    """
    if dbapi_connection is None:  # already invalidated
        return
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_in_transaction():
        log.warning("a pooled connection came back inside a transaction; closing it")
        record.invalidate()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_options(engine: AsyncEngine) -> dict[str, Any]:
    """A write transaction's options: READ COMMITTED, or BEGIN IMMEDIATE on SQLite."""
    if engine.dialect.name == "sqlite":
        return {WRITE_OPTION: True}  # see _configure_sqlite
    return {WRITE_OPTION: True, "isolation_level": "READ COMMITTED"}


def reads_autocommit(engine: AsyncEngine) -> bool:
    """Whether reads run outside any transaction (PostgreSQL, unless behind PgBouncer)."""
    return engine.get_execution_options().get(_READS) == "AUTOCOMMIT"


def read_options(engine: AsyncEngine) -> dict[str, Any]:
    """The options write_options changed, back as the engine reads."""
    if engine.dialect.name == "sqlite":
        return {WRITE_OPTION: False}
    return {WRITE_OPTION: False, "isolation_level": engine.get_execution_options()[_READS]}
