"""Walking a connection page by page, forwards or backwards, checking Relay's pageInfo on
every page; shared by the ordering and paging tests and the model test."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import gql_data

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
ARGS = "first: $first, last: $last, after: $after, before: $before"
VARS = "$first: Int, $last: Int, $after: String, $before: String"

PRODUCTS = f"""
query ({VARS}, $orderBy: ProductOrder, $filter: ProductFilter) {{
  products({ARGS}, orderBy: $orderBy, filter: $filter) {{
    totalCount edges {{ cursor node {{ databaseId name createdAt }} }} {PAGE_INFO}
  }}
}}
"""

TAGS = f"""
query ({VARS}, $orderBy: TagOrder) {{
  tags({ARGS}, orderBy: $orderBy) {{
    totalCount edges {{ cursor node {{ databaseId name createdAt }} }} {PAGE_INFO}
  }}
}}
"""

PRODUCT_TAGS = f"""
query ($id: ID!, {VARS}, $orderBy: ProductTagOrder, $filter: LinkFilter) {{
  product(id: $id) {{
    tags({ARGS}, orderBy: $orderBy, filter: $filter) {{
      totalCount edges {{ cursor priority addedAt node {{ databaseId name }} }} {PAGE_INFO}
    }}
  }}
}}
"""

TAG_PRODUCTS = f"""
query ($id: ID!, {VARS}, $orderBy: TagProductOrder, $filter: LinkFilter) {{
  tag(id: $id) {{
    products({ARGS}, orderBy: $orderBy, filter: $filter) {{
      totalCount edges {{ cursor priority addedAt node {{ databaseId name }} }} {PAGE_INFO}
    }}
  }}
}}
"""


def connection_at(data: dict[str, Any]) -> dict[str, Any]:
    """The one connection in a response: data.<root> or data.<root>.<field>."""
    (value,) = data.values()
    if "edges" not in value:
        (value,) = value.values()
    connection: dict[str, Any] = value
    return connection


async def walk(
    client: httpx.AsyncClient,
    query: str,
    size: int,
    *,
    backward: bool = False,
    **variables: Any,
) -> tuple[list[dict[str, Any]], int]:
    """Every edge of the connection in its order, paging with first/after, or with
    last/before from the end; and how many pages it took. Asserts on every page what
    Relay's spec says of pageInfo, and that a page short of `size` is the last."""
    edges: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        asked = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        connection = connection_at(await gql_data(client, query, {**variables, **asked}))
        pages += 1
        page = connection["edges"]
        info = connection["pageInfo"]
        assert len(page) <= size
        assert info["startCursor"] == (page[0]["cursor"] if page else None)
        assert info["endCursor"] == (page[-1]["cursor"] if page else None)
        if backward:
            assert info["hasNextPage"] is (cursor is not None)
            edges = page + edges
            more, cursor = info["hasPreviousPage"], info["startCursor"]
        else:
            assert info["hasPreviousPage"] is (cursor is not None)
            edges = edges + page
            more, cursor = info["hasNextPage"], info["endCursor"]
        if not more:
            return edges, pages
        assert len(page) == size
        assert pages < 200, "paging does not end"
