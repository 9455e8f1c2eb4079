"""The five helpers of the relation as a client uses them: add, set, get, remove and has.

(addTags, setTags, Product.tags, removeTags and Product.hasTags.)
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import create_product, create_tag, error_code, gql, gql_data

ADD = """
mutation ($id: ID!, $names: [String!], $priority: Int) {
  addTags(input: {productId: $id, tagNames: $names, priority: $priority}) {
    added { name } userErrors { code }
  }
}
"""
SET = """
mutation ($id: ID!, $names: [String!]) {
  setTags(input: {productId: $id, tagNames: $names}) {
    added { name } removed { name } userErrors { code }
  }
}
"""
REMOVE = """
mutation ($id: ID!, $names: [String!]) {
  removeTags(input: {productId: $id, tagNames: $names}) { removed { name } userErrors { code } }
}
"""
GET = """
query ($id: ID!) {
  product(id: $id) { tags { totalCount edges { priority node { name } } } }
}
"""
HAS = """
query ($id: ID!, $ids: [ID!], $names: [String!], $match: Match) {
  product(id: $id) { hasTags(ids: $ids, names: $names, match: $match) }
}
"""


async def get(client: httpx.AsyncClient, product_id: str) -> list[tuple[str, int]]:
    tags = (await gql_data(client, GET, {"id": product_id}))["product"]["tags"]
    pairs = [(edge["node"]["name"], edge["priority"]) for edge in tags["edges"]]
    assert tags["totalCount"] == len(pairs)
    return pairs


async def has(client: httpx.AsyncClient, product_id: str, **arguments: Any) -> bool:
    data = await gql_data(client, HAS, {"id": product_id, **arguments})
    answer: bool = data["product"]["hasTags"]
    return answer


async def test_add_set_get_remove_tell_one_story(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp"))["id"]

    added = await gql_data(client, ADD, {"id": lamp, "names": ["Sale", "New"]})
    assert sorted(t["name"] for t in added["addTags"]["added"]) == ["New", "Sale"]
    assert await get(client, lamp) == [("New", 0), ("Sale", 0)]

    await gql_data(client, ADD, {"id": lamp, "names": ["sale"], "priority": 3})
    assert await get(client, lamp) == [("Sale", 3), ("New", 0)]

    changed = (await gql_data(client, SET, {"id": lamp, "names": ["Sale", "Eco"]}))["setTags"]
    assert [t["name"] for t in changed["added"]] == ["Eco"]
    assert [t["name"] for t in changed["removed"]] == ["New"]
    assert await get(client, lamp) == [("Sale", 3), ("Eco", 0)]

    removed = await gql_data(client, REMOVE, {"id": lamp, "names": ["SALE", "Unknown"]})
    assert [t["name"] for t in removed["removeTags"]["removed"]] == ["Sale"]
    assert await get(client, lamp) == [("Eco", 0)]


async def test_has_tags_by_name_with_all_and_any(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp", ["Sale", "New"]))["id"]
    await create_tag(client, "Eco")

    assert await has(client, lamp, names=["sale", " NEW "]) is True
    assert await has(client, lamp, names=["Sale", "Eco"]) is False
    assert await has(client, lamp, names=["Sale", "Eco"], match="ANY") is True
    assert await has(client, lamp, names=["Eco"], match="ANY") is False


async def test_has_tags_by_id_with_all_and_any(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp", ["Sale"]))["id"]
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]["id"]
    eco = (await create_tag(client, "Eco"))["id"]

    assert await has(client, lamp, ids=[sale]) is True
    assert await has(client, lamp, ids=[sale, eco], match="ALL") is False
    assert await has(client, lamp, ids=[sale, eco], match="ANY") is True
    assert await has(client, lamp, ids=[eco], match="ANY") is False


async def test_has_tags_combines_ids_and_names(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp", ["Sale", "New"]))["id"]
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]["id"]

    assert await has(client, lamp, ids=[sale], names=["new"]) is True
    assert await has(client, lamp, ids=[sale], names=["Eco"]) is False
    assert await has(client, lamp, ids=[sale], names=["Eco"], match="ANY") is True


async def test_has_tags_treats_unknown_tags_as_absent(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp", ["Sale"]))["id"]
    gone = (await create_tag(client, "Gone"))["id"]
    await gql_data(
        client, "mutation ($id: ID!) { deleteTag(input: {id: $id}) { deletedId } }", {"id": gone}
    )

    assert await has(client, lamp, names=["Sale", "No such tag"]) is False
    assert await has(client, lamp, names=["Sale", "No such tag"], match="ANY") is True
    assert await has(client, lamp, ids=[gone]) is False
    assert await has(client, lamp, names=["", "x" * 65], match="ANY") is False


async def test_has_tags_of_nothing_is_true_for_all_and_false_for_any(
    client: httpx.AsyncClient,
) -> None:
    lamp = (await create_product(client, "Lamp", ["Sale"]))["id"]

    assert await has(client, lamp) is True
    assert await has(client, lamp, names=[], match="ANY") is False


async def test_has_tags_with_a_malformed_id_is_an_error(client: httpx.AsyncClient) -> None:
    lamp = (await create_product(client, "Lamp"))["id"]

    body = await gql(client, HAS, {"id": lamp, "ids": [lamp]})

    assert error_code(body) == "BAD_USER_INPUT"
