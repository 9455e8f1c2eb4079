"""A subscriber's queue in the change feed: bounded by what it leaves untaken."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.changes import ChangeFilter, Entry, Position
from db.feed import Subscriber, TooSlow


def entries(first: int, count: int) -> list[Entry]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Entry(Position(first + n, 1), "PRODUCT_CREATED", first + n, None, None, at)
        for n in range(count)
    ]


async def test_an_empty_queue_takes_a_write_larger_than_the_queue() -> None:
    subscriber = Subscriber(ChangeFilter(), queue_size=10)

    subscriber.offer(entries(1, 25), burst=None)

    taken = await subscriber.take()
    assert len(taken) == 25
    assert subscriber.last == Position(25, 1)


async def test_a_subscriber_that_leaves_more_than_its_queue_untaken_is_cut_off_at_its_last() -> (
    None
):
    subscriber = Subscriber(ChangeFilter(), queue_size=10)
    subscriber.offer(entries(1, 3), burst=None)
    await subscriber.take()
    subscriber.offer(entries(4, 6), burst=None)  # untaken
    subscriber.offer(entries(10, 6), burst=None)  # 12 untaken: past the queue

    with pytest.raises(TooSlow) as cut:
        await subscriber.take()
    assert cut.value.last == Position(3, 1)
    assert not subscriber.pending  # nothing held for it any more


async def test_a_filter_keeps_only_what_the_subscriber_asked_for() -> None:
    subscriber = Subscriber(ChangeFilter(product_ids=frozenset({2})), queue_size=10)

    subscriber.offer(entries(1, 3), burst="burst")

    assert [(e.product_id, burst) for e, burst in await subscriber.take()] == [(2, "burst")]
