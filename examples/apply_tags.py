#!/usr/bin/env python3
"""Give products exactly the tags a CSV file lists, through the catalog's GraphQL API.

    python examples/apply_tags.py examples/catalog.csv \\
        --url http://127.0.0.1:8000/graphql --token "$CATALOG_TOKEN"

The CSV has a header row and two columns: `product` (the product's exact name) and `tags`
(tag names separated by semicolons; an empty cell removes every tag). For each row the
script looks the product up by name, creates it when no product has that name, and then
makes its tags exactly the listed ones with `setTags` (missing tags are created; tags not
listed are unlinked, never deleted). Running it twice changes nothing the second time.

It needs only the standard library. It exits with 1 when any row was refused (userErrors,
GraphQL errors, or a name that several products share) and goes on with the other rows;
it stops at once when the server itself refuses (a wrong token, an unreachable URL).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

TAG_SEPARATOR = ";"

FIND = """
query ($name: String!, $after: String) {
  products(first: 100, after: $after, filter: {nameContains: $name}) {
    nodes { id name }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE = """
mutation ($name: String!, $tags: [String!]!) {
  createProduct(input: {name: $name, tagNames: $tags}) {
    product { id tags(first: 100) { nodes { name } } }
    userErrors { field message code }
  }
}
"""

SET_TAGS = """
mutation ($id: ID!, $tags: [String!]!) {
  setTags(input: {productId: $id, tagNames: $tags}) {
    added { name }
    removed { name }
    userErrors { field message code }
  }
}
"""


class ServerRefused(Exception):
    """The server refused the request as a whole (HTTP error, unreachable): stop."""


class RowFailed(Exception):
    """This row could not be applied; the others may still be."""


@dataclass
class Row:
    line: int
    product: str
    tags: list[str]


@dataclass
class Summary:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)


class Client:
    """Posts GraphQL operations with an ordinary HTTP request."""

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        self.url = url
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        """The operation's `data`; RowFailed on GraphQL errors, ServerRefused on HTTP ones."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                result = json.load(response)
        except urllib.error.HTTPError as error:
            raise ServerRefused(f"HTTP {error.code}: {_error_message(error)}") from error
        except (urllib.error.URLError, TimeoutError) as error:
            raise ServerRefused(f"cannot reach {self.url}: {error}") from error
        if result.get("errors"):
            raise RowFailed("; ".join(_describe(e) for e in result["errors"]))
        data: dict[str, Any] = result["data"]
        return data


def read_rows(path: str) -> list[Row]:
    """The CSV's rows; product names trimmed, tag names split, trimmed and blanks dropped."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        if reader.fieldnames is None or not {"product", "tags"} <= set(reader.fieldnames):
            raise SystemExit(f"{path}: the header row must name the columns `product,tags`")
        return [
            Row(
                line=reader.line_num,
                product=record["product"] or "",
                tags=[t.strip() for t in (record["tags"] or "").split(TAG_SEPARATOR) if t.strip()],
            )
            for record in reader
        ]


def find_product(client: Client, name: str) -> str | None:
    """The id of the one product with exactly this name; None when there is none."""
    wanted = _clean(name)
    matches: list[str] = []
    after = None
    while True:
        page = client.run(FIND, name=wanted, after=after)["products"]
        matches += [p["id"] for p in page["nodes"] if p["name"] == wanted]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    if len(matches) > 1:
        raise RowFailed(f"{len(matches)} products are named {wanted!r}; tag them by id instead")
    return matches[0] if matches else None


def apply_row(client: Client, row: Row, summary: Summary) -> str:
    """Apply one row; returns a line saying what changed."""
    if not _clean(row.product):
        raise RowFailed("the product name is empty")
    product_id = find_product(client, row.product)
    if product_id is None:
        # One mutation, one transaction: the product and its tags, or nothing at all.
        payload = client.run(CREATE, name=row.product, tags=row.tags)["createProduct"]
        _check(payload)
        summary.created += 1
        names = [t["name"] for t in payload["product"]["tags"]["nodes"]]
        return f"created with {_listed(names)}"
    payload = client.run(SET_TAGS, id=product_id, tags=row.tags)["setTags"]
    _check(payload)
    added = [t["name"] for t in payload["added"]]
    removed = [t["name"] for t in payload["removed"]]
    if not added and not removed:
        summary.unchanged += 1
        return "unchanged"
    summary.changed += 1
    return ", ".join([*(f"+{name}" for name in added), *(f"-{name}" for name in removed)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Give products exactly the tags a CSV file lists (see examples/README.md)."
    )
    parser.add_argument("csv", help="CSV file with the columns product,tags")
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql", help="GraphQL endpoint")
    parser.add_argument(
        "--token",
        default=os.environ.get("CATALOG_TOKEN"),
        help="write token, sent as Authorization: Bearer (default: $CATALOG_TOKEN)",
    )
    args = parser.parse_args(argv)

    client = Client(args.url, args.token)
    summary = Summary()
    for row in read_rows(args.csv):
        label = f"line {row.line}: {row.product!r}"
        try:
            print(f"{label}: {apply_row(client, row, summary)}")
        except RowFailed as error:
            summary.failed.append(label)
            print(f"{label}: FAILED: {error}", file=sys.stderr)
        except ServerRefused as error:
            print(f"apply_tags: {error}", file=sys.stderr)
            return 1
    print(
        f"{summary.created} created, {summary.changed} changed, "
        f"{summary.unchanged} unchanged, {len(summary.failed)} failed"
    )
    return 1 if summary.failed else 0


def _check(payload: dict[str, Any]) -> None:
    errors = payload["userErrors"]
    if errors:
        raise RowFailed("; ".join(_describe(e) for e in errors))


def _describe(error: dict[str, Any]) -> str:
    code = error.get("code") or (error.get("extensions") or {}).get("code", "ERROR")
    where = ".".join(error.get("field") or [])
    return f"{code}{f' at {where}' if where else ''}: {error.get('message', '')}"


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        return "; ".join(_describe(e) for e in json.load(error)["errors"])
    except (ValueError, KeyError, TypeError):
        return str(error.reason)


def _clean(name: str) -> str:
    """A name as the server stores it (the server's db/names.py, README "Names"): format
    characters but joiners dropped, runs of spaces one space, trimmed, NFC-normalized.
    """
    kept = (c for c in name if c in "\u200c\u200d" or unicodedata.category(c) != "Cf")
    spaced = "".join(" " if unicodedata.category(c) == "Zs" else c for c in kept)
    return unicodedata.normalize("NFC", " ".join(filter(None, spaced.strip().split(" "))))


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "no tags"


if __name__ == "__main__":
    sys.exit(main())
