"""Fault tests: real PostgreSQL under real faults (held locks, concurrent deletes, restarts,
kill -9, a crowd on a small pool). PostgreSQL only: these faults are PostgreSQL's.

Every test bounds its own running time (asyncio.timeout or subprocess timeouts), with
generous bounds: a loaded two-core machine must not make them flaky.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as raw_engine

from clusters import PgCluster
from db.feed import LISTENER_NAME
from tests.apps import MakeClient, app_clients
from tests.e2e.conftest import start_server  # noqa: F401  (a fixture, re-exported)
from tests.hardening.api import WRITE_TOKEN


@pytest.fixture(params=["postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Fault tests run on PostgreSQL alone (CI requires it, so they never skip there)."""
    return str(request.param)


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A started cluster of this test's own; stopped and removed afterwards.

    A missing PostgreSQL installation or runuser is an error, never a skip: the tests
    that need a cluster must run under CI.
    """
    cluster = PgCluster.create()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[MakeClient]:
    """Apps built from Settings (write token "w-token" plus the overrides), over httpx."""
    async with app_clients(
        database_url,
        WRITE_TOKEN,
        raise_app_exceptions=False,
        base_url="http://catalog.test",
        timeout=60,
    ) as make:
        yield make


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, beside the app's: to hold locks and watch backends."""
    engine = raw_engine(database_url)
    yield engine
    await engine.dispose()


async def backends_in_transaction(admin: AsyncEngine, *, besides: int | None = None) -> list[str]:
    """States of the database's backends left idle in a transaction (none should be)."""
    query = text(
        "SELECT pid, state FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state LIKE 'idle in transaction%'"
    )
    async with admin.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [f"{pid}: {state}" for pid, state in rows if pid != besides]


async def backends(admin: AsyncEngine) -> int:
    """How many backends besides the caller's are connected to the database, not counting
    the servers' change listeners (one per process, outside the pool: db.feed)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND application_name IS DISTINCT FROM :listener"
    )
    async with admin.connect() as connection:
        result = await connection.execute(query, {"listener": LISTENER_NAME})
        return int(result.scalar_one())
