"""Real races: many writers at once, each in a session (and connection) of its own.

PostgreSQL runs 20 writers at a time; SQLite, where writers queue one by one behind
BEGIN IMMEDIATE and the busy timeout, runs 5 to keep the suite quick.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.associations import Associations
from db.catalog import Catalog
from db.errors import Conflict
from db.records import Changed, TagRecord
from tests.db.rows import Factory, Stored

R = TypeVar("R")
COLOURS = ["Red", "Green", "Blue", "Cyan", "Magenta", "Yellow", "Black", "White"]


@pytest.fixture
def writers(backend: str) -> int:
    return 20 if backend == "postgres" else 5


async def all_at_once(
    sessions: async_sessionmaker[AsyncSession],
    requests: Sequence[R],
    call: Callable[[Associations, R], Awaitable[Changed]],
) -> list[Changed]:
    """Make the call for every request at the same time, each with its own session.

    Fails if any call failed; else the calls' results, in the order of the requests.
    """

    async def run(request: R) -> Changed:
        async with sessions() as session:
            return await call(Associations(session), request)

    results = await asyncio.gather(*(run(r) for r in requests), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    return [r for r in results if isinstance(r, Changed)]


def one_after_another(requested: list[frozenset[int]], results: list[Changed]) -> frozenset[int]:
    """The final set, checking the calls' reports chain up as if they ran one at a time.

    Each call's report tells the state it saw: (its set - added) | removed. Run serially
    from no tags, every state but the last is seen by exactly one call.
    """
    seen_by: dict[frozenset[int], frozenset[int]] = {}
    for wanted, changed in zip(requested, results, strict=True):
        assert set(changed.added) <= wanted
        assert not set(changed.removed) & wanted
        before = (wanted - set(changed.added)) | set(changed.removed)
        assert before not in seen_by, "two writers saw the same state"
        seen_by[before] = wanted
    state: frozenset[int] = frozenset()
    while state in seen_by:
        state = seen_by.pop(state)
    assert seen_by == {}, "the reports do not chain into one serial order"
    return state


async def test_concurrent_set_tags_on_one_product_end_as_exactly_one_requested_set(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored, writers: int
) -> None:
    product = await make.product()
    tag_ids = await make.tags(*COLOURS)
    requested = [frozenset(c) for c in itertools.combinations(tag_ids, 3)][:writers]

    results = await all_at_once(
        sessions, requested, lambda a, wanted: a.set_tags(product, sorted(wanted))
    )

    final = one_after_another(requested, results)
    assert final in requested
    assert await stored.tag_ids_of(product) == final


async def test_concurrent_add_tags_with_overlapping_new_names_create_each_tag_once(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored, writers: int
) -> None:
    product_ids = await make.products(*(f"Product {n}" for n in range(4)))
    requests: list[tuple[int, list[str]]] = []
    for n in range(writers):
        picked = [COLOURS[(n + 3 * k) % len(COLOURS)] for k in range(4)]
        spelled = [c.upper() if (n + k) % 2 else f" {c.lower()}" for k, c in enumerate(picked)]
        requests.append((product_ids[n % 4], spelled[::-1] if n % 3 else spelled))

    results = await all_at_once(sessions, requests, lambda a, request: a.add_tags(*request))

    key_of = await stored.tag_keys()
    assert sorted(key_of.values()) == sorted(c.casefold() for c in COLOURS)
    spellings = {ref.strip() for _, refs in requests for ref in refs}
    assert set((await stored.tags()).values()) <= spellings
    links = await stored.links()  # also checks there are no duplicate pairs
    for product in product_ids:
        wanted = {ref.strip().casefold() for p, refs in requests if p == product for ref in refs}
        have = {t for p, t in links if p == product}
        assert {key_of[t] for t in have} == wanted
        added = [
            t for (p, _), r in zip(requests, results, strict=True) if p == product for t in r.added
        ]
        assert sorted(added) == sorted(have), "each pair is reported added exactly once"


async def test_concurrent_create_tag_of_one_name_lets_exactly_one_win(
    sessions: async_sessionmaker[AsyncSession], stored: Stored, writers: int
) -> None:
    spellings = [["Sale", "sale", " SALE"][n % 3] for n in range(writers)]

    async def create(name: str) -> TagRecord | Conflict:
        async with sessions() as session:
            try:
                return await Catalog(session).create_tag(name)
            except Conflict as conflict:
                return conflict

    results = await asyncio.gather(*(create(name) for name in spellings))

    created = [r for r in results if isinstance(r, TagRecord)]
    assert len(created) == 1
    assert sum(isinstance(r, Conflict) for r in results) == writers - 1
    assert await stored.tags() == {created[0].id: created[0].name}


async def test_concurrent_renames_to_one_name_let_exactly_one_win(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored, writers: int
) -> None:
    tag_ids = await make.tags(*(f"Tag {n}" for n in range(writers)))

    async def rename(tag_id: int) -> TagRecord | Conflict:
        async with sessions() as session:
            try:
                return await Catalog(session).update_tag(tag_id, name="Sale")
            except Conflict as conflict:
                return conflict

    results = await asyncio.gather(*(rename(tag_id) for tag_id in tag_ids))

    renamed = [r for r in results if isinstance(r, TagRecord)]
    assert len(renamed) == 1
    assert sum(isinstance(r, Conflict) for r in results) == writers - 1
    names = await stored.tags()
    assert names[renamed[0].id] == "Sale"
    assert sorted(names.values()).count("Sale") == 1
