"""GraphiQL's page and files as the server sends them: every file from the server itself,
each exactly the vendored file the manifest names (by sha256), under a URL that changes
with its content and may be cached for a year; the page under a Content-Security-Policy
that allows its own origin only. tests/browser runs the page in Chromium."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.config.settings import Settings
from server.playground.page import VENDOR, manifest

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PACKAGES = {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}


async def page_urls(client: httpx.AsyncClient) -> list[str]:
    """The URLs of the page's scripts, stylesheets and icon, in the page's order."""
    page = await client.get("/graphql", headers=BROWSER)
    return re.findall(r'(?:src|href)="([^"]+)"', page.text)


async def test_the_page_is_served_to_browsers_under_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"  # no inline style
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert all("http" not in sources for sources in policy.values())
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text  # every script is a file


async def test_every_file_of_the_page_comes_from_the_server_itself(
    client: httpx.AsyncClient,
) -> None:
    urls = await page_urls(client)

    assert len(urls) == 9  # 5 scripts, 3 stylesheets, 1 icon
    assert all(url.startswith("/graphiql/") for url in urls), urls


async def test_each_vendored_file_is_served_exactly_as_the_manifest_says(
    client: httpx.AsyncClient,
) -> None:
    urls = await page_urls(client)
    files = manifest()["files"]

    served: dict[str, str] = {}
    for url in urls:
        response = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, url
        served[Path(url).name] = hashlib.sha256(response.content).hexdigest()

    for name, entry in files.items():
        stem, extension = name.rsplit(".", 1)
        served_name = f"{stem}.{entry['sha256'][:12]}.{extension}"
        assert served.get(served_name) == entry["sha256"], name
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == entry["sha256"]


def test_the_manifest_pins_every_package_with_its_licence() -> None:
    packages = manifest()["packages"]

    assert set(packages) == PACKAGES
    for name, package in packages.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), name
        assert package["integrity"].startswith("sha512-"), name
        assert package["license"] == "MIT", name
        licence = VENDOR / "licenses" / f"{name.lstrip('@').replace('/', '-')}.txt"
        assert "Permission is hereby granted" in licence.read_text(), name
    assert "react-compiler-runtime" in (VENDOR / "licenses" / "THIRD_PARTY.txt").read_text()


async def test_files_are_cached_for_a_year_and_compressed_on_request(
    client: httpx.AsyncClient,
) -> None:
    script = next(u for u in await page_urls(client) if re.search(r"/graphiql\.min\.\w+\.js$", u))

    plain = await client.get(script, headers={"Accept-Encoding": "identity"})
    compressed = await client.get(script, headers={"Accept-Encoding": "gzip, br"})

    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.content == plain.content  # httpx decodes gzip
    assert int(compressed.headers["content-length"]) < len(plain.content) / 2


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/graphiql.min.js",  # a name without its hash
        "/graphiql/graphiql.min.000000000000.js",  # a stale hash
        "/graphiql/manifest.json",
        "/graphiql/..%2Fsettings.py",
    ],
)
async def test_anything_else_under_graphiql_is_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404


@pytest.fixture
async def without_graphiql(database_url: str) -> AsyncIterator[Starlette]:
    app = create_app(
        Settings.from_env({"CATALOG_GRAPHIQL": "false"}).but(database_url=database_url)
    )
    yield app
    await app.state.engine.dispose()


async def test_graphiql_turned_off_serves_neither_page_nor_files(
    client: httpx.AsyncClient, without_graphiql: Starlette
) -> None:
    urls = await page_urls(client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=without_graphiql), base_url="http://test"
    ) as off:
        page = await off.get("/graphql", headers=BROWSER)
        files = [await off.get(url) for url in urls]

    assert page.status_code == 404
    assert "text/html" not in page.headers.get("content-type", "")
    assert [f.status_code for f in files] == [404] * len(urls)
