"""The change log: what every committed write changed, in commit order.

Each write appends its entries in its own transaction, at the data version it moves
(db.changes); the horizon row remembers the last position pruned, so a cursor older than
the retention is told apart from one that is merely quiet. On PostgreSQL a statement
trigger NOTIFYs the new version on `catalog_changes` when a write's entries commit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY = """
CREATE FUNCTION catalog_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('catalog_changes', (SELECT max(version)::text FROM new_entries));
    RETURN NULL;
END
$$
"""

_TRIGGER = """
CREATE TRIGGER changes_notify AFTER INSERT ON changes
REFERENCING NEW TABLE AS new_entries
FOR EACH STATEMENT EXECUTE FUNCTION catalog_changes_notify()
"""


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "ordinal", name="pk_changes"),
    )
    op.create_index("ix_changes_product_id_version", "changes", ["product_id", "version"])
    op.create_index("ix_changes_tag_id_version", "changes", ["tag_id", "version"])
    horizon = op.create_table(
        "change_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("ordinal", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_change_horizon"),
    )
    op.bulk_insert(horizon, [{"id": 1, "version": 0, "ordinal": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER changes_notify ON changes")
        op.execute("DROP FUNCTION catalog_changes_notify()")
    op.drop_table("change_horizon")
    op.drop_index("ix_changes_tag_id_version", table_name="changes")
    op.drop_index("ix_changes_product_id_version", table_name="changes")
    op.drop_table("changes")
