"""The change log: each committed write appends exactly what it changed, at the version it
moves, in commit order; dry runs and failures append nothing; readers filter and resume;
old entries are pruned behind a horizon; PostgreSQL notifies listeners of each commit."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import make_url, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import changes, data_version, models
from db.associations import Associations
from db.catalog import Catalog
from db.changes import ChangeFilter, Entry, Position
from db.connections import RequestConnection
from db.errors import NotFound
from db.models import utcnow
from db.references import TagsOf, WantedProduct, WantedTag
from db.statements import record_statements
from tests.conftest import Opener
from tests.db.rows import Factory, Stored

MISSING = 999_999
EVERYTHING = 1_000_000  # a read limit above any log of these tests

Seen = tuple[str, int | None, int | None, int | None]  # (kind, product, tag, priority)


def seen(entries: list[Entry]) -> list[Seen]:
    return [(e.kind, e.product_id, e.tag_id, e.priority) for e in entries]


def by_write(entries: list[Entry]) -> list[list[Entry]]:
    """The entries grouped by the write that appended them (its version), in log order."""
    return [list(group) for _, group in itertools.groupby(entries, lambda e: e.position.version)]


class Log:
    """The change log as committed right now, read through a connection of its own."""

    def __init__(self, sessions: Opener, engine: AsyncEngine) -> None:
        self._sessions = sessions
        self._engine = engine

    async def entries(
        self,
        after: Position = changes.START,
        limit: int = EVERYTHING,
        wanted: ChangeFilter | None = None,
    ) -> list[Entry]:
        async with self._sessions() as connection:
            return await changes.read_after(connection, after, limit, wanted)

    async def head(self) -> Position:
        async with self._sessions() as connection:
            return await changes.head(connection)

    async def version(self) -> int:
        async with self._sessions() as connection:
            return await data_version.current(connection)

    async def check(self, position: Position) -> None:
        async with self._sessions() as connection:
            await changes.check_position(connection, position)

    async def prune(self, older_than: timedelta, batch: int = 500) -> int:
        """Prune as the server does: on a connection of its own, in its own transaction."""
        return await changes.prune(self._engine, older_than, batch)

    async def age(self, up_to: int, by: timedelta) -> None:
        """Make the entries of every version up to `up_to` look written `by` ago."""
        table = models.changes
        async with self._sessions() as connection:
            await connection.execute(
                update(table).where(table.c.version <= up_to).values(at=utcnow() - by)
            )
            await connection.commit()


@pytest.fixture
def log(sessions: Opener, engine: AsyncEngine) -> Log:
    return Log(sessions, engine)


async def tag_named(stored: Stored, name: str) -> int:
    return next(t for t, stored_name in (await stored.tags()).items() if stored_name == name)


# -- what each write appends ---------------------------------------------------------------


async def test_create_product_with_tags_appends_the_product_its_new_tags_and_its_links(
    catalog: Catalog, make: Factory, stored: Stored, log: Log
) -> None:
    sale = await make.tag("Sale")

    lamp, _ = await catalog.create_product("Lamp", [WantedTag(sale, 3), "New"])

    new = await tag_named(stored, "New")
    assert seen(await log.entries()) == [
        ("PRODUCT_CREATED", lamp.id, None, None),
        ("TAG_CREATED", None, new, None),
        ("LINK_ADDED", lamp.id, sale, 3),
        ("LINK_ADDED", lamp.id, new, 0),
    ]


async def test_create_tag_appends_tag_created(catalog: Catalog, log: Log) -> None:
    sale = await catalog.create_tag("Sale")

    assert seen(await log.entries()) == [("TAG_CREATED", None, sale.id, None)]


async def test_renames_append_product_updated_and_tag_updated_one_write_each(
    catalog: Catalog, make: Factory, log: Log
) -> None:
    lamp = await make.product("Lamp")
    sale = await make.tag("Sale")

    await catalog.update_product(lamp, name="Desk")
    await catalog.update_tag(sale, name="Offer")

    writes = by_write(await log.entries())
    assert [seen(write) for write in writes] == [
        [("PRODUCT_UPDATED", lamp, None, None)],
        [("TAG_UPDATED", None, sale, None)],
    ]


async def test_add_tags_with_a_changed_priority_appends_link_updated_with_the_new_priority(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, new, priority=1)

    await associations.add_tags(lamp, [WantedTag(sale, 7), new])

    assert seen(await log.entries()) == [("LINK_UPDATED", lamp, sale, 7)]


async def test_set_tags_appends_link_removed_with_the_removed_links_priority(
    associations: Associations, make: Factory, stored: Stored, log: Log
) -> None:
    lamp = await make.product()
    old, kept = await make.tags("Old", "Kept")
    await make.link(lamp, old, priority=4)
    await make.link(lamp, kept, priority=2)

    await associations.set_tags(lamp, [kept, "Fresh"])

    fresh = await tag_named(stored, "Fresh")
    assert seen(await log.entries()) == [
        ("TAG_CREATED", None, fresh, None),
        ("LINK_REMOVED", lamp, old, 4),
        ("LINK_ADDED", lamp, fresh, 0),
    ]


async def test_remove_tags_appends_link_removed_for_the_links_that_were_there(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, priority=6)

    await associations.remove_tags(lamp, [sale, new, "Nowhere"])

    assert seen(await log.entries()) == [("LINK_REMOVED", lamp, sale, 6)]


async def test_add_products_appends_link_updated_and_link_added_on_the_tag_side(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=1)

    await associations.add_products(sale, [WantedProduct(lamp, 4), mug])

    assert seen(await log.entries()) == [
        ("LINK_UPDATED", lamp, sale, 4),
        ("LINK_ADDED", mug, sale, 0),
    ]


async def test_import_links_appends_link_added_for_the_pairs_it_inserted_only(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=1)

    await associations.import_links([(lamp, sale, 9), (mug, sale, 4)])

    assert seen(await log.entries()) == [("LINK_ADDED", mug, sale, 4)]


async def test_delete_product_appends_each_of_its_links_removed_then_product_deleted(
    catalog: Catalog, make: Factory, log: Log
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, priority=1)
    await make.link(lamp, new, priority=2)
    await make.link(mug, sale, priority=3)  # another product's link: not touched

    await catalog.delete_product(lamp)

    assert seen(await log.entries()) == [
        ("LINK_REMOVED", lamp, sale, 1),
        ("LINK_REMOVED", lamp, new, 2),
        ("PRODUCT_DELETED", lamp, None, None),
    ]


async def test_delete_tag_appends_each_of_its_links_removed_then_tag_deleted(
    catalog: Catalog, make: Factory, log: Log
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, priority=1)
    await make.link(mug, sale, priority=5)
    await make.link(mug, new, priority=2)  # another tag's link: not touched

    await catalog.delete_tag(sale)

    assert seen(await log.entries()) == [
        ("LINK_REMOVED", lamp, sale, 1),
        ("LINK_REMOVED", mug, sale, 5),
        ("TAG_DELETED", None, sale, None),
    ]


async def test_each_write_appends_at_one_version_of_its_own_with_ordinals_from_1(
    catalog: Catalog, associations: Associations, make: Factory, log: Log
) -> None:
    mug = await make.product("Mug")
    versions = []

    lamp, _ = await catalog.create_product("Lamp", ["Sale", "New"])
    versions.append(await log.version())
    await associations.set_tags(lamp.id, ["Other"])
    versions.append(await log.version())
    await associations.add_tags(mug, ["Sale", "Other"])
    versions.append(await log.version())

    writes = by_write(await log.entries())
    assert [len(write) for write in writes] == [5, 4, 2]
    assert [write[0].position.version for write in writes] == versions
    assert versions == sorted(set(versions))
    for write in writes:
        assert [e.position.ordinal for e in write] == list(range(1, len(write) + 1))


# -- what appends nothing ----------------------------------------------------------------


async def test_a_dry_run_appends_nothing(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp = await make.product()
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=1)
    head = await log.head()

    await associations.add_tags(lamp, [WantedTag(sale, 3), "Fresh"], dry_run=True)
    await associations.set_tags(lamp, ["Other"], dry_run=True)
    await associations.remove_tags(lamp, [sale], dry_run=True)

    assert await log.entries() == []
    assert await log.head() == head


async def test_a_failed_write_appends_nothing(
    associations: Associations, make: Factory, log: Log
) -> None:
    lamp = await make.product()
    head = await log.head()

    with pytest.raises(NotFound):
        await associations.add_tags(lamp, ["Fresh", MISSING])

    assert await log.entries() == []
    assert await log.head() == head


async def test_a_write_that_fails_after_noting_entries_leaves_none_for_the_next_write(
    catalog: Catalog, log: Log
) -> None:
    with pytest.raises(NotFound):  # the product is created and noted, then the tag is missing
        await catalog.create_product("Lamp", ["Sale", MISSING])

    sale = await catalog.create_tag("Sale")  # the same connection writes again

    assert seen(await log.entries()) == [("TAG_CREATED", None, sale.id, None)]


async def test_a_write_that_changes_nothing_appends_no_entries(
    associations: Associations, catalog: Catalog, make: Factory, log: Log
) -> None:
    lamp = await make.product()
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=2)

    await associations.add_tags(lamp, [sale])
    await associations.add_tags(lamp, [WantedTag("SALE", 2)])
    await associations.remove_tags(lamp, ["Nowhere"])
    await catalog.update_product(lamp)

    assert await log.entries() == []


# -- bulk writes -----------------------------------------------------------------------------


async def test_apply_tags_of_1_and_of_1000_items_appends_every_entry_in_as_many_statements(
    associations: Associations, make: Factory, log: Log
) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(1001)))
    sale, new = await make.tags("Sale", "New")
    counts = []
    for ids in (product_ids[:1], product_ids[1:]):
        items = [TagsOf(p, [WantedTag(sale, p % 10), new]) for p in ids]
        with record_statements() as statements:
            await associations.apply_tags(items)
        counts.append(statements.count)

    one, thousand = by_write(await log.entries())
    assert counts[0] == counts[1]
    assert len(one) == 2
    assert len(thousand) == 2000
    assert seen(thousand) == [
        entry
        for p in sorted(product_ids[1:])
        for entry in (("LINK_ADDED", p, sale, p % 10), ("LINK_ADDED", p, new, 0))
    ]
    assert [e.position.ordinal for e in thousand] == list(range(1, 2001))


# -- reading ---------------------------------------------------------------------------------

Wanted = Callable[[dict[str, int]], ChangeFilter]

FILTERS: dict[str, Wanted] = {
    "product": lambda ids: ChangeFilter(product_ids=frozenset({ids["Lamp"]})),
    "tag": lambda ids: ChangeFilter(tag_ids=frozenset({ids["Sale"]})),
    "kinds": lambda ids: ChangeFilter(kinds=frozenset({"LINK_ADDED", "LINK_REMOVED"})),
    "product and kinds": lambda ids: ChangeFilter(
        product_ids=frozenset({ids["Lamp"], ids["Desk"]}),
        kinds=frozenset({"LINK_UPDATED", "LINK_REMOVED"}),
    ),
}


def keeps(wanted: ChangeFilter, entry: Entry) -> bool:
    """The filter's meaning, spelled out here rather than borrowed from ChangeFilter."""
    return all(
        (
            wanted.product_ids is None or entry.product_id in wanted.product_ids,
            wanted.tag_ids is None or entry.tag_id in wanted.tag_ids,
            wanted.kinds is None or entry.kind in wanted.kinds,
        )
    )


