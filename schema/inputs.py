"""Input types: what mutations and filters accept."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from db.paging import Range

DRY_RUN = (
    "Run the write and answer what it would change, then roll it back: nothing is written. "
    "Tags it would create come back with ids that name nothing afterwards."
)
TAG_IDS = "Tags by global id, shorthand for `tags` without priorities; at most 100."
TAG_NAMES = (
    "Tags by name, shorthand for `tags` without priorities; at most 100. Names are cleaned "
    "and compared by key (case-insensitive, look-alikes folded)."
)
NEW_TAG_NAMES = TAG_NAMES + " A name no tag has yet creates the tag."
ALL_PRIORITY = (
    "The priority of every link of this call that has none of its own (a 32-bit integer; "
    "higher comes first in Product.tags). Given, it also updates links that exist; "
    "without it, new links get 0 and existing ones keep theirs."
)
PRODUCT_ID = "The product's global id."
TAG_ID = "The tag's global id."
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


def apply_tags_input(value: Mapping[str, Any]) -> ApplyTagsInput:
    """ApplyTagsInput from graphql-core's coerced value, which has already been checked
    against the schema (required fields present, optional ones filled with their default):
    a plain walk, in place of Strawberry's generic conversion (see schema.compat)."""
    return ApplyTagsInput(
        items=[
            ApplyTagsItem(
                product_id=item["productId"],
                tags=[
                    TagLinkInput(
                        id=link.get("id"), name=link.get("name"), priority=link.get("priority")
                    )
                    for link in item["tags"]
                ],
            )
            for item in value["items"]
        ],
        mode=value.get("mode", LinkMode.ADD),
        dry_run=value.get("dryRun", False),
    )


@strawberry.input(description="Whole numbers from `gte` to `lte`, both included.")
class IntRange:
    gte: int | None = strawberry.field(default=None, description="At least this; open if null.")
    lte: int | None = strawberry.field(default=None, description="At most this; open if null.")

    def bounds(self) -> Range[int]:
        return Range(self.gte, self.lte)


@strawberry.input(
    description="Moments from `gte` to `lte`, both included, each with its time zone offset "
    "(e.g. 2026-01-31T09:00:00Z)."
)
class DateTimeRange:
    gte: datetime | None = strawberry.field(
        default=None, description="At this moment or later; open if null."
    )
    lte: datetime | None = strawberry.field(
        default=None, description="At this moment or earlier; open if null."
    )

    def bounds(self) -> Range[datetime]:
        return Range(self.gte, self.lte)


@strawberry.input(
    description="Which links of a connection it keeps, by the link's own columns; "
    "`totalCount` counts the same links."
)
class LinkFilter:
    priority: IntRange | None = strawberry.field(
        default=None, description="Only links whose priority lies in this range."
    )
    added_at: DateTimeRange | None = strawberry.field(
        default=None, description="Only links made within this time range."
    )


@strawberry.input(description="Tag conditions on products, by tag id.")
class TagMatch:
    any: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products with at least one of these tags (at most 100)."
    )
    all: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products with every one of these tags (at most 100)."
    )
    none: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products with none of these tags (at most 100)."
    )
    priority: IntRange | None = strawberry.field(
        default=None,
        description="Only links with a priority in this range count: `any` keeps products "
        "linked to one of the tags within it, `all` to every one within it, `none` to none "
        "within it. Alone, it keeps products with some link within it.",
    )


@strawberry.input(
    description="Tag conditions on products, by tag name (trimmed, case-insensitive, as tags "
    "are compared). An unknown name matches nothing."
)
class TagNameMatch:
    any: list[str] | None = strawberry.field(
        default=None, description="Products with at least one of these tags."
    )
    all: list[str] | None = strawberry.field(
        default=None, description="Products with every one of these tags."
    )
    none: list[str] | None = strawberry.field(
        default=None, description="Products with none of these tags."
    )
    priority: IntRange | None = strawberry.field(
        default=None,
        description="Only links with a priority in this range count: `any` keeps products "
        "linked to one of the tags within it, `all` to every one within it, `none` to none "
        "within it. Alone, it keeps products with some link within it.",
    )


@strawberry.input(description="Which products a list keeps; all given conditions must hold.")
class ProductFilter:
    name_contains: str | None = strawberry.field(
        default=None,
        description="Products whose name contains this text, compared by key (case-insensitive, "
        "look-alikes folded, the same on every database).",
    )
    tags: TagMatch | None = strawberry.field(default=None, description="Tag conditions by tag id.")
    tag_names: TagNameMatch | None = strawberry.field(
        default=None, description="Tag conditions by tag name, beside `tags` by id."
    )


