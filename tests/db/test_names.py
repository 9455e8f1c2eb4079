"""One folding rule (db.names.fold), computed in Python and stored: what the database holds
and what it compares are exactly the Python fold, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.associations import Associations
from db.catalog import Catalog, ProductFilter
from db.errors import Conflict, Invalid
from db.models import products, tags
from db.names import fold, product_name, tag_name
from db.paging import Slice
from tests.db.rows import Stored

# name as typed -> the key it must get
TRICKY = {
    "İstanbul": "i\u0307stanbul",  # dotted capital I: full case folding keeps the dot
    "Straße": "strasse",
    "\ufb01re": "fire",  # the "fi" ligature
    "ΣΟΦΟΣ": "σοφοσ",  # final sigma folds like any sigma
    "\ufeffBOM first": "bom first",
    "Zero\u200bwidth": "zerowidth",
    "Soft\u00adhyphen": "softhyphen",
    "\u202eReversed": "reversed",  # bidirectional override
    "No\u00a0break  space": "no break space",
    "Ideographic\u3000space": "ideographic space",
    "Cafe\u0301": "caf\u00e9",  # a combining accent composes; it is kept
    "\uff26\uff55\uff4c\uff4c width": "full width",
}


def test_fold_of_tricky_names() -> None:
    assert {name: fold(name) for name in TRICKY} == TRICKY


def test_look_alikes_share_a_key_and_different_letters_do_not() -> None:
    spellings = ["Sale", " SALE ", "\ufeffSale", "Sa\u200ble", "Sa\u200dle", "\uff33ale"]
    assert {fold(s) for s in spellings} == {"sale"}
    assert fold("Caf\u00e9") != fold("Cafe")
    assert fold("\u0421ale") != fold("Sale")  # Cyrillic Es: a homoglyph, not the same letter


def test_shown_names_lose_format_characters_but_keep_joiners() -> None:
    assert tag_name("\ufeffSa\u200ble\u00a0 \u00a0Day ") == "Sale Day"
    assert tag_name("\U0001f469\u200d\U0001f4bb dev") == "\U0001f469\u200d\U0001f4bb dev"
    assert tag_name("Cafe\u0301") == "Caf\u00e9"  # NFC


@pytest.mark.parametrize("bad", ["\u200b\ufeff", "Tab\there", "Line\u2028break", "\ufdfa" * 20])
def test_names_without_a_visible_character_or_with_a_too_long_key_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        tag_name(bad)


async def test_stored_tag_keys_are_the_python_fold(catalog: Catalog, stored: Stored) -> None:
    for name in TRICKY:
        await catalog.create_tag(name)

    keys = await stored.tag_keys()

    assert sorted(keys.values()) == sorted(TRICKY.values())


async def test_stored_product_keys_are_the_python_fold(
    catalog: Catalog, session: AsyncSession
) -> None:
    for name in TRICKY:
        await catalog.create_product(name)
    renamed, _ = await catalog.create_product("Old name")
    await catalog.update_product(renamed.id, name="STRASSE\u00a0Map")

    rows = (await session.execute(select(products.c.name, products.c.name_key))).all()

    assert {key for _name, key in rows} == {*TRICKY.values(), "strasse map"}
    assert all(key == fold(name) for name, key in rows)


async def test_name_contains_compares_folded_on_every_database(catalog: Catalog) -> None:
    for name in ("İstanbul guide", "Straße map", "\ufb01re pit", "Lamp"):
        await catalog.create_product(name)

    async def found(needle: str) -> list[str]:
        page = await catalog.products_page(Slice(10), where=ProductFilter(name_contains=needle))
        return [p.name for p in page.items]

    assert await found("ISTANBUL") == []  # "İ" is not "I", the same on both databases
    assert await found("\u0130STANBUL") == ["İstanbul guide"]
    assert await found("STRASSE") == ["Straße map"]
    assert await found("FI") == ["\ufb01re pit"]
    assert await found("\u200bLAMP") == ["Lamp"]


async def test_look_alike_tag_names_are_one_tag(
    catalog: Catalog, associations: Associations, session: AsyncSession, stored: Stored
) -> None:
    sale = await catalog.create_tag("Sale")
    lamp, _ = await catalog.create_product("Lamp")

    for look_alike in ("\ufeffSale", "Sa\u200ble", "\uff33ALE"):
        with pytest.raises(Conflict):
            await catalog.create_tag(look_alike)
    await associations.add_tags(lamp.id, ["Sa\u200ble", "\ufeffsale"])

    rows = (await session.execute(select(tags.c.id, tags.c.name))).all()
    assert [tuple(row) for row in rows] == [(sale.id, "Sale")]
    assert await stored.tag_ids_of(lamp.id) == {sale.id}


def test_the_csv_example_cleans_product_names_as_the_server_does() -> None:
    # examples/apply_tags.py matches products by exact name, so it mirrors clean_name with
    # the standard library alone; this keeps the mirror true to db/names.py.
    script = Path(__file__).resolve().parents[2] / "examples" / "apply_tags.py"
    spec = importlib.util.spec_from_file_location("apply_tags_example", script)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = example  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(example)
    finally:
        del sys.modules[spec.name]
    names = [*TRICKY, " Desk\u00a0 lamp ", "\t x \u3000y\n", "\U0001f469\u200d\U0001f4bb dev"]

    assert [example._clean(n) for n in names] == [product_name(n) for n in names]
