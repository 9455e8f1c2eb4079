r"""How names are cleaned and compared: the one definition of "the same name".

Two forms of every product and tag name are stored, both computed here and only here (no
SQL ever folds case or normalizes: SQLite's lower() is ASCII-only and PostgreSQL's depends
on the collation, so neither could agree with Python):

- the name as shown (`clean_name`): NFC; format characters (Unicode category Cf: zero-width
  spaces, byte-order marks, bidirectional controls, soft hyphens) removed, except the
  zero-width joiner and non-joiner, which spell emoji sequences and words of Persian and
  Indic scripts; every run of spaces (category Zs: NBSP, ideographic space, en space...)
  one space; trimmed. Control characters (tabs and newlines included), line and paragraph
  separators, surrogates and unassigned characters are refused.
- the comparison key (`fold`): the shown name in NFKC, case-folded, NFKC again (case folding
  can undo it), without any format character. So "Sale", " SALE ", "\ufeffSale",
  "Sa\u200ble", "Sa\u200dle" and full-width "\uff33\uff21\uff2c\uff25" share one key, as
  do "\ufb01re" and "fire", "Straße" and "STRASSE", "ΣΟΦΟΣ" and "σοφος". Accents and other
  combining marks are kept ("Café" is not "Cafe"; "İstanbul" is not "Istanbul"), and
  letters of different scripts that merely look alike (Cyrillic "\u0421" and Latin "C")
  stay different.

Tag names are unique by key; product names are not, but `nameContains` searches their keys.
Changing either rule needs a migration that calls db.refold again.
"""

from __future__ import annotations

import re
import unicodedata

from db.errors import Invalid

PRODUCT_NAME_MAX = 200
TAG_NAME_MAX = 64
# Keys are stored in columns four times the name's length: NFKC and case folding may
# lengthen a name ("ﬃ" is "ffi", "ß" is "ss"); a name whose key would not fit is refused.
PRODUCT_KEY_MAX = PRODUCT_NAME_MAX * 4
TAG_KEY_MAX = TAG_NAME_MAX * 4

# Control characters and lone surrogates cannot be stored by every database and are never
# meant as part of a name.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})  # zero-width non-joiner, zero-width joiner
_SPACES = re.compile(" +")


def _without_format_characters(text: str, keep: frozenset[str] = frozenset()) -> str:
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) != "Cf")


def _one_space(text: str) -> str:
    """Every run of space characters (Zs) as one U+0020, trimmed."""
    spaced = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    return _SPACES.sub(" ", spaced).strip(" ")


def fold(text: str) -> str:
    """The comparison key of a text: the one folding rule of the catalog (see above)."""
    text = unicodedata.normalize("NFKC", _without_format_characters(text))
    return _one_space(unicodedata.normalize("NFKC", text.casefold())).strip()


def clean_name(value: str, *, field: str, max_length: int, key_max: int) -> str:
    """A name as shown (see above); raise Invalid when empty, too long or unprintable."""
    name = _without_format_characters(value, keep=_JOINERS)
    name = unicodedata.normalize("NFC", _one_space(name.strip()))
    if not name:
        raise Invalid(field, "must not be empty")
    if len(name) > max_length:
        raise Invalid(field, f"must be at most {max_length} characters, got {len(name)}")
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name):
        raise Invalid(field, "must not contain control or unassigned characters")
    key = fold(name)
    if not key:
        raise Invalid(field, "must contain a visible character")
    if len(key) > key_max:
        raise Invalid(field, f"is {len(key)} characters long once normalized; at most {key_max}")
    return name


def product_name(value: str, field: str = "name") -> str:
    return clean_name(value, field=field, max_length=PRODUCT_NAME_MAX, key_max=PRODUCT_KEY_MAX)


def tag_name(value: str, field: str = "name") -> str:
    return clean_name(value, field=field, max_length=TAG_NAME_MAX, key_max=TAG_KEY_MAX)


def tag_key(clean: str) -> str:
    """The unique key of a cleaned tag name: "Sale", "sale " and "SALE" share one."""
    return fold(clean)


def product_key(clean: str) -> str:
    """The search key of a cleaned product name (what `nameContains` looks in)."""
    return fold(clean)
