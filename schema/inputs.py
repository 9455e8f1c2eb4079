"""Input types: what mutations and filters accept."""

from __future__ import annotations

from enum import Enum

import strawberry

DRY_RUN = (
    "Run the write and answer what it would change, then roll it back: nothing is written. "
    "Tags it would create come back with ids that name nothing afterwards."
)
TAG_LINKS = (
    "Tags to link, each by id or by name with its own priority. A link that exists keeps "
    "its priority unless one is given here; a new one without a priority gets 0."
)


@strawberry.input(
    description="A tag by id or by name (exactly one of the two), with the link's priority."
)
class TagLinkInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="The tag's global id.")
    name: str | None = strawberry.field(
        default=None,
        description="The tag's name: trimmed and matched case-insensitively; a missing name "
        "is created (removals ignore it).",
    )
    priority: int | None = strawberry.field(
        default=None,
        description="The link's priority, a 32-bit integer (higher first). Without one, a "
        "new link gets 0 and an existing link keeps its own. Removals ignore it.",
    )


@strawberry.input(description="A product by id, with the link's priority.")
class ProductLinkInput:
    id: strawberry.ID = strawberry.field(description="The product's global id.")
    priority: int | None = strawberry.field(
        default=None,
        description="The link's priority, a 32-bit integer. Without one, a new link gets 0 "
        "and an existing link keeps its own. Removals ignore it.",
    )


@strawberry.enum(description="What applyTags does with each item's tags.")
class LinkMode(Enum):
    ADD = strawberry.enum_value("add", description="Link the tags (addTags for each item).")
    SET = strawberry.enum_value(
        "set", description="Make the product's tags exactly these (setTags for each item)."
    )
    REMOVE = strawberry.enum_value(
        "remove", description="Unlink the tags (removeTags for each item)."
    )


@strawberry.input(description="One product of an applyTags request and its tags.")
class ApplyTagsItem:
    product_id: strawberry.ID = strawberry.field(description="The product's global id.")
    tags: list[TagLinkInput] = strawberry.field(
        description="The tags to add, set or remove (at most 100)."
    )


@strawberry.input(
    description="Many products' tags in one transaction: all items are applied, or none."
)
class ApplyTagsInput:
    items: list[ApplyTagsItem] = strawberry.field(
        description="The products and their tags, at most 1,000 items; each product once."
    )
    mode: LinkMode = strawberry.field(
        default=LinkMode.ADD, description="Add (the default), set or remove the tags."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


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
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)


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
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)
    priority: int | None = None
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input
class SetTagsInput:
    product_id: strawberry.ID
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input
class RemoveTagsInput:
    product_id: strawberry.ID
    tag_ids: list[strawberry.ID] | None = None
    tag_names: list[str] | None = None
    tags: list[TagLinkInput] | None = strawberry.field(
        default=None, description="Tags to unlink, by id or by name (priorities are ignored)."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


PRODUCT_LINKS = (
    "Products to link, each with its own priority. A link that exists keeps its priority "
    "unless one is given here; a new one without a priority gets 0."
)


@strawberry.input
class AddProductsInput:
    tag_id: strawberry.ID
    product_ids: list[strawberry.ID] | None = None
    products: list[ProductLinkInput] | None = strawberry.field(
        default=None, description=PRODUCT_LINKS
    )
    priority: int | None = None
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="The products a tag should have: exactly these.")
class SetProductsInput:
    tag_id: strawberry.ID = strawberry.field(description="The tag's global id.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products by id (new links get priority 0)."
    )
    products: list[ProductLinkInput] | None = strawberry.field(
        default=None, description=PRODUCT_LINKS
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input
class RemoveProductsInput:
    tag_id: strawberry.ID
    product_ids: list[strawberry.ID] | None = None
    products: list[ProductLinkInput] | None = strawberry.field(
        default=None, description="Products to unlink (priorities are ignored)."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
