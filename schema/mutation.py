"""The Mutation root. Each field: decode input, call the resolver (which calls the service),
shape the payload."""

from __future__ import annotations

import strawberry

from db.records import ProductRecord, TagRecord
from resolvers import mutations
from resolvers.mutations import LinkChange, Outcome
from schema.inputs import (
    AddProductsInput,
    AddTagsInput,
    CreateProductInput,
    CreateTagInput,
    DeleteInput,
    RemoveProductsInput,
    RemoveTagsInput,
    SetTagsInput,
    UpdateProductInput,
    UpdateTagInput,
)
from schema.payloads import (
    DeletePayload,
    ProductPayload,
    ProductTagsPayload,
    TagPayload,
    TagProductsPayload,
    user_errors,
)
from schema.types import Info, Product, Tag


def product_payload(outcome: Outcome[ProductRecord]) -> ProductPayload:
    product = None if outcome.value is None else Product.of(outcome.value)
    return ProductPayload(product=product, user_errors=user_errors(outcome.problems))


def tag_payload(outcome: Outcome[TagRecord]) -> TagPayload:
    tag = None if outcome.value is None else Tag.of(outcome.value)
    return TagPayload(tag=tag, user_errors=user_errors(outcome.problems))


def delete_payload(outcome: Outcome[str]) -> DeletePayload:
    deleted = None if outcome.value is None else strawberry.ID(outcome.value)
    return DeletePayload(deleted_id=deleted, user_errors=user_errors(outcome.problems))


def product_tags_payload(outcome: Outcome[LinkChange]) -> ProductTagsPayload:
    return ProductTagsPayload(change=outcome.value, errors=user_errors(outcome.problems))


def tag_products_payload(outcome: Outcome[LinkChange]) -> TagProductsPayload:
    return TagProductsPayload(change=outcome.value, errors=user_errors(outcome.problems))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a product, optionally with tags (by id or name).")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        return product_payload(
            await mutations.create_product(info.context, input.name, input.tag_ids, input.tag_names)
        )

    @strawberry.mutation
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        return product_payload(await mutations.update_product(info.context, input.id, input.name))

    @strawberry.mutation(description="Delete a product and its tag links.")
    async def delete_product(self, info: Info, input: DeleteInput) -> DeletePayload:
        return delete_payload(await mutations.delete_product(info.context, input.id))

    @strawberry.mutation(description="Create a tag; CONFLICT if the name exists (any case).")
    async def create_tag(self, info: Info, input: CreateTagInput) -> TagPayload:
        return tag_payload(await mutations.create_tag(info.context, input.name))

    @strawberry.mutation(description="Rename a tag; CONFLICT if another tag has the name.")
    async def update_tag(self, info: Info, input: UpdateTagInput) -> TagPayload:
        return tag_payload(await mutations.update_tag(info.context, input.id, input.name))

    @strawberry.mutation(description="Delete a tag and its product links.")
    async def delete_tag(self, info: Info, input: DeleteInput) -> DeletePayload:
        return delete_payload(await mutations.delete_tag(info.context, input.id))

    @strawberry.mutation(
        description="Link tags to a product (idempotent); missing tag names are created. "
        "A given priority also updates pairs that already exist."
    )
    async def add_tags(self, info: Info, input: AddTagsInput) -> ProductTagsPayload:
        return product_tags_payload(
            await mutations.add_tags(
                info.context, input.product_id, input.tag_ids, input.tag_names, input.priority
            )
        )

    @strawberry.mutation(
        description="Make a product's tags exactly these, writing only the difference."
    )
    async def set_tags(self, info: Info, input: SetTagsInput) -> ProductTagsPayload:
        return product_tags_payload(
            await mutations.set_tags(info.context, input.product_id, input.tag_ids, input.tag_names)
        )

    @strawberry.mutation(description="Unlink tags from a product; absent links are ignored.")
    async def remove_tags(self, info: Info, input: RemoveTagsInput) -> ProductTagsPayload:
        return product_tags_payload(
            await mutations.remove_tags(
                info.context, input.product_id, input.tag_ids, input.tag_names
            )
        )

    @strawberry.mutation(description="Link products to a tag (idempotent).")
    async def add_products(self, info: Info, input: AddProductsInput) -> TagProductsPayload:
        return tag_products_payload(
            await mutations.add_products(
                info.context, input.tag_id, input.product_ids, input.priority
            )
        )

    @strawberry.mutation(description="Unlink products from a tag; absent links are ignored.")
    async def remove_products(self, info: Info, input: RemoveProductsInput) -> TagProductsPayload:
        return tag_products_payload(
            await mutations.remove_products(info.context, input.tag_id, input.product_ids)
        )
