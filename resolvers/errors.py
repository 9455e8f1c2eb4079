"""Errors a resolver can end with, and the user errors a mutation reports.

Two kinds, as the API promises: mistakes in a mutation's input come back as `userErrors`
(Problem) and change nothing; limit and transport violations are GraphQL errors with a
code in `extensions` (LimitExceeded, BadInput).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphql import GraphQLError

from db.errors import CatalogError, Conflict, Invalid, NotFound, TooMany


class LimitExceeded(GraphQLError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


class BadInput(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


class InvalidArgument(GraphQLError):
    """An argument that is well-formed but cannot be used here (a cursor of another order)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "INVALID"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One user error: where in the input, what is wrong, and its code."""

    field: tuple[str, ...]
    message: str
    code: str  # NOT_FOUND | INVALID | TOO_MANY | CONFLICT


class Problems(Exception):
    """Input mistakes found before or by the service; the mutation wrote nothing."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


def problem_from(error: CatalogError, fields: Mapping[str, str]) -> Problem:
    """The user error for a service refusal; `fields` maps service names to input fields."""

    def path(name: str | None) -> tuple[str, ...]:
        if error.at is not None:  # the service knows the exact place in the input
            return ("input", *error.at)
        return ("input", fields.get(name or "", name or "")) if name else ("input",)

    if isinstance(error, NotFound):
        # The kind names the input that held the ids: the service's `field` ("tags") also
        # covers tag names, which can never be "not found" (they are created or ignored).
        return Problem(path(error.kind), str(error), "NOT_FOUND")
    if isinstance(error, TooMany):
        return Problem(path(error.field), str(error), "TOO_MANY")
    if isinstance(error, Conflict):
        return Problem(path(error.field), str(error), "CONFLICT")
    if isinstance(error, Invalid):
        return Problem(path(error.field), str(error), "INVALID")
    return Problem(("input",), str(error), "INVALID")
