"""Tags by reference, for the association service: ids checked, names matched and created.

A tag is referenced by id or by name. Ids must exist (else NotFound, every missing one
named); names are matched by key (db.names, case-insensitively) and, for a write that adds
links, the missing ones are created race-free: concurrent callers creating the same names
neither fail nor deadlock, and every one of them reads the same ids. A question about tags
(has_tags) looks them up without creating anything (known_tags).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from db import names, readers
from db.changes import journal
from db.dialects import insert_selected_ignoring_conflicts, locked_for_reference, rows_of
from db.errors import NotFound, TooMany
from db.models import is_storable_id, tags, utcnow
from db.records import TagRecord
from db.references import TagRef, WantedTag, part_of

# A bulk write names the same few tags thousands of times: fold each spelling once.
tag_key = lru_cache(maxsize=65_536)(names.tag_key)


async def resolve_tags(
    connection: AsyncConnection, wanted: Sequence[WantedTag], *, create: bool
) -> tuple[dict[int, int], dict[str, int], list[TagRecord]]:
    """Tag ids of the references: ({id: id}, {name key: id}, the tags created).

    Unknown ids are NotFound (every one named); names are created when `create` is set
    (else names matching no tag are left out). Creating is race-free: one INSERT ...
    SELECT ... ON CONFLICT DO NOTHING on the name key, in key order (so concurrent
    callers cannot deadlock), then one read of every name's id, the winners' included.
    """
    by_id: dict[int, int] = {}
    asked = sorted({w.ref for w in wanted if isinstance(w.ref, int)})
    if asked:
        rows = rows_of(connection, "tag_ids", {"id": "int"}, [(i,) for i in asked])
        query = select(tags.c.id).where(tags.c.id.in_(select(rows.c.id)))
        query = locked_for_reference(connection, query, tags)
        by_id = {i: i for i in (await connection.execute(query)).scalars()}
        missing = [i for i in asked if i not in by_id]
        if missing:
            first = next(w for w in wanted if w.ref in missing)
            raise NotFound("tag", missing, field="tags", at=part_of(first.at, "id"))
    spellings: dict[str, str] = {}  # key -> first spelling seen
    for one in wanted:
        if isinstance(one.ref, str):
            spellings.setdefault(tag_key(one.ref), one.ref)
    if not spellings:
        return by_id, {}, []
    rows = rows_of(
        connection,
        "tag_names",
        {"name": "text", "name_key": "text"},
        [(name, key) for key, name in sorted(spellings.items())],
    )
    created: list[TagRecord] = []
    query = select(tags.c.id, tags.c.name_key).where(tags.c.name_key.in_(select(rows.c.name_key)))
    query = locked_for_reference(connection, query, tags)
    # A tag deleted between the insert and the locked read is gone from the read: the
    # next round's insert creates it again (deletes under way were waited for).
    for _round in range(3 if create else 1):
        if create:
            chosen = select(rows.c.name, rows.c.name_key, _now(tags.c.created_at.type)).order_by(
                rows.c.name_key
            )
            insert = insert_selected_ignoring_conflicts(
                connection,
                tags,
                ["name", "name_key", "created_at"],
                chosen,
                on=["name_key"],
            ).returning(*readers.TAG_COLUMNS)
            made = [readers.tag_record(r) for r in await connection.execute(insert)]
            for tag in made:
                journal(connection).note("TAG_CREATED", tag_id=tag.id)
            created += made
        by_key = {key: i for i, key in await connection.execute(query)}
        if len(by_key) == len(spellings):
            break
    return by_id, by_key, created


async def known_tags(
    connection: AsyncConnection, tag_refs: Iterable[TagRef], max_items: int
) -> tuple[list[int], int]:
    """Ids of the referenced tags that exist (first-seen order), and how many do not.

    Creates nothing and locks nothing. More than `max_items` references is TooMany.
    """
    ids, spellings = split_refs(tag_refs, max_items)
    storable = [i for i in ids if is_storable_id(i)]
    found = set((await readers.tags_by_ids(connection, storable)).keys()) if ids else set()
    by_key: dict[str, int] = {}
    if spellings:
        found_keys = await readers.tags_by_keys(connection, spellings.keys())
        by_key = {key: tag.id for key, tag in found_keys.items()}
    result = dict.fromkeys(i for i in ids if i in found)
    result.update(dict.fromkeys(by_key[k] for k in spellings if k in by_key))
    unknown = len(ids) - len(found) + len(spellings) - len(by_key)
    return list(result), unknown


def split_refs(tag_refs: Iterable[TagRef], max_items: int) -> tuple[list[int], dict[str, str]]:
    """The references' distinct ids, and their names cleaned: {key: first spelling seen}."""
    refs = list(tag_refs)
    if len(refs) > max_items:
        raise TooMany("tags", max_items, len(refs))
    ids: dict[int, None] = {}
    spellings: dict[str, str] = {}  # key -> first spelling seen
    for ref in refs:
        if isinstance(ref, str):
            name = names.tag_name(ref, field="tags")
            spellings.setdefault(names.tag_key(name), name)
        else:
            ids.setdefault(ref)
    return list(ids), spellings


def _now(type_: TypeEngine[datetime]) -> ColumnElement[datetime]:
    return literal(utcnow(), type_=type_)
