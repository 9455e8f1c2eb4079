"""Mutation payloads: the changed objects, or userErrors (and then nothing changed)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.errors import Problem
from resolvers.mutations import LinkChange, present
from schema.types import Info, Product, Tag


@strawberry.enum
class UserErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    TOO_MANY = "TOO_MANY"
    CONFLICT = "CONFLICT"


@strawberry.type(description="A mistake in the input; a payload that has one changed nothing.")
class UserError:
    field: list[str] | None
    message: str
    code: UserErrorCode

    @classmethod
    def of(cls, problem: Problem) -> UserError:
        return cls(
            field=list(problem.field), message=problem.message, code=UserErrorCode(problem.code)
        )


def user_errors(problems: tuple[Problem, ...]) -> list[UserError]:
    return [UserError.of(p) for p in problems]


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TagPayload:
    tag: Tag | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# The link payloads hold ids and load what the client selects, after the write committed.


@strawberry.type
class ProductTagsPayload:
    change: strawberry.Private[LinkChange | None]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field
    async def product(self, info: Info) -> Product | None:
        if self.change is None:
            return None
        record = await info.context.loaders.product.load(self.change.parent_id)
        return None if record is None else Product.of(record)

    @strawberry.field
    async def added(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.added if self.change else ())

    @strawberry.field(description="Tags already linked whose priority this write changed.")
    async def updated(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.updated if self.change else ())

    @strawberry.field
    async def removed(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.removed if self.change else ())

    @strawberry.field
    def user_errors(self) -> list[UserError]:
        return self.errors


@strawberry.type
class TagProductsPayload:
    change: strawberry.Private[LinkChange | None]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field
    async def tag(self, info: Info) -> Tag | None:
        if self.change is None:
            return None
        record = await info.context.loaders.tag.load(self.change.parent_id)
        return None if record is None else Tag.of(record)

    @strawberry.field
    async def added(self, info: Info) -> list[Product]:
        return await _products(info, self.change.added if self.change else ())

    @strawberry.field(description="Products already linked whose priority this write changed.")
    async def updated(self, info: Info) -> list[Product]:
        return await _products(info, self.change.updated if self.change else ())

    @strawberry.field
    async def removed(self, info: Info) -> list[Product]:
        return await _products(info, self.change.removed if self.change else ())

    @strawberry.field
    def user_errors(self) -> list[UserError]:
        return self.errors


@strawberry.type(description="What applyTags did (or, in a dry run, would do) to one item.")
class ApplyTagsResult:
    change: strawberry.Private[LinkChange]

    @strawberry.field(description="The item's product.")
    async def product(self, info: Info) -> Product | None:
        record = await info.context.loaders.product.load(self.change.parent_id)
        return None if record is None else Product.of(record)

    @strawberry.field(description="Tags newly linked to the product.")
    async def added(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.added)

    @strawberry.field(description="Tags already linked whose priority changed.")
    async def updated(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.updated)

    @strawberry.field(description="Tags unlinked from the product.")
    async def removed(self, info: Info) -> list[Tag]:
        return await _tags(info, self.change.removed)


@strawberry.type(description="applyTags' answer: a result per item, or userErrors and no change.")
class ApplyTagsPayload:
    changes: strawberry.Private[list[LinkChange]]
    errors: strawberry.Private[list[UserError]]

    @strawberry.field(description="One result per item, in the order of the items.")
    def results(self) -> list[ApplyTagsResult]:
        return [ApplyTagsResult(change=change) for change in self.changes]

    @strawberry.field(description="Mistakes in the input; when there are any, nothing changed.")
    def user_errors(self) -> list[UserError]:
        return self.errors


async def _tags(info: Info, ids: tuple[int, ...]) -> list[Tag]:
    return [Tag.of(r) for r in present(await info.context.loaders.tag.load_many(ids))]


async def _products(info: Info, ids: tuple[int, ...]) -> list[Product]:
    return [Product.of(r) for r in present(await info.context.loaders.product.load_many(ids))]
