"""Who may do what: bearer tokens, the CLI's refusal to serve open writes, CORS and CSRF.

Every mutation of the contract is sent the ways a caller without the right to write might
send it: no token, a wrong token, a read token, over GET. Each is refused with its status
and code, runs no SQL and changes no row. The same mutation with the write token does
change rows, so "nothing changed" is never vacuous.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from db.statements import record_statements
from server.observability.logs import JsonFormatter
from server.process import cli
from tests.hardening.api import (
    READ,
    READ_TOKEN,
    WRITE,
    Stored,
    bearer,
    codes,
    create_product,
    create_tag,
    post,
)
from tests.hardening.conftest import MakeClient

# -- a small catalog, and every mutation aimed at it ----------------------------------------


@dataclass(frozen=True)
class Catalog:
    lamp: str  # tagged Sale and New
    chair: str  # untagged
    sale: str
    new: str
    gift: str  # on no product


@pytest.fixture
async def catalog(make_client: MakeClient) -> Catalog:
    client = make_client()
    sale, new, gift = [await create_tag(client, name) for name in ("Sale", "New", "Gift")]
    lamp = await create_product(client, "Lamp", ["Sale", "New"])
    chair = await create_product(client, "Chair")
    return Catalog(lamp=lamp, chair=chair, sale=sale, new=new, gift=gift)


@dataclass(frozen=True)
class Mutation:
    field: str
    input_type: str
    input: Callable[[Catalog], dict[str, Any]]

    @property
    def document(self) -> str:
        return (
            f"mutation Change($input: {self.input_type}!) "
            f"{{ {self.field}(input: $input) {{ userErrors {{ code message }} }} }}"
        )

    def variables(self, catalog: Catalog) -> dict[str, Any]:
        return {"input": self.input(catalog)}


MUTATIONS = [
    Mutation(
        "createProduct", "CreateProductInput", lambda c: {"name": "Desk", "tagNames": ["Oak"]}
    ),
    Mutation("updateProduct", "UpdateProductInput", lambda c: {"id": c.lamp, "name": "Lamp II"}),
    Mutation("deleteProduct", "DeleteInput", lambda c: {"id": c.lamp}),
    Mutation("createTag", "CreateTagInput", lambda c: {"name": "Oak"}),
    Mutation("updateTag", "UpdateTagInput", lambda c: {"id": c.sale, "name": "Clearance"}),
    Mutation("deleteTag", "DeleteInput", lambda c: {"id": c.sale}),
    Mutation("addTags", "AddTagsInput", lambda c: {"productId": c.chair, "tagNames": ["Oak"]}),
    Mutation("setTags", "SetTagsInput", lambda c: {"productId": c.lamp, "tagIds": [c.gift]}),
    Mutation("removeTags", "RemoveTagsInput", lambda c: {"productId": c.lamp, "tagIds": [c.sale]}),
    Mutation(
        "addProducts", "AddProductsInput", lambda c: {"tagId": c.gift, "productIds": [c.chair]}
    ),
    Mutation(
        "removeProducts", "RemoveProductsInput", lambda c: {"tagId": c.sale, "productIds": [c.lamp]}
    ),
]

each_mutation = pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.field)


async def refused_without_writing(
    stored: Stored, send: Callable[[], Awaitable[httpx.Response]], status: int, code: str
) -> httpx.Response:
    """Send a request that must be refused: its status and code, no SQL, no row changed."""
    before = await stored.snapshot()
    with record_statements() as statements:
        response = await send()
    assert response.status_code == status, response.text
    assert codes(response.json()) == [code]
    assert statements.count == 0, statements.statements
    assert await stored.snapshot() == before
    return response


@each_mutation
async def test_mutation_with_the_write_token_changes_rows(
    make_client: MakeClient, catalog: Catalog, stored: Stored, mutation: Mutation
) -> None:
    client = make_client()
    before = await stored.snapshot()

    response = await post(client, mutation.document, mutation.variables(catalog), headers=WRITE)

    assert response.status_code == 200
    assert response.json()["data"][mutation.field]["userErrors"] == []
    assert await stored.snapshot() != before


@each_mutation
async def test_mutation_without_a_token_is_unauthenticated_and_writes_nothing(
    make_client: MakeClient, catalog: Catalog, stored: Stored, mutation: Mutation
) -> None:
    client = make_client()

    response = await refused_without_writing(
        stored,
        lambda: post(client, mutation.document, mutation.variables(catalog)),
        401,
        "UNAUTHENTICATED",
    )

    assert response.headers["www-authenticate"].startswith("Bearer")


@each_mutation
async def test_mutation_with_a_wrong_token_is_unauthenticated_and_writes_nothing(
    make_client: MakeClient, catalog: Catalog, stored: Stored, mutation: Mutation
) -> None:
    client = make_client()

    await refused_without_writing(
        stored,
        lambda: post(
            client, mutation.document, mutation.variables(catalog), headers=bearer("w-tokem")
        ),
        401,
        "UNAUTHENTICATED",
    )


@each_mutation
async def test_mutation_with_a_read_token_is_forbidden_and_writes_nothing(
    make_client: MakeClient, catalog: Catalog, stored: Stored, mutation: Mutation
) -> None:
    client = make_client(read_tokens=(READ_TOKEN,))

    await refused_without_writing(
        stored,
        lambda: post(client, mutation.document, mutation.variables(catalog), headers=READ),
        403,
        "FORBIDDEN",
    )


@each_mutation
async def test_mutation_over_get_is_not_allowed_and_writes_nothing(
    make_client: MakeClient, catalog: Catalog, stored: Stored, mutation: Mutation
) -> None:
    client = make_client()
    params = {
        "query": mutation.document,
        "variables": json.dumps(mutation.variables(catalog)),
    }

    response = await refused_without_writing(
        stored,
        lambda: client.get("/graphql", params=params, headers=WRITE),
        405,
        "METHOD_NOT_ALLOWED",
    )

    assert response.headers["allow"] == "POST"


# -- reading ---------------------------------------------------------------------------------

COUNT = "{ products { totalCount } }"


async def test_reads_need_no_token_when_no_read_tokens_are_set(make_client: MakeClient) -> None:
    response = await post(make_client(), COUNT)

    assert response.status_code == 200
    assert response.json() == {"data": {"products": {"totalCount": 0}}}


async def test_with_read_tokens_a_query_without_a_token_is_unauthenticated(
    make_client: MakeClient,
) -> None:
    client = make_client(read_tokens=(READ_TOKEN,))

    with record_statements() as statements:
        response = await post(client, COUNT)

    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert statements.count == 0


async def test_with_read_tokens_a_query_with_a_wrong_token_is_unauthenticated(
    make_client: MakeClient,
) -> None:
    client = make_client(read_tokens=(READ_TOKEN,))

    response = await post(client, COUNT, headers=bearer("r-tokem"))

    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("headers", [READ, WRITE], ids=["read token", "write token"])
async def test_with_read_tokens_a_query_with_a_read_or_write_token_is_answered(
    make_client: MakeClient, headers: dict[str, str]
) -> None:
    client = make_client(read_tokens=(READ_TOKEN,))

    response = await post(client, COUNT, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"data": {"products": {"totalCount": 0}}}


@pytest.mark.parametrize(
    "authorization", ["Basic dzp0b2tlbg==", "Bearer", "Bearer ", "w-token", "Token w-token"]
)
async def test_a_malformed_authorization_header_is_unauthenticated(
    make_client: MakeClient, authorization: str
) -> None:
    response = await post(make_client(), COUNT, headers={"Authorization": authorization})

    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]


# -- tokens never reach the logs --------------------------------------------------------------

SECRET_WRITE = "write-secret-4f7a91"
SECRET_READ = "read-secret-9c2e55"
SECRET_WRONG = "wrong-secret-1b3d08"
SECRET_VARIABLE = "variable-secret-77c1"


def everything_in(record: logging.LogRecord) -> str:
    """All a log record carries: message, arguments, extra fields, traceback, JSON line."""
    parts = [record.getMessage(), repr(record.args), JsonFormatter().format(record)]
    parts.extend(f"{key}={value!r}" for key, value in vars(record).items())
    return "\n".join(parts)


async def test_tokens_and_variables_never_appear_in_the_logs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(write_tokens=(SECRET_WRITE,), read_tokens=(SECRET_READ,))
    lookup = "query Find($name: String!) { tag(name: $name) { id } }"
    create = 'mutation Make { createTag(input: {name: "Oak"}) { tag { id } } }'
    caplog.set_level(logging.DEBUG)

    await post(client, lookup, {"name": SECRET_VARIABLE}, headers=bearer(SECRET_READ))
    await post(client, create, headers=bearer(SECRET_WRITE))
    await post(client, create, headers=bearer(SECRET_READ))
    await post(client, lookup, {"name": SECRET_VARIABLE}, headers=bearer(SECRET_WRONG))
    await client.get(
        "/graphql",
        params={"query": lookup, "variables": json.dumps({"name": SECRET_VARIABLE})},
        headers=bearer(SECRET_WRITE),
    )

    # Everything the server logged; the test's own HTTP client (httpx) logs URLs, not it.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    request_lines = [r for r in records if r.name == "catalog.request"]
    assert len(request_lines) == 5  # the logs were captured: one line per request
    assert {"request_id", "operation", "status", "outcome", "duration_ms", "statements"} <= set(
        request_lines[0].fields  # type: ignore[attr-defined]
    )
    logged = "\n".join(everything_in(record) for record in records)
    for token in (SECRET_WRITE, SECRET_READ, SECRET_WRONG):
        assert token not in logged
    # Variables stay out of every line at the server's log levels; only a driver's DEBUG
    # output (aiosqlite prints SQL parameters) could show them.
    info = "\n".join(everything_in(r) for r in records if r.levelno >= logging.INFO)
    assert SECRET_VARIABLE not in info


# -- the CLI will not serve open writes on a public address -----------------------------------


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CATALOG_* settings from outside; whatever `serve` exports is undone afterwards."""
    for name in ("CATALOG_WRITE_TOKENS", "CATALOG_READ_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CATALOG_DATABASE_URL", "sqlite+aiosqlite:///./catalog.db")
    # These tests are about who may write, not the database: uvicorn never really starts.
    monkeypatch.setenv("CATALOG_STARTUP_CHECK", "false")


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Calls to uvicorn.run, recorded instead of starting a server."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "catalog.example"])
def test_serve_refuses_a_public_host_without_write_tokens(
    serve_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    host: str,
) -> None:
    def must_not_start(*_args: Any, **_kwargs: Any) -> None:
        pytest.fail("uvicorn.run was called: the server started with open writes")

    monkeypatch.setattr(uvicorn, "run", must_not_start)

    exit_code = cli.main(["serve", "--host", host])

    assert exit_code == 2
    message = capsys.readouterr().err
    assert f"refusing to listen on {host}" in message
    assert "CATALOG_WRITE_TOKENS" in message
    assert "--allow-open-writes" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_serve_starts_on_loopback_without_write_tokens(
    serve_env: None, uvicorn_runs: list[dict[str, Any]], host: str
) -> None:
    exit_code = cli.main(["serve", "--host", host])

    assert exit_code == 0
    assert [call["host"] for call in uvicorn_runs] == [host]


