"""Engines and sessions. The engine is the only long-lived database object in the process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from db import data_version

log = logging.getLogger("catalog.db")

SQLITE_BUSY_TIMEOUT_MS = 5_000
_WRITE = "catalog_write"


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
    pool_size: int = 10,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
    echo: bool = False,
) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    SQLite gets foreign keys, WAL and a busy timeout on every connection, and write
    transactions open with BEGIN IMMEDIATE so that concurrent writers queue instead of
    failing. PostgreSQL gets a pool, when asked a per-statement and a per-lock-wait
    timeout, and a guard that never lets a connection back into the pool while it is
    still inside a transaction (see _discard_if_in_transaction).
    """
    if is_sqlite(url):
        engine = _create_async_engine(url, echo=echo)
        _configure_sqlite(engine)
        return engine
    # Reads run without a transaction: at READ COMMITTED one gives a request nothing (each
    # statement sees its own snapshot either way) and costs a BEGIN and a ROLLBACK round
    # trip. Writes ask for a READ COMMITTED transaction (see write_transaction).
    server_settings: dict[str, str] = {}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    if lock_timeout_ms:
        server_settings["lock_timeout"] = str(lock_timeout_ms)
    connect_args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    engine = _create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
        isolation_level="AUTOCOMMIT",
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
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class SerializedSession(AsyncSession):
    """An AsyncSession that runs one statement at a time and never abandons one midway.

    GraphQL resolves sibling fields concurrently and their loaders share the request's
    session, so statements queue here. And GraphQL may cancel a resolver when a sibling's
    error makes its result moot: a statement cancelled halfway would leave the session in
    a state it cannot close from, so each statement runs in a task of its own, shielded
    from the caller's cancellation, and rollback() and close() wait for any still running
    (unless the request itself is being cancelled: see _settle).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._one_at_a_time = asyncio.Lock()
        self._running: set[asyncio.Task[Any]] = set()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        task = asyncio.ensure_future(self._execute_in_turn(*args, **kwargs))
        self._running.add(task)
        task.add_done_callback(_settled(self._running))
        return await asyncio.shield(task)

    async def _execute_in_turn(self, *args: Any, **kwargs: Any) -> Any:
        async with self._one_at_a_time:
            return await super().execute(*args, **kwargs)

    async def rollback(self) -> None:
        # A rollback sent while a statement still runs would fail ("another operation is in
        # progress") and leave the transaction open: it waits its turn.
        await self._settle()
        await super().rollback()

    async def close(self) -> None:
        # Let work already scheduled (a loader batch due on the next loop turn) start and
        # register, then wait for all of it: nothing may outlive the request's session.
        for _ in range(2):
            await asyncio.sleep(0)
        await self._settle()
        await super().close()

    async def _settle(self) -> None:
        """Wait for the running statements, or cancel them when the caller is cancelled.

        When the request itself is cancelled (its time budget ran out), waiting for a
        statement that may be queued behind a lock would hold the answer hostage. Its
        statements are cancelled instead: SQLAlchemy then invalidates their connection (an
        exit exception mid-statement), closing it, and the server ends the transaction.
        """
        if _being_cancelled():
            for task in self._running:
                task.cancel()
        while self._running:
            await asyncio.wait(set(self._running))


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _settled(running: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def forget(task: asyncio.Task[Any]) -> None:
        running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that was cancelled no longer will

    return forget


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, class_=SerializedSession, expire_on_commit=False, autoflush=False
    )


@asynccontextmanager
async def write_transaction(
    session: AsyncSession, *, dry_run: bool = False
) -> AsyncIterator[AsyncSession]:
    """One write, one transaction: commit on success, roll back everything on any error.

    A read transaction left open by earlier fields of the same request is closed first, so
    the write sees the latest committed state and takes its locks fresh. Its last statement
    moves the data version (see db.data_version), so the new version becomes visible
    exactly when the data does; that row lock is held only from there to the commit.

    A dry run runs the same statements under the same locks, then rolls back instead of
    committing, without moving the data version: nothing is written.
    """
    if session.in_transaction():
        await session.rollback()
    await session.connection(execution_options=_write_options(session))
    try:
        yield session
        if not dry_run:
            await data_version.advance(session)
    except BaseException:
        await _roll_back_or_discard(session)
        raise
    if dry_run:
        await session.rollback()
    else:
        await session.commit()


async def _roll_back_or_discard(session: AsyncSession) -> None:
    """Roll back; when even that fails, close the connection rather than pool it dirty."""
    try:
        await session.rollback()
    except Exception:
        log.warning("rollback failed; discarding the connection", exc_info=True)
        await session.invalidate()


def _write_options(session: AsyncSession) -> dict[str, Any]:
    if session.get_bind().dialect.name == "sqlite":
        return {_WRITE: True}  # BEGIN IMMEDIATE, see _configure_sqlite
    return {_WRITE: True, "isolation_level": "READ COMMITTED"}
