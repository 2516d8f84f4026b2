"""The outbox's tables: the items to deliver, the sequence counter of each ordering key, and the ids the
destinations gave to local resources (repository.py explains how the counter keeps each key in order)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ilp_api.db.base import UtcDateTime, surrogate_key

STATUSES = ("pending", "delivered", "failed", "dead")
# The partial indexes' predicates; the queries that use them say the same, literally (repository.py).
UNFINISHED_SQL = "status IN ('pending', 'failed')"
UNDELIVERED_SQL = "status <> 'delivered'"
ORDERING_KEY_LENGTH = 160  # "Patient/" and a 64-character id, with room for a prefix of the enqueuer's


class OutboxKeyRow(SQLModel, table=True):
    """The last sequence number given out for an ordering key of a destination."""

    __tablename__ = "outbox_key"

    destination: str = Field(primary_key=True, max_length=64)
    ordering_key: str = Field(primary_key=True, max_length=ORDERING_KEY_LENGTH)
    last_sequence: int


class OutboxItemRow(SQLModel, table=True):
    """One delivery: queued ``pending``; ``failed`` while it is retried; ``delivered`` or ``dead`` for good.

    An item is leased (``lease_owner``, ``lease_expires_at``) while a worker delivers it; the lease owner is
    unique to one claim, so only that claim may record the result.
    """

    __tablename__ = "outbox_item"

    id: int | None = Field(default=None, sa_column=surrogate_key())
    destination: str = Field(max_length=64)
    ordering_key: str = Field(max_length=ORDERING_KEY_LENGTH)
    sequence: int
    kind: str = Field(max_length=64)
    subject_type: str = Field(max_length=64)
    subject_id: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rule_numbers: str | None = Field(default=None, max_length=255)  # comma-separated
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON, as received
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))

    __table_args__ = (
        UniqueConstraint("destination", "ordering_key", "sequence"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed', 'dead')", name="status"),
        # The worker's claim: a destination's unfinished items, earliest due first. Partial, like the next one, so
        # that neither grows with the delivered items (the bulk of the table) nor is read through them.
        Index(
            "ix_outbox_item_unfinished",
            "destination",
            "next_attempt_at",
            "id",
            postgresql_where=text(UNFINISHED_SQL),
            sqlite_where=text(UNFINISHED_SQL),
        ),
        # The lowest undelivered sequence of a key: its head (repository._head_of_its_key).
        Index(
            "ix_outbox_item_undelivered",
            "destination",
            "ordering_key",
            "sequence",
            postgresql_where=text(UNDELIVERED_SQL),
            sqlite_where=text(UNDELIVERED_SQL),
        ),
        # The operations view, the counts and the metrics: a destination's items of a status, newest first.
        Index("ix_outbox_item_listing", "destination", "status", "id"),
    )


class RemoteIdentifierRow(SQLModel, table=True):
    """The id a destination gave a local resource (a Patient's IHS number at SATUSEHAT)."""

    __tablename__ = "remote_identifier"

    destination: str = Field(primary_key=True, max_length=64)
    resource_type: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(primary_key=True, max_length=64)
    remote_id: str = Field(max_length=255)
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
