"""Optional OpenTelemetry tracing (`pip install 'catalog[otel]'`), off unless configured.

When OTEL_EXPORTER_OTLP_ENDPOINT is set (Settings.otel_endpoint), every HTTP request gets a
server span (opentelemetry-instrumentation-asgi) and every SQL statement a child span
(opentelemetry-instrumentation-sqlalchemy), exported in batches over OTLP/HTTP to
`<endpoint>/v1/traces` under the service name `catalog`. /healthz, /readyz and /metrics
are not traced. The exporter's other standard variables (OTEL_EXPORTER_OTLP_HEADERS, ...)
apply as the OpenTelemetry SDK documents them.

Nothing here is imported unless tracing is on, so the server runs without the extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

UNTRACED_PATHS = "/healthz,/readyz,/metrics"


class Tracing:
    """Spans for one app: its requests and its engine's statements."""

    def __init__(self, endpoint: str, engine: AsyncEngine) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: "catalog"})
        )
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self._sqlalchemy = SQLAlchemyInstrumentor()
        # The instrumentation declares SQLAlchemy < 2.1; its engine events work on 2.1 as
        # they are (the tests check that statements get spans), so skip that version check.
        self._sqlalchemy.instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
        )

    def middleware(self) -> Middleware:
        """The ASGI middleware that opens a server span per request."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        options: dict[str, Any] = {
            "tracer_provider": self.provider,
            "excluded_urls": UNTRACED_PATHS,
        }
        return Middleware(OpenTelemetryMiddleware, **options)

    def shutdown(self) -> None:
        """Stop tracing the engine and send the spans still buffered."""
        self._sqlalchemy.uninstrument()
        self.provider.shutdown()
