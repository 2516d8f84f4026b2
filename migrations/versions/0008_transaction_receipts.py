"""Transaction receipts: a transaction Bundle that claimed a unique identifier (a visit's Encounter identifier, a
NIK) is kept by its digest with what it stored, so that the same Bundle sent again is answered from it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transaction_receipt",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_transaction_receipt")),
    )


def downgrade() -> None:
    op.drop_table("transaction_receipt")
