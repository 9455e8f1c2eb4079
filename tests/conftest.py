"""Shared fixtures: every test that touches data runs on SQLite and on PostgreSQL.

PostgreSQL comes from CATALOG_TEST_POSTGRES_URL. Without it the PostgreSQL cases skip,
unless CATALOG_TEST_REQUIRE_POSTGRES=1 (CI), where a missing or unreachable server fails.
Each test gets a database of its own: a copy of a migrated SQLite file, or a freshly
truncated PostgreSQL database created for this test session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as raw_engine

from db.connections import open_request
from db.engine import create_engine
from db.migrate import upgrade
from db.statements import instrument
from tests.tables import truncate_catalog

POSTGRES_URL = os.environ.get("CATALOG_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if item.get_closest_marker("postgres_only") and backend == "sqlite":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only behaviour"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test session, migrated; dropped at the end."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("CATALOG_TEST_REQUIRE_POSTGRES=1 but CATALOG_TEST_POSTGRES_URL is unset")
        pytest.skip("CATALOG_TEST_POSTGRES_URL is not set")
    admin_url = make_url(POSTGRES_URL)
    name = f"catalog_test_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        engine = raw_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # unreachable server
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for this test alone."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "catalog.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(truncate_catalog(url))
    yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=25)
    instrument(engine)
    yield engine
    await engine.dispose()


Opener = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


@pytest.fixture
def sessions(engine: AsyncEngine) -> Opener:
    """Opens a request's database handle of its own: `async with sessions() as connection`.

    Checked out at once (so a test may also `begin()` on it), closed at the block's end.
    """

    @asynccontextmanager
    async def opened() -> AsyncIterator[AsyncConnection]:
        connection = open_request(engine, writes=True)
        try:
            await connection.checked_out()
            yield connection
        finally:
            await connection.close()

    return opened


@pytest.fixture
async def session(sessions: Opener) -> AsyncIterator[AsyncConnection]:
    """A request's database handle for the test, as the services and readers take one."""
    async with sessions() as connection:
        yield connection
