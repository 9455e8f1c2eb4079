"""The whole read side against a model: random link writes, then every connection in every
order, with random filters, paged forwards and backwards, compared with a plain dict.

Each example starts from empty tables and four products, runs a random sequence of link
mutations through the API (addTags, setTags, removeTags, addProducts, setProducts,
removeProducts and applyTags in its three modes, with per-link priorities, tags by
spellings that differ in case and spaces), and keeps a model of what must be stored. After
every write the stored links and priorities must equal the model's, and a link that stays
must keep its addedAt. At the end each connection (products, tags, Product.tags of every
product, Tag.products of every tag) is read in each of its orders, in a drawn direction,
with a drawn filter, paged with `first`/`after` and with `last`/`before`; pages must hold
exactly the model's items in the model's order, pageInfo must say what Relay's spec says,
and totalCount must count what the filter keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from starlette.applications import Starlette

from db.models import product_tags, products, tags
from tests.api.conftest import create_product, gql_data
from tests.api.paging import PAGE_INFO, PRODUCTS, TAGS, connection_at, walk

PRODUCT_NAMES = ["Lamp", "lamp", "Äpfel", "zebra"]
SPELLINGS = ["sale", "Sale", " SALE ", "new", "NEW", "Red", "Ωmega", "éclair", "Éclair"]
UNKNOWN = "nowhere"
PRIORITIES = st.none() | st.integers(-3, 3)


def key_of(spelling: str) -> str:
    """How tags compare names (db.names.fold is the same for these spellings)."""
    return spelling.strip().casefold()


# -- writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    kind: str  # addTags setTags removeTags addProducts setProducts removeProducts applyTags
    target: int  # a product index, or for tag-side writes a spelling index
    links: tuple[tuple[int, int | None], ...]  # (spelling or product index, priority)
    mode: str = "ADD"  # applyTags only
    items: tuple[tuple[int, tuple[tuple[int, int | None], ...]], ...] = ()  # applyTags only


def unique_links(size: int, indexes: int, by_key: bool) -> Any:
    def key(link: tuple[int, int | None]) -> str | int:
        return key_of(SPELLINGS[link[0]]) if by_key else link[0]

    return st.lists(
        st.tuples(st.integers(0, indexes - 1), PRIORITIES), max_size=size, unique_by=key
    ).map(tuple)


tag_links = unique_links(4, len(SPELLINGS), by_key=True)
product_links = unique_links(4, len(PRODUCT_NAMES), by_key=False)

writes = st.one_of(
    st.builds(
        Write,
        kind=st.sampled_from(["addTags", "setTags", "removeTags"]),
        target=st.integers(0, len(PRODUCT_NAMES) - 1),
        links=tag_links,
    ),
    st.builds(
        Write,
        kind=st.sampled_from(["addProducts", "setProducts", "removeProducts"]),
        target=st.integers(0, len(SPELLINGS) - 1),
        links=product_links,
    ),
    st.builds(
        Write,
        kind=st.just("applyTags"),
        target=st.just(0),
        links=st.just(()),
        mode=st.sampled_from(["ADD", "SET", "REMOVE"]),
        items=st.lists(
            st.tuples(st.integers(0, len(PRODUCT_NAMES) - 1), tag_links),
            min_size=1,
            max_size=3,
            unique_by=lambda item: item[0],
        ).map(tuple),
    ),
)


Model = dict[str, Any]


def new_model(product_ids: list[int]) -> Model:
    return {
        "products": product_ids,  # by index
        "tags": {},  # key -> {"name": first spelling, trimmed}
        "links": {},  # (product index, tag key) -> priority
    }


def apply_links(
    model: Model, product: int, links: tuple[tuple[int, int | None], ...], mode: str
) -> None:
    """One product's add, set or remove, as the API documents them."""
    wanted = {key_of(SPELLINGS[s]): (SPELLINGS[s], priority) for s, priority in links}
    current = model["links"]
    if mode == "REMOVE":
        for key in wanted:
            current.pop((product, key), None)
        return
    if mode == "SET":
        for product_index, key in list(current):
            if product_index == product and key not in wanted:
                del current[(product_index, key)]
    for key, (spelling, priority) in wanted.items():
        model["tags"].setdefault(key, {"name": spelling.strip()})
        if (product, key) not in current:
            current[(product, key)] = priority or 0
        elif priority is not None:
            current[(product, key)] = priority


