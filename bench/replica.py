"""`--replica`: the bench on a PostgreSQL primary and a streaming replica of its own.

A shared PostgreSQL cannot be given a replica without reconfiguring it, so with `--replica`
the bench starts its own pair, as the replica tests do (tests/pgcluster.py): `initdb` a
primary (`wal_level = replica`, pg_stat_statements loaded), `pg_basebackup -R` a standby
from it, both under temporary directories on spare ports, removed at the end. The catalog
is loaded on the primary and the standby has replayed it before anything is timed.

Which node served a run is measured, not assumed: the calls pg_stat_statements counts on
each node, for statements on the catalog's tables, between the start and the end of the
run. Until the server routes reads by `CATALOG_READ_DATABASE_URLS`, the replica rows show
every statement on the primary.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.pgcluster import PgCluster

DATABASE = "catalog_bench"
READ_URLS = "CATALOG_READ_DATABASE_URLS"
# Statements on the catalog's tables: not the replica lag probes, not the counting itself.
_CATALOG_STATEMENTS = (
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
    " WHERE query ~* '\\m(products|tags|product_tags|data_version)\\M'"
    " AND query !~* 'pg_stat_statements'"
)


@dataclass
class Replicated:
    """A primary and its streaming replica, each with the bench database."""

    primary: PgCluster
    standby: PgCluster

    @property
    def primary_url(self) -> str:
        return self.primary.url(DATABASE)

    @property
    def standby_url(self) -> str:
        return self.standby.url(DATABASE)

    def wait_for_replay(self, timeout: float = 120.0) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")
        caught_up = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        deadline = time.monotonic() + timeout
        while self.standby.sql(caught_up) != "t":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.1)

    def statements(self) -> dict[str, int]:
        """Statements on the catalog's tables each node has run so far."""
        return {
            "primary": int(self.primary.sql(_CATALOG_STATEMENTS, DATABASE)),
            "replica": int(self.standby.sql(_CATALOG_STATEMENTS, DATABASE)),
        }


@contextmanager
def replicated() -> Iterator[Replicated]:
    """A started primary with an empty bench database and its started, caught-up standby;
    both stopped and removed on the way out."""
    started: list[PgCluster] = []
    try:
        primary = PgCluster.create(
            settings={
                "wal_level": "replica",
                "max_wal_senders": "5",
                "shared_preload_libraries": "'pg_stat_statements'",
                "pg_stat_statements.track": "top",
                "shared_buffers": "'128MB'",
            }
        )
        started.append(primary)
        primary.start()
        primary.create_database(DATABASE)
        primary.sql("CREATE EXTENSION pg_stat_statements", DATABASE)
        standby = PgCluster.standby_of(primary)
        started.append(standby)
        standby.start()
        pair = Replicated(primary, standby)
        pair.wait_for_replay()
        yield pair
    finally:
        for cluster in reversed(started):
            cluster.destroy()
