"""When a library internal an optimisation relies on moves, that optimisation turns off with
one warning and a metric, and the server still answers the same.

Each test takes one internal away the way an upgrade would (a renamed function, a changed
signature, a renamed constructor argument), builds the app, and compares its answer with
the answer of an app built before.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry.types
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.workloads import W1, W3
from db.seed import seed_demo
from schema import build_schema, compat, execution, shortcuts
from tests.api.conftest import WRITE_TOKEN, gql
from tests.apps import MakeClient, app_clients

QUERIES = [(W1, None), (W3, {"id": "UHJvZHVjdDoy"})]


@pytest.fixture
async def make(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[MakeClient]:
    monkeypatch.setattr(compat, "_disabled", {})  # what this test turns off, alone
    async with sessions() as session:
        await seed_demo(session, products_count=12)
    async with app_clients(database_url, WRITE_TOKEN, base_url="http://test") as make:
        yield make


async def answers(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [await gql(client, query, variables) for query, variables in QUERIES]


async def metrics(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and f"optimisation {name} is off" in r.getMessage()
    ]


async def test_a_changed_executor_method_turns_the_lean_path_off(
    make: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await answers(make())
    default = build_schema().default_execution_context_class
    original = default.build_resolve_info

    def build_resolve_info(self: Any, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        return original(self, field_def, nodes, parent, path)

    monkeypatch.setattr(default, "build_resolve_info", build_resolve_info)
    client, other = make(), make()
    lean = execution.lean_runs()
    assert await answers(client) == expected
    assert await answers(other) == expected
    assert execution.lean_runs() == lean
    assert len(warnings_about(caplog, "lean_executor")) == 1
    assert 'catalog_optimisation_disabled{name="lean_executor"} 1.0' in await metrics(client)


async def test_a_renamed_default_resolver_check_turns_attribute_reads_off(
    make: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await answers(make())
    monkeypatch.delattr("strawberry.resolvers.is_default_resolver")
    client = make()
    assert await answers(client) == expected
    schema = build_schema()
    product = compat.graphql_schema(schema).type_map["Product"]
    assert isinstance(product, GraphQLObjectType)
    fields = product.fields.values()
    assert not any(shortcuts.ignores_info(field.resolve) for field in fields)
    assert len(warnings_about(caplog, "plain_attribute_resolvers")) == 1
    assert 'catalog_optimisation_disabled{name="plain_attribute_resolvers"} 1.0' in await metrics(
        client
    )


async def test_a_renamed_info_argument_turns_direct_resolver_calls_off(
    make: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await answers(make())
    fields = dict(strawberry.types.Info.__dataclass_fields__)
    renamed = copy.copy(fields.pop("_raw_info"))
    renamed.name = "_graphql_info"
    fields[renamed.name] = renamed
    monkeypatch.setattr(strawberry.types.Info, "__dataclass_fields__", fields)
    client = make()
    assert await answers(client) == expected
    assert len(warnings_about(caplog, "direct_resolvers")) == 1
    assert 'catalog_optimisation_disabled{name="direct_resolvers"} 1.0' in await metrics(client)


async def test_fallbacks_and_lean_runs_are_counted_by_reason(make: MakeClient) -> None:
    client = make()
    await gql(client, "{ products(first: 2) { nodes { id name @include(if: true) } } }")
    await gql(client, "{ __schema { queryType { name } } }")
    await gql(client, W1)
    page = await metrics(client)
    assert 'catalog_executor_fallbacks_total{reason="directives"} 1.0' in page
    assert 'catalog_executor_fallbacks_total{reason="introspection"} 1.0' in page
    assert "catalog_executor_lean_total 1.0" in page
    assert "catalog_optimisation_disabled{" not in page
