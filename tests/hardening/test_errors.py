"""What a client sees when something goes wrong: masked surprises, helpful mistakes.

An unexpected exception reaches the client as "Internal server error" with a request id
(the same as the x-request-id header), and nothing of its detail; the log has the detail
under that id. A client's own mistakes keep their exact, helpful messages. A malformed
request is a 4xx or a GraphQL error that says what is wrong, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

import db.catalog
import db.readers
import resolvers.queries
from tests.hardening.api import WRITE, codes, create_product, post
from tests.hardening.conftest import MakeClient

SECRET = "secret SQL detail"


async def fail_async(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


def assert_masked(response: httpx.Response, path: list[Any]) -> str:
    """The response carries one masked error at `path`; returns its request id."""
    assert response.status_code == 200
    for leak in (SECRET, "Traceback", "RuntimeError", ".py"):
        assert leak not in response.text
    [error] = response.json()["errors"]
    request_id: str = response.headers["x-request-id"]
    assert error == {
        "message": f"Internal server error (request id {request_id})",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        "path": path,
    }
    return request_id


def assert_logged_with_traceback(caplog: pytest.LogCaptureFixture, request_id: str) -> None:
    """The log has the whole exception under the request id, and the request's line."""
    [record] = [r for r in caplog.records if r.name == "catalog.request" and r.exc_info]
    assert record.fields["request_id"] == request_id  # type: ignore[attr-defined]
    formatted = logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
    assert "Traceback" in formatted and SECRET in formatted
    [line] = [r for r in caplog.records if r.name == "catalog.request" and r.msg == "request"]
    assert line.fields["request_id"] == request_id  # type: ignore[attr-defined]
    assert line.fields["outcome"] == "internal_error"  # type: ignore[attr-defined]


async def test_an_exception_in_a_resolver_is_masked_and_logged(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resolvers.queries, "products", fail_async)
    caplog.set_level(logging.INFO)

    response = await post(make_client(), "{ products { totalCount } }")

    request_id = assert_masked(response, ["products"])
    assert_logged_with_traceback(caplog, request_id)


async def test_an_exception_in_a_batch_reader_is_masked_and_logged(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    await create_product(client, "Lamp", ["Sale"])
    monkeypatch.setattr(db.readers, "tags_for_products", fail_async)
    caplog.set_level(logging.INFO)

    response = await post(client, "{ products { nodes { name tags { nodes { name } } } } }")

    request_id = assert_masked(response, ["products", "nodes", 0, "tags"])
    assert_logged_with_traceback(caplog, request_id)


async def test_an_exception_in_a_write_is_masked_and_logged(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db.catalog.Catalog, "create_tag", fail_async)
    caplog.set_level(logging.INFO)
    mutation = 'mutation { createTag(input: {name: "Oak"}) { tag { id } } }'

    response = await post(make_client(), mutation, headers=WRITE)

    request_id = assert_masked(response, ["createTag"])
    assert_logged_with_traceback(caplog, request_id)


async def test_every_request_gets_its_own_request_id(make_client: MakeClient) -> None:
    client = make_client()

    ids = {(await post(client, "{ __typename }")).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


# -- the client's own mistakes keep their exact messages ----------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ products { nodes { nam } } }",
            "Cannot query field 'nam' on type 'Product'. Did you mean 'name'?",
        ),
        (
            "{ product { id } }",
            "Argument 'Query.product(id:)' of type 'ID!' is required, but it was not provided.",
        ),
        (
            "{ products(frist: 5) { totalCount } }",
            "Unknown argument 'frist' on field 'Query.products'. Did you mean 'first' or 'last'?",
        ),
        ('{ products(first: "5") { totalCount } }', 'Int cannot represent non-integer value: "5"'),
        (
            "{ products }",
            "Field 'products' of type 'ProductConnection!' must have a selection of subfields."
            " Did you mean 'products { ... }'?",
        ),
        (
            '{ products(after: "nope") { totalCount } }',
            "`after`: 'nope' is not a valid cursor",
        ),
        ('{ tag(id: "x", name: "y") { id } }', "Give exactly one of `id` and `name`"),
    ],
)
async def test_a_mistake_keeps_its_helpful_message(
    make_client: MakeClient, query: str, message: str
) -> None:
    response = await post(make_client(), query)

    assert response.status_code == 200
    assert [error["message"] for error in response.json()["errors"]] == [message]
    assert "INTERNAL_SERVER_ERROR" not in codes(response.json())


# -- malformed requests: a 4xx or a GraphQL error, never a 500 ----------------------------------

JSON = {"Content-Type": "application/json"}
COUNT = "{ products { totalCount } }"


def body(content: bytes, **headers: str) -> dict[str, Any]:
    return {"method": "POST", "content": content, "headers": headers or JSON}


def payload(**fields: Any) -> dict[str, Any]:
    return {"method": "POST", "json": fields}


def query_string(**params: str) -> dict[str, Any]:
    return {"method": "GET", "params": params}