@strawberry.input(description="Which tags a list keeps.")
class TagFilter:
    name_contains: str | None = strawberry.field(
        default=None,
        description="Tags whose name contains this text, compared by key (case-insensitive, "
        "look-alikes folded).",
    )


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str = strawberry.field(
        description="The name: cleaned (trimmed, spaces collapsed, invisible characters "
        "dropped, NFC) and 1 to 200 characters long. Product names need not be unique."
    )
    tag_ids: list[strawberry.ID] | None = strawberry.field(default=None, description=TAG_IDS)
    tag_names: list[str] | None = strawberry.field(default=None, description=NEW_TAG_NAMES)
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)


@strawberry.input(description="A product to rename.")
class UpdateProductInput:
    id: strawberry.ID = strawberry.field(description=PRODUCT_ID)
    name: str | None = strawberry.field(
        default=None,
        description="The new name, cleaned as on create (1 to 200 characters); null keeps it.",
    )


@strawberry.input(description="An object to delete.")
class DeleteInput:
    id: strawberry.ID = strawberry.field(
        description="The global id of the product (deleteProduct) or tag (deleteTag)."
    )


@strawberry.input(description="A new tag.")
class CreateTagInput:
    name: str = strawberry.field(
        description="The name: cleaned (trimmed, spaces collapsed, invisible characters "
        "dropped, NFC), 1 to 64 characters, unique by key (case-insensitive, look-alikes "
        "folded): CONFLICT when another tag has it."
    )


@strawberry.input(description="A tag to rename.")
class UpdateTagInput:
    id: strawberry.ID = strawberry.field(description=TAG_ID)
    name: str | None = strawberry.field(
        default=None,
        description="The new name, cleaned as on create; CONFLICT when another tag has it; "
        "null keeps it. A new spelling of the tag's own name is allowed.",
    )


@strawberry.input(
    description="Tags to link to a product; ids, names and links together name at most 100."
)
class AddTagsInput:
    product_id: strawberry.ID = strawberry.field(description=PRODUCT_ID)
    tag_ids: list[strawberry.ID] | None = strawberry.field(default=None, description=TAG_IDS)
    tag_names: list[str] | None = strawberry.field(default=None, description=NEW_TAG_NAMES)
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)
    priority: int | None = strawberry.field(default=None, description=ALL_PRIORITY)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(
    description="The complete set of a product's tags (none given: remove them all); at "
    "most 100. Links that stay keep their addedAt."
)
class SetTagsInput:
    product_id: strawberry.ID = strawberry.field(description=PRODUCT_ID)
    tag_ids: list[strawberry.ID] | None = strawberry.field(default=None, description=TAG_IDS)
    tag_names: list[str] | None = strawberry.field(default=None, description=NEW_TAG_NAMES)
    tags: list[TagLinkInput] | None = strawberry.field(default=None, description=TAG_LINKS)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="Tags to unlink from a product (the tags themselves stay).")
class RemoveTagsInput:
    product_id: strawberry.ID = strawberry.field(description=PRODUCT_ID)
    tag_ids: list[strawberry.ID] | None = strawberry.field(default=None, description=TAG_IDS)
    tag_names: list[str] | None = strawberry.field(
        default=None, description=TAG_NAMES + " Names no tag has are ignored."
    )
    tags: list[TagLinkInput] | None = strawberry.field(
        default=None, description="Tags to unlink, by id or by name (priorities are ignored)."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


PRODUCT_IDS = "Products by global id, shorthand for `products` without priorities; at most 100."
PRODUCT_LINKS = (
    "Products to link, each with its own priority. A link that exists keeps its priority "
    "unless one is given here; a new one without a priority gets 0."
)


@strawberry.input(description="Products to link to a tag; at most 100 in all.")
class AddProductsInput:
    tag_id: strawberry.ID = strawberry.field(description=TAG_ID)
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=PRODUCT_IDS
    )
    products: list[ProductLinkInput] | None = strawberry.field(
        default=None, description=PRODUCT_LINKS
    )
    priority: int | None = strawberry.field(default=None, description=ALL_PRIORITY)
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


@strawberry.input(description="Products to unlink from a tag (the products stay).")
class RemoveProductsInput:
    tag_id: strawberry.ID = strawberry.field(description=TAG_ID)
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=PRODUCT_IDS
    )
    products: list[ProductLinkInput] | None = strawberry.field(
        default=None, description="Products to unlink (priorities are ignored)."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
