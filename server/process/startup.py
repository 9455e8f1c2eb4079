"""The start-up check: refuse to serve a database that is missing, unreachable or behind.

`catalog serve` runs it once before it listens, so a mistake is one line on stderr and a
non-zero exit instead of a server that answers every query with an internal error. Each
problem names what is wrong and the command or setting that fixes it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from db.migrate import MIGRATIONS, current_revision, head_revision

CHECK_TIMEOUT_S = 10.0
UPGRADE = "run `catalog db upgrade`"


class DatabaseNotReady(Exception):
    """The database cannot be served as it is; the message says why and what fixes it."""


async def check_database(database_url: str, timeout_s: float = CHECK_TIMEOUT_S) -> None:
    """Raise DatabaseNotReady unless the database answers and is at the newest migration.

    A SQLite file that does not exist is reported, not created: connecting would make an
    empty file, and the server would then report missing tables instead.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url)
    revision = await read_revision(database_url, timeout_s)
    head = head_revision()
    if revision is None:
        raise DatabaseNotReady(f"the database at {_where(url)} has no tables yet; {UPGRADE}")
    if revision != head:
        raise DatabaseNotReady(
            f"the database at {_where(url)} is at migration {revision} and this version needs "
            f"{head}; {UPGRADE}"
            + ("" if _known(revision) else " (or run the newer version that migrated it)")
        )


async def read_revision(database_url: str, timeout_s: float = CHECK_TIMEOUT_S) -> str | None:
    """The database's migration revision; DatabaseNotReady when it cannot be reached."""
    url = make_url(database_url)
    check_sqlite_directory(url)
    connect_args = {"timeout": timeout_s} if url.get_backend_name() == "postgresql" else {}
    engine = create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as connection:
            return await current_revision(connection)
    except TimeoutError:
        raise DatabaseNotReady(
            f"the database at {_where(url)} did not answer within {timeout_s:.0f} s"
        ) from None
    except (OSError, DBAPIError) as error:
        raise DatabaseNotReady(connection_problem(url, error)) from None
    finally:
        await engine.dispose()


def connection_problem(url: URL, error: OSError | DBAPIError) -> str:
    """One line for a failure to connect, with what fixes it."""
    if isinstance(error, OSError):
        return (
            f"cannot reach the database at {_where(url)} ({_reason(error)}); start it, or fix "
            "CATALOG_DATABASE_URL"
        )
    reason = _reason(error.orig or error)
    code = getattr(error.orig, "sqlstate", None)
    if code == "3D000":  # invalid_catalog_name
        return (
            f"database {url.database!r} does not exist at {_where(url)}; create it "
            f"(createdb {url.database}), then {UPGRADE}"
        )
    if code in {"28000", "28P01"}:  # invalid authorization / password
        return (
            f"the database at {_where(url)} refused the login ({reason}); fix the user or "
            "password in CATALOG_DATABASE_URL"
        )
    return f"cannot use the database at {_where(url)} ({reason})"


def check_sqlite_directory(url: URL) -> None:
    """SQLite creates a missing file but not a missing directory: say so plainly."""
    path = Path(url.database or "")
    if url.get_backend_name() == "sqlite" and not path.parent.is_dir():
        raise DatabaseNotReady(
            f"the directory of the SQLite file {str(path)!r} does not exist; create it, then "
            f"{UPGRADE}"
        )


def _check_sqlite_file(url: URL) -> None:
    check_sqlite_directory(url)  # first: the directory is the thing to fix
    path = Path(url.database or "")
    if not path.exists():
        raise DatabaseNotReady(f"the SQLite file {str(path)!r} does not exist; {UPGRADE}")


def _known(revision: str) -> bool:
    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except AlembicError:  # a revision from a newer version of the code
        return False
    return True


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return repr(url.database)
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
