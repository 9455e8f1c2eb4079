"""Persisted queries: Apollo's automatic persisted queries, over POST and GET, in memory
and in Redis; and trusted documents, where only listed operations run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.caches.documents import MemoryDocuments, sha256_hex
from server.config.settings import Settings, SettingsError
from server.request.media import GRAPHQL_RESPONSE_JSON
from tests.api.conftest import WRITE_TOKEN, create_product, snapshot
from tests.apps import MakeClient, app_clients
from tests.services import redis_url

NAMES = "query Names { products { nodes { name } } }"
CREATE_TAG = 'mutation CreateTag { createTag(input: {name: "Sale"}) { tag { name } } }'
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.fixture
async def make_client(database_url: str) -> AsyncIterator[MakeClient]:
    """Apps built from settings (the write token set), each with an httpx client."""
    async with app_clients(database_url, WRITE_TOKEN, base_url="http://test", headers=AUTH) as make:
        yield make


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}


async def by_hash(client: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"extensions": persisted(query)}, headers=headers)


async def by_hash_over_get(client: httpx.AsyncClient, query: str) -> httpx.Response:
    params = {"extensions": json.dumps(persisted(query))}
    return await client.get("/graphql", params=params)


async def register(client: httpx.AsyncClient, query: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "extensions": persisted(query)})


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


LAMP = {"data": {"products": {"nodes": [{"name": "Lamp"}]}}}


# -- automatic persisted queries ----------------------------------------------------------


async def test_an_unknown_hash_is_persisted_query_not_found(make_client: MakeClient) -> None:
    response = await by_hash(make_client(), NAMES)

    assert response.status_code == 200
    assert code(response) == "PERSISTED_QUERY_NOT_FOUND"
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert response.headers["cache-control"] == "no-store"


async def test_not_found_is_a_400_under_graphql_response_json(make_client: MakeClient) -> None:
    response = await by_hash(make_client(), NAMES, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_NOT_FOUND"


async def test_hash_and_query_register_the_query_for_post_and_get(
    make_client: MakeClient,
) -> None:
    client = make_client()
    await create_product(client, "Lamp")

    registered = await register(client, NAMES)
    over_post = await by_hash(client, NAMES)
    over_get = await by_hash_over_get(client, NAMES)

    assert registered.json() == LAMP
    assert over_post.json() == LAMP
    assert over_get.status_code == 200
    assert over_get.json() == LAMP


async def test_a_hash_that_is_not_the_querys_is_refused_and_registers_nothing(
    make_client: MakeClient,
) -> None:
    client = make_client()
    other = "{ tags { nodes { name } } }"

    mismatch = await client.post("/graphql", json={"query": other, "extensions": persisted(NAMES)})
    afterwards = await by_hash(client, NAMES)

    assert code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "data" not in mismatch.json()
    assert code(afterwards) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_persisted_mutation_over_get_is_refused_and_changes_nothing(
    make_client: MakeClient,
) -> None:
    client = make_client()
    registered = await client.post(
        "/graphql",
        json={"query": CREATE_TAG, "extensions": persisted(CREATE_TAG)},
    )
    before = await snapshot(client)

    response = await by_hash_over_get(client, CREATE_TAG)

    assert registered.status_code == 200
    assert response.status_code == 405
    assert code(response) == "METHOD_NOT_ALLOWED"
    assert await snapshot(client) == before


async def test_a_malformed_persisted_query_is_400(make_client: MakeClient) -> None:
    response = await make_client().post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}
    )

    assert response.status_code == 400
    assert code(response) == "BAD_REQUEST"


async def test_the_memory_store_is_bounded_by_entries_and_by_size() -> None:
    store = MemoryDocuments(entries=2, characters=10)

    await store.put("a", "1234")
    await store.put("b", "1234")
    await store.get("a")  # now the most recently used
    await store.put("c", "1234")  # three entries: "b" goes
    await store.put("d", "12345678")  # 16 characters: "a" and "c" go

    assert [await store.get(k) for k in "abcd"] == [None, None, None, "12345678"]
    assert len(store) == 1


async def test_queries_registered_through_one_app_are_found_by_another_over_redis(
    make_client: MakeClient, tmp_path: Path
) -> None:
    namespace = f"apq-test-{tmp_path.name}"
    settings = {"response_cache": redis_url(), "response_cache_namespace": namespace}
    one, two = make_client(**settings), make_client(**settings)
    await create_product(one, "Lamp")

    await register(one, NAMES)
    response = await by_hash(two, NAMES)

    assert response.json() == LAMP


async def test_a_redis_that_is_down_breaks_no_request(make_client: MakeClient) -> None:
    client = make_client(response_cache="redis://127.0.0.1:1/0")  # nothing listens there
    await create_product(client, "Lamp")

    first = await by_hash(client, NAMES)
    registered = await register(client, NAMES)

    assert code(first) == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.status_code == 200
    assert registered.json() == LAMP


async def test_a_get_by_hash_shares_the_response_cache_entry_of_its_query(
    make_client: MakeClient,
) -> None:
    client = make_client(response_cache="memory")
    await create_product(client, "Lamp")
    registered = await register(client, NAMES)

    by_get = await by_hash_over_get(client, NAMES)

    assert (registered.headers["x-cache"], by_get.headers["x-cache"]) == ("miss", "hit")
    assert by_get.json() == LAMP


# -- trusted documents ----------------------------------------------------------------------


def trusted(*documents: str) -> dict[str, str]:
    return {sha256_hex(d): d for d in documents}


async def test_trusted_documents_run_by_hash_by_document_id_and_in_full(
    make_client: MakeClient,
) -> None:
    client = make_client(trusted_documents=trusted(NAMES, CREATE_TAG))
    created = await client.post("/graphql", json={"query": CREATE_TAG})

    await create_product(make_client(), "Lamp")  # through an app with no list
    answers = [
        await by_hash(client, NAMES),
        await client.post("/graphql", json={"documentId": f"sha256:{sha256_hex(NAMES)}"}),
        await client.get("/graphql", params={"documentId": sha256_hex(NAMES)}),
        await client.post("/graphql", json={"query": NAMES}),
    ]

    assert created.json() == {"data": {"createTag": {"tag": {"name": "Sale"}}}}
    assert [a.json() for a in answers] == [LAMP] * 4


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"query": "{ products { nodes { id } } }"}, id="another query"),
        pytest.param({"query": CREATE_TAG}, id="an unlisted mutation"),
        pytest.param({"extensions": persisted(CREATE_TAG)}, id="an unlisted hash"),
        pytest.param({"query": CREATE_TAG, "extensions": persisted(CREATE_TAG)}, id="apq"),
    ],
)
async def test_with_trusted_documents_anything_else_is_refused_and_changes_nothing(
    make_client: MakeClient, payload: dict[str, Any]
) -> None:
    client = make_client(trusted_documents=trusted(NAMES))
    before = await snapshot(make_client())

    response = await client.post("/graphql", json=payload)

    assert code(response) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "data" not in response.json()
    assert await snapshot(make_client()) == before


def test_a_trusted_documents_file_is_loaded_at_start(tmp_path: Path) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps(trusted(NAMES)))

    settings = Settings.from_env({"CATALOG_TRUSTED_DOCUMENTS": str(path)})

    assert dict(settings.trusted_documents or {}) == trusted(NAMES)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "cannot be read", id="missing"),
        pytest.param("{", "is not JSON", id="not json"),
        pytest.param("[]", "must be a non-empty JSON object", id="a list"),
        pytest.param(json.dumps({"0" * 64: NAMES}), "not the SHA-256", id="wrong hash"),
        pytest.param(json.dumps(trusted("{ products")), "does not parse", id="bad document"),
    ],
)
def test_a_bad_trusted_documents_file_is_one_line_naming_the_setting(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "persisted-documents.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CATALOG_TRUSTED_DOCUMENTS": str(path)})

    message = str(raised.value)
    assert message.startswith("CATALOG_TRUSTED_DOCUMENTS=")
    assert reason in message
    assert "\n" not in message
