"""Global ids ("Product:12", base64-encoded, as Relay and GitHub do) and paging cursors."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
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


class OtherOrder(ValueError):
    """A well-formed cursor made for another order of the connection."""

    def __init__(self, made_for: str) -> None:
        super().__init__(made_for)
        self.made_for = made_for


def encode_key_cursor(connection: str, order: str, key: tuple[Any, ...]) -> str:
    """A cursor naming its connection and order, and holding the sort key of its row."""
    wire = (v.isoformat() if isinstance(v, datetime) else v for v in key)
    return encode_cursor(connection, order, *wire)


def decode_key_cursor(
    value: str, connection: str, order: str, types: tuple[type, ...]
) -> tuple[Any, ...]:
    """The sort key in a cursor of this connection and order; OtherOrder when it was made
    for another order, ValueError when it is malformed or of another connection.
    Datetimes travel as ISO 8601 text with their offset and come back aware, to the
    microsecond."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise ValueError(f"{_quoted(value)} is not a valid cursor") from error
    if not isinstance(parts, list) or len(parts) < 2 or parts[0] != connection:
        raise ValueError(f"{_quoted(value)} is not a cursor of {connection}")
    if parts[1] != order:
        raise OtherOrder(str(parts[1]))
    wire = tuple(str if t is datetime else t for t in types)
    (_, _, *key) = decode_cursor(value, str, str, *wire)
    try:
        return tuple(
            _aware(datetime.fromisoformat(v)) if t is datetime else v
            for v, t in zip(key, types, strict=True)
        )
    except ValueError as error:
        raise ValueError(f"{_quoted(value)} is not a valid cursor") from error


def _quoted(value: str) -> str:
    """The value for an error message, shortened: a client may send megabytes of it."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has an offset")
    return moment
