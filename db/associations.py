"""The association service: the one owner of every rule of the Product-Tag relation.

Sequelize's belongsToMany helpers (add, set, remove, has, count, get) for both sides.
Nothing else in the code base writes the junction table.

Rules kept here:
- tags are given by id (int) or by name (str); names are trimmed and matched
  case-insensitively, and missing names are created (never on remove);
- duplicates are folded; more than `max_items` references is TooMany;
- an unknown id fails the whole call with NotFound naming every missing id;
- add is idempotent (a given priority updates existing pairs), remove of a missing pair is
  no error, set writes only the difference; each returns what it actually changed;
- every write is one transaction, and writers of one parent are serialized (a row lock on
  PostgreSQL, IMMEDIATE transactions on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import names, readers
from db.dialects import insert_ignoring_conflicts, lock_parent
from db.engine import write_transaction
from db.errors import Invalid, NotFound, TooMany
from db.models import is_storable_id, product_tags, products, tags, utcnow
from db.records import Changed, Page, ProductLink, TagLink, TagLinkKey

TagRef = int | str
Match = Literal["all", "any"]
MAX_ITEMS = 100


class Associations:
    """Product-Tag helpers bound to one session (one request)."""

    def __init__(self, session: AsyncSession, *, max_items: int = MAX_ITEMS) -> None:
        self._session = session
        self._max_items = max_items

    # -- product side -------------------------------------------------------------------

    async def add_tags(
        self, product_id: int, tag_refs: Iterable[TagRef], priority: int | None = None
    ) -> Changed:
        """Link tags to a product, creating missing names. Idempotent.

        Pairs that already exist are not written again, unless `priority` is given and
        differs, in which case their priority is updated (they are not reported as added).
        """
        if priority is not None:
            _check_priority(priority)
        async with write_transaction(self._session):
            await self._lock(products, product_id, "product")
            tag_ids = await self.resolve_tags(tag_refs, create=True)
            return await self.link(product_id, tag_ids, priority)

    async def set_tags(self, product_id: int, tag_refs: Iterable[TagRef]) -> Changed:
        """Make the product's tags exactly these, writing only the difference.

        Pairs that stay keep their priority and added_at; new pairs get priority 0.
        """
        async with write_transaction(self._session):
            await self._lock(products, product_id, "product")
            wanted = set(await self.resolve_tags(tag_refs, create=True))
            current = await self._tag_ids_of(product_id)
            removed = await self._unlink_pairs(product_id, current - wanted, side="product")
            added = await self._link_pairs([(product_id, t) for t in sorted(wanted - current)], 0)
            return Changed(added=_column(added, 1), removed=removed)

    async def remove_tags(self, product_id: int, tag_refs: Iterable[TagRef]) -> Changed:
        """Unlink tags from a product. Names that match no tag, and absent pairs, are ignored."""
        async with write_transaction(self._session):
            await self._lock(products, product_id, "product")
            tag_ids = await self.resolve_tags(tag_refs, create=False)
            removed = await self._unlink_pairs(product_id, set(tag_ids), side="product")
            return Changed(removed=removed)

    async def has_tags(
        self, product_id: int, tag_refs: Iterable[TagRef], match: Match = "all"
    ) -> bool:
        """Whether the product has all (or any) of the tags.

        A question, not a command: unknown ids and names are simply tags it does not have.
        With no tags given, "all" is true and "any" is false.
        """
        ids, unknown = await self._lookup_tags(tag_refs, create=False, strict=False)
        await self._require(products, [product_id], "product")
        if match == "all" and unknown:
            return False  # an asked tag does not exist, so the product cannot have it
        have = (await readers.tag_ids_among(self._session, [product_id], ids)).get(product_id)
        return has_match(have or set(), ids, match)

    async def count_tags(self, product_id: int) -> int:
        """How many tags the product has."""
        await self._require(products, [product_id], "product")
        return (await readers.tag_counts(self._session, [product_id])).get(product_id, 0)

    async def tags_of(
        self, product_id: int, first: int = 20, after: TagLinkKey | None = None
    ) -> Page[TagLink]:
        """A page of the product's tags, by priority DESC, then name."""
        await self._require(products, [product_id], "product")
        pages = await readers.tags_for_products(self._session, [product_id], first, after)
        links, has_next = pages.get(product_id, ([], False))
        return Page(links, has_next)

    # -- tag side -------------------------------------------------------------------------

    async def add_products(
        self, tag_id: int, product_ids: Iterable[int], priority: int | None = None
    ) -> Changed:
        """Link products to a tag. Idempotent; a given priority updates existing pairs."""
        if priority is not None:
            _check_priority(priority)
        async with write_transaction(self._session):
            await self._lock(tags, tag_id, "tag")
            ids = await self._existing_products(product_ids)
            existing = await self._product_ids_of(tag_id)
            added = await self._link_pairs(
                [(p, tag_id) for p in ids if p not in existing], priority or 0
            )
            if priority is not None:
                await self._set_priority([(p, tag_id) for p in ids if p in existing], priority)
            return Changed(added=_column(added, 0))

    async def set_products(self, tag_id: int, product_ids: Iterable[int]) -> Changed:
        """Make the tag's products exactly these, writing only the difference."""
        async with write_transaction(self._session):
            await self._lock(tags, tag_id, "tag")
            wanted = set(await self._existing_products(product_ids))
            current = await self._product_ids_of(tag_id)
            removed = await self._unlink_pairs(tag_id, current - wanted, side="tag")
            added = await self._link_pairs([(p, tag_id) for p in sorted(wanted - current)], 0)
            return Changed(added=_column(added, 0), removed=removed)

    async def remove_products(self, tag_id: int, product_ids: Iterable[int]) -> Changed:
        """Unlink products from a tag; absent pairs are ignored, unknown ids are NotFound."""
        async with write_transaction(self._session):
            await self._lock(tags, tag_id, "tag")
            ids = await self._existing_products(product_ids)
            removed = await self._unlink_pairs(tag_id, set(ids), side="tag")
            return Changed(removed=removed)

    async def count_products(self, tag_id: int) -> int:
        """How many products carry the tag."""
        await self._require(tags, [tag_id], "tag")
        return (await readers.product_counts(self._session, [tag_id])).get(tag_id, 0)

    async def products_of(
        self, tag_id: int, first: int = 20, after: int | None = None
    ) -> Page[ProductLink]:
        """A page of the tag's products, by product id ascending."""
        await self._require(tags, [tag_id], "tag")
        pages = await readers.products_for_tags(self._session, [tag_id], first, after)
        links, has_next = pages.get(tag_id, ([], False))
        return Page(links, has_next)

    # -- bulk --------------------------------------------------------------------------------

    async def import_links(
        self, links: Iterable[tuple[int, int, int]], *, chunk_size: int = 5000
    ) -> int:
        """Bulk-load (product_id, tag_id, priority) links in one transaction, for seeding.

        Existing pairs are left as they are. Skips the per-call limits and parent locks of
        the helpers above: it is meant for loading data, not for serving requests.
        """
        rows = [
            {"product_id": p, "tag_id": t, "priority": priority, "added_at": utcnow()}
            for p, t, priority in links
        ]
        async with write_transaction(self._session):
            for start in range(0, len(rows), chunk_size):
                chunk = rows[start : start + chunk_size]
                await self._session.execute(
                    insert_ignoring_conflicts(
                        self._session, product_tags, chunk, on=["product_id", "tag_id"]
                    )
                )
        return len(rows)

    # -- building blocks, also used by the catalog service inside its own transactions ---

    async def resolve_tags(
        self, tag_refs: Iterable[TagRef], *, create: bool, strict: bool = True
    ) -> list[int]:
        """Tag ids for references by id or name, duplicates folded, in first-seen order.

        Ids must exist (NotFound lists every missing one) unless `strict` is False. Names
        are created when `create` is set; otherwise names matching no tag are dropped.
        Creating is race-free: INSERT ... ON CONFLICT DO NOTHING on the name key, in key
        order (so concurrent callers cannot deadlock), then a read of the winners' ids.
        """
        ids, _unknown = await self._lookup_tags(tag_refs, create=create, strict=strict)
        return ids

    async def _lookup_tags(
        self, tag_refs: Iterable[TagRef], *, create: bool, strict: bool
    ) -> tuple[list[int], int]:
        """resolve_tags, plus how many references matched no tag."""
        ids, spellings = self._split_refs(tag_refs)
        unknown = 0
        if ids:
            storable = [i for i in ids if is_storable_id(i)]
            found = set((await readers.tags_by_ids(self._session, storable)).keys())
            missing = [i for i in ids if i not in found]
            if missing and strict:
                raise NotFound("tag", missing, field="tags")
            unknown += len(missing)
            ids = [i for i in ids if i in found]
        by_key: dict[str, int] = {}
        if spellings:
            if create:
                now = utcnow()
                rows = [
                    {"name": name, "name_key": key, "created_at": now}
                    for key, name in sorted(spellings.items())
                ]
                await self._session.execute(
                    insert_ignoring_conflicts(self._session, tags, rows, on=["name_key"])
                )
            found_keys = await readers.tags_by_keys(self._session, spellings.keys())
            by_key = {key: tag.id for key, tag in found_keys.items()}
            unknown += len(spellings) - len(by_key)
        result = dict.fromkeys(ids)
        result.update(dict.fromkeys(by_key[k] for k in spellings if k in by_key))
        return list(result), unknown

    async def link(self, product_id: int, tag_ids: Sequence[int], priority: int | None) -> Changed:
        """Add pairs for one (locked) product; the core of add_tags."""
        existing = await self._tag_ids_of(product_id)
        added = await self._link_pairs(
            [(product_id, t) for t in sorted(set(tag_ids) - existing)], priority or 0
        )
        if priority is not None:
            await self._set_priority([(product_id, t) for t in tag_ids if t in existing], priority)
        return Changed(added=_column(added, 1))

    def _split_refs(self, tag_refs: Iterable[TagRef]) -> tuple[list[int], dict[str, str]]:
        refs = list(tag_refs)
        if len(refs) > self._max_items:
            raise TooMany("tags", self._max_items, len(refs))
        ids: dict[int, None] = {}
        spellings: dict[str, str] = {}  # key -> first spelling seen
        for ref in refs:
            if isinstance(ref, str):
                name = names.tag_name(ref, field="tags")
                spellings.setdefault(names.tag_key(name), name)
            else:
                ids.setdefault(ref)
        return list(ids), spellings

    async def _existing_products(self, product_ids: Iterable[int]) -> list[int]:
        refs = list(product_ids)
        if len(refs) > self._max_items:
            raise TooMany("products", self._max_items, len(refs))
        ids = list(dict.fromkeys(refs))
        await self._require(products, ids, "product", field="products")
        return ids

    async def _lock(self, table: Table, row_id: int, kind: str) -> None:
        if not is_storable_id(row_id) or not await lock_parent(self._session, table, row_id):
            raise NotFound(kind, [row_id])

    async def _require(
        self, table: Table, ids: Sequence[int], kind: str, field: str | None = None
    ) -> None:
        if not ids:
            return
        query = select(table.c.id).where(table.c.id.in_([i for i in ids if is_storable_id(i)]))
        found = set((await self._session.execute(query)).scalars())
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(kind, missing, field=field)

    async def _tag_ids_of(self, product_id: int) -> set[int]:
        query = select(product_tags.c.tag_id).where(product_tags.c.product_id == product_id)
        return set((await self._session.execute(query)).scalars())

    async def _product_ids_of(self, tag_id: int) -> set[int]:
        query = select(product_tags.c.product_id).where(product_tags.c.tag_id == tag_id)
        return set((await self._session.execute(query)).scalars())

    async def _link_pairs(
        self, pairs: Sequence[tuple[int, int]], priority: int
    ) -> list[tuple[int, int]]:
        """Insert pairs, skipping any a concurrent writer got in first; returns the inserted."""
        if not pairs:
            return []
        _check_priority(priority)
        now = utcnow()
        rows = [
            {"product_id": p, "tag_id": t, "priority": priority, "added_at": now}
            for p, t in sorted(pairs)
        ]
        insert = insert_ignoring_conflicts(
            self._session, product_tags, rows, on=["product_id", "tag_id"]
        ).returning(product_tags.c.product_id, product_tags.c.tag_id)
        return sorted((row[0], row[1]) for row in await self._session.execute(insert))

    async def _set_priority(self, pairs: Sequence[tuple[int, int]], priority: int) -> None:
        if not pairs:
            return
        _check_priority(priority)
        for product_id, tag_ids in _group(pairs).items():
            await self._session.execute(
                update(product_tags)
                .where(
                    product_tags.c.product_id == product_id,
                    product_tags.c.tag_id.in_(tag_ids),
                    product_tags.c.priority != priority,
                )
                .values(priority=priority)
            )

    async def _unlink_pairs(
        self, parent_id: int, other_ids: set[int], *, side: str
    ) -> tuple[int, ...]:
        if not other_ids:
            return ()
        if side == "product":
            parent, other = product_tags.c.product_id, product_tags.c.tag_id
        else:
            parent, other = product_tags.c.tag_id, product_tags.c.product_id
        statement = (
            delete(product_tags)
            .where(parent == parent_id, other.in_(sorted(other_ids)))
            .returning(other)
        )
        return tuple(sorted((await self._session.execute(statement)).scalars()))


def has_match(have: set[int], wanted: Sequence[int], match: Match) -> bool:
    """The has-tags rule: all (or any) of the wanted tag ids are among those the parent has."""
    if match == "all":
        return all(t in have for t in wanted)
    return any(t in have for t in wanted)


def _column(pairs: Sequence[tuple[int, int]], index: int) -> tuple[int, ...]:
    return tuple(sorted(pair[index] for pair in pairs))


def _group(pairs: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for product_id, tag_id in pairs:
        grouped.setdefault(product_id, []).append(tag_id)
    return grouped


def _check_priority(priority: int) -> None:
    if not -(2**31) <= priority < 2**31:
        raise Invalid("priority", "must fit in a 32-bit integer")
