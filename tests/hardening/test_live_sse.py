"""The event stream side of /graphql (Accept: text/event-stream) holds the line a request
does: tokens, CORS, limits and the refusal of mutations and batches, over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.hardening.api import READ_TOKEN, codes
from tests.hardening.live import (
    CHANGES,
    CREATE,
    WAIT_S,
    LiveServer,
    count_rows,
    error_codes,
    events,
    serving,
    sse_headers,
    write_product,
)
from tests.hardening.test_live_websocket import OVER_LIMITS, wait_for_subscribers


@asynccontextmanager
async def stream(
    server: LiveServer, query: str = CHANGES, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.Response]:
    """A GET for an event stream of one operation."""
    async with (
        httpx.AsyncClient(timeout=WAIT_S) as client,
        client.stream(
            "GET", server.http, params={"query": query}, headers=headers or sse_headers()
        ) as response,
    ):
        yield response


async def test_without_a_read_token_the_stream_is_refused_401(database_url: str) -> None:
    async with serving(database_url, read_tokens=(READ_TOKEN,)) as server:
        async with stream(server, headers=sse_headers()) as response:
            await response.aread()
        assert server.subscribers == 0
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_with_a_read_token_the_stream_delivers(database_url: str) -> None:
    async with (
        serving(database_url, read_tokens=(READ_TOKEN,)) as server,
        stream(server, headers=sse_headers(READ_TOKEN)) as response,
    ):
        assert response.status_code == 200
        await wait_for_subscribers(server, 1)
        await write_product(server)
        (event,) = await events(response, 1)
    assert event.name == "next"
    assert event.data["data"]["catalogChanges"]["kind"] == "PRODUCT_CREATED"


async def test_a_stream_from_another_origin_is_served_without_cors_headers(
    database_url: str,
) -> None:
    """As any simple request: CORSMiddleware answers it, but grants the page nothing (no
    Access-Control-Allow-Origin), so the browser keeps the stream from it; a preflight
    from that origin (a POST of JSON) is refused."""
    async with serving(database_url, cors_origins=("http://allowed.test",)) as server:
        async with stream(
            server, "{ products { totalCount } }", sse_headers(origin="http://evil.test")
        ) as evil:
            evil_events = await events(evil, 2)
        async with stream(
            server, "{ products { totalCount } }", sse_headers(origin="http://allowed.test")
        ) as allowed:
            await events(allowed, 2)
        async with httpx.AsyncClient(timeout=WAIT_S) as client:
            preflight = await client.options(
                server.http,
                headers={
                    "Origin": "http://evil.test",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
    assert evil.status_code == 200
    assert "access-control-allow-origin" not in evil.headers
    assert [e.name for e in evil_events] == ["next", "complete"]
    assert allowed.headers["access-control-allow-origin"] == "http://allowed.test"
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(("limits", "subscription", "query", "code"), OVER_LIMITS)
async def test_a_document_over_a_limit_is_refused_with_the_code_of_a_query(
    database_url: str, limits: dict[str, int], subscription: str, query: str, code: str
) -> None:
    async with serving(database_url, **limits) as server:
        async with stream(server, subscription) as response:
            found = await events(response, 2)
        assert server.subscribers == 0
    assert response.status_code == 200
    assert [e.name for e in found] == ["next", "complete"]
    assert error_codes(found[0].data) == [code], found[0].data


async def test_a_mutation_is_refused_400_and_writes_nothing(database_url: str) -> None:
    async with serving(database_url) as server:
        async with httpx.AsyncClient(timeout=WAIT_S) as client:
            response = await client.post(server.http, json={"query": CREATE}, headers=sse_headers())
        assert await count_rows(server, "products") == 0
        assert await count_rows(server, "changes") == 0
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response.json()) == ["OPERATION_NOT_SUPPORTED"], response.json()


async def test_a_batch_is_refused_400(database_url: str) -> None:
    async with serving(database_url, max_batch=5) as server:
        async with httpx.AsyncClient(timeout=WAIT_S) as client:
            response = await client.post(
                server.http, json=[{"query": CHANGES}, {"query": CHANGES}], headers=sse_headers()
            )
        assert server.subscribers == 0
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response.json()) == ["BAD_REQUEST"], response.json()


async def test_a_client_that_vanishes_frees_its_subscription(database_url: str) -> None:
    async with serving(database_url, max_subscribers=1) as server:
        async with stream(server) as response:
            assert response.status_code == 200
            await wait_for_subscribers(server, 1)
        # The client closed its connection (no further read of the stream).
        await wait_for_subscribers(server, 0)
        async with stream(server) as again:
            await wait_for_subscribers(server, 1)
            await write_product(server)
            (event,) = await events(again, 1)
    assert event.name == "next"


async def test_a_quiet_stream_gets_comment_lines(database_url: str) -> None:
    async with serving(database_url, keepalive_ms=200) as server, stream(server) as response:
        started = asyncio.get_running_loop().time()
        found = await events(response, 2, within_s=2)
        waited = asyncio.get_running_loop().time() - started
    assert [(e.name, e.data) for e in found] == [("", "keep-alive"), ("", "keep-alive")]
    assert waited >= 0.3


def _unused(_: Any) -> None: ...
