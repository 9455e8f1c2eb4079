"""The floor: W1's response built by ONE SQL statement and passed through, with no GraphQL.

It answers POST /graphql with the same shape W1 gets from the server,
{"data":{"products":{"nodes":[{"id","name","tags":{"nodes":[{"id","name"}]}}]}}},
in the same order (products by id, each product's first 20 tags by priority DESC, name,
id), except that ids are the raw database integers, not global ids. Whatever the server
spends beyond this is the price of parsing, validating, resolving and serializing GraphQL.

Run as its own process, like the server:
    python -m bench.floor --port 8001 --database-url URL [--workers N]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.engine import create_engine, is_sqlite
from server.settings import Settings

PRODUCTS_PAGE = 50  # W1's products(first: 50)
TAGS_PAGE = 20  # W1 leaves `tags(first:)` at the schema's default

POSTGRESQL_W1 = text(f"""
SELECT json_build_object('data', json_build_object('products', json_build_object('nodes',
  coalesce(json_agg(json_build_object(
    'id', p.id,
    'name', p.name,
    'tags', json_build_object('nodes', (
      SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name)
                               ORDER BY t.priority DESC, t.name_key, t.id), '[]'::json)
      FROM (SELECT tags.id, tags.name, tags.name_key, pt.priority
            FROM product_tags AS pt JOIN tags ON tags.id = pt.tag_id
            WHERE pt.product_id = p.id
            ORDER BY pt.priority DESC, tags.name_key, tags.id
            LIMIT {TAGS_PAGE}) AS t))
  ) ORDER BY p.id), '[]'::json))))::text
FROM (SELECT id, name FROM products ORDER BY id LIMIT {PRODUCTS_PAGE}) AS p
""")

# SQLite 3.40 has no ORDER BY inside aggregates: json_group_array keeps the order of an
# ordered subquery instead. JSON loses its subtype across a subquery, hence json(...).
SQLITE_W1 = text(f"""
SELECT json_object('data', json_object('products', json_object('nodes',
  json_group_array(json(product)))))
FROM (
  SELECT json_object(
    'id', p.id,
    'name', p.name,
    'tags', json_object('nodes', json((
      SELECT json_group_array(json_object('id', t.id, 'name', t.name))
      FROM (SELECT tags.id, tags.name
            FROM product_tags AS pt JOIN tags ON tags.id = pt.tag_id
            WHERE pt.product_id = p.id
            ORDER BY pt.priority DESC, tags.name_key, tags.id
            LIMIT {TAGS_PAGE}) AS t)))
  ) AS product
  FROM (SELECT id, name FROM products ORDER BY id LIMIT {PRODUCTS_PAGE}) AS p
  ORDER BY p.id
)
""")


def create_floor_app(settings: Settings) -> Starlette:
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    statement = SQLITE_W1 if is_sqlite(settings.database_url) else POSTGRESQL_W1

    async def products(_request: Request) -> Response:
        async with engine.connect() as connection:
            body = (await connection.execute(statement)).scalar_one()
        return Response(body.encode(), media_type="application/json")

    async def readyz(_request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/graphql", products, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


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
