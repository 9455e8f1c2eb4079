"""With an OTLP endpoint configured, requests and their SQL statements become spans."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from starlette.types import ASGIApp, Message

from server.app import create_app
from server.config.settings import Settings, SettingsError


class Collector:
    """A minimal OTLP/HTTP trace receiver on loopback: it keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest.FromString(body)
                collector.paths.append(self.path)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.spans.extend((resource.resource, span) for span in scope.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app between its lifespan's start-up and shut-down, as a server runs it."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = asyncio.create_task(
        # uvicorn passes the lifespan a state (ASGI's lifespan state), which the app's
        # lifespan fills in for the connections (server.live.shutdown).
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    yield collector
    collector.close()


async def test_requests_and_their_statements_are_exported_as_spans(
    database_url: str, collector: Collector
) -> None:
    settings = Settings(database_url=database_url, otel_endpoint=collector.endpoint)
    async with served(create_app(settings)) as client:  # spans are flushed at shut-down
        response = await client.post(
            "/graphql", json={"query": "query Count { products { totalCount } }"}
        )
        assert response.status_code == 200, response.text
        assert (await client.get("/healthz")).status_code == 200

    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    by_id = {span.span_id: span for _, span in collector.spans}
    servers = [span for span in by_id.values() if span.kind == Span.SPAN_KIND_SERVER]
    assert len(servers) == 1  # /healthz is not traced
    request = servers[0]
    assert request.name == "POST /graphql"
    statements = [
        span
        for span in by_id.values()
        if span.trace_id == request.trace_id
        and any(a.key == "db.statement" or a.key == "db.query.text" for a in span.attributes)
    ]
    assert statements, [span.name for span in by_id.values()]
    for statement in statements:  # each statement's span descends from the request's
        span = statement
        while span.parent_span_id and span.span_id != request.span_id:
            span = by_id[span.parent_span_id]
        assert span.span_id == request.span_id
    resource = collector.spans[0][0]
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "catalog"


async def test_tracing_is_off_without_an_endpoint(database_url: str, collector: Collector) -> None:
    async with served(create_app(Settings(database_url=database_url))) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 200
    assert collector.spans == []


def test_an_endpoint_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})
    endpoint = "http://127.0.0.1:4318"
    assert Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}).otel_endpoint == endpoint
