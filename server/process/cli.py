"""The `catalog` command: serve, migrate, seed and export the schema."""

from __future__ import annotations

import argparse
import asyncio
import glob
import ipaddress
import math
import os
import shutil
import signal
import sys
import tempfile
from types import FrameType

from server.config.settings import Settings, SettingsError, check_database_url
from server.observability.logs import uvicorn_log_config
from server.process.uvicorn_compat import http_protocol, ws_protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catalog", description="Catalog GraphQL server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--database-url", help="overrides CATALOG_DATABASE_URL")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--no-check",
        action="store_true",
        help="start without checking that the database is reachable and migrated "
        "(for orchestrators that start the server before the database)",
    )
    serve.add_argument(
        "--allow-open-writes",
        action="store_true",
        help="accept writes without a token on a non-loopback address (never in production)",
    )

    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply all migrations")
    upgrade.add_argument("--database-url", help="overrides CATALOG_DATABASE_URL")

    seed = commands.add_parser("seed", help="fill the database with data")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo catalog")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no products")
    seed.add_argument("--database-url", help="overrides CATALOG_DATABASE_URL")

    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")

    args = parser.parse_args(argv)
    try:
        env = dict(os.environ)
        if getattr(args, "database_url", None):
            # The flag stands for CATALOG_DATABASE_URL everywhere, the checks that compare
            # it with other settings (the read replicas') included.
            env["CATALOG_DATABASE_URL"] = check_database_url("--database-url", args.database_url)
        settings = Settings.from_env(env)
    except SettingsError as error:
        parser.exit(2, f"catalog: {error}\n")

    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "db":
        return _upgrade(settings)
    if args.command == "seed":
        return asyncio.run(_seed(settings, only_if_empty=args.if_empty))
    if args.command == "export-schema":
        from schema import build_schema

        print(build_schema().as_str())
        return 0
    return 2


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    open_writes = not settings.write_tokens and not _is_loopback(args.host)
    if open_writes and not args.allow_open_writes:
        print(
            f"catalog: refusing to listen on {args.host} with no CATALOG_WRITE_TOKENS: "
            "anyone could write. Set write tokens, bind to 127.0.0.1, or pass "
            "--allow-open-writes.",
            file=sys.stderr,
        )
        return 2
    if settings.startup_check and not args.no_check:
        from server.process.startup import DatabaseNotReady, check_database

        try:
            asyncio.run(check_database(settings.database_url))
        except DatabaseNotReady as problem:
            print(f"catalog: {problem}", file=sys.stderr)
            return 1
    if open_writes:
        print("catalog: WARNING: writes are open to anyone who can reach it", file=sys.stderr)
    elif not settings.write_tokens:
        print(
            f"catalog: no CATALOG_WRITE_TOKENS set; accepting writes because {args.host} "
            "is a loopback address",
            file=sys.stderr,
        )
    if settings.shutdown_grace_ms < settings.request_timeout_ms:
        print(
            f"catalog: CATALOG_SHUTDOWN_GRACE_MS={settings.shutdown_grace_ms} is below the "
            f"request budget ({settings.request_timeout_ms} ms): on SIGTERM, requests still "
            "running when the grace ends are cut off",
            file=sys.stderr,
        )
    # Workers are separate processes: they read the same settings from the environment.
    os.environ["CATALOG_DATABASE_URL"] = settings.database_url
    # Before the app (and so prometheus_client, which reads it at import) is loaded.
    metrics_dir, made = _metrics_dir(args.workers)
    if metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    protocol, no_header_bound = http_protocol()
    if no_header_bound:
        print(f"catalog: WARNING: {no_header_bound}", file=sys.stderr)
    socket_protocol, no_going_away = ws_protocol()
    if no_going_away:
        print(f"catalog: WARNING: {no_going_away}", file=sys.stderr)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler
    # it found; the default one would end the process with 143 (skipping the cleanup below).
    # An orderly stop is exit 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(
            "server.process.main:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=False,
            http=protocol,  # bounds the time to receive a request's headers
            ws=socket_protocol,  # on shutdown, the app closes its sockets with 1001
            log_config=uvicorn_log_config(),
            log_level=settings.log_level.lower(),
            # uvicorn counts whole seconds: round up, never cut the grace short.
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_ms / 1000),
            # Subscription events are small JSON frames: compressing each costs CPU on
            # every delivery and saves little (docs/performance.md, live updates).
            ws_per_message_deflate=False,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        if made:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _stopped(_signal: int, _frame: FrameType | None) -> None:
    """SIGTERM after uvicorn's graceful shutdown: nothing is left to do."""


def _upgrade(settings: Settings) -> int:
    from db.migrate import upgrade
    from server.process.startup import DatabaseNotReady, read_revision

    try:
        # Connect once first, so that an unreachable database is one line; a migration
        # that fails on a live database keeps its traceback.
        asyncio.run(read_revision(settings.database_url))
    except DatabaseNotReady as problem:
        print(f"catalog: {problem}", file=sys.stderr)
        return 1
    upgrade(settings.database_url)
    print("database is at the newest migration", file=sys.stderr)
    return 0


def _metrics_dir(workers: int) -> tuple[str, bool]:
    """Where this start's processes share their metrics ("" for none), and whether we made it.

    PROMETHEUS_MULTIPROC_DIR from the environment is used when set, emptied of an earlier
    run's files first (as prometheus_client requires). Otherwise several workers get a
    fresh temporary directory, removed at exit, and a single process none: it counts in
    memory, without the multiprocess files' per-update cost. Set before prometheus_client
    is imported (it reads it at import).
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not given:
        if workers <= 1:
            return "", False
        return tempfile.mkdtemp(prefix="catalog-metrics-"), True
    os.makedirs(given, exist_ok=True)
    for stale in glob.glob(os.path.join(given, "*.db")):
        os.remove(stale)
    return given, False


async def _seed(settings: Settings, *, only_if_empty: bool) -> int:
    from db.engine import create_engine
    from db.seed import is_empty, seed_demo

    engine = create_engine(settings.database_url, pgbouncer=settings.db_pgbouncer)
    try:
        async with engine.connect() as connection:
            if only_if_empty and not await is_empty(connection):
                print("catalog: database has products; not seeding", file=sys.stderr)
                return 0
            count = await seed_demo(connection)
            print(f"catalog: seeded {count} demo products", file=sys.stderr)
    finally:
        await engine.dispose()
    return 0


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port; use a number from 0 to 65535")
    return int(raw)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
