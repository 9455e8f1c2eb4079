"""The exported schema (schema.graphql) is the public contract: it must match the code."""

from __future__ import annotations

from pathlib import Path

from schema import build_schema

EXPORTED = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    # Written by `catalog export-schema > schema.graphql`, which prints a final newline.
    current = build_schema().as_str() + "\n"

    assert EXPORTED.read_text(encoding="utf-8") == current, (
        "schema.graphql is stale: run `make schema` and review the diff (it is the public contract)"
    )
