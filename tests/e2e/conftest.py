"""End-to-end tests run the server as users do: a real process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"


StartServer = Callable[..., Server]


def spawn_serve(environment: dict[str, str], port: int, log: BinaryIO, *flags: str) -> Server:
    """A `catalog serve` process on `port` (plus `flags`), its output in `log`; not yet ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "server.process.cli", "serve", "--port", str(port), *flags],
        env=environment,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Server(f"http://127.0.0.1:{port}", process)


def stop(server: Server, timeout: float) -> None:
    """Terminate the server's process, and kill it if it is not gone within `timeout` s."""
    server.process.terminate()
    try:
        server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()


def graphql(server: Server, token: str, query: str, **variables: Any) -> httpx.Response:
    """POST one operation with a bearer token; it must succeed without GraphQL errors."""
    response = httpx.post(
        server.graphql,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start `catalog serve` processes (migrating first); each is stopped at teardown."""
    started: list[Server] = []

    def start(database_url: str, **env: str) -> Server:
        environment = {**os.environ, **env, "CATALOG_DATABASE_URL": database_url}
        subprocess.run(
            [sys.executable, "-m", "server.process.cli", "db", "upgrade"],
            env=environment,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        log = (tmp_path / f"server-{port}.log").open("wb")
        server = spawn_serve(environment, port, log)
        started.append(server)
        _wait_until_ready(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
    for server in started:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


def _wait_until_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {server.url} did not become ready")
