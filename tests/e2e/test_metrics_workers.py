"""/metrics of `catalog serve --workers 2`: every worker's counts, summed, whichever answers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.e2e.conftest import (
    Server,
    StartServer,
    _wait_until_ready,
    free_port,
    spawn_serve,
    stop,
)
from tests.server.metrics_page import Samples, parse, value

pytestmark = pytest.mark.e2e

QUERY = "query CountProducts { products { totalCount } }"
REQUESTS = 60


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """`catalog serve --workers 2`, sharing its metrics in a directory the test can see."""
    metrics_dir = tmp_path / "metrics"
    environment = {
        **os.environ,
        "CATALOG_DATABASE_URL": database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = spawn_serve(environment, port, log, "--workers", "2")
    try:
        _wait_until_ready(server)
        yield server, metrics_dir
    finally:
        stop(server, timeout=15)


def per_worker(metrics_dir: Path, tmp_path: Path) -> dict[str, Samples]:
    """Each worker's own samples: its files alone, read the way /metrics reads them all."""
    by_pid: dict[str, Samples] = {}
    for counter in metrics_dir.glob("counter_*.db"):
        pid = counter.stem.split("_")[1]
        alone = tmp_path / f"worker-{pid}"
        alone.mkdir()
        for own in metrics_dir.glob(f"*_{pid}.db"):
            shutil.copy(own, alone / own.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        by_pid[pid] = parse(generate_latest(registry).decode())
    return by_pid


def test_metrics_sum_the_counts_of_both_workers(
    two_workers: tuple[Server, Path], tmp_path: Path
) -> None:
    server, metrics_dir = two_workers

    def one_request(_: int) -> int:
        # A connection per request, so that both workers take a share.
        response = httpx.post(server.graphql, json={"query": QUERY}, timeout=10)
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(one_request, range(REQUESTS))) == [200] * REQUESTS

    series = {"operation": "CountProducts", "type": "query", "outcome": "ok"}
    workers = per_worker(metrics_dir, tmp_path)
    counts = [value(samples, "catalog_requests_total", **series) for samples in workers.values()]
    assert len(workers) == 2
    assert sum(counts) == REQUESTS
    assert all(count > 0 for count in counts), counts  # both workers served some
    for _ in range(6):  # whichever worker answers the scrape, it reports both workers' counts
        page = httpx.get(f"{server.url}/metrics", timeout=10)
        assert page.status_code == 200
        assert value(parse(page.text), "catalog_requests_total", **series) == REQUESTS

    # Workers that stop leave the sums of the live gauges (pool in use, waiting).
    assert list(metrics_dir.glob("gauge_livesum_*.db"))
    server.process.terminate()
    server.process.wait(timeout=30)
    assert list(metrics_dir.glob("gauge_livesum_*.db")) == []
    assert list(metrics_dir.glob("counter_*.db"))  # counters stay: they are totals


def test_one_worker_counts_in_memory_with_no_metrics_directory(
    database_url: str, start_server: StartServer, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"  # where the CLI would make a metrics directory
    scratch.mkdir()
    environment = {"TMPDIR": str(scratch), "PROMETHEUS_MULTIPROC_DIR": ""}
    server = start_server(database_url, **environment)
    for _ in range(3):
        response = httpx.post(server.graphql, json={"query": QUERY}, timeout=10)
        assert "errors" not in response.json(), response.text
    page = parse(httpx.get(f"{server.url}/metrics", timeout=10).text)
    series = {"operation": "CountProducts", "type": "query", "outcome": "ok"}
    assert value(page, "catalog_requests_total", **series) == 3
    # One process keeps its counts in memory: no directory of metric files was made.
    assert list(scratch.iterdir()) == []
