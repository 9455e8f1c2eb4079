"""The replica set on a real primary and streaming replica: which node serves reads, as
the monitor measures replay, and the consistency token of a write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from clusters import Replicated
from db.engine import create_engine
from db.replicas import (
    BadPosition,
    ReplicaSet,
    committed_position,
    parse_position,
    position_token,
    replica_set,
)


@pytest.fixture
async def nodes(replicated: Replicated) -> AsyncIterator[ReplicaSet]:
    primary = create_engine(replicated.primary_url, pool_size=2)
    nodes = replica_set(
        primary,
        [replicated.standby_url],
        lambda url: create_engine(url, pool_size=2),
        max_lag_ms=1000,
    )
    yield nodes
    await nodes.stop()
    await primary.dispose()


async def write_on_primary(nodes: ReplicaSet, name: str) -> int:
    """Insert a tag on the primary; the consistency position of its commit."""
    async with nodes.primary.connect() as connection:
        await connection.execute(
            text("INSERT INTO tags (name, name_key) VALUES (:name, :key)"),
            {"name": name, "key": name.lower()},
        )
        return await committed_position(connection)


async def test_a_caught_up_replica_serves_queries_and_the_primary_serves_writes(
    nodes: ReplicaSet,
) -> None:
    replica = nodes.replicas[0]
    assert nodes.for_reads(writes=False) is nodes.primary  # nothing measured yet

    await nodes.probe()

    assert replica.healthy and replica.lag_ms == 0.0
    assert nodes.for_reads(writes=False) is replica.engine
    assert nodes.for_reads(writes=True) is nodes.primary


async def test_a_paused_replica_past_the_lag_bound_gets_no_reads_until_it_catches_up(
    nodes: ReplicaSet, replicated: Replicated
) -> None:
    await nodes.probe()
    replicated.pause_replay()
    await write_on_primary(nodes, "Sale")
    await nodes.probe()
    assert nodes.for_reads(writes=False) is nodes.replicas[0].engine  # behind, within bound

    await asyncio.sleep(1.2)
    await nodes.probe()
    lag = nodes.replicas[0].lag_ms
    assert not nodes.replicas[0].healthy and lag is not None and lag > 1000
    assert nodes.for_reads(writes=False) is nodes.primary

    replicated.resume_replay()
    replicated.wait_for_replay()
    await nodes.probe()
    assert nodes.for_reads(writes=False) is nodes.replicas[0].engine


async def test_a_token_is_served_only_by_a_replica_that_replayed_it(
    nodes: ReplicaSet, replicated: Replicated
) -> None:
    await nodes.probe()
    replicated.pause_replay()
    position = await write_on_primary(nodes, "Sale")
    await nodes.probe()
    assert nodes.for_reads(writes=False) is nodes.replicas[0].engine  # within the lag bound
    assert nodes.for_reads(writes=False, position=position) is nodes.primary

    replicated.resume_replay()
    replicated.wait_for_replay()
    await nodes.probe()
    assert nodes.for_reads(writes=False, position=position) is nodes.replicas[0].engine
    async with nodes.replicas[0].engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM tags"))).scalars().all()
    assert names == ["Sale"]


async def test_a_stopped_replica_gets_no_reads_and_raises_nothing(
    nodes: ReplicaSet, replicated: Replicated
) -> None:
    await nodes.probe()
    assert nodes.for_reads(writes=False) is nodes.replicas[0].engine

    await asyncio.to_thread(replicated.standby.stop)
    await nodes.probe()

    assert not nodes.replicas[0].reachable
    assert nodes.for_reads(writes=False) is nodes.primary


async def test_the_monitor_runs_in_the_background_until_stopped(nodes: ReplicaSet) -> None:
    nodes.start()
    async with asyncio.timeout(10):
        while not nodes.replicas[0].healthy:  # noqa: ASYNC110 -- polling what the monitor set
            await asyncio.sleep(0.05)
    await nodes.stop()
    assert nodes.for_reads(writes=False) is nodes.replicas[0].engine


def test_tokens_are_wal_positions_and_anything_else_is_refused() -> None:
    assert parse_position("0/3000148") == 0x3000148
    assert parse_position(position_token(0x1_0000_00FF)) == 0x1_0000_00FF
    assert position_token(0x1_0000_00FF) == "1/FF"
    for bad in ("", "3000148", "0/", "x/1", "0/123456789", "1/2/3", "0/1 OR 1=1"):
        with pytest.raises(BadPosition):
            parse_position(bad)
