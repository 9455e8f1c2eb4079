"""The five workloads: what each one POSTs to /graphql, its floor, and its cost in SQL.

A workload is a list of request bodies; the load generators send a random one each time,
so W3, W4 and W5 spread over many products and tags instead of repeating one request.

Each workload's floor is declared right after it: the same answer (the same JSON `data`,
global ids and all) built by the database in one SQL statement, which bench/floor.py
passes through with no GraphQL. W4 writes, and its floor is the same link changes in one
transaction of two statements: an insert and a delete in one PostgreSQL statement cannot
see each other's rows. A floor is None where the exact answer cannot be built that way:
SQLite 3.40 has no base64 in SQL, so it cannot write global ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench.dataset import Dataset
from resolvers.ids import decode_id, encode_id
from server.config.settings import Settings

TOKEN = "bench-token"  # the server starts with CATALOG_WRITE_TOKENS set to this
VARIANTS = 1000  # distinct bodies for the workloads that pick products or tags at random
NO_BASE64 = "no floor on SQLite: its SQL has no base64 to write global ids with"


@dataclass(frozen=True)
class Floor:
    """A workload's answer by the shortest path: its SQL per dialect (None: impractical).

    Each statement after the first gets the previous one's result as `:previous`; the last
    one's result is the response body.
    """

    postgresql: tuple[str, ...] | None
    sqlite: tuple[str, ...] | None
    # The statements' bind parameters, from the request's GraphQL variables.
    parameters: Callable[[dict[str, Any]], dict[str, Any]] = lambda _variables: {}
    writes: bool = False  # the statements run in one transaction, committed


def _global_id(type_name: str, column: str) -> str:
    """PostgreSQL: the global id of `column`, base64 of "Type:id" as resolvers/ids.py makes it."""
    return f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"


def _tags_page(product: str, element: str) -> str:
    """PostgreSQL: the JSON array of `element` over a product's first 20 links (`tags`
    left at its default `first`), in the default order: priority DESC, name, id."""
    return f"""(SELECT coalesce(json_agg({element} ORDER BY t.priority DESC, t.name_key, t.id),
                     '[]'::json)
   FROM (SELECT tags.id, tags.name, tags.name_key, pt.priority, pt.added_at
         FROM product_tags AS pt JOIN tags ON tags.id = pt.tag_id
         WHERE pt.product_id = {product}
         ORDER BY pt.priority DESC, tags.name_key, tags.id
         LIMIT 20) AS t)"""


def _id_of(type_name: str) -> Callable[[Any], int]:
    return lambda value: decode_id(value, type_name)[1]


_product_id, _tag_id = _id_of("Product"), _id_of("Tag")

W1 = "{ products(first: 50) { nodes { id name tags { nodes { id name } } } } }"
W1_FLOOR = Floor(
    postgresql=(
        f"""SELECT json_build_object('data', json_build_object('products', json_build_object(
  'nodes', coalesce(json_agg(json_build_object(
    'id', {_global_id("Product", "p.id")},
    'name', p.name,
    'tags', json_build_object('nodes', {
            _tags_page(
                "p.id", f"json_build_object('id', {_global_id('Tag', 't.id')}, 'name', t.name)"
            )
        })
  ) ORDER BY p.id), '[]'::json))))::text
FROM (SELECT id, name FROM products ORDER BY id LIMIT 50) AS p""",
    ),
    sqlite=None,
)

W2 = (
    "{ products(first: 20) { nodes { name tags { nodes { name"
    " products(first: 10) { nodes { name } } } } } } }"
)
_TAG_WITH_PRODUCTS = """json_build_object('name', t.name, 'products', json_build_object('nodes',
     (SELECT coalesce(json_agg(json_build_object('name', q.name) ORDER BY q.id), '[]'::json)
      FROM (SELECT products.id, products.name
            FROM product_tags AS l JOIN products ON products.id = l.product_id
            WHERE l.tag_id = t.id ORDER BY l.product_id LIMIT 10) AS q)))"""
W2_FLOOR = Floor(
    postgresql=(
        f"""SELECT json_build_object('data', json_build_object('products', json_build_object(
  'nodes', coalesce(json_agg(json_build_object(
    'name', p.name,
    'tags', json_build_object('nodes', {_tags_page("p.id", _TAG_WITH_PRODUCTS)})
  ) ORDER BY p.id), '[]'::json))))::text
