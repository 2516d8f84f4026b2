"""SATUSEHAT: the integrations' encrypted credentials per local organization, and each posyandu's supervising nakes.

Chained to 0008 on the satusehat branch; the merge with the outbox branch (0009_outbox) rechains it to "0009".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_credential",
        sa.Column("integration", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("plain_values", sa.Text(), nullable=False),
        sa.Column("secret_values", sa.Text(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "organization_id", name=op.f("pk_integration_credential")),
    )
    op.create_table(
        "satusehat_supervisor",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("practitioner_ihs", sa.String(length=64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_satusehat_supervisor")),
    )


def downgrade() -> None:
    op.drop_table("satusehat_supervisor")
    op.drop_table("integration_credential")
