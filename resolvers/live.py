"""Live reads: the change log as a Relay connection, and the subscriptions that follow it.

A subscription replays the log after the client's cursor, then follows the process's
change feed (db.feed), and joins the two with no gap and no duplicate: it subscribes to the
feed before it reads the log, so an entry committed meanwhile is either in what it reads
or handed to it by the feed, and it skips every position it has already yielded.

The entities an event shows (its product, its tag, as they are now) are read through
loaders shared by every subscriber of the feed's burst (`SharedReads`): a thousand
subscribers of one product cost one batch. A long-lived connection holds no database
connection between events: the shared reads check one out for each statement and
give it back as soon as its rows are in.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.associations import Associations
from db.catalog import Catalog
from db.changes import ChangeFilter, Entry
from db.dialects import is_timeout, is_transient, is_unavailable
from db.feed import ChangeFeed, FeedUnavailable, TooManySubscribers, TooSlow
from db.per_statement import BriefConnection
from db.records import ProductRecord, TagRecord
from db.replicas import ReplicaSet
from resolvers.changes import encode_change_cursor, read_page, start_after
from resolvers.context import Access
from resolvers.errors import BadInput
from resolvers.ids import BadId, decode_id
from resolvers.limits import Limits
from resolvers.loaders import Loaders

log = logging.getLogger("catalog.live")

REPLAY_PAGE = 500  # entries per read of a replay


class SharedReads:
    """The reads of one burst of events, shared by every subscriber it goes to: one set of
    loaders, so the subscribers' loads of a turn of the loop are one batch, over a
    connection checked out per statement (db.per_statement.BriefConnection): a subscriber
    that resolves its events late holds nothing meanwhile."""

    def __init__(self, databases: AsyncEngine | ReplicaSet) -> None:
        engine = databases if isinstance(databases, AsyncEngine) else databases.primary
        self.db = BriefConnection(engine)
        self._loaders: Loaders | None = None

    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.db)
        return self._loaders

    async def close(self) -> None:
        """Refuse further statements (at shutdown); none holds a connection."""
        await self.db.close()


class Bursts:
    """Makes the shared reads of each burst of the feed (its `burst` factory), and closes
    those still holding a connection when the process stops."""

    def __init__(self, databases: AsyncEngine | ReplicaSet) -> None:
        self._databases = databases
        self._made: weakref.WeakSet[SharedReads] = weakref.WeakSet()

    def new(self) -> SharedReads:
        reads = SharedReads(self._databases)
        self._made.add(reads)
        return reads

    async def close(self) -> None:
        for reads in list(self._made):
            await reads.close()


# The reads of the event being resolved, per task: each operation of a long-lived
# connection runs in a task of its own, and its generator sets this before each yield.
_reads: ContextVar[SharedReads | None] = ContextVar("catalog_event_reads", default=None)


class LiveContext:
    """The context of the operations of one long-lived connection (a WebSocket, an SSE
    stream): the caller, the limits and the feed, and, while an event is resolved, that
    event's shared reads as `loaders` and `db` (what every field resolver reads through).
    """

    plan: Any = None
    timestamps = True
    nodes_read = 0  # rows read, counted as on a request (not charged: opening is)

    def __init__(
        self,
        feed: ChangeFeed,
        databases: AsyncEngine | ReplicaSet,
        *,
        limits: Limits,
        access: Access,
        request_id: str = "",
    ) -> None:
        self.feed = feed
        self.databases = databases
        self.limits = limits
        self.access: Access = access
        self.request_id = request_id
        self.connection_params: dict[str, Any] = {}

    @property
    def reads(self) -> SharedReads:
        reads = _reads.get()
        if reads is None:
            reads = SharedReads(self.databases)
            _reads.set(reads)
        return reads

    @property
    def loaders(self) -> Loaders:
        return self.reads.loaders()

    @property
    def db(self) -> BriefConnection:
        return self.reads.db

    def release(self) -> None:
        """Nothing to let go: the shared reads give their connection back themselves."""

    def catalog(self) -> Catalog:
        """Reads only: mutations are refused before they run (schema.plans)."""
        return Catalog(self.db, max_items=self.limits.max_items)

    def associations(self) -> Associations:
        return Associations(self.db, max_items=self.limits.max_items)


def shape_errors(context: LiveContext, errors: Sequence[GraphQLError]) -> None:
    """Give each error of a live result its code and mask unexpected failures, in place.

    The request path does this where it shapes an HTTP response; a long-lived connection's
    results go out through Strawberry's own handler, so they are shaped as Strawberry hands
    them over (Schema.process_errors). Codes as over HTTP: GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED for an error with no path, SERVICE_UNAVAILABLE when the
    database is unreachable or timed out, INTERNAL_SERVER_ERROR (logged, masked) otherwise.
    """
    for error in errors:
        extensions = dict(error.extensions or {})
        if "code" in extensions:
            continue
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            syntax = isinstance(error, GraphQLSyntaxError)
            extensions["code"] = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
            if error.path is not None:
                extensions["code"] = "INTERNAL_SERVER_ERROR"
        elif is_unavailable(original) or is_timeout(original) or is_transient(original):
            extensions["code"] = "SERVICE_UNAVAILABLE"
            error.message = "The database is unavailable right now; subscribe again shortly"
        else:
            log.error(
                "unexpected error",
                exc_info=original,
                extra={"fields": {"request_id": context.request_id, "path": error.path}},
            )
            extensions["code"] = "INTERNAL_SERVER_ERROR"
            error.message = f"Internal server error (request id {context.request_id})"
        error.extensions = extensions


async def follow(
    ctx: LiveContext, after: str | None, wanted: ChangeFilter
) -> AsyncGenerator[Entry, None]:
    """Every entry kept by `wanted` after the cursor (from now without one), replayed
    from the log, then live, each exactly once, in commit order.

    Ends with SUBSCRIBER_TOO_SLOW (and the last cursor delivered) when the client leaves
    more entries untaken than the feed's queue holds; TOO_MANY_SUBSCRIBERS when the
    process has its limit already.
    """
    feed = ctx.feed
    try:
        await feed.ready()
        subscriber = feed.subscribe(wanted)
    except TooManySubscribers as error:
        raise GraphQLError(str(error), extensions={"code": "TOO_MANY_SUBSCRIBERS"}) from None
    except FeedUnavailable as error:
        raise GraphQLError(str(error), extensions={"code": "SERVICE_UNAVAILABLE"}) from None
    # Without a cursor: from what the feed has handed out, in this same turn of the loop.
    position = feed.seen
    try:
        if after is not None:
            replay = SharedReads(ctx.databases)
            position = await start_after(replay.db, after)
            while True:
                page = await read_page(replay.db, position, REPLAY_PAGE, wanted)
                for entry in page:
                    position = entry.position
                    _reads.set(replay)
                    yield entry
                if len(page) < REPLAY_PAGE:
                    break
        while taken := await subscriber.take():  # none once the feed has closed
            for entry, reads in taken:
                if entry.position <= position:
                    continue  # replayed already
                position = entry.position
                _reads.set(reads if isinstance(reads, SharedReads) else None)
                yield entry
    except TooSlow:
        raise GraphQLError(
            "This subscriber fell too far behind and was cut off; subscribe again with "
            "`after` set to the last cursor delivered (in this error's extensions).",
            extensions={
                "code": "SUBSCRIBER_TOO_SLOW",
                "lastCursor": encode_change_cursor(position),
            },
        ) from None
    finally:
        feed.unsubscribe(subscriber)


async def product_after_changes(ctx: LiveContext, global_id: str) -> AsyncIterator[ProductRecord]:
    """The product after each write that changed it or its links; ends once it is gone."""
    product_id = _id(global_id, "Product")
    async for _version in _versions(ctx, ChangeFilter(product_ids=frozenset([product_id]))):
        record = await ctx.loaders.product.load(product_id)
        if record is None:
            return
        yield record


async def tag_after_changes(ctx: LiveContext, global_id: str) -> AsyncIterator[TagRecord]:
    """The tag after each write that changed it or its links; ends once it is gone."""
    tag_id = _id(global_id, "Tag")
    async for _version in _versions(ctx, ChangeFilter(tag_ids=frozenset([tag_id]))):
        record = await ctx.loaders.tag.load(tag_id)
        if record is None:
            return
        yield record


async def _versions(ctx: LiveContext, wanted: ChangeFilter) -> AsyncIterator[int]:
    """Each write's version once, however many of its entries `wanted` keeps."""
    last = -1
    entries = follow(ctx, None, wanted)
    try:
        async for entry in entries:
            if entry.position.version != last:
                last = entry.position.version
                yield last
    finally:
        with contextlib.suppress(Exception):
            await entries.aclose()


def _id(global_id: str, type_name: str) -> int:
    try:
        return decode_id(global_id, type_name)[1]
    except BadId as error:
        raise BadInput(str(error)) from None
