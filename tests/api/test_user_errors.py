"""Every userError of every mutation: the right code, the field that caused it, and a
payload that changed nothing (the whole catalog reads the same before and after).

Tag references are limited twice: a single list argument of more than 100 items is refused
as a GraphQL error (MAX_ITEMS_EXCEEDED) before anything runs, and more than 100 references
in all (tagIds and tagNames together) are the TOO_MANY userError.

Inputs are written with placeholders that the arranged catalog fills in:
<lamp> and <mug> are product ids, <sale> and <eco> tag ids, <product:N> and <tag:N> ids of
rows that do not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import (
    add_tags,
    error_code,
    global_id,
    gql,
    gql_data,
    snapshot,
)

MALFORMED = "not-a-global-id"
LONG_TAG_NAME = "x" * 65
LONG_PRODUCT_NAME = "x" * 201
MANY_NAMES = [f"tag {number}" for number in range(101)]
MANY_TAG_IDS = [f"<tag:{number}>" for number in range(1, 102)]
MANY_PRODUCT_IDS = [f"<product:{number}>" for number in range(1, 102)]
# 60 + 60: each list within the per-argument limit, the references together beyond it.
TOO_MANY_REFS = {"tagIds": MANY_TAG_IDS[:60], "tagNames": MANY_NAMES[:60]}


@dataclass(frozen=True)
class Case:
    mutation: str
    input: dict[str, Any]
    code: str
    field: list[str] | None  # None: the field is not checked

    def __str__(self) -> str:
        return f"{self.mutation}-{self.code}-{'.'.join(self.field or ['?'])}"


# mutation -> (input type, the payload's result fields)
MUTATIONS = {
    "createProduct": ("CreateProductInput", "product { id }"),
    "updateProduct": ("UpdateProductInput", "product { id }"),
    "deleteProduct": ("DeleteInput", "deletedId"),
    "createTag": ("CreateTagInput", "tag { id }"),
    "updateTag": ("UpdateTagInput", "tag { id }"),
    "deleteTag": ("DeleteInput", "deletedId"),
    "addTags": ("AddTagsInput", "product { id } added { id } removed { id }"),
    "setTags": ("SetTagsInput", "product { id } added { id } removed { id }"),
    "removeTags": ("RemoveTagsInput", "product { id } added { id } removed { id }"),
    "addProducts": ("AddProductsInput", "tag { id } added { id } removed { id }"),
    "setProducts": ("SetProductsInput", "tag { id } added { id } updated { id } removed { id }"),
    "removeProducts": ("RemoveProductsInput", "tag { id } added { id } removed { id }"),
}

INVALID, NOT_FOUND, TOO_MANY, CONFLICT = "INVALID", "NOT_FOUND", "TOO_MANY", "CONFLICT"


def product_side(mutation: str) -> list[Case]:
    """The errors addTags, setTags and removeTags share."""
    return [
        Case(
            mutation, {"productId": "<sale>", "tagNames": ["Eco"]}, INVALID, ["input", "productId"]
        ),
        Case(
            mutation, {"productId": MALFORMED, "tagNames": ["Eco"]}, INVALID, ["input", "productId"]
        ),
        Case(
            mutation,
            {"productId": "<product:999>", "tagNames": ["Eco"]},
            NOT_FOUND,
            ["input", "productId"],
        ),
        Case(
            mutation,
            {"productId": "<lamp>", "tagIds": ["<mug>"]},
            INVALID,
            ["input", "tagIds", "0"],
        ),
        Case(
            mutation,
            {"productId": "<lamp>", "tagIds": ["<eco>", MALFORMED]},
            INVALID,
            ["input", "tagIds", "1"],
        ),
        Case(
            mutation,
            {"productId": "<lamp>", "tagIds": ["<eco>", "<tag:999>"], "tagNames": ["Brand new"]},
            NOT_FOUND,
            ["input", "tagIds"],
        ),
        Case(
            mutation,
            {"productId": "<lamp>", "tagNames": ["Brand new", "   "]},
            INVALID,
            ["input", "tagNames"],
        ),
        Case(
            mutation,
            {"productId": "<lamp>", "tagNames": ["Brand new", LONG_TAG_NAME]},
            INVALID,
            ["input", "tagNames"],
        ),
        # Too many references in all; either list may be the one named.
        Case(mutation, {"productId": "<lamp>", **TOO_MANY_REFS}, TOO_MANY, None),
    ]


def tag_side(mutation: str) -> list[Case]:
    """The errors addProducts, setProducts and removeProducts share."""
    return [
        Case(mutation, {"tagId": "<lamp>", "productIds": ["<mug>"]}, INVALID, ["input", "tagId"]),
        Case(mutation, {"tagId": MALFORMED, "productIds": ["<mug>"]}, INVALID, ["input", "tagId"]),
        Case(
            mutation, {"tagId": "<tag:999>", "productIds": ["<mug>"]}, NOT_FOUND, ["input", "tagId"]
        ),
        Case(
            mutation,
            {"tagId": "<sale>", "productIds": ["<mug>", "<eco>"]},
            INVALID,
            ["input", "productIds", "1"],
        ),
        Case(
            mutation,
            {"tagId": "<sale>", "productIds": [MALFORMED]},
            INVALID,
            ["input", "productIds", "0"],
        ),
        Case(
            mutation,
            {"tagId": "<sale>", "productIds": ["<mug>", "<lamp>", "<product:999>"]},
            NOT_FOUND,
            ["input", "productIds"],
        ),
    ]


CASES = [
    # createProduct
    Case("createProduct", {"name": ""}, INVALID, ["input", "name"]),
    Case("createProduct", {"name": "  \t "}, INVALID, ["input", "name"]),
    Case("createProduct", {"name": LONG_PRODUCT_NAME}, INVALID, ["input", "name"]),
    Case("createProduct", {"name": "Desk\nlamp"}, INVALID, ["input", "name"]),
    Case(
        "createProduct", {"name": "Vase", "tagIds": ["<lamp>"]}, INVALID, ["input", "tagIds", "0"]
    ),
    Case(
        "createProduct", {"name": "Vase", "tagIds": [MALFORMED]}, INVALID, ["input", "tagIds", "0"]
    ),
    Case(
        "createProduct",
        {"name": "Vase", "tagIds": ["<sale>", "<tag:999>"], "tagNames": ["Brand new"]},
        NOT_FOUND,
        ["input", "tagIds"],
    ),
    Case("createProduct", {"name": "Vase", "tagNames": [""]}, INVALID, ["input", "tagNames"]),
    Case(
        "createProduct",
        {"name": "Vase", "tagNames": ["Brand new", LONG_TAG_NAME]},
        INVALID,
        ["input", "tagNames"],
    ),
    Case("createProduct", {"name": "Vase", **TOO_MANY_REFS}, TOO_MANY, None),
    # updateProduct
    Case("updateProduct", {"id": "<sale>", "name": "Vase"}, INVALID, ["input", "id"]),
    Case("updateProduct", {"id": MALFORMED, "name": "Vase"}, INVALID, ["input", "id"]),
    Case("updateProduct", {"id": "<product:999>", "name": "Vase"}, NOT_FOUND, ["input", "id"]),
    Case("updateProduct", {"id": "<lamp>", "name": " "}, INVALID, ["input", "name"]),
    Case("updateProduct", {"id": "<lamp>", "name": LONG_PRODUCT_NAME}, INVALID, ["input", "name"]),
    # deleteProduct
    Case("deleteProduct", {"id": "<sale>"}, INVALID, ["input", "id"]),
    Case("deleteProduct", {"id": MALFORMED}, INVALID, ["input", "id"]),
    Case("deleteProduct", {"id": "<product:999>"}, NOT_FOUND, ["input", "id"]),
    # createTag
    Case("createTag", {"name": ""}, INVALID, ["input", "name"]),
    Case("createTag", {"name": "   "}, INVALID, ["input", "name"]),
    Case("createTag", {"name": LONG_TAG_NAME}, INVALID, ["input", "name"]),
    Case("createTag", {"name": "Sa\u0000le"}, INVALID, ["input", "name"]),
    Case("createTag", {"name": "sale"}, CONFLICT, ["input", "name"]),
    Case("createTag", {"name": "  SALE "}, CONFLICT, ["input", "name"]),
    # updateTag
    Case("updateTag", {"id": "<lamp>", "name": "Promo"}, INVALID, ["input", "id"]),
    Case("updateTag", {"id": MALFORMED, "name": "Promo"}, INVALID, ["input", "id"]),
    Case("updateTag", {"id": "<tag:999>", "name": "Promo"}, NOT_FOUND, ["input", "id"]),
    Case("updateTag", {"id": "<eco>", "name": "  "}, INVALID, ["input", "name"]),
    Case("updateTag", {"id": "<eco>", "name": LONG_TAG_NAME}, INVALID, ["input", "name"]),
    Case("updateTag", {"id": "<eco>", "name": "SALE"}, CONFLICT, ["input", "name"]),
    # deleteTag
    Case("deleteTag", {"id": "<lamp>"}, INVALID, ["input", "id"]),
    Case("deleteTag", {"id": MALFORMED}, INVALID, ["input", "id"]),
    Case("deleteTag", {"id": "<tag:999>"}, NOT_FOUND, ["input", "id"]),
    # the relation
    *product_side("addTags"),
    *product_side("setTags"),
    *product_side("removeTags"),
    *tag_side("addProducts"),
    *tag_side("setProducts"),
    *tag_side("removeProducts"),
]


def fill(value: Any, ids: dict[str, str]) -> Any:
    """The input with every <placeholder> replaced by an id."""
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and (match := re.fullmatch(r"<(\w+)(?::(\d+))?>", value)):
        kind, number = match.groups()
        if number is not None:
            return global_id(kind.capitalize(), int(number))
        return ids[kind]
    return value


ARRANGE = """
mutation {
  lamp: createProduct(input: {name: "Lamp", tagNames: ["Sale"]}) { product { id } }
  mug: createProduct(input: {name: "Mug", tagNames: ["Sale"]}) { product { id } }
  eco: createTag(input: {name: "Eco"}) { tag { id } }
}
"""


@pytest.fixture
async def ids(client: httpx.AsyncClient) -> dict[str, str]:
    """A small catalog: Lamp (Sale, New at priority 2), Mug (Sale), and the unused tag Eco."""
    made = await gql_data(client, ARRANGE)  # one request: these run in order, as any mutations
    lamp = made["lamp"]["product"]["id"]
    await add_tags(client, lamp, ["New"], priority=2)
    sale = (await gql_data(client, '{ tag(name: "Sale") { id } }'))["tag"]
    return {
        "lamp": lamp,
        "mug": made["mug"]["product"]["id"],
        "sale": sale["id"],
        "eco": made["eco"]["tag"]["id"],
    }


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_user_error_reports_code_and_field_and_changes_nothing(
    client: httpx.AsyncClient, ids: dict[str, str], case: Case
) -> None:
    input_type, result = MUTATIONS[case.mutation]
    mutation = (
        f"mutation ($input: {input_type}!) "
        f"{{ {case.mutation}(input: $input) {{ {result} userErrors {{ field message code }} }} }}"
    )
    before = await snapshot(client)

    payload = (await gql_data(client, mutation, {"input": fill(case.input, ids)}))[case.mutation]

    errors = payload.pop("userErrors")
    assert [error["code"] for error in errors] == [case.code], errors
    if case.field is not None:
        assert errors[0]["field"] == case.field, errors
    assert errors[0]["message"]
    assert all(not value for value in payload.values()), payload  # no object, nothing added
    assert await snapshot(client) == before


LIST_LIMIT_CASES = [
    ("createProduct", {"name": "Vase", "tagNames": MANY_NAMES}),
    ("createProduct", {"name": "Vase", "tagIds": MANY_TAG_IDS}),
    ("addTags", {"productId": "<lamp>", "tagNames": MANY_NAMES}),
    ("addTags", {"productId": "<lamp>", "tagIds": MANY_TAG_IDS}),
    ("setTags", {"productId": "<lamp>", "tagNames": MANY_NAMES}),
    ("setTags", {"productId": "<lamp>", "tagIds": MANY_TAG_IDS}),
    ("removeTags", {"productId": "<lamp>", "tagNames": MANY_NAMES}),
    ("removeTags", {"productId": "<lamp>", "tagIds": MANY_TAG_IDS}),
    ("addProducts", {"tagId": "<sale>", "productIds": MANY_PRODUCT_IDS}),
    ("setProducts", {"tagId": "<sale>", "productIds": MANY_PRODUCT_IDS}),
    ("removeProducts", {"tagId": "<sale>", "productIds": MANY_PRODUCT_IDS}),
]


@pytest.mark.parametrize(
    ("mutation", "input"),
    LIST_LIMIT_CASES,
    ids=[f"{m}-{next(k for k in i if k.endswith('s'))}" for m, i in LIST_LIMIT_CASES],
)
async def test_a_list_of_more_than_100_items_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, ids: dict[str, str], mutation: str, input: dict[str, Any]
) -> None:
    input_type, result = MUTATIONS[mutation]
    query = f"mutation ($input: {input_type}!) {{ {mutation}(input: $input) {{ {result} }} }}"
    before = await snapshot(client)

    body = await gql(client, query, {"input": fill(input, ids)})

    assert error_code(body) == "MAX_ITEMS_EXCEEDED"
    assert body.get("data") is None
    assert await snapshot(client) == before
