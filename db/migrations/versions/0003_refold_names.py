"""Names cleaned and keys folded by the rules of db.names; look-alike tags merged.

Adds products.name_key (what `nameContains` searches, computed in Python like tag keys),
then db.refold cleans every name again and recomputes every key: tags whose names now
share a key ("Sale" and "\\ufeffSale") are merged into the oldest, which keeps every link
(the highest priority and the earliest added_at per product).

Downgrade drops products.name_key; merged tags are not split again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy import text

from db.models import ProductKey
from db.refold import refold

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("products", sa.Column("name_key", ProductKey, nullable=True))
    refold(op.get_bind())
    with _products_batch() as batch:
        batch.alter_column("name_key", existing_type=ProductKey, nullable=False)


def downgrade() -> None:
    with _products_batch() as batch:
        batch.drop_column("name_key")


@contextmanager
def _products_batch() -> Iterator[BatchOperations]:
    """Alter products; on SQLite that copies the table, which must keep AUTOINCREMENT and
    the highest id ever given (so the id of a deleted product is still never reused).
    """
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    sequence = text("SELECT seq FROM sqlite_sequence WHERE name = 'products'")
    highest = connection.execute(sequence).scalar() if sqlite else None
    with op.batch_alter_table("products", table_kwargs={"sqlite_autoincrement": True}) as batch:
        yield batch
    if highest is not None:
        now = connection.execute(sequence).scalar() or 0
        connection.execute(text("DELETE FROM sqlite_sequence WHERE name = 'products'"))
        connection.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES ('products', :seq)"),
            {"seq": max(now, highest)},
        )
