"""The response cache never serves an answer that a write has made stale."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from db.statements import record_statements
from server.app import create_app
from server.config.settings import Settings
from tests.services import redis_url

WRITE = "cache-write-token"
READ = "cache-read-token"

Gql = Callable[..., Awaitable[httpx.Response]]


def gid(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


@pytest.fixture(params=["memory", "redis"])
def cache_setting(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory"
    return redis_url()


@pytest.fixture
async def client(database_url: str, cache_setting: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url,
        write_tokens=(WRITE,),
        read_tokens=(READ,),
        response_cache=cache_setting,
        response_cache_namespace=f"test-{uuid.uuid4().hex}",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.engine.dispose()


async def call(
    client: httpx.AsyncClient, query: str, token: str = WRITE, **variables: Any
) -> httpx.Response:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


PRODUCT = """query ($id: ID!) { product(id: $id) { name
  tags { totalCount nodes { name } } } }"""
TAG = """query ($name: String!) { tag(name: $name) { name
  products { totalCount nodes { name } } } }"""
LISTS = "{ products { totalCount nodes { name } } tags { totalCount nodes { name } } }"


async def setup_catalog(client: httpx.AsyncClient) -> None:
    for name, tags in [("Lamp", ["Sale", "Red"]), ("Mug", ["Sale"]), ("Desk", [])]:
        await call(
            client,
            "mutation ($n: String!, $t: [String!]) "
            "{ createProduct(input: {name: $n, tagNames: $t}) { userErrors { code } } }",
            n=name,
            t=tags,
        )


async def warm(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """Ask twice; the second answer must come from the cache, without SQL beyond the version."""
    first = await call(client, query, **variables)
    with record_statements() as statements:
        second = await call(client, query, **variables)
    assert second.headers["x-cache"] == "hit"
    assert statements.count == 1  # the data version, nothing else
    assert second.json() == first.json()
    return dict(second.json()["data"])


async def test_repeated_query_is_answered_from_the_cache(client: httpx.AsyncClient) -> None:
    await setup_catalog(client)
    first = await call(client, PRODUCT, id=gid("Product", 1))
    assert first.headers["x-cache"] == "miss"
    await warm(client, PRODUCT, id=gid("Product", 1))


async def test_differently_formatted_documents_share_an_entry(client: httpx.AsyncClient) -> None:
    await setup_catalog(client)
    await call(client, "{ products { totalCount } }")
    again = await call(client, "query {\n  products {\n    totalCount # how many\n  }\n}")
    assert again.headers["x-cache"] == "hit"


async def test_access_levels_do_not_share_entries(client: httpx.AsyncClient) -> None:
    await setup_catalog(client)
    await warm(client, LISTS)
    as_reader = await call(client, LISTS, token=READ)
    assert as_reader.headers["x-cache"] == "miss"


async def test_mutations_are_never_cached(client: httpx.AsyncClient) -> None:
    await setup_catalog(client)
    mutation = 'mutation { createTag(input: {name: "Once"}) { tag { name } userErrors { code } } }'
    await call(client, mutation)
    again = await call(client, mutation)
    assert "x-cache" not in again.headers
    assert again.json()["data"]["createTag"]["userErrors"] == [{"code": "CONFLICT"}]


# setup_catalog creates tags in name-key order within a call: red is Tag 1, sale is Tag 2.
RED, SALE = gid("Tag", 1), gid("Tag", 2)

WRITES: list[tuple[str, str, dict[str, Any], str, dict[str, Any], Callable[[dict[str, Any]], Any]]]
WRITES = [
    (
        "addTags",
        'mutation ($p: ID!) { addTags(input: {productId: $p, tagNames: ["New"]}) '
        "{ userErrors { code } } }",
        {"p": gid("Product", 1)},
        PRODUCT,
        {"id": gid("Product", 1)},
        lambda d: [t["name"] for t in d["product"]["tags"]["nodes"]],
    ),
    (
        "setTags",
        'mutation ($p: ID!) { setTags(input: {productId: $p, tagNames: ["Blue"]}) '
        "{ userErrors { code } } }",
        {"p": gid("Product", 1)},
        PRODUCT,
        {"id": gid("Product", 1)},
        lambda d: [t["name"] for t in d["product"]["tags"]["nodes"]],
    ),
    (
        "removeTags",
        'mutation ($p: ID!) { removeTags(input: {productId: $p, tagNames: ["red"]}) '
        "{ userErrors { code } } }",
        {"p": gid("Product", 1)},
        PRODUCT,
        {"id": gid("Product", 1)},
        lambda d: d["product"]["tags"]["totalCount"],
    ),
    (
        "updateProduct",
        'mutation ($p: ID!) { updateProduct(input: {id: $p, name: "Floor lamp"}) '
        "{ userErrors { code } } }",
        {"p": gid("Product", 1)},
        TAG,
        {"name": "sale"},
        lambda d: [p["name"] for p in d["tag"]["products"]["nodes"]],
    ),
    (
        "deleteProduct",
        "mutation ($p: ID!) { deleteProduct(input: {id: $p}) { userErrors { code } } }",
        {"p": gid("Product", 2)},
        TAG,
        {"name": "sale"},
        lambda d: d["tag"]["products"]["totalCount"],
    ),
    (
        "updateTag (a rename shows in other products' tags)",
        'mutation ($t: ID!) { updateTag(input: {id: $t, name: "On sale"}) '
        "{ userErrors { code } } }",
        {"t": SALE},
        PRODUCT,
        {"id": gid("Product", 2)},
        lambda d: [t["name"] for t in d["product"]["tags"]["nodes"]],
    ),
    (
        "deleteTag",
        "mutation ($t: ID!) { deleteTag(input: {id: $t}) { userErrors { code } } }",
        {"t": SALE},
        PRODUCT,
        {"id": gid("Product", 2)},
        lambda d: d["product"]["tags"]["totalCount"],
    ),
    (
        "addProducts",
        "mutation ($t: ID!, $p: ID!) { addProducts(input: {tagId: $t, productIds: [$p]}) "
        "{ userErrors { code } } }",
        {"t": RED, "p": gid("Product", 3)},
        TAG,
        {"name": "red"},
        lambda d: d["tag"]["products"]["totalCount"],
    ),
    (
        "removeProducts",
        "mutation ($t: ID!, $p: ID!) { removeProducts(input: {tagId: $t, productIds: [$p]}) "
        "{ userErrors { code } } }",
        {"t": SALE, "p": gid("Product", 1)},
        TAG,
        {"name": "sale"},
        lambda d: d["tag"]["products"]["totalCount"],
    ),
    (
        "createProduct",
        'mutation { createProduct(input: {name: "Chair"}) { userErrors { code } } }',
        {},
        LISTS,
        {},
        lambda d: d["products"]["totalCount"],
    ),
    (
        "createTag",
        'mutation { createTag(input: {name: "Oak"}) { userErrors { code } } }',
        {},
        LISTS,
        {},
        lambda d: d["tags"]["totalCount"],
    ),
]


@pytest.mark.parametrize(
    ("mutation", "variables", "query", "query_variables", "observe"),
    [w[1:] for w in WRITES],
    ids=[w[0] for w in WRITES],
)
async def test_no_stale_read_after_a_write(
    client: httpx.AsyncClient,
    mutation: str,
    variables: dict[str, Any],
    query: str,
    query_variables: dict[str, Any],
    observe: Callable[[dict[str, Any]], Any],
) -> None:
    await setup_catalog(client)
    before = observe(await warm(client, query, **query_variables))

    response = await call(client, mutation, **variables)
    assert not next(iter(response.json()["data"].values()))["userErrors"]

    after = await call(client, query, **query_variables)
    assert after.headers["x-cache"] == "miss"
    assert observe(after.json()["data"]) != before
