"""The outbox's operations, for the HTTP view (router.py) and the CLI: a destination's status, an operator's
retry, and the worker over the registered destinations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ilp_api.db.engine import Database
from ilp_api.fhir.outcome import Conflict, NotFound
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.outbox import repository
from ilp_api.integrations.outbox.registry import DestinationRegistry
from ilp_api.integrations.outbox.repository import ItemView
from ilp_api.integrations.outbox.tables import STATUSES
from ilp_api.integrations.outbox.worker import Worker, WorkerSettings
from ilp_api.settings import Settings


@dataclass(frozen=True)
class OutboxStatus:
    destination: str
    counts: dict[str, int]  # every status, zeros included
    blocked: int  # pending or failed items held back by a dead item earlier in their key
    items: list[ItemView]


def outbox_status(session: Session, destination: str, status: str | None, count: int, offset: int) -> OutboxStatus:
    counts = dict.fromkeys(STATUSES, 0) | repository.status_counts(session, destination)
    return OutboxStatus(
        destination,
        counts,
        repository.blocked_count(session, destination),
        repository.items(session, destination, status, count, offset),
    )


def retry(session: Session, destination: str, item_id: int, now: datetime) -> ItemView:
    """A dead or failed item back to pending, due now (after the cause was fixed)."""
    found = repository.find(session, destination, item_id)
    if found is None:
        raise NotFound(f"The {destination} outbox has no item {item_id}")
    if found.status not in ("dead", "failed"):
        raise Conflict(
            f"Item {item_id} is {found.status}: only a dead or failed item can be retried", expression="status"
        )
    if found.leased_until is not None and found.leased_until > now:
        raise Conflict(
            f"Item {item_id} is being delivered by a worker right now (lease until {found.leased_until.isoformat()}); "
            "look again when the attempt is recorded"
        )
    repository.requeue(session, item_id, now)
    requeued = repository.find(session, destination, item_id)
    assert requeued is not None  # found above, in this transaction
    return requeued


class UnknownDestination(ValueError):
    pass


def build_worker(
    database: Database,
    settings: Settings,
    service: ResourceService,
    registry: DestinationRegistry,
    names: Sequence[str] = (),
) -> Worker:
    """A worker for the named destinations (none named: every registered one)."""
    unknown = sorted(set(names) - set(registry.names()))
    if unknown:
        known = ", ".join(registry.names()) or "none"
        raise UnknownDestination(f"no outbox destination named {', '.join(unknown)} (registered: {known})")
    chosen = [registration for registration in registry if not names or registration.name in names]
    if not chosen:
        raise UnknownDestination("no outbox destination is registered: there is nothing to deliver to")
    return Worker(
        database,
        [registration.build(database, settings, service) for registration in chosen],
        WorkerSettings.from_settings(settings),
    )


def status_table(outbox: OutboxStatus, now: datetime) -> list[str]:
    """The status as lines of text for a terminal: the counts, then one line per item."""
    counts = ", ".join(f"{outbox.counts[status]} {status}" for status in STATUSES)
    lines = [f"{outbox.destination} outbox: {counts}"]
    if outbox.blocked:
        lines.append(f"  {outbox.blocked} waiting behind a dead item of their ordering key (retry it after a fix)")
    if not outbox.items:
        return lines
    header = f"{'id':>8}  {'status':<9}  {'tries':>5}  {'subject':<48}  {'when':<20}  last error / note"
    lines += ["", header, "-" * len(header)]
    for item in outbox.items:
        when = item.delivered_at if item.status == "delivered" else item.next_attempt_at
        shown = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
        if item.leased_until is not None and item.leased_until > now:
            shown = "being delivered"
        said = item.last_error or item.note or ""
        if item.rule_numbers:
            said = f"[RuleNumber {', '.join(item.rule_numbers)}] {said}"
        lines.append(
            f"{item.id:>8}  {item.status:<9}  {item.attempts:>5}  {item.subject[:48]:<48}  {shown:<20}  {said[:100]}"
        )
    return lines