FROM (SELECT id, name FROM products ORDER BY id LIMIT 20) AS p""",
    ),
    # SQLite 3.40 has no ORDER BY inside aggregates: json_group_array keeps the order of
    # an ordered subquery instead. JSON loses its subtype across a subquery, hence json().
    sqlite=(
        """SELECT json_object('data', json_object('products', json_object('nodes',
  json_group_array(json(product)))))
FROM (
  SELECT json_object('name', p.name, 'tags', json_object('nodes', json((
    SELECT json_group_array(json(tag)) FROM (
      SELECT json_object('name', tags.name, 'products', json_object('nodes', json((
        SELECT json_group_array(json_object('name', q.name))
        FROM (SELECT products.name
              FROM product_tags AS l JOIN products ON products.id = l.product_id
              WHERE l.tag_id = tags.id ORDER BY l.product_id LIMIT 10) AS q)))) AS tag
      FROM product_tags AS pt JOIN tags ON tags.id = pt.tag_id
      WHERE pt.product_id = p.id
      ORDER BY pt.priority DESC, tags.name_key, tags.id
      LIMIT 20))))) AS product
  FROM (SELECT id, name FROM products ORDER BY id LIMIT 20) AS p
  ORDER BY p.id
)""",
    ),
)

W3 = (
    "query($id: ID!) { product(id: $id) { id name"
    " tags { edges { priority addedAt node { id name } } } } }"
)
# addedAt as Python's isoformat() writes a UTC time: no fraction when it is zero.
_ADDED_AT = """to_char(t.added_at AT TIME ZONE 'UTC',
    CASE WHEN date_trunc('second', t.added_at) = t.added_at
         THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
         ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END)"""
_EDGE = f"""json_build_object('priority', t.priority, 'addedAt', {_ADDED_AT},
    'node', json_build_object('id', {_global_id("Tag", "t.id")}, 'name', t.name))"""
W3_FLOOR = Floor(
    postgresql=(
        f"""SELECT json_build_object('data', json_build_object('product', (
  SELECT json_build_object(
    'id', {_global_id("Product", "p.id")},
    'name', p.name,
    'tags', json_build_object('edges', {_tags_page("p.id", _EDGE)}))
  FROM products AS p WHERE p.id = CAST(:id AS integer))))::text""",
    ),
    sqlite=None,
    parameters=lambda v: {"id": _product_id(v["id"])},
)

# One request is one whole cycle: GraphQL runs mutation fields in order, so the remove
# always follows its add, and the junction is back where it was after every request.
W4 = """mutation($product: ID!, $tags: [ID!]!) {
  add: addTags(input: {productId: $product, tagIds: $tags}) {
    added { id } userErrors { code message }
  }
  remove: removeTags(input: {productId: $product, tagIds: $tags}) {
    removed { id } userErrors { code message }
  }
}"""
# Two statements in one transaction: in one PostgreSQL statement the delete would not see
# the rows the insert adds.
W4_FLOOR = Floor(
    postgresql=(
        f"""WITH added AS (
  INSERT INTO product_tags (product_id, tag_id)
  SELECT CAST(:product AS integer), tag FROM unnest(CAST(:tags AS integer[])) AS tag
  ON CONFLICT DO NOTHING RETURNING tag_id)
SELECT coalesce(json_agg(json_build_object('id', {_global_id("Tag", "tag_id")}) ORDER BY tag_id),
                '[]'::json)::text
FROM added""",
        f"""WITH removed AS (
  DELETE FROM product_tags
  WHERE product_id = CAST(:product AS integer) AND tag_id = ANY(CAST(:tags AS integer[]))
  RETURNING tag_id)
SELECT json_build_object('data', json_build_object(
  'add', json_build_object('added', CAST(:previous AS json), 'userErrors', '[]'::json),
  'remove', json_build_object('removed',
    coalesce(json_agg(json_build_object('id', {_global_id("Tag", "tag_id")}) ORDER BY tag_id),
             '[]'::json),
    'userErrors', '[]'::json)))::text
