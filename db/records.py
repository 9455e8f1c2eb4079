"""Plain, frozen results the data layer hands out: no ORM state, nothing lazy.

The timestamps (created_at, updated_at, added_at) are None in the records of a request
that reads none (db.readers, `timestamps=False`); nothing that reads them runs there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TagRecord:
    id: int
    name: str
    name_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TagLink:
    """A tag as seen from one product: the tag plus the junction's own columns."""

    tag: TagRecord
    priority: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ProductLink:
    """A product as seen from one tag: the product plus the junction's own columns."""

    product: ProductRecord
    priority: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class TagLinkKey:
    """Where a page of a product's tags resumes: after this (priority DESC, name, id)."""

    priority: int
    name_key: str
    tag_id: int


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool


@dataclass(frozen=True, slots=True)
class Changed:
    """What a write actually did to one parent's links, ids in ascending order.

    `added`, `updated` (the priority changed) and `removed` hold the other side's ids;
    `created` the tags the write created by name (in a dry run, as they would be: their
    ids name nothing once the transaction is rolled back).
    """

    added: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    created: tuple[TagRecord, ...] = ()
