"""Mutation payloads: the changed objects, or userErrors (and then nothing changed)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

from resolvers.errors import Problem
from resolvers.mutations import LinkChange, present
from schema.types import Info, Product, Tag


@strawberry.enum(description="What kind of mistake a UserError is.")
class UserErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description="An id is well-formed but names no object (deleted, or never existed); "
        "the message lists every missing id.",
    )
    INVALID = strawberry.enum_value(
        "INVALID",
        description="A value is malformed: an id that is not a global id or is of another "
        "type; a name that is empty, too long (products 200, tags 64 characters), or holds "
        "control characters or nothing visible; a priority outside 32 bits; a tag given by "
        "both id and name, or the same link twice with two priorities.",
    )
    TOO_MANY = strawberry.enum_value(
        "TOO_MANY",
        description="More than 100 tag (or product) references in one call, counting ids "
        "and names together. (One list of more than 100 is refused earlier, as the request "
        "error MAX_ITEMS_EXCEEDED.)",
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT",
        description="createTag or updateTag with a name another tag already has: names are "
        "compared by key (case-insensitive, look-alikes folded).",
    )


@strawberry.type(description="A mistake in the input; a payload that has one changed nothing.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='The path to the input value at fault, from the argument: ["input", '
        '"tagIds", "2"] is the third of input.tagIds. Null when no one field is at fault.'
    )
    message: str = strawberry.field(description="What is wrong, for a person to read.")
    code: UserErrorCode = strawberry.field(description="What kind of mistake, for code to act on.")

    @classmethod
    def of(cls, problem: Problem) -> UserError:
        return cls(
            field=list(problem.field), message=problem.message, code=UserErrorCode(problem.code)
        )


def user_errors(problems: tuple[Problem, ...]) -> list[UserError]:
    return [UserError.of(p) for p in problems]


USER_ERRORS = "Mistakes in the input; when there are any, nothing was written."


@strawberry.type(description="The answer of createProduct and updateProduct.")
class ProductPayload:
    product: Product | None = strawberry.field(
        default=None, description="The product as stored; null when there are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


@strawberry.type(description="The answer of createTag and updateTag.")
class TagPayload:
    tag: Tag | None = strawberry.field(
        default=None, description="The tag as stored; null when there are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


@strawberry.type(description="The answer of deleteProduct and deleteTag.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id of the deleted object; null on userErrors."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=USER_ERRORS)


# The link payloads hold ids and load what the client selects, after the write committed.


@strawberry.type(
    description="The answer of addTags, setTags and removeTags: what changed, read after the "
    "write (or, in a dry run, what would change)."
)
class ProductTagsPayload:
    change: strawberry.Private[LinkChange | None]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field(description="The product; null when there are userErrors.")
    async def product(self, info: Info) -> Product | None:
        if self.change is None:
            return None
        record = await info.context.loaders.product.load(self.change.parent_id)
        return None if record is None else Product.of(record)

    @strawberry.field(description="Tags newly linked to the product.")
    async def added(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.added if self.change else ())

    @strawberry.field(description="Tags already linked whose priority this write changed.")
    async def updated(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.updated if self.change else ())

    @strawberry.field(description="Tags unlinked from the product (never deleted).")
    async def removed(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.removed if self.change else ())

    @strawberry.field(description=USER_ERRORS)
    def user_errors(self) -> list[UserError]:
        return self.errors


@strawberry.type(
    description="The answer of addProducts, setProducts and removeProducts: what changed, "
    "read after the write (or, in a dry run, what would change)."
)
class TagProductsPayload:
    change: strawberry.Private[LinkChange | None]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field(description="The tag; null when there are userErrors.")
    async def tag(self, info: Info) -> Tag | None:
        if self.change is None:
            return None
        record = await info.context.loaders.tag.load(self.change.parent_id)
        return None if record is None else Tag.of(record)

    @strawberry.field(description="Products newly linked to the tag.")
    async def added(self, info: Info) -> list[Product]:
        return await _products(info, self.change.added if self.change else ())

    @strawberry.field(description="Products already linked whose priority this write changed.")
    async def updated(self, info: Info) -> list[Product]:
        return await _products(info, self.change.updated if self.change else ())

    @strawberry.field(description="Products unlinked from the tag (never deleted).")
    async def removed(self, info: Info) -> list[Product]:
        return await _products(info, self.change.removed if self.change else ())

    @strawberry.field(description=USER_ERRORS)
    def user_errors(self) -> list[UserError]:
        return self.errors


@strawberry.type(description="What applyTags did (or, in a dry run, would do) to one item.")
class ApplyTagsResult:
    product: Product | None = strawberry.field(description="The item's product.")
    added: list[Tag] = strawberry.field(description="Tags newly linked to the product.")
    updated: list[Tag] = strawberry.field(description="Tags already linked whose priority changed.")
    removed: list[Tag] = strawberry.field(description="Tags unlinked from the product.")


@strawberry.type(description="applyTags' answer: a result per item, or userErrors and no change.")
class ApplyTagsPayload:
    changes: strawberry.Private[list[LinkChange]]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field(description="One result per item, in the order of the items.")
    async def results(self, info: Info) -> list[ApplyTagsResult]:
        # Up to 1,000 items: load every selected product and tag in one go, then build
        # plain results, rather than await four loaders per item.
        selected = _selected_names(info)
        loaders = info.context.loaders
        products: dict[int, Product] = {}
        if "product" in selected:
            ids = [c.parent_id for c in self.changes]
            records = await loaders.product.load_many(ids)
            products = {r.id: Product.of(r) for r in present(records)}
        tags: dict[int, Tag] = {}
        if selected & {"added", "updated", "removed"}:
            ids = list(
                dict.fromkeys(i for c in self.changes for i in (*c.added, *c.updated, *c.removed))
            )
            tags = {r.id: Tag.of(r) for r in present(await loaders.tag.load_many(ids))}
        return [
            ApplyTagsResult(
                product=products.get(c.parent_id),
                added=[tags[i] for i in c.added if i in tags],
                updated=[tags[i] for i in c.updated if i in tags],
                removed=[tags[i] for i in c.removed if i in tags],
            )
            for c in self.changes
        ]

    @strawberry.field(description="Mistakes in the input; when there are any, nothing changed.")
    def user_errors(self) -> list[UserError]:
        return self.errors


def _selected_names(info: Info) -> set[str]:
    """The names of the fields selected under this one, through fragments too."""
    names: set[str] = set()

    def walk(selections: list[Any]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                names.add(selection.name)
            else:  # a fragment spread or an inline fragment
                walk(selection.selections)

    for field in info.selected_fields:
        walk(field.selections)
    return names


async def _tags(info: Info, ids: tuple[int, ...]) -> list[Tag]:
    return [Tag.of(r) for r in present(await info.context.loaders.tag.load_many(ids))]


async def _products(info: Info, ids: tuple[int, ...]) -> list[Product]:
    return [Product.of(r) for r in present(await info.context.loaders.product.load_many(ids))]
