"""Emptying the catalog's tables between tests, on any PostgreSQL database of the suite."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

TABLES = ("product_tags", "products", "tags", "changes")


async def truncate_catalog(url: str) -> None:
    """Empty the catalog's tables and the change log, restart their ids and the log's
    horizon (the data version row stays)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            await connection.execute(text("UPDATE change_horizon SET version = 0, ordinal = 0"))
    finally:
        await engine.dispose()
