"""A document is planned once: parsed, validated and analysed on first use, then reused."""

from __future__ import annotations

from typing import Any

import graphql
import pytest
import strawberry.schema.schema
from strawberry.extensions import AddValidationRules

import schema.plans
from resolvers.limits import Limits
from schema import build_schema
from schema.compat import graphql_schema
from schema.plans import Plans

PRODUCTS = "query Page($n: Int) { products(first: $n) { nodes { id name } } }"


class Calls:
    def __init__(self) -> None:
        self.count = 0

    def counting(self, function: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return function(*args, **kwargs)

        return call


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Every parse, whether by the plans or by Strawberry itself."""
    calls = Calls()
    monkeypatch.setattr(schema.plans, "parse", calls.counting(graphql.parse))
    monkeypatch.setattr(strawberry.schema.schema, "parse", calls.counting(graphql.parse))
    return calls


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()
    original = schema.plans.validate_document
    monkeypatch.setattr(schema.plans, "validate_document", calls.counting(original))
    return calls


def plans(size: int = 1024, **limits: Any) -> Plans:
    return Plans(graphql_schema(build_schema()), Limits(**limits), size=size)


def test_a_repeated_document_is_planned_once(parses: Calls, validations: Calls) -> None:
    planned = plans()

    first = planned.plan(PRODUCTS, "Page")
    again = planned.plan(PRODUCTS, "Page")

    assert again is first
    assert (planned.made, parses.count, validations.count) == (1, 1, 1)
    assert first.operation_type == "query" and first.chosen_name == "Page"
    assert first.cache_text == graphql.print_ast(graphql.parse(PRODUCTS))


async def test_a_repeated_execution_parses_and_validates_once(
    parses: Calls, validations: Calls
) -> None:
    catalog = build_schema()

    for _ in range(3):
        result = await catalog.execute("{ __typename }")
        assert result.errors is None and result.data == {"__typename": "Query"}

    assert (catalog.plans.made, parses.count, validations.count) == (1, 1, 1)


class NoTypename(graphql.ValidationRule):
    """Refuses `__typename` at the root: a rule that another extension adds."""

    def enter_field(self, node: graphql.FieldNode, *_args: Any) -> None:
        if node.name.value == "__typename":
            self.report_error(graphql.GraphQLError("no __typename here", node))


async def test_rules_other_extensions_add_run_on_every_execution(
    parses: Calls, validations: Calls
) -> None:
    """The plan's validation is reused, and rules added by an extension still run, each
    time, with their errors answered as validation errors (no data)."""
    catalog = build_schema(extra=[lambda: AddValidationRules([NoTypename])])

    for _ in range(2):
        refused = await catalog.execute("{ __typename }")
        assert refused.data is None
        assert [error.message for error in refused.errors or ()] == ["no __typename here"]
    allowed = await catalog.execute("{ __schema { queryType { name } } }")

    assert allowed.errors is None and allowed.data == {"__schema": {"queryType": {"name": "Query"}}}
    assert (catalog.plans.made, parses.count, validations.count) == (2, 2, 2)


def test_plans_beyond_the_size_are_evicted_oldest_first() -> None:
    planned = plans(size=2)
    oldest = planned.plan("{ a: __typename }")
    planned.plan("{ b: __typename }")
    planned.plan("{ c: __typename }")

    assert len(planned) == 2
    assert planned.plan("{ a: __typename }") is not oldest
    assert planned.made == 4


def test_each_operation_name_has_its_own_plan() -> None:
    planned = plans()
    document = "query A { __typename } mutation B { __typename }"

    a, b = planned.plan(document, "A"), planned.plan(document, "B")

    assert a is not b
    assert (a.chosen_name, a.operation_type) == ("A", "query")
    assert (b.chosen_name, b.operation_type) == ("B", "mutation")
    assert a.cache_text is not None and b.cache_text is None  # only queries are cached
    assert planned.plan(document).operation_error == (
        "Must provide operation name if query contains multiple operations."
    )
    assert planned.plan(document, "C").operation_error == "Unknown operation named 'C'."


def test_variables_change_the_cost_verdict_without_planning_again(
    parses: Calls, validations: Calls
) -> None:
    planned = plans()
    plan = planned.plan(PRODUCTS, "Page")

    assert plan.cost_error({"n": 100}) is None
    refused = plan.cost_error({"n": 101})
    assert planned.plan(PRODUCTS, "Page") is plan
    assert plan.cost_error({"n": 5}) is None

    assert refused is not None and refused.extensions == {"code": "MAX_FIRST_EXCEEDED"}
    assert (planned.made, parses.count, validations.count) == (1, 1, 1)


def test_a_verdict_that_reads_no_variable_is_judged_when_planned() -> None:
    planned = plans(max_nodes=1000)

    small = planned.plan("{ products(first: 10) { nodes { id } } }")
    large = planned.plan("{ products(first: 100) { nodes { tags(first: 20) { nodes { id } } } } }")

    assert small.static_cost is not None and small.static_cost.error is None
    assert large.static_cost is not None and large.static_cost.error is not None
    assert large.static_cost.error.extensions == {"code": "MAX_NODES_EXCEEDED"}
    assert planned.plan(PRODUCTS, "Page").static_cost is None  # `first` is a variable


def test_a_variable_that_cannot_be_a_list_leaves_the_verdict_static() -> None:
    planned = plans()
    product = "query($id: ID!) { product(id: $id) { tags { edges { node { name } } } } }"
    some = "query($ids: [ID!]!) { products(filter: {tags: {all: $ids}}) { nodes { id } } }"

    assert planned.plan(product).static_cost is not None  # an id: no length to check
    assert planned.plan(some).static_cost is None  # a list: checked with each request's ids


def test_a_document_over_the_token_limit_is_refused_before_parsing(
    parses: Calls, validations: Calls
) -> None:
    planned = plans()
    document = "{ " + "a " * 100_000 + "}"  # 100,002 tokens

    plan = planned.plan(document)

    assert plan.document is None and plan.parse_error is not None
    assert plan.parse_error.extensions == {"code": "MAX_TOKENS_EXCEEDED"}
    assert (parses.count, validations.count) == (0, 0)


async def test_a_refusal_from_the_plan_is_answered_as_before(parses: Calls) -> None:
    catalog = build_schema(Limits(max_tokens=6))
    eight = "{ products { totalCount } __typename }"

    for _ in range(2):
        result = await catalog.execute(eight)
        assert result.data is None and result.errors is not None
        assert [(e.message, e.extensions) for e in result.errors] == [
            ("The document has more than 6 tokens", {"code": "MAX_TOKENS_EXCEEDED"})
        ]

    assert parses.count == 0


@pytest.mark.parametrize(
    ("document", "reads"),
    [
        ("{ products { nodes { id name tags { nodes { name } } } } }", False),
        ("{ __typename }", False),
        ("{ products { nodes { when: createdAt } } }", True),  # through an alias
        ("{ product(id: 1) { updatedAt } }", True),
        ("{ node(id: 1) { ... on Product { tags { edges { addedAt } } } } }", True),
        ("{ tags { nodes { ...T } } } fragment T on Tag { createdAt }", True),
        ("{ products { edges { cursor } } }", True),
        ("{ products { pageInfo { endCursor } } }", True),
        ("{ tags { pageInfo { startCursor hasNextPage } } }", True),
        ("{ products { pageInfo { hasNextPage } } }", False),
        (
            "mutation { removeTags(input: {productId: 1, tagIds: []}) { userErrors { code } } }",
            False,
        ),
        ("{ products { nodes {", True),  # does not parse: nothing is left out
    ],
)
def test_a_plan_knows_whether_its_document_may_read_a_timestamp(document: str, reads: bool) -> None:
    assert plans().plan(document).reads_timestamps is reads


def test_every_datetime_field_and_cursor_counts_as_reading_a_timestamp() -> None:
    names = schema.plans.timestamp_fields(graphql_schema(build_schema()))

    # ChangeEvent.at is a DateTime too: a document that selects it reads timestamps; so is
    # RateLimit.resetAt (it reads no row, so counting it only costs the loaders a column).
    expected = {
        *("createdAt", "updatedAt", "addedAt", "at", "resetAt"),
        *("cursor", "startCursor", "endCursor"),
    }
    assert names == expected
