"""The image's start, outside a container: the Dockerfile's entrypoint and health check,
run as the image runs them, on a fresh SQLite volume and on a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.conftest import ROOT, Server, _wait_until_ready, free_port

pytestmark = pytest.mark.e2e

DOCKERFILE = (ROOT / "Dockerfile").read_text()
TOKEN = "image-write-token"
POSTGRES_URL = os.environ.get("CATALOG_TEST_POSTGRES_URL", "")


def dockerfile_exec_form(instruction: str) -> list[str]:
    """The exec-form (JSON array) command of a Dockerfile instruction."""
    found = re.search(rf"^{instruction}\b.*?(\[.*?\])\s*$", DOCKERFILE, re.M | re.S)
    assert found, f"no exec-form {instruction} in the Dockerfile"
    command: list[str] = json.loads(found.group(1))
    return command


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database the image has never seen: a file on an empty volume, or a new database."""
    if request.param == "sqlite":
        volume = tmp_path / "data"  # the image's VOLUME
        volume.mkdir()
        yield f"sqlite+aiosqlite:///{volume}/catalog.db"
        return
    if not POSTGRES_URL:
        pytest.skip("CATALOG_TEST_POSTGRES_URL is not set")
    name = f"catalog_image_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def image_environment(database_url: str, port: int, **more: str) -> dict[str, str]:
    """The environment the Dockerfile gives the image, with this test's database and port.

    HOST stays on loopback here (the image listens on 0.0.0.0 inside its container).
    """
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
        "CATALOG_DATABASE_URL": database_url,
        "CATALOG_WRITE_TOKENS": TOKEN,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        **more,
    }


def run_image(environment: dict[str, str], workdir: Path) -> Server:
    entrypoint = dockerfile_exec_form("ENTRYPOINT")
    assert entrypoint == ["docker-entrypoint.sh"]
    assert "COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" in DOCKERFILE
    process = subprocess.Popen(
        [str(ROOT / entrypoint[0])],
        env=environment,
        cwd=workdir,
        stdout=(workdir / "image.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{environment['PORT']}", process)
    _wait_until_ready(server, timeout=60)
    return server


def stop(server: Server) -> None:
    """SIGTERM, as `docker stop` sends it to the container's first process: the entrypoint
    exec'd the server, so the server itself gets it and stops listening."""
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    assert code in (0, -signal.SIGTERM), code  # uvicorn re-raises the signal once shut down
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=2)


def product_count(server: Server) -> int:
    response = httpx.post(
        server.graphql,
        json={"query": "{ products { totalCount } }"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    count: int = response.json()["data"]["products"]["totalCount"]
    return count


def test_the_image_migrates_seeds_the_demo_and_serves(fresh_database: str, tmp_path: Path) -> None:
    port = free_port()
    environment = image_environment(fresh_database, port, CATALOG_DEMO_SEED="1")

    server = run_image(environment, tmp_path)
    try:
        assert product_count(server) == 300  # the demo catalog
        healthcheck = dockerfile_exec_form("HEALTHCHECK")
        assert subprocess.run(healthcheck, env=environment, timeout=10).returncode == 0
    finally:
        stop(server)

    # A restart on the same volume (or database): migrations and seeding have nothing to do.
    again = run_image(environment, tmp_path)
    try:
        assert product_count(again) == 300
    finally:
        stop(again)


def test_without_the_demo_seed_the_catalog_starts_empty(
    fresh_database: str, tmp_path: Path
) -> None:
    port = free_port()
    environment = {
        k: v for k, v in image_environment(fresh_database, port).items() if k != "CATALOG_DEMO_SEED"
    }
    server = run_image(environment, tmp_path)
    try:
        assert product_count(server) == 0
    finally:
        stop(server)


def test_the_healthcheck_fails_when_nothing_answers() -> None:
    healthcheck = dockerfile_exec_form("HEALTHCHECK")
    environment = {**os.environ, "PORT": str(free_port())}
    result = subprocess.run(healthcheck, env=environment, capture_output=True, timeout=10)
    assert result.returncode != 0
