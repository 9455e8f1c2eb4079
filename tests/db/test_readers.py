"""Batch readers: one statement whatever the number of parents, and correct pages per parent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import orders, readers
from db.models import product_tags, products, tags, utcnow
from db.paging import LinkConditions, Order, Range, Slice
from db.statements import record_statements

RING = 500


@dataclass(frozen=True)
class Ring:
    """RING products and RING tags; product i carries tags i, i+1, i+2 (mod RING), the tag
    at offset k with priority k, so each product has 3 tags and each tag 3 products.
    One more product has no tags and one more tag has no products."""

    product_ids: list[int]
    tag_ids: list[int]
    untagged: int
    unused: int

    def tags_of(self, i: int) -> list[int]:
        """Product i's tags in page order: priority DESC."""
        return [self.tag_ids[(i + k) % RING] for k in (2, 1, 0)]

    def products_of(self, j: int) -> list[int]:
        """Tag j's products in page order: product id ascending."""
        return sorted(self.product_ids[(j - k) % RING] for k in (0, 1, 2))


@pytest.fixture
async def ring(session: AsyncSession) -> Ring:
    now = utcnow()
    async with session.begin():
        await session.execute(
            insert(products),
            [{"name": f"Product {i:03}", "created_at": now, "updated_at": now} for i in range(RING)]
            + [{"name": "Untagged", "created_at": now, "updated_at": now}],
        )
        await session.execute(
            insert(tags),
            [
                {"name": f"Tag {i:03}", "name_key": f"tag {i:03}", "created_at": now}
                for i in range(RING)
            ]
            + [{"name": "Unused", "name_key": "unused", "created_at": now}],
        )
        product_ids = list((await session.execute(select(products.c.id).order_by("id"))).scalars())
        tag_ids = list((await session.execute(select(tags.c.id).order_by("name_key"))).scalars())
        await session.execute(
            insert(product_tags),
            [
                {
                    "product_id": product_ids[i],
                    "tag_id": tag_ids[(i + k) % RING],
                    "priority": k,
                    "added_at": now,
                }
                for i in range(RING)
                for k in range(3)
            ],
        )
    return Ring(product_ids[:RING], tag_ids[:RING], product_ids[RING], tag_ids[RING])


Read = Callable[[AsyncSession, Ring, int], Awaitable[dict[Any, Any]]]
READERS: dict[str, Read] = {
    "tags_for_products": lambda s, r, n: readers.tags_for_products(s, r.product_ids[:n], Slice(2)),
    "products_for_tags": lambda s, r, n: readers.products_for_tags(s, r.tag_ids[:n], Slice(2)),
    "tag_counts": lambda s, r, n: readers.tag_counts(s, r.product_ids[:n]),
    "product_counts": lambda s, r, n: readers.product_counts(s, r.tag_ids[:n]),
    "tag_ids_among": lambda s, r, n: readers.tag_ids_among(s, r.product_ids[:n], r.tag_ids),
    "tags_by_ids": lambda s, r, n: readers.tags_by_ids(s, r.tag_ids[:n]),
    "tags_by_keys": lambda s, r, n: readers.tags_by_keys(s, [f"tag {i:03}" for i in range(n)]),
    "products_by_ids": lambda s, r, n: readers.products_by_ids(s, r.product_ids[:n]),
}


@pytest.mark.parametrize("parents", [1, RING])
@pytest.mark.parametrize("reader", READERS)
async def test_each_batch_reader_runs_one_statement_whatever_the_number_of_parents(
    session: AsyncSession, ring: Ring, reader: str, parents: int
) -> None:
    with record_statements() as log:
        result = await READERS[reader](session, ring, parents)

    assert log.count == 1, log.statements
    assert len(result) == parents


@pytest.mark.postgres_only
@pytest.mark.parametrize("reader", ["products_by_ids", "tags_by_ids", "tags_by_keys"])
async def test_a_lookup_by_keys_sends_the_same_sql_for_any_number_of_keys(
    session: AsyncSession, ring: Ring, reader: str
) -> None:
    with record_statements() as log:
        one = await READERS[reader](session, ring, 1)
        many = await READERS[reader](session, ring, RING)

    assert (len(one), len(many)) == (1, RING)
    assert log.statements[0] == log.statements[1], log.statements


async def test_tags_for_products_gives_each_product_its_first_tags_and_whether_more_follow(
    session: AsyncSession, ring: Ring
) -> None:
    some = [0, 7, RING - 1]

    pages = await readers.tags_for_products(session, [ring.product_ids[i] for i in some], Slice(2))

    for i in some:
        links, has_next = pages[ring.product_ids[i]]
        assert [link.tag.id for link in links] == ring.tags_of(i)[:2]
        assert [link.priority for link in links] == [2, 1]
        assert has_next is True


async def test_tags_for_products_says_a_complete_page_is_the_last(
    session: AsyncSession, ring: Ring
) -> None:
    pages = await readers.tags_for_products(session, ring.product_ids[:3], Slice(3))

    for i in range(3):
        links, has_next = pages[ring.product_ids[i]]
        assert [link.tag.id for link in links] == ring.tags_of(i)
        assert has_next is False


