"""The optional response cache for queries (CATALOG_RESPONSE_CACHE=memory or redis://...).

A response is filed under its request (the plan's canonical document, operation name,
variables and the caller's access level) and the data version read before it was computed.
Every write moves the data version within its commit (db.data_version), so no answer
computed before a write can be found after it: invalidation is exact, and shared by every
process on the same database, whether the responses themselves live in process memory or in Redis.

The cache is an optimisation the server can do without. While Redis fails or hangs, requests
bypass it (BestEffortStore) and are answered from the database; when Redis is back it is
used again. No answer can be stale then either: the version lives in the database, which
every write moved, so entries filed before the outage sit under keys no request asks for.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson

from schema.plans import Plan

log = logging.getLogger("catalog.cache")

MEMORY_ENTRIES = 2048
REDIS_TTL_SECONDS = 3600  # only to collect entries of old versions; never for correctness
# Redis answers in well under a millisecond; past these it is treated as down, so a hung
# Redis costs a request at most about this much, not its whole time budget.
REDIS_CONNECT_TIMEOUT_S = 0.25
REDIS_TIMEOUT_S = 0.25
RETRY_AFTER_S = 1.0  # after a failure, requests skip the store this long before trying it
WARN_EVERY_S = 60.0  # at most one warning a minute while the store stays down

CacheHealth = Literal["off", "ok", "degraded"]


class ResponseStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, body: bytes) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A bounded LRU of response bodies in this process."""

    def __init__(self, entries: int = MEMORY_ENTRIES) -> None:
        self._entries = entries
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    async def put(self, key: str, body: bytes) -> None:
        self._bodies[key] = body
        self._bodies.move_to_end(key)
        while len(self._bodies) > self._entries:
            self._bodies.popitem(last=False)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._bodies.clear()


class RedisStore:
    """Response bodies in Redis, shared by every server process that uses it.

    Keys carry a namespace (by default derived from the database URL), so catalogs that
    share a Redis never answer each other's queries.
    """

    def __init__(self, url: str, namespace: str) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries: a failed call is answered from the database at once (BestEffortStore).
        self._redis = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._namespace = namespace

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(f"{self._namespace}:{key}")
        return value if isinstance(value, bytes) else None

    async def put(self, key: str, body: bytes) -> None:
        await self._redis.set(f"{self._namespace}:{key}", body, ex=REDIS_TTL_SECONDS)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


class BestEffortStore:
    """A store whose failures bypass the cache instead of failing the request.

    A failed call makes the store "degraded": for RETRY_AFTER_S every request skips it (so
    an outage costs one timeout a second, not one per request); the next call after that
    tries again, and a success makes it "ok". Warnings are logged at most once a minute.
    """

    def __init__(self, store: ResponseStore, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._skip_until = 0.0
        self._warned_at: float | None = None
        self.health: CacheHealth = "ok"

    async def get(self, key: str) -> bytes | None:
        if self._skipping():
            return None
        try:
            body = await self._store.get(key)
        except Exception as error:  # whatever fails, the database can answer instead
            self._failed(error)
            return None
        self._succeeded()
        return body

    async def put(self, key: str, body: bytes) -> None:
        if self._skipping():
            return
        try:
            await self._store.put(key, body)
        except Exception as error:
            self._failed(error)
            return
        self._succeeded()

    async def ping(self) -> None:
        """Try the store now, whatever the last failure (for /readyz); never raises."""
        try:
            await self._store.ping()
        except Exception as error:
            self._failed(error)
            return
        self._succeeded()

    async def close(self) -> None:
        try:
            await self._store.close()
        except Exception as error:
            log.warning("closing the response cache failed", extra=_fields(error))

    def _skipping(self) -> bool:
        return self.health == "degraded" and self._clock() < self._skip_until

    def _failed(self, error: Exception) -> None:
        now = self._clock()
        self.health = "degraded"
        self._skip_until = now + RETRY_AFTER_S
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "response cache unavailable; answering from the database", extra=_fields(error)
            )

    def _succeeded(self) -> None:
        if self.health == "degraded":
            log.info("response cache available again")
        self.health = "ok"


def _fields(error: Exception) -> dict[str, Any]:
    return {"fields": {"error": type(error).__name__, "detail": str(error)[:200]}}


def open_store(setting: str, namespace: str) -> BestEffortStore | None:
    if setting == "off":
        return None
    if setting == "memory":
        return BestEffortStore(MemoryStore())
    return BestEffortStore(RedisStore(setting, namespace))


def namespace_for(database_url: str) -> str:
    """A stable, secret-free name for one catalog database."""
    from sqlalchemy import make_url

    url = make_url(database_url).render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CacheableQuery:
    """A request the cache may answer: one query operation, described canonically."""

    request_key: str

    def key(self, version: int) -> str:
        return f"catalog:response:v{version}:{self.request_key}"


def cacheable(plan: Plan, variables: Any, access: str) -> CacheableQuery | None:
    """The cache description of a planned request, or None when it must not be cached.

    Only single (not batched) query operations qualify: the plan has a canonical text for
    those alone (mutations never have one, nor does anything that does not parse).
    """
    if plan.cache_text is None or not isinstance(variables, dict | None):
        return None
    material = orjson.dumps(
        [access, plan.cache_text, plan.operation_name, variables or {}],
        option=orjson.OPT_SORT_KEYS,
    )
    return CacheableQuery(hashlib.sha256(material).hexdigest())
