"""What a request loads is freed when the request ends, not by the cycle collector.

graphql-core's executor sits in a reference cycle that holds the request's context; the
view lets go of the context's loaders once the request is answered (RequestContext
.release), so the rows a request read never wait in that cycle. Measured as the objects
the cycle collector finds after one request: the same for a catalog of 1 product as for
one of 60, whose page reads 60 times the rows.
"""

from __future__ import annotations

import gc

import httpx

from tests.api.conftest import gql_data
from tests.api.test_statement_counts import catalog_of

PAGE = (
    "{ products(first: 100) { nodes { name tags { nodes { name products { nodes { id } } } } } } }"
)


async def garbage_of_one_request(client: httpx.AsyncClient) -> int:
    """How many unreachable objects in cycles one request leaves behind."""
    await gql_data(client, PAGE)  # warm: plans, prepared statements, pooled connection
    gc.collect()
    gc.disable()
    try:
        data = await gql_data(client, PAGE)
        found = gc.collect()
    finally:
        gc.enable()
    assert data["products"]["nodes"]
    return found


async def test_the_rows_a_request_read_are_not_left_in_reference_cycles(
    client: httpx.AsyncClient,
) -> None:
    await catalog_of(client, 1)
    small = await garbage_of_one_request(client)
    await catalog_of(client, 60)
    large = await garbage_of_one_request(client)
    # 60 products with 5 tags each are ~2,000 records and pages more: none of it may be
    # in a cycle. What is left is the executor's own cycle, the same for any catalog.
    assert large - small < 20, (small, large)
