"""Global ids ("Product:12", base64-encoded, as Relay and GitHub do) and paging cursors."""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

from db.models import MAX_ID as MAX_DATABASE_ID

INT32 = range(-(2**31), 2**31)
# Digits of the largest id. Longer numbers are refused before int() sees them: int() of more
# than 4,300 digits raises (CPython's guard against quadratic conversion), and none is an id.
_ID_DIGITS = len(str(MAX_DATABASE_ID))
_SHOWN = 40  # characters of a bad value quoted back in an error message


class BadId(ValueError):
    """An id that is not a well-formed global id of the expected type."""


@lru_cache(maxsize=65_536)  # the same tags appear on many products of a page
def encode_id(type_name: str, database_id: int) -> str:
    return base64.b64encode(f"{type_name}:{database_id}".encode()).decode()


def decode_id(value: str, expected: str | None = None) -> tuple[str, int]:
    """(type name, database id) of a global id; BadId when malformed or of another type."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise BadId(f"{_quoted(value)} is not a valid id") from error
    type_name, _, number = raw.partition(":")
    if (
        not number.isascii()
        or not number.isdigit()
        or len(number.lstrip("0")) > _ID_DIGITS
        or not 0 < int(number) <= MAX_DATABASE_ID
    ):
        raise BadId(f"{_quoted(value)} is not a valid id")
    if expected is not None and type_name != expected:
        raise BadId(f"{_quoted(value)} is not the id of a {expected}")
    return type_name, int(number)


def encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode()


def decode_cursor(value: str, *types: type) -> tuple[Any, ...]:
    """The parts of a cursor made by encode_cursor, checked against `types`; else ValueError.

    json.loads refuses integers of more than 4,300 digits with a ValueError, like any other
    malformed cursor.
    """
    try:
        parts = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise ValueError(f"{_quoted(value)} is not a valid cursor") from error
    if (
        not isinstance(parts, list)
        or len(parts) != len(types)
        or not all(type(p) is t for p, t in zip(parts, types, strict=True))
        or any(type(p) is int and p not in INT32 for p in parts)
    ):
        raise ValueError(f"{_quoted(value)} is not a valid cursor")
    return tuple(parts)


def _quoted(value: str) -> str:
    """The value for an error message, shortened: a client may send megabytes of it."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")