@pytest.mark.parametrize("name", FILTERS)
async def test_filtered_pages_resume_after_the_last_entry_and_return_each_once_in_order(
    name: str, catalog: Catalog, associations: Associations, stored: Stored, log: Log
) -> None:
    lamp, _ = await catalog.create_product("Lamp", ["Sale", "New"])
    desk, _ = await catalog.create_product("Desk", ["Sale"])
    await associations.add_tags(lamp.id, [WantedTag("Sale", 5)])
    await associations.remove_tags(desk.id, ["Sale"])
    await associations.set_tags(lamp.id, ["Sale", "Other"])
    await catalog.update_product(desk.id, name="Bureau")
    ids = {"Lamp": lamp.id, "Desk": desk.id, "Sale": await tag_named(stored, "Sale")}
    wanted = FILTERS[name](ids)

    pages: list[list[Entry]] = []
    after = changes.START
    while page := await log.entries(after, limit=2, wanted=wanted):
        assert len(page) <= 2
        pages.append(page)
        after = page[-1].position

    everything = await log.entries()
    expected = [e for e in everything if keeps(wanted, e)]
    read = [e for page in pages for e in page]
    assert 0 < len(expected) < len(everything)
    assert read == expected
    assert [e.position for e in read] == sorted({e.position for e in read})


