from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Json = dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """One outbox item as a worker claimed it."""

    id: int
    destination: str  # e.g. "satusehat"
    ordering_key: str  # e.g. "Patient/123": one key is delivered strictly in order
    sequence: int  # order within the key
    kind: str  # what to deliver, chosen by the enqueuer, e.g. "visit" or "update"
    subject_type: str  # the local resource the item is about, e.g. "Encounter"
    subject_id: str
    attempts: int  # earlier attempts of this item
    payload: Json = field(default_factory=dict)  # small JSON the enqueuer chose


@dataclass(frozen=True)
class Delivered:
    """Accepted. remote_ids: (local type, local id) -> the destination's id, recorded by the worker."""

    remote_ids: Mapping[tuple[str, str], str] = field(default_factory=dict)
    note: str | None = None  # e.g. "duplicate (20002): existing id resolved"; skipped resources and why


@dataclass(frozen=True)
class RetryLater:
    """Transient: 408/429/5xx, transport errors, timeouts. retry_after_seconds from Retry-After when sent."""

    reason: str
    retry_after_seconds: float | None = None


@dataclass(frozen=True)
class DeadLetter:
    """Permanent: a 4xx validation error, missing configuration, no-practitioner-ihs, ..."""

    reason: str
    outcome: Json | None = None  # the destination's OperationOutcome, as received
    rule_numbers: tuple[str, ...] = ()  # parsed SATUSEHAT RuleNumbers


DeliveryResult = Delivered | RetryLater | DeadLetter


class Destination(Protocol):
    name: str

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Called by the worker with NO database transaction open. The destination reads what it needs itself
        (in its own short read-only session) and calls out; it never raises for an expected failure (it returns
        RetryLater or DeadLetter); an unexpected exception is treated by the worker as RetryLater."""
