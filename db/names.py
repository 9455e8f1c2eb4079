"""How names are cleaned and compared: the one definition of "the same tag name"."""

from __future__ import annotations

import unicodedata

from db.errors import Invalid

PRODUCT_NAME_MAX = 200
TAG_NAME_MAX = 64

# Control characters and lone surrogates cannot be stored by every database and are never
# meant as part of a name.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cn"})


def clean_name(value: str, *, field: str, max_length: int) -> str:
    """Trim and NFC-normalize a name; raise Invalid when it is empty, too long or unprintable."""
    name = unicodedata.normalize("NFC", value.strip())
    if not name:
        raise Invalid(field, "must not be empty")
    if len(name) > max_length:
        raise Invalid(field, f"must be at most {max_length} characters, got {len(name)}")
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name):
        raise Invalid(field, "must not contain control or unassigned characters")
    return name


def product_name(value: str, field: str = "name") -> str:
    return clean_name(value, field=field, max_length=PRODUCT_NAME_MAX)


def tag_name(value: str, field: str = "name") -> str:
    return clean_name(value, field=field, max_length=TAG_NAME_MAX)


def tag_key(clean: str) -> str:
    """The comparison key of a cleaned tag name: "Sale" and "sale " share one key."""
    return clean.casefold()
