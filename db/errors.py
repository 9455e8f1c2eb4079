"""The ways a catalog operation can be refused. Callers map these to user errors."""

from __future__ import annotations

from collections.abc import Iterable

Where = tuple[str, ...]  # a caller's label for the reference at fault (see WantedTag.at)


class CatalogError(Exception):
    """Base of every refusal: nothing was written when one is raised.

    `at` is None, or where in the caller's input the value at fault was given: the label
    the caller attached to the reference, plus the part at fault (id, name, priority).
    """

    at: Where | None = None


class NotFound(CatalogError):
    """Some ids named no row; `ids` lists every one of them."""

    def __init__(
        self, kind: str, ids: Iterable[int], field: str | None = None, at: Where | None = None
    ) -> None:
        self.at = at
        self.kind = kind
        self.ids = tuple(sorted(set(ids)))
        self.field = field
        listed = ", ".join(str(i) for i in self.ids)
        super().__init__(f"No {kind} with id {listed}")


class Invalid(CatalogError):
    """A value breaks a rule (empty name, too long, bad priority...)."""

    def __init__(self, field: str, reason: str, at: Where | None = None) -> None:
        self.at = at
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class TooMany(CatalogError):
    """More items in one call than the service accepts."""

    def __init__(self, field: str, limit: int, given: int, at: Where | None = None) -> None:
        self.at = at
        self.field = field
        self.limit = limit
        self.given = given
        super().__init__(f"{field}: at most {limit} items per call, got {given}")


class Conflict(CatalogError):
    """The name is already taken (tag names are unique case-insensitively)."""

    def __init__(self, field: str, name: str) -> None:
        self.field = field
        self.name = name
        super().__init__(f"{field}: the name {name!r} is already taken")
