"""The transactional outbox: items to deliver to other systems, each ordering key's sequence counter, and the ids
the destinations gave to local resources.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "status IN ('pending', 'failed')"
UNDELIVERED = "status <> 'delivered'"
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER on SQLite, where only that aliases the rowid


def upgrade() -> None:
    op.create_table(
        "outbox_key",
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("ordering_key", sa.String(length=160), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "ordering_key", name=op.f("pk_outbox_key")),
    )
    op.create_table(
        "outbox_item",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("ordering_key", sa.String(length=160), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("rule_numbers", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'dead')", name=op.f("ck_outbox_item_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_item")),
        sa.UniqueConstraint(
            "destination", "ordering_key", "sequence", name=op.f("uq_outbox_item_destination_ordering_key_sequence")
        ),
    )
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_item_listing", ["destination", "status", "id"], unique=False)
        # Partial: neither grows with the delivered items (the queries repeat these predicates literally).
        batch_op.create_index(
            "ix_outbox_item_unfinished",
            ["destination", "next_attempt_at", "id"],
            unique=False,
            postgresql_where=sa.text(UNFINISHED),
            sqlite_where=sa.text(UNFINISHED),
        )
        batch_op.create_index(
            "ix_outbox_item_undelivered",
            ["destination", "ordering_key", "sequence"],
            unique=False,
            postgresql_where=sa.text(UNDELIVERED),
            sqlite_where=sa.text(UNDELIVERED),
        )
    op.create_table(
        "remote_identifier",
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", "resource_type", "resource_id", name=op.f("pk_remote_identifier")),
    )


def downgrade() -> None:
    op.drop_table("remote_identifier")
    op.drop_table("outbox_item")
    op.drop_table("outbox_key")
