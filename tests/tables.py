"""Emptying the catalog's tables between tests, on any PostgreSQL database of the suite."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

TABLES = ("product_tags", "products", "tags")


async def truncate_catalog(url: str) -> None:
    """Empty the catalog's tables and restart their ids (the data version row stays)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
