"""The benchmark's catalog: 10,000 products, 500 tags, 5 tags each, the same on every run.

Products and tags are bulk-inserted with SQLAlchemy Core; the links go through the
association service's bulk loader, the only code that writes the junction. The data is
rebuilt only when what is stored differs from what the seed describes, so reruns are fast.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Select, Table, delete, func, insert, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as raw_engine

from db import models, names
from db.associations import Associations
from db.engine import create_engine, is_sqlite
from db.migrate import upgrade

PRODUCTS = 10_000
TAGS = 500
TAGS_PER_PRODUCT = 5
PRIORITIES = range(5)  # 0-4
SEED = 5

Link = tuple[int, int, int]  # (product_id, tag_id, priority)


@dataclass(frozen=True)
class Dataset:
    """Where the benchmark data lives and what it must contain.

    Ids are contiguous ranges, but not necessarily from 1: a rebuild keeps the sequences
    going. The i-th product (by id) carries the tags the seed gives to product i.
    """

    url: str
    product_ids: range
    tag_ids: range

    @cached_property
    def links(self) -> frozenset[Link]:
        return frozenset(
            (self.product_ids[p], self.tag_ids[t], priority) for p, t, priority in planned_links()
        )

    @cached_property
    def tags_by_product(self) -> dict[int, frozenset[int]]:
        grouped: dict[int, set[int]] = {}
        for product_id, tag_id, _priority in self.links:
            grouped.setdefault(product_id, set()).add(tag_id)
        return {product_id: frozenset(ids) for product_id, ids in grouped.items()}


def planned_links() -> list[Link]:
    """(product index, tag index, priority) for the whole catalog, from the fixed seed."""
    rng = random.Random(SEED)
    return [
        (p, t, rng.choice(PRIORITIES))
        for p in range(PRODUCTS)
        for t in sorted(rng.sample(range(TAGS), TAGS_PER_PRODUCT))
    ]


def prepare(url: str, *, log: bool = True) -> Dataset:
    """Create and migrate the database if needed, and make its data the benchmark's."""
    if not is_sqlite(url):
        asyncio.run(_create_postgres_database(url))
    upgrade(url)
    return asyncio.run(_prepare(url, log=log))


def verify(dataset: Dataset) -> list[str]:
    """What differs between the stored links and the planned ones (empty when they match)."""
    return asyncio.run(_differences(dataset))


async def _prepare(url: str, *, log: bool) -> Dataset:
    engine = create_engine(url)
    try:
        stored = await _stored(engine, url)
        if stored is None or await _link_differences(engine, stored):
            if log:
                print("bench: building the dataset (10,000 products, 500 tags, 50,000 links)")
            await _empty(engine)
            await _load(engine)
            stored = await _stored(engine, url)
            if stored is None:
                raise RuntimeError("the freshly built dataset does not have the expected shape")
        await _analyze(engine)
        return stored
    finally:
        await engine.dispose()


async def _analyze(engine: AsyncEngine) -> None:
    """Fresh planner statistics before anything is timed.

    A bulk load leaves PostgreSQL planning from the empty tables' statistics until
    autovacuum gets round to them (nested loops over whole tables instead of index scans),
    so the same run could be timed before or after that, for the server and its floors
    alike. Both databases get ANALYZE at every start.
    """
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()


async def _stored(engine: AsyncEngine, url: str) -> Dataset | None:
    """The dataset as stored, when its counts are right and its ids contiguous."""
    async with engine.connect() as connection:
        ranges = []
        for table, expected in ((models.products, PRODUCTS), (models.tags, TAGS)):
            query = select(func.min(table.c.id), func.max(table.c.id), func.count())
            low, high, count = (await connection.execute(query)).one()
            if count != expected or high - low + 1 != expected:
                return None
            ranges.append(range(low, high + 1))
        links = select(func.count()).select_from(models.product_tags)
        if (await connection.execute(links)).scalar_one() != PRODUCTS * TAGS_PER_PRODUCT:
            return None
    return Dataset(url, ranges[0], ranges[1])


async def _differences(dataset: Dataset) -> list[str]:
    engine = create_engine(dataset.url)
    try:
        return await _link_differences(engine, dataset)
    finally:
        await engine.dispose()


async def _link_differences(engine: AsyncEngine, dataset: Dataset) -> list[str]:
    pt = models.product_tags
    async with engine.connect() as connection:
        rows = (await connection.execute(select(pt.c.product_id, pt.c.tag_id, pt.c.priority))).all()
        duplicates = (
            await connection.execute(
                select(func.count()).select_from(
                    select(pt.c.product_id, pt.c.tag_id)
                    .group_by(pt.c.product_id, pt.c.tag_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        ).scalar_one()
    stored = {(row[0], row[1], row[2]) for row in rows}
    problems = []
    if len(rows) != len(dataset.links):
        problems.append(f"{len(rows)} junction rows, expected {len(dataset.links)}")
    if duplicates:
        problems.append(f"{duplicates} (product, tag) pairs are stored more than once")
    if missing := dataset.links - stored:
        problems.append(f"{len(missing)} links missing or changed, e.g. {sorted(missing)[:3]}")
    if extra := stored - dataset.links:
        problems.append(f"{len(extra)} links not in the dataset, e.g. {sorted(extra)[:3]}")
    return problems


async def _empty(engine: AsyncEngine) -> None:
    # The junction empties by ON DELETE CASCADE, as when a client deletes a product.
    async with engine.begin() as connection:
        await connection.execute(delete(models.products))
        await connection.execute(delete(models.tags))


async def _load(engine: AsyncEngine) -> None:
    now = models.utcnow()
    tag_rows = []
    for n in range(TAGS):
        name = names.tag_name(f"Tag {n + 1:03d}")
        tag_rows.append({"name": name, "name_key": names.tag_key(name), "created_at": now})
    product_rows = [
        {"name": names.product_name(f"Product {n + 1:05d}"), "created_at": now, "updated_at": now}
        for n in range(PRODUCTS)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(models.tags), tag_rows)
        await connection.execute(insert(models.products), product_rows)
        product_ids = (await connection.execute(_ids(models.products))).scalars().all()
        tag_ids = (await connection.execute(_ids(models.tags))).scalars().all()
    links = [(product_ids[p], tag_ids[t], priority) for p, t, priority in planned_links()]
    async with engine.connect() as connection:
        await Associations(connection).import_links(links)


def _ids(table: Table) -> Select[int]:
    return select(table.c.id).order_by(table.c.id)


async def _create_postgres_database(url: str) -> None:
    """CREATE DATABASE when it is missing, from the server's `postgres` database."""
    target = make_url(url)
    admin = raw_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if exists.first() is None:
                quoted = connection.dialect.identifier_preparer.quote(target.database or "")
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await admin.dispose()
