#!/usr/bin/env python3
"""Apply the product tags a CSV file lists, through the catalog's GraphQL API (applyTags).

    python examples/apply_tags.py examples/catalog.csv \\
        --url http://127.0.0.1:8000/graphql --token "$CATALOG_TOKEN" [--mode set|add|remove]
        [--dry-run] [--batch-size 1000]

The CSV has a header row naming the columns `product` (a product's exact name, or its
global id) and `tags` (tag names separated by semicolons, each with an optional priority
after a colon: `Sale:5; New Arrival`). Rows go to the server 1,000 at a time in one
`applyTags` request each; each request is one transaction. See examples/README.md.

Standard library only. Exit status: 0 every row applied; 1 some rows refused (the others
applied); 2 the input cannot be used (missing file, bad header, bad arguments); 3 the
server refused the token or could not be reached.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import re
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TAG_SEPARATOR = ";"
MAX_BATCH = 1000  # the server's limit of items per applyTags request
# A write's consistency token (docs/deployment.md), sent back so later reads include it.
CONSISTENCY_HEADER = "Catalog-Consistency-Token"
MAX_TAGS = 100  # the server's limit of tags per item
PRIORITY = re.compile(r"^(?P<name>.*?)\s*:\s*(?P<priority>[+-]?\d+)$")
INT32 = range(-(2**31), 2**31)
EXIT_OK, EXIT_ROWS_FAILED, EXIT_BAD_INPUT, EXIT_SERVER = 0, 1, 2, 3

PRODUCTS = """
query ($after: String) {
  products(first: 100, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } }
}
"""

APPLY_TAGS = """
mutation ($input: ApplyTagsInput!) {
  applyTags(input: $input) {
    results { added { name } updated { name } removed { name } }
    userErrors { field message code }
  }
}
"""


class ServerRefused(Exception):
    """The server refused the request as a whole (HTTP error, unreachable): stop."""


class BadInput(Exception):
    """The CSV file cannot be used at all."""


@dataclass
class Row:
    line: int
    product: str  # as written: a name or a global id
    tags: list[dict[str, Any]]
    product_id: str | None = None
    create: bool = False  # no product has this name yet


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self, dry_run: bool) -> str:
        seconds = time.monotonic() - self.started
        verb = "would be " if dry_run else ""
        return (
            f"{self.rows} rows: {self.created} {verb}created, {self.changed} {verb}changed, "
            f"{self.unchanged} unchanged, {self.failed} failed "
            f"in {seconds:.1f} s ({self.rows / seconds if seconds else 0:,.0f} rows/s)"
            + (" (dry run: nothing written)" if dry_run else "")
        )


class Client:
    """Posts GraphQL operations with an ordinary HTTP request.

    A server with read replicas answers each write with a consistency token; the client
    sends the latest one back with every later request, so that what it reads after a
    write includes that write, whichever database node the server reads from.
    """

    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        self.url = url
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        """The operation's `data`; ServerRefused on HTTP errors and GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                result = json.load(response)
                consistency = response.headers.get(CONSISTENCY_HEADER)
                if consistency:
                    self.headers[CONSISTENCY_HEADER] = consistency
        except urllib.error.HTTPError as error:
            raise ServerRefused(f"HTTP {error.code}: {_error_message(error)}") from error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise ServerRefused(f"cannot reach {self.url}: {reason}") from error
        if result.get("errors"):
            raise ServerRefused("; ".join(_describe(e) for e in result["errors"]))
        data: dict[str, Any] = result["data"]
        return data


# -- reading the CSV --------------------------------------------------------------------------


def read_rows(path: str) -> tuple[list[Row], list[str]]:
    """The CSV's rows, and one error line per row that cannot be sent (with its line)."""
    try:
        file = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror or error}") from error
    rows: list[Row] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    with file:
        reader = csv.DictReader(file)
        try:
            header = reader.fieldnames
        except (UnicodeDecodeError, csv.Error) as error:
            raise BadInput(f"{path}: line 1: {error}") from error
        if header is None or not {"product", "tags"} <= {h.strip() for h in header}:
            raise BadInput(f"{path}: line 1: the header must name the columns product,tags")
        reader.fieldnames = [h.strip() for h in header]
        try:
            for record in reader:
                line = reader.line_num
                try:
                    row = _row(line, record)
                except ValueError as error:
                    errors.append(f"{path}: line {line}: {error}")
                    continue
                if (earlier := seen.setdefault(row.product, line)) != line:
                    errors.append(
                        f"{path}: line {line}: {row.product!r} is already on line {earlier}"
                    )
                    continue
                rows.append(row)
        except (UnicodeDecodeError, csv.Error) as error:
            raise BadInput(f"{path}: line {reader.line_num}: {error}") from error
    return rows, errors


