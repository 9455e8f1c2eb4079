"""Pruning the change log in the background: entries older than CATALOG_CHANGES_RETENTION
go in small batches (db.changes.prune), so no prune holds locks for long. Every process
prunes; their prunes of the same entries queue on the rows, and the horizon only moves
forward."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from db import changes

log = logging.getLogger("catalog.changes")

BATCH = 500
EVERY_S = 60.0


async def prune_forever(engine: AsyncEngine, retention_s: int, every_s: float = EVERY_S) -> None:
    retention = timedelta(seconds=retention_s)
    while True:
        try:
            pruned = BATCH
            while pruned == BATCH:
                pruned = await changes.prune(engine, retention, BATCH)
                await asyncio.sleep(0.05)  # let writers in between batches
        except Exception:
            log.warning("pruning the change log failed; trying again later", exc_info=True)
        await asyncio.sleep(every_s)