async def test_head_is_after_every_entry_of_the_last_write_and_before_the_next(
    catalog: Catalog, associations: Associations, log: Log
) -> None:
    lamp, _ = await catalog.create_product("Lamp", ["Sale", "New"])

    head = await log.head()

    written = await log.entries()
    assert head.version == written[-1].position.version
    assert all(e.position < head for e in written)
    assert await log.entries(head) == []
    await associations.add_tags(lamp.id, ["Other"])
    assert seen(await log.entries(head)) == seen((await log.entries())[len(written) :])
    assert len(await log.entries(head)) == 2


# -- pruning ---------------------------------------------------------------------------------


async def test_prune_takes_the_entries_older_than_the_retention_and_moves_the_horizon(
    catalog: Catalog, log: Log
) -> None:
    await catalog.create_product("Lamp", ["Sale"])
    await catalog.create_product("Desk", ["Sale"])
    await catalog.create_product("Mug")
    old, older, recent = by_write(await log.entries())
    await log.age(older[-1].position.version, timedelta(days=2))

    pruned = await log.prune(timedelta(days=1))

    assert pruned == len(old) + len(older)
    assert await log.entries() == recent
    with pytest.raises(changes.Expired) as error:
        await log.check(changes.START)
    assert error.value.horizon == older[-1].position


