"""The data version: a number that moves after every committed write.

An answer computed while the version read v stays exact for as long as the version is
still v. Readers read the version before anything else; writers move it as the last
statement of their transaction (db.changes.commit_entries, with the change log's entries),
so the new version and the new data become visible at the same commit: any answer that
might predate a write is filed under an older version.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import data_version

_ROW = data_version.c.id == 1


async def current(connection: AsyncConnection) -> int:
    """The version now (one statement)."""
    return (await connection.execute(select(data_version.c.value).where(_ROW))).scalar_one()
