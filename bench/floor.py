"""The floors: each workload's answer built by the database and passed through, no GraphQL.

POST /floor/W1 ... /floor/W5 takes the workload's own request body, reads its variables
(decoding global ids, as any server must), runs the workload's floor SQL (declared next to
the workload in bench/workloads.py: one statement, W4's two in one transaction) and sends
the resulting JSON bytes as they come. Whatever the server spends beyond this is the price
of parsing, validating, resolving and serializing GraphQL. A workload without a floor on
this database answers 404.

Run as its own process, like the server:
    python -m bench.floor --port 8001 --database-url URL [--workers N]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy import TextClause, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.workloads import FLOORS, Floor
from db.engine import create_engine, is_sqlite
from server.config.settings import Settings


def floor_sql(floor: Floor, database_url: str) -> tuple[str, ...] | None:
    """The floor's statements for this database; None when it has none there."""
    return floor.sqlite if is_sqlite(database_url) else floor.postgresql


def create_floor_app(settings: Settings) -> Starlette:
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    statements: dict[str, tuple[TextClause, ...]] = {
        name: tuple(text(sql) for sql in found)
        for name, floor in FLOORS.items()
        if (found := floor_sql(floor, settings.database_url)) is not None
    }

    async def answer(request: Request) -> Response:
        name = request.path_params["workload"]
        if name not in statements:
            return JSONResponse({"error": f"no floor for {name} on this database"}, 404)
        floor = FLOORS[name]
        parameters = floor.parameters(orjson.loads(await request.body()).get("variables") or {})
        body: str | None = None
        async with engine.begin() if floor.writes else engine.connect() as connection:
            for statement in statements[name]:
                result = await connection.execute(statement, {**parameters, "previous": body})
                body = result.scalar_one()
        assert body is not None  # a floor has at least one statement
        return Response(body.encode(), media_type="application/json")

    async def readyz(_request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/floor/{workload}", answer, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


def app_from_env() -> Starlette:
    return create_floor_app(Settings.from_env())


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # Workers are separate processes: they read the URL from the environment, as the
    # server's do.
    os.environ["CATALOG_DATABASE_URL"] = args.database_url
    uvicorn.run(
        "bench.floor:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
