"""No response of the server is a plain-text error: whatever escapes a route becomes a JSON
500 with a request id, logged with its traceback under that id."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from server.app import create_app
from server.config.settings import Settings
from server.refusals.errors import JsonErrors


class Broken(Exception):
    pass


async def raising_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise Broken("something below the middleware failed")


async def test_an_exception_below_becomes_a_json_500_with_its_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = httpx.ASGITransport(app=JsonErrors(raising_app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": "{ products { totalCount } }"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    request_id = error["extensions"]["requestId"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert request_id in error["message"]
    assert response.headers["x-request-id"] == request_id
    [record] = [r for r in caplog.records if r.name == "catalog.request"]
    assert record.fields["request_id"] == request_id  # type: ignore[attr-defined]
    assert record.exc_info is not None and record.exc_info[0] is Broken
    assert "something below" not in response.text


async def test_an_exception_after_the_response_started_ends_the_response_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def half_then_raise(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise Broken("midway")

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await JsonErrors(half_then_raise)(scope, receive, send)  # type: ignore[arg-type]

    assert [m["type"] for m in sent] == ["http.response.start"]  # no second response
    assert any(r.exc_info and r.exc_info[0] is Broken for r in caplog.records)


async def test_a_request_cancelled_by_a_shutdown_is_a_json_503_to_retry() -> None:
    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError("Task cancelled, timeout graceful shutdown exceeded")

    transport = httpx.ASGITransport(app=JsonErrors(cancelled))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": "{ products { totalCount } }"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_an_app_that_returns_without_answering_gets_a_json_500() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    transport = httpx.ASGITransport(app=JsonErrors(silent))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/healthz")

    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


@pytest.fixture
def app_with_a_broken_route(tmp_path: Path) -> object:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"))

    async def broken(_request: Request) -> Response:
        raise Broken("a route raised")

    app.router.routes.append(Route("/broken", broken))
    return app


async def test_the_app_answers_json_when_a_route_raises(app_with_a_broken_route: object) -> None:
    transport = httpx.ASGITransport(app=app_with_a_broken_route)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/broken")

    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (
        response.headers["x-request-id"]
        == (response.json()["errors"][0]["extensions"]["requestId"])
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/nowhere", 404, "NOT_FOUND"), ("DELETE", "/graphql", 405, "METHOD_NOT_ALLOWED")],
)
async def test_routing_errors_are_json_too(
    app_with_a_broken_route: object, method: str, path: str, status: int, code: str
) -> None:
    transport = httpx.ASGITransport(app=app_with_a_broken_route)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(method, path)

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert response.headers["x-request-id"]
