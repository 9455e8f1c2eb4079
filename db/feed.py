"""The change feed: the change log's new entries, read once per burst for every subscriber
of the process, and handed to each one whose filter keeps them.

Rules kept here:
- one reader per process: whatever wakes it (the process's own commits, PostgreSQL's
  NOTIFY on `catalog_changes`, or its poll when it cannot listen), it reads the entries
  after the last position it handed out, in commit order, once for all subscribers;
- on PostgreSQL one listening connection per process, outside the pool. When it is lost
  the feed polls the log until a new one listens, then reads what it missed: nothing is
  lost, only later;
- a subscriber holds at most `queue_size` entries not yet taken (a read of the log, up
  to BURST entries, always fits an empty queue); past that it is cut off
  (`TooSlow`, with the last position it took), never holding the process's memory or the
  other subscribers back;
- at most `max_subscribers` at once (`TooManySubscribers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from db import changes
from db.changes import ChangeFilter, Entry, Position
from db.connections import open_request

log = logging.getLogger("catalog.feed")

BURST = 1000  # entries per read of the log
POLL_S = 0.25  # how often the log is read when no notification can arrive
RETRY_S = 1.0  # the pause before reading or listening again after a failure
# The listening connection's application_name, as pg_stat_activity shows it: outside the
# pool, one per process.
LISTENER_NAME = "catalog change listener"


class TooManySubscribers(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"this server process has {limit} subscribers, its limit")
        self.limit = limit


class FeedUnavailable(Exception):
    """The feed has not yet been able to read the log (the database is unreachable)."""

    def __init__(self) -> None:
        super().__init__("live updates are unavailable: the change log cannot be read now")


class TooSlow(Exception):
    """The subscriber left more than its queue holds untaken."""

    def __init__(self, last: Position | None) -> None:
        super().__init__("the subscriber fell too far behind")
        self.last = last


@dataclass(eq=False)
class Subscriber:
    """One subscription's place in the feed: what it wants and what waits for it."""

    wanted: ChangeFilter
    queue_size: int
    # (entry, burst): the burst is what the feed's `burst` factory made for the read
    # that found the entry (the reads shared by every subscriber it went to).
    pending: deque[tuple[Entry, Any]] = field(default_factory=deque)
    last: Position | None = None  # the last position taken
    overflowed: bool = False
    ended: bool = False  # the feed closed: nothing more will come
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, entries: list[Entry], burst: Any) -> None:
        if self.overflowed:
            return
        kept = [(e, burst) for e in entries if self.wanted.keeps(e)]
        if not kept:
            return
        # An empty queue takes a whole read (at most BURST entries), however large: a
        # subscriber is cut off for what it leaves untaken, never for the size of a write.
        if self.pending and len(self.pending) + len(kept) > self.queue_size:
            self.overflowed = True
            self.pending.clear()
        else:
            self.pending.extend(kept)
        self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    async def take(self) -> list[tuple[Entry, Any]]:
        """Every entry waiting (at least one, waiting for it); TooSlow once overflowed;
        nothing once the feed has closed and every entry was taken."""
        while not self.pending and not self.overflowed and not self.ended:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            raise TooSlow(self.last)
        if not self.pending:
            return []
        taken = list(self.pending)
        self.pending.clear()
        self.last = taken[-1][0].position
        return taken


