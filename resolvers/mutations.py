"""Mutations, each in three steps: decode the input, call the service, shape the outcome.

Every rule lives in the service (db.catalog, db.associations); here input mistakes become
Problems (the payload's userErrors) and a successful write refreshes the request's loaders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from db.associations import Mode
from db.errors import CatalogError
from db.records import Changed, ProductRecord, TagRecord
from db.references import TagRef, TagsOf, WantedProduct, WantedTag
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
    """What a link mutation did to one parent: its id and the ids linked, updated, unlinked.

    The payload loads the objects themselves only when the client selects them, all
    through the request's loaders (so `added`, `updated` and `removed` share one statement).
    """

    parent_id: int
    added: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


class TagLinkArgument(Protocol):
    """A TagLinkInput as the schema hands it over."""

    @property
    def id(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def priority(self) -> int | None: ...


class ProductLinkArgument(Protocol):
    """A ProductLinkInput as the schema hands it over."""

    @property
    def id(self) -> str: ...
    @property
    def priority(self) -> int | None: ...


class ApplyTagsItemArgument(Protocol):
    """An ApplyTagsItem as the schema hands it over."""

    @property
    def product_id(self) -> str: ...
    @property
    def tags(self) -> Sequence[TagLinkArgument]: ...


@dataclass(frozen=True, slots=True)
class TagsArguments:
    """The ways a product-side input names tags: the shorthands and the `tags` links."""

    tag_ids: Sequence[str] | None = None
    tag_names: Sequence[str] | None = None
    tags: Sequence[TagLinkArgument] | None = None


@dataclass(frozen=True, slots=True)
class ProductsArguments:
    """The ways a tag-side input names products: `productIds` and the `products` links."""

    product_ids: Sequence[str] | None = None
    products: Sequence[ProductLinkArgument] | None = None


# Where the service's field and kind names appear in each mutation's input (refusals
# about the `tags`, `products` and `items` links carry their exact place themselves).
PRODUCT_TAG_FIELDS = {"product": "productId", "tag": "tagIds", "tags": "tagNames"}
TAG_PRODUCT_FIELDS = {"tag": "tagId", "product": "productIds", "products": "productIds"}


# -- products and tags -------------------------------------------------------------------


async def create_product(
    ctx: RequestContext, name: str, named: TagsArguments
) -> Outcome[ProductRecord]:
    async def run() -> ProductRecord:
        refs = _wanted_tags(named)
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
    named: TagsArguments,
    priority: int | None,
    dry_run: bool,
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        pid = _decode(product_id, "Product", "productId")
        refs = _wanted_tags(named)
        return pid, await ctx.associations().add_tags(pid, refs, priority, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, PRODUCT_TAG_FIELDS))


async def set_tags(
    ctx: RequestContext, product_id: str, named: TagsArguments, dry_run: bool
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        pid = _decode(product_id, "Product", "productId")
        refs = _wanted_tags(named)
        return pid, await ctx.associations().set_tags(pid, refs, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, PRODUCT_TAG_FIELDS))


async def remove_tags(
    ctx: RequestContext, product_id: str, named: TagsArguments, dry_run: bool
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        pid = _decode(product_id, "Product", "productId")
        refs = _wanted_tags(named)
        return pid, await ctx.associations().remove_tags(pid, refs, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, PRODUCT_TAG_FIELDS))


async def apply_tags(
    ctx: RequestContext, items: Sequence[ApplyTagsItemArgument], mode: Mode, dry_run: bool
) -> Outcome[list[LinkChange]]:
    async def run() -> list[tuple[int, Changed]]:
        decoded = _tags_of_items(items)
        changes = await ctx.associations().apply_tags(decoded, mode, dry_run=dry_run)
        return [(item.product_id, c) for item, c in zip(decoded, changes, strict=True)]

    outcome = await _write(ctx, run, {})
    if outcome.value is None:
        return Outcome(problems=outcome.problems)
    return Outcome([_shaped(ctx, parent, changed) for parent, changed in outcome.value])


# -- the relation, from the tag side -----------------------------------------------------


async def add_products(
    ctx: RequestContext,
    tag_id: str,
    named: ProductsArguments,
    priority: int | None,
    dry_run: bool,
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        tid = _decode(tag_id, "Tag", "tagId")
        refs = _wanted_products(named)
        return tid, await ctx.associations().add_products(tid, refs, priority, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, TAG_PRODUCT_FIELDS))


async def set_products(
    ctx: RequestContext, tag_id: str, named: ProductsArguments, dry_run: bool
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        tid = _decode(tag_id, "Tag", "tagId")
        refs = _wanted_products(named)
        return tid, await ctx.associations().set_products(tid, refs, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, TAG_PRODUCT_FIELDS))


async def remove_products(
    ctx: RequestContext, tag_id: str, named: ProductsArguments, dry_run: bool
) -> Outcome[LinkChange]:
    async def run() -> tuple[int, Changed]:
        tid = _decode(tag_id, "Tag", "tagId")
        refs = _wanted_products(named)
        return tid, await ctx.associations().remove_products(tid, refs, dry_run=dry_run)

    return _link_change(ctx, await _write(ctx, run, TAG_PRODUCT_FIELDS))


# -- inside ------------------------------------------------------------------------------


def _link_change(ctx: RequestContext, outcome: Outcome[tuple[int, Changed]]) -> Outcome[LinkChange]:
    if outcome.value is None:
        return Outcome(problems=outcome.problems)
    return Outcome(_shaped(ctx, *outcome.value))


def _shaped(ctx: RequestContext, parent_id: int, changed: Changed) -> LinkChange:
    """The payload's view of a change.

    Tags the write created go to the request's loaders as they are: after a dry run they
    exist nowhere else, and after a real one this saves reading them again.
    """
    for tag in changed.created:
        ctx.loaders.tag.prime(tag.id, tag)
    return LinkChange(parent_id, changed.added, changed.updated, changed.removed)


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


def _wanted_tags(named: TagsArguments) -> list[TagRef | WantedTag]:
    """The shorthands (tagIds, then tagNames) as plain references, then the `tags` links."""
    refs: list[TagRef | WantedTag] = list(_decode_all(named.tag_ids or (), "Tag", "tagIds"))
    refs.extend(named.tag_names or ())
    refs.extend(_tag_links(named.tags or (), ("tags",)))
    return refs


def _tag_links(links: Sequence[TagLinkArgument], at: tuple[str, ...]) -> list[WantedTag]:
    """TagLinkInputs as WantedTags labelled with their place; Problems for malformed ones."""
    wanted: list[WantedTag] = []
    problems: list[Problem] = []
    for index, link in enumerate(links):
        where = (*at, str(index))
        if (link.id is None) == (link.name is None):
            part, given = ("name", "both") if link.id is not None else ("id", "neither")
            message = f"give exactly one of `id` and `name`, got {given}"
            problems.append(Problem(("input", *where, part), message, "INVALID"))
        elif link.name is not None:
            wanted.append(WantedTag(link.name, link.priority, where))
        else:
            try:
                wanted.append(WantedTag(decode_id(str(link.id), "Tag")[1], link.priority, where))
            except BadId as error:
                problems.append(Problem(("input", *where, "id"), str(error), "INVALID"))
    if problems:
        raise Problems(problems)
    return wanted


def _wanted_products(named: ProductsArguments) -> list[int | WantedProduct]:
    """`productIds` as plain references, then the `products` links with their priorities."""
    refs: list[int | WantedProduct] = list(
        _decode_all(named.product_ids or (), "Product", "productIds")
    )
    problems: list[Problem] = []
    for index, link in enumerate(named.products or ()):
        where = ("products", str(index))
        try:
            refs.append(WantedProduct(decode_id(link.id, "Product")[1], link.priority, where))
        except BadId as error:
            problems.append(Problem(("input", *where, "id"), str(error), "INVALID"))
    if problems:
        raise Problems(problems)
    return refs


def _tags_of_items(items: Sequence[ApplyTagsItemArgument]) -> list[TagsOf]:
    """applyTags items for the service; every malformed id or link is reported at once."""
    decoded: list[TagsOf] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        at = ("items", str(index))
        try:
            product_id = decode_id(item.product_id, "Product")[1]
        except BadId as error:
            problems.append(Problem(("input", *at, "productId"), str(error), "INVALID"))
        try:
            links = _tag_links(item.tags, (*at, "tags"))
        except Problems as bad:
            problems.extend(bad.problems)
            continue
        if not problems:
            decoded.append(TagsOf(product_id, links, (*at, "productId"), (*at, "tags")))
    if problems:
        raise Problems(problems)
    return decoded


def present(records: Sequence[T | None]) -> list[T]:
    """The records that exist (a concurrent delete may have taken one since)."""
    return [r for r in records if r is not None]
