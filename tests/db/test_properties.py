"""The set algebra of add/set/remove, checked against a plain Python model of sets.

Each example starts from empty tables and runs a random sequence of writes on two
products, with tags given by name (case and space variants of a few names) or by the id of
a tag made earlier; now and then a write also names an id that matches no tag, and must
then change nothing. After every write, database and model must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.associations import Associations
from db.errors import NotFound
from db.records import Changed
from db.references import TagRef
from tests.db.rows import Factory, Stored

SPELLINGS = ["sale", "Sale", " SALE ", "new", "NEW", "Red", "red ", "Straße", "STRASSE"]
UNKNOWN_ID = 999_999


@dataclass(frozen=True)
class ByName:
    name: str


@dataclass(frozen=True)
class ByIndex:
    """The id of the n-th tag made so far (modulo how many there are)."""

    n: int


@dataclass(frozen=True)
class Write:
    kind: str  # "add", "set" or "remove"
    product: int  # index into the example's two products
    refs: tuple[ByName | ByIndex, ...]
    with_unknown_id: bool


writes = st.builds(
    Write,
    kind=st.sampled_from(["add", "set", "remove"]),
    product=st.integers(0, 1),
    refs=st.lists(
        st.one_of(st.sampled_from(SPELLINGS).map(ByName), st.integers(0, 5).map(ByIndex)),
        max_size=5,
    ).map(tuple),
    with_unknown_id=st.integers(0, 7).map(lambda n: n == 0),
)


@dataclass
class Model:
    """What the database should hold: tag spellings by key, and each product's tag keys."""

    tags: dict[str, str] = field(default_factory=dict)  # key -> first spelling, made order
    links: list[set[str]] = field(default_factory=lambda: [set(), set()])

    def key_of(self, ref: ByName | ByIndex) -> str:
        if isinstance(ref, ByName):
            return ref.name.strip().casefold()
        return list(self.tags)[ref.n % len(self.tags)]

    def apply(self, write: Write) -> tuple[set[str], set[str]] | None:
        """Apply a write; the keys it links and unlinks, or None when it is refused."""
        if write.with_unknown_id:
            return None
        keys = {self.key_of(r) for r in write.refs}
        have = self.links[write.product]
        if write.kind == "remove":
            self.links[write.product] = have - keys
            return set(), have & keys
        for ref in write.refs:
            if isinstance(ref, ByName):
                self.tags.setdefault(self.key_of(ref), ref.name.strip())
        removed = have - keys if write.kind == "set" else set()
        self.links[write.product] = (have | keys) - removed
        return keys - have, removed


async def perform(
    associations: Associations, product_id: int, write: Write, tag_refs: list[TagRef]
) -> Changed | None:
    """Run the write; None when it was refused for naming an unknown id."""
    try:
        if write.kind == "add":
            return await associations.add_tags(product_id, tag_refs)
        if write.kind == "set":
            return await associations.set_tags(product_id, tag_refs)
        return await associations.remove_tags(product_id, tag_refs)
    except NotFound as error:
        assert error.ids == (UNKNOWN_ID,)
        return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(writes, min_size=1, max_size=8))
async def test_any_sequence_of_writes_leaves_the_database_equal_to_a_model_of_sets(
    sessions: async_sessionmaker[AsyncSession], make: Factory, stored: Stored, steps: list[Write]
) -> None:
    await make.clear()
    product_ids = await make.products("Lamp", "Chair")
    model = Model()
    key_of: dict[int, str] = {}

    async with sessions() as session:
        associations = Associations(session)
        for write in steps:
            if not model.tags:  # an id needs a tag to point at: ask by name instead
                refs = tuple(ByName("sale") if isinstance(r, ByIndex) else r for r in write.refs)
                write = Write(write.kind, write.product, refs, write.with_unknown_id)
            id_of = {key: tag_id for tag_id, key in key_of.items()}
            tag_refs: list[TagRef] = [
                id_of[model.key_of(r)] if isinstance(r, ByIndex) else r.name for r in write.refs
            ]
            if write.with_unknown_id:
                tag_refs.insert(len(tag_refs) // 2, UNKNOWN_ID)

            changed = await perform(associations, product_ids[write.product], write, tag_refs)
            expected = model.apply(write)

            names, key_of = await stored.tags(), await stored.tag_keys()
            assert {key_of[t]: name for t, name in names.items()} == model.tags
            links = await stored.links()
            assert [{key_of[t] for p, t in links if p == pid} for pid in product_ids] == (
                model.links
            )
            if expected is None:
                assert changed is None
            else:
                added, removed = expected
                assert changed is not None
                assert sorted(key_of[t] for t in changed.added) == sorted(added)
                assert sorted(key_of[t] for t in changed.removed) == sorted(removed)
