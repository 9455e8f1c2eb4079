"""A primary and its streaming replica of our own, for the replica tests and the bench.

    with replicated_pair("catalog", track="all") as pair:  # both started, caught up
        pair.pause_replay()
        ...

Both clusters are PgCluster's (clusters.postgres): `initdb` a primary with `wal_level =
replica` and pg_stat_statements loaded, create the database and the extension there,
`pg_basebackup -R` a standby from it; both are stopped and removed on the way out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from clusters.postgres import PgCluster


@dataclass
class Replicated:
    """A primary and its streaming replica, each holding `database`."""

    primary: PgCluster
    standby: PgCluster
    database: str

    @property
    def primary_url(self) -> str:
        return self.primary.url(self.database)

    @property
    def standby_url(self) -> str:
        return self.standby.url(self.database)

    def pause_replay(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_resume()")

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")
        caught_up = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        deadline = time.monotonic() + timeout
        while self.standby.sql(caught_up) != "t":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.05)

    def statements_on(self, node: PgCluster, like: str) -> int:
        """Calls of the statements `node` ran (pg_stat_statements) whose text is LIKE `like`."""
        escaped = like.replace("'", "''")
        return int(
            node.sql(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                f" WHERE query LIKE '{escaped}'",
                self.database,
            )
        )

    def reset_statements(self) -> None:
        for node in (self.primary, self.standby):
            node.sql("SELECT pg_stat_statements_reset()", self.database)


@contextmanager
def replicated_pair(
    database: str,
    *,
    track: str = "all",
    settings: dict[str, str] | None = None,
    prepare: Callable[[str], None] | None = None,
) -> Iterator[Replicated]:
    """A started primary holding `database` (`prepare(url)` run on it, e.g. migrations)
    and its started, caught-up standby. `track` is pg_stat_statements' (`all` counts the
    statements of functions too; `top` only what clients sent)."""
    started: list[PgCluster] = []
    try:
        primary = PgCluster.create(
            settings={
                "wal_level": "replica",
                "max_wal_senders": "5",
                "shared_preload_libraries": "'pg_stat_statements'",
                "pg_stat_statements.track": track,
                **(settings or {}),
            }
        )
        started.append(primary)
        primary.start()
        primary.create_database(database)
        primary.sql("CREATE EXTENSION pg_stat_statements", database)
        if prepare is not None:
            prepare(primary.url(database))
        standby = PgCluster.standby_of(primary)
        started.append(standby)
        standby.start()
        pair = Replicated(primary, standby, database)
        pair.wait_for_replay()
        yield pair
    finally:
        for cluster in reversed(started):
            cluster.destroy()
