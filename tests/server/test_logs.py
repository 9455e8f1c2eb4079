"""Logs are JSON lines, and never carry SQL parameters (users' values) at any level."""

from __future__ import annotations

import json
import logging

import pytest

from server.logs import JsonFormatter, configure


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
