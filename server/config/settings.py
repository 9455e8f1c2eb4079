"""Every setting, read once from the environment at start-up and passed down from there.

Each value is checked here, before anything uses it: a bad one raises SettingsError with a
single line naming the variable, what is wrong with the value and what is accepted.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many

from resolvers.limits import MAX_FIRST, Limits
from server.caches.documents import load_trusted_documents
from server.config.database_urls import (
    SettingsError,
    check_database_url,
    check_read_database_urls,
    shown,
)

__all__ = ["Settings", "SettingsError", "check_database_url"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./catalog.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    accepted = (
        f"a whole number from {minimum} to {maximum}"
        if maximum is not None
        else (f"a whole number of at least {minimum}")
    )
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)} is not a whole number; use {accepted}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise SettingsError(f"{name}={value} is out of range; use {accepted}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(
        f"{name}={shown(raw)} is not a yes/no value; use true or false (or 1/0, yes/no, on/off)"
    )


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.upper() not in choices:
        raise SettingsError(f"{name}={shown(raw)} is not one of {', '.join(choices)}")
    return raw.upper()


def _response_cache(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    accepted = "use off, memory or redis://<host>[:<port>][/<db number>]"
    if raw in {"off", "memory"}:
        return raw
    if not raw.startswith(("redis://", "rediss://")):
        raise SettingsError(f"{name}={shown(raw)} is not a cache; {accepted}")
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)} has a bad port; {accepted}") from None
    database = parts.path.lstrip("/")
    if not parts.hostname or (database and not database.isdigit()):
        raise SettingsError(f"{name}={shown(raw)} is not a Redis URL; {accepted}")
    return raw


def _rate_limit_storage(env: Mapping[str, str], name: str) -> str:
    storage = _response_cache(env, name, "memory")
    if storage == "off":
        raise SettingsError(f"{name}=off is not a storage; use memory or redis://...")
    return storage


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = _list(env, name)
    for origin in origins:
        # Browsers send an origin as scheme://host[:port], which is compared as a string:
        # a trailing slash or a path would never match and fail silently.
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise SettingsError(
                f"{name} has {shown(origin)}, which is not an origin; "
                f"use * or comma-separated scheme://host[:port] with no path"
            )
    return origins


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_names(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if not env.get(name, "").strip():
        return default
    names = tuple(item.lower() for item in _list(env, name))
    for header in names:
        if not _HEADER_NAME.fullmatch(header):
            raise SettingsError(
                f"{name} has {shown(header)}, which is not a header name; "
                f"use comma-separated names such as authorization, content-type"
            )
    return names


def _trusted_documents(env: Mapping[str, str], name: str) -> Mapping[str, str] | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return MappingProxyType(load_trusted_documents(Path(raw)))
    except ValueError as error:
        raise SettingsError(
            f"{name}={shown(raw)} {error}; use a JSON file mapping each document's SHA-256 "
            "to its text (persisted-documents.json)"
        ) from None


def _otel_endpoint(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return ""
    if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", raw):
        raise SettingsError(f"{name}={shown(raw)} is not a URL; use http(s)://<host>:<port>")
    if importlib.util.find_spec("opentelemetry.instrumentation.asgi") is None:
        raise SettingsError(
            f"{name} is set but tracing is not installed; pip install 'catalog[otel]'"
        )
    return raw


def _rate_limits(env: Mapping[str, str], name: str) -> tuple[RateLimitItem, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    try:
        return tuple(parse_many(raw))
    except ValueError:
        raise SettingsError(
            f"{name}={shown(raw)} is not a rate limit; use an amount per unit, several "
            "separated by ';', e.g. 5000/hour or 100/second;5000/hour"
        ) from None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    networks = []
    for item in _list(env, name):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} has {shown(item)}, which is not an address or a network; use "
                "comma-separated addresses or CIDRs, e.g. 10.0.0.0/8, 192.168.1.7"
            ) from None
    return tuple(networks)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration_s(env: Mapping[str, str], name: str, default: int) -> int:
    """Seconds, from a number and a unit: 90s, 30m, 12h, 7d."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    found = re.fullmatch(r"(\d{1,9})([smhd])", raw)
    if found is None or int(found[1]) == 0:
        raise SettingsError(
            f"{name}={shown(raw)} is not a duration; use a positive number and a unit "
            "(s, m, h or d), e.g. 7d or 12h"
        )
    return int(found[1]) * _UNITS[found[2]]


