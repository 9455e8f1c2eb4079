"""Links with their own columns: per-link priorities, `updated`, dry runs, set_products,
and apply_tags (many products in one transaction, a bounded number of statements)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import data_version
from db.associations import Associations
from db.errors import Invalid, NotFound, TooMany
from db.records import Changed
from db.references import TagsOf, WantedProduct, WantedTag
from db.statements import record_statements
from tests.db.rows import Factory, Stored

MISSING = 999_999


# -- per-link priorities -----------------------------------------------------------------


async def test_add_tags_gives_each_link_its_own_priority(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    await associations.add_tags(product, [WantedTag(sale, 5), WantedTag("New"), "Eco"])

    rows = await stored.link_rows()
    names = await stored.tags()
    assert {names[t]: row.priority for (_, t), row in rows.items()} == {
        "Sale": 5,
        "New": 0,
        "Eco": 0,
    }


async def test_a_given_priority_updates_an_existing_link_and_keeps_its_added_at(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale, new, priority=1)
    before = await stored.link_rows()

    changed = await associations.add_tags(product, [WantedTag(sale, 9), WantedTag(new)])

    rows = await stored.link_rows()
    assert changed == Changed(updated=(sale,))
    assert rows[(product, sale)].priority == 9
    assert rows[(product, sale)].added_at == before[(product, sale)].added_at
    assert rows[(product, new)] == before[(product, new)]  # no priority given: kept


async def test_the_same_priority_again_is_not_an_update(
    associations: Associations, make: Factory
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale, priority=4)

    changed = await associations.add_tags(product, [WantedTag("sale", 4)])

    assert changed == Changed()


async def test_set_tags_with_priorities_updates_links_that_stay(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    old, kept, same = await make.tags("Old", "Kept", "Same")
    await make.link(product, old, kept, same, priority=2)
    before = await stored.link_rows()

    changed = await associations.set_tags(
        product, [WantedTag(kept, 7), WantedTag("Same"), WantedTag("Fresh", 3)]
    )

    rows = await stored.link_rows()
    fresh = next(t for t, name in (await stored.tags()).items() if name == "Fresh")
    assert (changed.added, changed.updated, changed.removed) == ((fresh,), (kept,), (old,))
    assert rows[(product, kept)].priority == 7
    assert rows[(product, kept)].added_at == before[(product, kept)].added_at
    assert rows[(product, same)] == before[(product, same)]
    assert rows[(product, fresh)].priority == 3


async def test_one_tag_given_twice_with_two_priorities_is_invalid_and_writes_nothing(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    with pytest.raises(Invalid) as error:
        await associations.add_tags(
            product, [WantedTag(sale, 1), WantedTag(" SALE", 2, at=("tags", "1"))]
        )

    assert error.value.field == "priority"
    assert error.value.at == ("tags", "1", "priority")
    assert await stored.links() == set()


async def test_one_tag_given_twice_once_without_priority_takes_the_given_one(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    await associations.add_tags(product, [WantedTag(sale, 6), WantedTag("sale")])

    assert (await stored.link_rows())[(product, sale)].priority == 6


async def test_a_priority_beyond_32_bits_is_invalid_at_its_place(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()

    with pytest.raises(Invalid) as error:
        await associations.add_tags(product, [WantedTag("Sale", 2**31, at=("tags", "0"))])

    assert error.value.at == ("tags", "0", "priority")
    assert await stored.tags() == {}


async def test_remove_tags_ignores_priorities(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale, priority=3)

    changed = await associations.remove_tags(product, [WantedTag(sale, 8)])

    assert changed == Changed(removed=(sale,))
    assert await stored.links() == set()


# -- the tag side ------------------------------------------------------------------------


async def test_add_products_gives_each_link_its_own_priority(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, mug, vase = await make.products("Lamp", "Mug", "Vase")
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=1)

    changed = await associations.add_products(
        sale, [WantedProduct(lamp, 4), WantedProduct(mug, 2), vase]
    )

    rows = await stored.link_rows()
    assert changed == Changed(added=(mug, vase), updated=(lamp,))
    assert [rows[(p, sale)].priority for p in (lamp, mug, vase)] == [4, 2, 0]


async def test_set_products_writes_only_the_difference_with_priorities(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    old, kept, new = await make.products("Old", "Kept", "New")
    sale = await make.tag("Sale")
    await make.link(old, sale)
    await make.link(kept, sale, priority=2)
    before = await stored.link_rows()

    changed = await associations.set_products(sale, [WantedProduct(kept, 5), new])

    rows = await stored.link_rows()
    assert changed == Changed(added=(new,), updated=(kept,), removed=(old,))
    assert rows[(kept, sale)].priority == 5
    assert rows[(kept, sale)].added_at == before[(kept, sale)].added_at
    assert rows[(new, sale)].priority == 0


async def test_an_unknown_product_link_is_not_found_at_its_place(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp = await make.product()
    sale = await make.tag("Sale")

    with pytest.raises(NotFound) as error:
        await associations.set_products(
            sale, [lamp, WantedProduct(MISSING, 1, at=("products", "1"))]
        )

    assert error.value.ids == (MISSING,)
    assert error.value.at == ("products", "1", "id")
    assert await stored.links() == set()


# -- dry runs ------------------------------------------------------------------------------

Write = Callable[[Associations, bool], Awaitable[Changed]]


async def dry_then_real(
    sessions: async_sessionmaker[AsyncSession], stored: Stored, write: Write
) -> tuple[Changed, Changed]:
    """Run the write dry, check nothing moved, then run it for real."""
    before = (await stored.link_rows(), await stored.tags())
    async with sessions() as session:
        version = await data_version.current(session)
    async with sessions() as session:
        dry = await write(Associations(session), True)
    assert (await stored.link_rows(), await stored.tags()) == before
    async with sessions() as session:
        assert await data_version.current(session) == version
    async with sessions() as session:
        real = await write(Associations(session), False)
    return dry, real


def same_change(dry: Changed, real: Changed) -> None:
    """Equal, but for the ids of created tags: a dry run's name nothing (on PostgreSQL the
    real run gets new ones, sequences never go back), so those compare by name."""

    def named(change: Changed) -> tuple[object, ...]:
        created = {t.id: t.name for t in change.created}
        return tuple(
            sorted(str(created.get(i, i)) for i in ids)
            for ids in (change.added, change.updated, change.removed)
        )

    assert named(dry) == named(real)
    assert [t.name for t in dry.created] == [t.name for t in real.created]


async def test_dry_runs_answer_what_the_write_does_and_write_nothing(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale, old = await make.tags("Sale", "Old")
    await make.link(lamp, sale, old, priority=1)
    await make.link(mug, sale)
    writes: list[Write] = [
        lambda a, dry: a.add_tags(lamp, [WantedTag(sale, 3), "Fresh"], dry_run=dry),
        lambda a, dry: a.set_tags(lamp, ["Other", WantedTag(sale, 5)], dry_run=dry),
        lambda a, dry: a.remove_tags(lamp, [sale], dry_run=dry),
        lambda a, dry: a.add_products(sale, [WantedProduct(lamp, 2)], dry_run=dry),
        lambda a, dry: a.set_products(old, [mug], dry_run=dry),
        lambda a, dry: a.remove_products(sale, [mug], dry_run=dry),
    ]
    for write in writes:
        dry, real = await dry_then_real(sessions, stored, write)
        same_change(dry, real)
        assert (dry.added, dry.updated, dry.removed) != ((), (), ())


async def test_a_dry_apply_tags_answers_every_item_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale = await make.tag("Sale")
    await make.link(lamp, sale)
    items = [TagsOf(lamp, [WantedTag("New", 2)]), TagsOf(mug, [WantedTag(sale, 1)])]

    dry, real = await dry_then_real(
        sessions, stored, lambda a, d: _first(a.apply_tags(items, "set", dry_run=d))
    )

    same_change(dry, real)


async def _first(changes: Awaitable[list[Changed]]) -> Changed:
    result = await changes
    return Changed(
        added=tuple(t for c in result for t in c.added),
        updated=tuple(t for c in result for t in c.updated),
        removed=tuple(t for c in result for t in c.removed),
        created=tuple(t for c in result for t in c.created),
    )


# -- apply_tags ------------------------------------------------------------------------------


async def test_apply_tags_adds_to_each_item_and_reports_per_item(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale = await make.tag("Sale")
    await make.link(mug, sale, priority=1)

    changes = await associations.apply_tags(
        [TagsOf(lamp, [WantedTag("Sale", 2), "New"]), TagsOf(mug, [WantedTag(sale, 5)])]
    )

    new = next(t for t, name in (await stored.tags()).items() if name == "New")
    assert [(c.added, c.updated, c.removed) for c in changes] == [
        (tuple(sorted((sale, new))), (), ()),
        ((), (sale,), ()),
    ]
    assert [t.name for t in changes[0].created] == ["New"]
    rows = await stored.link_rows()
    assert {pair: row.priority for pair, row in rows.items()} == {
        (lamp, sale): 2,
        (lamp, new): 0,
        (mug, sale): 5,
    }


async def test_apply_tags_set_makes_each_products_tags_exactly_these(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, mug, vase = await make.products("Lamp", "Mug", "Vase")
    sale, old = await make.tags("Sale", "Old")
    await make.link(lamp, sale, old)
    await make.link(mug, old)
    await make.link(vase, old)  # not in the request: untouched

    changes = await associations.apply_tags([TagsOf(lamp, ["sale"]), TagsOf(mug, [])], mode="set")

    assert [(c.added, c.removed) for c in changes] == [((), (old,)), ((), (old,))]
    assert await stored.links() == {(lamp, sale), (vase, old)}


async def test_apply_tags_remove_unlinks_and_creates_no_tag(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    sale = await make.tag("Sale")
    await make.link(lamp, sale)
    await make.link(mug, sale)

    changes = await associations.apply_tags(
        [TagsOf(lamp, ["SALE", "Nowhere"]), TagsOf(mug, [])], mode="remove"
    )

    assert [c.removed for c in changes] == [(sale,), ()]
    assert await stored.links() == {(mug, sale)}
    assert await stored.tags() == {sale: "Sale"}


async def test_apply_tags_with_a_bad_item_writes_nothing_at_all(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    items = [
        TagsOf(lamp, ["Fresh"], ("items", "0", "productId"), ("items", "0", "tags")),
        TagsOf(mug, [WantedTag("ok"), WantedTag("x" * 65, at=("items", "1", "tags", "1"))]),
    ]

    with pytest.raises(Invalid) as error:
        await associations.apply_tags(items)

    assert error.value.at == ("items", "1", "tags", "1", "name")
    assert await stored.tags() == {}
    assert await stored.links() == set()


async def test_apply_tags_names_the_item_of_an_unknown_product(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp = await make.product()
    items = [
        TagsOf(lamp, ["Fresh"], ("items", "0", "productId")),
        TagsOf(MISSING, ["Fresh"], ("items", "1", "productId")),
    ]

    with pytest.raises(NotFound) as error:
        await associations.apply_tags(items)

    assert (error.value.kind, error.value.ids) == ("product", (MISSING,))
    assert error.value.at == ("items", "1", "productId")
    assert await stored.tags() == {}


async def test_apply_tags_names_the_place_of_an_unknown_tag_id(
    associations: Associations, make: Factory
) -> None:
    lamp, mug = await make.products("Lamp", "Mug")
    items = [
        TagsOf(lamp, ["Fresh"]),
        TagsOf(mug, [WantedTag("a"), WantedTag(MISSING, at=("items", "1", "tags", "1"))]),
    ]

    with pytest.raises(NotFound) as error:
        await associations.apply_tags(items)

    assert error.value.at == ("items", "1", "tags", "1", "id")


async def test_apply_tags_refuses_a_product_given_twice(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp = await make.product()
    items = [TagsOf(lamp, ["A"]), TagsOf(lamp, ["B"], ("items", "1", "productId"))]

    with pytest.raises(Invalid) as error:
        await associations.apply_tags(items)

    assert error.value.at == ("items", "1", "productId")
    assert await stored.tags() == {}


async def test_apply_tags_refuses_more_than_the_limit_of_tags_in_one_item(
    associations: Associations, make: Factory
) -> None:
    lamp = await make.product()
    names = [f"Tag {n}" for n in range(101)]

    with pytest.raises(TooMany) as error:
        await associations.apply_tags([TagsOf(lamp, names, None, ("items", "0", "tags"))])

    assert error.value.at == ("items", "0", "tags")


async def test_apply_tags_runs_the_same_statements_for_2_and_400_items_of_100_tags(
    associations: Associations, make: Factory, stored: Stored, backend: str
) -> None:
    """40,000 links: more than the bound parameters SQLite or asyncpg allow in one
    statement, were each pair a parameter; the rows travel as one parameter instead."""
    product_ids = await make.products(*(f"Product {n}" for n in range(400)))
    counts = []
    for ids in (product_ids[:2], product_ids[2:]):
        items = [TagsOf(p, [WantedTag(f"tag {n}", n) for n in range(100)]) for p in ids]
        with record_statements() as log:
            changes = await associations.apply_tags(items, "set")
        counts.append(log.count)
        assert all(len(c.added) == 100 for c in changes)
    assert len(await stored.links()) == 40_000
    # products locked, names created and read, current links, insert, the version with the
    # change log's entries (one statement on PostgreSQL, two on SQLite: db.changes)
    expected = 6 if backend == "postgres" else 7
    assert counts == [expected, expected]