def apply_tag_side(model: Model, write: Write) -> bool:
    """A tag-side write on the model; False when its tag does not exist (nothing is sent)."""
    key = key_of(SPELLINGS[write.target])
    if key not in model["tags"]:
        return False
    current = model["links"]
    wanted = dict(write.links)
    if write.kind == "removeProducts":
        for product in wanted:
            current.pop((product, key), None)
        return True
    if write.kind == "setProducts":
        for product_index, tag_key in list(current):
            if tag_key == key and product_index not in wanted:
                del current[(product_index, tag_key)]
    for product, priority in wanted.items():
        if (product, key) not in current:
            current[(product, key)] = priority or 0
        elif priority is not None:
            current[(product, key)] = priority
    return True


def tag_inputs(links: tuple[tuple[int, int | None], ...]) -> list[dict[str, Any]]:
    return [{"name": SPELLINGS[s], "priority": priority} for s, priority in links]


async def perform(
    client: httpx.AsyncClient, model: Model, ids: dict[str, Any], write: Write
) -> None:
    """Send the write and apply it to the model."""
    product_gid = ids["products"]
    if write.kind in ("addTags", "setTags", "removeTags"):
        mode = {"addTags": "ADD", "setTags": "SET", "removeTags": "REMOVE"}[write.kind]
        field = write.kind
        input_type = f"{field[0].upper()}{field[1:]}Input"
        variables = {
            "input": {"productId": product_gid[write.target], "tags": tag_inputs(write.links)}
        }
        apply_links(model, write.target, write.links, mode)
    elif write.kind == "applyTags":
        field, input_type = "applyTags", "ApplyTagsInput"
        items = [
            {"productId": product_gid[p], "tags": tag_inputs(links)} for p, links in write.items
        ]
        variables = {"input": {"items": items, "mode": write.mode}}
        for product, links in write.items:
            apply_links(model, product, links, write.mode)
    else:
        key = key_of(SPELLINGS[write.target])
        tag_id = ids["tags"].get(key)
        if tag_id is None or not apply_tag_side(model, write):
            return
        field = write.kind
        input_type = f"{field[0].upper()}{field[1:]}Input"
        product_links = [
            {"id": product_gid[p], "priority": priority} for p, priority in write.links
        ]
        variables = {"input": {"tagId": tag_id, "products": product_links}}
    query = (
        f"mutation ($input: {input_type}!) {{ {field}(input: $input) "
        "{ userErrors { field message code } } }"
    )
    payload = (await gql_data(client, query, variables))[field]
    assert payload["userErrors"] == [], payload


# -- what is stored ----------------------------------------------------------------------

SNAPSHOT = """
{
  products(first: 100) {
    nodes { databaseId name createdAt
      tags(first: 100) { edges { priority addedAt node { id databaseId name createdAt } } }
    }
  }
  tags(first: 100) { nodes { id databaseId name createdAt } }
}
"""


