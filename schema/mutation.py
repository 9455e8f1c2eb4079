"""The Mutation root. Each field: decode input, call the resolver (which calls the service),
shape the payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.associations import Mode
from db.records import ProductRecord, TagRecord
from resolvers import mutations
from resolvers.mutations import LinkChange, Outcome, ProductsArguments, TagsArguments
from schema.inputs import (
    AddProductsInput,
    AddTagsInput,
    ApplyTagsInput,
    CreateProductInput,
    CreateTagInput,
    DeleteInput,
    LinkMode,
    RemoveProductsInput,
    RemoveTagsInput,
    SetProductsInput,
    SetTagsInput,
    UpdateProductInput,
    UpdateTagInput,
)
from schema.payloads import (
    ApplyTagsPayload,
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


def apply_tags_payload(outcome: Outcome[list[LinkChange]]) -> ApplyTagsPayload:
    return ApplyTagsPayload(changes=outcome.value or [], errors=user_errors(outcome.problems))


MODES: dict[LinkMode, Mode] = {LinkMode.ADD: "add", LinkMode.SET: "set", LinkMode.REMOVE: "remove"}


@strawberry.type(
    description="Every write. Each mutation is one transaction; mutations need a write "
    "token. Mistakes in the input come back as `userErrors` in the payload, and then "
    "nothing was written."
)
class Mutation:
    @strawberry.mutation(description="Create a product, optionally with tags (by id or name).")
    async def create_product(
        self,
        info: Info,
        input: Annotated[
            CreateProductInput,
            strawberry.argument(description="The product's name and, optionally, its first tags."),
        ],
    ) -> ProductPayload:
        named = TagsArguments(input.tag_ids, input.tag_names, input.tags)
        return product_payload(await mutations.create_product(info.context, input.name, named))

    @strawberry.mutation(description="Rename a product (a missing name changes nothing).")
    async def update_product(
        self,
        info: Info,
        input: Annotated[
            UpdateProductInput, strawberry.argument(description="Which product, and its new name.")
        ],
    ) -> ProductPayload:
        return product_payload(await mutations.update_product(info.context, input.id, input.name))

    @strawberry.mutation(description="Delete a product and its tag links.")
    async def delete_product(
        self,
        info: Info,
        input: Annotated[DeleteInput, strawberry.argument(description="Which product.")],
    ) -> DeletePayload:
        return delete_payload(await mutations.delete_product(info.context, input.id))

    @strawberry.mutation(description="Create a tag; CONFLICT if the name exists (any case).")
    async def create_tag(
        self,
        info: Info,
        input: Annotated[CreateTagInput, strawberry.argument(description="The new tag's name.")],
    ) -> TagPayload:
        return tag_payload(await mutations.create_tag(info.context, input.name))

    @strawberry.mutation(description="Rename a tag; CONFLICT if another tag has the name.")
    async def update_tag(
        self,
        info: Info,
        input: Annotated[
            UpdateTagInput, strawberry.argument(description="Which tag, and its new name.")
        ],
    ) -> TagPayload:
        return tag_payload(await mutations.update_tag(info.context, input.id, input.name))

    @strawberry.mutation(description="Delete a tag and its product links.")
    async def delete_tag(
        self,
        info: Info,
        input: Annotated[DeleteInput, strawberry.argument(description="Which tag.")],
    ) -> DeletePayload:
        return delete_payload(await mutations.delete_tag(info.context, input.id))

    @strawberry.mutation(
        description="Link tags to a product (idempotent); missing tag names are created. "
        "A given priority (per link, or `priority` for all) also updates links that exist."
    )
    async def add_tags(
        self,
        info: Info,
        input: Annotated[
            AddTagsInput, strawberry.argument(description="The product and the tags to link.")
        ],
    ) -> ProductTagsPayload:
        named = TagsArguments(input.tag_ids, input.tag_names, input.tags)
        return product_tags_payload(
            await mutations.add_tags(
                info.context, input.product_id, named, input.priority, input.dry_run
            )
        )

    @strawberry.mutation(
        description="Make a product's tags exactly these, writing only the difference."
    )
    async def set_tags(
        self,
        info: Info,
        input: Annotated[
            SetTagsInput,
            strawberry.argument(
                description="The product and the complete set of tags it should have."
            ),
        ],
    ) -> ProductTagsPayload:
        named = TagsArguments(input.tag_ids, input.tag_names, input.tags)
        return product_tags_payload(
            await mutations.set_tags(info.context, input.product_id, named, input.dry_run)
        )

    @strawberry.mutation(description="Unlink tags from a product; absent links are ignored.")
    async def remove_tags(
        self,
        info: Info,
        input: Annotated[
            RemoveTagsInput, strawberry.argument(description="The product and the tags to unlink.")
        ],
    ) -> ProductTagsPayload:
        named = TagsArguments(input.tag_ids, input.tag_names, input.tags)
        return product_tags_payload(
            await mutations.remove_tags(info.context, input.product_id, named, input.dry_run)
        )

    @strawberry.mutation(
        description="Add, set or remove the tags of up to 1,000 products in one transaction: "
        "all items or none. Missing tag names are created."
    )
    async def apply_tags(
        self,
        info: Info,
        input: Annotated[
            ApplyTagsInput,
            strawberry.argument(
                description="The products with their tags, the mode, and whether to dry-run."
            ),
        ],
    ) -> ApplyTagsPayload:
        return apply_tags_payload(
            await mutations.apply_tags(info.context, input.items, MODES[input.mode], input.dry_run)
        )

    @strawberry.mutation(description="Link products to a tag (idempotent).")
    async def add_products(
        self,
        info: Info,
        input: Annotated[
            AddProductsInput, strawberry.argument(description="The tag and the products to link.")
        ],
    ) -> TagProductsPayload:
        named = ProductsArguments(input.product_ids, input.products)
        return tag_products_payload(
            await mutations.add_products(
                info.context, input.tag_id, named, input.priority, input.dry_run
            )
        )

    @strawberry.mutation(
        description="Make a tag's products exactly these, writing only the difference."
    )
    async def set_products(
        self,
        info: Info,
        input: Annotated[
            SetProductsInput,
            strawberry.argument(
                description="The tag and the complete set of products it should have."
            ),
        ],
    ) -> TagProductsPayload:
        named = ProductsArguments(input.product_ids, input.products)
        return tag_products_payload(
            await mutations.set_products(info.context, input.tag_id, named, input.dry_run)
        )

    @strawberry.mutation(description="Unlink products from a tag; absent links are ignored.")
    async def remove_products(
        self,
        info: Info,
        input: Annotated[
            RemoveProductsInput,
            strawberry.argument(description="The tag and the products to unlink."),
        ],
    ) -> TagProductsPayload:
        named = ProductsArguments(input.product_ids, input.products)
        return tag_products_payload(
            await mutations.remove_products(info.context, input.tag_id, named, input.dry_run)
        )
