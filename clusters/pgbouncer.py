"""Debian's PgBouncer in transaction mode, in front of a PostgreSQL cluster of our own.

    bouncer = PgBouncer.start(cluster)   # config and auth file in a temporary directory
    url = bouncer.url("catalog")         # the app connects here, not to the cluster
    bouncer.stop()                       # ends the process and removes its files

It runs in the foreground as a child of the process that starts it (as the `postgres` OS
user when we are root: PgBouncer refuses to run as root), with trust authentication,
pooling by transaction: a server connection belongs to a client only for one transaction,
which is what breaks session state (SET, prepared statements) and what the server must
survive.
After each transaction the server connection is reset with DISCARD ALL
(`server_reset_query_always`), which drops the prepared statements a client left behind.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from clusters.postgres import PgCluster, free_port, own_directory

INSTALLED = Path("/usr/sbin/pgbouncer")  # Debian's package puts it outside PATH for users


def find_pgbouncer() -> Path:
    found = shutil.which("pgbouncer")
    if found:
        return Path(found)
    if INSTALLED.exists():
        return INSTALLED
    raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")


@dataclass
class PgBouncer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, target: PgCluster, *, pool_size: int = 20) -> PgBouncer:
        """Start PgBouncer for every database of `target`, and wait until it accepts."""
        program = find_pgbouncer()
        root = own_directory(target.as_user, prefix="catalog-pgbouncer-")
        port = free_port()
        (root / "userlist.txt").write_text('"postgres" ""\n')
        (root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={target.port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {root / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 1000\n"
            "server_reset_query = DISCARD ALL\n"
            "server_reset_query_always = 1\n"
            f"logfile = {root / 'pgbouncer.log'}\n"
        )
        command = [str(program), str(root / "pgbouncer.ini")]
        if target.as_user is not None:
            command = ["runuser", "-u", target.as_user, "--", *command]
        process = subprocess.Popen(
            command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        bouncer = cls(root=root, port=port, process=process)
        bouncer._wait_until_listening()
        return bouncer

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited ({self.process.returncode}):{self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pgbouncer did not listen within {timeout} s:{self._log()}")

    def _log(self) -> str:
        try:
            return "\n" + (self.root / "pgbouncer.log").read_text()[-2000:]
        except OSError:
            return ""
