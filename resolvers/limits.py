"""What one request may ask for: one object, built once from the settings at start-up.

The schema enforces most of these before any resolver runs (schema.limits, schema.cost);
resolvers read `default_first` and `max_items` from the same object, through the request
context. Each default is defined here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.associations import MAX_ITEMS

# The API's promise to clients: a page holds at most this many items. An operator may set
# a lower ceiling, never a higher one.
MAX_FIRST = 100
DEFAULT_FIRST = 20  # page size when `first` is not given; the schema advertises it


@dataclass(frozen=True, slots=True)
class Limits:
    max_tokens: int = 5000
    max_depth: int = 10
    max_introspection_depth: int = 20
    max_introspection_lists: int = 2
    max_aliases: int = 30
    max_first: int = MAX_FIRST
    default_first: int = DEFAULT_FIRST
    max_items: int = MAX_ITEMS
    max_nodes: int = 50_000
    max_bulk_items: int = 1000
    # Input fields ("Type.field") whose lists may hold max_bulk_items rather than max_items.
    bulk_lists: frozenset[str] = frozenset({"ApplyTagsInput.items"})
