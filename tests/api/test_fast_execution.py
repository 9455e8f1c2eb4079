"""The lean query executor answers exactly as graphql-core does, on any valid query."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.workloads import W1, W2, W3, W4, W5
from db.seed import seed_demo
from resolvers.context import RequestContext
from schema import CatalogSchema, breadth_first, build_schema, execution
from tests.api.conftest import gql, gql_data


def reference_schema() -> CatalogSchema:
    """The same schema with Strawberry's own execution context class: graphql-core runs all."""
    schema = build_schema()
    schema.execution_context_class = schema.default_execution_context_class
    return schema


FAST, REFERENCE = build_schema(), reference_schema()


def gid(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    async with sessions() as session:
        await seed_demo(session, products_count=25)
    yield


async def both(
    sessions: async_sessionmaker[AsyncSession], query: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = []
    for schema in (FAST, REFERENCE):
        async with sessions() as session:
            result = await schema.execute(
                query, variable_values=variables, context_value=RequestContext(db=session)
            )
        errors = [error.formatted for error in result.errors or ()]
        answers.append({"data": result.data, "errors": errors})
    return answers[0], answers[1]


CORPUS = [
    "{ products(first: 50) { nodes { id name tags { nodes { id name } } } } }",
    "{ products(first: 20) { nodes { name tags { nodes { name products(first: 10)"
    " { nodes { name } } } } } } }",
    "{ products(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor"
    " endCursor } edges { cursor node { databaseId createdAt updatedAt"
    " tags(first: 2) { totalCount edges { cursor priority addedAt node { name } } } } } } }",
    '{ tags(first: 5, filter: {nameContains: "e"}) { totalCount nodes { __typename name'
    " products(first: 2) { totalCount pageInfo { endCursor } nodes { name } } } } }",
    '{ a: product(id: "UHJvZHVjdDox") { name x: hasTags(names: ["sale", "nope"], match: ANY) }'
    ' b: product(id: "bad") { name } c: tag(name: " SALE ") { name } }',
    '{ node(id: "UHJvZHVjdDox") { id ... on Product { name } } }',
    "{ products(first: 101) { nodes { id } } }",
    '{ products(after: "junk") { nodes { id } } }',
    "{ products { nodes { id @include(if: false) name } } }",
    "{ products(last: 3, orderBy: {field: NAME, direction: DESC}) { pageInfo { hasNextPage"
    " hasPreviousPage startCursor } nodes { name tags(orderBy: {field: ADDED_AT}, last: 2,"
    " filter: {priority: {gte: 0, lte: 3}}) { totalCount edges { cursor priority } } } } }",
    "{ tags(orderBy: {field: CREATED_AT}, first: 4) { edges { cursor node { name"
    ' products(orderBy: {field: PRIORITY}, filter: {addedAt: {gte: "2000-01-01T00:00:00Z"}})'
    " { totalCount nodes { name } } } } } }",
    "{ products(first: 2, last: 2) { nodes { id } } }",
    "{ tags(last: 101) { nodes { id } } }",
    '{ tags(before: "junk", orderBy: {field: DATABASE_ID}) { nodes { id } } }',
    '{ products { nodes { tags(filter: {addedAt: {lte: "2030-01-01T00:00:00"}})'
    " { totalCount } } } }",
]


@pytest.mark.parametrize("query", CORPUS)
async def test_lean_and_reference_executors_agree(
    sessions: async_sessionmaker[AsyncSession], seeded: None, query: str
) -> None:
    fast, reference = await both(sessions, query)
    assert_agree(fast, reference)


async def test_variables_are_honoured_alike(
    sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    query = (
        "query ($id: ID!, $n: Int) { product(id: $id) { name tags(first: $n) { nodes { name } } } }"
    )
    for variables in ({"id": gid("Product", 2), "n": 1}, {"id": gid("Product", 3)}, {"id": 5}):
        fast, reference = await both(sessions, query, variables)
        assert_agree(fast, reference)


IDS = st.one_of(
    st.integers(1, 30).map(lambda n: gid("Product", n)),
    st.integers(1, 40).map(lambda n: gid("Tag", n)),
    st.text(max_size=12),
).map(lambda value: graphql.StringValueNode(value=value))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(FAST.as_str(), custom_scalars={"ID": IDS}))
async def test_generated_queries_agree(
    sessions: async_sessionmaker[AsyncSession], seeded: None, query: str
) -> None:
    note(query)
    fast, reference = await both(sessions, query)
    assert_agree(fast, reference)


def assert_agree(fast: dict[str, Any], reference: dict[str, Any]) -> None:
    """Same data and errors. When an error nulls the whole response, graphql-core stops
    its other fields as they stand, so how many more errors it reports depends on timing,
    even between two runs of graphql-core itself: then both must null the data, with errors.
    Errors are listed in the order fields finished, so they are compared as sets."""
    if reference["data"] is None and fast["data"] is None:
        assert fast["errors"] and reference["errors"]
        return
    assert fast["data"] == reference["data"]
    assert sorted(fast["errors"], key=repr) == sorted(reference["errors"], key=repr)


@pytest.mark.parametrize(
    "query",
    [
        CORPUS[0],
        CORPUS[1],
        '{ node(id: "UHJvZHVjdDox") { id ... on Product { name tags { nodes { name } } } } }',
        "query Page { products(first: 2) { ...card } } fragment card on ProductConnection"
        " { nodes { name } }",
        CORPUS[-6],
        CORPUS[-5],
    ],
)
async def test_plain_queries_take_the_lean_path(
    sessions: async_sessionmaker[AsyncSession], seeded: None, query: str
) -> None:
    fallbacks, lean = execution.fallbacks(), execution.lean_runs()
    async with sessions() as session:
        result = await FAST.execute(query, context_value=RequestContext(db=session))
    assert result.errors is None
    assert result.data
    assert execution.fallbacks() == fallbacks
    assert execution.lean_runs() == lean + 1


async def test_benchmark_workloads_take_the_lean_path(
    client: httpx.AsyncClient, seeded: None
) -> None:
    """W1, W2, W3 and W5 (queries) run on the lean path, W4 (a mutation) on graphql-core's
    serial path; none falls back. An upgrade that turns the lean path off fails here."""
    mine = await gql_data(client, '{ product(id: "UHJvZHVjdDox") { tags { nodes { id } } } }')
    own = [tag["id"] for tag in mine["product"]["tags"]["nodes"]]
    every = await gql_data(client, "{ tags(first: 100) { nodes { id } } }")
    others = [tag["id"] for tag in every["tags"]["nodes"] if tag["id"] not in own]
    variables: dict[str, dict[str, Any] | None] = {
        "W1": None,
        "W2": None,
        "W3": {"id": gid("Product", 1)},
        "W4": {"product": gid("Product", 1), "tags": others[:3]},
        "W5": {"tags": own[:2]},
    }
    queries = {"W1": W1, "W2": W2, "W3": W3, "W4": W4, "W5": W5}
    for name, query in queries.items():
        fallbacks, lean = execution.fallbacks(), execution.lean_runs()
        body = await gql(client, query, variables[name])
        assert "errors" not in body, (name, body)
        assert execution.fallbacks() == fallbacks, name
        assert execution.lean_runs() == lean + (name != "W4"), name


async def test_constant_arguments_are_coerced_once_per_document(
    sessions: async_sessionmaker[AsyncSession], seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arguments that name no variable are coerced on a document's first run only; those
    that do, and lists (a resolver could change one in place), on every run. Each run
    answers as graphql-core does."""
    coerced: list[str] = []
    coerce = breadth_first.get_argument_values

    def counting(field_def: Any, node: graphql.FieldNode, *args: Any) -> dict[str, Any]:
        coerced.append((node.alias or node.name).value)
        return coerce(field_def, node, *args)

    monkeypatch.setattr(breadth_first, "get_argument_values", counting)
    query = (
        'query ($n: Int) { product(id: "UHJvZHVjdDoy") { name'
        ' hasTags(names: ["sale", "nope"], match: ANY) tags(first: $n) { nodes { name } }'
        " more: tags(first: 1, orderBy: {field: NAME, direction: DESC}) { nodes { name } }"
        " plain: tags { totalCount } } }"
        # A document of this run's own: each database's run starts with nothing kept.
        f" # {uuid.uuid4()}"
    )
    runs = []
    for n in (1, 2, 1):
        fast, reference = await both(sessions, query, {"n": n})
        assert_agree(fast, reference)
        assert not fast["errors"]
        runs.append(sorted(coerced))
        coerced.clear()
    assert runs[0] == ["hasTags", "more", "plain", "product", "tags"]
    # product's ID and plain's defaults are kept; more's input object is a dict.
    assert runs[1] == runs[2] == ["hasTags", "more", "tags"]
