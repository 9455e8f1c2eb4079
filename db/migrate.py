"""Alembic, configured in code: `catalog db upgrade` and the readiness check call this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")
# The key of the PostgreSQL advisory lock every upgrade holds (any constant; "cata").
MIGRATION_LOCK = 0x63617461


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Blocking: call from a thread or the CLI.

    On PostgreSQL the upgrade holds an advisory lock (MIGRATION_LOCK) for its whole run, so
    replicas that start at once migrate one at a time: the first applies the migrations,
    the others wait for it, then find nothing left to do. The lock is held by a session, so
    a process that dies releases it with its connection.
    """
    asyncio.run(_upgrade(database_url, revision))


async def _upgrade(database_url: str, revision: str) -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            locked = connection.dialect.name == "postgresql"
            if locked:
                await connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK}
                )
                await connection.commit()  # the lock outlives this transaction
            try:
                await connection.run_sync(_run_alembic, database_url, revision)
            finally:
                if locked:
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK}
                    )
                    await connection.commit()
    finally:
        await engine.dispose()


def _run_alembic(connection: Connection, database_url: str, revision: str) -> None:
    config = alembic_config(database_url)
    config.attributes["connection"] = connection  # migrations/env.py runs on this one
    command.upgrade(config, revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, database_url, revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at (None when never migrated)."""
    return await connection.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_revision()
    )
