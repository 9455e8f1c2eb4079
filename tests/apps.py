"""Apps built from Settings inside a test, each with an httpx client over ASGI.

`app_clients(database_url, write_token, **client_options)` yields `make(**overrides)`: it
builds an app from Settings (the database and the write token, plus the overrides, which
win) and returns an httpx client over it, made with `client_options`. Every client and
every app's engine is closed when the block ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import create_app
from server.config.settings import Settings

MakeClient = Callable[..., httpx.AsyncClient]


@asynccontextmanager
async def app_clients(
    database_url: str,
    write_token: str,
    *,
    raise_app_exceptions: bool = True,
    **client_options: Any,
) -> AsyncIterator[MakeClient]:
    """Build as many apps as a test needs; their clients and engines close at the end."""
    clients: list[httpx.AsyncClient] = []
    engines: list[AsyncEngine] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        defaults: dict[str, Any] = {"database_url": database_url, "write_tokens": (write_token,)}
        app = create_app(Settings(**{**defaults, **overrides}))
        engines.append(app.state.engine)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        client = httpx.AsyncClient(transport=transport, **client_options)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()
        for engine in engines:
            await engine.dispose()
