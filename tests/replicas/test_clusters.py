"""The test clusters themselves: the standby streams the primary's writes, replay pauses
when asked, and PgBouncer pools by transaction in front of the primary."""

from __future__ import annotations

import asyncpg

from clusters import PgBouncer, Replicated
from tests.replicas.conftest import DATABASE


def test_the_standby_replays_the_primarys_writes_and_pauses_when_asked(
    replicated: Replicated,
) -> None:
    replicated.primary.sql("INSERT INTO tags (name, name_key) VALUES ('Sale', 'sale')", DATABASE)
    replicated.wait_for_replay()
    assert replicated.standby.sql("SELECT name FROM tags", DATABASE) == "Sale"

    replicated.pause_replay()
    replicated.primary.sql("INSERT INTO tags (name, name_key) VALUES ('New', 'new')", DATABASE)
    assert replicated.standby.sql("SELECT count(*) FROM tags", DATABASE) == "1"
    assert replicated.standby.sql("SELECT pg_is_in_recovery()") == "t"

    replicated.resume_replay()
    replicated.wait_for_replay()
    assert replicated.standby.sql("SELECT count(*) FROM tags", DATABASE) == "2"


async def test_pgbouncer_pools_by_transaction_and_resets_each_server_connection(
    pg_bouncer: PgBouncer, replicated: Replicated
) -> None:
    connection = await asyncpg.connect(pg_bouncer.url(DATABASE, driver="postgresql"))
    try:
        await connection.execute("SET statement_timeout = 1234")
        # The SET was a transaction of its own; the server connection was then reset.
        assert await connection.fetchval("SHOW statement_timeout") == "0"
    finally:
        await connection.close()
