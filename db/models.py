"""The stored shape of a catalog: products, tags and the junction between them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from db.names import PRODUCT_KEY_MAX, PRODUCT_NAME_MAX, TAG_KEY_MAX, TAG_NAME_MAX, product_key

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Keys sort bytewise on every database, so paging by name agrees between SQLite and PostgreSQL.
TagKey = String(TAG_KEY_MAX).with_variant(String(TAG_KEY_MAX, collation="C"), "postgresql")
ProductKey = String(PRODUCT_KEY_MAX).with_variant(
    String(PRODUCT_KEY_MAX, collation="C"), "postgresql"
)


MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database


def is_storable_id(value: int) -> bool:
    """Whether an id could name a row at all; others are simply not found."""
    return 0 < value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _product_key_of_inserted_name(context: DefaultExecutionContext) -> str:
    # Every INSERT of a product gets its key from db.names, in Python, whoever writes it.
    return product_key(context.get_current_parameters()["name"])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # asyncpg returns aware datetimes itself; only SQLite needs them made aware.
    type_annotation_map = {datetime: DateTime(timezone=True).with_variant(UTCDateTime(), "sqlite")}


class Product(Base):
    __tablename__ = "products"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse the id of a deleted row

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(PRODUCT_NAME_MAX))
    # db.names.fold(name), what `nameContains` searches; set on insert, and by every rename.
    name_key: Mapped[str] = mapped_column(ProductKey, default=_product_key_of_inserted_name)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    tag_links: Mapped[list[ProductTag]] = relationship(
        back_populates="product", lazy="raise", passive_deletes=True
    )


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    # db.names.fold(name): the unique key that makes "Sale", "sale " and "\ufeffSale" one tag.
    name_key: Mapped[str] = mapped_column(TagKey, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    product_links: Mapped[list[ProductTag]] = relationship(
        back_populates="tag", lazy="raise", passive_deletes=True
    )


class ProductTag(Base):
    """The junction as an association object: a pair plus its own columns."""

    __tablename__ = "product_tags"
    __table_args__ = (Index("ix_product_tags_tag_id_product_id", "tag_id", "product_id"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    added_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    product: Mapped[Product] = relationship(back_populates="tag_links", lazy="raise")
    tag: Mapped[Tag] = relationship(back_populates="product_links", lazy="raise")


class DataVersion(Base):
    """One row counting committed writes; cached answers are valid while it stands still."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Change(Base):
    """One entry of the change log (db.changes): what a committed write changed.

    Its position is (version, ordinal): the data version the write moved to, and the
    entry's place within the write. Positions follow commit order.
    """

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_product_id_version", "product_id", "version"),
        Index("ix_changes_tag_id_version", "tag_id", "version"),
    )

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int | None] = mapped_column(Integer)
    tag_id: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]


class ChangeHorizon(Base):
    """One row: the position of the last change pruned (0, 0 while none was)."""

    __tablename__ = "change_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    ordinal: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


products = cast(Table, Product.__table__)
tags = cast(Table, Tag.__table__)
product_tags = cast(Table, ProductTag.__table__)
data_version = cast(Table, DataVersion.__table__)
changes = cast(Table, Change.__table__)
change_horizon = cast(Table, ChangeHorizon.__table__)
