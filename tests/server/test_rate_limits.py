"""Rate limits: points per caller, checked before an operation runs, charged after."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from limits import parse_many

from server.app import create_app
from server.config.settings import Settings
from server.endpoint.view import CatalogView
from server.request.client import Clients
from tests.services import redis_url

QUERY = "{ products(first: 50) { nodes { tags { nodes { name } } } } }"  # 1,050 nodes: 11


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[Any]:
    made: list[tuple[httpx.AsyncClient, Any]] = []

    async def make(
        limit: str, *, peer: tuple[str, int] = ("127.0.0.1", 123), **settings: Any
    ) -> httpx.AsyncClient:
        settings.setdefault("rate_limit_namespace", f"test-{uuid.uuid4().hex}")
        app = create_app(
            Settings(database_url=database_url, rate_limits=tuple(parse_many(limit)), **settings)
        )
        transport = httpx.ASGITransport(app=app, client=peer)
        client = httpx.AsyncClient(transport=transport, base_url="http://t")
        made.append((client, app))
        return client

    yield make
    for client, app in made:
        await client.aclose()
        await app.state.engine.dispose()


async def post(client: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return await client.post("/graphql", json={"query": query}, headers=named)


async def test_an_operation_costs_its_estimate_and_is_refused_when_it_does_not_fit(
    make_client: Any,
) -> None:
    client = await make_client("20/hour")
    first = await post(client, QUERY)
    assert first.status_code == 200
    cost = first.json()["extensions"]["cost"]
    assert cost["requested"] == 11
    assert cost["actual"] == 1  # an empty catalog: no row read
    assert cost["limit"] == 20 and cost["remaining"] == 19
    assert first.headers["RateLimit-Policy"] == '"20-per-3600s";q=20;w=3600'
    assert first.headers["RateLimit"].startswith('"20-per-3600s";r=19;t=')
    for _ in range(8):
        assert (await post(client, QUERY)).status_code == 200  # 9 charged by now
    refused = await post(client, QUERY)  # 11 points, 11 left: still fits
    assert refused.status_code == 200
    refused = await post(
        client,
        "{ a: products(first: 100) { nodes { id } } "
        "b: products(first: 100) { nodes { id } } "
        "c: tags(first: 10) { nodes { id } } }",
    )  # 3 points
    assert refused.status_code == 200
    too_many = await post(client, QUERY)
    assert too_many.status_code == 429
    error = too_many.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(too_many.headers["Retry-After"]) == error["extensions"]["retryAfter"] > 0
    assert "RateLimit" in too_many.headers


async def test_a_document_over_the_whole_budget_is_too_expensive_and_not_charged(
    make_client: Any,
) -> None:
    client = await make_client("10/minute")
    refused = await post(client, QUERY)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_EXPENSIVE"
    answer = await post(client, "{ rateLimit { limit cost remaining resetAt } }")
    assert answer.json()["data"]["rateLimit"]["remaining"] == 10  # free, and nothing charged


async def test_each_token_has_its_own_budget(make_client: Any) -> None:
    client = await make_client("1/hour", read_tokens=("a", "b"))
    assert (
        await post(client, "{ tags { nodes { id } } }", authorization="Bearer a")
    ).status_code == 200
    assert (
        await post(client, "{ tags { nodes { id } } }", authorization="Bearer a")
    ).status_code == 429
    assert (
        await post(client, "{ tags { nodes { id } } }", authorization="Bearer b")
    ).status_code == 200


async def test_a_mutation_costs_at_least_ten(make_client: Any) -> None:
    client = await make_client("15/hour")
    answer = await post(
        client,
        'mutation { createTag(input: {name: "x"}) { userErrors { code } } }',
    )
    assert answer.json()["extensions"]["cost"]["actual"] == 10


async def test_redis_down_still_answers(make_client: Any) -> None:
    client = await make_client("5/hour", rate_limit_storage="redis://127.0.0.1:1/0")
    answers = [await post(client, "{ tags { nodes { id } } }") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]  # counted per process


async def test_two_apps_share_one_budget_through_redis(make_client: Any) -> None:
    shared = {"rate_limit_storage": redis_url(), "rate_limit_namespace": f"t-{uuid.uuid4().hex}"}
    one = await make_client("2/hour", **shared)
    two = await make_client("2/hour", **shared)
    assert (await post(one, "{ tags { nodes { id } } }")).status_code == 200
    assert (await post(two, "{ tags { nodes { id } } }")).status_code == 200
    assert (await post(one, "{ tags { nodes { id } } }")).status_code == 429


async def test_two_apps_of_one_redis_keep_each_callers_budget_apart(make_client: Any) -> None:
    shared = {"rate_limit_storage": redis_url(), "rate_limit_namespace": f"t-{uuid.uuid4().hex}"}
    one = await make_client("1/hour", read_tokens=("a", "b"), **shared)
    two = await make_client("1/hour", read_tokens=("a", "b"), **shared)
    assert (await post(one, TAGS, authorization="Bearer a")).status_code == 200
    assert (await post(two, TAGS, authorization="Bearer b")).status_code == 200
    assert (await post(two, TAGS, authorization="Bearer a")).status_code == 429
    assert (await post(one, TAGS, authorization="Bearer b")).status_code == 429


@pytest.fixture
async def hung_redis() -> AsyncIterator[str]:
    """A Redis address that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_hung_redis_still_answers_within_the_request_budget(
    make_client: Any, hung_redis: str
) -> None:
    client = await make_client("5/hour", rate_limit_storage=hung_redis, request_timeout_ms=5000)
    started = time.monotonic()
    answers = [await post(client, TAGS) for _ in range(6)]
    # Counted in this process once Redis is given up on (REDIS_TIMEOUT_S), never a 500.
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert time.monotonic() - started < 5.0