@pytest.mark.postgres_only
async def test_prune_deletes_and_moves_the_horizon_in_one_transaction(
    catalog: Catalog, log: Log, engine: AsyncEngine
) -> None:
    """Entries never vanish before the horizon moves past them: a reader in between would
    otherwise find a cursor short of events instead of expired."""
    await catalog.create_product("Lamp", ["Sale"])
    await catalog.create_product("Desk")
    first, _second = by_write(await log.entries())
    await log.age(first[-1].position.version, timedelta(days=2))
    before = await log.entries()

    async with engine.connect() as holder:
        await holder.execution_options(isolation_level="READ COMMITTED")
        async with holder.begin():
            # Hold the horizon row: the prune's UPDATE of it must wait here.
            await holder.execute(select(models.change_horizon.c.id).with_for_update())
            pruning = asyncio.create_task(log.prune(timedelta(days=1)))
            await asyncio.sleep(0.5)
            assert not pruning.done()
            assert await log.entries() == before  # the DELETE is not visible yet
    assert await pruning == len(first)
    assert await log.entries() == before[len(first) :]


async def test_a_position_before_the_horizon_is_expired_and_one_at_or_after_it_is_not(
    catalog: Catalog, log: Log
) -> None:
    await catalog.create_product("Lamp", ["Sale"])
    await catalog.create_product("Desk", ["Sale"])
    first, second = by_write(await log.entries())
    await log.age(first[-1].position.version, timedelta(days=2))
    await log.prune(timedelta(days=1))
    horizon = first[-1].position

    for before in (
        changes.START,
        first[0].position,
        Position(horizon.version, horizon.ordinal - 1),
    ):
        with pytest.raises(changes.Expired):
            await log.check(before)
    for at_or_after in (horizon, second[0].position, await log.head()):
        await log.check(at_or_after)


async def test_prune_keeps_entries_within_the_retention(catalog: Catalog, log: Log) -> None:
    await catalog.create_product("Lamp", ["Sale"])
    written = await log.entries()

    assert await log.prune(timedelta(days=1)) == 0

    assert await log.entries() == written
    await log.check(changes.START)


async def test_prune_takes_at_most_a_batch_per_call_oldest_first(
    catalog: Catalog, log: Log
) -> None:
    await catalog.create_product("Lamp", ["Sale", "New"])  # 5 entries
    written = await log.entries()

    taken = [await log.prune(timedelta(0), batch=2) for _ in range(4)]

    assert taken == [2, 2, 1, 0]
    assert await log.entries() == []
    with pytest.raises(changes.Expired) as error:
        await log.check(written[-2].position)
    assert error.value.horizon == written[-1].position


