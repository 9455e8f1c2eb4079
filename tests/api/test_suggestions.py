"""With introspection off the schema stays private: no error message suggests a name of it
("Did you mean ...?"), whatever kind of name was misspelled. With introspection on, the
suggestions help as they always did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config.settings import Settings
from tests.api.conftest import WRITE_TOKEN, gql

# (what is misspelled, document, variables, a name the suggestion would reveal)
Case = tuple[str, str, dict[str, Any] | None, str]
CASES: list[Case] = [
    ("field", "{ produc { id } }", None, "products"),
    ("mutation", 'mutation { createTg(input: {name: "x"}) { tag { id } } }', None, "createTag"),
    ("argument", "{ products(frist: 1) { totalCount } }", None, "first"),
    (
        "type",
        "query ($f: ProductFiltr) { products(filter: $f) { totalCount } }",
        None,
        "ProductFilter",
    ),
    (
        "enum value",
        '{ products { nodes { hasTags(names: ["x"], match: AL) } } }',
        None,
        "ALL",
    ),
    (
        "input field",
        'mutation { createTag(input: {nme: "x"}) { tag { id } } }',
        None,
        "name",
    ),
    (
        "enum value in a variable",
        'query ($m: Match!) { products { nodes { hasTags(names: ["x"], match: $m) } } }',
        {"m": "AL"},
        "ALL",
    ),
    (
        "input field in a variable",
        "mutation ($i: CreateTagInput!) { createTag(input: $i) { tag { id } } }",
        {"i": {"name": "x", "nme": "y"}},
        "name",
    ),
]


@pytest.fixture(params=[False, True], ids=["introspection-off", "introspection-on"])
async def private_or_public(
    request: pytest.FixtureRequest, database_url: str
) -> AsyncIterator[tuple[bool, httpx.AsyncClient]]:
    introspection: bool = request.param
    settings = Settings(
        database_url=database_url, write_tokens=(WRITE_TOKEN,), introspection=introspection
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
    ) as client:
        yield introspection, client
    await app.state.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])  # nothing here reaches the database
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
async def test_suggestions_appear_only_when_introspection_is_on(
    private_or_public: tuple[bool, httpx.AsyncClient], case: Case
) -> None:
    introspection, client = private_or_public
    _kind, document, variables, revealed = case

    body = await gql(client, document, variables)

    messages = " ".join(error["message"] for error in body["errors"])
    if introspection:
        assert "Did you mean" in messages and f"'{revealed}'" in messages, messages
    else:
        assert "Did you mean" not in messages, messages