def _row(line: int, record: dict[str, str | None]) -> Row:
    product = _clean(record.get("product") or "")
    if not product:
        raise ValueError("the product is empty")
    tags = [_tag(token) for token in (record.get("tags") or "").split(TAG_SEPARATOR)]
    links = [t for t in tags if t is not None]
    if len(links) > MAX_TAGS:
        raise ValueError(f"{len(links)} tags; at most {MAX_TAGS} per product")
    return Row(line, product, links)


def _tag(token: str) -> dict[str, Any] | None:
    """`Name` or `Name:priority` as a TagLinkInput; None for a blank token."""
    token = token.strip()
    if not token:
        return None
    match = PRIORITY.match(token)
    if match is None:
        return {"name": token}
    priority = int(match["priority"])
    if priority not in INT32:
        raise ValueError(f"the priority of {token!r} does not fit in a 32-bit integer")
    if not match["name"]:
        raise ValueError(f"{token!r} has a priority but no tag name")
    return {"name": match["name"], "priority": priority}


# -- finding the products -----------------------------------------------------------------------


def find_products(client: Client, rows: list[Row]) -> list[str]:
    """Give each row its product id; errors for names that several products share.

    A global id is used as it is. Names are looked up by reading the catalog once, 100
    products per request (so for very large catalogs, prefer ids in the CSV).
    """
    by_name = [row for row in rows if not _looks_like_id(row.product)]
    for row in rows:
        if _looks_like_id(row.product):
            row.product_id = row.product
    if not by_name:
        return []
    ids: dict[str, list[str]] = {}
    after = None
    while True:
        page = client.run(PRODUCTS, after=after)["products"]
        for product in page["nodes"]:
            ids.setdefault(product["name"], []).append(product["id"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    errors = []
    for row in by_name:
        found = ids.get(row.product, [])
        if len(found) > 1:
            errors.append(
                f"line {row.line}: {len(found)} products are named {row.product!r}; "
                "give its id instead"
            )
        elif found:
            row.product_id = found[0]
        else:
            row.create = True
    return errors


def create_products(
    client: Client, rows: list[Row], summary: Summary
) -> tuple[list[str], list[str]]:
    """Create the products no product's name matched, each with its tags in one transaction
    (an invalid tag creates nothing), 25 to a request; (what was done, refused rows)."""
    done: list[str] = []
    failed: list[str] = []
    missing = [row for row in rows if row.create]
    for start in range(0, len(missing), 25):
        chunk = missing[start : start + 25]
        fields = " ".join(
            f"p{n}: createProduct(input: {{name: $name{n}, tags: $tags{n}}}) "
            "{ product { id } userErrors { field message code } }"
            for n in range(len(chunk))
        )
        arguments = ", ".join(
            f"$name{n}: String!, $tags{n}: [TagLinkInput!]!" for n in range(len(chunk))
        )
        variables: dict[str, Any] = {}
        for n, row in enumerate(chunk):
            variables |= {f"name{n}": row.product, f"tags{n}": row.tags}
        data = client.run(f"mutation ({arguments}) {{ {fields} }}", **variables)
        for n, row in enumerate(chunk):
            payload = data[f"p{n}"]
            if payload["userErrors"]:
                why = "; ".join(_describe(e) for e in payload["userErrors"])
                failed.append(f"line {row.line}: {row.product!r}: {why}")
                continue
            summary.created += 1
            tags = ", ".join(f"+{t['name']}" for t in row.tags) or "no tags"
            done.append(f"line {row.line}: {row.product!r}: created, {tags}")
    return done, failed


# -- applying -----------------------------------------------------------------------------------


def apply_batch(
    client: Client, rows: list[Row], mode: str, dry_run: bool, summary: Summary
) -> tuple[list[str], list[str]]:
    """Apply one batch; (a line per row saying what changed, a line per refused row).

    A batch is one transaction: when the server refuses some rows, the batch is sent
    again without them, so the other rows are still applied.
    """
    failed: list[str] = []
    while rows:
        items = [{"productId": row.product_id, "tags": row.tags} for row in rows]
        payload = client.run(
            APPLY_TAGS, input={"items": items, "mode": mode.upper(), "dryRun": dry_run}
        )["applyTags"]
        refused = _refused_rows(payload["userErrors"], rows)
        if not refused:
            return [
                _outcome(row, r, summary) for row, r in zip(rows, payload["results"], strict=True)
            ], failed
        failed += [f"line {rows[i].line}: {rows[i].product!r}: {why}" for i, why in refused.items()]
        rows = [row for i, row in enumerate(rows) if i not in refused]
    return [], failed


def _refused_rows(errors: list[dict[str, Any]], rows: list[Row]) -> dict[int, str]:
    refused: dict[int, str] = {}
    for error in errors:
        path = error.get("field") or []
        if len(path) >= 3 and path[1] == "items" and path[2].isdigit():
            refused.setdefault(int(path[2]), _describe(error))
        else:  # not about one item: nothing in this batch can be applied
            return dict.fromkeys(range(len(rows)), _describe(error))
    return refused


def _outcome(row: Row, result: dict[str, Any], summary: Summary) -> str:
    changes = [
        *(f"+{t['name']}" for t in result["added"]),
        *(f"~{t['name']}" for t in result["updated"]),
        *(f"-{t['name']}" for t in result["removed"]),
    ]
    if changes:
        summary.changed += 1
    else:
        summary.unchanged += 1
    return f"line {row.line}: {row.product!r}: {', '.join(changes) or 'unchanged'}"


def batches(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Progress:
    """A progress bar with rows per second on stderr, when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.shown = sys.stderr.isatty()

    def advance(self, rows: int) -> None:
        self.done += rows
        if not self.shown:
            return
        seconds = time.monotonic() - self.started
        width = 30
        filled = width * self.done // max(self.total, 1)
        rate = self.done / seconds if seconds else 0
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} rows"
            f"  {rate:,.0f} rows/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Apply the product tags a CSV file lists (see examples/README.md)."
    )
    parser.add_argument("csv", help="CSV file with the columns product,tags")
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql", help="GraphQL endpoint")
    parser.add_argument(
        "--token",
        default=os.environ.get("CATALOG_TOKEN"),
        help="write token, sent as Authorization: Bearer (default: $CATALOG_TOKEN)",
    )
    parser.add_argument(
        "--mode",
        choices=["set", "add", "remove"],
        default="set",
        help="set: exactly these tags (default); add: link them; remove: unlink them",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would change and write nothing"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=MAX_BATCH,
        help=f"rows per request, 1 to {MAX_BATCH} (default {MAX_BATCH})",
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH}")

    summary = Summary()
    try:
        rows, row_errors = read_rows(args.csv)
    except BadInput as error:
        print(f"apply_tags: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in row_errors:
        print(f"apply_tags: {line}", file=sys.stderr)
    summary.rows = len(rows) + len(row_errors)
    summary.failed = len(row_errors)
    client = Client(args.url, args.token)
    show = args.dry_run or not args.quiet
    progress = Progress(len(rows))
    try:
        for line in find_products(client, rows):
            print(f"apply_tags: {args.csv}: {line}", file=sys.stderr)
            summary.failed += 1
        rows = [row for row in rows if row.product_id or row.create]
        if args.mode == "remove":  # nothing to remove from a product that does not exist
            for row in (r for r in rows if r.create):
                print(
                    f"apply_tags: {args.csv}: line {row.line}: no product is named {row.product!r}",
                    file=sys.stderr,
                )
                summary.failed += 1
        elif args.dry_run:
            for row in (r for r in rows if r.create):
                tags = ", ".join(f"+{t['name']}" for t in row.tags) or "no tags"
                print(f"line {row.line}: {row.product!r}: would be created, {tags}")
                summary.created += 1
        else:
            created, refused = create_products(client, rows, summary)
            if show:
                for line in created:
                    print(line)
            for line in refused:
                print(f"apply_tags: {args.csv}: {line}", file=sys.stderr)
            summary.failed += len(refused)
        progress.advance(sum(row.create for row in rows))
        rows = [row for row in rows if not row.create]
        for batch in batches(rows, args.batch_size):
            applied, refused = apply_batch(client, batch, args.mode, args.dry_run, summary)
            progress.advance(len(batch))
            if show:
                for line in applied:
                    print(line)
            for line in refused:
                print(f"apply_tags: {args.csv}: {line}", file=sys.stderr)
            summary.failed += len(refused)
    except ServerRefused as error:
        progress.close()
        print(f"apply_tags: {error}", file=sys.stderr)
        return EXIT_SERVER
    progress.close()
    print(summary.line(args.dry_run))
    return EXIT_ROWS_FAILED if summary.failed else EXIT_OK


def _looks_like_id(value: str) -> bool:
    """Whether a product cell holds a global id ("UHJvZHVjdDox", base64 of Product:1)."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeError):
        return False
    kind, _, number = decoded.partition(":")
    return kind == "Product" and number.isdigit()


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
    """A name as the server stores it (the server's db/names.py, docs/api.md, "Names"): format
    characters but joiners dropped, runs of spaces one space, trimmed, NFC-normalized.
    """
    kept = (c for c in name if c in "\u200c\u200d" or unicodedata.category(c) != "Cf")
    spaced = "".join(" " if unicodedata.category(c) == "Zs" else c for c in kept)
    return unicodedata.normalize("NFC", " ".join(filter(None, spaced.strip().split(" "))))


if __name__ == "__main__":
    sys.exit(main())
