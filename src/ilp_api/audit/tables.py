"""Append-only audit tables: database triggers refuse UPDATE and DELETE (migration 0003) and TRUNCATE (0004),
and the service's role may only insert and read them (``ilp db grant-service-role``)."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ilp_api.db.base import UtcDateTime, surrogate_key


class AuditEventRow(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: str = Field(primary_key=True, max_length=64)
    recorded: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    interaction: str = Field(max_length=32)  # FHIR restful-interaction code: read, search-type, create …
    action: str = Field(max_length=1)  # C R U D E
    outcome: str = Field(max_length=2)  # 0 success, 4 minor failure (a 4xx), 8 serious failure
    status: int
    client_id: str | None = Field(default=None, max_length=64, index=True)
    organization_id: str | None = Field(default=None, max_length=64)
    source_ip: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=64)
    path: str = Field(sa_column=Column(Text, nullable=False))
    query: str | None = Field(default=None, sa_column=Column(Text))


class AuditEntityRow(SQLModel, table=True):
    """One resource an audited request touched: the read Patient, or each Patient a search returned."""

    __tablename__ = "audit_entity"

    pk: int | None = Field(default=None, sa_column=surrogate_key())
    audit_id: str = Field(max_length=64, foreign_key="audit_event.id")
    entity_type: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)

    __table_args__ = (Index("ix_audit_entity_lookup", "entity_type", "entity_id"),)


APPEND_ONLY_TABLES = (AuditEventRow.__tablename__, AuditEntityRow.__tablename__)
