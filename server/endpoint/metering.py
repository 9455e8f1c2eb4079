"""A request's rate limit (server.refusals.rate_limit): the points of its operations by
their plans' cost verdicts (schema.points), checked together before any runs and charged
one by one as each is answered, by the rows it really read."""

from __future__ import annotations

from typing import Any

from schema.cost import Verdict
from schema.plans import Plan
from schema.points import Budget, points
from server.endpoint.payload import Operation
from server.refusals.rate_limit import RateLimits
from server.request.client import Client


class Meter:
    """A request's rate limit: its operations' verdicts and estimates, the budget they were
    checked against, and the charge of each once answered."""

    def __init__(
        self,
        client: Client,
        verdicts: list[Verdict | None],
        estimates: list[int],
        budget: Budget,
    ) -> None:
        self.client = client
        self.verdicts = verdicts
        self.estimates = estimates
        self.budget: Budget | None = budget

    async def charge(
        self, rate: RateLimits, index: int, operation_type: str | None, read: int
    ) -> dict[str, Any] | None:
        """Charge operation `index` for the rows it read: its `extensions.cost`."""
        verdict = self.verdicts[index]
        if verdict is None or self.budget is None:
            return None
        estimate = Budget(
            self.budget.limit, self.estimates[index], self.budget.remaining, self.budget.reset_at
        )
        actual = points(verdict, operation_type, read)
        charged = await rate.charge(self.client, actual, estimate)
        self.budget = Budget(charged.limit, self.budget.cost, charged.remaining, charged.reset_at)
        return {
            "requested": self.estimates[index],
            "actual": actual,
            "limit": charged.limit,
            "remaining": charged.remaining,
            "resetAt": charged.reset_at.isoformat(),
        }


async def measure(
    rate: RateLimits, client: Client, plans: list[Plan | None], verdicts: list[Verdict | None]
) -> Meter | None:
    """Check the request's estimated points against the caller's budgets (refused with 429
    before anything runs); None without rate limits."""
    if not rate.enabled:
        return None
    estimates = [
        0 if verdict is None or plan is None else points(verdict, plan.operation_type)
        for plan, verdict in zip(plans, verdicts, strict=True)
    ]
    budget = await rate.check(client, sum(estimates))
    return Meter(client, verdicts, estimates, budget)


def verdict_of(operation: Operation, plan: Plan | None) -> Verdict | None:
    """The plan's cost verdict with the operation's variables (None: nothing to judge)."""
    variables = operation.get("variables")
    if plan is None or not (variables is None or isinstance(variables, dict)):
        return None
    return plan.verdict(variables)
