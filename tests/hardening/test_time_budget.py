"""A request over its time budget ends with a clear error and holds no connection."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.dialects import is_timeout
from db.engine import create_engine
from server.app import create_app
from server.config.settings import Settings


async def test_a_request_over_budget_gets_request_timeout_and_releases_its_connection(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import queries

    original = queries.products

    async def slow_products(*args: Any, **kwargs: Any) -> Any:
        page = await original(*args, **kwargs)  # holds the request's connection...
        await asyncio.sleep(5)  # ...then takes far longer than the budget
        return page

    monkeypatch.setattr(queries, "products", slow_products)
    app = create_app(Settings(database_url=database_url, request_timeout_ms=200))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": "{ products { totalCount } }"})
        assert response.status_code == 503
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "REQUEST_TIMEOUT"
        assert "200 ms" in error["message"]
        assert app.state.engine.pool.checkedout() == 0

        monkeypatch.setattr(queries, "products", original)
        again = await client.post("/graphql", json={"query": "{ products { totalCount } }"})
        assert again.json() == {"data": {"products": {"totalCount": 0}}}
    await app.state.engine.dispose()


@pytest.mark.postgres_only
async def test_postgres_cancels_a_statement_that_outruns_the_budget(database_url: str) -> None:
    engine = create_engine(database_url, statement_timeout_ms=100)
    try:
        async with engine.connect() as session:
            with pytest.raises(Exception) as raised:
                await session.execute(text("SELECT pg_sleep(2)"))
        assert is_timeout(raised.value)
    finally:
        await engine.dispose()
