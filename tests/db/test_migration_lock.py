"""Replicas that start together migrate one at a time (PostgreSQL advisory lock)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from db.migrate import MIGRATION_LOCK, head_revision

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("CATALOG_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="CATALOG_TEST_POSTGRES_URL is not set")


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _scalar(url: str, query: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(query))).scalar()
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database, never migrated; dropped at the end."""
    name = f"catalog_fresh_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def start_upgrade(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "server.process.cli", "db", "upgrade"],
        env={**os.environ, "CATALOG_DATABASE_URL": database_url},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=60)
    return process.returncode, output.decode()


def test_two_upgrades_at_once_on_a_fresh_database_both_succeed(fresh_database: str) -> None:
    first, second = start_upgrade(fresh_database), start_upgrade(fresh_database)

    for process in (first, second):
        code, output = finish(process)
        assert code == 0, output

    revision = asyncio.run(_scalar(fresh_database, "SELECT version_num FROM alembic_version"))
    assert revision == head_revision()
    assert asyncio.run(_scalar(fresh_database, "SELECT count(*) FROM alembic_version")) == 1


def test_an_upgrade_waits_for_the_migration_lock(fresh_database: str) -> None:
    async def scenario() -> None:
        # Autocommit: the lock is the session's, and each look at pg_stat_activity is fresh
        # (within a transaction PostgreSQL keeps showing its first snapshot).
        holder = create_async_engine(fresh_database, isolation_level="AUTOCOMMIT")
        try:
            async with holder.connect() as connection:
                await connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                upgrade = start_upgrade(fresh_database)
                try:
                    await _until_waiting_for_the_lock(connection)
                    # It waits before touching anything: the database is still unmigrated.
                    assert upgrade.poll() is None
                    tables = await connection.execute(text("SELECT to_regclass('alembic_version')"))
                    assert tables.scalar() is None
                    await connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                    code, output = await asyncio.to_thread(finish, upgrade)
                    assert code == 0, output
                finally:
                    if upgrade.poll() is None:
                        upgrade.kill()
                        upgrade.wait()
        finally:
            await holder.dispose()

    asyncio.run(scenario())
    revision = asyncio.run(_scalar(fresh_database, "SELECT version_num FROM alembic_version"))
    assert revision == head_revision()


async def _until_waiting_for_the_lock(connection: AsyncConnection) -> None:
    """Until another session of this database waits on an advisory lock (30 s at most)."""
    deadline = time.monotonic() + 30
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    while time.monotonic() < deadline:
        if (await connection.execute(query)).scalar() == 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the upgrade never waited for the migration lock")
