"""The migrations build exactly the schema the models describe, and are safe to rerun."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import current_revision, head_revision, upgrade_async
from db.models import Base, products, utcnow


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)

    assert diff == []


async def test_the_migrated_database_is_at_the_head_revision(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        revision = await current_revision(connection)

    assert revision is not None
    assert revision == head_revision()


async def test_upgrading_again_changes_nothing_and_keeps_the_data(
    engine: AsyncEngine, database_url: str
) -> None:
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            insert(products).values(name="Lamp", created_at=now, updated_at=now)
        )

    await upgrade_async(database_url)
    await upgrade_async(database_url)

    async with engine.connect() as connection:
        assert await current_revision(connection) == head_revision()
        assert list((await connection.execute(select(products.c.name))).scalars()) == ["Lamp"]
        assert await connection.run_sync(differences) == []


@pytest.mark.postgres_only
async def test_tag_keys_use_the_bytewise_collation_on_postgresql(engine: AsyncEngine) -> None:
    # compare_metadata does not compare collations, so check this one directly: paging by
    # name must order the same way whatever the server's default collation is.
    query = text(
        "SELECT collation_name FROM information_schema.columns"
        " WHERE table_name = 'tags' AND column_name = 'name_key'"
    )
    async with engine.connect() as connection:
        collation = (await connection.execute(query)).scalar_one()

    assert collation == "C"
