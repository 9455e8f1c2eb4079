"""The association service: the rules of the Product-Tag relation, from both sides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from db.associations import MAX_ITEMS, Associations
from db.errors import Invalid, NotFound, TooMany
from db.records import Changed, TagLinkKey
from tests.db.rows import Factory, Stored

MISSING = 999_999

# -- add_tags ----------------------------------------------------------------------------


async def test_add_tags_links_existing_tags_by_id(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")

    changed = await associations.add_tags(product, [new, sale])

    assert changed == Changed(added=tuple(sorted((sale, new))))
    assert await stored.tag_ids_of(product) == {sale, new}


async def test_add_tags_by_name_creates_missing_tags(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()

    changed = await associations.add_tags(product, ["Sale", "New"])

    tags = await stored.tags()
    assert sorted(tags.values()) == ["New", "Sale"]
    assert changed.added == tuple(sorted(tags))
    assert [(tag.id, tag.name) for tag in changed.created] == sorted(tags.items())
    assert await stored.tag_names_of(product) == {"Sale", "New"}


async def test_add_tags_mixes_ids_and_names(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    await associations.add_tags(product, ["New", sale, "Summer"])

    assert await stored.tag_names_of(product) == {"Sale", "New", "Summer"}
    assert len(await stored.tags()) == 3


async def test_add_tags_matches_names_trimmed_and_case_insensitively(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    changed = await associations.add_tags(product, ["  sALE "])

    assert changed == Changed(added=(sale,))
    assert await stored.tags() == {sale: "Sale"}


async def test_add_tags_keeps_the_first_spelling_of_a_new_name(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")

    await associations.add_tags(lamp, ["Sale", "sale ", "SALE"])
    await associations.add_tags(chair, ["sale"])

    tags = await stored.tags()
    assert list(tags.values()) == ["Sale"]
    (sale,) = tags
    assert await stored.links() == {(lamp, sale), (chair, sale)}


async def test_add_tags_treats_composed_and_decomposed_accents_as_one_name(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()

    await associations.add_tags(product, ["Caf\u00e9", "Cafe\u0301"])

    assert list((await stored.tags()).values()) == ["Caf\u00e9"]


async def test_add_tags_folds_duplicate_references(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    changed = await associations.add_tags(product, [sale, "Sale", sale, "New", "new"])

    new = next(i for i, name in (await stored.tags()).items() if name == "New")
    assert (changed.added, changed.updated, changed.removed) == (tuple(sorted((sale, new))), (), ())
    assert [tag.id for tag in changed.created] == [new]
    assert await stored.links() == {(product, sale), (product, new)}


async def test_add_tags_twice_adds_nothing_and_keeps_added_at(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    await associations.add_tags(product, ["Sale", "New"])
    before = await stored.link_rows()

    changed = await associations.add_tags(product, ["New", "sale"])

    assert changed == Changed(added=())
    assert await stored.link_rows() == before


async def test_add_tags_reports_only_the_pairs_it_added(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale)

    changed = await associations.add_tags(product, [sale, new])

    assert changed == Changed(added=(new,))
    assert await stored.tag_ids_of(product) == {sale, new}


async def test_add_tags_with_priority_updates_existing_pairs(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale, priority=1)
    before = await stored.link_rows()

    changed = await associations.add_tags(product, [sale, new], priority=7)

    rows = await stored.link_rows()
    assert changed == Changed(added=(new,), updated=(sale,))
    assert rows[(product, sale)].priority == 7
    assert rows[(product, sale)].added_at == before[(product, sale)].added_at
    assert rows[(product, new)].priority == 7


async def test_add_tags_without_priority_keeps_existing_priority(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale, priority=5)

    await associations.add_tags(product, [sale, new])

    rows = await stored.link_rows()
    assert rows[(product, sale)].priority == 5
    assert rows[(product, new)].priority == 0


async def test_add_tags_with_a_priority_beyond_32_bits_is_invalid_and_writes_nothing(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()

    with pytest.raises(Invalid) as error:
        await associations.add_tags(product, ["Sale"], priority=2**31)

    assert error.value.field == "priority"
    assert await stored.tags() == {}
    assert await stored.links() == set()


# -- set_tags ----------------------------------------------------------------------------


async def test_set_tags_writes_only_the_difference(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    old, kept, new = await make.tags("Old", "Kept", "New")
    await make.link(product, old)
    await make.link(product, kept, priority=3)
    before = await stored.link_rows()

    changed = await associations.set_tags(product, [kept, new])

    rows = await stored.link_rows()
    assert changed == Changed(added=(new,), removed=(old,))
    assert set(rows) == {(product, kept), (product, new)}
    assert rows[(product, kept)] == before[(product, kept)]
    assert rows[(product, new)].priority == 0


async def test_set_tags_by_name_creates_missing_tags_and_matches_existing_ones(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale)

    changed = await associations.set_tags(product, [" SALE", "Summer"])

    tags = await stored.tags()
    summer = next(i for i, name in tags.items() if name == "Summer")
    assert (changed.added, changed.updated, changed.removed) == ((summer,), (), ())
    assert [tag.id for tag in changed.created] == [summer]
    assert await stored.tag_ids_of(product) == {sale, summer}
    assert len(tags) == 2


async def test_set_tags_to_the_same_tags_changes_nothing(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    await associations.add_tags(product, ["Sale", "New"])
    before = await stored.link_rows()

    changed = await associations.set_tags(product, ["new", "sale"])

    assert changed == Changed()
    assert await stored.link_rows() == before


async def test_set_tags_to_nothing_removes_every_tag_of_that_product_only(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, new)
    await make.link(chair, sale)

    changed = await associations.set_tags(lamp, [])

    assert changed == Changed(removed=tuple(sorted((sale, new))))
    assert await stored.links() == {(chair, sale)}
    assert len(await stored.tags()) == 2  # tags outlive their links


# -- remove_tags -------------------------------------------------------------------------


async def test_remove_tags_unlinks_by_id_and_by_name(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, new, kept = await make.tags("Sale", "New", "Kept")
    await make.link(product, sale, new, kept)

    changed = await associations.remove_tags(product, [sale, " NEW"])

    assert changed == Changed(removed=tuple(sorted((sale, new))))
    assert await stored.tag_ids_of(product) == {kept}


async def test_remove_tags_of_a_missing_pair_is_no_error(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale, other = await make.tags("Sale", "Other")
    await make.link(product, sale)

    changed = await associations.remove_tags(product, [other])

    assert changed == Changed()
    assert await stored.links() == {(product, sale)}


async def test_remove_tags_ignores_names_matching_no_tag_and_does_not_create_them(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale)

    changed = await associations.remove_tags(product, ["Nowhere", "sale"])

    assert changed == Changed(removed=(sale,))
    assert await stored.tags() == {sale: "Sale"}
    assert await stored.links() == set()


# -- has_tags, count_tags ----------------------------------------------------------------


async def test_has_tags_all_requires_every_tag(associations: Associations, make: Factory) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale)

    assert await associations.has_tags(product, [sale, "sale "], match="all") is True
    assert await associations.has_tags(product, [sale, new], match="all") is False


async def test_has_tags_any_requires_one_tag(associations: Associations, make: Factory) -> None:
    product = await make.product()
    sale, new, other = await make.tags("Sale", "New", "Other")
    await make.link(product, sale)

    assert await associations.has_tags(product, [new, "SALE"], match="any") is True
    assert await associations.has_tags(product, [new, other], match="any") is False


async def test_has_tags_counts_unknown_tags_as_absent_without_creating_them(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale)

    assert await associations.has_tags(product, [sale, MISSING], match="all") is False
    assert await associations.has_tags(product, [sale, "Nowhere"], match="all") is False
    assert await associations.has_tags(product, [MISSING, "Nowhere", sale], match="any") is True
    assert await associations.has_tags(product, [MISSING, "Nowhere"], match="any") is False
    assert await stored.tags() == {sale: "Sale"}


async def test_has_tags_of_no_tags_is_true_for_all_and_false_for_any(
    associations: Associations, make: Factory
) -> None:
    product = await make.product()
    await make.link(product, await make.tag("Sale"))

    assert await associations.has_tags(product, [], match="all") is True
    assert await associations.has_tags(product, [], match="any") is False


async def test_count_tags_counts_the_products_own_tags(
    associations: Associations, make: Factory
) -> None:
    lamp, chair, stool = await make.products("Lamp", "Chair", "Stool")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, new)
    await make.link(chair, sale)

    assert await associations.count_tags(lamp) == 2
    assert await associations.count_tags(chair) == 1
    assert await associations.count_tags(stool) == 0


# -- tags_of -----------------------------------------------------------------------------


async def test_tags_of_orders_by_priority_descending_then_name_case_insensitively(
    associations: Associations, make: Factory
) -> None:
    product = await make.product()
    banana, apple, cherry, date = await make.tags("Banana", "apple", "Cherry", "date")
    await make.link(product, banana, apple)
    await make.link(product, cherry, priority=5)
    await make.link(product, date, priority=-1)

    page = await associations.tags_of(product)

    assert [link.tag.name for link in page.items] == ["Cherry", "apple", "Banana", "date"]
    assert [link.priority for link in page.items] == [5, 0, 0, -1]
    assert page.has_next is False


async def test_tags_of_pages_to_the_end_returning_every_tag_exactly_once(
    associations: Associations, make: Factory
) -> None:
    product = await make.product()
    tag_ids = await make.tags(*(f"Tag {n:02}" for n in range(23)))
    for n, tag_id in enumerate(tag_ids):
        await make.link(product, tag_id, priority=n % 3)
    expected = sorted(tag_ids, key=lambda t: (-(tag_ids.index(t) % 3), tag_ids.index(t)))

    seen: list[int] = []
    pages = 0
    after: TagLinkKey | None = None
    while True:
        page = await associations.tags_of(product, first=5, after=after)
        pages += 1
        seen.extend(link.tag.id for link in page.items)
        if not page.has_next:
            break
        assert len(page.items) == 5
        last = page.items[-1]
        after = TagLinkKey(last.priority, last.tag.name_key, last.tag.id)

    assert seen == expected
    assert pages == 5


async def test_tags_of_an_untagged_product_is_an_empty_last_page(
    associations: Associations, make: Factory
) -> None:
    product = await make.product()

    page = await associations.tags_of(product)

    assert list(page.items) == []
    assert page.has_next is False


# -- tag side ----------------------------------------------------------------------------


async def test_add_products_links_products_to_a_tag_folding_duplicates(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale = await make.tag("Sale")

    changed = await associations.add_products(sale, [chair, lamp, chair])

    assert changed == Changed(added=tuple(sorted((lamp, chair))))
    assert await stored.links() == {(lamp, sale), (chair, sale)}


async def test_add_products_twice_adds_nothing_and_keeps_added_at(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale = await make.tag("Sale")
    await associations.add_products(sale, [lamp])
    before = await stored.link_rows()

    changed = await associations.add_products(sale, [lamp, chair])

    rows = await stored.link_rows()
    assert changed == Changed(added=(chair,))
    assert rows[(lamp, sale)] == before[(lamp, sale)]


async def test_add_products_with_priority_updates_existing_pairs(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale = await make.tag("Sale")
    await make.link(lamp, sale, priority=2)

    changed = await associations.add_products(sale, [lamp, chair], priority=9)

    rows = await stored.link_rows()
    assert changed == Changed(added=(chair,), updated=(lamp,))
    assert rows[(lamp, sale)].priority == 9
    assert rows[(chair, sale)].priority == 9


async def test_set_products_writes_only_the_difference(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    old, kept, new = await make.products("Old", "Kept", "New")
    sale = await make.tag("Sale")
    await make.link(old, sale)
    await make.link(kept, sale, priority=4)
    before = await stored.link_rows()

    changed = await associations.set_products(sale, [new, kept])

    rows = await stored.link_rows()
    assert changed == Changed(added=(new,), removed=(old,))
    assert set(rows) == {(kept, sale), (new, sale)}
    assert rows[(kept, sale)] == before[(kept, sale)]


async def test_remove_products_unlinks_and_ignores_absent_pairs(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    lamp, chair, stool = await make.products("Lamp", "Chair", "Stool")
    sale = await make.tag("Sale")
    await make.link(lamp, sale)
    await make.link(chair, sale)

    changed = await associations.remove_products(sale, [lamp, stool])

    assert changed == Changed(removed=(lamp,))
    assert await stored.links() == {(chair, sale)}


async def test_count_products_counts_the_tags_own_products(
    associations: Associations, make: Factory
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale, new, unused = await make.tags("Sale", "New", "Unused")
    await make.link(lamp, sale, new)
    await make.link(chair, sale)

    assert await associations.count_products(sale) == 2
    assert await associations.count_products(new) == 1
    assert await associations.count_products(unused) == 0


async def test_products_of_pages_by_product_id_to_the_end(
    associations: Associations, make: Factory
) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(7)))
    sale = await make.tag("Sale")
    for product_id in reversed(product_ids):
        await make.link(product_id, sale)

    first = await associations.products_of(sale, first=3)
    second = await associations.products_of(sale, first=3, after=first.items[-1].product.id)
    last = await associations.products_of(sale, first=3, after=second.items[-1].product.id)

    pages = [first, second, last]
    assert [[link.product.id for link in page.items] for page in pages] == [
        product_ids[0:3],
        product_ids[3:6],
        product_ids[6:7],
    ]
    assert [page.has_next for page in pages] == [True, True, False]


# -- refusals ----------------------------------------------------------------------------

ProductWrite = Callable[[Associations, int, list[int | str]], Awaitable[Changed]]
PRODUCT_WRITES: dict[str, ProductWrite] = {
    "add_tags": lambda a, p, refs: a.add_tags(p, refs),
    "set_tags": lambda a, p, refs: a.set_tags(p, refs),
    "remove_tags": lambda a, p, refs: a.remove_tags(p, refs),
}
TagWrite = Callable[[Associations, int, list[int]], Awaitable[Changed]]
TAG_WRITES: dict[str, TagWrite] = {
    "add_products": lambda a, t, ids: a.add_products(t, ids),
    "set_products": lambda a, t, ids: a.set_products(t, ids),
    "remove_products": lambda a, t, ids: a.remove_products(t, ids),
}


@pytest.mark.parametrize("write", PRODUCT_WRITES)
async def test_more_than_the_limit_of_tag_references_is_too_many_and_writes_nothing(
    associations: Associations, make: Factory, stored: Stored, write: str
) -> None:
    product = await make.product()
    refs: list[int | str] = [f"Tag {n}" for n in range(MAX_ITEMS + 1)]

    with pytest.raises(TooMany) as error:
        await PRODUCT_WRITES[write](associations, product, refs)

    assert (error.value.limit, error.value.given) == (MAX_ITEMS, MAX_ITEMS + 1)
    assert await stored.tags() == {}


async def test_exactly_the_limit_of_tag_references_is_accepted(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()

    changed = await associations.add_tags(product, [f"Tag {n}" for n in range(MAX_ITEMS)])

    assert len(changed.added) == MAX_ITEMS
    assert len(await stored.links()) == MAX_ITEMS


@pytest.mark.parametrize("write", TAG_WRITES)
async def test_more_than_the_limit_of_product_references_is_too_many(
    associations: Associations, make: Factory, stored: Stored, write: str
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")

    with pytest.raises(TooMany) as error:
        await TAG_WRITES[write](associations, sale, [product] * (MAX_ITEMS + 1))

    assert (error.value.field, error.value.limit) == ("products", MAX_ITEMS)
    assert await stored.links() == set()


@pytest.mark.parametrize("write", PRODUCT_WRITES)
async def test_unknown_tag_ids_fail_naming_every_one_and_write_nothing(
    associations: Associations, make: Factory, stored: Stored, write: str
) -> None:
    product = await make.product()
    sale, new = await make.tags("Sale", "New")
    await make.link(product, sale)
    tags_before, links_before = await stored.tags(), await stored.link_rows()

    with pytest.raises(NotFound) as error:
        await PRODUCT_WRITES[write](
            associations, product, [MISSING + 1, new, "Fresh", MISSING, MISSING + 1]
        )

    assert (error.value.kind, error.value.ids) == ("tag", (MISSING, MISSING + 1))
    assert await stored.tags() == tags_before
    assert await stored.link_rows() == links_before


@pytest.mark.parametrize("write", TAG_WRITES)
async def test_unknown_product_ids_fail_naming_every_one_and_write_nothing(
    associations: Associations, make: Factory, stored: Stored, write: str
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale = await make.tag("Sale")
    await make.link(lamp, sale)
    before = await stored.link_rows()

    with pytest.raises(NotFound) as error:
        await TAG_WRITES[write](associations, sale, [chair, MISSING, lamp, MISSING + 1])

    assert (error.value.kind, error.value.ids) == ("product", (MISSING, MISSING + 1))
    assert await stored.link_rows() == before


@pytest.mark.parametrize("write", PRODUCT_WRITES)
async def test_writing_tags_of_an_unknown_product_is_not_found_and_creates_no_tag(
    associations: Associations, stored: Stored, write: str
) -> None:
    with pytest.raises(NotFound) as error:
        await PRODUCT_WRITES[write](associations, MISSING, ["Fresh"])

    assert (error.value.kind, error.value.ids) == ("product", (MISSING,))
    assert await stored.tags() == {}


async def test_reading_tags_of_an_unknown_product_is_not_found(
    associations: Associations,
) -> None:
    reads: list[Callable[[], Awaitable[object]]] = [
        lambda: associations.has_tags(MISSING, []),
        lambda: associations.count_tags(MISSING),
        lambda: associations.tags_of(MISSING),
    ]
    for read in reads:
        with pytest.raises(NotFound) as error:
            await read()
        assert (error.value.kind, error.value.ids) == ("product", (MISSING,))


@pytest.mark.parametrize("write", TAG_WRITES)
async def test_writing_products_of_an_unknown_tag_is_not_found(
    associations: Associations, make: Factory, write: str
) -> None:
    product = await make.product()

    with pytest.raises(NotFound) as error:
        await TAG_WRITES[write](associations, MISSING, [product])

    assert (error.value.kind, error.value.ids) == ("tag", (MISSING,))


async def test_reading_products_of_an_unknown_tag_is_not_found(
    associations: Associations,
) -> None:
    reads: list[Callable[[], Awaitable[object]]] = [
        lambda: associations.count_products(MISSING),
        lambda: associations.products_of(MISSING),
    ]
    for read in reads:
        with pytest.raises(NotFound) as error:
            await read()
        assert (error.value.kind, error.value.ids) == ("tag", (MISSING,))


@pytest.mark.parametrize(
    "bad_name",
    ["", "   ", "x" * 65, "a\x00b", "tab\tinside", "\x7f"],
    ids=["empty", "blank", "too-long", "nul", "tab", "del"],
)
@pytest.mark.parametrize("write", ["add_tags", "set_tags"])
async def test_invalid_tag_names_are_refused_and_nothing_is_written(
    associations: Associations, make: Factory, stored: Stored, write: str, bad_name: str
) -> None:
    product = await make.product()
    sale = await make.tag("Sale")
    await make.link(product, sale)
    before = await stored.link_rows()

    with pytest.raises(Invalid) as error:
        await PRODUCT_WRITES[write](associations, product, ["Fresh", bad_name])

    assert error.value.field == "tags"
    assert await stored.tags() == {sale: "Sale"}
    assert await stored.link_rows() == before


async def test_a_tag_name_of_exactly_64_characters_is_accepted(
    associations: Associations, make: Factory, stored: Stored
) -> None:
    product = await make.product()
    name = "x" * 64

    await associations.add_tags(product, [f"  {name}  "])

    assert list((await stored.tags()).values()) == [name]
