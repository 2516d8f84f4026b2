"""resource store, search indexes, identifier claims, wilayah

Revision ID: 0001
Revises:
Create Date: 2026-11-22 15:50:39.278854
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identifier_claim",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "system", "value", name=op.f("pk_identifier_claim")),
    )
    with op.batch_alter_table("identifier_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identifier_claim_resource_id"), ["resource_id"], unique=False)

    op.create_table(
        "resource",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "id", name=op.f("pk_resource")),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index("ix_resource_type_updated", ["resource_type", "last_updated", "id"], unique=False)

    op.create_table(
        "resource_version",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "id", "version_id", name=op.f("pk_resource_version")),
    )
    op.create_table(
        "search_date",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("low", sa.DateTime(timezone=True), nullable=False),
        sa.Column("high", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_search_date")),
    )
    with op.batch_alter_table("search_date", schema=None) as batch_op:
        batch_op.create_index("ix_search_date_lookup", ["resource_type", "param", "low", "high"], unique=False)
        batch_op.create_index("ix_search_date_owner", ["resource_type", "resource_id"], unique=False)

    op.create_table(
        "search_reference",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_search_reference")),
    )
    with op.batch_alter_table("search_reference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_reference_lookup", ["resource_type", "param", "target_type", "target_id"], unique=False
        )
        batch_op.create_index("ix_search_reference_owner", ["resource_type", "resource_id"], unique=False)

    op.create_table(
        "search_string",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_search_string")),
    )
    with op.batch_alter_table("search_string", schema=None) as batch_op:
        batch_op.create_index("ix_search_string_lookup", ["resource_type", "param", "value"], unique=False)
        batch_op.create_index("ix_search_string_owner", ["resource_type", "resource_id"], unique=False)

    op.create_table(
        "search_token",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_search_token")),
    )
    with op.batch_alter_table("search_token", schema=None) as batch_op:
        batch_op.create_index("ix_search_token_lookup", ["resource_type", "param", "code", "system"], unique=False)
        batch_op.create_index("ix_search_token_owner", ["resource_type", "resource_id"], unique=False)

    op.create_table(
        "wilayah",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wilayah")),
    )


def downgrade() -> None:
    op.drop_table("wilayah")
    with op.batch_alter_table("search_token", schema=None) as batch_op:
        batch_op.drop_index("ix_search_token_owner")
        batch_op.drop_index("ix_search_token_lookup")

    op.drop_table("search_token")
    with op.batch_alter_table("search_string", schema=None) as batch_op:
        batch_op.drop_index("ix_search_string_owner")
        batch_op.drop_index("ix_search_string_lookup")

    op.drop_table("search_string")
    with op.batch_alter_table("search_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_search_reference_owner")
        batch_op.drop_index("ix_search_reference_lookup")

    op.drop_table("search_reference")
    with op.batch_alter_table("search_date", schema=None) as batch_op:
        batch_op.drop_index("ix_search_date_owner")
        batch_op.drop_index("ix_search_date_lookup")

    op.drop_table("search_date")
    op.drop_table("resource_version")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index("ix_resource_type_updated")

    op.drop_table("resource")
    with op.batch_alter_table("identifier_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifier_claim_resource_id"))

    op.drop_table("identifier_claim")
