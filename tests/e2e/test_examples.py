"""examples/apply_tags.py against a real server process, as its users run it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, StartServer, graphql

pytestmark = pytest.mark.e2e

TOKEN = "e2e-examples-token"
SCRIPT = ROOT / "examples" / "apply_tags.py"
SAMPLE = ROOT / "examples" / "catalog.csv"

PRODUCTS = """
query ($after: String) {
  products(first: 100, after: $after) {
    nodes { name tags(first: 100) { nodes { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
def server(start_server: StartServer, tmp_path: Path) -> Server:
    return start_server(
        f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}", CATALOG_WRITE_TOKENS=TOKEN
    )


def ask(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = graphql(server, TOKEN, query, **variables).json()["data"]
    return data


def catalog(server: Server) -> list[tuple[str, list[str]]]:
    """Every product (name, sorted tag names), in databaseId order."""
    products: list[tuple[str, list[str]]] = []
    after = None
    while True:
        page = ask(server, PRODUCTS, after=after)["products"]
        products += [
            (p["name"], sorted(t["name"] for t in p["tags"]["nodes"])) for p in page["nodes"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            return products
        after = page["pageInfo"]["endCursor"]


def csv_tags(path: Path) -> dict[str, list[str]]:
    """What the CSV asks for: product name -> sorted tag names (';'-separated, trimmed)."""
    with path.open(newline="", encoding="utf-8") as file:
        return {
            row["product"].strip(): sorted(
                name.strip() for name in row["tags"].split(";") if name.strip()
            )
            for row in csv.DictReader(file)
        }


def apply_tags(
    server: Server, path: Path, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), str(path), "--url", server.graphql]
    if token is not None:
        command += ["--token", token]
    environment = {k: v for k, v in os.environ.items() if k != "CATALOG_TOKEN"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=environment, check=False
    )


def test_apply_tags_gives_each_product_exactly_the_csv_tags(server: Server) -> None:
    # One product exists already, with a tag the CSV does not list.
    ask(
        server,
        'mutation { createProduct(input: {name: "Desk lamp", tagNames: ["Old", "Sale"]}) '
        "{ product { id } } }",
    )
    wanted = csv_tags(SAMPLE)

    result = apply_tags(server, SAMPLE)

    assert result.returncode == 0, result.stderr
    assert dict(catalog(server)) == wanted
    assert len(catalog(server)) == len(wanted)  # found, not created again
    assert f"{len(wanted) - 1} created, 1 changed, 0 unchanged, 0 failed" in result.stdout


def test_applying_the_same_csv_again_changes_nothing(server: Server) -> None:
    first = apply_tags(server, SAMPLE)
    before = catalog(server)

    again = apply_tags(server, SAMPLE)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert catalog(server) == before
    assert f"0 created, 0 changed, {len(before)} unchanged, 0 failed" in again.stdout


def test_apply_tags_exits_non_zero_on_user_errors_and_applies_the_other_rows(
    server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "tags.csv"
    path.write_text(f"product,tags\nLamp,Sale;{'x' * 65}\nMug,Kitchen\n", encoding="utf-8")

    result = apply_tags(server, path)

    assert result.returncode == 1
    assert "INVALID" in result.stderr
    assert "1 created, 0 changed, 0 unchanged, 1 failed" in result.stdout
    assert catalog(server) == [("Mug", ["Kitchen"])]  # the refused row created nothing


def test_apply_tags_without_a_token_is_refused_and_changes_nothing(server: Server) -> None:
    result = apply_tags(server, SAMPLE, token=None)

    assert result.returncode == 1
    assert "401" in result.stderr
    assert catalog(server) == []
