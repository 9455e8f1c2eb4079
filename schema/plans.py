"""One plan per document: parsed, validated and analysed once, then reused.

A request names a document and (maybe) an operation of it. Everything that follows from
those two alone is decided once and kept in a `Plan`: the token count (before parsing), the
parse, the chosen operation and its type, validation (the shape limits included), the
canonical text the response cache files a query under, as much of the cost check as does
not depend on the variables, and whether the document reads any timestamp (when no
operation of a request does, its reads leave them out: db.readers). `Plans` keeps the
plans in a bounded LRU keyed by the document's SHA-256 and the operation name; the view
asks it once per operation and hands the plan on (`RequestContext.plan`), and the
`Planning` extension gives Strawberry the plan's document and verdicts, so a repeated
document is never parsed, validated or analysed again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    print_ast,
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension

from resolvers.limits import Limits
from resolvers.live import LiveContext
from schema.compat import graphql_schema
from schema.cost import Verdict, judge
from schema.limits import count_tokens, limit_error
from schema.validation import validate_document, validation_rules

PLANS = 1024  # documents kept; each holds its parsed document and its verdicts

# Besides the DateTime fields, the fields whose answers may come from a row's timestamps:
# the cursors (a cursor of an order by time holds one).
CURSOR_FIELDS = frozenset({"cursor", "startCursor", "endCursor"})


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """What one (document, operation name) pair means, decided once."""

    query: str
    sha256: str  # hex digest of the document's text (UTF-8)
    operation_name: str | None  # as the request gave it
    document: DocumentNode | None  # None when it is over the token limit or does not parse
    # The error that refuses the document before it is parsed (too many tokens) or as it is
    # parsed (a syntax error); None when it parsed.
    parse_error: GraphQLError | None
    operation: OperationDefinitionNode | None  # the chosen one: named, or the only one
    operation_type: str | None  # "query", "mutation" or "subscription"; None when unknown
    # Why no operation was chosen, as graphql-core words it.
    operation_error: str | None
    operation_count: int
    validation_errors: tuple[GraphQLError, ...]
    # The document printed canonically when the chosen operation is a query: what the
    # response cache files it under. None for anything else.
    cache_text: str | None
    # The cost verdict when it reads no variable; None when it must be judged per request.
    static_cost: Verdict | None
    schema: GraphQLSchema
    limits: Limits
    # Whether any field of the document, by name, may read a timestamp: every DateTime
    # field and every cursor (`timestamp_fields`). True when it did not parse.
    reads_timestamps: bool = True

    @property
    def chosen_name(self) -> str | None:
        """The chosen operation's name; the requested name when none was chosen."""
        if self.operation is not None and self.operation.name is not None:
            return self.operation.name.value
        return self.operation_name if self.operation is None else None

    def verdict(self, variables: Mapping[str, Any] | None) -> Verdict | None:
        """The cost check with these variables: the plan's own when it reads none (None
        when there is no valid operation to judge)."""
        if self.document is None or self.operation is None or self.validation_errors:
            return None
        if self.static_cost is not None:
            return self.static_cost
        return judge(self.schema, self.document, self.operation, variables or {}, self.limits)

    def cost_error(self, variables: Mapping[str, Any] | None) -> GraphQLError | None:
        """The refusal of page sizes, list lengths or the node estimate with these
        variables (MAX_FIRST_EXCEEDED, MAX_ITEMS_EXCEEDED, MAX_NODES_EXCEEDED), if any."""
        verdict = self.verdict(variables)
        return None if verdict is None else verdict.error


