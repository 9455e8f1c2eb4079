"""Every setting, read once from the environment at start-up and passed down from there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./catalog.db"


class SettingsError(ValueError):
    """A setting has a value the server cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _max_first(env: Mapping[str, str], default: int) -> int:
    value = _int(env, "CATALOG_MAX_FIRST", default, 1)
    if value > 100:
        raise SettingsError(
            f"CATALOG_MAX_FIRST may be at most 100 (the API's promise), got {value}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    """The server's configuration. See the README's settings table for each variable."""

    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 10
    write_tokens: tuple[str, ...] = field(default=(), repr=False)
    read_tokens: tuple[str, ...] = field(default=(), repr=False)
    cors_origins: tuple[str, ...] = ()
    introspection: bool = True
    graphiql: bool = True
    max_body_bytes: int = 1024 * 1024
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5000
    max_batch: int = 0  # operations per batched request; 0 turns batching off
    max_nodes: int = 50_000
    max_first: int = 100  # the API contract's ceiling; may be set lower, never higher
    max_items: int = 100
    request_timeout_ms: int = 10_000
    response_cache: str = "off"  # off | memory | redis://...
    response_cache_namespace: str = ""  # Redis key prefix; "" derives one from the database
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        cache = env.get("CATALOG_RESPONSE_CACHE", d.response_cache).strip() or "off"
        if cache not in {"off", "memory"} and not cache.startswith(("redis://", "rediss://")):
            raise SettingsError(
                f"CATALOG_RESPONSE_CACHE must be off, memory or a redis:// URL, got {cache!r}"
            )
        return cls(
            database_url=env.get("CATALOG_DATABASE_URL", "").strip() or d.database_url,
            db_pool_size=_int(env, "CATALOG_DB_POOL_SIZE", d.db_pool_size, 1),
            write_tokens=_list(env, "CATALOG_WRITE_TOKENS"),
            read_tokens=_list(env, "CATALOG_READ_TOKENS"),
            cors_origins=_list(env, "CATALOG_CORS_ORIGINS"),
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
            response_cache=cache,
            response_cache_namespace=env.get("CATALOG_RESPONSE_CACHE_NAMESPACE", "").strip(),
            log_level=env.get("CATALOG_LOG_LEVEL", d.log_level).strip().upper() or d.log_level,
        )

    def but(self, **changes: Any) -> Settings:
        """A copy with some settings changed (for the CLI's flags and for tests)."""
        return replace(self, **changes)
