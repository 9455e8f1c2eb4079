"""CORS for browser clients: which request headers a preflight may announce, and which
response headers browser code may read."""

from __future__ import annotations

import httpx
import pytest

from server.config.settings import Settings, SettingsError
from tests.hardening.api import WRITE
from tests.hardening.conftest import MakeClient

SHOP = "https://shop.example"
COUNT = "{ products { totalCount } }"

# What Apollo Client with tracing sends on a cross-origin POST.
FRONTEND_HEADERS = (
    "authorization",
    "content-type",
    "traceparent",
    "tracestate",
    "baggage",
    "apollographql-client-name",
    "apollographql-client-version",
    "catalog-consistency-token",  # read your writes behind replicas (docs/deployment.md)
)


async def preflight(client: httpx.AsyncClient, headers: str) -> httpx.Response:
    """The OPTIONS request a browser sends before a POST that carries `headers`."""
    return await client.options(
        "/graphql",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("header", FRONTEND_HEADERS)
async def test_a_preflight_for_a_common_frontend_header_passes(
    make_client: MakeClient, header: str
) -> None:
    response = await preflight(make_client(cors_origins=(SHOP,)), header)

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == SHOP
    allowed = response.headers["access-control-allow-headers"].lower().split(", ")
    assert header in allowed


async def test_a_preflight_for_all_of_them_at_once_passes(make_client: MakeClient) -> None:
    response = await preflight(make_client(cors_origins=(SHOP,)), ", ".join(FRONTEND_HEADERS))

    assert response.status_code == 200, response.text


async def test_a_preflight_for_an_unlisted_header_fails(make_client: MakeClient) -> None:
    response = await preflight(make_client(cors_origins=(SHOP,)), "content-type, x-debug")

    # A browser fails any preflight that is not a 2xx, whatever headers come with it.
    assert response.status_code == 400
    assert "x-debug" not in response.headers.get("access-control-allow-headers", "").lower()


async def test_the_allowed_headers_are_configurable(make_client: MakeClient) -> None:
    settings = Settings.from_env(
        {"CATALOG_CORS_ALLOW_HEADERS": "Authorization, Content-Type, X-Debug"}
    )
    client = make_client(cors_origins=(SHOP,), cors_allow_headers=settings.cors_allow_headers)

    custom = await preflight(client, "content-type, x-debug")
    dropped = await preflight(client, "traceparent")

    assert settings.cors_allow_headers == ("authorization", "content-type", "x-debug")
    assert custom.status_code == 200
    assert dropped.status_code == 400


def test_an_allowed_header_that_is_not_a_header_name_stops_the_server() -> None:
    with pytest.raises(SettingsError, match="CATALOG_CORS_ALLOW_HEADERS"):
        Settings.from_env({"CATALOG_CORS_ALLOW_HEADERS": "content-type, x debug"})


async def test_browser_code_may_read_the_request_id(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(SHOP,))

    response = await client.post(
        "/graphql", json={"query": COUNT}, headers={**WRITE, "Origin": SHOP}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    exposed = response.headers["access-control-expose-headers"].lower().split(", ")
    assert "x-request-id" in exposed
    assert response.headers["x-request-id"]


async def test_browser_code_may_read_a_consistency_token(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(SHOP,))

    response = await client.post(
        "/graphql", json={"query": COUNT}, headers={**WRITE, "Origin": SHOP}
    )

    exposed = response.headers["access-control-expose-headers"].lower().split(", ")
    assert "catalog-consistency-token" in exposed
