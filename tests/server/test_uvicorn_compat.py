"""The header bound leans on uvicorn internals: when they move, the server still starts,
says so, and runs on uvicorn's own protocol."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn

from server.process import cli, uvicorn_compat
from server.process.uvicorn_compat import HeaderTimeoutProtocol, http_protocol


def test_the_header_bound_protocol_is_used_when_uvicorn_has_what_it_needs() -> None:
    assert http_protocol() == (HeaderTimeoutProtocol, None)


def test_a_moved_internal_turns_the_bound_off_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uvicorn_compat, "HttpToolsProtocol", asyncio.Protocol)

    protocol, problem = http_protocol()

    assert protocol == "auto"
    assert problem is not None and "on_message_begin" in problem


def test_serve_starts_anyway_and_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: runs.append(kwargs))
    monkeypatch.setattr(uvicorn_compat, "_FOUND", "uvicorn's httptools protocol moved")
    monkeypatch.setenv("CATALOG_STARTUP_CHECK", "false")
    monkeypatch.setenv("CATALOG_WRITE_TOKENS", "t")

    assert cli.main(["serve"]) == 0

    assert [run["http"] for run in runs] == ["auto"]
    assert "WARNING: uvicorn's httptools protocol moved" in capsys.readouterr().err
