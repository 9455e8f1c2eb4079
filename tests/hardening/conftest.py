"""Fixtures of the hardening tests: apps built from settings, and the stored rows.

`make_client(**overrides)` builds the app from Settings (the write token "w-token" unless a
test overrides it, everything else as given) and an httpx client over it. Clients send no
token unless a test passes one, so every request's caller is visible where it is made. App
errors come back as responses (a 500 is something to assert against, not an exception).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from server.app import create_app
from server.settings import Settings
from tests.hardening.api import WRITE_TOKEN, Stored

MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[MakeClient]:
    """Build as many apps as a test needs; their clients and engines close at teardown."""
    clients: list[httpx.AsyncClient] = []
    engines: list[AsyncEngine] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        defaults: dict[str, Any] = {"database_url": database_url, "write_tokens": (WRITE_TOKEN,)}
        app = create_app(Settings(**{**defaults, **overrides}))
        engines.append(app.state.engine)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://catalog.test",
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    for engine in engines:
        await engine.dispose()


@pytest.fixture
async def stored(database_url: str) -> AsyncIterator[Stored]:
    """The test database's tables, read through an engine of their own."""
    engine = create_engine(database_url, pool_size=2)
    yield Stored(engine)
    await engine.dispose()