def _max_first(env: Mapping[str, str], default: int) -> int:
    # At most MAX_FIRST: the API's promise to clients; an operator may lower it, never raise it.
    return _int(env, "CATALOG_MAX_FIRST", default, 1, MAX_FIRST)


_LIMITS = Limits()  # the defaults of the limits the settings can change


@dataclass(frozen=True)
class Settings:
    """The server's configuration. docs/settings.md's table describes each variable."""

    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 20
    # PostgreSQL streaming replicas that serve queries (docs/deployment.md), and how far
    # behind the primary one may be and still serve them.
    read_database_urls: tuple[str, ...] = ()
    replica_max_lag_ms: int = 1000
    # Connections go through PgBouncer in transaction mode: no prepared-statement caches.
    db_pgbouncer: bool = False
    write_tokens: tuple[str, ...] = field(default=(), repr=False)
    read_tokens: tuple[str, ...] = field(default=(), repr=False)
    cors_origins: tuple[str, ...] = ()
    # Request headers a browser may send cross-origin: the API's own, W3C trace context,
    # and the client identification Apollo Client sends.
    cors_allow_headers: tuple[str, ...] = (
        "authorization",
        "content-type",
        "traceparent",
        "tracestate",
        "baggage",
        "apollographql-client-name",
        "apollographql-client-version",
        "catalog-consistency-token",
    )
    introspection: bool = True
    graphiql: bool = True
    max_body_bytes: int = 1024 * 1024
    max_depth: int = _LIMITS.max_depth
    max_aliases: int = _LIMITS.max_aliases
    max_tokens: int = _LIMITS.max_tokens
    max_batch: int = 0  # operations per batched request; 0 turns batching off
    max_nodes: int = _LIMITS.max_nodes
    max_first: int = _LIMITS.max_first  # the API contract's ceiling; may be set lower only
    max_items: int = _LIMITS.max_items
    request_timeout_ms: int = 10_000
    response_cache: str = "off"  # off | memory | redis://...
    response_cache_namespace: str = ""  # Redis key prefix; "" derives one from the database
    # When set (SHA-256 -> document), only these documents run: see server/caches/documents.py.
    trusted_documents: Mapping[str, str] | None = field(default=None, repr=False)
    log_level: str = "INFO"
    startup_check: bool = True  # refuse to start when the database is unreachable or behind
    shutdown_grace_ms: int = 15_000  # on SIGTERM, in-flight requests may finish within this
    header_timeout_ms: int = 5_000  # a request's headers must arrive within this
    # Allocations between young collections of the cycle collector (server/process/heap.py);
    # 0 leaves CPython's collector as it is.
    gc_young_threshold: int = 50_000
    # Set by `catalog serve` (a fresh directory per start unless the environment has one):
    # where worker processes share their metrics. Empty: metrics of this process alone.
    metrics_multiprocess_dir: str = ""
    # OpenTelemetry tracing (the `otel` extra) is on when an OTLP endpoint is configured.
    otel_endpoint: str = ""
    # The change log and live updates (docs/live.md).
    changes_retention_s: int = 7 * 86400
    max_subscriptions_per_connection: int = 100
    max_subscribers: int = 10_000  # subscriptions open at once in one process
    subscriber_queue: int = 1000  # changes a subscriber may leave untaken before it is cut off
    ws_init_timeout_ms: int = 5_000  # connection_init must arrive within this
    keepalive_ms: int = 15_000  # pings on a WebSocket, comments on an event stream
    # Rate limits (docs/api.md, "Rate limits"): points per caller and window; none: off.
    rate_limits: tuple[RateLimitItem, ...] = ()
    rate_limit_storage: str = "memory"  # memory | redis://...
    rate_limit_namespace: str = ""  # Redis key prefix; "" derives one from the database
    # Peers whose X-Forwarded-For / Forwarded headers name the client.
    trusted_proxies: tuple[Network, ...] = ()
    max_concurrent_per_client: int = 0  # 0: no cap
    max_subscriptions_per_client: int = 0  # 0: no cap

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        database_url = env.get("CATALOG_DATABASE_URL", "").strip() or d.database_url
        return cls(
            database_url=check_database_url("CATALOG_DATABASE_URL", database_url),
            db_pool_size=_int(env, "CATALOG_DB_POOL_SIZE", d.db_pool_size, 1),
            read_database_urls=check_read_database_urls(
                "CATALOG_READ_DATABASE_URLS",
                env.get("CATALOG_READ_DATABASE_URLS", ""),
                database_url,
            ),
            replica_max_lag_ms=_int(env, "CATALOG_REPLICA_MAX_LAG_MS", d.replica_max_lag_ms, 0),
            db_pgbouncer=_bool(env, "CATALOG_DB_PGBOUNCER", d.db_pgbouncer),
            write_tokens=_list(env, "CATALOG_WRITE_TOKENS"),
            read_tokens=_list(env, "CATALOG_READ_TOKENS"),
            cors_origins=_origins(env, "CATALOG_CORS_ORIGINS"),
            cors_allow_headers=_header_names(
                env, "CATALOG_CORS_ALLOW_HEADERS", d.cors_allow_headers
            ),
            introspection=_bool(env, "CATALOG_INTROSPECTION", d.introspection),
            graphiql=_bool(env, "CATALOG_GRAPHIQL", d.graphiql),
            max_body_bytes=_int(env, "CATALOG_MAX_BODY_BYTES", d.max_body_bytes, 1),
            max_depth=_int(env, "CATALOG_MAX_DEPTH", d.max_depth, 1),
            max_aliases=_int(env, "CATALOG_MAX_ALIASES", d.max_aliases, 0),
            max_tokens=_int(env, "CATALOG_MAX_TOKENS", d.max_tokens, 1),
            max_batch=_int(env, "CATALOG_MAX_BATCH", d.max_batch, 0),
            max_nodes=_int(env, "CATALOG_MAX_NODES", d.max_nodes, 1),
            max_first=_max_first(env, d.max_first),
            max_items=_int(env, "CATALOG_MAX_ITEMS", d.max_items, 1),
            request_timeout_ms=_int(env, "CATALOG_REQUEST_TIMEOUT_MS", d.request_timeout_ms, 1),
            response_cache=_response_cache(env, "CATALOG_RESPONSE_CACHE", d.response_cache),
            response_cache_namespace=env.get("CATALOG_RESPONSE_CACHE_NAMESPACE", "").strip(),
            trusted_documents=_trusted_documents(env, "CATALOG_TRUSTED_DOCUMENTS"),
            log_level=_choice(env, "CATALOG_LOG_LEVEL", d.log_level, LOG_LEVELS),
            startup_check=_bool(env, "CATALOG_STARTUP_CHECK", d.startup_check),
            shutdown_grace_ms=_int(env, "CATALOG_SHUTDOWN_GRACE_MS", d.shutdown_grace_ms, 0),
            header_timeout_ms=_int(env, "CATALOG_HEADER_TIMEOUT_MS", d.header_timeout_ms, 100),
            gc_young_threshold=_int(env, "CATALOG_GC_YOUNG_THRESHOLD", d.gc_young_threshold, 0),
            metrics_multiprocess_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
            otel_endpoint=_otel_endpoint(env, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            changes_retention_s=_duration_s(
                env, "CATALOG_CHANGES_RETENTION", d.changes_retention_s
            ),
            max_subscriptions_per_connection=_int(
                env,
                "CATALOG_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                d.max_subscriptions_per_connection,
                1,
            ),
            max_subscribers=_int(env, "CATALOG_MAX_SUBSCRIBERS", d.max_subscribers, 1),
            subscriber_queue=_int(env, "CATALOG_SUBSCRIBER_QUEUE", d.subscriber_queue, 1),
            ws_init_timeout_ms=_int(env, "CATALOG_WS_INIT_TIMEOUT_MS", d.ws_init_timeout_ms, 100),
            keepalive_ms=_int(env, "CATALOG_KEEPALIVE_MS", d.keepalive_ms, 100),
            rate_limits=_rate_limits(env, "CATALOG_RATE_LIMIT"),
            rate_limit_storage=_rate_limit_storage(env, "CATALOG_RATE_LIMIT_STORAGE"),
            rate_limit_namespace=env.get("CATALOG_RATE_LIMIT_NAMESPACE", "").strip(),
            trusted_proxies=_networks(env, "CATALOG_TRUSTED_PROXIES"),
            max_concurrent_per_client=_int(env, "CATALOG_MAX_CONCURRENT_PER_CLIENT", 0, 0),
            max_subscriptions_per_client=_int(env, "CATALOG_MAX_SUBSCRIPTIONS_PER_CLIENT", 0, 0),
        )

    def limits(self) -> Limits:
        """The request limits, one object for the schema and the resolvers."""
        return Limits(
            max_tokens=self.max_tokens,
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_first=self.max_first,
            max_items=self.max_items,
            max_nodes=self.max_nodes,
        )

    def but(self, **changes: Any) -> Settings:
        """A copy with some settings changed (for the CLI's flags and for tests)."""
        return replace(self, **changes)
