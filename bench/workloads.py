"""The five workloads: what each one POSTs to /graphql, and what one request costs in SQL.

A workload is a list of request bodies; the load generators send a random one each time,
so W3, W4 and W5 spread over many products and tags instead of repeating one request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx
import orjson

from bench.dataset import Dataset
from db.statements import record_statements
from resolvers.ids import encode_id
from server.app import create_app
from server.settings import Settings

TOKEN = "bench-token"  # the server starts with CATALOG_WRITE_TOKENS set to this
VARIANTS = 1000  # distinct bodies for the workloads that pick products or tags at random

W1 = "{ products(first: 50) { nodes { id name tags { nodes { id name } } } } }"
W2 = (
    "{ products(first: 20) { nodes { name tags { nodes { name"
    " products(first: 10) { nodes { name } } } } } } }"
)
W3 = (
    "query($id: ID!) { product(id: $id) { id name"
    " tags { edges { priority addedAt node { id name } } } } }"
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
W5 = (
    "query($tags: [ID!]!) { products(first: 50, filter: { tags: { all: $tags } })"
    " { nodes { id name } } }"
)


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    bodies: tuple[bytes, ...]
    headers: dict[str, str]


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
        "W1": _workload("W1", "50 products, their tags", W1, [{}]),
        "W2": _workload("W2", "20 products, tags, 10 products each", W2, [{}]),
        "W3": _workload(
            "W3",
            "one product, tag edges",
            W3,
            [{"id": product_id(rng.choice(products))} for _ in range(VARIANTS)],
        ),
        "W4": _workload(
            "W4", "addTags 3 + removeTags 3", W4, [cycle() for _ in range(VARIANTS)], writes=True
        ),
        "W5": _workload(
            "W5", "products with all of 2 tags", W5, [common_pair() for _ in range(VARIANTS)]
        ),
    }


def _workload(
    name: str, title: str, query: str, variables: list[dict[str, object]], *, writes: bool = False
) -> Workload:
    bodies = tuple(
        orjson.dumps({"query": query, "variables": v} if v else {"query": query}) for v in variables
    )
    headers = {"Content-Type": "application/json"}
    if writes:
        headers["Authorization"] = f"Bearer {TOKEN}"
    return Workload(name, title, bodies, headers)


def failed(status: int, body: bytes) -> bool:
    """Whether a response is a failure: not 200, GraphQL errors, or userErrors with a code."""
    return status != 200 or b'"errors"' in body or b'"code"' in body


async def statements_per_request(settings: Settings, workload: Workload) -> int:
    """SQL statements one request runs, counted in-process (transaction control excluded).

    The request is sent twice and the second one counted, so one-off start-up work
    (connecting, the first look at the schema) does not count.
    """
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
