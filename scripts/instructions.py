"""Instructions per request, counted by valgrind: a figure the machine's load cannot move.

    .venv/bin/python scripts/instructions.py postgresql+asyncpg://user@host/postgres

Wall-clock and CPU figures on a shared machine swing by a third within minutes, which
hides a change of a few percent. An instruction count does not: valgrind's callgrind
counts what the process executes (the kernel's share, system calls, is not in it), and
the same code and inputs give the same count to within a fraction of a percent.

Creates a scratch database beside the one named (dropped at the end), migrates it, seeds
the demo catalog, then runs this script's `count` mode under callgrind twice per document:
the app (as `catalog serve` builds it) answers WARM_UP requests, then SHORT or LONG more,
16 at a time, posted to the ASGI app directly. The difference between the two runs over
LONG - SHORT is the cost of one request, with start-up and warm-up taken out.

Documents: `{ __typename }` (what every request costs before it reads anything) and the
bench's W3 (`product(id:)` with its tag edges), then W3's floor (bench/floor.py: the same
answer built by one SQL statement, posted to the floor's own app), so the last line gives
W3 against its floor in instructions: the bench's ratio without the machine's noise, and
without the HTTP server and the kernel, which both pay. Needs valgrind (Debian's
`valgrind`).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import orjson
from statement_cost import (  # this folder, on the path when run as a script
    post,
    post_scope,
    scratch_database,
)

from bench.workloads import W3
from db.engine import create_engine
from db.seed import seed_demo
from resolvers.ids import encode_id

WARM_UP, SHORT, LONG = 200, 200, 1_000
PRODUCTS = 300
DOCUMENTS = {"{ __typename }": "{ __typename }", "W3": W3, "W3 floor": W3}
FLOOR = "W3 floor"  # posted to the floor's app (bench/floor.py), not to /graphql
_COLLECTED = re.compile(r"Collected : (\d+)")


async def main(admin_url: str) -> None:
    async with scratch_database(admin_url, "catalog_instructions") as url:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await seed_demo(connection, products_count=PRODUCTS)
        await engine.dispose()
        per_request: dict[str, float] = {}
        for label in DOCUMENTS:
            short = await asyncio.to_thread(_instructions, url, label, SHORT)
            long = await asyncio.to_thread(_instructions, url, label, LONG)
            per_request[label] = (long - short) / (LONG - SHORT)
            print(f"{label}: {per_request[label]:,.0f} instructions per request")
        print(f"W3 ÷ its floor, in instructions: {per_request[FLOOR] / per_request['W3']:.2f}")


def _instructions(url: str, label: str, requests: int) -> int:
    """The instructions of one `count` run under callgrind."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "count",
        url,
        label,
        str(requests),
    ]
    # The same hash seed each run: dict layouts, and so the work, repeat exactly.
    # Under valgrind a request runs some fifty times slower: no time budget may cut it.
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "CATALOG_LOG_LEVEL": "INFO",
        "CATALOG_REQUEST_TIMEOUT_MS": "600000",
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind reported no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


async def count(url: str, label: str, requests: int) -> None:
    """WARM_UP requests, then `requests` more, 16 at a time, through the whole app."""
    from bench.floor import create_floor_app
    from server.config.settings import Settings
    from server.process.main import app_from_env

    os.environ["CATALOG_DATABASE_URL"] = url
    scope = post_scope()
    if label == FLOOR:
        app = create_floor_app(Settings.from_env())
        scope |= {"path": "/floor/W3", "raw_path": b"/floor/W3"}
    else:
        app = app_from_env()
    query = DOCUMENTS[label]

    async def request(number: int) -> None:
        variables = {"id": encode_id("Product", number)}
        await post(app, orjson.dumps({"query": query, "variables": variables}), scope)

    async def run(total: int) -> None:
        async def client(k: int) -> None:
            for i in range(k, total, 16):
                await request(i % PRODUCTS + 1)

        await asyncio.gather(*(client(k) for k in range(16)))

    async with app.router.lifespan_context(app):
        await run(WARM_UP)
        await run(requests)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "count":
        import uvloop

        uvloop.run(count(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    elif len(sys.argv) == 2:
        asyncio.run(main(sys.argv[1]))
    else:
        sys.exit(__doc__)
