"""The rate limits: a budget of points per caller (CATALOG_RATE_LIMIT), a cap on the
requests a caller runs at once (CATALOG_MAX_CONCURRENT_PER_CLIENT) and on the event
streams it keeps open (CATALOG_MAX_SUBSCRIPTIONS_PER_CLIENT).

The rules this module owns (the points of an operation are schema.points'):
- A caller is its bearer token, else its address (server.request.client).
- Before an operation runs, its estimated points are checked against every budget; one
  that does not fit is refused with 429 RATE_LIMITED and the seconds until its window
  starts again, and nothing runs. A document that costs more than a whole budget is
  QUERY_TOO_EXPENSIVE, refused without a charge.
- Once answered, the caller is charged the points of the rows it really read (never more
  than the estimate). Requests of one caller that run at once are each checked against
  the same remaining points, so together they may overspend by what they cost; the
  concurrency cap bounds that.
- The windows are fixed (`limits`' FixedWindowRateLimiter): a budget of 5000/hour is
  5000 points from one whole hour to the next.
- With CATALOG_RATE_LIMIT_STORAGE=redis://…, every process shares the budgets. When Redis
  fails, each process counts on its own until it answers again (retried every
  RETRY_REDIS_S), warning at most once a minute; a request is never refused for it.
- The concurrency and subscription caps are per process.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.util import WindowStats

from schema.points import Budget
from server.refusals.refusal import Refusal
from server.request.client import Client

log = logging.getLogger("catalog.rate_limit")

RETRY_REDIS_S = 5.0  # after a failure, Redis is tried again this much later
WARN_EVERY_S = 60.0  # at most one warning a minute while Redis fails
REDIS_TIMEOUT_S = 0.5  # Redis that does not answer within this counts as failed

T = TypeVar("T")


class RateLimitMetrics(Protocol):
    """What the rate limits report (server.observability.metrics.Metrics, which this room
    does not import: the metrics know the refusals' rooms, not the other way round)."""

    def rate_limit_points(self, caller: str, points: int) -> None: ...

    def rate_limit_backend(self, backend: str) -> None: ...

    def refusal(self, code: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Window:
    item: RateLimitItem
    remaining: int
    reset: float  # epoch seconds


class RateLimits:
    """The rate limits of one process, built once at start-up (`from_settings`)."""

    def __init__(
        self,
        items: Sequence[RateLimitItem] = (),
        *,
        storage: str = "memory",
        namespace: str = "catalog",
        max_concurrent: int = 0,
        max_subscriptions: int = 0,
        metrics: RateLimitMetrics | None = None,
    ) -> None:
        self.items = tuple(items)
        self.max_concurrent = max_concurrent
        self.max_subscriptions = max_subscriptions
        self._namespace = namespace
        self._metrics = metrics
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._redis: FixedWindowRateLimiter | None = None
        self._backend = "memory"
        if items and storage.startswith(("redis://", "rediss://")):
            self._redis = FixedWindowRateLimiter(
                RedisStorage(
                    f"async+{storage}",
                    implementation="redispy",
                    socket_timeout=REDIS_TIMEOUT_S,
                    socket_connect_timeout=REDIS_TIMEOUT_S,
                )
            )
            self._backend = "redis"
        self._redis_down_until = 0.0
        self._warned_at = -WARN_EVERY_S
        self._running: Counter[str] = Counter()
        self._streams: Counter[str] = Counter()
        self._report_backend()

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    @property
    def largest_cost(self) -> int:
        """The most an operation may cost: the smallest budget."""
        return min(item.amount for item in self.items)

    async def check(self, client: Client, points: int) -> Budget:
        """Refuse (429) an operation of these points that does not fit the caller's
        budgets; otherwise the budget it sees, its estimate counted."""
        if points > self.largest_cost:
            raise Refusal(
                400,  # waiting would not help: no window ever holds it
                "QUERY_TOO_EXPENSIVE",
                f"The operation costs {points} points, more than the whole budget of "
                f"{self.largest_cost}; ask for smaller pages (`first`)",
                self._policy_headers(),
            )
        windows = await self._windows(client)
        for window in windows:
            if window.remaining < points:
                wait = max(1, int(window.reset - time.time() + 0.999))
                raise Refusal(
                    429,
                    "RATE_LIMITED",
                    f"The operation costs {points} points and {window.remaining} are left "
                    f"of {window.item.amount}; retry in {wait} s",
                    {"Retry-After": str(wait), **self._headers(windows)},
                    {"retryAfter": wait, "cost": points},
                )
        return self._budget(windows, points)

    async def charge(self, client: Client, points: int, estimate: Budget) -> Budget:
        """Charge the caller what an operation really cost; the budget it leaves."""
        if points > 0:
            for item in self.items:
                await self._hit(item, client, points)
            if self._metrics is not None:
                self._metrics.rate_limit_points(client.kind, points)
        remaining = estimate.remaining + estimate.cost - points
        return Budget(estimate.limit, points, max(remaining, 0), estimate.reset_at)

    def headers(self, budget: Budget) -> dict[str, str]:
        """The IETF draft's RateLimit-Policy and RateLimit headers for a budget."""
        seconds = max(0, int(budget.reset_at.timestamp() - time.time() + 0.999))
        name = _policy_name(self._tightest_item(budget))
        return {
            **self._policy_headers(),
            "RateLimit": f'"{name}";r={budget.remaining};t={seconds}',
        }

    @contextmanager
    def running(self, client: Client) -> Iterator[None]:
        """Count a request of this caller while it runs; refused (429) past the cap."""
        if not self.max_concurrent:
            yield
            return
        if self._running[client.key] >= self.max_concurrent:
            raise Refusal(
                429,
                "TOO_MANY_CONCURRENT_REQUESTS",
                f"At most {self.max_concurrent} requests of one caller run at once; retry "
                "when one has finished",
                {"Retry-After": "1"},
                {"retryAfter": 1},
            )
        self._running[client.key] += 1
        try:
            yield
        finally:
            self._release(self._running, client.key)

    def open_stream(self, client: Client) -> Callable[[], None]:
        """Count an open subscription of this caller (refused with 429 past the cap);
        the function that counts it closed."""
        if self.max_subscriptions and self._streams[client.key] >= self.max_subscriptions:
            raise Refusal(
                429,
                "TOO_MANY_SUBSCRIPTIONS",
                f"At most {self.max_subscriptions} subscriptions of one caller may be open "
                "at once; close one first",
                {"Retry-After": "1"},
                {"retryAfter": 1},
            )
        self._streams[client.key] += 1
        closed = False

        def close() -> None:
            nonlocal closed
            if not closed:
                closed = True
                self._release(self._streams, client.key)

        return close

    def refused(self, code: str) -> None:
        """Count a refusal made outside a request (an operation on a socket), as a
        request's refusal is counted (`catalog_refusals_total`)."""
        if self._metrics is not None:
            self._metrics.refusal(code)

    # -- the storage ---------------------------------------------------------------------

    def _ids(self, client: Client) -> tuple[str, str]:
        return (self._namespace, client.key)

    async def _windows(self, client: Client) -> list[_Window]:
        windows = []
        for item in self.items:
            stats = await self._stats(item, client)
            reset = stats.reset_time
            if reset <= time.time():
                reset = time.time() + item.get_expiry()
            windows.append(_Window(item, stats.remaining, reset))
        return windows

    async def _hit(self, item: RateLimitItem, client: Client, points: int) -> bool:
        ids = self._ids(client)
        return await self._call(lambda limiter: limiter.hit(item, *ids, cost=points))

    async def _stats(self, item: RateLimitItem, client: Client) -> WindowStats:
        ids = self._ids(client)
        return await self._call(lambda limiter: limiter.get_window_stats(item, *ids))

    async def _call(self, use: Callable[[FixedWindowRateLimiter], Awaitable[T]]) -> T:
        """Ask Redis when there is one and it answers, else this process's own counts."""
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                answer = await use(self._redis)
            except Exception as error:  # any failure of Redis: count in this process
                self._redis_failed(error)
            else:
                if self._backend != "redis":
                    self._backend = "redis"
                    log.warning("rate limits are shared through Redis again")
                    self._report_backend()
                return answer
        return await use(self._memory)

    def _redis_failed(self, error: Exception) -> None:
        now = time.monotonic()
        self._redis_down_until = now + RETRY_REDIS_S
        if self._backend != "memory-fallback":
            self._backend = "memory-fallback"
            self._report_backend()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "Redis for the rate limits failed (%s); each process counts on its own "
                "until it answers",
                type(error).__name__,
            )

    def _report_backend(self) -> None:
        if self._metrics is not None and self.enabled:
            self._metrics.rate_limit_backend(self._backend)

    # -- shaping ---------------------------------------------------------------------------

    def _budget(self, windows: list[_Window], points: int) -> Budget:
        tightest = min(windows, key=lambda w: (w.remaining, w.item.amount))
        return Budget(
            tightest.item.amount,
            points,
            max(tightest.remaining - points, 0),
            datetime.fromtimestamp(tightest.reset, UTC),
        )

    def _tightest_item(self, budget: Budget) -> RateLimitItem:
        return next((i for i in self.items if i.amount == budget.limit), self.items[0])

    def _policy_headers(self) -> dict[str, str]:
        policies = ", ".join(
            f'"{_policy_name(item)}";q={item.amount};w={item.get_expiry()}' for item in self.items
        )
        return {"RateLimit-Policy": policies}

    def _headers(self, windows: list[_Window]) -> dict[str, str]:
        tightest = min(windows, key=lambda w: (w.remaining, w.item.amount))
        seconds = max(0, int(tightest.reset - time.time() + 0.999))
        name = _policy_name(tightest.item)
        return {
            **self._policy_headers(),
            "RateLimit": f'"{name}";r={tightest.remaining};t={seconds}',
        }

    @staticmethod
    def _release(counts: Counter[str], key: str) -> None:
        counts[key] -= 1
        if counts[key] <= 0:
            del counts[key]


def _policy_name(item: RateLimitItem) -> str:
    return f"{item.amount}-per-{item.get_expiry()}s"
