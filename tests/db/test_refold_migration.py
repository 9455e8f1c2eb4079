"""Migration 0003 on a catalog written under the old rules (keys were casefold(name)):
names are cleaned, keys refolded, look-alike tags merged into the oldest with every link.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.migrate import alembic_config, upgrade_async
from db.names import fold

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# id, name, name_key as the old code stored them (NFC, trimmed, casefold)
OLD_TAGS = [
    (1, "Sale", "sale"),
    (2, "\ufeffSale", "\ufeffsale"),
    (3, "SA\u200bLE", "sa\u200ble"),
    (4, "Eco", "eco"),
    (5, "\u200b", "\u200b"),  # nothing visible: the new rules refuse it, so it stays as is
    (6, "İstanbul", "i̇stanbul"),
    (7, "Stra\u00dfe", "strasse"),
]
OLD_PRODUCTS = [(1, "Lamp"), (2, "Mug"), (3, "Desk\u00a0 lamp"), (4, "Gone")]
# product, tag, priority, minutes after T0
OLD_LINKS = [
    (1, 1, 1, 5),
    (1, 2, 3, 10),  # Lamp: the highest priority comes from tag 2, the first added_at from 1
    (2, 3, 0, 1),  # Mug: only on a look-alike, moves to tag 1 as it is
    (2, 4, 7, 2),
    (3, 2, 2, 3),
    (3, 3, 1, 9),  # Desk lamp: two look-alikes, no link to the survivor yet
]


@pytest.fixture
async def old_catalog(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test database taken back to revision 0002 and filled as the old code would have."""
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0002")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            for table in ("product_tags", "products", "tags"):
                await connection.execute(text(f"DELETE FROM {table}"))
            for tag_id, name, key in OLD_TAGS:
                await connection.execute(
                    text("INSERT INTO tags (id, name, name_key) VALUES (:i, :n, :k)"),
                    {"i": tag_id, "n": name, "k": key},
                )
            for product_id, name in OLD_PRODUCTS:
                await connection.execute(
                    text("INSERT INTO products (id, name) VALUES (:i, :n)"),
                    {"i": product_id, "n": name},
                )
            if connection.dialect.name == "postgresql":  # explicit ids leave sequences behind
                for table in ("products", "tags"):
                    await connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
                    )
            await connection.execute(text("DELETE FROM products WHERE id = 4"))
            for product_id, tag_id, priority, minutes in OLD_LINKS:
                await connection.execute(
                    text(
                        "INSERT INTO product_tags (product_id, tag_id, priority, added_at)"
                        " VALUES (:p, :t, :pr, :at)"
                    ),
                    {"p": product_id, "t": tag_id, "pr": priority, "at": at(minutes)},
                )
        yield engine
    finally:
        await engine.dispose()
        await upgrade_async(database_url)  # the session's database is left at head


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite through text(): stored text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def test_look_alike_tags_merge_into_the_oldest_keeping_every_link(
    old_catalog: AsyncEngine, database_url: str
) -> None:
    async with old_catalog.connect() as connection:
        version_before = (await connection.execute(text("SELECT value FROM data_version"))).scalar()

    await upgrade_async(database_url)

    async with old_catalog.connect() as connection:
        tags = (await connection.execute(text("SELECT id, name, name_key FROM tags"))).all()
        links = (
            await connection.execute(
                text("SELECT product_id, tag_id, priority, added_at FROM product_tags")
            )
        ).all()
        products = (await connection.execute(text("SELECT id, name, name_key FROM products"))).all()
        version_after = (await connection.execute(text("SELECT value FROM data_version"))).scalar()

    assert sorted(map(tuple, tags)) == [
        (1, "Sale", "sale"),
        (4, "Eco", "eco"),
        (5, "\u200b", "\u200b"),
        (6, "İstanbul", fold("İstanbul")),
        (7, "Straße", "strasse"),
    ]
    assert sorted((p, t, pr, utc(a)) for p, t, pr, a in links) == [
        (1, 1, 3, at(5)),
        (2, 1, 0, at(1)),
        (2, 4, 7, at(2)),
        (3, 1, 2, at(3)),
    ]
    assert sorted(map(tuple, products)) == [
        (1, "Lamp", "lamp"),
        (2, "Mug", "mug"),
        (3, "Desk lamp", "desk lamp"),
    ]
    assert version_after == (version_before or 0) + 1  # cached answers are dropped


async def test_a_deleted_products_id_is_still_never_reused_after_the_migration(
    old_catalog: AsyncEngine, database_url: str
) -> None:
    await upgrade_async(database_url)

    async with old_catalog.begin() as connection:
        new_id = (
            await connection.execute(
                text("INSERT INTO products (name, name_key) VALUES ('New', 'new') RETURNING id")
            )
        ).scalar_one()

    assert new_id > 4  # product 4 was deleted before the migration