async def test_tags_for_products_resumes_every_product_after_the_cursor(
    session: AsyncSession, ring: Ring
) -> None:
    first = await readers.tags_for_products(session, ring.product_ids[:2], Slice(1))
    (link,), _ = first[ring.product_ids[0]]
    after = (link.priority, link.tag.name_key, link.tag.id)

    pages = await readers.tags_for_products(session, ring.product_ids[:2], Slice(5, after=after))

    # Both products' top tag has priority 2; the cursor sits at product 0's, and product 1's
    # sorts after it by name, so product 1 keeps all three.
    assert [li.tag.id for li in pages[ring.product_ids[0]][0]] == ring.tags_of(0)[1:]
    assert [li.tag.id for li in pages[ring.product_ids[1]][0]] == ring.tags_of(1)
    assert pages[ring.product_ids[0]][1] is False


async def test_tags_for_products_leaves_out_products_without_tags(
    session: AsyncSession, ring: Ring
) -> None:
    pages = await readers.tags_for_products(
        session, [ring.untagged, ring.product_ids[0]], Slice(10)
    )

    assert set(pages) == {ring.product_ids[0]}


async def test_products_for_tags_gives_each_tag_its_first_products_and_whether_more_follow(
    session: AsyncSession, ring: Ring
) -> None:
    some = [0, 1, 250]

    pages = await readers.products_for_tags(session, [ring.tag_ids[j] for j in some], Slice(2))
    complete = await readers.products_for_tags(session, [ring.tag_ids[j] for j in some], Slice(3))

    for j in some:
        links, has_next = pages[ring.tag_ids[j]]
        assert [link.product.id for link in links] == ring.products_of(j)[:2]
        assert has_next is True
        links, has_next = complete[ring.tag_ids[j]]
        assert [link.product.id for link in links] == ring.products_of(j)
        assert has_next is False


async def test_products_for_tags_resumes_after_a_product_id(
    session: AsyncSession, ring: Ring
) -> None:
    tag = ring.tag_ids[5]
    expected = ring.products_of(5)

    pages = await readers.products_for_tags(
        session, [tag, ring.unused], Slice(1, after=(expected[0],))
    )

    assert set(pages) == {tag}
    links, has_next = pages[tag]
    assert [link.product.id for link in links] == expected[1:2]
    assert has_next is True


async def test_counts_leave_out_parents_with_nothing(session: AsyncSession, ring: Ring) -> None:
    tag_counts = await readers.tag_counts(session, [ring.product_ids[0], ring.untagged])
    product_counts = await readers.product_counts(session, [ring.tag_ids[0], ring.unused])

    assert tag_counts == {ring.product_ids[0]: 3}
    assert product_counts == {ring.tag_ids[0]: 3}


async def test_tag_ids_among_gives_each_product_the_asked_tags_it_has(
    session: AsyncSession, ring: Ring
) -> None:
    asked = [ring.tag_ids[1], ring.tag_ids[2], ring.tag_ids[100], ring.unused]

    found = await readers.tag_ids_among(
        session, [ring.product_ids[0], ring.product_ids[99], ring.untagged], asked
    )

    assert dict(found) == {
        ring.product_ids[0]: {ring.tag_ids[1], ring.tag_ids[2]},
        ring.product_ids[99]: {ring.tag_ids[100]},
    }


async def test_lookups_by_id_leave_out_missing_ids(session: AsyncSession, ring: Ring) -> None:
    missing = 999_999

    found_tags = await readers.tags_by_ids(session, [ring.tag_ids[3], missing])
    found_products = await readers.products_by_ids(session, [ring.product_ids[3], missing])
    found_keys = await readers.tags_by_keys(session, ["tag 003", "nowhere"])

    assert {t.id: t.name for t in found_tags.values()} == {ring.tag_ids[3]: "Tag 003"}
    assert {p.id: p.name for p in found_products.values()} == {ring.product_ids[3]: "Product 003"}
    assert {k: t.id for k, t in found_keys.items()} == {"tag 003": ring.tag_ids[3]}


LINK_ORDERS = [
    ("tags_for_products", field, descending, backward)
    for field in orders.TAG_LINKS
    for descending in (False, True)
    for backward in (False, True)
] + [
    ("products_for_tags", field, descending, backward)
    for field in orders.PRODUCT_LINKS
    for descending in (False, True)
    for backward in (False, True)
]


@pytest.mark.parametrize("parents", [1, RING])
@pytest.mark.parametrize(("reader", "field", "descending", "backward"), LINK_ORDERS)
async def test_each_order_and_direction_is_one_statement_with_pages_in_that_order(
    session: AsyncSession,
    ring: Ring,
    reader: str,
    field: str,
    descending: bool,
    backward: bool,
    parents: int,
) -> None:
    order = Order(field, descending)
    where = LinkConditions(priority=Range(gte=1))  # offsets 1 and 2 of each parent's three
    sorts = orders.TAG_LINKS if reader == "tags_for_products" else orders.PRODUCT_LINKS
    read = readers.tags_for_products if reader == "tags_for_products" else readers.products_for_tags
    parent_ids = (ring.product_ids if reader == "tags_for_products" else ring.tag_ids)[:parents]

    with record_statements() as log:
        pages = await read(session, parent_ids, Slice(1, backward=backward), order, where)
    complete = await read(session, parent_ids, Slice(5), order, where)

    assert log.count == 1, log.statements
    assert len(pages) == parents
    key = sorts[field].key
    for parent_id in parent_ids:
        links, _ = complete[parent_id]
        assert len(links) == 2 and all(link.priority >= 1 for link in links)
        keys = [key(link) for link in links]
        # the first column in the asked direction, the rest (the ties) ascending
        expected = sorted(keys, key=lambda k: k[1:])
        expected = sorted(expected, key=lambda k: k[0], reverse=descending)
        assert keys == expected
        (only,), more = pages[parent_id]
        assert key(only) == (keys[-1] if backward else keys[0])
        assert more is True
