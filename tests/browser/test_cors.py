"""CORS as Chromium enforces it: a page of an allowed origin calls the API with the headers
frontend clients send, each call behind a real preflight, and reads x-request-id.

The page is the server's own /healthz under the name localhost, while the API is called
at 127.0.0.1: two origins, one server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import WRITE_TOKEN, Browser, serve
from tests.e2e.conftest import Server, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CALL = """async ([url, headers]) => {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query: "{ products(first: 1) { totalCount } }" }),
    });
    return {
      status: response.status,
      requestId: response.headers.get("x-request-id"),
      body: await response.json(),
    };
  } catch (error) {
    return { error: String(error) };
  }
}"""

FRONTEND_HEADERS = {
    "authorization": f"Bearer {WRITE_TOKEN}",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "vendor=opaque",
    "baggage": "tenant=shop",
    "apollographql-client-name": "storefront",
    "apollographql-client-version": "1.4.2",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    origin = f"http://localhost:{port}"
    with serve(tmp_path_factory.mktemp("cors"), port, CATALOG_CORS_ORIGINS=origin) as started:
        yield started


def call_from_allowed_origin(browser: Browser, api: Server, headers: dict[str, str]) -> Any:
    browser.page.goto(api.url.replace("127.0.0.1", "localhost") + "/healthz")
    return browser.page.evaluate(CALL, [api.graphql, headers])


def test_an_allowed_origin_may_send_tracing_and_client_headers(
    browser: Browser, api: Server
) -> None:
    result = call_from_allowed_origin(browser, api, FRONTEND_HEADERS)

    assert result.get("status") == 200, result
    assert result["body"]["data"]["products"]["totalCount"] > 0
    assert result["requestId"]  # exposed to the page's code


def test_a_header_that_is_not_allowed_fails_the_preflight(browser: Browser, api: Server) -> None:
    result = call_from_allowed_origin(browser, api, {"x-debug": "1"})

    assert "Failed to fetch" in result.get("error", ""), result
