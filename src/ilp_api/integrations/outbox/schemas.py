"""The operations view's JSON: a destination's outbox, and one item."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ilp_api.integrations.outbox.repository import ItemView
from ilp_api.integrations.outbox.service import OutboxStatus

Status = Literal["pending", "delivered", "failed", "dead"]


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ItemOut(Schema):
    id: int
    ordering_key: str = Field(description="Items of one key are delivered in order, e.g. Patient/{id}")
    sequence: int = Field(description="Its place within the key")
    kind: str
    subject: str = Field(description="The local resource it is about, e.g. Encounter/{id}")
    status: Status = Field(description="pending, failed (being retried), delivered, or dead (needs a fix and a retry)")
    attempts: int
    next_attempt_at: datetime
    leased_until: datetime | None = Field(description="Set while a worker delivers it")
    last_error: str | None
    rule_numbers: list[str] = Field(description="The destination's rule numbers (SATUSEHAT RuleNumber), if any")
    outcome: dict[str, Any] | None = Field(description="The destination's OperationOutcome, as received")
    note: str | None = Field(description="What the destination said of a delivered item (e.g. resources skipped)")
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, item: ItemView) -> "ItemOut":
        return cls(
            id=item.id,
            ordering_key=item.ordering_key,
            sequence=item.sequence,
            kind=item.kind,
            subject=item.subject,
            status=item.status,
            attempts=item.attempts,
            next_attempt_at=item.next_attempt_at,
            leased_until=item.leased_until,
            last_error=item.last_error,
            rule_numbers=list(item.rule_numbers),
            outcome=item.outcome,
            note=item.note,
            created_at=item.created_at,
            delivered_at=item.delivered_at,
        )


class Counts(Schema):
    pending: int
    delivered: int
    failed: int
    dead: int


class OutboxOut(Schema):
    destination: str
    counts: Counts
    blocked: int = Field(description="Pending or failed items held back by a dead item earlier in their key")
    status: Status | None = Field(description="The status the items are of (none: every status)")
    total: int = Field(description="How many items of that status there are")
    next: str | None = Field(description="The next page, if any")
    items: list[ItemOut] = Field(description="Newest first")

    @classmethod
    def of(cls, outbox: OutboxStatus, status: str | None, total: int, next_page: str | None) -> "OutboxOut":
        return cls(
            destination=outbox.destination,
            counts=Counts(**outbox.counts),
            blocked=outbox.blocked,
            status=status,
            total=total,
            next=next_page,
            items=[ItemOut.of(item) for item in outbox.items],
        )
