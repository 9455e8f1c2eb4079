"""`--replica`: the bench on a PostgreSQL primary and a streaming replica of its own.

A shared PostgreSQL cannot be given a replica without reconfiguring it, so with `--replica`
the bench starts its own pair, as the replica tests do (clusters.replication): `initdb` a
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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.processes import cpu_seconds, process_tree
from clusters import PgCluster, Replicated, replicated_pair

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


def sample(pair: Replicated) -> Sample:
    """What each node of the pair has done so far."""
    nodes = {"primary": pair.primary, "replica": pair.standby}
    return Sample(
        statements={
            name: int(node.sql(_CATALOG_STATEMENTS, DATABASE)) for name, node in nodes.items()
        },
        cpu_seconds={name: cpu_seconds(_server_processes(node)) for name, node in nodes.items()},
    )


@contextmanager
def replicated() -> Iterator[Replicated]:
    """A started primary with an empty bench database and its started, caught-up standby;
    both stopped and removed on the way out."""
    with replicated_pair(DATABASE, track="top", settings={"shared_buffers": "'128MB'"}) as pair:
        yield pair


def _server_processes(node: PgCluster) -> list[int]:
    """The node's postmaster (the first line of postmaster.pid) and its backends."""
    try:
        postmaster = int((node.data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return []
    return process_tree(postmaster)