async def check_stored(
    client: httpx.AsyncClient, model: Model, ids: dict[str, Any], seen: dict[str, Any]
) -> None:
    """The stored links equal the model's; a link that stays keeps its addedAt. Learns the
    tags' ids and every row's timestamps (into `ids` and `seen`) for the reads at the end."""
    data = await gql_data(client, SNAPSHOT)
    index_of = {pid: i for i, pid in enumerate(model["products"])}
    stored: dict[tuple[int, str], int] = {}
    added: dict[tuple[int, str], datetime] = {}
    for product in data["products"]["nodes"]:
        seen["product_created"][product["databaseId"]] = when(product["createdAt"])
        for edge in product["tags"]["edges"]:
            link = (index_of[product["databaseId"]], key_of(edge["node"]["name"]))
            stored[link] = edge["priority"]
            added[link] = when(edge["addedAt"])
    assert stored == model["links"]
    for link, moment in added.items():
        assert seen["added"].setdefault(link, moment) == moment, f"{link} lost its addedAt"
    for link in list(seen["added"]):
        if link not in added:
            del seen["added"][link]  # unlinked: a new link later gets a new addedAt
    assert {key_of(t["name"]): t["name"] for t in data["tags"]["nodes"]} == {
        key: tag["name"] for key, tag in model["tags"].items()
    }
    for tag in data["tags"]["nodes"]:
        ids["tags"][key_of(tag["name"])] = tag["id"]
        seen["tag_ids"][key_of(tag["name"])] = tag["databaseId"]
        seen["tag_created"][key_of(tag["name"])] = when(tag["createdAt"])


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- reading everything back -------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    directions: tuple[str | None, ...]  # one per order field, cycled
    size: int
    back_size: int
    priority: tuple[int | None, int | None] | None
    added: tuple[int | None, int | None] | None  # indexes into the sorted addedAt moments
    names: tuple[str, tuple[str, ...], tuple[int | None, int | None] | None]


bounds = st.tuples(st.none() | st.integers(-3, 3), st.none() | st.integers(-3, 3))
readings = st.builds(
    Reading,
    directions=st.lists(st.sampled_from(["ASC", "DESC", None]), min_size=4, max_size=4).map(tuple),
    size=st.integers(1, 3),
    back_size=st.integers(1, 3),
    priority=st.none() | bounds,
    added=st.none() | st.tuples(st.none() | st.integers(0, 12), st.none() | st.integers(0, 12)),
    names=st.tuples(
        st.sampled_from(["any", "all", "none"]),
        st.lists(st.sampled_from([*SPELLINGS, UNKNOWN]), max_size=3).map(tuple),
        st.none() | bounds,
    ),
)


def ordered(
    rows: list[dict[str, Any]], primary: str, ties: tuple[str, ...], desc: bool
) -> list[Any]:
    """Rows' ids by `primary` (descending when asked), ties ascending by `ties`."""
    by_ties = sorted(rows, key=lambda r: tuple(r[t] for t in ties))
    return [r["id"] for r in sorted(by_ties, key=lambda r: r[primary], reverse=desc)]


def descending(field: str, direction: str | None) -> bool:
    return direction == "DESC" or (direction is None and field == "PRIORITY")


def in_range(value: Any, limits: tuple[Any, Any] | None) -> bool:
    if limits is None:
        return True
    low, high = limits
    return (low is None or value >= low) and (high is None or value <= high)


def as_range(limits: tuple[Any, Any] | None) -> dict[str, Any] | None:
    if limits is None:
        return None
    low, high = limits
    return {
        "gte": low.isoformat() if isinstance(low, datetime) else low,
        "lte": high.isoformat() if isinstance(high, datetime) else high,
    }


NESTED_FIELDS = "totalCount edges { cursor priority addedAt node { databaseId name } }"


