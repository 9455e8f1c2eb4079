"""Fixtures of the hardening tests: apps built from settings, and the stored rows.

`make_client(**overrides)` builds the app from Settings (the write token "w-token" unless a
test overrides it, everything else as given) and an httpx client over it. Clients send no
token unless a test passes one, so every request's caller is visible where it is made. App
errors come back as responses (a 500 is something to assert against, not an exception).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db.engine import create_engine
from tests.apps import MakeClient, app_clients
from tests.hardening.api import WRITE_TOKEN, Stored


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[MakeClient]:
    """Build as many apps as a test needs; their clients and engines close at teardown."""
    async with app_clients(
        database_url, WRITE_TOKEN, raise_app_exceptions=False, base_url="http://catalog.test"
    ) as make:
        yield make


@pytest.fixture
async def stored(database_url: str) -> AsyncIterator[Stored]:
    """The test database's tables, read through an engine of their own."""
    engine = create_engine(database_url, pool_size=2)
    yield Stored(engine)
    await engine.dispose()
