"""A bad setting is one line naming the variable, what is wrong and what is accepted; the
`catalog` command prints it and exits 2 before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.config.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]

# (variable, bad value, words the message must hold besides the variable's name)
BAD = [
    ("CATALOG_DATABASE_URL", "nonsense", ["not a database URL", "sqlite+aiosqlite:///"]),
    ("CATALOG_DATABASE_URL", "mysql://root:hunter2@db/shop", ["mysql is not supported"]),
    ("CATALOG_DATABASE_URL", "sqlite:///catalog.db", ["not async", "sqlite+aiosqlite:///"]),
    ("CATALOG_DATABASE_URL", "postgresql://app@db/shop", ["not async", "postgresql+asyncpg://"]),
    ("CATALOG_DATABASE_URL", "postgres://app@db/shop", ["not async", "postgresql+asyncpg://"]),
    ("CATALOG_DATABASE_URL", "postgresql+psycopg2://db/shop", ["psycopg2", "asyncpg"]),
    ("CATALOG_DATABASE_URL", "sqlite+aiosqlite://", ["names no file"]),
    ("CATALOG_DATABASE_URL", "postgresql+asyncpg://db", ["names no database"]),
    ("CATALOG_DB_POOL_SIZE", "ten", ["not a whole number", "at least 1"]),
    ("CATALOG_DB_POOL_SIZE", "0", ["out of range", "at least 1"]),
    ("CATALOG_DB_POOL_SIZE", "-4", ["out of range", "at least 1"]),
    ("CATALOG_DB_POOL_SIZE", "2.5", ["not a whole number"]),
    ("CATALOG_INTROSPECTION", "maybe", ["true or false"]),
    ("CATALOG_GRAPHIQL", "2", ["true or false"]),
    ("CATALOG_GC_YOUNG_THRESHOLD", "-1", ["out of range", "at least 0"]),
    ("CATALOG_CORS_ORIGINS", "https://shop.example/", ["not an origin", "no path"]),
    ("CATALOG_CORS_ORIGINS", "shop.example", ["not an origin"]),
    ("CATALOG_MAX_BODY_BYTES", "1MB", ["not a whole number"]),
    ("CATALOG_MAX_DEPTH", "0", ["at least 1"]),
    ("CATALOG_MAX_ALIASES", "-1", ["at least 0"]),
    ("CATALOG_MAX_TOKENS", "1e4", ["not a whole number"]),
    ("CATALOG_MAX_BATCH", "many", ["not a whole number"]),
    ("CATALOG_MAX_NODES", "9" * 5000, ["not a whole number"]),
    ("CATALOG_MAX_FIRST", "500", ["from 1 to 100"]),
    ("CATALOG_MAX_ITEMS", "0", ["at least 1"]),
    ("CATALOG_REQUEST_TIMEOUT_MS", "10s", ["not a whole number"]),
    ("CATALOG_RESPONSE_CACHE", "memcached://cache", ["off, memory or redis://"]),
    ("CATALOG_RESPONSE_CACHE", "redis://cache:port", ["bad port"]),
    ("CATALOG_RESPONSE_CACHE", "redis://cache/zero", ["not a Redis URL"]),
    ("CATALOG_LOG_LEVEL", "LOUD", ["DEBUG, INFO, WARNING, ERROR, CRITICAL"]),
    ("CATALOG_STARTUP_CHECK", "sometimes", ["true or false"]),
    ("CATALOG_SHUTDOWN_GRACE_MS", "-1", ["at least 0"]),
    ("CATALOG_SHUTDOWN_GRACE_MS", "15s", ["not a whole number"]),
    ("CATALOG_HEADER_TIMEOUT_MS", "5", ["at least 100"]),
    ("CATALOG_READ_DATABASE_URLS", "postgresql://app@r1/shop", ["not async", "asyncpg"]),
    ("CATALOG_READ_DATABASE_URLS", "sqlite+aiosqlite:///r.db", ["not PostgreSQL"]),
    ("CATALOG_READ_DATABASE_URLS", "postgresql+asyncpg://r1/shop", ["need a PostgreSQL primary"]),
    ("CATALOG_REPLICA_MAX_LAG_MS", "1s", ["not a whole number"]),
    ("CATALOG_DB_PGBOUNCER", "maybe", ["true or false"]),
]


@pytest.mark.parametrize(
    ("variable", "value", "words"), BAD, ids=[f"{v}={x[:20]}" for v, x, _ in BAD]
)
def test_a_bad_value_is_one_line_naming_the_variable_and_what_is_accepted(
    variable: str, value: str, words: list[str]
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})

    message = str(raised.value)
    assert "\n" not in message
    assert len(message) < 300
    assert message.startswith(variable)
    for word in words:
        assert word in message


def test_a_password_in_a_bad_url_is_never_printed() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CATALOG_DATABASE_URL": "mysql://root:hunter2@db/shop"})
    assert "hunter2" not in str(raised.value)


def test_good_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "CATALOG_DATABASE_URL": "postgresql+asyncpg://app:pw@db:5432/shop",
            "CATALOG_DB_POOL_SIZE": "4",
            "CATALOG_CORS_ORIGINS": "https://shop.example, http://localhost:3000",
            "CATALOG_INTROSPECTION": "off",
            "CATALOG_MAX_FIRST": "50",
            "CATALOG_RESPONSE_CACHE": "redis://cache:6380/2",
            "CATALOG_LOG_LEVEL": "warning",
            "CATALOG_STARTUP_CHECK": "false",
            "CATALOG_SHUTDOWN_GRACE_MS": "0",
            "CATALOG_HEADER_TIMEOUT_MS": "2000",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://app:pw@db:5432/shop"
    assert settings.db_pool_size == 4
    assert settings.cors_origins == ("https://shop.example", "http://localhost:3000")
    assert settings.introspection is False
    assert settings.max_first == 50
    assert settings.response_cache == "redis://cache:6380/2"
    assert settings.log_level == "WARNING"
    assert settings.startup_check is False
    assert settings.shutdown_grace_ms == 0
    assert settings.header_timeout_ms == 2000


def test_read_replicas_and_pgbouncer_are_read() -> None:
    settings = Settings.from_env(
        {
            "CATALOG_DATABASE_URL": "postgresql+asyncpg://app@primary/shop",
            "CATALOG_READ_DATABASE_URLS": "postgresql+asyncpg://app@r1/shop, "
            "postgresql+asyncpg://app@r2:5433/shop",
            "CATALOG_REPLICA_MAX_LAG_MS": "250",
            "CATALOG_DB_PGBOUNCER": "true",
        }
    )
    assert settings.read_database_urls == (
        "postgresql+asyncpg://app@r1/shop",
        "postgresql+asyncpg://app@r2:5433/shop",
    )
    assert settings.replica_max_lag_ms == 250
    assert settings.db_pgbouncer is True


def test_no_variables_give_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_the_default_pool_holds_a_connection_for_each_of_sixteen_busy_clients() -> None:
    """A request holds one connection; the pool opens no overflow, so its size is the
    concurrency a process serves without waiting (tests/db/test_connections.py)."""
    assert Settings.from_env({}).db_pool_size >= 16


def catalog(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.run(
        [sys.executable, "-m", "server.process.cli", *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CATALOG_DATABASE_URL", "nonsense"),
        ("CATALOG_DATABASE_URL", "mysql://root@db/shop"),
        ("CATALOG_DATABASE_URL", "sqlite:///catalog.db"),
        ("CATALOG_LOG_LEVEL", "LOUD"),
        ("CATALOG_REQUEST_TIMEOUT_MS", "soon"),
        ("CATALOG_READ_DATABASE_URLS", "postgresql://app@replica/shop"),
    ],
)
def test_catalog_serve_prints_one_line_and_exits_2(variable: str, value: str) -> None:
    result = catalog("serve", "--port", "1", **{variable: value})

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"catalog: {variable}=")
    assert result.stdout == ""


def test_a_bad_database_url_flag_is_one_line_too() -> None:
    result = catalog("db", "upgrade", "--database-url", "sqlite:///catalog.db")

    assert result.returncode == 2
    assert result.stderr == (
        "catalog: --database-url='sqlite:///catalog.db' uses the default driver, which is "
        "not async; use 'sqlite+aiosqlite:///catalog.db'\n"
    )


def test_the_database_url_flag_is_the_primary_the_replicas_are_checked_against(
    tmp_path: Path,
) -> None:
    result = catalog(
        "db",
        "upgrade",
        "--database-url",
        f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        CATALOG_DATABASE_URL="postgresql+asyncpg://app@primary/shop",
        CATALOG_READ_DATABASE_URLS="postgresql+asyncpg://app@replica/shop",
    )

    assert result.returncode == 2
    assert "CATALOG_DATABASE_URL is not PostgreSQL" in result.stderr
    assert not (tmp_path / "catalog.db").exists()
