"""The registered API clients. Secrets are stored only as keyed hashes (security.client_secrets)."""

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from ilp_api.db.base import UtcDateTime


class ClientRow(SQLModel, table=True):
    __tablename__ = "client"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    # Null only for admin clients, which manage clients and hold no organization's data.
    organization_id: str | None = Field(default=None, max_length=64, index=True)
    scopes: str = Field(sa_column=Column(Text, nullable=False))  # space-separated, as OAuth writes them
    secret_hash: str = Field(max_length=255)
    created: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
