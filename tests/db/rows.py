"""Rows for the data-layer tests: factories that arrange them, and a view of what is stored.

Both go through sessions of their own and commit, so the service under test (which opens
its write transactions fresh) always sees the arranged rows, and assertions always see
what was really committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import product_tags, products, tags, utcnow
from db.names import tag_key


@dataclass(frozen=True)
class LinkRow:
    priority: int
    added_at: datetime


class Factory:
    """Small factories: rows inserted directly, committed, ids returned."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def product(self, name: str = "Lamp") -> int:
        return (await self.products(name))[0]

    async def products(self, *names: str) -> list[int]:
        now = utcnow()
        rows = [{"name": name, "created_at": now, "updated_at": now} for name in names]
        async with self._sessions() as session, session.begin():
            return [
                (
                    await session.execute(insert(products).values(row).returning(products.c.id))
                ).scalar_one()
                for row in rows
            ]

    async def tag(self, name: str) -> int:
        return (await self.tags(name))[0]

    async def tags(self, *names: str) -> list[int]:
        async with self._sessions() as session, session.begin():
            return [
                (
                    await session.execute(
                        insert(tags)
                        .values(name=name, name_key=tag_key(name), created_at=utcnow())
                        .returning(tags.c.id)
                    )
                ).scalar_one()
                for name in names
            ]

    async def link(self, product_id: int, *tag_ids: int, priority: int = 0) -> None:
        rows = [
            {"product_id": product_id, "tag_id": t, "priority": priority, "added_at": utcnow()}
            for t in tag_ids
        ]
        async with self._sessions() as session, session.begin():
            await session.execute(insert(product_tags), rows)

    async def clear(self) -> None:
        """Empty every table (for property tests, which run many examples per test)."""
        async with self._sessions() as session, session.begin():
            for table in (product_tags, products, tags):
                await session.execute(delete(table))


class Stored:
    """What is committed in the database right now, read through a fresh session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def links(self) -> set[tuple[int, int]]:
        """Every (product_id, tag_id) pair in the junction."""
        return set(await self.link_rows())

    async def link_rows(self) -> dict[tuple[int, int], LinkRow]:
        query = select(
            product_tags.c.product_id,
            product_tags.c.tag_id,
            product_tags.c.priority,
            product_tags.c.added_at,
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        pairs = [(row.product_id, row.tag_id) for row in rows]
        assert len(pairs) == len(set(pairs)), "duplicate junction rows"
        return {(r.product_id, r.tag_id): LinkRow(r.priority, r.added_at) for r in rows}

    async def tag_ids_of(self, product_id: int) -> set[int]:
        return {t for p, t in await self.links() if p == product_id}

    async def product_ids_of(self, tag_id: int) -> set[int]:
        return {p for p, t in await self.links() if t == tag_id}

    async def tags(self) -> dict[int, str]:
        """Every tag, id -> name as stored."""
        async with self._sessions() as session:
            rows = (await session.execute(select(tags.c.id, tags.c.name))).all()
        return {row.id: row.name for row in rows}

    async def tag_keys(self) -> dict[int, str]:
        """Every tag, id -> name_key (the case-insensitive comparison key) as stored."""
        async with self._sessions() as session:
            rows = (await session.execute(select(tags.c.id, tags.c.name_key))).all()
        return {row.id: row.name_key for row in rows}

    async def tag_names_of(self, product_id: int) -> set[str]:
        names = await self.tags()
        return {names[t] for t in await self.tag_ids_of(product_id)}

    async def products(self) -> dict[int, str]:
        """Every product, id -> name as stored."""
        async with self._sessions() as session:
            rows = (await session.execute(select(products.c.id, products.c.name))).all()
        return {row.id: row.name for row in rows}
