"""The lean executor: query operations on a breadth-first path, inside graphql-core's executor.

graphql-core spends several microseconds of bookkeeping on every field it completes, and a
catalog page is hundreds of small fields (50 products x 5 tags x {id, name} is 700), so that
bookkeeping, not SQL, is most of a nested read. schema.breadth_first completes a level at
a time instead.

It hooks in through the documented seam: Strawberry hands `execution_context_class` to
graphql-core, which builds it (`Executor.build` picks the operation and coerces the
variables, once) and calls `execute_operation`. There a query whose shape allows it
(schema.shapes, decided once per document, before any resolver runs) takes the lean path,
which then finishes it, errors included; anything else defers to graphql-core, and that
fallback is counted by reason (`fallbacks()`) and logged: at debug for routine reasons
(directives, introspection), as a warning otherwise. Mutations and subscriptions are not
the lean path's to run and are not counted. tests/api/test_fast_execution.py checks that
both paths answer alike and that the benchmark's queries take the lean one.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from graphql import OperationType

from schema import compat
from schema.breadth_first import BreadthFirst
from schema.shapes import shape_of

log = logging.getLogger(__name__)

# Fallbacks that follow from what a client asked for, not from a change in a library.
ROUTINE_REASONS = frozenset({"directives", "introspection", "fragment_arguments"})

_fallbacks: Counter[str] = Counter()
_lean = [0]


def fallbacks() -> dict[str, int]:
    """Query operations graphql-core ran instead of the lean path, by reason, so far."""
    return dict(_fallbacks)


def lean_runs() -> int:
    """Query operations the lean path ran, so far."""
    return _lean[0]


def _fall_back(reason: str) -> None:
    _fallbacks[reason] += 1
    if reason in ROUTINE_REASONS:
        log.debug("query runs on graphql-core's executor: %s", reason)
    else:
        log.warning("query runs on graphql-core's executor: %s", reason)


def executor_class(default: type[Any], *, hide_suggestions: bool) -> type[Any]:
    """The execution context class for one schema: Strawberry's `default` with the lean
    path for queries, unless schema.compat finds graphql-core's Executor changed.

    `hide_suggestions` reaches graphql-core's coercion of variable values, which Strawberry
    does not pass on itself.
    """
    lean = compat.executor_base(default)

    class LeanExecutor(default):
        hides_suggestions = hide_suggestions

        @classmethod
        def build(cls, *args: Any, **kwargs: Any) -> Any:
            if cls.hides_suggestions:
                kwargs["hide_suggestions"] = True
            return super().build(*args, **kwargs)

        def execute_operation(self, serially: bool | None = None) -> Any:
            operation = self.operation
            if not lean or serially or operation.operation is not OperationType.QUERY:
                return super().execute_operation(serially)
            if self.abort_signal is not None:
                _fall_back("abort_signal")
                return super().execute_operation(serially)
            shape = shape_of(self.schema, operation, self.fragment_definitions)
            if shape.refusal is not None:
                _fall_back(shape.refusal)
                return super().execute_operation(serially)
            _lean[0] += 1
            return BreadthFirst(self, shape).run()

    return LeanExecutor