class ChangeFeed:
    """The process's feed (see the module's rules). `start` it, `stop` it at shutdown."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        listen_url: str | None = None,
        shared: bool = False,
        queue_size: int = 1000,
        max_subscribers: int = 10_000,
        burst: Callable[[], Any] = lambda: None,
    ) -> None:
        self._engine = engine
        self._listen_url = listen_url
        # Other processes write too (PostgreSQL): with no listener, only polling finds out.
        self._shared = shared or listen_url is not None
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self._burst = burst
        self._subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = False
        # The last position handed out; None until the feed has read where the log ends.
        self._seen: Position | None = None
        self._found = asyncio.Event()  # set once `_seen` is
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def listening(self) -> bool:
        """Whether every commit is announced: by this process itself (SQLite, one process)
        or by a listening connection; else the feed polls the log every POLL_S."""
        return not self._shared or self._listening

    @property
    def seen(self) -> Position:
        """The last position handed out: a subscriber added now is handed what follows."""
        if self._seen is None:
            raise FeedUnavailable()
        return self._seen

    async def ready(self, timeout_s: float = 5.0) -> None:
        """Start the feed if it is not running, and wait until it knows where the log ends;
        FeedUnavailable if it cannot find out within `timeout_s`."""
        if not self._tasks:
            self.start()
        if self._seen is not None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._found.wait()
        except TimeoutError:
            raise FeedUnavailable() from None

    def start(self) -> None:
        """Start reading (and listening); the first read finds where the log ends."""
        self._tasks.append(asyncio.create_task(self._read_forever(), name="change feed"))
        if self._listen_url is not None:
            self._tasks.append(asyncio.create_task(self._listen_forever(), name="change listener"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def close(self) -> None:
        """The process is shutting down: no new subscriber is accepted (FeedUnavailable);
        the feed reads the log once more, and every subscriber ends once it has taken
        what was committed before (or at once, when the log cannot be read)."""
        self._closed = True
        if self._tasks:
            self._wake.set()
        else:
            self._end_all()

    def _end_all(self) -> None:
        for subscriber in self._subscribers:
            subscriber.end()

    def wake(self) -> None:
        """Something was committed: read the log."""
        self._wake.set()

    def subscribe(self, wanted: ChangeFilter) -> Subscriber:
        """A subscriber that is handed every entry, kept by `wanted`, that the feed reads
        from now on (entries after `seen`)."""
        if self._seen is None or self._closed:
            raise FeedUnavailable()
        if len(self._subscribers) >= self.max_subscribers:
            raise TooManySubscribers(self.max_subscribers)
        subscriber = Subscriber(wanted, self.queue_size)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def catch_up(self) -> None:
        """Read and hand out everything committed after `seen` (a burst per read)."""
        while True:
            async with open_request(self._engine, writes=False) as connection:
                if self._seen is None:
                    self._seen = await changes.head(connection)
                    self._found.set()
                    return
                entries = await changes.read_after(connection, self._seen, BURST)
            if not entries:
                return
            # Handed out in the same turn of the loop as the read: a subscriber added
            # meanwhile reads these from the log itself (it starts after `seen`).
            self._seen = entries[-1].position
            if self._subscribers:
                burst = self._burst()
                for subscriber in list(self._subscribers):
                    subscriber.offer(entries, burst)
            if len(entries) < BURST:
                return

    async def _read_forever(self) -> None:
        self._wake.set()  # find where the log ends at once
        while True:
            timeout = None if self.listening and self._seen is not None else POLL_S
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception:
                log.warning("reading the change log failed; trying again", exc_info=True)
                if self._closed:
                    self._end_all()
                await asyncio.sleep(RETRY_S)
                self._wake.set()
            else:
                if self._closed:
                    self._end_all()

    async def _listen_forever(self) -> None:
        assert self._listen_url is not None
        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await asyncpg.connect(
                    self._listen_url, server_settings={"application_name": LISTENER_NAME}
                )
                connection.add_termination_listener(partial(_set, lost))
                await connection.add_listener(changes.CHANNEL, lambda *_args: self.wake())
                self._listening = True
                self.wake()  # whatever was committed while no one listened
                while not lost.is_set():
                    # A dead server is noticed by a statement: check now and then.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(5):
                            await lost.wait()
                    if not lost.is_set():
                        await connection.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the change listener lost its connection; polling meanwhile")
            finally:
                self._listening = False
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.terminate()
            self.wake()
            await asyncio.sleep(RETRY_S)


def _set(event: asyncio.Event, *_args: object) -> None:
    event.set()
