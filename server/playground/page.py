"""GraphiQL, served by the server itself: no file of the page comes from another host.

The page (server/playground/graphiql/index.html) is answered at /graphql to browsers; its
scripts and stylesheets are GraphiQL's, React's and the explorer plugin's browser builds,
vendored from npm by scripts/vendor_graphiql.py into server/playground/graphiql/vendor/ (with
their licences and a manifest of sha256 checksums), plus the page's own page.js and page.css.

Each file is served at /graphiql/<name>.<first 12 hex digits of its sha256>.<ext>, so its
URL changes whenever its content does and browsers may keep it for a year without asking
again. The page itself is revalidated on every load, and carries a Content-Security-Policy
that allows scripts, styles, images, fonts and requests from the server's own origin only
(fonts and images also as data: URIs, which GraphiQL's stylesheet and script embed): no
inline script, no eval, no inline style element or attribute.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FILES = Path(__file__).parent / "graphiql"
VENDOR = FILES / "vendor"
PREFIX = "/graphiql/"
# The page's own files beside the vendored ones.
OWN_FILES = ("page.js", "page.css", "icon.svg")

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept-Encoding",
}


@dataclass(frozen=True)
class Asset:
    """One file of the page, under the name it is served by."""

    source: str  # its name under server/playground/graphiql/ (vendor/ for vendored ones)
    url: str  # /graphiql/<stem>.<hash>.<ext>
    content: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Playground:
    page: bytes
    assets: Mapping[str, Asset]  # by URL


def manifest() -> dict[str, dict[str, dict[str, str]]]:
    """The vendored packages and files with their checksums, as the vendor script wrote."""
    loaded: dict[str, dict[str, dict[str, str]]] = json.loads(
        (VENDOR / "manifest.json").read_text()
    )
    return loaded


@cache
def playground() -> Playground:
    """The page and its files, read once per process: they are part of the package."""
    sources = {name: VENDOR / name for name in manifest()["files"]}
    sources.update({name: FILES / name for name in OWN_FILES})
    assets: dict[str, Asset] = {}
    page = (FILES / "index.html").read_text()
    for name, path in sources.items():
        content = path.read_bytes()
        stem, dot, extension = name.rpartition(".")
        digest = hashlib.sha256(content).hexdigest()[:12]
        url = f"{PREFIX}{stem}.{digest}{dot}{extension}"
        assets[url] = Asset(name, url, content, MEDIA_TYPES[f".{extension}"])
        page = page.replace("{{" + name + "}}", url)
    if "{{" in page:
        raise RuntimeError("server/playground/graphiql/index.html names a file that is not served")
    return Playground(page.encode(), assets)


def page_response() -> Response:
    """GraphiQL's page, as answered at /graphql to a browser."""
    return Response(playground().page, media_type="text/html", headers=PAGE_HEADERS)


@cache
def _gzipped(url: str) -> bytes:
    return gzip.compress(playground().assets[url].content, compresslevel=6, mtime=0)


async def asset(request: Request) -> Response:
    """One file of the page by its hashed URL; any other name is 404."""
    found = playground().assets.get(request.url.path)
    if found is None:
        raise HTTPException(404, "No such file of GraphiQL's page")
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            _gzipped(found.url),
            media_type=found.media_type,
            headers={**ASSET_HEADERS, "Content-Encoding": "gzip"},
        )
    return Response(found.content, media_type=found.media_type, headers=ASSET_HEADERS)


ROUTE = Route(PREFIX + "{name}", asset, methods=["GET"])
