"""The lean executor fails exactly as graphql-core does: located errors with true paths,
nulls propagated to the nearest nullable position, extensions' resolve hooks and
is_type_of honoured, and each operation run once.

A small schema of its own makes every kind of failure happen on purpose: resolvers that
raise (synchronously and after awaiting), nulls and wrong values in non-null positions,
wrong objects for a type with is_type_of, at every depth and inside lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import strawberry
from graphql import parse
from strawberry.extensions import SchemaExtension

from schema import CatalogSchema, execution, shortcuts
from schema.compat import graphql_schema
from schema.shapes import shape_of


@strawberry.type
class Leaf:
    n: int

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, Leaf)

    @strawberry.field
    def fails(self) -> int | None:
        if self.n % 3 == 0:
            raise ValueError(f"leaf {self.n} fails")
        return self.n

    @strawberry.field
    def must(self) -> int:
        return None if self.n % 4 == 0 else self.n  # type: ignore[return-value]

    @strawberry.field
    def must_fail(self) -> int:
        if self.n % 5 == 0:
            raise ValueError(f"leaf {self.n} must fail")
        return self.n

    @strawberry.field
    async def later(self) -> str | None:
        await asyncio.sleep(0)
        if self.n % 2 == 0:
            raise ValueError(f"leaf {self.n} fails later")
        return str(self.n)

    @strawberry.field
    def count(self) -> int | None:
        return "many" if self.n == 7 else self.n  # type: ignore[return-value]

    @strawberry.field
    def path(self, info: strawberry.Info) -> str:
        return ".".join(map(str, info.path.as_list()))


@strawberry.type
class Branch:
    n: int

    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [Leaf(n=self.n * 10 + i) for i in range(4)]

    @strawberry.field
    def maybe_leaves(self) -> list[Leaf | None] | None:
        return [Leaf(n=self.n * 10 + i) if i % 2 else None for i in range(4)]

    @strawberry.field
    def leaf(self) -> Leaf:
        return Leaf(n=self.n)

    @strawberry.field
    def imposter(self) -> Leaf | None:
        return Branch(n=self.n) if self.n % 2 else Leaf(n=self.n)  # type: ignore[return-value]

    @strawberry.field
    def items(self) -> list[int | None]:
        return [1, None, "x" if self.n == 1 else 3]  # type: ignore[list-item]

    @strawberry.field
    def strict_items(self) -> list[int]:
        return [1, None] if self.n == 2 else [1, 2]  # type: ignore[list-item]

    @strawberry.field
    def either(self) -> list[Annotated[Leaf | Branch, strawberry.union("Either")]]:
        return [Leaf(n=self.n), Branch(n=self.n + 1)]


@strawberry.type
class Labelled:
    """Plain data fields: read straight from the attribute (schema.shortcuts), and written
    into the response as they are when their scalar would serialize them unchanged."""

    name: str
    code: strawberry.ID
    on: bool


# Values as the lean path writes them, values a scalar converts (5 -> "5", 1 -> true),
# nulls in non-null positions and values a scalar refuses.
LABELLED: list[Any] = [
    Labelled(name="a", code=strawberry.ID("1"), on=True),
    Labelled(name=None, code=strawberry.ID("2"), on=False),  # type: ignore[arg-type]
    Labelled(name=5, code=7, on=1),  # type: ignore[arg-type]
    Labelled(name="d", code=None, on="yes"),  # type: ignore[arg-type]
    None,
]


@strawberry.type
class Query:
    @strawberry.field
    def labelled(self) -> list[Labelled | None]:
        return LABELLED

    @strawberry.field
    def must_labelled(self) -> list[Labelled]:
        return LABELLED[:1] + LABELLED[2:3]

    @strawberry.field
    def branches(self, count: int = 3) -> list[Branch]:
        return [Branch(n=n) for n in range(1, count + 1)]

    @strawberry.field
    def maybe_branches(self) -> list[Branch | None] | None:
        return [Branch(n=1), None, Branch(n=3)]

    @strawberry.field
    async def branch(self, n: int) -> Branch | None:
        return Branch(n=n)

    @strawberry.field
    def must_branch(self, n: int) -> Branch:
        return Branch(n=n)

    @strawberry.field
    def boom(self) -> int | None:
        raise ValueError("boom")

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]


class CountResolves(SchemaExtension):
    calls: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountResolves.calls.append(".".join(map(str, info.path.as_list())))
        return _next(root, info, *args, **kwargs)


def schemas(extensions: tuple[Any, ...] = ()) -> tuple[CatalogSchema, CatalogSchema]:
    lean = CatalogSchema(query=Query, extensions=extensions)
    reference = CatalogSchema(query=Query, extensions=extensions)
    reference.execution_context_class = reference.default_execution_context_class
    for schema in (lean, reference):
        shortcuts.install(schema)  # the attribute resolvers, as the catalog schema has them
    return lean, reference


LEAN, REFERENCE = schemas()

# Synchronous resolvers only: graphql-core's order of errors is deterministic, and the lean
# executor must give the same order.
ORDERED = [
    "{ branches { n leaves { n fails } } }",
    "{ branches { leaves { must } } }",
    "{ branches { n leaf { must } } boom }",
    "{ mustBranch(n: 4) { leaf { must } } boom }",
    "{ boom mustBranch(n: 4) { leaf { must } } }",
    "{ maybeBranches { n maybeLeaves { n must fails } } }",
    "{ branches(count: 5) { leaves { mustFail n } maybeLeaves { mustFail } } }",
    "{ branches { items strictItems } }",
    "{ branches { leaves { count } } }",
    "{ branches { imposter { n } } }",
    "{ branches(count: 4) { either { __typename ... on Leaf { n fails }"
    " ... on Branch { leaf { must } } } } }",
    "{ notAList boom }",
    "{ a: branches(count: 2) { leaves { must } } b: branches(count: 5) { leaf { mustFail } } }",
    "{ branches(count: 6) { leaves { path } leaf { path } } }",
    "{ mustBranch(n: 5) { leaves { mustFail } } }",
    "{ labelled { name code on } }",
    "{ labelled { on code } mustLabelled { name on } }",
    "{ a: labelled { n: name } b: mustLabelled { c: code } }",
]

# Awaiting resolvers: graphql-core lists errors as awaitables settle; compared as sets.
UNORDERED = [
    "{ branches(count: 4) { leaves { later n } } }",
    "{ branch(n: 2) { leaves { later must } leaf { later } } }",
    "{ a: branch(n: 1) { leaf { later } } b: branch(n: 4) { leaf { must } } }",
]


async def run(schema: CatalogSchema, query: str) -> dict[str, Any]:
    result = await schema.execute(query)
    return {"data": result.data, "errors": [error.formatted for error in result.errors or ()]}


@pytest.fixture
def counted() -> Iterator[None]:
    fallbacks, lean = execution.fallbacks(), execution.lean_runs()
    yield
    assert execution.fallbacks() == fallbacks, "a query fell back to graphql-core"
    assert execution.lean_runs() > lean


@pytest.mark.parametrize("query", ORDERED)
async def test_errors_and_nulls_match_graphql_core_in_order(query: str, counted: None) -> None:
    assert await run(LEAN, query) == await run(REFERENCE, query)


@pytest.mark.parametrize("query", UNORDERED)
async def test_errors_of_awaited_resolvers_match_graphql_core(query: str, counted: None) -> None:
    lean, reference = await run(LEAN, query), await run(REFERENCE, query)
    assert lean["data"] == reference["data"]
    assert sorted(lean["errors"], key=repr) == sorted(reference["errors"], key=repr)


async def test_a_failing_query_runs_each_resolver_once(counted: None) -> None:
    calls: list[str] = []

    class Once(CountResolves):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(".".join(map(str, info.path.as_list())))
            return _next(root, info, *args, **kwargs)

    lean, _reference = schemas((Once,))
    result = await lean.execute("{ branches(count: 2) { n leaves { fails } } boom }")
    assert result.errors
    assert len(calls) == len(set(calls)) == 1 + 2 * 2 + 8 + 1


async def test_extension_resolve_hooks_run_as_often_on_both_paths(counted: None) -> None:
    query = "{ branches(count: 3) { __typename n leaves { n later } leaf { must } } }"
    counts = []
    for schema in schemas((CountResolves,)):
        CountResolves.calls = []
        await schema.execute(query)
        counts.append(sorted(CountResolves.calls))
    assert counts[0] == counts[1]
    assert len(counts[0]) == 1 + 3 * (3 + 4 * 2 + 1 + 1)


async def test_resolvers_see_their_true_path(counted: None) -> None:
    result = await LEAN.execute("{ branches(count: 2) { leaves { path } } }")
    assert result.data is not None
    paths = [leaf["path"] for branch in result.data["branches"] for leaf in branch["leaves"]]
    assert paths[0] == "branches.0.leaves.0.path"
    assert paths[-1] == "branches.1.leaves.3.path"


async def test_is_type_of_refuses_a_wrong_object(counted: None) -> None:
    result = await LEAN.execute("{ branches(count: 1) { imposter { n } } }")
    assert result.data == {"branches": [{"imposter": None}]}
    assert result.errors is not None
    assert result.errors[0].path == ["branches", 0, "imposter"]
    assert "Expected value of type 'Leaf'" in result.errors[0].message


async def test_plain_data_fields_are_read_as_leaves(counted: None) -> None:
    """The fast write of plain leaves is what the queries above exercise."""
    graphql = graphql_schema(LEAN)
    operation = parse("{ labelled { name code on } }").definitions[0]
    shape = shape_of(graphql, operation, {})  # type: ignore[arg-type]
    root = shape.fields(graphql.query_type, shape.root)  # type: ignore[arg-type]
    labelled = graphql.get_type("Labelled")
    fields = shape.fields(labelled, root[0].nodes)  # type: ignore[arg-type]
    assert [(f.key, f.leaf and f.leaf[1]) for f in fields] == [
        ("name", str),
        ("code", str),
        ("on", bool),
    ]
    assert await run(LEAN, "{ labelled { name code on } }") == await run(
        REFERENCE, "{ labelled { name code on } }"
    )
