"""/metrics counts real requests: each counter moves by exactly what the requests did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.config.settings import Settings
from server.observability.metrics import OPERATION_NAMES
from tests.server.metrics_page import Samples, moved, parse, value

WRITE_TOKEN = "metrics-write"
READ_TOKEN = "metrics-read"
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}

MakeClient = Callable[..., Any]


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[MakeClient]:
    """A client on an app built with these settings (on this test's database)."""
    apps: list[Starlette] = []
    clients: list[httpx.AsyncClient] = []

    async def make(**settings: Any) -> tuple[httpx.AsyncClient, Starlette]:
        app = create_app(
            Settings(database_url=database_url, write_tokens=(WRITE_TOKEN,), **settings)
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        apps.append(app)
        clients.append(client)
        return client, app

    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.state.engine.dispose()


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] = AUTH) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def post(client: httpx.AsyncClient, query: str, name: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": query}
    if name is not None:
        payload["operationName"] = name
    response = await client.post("/graphql", json=payload, headers=AUTH)
    body: dict[str, Any] = response.json()
    return body


LIST = """
query ListProducts { products(first: 5) { totalCount nodes { id tags { nodes { name } } } } }
"""
CREATE = 'mutation NewProduct { createProduct(input: {name: "Lamp"}) { product { id } } }'


async def test_requests_latency_and_statements_move_by_what_the_requests_did(
    make_client: MakeClient,
) -> None:
    client, _ = await make_client()
    await post(client, CREATE, "NewProduct")
    before = await scrape(client)

    for _ in range(3):
        assert "errors" not in await post(client, LIST, "ListProducts")
    assert "errors" not in await post(client, CREATE, "NewProduct")
    after = await scrape(client)

    requests = "catalog_requests_total"
    ok = {"outcome": "ok"}
    assert moved(before, after, requests, operation="ListProducts", type="query", **ok) == 3
    assert moved(before, after, requests, operation="NewProduct", type="mutation", **ok) == 1
    latency = "catalog_request_duration_seconds_count"
    assert moved(before, after, latency, type="query") == 3
    assert moved(before, after, latency, type="mutation") == 1
    assert moved(before, after, "catalog_request_duration_seconds_sum", type="query") > 0
    # products, its count and the tags of the page: three statements, whatever the rows
    statements = "catalog_request_sql_statements"
    assert moved(before, after, f"{statements}_count", type="query") == 3
    assert moved(before, after, f"{statements}_sum", type="query") == 3 * 3
    assert moved(before, after, f"{statements}_bucket", type="query", le="2.0") == 0
    assert moved(before, after, f"{statements}_bucket", type="query", le="3.0") == 3


async def test_limit_refusals_are_counted_by_code(make_client: MakeClient) -> None:
    client, _ = await make_client(max_body_bytes=2000)
    before = await scrape(client)

    too_many = await post(client, "{ products(first: 101) { totalCount } }")
    assert too_many["errors"][0]["extensions"]["code"] == "MAX_FIRST_EXCEEDED"
    huge = await client.post("/graphql", json={"query": "{" + " " * 3000 + "}"}, headers=AUTH)
    assert huge.status_code == 413
    mutation_over_get = await client.get("/graphql", params={"query": CREATE}, headers=AUTH)
    assert mutation_over_get.status_code == 405
    after = await scrape(client)

    refusals = "catalog_refusals_total"
    assert moved(before, after, refusals, code="MAX_FIRST_EXCEEDED") == 1
    assert moved(before, after, refusals, code="BODY_TOO_LARGE") == 1
    assert moved(before, after, refusals, code="METHOD_NOT_ALLOWED") == 1
    requests = "catalog_requests_total"
    assert moved(before, after, requests, operation="anonymous", type="query", outcome="errors")
    assert (
        moved(
            before,
            after,
            requests,
            operation="NewProduct",
            type="mutation",
            outcome="refused:METHOD_NOT_ALLOWED",
        )
        == 1
    )


async def test_response_cache_hits_and_misses_are_counted(make_client: MakeClient) -> None:
    client, _ = await make_client(response_cache="memory")
    before = await scrape(client)

    first = await client.post("/graphql", json={"query": LIST}, headers=AUTH)
    second = await client.post("/graphql", json={"query": LIST}, headers=AUTH)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    after = await scrape(client)

    assert moved(before, after, "catalog_response_cache_total", result="miss") == 1
    assert moved(before, after, "catalog_response_cache_total", result="hit") == 1
    requests = "catalog_requests_total"
    assert (
        moved(before, after, requests, operation="ListProducts", type="query", outcome="cache_hit")
        == 1
    )


async def test_a_request_over_budget_is_counted_as_a_timeout(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import queries

    original = queries.products

    async def slow_products(*args: Any, **kwargs: Any) -> Any:
        page = await original(*args, **kwargs)
        await asyncio.sleep(5)  # far past the budget below
        return page

    monkeypatch.setattr(queries, "products", slow_products)
    client, _ = await make_client(request_timeout_ms=200)
    before = await scrape(client)
    response = await client.post("/graphql", json={"query": LIST}, headers=AUTH)
    assert response.status_code == 503
    after = await scrape(client)

    assert moved(before, after, "catalog_timeouts_total") == 1
    requests = "catalog_requests_total"
    assert moved(before, after, requests, operation="ListProducts", type="query", outcome="timeout")


async def test_operation_names_are_bounded(make_client: MakeClient) -> None:
    client, _ = await make_client()
    for n in range(OPERATION_NAMES + 5):
        assert "errors" not in await post(client, f"query Q{n} {{ __typename }}")
    await post(client, "{ __typename }")
    after = await scrape(client)

    names = {
        dict(labels)["operation"]
        for (name, labels) in after
        if name == "catalog_requests_total" and dict(labels)["type"] == "query"
    }
    assert names == {f"Q{n}" for n in range(OPERATION_NAMES)} | {"other", "anonymous"}
    other = {"operation": "other", "type": "query", "outcome": "ok"}
    assert value(after, "catalog_requests_total", **other) == 5


@pytest.mark.postgres_only
async def test_pool_in_use_and_waiting(make_client: MakeClient) -> None:
    client, app = await make_client(db_pool_size=2)  # two connections, no overflow
    engine = app.state.engine
    async with engine.connect() as first, engine.connect() as second:
        await first.exec_driver_sql("SELECT 1")
        await second.exec_driver_sql("SELECT 1")
        waiting_request = asyncio.create_task(post(client, LIST, "ListProducts"))
        for _ in range(200):  # until the request is blocked in the pool
            during = await scrape(client)
            if value(during, "catalog_db_pool_waiting") == 1:
                break
            await asyncio.sleep(0.01)
        assert value(during, "catalog_db_pool_waiting") == 1
        assert value(during, "catalog_db_pool_in_use") == 2
    assert "errors" not in await waiting_request
    after = await scrape(client)
    assert value(after, "catalog_db_pool_waiting") == 0
    assert value(after, "catalog_db_pool_in_use") == 0


async def test_pool_in_use_is_what_the_pool_holds_out_when_scraped(
    make_client: MakeClient,
) -> None:
    """In one process the pool's gauges are read at the scrape, on either database: a
    connection held outside any request counts, and nothing is left over after requests."""
    client, app = await make_client()
    for _ in range(3):
        assert "errors" not in await post(client, LIST, "ListProducts")
    assert value(await scrape(client), "catalog_db_pool_in_use") == 0
    async with app.state.engine.connect() as held:
        await held.exec_driver_sql("SELECT 1")
        during = await scrape(client)
    after = await scrape(client)
    assert value(during, "catalog_db_pool_in_use") == 1
    assert value(after, "catalog_db_pool_in_use") == 0
    assert value(after, "catalog_db_pool_waiting") == 0


async def test_metrics_need_a_read_token_when_read_tokens_are_set(
    make_client: MakeClient,
) -> None:
    client, _ = await make_client(read_tokens=(READ_TOKEN,))
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    await scrape(client, {"Authorization": f"Bearer {READ_TOKEN}"})
    await scrape(client, AUTH)


async def test_metrics_are_open_when_reads_are(make_client: MakeClient) -> None:
    client, _ = await make_client()
    assert (await client.get("/metrics")).status_code == 200
