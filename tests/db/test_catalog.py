"""The catalog service: products and tags themselves, and listing them."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db import readers
from db.associations import MAX_ITEMS
from db.catalog import Catalog, ProductFilter
from db.errors import Conflict, Invalid, NotFound, TooMany
from db.paging import Key, Slice
from db.records import Changed
from tests.db.rows import Factory, Stored

MISSING = 999_999

# -- products ----------------------------------------------------------------------------


async def test_create_product_trims_the_name_and_returns_what_was_stored(
    catalog: Catalog, session: AsyncSession, stored: Stored
) -> None:
    product, changed = await catalog.create_product("  Desk Lamp \n")

    assert product.name == "Desk Lamp"
    assert changed == Changed()
    assert await stored.products() == {product.id: "Desk Lamp"}
    assert (await readers.products_by_ids(session, [product.id]))[product.id] == product


async def test_create_product_with_tags_links_them(
    catalog: Catalog, make: Factory, stored: Stored
) -> None:
    sale = await make.tag("Sale")

    product, changed = await catalog.create_product("Lamp", [sale, "New", "sale"])

    new = next(i for i, name in (await stored.tags()).items() if name == "New")
    assert changed.added == tuple(sorted((sale, new)))
    assert [tag.id for tag in changed.created] == [new]
    assert await stored.links() == {(product.id, sale), (product.id, new)}


async def test_create_product_with_an_unknown_tag_id_creates_neither_product_nor_tags(
    catalog: Catalog, stored: Stored
) -> None:
    with pytest.raises(NotFound) as error:
        await catalog.create_product("Lamp", ["Fresh", MISSING])

    assert error.value.ids == (MISSING,)
    assert await stored.products() == {}
    assert await stored.tags() == {}


async def test_create_product_with_an_invalid_tag_name_creates_nothing(
    catalog: Catalog, stored: Stored
) -> None:
    with pytest.raises(Invalid):
        await catalog.create_product("Lamp", ["Fresh", ""])

    assert await stored.products() == {}
    assert await stored.tags() == {}


async def test_create_product_with_too_many_tags_creates_nothing(
    catalog: Catalog, stored: Stored
) -> None:
    with pytest.raises(TooMany):
        await catalog.create_product("Lamp", [f"Tag {n}" for n in range(MAX_ITEMS + 1)])

    assert await stored.products() == {}


@pytest.mark.parametrize(
    "bad_name", ["", "  \t ", "x" * 201, "Lamp\x00"], ids=["empty", "blank", "too-long", "nul"]
)
async def test_create_product_refuses_an_invalid_name(
    catalog: Catalog, stored: Stored, bad_name: str
) -> None:
    with pytest.raises(Invalid) as error:
        await catalog.create_product(bad_name)

    assert error.value.field == "name"
    assert await stored.products() == {}


async def test_create_product_accepts_a_name_of_exactly_200_characters(
    catalog: Catalog, stored: Stored
) -> None:
    product, _ = await catalog.create_product("x" * 200)

    assert await stored.products() == {product.id: "x" * 200}


async def test_update_product_renames_it_and_moves_updated_at(
    catalog: Catalog, session: AsyncSession
) -> None:
    product, _ = await catalog.create_product("Lamp")

    updated = await catalog.update_product(product.id, name=" Desk Lamp ")

    assert updated.name == "Desk Lamp"
    assert updated.created_at == product.created_at
    assert updated.updated_at > product.updated_at
    assert (await readers.products_by_ids(session, [product.id]))[product.id] == updated


async def test_update_product_without_a_name_changes_nothing(
    catalog: Catalog, session: AsyncSession
) -> None:
    product, _ = await catalog.create_product("Lamp")

    updated = await catalog.update_product(product.id)

    assert updated == product
    assert (await readers.products_by_ids(session, [product.id]))[product.id] == product


async def test_update_product_with_an_invalid_name_keeps_the_old_one(
    catalog: Catalog, stored: Stored
) -> None:
    product, _ = await catalog.create_product("Lamp")

    with pytest.raises(Invalid):
        await catalog.update_product(product.id, name="   ")

    assert await stored.products() == {product.id: "Lamp"}


async def test_update_of_an_unknown_product_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound) as error:
        await catalog.update_product(MISSING, name="Lamp")

    assert (error.value.kind, error.value.ids) == ("product", (MISSING,))


async def test_delete_product_removes_it_and_only_its_links(
    catalog: Catalog, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, new)
    await make.link(chair, sale)

    await catalog.delete_product(lamp)

    assert await stored.products() == {chair: "Chair"}
    assert await stored.links() == {(chair, sale)}
    assert set(await stored.tags()) == {sale, new}


async def test_delete_of_an_unknown_product_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound):
        await catalog.delete_product(MISSING)


async def test_a_deleted_products_id_is_never_reused(catalog: Catalog) -> None:
    first, _ = await catalog.create_product("Lamp")
    await catalog.delete_product(first.id)

    second, _ = await catalog.create_product("Lamp")

    assert second.id > first.id


# -- tags --------------------------------------------------------------------------------


async def test_create_tag_trims_the_name_and_keys_it_case_insensitively(
    catalog: Catalog, stored: Stored
) -> None:
    tag = await catalog.create_tag("  Summer Sale ")

    assert (tag.name, tag.name_key) == ("Summer Sale", "summer sale")
    assert await stored.tags() == {tag.id: "Summer Sale"}


async def test_create_tag_with_a_taken_name_in_any_case_is_a_conflict(
    catalog: Catalog, stored: Stored
) -> None:
    sale = await catalog.create_tag("Sale")

    with pytest.raises(Conflict) as error:
        await catalog.create_tag(" SALE")

    assert (error.value.field, error.value.name) == ("name", "SALE")
    assert await stored.tags() == {sale.id: "Sale"}


async def test_update_tag_renames_it(catalog: Catalog, stored: Stored) -> None:
    tag = await catalog.create_tag("Sale")

    renamed = await catalog.update_tag(tag.id, name=" Clearance ")

    assert (renamed.id, renamed.name, renamed.name_key) == (tag.id, "Clearance", "clearance")
    assert await stored.tags() == {tag.id: "Clearance"}


async def test_update_tag_to_another_tags_name_is_a_conflict(
    catalog: Catalog, stored: Stored
) -> None:
    sale = await catalog.create_tag("Sale")
    new = await catalog.create_tag("New")

    with pytest.raises(Conflict) as error:
        await catalog.update_tag(new.id, name="sale")

    assert error.value.name == "sale"
    assert await stored.tags() == {sale.id: "Sale", new.id: "New"}


async def test_update_tag_to_a_case_variant_of_its_own_name_is_allowed(
    catalog: Catalog, stored: Stored
) -> None:
    tag = await catalog.create_tag("Sale")

    renamed = await catalog.update_tag(tag.id, name="SALE")

    assert (renamed.name, renamed.name_key) == ("SALE", "sale")
    assert await stored.tags() == {tag.id: "SALE"}


async def test_update_tag_without_a_name_keeps_it(catalog: Catalog) -> None:
    tag = await catalog.create_tag("Sale")

    assert await catalog.update_tag(tag.id) == tag


async def test_update_of_an_unknown_tag_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound) as error:
        await catalog.update_tag(MISSING, name="Sale")

    assert (error.value.kind, error.value.ids) == ("tag", (MISSING,))


async def test_delete_tag_removes_it_and_only_its_links(
    catalog: Catalog, make: Factory, stored: Stored
) -> None:
    lamp, chair = await make.products("Lamp", "Chair")
    sale, new = await make.tags("Sale", "New")
    await make.link(lamp, sale, new)
    await make.link(chair, sale)

    await catalog.delete_tag(sale)

    assert await stored.tags() == {new: "New"}
    assert await stored.links() == {(lamp, new)}
    assert set(await stored.products()) == {lamp, chair}


async def test_delete_of_an_unknown_tag_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound):
        await catalog.delete_tag(MISSING)


async def test_tag_by_name_finds_it_trimmed_and_case_insensitively(catalog: Catalog) -> None:
    sale = await catalog.create_tag("Sale")

    assert await catalog.tag_by_name("  sALE ") == sale
    assert await catalog.tag_by_name("Nowhere") is None


# -- listing products --------------------------------------------------------------------


class Shop:
    """Four products and two tags: Red Lamp (sale, new), Blue Lamp (sale), Chair (new), Stool."""

    def __init__(self, red: int, blue: int, chair: int, stool: int, sale: int, new: int) -> None:
        self.red, self.blue, self.chair, self.stool = red, blue, chair, stool
        self.sale, self.new = sale, new


@pytest.fixture
async def shop(make: Factory) -> Shop:
    red, blue, chair, stool = await make.products("Red Lamp", "Blue LAMP", "Chair", "Stool")
    sale, new = await make.tags("Sale", "New")
    await make.link(red, sale, new)
    await make.link(blue, sale)
    await make.link(chair, new)
    return Shop(red, blue, chair, stool, sale, new)


async def listed(catalog: Catalog, where: ProductFilter) -> list[int]:
    page = await catalog.products_page(Slice(50), where=where)
    assert page.has_next is False
    assert await catalog.count_products(where) == len(page.items)
    return [product.id for product in page.items]


async def test_products_filter_by_name_is_a_case_insensitive_substring(
    catalog: Catalog, shop: Shop
) -> None:
    assert await listed(catalog, ProductFilter(name_contains="lamp")) == [shop.red, shop.blue]


async def test_products_filter_by_name_takes_wildcards_literally(
    catalog: Catalog, make: Factory
) -> None:
    cotton, _ = await make.products("100% Cotton", "1000 Cotton")
    under, _ = await make.products("snake_case", "snakeXcase")

    assert await listed(catalog, ProductFilter(name_contains="0%")) == [cotton]
    assert await listed(catalog, ProductFilter(name_contains="e_c")) == [under]


async def test_products_filter_any_tags_keeps_products_with_one_of_them(
    catalog: Catalog, shop: Shop
) -> None:
    where = ProductFilter(any_tags=(shop.sale, shop.new))

    assert await listed(catalog, where) == [shop.red, shop.blue, shop.chair]


async def test_products_filter_any_of_no_tags_keeps_nothing(catalog: Catalog, shop: Shop) -> None:
    assert await listed(catalog, ProductFilter(any_tags=())) == []


async def test_products_filter_all_tags_keeps_products_with_every_one(
    catalog: Catalog, shop: Shop
) -> None:
    where = ProductFilter(all_tags=(shop.sale, shop.new, shop.sale))

    assert await listed(catalog, where) == [shop.red]


async def test_products_filter_none_tags_keeps_products_with_none_of_them(
    catalog: Catalog, shop: Shop
) -> None:
    assert await listed(catalog, ProductFilter(none_tags=(shop.sale,))) == [shop.chair, shop.stool]


async def test_products_filters_combine(catalog: Catalog, shop: Shop) -> None:
    where = ProductFilter(name_contains="LAMP", any_tags=(shop.sale,), none_tags=(shop.new,))

    assert await listed(catalog, where) == [shop.blue]


async def test_products_filter_with_too_many_tags_is_refused(catalog: Catalog) -> None:
    where = ProductFilter(all_tags=tuple(range(1, MAX_ITEMS + 2)))

    with pytest.raises(TooMany) as error:
        await catalog.products_page(Slice(10), where=where)

    assert error.value.field == "tags.all"


async def test_products_page_pages_by_id_to_the_end(catalog: Catalog, make: Factory) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(7)))

    seen: list[int] = []
    after: Key | None = None
    has_next = True
    while has_next:
        page = await catalog.products_page(Slice(3, after=after))
        seen.extend(product.id for product in page.items)
        has_next = page.has_next
        after = (page.items[-1].id,)

    assert seen == product_ids
    assert await catalog.count_products() == 7


async def test_products_page_pages_a_filtered_listing(catalog: Catalog, shop: Shop) -> None:
    where = ProductFilter(any_tags=(shop.sale, shop.new))

    first = await catalog.products_page(Slice(2), where=where)
    rest = await catalog.products_page(Slice(2, after=(first.items[-1].id,)), where=where)

    assert [p.id for p in first.items] == [shop.red, shop.blue]
    assert first.has_next is True
    assert [p.id for p in rest.items] == [shop.chair]
    assert rest.has_next is False


# -- listing tags ------------------------------------------------------------------------


async def test_tags_page_orders_by_name_case_insensitively_and_pages_to_the_end(
    catalog: Catalog, make: Factory
) -> None:
    names = ["banana", "Apple", "cherry", "Date", "apricot", "Elder", "fig", "Grape"]
    await make.tags(*names)

    seen: list[str] = []
    after: Key | None = None
    pages = 0
    while True:
        page = await catalog.tags_page(Slice(3, after=after))
        pages += 1
        seen.extend(tag.name for tag in page.items)
        if not page.has_next:
            break
        last = page.items[-1]
        after = (last.name_key, last.id)

    assert seen == sorted(names, key=str.casefold)
    assert pages == 3
    assert await catalog.count_tags() == len(names)


async def test_tags_filter_by_name_is_a_case_insensitive_substring(
    catalog: Catalog, make: Factory
) -> None:
    await make.tags("Summer Sale", "SALES", "New", "100%", "1000")

    page = await catalog.tags_page(Slice(10), name_contains=" sale")

    assert [tag.name for tag in page.items] == ["SALES", "Summer Sale"]
    assert await catalog.count_tags(name_contains="sale") == 2
    assert [t.name for t in (await catalog.tags_page(Slice(10), name_contains="0%")).items] == [
        "100%"
    ]


async def test_tags_page_orders_keys_by_code_point_on_every_database(
    catalog: Catalog, make: Factory
) -> None:
    names = ["a-b", "ab", "a b", "a_b", "Zed", "éclair", "apple", "Ä"]
    await make.tags(*names)

    page = await catalog.tags_page(Slice(len(names)))

    assert [tag.name for tag in page.items] == sorted(names, key=str.casefold)
