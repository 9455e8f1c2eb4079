"""The ASGI application (/graphql, /healthz, /readyz, /metrics) from one Settings object."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from db.engine import create_engine, timeouts_within
from db.feed import ChangeFeed
from db.migrate import current_revision, head_revision
from db.replicas import replica_set
from db.statements import instrument
from resolvers.live import Bursts
from schema import build_schema
from server.caches.documents import open_documents
from server.caches.responses import CacheHealth, namespace_for, open_store
from server.config.settings import Settings
from server.endpoint.view import CONSISTENCY_HEADER, CatalogView
from server.live.retention import prune_forever
from server.live.sessions import LiveSessions
from server.live.shutdown import CLOSE_LIVE
from server.live.websocket import LiveSocket
from server.observability.metrics import Metrics, metrics_endpoint
from server.observability.tracing import Tracing
from server.observability.tracking import RequestTracking
from server.playground import page
from server.refusals.auth import Tokens
from server.refusals.body_limit import BodyLimit
from server.refusals.budget import TimeBudget
from server.refusals.errors import JsonErrors, http_error
from server.refusals.rate_limit import RateLimits
from server.request.client import Clients


def create_app(settings: Settings) -> Starlette:
    timeouts = timeouts_within(settings.request_timeout_ms)

    def connect(url: str) -> AsyncEngine:
        engine = create_engine(
            url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=timeouts.statement_ms,
            lock_timeout_ms=timeouts.lock_ms,
            pgbouncer=settings.db_pgbouncer,
        )
        instrument(engine)
        return engine

    engine = connect(settings.database_url)
    # Queries read from the replicas when there are some (docs/deployment.md).
    replicas = replica_set(
        engine, settings.read_database_urls, connect, max_lag_ms=settings.replica_max_lag_ms
    )
    tracing = Tracing(settings.otel_endpoint, engine) if settings.otel_endpoint else None
    schema = build_schema(
        settings.limits(),
        introspection=settings.introspection,
        max_batch=settings.max_batch,
    )
    namespace = settings.response_cache_namespace or namespace_for(settings.database_url)
    store = open_store(settings.response_cache, namespace)
    metrics = Metrics(settings.metrics_multiprocess_dir)
    metrics.watch_pool(engine)
    metrics.watch_replicas(replicas)
    documents = open_documents(settings.trusted_documents, settings.response_cache, store)
    tokens = Tokens(write=settings.write_tokens, read=settings.read_tokens)
    # Live updates (docs/live.md): the feed reads the log from the primary, where every
    # commit is visible as soon as it is announced, and so do the events' shared reads.
    bursts = Bursts(engine)
    feed = ChangeFeed(
        engine,
        listen_url=_listen_url(settings),
        shared=True,
        queue_size=settings.subscriber_queue,
        max_subscribers=settings.max_subscribers,
        burst=bursts.new,
    )
    rate_limits = RateLimits(
        settings.rate_limits,
        storage=settings.rate_limit_storage,
        namespace=settings.rate_limit_namespace or namespace,
        max_concurrent=settings.max_concurrent_per_client,
        max_subscriptions=settings.max_subscriptions_per_client,
        metrics=metrics,
    )
    # The rate limits of requests and of long-lived connections are one object.
    live = LiveSessions(
        feed,
        engine,
        schema.limits,
        tokens,
        rate=rate_limits,
        clients=Clients(settings.trusted_proxies),
    )
    socket = LiveSocket(
        schema,
        live,
        allowed_origins=settings.cors_origins,
        init_timeout_s=settings.ws_init_timeout_ms / 1000,
        keepalive_s=settings.keepalive_ms / 1000,
        max_per_connection=settings.max_subscriptions_per_connection,
    )
    view = CatalogView(schema, replicas, settings, documents, store, live, rate_limits)
    # Outermost first: the id, log line and metrics see the timeout and the 413 too.
    graphql = RequestTracking(
        TimeBudget(
            BodyLimit(view, settings.max_body_bytes),
            settings.request_timeout_ms / 1000,
        ),
        metrics,
    )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        """Ready when the database answers and carries the newest migration.

        The response cache only speeds answers up: when it is down, `cache` says
        "degraded" and the server stays ready, answering from the database.
        """
        cache: CacheHealth = "off"
        if store is not None:
            await store.ping()
            cache = store.health
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = await current_revision(connection)
        except Exception as error:  # any failure to reach the database means not ready
            return JSONResponse(
                {"status": "unavailable", "reason": type(error).__name__, "cache": cache},
                status_code=503,
            )
        if revision != head_revision():
            return JSONResponse(
                {
                    "status": "unavailable",
                    "reason": "migrations pending",
                    "revision": revision,
                    "cache": cache,
                },
                status_code=503,
            )
        ready: dict[str, Any] = {"status": "ok", "revision": revision, "cache": cache}
        if replicas.replicas:  # serving reads or not, they never make the server unready
            ready["replicas"] = [
                {"name": r.name, "healthy": r.healthy, "lagMs": r.lag_ms} for r in replicas.replicas
            ]
        return JSONResponse(ready)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        replicas.start()  # measures the replicas' lag in the background, when there are some
        feed.start()
        pruning = asyncio.create_task(prune_forever(engine, settings.changes_retention_s))
        # The server ends the live connections through this, before it waits for them.
        yield {CLOSE_LIVE: live.close}
        live.close()
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning
        await feed.stop()
        await bursts.close()
        await replicas.stop()
        if store is not None:
            await store.close()
        await documents.close()
        await engine.dispose()
        metrics.close()
        if tracing is not None:
            tracing.shutdown()

    # JsonErrors stays first: outermost, it turns anything that escapes into a JSON 500.
    middleware = [Middleware(JsonErrors)]
    if tracing is not None:
        middleware.append(tracing.middleware())
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=list(settings.cors_allow_headers),
                expose_headers=["x-request-id", CONSISTENCY_HEADER.lower()],
                max_age=600,
            )
        )
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", socket),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(
                "/metrics",
                metrics_endpoint(metrics, tokens),
                methods=["GET"],
            ),
            *([page.ROUTE] if settings.graphiql else []),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.state.engine = engine  # for the lifespan and for tests that run without one
    app.state.replicas = replicas
    app.state.feed = feed
    return app


def _listen_url(settings: Settings) -> str | None:
    """Where the change feed listens for commits: the primary itself, never through
    PgBouncer (LISTEN needs a session of its own; behind PgBouncer the feed polls)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql" or settings.db_pgbouncer:
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
