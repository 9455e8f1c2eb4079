"""Input types: what mutations and filters accept."""

from __future__ import annotations

import strawberry


@strawberry.input(description="Tag conditions on products, by tag id.")
class TagMatch:
    any: list[strawberry.ID] | None = None
    all: list[strawberry.ID] | None = None
    none: list[strawberry.ID] | None = None


@strawberry.input
class ProductFilter:
    name_contains: str | None = None
    tags: TagMatch | None = None


@strawberry.input
class TagFilter:
    name_contains: str | None = None


@strawberry.input
class CreateProductInput:
    name: str
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None


@strawberry.input
class UpdateProductInput:
    id: strawberry.ID
    name: str | None = None


@strawberry.input
class DeleteInput:
    id: strawberry.ID


@strawberry.input
class CreateTagInput:
    name: str


@strawberry.input
class UpdateTagInput:
    id: strawberry.ID
    name: str | None = None


@strawberry.input
class AddTagsInput:
    product_id: strawberry.ID
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None
    priority: int | None = None


@strawberry.input
class SetTagsInput:
    product_id: strawberry.ID
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None


@strawberry.input
class RemoveTagsInput:
    product_id: strawberry.ID
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None


@strawberry.input
class AddProductsInput:
    tag_id: strawberry.ID
    product_ids: list[strawberry.ID]
    priority: int | None = None


@strawberry.input
class RemoveProductsInput:
    tag_id: strawberry.ID
    product_ids: list[strawberry.ID]
