"""filter: LinkFilter on Product.tags and Tag.products: links by their own columns, with
totalCount counting what the filter keeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.api.conftest import add_tags, create_product, error_code, gql, gql_data
from tests.api.paging import PRODUCT_TAGS, TAG_PRODUCTS, connection_at, walk


async def test_product_tags_keep_only_links_with_a_priority_in_range(
    client: httpx.AsyncClient,
) -> None:
    lamp = await create_product(client, "Lamp", ["Low"])
    await add_tags(client, lamp["id"], ["Mid", "Also mid"], priority=3)
    await add_tags(client, lamp["id"], ["High"], priority=9)

    for bounds, expected in [
        ({"gte": 1, "lte": 5}, ["Also mid", "Mid"]),
        ({"gte": 3}, ["High", "Also mid", "Mid"]),
        ({"lte": 0}, ["Low"]),
        ({"gte": 5, "lte": 1}, []),  # an empty range keeps nothing
    ]:
        variables = {"id": lamp["id"], "filter": {"priority": bounds}}
        connection = connection_at(await gql_data(client, PRODUCT_TAGS, variables))
        edges, _ = await walk(client, PRODUCT_TAGS, 1, backward=True, **variables)

        assert [e["node"]["name"] for e in connection["edges"]] == expected, bounds
        assert [e["node"]["name"] for e in edges] == expected, bounds
        assert connection["totalCount"] == len(expected), bounds


async def test_tag_products_keep_only_links_added_within_a_time_range(
    client: httpx.AsyncClient,
) -> None:
    early = await create_product(client, "Early", ["Sale"])
    late = await create_product(client, "Late")
    await add_tags(client, late["id"], ["Sale"], priority=2)
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]["id"]
    everything = connection_at(await gql_data(client, TAG_PRODUCTS, {"id": sale}))
    added = {e["node"]["name"]: e["addedAt"] for e in everything["edges"]}
    late_at = datetime.fromisoformat(added["Late"])
    in_tokyo = late_at.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+09:00").tzinfo)

    for bounds, expected in [
        ({"gte": added["Late"]}, ["Late"]),
        ({"lte": added["Early"]}, ["Early"]),
        ({"gte": in_tokyo.isoformat()}, ["Late"]),  # the same moment in another offset
        ({"gte": (late_at + timedelta(microseconds=1)).isoformat()}, []),
        ({"gte": added["Early"], "lte": added["Late"]}, ["Early", "Late"]),
    ]:
        variables = {"id": sale, "filter": {"addedAt": bounds}}
        connection = connection_at(await gql_data(client, TAG_PRODUCTS, variables))

        assert [e["node"]["name"] for e in connection["edges"]] == expected, bounds
        assert connection["totalCount"] == len(expected), bounds
    assert early["name"] == "Early"


async def test_priority_and_time_ranges_combine(client: httpx.AsyncClient) -> None:
    lamp = await create_product(client, "Lamp", ["Old low"])
    await add_tags(client, lamp["id"], ["Old high"], priority=5)
    everything = connection_at(await gql_data(client, PRODUCT_TAGS, {"id": lamp["id"]}))
    cutoff = max(e["addedAt"] for e in everything["edges"])
    await add_tags(client, lamp["id"], ["New high"], priority=5)

    variables = {
        "id": lamp["id"],
        "filter": {"priority": {"gte": 5}, "addedAt": {"lte": cutoff}},
        "orderBy": {"field": "ADDED_AT"},
    }
    connection = connection_at(await gql_data(client, PRODUCT_TAGS, variables))

    assert [e["node"]["name"] for e in connection["edges"]] == ["Old high"]
    assert connection["totalCount"] == 1


@pytest.mark.parametrize("side", ["gte", "lte"])
async def test_a_time_without_an_offset_is_refused(client: httpx.AsyncClient, side: str) -> None:
    lamp = await create_product(client, "Lamp", ["Sale"])

    body = await gql(
        client,
        PRODUCT_TAGS,
        {"id": lamp["id"], "filter": {"addedAt": {side: "2026-01-01T00:00:00"}}},
    )

    assert error_code(body) == "BAD_USER_INPUT"
    assert f"`filter.addedAt.{side}` needs a time zone offset" in body["errors"][0]["message"]
