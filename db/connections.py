"""A request's way to the database: one Core connection, and one transaction per write.

The view opens one `RequestConnection` per request (`open_request`) and closes it when the
request ends. Nothing is checked out of the pool until the first statement: a request
answered from the cache, or refused, never touches the pool. Reads run on the connection
as they come, outside any transaction on PostgreSQL (each statement sees the latest
commit); a write runs inside `write_transaction` on the same connection, so whatever the
request reads after it sees what it wrote.

With read replicas (db.replicas) the handle of a query opens on a replica fit to serve it,
and moves to the primary if that replica fails its first statement; a mutation's is on
the primary, and after each commit it keeps the primary's WAL position for the response's
consistency token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable, exc
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from db import changes, statements
from db.dialects import is_unavailable
from db.engine import WRITE_OPTION, read_options, reads_autocommit, write_options
from db.expansion import expand
from db.replicas import ReplicaSet, committed_position

log = logging.getLogger("catalog.db")


class RequestConnection(AsyncConnection):
    """The connection of one request: checked out lazily, one statement at a time.

    GraphQL resolves sibling fields concurrently and their loaders share this connection,
    so statements (and commit, rollback, close) queue on a lock, in order of arrival.

    Cancellation: a statement cancelled midway (the request's time budget ran out, or
    GraphQL gave up on a field) makes SQLAlchemy invalidate the connection (an exit
    exception mid-statement): it is closed, never pooled, and the server ends whatever
    transaction it held. A later read of the same request gets a fresh connection; a write
    transaction that lost its connection fails as a whole.
    """

    def __init__(
        self, engine: AsyncEngine, replicas: ReplicaSet | None = None, *, direct_reads: bool = True
    ) -> None:
        super().__init__(engine)
        self._direct_reads = direct_reads
        self._direct = direct_reads and _reads_directly(engine)
        # The asyncpg connection of the checked-out connection, once asked for (`read`).
        self._driver: tuple[Any, Any] | None = None  # (sync connection, its driver's)
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._closed = False
        self._replicas = replicas
        self._served = False  # a statement succeeded on this node: no falling back now
        self._settled = False  # see settled()
        # The position of the request's last commit, when there are replicas to wait for
        # it (db.replicas: the consistency token); None otherwise.
        self.committed_at: int | None = None
        # The data version of the request's last commit (db.changes): where its changes
        # stand in the change log; None until it commits a write.
        self.committed_version: int | None = None

    @property
    def issues_tokens(self) -> bool:
        return self._replicas is not None and bool(self._replicas.replicas)

    async def __aenter__(self) -> RequestConnection:
        return self  # checked out at the first statement, not here

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()  # in the caller's task, which close() asks whether it is cancelled

    def _in_turn(self) -> _Turn:
        """The connection to oneself until the block ends, after those who asked before."""
        return _Turn(self)

    async def _ready(self) -> None:
        """Check out a connection if there is none, or none left (in the turn only)."""
        sync = self.sync_connection
        if sync is not None and sync.invalidated and not _inside_write(self):
            # A statement cancelled midway lost the connection: the next one starts
            # afresh on another, with the engine's own options.
            await super().close()
            self.sync_connection = sync = None
        if sync is None:
            await self.start()

    async def checked_out(self) -> None:
        """Check the connection out of the pool now, if no statement has yet."""
        async with self._in_turn():
            await self._ready()

    async def execute(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> CursorResult[Any]:
        async with self._in_turn():
            if not self._served and self._on_replica():
                return await self._first_on_replica(statement, parameters, execution_options)
            await self._ready()
            return await super().execute(statement, parameters, execution_options=execution_options)

    async def read(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Any:
        """The rows of a read statement that is built once (as db.readers builds them).

        On PostgreSQL, where reads run outside any transaction, the statement runs on
        asyncpg directly: SQLAlchemy compiles it once, its expansion (SQLAlchemy's public
        `SQLCompiler.construct_expanded_state`) is laid out once per length of its lists
        (db.expansion), and asyncpg runs it as a prepared statement from its own cache.
        That skips SQLAlchemy's per-statement work, about half of a small read's CPU time
        (docs/performance.md).
        Rows come back as asyncpg records: by position, like SQLAlchemy's rows.

        Everything else runs the documented way, through `execute`: SQLite, PgBouncer
        (whose reads are in a transaction), a traced engine, a write transaction, the
        first statement on a replica (it falls back to the primary), and any error from
        asyncpg: the statement runs again through SQLAlchemy, which raises it as it always
        has and drops a lost connection. A read cancelled midway (the request's time
        budget) loses its connection, which is closed and never pooled.
        """
        if self._direct and (self._served or not self._on_replica()):
            async with self._in_turn():
                if not _inside_write(self):
                    await self._ready()
                    rows = await self._read_directly(statement, parameters)
                    if rows is not None:
                        return rows
        return (await self.execute(statement, parameters)).all()

    async def _read_directly(
        self, statement: Executable, parameters: Mapping[str, Any] | None
    ) -> Any:
        """The rows from asyncpg; None when asyncpg raised (the caller runs it again)."""
        sync = self.sync_connection
        assert sync is not None
        sql, arguments = expand(statement, sync.dialect, parameters)
        driver = self._driver
        if driver is None or driver[0] is not sync or driver[1].is_closed():
            # First use, another checkout, or SQLAlchemy reconnected this one in place.
            driver = self._driver = (sync, (await self._pooled(sync)).driver_connection)
        try:
            rows = await driver[1].fetch(sql, *arguments)
        except Exception:
            log.debug("a direct read failed; running it through SQLAlchemy", exc_info=True)
            return None
        except BaseException:
            # Cancelled midway: the connection may still be inside the statement.
            await self.invalidate()
            raise
        self._served = True
        statements.note(sql)
        return rows

    async def _pooled(self, sync: Connection) -> PoolProxiedConnection:
        """The pooled connection under `sync`, as `get_raw_connection()` gives it.

        A connection that is neither closed nor invalidated holds its pooled connection:
        reading SQLAlchemy's public `Connection.connection` then does no I/O, so it needs
        none of the greenlet that `get_raw_connection()` starts (about 16 µs) to allow for
        a reconnect.
        """
        if sync.closed or sync.invalidated:
            return await self.get_raw_connection()
        return sync.connection

    def _on_replica(self) -> bool:
        return self._replicas is not None and self.engine is not self._replicas.primary

    async def _first_on_replica(
        self, statement: Any, parameters: Any, execution_options: Any
    ) -> CursorResult[Any]:
        """The request's first statement on a replica; on the primary if the replica fails.

        No request fails because a replica is down: one that cannot be reached, or whose
        pooled connection died, is marked unreachable (no reads until the monitor reaches
        it again) and the request reads from the primary instead, from its first statement
        on, so all its reads come from one node.
        """
        assert self._replicas is not None
        try:
            await self._ready()
            result = await super().execute(
                statement, parameters, execution_options=execution_options
            )
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._replicas.unreachable(self.engine)
            await self._move_to(self._replicas.primary)
            await self._ready()
            result = await super().execute(
                statement, parameters, execution_options=execution_options
            )
        self._served = True
        return result

    async def _move_to(self, engine: AsyncEngine) -> None:
        """Leave the current node (its connection is dead: closing it just discards it)."""
        if self.sync_connection is not None:
            with contextlib.suppress(Exception):
                await super().close()
        self.sync_connection = None
        self.engine, self.sync_engine = engine, engine.sync_engine
        self._direct = self._direct_reads and _reads_directly(engine)

    async def commit(self) -> None:
        async with self._in_turn():
            if self.sync_connection is not None:
                await super().commit()

    async def rollback(self) -> None:
        async with self._in_turn():
            if self.sync_connection is not None:
                await super().rollback()

    def settled(self) -> None:
        """Nothing the request started is still under way: its operations ran without an
        error, so every statement they asked for was awaited to its end. Closing then
        gives the connection back at once, without waiting for work due on the next loop
        turns (see close)."""
        self._settled = True

    async def close(self) -> None:
        """Give the connection back to the pool (rolled back); later statements fail.

        Statements already queued run first. When the request itself is being cancelled
        (its time budget ran out), the statement under way is cancelled instead of waited
        for, and those queued are refused: waiting could hold the answer hostage.
        """
        if _being_cancelled():
            self._closed = True
            if self._holder is not None and self._holder is not asyncio.current_task():
                self._holder.cancel()
        elif not self._settled:
            # Let work already scheduled (a loader batch due on the next loop turn) start
            # and queue: nothing may outlive the request's connection.
            for _ in range(2):
                await asyncio.sleep(0)
        async with self._turn:
            self._closed = True
            if self.sync_connection is not None and not self.sync_connection.closed:
                await super().close()


class _Turn:
    """RequestConnection's turn: its lock, held by the current task, refused once closed.

    A class rather than an asynccontextmanager: every statement takes a turn, and the
    generator and its wrapper cost several times this.
    """

    __slots__ = ("_connection",)

    def __init__(self, connection: RequestConnection) -> None:
        self._connection = connection

    async def __aenter__(self) -> None:
        connection = self._connection
        await connection._turn.acquire()
        if connection._closed:
            connection._turn.release()
            raise exc.ResourceClosedError("the request's connection is closed")
        connection._holder = asyncio.current_task()

    async def __aexit__(self, *_exc: object) -> None:
        connection = self._connection
        connection._holder = None
        connection._turn.release()


def open_request(
    databases: AsyncEngine | ReplicaSet,
    *,
    writes: bool,
    min_position: int | None = None,
    direct_reads: bool = True,
) -> RequestConnection:
    """The database handle of one request; close it when the request ends.

    With read replicas (a ReplicaSet), `writes` (the operation may write: a mutation) and
    `min_position` (the least position the client must see: its consistency token) decide
    which node serves the reads (db.replicas); a single engine serves everything.
    `direct_reads=False` keeps every read on SQLAlchemy's cursor (where its statements are
    traced).
    """
    if isinstance(databases, AsyncEngine):
        return RequestConnection(databases, direct_reads=direct_reads)
    engine = databases.for_reads(writes=writes, position=min_position)
    return RequestConnection(engine, databases, direct_reads=direct_reads)


async def read(
    connection: AsyncConnection, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """The rows of a read statement built once: directly on asyncpg where a request's
    connection allows it (RequestConnection.read), else through SQLAlchemy."""
    if isinstance(connection, RequestConnection):
        rows: Sequence[Any] = await connection.read(statement, parameters)
        return rows
    return (await connection.execute(statement, parameters)).all()


def _reads_directly(engine: AsyncEngine) -> bool:
    return engine.dialect.driver == "asyncpg" and reads_autocommit(engine)


@asynccontextmanager
async def write_transaction(
    connection: AsyncConnection, *, dry_run: bool = False
) -> AsyncIterator[AsyncConnection]:
    """One write, one transaction: commit on success, roll back everything on any error.

    The write runs READ COMMITTED (BEGIN IMMEDIATE on SQLite). A read transaction left
    open by earlier fields of the same request is closed first, so the write sees the
    latest committed state and takes its locks fresh. The writers note what they change
    in the transaction's journal (db.changes); its last statement moves the data version
    (see db.data_version) and appends the journal to the change log at that version, so
    the new version, the log and the data become visible together; that row lock is held
    only from there to the commit. Afterwards the connection reads as before, and sees
    the write.

    A dry run runs the same statements under the same locks, then rolls back instead of
    committing, without moving the data version or appending anything: nothing is
    written.
    """
    if isinstance(connection, RequestConnection):
        await connection.checked_out()
    elif connection.sync_connection is None:
        await connection.start()
    if connection.in_transaction():
        await connection.rollback()
    await connection.execution_options(**write_options(connection.engine))
    written = changes.open_journal(connection)
    try:
        try:
            yield connection
            if not dry_run:
                version = await changes.commit_entries(connection, written)
        except BaseException:
            await _roll_back_or_discard(connection)
            raise
        if dry_run:
            await connection.rollback()
        else:
            await connection.commit()
            if isinstance(connection, RequestConnection):
                connection.committed_version = version
    finally:
        if not connection.closed and not connection.invalidated:
            changes.close_journal(connection)
        # A lost (invalidated) connection is replaced at the next statement, see
        # RequestConnection; a live one goes back to reading as before.
        if not connection.closed and not connection.invalidated:
            await connection.execution_options(**read_options(connection.engine))
    if not dry_run and isinstance(connection, RequestConnection) and connection.issues_tokens:
        # After the commit: every node that has replayed this far sees the write. The write
        # stands whatever happens here: without a token the client may read it late.
        try:
            connection.committed_at = await committed_position(connection)
        except Exception:
            log.warning("no consistency token: reading the WAL position failed", exc_info=True)


async def _roll_back_or_discard(connection: AsyncConnection) -> None:
    """Roll back; when even that fails, close the connection rather than pool it dirty."""
    try:
        await connection.rollback()
    except Exception:
        log.warning("rollback failed; discarding the connection", exc_info=True)
        await connection.invalidate()


def _inside_write(connection: AsyncConnection) -> bool:
    """Whether a write transaction is under way: its failure is for its owner to end."""
    sync = connection.sync_connection
    return (
        sync is not None
        and sync.in_transaction()
        and bool(sync.get_execution_options().get(WRITE_OPTION))
    )


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