TAGS = "{ tags { nodes { id } } }"  # 1 point


async def test_anonymous_callers_are_their_address_and_forwarding_headers_are_ignored(
    make_client: Any,
) -> None:
    settings = {"rate_limit_namespace": f"t-{uuid.uuid4().hex}"}
    one = await make_client("1/hour", peer=("203.0.113.1", 123), **settings)
    first = await post(one, TAGS, x_forwarded_for="198.51.100.1")
    assert first.status_code == 200
    # Another forwarded address from the same untrusted peer is still that peer.
    refused = await post(one, TAGS, x_forwarded_for="198.51.100.2")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    other = await make_client("1/hour", peer=("203.0.113.2", 123), **settings)
    assert (await post(other, TAGS)).status_code == 200  # the same budgets, another address


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_budget(
    make_client: Any,
) -> None:
    proxy = await make_client(
        "1/hour",
        peer=("10.0.0.7", 123),
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    assert (await post(proxy, TAGS, x_forwarded_for="198.51.100.1")).status_code == 200
    assert (await post(proxy, TAGS, x_forwarded_for="198.51.100.2")).status_code == 200
    assert (await post(proxy, TAGS, forwarded="for=198.51.100.1")).status_code == 429
    assert (await post(proxy, TAGS)).status_code == 200  # the proxy's own address


@pytest.fixture
def held_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[asyncio.Event, asyncio.Queue[None]]]:
    """Every request waits for the returned event once it has been admitted (inside the
    concurrency cap), having put an item on the returned queue."""
    gate, admitted = asyncio.Event(), asyncio.Queue[None]()
    answer = CatalogView._answer

    async def held(self: CatalogView, *args: Any, **kwargs: Any) -> Any:
        admitted.put_nowait(None)
        await gate.wait()
        return await answer(self, *args, **kwargs)

    monkeypatch.setattr(CatalogView, "_answer", held)
    yield gate, admitted


async def test_past_the_concurrency_cap_a_request_is_refused_at_once(
    make_client: Any, held_requests: tuple[asyncio.Event, asyncio.Queue[None]]
) -> None:
    gate, admitted = held_requests
    client = await make_client("100/hour", max_concurrent_per_client=2, read_tokens=("a", "b"))
    a, b = {"authorization": "Bearer a"}, {"authorization": "Bearer b"}
    running = [asyncio.create_task(post(client, TAGS, **a)) for _ in range(2)]
    async with asyncio.timeout(5):
        for _ in running:
            await admitted.get()
        refused = await post(client, TAGS, **a)  # answered while the two are held
        # Another caller is admitted past this one's cap.
        running.append(asyncio.create_task(post(client, TAGS, **b)))
        await admitted.get()
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_CONCURRENT_REQUESTS"
    assert refused.headers["Retry-After"] == "1" and error["extensions"]["retryAfter"] == 1
    gate.set()
    assert [(await task).status_code for task in running] == [200, 200, 200]
    assert (await post(client, TAGS, **a)).status_code == 200


async def test_an_event_stream_is_charged_its_points_as_it_opens(make_client: Any) -> None:
    client = await make_client("2/hour")
    for _ in range(2):
        stream = await client.post(
            "/graphql", json={"query": TAGS}, headers={"accept": "text/event-stream"}
        )
        assert stream.status_code == 200
        assert "event: complete" in stream.text
    refused = await client.post(
        "/graphql", json={"query": TAGS}, headers={"accept": "text/event-stream"}
    )
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    budget = await post(client, "{ rateLimit { remaining } }")
    assert budget.json()["data"]["rateLimit"]["remaining"] == 0


def scope(peer: str, **headers: str) -> dict[str, Any]:
    return {
        "client": (peer, 1234),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_a_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    clients = Clients((ipaddress.ip_network("10.0.0.0/8"),))
    assert clients.address(scope("203.0.113.9", x_forwarded_for="198.51.100.1")) == "203.0.113.9"
    assert clients.address(scope("10.1.2.3", x_forwarded_for="198.51.100.1")) == "198.51.100.1"
    # A client's own header is kept on the left: the nearest untrusted hop counts.
    forged = scope("10.1.2.3", x_forwarded_for="1.2.3.4, 198.51.100.1, 10.0.0.5")
    assert clients.address(forged) == "198.51.100.1"
    assert clients.address(scope("10.1.2.3", forwarded='for="[2001:db8::1]:443"')) == "2001:db8::1"


def test_a_bearer_token_is_the_caller_and_is_never_kept_as_itself() -> None:
    client = Clients().of(scope("203.0.113.9"), "Bearer secret-token")
    assert client.kind == "token" and "secret-token" not in client.key
    assert Clients().of(scope("203.0.113.9"), None).key == "address:203.0.113.9"
