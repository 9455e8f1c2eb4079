"""The database's own timeouts sit below the request's time budget, lock waits lowest."""

from __future__ import annotations

import pytest

from db.engine import timeouts_within


def test_the_default_budget_gives_9_s_statements_and_4_5_s_lock_waits() -> None:
    timeouts = timeouts_within(10_000)
    assert (timeouts.statement_ms, timeouts.lock_ms) == (9_000, 4_500)


@pytest.mark.parametrize("budget_ms", [1, 2, 50, 200, 1_000, 10_000, 60_000, 600_000])
def test_every_budget_keeps_lock_waits_below_statements_below_the_budget(budget_ms: int) -> None:
    timeouts = timeouts_within(budget_ms)
    assert 1 <= timeouts.lock_ms <= timeouts.statement_ms <= budget_ms
    if budget_ms >= 2:
        assert timeouts.statement_ms < budget_ms
        assert timeouts.statement_ms >= budget_ms // 2  # the margin is at most half
