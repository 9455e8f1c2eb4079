"""The points an operation costs against a caller's rate limit (CATALOG_RATE_LIMIT).

The rules, all here:
- An operation costs its node estimate (schema.cost: every connection field counts the
  `first` of its page times the pages above it) divided by 100, rounded up, and at least 1.
- A mutation costs at least 10; applyTags at least one point per item.
- An operation that asks for nothing but `rateLimit` (and `__typename`) costs nothing.
- Before it runs, an operation is checked with its estimate; once answered it is charged
  the same rule over the rows its connections actually returned (`nodes_read`), which is
  never more than the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schema.cost import Verdict

NODES_PER_POINT = 100
MUTATION_POINTS = 10


def points(verdict: Verdict, operation_type: str | None, nodes: int | None = None) -> int:
    """The points of an operation judged by `verdict`: of its estimate, or of `nodes`
    (the rows it really returned) once it has run."""
    if verdict.free:
        return 0
    counted = verdict.nodes if nodes is None else nodes
    cost = max(-(-counted // NODES_PER_POINT), 1, verdict.bulk_items)
    if operation_type == "mutation":
        cost = max(cost, MUTATION_POINTS)
    return cost


@dataclass(frozen=True, slots=True)
class Budget:
    """A caller's budget as an operation sees it (`rateLimit`, `extensions.cost`)."""

    limit: int  # points per window (the smallest budget when several are set)
    cost: int  # the points this operation is charged, by its estimate
    remaining: int  # left in the window once this operation's estimate is counted
    reset_at: datetime  # when the window starts again
