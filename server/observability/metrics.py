"""Prometheus metrics: what the server counts per request, and the /metrics page.

One `Metrics` object, built by create_app, owns every metric and its registry (never
prometheus_client's global one). The view reports each finished request once, from the same
values as its log line (`observe_request`). What is counted:

- `catalog_requests_total{operation, type, outcome}`: requests by operation name, operation
  type (query, mutation, none) and outcome (ok, errors, cache_hit, timeout, transient, unavailable,
  internal_error, refused:<CODE>). Operation names are chosen by clients, so only the first
  `OPERATION_NAMES` distinct valid names a process sees are kept; later ones count as
  `other`, and a request without a name as `anonymous`.
- `catalog_request_duration_seconds{type}` and `catalog_request_sql_statements{type}`:
  histograms of latency and of SQL statements per request.
- `catalog_response_cache_total{result}`: response cache hits and misses.
- `catalog_timeouts_total`: requests that ran past the time budget (or a statement past
  statement_timeout).
- `catalog_refusals_total{code}`: requests refused before execution, by `extensions.code`:
  every limit (MAX_*_EXCEEDED, BODY_TOO_LARGE, MAX_BATCH_EXCEEDED, ...) and the transport
  refusals (UNAUTHENTICATED, FORBIDDEN, METHOD_NOT_ALLOWED, BAD_REQUEST, ...).
- `catalog_db_pool_in_use` and `catalog_db_pool_waiting`: connections checked out of the
  pool, and callers waiting for one (or for a new connection to open).
- `catalog_executor_lean_total` and `catalog_executor_fallbacks_total{reason}`: query
  operations the lean executor ran, and those it left to graphql-core, by reason
  (schema.execution counts them; they are read at each scrape, and with several
  workers after each request too).
- `catalog_optimisation_disabled{name}`: 1 for each optimisation schema.compat turned off
  because a library internal it relies on has moved.
- `catalog_rate_limit_points_total{caller}`: points charged against the rate limits, by
  caller class (`token` or `anonymous`; never the token itself), and
  `catalog_rate_limit_storage{backend}`: 1 for where they are counted now (`redis`,
  `memory`, or `memory-fallback` while Redis fails). Refusals (RATE_LIMITED,
  TOO_MANY_CONCURRENT_REQUESTS, TOO_MANY_SUBSCRIPTIONS, QUERY_TOO_EXPENSIVE) count in
  `catalog_refusals_total`, an operation's on a WebSocket too.
- `catalog_replica_healthy{replica}` and `catalog_replica_lag_seconds{replica}`: whether
  each read replica gets reads, and its replay lag, as db.replicas' monitor last measured
  them (set at each scrape, and with several workers after each request too).

With several worker processes (`catalog serve --workers N`), prometheus_client's
multiprocess mode keeps each process's values in files under PROMETHEUS_MULTIPROC_DIR (the
CLI makes a fresh one per start), and /metrics sums them, whichever worker answers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db.replicas import Replica, ReplicaSet
from schema import compat, execution
from server.refusals.auth import Tokens

OPERATION_NAMES = 100  # distinct operation names kept as labels, per process
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")  # a GraphQL name, at most 64 characters
_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATEMENT_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)


class Metrics:
    """The server's metrics. `multiprocess_dir` set: values are shared through files there."""

    def __init__(self, multiprocess_dir: str = "") -> None:
        self._multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self._names: set[str] = set()
        r = self.registry
        self.requests = Counter(
            "catalog_requests",
            "GraphQL requests by operation name, operation type and outcome.",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "catalog_request_duration_seconds",
            "Time from the request's arrival to its response, by operation type.",
            ["type"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.statements = Histogram(
            "catalog_request_sql_statements",
            "SQL statements one request ran, by operation type.",
            ["type"],
            buckets=_STATEMENT_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "catalog_response_cache",
            "Response cache lookups by result (hit or miss).",
            ["result"],
            registry=r,
        )
        self.timeouts = Counter(
            "catalog_timeouts", "Requests that ran past the time budget.", registry=r
        )
        self.refusals = Counter(
            "catalog_refusals",
            "Requests refused before execution, by extensions.code.",
            ["code"],
            registry=r,
        )
        self.pool_in_use = Gauge(
            "catalog_db_pool_in_use",
            "Database connections checked out of the pool.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.pool_waiting = Gauge(
            "catalog_db_pool_waiting",
            "Callers waiting for a database connection from the pool.",
            multiprocess_mode="livesum",
            registry=r,
        )

        self.lean = Counter(
            "catalog_executor_lean",
            "Query operations the lean executor ran.",
            registry=r,
        )
        self.fallbacks = Counter(
            "catalog_executor_fallbacks",
            "Query operations left to graphql-core's executor, by reason.",
            ["reason"],
            registry=r,
        )
        self.disabled = Gauge(
            "catalog_optimisation_disabled",
            "1 for an optimisation turned off because a library internal it needs moved.",
            ["name"],
            multiprocess_mode="max",
            registry=r,
        )
        self.points = Counter(
            "catalog_rate_limit_points",
            "Points charged against rate limits, by caller class (token or anonymous).",
            ["caller"],
            registry=r,
        )
        self.rate_limit_storage = Gauge(
            "catalog_rate_limit_storage",
            "1 for the store the rate limits count in now (redis, memory, memory-fallback).",
            ["backend"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.replica_healthy = Gauge(
            "catalog_replica_healthy",
            "1 while a read replica gets reads (reachable, within the lag bound), else 0.",
            ["replica"],
            multiprocess_mode="min",
            registry=r,
        )
        self.replica_lag = Gauge(
            "catalog_replica_lag_seconds",
            "How far a read replica's replay was behind the primary at its last measurement.",
            ["replica"],
            multiprocess_mode="max",
            registry=r,
        )
        self._replicas: tuple[Replica, ...] = ()
        # Each request's three series by (operation label, type, outcome), looked up once.
        self._series: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}
        # What schema.execution had counted when this object last looked (counts before
        # it was made belong to no request of its own).
        self._lean_seen = execution.lean_runs()
        self._fallbacks_seen = execution.fallbacks()

    def refusal(self, code: str) -> None:
        """A refusal made outside a request (an operation on a WebSocket)."""
        self.refusals.labels(code).inc()

    def rate_limit_points(self, caller: str, points: int) -> None:
        """`points` charged to a caller of class `caller` (server.refusals.rate_limit)."""
        self.points.labels(caller).inc(points)

    def rate_limit_backend(self, backend: str) -> None:
        """The rate limits count in `backend` now (server.refusals.rate_limit)."""
        for name in ("redis", "memory", "memory-fallback"):
            self.rate_limit_storage.labels(name).set(1 if name == backend else 0)

    def watch_replicas(self, replicas: ReplicaSet) -> None:
        """Report the read replicas' health and lag as their monitor last measured them."""
        self._replicas = replicas.replicas
        self.observe_replicas()

    def observe_replicas(self) -> None:
        for replica in self._replicas:
            self.replica_healthy.labels(replica.name).set(1 if replica.healthy else 0)
            if replica.lag_ms is not None:
                self.replica_lag.labels(replica.name).set(replica.lag_ms / 1000)

    def observe_executor(self) -> None:
        """Bring the executor's counters and the disabled optimisations up to date."""
        lean = execution.lean_runs()
        if lean > self._lean_seen:
            self.lean.inc(lean - self._lean_seen)
            self._lean_seen = lean
        fallbacks = execution.fallbacks()
        if fallbacks != self._fallbacks_seen:
            for reason, count in fallbacks.items():
                seen = self._fallbacks_seen.get(reason, 0)
                if count > seen:
                    self.fallbacks.labels(reason).inc(count - seen)
            self._fallbacks_seen = fallbacks
        for name in compat.disabled_optimisations():
            self.disabled.labels(name).set(1)

    def observe_request(
        self,
        *,
        operation: str | None,
        operation_type: str | None,
        outcome: str,
        seconds: float,
        statements: int,
        cache: str | None,
        refusals: set[str],
    ) -> None:
        """Count one finished request (the view calls this once, next to its log line)."""
        kind = operation_type or "none"
        key = (self._operation_label(operation), kind, outcome)
        series = self._series.get(key)
        if series is None:  # label values are bounded: names, types, outcomes
            series = self._series[key] = (
                self.requests.labels(*key),
                self.duration.labels(kind),
                self.statements.labels(kind),
            )
        requests, duration, statements_run = series
        requests.inc()
        duration.observe(seconds)
        statements_run.observe(statements)
        if cache is not None:
            self.cache.labels(cache).inc()
        if outcome == "timeout":
            self.timeouts.inc()
        for code in refusals:
            self.refusals.labels(code).inc()
        if self._multiprocess_dir:
            # Another worker may answer the scrape: this one's files must be up to date.
            # In one process, the scrape itself brings them up to date (`exposition`).
            self.observe_executor()
            self.observe_replicas()

    def _operation_label(self, name: object) -> str:
        if name is None or name == "":
            return "anonymous"
        if not isinstance(name, str):  # a malformed request's operationName
            return "other"
        if name in self._names:
            return name
        if len(self._names) < OPERATION_NAMES and _NAME.fullmatch(name):
            self._names.add(name)
            return name
        return "other"

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Follow the engine's pool: connections in use and callers inside the pool's
        public `connect()`, which is where they wait.

        In one process both are read when /metrics is scraped: the queue pool's public
        `checkedout()`, and a plain count kept around `connect()` (every checkout happens
        on the event loop's thread). Shared through files (multiprocess), a value must be
        written where it changes: the checkout and checkin events and the gauge itself.
        """
        pool = engine.sync_engine.pool
        connect = pool.connect
        if not self._multiprocess_dir and isinstance(pool, QueuePool):
            waiters = [0]
            self.pool_in_use.set_function(pool.checkedout)
            self.pool_waiting.set_function(lambda: waiters[0])

            def counted_connect() -> Any:
                waiters[0] += 1
                try:
                    return connect()
                finally:
                    waiters[0] -= 1

        else:
            in_use = self.pool_in_use
            waiting = self.pool_waiting
            event.listen(pool, "checkout", lambda *_: in_use.inc())
            event.listen(pool, "checkin", lambda *_: in_use.dec())

            def counted_connect() -> Any:
                waiting.inc()
                try:
                    return connect()
                finally:
                    waiting.dec()

        pool.connect = counted_connect  # type: ignore[method-assign]

    def close(self) -> None:
        """This process stops serving: its pool gauges leave the workers' sums."""
        if self._multiprocess_dir:
            mark_process_dead(os.getpid(), self._multiprocess_dir)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The metrics and their content type, in the format the scraper accepts (Prometheus'
        text format, or OpenMetrics when asked): this process's, or all workers' summed."""
        self.observe_executor()
        self.observe_replicas()
        encode, content_type = choose_encoder(accept)
        if not self._multiprocess_dir:
            return encode(self.registry), content_type
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self._multiprocess_dir)
        return encode(registry), content_type


def metrics_endpoint(metrics: Metrics, tokens: Tokens) -> Callable[[Request], Awaitable[Response]]:
    """GET /metrics, readable by whoever may read the API (a read or write token when read
    tokens are configured)."""

    async def endpoint(request: Request) -> Response:
        caller = tokens.caller(request.headers.get("authorization"))
        if caller == "invalid" or not tokens.may_read(caller):
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Metrics need a read token",
                            "extensions": {"code": "UNAUTHENTICATED"},
                        }
                    ]
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="catalog"'},
            )
        body, content_type = metrics.exposition(request.headers.get("accept", ""))
        return Response(body, headers={"content-type": content_type})

    return endpoint