class Plans:
    """A bounded LRU of plans, one per (document SHA-256, operation name)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: Limits,
        *,
        introspection: bool = True,
        size: int = PLANS,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.size = size
        self.made = 0  # plans made so far (each one a parse, a validation, an analysis)
        self._hide_suggestions = not introspection
        self._rules = validation_rules(limits, introspection=introspection)
        self._timestamp_fields = timestamp_fields(schema)
        self._plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()

    def __len__(self) -> int:
        return len(self._plans)

    def plan(self, query: str, operation_name: str | None = None) -> Plan:
        """The plan of this document and operation name, made on first use."""
        sha256 = hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()
        key = (sha256, operation_name)
        plan = self._plans.get(key)
        if plan is not None and plan.query == query:
            self._plans.move_to_end(key)
            return plan
        plan = self._make(query, sha256, operation_name)
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan

    def _make(self, query: str, sha256: str, operation_name: str | None) -> Plan:
        self.made += 1
        fields: dict[str, Any] = {
            "query": query,
            "sha256": sha256,
            "operation_name": operation_name,
            "document": None,
            "parse_error": None,
            "operation": None,
            "operation_type": None,
            "operation_error": None,
            "operation_count": 0,
            "validation_errors": (),
            "cache_text": None,
            "static_cost": None,
            "schema": self.schema,
            "limits": self.limits,
        }
        max_tokens = self.limits.max_tokens
        if count_tokens(query, max_tokens) > max_tokens:
            fields["parse_error"] = limit_error(
                "MAX_TOKENS_EXCEEDED", f"The document has more than {max_tokens} tokens"
            )
            return Plan(**fields)
        try:
            document = parse(query)
        except GraphQLError as error:
            fields["parse_error"] = error
            return Plan(**fields)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation, operation_error = _chosen(operations, operation_name)
        errors = tuple(
            validate_document(self.schema, document, self._rules, self._hide_suggestions)
        )
        fields.update(
            document=document,
            operation=operation,
            operation_type=operation.operation.value if operation else None,
            operation_error=operation_error,
            operation_count=len(operations),
            validation_errors=errors,
            reads_timestamps=_selects_any(document, self._timestamp_fields),
        )
        if operation is not None and operation.operation is OperationType.QUERY:
            fields["cache_text"] = print_ast(document)
        if operation is not None and not errors:
            fields["static_cost"] = self._static_cost(document, operation)
        return Plan(**fields)

    def _static_cost(
        self, document: DocumentNode, operation: OperationDefinitionNode
    ) -> Verdict | None:
        verdict = judge(self.schema, document, operation, {}, self.limits)
        return None if verdict.read_variables else verdict


def timestamp_fields(schema: GraphQLSchema) -> frozenset[str]:
    """The names of the fields that may read a row's timestamps: each field of a DateTime
    type, on any type, and the cursors."""
    names = set(CURSOR_FIELDS)
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in named.fields.items():
                if get_named_type(field.type).name == "DateTime":
                    names.add(name)
    return frozenset(names)


def _selects_any(document: DocumentNode, names: frozenset[str]) -> bool:
    """Whether a field of one of these names is selected anywhere in the document (every
    operation and fragment, aliases seen through)."""
    pending: list[SelectionSetNode] = [
        selections
        for definition in document.definitions
        if (selections := getattr(definition, "selection_set", None)) is not None
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode) and selection.name.value in names:
                return True
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                pending.append(inner)
    return False


def _chosen(
    operations: list[OperationDefinitionNode], name: str | None
) -> tuple[OperationDefinitionNode | None, str | None]:
    """The operation a request chose (graphql-core's rule), or why there is none."""
    if name is None:
        if len(operations) == 1:
            return operations[0], None
        if not operations:
            return None, "Must provide an operation."
        return None, "Must provide operation name if query contains multiple operations."
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation, None
    return None, f"Unknown operation named '{name}'."


_DEFAULT_RULES = frozenset(specified_rules)


class Planning(SchemaExtension):
    """Strawberry runs on the request's plan: its document instead of a parse, its
    validation errors instead of a validation, and its cost check before execution,
    all in one hook.

    The plan comes from the request context when the view put the matching one there,
    otherwise from the schema's `plans` (direct `schema.execute` calls).
    """

    def on_parse(self) -> Iterator[None]:
        """The plan's document instead of a parse, its validation errors instead of a
        validation (Strawberry validates only while no errors are set), and, for a valid
        document, its cost verdict.

        One hook does all three: Strawberry wraps each hook in a context manager per
        request. Rules that other extensions add (AddValidationRules, in their
        on_operation) are in place by now, and run per request. A refusal raised here
        is answered as one raised when execution starts: no data, the error with its code.
        """
        context = self.execution_context
        query = context.query
        if isinstance(query, str) and query and context.graphql_document is None:
            # Before the document is set, operation_name is the name the request gave.
            name = context.operation_name
            given = getattr(context.context, "plan", None)
            if isinstance(given, Plan) and given.query == query and given.operation_name == name:
                plan = given
            else:
                plan = context.schema.plans.plan(query, name)  # type: ignore[attr-defined]
            if plan.parse_error is not None:
                # Shared by every request of this document: raise it without the
                # tracebacks of earlier raises.
                raise plan.parse_error.with_traceback(None)
            if plan.operation_type == "mutation" and isinstance(context.context, LiveContext):
                raise GraphQLError(
                    "Mutations are accepted over HTTP POST, not on a long-lived connection",
                    extensions={"code": "OPERATION_NOT_SUPPORTED"},
                )
            context.graphql_document = plan.document
            errors = list(plan.validation_errors)
            added = [r for r in context.validation_rules if r not in _DEFAULT_RULES]
            if added and plan.document is not None:
                errors.extend(validate(graphql_schema(context.schema), plan.document, added))
            # Setting the errors (an empty list when valid) tells Strawberry validation ran.
            context.pre_execution_errors = errors
            if not errors:
                # The cost verdict, with this request's variables, before anything runs:
                # the one the view judged for the rate limit, when it did.
                verdict = getattr(context.context, "verdict", None)
                if plan is not given or not isinstance(verdict, Verdict):
                    verdict = plan.verdict(context.variables)
                refused = None if verdict is None else verdict.error
                if refused is not None:
                    raise refused.with_traceback(None)
        yield
