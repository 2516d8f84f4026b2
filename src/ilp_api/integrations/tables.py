"""The integrations' own tables: credentials (any integration, per local organization) and SATUSEHAT's per-facility
settings."""

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from ilp_api.db.base import UtcDateTime


class IntegrationCredentialRow(SQLModel, table=True):
    """One organization's credentials for one integration: plain values (ids) as JSON, secrets as a Fernet
    token of their JSON (integrations/credentials.py)."""

    __tablename__ = "integration_credential"

    integration: str = Field(primary_key=True, max_length=32)  # "satusehat", "bpjs", …
    organization_id: str = Field(primary_key=True, max_length=64)  # the local Organization's id
    plain_values: str = Field(sa_column=Column(Text, nullable=False))
    secret_values: str = Field(sa_column=Column(Text, nullable=False))
    updated: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class SatusehatSupervisorRow(SQLModel, table=True):
    """The nakes who answers in SATUSEHAT for a posyandu's kader-only visits (kader have no IHS number)."""

    __tablename__ = "satusehat_supervisor"

    organization_id: str = Field(primary_key=True, max_length=64)  # the local posyandu (or pustu)
    practitioner_ihs: str = Field(max_length=64)
    updated: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