async def walk_nested(
    client: httpx.AsyncClient,
    root: str,
    field: str,
    order_type: str,
    parents: list[str],
    size: int,
    backward: bool,
    order: dict[str, Any],
    link_filter: dict[str, Any] | None,
) -> dict[str, tuple[list[dict[str, Any]], int]]:
    """Page every parent's connection at once (one aliased request per page), checking
    pageInfo on every page as `walk` does: {parent id: (edges, totalCount)}."""
    edges: dict[str, list[dict[str, Any]]] = {p: [] for p in parents}
    totals: dict[str, int] = {}
    cursors: dict[str, str | None] = {p: None for p in parents}
    active = list(parents)
    rounds = 0
    while active:
        rounds += 1
        assert rounds < 100, "paging does not end"
        declared = ", ".join(f"$id{i}: ID!, $c{i}: String" for i in range(len(active)))
        cursor_arg = "before" if backward else "after"
        size_arg = "last" if backward else "first"
        fields = " ".join(
            f"p{i}: {root}(id: $id{i}) {{ {field}({size_arg}: $size, {cursor_arg}: $c{i}, "
            f"orderBy: $order, filter: $filter) {{ {NESTED_FIELDS} {PAGE_INFO} }} }}"
            for i in range(len(active))
        )
        query = (
            f"query ($size: Int, $order: {order_type}, $filter: LinkFilter, {declared}) "
            f"{{ {fields} }}"
        )
        variables: dict[str, Any] = {"size": size, "order": order, "filter": link_filter}
        for i, parent in enumerate(active):
            variables[f"id{i}"] = parent
            variables[f"c{i}"] = cursors[parent]
        data = await gql_data(client, query, variables)
        still = []
        for i, parent in enumerate(active):
            connection = data[f"p{i}"][field]
            page, info = connection["edges"], connection["pageInfo"]
            totals[parent] = connection["totalCount"]
            assert len(page) <= size
            assert info["startCursor"] == (page[0]["cursor"] if page else None)
            assert info["endCursor"] == (page[-1]["cursor"] if page else None)
            if backward:
                assert info["hasNextPage"] is (cursors[parent] is not None)
                edges[parent] = page + edges[parent]
                more, cursors[parent] = info["hasPreviousPage"], info["startCursor"]
            else:
                assert info["hasPreviousPage"] is (cursors[parent] is not None)
                edges[parent] = edges[parent] + page
                more, cursors[parent] = info["hasNextPage"], info["endCursor"]
            if more:
                assert len(page) == size
                still.append(parent)
        active = still
    return {p: (edges[p], totals[p]) for p in parents}


