"""Counting the SQL statements a unit of work runs: for request logs and batching tests."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# Transaction control is bookkeeping, not work the query asked for.
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)
    outer: StatementLog | None = None  # an enclosing recording sees these statements too

    @property
    def count(self) -> int:
        return len(self.statements)


_current: ContextVar[StatementLog | None] = ContextVar("catalog_statement_log", default=None)


def instrument(engine: AsyncEngine) -> None:
    """Make `record_statements()` see every statement this engine runs. Idempotent."""
    sync_engine = engine.sync_engine
    if event.contains(sync_engine, "before_cursor_execute", _before_cursor_execute):
        return
    event.listen(sync_engine, "before_cursor_execute", _before_cursor_execute)


def _before_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    note(statement)


def note(statement: str) -> None:
    """Count a statement run without SQLAlchemy's cursor (db.connections' direct reads)."""
    log = _current.get()
    if log is None or statement.lstrip().upper().startswith(_NOT_COUNTED):
        return
    while log is not None:
        log.statements.append(statement)
        log = log.outer


class record_statements:
    """Collect the statements run in this context (this task and what it awaits).

    Recordings nest: an outer one (a test's) also sees what an inner one (a request's) sees.
    A class rather than a @contextmanager: every request records, and the generator and
    its wrapper cost several times this.
    """

    __slots__ = ("_log", "_token")

    def __enter__(self) -> StatementLog:
        self._log = StatementLog(outer=_current.get())
        self._token = _current.set(self._log)
        return self._log

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self._token)
