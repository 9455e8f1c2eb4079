"""The WebSocket side of /graphql holds the line a request does: tokens, origins, limits,
cursors and the refusal of mutations, over a real socket to a real server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from db import changes
from tests.hardening.api import READ_TOKEN
from tests.hardening.live import (
    CHANGES,
    WAIT_S,
    LiveServer,
    close_code,
    count_rows,
    error_codes,
    receive,
    send_init,
    serving,
    socket,
    subscribe,
    write_product,
)

READS_NEED_A_TOKEN = {"read_tokens": (READ_TOKEN,)}


async def first_result(server: LiveServer, query: str, **variables: Any) -> dict[str, Any]:
    """The first message answering one operation on a fresh socket."""
    async with socket(server) as ws:
        await subscribe(ws, "1", query, **variables)
        return await receive(ws)


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_connection_init_without_a_read_token_is_closed_4403(
    database_url: str, token: str | None
) -> None:
    async with serving(database_url, **READS_NEED_A_TOKEN) as server:
        async with socket(server, init=False) as ws:
            await send_init(ws, token)
            assert await close_code(ws) == 4403
        assert server.subscribers == 0


async def test_connection_init_with_a_read_token_is_acknowledged_and_streams(
    database_url: str,
) -> None:
    async with (
        serving(database_url, **READS_NEED_A_TOKEN) as server,
        socket(server, token=READ_TOKEN) as ws,
    ):
        await subscribe(ws, "1")
        await wait_for_subscribers(server, 1)
        await write_product(server)
        message = await receive(ws)
    assert message["type"] == "next", message
    assert message["payload"]["data"]["catalogChanges"]["kind"] == "PRODUCT_CREATED"


async def test_no_connection_init_within_the_timeout_is_closed_4408(database_url: str) -> None:
    async with (
        serving(database_url, ws_init_timeout_ms=300) as server,
        socket(server, init=False) as ws,
    ):
        started = asyncio.get_running_loop().time()
        assert await close_code(ws, within_s=3) == 4408
        assert asyncio.get_running_loop().time() - started >= 0.25


async def test_a_handshake_from_another_origin_is_refused_403(database_url: str) -> None:
    async with serving(database_url, cors_origins=("http://allowed.test",)) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with socket(server, origin="http://evil.test", init=False):
                pass
        assert refused.value.response.status_code == 403
        async with socket(server, origin="http://allowed.test") as ws:
            await subscribe(ws, "1", "{ products(first: 1) { totalCount } }")
            assert (await receive(ws))["type"] == "next"


async def test_without_cors_origins_only_the_servers_own_origin_may_open_a_socket(
    database_url: str,
) -> None:
    async with serving(database_url) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with socket(server, origin="http://evil.test", init=False):
                pass
        assert refused.value.response.status_code == 403
        own = server.ws.replace("ws://", "http://").removesuffix("/graphql")
        async with socket(server, origin=own) as ws:
            await subscribe(ws, "1", "{ products(first: 1) { totalCount } }")
            assert (await receive(ws))["type"] == "next"


async def test_operations_past_the_limit_of_one_socket_get_an_error(database_url: str) -> None:
    async with (
        serving(database_url, max_subscriptions_per_connection=2) as server,
        socket(server) as ws,
    ):
        await subscribe(ws, "1")
        await subscribe(ws, "2")
        await subscribe(ws, "3")
        refused = await receive(ws)
        assert refused["type"] == "error" and refused["id"] == "3", refused
        # The first two still stream.
        await wait_for_subscribers(server, 2)
        await write_product(server)
        delivered = {(await receive(ws))["id"], (await receive(ws))["id"]}
    assert delivered == {"1", "2"}


async def test_subscriptions_past_the_limit_of_the_process_are_too_many(
    database_url: str,
) -> None:
    async with (
        serving(database_url, max_subscribers=2) as server,
        socket(server) as one,
        socket(server) as two,
    ):
        await subscribe(one, "1")
        await subscribe(two, "1")
        await wait_for_subscribers(server, 2)
        await subscribe(two, "2")
        refused = await receive(two)
    assert refused["id"] == "2", refused
    assert error_codes(refused["payload"]) == ["TOO_MANY_SUBSCRIBERS"], refused


# A subscription's document and a query's, each over one of the limits (set low).
OVER_LIMITS = [
    pytest.param(
        {"max_depth": 2},
        "subscription { catalogChanges { product { name } } }",
        "{ changes { edges { node { kind } } } }",
        "MAX_DEPTH_EXCEEDED",
        id="depth",
    ),
    pytest.param(
        {"max_aliases": 1},
        "subscription { c: catalogChanges { k: kind } }",
        "{ c: changes { e: edges { cursor } } }",
        "MAX_ALIASES_EXCEEDED",
        id="aliases",
    ),
    pytest.param(
        {"max_tokens": 8},
        "subscription { catalogChanges { cursor kind at productId tagId } }",
        "{ changes { edges { cursor node { kind at productId tagId } } } }",
        "MAX_TOKENS_EXCEEDED",
        id="tokens",
    ),
]


@pytest.mark.parametrize(("limits", "subscription", "query", "code"), OVER_LIMITS)
async def test_a_document_over_a_limit_is_refused_with_the_code_of_a_query(
    database_url: str, limits: dict[str, int], subscription: str, query: str, code: str
) -> None:
    async with serving(database_url, **limits) as server:
        over_http = await post_query(server, query)
        refused = await first_result(server, subscription)
        assert server.subscribers == 0
    assert error_codes(over_http) == [code], over_http
    assert refused["type"] in ("error", "next"), refused
    assert error_codes(refused["payload"]) == [code], refused


async def test_a_mutation_is_refused_and_writes_nothing(database_url: str) -> None:
    async with serving(database_url) as server:
        refused = await first_result(
            server, 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }'
        )
        assert await count_rows(server, "products") == 0
        assert await count_rows(server, "changes") == 0
    assert error_codes(refused["payload"]) == ["OPERATION_NOT_SUPPORTED"], refused


CHANGES_PAGE = "query ($after: String) { changes(after: $after) { edges { cursor } } }"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not a cursor", id="malformed"),
        pytest.param("WyJjaGFuZ2UiLDk5OTksMV0=", id="beyond-the-head"),  # change 9999/1
    ],
)
async def test_a_cursor_not_of_this_log_is_bad_user_input(database_url: str, cursor: str) -> None:
    async with serving(database_url) as server:
        await write_product(server)
        over_ws = await first_result(server, CHANGES, after=cursor)
        page = await post_query(server, CHANGES_PAGE, after=cursor)
        assert server.subscribers == 0
    assert error_codes(over_ws["payload"]) == ["BAD_USER_INPUT"], over_ws
    assert error_codes(page) == ["BAD_USER_INPUT"], page


async def test_a_cursor_before_the_retention_is_cursor_expired(database_url: str) -> None:
    async with serving(database_url) as server:
        await write_product(server)
        first = (await post_query(server, CHANGES_PAGE))["data"]["changes"]["edges"][0]["cursor"]
        await write_product(server)
        engine = server.app.state.engine
        async with engine.begin() as connection:  # both entries written a day ago
            await connection.execute(
                changes.changes.update().values(at=changes.utcnow() - timedelta(days=1))
            )
        assert await changes.prune(engine, timedelta(seconds=1)) == 2

        over_ws = await first_result(server, CHANGES, after=first)
        page = await post_query(server, CHANGES_PAGE, after=first)
    assert error_codes(over_ws["payload"]) == ["CURSOR_EXPIRED"], over_ws
    assert error_codes(page) == ["CURSOR_EXPIRED"], page


async def test_a_client_that_vanishes_frees_its_subscription(database_url: str) -> None:
    async with serving(database_url, max_subscribers=1) as server:
        async with socket(server) as ws:
            await subscribe(ws, "1")
            await wait_for_subscribers(server, 1)
            ws.transport.abort()  # the TCP connection ends, no close frame
        await wait_for_subscribers(server, 0)
        async with socket(server) as again:
            await subscribe(again, "1")
            await wait_for_subscribers(server, 1)
            await write_product(server)
            assert (await receive(again))["type"] == "next"


async def test_a_quiet_socket_gets_pings(database_url: str) -> None:
    async with serving(database_url, keepalive_ms=200) as server, socket(server) as ws:
        await subscribe(ws, "1")
        pings = [await receive(ws, within_s=1) for _ in range(2)]
    assert pings == [{"type": "ping"}, {"type": "ping"}]


async def wait_for_subscribers(server: LiveServer, count: int) -> None:
    async with asyncio.timeout(WAIT_S):
        while server.subscribers != count:  # noqa: ASYNC110 (the feed signals nothing)
            await asyncio.sleep(0.02)


async def post_query(server: LiveServer, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        response = await client.post(server.http, json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body