async def test_prune_by_batches_moves_the_horizon_to_the_last_entry_taken(
    catalog: Catalog, log: Log
) -> None:
    await catalog.create_product("Lamp", ["Sale", "New"])
    written = await log.entries()

    await log.prune(timedelta(0), batch=2)

    assert await log.entries() == written[2:]
    await log.check(written[1].position)
    with pytest.raises(changes.Expired):
        await log.check(written[0].position)


# -- PostgreSQL: commit order under concurrent writers, and notifications -----------------


async def add_tags_at_once(sessions: Opener, work: list[tuple[int, list[int]]]) -> list[int]:
    """add_tags of each (product, tags) at the same time, each on a connection of its own;
    the version each write committed at, in the order of `work`."""

    async def write(product: int, tag_ids: list[int]) -> int:
        async with sessions() as connection:
            await Associations(connection).add_tags(product, tag_ids)
            assert isinstance(connection, RequestConnection)
            assert connection.committed_version is not None
            return connection.committed_version

    return list(await asyncio.gather(*(write(p, t) for p, t in work)))


@pytest.mark.postgres_only
async def test_concurrent_writers_get_one_version_each_in_commit_order(
    sessions: Opener, make: Factory, log: Log
) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(20)))
    sale = await make.tag("Sale")
    own = await make.tags(*(f"Tag {n}" for n in range(20)))
    before = await log.version()

    versions = await add_tags_at_once(
        sessions, [(p, [sale, t]) for p, t in zip(product_ids, own, strict=True)]
    )

    assert sorted(versions) == list(range(before + 1, before + 21))
    writes = by_write(await log.entries())
    assert [write[0].position.version for write in writes] == sorted(versions)
    committed_at = dict(zip(product_ids, versions, strict=True))
    for write in writes:
        (product,) = {e.product_id for e in write}
        assert write[0].position.version == committed_at[product]
        assert [e.position.ordinal for e in write] == [1, 2]


@pytest.mark.postgres_only
async def test_a_reader_during_concurrent_writes_sees_whole_writes_with_no_gap(
    sessions: Opener, make: Factory, log: Log
) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(20)))
    sale, new = await make.tags("Sale", "New")
    before = await log.version()
    done = asyncio.Event()
    snapshots: list[list[Entry]] = []

    async def read_meanwhile() -> None:
        async with sessions() as connection:
            while not done.is_set():
                snapshots.append(await changes.read_after(connection, changes.START, EVERYTHING))
                await asyncio.sleep(0)

    reader = asyncio.create_task(read_meanwhile())
    try:
        await add_tags_at_once(sessions, [(p, [sale, new]) for p in product_ids])
    finally:
        done.set()
        await reader

    assert snapshots
    for snapshot in snapshots:
        writes = by_write(snapshot)
        versions = [write[0].position.version for write in writes]
        assert versions == list(range(before + 1, before + 1 + len(writes)))
        assert all(len(write) == 2 for write in writes)


async def listen(database_url: str) -> tuple[asyncpg.Connection, asyncio.Queue[str]]:
    """A raw asyncpg connection listening on the change channel, and what it hears."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    url = make_url(database_url).set(drivername="postgresql")
    listener = await asyncpg.connect(url.render_as_string(hide_password=False))
    await listener.add_listener(changes.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    return listener, heard


@pytest.mark.postgres_only
async def test_a_commit_notifies_listeners_of_its_version(
    associations: Associations, session: AsyncConnection, make: Factory, database_url: str
) -> None:
    lamp = await make.product()
    listener, heard = await listen(database_url)
    try:
        await associations.add_tags(lamp, ["Sale"])

        payload = await asyncio.wait_for(heard.get(), timeout=5)
    finally:
        await listener.close()

    assert isinstance(session, RequestConnection)
    assert payload == str(session.committed_version)


@pytest.mark.postgres_only
async def test_a_dry_run_notifies_nothing(
    associations: Associations, session: AsyncConnection, make: Factory, database_url: str
) -> None:
    lamp = await make.product()
    listener, heard = await listen(database_url)
    try:
        await associations.add_tags(lamp, ["Sale"], dry_run=True)
        await asyncio.sleep(0.5)
        nothing = heard.empty()
        await associations.add_tags(lamp, ["Sale"])  # the listener does hear a commit
        payload = await asyncio.wait_for(heard.get(), timeout=5)
    finally:
        await listener.close()

    assert nothing
    assert isinstance(session, RequestConnection)
    assert payload == str(session.committed_version)
