"""Structured logs: one JSON object per line, with the fields a record carries."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class JsonFormatter(logging.Formatter):
    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()

    def _timestamp(self, created: float) -> str:
        """formatTime's text for the record's second, formatted once per second."""
        second = int(created)
        if second != self._second:
            self._stamp = time.strftime(_TIME_FORMAT, self.converter(created))
            self._second = second
        return self._stamp


def configure(level: str) -> None:
    # No record carries its thread or process: no line shows them, and each request's
    # line would pay for them (the logging HOWTO's "Optimization" switches).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQLAlchemy's engine logs statements with their parameters at INFO, and the drivers
    # at DEBUG; parameters carry users' values, which the logs never show.
    for name in ("sqlalchemy.engine", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Alembic reports its context at INFO each time /readyz reads the revision.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own lines (start, shutdown, errors) as JSON too, through its documented
    `log_config` (a logging.dictConfig); the level is uvicorn's `log_level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "server.observability.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"uvicorn": {"handlers": ["stderr"], "propagate": False}},
    }
