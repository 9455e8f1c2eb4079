"""What a caller asks the association service for: references to tags and products, with
their priorities, and every check of them that needs no SQL.

Rules kept here:
- a link is asked for by reference (a tag by id or by name, a product by id) with an
  optional priority (WantedTag, WantedProduct; a plain id or name is a reference without
  one). Tag names are cleaned here (db.names: trimmed, matched case-insensitively);
  db.associations looks them up and creates the missing ones (db.tag_resolution);
- a priority is a 32-bit integer, the column's range (the one check: check_priority). A
  reference without a priority gets the call's default (None when the call gives none;
  what None means for a link is db.associations' rule);
- duplicates are folded (fold_pair); the same tag (or product) given twice with two
  different priorities is Invalid; more than `max_items` references for one parent is
  TooMany; in apply_tags, a product given in two items is Invalid.

References may carry a label (`at`): where the caller's input gave them. A refusal about
one repeats it, with the part at fault appended (id, name, priority), so callers can
point at the exact input; without labels, errors name the field as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from db import names
from db.errors import Invalid, TooMany, Where
from db.links import Pair

TagRef = int | str
PRIORITY_RANGE = range(-(2**31), 2**31)  # the column is a 32-bit integer on every database


# A bulk write names the same few tags thousands of times: clean each spelling once.
@lru_cache(maxsize=65_536)
def _tag_name(spelling: str) -> str:
    return names.tag_name(spelling, field="tags")


@dataclass(frozen=True, slots=True)
class WantedTag:
    """A tag to link, by id or by name, with the link's priority (None: see the rules)."""

    ref: TagRef
    priority: int | None = None
    at: Where | None = None


@dataclass(frozen=True, slots=True)
class WantedProduct:
    """A product to link to a tag, by id, with the link's priority (None: see the rules)."""

    id: int
    priority: int | None = None
    at: Where | None = None


@dataclass(frozen=True, slots=True)
class TagsOf:
    """One item of apply_tags: a product and its tags (what they mean depends on the mode).

    `product_at` and `tags_at` label where the caller gave the product id and the list.
    """

    product_id: int
    tags: Sequence[TagRef | WantedTag]
    product_at: Where | None = None
    tags_at: Where | None = None


def wanted_tags(
    items: Sequence[TagsOf], default: int | None, max_items: int
) -> list[list[WantedTag]]:
    """Each item's references as WantedTags, names cleaned, priorities checked.

    A reference without a priority gets `default`. Raises Invalid for a product given in
    two items, a bad name or priority; TooMany for more than `max_items` tags in one item.
    """
    if default is not None:
        check_priority(default)
    seen: dict[int, TagsOf] = {}
    result: list[list[WantedTag]] = []
    for item in items:
        if item.product_id in seen:
            raise Invalid("product", "the product is given in more than one item", item.product_at)
        seen[item.product_id] = item
        if len(item.tags) > max_items:
            raise TooMany("tags", max_items, len(item.tags), item.tags_at)
        wanted = []
        for ref in item.tags:
            one = ref if isinstance(ref, WantedTag) else WantedTag(ref)
            if isinstance(one.ref, str):
                try:
                    clean = _tag_name(one.ref)
                except Invalid as error:
                    raise Invalid(error.field, error.reason, part_of(one.at, "name")) from None
                one = WantedTag(clean, one.priority, one.at)
            if one.priority is None:
                one = WantedTag(one.ref, default, one.at)
            else:
                check_priority(one.priority, part_of(one.at, "priority"))
            wanted.append(one)
        result.append(wanted)
    return result


def wanted_products(
    product_refs: Iterable[int | WantedProduct], default: int | None, max_items: int
) -> list[WantedProduct]:
    """The references as WantedProducts, priorities checked (a missing one stays None).

    Raises TooMany for more than `max_items` references, Invalid for a bad priority.
    """
    refs = list(product_refs)
    if len(refs) > max_items:
        raise TooMany("products", max_items, len(refs))
    if default is not None:
        check_priority(default)
    wanted = [r if isinstance(r, WantedProduct) else WantedProduct(r) for r in refs]
    for one in wanted:
        if one.priority is not None:
            check_priority(one.priority, part_of(one.at, "priority"))
    return wanted


def check_priority(priority: int, at: Where | None = None) -> None:
    """The one priority rule: a 32-bit integer, as the column stores it."""
    if priority not in PRIORITY_RANGE:
        raise Invalid("priority", "must fit in a 32-bit integer", at)


def fold_pair(
    pairs: dict[Pair, int | None], pair: Pair, priority: int | None, at: Where | None
) -> None:
    """Add a wanted pair, folding duplicates; two different priorities for it are Invalid."""
    if pair in pairs:
        earlier = pairs[pair]
        if priority is None:
            return
        if earlier is not None and earlier != priority:
            raise Invalid(
                "priority",
                f"the same link is given twice, with priorities {earlier} and {priority}",
                part_of(at, "priority"),
            )
    pairs[pair] = priority


def part_of(at: Where | None, part: str) -> Where | None:
    """The label of one part (id, name, priority) of a labelled reference."""
    return None if at is None else (*at, part)
