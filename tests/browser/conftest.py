"""A real browser against a real server: the system's Chromium (Debian's `chromium`
package, which .ci/run installs), driven by Playwright, never a browser Playwright
downloads.

Each test gets a new Chromium with a new, empty profile; the server (a `catalog serve`
process with the demo catalog) is shared by the tests of a module. Without Chromium the
tests skip, except under CI (CI=true or CATALOG_TEST_REQUIRE_POSTGRES=1), where they fail.
The server runs on SQLite: the page and its HTTP surface are the subject here, and the
same requests are covered on both databases by tests/api and tests/hardening.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, Request, sync_playwright

from tests.e2e.conftest import ROOT, Server, _wait_until_ready, free_port, spawn_serve, stop

WRITE_TOKEN = "browser-write-token-5f3a9c"
REQUIRED = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1"
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Collects what a browser should never see on this page: script errors, console errors and
# Content-Security-Policy violations (each one a file or a style the page could not use).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = "Chromium is not installed (apt-get install chromium; .ci/run does it)"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def serve(directory: Path, port: int, **env: str) -> Iterator[Server]:
    """`catalog serve` on `port`, migrated and seeded with the demo catalog; stopped after."""
    environment = {
        **os.environ,
        "CATALOG_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'catalog.db'}",
        "CATALOG_WRITE_TOKENS": WRITE_TOKEN,
        **env,
    }
    for command in (["db", "upgrade"], ["seed", "--demo"]):
        subprocess.run(
            [sys.executable, "-m", "server.process.cli", *command],
            env=environment,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    with (directory / "server.log").open("wb") as log:
        started = spawn_serve(environment, port, log)
    try:
        _wait_until_ready(started)
        yield started
    finally:
        stop(started, timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("browser"), free_port()) as started:
        yield started


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@dataclass
class Browser:
    """A Chromium with a new, empty profile, and everything its pages asked for."""

    context: BrowserContext
    page: Page
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__violations || []")
        return found


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    executable = chromium_path()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=executable,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 860},
    )
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.pages[0] if context.pages else context.new_page()
    opened = Browser(context, page)
    context.on("request", lambda request: opened.requests.append(request))
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            opened.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()