MALFORMED: list[tuple[str, dict[str, Any], int, str]] = [
    # (case, request, status, what the message must say)
    ("not JSON", body(b"{"), 400, "Unable to parse request body as JSON"),
    ("not UTF-8", body(b"\xff\xfe{}"), 400, "Unable to parse request body as JSON"),
    ("JSON nested too deep", body(b"[" * 5000 + b"]" * 5000), 400, "Unable to parse"),
    ("JSON number", body(b"5"), 400, "The request body must be a JSON object"),
    ("JSON string", body(b'"x"'), 400, "The request body must be a JSON object"),
    ("JSON null", body(b"null"), 400, "The request body must be a JSON object"),
    ("JSON true", body(b"true"), 400, "The request body must be a JSON object"),
    ("no content type", body(b'{"query": "{ __typename }"}', **{"Content-Type": ""}), 400,
     "Unsupported content type"),
    ("text/plain", body(b'{"query": "{ __typename }"}', **{"Content-Type": "text/plain"}), 400,
     "Unsupported content type"),
    ("missing query", payload(), 400, "No GraphQL query found in the request"),
    ("empty query", payload(query=""), 400, "No GraphQL query found in the request"),
    ("query not a string", payload(query=5), 400, "`query` must be a string"),
    ("syntax error", payload(query="{ products {"), 200, "Syntax Error"),
    ("unknown operationName", payload(query="query A { __typename }", operationName="B"), 400,
     'Unknown operation named "B"'),
    ("operationName not a string", payload(query=COUNT, operationName=5), 400,
     "`operationName` must be a string or null"),
    ("variable of the wrong type",
     payload(query="query ($n: Int) { products(first: $n) { totalCount } }",
             variables={"n": "ten"}), 200,
     "Variable '$n' has invalid value: Int cannot represent non-integer value: 'ten'"),
    ("required variable missing", payload(query="query ($id: ID!) { node(id: $id) { id } }"), 200,
     "Variable '$id' has invalid value: Expected a value of non-null type 'ID!' to be provided."),
    ("variables a number", payload(query=COUNT, variables=5), 400,
     "`variables` must be an object"),
    ("variables a list", payload(query=COUNT, variables=[1]), 400,
     "`variables` must be an object"),
    ("variables a string", payload(query=COUNT, variables="{}"), 400,
     "`variables` must be an object"),
    ("extensions a list", payload(query=COUNT, extensions=[1]), 400,
     "`extensions` must be an object"),
    ("GET variables not JSON", query_string(query=COUNT, variables="{"), 400, "variables"),
    ("GET variables a list", query_string(query=COUNT, variables="[1]"), 400, "variables"),
    ("GET variables a number", query_string(query=COUNT, variables="5"), 400, "variables"),
    ("huge body", body(b'{"query": "' + b" " * (1024 * 1024) + b'"}'), 413,
     "The request body may be at most 1048576 bytes"),
    ("PUT", {"method": "PUT", "json": {"query": COUNT}}, 405, ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_args", "status", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
async def test_a_malformed_request_gets_a_clear_answer(
    make_client: MakeClient, request_args: dict[str, Any], status: int, message: str
) -> None:
    response = await make_client().request(url="/graphql", **request_args)

    assert response.status_code == status, response.text
    if status == 405:
        return  # refused by routing, before the GraphQL view
    errors = response.json()["errors"]
    assert message in errors[0]["message"], errors
    assert "INTERNAL_SERVER_ERROR" not in codes(response.json())


async def test_several_operations_without_an_operation_name_are_refused(
    make_client: MakeClient,
) -> None:
    """Which one to run is the client's to say (GraphQL spec, GetOperation), not a guess.

    A 400 or a GraphQL error both do; running the first operation does not.
    """
    query = "query A { products { totalCount } } query B { tags { totalCount } }"

    response = await post(make_client(), query)

    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None, body
    assert "operation name" in body["errors"][0]["message"].lower()


@pytest.mark.parametrize("items", [[1, 2], ["x"], [None], [[]]], ids=repr)
async def test_a_batch_of_things_that_are_not_operations_is_a_bad_request(
    make_client: MakeClient, items: list[Any]
) -> None:
    response = await make_client(max_batch=2).post("/graphql", json=items)

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"]


async def test_a_field_failing_beside_a_field_still_loading_is_answered_cleanly(
    make_client: MakeClient,
) -> None:
    """GraphQL gives up on the loading sibling; the request must still end cleanly.

    The node lookup waits on a DataLoader batch that runs on the request's session; the
    bad cursor fails `products` (non-null), so the data is null and the request ends while
    that batch may still be using the session.
    """
    client = make_client()
    product = await create_product(client, "Lamp")

    response = await post(
        client, f'{{ node(id: "{product}") {{ id }} products(after: "") {{ totalCount }} }}'
    )

    assert response.status_code == 200, response.text
    assert codes(response.json()) == ["BAD_USER_INPUT"]
