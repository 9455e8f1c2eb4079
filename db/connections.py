"""A request's way to the database: one Core connection, and one transaction per write.

The view opens one `RequestConnection` per request (`open_request`) and closes it when the
request ends. Nothing is checked out of the pool until the first statement: a request
answered from the cache, or refused, never touches the pool. Reads run on the connection
as they come, outside any transaction on PostgreSQL (each statement sees the latest
commit); a write runs inside `write_transaction` on the same connection, so whatever the
request reads after it sees what it wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import data_version
from db.engine import WRITE_OPTION, read_options, write_options

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

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._closed = False

    async def __aenter__(self) -> RequestConnection:
        return self  # checked out at the first statement, not here

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()  # in the caller's task, which close() asks whether it is cancelled

    @asynccontextmanager
    async def _in_turn(self) -> AsyncIterator[None]:
        async with self._turn:
            if self._closed:
                raise exc.ResourceClosedError("the request's connection is closed")
            self._holder = asyncio.current_task()
            try:
                yield
            finally:
                self._holder = None

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
            await self._ready()
            return await super().execute(statement, parameters, execution_options=execution_options)

    async def commit(self) -> None:
        async with self._in_turn():
            if self.sync_connection is not None:
                await super().commit()

    async def rollback(self) -> None:
        async with self._in_turn():
            if self.sync_connection is not None:
                await super().rollback()

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
        else:
            # Let work already scheduled (a loader batch due on the next loop turn) start
            # and queue: nothing may outlive the request's connection.
            for _ in range(2):
                await asyncio.sleep(0)
        async with self._turn:
            self._closed = True
            if self.sync_connection is not None and not self.sync_connection.closed:
                await super().close()


def open_request(
    engine: AsyncEngine, *, writes: bool, min_position: object | None = None
) -> RequestConnection:
    """The database handle of one request; close it when the request ends.

    `writes` says whether the operation may write (a mutation); `min_position` is the
    least position of the data the client must see (a consistency token), or None. Both
    decide which database serves the reads once there is more than one; with a single
    database they change nothing.
    """
    del writes, min_position  # one database: the primary serves everything
    return RequestConnection(engine)


@asynccontextmanager
async def write_transaction(
    connection: AsyncConnection, *, dry_run: bool = False
) -> AsyncIterator[AsyncConnection]:
    """One write, one transaction: commit on success, roll back everything on any error.

    The write runs READ COMMITTED (BEGIN IMMEDIATE on SQLite). A read transaction left
    open by earlier fields of the same request is closed first, so the write sees the
    latest committed state and takes its locks fresh. Its last statement moves the data
    version (see db.data_version), so the new version becomes visible exactly when the
    data does; that row lock is held only from there to the commit. Afterwards the
    connection reads as before, and sees the write.

    A dry run runs the same statements under the same locks, then rolls back instead of
    committing, without moving the data version: nothing is written.
    """
    if isinstance(connection, RequestConnection):
        await connection.checked_out()
    elif connection.sync_connection is None:
        await connection.start()
    if connection.in_transaction():
        await connection.rollback()
    await connection.execution_options(**write_options(connection.engine))
    try:
        try:
            yield connection
            if not dry_run:
                await data_version.advance(connection)
        except BaseException:
            await _roll_back_or_discard(connection)
            raise
        if dry_run:
            await connection.rollback()
        else:
            await connection.commit()
    finally:
        # A lost (invalidated) connection is replaced at the next statement, see
        # RequestConnection; a live one goes back to reading as before.
        if not connection.closed and not connection.invalidated:
            await connection.execution_options(**read_options(connection.engine))


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
