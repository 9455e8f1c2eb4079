"""Read replicas: which PostgreSQL node serves a request's reads.

The rules this module owns:

- A mutation's reads and writes run on the primary. A query reads from a replica, chosen
  round-robin among the healthy ones; with none healthy, from the primary.
- A replica is healthy when its last probe reached it and its replay lag is within the
  bound (`max_lag_ms`). The monitor probes every node every `interval_s`: the primary's
  `pg_current_wal_lsn()` and each replica's `pg_last_wal_replay_lsn()`. Lag is measured in
  time, not bytes, and from above: a replica that has replayed a position the primary was
  last seen at t ago is at most t stale (so an idle primary never makes a caught-up replica
  look late, and a replica is never thought fresher than it is; the error is at most one
  probe interval). A replica behind every position the monitor knows, as at start-up, is
  not used until a probe shows how far behind it is.
- Read-your-writes: a client that sends the position a mutation committed at (its
  consistency token, `position_token`) is served only by a replica whose replay position,
  as last measured, is at least that; else by the primary. Replay only moves forward, so
  a measurement already at the position stays true.
- A replica that fails a request's first statement is marked unreachable at once (the
  request's reads then move to the primary, see db.connections), until a probe reaches it.

Nothing here knows HTTP or GraphQL: the view hands in whether the operation writes and the
client's token, as `position` (parse_position) or None.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("catalog.replicas")

PROBE_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 1.0
_LSN = re.compile(r"([0-9A-F]{1,8})/([0-9A-F]{1,8})")


class BadPosition(ValueError):
    """A consistency token that this server did not issue."""


def parse_position(token: str) -> int:
    """A consistency token as a WAL position; BadPosition when it is not one."""
    match = _LSN.fullmatch(token.strip().upper())
    if match is None:
        raise BadPosition(token)
    return (int(match[1], 16) << 32) | int(match[2], 16)


def position_token(position: int) -> str:
    """A WAL position as the opaque token clients send back (PostgreSQL's own spelling)."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


async def committed_position(connection: AsyncConnection) -> int:
    """The primary's WAL position, read right after a commit on the same connection: every
    node that has replayed this far sees the commit."""
    lsn = (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar_one()
    return parse_position(str(lsn))


@dataclass
class Replica:
    """One replica and what the monitor last measured of it."""

    name: str  # host:port/database, no credentials: for logs and metrics
    engine: AsyncEngine
    replayed: int | None = None  # last measured replay position
    reachable: bool = False
    lag_ms: float | None = None
    healthy: bool = False


@dataclass
class _History:
    """The primary's recent positions, each with when it was first and last seen there."""

    keep_s: float
    seen: deque[list[float]] = field(default_factory=deque)  # [position, first, last]

    def saw(self, now: float, position: int) -> None:
        if self.seen and self.seen[-1][0] == position:
            self.seen[-1][2] = now
        elif not self.seen or position > self.seen[-1][0]:
            self.seen.append([position, now, now])
        while len(self.seen) > 1 and now - self.seen[0][2] > self.keep_s:
            self.seen.popleft()

    def lag_ms(self, now: float, replayed: int) -> float | None:
        """How stale a replica that replayed up to `replayed` may be, at most: since the
        last time the primary was seen at a position it has replayed. None when unknown
        (it is behind every position kept), which counts as too far behind."""
        if not self.seen:
            return None
        if replayed >= self.seen[-1][0]:
            return 0.0
        caught_up = [last for position, _first, last in self.seen if position <= replayed]
        return (now - caught_up[-1]) * 1000 if caught_up else None


class ReplicaSet:
    """The primary and its read replicas, and which one serves a request's reads."""

    def __init__(
        self,
        primary: AsyncEngine,
        replicas: Sequence[Replica],
        *,
        max_lag_ms: int = 1000,
        interval_s: float = PROBE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self.max_lag_ms = max_lag_ms
        self.interval_s = interval_s
        self._clock = clock
        self._history = _History(keep_s=2 * max_lag_ms / 1000 + 1)
        self._turns = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def for_reads(self, *, writes: bool, position: int | None = None) -> AsyncEngine:
        """The engine that serves a request's reads (the primary for a write)."""
        if writes or not self.replicas:
            return self.primary
        ready = [
            r
            for r in self.replicas
            if r.healthy and (position is None or (r.replayed or 0) >= position)
        ]
        if not ready:
            return self.primary
        return ready[next(self._turns) % len(ready)].engine

    def unreachable(self, engine: AsyncEngine) -> None:
        """A request could not use this replica: no reads for it until a probe reaches it."""
        for replica in self.replicas:
            if replica.engine is engine and replica.reachable:
                replica.reachable = replica.healthy = False
                log.warning(
                    "replica unreachable; its reads go elsewhere",
                    extra={"fields": {"replica": replica.name}},
                )

    async def probe(self) -> None:
        """Measure every node once (the monitor's round; tests call it directly)."""
        primary, *replayed = await asyncio.gather(
            _position(self.primary, "pg_current_wal_lsn()"),
            *(_position(r.engine, "pg_last_wal_replay_lsn()") for r in self.replicas),
        )
        now = self._clock()
        if isinstance(primary, int):
            self._history.saw(now, primary)
        for replica, measured in zip(self.replicas, replayed, strict=True):
            self._record(replica, now, measured)

    def _record(self, replica: Replica, now: float, measured: int | Exception) -> None:
        was = replica.healthy
        if isinstance(measured, Exception):
            replica.reachable, replica.lag_ms = False, None
        else:
            replica.reachable, replica.replayed = True, measured
            replica.lag_ms = self._history.lag_ms(now, measured)
        replica.healthy = (
            replica.reachable and replica.lag_ms is not None and replica.lag_ms <= self.max_lag_ms
        )
        if replica.healthy != was:
            fields = {"replica": replica.name, "lag_ms": replica.lag_ms}
            if replica.healthy:
                log.info("replica in use for reads", extra={"fields": fields})
            else:
                why = "unreachable" if not replica.reachable else "lagging past the bound"
                fields["error"] = type(measured).__name__ if not replica.reachable else None
                log.warning(f"replica {why}; its reads go elsewhere", extra={"fields": fields})

    def start(self) -> None:
        """Start the monitor (in the app's lifespan); nothing to do without replicas."""
        if self.replicas and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._monitor())

    async def stop(self) -> None:
        """Stop the monitor and close the replicas' pools (not the primary's)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for replica in self.replicas:
            await replica.engine.dispose()

    async def _monitor(self) -> None:
        while True:
            try:
                await self.probe()
            except Exception:  # the monitor must outlive any one failure
                log.exception("probing the replicas failed")
            await asyncio.sleep(self.interval_s)


async def _position(engine: AsyncEngine, function: str) -> int | Exception:
    """A node's WAL position, or the exception that kept us from reading it."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), engine.connect() as connection:
            lsn = (await connection.execute(text(f"SELECT {function}::text"))).scalar_one()
    except Exception as error:  # unreachable, starting, shutting down, too slow
        return error
    if lsn is None:  # not a standby (a promoted replica): it has no replay position
        return LookupError(f"{function} is null")
    return parse_position(str(lsn))


def replica_set(
    primary: AsyncEngine,
    urls: Sequence[str],
    make_engine: Callable[[str], AsyncEngine],
    *,
    max_lag_ms: int = 1000,
) -> ReplicaSet:
    """The primary plus one engine per replica URL (made by `make_engine`), none healthy
    until the monitor's first probe."""
    replicas = [Replica(name=node_name(url), engine=make_engine(url)) for url in urls]
    return ReplicaSet(primary, replicas, max_lag_ms=max_lag_ms)


def node_name(url: str) -> str:
    """host:port/database of a URL: names a node in logs without its credentials."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