def test_serve_starts_on_a_public_host_with_write_tokens(
    serve_env: None, monkeypatch: pytest.MonkeyPatch, uvicorn_runs: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("CATALOG_WRITE_TOKENS", "some-token")

    assert cli.main(["serve", "--host", "0.0.0.0"]) == 0
    assert [call["host"] for call in uvicorn_runs] == ["0.0.0.0"]


def test_serve_starts_open_on_a_public_host_only_when_told_and_warns(
    serve_env: None, uvicorn_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", "0.0.0.0", "--allow-open-writes"]) == 0
    assert len(uvicorn_runs) == 1
    assert "WARNING" in capsys.readouterr().err


# -- CORS: no browser origin is trusted unless configured -------------------------------------

SHOP = "https://shop.example"
OTHER = "https://evil.example"


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_by_default_no_origin_is_allowed(make_client: MakeClient) -> None:
    client = make_client()

    answer = await client.post("/graphql", json={"query": COUNT}, headers={"Origin": SHOP})
    check = await client.options("/graphql", headers=preflight(SHOP))

    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in check.headers
    assert check.status_code >= 400


async def test_a_configured_origin_passes_the_preflight(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(SHOP,))

    check = await client.options("/graphql", headers=preflight(SHOP))
    answer = await client.post("/graphql", json={"query": COUNT}, headers={"Origin": SHOP})

    assert check.status_code == 200
    assert check.headers["access-control-allow-origin"] == SHOP
    assert "POST" in check.headers["access-control-allow-methods"]
    assert "authorization" in check.headers["access-control-allow-headers"].lower()
    assert answer.headers["access-control-allow-origin"] == SHOP


async def test_another_origin_fails_the_preflight(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(SHOP,))

    check = await client.options("/graphql", headers=preflight(OTHER))
    answer = await client.post("/graphql", json={"query": COUNT}, headers={"Origin": OTHER})

    assert check.status_code == 400
    assert "access-control-allow-origin" not in check.headers
    assert "access-control-allow-origin" not in answer.headers


# -- CSRF: a browser's "simple" requests cannot carry a mutation ------------------------------
# The danger is a server with open writes (no write tokens, on loopback): any web page could
# make the browser POST a form or text/plain to it, or load a GET URL. None of these may write.

FORGED = 'mutation { createTag(input: {name: "Forged"}) { tag { id } } }'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps({"query": FORGED})),
        ("text/plain;charset=UTF-8", json.dumps({"query": FORGED})),
        ("application/x-www-form-urlencoded", urlencode({"query": FORGED})),
        (
            "multipart/form-data; boundary=x",
            f'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{FORGED}\r\n--x--\r\n',
        ),
    ],
    ids=["text/plain", "text/plain;charset", "form-urlencoded", "multipart"],
)
async def test_a_simple_cross_site_post_cannot_write(
    make_client: MakeClient, stored: Stored, content_type: str, body: str
) -> None:
    client = make_client(write_tokens=())
    before = await stored.snapshot()

    with record_statements() as statements:
        response = await client.post(
            "/graphql",
            content=body.encode(),
            headers={"Content-Type": content_type, "Origin": OTHER},
        )

    assert 400 <= response.status_code < 500
    assert statements.count == 0
    assert await stored.snapshot() == before


async def test_a_cross_site_get_cannot_write(make_client: MakeClient, stored: Stored) -> None:
    client = make_client(write_tokens=())
    before = await stored.snapshot()

    response = await client.get("/graphql", params={"query": FORGED}, headers={"Origin": OTHER})

    assert response.status_code == 405
    assert await stored.snapshot() == before


async def test_open_writes_do_accept_a_json_post(make_client: MakeClient, stored: Stored) -> None:
    """The control for the two tests above: the same mutation as JSON does write."""
    client = make_client(write_tokens=())

    response = await post(client, FORGED)

    assert response.status_code == 200
    assert response.json()["data"]["createTag"]["tag"] is not None
    assert len((await stored.snapshot())["tags"]) == 1
