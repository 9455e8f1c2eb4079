"""`catalog serve` refuses to start on a database it cannot serve: one line on stderr naming
the problem and its fix, and a non-zero exit, instead of a server that fails every query."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from db.migrate import head_revision, upgrade
from tests.e2e.conftest import ROOT, free_port

pytestmark = pytest.mark.e2e


def serve(database_url: str, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.run(
        [sys.executable, "-m", "server.process.cli", "serve", "--port", str(free_port()), *flags],
        env={**clean, **env, "CATALOG_DATABASE_URL": database_url, "CATALOG_WRITE_TOKENS": "t"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start printed."""
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("catalog: ")
    return result.stderr


def test_a_sqlite_file_in_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "catalog.db"

    line = refused(serve(f"sqlite+aiosqlite:///{path}"))

    assert "directory" in line and "does not exist" in line
    assert "catalog db upgrade" in line


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"

    line = refused(serve(f"sqlite+aiosqlite:///{path}"))

    assert "does not exist; run `catalog db upgrade`" in line
    assert not path.exists()


def test_an_unmigrated_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    sqlite3.connect(path).close()

    line = refused(serve(f"sqlite+aiosqlite:///{path}"))

    assert "has no tables yet; run `catalog db upgrade`" in line


def test_a_sqlite_database_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    upgrade(url, "0001")

    line = refused(serve(url))

    assert f"is at migration 0001 and this version needs {head_revision()}" in line
    assert "catalog db upgrade" in line


def test_a_postgresql_database_that_does_not_exist(postgres_database: str) -> None:
    url = make_url(postgres_database).set(database="catalog_no_such_database")

    line = refused(serve(url.render_as_string(hide_password=False)))

    assert "database 'catalog_no_such_database' does not exist" in line
    assert "catalog db upgrade" in line


def test_a_port_where_no_database_listens() -> None:
    line = refused(serve(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/catalog"))

    assert "cannot reach the database at 127.0.0.1:" in line


@pytest.mark.parametrize("how", ["--no-check", "CATALOG_STARTUP_CHECK=false"])
def test_the_check_can_be_skipped_for_orchestrators(how: str) -> None:
    """Started before its database: it runs, is alive, and says it is not ready."""
    port = free_port()
    flags = [how] if how.startswith("--") else []
    env = dict([how.split("=")]) if "=" in how else {}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.process.cli", "serve", "--port", str(port), *flags],
        env={
            **clean,
            **env,
            "CATALOG_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/c",
        },
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not come up"
            try:
                alive = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert alive.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 503
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_db_upgrade_on_an_unreachable_database_is_one_line() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/catalog"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    result = subprocess.run(
        [sys.executable, "-m", "server.process.cli", "db", "upgrade"],
        env={**clean, "CATALOG_DATABASE_URL": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    line = refused(result)
    assert "cannot reach the database at 127.0.0.1:" in line
