"""A primary, one streaming replica and PgBouncer of the suite's own, started once a session.

Never the shared server: `initdb` a primary, `pg_basebackup -R` a standby from it, both
under temporary directories on spare ports, and Debian's PgBouncer in transaction mode in
front of the primary. Everything is stopped and removed at the end of the session. The
programs missing is a skip on a developer's machine and a failure under CI
(CATALOG_TEST_REQUIRE_POSTGRES=1).

Each test starts from empty tables, with the standby caught up and replaying.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine as raw_engine

from db.migrate import upgrade
from tests.pgbouncer import PgBouncer
from tests.pgcluster import PgCluster

REQUIRE_POSTGRES = os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1"
DATABASE = "catalog"
TABLES = ("product_tags", "products", "tags")


@dataclass
class Replicated:
    """A primary and its streaming replica, with the catalog migrated on the primary."""

    primary: PgCluster
    standby: PgCluster

    @property
    def primary_url(self) -> str:
        return self.primary.url(DATABASE)

    @property
    def standby_url(self) -> str:
        return self.standby.url(DATABASE)

    def pause_replay(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_resume()")

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        caught_up = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        while self.standby.sql(caught_up) != "t":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.05)

    def statements_on(self, node: PgCluster, like: str) -> int:
        """Calls of the statements `node` ran (pg_stat_statements) whose text is LIKE `like`."""
        escaped = like.replace("'", "''")
        return int(
            node.sql(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                f" WHERE query LIKE '{escaped}'",
                DATABASE,
            )
        )

    def reset_statements(self) -> None:
        for node in (self.primary, self.standby):
            node.sql("SELECT pg_stat_statements_reset()", DATABASE)


def _unavailable(error: Exception) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"CATALOG_TEST_REQUIRE_POSTGRES=1 but the test clusters cannot run: {error}")
    pytest.skip(f"the test clusters cannot run here: {error}")


@pytest.fixture(scope="session")
def pg_replicated() -> Iterator[Replicated]:
    """A started primary and streaming replica, the catalog migrated; gone at the end."""
    started: list[PgCluster] = []
    try:
        try:
            primary = PgCluster.create(
                settings={
                    "shared_preload_libraries": "'pg_stat_statements'",
                    "pg_stat_statements.track": "all",
                    "wal_level": "replica",
                    "max_wal_senders": "5",
                }
            )
        except RuntimeError as error:
            _unavailable(error)
        started.append(primary)
        primary.start()
        primary.create_database(DATABASE)
        primary.sql("CREATE EXTENSION pg_stat_statements", DATABASE)
        upgrade(primary.url(DATABASE))
        standby = PgCluster.standby_of(primary)
        started.append(standby)
        standby.start()
        replicated = Replicated(primary, standby)
        replicated.wait_for_replay()
        yield replicated
    finally:
        for cluster in reversed(started):
            cluster.destroy()


@pytest.fixture(scope="session")
def pg_bouncer(pg_replicated: Replicated) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the primary, for the session."""
    try:
        bouncer = PgBouncer.start(pg_replicated.primary, pool_size=4)
    except RuntimeError as error:
        _unavailable(error)
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture
def replicated(pg_replicated: Replicated) -> Iterator[Replicated]:
    """The clusters with empty tables, the standby caught up and replaying; statement
    counts reset. Replay is resumed afterwards, whatever the test did."""
    asyncio.run(_truncate(pg_replicated.primary_url))
    pg_replicated.wait_for_replay()
    pg_replicated.reset_statements()
    try:
        yield pg_replicated
    finally:
        if not pg_replicated.standby.is_running():
            pg_replicated.standby.start()
        pg_replicated.resume_replay()


async def _truncate(url: str) -> None:
    engine = raw_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
