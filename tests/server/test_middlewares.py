"""The /graphql endpoint's middlewares, each around a tiny ASGI app of its own.

tests/hardening/test_limits.py and test_time_budget.py hold them to the same behaviour
through the whole app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.observability.metrics import Metrics
from server.observability.tracking import RequestTracking
from server.refusals.body_limit import BodyLimit
from server.refusals.budget import TimeBudget
from server.request.headers import header
from server.request.media import GRAPHQL_RESPONSE_JSON
from server.request.state import RequestState


async def echo_size(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers how many bytes of body it read."""
    body = await Request(scope, receive).body()
    await JSONResponse({"read": len(body)})(scope, receive, send)


def client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


async def test_a_body_within_the_limit_reaches_the_app() -> None:
    async with client(BodyLimit(echo_size, max_bytes=10)) as http:
        response = await http.post("/", content=b"x" * 10)

    assert response.json() == {"read": 10}


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    async with client(BodyLimit(echo_size, max_bytes=10)) as http:
        response = await http.post("/", content=b"x" * 11)

    assert response.status_code == 413
    assert codes(response) == ["BODY_TOO_LARGE"]


async def test_a_streamed_body_over_the_limit_is_refused_as_it_is_read() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 3

    async with client(BodyLimit(echo_size, max_bytes=10)) as http:
        response = await http.post("/", content=chunks())

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert codes(response) == ["BODY_TOO_LARGE"]


async def test_a_query_string_over_the_limit_is_refused() -> None:
    async with client(BodyLimit(echo_size, max_bytes=10)) as http:
        response = await http.get("/", params={"q": "x" * 10})

    assert response.status_code == 413


async def test_the_refusal_is_recorded_in_the_request_state() -> None:
    seen: list[RequestState] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(RequestState.of(scope))
        await BodyLimit(echo_size, max_bytes=1)(scope, receive, send)

    async with client(app) as http:
        await http.post("/", content=b"xx")

    assert seen[0].outcome == "refused:BODY_TOO_LARGE"
    assert seen[0].refusals == {"BODY_TOO_LARGE"}


async def sleeper(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(float(Request(scope).query_params["seconds"]))
    await PlainTextResponse("done")(scope, receive, send)


async def test_a_request_within_its_budget_is_answered() -> None:
    async with client(TimeBudget(sleeper, seconds=1)) as http:
        response = await http.get("/", params={"seconds": "0"})

    assert response.text == "done"


async def test_a_request_over_its_budget_is_a_503_to_retry_in_the_accepted_type() -> None:
    async with client(TimeBudget(sleeper, seconds=0.05)) as http:
        response = await http.get(
            "/", params={"seconds": "5"}, headers={"accept": GRAPHQL_RESPONSE_JSON}
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert codes(response) == ["REQUEST_TIMEOUT"]
    assert "50 ms" in response.json()["errors"][0]["message"]


async def test_a_response_under_way_is_not_cut_by_the_budget() -> None:
    async def slow_body(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b"late"})

    async with client(TimeBudget(slow_body, seconds=0.05)) as http:
        response = await http.get("/")

    assert (response.status_code, response.text) == (200, "late")


async def test_every_response_carries_the_request_id_of_its_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        RequestState.of(scope).operation = "Named"
        await PlainTextResponse("ok", status_code=201)(scope, receive, send)

    with caplog.at_level(logging.INFO, logger="catalog.request"):
        async with client(RequestTracking(app)) as http:
            first = await http.get("/")
            second = await http.get("/")

    fields = [record.fields for record in caplog.records if record.message == "request"]  # type: ignore[attr-defined]
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1]
    assert [f["request_id"] for f in fields] == ids
    assert fields[0]["status"] == 201
    assert fields[0]["operation"] == "Named"
    assert fields[0]["outcome"] == "ok"


async def test_the_request_id_joins_the_response_headers_without_replacing_any() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse("ok", headers={"x-extra": "kept"})
        await response(scope, receive, send)

    async with client(RequestTracking(app)) as http:
        response = await http.get("/")

    assert response.headers["x-extra"] == "kept"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert len(response.headers.get_list("x-request-id")) == 1
    assert len(response.headers["x-request-id"]) == 16


@pytest.mark.parametrize(
    "name", [b"accept", b"authorization", b"content-length", b"x-absent", b"x-twice"]
)
def test_a_header_reads_as_starlette_reads_it(name: bytes) -> None:
    scope = {
        "type": "http",
        "headers": [
            (b"accept", b"application/json"),
            (b"authorization", b"Bearer caf\xe9"),  # latin-1, as HTTP allows
            (b"x-twice", b"first"),
            (b"content-length", b"12"),
            (b"x-twice", b"second"),
        ],
    }
    assert header(scope, name) == Headers(scope=scope).get(name.decode())


async def test_the_request_is_counted_before_its_answer_leaves() -> None:
    metrics = Metrics()
    counted: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        state = RequestState.of(scope)
        state.operation, state.operation_type = "Op", "query"

        async def send_checked(message: Message) -> None:
            if message["type"] == "http.response.body":
                counted.append(metrics.exposition("text/plain")[0].decode())
            await send(message)

        await PlainTextResponse("ok")(scope, receive, send_checked)

    async with client(RequestTracking(app, metrics)) as http:
        await http.get("/")

    assert 'operation="Op"' in counted[0]
