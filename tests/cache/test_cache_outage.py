"""With Redis unreachable the cache is bypassed: answers stay correct and come from the
database, /readyz stays ready and says the cache is degraded, warnings are rate-limited."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from server.app import create_app
from server.caches.responses import RETRY_AFTER_S, WARN_EVERY_S, BestEffortStore, RedisStore
from server.config.settings import Settings

WRITE = "outage-write-token"
COUNT = "{ products { totalCount nodes { name } } }"
CREATE = "mutation ($n: String!) { createProduct(input: {name: $n}) { userErrors { code } } }"


def dead_redis_url() -> str:
    """A Redis URL on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, write_tokens=(WRITE,), response_cache=dead_redis_url()
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {WRITE}"},
    ) as client:
        yield client
    await app.state.engine.dispose()


async def post(client: httpx.AsyncClient, query: str, **variables: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


async def test_queries_and_writes_are_answered_from_the_database(
    client: httpx.AsyncClient,
) -> None:
    for name in ("Lamp", "Mug"):
        created = await post(client, CREATE, n=name)
        assert created.status_code == 200, created.text
        assert created.json()["data"]["createProduct"]["userErrors"] == []

    answers = [await post(client, COUNT) for _ in range(5)]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "data": {"products": {"totalCount": 2, "nodes": [{"name": "Lamp"}, {"name": "Mug"}]}}
        }
        assert answer.headers["x-cache"] == "miss"


async def test_readyz_stays_ready_and_says_the_cache_is_degraded(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["cache"] == "degraded"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_warning_at_most_once_a_minute_and_a_retry_after_a_pause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    store = BestEffortStore(RedisStore(dead_redis_url(), "outage-test"), clock)
    caplog.set_level(logging.INFO, logger="catalog.cache")
    try:
        assert await store.get("k") is None
        assert store.health == "degraded"
        for _ in range(30):  # a busy minute: each pause over, Redis is tried again
            clock.now += RETRY_AFTER_S
            assert await store.get("k") is None
            await store.put("k", b"body")
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].fields["error"] == "ConnectionError"  # type: ignore[attr-defined]

        clock.now += WARN_EVERY_S
        assert await store.get("k") is None
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
    finally:
        await store.close()


async def test_requests_within_the_pause_do_not_try_the_store() -> None:
    clock = Clock()
    calls: list[str] = []

    class Counting(RedisStore):
        async def get(self, key: str) -> bytes | None:
            calls.append(key)
            return await super().get(key)

    store = BestEffortStore(Counting(dead_redis_url(), "outage-test"), clock)
    try:
        await store.get("a")
        clock.now += RETRY_AFTER_S / 2
        await store.get("b")
        clock.now += RETRY_AFTER_S
        await store.get("c")
    finally:
        await store.close()

    assert calls == ["a", "c"]
