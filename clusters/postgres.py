"""A PostgreSQL cluster of our own, for what must stop, restart, kill or replicate a database.

A shared PostgreSQL is never touched: this runs a fresh cluster (initdb) in a temporary
directory, listening on 127.0.0.1 on a free port, with trust authentication for the user
`postgres`. As root (CI containers) the PostgreSQL programs run as the `postgres` OS user
through runuser, since PostgreSQL refuses to run as root; as any other user they run as
that user.

    cluster = PgCluster.create()
    cluster.start()
    url = cluster.url("catalog")  # after cluster.create_database("catalog")
    cluster.restart(pause=2.0)    # down for two seconds, then up again
    cluster.destroy()             # stops it and removes its files

    standby = PgCluster.standby_of(cluster)  # pg_basebackup -R: a streaming replica
    standby.start()
    standby.sql("SELECT pg_wal_replay_pause()")

A missing PostgreSQL installation or runuser is a RuntimeError; whether that fails or
skips is the caller's to decide. The `pg_cluster` fixture (tests/faults) runs one around a
test and lets it fail: the tests that need a cluster must run under CI. `pg_replicated`
(tests/replicas) starts a primary and one streaming replica (clusters.replication) once per
session; it skips when the programs are missing unless CATALOG_TEST_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
INSTALLS = Path("/usr/lib/postgresql")  # Debian's layout: one bin/ per major version


def find_bindir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian layout, else pg_config's)."""
    versions = [p for p in INSTALLS.glob("*/bin") if (p / "initdb").exists()]
    if versions:
        return max(versions, key=lambda p: _version_key(p.parent.name))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    raise RuntimeError(f"no PostgreSQL installation found (looked in {INSTALLS} and pg_config)")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def server_user() -> str | None:
    """The OS user to run PostgreSQL's programs as: `postgres` when we are root (PostgreSQL
    and PgBouncer refuse to run as root), else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root needs runuser to start PostgreSQL as postgres")
    return SERVER_USER


def own_directory(as_user: str | None, prefix: str = "catalog-pg-") -> Path:
    """A fresh temporary directory owned by the user the servers run as."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if as_user is not None:
        account = pwd.getpwnam(as_user)
        os.chown(root, account.pw_uid, account.pw_gid)
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """One cluster: its data directory, its port, and the programs that run it."""

    root: Path
    port: int
    bindir: Path
    as_user: str | None  # the OS user to run PostgreSQL's programs as (None: ourselves)

    @classmethod
    def create(cls, *, settings: dict[str, str] | None = None) -> PgCluster:
        """initdb a new cluster in a fresh temporary directory (not started).

        `settings` go into postgresql.conf, after the port and listen address.
        """
        bindir = find_bindir()
        as_user = server_user()
        cluster = cls(root=own_directory(as_user), port=free_port(), bindir=bindir, as_user=as_user)
        cluster._run(
            "initdb",
            "--pgdata",
            str(cluster.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        conf = {
            "port": str(cluster.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{cluster.root}'",
            "fsync": "off",  # a test cluster: speed over crash safety of the machine
            "max_connections": "200",
            **(settings or {}),
        }
        cluster._configure(conf)
        return cluster

    @classmethod
    def standby_of(cls, primary: PgCluster, *, settings: dict[str, str] | None = None) -> PgCluster:
        """A streaming replica of a running `primary` (not started): a base backup taken
        with `pg_basebackup -R`, which writes the connection to the primary into the copy
        and marks it a standby. It keeps the primary's settings, but its own port."""
        standby = cls(
            root=own_directory(primary.as_user),
            port=free_port(),
            bindir=primary.bindir,
            as_user=primary.as_user,
        )
        standby._run(
            "pg_basebackup",
            "--pgdata",
            str(standby.data),
            "--host",
            "127.0.0.1",
            "--port",
            str(primary.port),
            "--username",
            "postgres",
            "--write-recovery-conf",
            "--wal-method",
            "stream",
            "--checkpoint",
            "fast",
            "--no-sync",
        )
        standby._configure(
            {
                "port": str(standby.port),
                "unix_socket_directories": f"'{standby.root}'",
                "hot_standby": "on",
                **(settings or {}),
            }
        )
        return standby

    def _configure(self, conf: dict[str, str]) -> None:
        # Later lines of postgresql.conf win: appending overrides what a copy inherited.
        with (self.data / "postgresql.conf").open("a") as file:
            file.writelines(f"{name} = {value}\n" for name, value in conf.items())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start", "--log", str(self.log))

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (pg_ctl's modes: smart, fast, immediate) and wait for it."""
        self._pg_ctl("stop", "--mode", mode)

    def restart(self, *, pause: float = 0.0, mode: str = "fast") -> None:
        """Stop, stay down for `pause` seconds, start again."""
        self.stop(mode)
        time.sleep(pause)
        self.start()

    def is_running(self) -> bool:
        status = self._pg_ctl("status", check=False)
        return status.returncode == 0

    def create_database(self, name: str) -> None:
        self._run(
            "createdb", "--host", "127.0.0.1", "--port", str(self.port), "-U", "postgres", name
        )

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql; its output, unaligned and without headers."""
        result = self._run(
            "psql",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-U",
            "postgres",
            "--no-align",
            "--tuples-only",
            "--quiet",
            "-v",
            "ON_ERROR_STOP=1",
            "--command",
            statement,
            database,
        )
        return result.stdout.strip()

    def destroy(self) -> None:
        """Stop the server if it runs, and remove every file of the cluster."""
        if self.data.exists() and self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl(
        self, action: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self._run(
            "pg_ctl",
            action,
            "--pgdata",
            str(self.data),
            "--wait",
            "--timeout",
            "60",
            *args,
            check=check,
        )

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, cwd=self.root, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args[:1])} failed ({result.returncode}):"
                f" {result.stderr or result.stdout}{self._log_tail()}"
            )
        return result

    def _log_tail(self) -> str:
        try:
            return "\nserver log:\n" + "\n".join(self.log.read_text().splitlines()[-20:])
        except OSError:
            return ""
