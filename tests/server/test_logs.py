"""Logs are JSON lines, and never carry SQL parameters (users' values) at any level."""

from __future__ import annotations

import json
import logging

import pytest

from server.observability.logs import JsonFormatter, configure


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_database_loggers_stay_quiet_whatever_the_level(level: str) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure(level)
        for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine", "aiosqlite", "asyncpg"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_a_record_becomes_one_json_line_with_its_fields() -> None:
    record = logging.LogRecord("catalog.request", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"request_id": "abc", "statements": 2}

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "request"
    assert (entry["request_id"], entry["statements"]) == ("abc", 2)


def test_each_line_is_stamped_with_the_second_of_its_own_record() -> None:
    formatter = JsonFormatter()
    # Within one second, into the next, and back to an earlier one (a late record).
    for created in (1_700_000_000.2, 1_700_000_000.9, 1_700_000_001.1, 1_699_999_999.5):
        record = logging.LogRecord("catalog.request", logging.INFO, __file__, 1, "r", (), None)
        record.created = created

        stamp = json.loads(formatter.format(record))["ts"]

        assert stamp == formatter.formatTime(record, "%Y-%m-%dT%H:%M:%S")