FROM removed""",
    ),
    sqlite=None,
    parameters=lambda v: {
        "product": _product_id(v["product"]),
        "tags": list(map(_tag_id, v["tags"])),
    },
    writes=True,
)

W5 = (
    "query($tags: [ID!]!) { products(first: 50, filter: { tags: { all: $tags } })"
    " { nodes { id name } } }"
)
W5_FLOOR = Floor(
    postgresql=(
        f"""SELECT json_build_object('data', json_build_object('products', json_build_object(
  'nodes', coalesce(json_agg(
    json_build_object('id', {_global_id("Product", "p.id")}, 'name', p.name) ORDER BY p.id
  ), '[]'::json))))::text
FROM (SELECT id, name FROM products
      WHERE id IN (SELECT product_id FROM product_tags
                   WHERE tag_id = ANY(CAST(:tags AS integer[]))
                   GROUP BY product_id
                   HAVING count(*) = cardinality(CAST(:tags AS integer[])))
      ORDER BY id LIMIT 50) AS p""",
    ),
    sqlite=None,
    parameters=lambda v: {"tags": list(map(_tag_id, v["tags"]))},
)

FLOORS = {"W1": W1_FLOOR, "W2": W2_FLOOR, "W3": W3_FLOOR, "W4": W4_FLOOR, "W5": W5_FLOOR}


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    bodies: tuple[bytes, ...]
    headers: dict[str, str]
    floor: Floor


def build(dataset: Dataset, seed: int = 1) -> dict[str, Workload]:
    """Every workload, by name; the random choices come from `seed`, so runs compare."""
    rng = random.Random(seed)
    products = list(dataset.product_ids)
    tags = list(dataset.tag_ids)

    def product_id(n: int) -> str:
        return encode_id("Product", n)

    def tag_ids(ids: list[int]) -> list[str]:
        return [encode_id("Tag", n) for n in ids]

    def cycle() -> dict[str, object]:
        # Tags the product does not have: removing them again restores its links exactly.
        product = rng.choice(products)
        own = dataset.tags_by_product[product]
        new = rng.sample([t for t in tags if t not in own], 3)
        return {"product": product_id(product), "tags": tag_ids(new)}

    def common_pair() -> dict[str, object]:
        # Two tags of one product, so that the filter finds at least that product.
        own = sorted(dataset.tags_by_product[rng.choice(products)])
        return {"tags": tag_ids(rng.sample(own, 2))}

    return {
        "W1": _workload("W1", "50 products, their tags", W1, W1_FLOOR, [{}]),
        "W2": _workload("W2", "20 products, tags, 10 products each", W2, W2_FLOOR, [{}]),
        "W3": _workload(
            "W3",
            "one product, tag edges",
            W3,
            W3_FLOOR,
            [{"id": product_id(rng.choice(products))} for _ in range(VARIANTS)],
        ),
        "W4": _workload(
            "W4",
            "addTags 3 + removeTags 3",
            W4,
            W4_FLOOR,
            [cycle() for _ in range(VARIANTS)],
            writes=True,
        ),
        "W5": _workload(
            "W5",
            "products with all of 2 tags",
            W5,
            W5_FLOOR,
            [common_pair() for _ in range(VARIANTS)],
        ),
    }


def _workload(
    name: str,
    title: str,
    query: str,
    floor: Floor,
    variables: list[dict[str, object]],
    *,
    writes: bool = False,
) -> Workload:
    bodies = tuple(
        orjson.dumps({"query": query, "variables": v} if v else {"query": query}) for v in variables
    )
    headers = {"Content-Type": "application/json"}
    if writes:
        headers["Authorization"] = f"Bearer {TOKEN}"
    return Workload(name, title, bodies, headers, floor)


def failed(status: int, body: bytes) -> bool:
    """Whether a response is a failure: not 200, GraphQL errors, or userErrors with a code."""
    return status != 200 or b'"errors"' in body or b'"code"' in body


async def statements_per_request(settings: Settings, workload: Workload) -> int:
    """SQL statements one request runs, counted in-process (transaction control excluded).

    The request is sent twice and the second one counted, so one-off start-up work
    (connecting, the first look at the schema) does not count.
    """
    # Imported here, so that the floor's process (bench/floor.py) loads no GraphQL.
    from db.statements import record_statements
    from server.app import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            body = workload.bodies[0]
            await client.post("/graphql", content=body, headers=workload.headers)
            with record_statements() as log:
                response = await client.post("/graphql", content=body, headers=workload.headers)
    finally:
        await app.state.engine.dispose()
    if failed(response.status_code, response.content):
        raise RuntimeError(f"{workload.name} fails in-process: {response.text[:500]}")
    return log.count
