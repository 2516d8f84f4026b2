"""Generic storage for every FHIR resource type: current version, history and search indexes.

A resource is stored as its JSON text (validated when written), so a read returns it without re-parsing.
Search parameters are extracted at write time into one index table per parameter type, as HAPI and
Medplum do, so a new resource type needs no new table.
"""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ilp_api.db.base import UtcDateTime, surrogate_key

# Longest token system or code, and longest (normalised) string, that the index tables hold.
INDEXED_TEXT_LENGTH = 255
# Bytewise ordering for the columns searched by prefix (LIKE 'x%'), whatever the database's collation.
PREFIX_OPS = {column: {column: "varchar_pattern_ops"} for column in ("code", "value")}


class ResourceRow(SQLModel, table=True):
    __tablename__ = "resource"

    resource_type: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    version_id: int
    last_updated: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    deleted: bool = False
    content: str = Field(sa_column=Column(Text, nullable=False))

    __table_args__ = (Index("ix_resource_type_updated", "resource_type", "last_updated", "id"),)


class ResourceVersionRow(SQLModel, table=True):
    """Every version ever written, including deletions (``deleted`` with the last content)."""

    __tablename__ = "resource_version"

    resource_type: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    version_id: int = Field(primary_key=True)
    last_updated: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    deleted: bool = False
    method: str = Field(max_length=8)
    content: str = Field(sa_column=Column(Text, nullable=False))


class TokenIndexRow(SQLModel, table=True):
    __tablename__ = "search_token"

    pk: int | None = Field(default=None, sa_column=surrogate_key())
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    param: str = Field(max_length=64)
    system: str = Field(default="", max_length=INDEXED_TEXT_LENGTH)
    code: str = Field(max_length=INDEXED_TEXT_LENGTH)

    __table_args__ = (
        # Pattern operators: a code prefix (a wilayah level) can use it (migration 0006).
        Index("ix_search_token_lookup", "resource_type", "param", "code", "system", postgresql_ops=PREFIX_OPS["code"]),
        # Owner first, then what a scope rule asks of a resource's own rows (its village, its RWs): answered from
        # the index alone, without reading each of the resource's token rows (migration 0006).
        Index("ix_search_token_owner", "resource_type", "resource_id", "param", "code", "system"),
    )


class StringIndexRow(SQLModel, table=True):
    """Strings are stored normalised (case and accents folded) for FHIR's default prefix match, and as written
    (``exact``) for :exact, which FHIR defines as case- and accent-sensitive."""

    __tablename__ = "search_string"

    pk: int | None = Field(default=None, sa_column=surrogate_key())
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    param: str = Field(max_length=64)
    value: str = Field(max_length=INDEXED_TEXT_LENGTH)
    exact: str = Field(max_length=INDEXED_TEXT_LENGTH)

    __table_args__ = (
        Index("ix_search_string_lookup", "resource_type", "param", "value", postgresql_ops=PREFIX_OPS["value"]),
        Index("ix_search_string_owner", "resource_type", "resource_id"),
    )


class DateIndexRow(SQLModel, table=True):
    """A date value is the period it covers: ``1990-05`` is [1990-05-01T00:00, 1990-06-01T00:00)."""

    __tablename__ = "search_date"

    pk: int | None = Field(default=None, sa_column=surrogate_key())
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    param: str = Field(max_length=64)
    low: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    high: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))

    __table_args__ = (
        Index("ix_search_date_lookup", "resource_type", "param", "low", "high"),
        Index("ix_search_date_owner", "resource_type", "resource_id"),
    )


class ReferenceIndexRow(SQLModel, table=True):
    __tablename__ = "search_reference"

    pk: int | None = Field(default=None, sa_column=surrogate_key())
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    param: str = Field(max_length=64)
    target_type: str = Field(max_length=64)
    target_id: str = Field(max_length=64)

    __table_args__ = (
        Index("ix_search_reference_lookup", "resource_type", "param", "target_type", "target_id"),
        # As for tokens: the organization a resource refers to, from the index alone (migration 0006).
        Index("ix_search_reference_owner", "resource_type", "resource_id", "param", "target_type", "target_id"),
    )


class IdentifierClaimRow(SQLModel, table=True):
    """An identifier that at most one active resource of a type may hold (a Patient's NIK).

    The primary key is the guarantee: of two concurrent creates with one NIK, the second insert fails.
    """

    __tablename__ = "identifier_claim"

    resource_type: str = Field(primary_key=True, max_length=64)
    system: str = Field(primary_key=True, max_length=INDEXED_TEXT_LENGTH)
    value: str = Field(primary_key=True, max_length=INDEXED_TEXT_LENGTH)
    resource_id: str = Field(max_length=64, index=True)


class TransactionReceiptRow(SQLModel, table=True):
    """A transaction Bundle that claimed a unique identifier, by its digest: what it stored, so that the same
    Bundle sent again (a kader app on a bad connection) is answered with that instead of being run twice.

    The primary key is the guarantee: of two concurrent copies, the second waits on the first's insert and then
    reads its receipt. ``entries`` is written before commit, so a visible receipt is always complete.
    """

    __tablename__ = "transaction_receipt"

    digest: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    received: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    entries: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class PatientCompartmentRow(SQLModel, table=True):
    """One row per stored resource and Patient whose compartment it belongs to (a Patient to its own).

    Ids only: what a member may be seen by is the Patient's placement, joined when a query needs it. The rows
    of a deleted resource stay, so that whoever could see it is told it is gone (410) and reads its history.
    """

    __tablename__ = "patient_compartment"

    resource_type: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(primary_key=True, max_length=64)
    patient_id: str = Field(primary_key=True, max_length=64)

    __table_args__ = (Index("ix_patient_compartment_patient", "patient_id", "resource_type", "resource_id"),)


class PatientPlacementRow(SQLModel, table=True):
    """Each Patient's one current placement: its managing organization and the village and RW it lives in.

    Every member of the Patient's compartment is scoped through this row, so a resident who moves takes all of
    theirs along in the one update that moves them.
    """

    __tablename__ = "patient_placement"

    patient_id: str = Field(primary_key=True, max_length=64)
    managing_organization_id: str | None = Field(default=None, max_length=64, index=True)
    village: str | None = Field(default=None, max_length=INDEXED_TEXT_LENGTH)
    rw: str | None = Field(default=None, max_length=INDEXED_TEXT_LENGTH)

    __table_args__ = (Index("ix_patient_placement_area", "village", "rw"),)
