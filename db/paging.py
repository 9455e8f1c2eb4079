"""How a page of an ordered list is cut: orders, keyset slices and ranges on link columns.

The one definition of paging for every reader. An order is a list of sort columns: the
first in the direction asked for, the others ascending, the last always the row's id, so
the key is unique and pages never skip or repeat rows. A cursor is the key of one row;
"after" a key means "sorts strictly after it in this order".

A slice is Relay's: `size` rows after `after` and before `before`, counted from the start
(`first`) or, when `backward`, from the end (`last`). Backward slices are read in the
reversed order, cut, and turned round again, so both directions cost the same statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, or_

T = TypeVar("T")
Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Order:
    """A connection's order: the sort field (the reader's own name for it) and direction."""

    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Slice:
    """Which rows a page holds: up to `size` between the keys `after` and `before`."""

    size: int
    backward: bool = False
    after: Key | None = None
    before: Key | None = None


@dataclass(frozen=True, slots=True)
class Range(Generic[T]):
    """A closed range; a missing bound is open. gte > lte is an empty range, not an error."""

    gte: T | None = None
    lte: T | None = None


@dataclass(frozen=True, slots=True)
class LinkConditions:
    """Which links count: their junction columns within these ranges."""

    priority: Range[int] | None = None
    added_at: Range[datetime] | None = None


@dataclass(frozen=True, slots=True)
class Sort:
    """One order of one list: its columns (the last is the id) and the key's Python types."""

    columns: tuple[ColumnElement[Any], ...]
    types: tuple[type, ...]
    key: Callable[[Any], Key]  # the same key, read off a record the reader returned


def directions(sort: Sort, order: Order, backward: bool) -> list[bool]:
    """Whether each column is read descending: the first as asked, ties ascending."""
    wanted = [order.descending] + [False] * (len(sort.columns) - 1)
    return [not d for d in wanted] if backward else wanted


def order_by(sort: Sort, descending: Sequence[bool]) -> list[ColumnElement[Any]]:
    return [c.desc() if d else c.asc() for c, d in zip(sort.columns, descending, strict=True)]


def beyond(sort: Sort, descending: Sequence[bool], prefix: str) -> ColumnElement[bool]:
    """Rows that sort strictly after the key bound as :{prefix}0, :{prefix}1, ...

    Expanded rather than a row-value comparison, because the columns' directions differ:
        c0 > :k0 OR (c0 = :k0 AND (c1 > :k1 OR (c1 = :k1 AND c2 > :k2)))
    (with < for a descending column).
    """
    clause: ColumnElement[bool] | None = None
    pairs = list(zip(sort.columns, descending, strict=True))
    for i in reversed(range(len(pairs))):
        column, desc = pairs[i]
        value: BindParameter[Any] = bindparam(f"{prefix}{i}")
        step = column < value if desc else column > value
        clause = step if clause is None else or_(step, and_(column == value, clause))
    assert clause is not None
    return clause


# (backward, has after, has before): all that a cached page statement depends on.
Shape = tuple[bool, bool, bool]


def slice_shape(window: Slice) -> Shape:
    return window.backward, window.after is not None, window.before is not None


def cut(sort: Sort, order: Order, shape: Shape) -> tuple[list[ColumnElement[Any]], list[Any]]:
    """The ORDER BY and the WHERE clauses of a slice (reading backwards when it is)."""
    backward, has_after, has_before = shape
    forward = directions(sort, order, False)
    where: list[Any] = []
    if has_after:
        where.append(beyond(sort, forward, "after"))
    if has_before:
        where.append(beyond(sort, [not d for d in forward], "before"))
    return order_by(sort, directions(sort, order, backward)), where


def slice_params(window: Slice) -> dict[str, Any]:
    """Bind values of a slice's cursors (datetimes in UTC, as they are stored)."""
    params: dict[str, Any] = {"limit": window.size + 1}
    for prefix, key in (("after", window.after), ("before", window.before)):
        for i, value in enumerate(key or ()):
            params[f"{prefix}{i}"] = in_utc(value) if isinstance(value, datetime) else value
    return params


def in_utc(value: datetime) -> datetime:
    """An aware datetime in UTC: SQLite compares stored UTC text, so the offset must match."""
    return value.astimezone(UTC)


def take(rows: Sequence[T], window: Slice) -> tuple[list[T], bool]:
    """The page from size + 1 rows read in reading order, and whether more lie beyond it."""
    page = list(rows[: window.size])
    if window.backward:
        page.reverse()
    return page, len(rows) > window.size


# (has gte, has lte): what a cached statement needs to know of a range.
RangeShape = tuple[bool, bool]


def range_shape(bounds: Range[Any] | None) -> RangeShape:
    if bounds is None:
        return False, False
    return bounds.gte is not None, bounds.lte is not None


def range_conditions(column: ColumnElement[Any], shape: RangeShape, name: str) -> list[Any]:
    """column >= :{name}_gte AND column <= :{name}_lte, for the bounds that are given."""
    has_gte, has_lte = shape
    found: list[Any] = []
    if has_gte:
        found.append(column >= bindparam(f"{name}_gte"))
    if has_lte:
        found.append(column <= bindparam(f"{name}_lte"))
    return found


def range_params(bounds: Range[Any] | None, name: str) -> dict[str, Any]:
    if bounds is None:
        return {}
    params: dict[str, Any] = {}
    for side, value in (("gte", bounds.gte), ("lte", bounds.lte)):
        if value is not None:
            params[f"{name}_{side}"] = in_utc(value) if isinstance(value, datetime) else value
    return params
