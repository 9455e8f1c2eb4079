"""The checks of the database settings: the primary's URL and the read replicas' URLs.

Each raises SettingsError with one line naming the variable (or flag), what is wrong with
the value and what is accepted; no value is quoted with its password.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_DATABASE_URLS = "sqlite+aiosqlite:///<path> or postgresql+asyncpg://<user>@<host>/<database>"
# The async driver each supported database runs on.
_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


class SettingsError(ValueError):
    """A setting has a value the server cannot use (the message is one line, for stderr)."""


def check_database_url(name: str, raw: str) -> str:
    """The URL when the server can use it; else SettingsError naming `name` (a variable or
    a flag). Only the async drivers work: the server never blocks its event loop."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(
            f"{name}={shown(raw)} is not a database URL; use {_DATABASE_URLS}"
        ) from None
    where = url.render_as_string(hide_password=True)
    # Read the names from the URL itself: asking SQLAlchemy for the driver would import
    # the dialect, and fail with a traceback on one it does not know.
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgres":  # an alias SQLAlchemy no longer reads
        backend = "postgresql"
    wanted = _DRIVERS.get(backend)
    if wanted is None:
        raise SettingsError(f"{name}={where!r}: {backend} is not supported; use {_DATABASE_URLS}")
    if driver != wanted:
        fixed = url.set(drivername=f"{backend}+{wanted}").render_as_string(hide_password=True)
        uses = f"the {driver} driver" if driver else "the default driver"
        raise SettingsError(f"{name}={where!r} uses {uses}, which is not async; use {fixed!r}")
    if backend == "sqlite" and not url.database:
        raise SettingsError(
            f"{name}={where!r} names no file (an in-memory database would vanish with each "
            f"connection); use sqlite+aiosqlite:///<path>"
        )
    if backend == "postgresql" and not url.database:
        raise SettingsError(f"{name}={where!r} names no database; use {_DATABASE_URLS}")
    return raw


def check_read_database_urls(name: str, raw: str, primary: str) -> tuple[str, ...]:
    """The read replicas' URLs (comma-separated, maybe none); each must be PostgreSQL on
    asyncpg, and so must the primary they replicate."""
    urls = tuple(item.strip() for item in raw.split(",") if item.strip())
    for url in urls:
        check_database_url(name, url)
        if not url.startswith("postgresql"):
            raise SettingsError(
                f"{name} has {shown(url)}, which is not PostgreSQL; read replicas are "
                "PostgreSQL streaming replicas: use postgresql+asyncpg://<user>@<host>/<database>"
            )
    if urls and not primary.startswith("postgresql"):
        raise SettingsError(
            f"{name} is set but CATALOG_DATABASE_URL is not PostgreSQL; read replicas need a "
            "PostgreSQL primary"
        )
    return urls


def shown(raw: str) -> str:
    """A value as an error message may quote it: short, and with any password hidden."""
    hidden = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", raw)
    return repr(hidden if len(hidden) <= 80 else hidden[:77] + "...")
