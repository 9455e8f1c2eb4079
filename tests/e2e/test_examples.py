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
    """What the CSV asks for: product name -> sorted tag names (';'-separated, trimmed,
    without their `:priority`)."""
    with path.open(newline="", encoding="utf-8") as file:
        return {
            row["product"].strip(): sorted(
                name.split(":")[0].strip() for name in row["tags"].split(";") if name.strip()
            )
            for row in csv.DictReader(file)
        }


def apply_tags(
    server: Server | None, path: Path, *options: str, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    url = server.graphql if server is not None else "http://127.0.0.1:9/graphql"
    command = [sys.executable, str(SCRIPT), str(path), "--url", url, *options]
    if token is not None:
        command += ["--token", token]
    environment = {k: v for k, v in os.environ.items() if k != "CATALOG_TOKEN"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=environment, check=False
    )


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tags.csv"
    path.write_text(text, encoding="utf-8")
    return path


PRIORITIES = """
{ products(first: 100) { nodes { name tags(first: 100) { edges { priority node { name } } } } } }
"""


def priorities(server: Server) -> dict[str, list[tuple[str, int]]]:
    nodes = ask(server, PRIORITIES)["products"]["nodes"]
    return {
        p["name"]: [(e["node"]["name"], e["priority"]) for e in p["tags"]["edges"]] for p in nodes
    }


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
    assert "line 2: 'Desk lamp': " in result.stdout and "-Old" in result.stdout


def test_applying_the_same_csv_again_changes_nothing(server: Server) -> None:
    first = apply_tags(server, SAMPLE)
    before = catalog(server)

    again = apply_tags(server, SAMPLE)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert catalog(server) == before
    assert f"0 created, 0 changed, {len(before)} unchanged, 0 failed" in again.stdout


def test_priorities_in_the_tags_column_are_written_and_updated(
    server: Server, tmp_path: Path
) -> None:
    apply_tags(server, write_csv(tmp_path, "product,tags\nLamp,Sale:5; New Arrival\n"))

    result = apply_tags(server, write_csv(tmp_path, "product,tags\nLamp,Sale:2;New Arrival\n"))

    assert result.returncode == 0, result.stderr
    assert "line 2: 'Lamp': ~Sale" in result.stdout
    assert priorities(server) == {"Lamp": [("Sale", 2), ("New Arrival", 0)]}


def test_add_and_remove_modes(server: Server, tmp_path: Path) -> None:
    apply_tags(server, write_csv(tmp_path, "product,tags\nLamp,Sale;Old\n"))

    added = apply_tags(server, write_csv(tmp_path, "product,tags\nLamp,New\n"), "--mode", "add")
    assert catalog(server) == [("Lamp", ["New", "Old", "Sale"])]
    removed = apply_tags(
        server, write_csv(tmp_path, "product,tags\nLamp,old;Sale\n"), "--mode", "remove"
    )

    assert (added.returncode, removed.returncode) == (0, 0), added.stderr + removed.stderr
    assert catalog(server) == [("Lamp", ["New"])]


def test_dry_run_prints_the_difference_and_writes_nothing(server: Server, tmp_path: Path) -> None:
    apply_tags(server, write_csv(tmp_path, "product,tags\nLamp,Sale;Old\nMug,Kitchen\n"))
    before = priorities(server)
    path = write_csv(tmp_path, "product,tags\nLamp,Sale:4;Fresh\nMug,Kitchen\nVase,Eco\n")

    result = apply_tags(server, path, "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "line 2: 'Lamp': +Fresh, ~Sale, -Old" in result.stdout
    assert "line 3: 'Mug': unchanged" in result.stdout
    assert "line 4: 'Vase': would be created, +Eco" in result.stdout
    assert "1 would be created, 1 would be changed, 1 unchanged, 0 failed" in result.stdout
    assert "nothing written" in result.stdout
    assert priorities(server) == before
    assert ask(server, '{ tag(name: "Fresh") { id } }') == {"tag": None}


def test_bad_rows_are_reported_with_their_line_and_the_others_applied(
    server: Server, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "product,tags\n"
        f"Lamp,Sale;{'x' * 65}\n"  # refused by the server: too long a tag name
        "Mug,Kitchen\n"
        ",Sale\n"  # no product
        "Vase,Eco:99999999999\n"  # a priority beyond 32 bits
        "Mug,Gift\n",  # the same product again
    )
    ask(server, 'mutation { createProduct(input: {name: "Lamp"}) { product { id } } }')

    result = apply_tags(server, path)

    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert [line.split(": ")[2] for line in errors] == [
        "line 4",
        "line 5",
        "line 6",
        "line 2",
    ], errors
    assert "INVALID" in errors[-1]
    assert "1 created, 0 changed, 0 unchanged, 4 failed" in result.stdout
    assert catalog(server) == [("Lamp", []), ("Mug", ["Kitchen"])]


def test_a_new_product_with_a_refused_tag_is_not_created(server: Server, tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"product,tags\nLamp,Sale;{'x' * 65}\nMug,Kitchen\n")

    result = apply_tags(server, path)

    assert result.returncode == 1
    assert "line 2: 'Lamp': INVALID" in result.stderr
    assert catalog(server) == [("Mug", ["Kitchen"])]


def test_a_missing_file_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = apply_tags(None, tmp_path / "nowhere.csv")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cannot read" in result.stderr and "nowhere.csv" in result.stderr


def test_a_bad_header_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = apply_tags(None, write_csv(tmp_path, "name,labels\nLamp,Sale\n"))

    assert result.returncode == 2
    assert result.stderr.strip().endswith("line 1: the header must name the columns product,tags")


def test_a_wrong_token_is_refused_with_exit_status_3_and_changes_nothing(server: Server) -> None:
    result = apply_tags(server, SAMPLE, token="not-the-token")

    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "401" in result.stderr
    assert catalog(server) == []


def test_without_a_token_the_server_refuses_and_nothing_changes(server: Server) -> None:
    result = apply_tags(server, SAMPLE, token=None)

    assert result.returncode == 3
    assert "401" in result.stderr
    assert catalog(server) == []


def test_an_unreachable_server_is_one_line_and_exit_status_3() -> None:
    result = apply_tags(None, SAMPLE)

    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "cannot reach" in result.stderr
