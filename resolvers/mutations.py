"""Mutations, each in three steps: decode the input, call the service, shape the outcome.

Every rule lives in the service (db.catalog, db.associations); here input mistakes become
Problems (the payload's userErrors) and a successful write refreshes the request's loaders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from db.associations import Associations, TagRef
from db.errors import CatalogError
from db.records import Changed, ProductRecord, TagRecord
from resolvers.context import RequestContext
from resolvers.errors import Problem, Problems, problem_from
from resolvers.ids import BadId, decode_id

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A mutation's result: the value, or the problems that stopped it (then nothing changed)."""

    value: T | None = None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkChange:
    """What a link mutation did: the parent's id and the ids it linked and unlinked.

    The payload loads the objects themselves only when the client selects them, all
    through the request's loaders (so `added` and `removed` share one statement).
    """

    parent_id: int
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


# Where the service's field and kind names appear in each mutation's input.
PRODUCT_TAG_FIELDS = {"product": "productId", "tag": "tagIds", "tags": "tagNames"}
TAG_PRODUCT_FIELDS = {"tag": "tagId", "product": "productIds", "products": "productIds"}


# -- products and tags -------------------------------------------------------------------


async def create_product(
    ctx: RequestContext, name: str, tag_ids: Sequence[str] | None, tag_names: Sequence[str] | None
) -> Outcome[ProductRecord]:
    async def run() -> ProductRecord:
        refs = _tag_refs(tag_ids, tag_names)
        product, _changed = await ctx.catalog().create_product(name, refs)
        return product

    return await _write(ctx, run, {"tag": "tagIds", "tags": "tagNames"})


async def update_product(
    ctx: RequestContext, global_id: str, name: str | None
) -> Outcome[ProductRecord]:
    async def run() -> ProductRecord:
        product_id = _decode(global_id, "Product", "id")
        return await ctx.catalog().update_product(product_id, name=name)

    return await _write(ctx, run, {"product": "id"})


async def delete_product(ctx: RequestContext, global_id: str) -> Outcome[str]:
    async def run() -> str:
        await ctx.catalog().delete_product(_decode(global_id, "Product", "id"))
        return global_id

    return await _write(ctx, run, {"product": "id"})


async def create_tag(ctx: RequestContext, name: str) -> Outcome[TagRecord]:
    return await _write(ctx, lambda: ctx.catalog().create_tag(name), {})


async def update_tag(ctx: RequestContext, global_id: str, name: str | None) -> Outcome[TagRecord]:
    async def run() -> TagRecord:
        tag_id = _decode(global_id, "Tag", "id")
        return await ctx.catalog().update_tag(tag_id, name=name)

    return await _write(ctx, run, {"tag": "id"})


async def delete_tag(ctx: RequestContext, global_id: str) -> Outcome[str]:
    async def run() -> str:
        await ctx.catalog().delete_tag(_decode(global_id, "Tag", "id"))
        return global_id

    return await _write(ctx, run, {"tag": "id"})


# -- the relation, from the product side -------------------------------------------------


async def add_tags(
    ctx: RequestContext,
    product_id: str,
    tag_ids: Sequence[str] | None,
    tag_names: Sequence[str] | None,
    priority: int | None,
) -> Outcome[LinkChange]:
    return await _change_tags(
        ctx,
        product_id,
        tag_ids,
        tag_names,
        lambda service, pid, refs: service.add_tags(pid, refs, priority),
    )


async def set_tags(
    ctx: RequestContext,
    product_id: str,
    tag_ids: Sequence[str] | None,
    tag_names: Sequence[str] | None,
) -> Outcome[LinkChange]:
    return await _change_tags(ctx, product_id, tag_ids, tag_names, Associations.set_tags)


async def remove_tags(
    ctx: RequestContext,
    product_id: str,
    tag_ids: Sequence[str] | None,
    tag_names: Sequence[str] | None,
) -> Outcome[LinkChange]:
    return await _change_tags(ctx, product_id, tag_ids, tag_names, Associations.remove_tags)


# -- the relation, from the tag side -----------------------------------------------------


async def add_products(
    ctx: RequestContext, tag_id: str, product_ids: Sequence[str], priority: int | None
) -> Outcome[LinkChange]:
    return await _change_products(
        ctx,
        tag_id,
        product_ids,
        lambda service, tid, ids: service.add_products(tid, ids, priority),
    )


async def remove_products(
    ctx: RequestContext, tag_id: str, product_ids: Sequence[str]
) -> Outcome[LinkChange]:
    return await _change_products(ctx, tag_id, product_ids, Associations.remove_products)


# -- inside ------------------------------------------------------------------------------

TagsAction = Callable[[Associations, int, list[TagRef]], Awaitable[Changed]]
ProductsAction = Callable[[Associations, int, list[int]], Awaitable[Changed]]


async def _change_tags(
    ctx: RequestContext,
    product_gid: str,
    tag_gids: Sequence[str] | None,
    tag_names: Sequence[str] | None,
    action: TagsAction,
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        product_id = _decode(product_gid, "Product", "productId")
        refs = _tag_refs(tag_gids, tag_names)
        return product_id, await action(ctx.associations(), product_id, refs)

    return _link_change(await _write(ctx, run, PRODUCT_TAG_FIELDS))


async def _change_products(
    ctx: RequestContext, tag_gid: str, product_gids: Sequence[str], action: ProductsAction
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        tag_id = _decode(tag_gid, "Tag", "tagId")
        ids = _decode_all(product_gids, "Product", "productIds")
        return tag_id, await action(ctx.associations(), tag_id, ids)

    return _link_change(await _write(ctx, run, TAG_PRODUCT_FIELDS))


def _link_change(outcome: Outcome[tuple[int, Changed]]) -> Outcome[LinkChange]:
    if outcome.value is None:
        return Outcome(problems=outcome.problems)
    parent_id, changed = outcome.value
    return Outcome(LinkChange(parent_id, changed.added, changed.removed))


async def _write(
    ctx: RequestContext, run: Callable[[], Awaitable[T]], fields: Mapping[str, str]
) -> Outcome[T]:
    """Run one write; map refusals to problems, and refresh loaders after success."""
    try:
        value = await run()
    except Problems as problems:
        return Outcome(problems=problems.problems)
    except CatalogError as error:
        return Outcome(problems=(problem_from(error, fields),))
    ctx.after_write()
    return Outcome(value)


def _decode(global_id: str, type_name: str, field_name: str) -> int:
    try:
        return decode_id(global_id, type_name)[1]
    except BadId as error:
        raise Problems([Problem(("input", field_name), str(error), "INVALID")]) from error


def _decode_all(global_ids: Sequence[str], type_name: str, field_name: str) -> list[int]:
    ids: list[int] = []
    problems: list[Problem] = []
    for index, gid in enumerate(global_ids):
        try:
            ids.append(decode_id(gid, type_name)[1])
        except BadId as error:
            problems.append(Problem(("input", field_name, str(index)), str(error), "INVALID"))
    if problems:
        raise Problems(problems)
    return ids


def _tag_refs(tag_ids: Sequence[str] | None, tag_names: Sequence[str] | None) -> list[TagRef]:
    refs: list[TagRef] = list(_decode_all(tag_ids or (), "Tag", "tagIds"))
    refs.extend(tag_names or ())
    return refs


def present(records: Sequence[T | None]) -> list[T]:
    """The records that exist (a concurrent delete may have taken one since)."""
    return [r for r in records if r is not None]
