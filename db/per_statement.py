"""A connection checked out per statement, for reads shared over a moment of unknown
length (the events of a burst of live updates, resolved by each subscriber in its own
time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

from db.connections import RequestConnection


class BriefConnection(RequestConnection):
    """Reads that check a pooled connection out for each statement and give it back as
    soon as the statement's rows are in: for reads shared by many tasks over a moment of
    unknown length (the events of a burst of live updates, resolved by every subscriber
    in its own time), none of which may hold a connection between its statements.

    Statements still take turns; each turn checks out, runs, and gives back.
    """

    async def execute(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> CursorResult[Any]:
        async with self._in_turn():
            await self._ready()
            try:
                # Rows of an async execute are buffered: they outlive the connection.
                return await AsyncConnection.execute(
                    self, statement, parameters, execution_options=execution_options
                )
            finally:
                await self._give_back()

    async def read(self, statement: Executable, parameters: Mapping[str, Any] | None = None) -> Any:
        return (await self.execute(statement, parameters)).all()

    async def _give_back(self) -> None:
        """Back to the pool, ready to check out another at the next statement (as a
        connection lost midway is replaced, see RequestConnection._ready)."""
        if self.sync_connection is not None:
            await AsyncConnection.close(self)
            self.sync_connection = None
