"""patient compartments and each Patient's placement

Every stored resource records the Patients whose compartment it belongs to; each Patient has one placement row
(managing organization, village, RW) through which its whole compartment is scoped.

The stored Patients are filled in from their index rows: each is the one member of its own compartment (no
other stored type belongs to a Patient compartment yet), placed by its managing organization and by the lowest
village code it lives in, with that village's RW. A resident with addresses in two villages is placed by the
one address the application chooses when the Patient is next written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL_COMPARTMENTS = """
INSERT INTO patient_compartment (resource_type, resource_id, patient_id)
SELECT resource_type, id, id FROM resource WHERE resource_type = 'Patient'
"""
# The Patient's search parameters as they stood at 0004: organization, address-village, and rw (whose token
# system is the address's village).
FILL_PLACEMENTS = """
INSERT INTO patient_placement (patient_id, managing_organization_id, village, rw)
SELECT placed.id, placed.managing_organization_id, placed.village,
    (SELECT min(rw.code) FROM search_token rw
     WHERE rw.resource_type = 'Patient' AND rw.resource_id = placed.id AND rw.param = 'rw'
       AND rw.system = placed.village)
FROM (
    SELECT patient.id,
        (SELECT min(organization.target_id) FROM search_reference organization
         WHERE organization.resource_type = 'Patient' AND organization.resource_id = patient.id
           AND organization.param = 'organization' AND organization.target_type = 'Organization')
            AS managing_organization_id,
        (SELECT min(village.code) FROM search_token village
         WHERE village.resource_type = 'Patient' AND village.resource_id = patient.id
           AND village.param = 'address-village') AS village
    FROM resource patient WHERE patient.resource_type = 'Patient'
) placed
"""


def upgrade() -> None:
    op.create_table(
        "patient_compartment",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "resource_id", "patient_id", name=op.f("pk_patient_compartment")),
    )
    with op.batch_alter_table("patient_compartment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_compartment_patient", ["patient_id", "resource_type", "resource_id"], unique=False
        )

    op.create_table(
        "patient_placement",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("managing_organization_id", sa.String(length=64), nullable=True),
        sa.Column("village", sa.String(length=255), nullable=True),
        sa.Column("rw", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_placement")),
    )
    with op.batch_alter_table("patient_placement", schema=None) as batch_op:
        batch_op.create_index("ix_patient_placement_area", ["village", "rw"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patient_placement_managing_organization_id"), ["managing_organization_id"], unique=False
        )

    op.execute(FILL_COMPARTMENTS)
    op.execute(FILL_PLACEMENTS)


def downgrade() -> None:
    with op.batch_alter_table("patient_placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_placement_managing_organization_id"))
        batch_op.drop_index("ix_patient_placement_area")

    op.drop_table("patient_placement")
    with op.batch_alter_table("patient_compartment", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_compartment_patient")

    op.drop_table("patient_compartment")
