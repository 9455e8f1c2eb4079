"""`--replica`: the bench on a PostgreSQL primary and a streaming replica of its own.

A shared PostgreSQL cannot be given a replica without reconfiguring it, so with `--replica`
the bench starts its own pair, as the replica tests do (tests/pgcluster.py): `initdb` a
primary (`wal_level = replica`, pg_stat_statements loaded), `pg_basebackup -R` a standby
from it, both under temporary directories on spare ports, removed at the end. The catalog
is loaded on the primary and the standby has replayed it before anything is timed.

Which node served a run is measured, not assumed: the calls pg_stat_statements counts on
each node, for statements on the catalog's tables, between the start and the end of the
run; and how hard each node worked: the CPU time of its postmaster and every backend.
A server that does not route reads by `CATALOG_READ_DATABASE_URLS` shows every statement
on the primary.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.processes import cpu_seconds, process_tree
from tests.pgcluster import PgCluster

DATABASE = "catalog_bench"
READ_URLS = "CATALOG_READ_DATABASE_URLS"
# Statements on the catalog's tables: not the replica lag probes, not the counting itself.
_CATALOG_STATEMENTS = (
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
    " WHERE query ~* '\\m(products|tags|product_tags|data_version)\\M'"
    " AND query !~* 'pg_stat_statements'"
)


@dataclass(frozen=True)
class Sample:
    """What each node has done so far: statements on the catalog's tables, CPU seconds."""

    statements: dict[str, int]
    cpu_seconds: dict[str, float]


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

    def sample(self) -> Sample:
        """What each node has done so far."""
        nodes = {"primary": self.primary, "replica": self.standby}
        return Sample(
            statements={
                name: int(node.sql(_CATALOG_STATEMENTS, DATABASE)) for name, node in nodes.items()
            },
            cpu_seconds={
                name: cpu_seconds(_server_processes(node)) for name, node in nodes.items()
            },
        )


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


def _server_processes(node: PgCluster) -> list[int]:
    """The node's postmaster (the first line of postmaster.pid) and its backends."""
    try:
        postmaster = int((node.data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return []
    return process_tree(postmaster)
