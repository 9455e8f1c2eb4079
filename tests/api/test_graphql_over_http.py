"""GraphQL over HTTP: content negotiation, the status of request errors under each media
type, and an `extensions.code` on every error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.request.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from tests.api.conftest import create_product

PARSE_ERROR = "{ products { nodes { name }"
VALIDATION_ERROR = "{ products { nodes { nam } } }"
COERCION_ERROR = "query ($first: Int!) { products(first: $first) { nodes { name } } }"
NAMES = "{ products { nodes { name } } }"

REQUEST_ERRORS = [
    pytest.param({"query": PARSE_ERROR}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": VALIDATION_ERROR}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": COERCION_ERROR, "variables": {"first": "ten"}}, "BAD_USER_INPUT", id="coercion"
    ),
]


async def post(client: httpx.AsyncClient, payload: dict[str, Any], accept: str) -> httpx.Response:
    return await client.post("/graphql", json=payload, headers={"Accept": accept})


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_under_graphql_response_json(
    client: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    response = await post(client, payload, GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_a_request_error_stays_200_with_null_data_under_application_json(
    client: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    response = await post(client, payload, JSON)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_a_limit_refusal_is_a_request_error_with_its_own_code(
    client: httpx.AsyncClient,
) -> None:
    deep = "{ products { nodes { tags { nodes { products { nodes { tags { nodes { products "
    deep += "{ nodes { tags { nodes { name } } } } } } } } } } } } }"

    response = await post(client, {"query": deep}, GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"


async def test_a_successful_query_answers_in_graphql_response_json_when_asked(
    client: httpx.AsyncClient,
) -> None:
    await create_product(client, "Lamp")

    response = await post(client, {"query": NAMES}, f"{GRAPHQL_RESPONSE_JSON}, {JSON};q=0.9")

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json() == {"data": {"products": {"nodes": [{"name": "Lamp"}]}}}


async def test_a_client_sending_no_accept_gets_application_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": NAMES}, headers={"Accept": ""})

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON


async def test_an_accept_the_server_cannot_satisfy_is_406(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": NAMES}, "text/plain, application/xml")

    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_mutation_over_get_is_refused_under_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { createTag(input: {name: "Sale"}) { tag { id } } }'},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 405
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_an_operation_name_that_is_not_a_string_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": NAMES, "operationName": {"a": 1}})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE_JSON),
        ("text/html, */*;q=0.8", JSON),
        ("text/html", None),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", None),
    ],
)
def test_negotiation_picks_the_media_type_the_client_prefers(
    accept: str | None, chosen: str | None
) -> None:
    assert negotiate(accept) == chosen
