"""Mutation payloads: the changed objects, or userErrors (and then nothing changed)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.errors import Problem
from schema.types import Product, Tag


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


@strawberry.type
class ProductTagsPayload:
    product: Product | None = None
    added: list[Tag] = strawberry.field(default_factory=list)
    removed: list[Tag] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TagProductsPayload:
    tag: Tag | None = None
    added: list[Product] = strawberry.field(default_factory=list)
    removed: list[Product] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