async def check_reads(
    client: httpx.AsyncClient,
    model: Model,
    ids: dict[str, Any],
    seen: dict[str, Any],
    reading: Reading,
) -> None:
    product_ids: list[int] = model["products"]
    names = {pid: PRODUCT_NAMES[i] for i, pid in enumerate(product_ids)}
    moments = sorted(set(seen["added"].values()))
    added_range = None
    if reading.added is not None and moments:
        low, high = reading.added
        added_range = (
            None if low is None else moments[low % len(moments)],
            None if high is None else moments[high % len(moments)],
        )

    def link_kept(link: tuple[int, str]) -> bool:
        return in_range(model["links"][link], reading.priority) and in_range(
            seen["added"][link], added_range
        )

    link_filter = None
    if reading.priority is not None or added_range is not None:
        link_filter = {"priority": as_range(reading.priority), "addedAt": as_range(added_range)}
    note(f"link filter: {link_filter}")

    def direction(n: int) -> str | None:
        return reading.directions[n % len(reading.directions)]

    # products, with a tagNames filter
    how, spellings, name_priority = reading.names
    wanted = {key_of(s) for s in spellings}

    def product_kept(index: int) -> bool:
        """As documented: only links within the priority range count."""
        have = {
            key
            for (p, key), priority in model["links"].items()
            if p == index and in_range(priority, name_priority)
        }
        if how == "any":
            return bool(have & wanted)
        if not spellings:  # no tags named: the range alone, or no condition at all
            return bool(have) if name_priority is not None else True
        if how == "all":
            return wanted <= have
        return not have & wanted

    product_filter: dict[str, Any] = {"tagNames": {how: list(spellings)}}
    if name_priority is not None:
        product_filter["tagNames"]["priority"] = as_range(name_priority)
    note(f"product filter: {product_filter}")

    rows = [
        {
            "id": pid,
            "name": names[pid].casefold(),
            "created": seen["product_created"][pid],
            "pid": pid,
        }
        for i, pid in enumerate(product_ids)
        if product_kept(i)
    ]
    for n, (field, primary) in enumerate(
        [("DATABASE_ID", "id"), ("NAME", "name"), ("CREATED_AT", "created")]
    ):
        order = {"field": field, "direction": direction(n)}
        expected = ordered(rows, primary, ("pid",), descending(field, direction(n)))
        for size, backward in ((reading.size, False), (reading.back_size, True)):
            edges, _ = await walk(
                client, PRODUCTS, size, backward=backward, orderBy=order, filter=product_filter
            )
            assert [e["node"]["databaseId"] for e in edges] == expected, (order, product_filter)
        total = connection_at(await gql_data(client, PRODUCTS, {"filter": product_filter}))
        assert total["totalCount"] == len(expected)

    # tags
    rows = [
        {"id": seen["tag_ids"][key], "key": key, "created": seen["tag_created"][key]}
        for key in model["tags"]
    ]
    for n, (field, primary) in enumerate(
        [("NAME", "key"), ("DATABASE_ID", "id"), ("CREATED_AT", "created")]
    ):
        order = {"field": field, "direction": direction(n)}
        expected = ordered(rows, primary, ("id",), descending(field, direction(n)))
        for size, backward in ((reading.size, False), (reading.back_size, True)):
            edges, _ = await walk(client, TAGS, size, backward=backward, orderBy=order)
            assert [e["node"]["databaseId"] for e in edges] == expected, order

    # each product's tags
    product_gids = ids["products"]
    for n, (field, primary, ties) in enumerate(
        [
            ("PRIORITY", "priority", ("key", "id")),
            ("NAME", "key", ("id",)),
            ("ADDED_AT", "added", ("id",)),
        ]
    ):
        order = {"field": field, "direction": direction(n)}
        for size, backward in ((reading.size, False), (reading.back_size, True)):
            pages = await walk_nested(
                client,
                "product",
                "tags",
                "ProductTagOrder",
                product_gids,
                size,
                backward,
                order,
                link_filter,
            )
            for index, gid in enumerate(product_gids):
                rows = [
                    {
                        "id": seen["tag_ids"][key],
                        "key": key,
                        "priority": priority,
                        "added": seen["added"][(p, key)],
                    }
                    for (p, key), priority in model["links"].items()
                    if p == index and link_kept((p, key))
                ]
                expected = ordered(rows, primary, ties, descending(field, direction(n)))
                edges, count = pages[gid]
                assert [e["node"]["databaseId"] for e in edges] == expected, (order, index)
                assert count == len(expected)
                for edge in edges:
                    key = key_of(edge["node"]["name"])
                    assert edge["priority"] == model["links"][(index, key)]

    # each tag's products
    tag_gids = [ids["tags"][key] for key in model["tags"]]
    keys = list(model["tags"])
    for n, (field, primary) in enumerate(
        [("DATABASE_ID", "id"), ("NAME", "name"), ("PRIORITY", "priority"), ("ADDED_AT", "added")]
    ):
        order = {"field": field, "direction": direction(n)}
        for size, backward in ((reading.size, False), (reading.back_size, True)):
            pages = await walk_nested(
                client,
                "tag",
                "products",
                "TagProductOrder",
                tag_gids,
                size,
                backward,
                order,
                link_filter,
            )
            for key, gid in zip(keys, tag_gids, strict=True):
                rows = [
                    {
                        "id": product_ids[p],
                        "name": PRODUCT_NAMES[p].casefold(),
                        "priority": priority,
                        "added": seen["added"][(p, k)],
                    }
                    for (p, k), priority in model["links"].items()
                    if k == key and link_kept((p, k))
                ]
                expected = ordered(rows, primary, ("id",), descending(field, direction(n)))
                edges, count = pages[gid]
                assert [e["node"]["databaseId"] for e in edges] == expected, (order, key)
                assert count == len(expected)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(writes, min_size=1, max_size=7), reading=readings)
async def test_every_connection_agrees_with_a_model_after_any_writes(
    app: Starlette, client: httpx.AsyncClient, steps: list[Write], reading: Reading
) -> None:
    async with app.state.engine.begin() as connection:
        for table in (product_tags, products, tags):
            await connection.execute(delete(table))
    made = [await create_product(client, name) for name in PRODUCT_NAMES]
    model = new_model([p["databaseId"] for p in made])
    ids: dict[str, Any] = {"products": [p["id"] for p in made], "tags": {}}
    seen: dict[str, Any] = {"added": {}, "product_created": {}, "tag_ids": {}, "tag_created": {}}

    for write in steps:
        note(f"write: {write}")
        await perform(client, model, ids, write)
        await check_stored(client, model, ids, seen)

    await check_reads(client, model, ids, seen, reading)
