"""The association service: the one owner of every rule of the Product-Tag relation.

Sequelize's belongsToMany helpers (add, set, remove, has, count, get) for both sides, and
apply_tags, the same helpers for many products at once. Nothing else in the code base
writes the junction table. What a caller may ask for, and the checks of it that need no
SQL (references, priorities, duplicates, labels), are db.references' rules.

Rules kept here:
- tag names are matched case-insensitively (by key); missing names are created (never on
  remove), race-free (see db.tag_resolution);
- a given priority is written on a new link and updates an existing one; without one a
  new link gets the call's default priority (0 unless given) and an existing one keeps
  its own. A link that stays keeps its added_at;
- an unknown id fails the whole call with NotFound naming every missing id;
- add is idempotent, remove of a missing pair is no error (and ignores priorities), set
  writes only the difference; each returns what it actually changed: added, updated (the
  priority changed), removed, and the tags it created;
- apply_tags adds, sets or removes for many products in one transaction, all or nothing.
  Its statements do not grow with the items (one per
  step for all of them, the rows sent as one parameter, see db.links): lock the products,
  tags by id, create and read names (2), the products' links (not for remove), insert,
  update priorities, delete, and the data version: at most 9, fewer when a step has
  nothing to do (a tag deleted concurrently between creating and reading the names costs
  up to two more rounds of those 2, see db.tag_resolution). The
  single-parent product helpers are apply_tags of one item;
- every write is one transaction, and writers of one parent are serialized (a row lock on
  PostgreSQL, taken in id order when there are several; IMMEDIATE transactions on SQLite;
  see db.parents);
- dry runs (`dry_run=True`): the whole write runs in its transaction, locks and all, and
  is rolled back instead of committed, so it answers exactly what the write would do and
  writes nothing (the data version does not move either). It holds the same locks as the
  write, for as long: the parents' row locks (on SQLite, the database's write lock) and,
  on PostgreSQL, the unique-key slots of the tag names it would create. Tags it would
  create are returned with the ids they had inside the rolled-back transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db import links, parents, readers
from db.changes import journal
from db.connections import write_transaction
from db.dialects import insert_ignoring_conflicts, rows_of
from db.links import Pair
from db.models import product_tags, products, tags, utcnow
from db.paging import Slice
from db.records import Changed, Page, ProductLink, TagLink, TagLinkKey
from db.references import (
    TagRef,
    TagsOf,
    WantedProduct,
    WantedTag,
    fold_pair,
    wanted_products,
    wanted_tags,
)
from db.tag_resolution import known_tags, resolve_tags, tag_key

Match = Literal["all", "any"]
Mode = Literal["add", "set", "remove"]
MAX_ITEMS = 100


class Associations:
    """Product-Tag helpers bound to one connection (one request)."""

    def __init__(self, connection: AsyncConnection, *, max_items: int = MAX_ITEMS) -> None:
        self._connection = connection
        self._max_items = max_items

    # -- product side -------------------------------------------------------------------

    async def add_tags(
        self,
        product_id: int,
        tag_refs: Iterable[TagRef | WantedTag],
        priority: int | None = None,
        *,
        dry_run: bool = False,
    ) -> Changed:
        """Link tags to a product, creating missing names. Idempotent.

        Pairs that already exist are not written again, unless a priority is given for
        them (their own, or `priority` for all) and differs: then it is updated, and they
        are reported as updated, not added.
        """
        items = [TagsOf(product_id, list(tag_refs))]
        (changed,) = await self.apply_tags(items, "add", priority=priority, dry_run=dry_run)
        return changed

    async def set_tags(
        self,
        product_id: int,
        tag_refs: Iterable[TagRef | WantedTag],
        priority: int | None = None,
        *,
        dry_run: bool = False,
    ) -> Changed:
        """Make the product's tags exactly these, writing only the difference.

        Pairs that stay keep their added_at and, unless a priority is given, their
        priority; new pairs get the given priority, else 0.
        """
        items = [TagsOf(product_id, list(tag_refs))]
        (changed,) = await self.apply_tags(items, "set", priority=priority, dry_run=dry_run)
        return changed

    async def remove_tags(
        self, product_id: int, tag_refs: Iterable[TagRef | WantedTag], *, dry_run: bool = False
    ) -> Changed:
        """Unlink tags from a product. Names that match no tag, and absent pairs, are ignored."""
        items = [TagsOf(product_id, list(tag_refs))]
        (changed,) = await self.apply_tags(items, "remove", dry_run=dry_run)
        return changed

    async def apply_tags(
        self,
        items: Sequence[TagsOf],
        mode: Mode = "add",
        *,
        priority: int | None = None,
        dry_run: bool = False,
    ) -> list[Changed]:
        """Add, set or remove tags of many products in one transaction: all or nothing.

        Returns one Changed per item, in the items' order. The statement count does not
        depend on the number of items (see the module's rules); products are locked in
        id order, so concurrent bulk writers of overlapping products queue, never deadlock.
        """
        wanted = wanted_tags(items, priority, self._max_items)
        async with write_transaction(self._connection, dry_run=dry_run):
            return await self._write_tags(items, wanted, mode)

    async def has_tags(
        self, product_id: int, tag_refs: Iterable[TagRef], match: Match = "all"
    ) -> bool:
        """Whether the product has all (or any) of the tags.

        A question, not a command: unknown ids and names are simply tags it does not have.
        With no tags given, "all" is true and "any" is false.
        """
        ids, unknown = await known_tags(self._connection, tag_refs, self._max_items)
        await parents.require(self._connection, products, [product_id], "product")
        if match == "all" and unknown:
            return False  # an asked tag does not exist, so the product cannot have it
        have = (await readers.tag_ids_among(self._connection, [product_id], ids)).get(product_id)
        return has_match(have or set(), ids, match)

    async def count_tags(self, product_id: int) -> int:
        """How many tags the product has."""
        await parents.require(self._connection, products, [product_id], "product")
        return (await readers.tag_counts(self._connection, [product_id])).get(product_id, 0)

    async def tags_of(
        self, product_id: int, first: int = 20, after: TagLinkKey | None = None
    ) -> Page[TagLink]:
        """A page of the product's tags, by priority DESC, then name."""
        await parents.require(self._connection, products, [product_id], "product")
        key = None if after is None else (after.priority, after.name_key, after.tag_id)
        pages = await readers.tags_for_products(
            self._connection, [product_id], Slice(first, after=key)
        )
        links, has_next = pages.get(product_id, ([], False))
        return Page(links, has_next)

    # -- tag side -------------------------------------------------------------------------

    async def add_products(
        self,
        tag_id: int,
        product_refs: Iterable[int | WantedProduct],
        priority: int | None = None,
        *,
        dry_run: bool = False,
    ) -> Changed:
        """Link products to a tag. Idempotent; a given priority updates existing pairs."""
        return await self._change_products(tag_id, product_refs, "add", priority, dry_run)

    async def set_products(
        self,
        tag_id: int,
        product_refs: Iterable[int | WantedProduct],
        priority: int | None = None,
        *,
        dry_run: bool = False,
    ) -> Changed:
        """Make the tag's products exactly these, writing only the difference.

        Pairs that stay keep their added_at and, unless a priority is given, their priority.
        """
        return await self._change_products(tag_id, product_refs, "set", priority, dry_run)

    async def remove_products(
        self, tag_id: int, product_refs: Iterable[int | WantedProduct], *, dry_run: bool = False
    ) -> Changed:
        """Unlink products from a tag; absent pairs are ignored, unknown ids are NotFound."""
        return await self._change_products(tag_id, product_refs, "remove", None, dry_run)

    async def count_products(self, tag_id: int) -> int:
        """How many products carry the tag."""
        await parents.require(self._connection, tags, [tag_id], "tag")
        return (await readers.product_counts(self._connection, [tag_id])).get(tag_id, 0)

    async def products_of(
        self, tag_id: int, first: int = 20, after: int | None = None
    ) -> Page[ProductLink]:
        """A page of the tag's products, by product id ascending."""
        await parents.require(self._connection, tags, [tag_id], "tag")
        key = None if after is None else (after,)
        pages = await readers.products_for_tags(self._connection, [tag_id], Slice(first, after=key))
        links, has_next = pages.get(tag_id, ([], False))
        return Page(links, has_next)

    # -- bulk --------------------------------------------------------------------------------

    async def import_links(
        self,
        links: Iterable[tuple[int, int, int] | tuple[int, int, int, datetime]],
        *,
        chunk_size: int = 5000,
    ) -> int:
        """Bulk-load (product_id, tag_id, priority[, added_at]) links in one transaction.

        For seeding: a link without its own added_at is added now. Existing pairs are left
        as they are. Skips the per-call limits and parent locks of the helpers above: it is
        meant for loading data, not for serving requests.
        """
        now = utcnow()
        rows = [
            {
                "product_id": link[0],
                "tag_id": link[1],
                "priority": link[2],
                "added_at": link[3] if len(link) == 4 else now,
            }
            for link in links
        ]
        async with write_transaction(self._connection):
            for start in range(0, len(rows), chunk_size):
                chunk = rows[start : start + chunk_size]
                statement = insert_ignoring_conflicts(
                    self._connection, product_tags, chunk, on=["product_id", "tag_id"]
                ).returning(
                    product_tags.c.product_id, product_tags.c.tag_id, product_tags.c.priority
                )
                inserted = await self._connection.execute(statement)
                journal(self._connection).links(
                    "LINK_ADDED", {(p, t): priority for p, t, priority in inserted}
                )
        return len(rows)

    # -- building blocks, also used by the catalog service inside its own transactions ---

    async def link(self, product_id: int, tag_refs: Iterable[TagRef | WantedTag]) -> Changed:
        """add_tags inside the caller's transaction (the catalog's createProduct)."""
        items = [TagsOf(product_id, list(tag_refs))]
        (changed,) = await self._write_tags(items, wanted_tags(items, None, self._max_items), "add")
        return changed

    # -- the product side's core --------------------------------------------------------

    async def _write_tags(
        self, items: Sequence[TagsOf], wanted: list[list[WantedTag]], mode: Mode
    ) -> list[Changed]:
        """The product-side write, inside the caller's transaction (see apply_tags)."""
        await parents.lock_products(self._connection, items)
        by_id, by_key, created = await resolve_tags(
            self._connection, [w for refs in wanted for w in refs], create=mode != "remove"
        )
        pairs: dict[Pair, int | None] = {}
        for item, refs in zip(items, wanted, strict=True):
            for one in refs:
                if isinstance(one.ref, int):
                    tag_id: int | None = by_id[one.ref]
                else:
                    tag_id = by_key.get(tag_key(one.ref))
                if tag_id is not None:
                    fold_pair(pairs, (item.product_id, tag_id), one.priority, one.at)
        have: dict[Pair, int] = {}
        if mode != "remove":  # a delete by key needs no read: it returns what it deleted
            ids = rows_of(
                self._connection, "product_ids", {"id": "int"}, parents.sorted_product_ids(items)
            )
            where = product_tags.c.product_id.in_(select(ids.c.id))
            have = await links.current(self._connection, where)
        added, updated, removed = await self._apply(pairs, have, mode)
        result = []
        for item, refs in zip(items, wanted, strict=True):
            keys = {tag_key(w.ref) for w in refs if isinstance(w.ref, str)}
            result.append(
                Changed(
                    added=_others(added, item.product_id, side=0),
                    updated=_others(updated, item.product_id, side=0),
                    removed=_others(removed, item.product_id, side=0),
                    created=tuple(r for r in created if r.name_key in keys),
                )
            )
        return result

    # -- the tag side's core ------------------------------------------------------------

    async def _change_products(
        self,
        tag_id: int,
        product_refs: Iterable[int | WantedProduct],
        mode: Mode,
        default: int | None,
        dry_run: bool,
    ) -> Changed:
        wanted = wanted_products(product_refs, default, self._max_items)
        async with write_transaction(self._connection, dry_run=dry_run):
            await parents.lock_one(self._connection, tags, tag_id, "tag")
            await parents.require_products(self._connection, wanted)
            pairs: dict[Pair, int | None] = {}
            for one in wanted:
                priority = default if one.priority is None else one.priority
                fold_pair(pairs, (one.id, tag_id), priority, one.at)
            have: dict[Pair, int] = {}
            if mode != "remove":
                have = await links.current(self._connection, product_tags.c.tag_id == tag_id)
            added, updated, removed = await self._apply(pairs, have, mode)
            return Changed(
                added=_others(added, tag_id, side=1),
                updated=_others(updated, tag_id, side=1),
                removed=_others(removed, tag_id, side=1),
            )

    # -- both sides -----------------------------------------------------------------------

    async def _apply(
        self, wanted: dict[Pair, int | None], have: dict[Pair, int], mode: Mode
    ) -> tuple[list[Pair], list[Pair], list[Pair]]:
        """Write what `mode` makes of the wanted pairs, given the parents' current pairs.

        Returns the pairs really inserted, updated (new priority) and deleted.
        """
        insert: dict[Pair, int] = {}
        update: dict[Pair, int] = {}
        delete: set[Pair] = set()
        if mode == "remove":
            delete = set(wanted)  # pairs that are not there are simply not deleted
        else:
            for pair, priority in wanted.items():
                if pair not in have:
                    insert[pair] = 0 if priority is None else priority
                elif priority is not None and priority != have[pair]:
                    update[pair] = priority
            if mode == "set":
                delete = {pair for pair in have if pair not in wanted}
        removed = await links.remove(self._connection, delete)
        updated = await links.set_priorities(self._connection, update)
        added = await links.insert(self._connection, insert, utcnow())
        return added, updated, removed


def has_match(have: set[int], wanted: Sequence[int], match: Match) -> bool:
    """The has-tags rule: all (or any) of the wanted tag ids are among those the parent has."""
    if match == "all":
        return all(t in have for t in wanted)
    return any(t in have for t in wanted)


def _others(pairs: Sequence[Pair], parent: int, *, side: int) -> tuple[int, ...]:
    """The other side's ids of the pairs whose `side` (0 product, 1 tag) is `parent`."""
    return tuple(sorted(pair[1 - side] for pair in pairs if pair[side] == parent))
