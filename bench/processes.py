"""The processes under test: the server as users start it, and the floor, each on a free port.

Peak memory is read from /proc: VmHWM (the most resident memory a process has had) of the
started process and every process under it (uvicorn's workers), added up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
IDLE_TIMEOUT_S = 60.0
IDLE_SAMPLE_S = 0.25
IDLE_SHARE = 0.1  # below 10 % of one core counts as idle


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    def pids(self) -> list[int]:
        """The process and all its descendants."""
        return process_tree(self.process.pid)

    def reset_peak_memory(self) -> bool:
        """Start VmHWM afresh (Linux: write 5 to clear_refs); False when not allowed."""
        try:
            for pid in self.pids():
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def peak_memory_mib(self) -> float:
        total_kib = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
        return total_kib / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process and its descendants (user + system)."""
        return cpu_seconds(self.pids())

    def wait_idle(self, timeout: float = IDLE_TIMEOUT_S) -> None:
        """Wait until the process stops working, at most `timeout` seconds.

        A load generator that stops leaves requests in flight, and the server finishes
        them after their clients are gone: the next timed run must not pay for them.
        """
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(IDLE_SAMPLE_S)
            now = self.cpu_seconds()
            if now - before < IDLE_SAMPLE_S * IDLE_SHARE:
                return
            before = now

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes (user + system), with that of their children
    that have exited (a PostgreSQL backend's, once its connection closed)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += sum(int(n) for n in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(port: int, database_url: str, workers: int) -> list[str]:
    return _serve_command(["-m", "server.process.cli", "serve"], port, database_url, workers)


def floor_command(port: int, database_url: str, workers: int) -> list[str]:
    return _serve_command(["-m", "bench.floor"], port, database_url, workers)


def _serve_command(module: list[str], port: int, database_url: str, workers: int) -> list[str]:
    options = ["--port", str(port), "--database-url", database_url, "--workers", str(workers)]
    return [sys.executable, *module, *options]


def answers_readyz(base_url: str) -> bool:
    return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200


def answers_graphql(base_url: str) -> bool:
    """For a GraphQL server without /readyz: it answers `{ __typename }`."""
    response = httpx.post(f"{base_url}/graphql", json={"query": "{ __typename }"}, timeout=2)
    return response.status_code == 200


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, all cores (/proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


@contextmanager
def running(
    name: str,
    command: list[str],
    port: int,
    env: dict[str, str],
    logs: Path,
    ready: Callable[[str], bool] = answers_readyz,
) -> Iterator[Service]:
    """Start a process, wait until it is `ready` (its /readyz answers 200), and stop it on
    the way out."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    service = Service(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(service, ready)
        yield service
    finally:
        _stop(process)


def _wait_ready(service: Service, ready: Callable[[str], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
            )
        try:
            if ready(service.base_url):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} was not ready in {READY_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # uvicorn stops its workers and exits
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left in the process group this process leads (start_new_session).
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
