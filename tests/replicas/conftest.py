"""A primary, one streaming replica and PgBouncer of the suite's own, started once a session.

Never the shared server: `initdb` a primary, `pg_basebackup -R` a standby from it, both
under temporary directories on spare ports, and Debian's PgBouncer in transaction mode in
front of the primary. Everything is stopped and removed at the end of the session. The
programs missing is a skip on a developer's machine and a failure under CI
(CATALOG_TEST_REQUIRE_POSTGRES=1).

Each test starts from empty tables, with the standby caught up and replaying.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from clusters import PgBouncer, Replicated, replicated_pair
from db.migrate import upgrade
from tests.tables import truncate_catalog

REQUIRE_POSTGRES = os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1"
DATABASE = "catalog"


def _unavailable(error: Exception) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"CATALOG_TEST_REQUIRE_POSTGRES=1 but the test clusters cannot run: {error}")
    pytest.skip(f"the test clusters cannot run here: {error}")


@pytest.fixture(scope="session")
def pg_replicated() -> Iterator[Replicated]:
    """A started primary and streaming replica, the catalog migrated; gone at the end."""
    with ExitStack() as stack:
        try:
            replicated = stack.enter_context(replicated_pair(DATABASE, prepare=upgrade))
        except RuntimeError as error:
            _unavailable(error)
        yield replicated


@pytest.fixture(scope="session")
def pg_bouncer(pg_replicated: Replicated) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the primary, for the session."""
    try:
        bouncer = PgBouncer.start(pg_replicated.primary, pool_size=4)
    except RuntimeError as error:
        _unavailable(error)
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture
def replicated(pg_replicated: Replicated) -> Iterator[Replicated]:
    """The clusters with empty tables, the standby caught up and replaying; statement
    counts reset. Replay is resumed afterwards, whatever the test did."""
    asyncio.run(truncate_catalog(pg_replicated.primary_url))
    pg_replicated.wait_for_replay()
    pg_replicated.reset_statements()
    try:
        yield pg_replicated
    finally:
        if not pg_replicated.standby.is_running():
            pg_replicated.standby.start()
        pg_replicated.resume_replay()
