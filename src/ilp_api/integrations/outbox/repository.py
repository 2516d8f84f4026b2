"""All SQL of the outbox: enqueueing, the worker's claims and settlements, remote ids and the operations view.

Order within a key
------------------
Each ordering key of a destination has one row in ``outbox_key`` holding the last sequence number given out.
``enqueue`` takes the next number with one upsert (``INSERT … ON CONFLICT DO UPDATE SET last_sequence =
last_sequence + 1 RETURNING``) in the enqueuing transaction. That statement locks the key's row until the
transaction ends, so a second transaction enqueueing for the same key waits for the first to commit or roll back
and only then takes its number (PostgreSQL re-reads the committed row; SQLite has one writer at a time anyway).
Hence, per key, numbers are given out in commit order and without gaps (a rollback gives its number back): when
item n+1 is visible to a worker, item n was committed before it, whatever the two items' ids. (Ids come from a
sequence taken before commit and are no order at all: a transaction that began first may commit last.)

A worker claims an item only when no item of its key with a lower sequence is undelivered, so it never delivers
item n+1 before n is delivered; a dead item holds back the rest of its key until it is retried. On PostgreSQL
the claim locks the chosen rows ``FOR UPDATE SKIP LOCKED`` and leases them in the same short transaction, so
concurrent workers take disjoint items; a key's next item cannot be claimed while its head is leased, because
the head is not delivered. On SQLite the claim runs in a write (``BEGIN IMMEDIATE``) transaction, which excludes
every other writer: the same queries are then correct without row locks.

The price is that two transactions enqueueing for the same key run one after the other from the enqueue to the
commit (the write hook runs last, so briefly). A transaction enqueueing for several keys must take them in a
fixed order (sorted), or two such transactions can deadlock on PostgreSQL.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, exists, func, literal_column, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from ilp_api.db.base import utc_now
from ilp_api.integrations.outbox.destination import Delivery, Json
from ilp_api.integrations.outbox.tables import OutboxItemRow, OutboxKeyRow, RemoteIdentifierRow

item = OutboxItemRow.__table__  # type: ignore[attr-defined]
key = OutboxKeyRow.__table__  # type: ignore[attr-defined]
remote = RemoteIdentifierRow.__table__  # type: ignore[attr-defined]

UNFINISHED = ("pending", "failed")


def _unfinished(table: Table = item) -> ColumnElement[bool]:
    """Pending or failed, in the very words of the partial indexes' predicates (tables.py): a bound parameter
    could not be matched to them."""
    return table.c.status.in_([literal_column(f"'{status}'") for status in UNFINISHED])


def _undelivered(table: Table) -> ColumnElement[bool]:
    return table.c.status != literal_column("'delivered'")


def _dialect(session: Session) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def enqueue(
    session: Session,
    *,
    destination: str,
    ordering_key: str,
    kind: str,
    subject_type: str,
    subject_id: str,
    payload: Json | None = None,
) -> None:
    """Adds one pending item in the caller's transaction (called from write hooks)."""
    upsert = _dialect(session).insert(key).values(destination=destination, ordering_key=ordering_key, last_sequence=1)
    sequence = session.execute(
        upsert.on_conflict_do_update(
            index_elements=[key.c.destination, key.c.ordering_key],
            set_={"last_sequence": key.c.last_sequence + 1},
        ).returning(key.c.last_sequence)
    ).scalar_one()
    now = utc_now()
    session.execute(
        item.insert().values(
            destination=destination,
            ordering_key=ordering_key,
            sequence=sequence,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=orjson.dumps(payload or {}).decode(),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def _head_of_its_key() -> ColumnElement[bool]:
    """No item of the same key before this undelivered one is undelivered (pending, failed or dead).

    Written as the key's lowest undelivered sequence, a subquery per candidate that reads one entry of the partial
    index ix_outbox_item_undelivered, rather than as NOT EXISTS: PostgreSQL plans that as an anti-join whose cost,
    on a table it has not analyzed yet, grows with the whole backlog at every claim.
    """
    same_key = aliased(item)
    lowest = (
        select(func.min(same_key.c.sequence))
        .where(
            same_key.c.destination == item.c.destination,
            same_key.c.ordering_key == item.c.ordering_key,
            _undelivered(same_key),
        )
        .scalar_subquery()
    )
    head: ColumnElement[bool] = item.c.sequence == lowest
    return head


def _dead_before() -> ColumnElement[bool]:
    earlier = aliased(item)
    return exists().where(
        earlier.c.destination == item.c.destination,
        earlier.c.ordering_key == item.c.ordering_key,
        earlier.c.sequence < item.c.sequence,
        earlier.c.status == literal_column("'dead'"),  # literal: within ix_outbox_item_undelivered
    )


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(item.c.lease_expires_at.is_(None), item.c.lease_expires_at <= now)


def claim(
    session: Session, destinations: Collection[str], owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Delivery]:
    """Lease up to ``limit`` due items to ``owner`` (unique to this claim): the head of each key only, earliest
    due first. An expired lease is taken over; each claim counts as an attempt."""
    chosen = (
        select(item.c.id)
        .where(
            item.c.destination.in_(destinations),
            _unfinished(),
            item.c.next_attempt_at <= now,
            _free(now),
            _head_of_its_key(),
        )
        .order_by(item.c.next_attempt_at, item.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=item)
    )
    ids = list(session.execute(chosen).scalars())
    if not ids:
        return []
    rows = session.execute(
        update(item)
        .where(item.c.id.in_(ids))
        .values(lease_owner=owner, lease_expires_at=now + lease, attempts=item.c.attempts + 1)
        .returning(item)
    ).all()
    deliveries = [
        Delivery(
            id=row.id,
            destination=row.destination,
            ordering_key=row.ordering_key,
            sequence=row.sequence,
            kind=row.kind,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            attempts=row.attempts - 1,
            payload=orjson.loads(row.payload),
        )
        for row in rows
    ]
    return sorted(deliveries, key=lambda delivery: (delivery.ordering_key, delivery.sequence))


@dataclass(frozen=True)
class Settlement:
    """What a delivery attempt leaves on its item (policy.settlement computes it from the destination's answer)."""

    status: str
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    rule_numbers: tuple[str, ...] = ()
    outcome: Json | None = None
    note: str | None = None
    remote_ids: Mapping[tuple[str, str], str] | None = None


def settle(session: Session, delivery: Delivery, owner: str, settlement: Settlement, now: datetime) -> bool:
    """Record an attempt's result if ``owner`` still holds the item's lease (False: the lease expired and another
    claim took the item over, whose result counts instead). Remote ids are recorded with a delivery."""
    values: dict[str, object] = {
        "status": settlement.status,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": settlement.last_error,
        "rule_numbers": ",".join(settlement.rule_numbers) or None,
        "outcome": orjson.dumps(settlement.outcome).decode() if settlement.outcome is not None else None,
        "note": settlement.note,
    }
    if settlement.next_attempt_at is not None:
        values["next_attempt_at"] = settlement.next_attempt_at
    if settlement.status == "delivered":
        values["delivered_at"] = now
    settled = session.execute(
        update(item).where(item.c.id == delivery.id, item.c.lease_owner == owner).values(**values).returning(item.c.id)
    ).first()
    if settled is not None and settlement.remote_ids:
        _record_remote_ids(session, delivery.destination, settlement.remote_ids, now)
    return settled is not None


def _record_remote_ids(
    session: Session, destination: str, remote_ids: Mapping[tuple[str, str], str], now: datetime
) -> None:
    insert = _dialect(session).insert(remote)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[remote.c.destination, remote.c.resource_type, remote.c.resource_id],
            set_={"remote_id": insert.excluded.remote_id, "recorded_at": insert.excluded.recorded_at},
        ),
        [
            {
                "destination": destination,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "remote_id": remote_id,
                "recorded_at": now,
            }
            for (resource_type, resource_id), remote_id in sorted(remote_ids.items())
        ],
    )


def remote_ids(session: Session, destination: str, resource_type: str, resource_ids: Collection[str]) -> dict[str, str]:
    """The destination's ids of these local resources of one type, for those it has given one."""
    if not resource_ids:
        return {}
    rows = session.execute(
        select(remote.c.resource_id, remote.c.remote_id).where(
            remote.c.destination == destination,
            remote.c.resource_type == resource_type,
            remote.c.resource_id.in_(set(resource_ids)),
        )
    )
    return {row.resource_id: row.remote_id for row in rows}


def remote_ids_of(
    session: Session, destinations: Collection[str], resources: Collection[tuple[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(destination, resource type, resource id, remote id) of these local resources at these destinations."""
    if not resources or not destinations:
        return []
    rows = session.execute(
        select(remote.c.destination, remote.c.resource_type, remote.c.resource_id, remote.c.remote_id)
        .where(
            remote.c.destination.in_(destinations),
            tuple_(remote.c.resource_type, remote.c.resource_id).in_(sorted(set(resources))),
        )
        .order_by(remote.c.destination)
    )
    return [(row.destination, row.resource_type, row.resource_id, row.remote_id) for row in rows]


def deliverable(session: Session, destinations: Collection[str], now: datetime) -> tuple[int, datetime | None]:
    """How many items are still to be delivered (not behind a dead one of their key), and when the first retry
    waiting after ``now`` falls due: a worker draining the outbox stops when none is left. (An item due already
    that the claim left was leased elsewhere or waits behind its key's head: no reason to look again sooner.)"""
    later = item.c.next_attempt_at > now
    row = session.execute(
        select(func.count(), func.min(item.c.next_attempt_at).filter(later)).where(
            item.c.destination.in_(destinations), _unfinished(), ~_dead_before()
        )
    ).one()
    return int(row[0]), _utc(row[1])


# ---- the operations view ----


@dataclass(frozen=True)
class ItemView:
    id: int
    destination: str
    ordering_key: str
    sequence: int
    kind: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    leased_until: datetime | None
    last_error: str | None
    rule_numbers: tuple[str, ...]
    outcome: Json | None
    note: str | None
    created_at: datetime
    delivered_at: datetime | None


def _view(row: Any) -> ItemView:
    return ItemView(
        id=row.id,
        destination=row.destination,
        ordering_key=row.ordering_key,
        sequence=row.sequence,
        kind=row.kind,
        subject=f"{row.subject_type}/{row.subject_id}",
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        leased_until=row.lease_expires_at,
        last_error=row.last_error,
        rule_numbers=tuple(row.rule_numbers.split(",")) if row.rule_numbers else (),
        outcome=orjson.loads(row.outcome) if row.outcome else None,
        note=row.note,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def status_counts(session: Session, destination: str) -> dict[str, int]:
    rows = session.execute(
        select(item.c.status, func.count()).where(item.c.destination == destination).group_by(item.c.status)
    )
    return {status: int(count) for status, count in rows}


def blocked_count(session: Session, destination: str) -> int:
    """Unfinished items held back by a dead item earlier in their key."""
    return int(
        session.execute(
            select(func.count()).where(item.c.destination == destination, _unfinished(), _dead_before())
        ).scalar_one()
    )


def items(session: Session, destination: str, status: str | None, count: int, offset: int) -> list[ItemView]:
    """A page of a destination's items (of one status), newest first."""
    query = select(item).where(item.c.destination == destination)
    if status is not None:
        query = query.where(item.c.status == status)
    rows = session.execute(query.order_by(item.c.id.desc()).limit(count).offset(offset))
    return [_view(row) for row in rows]


def find(session: Session, destination: str, item_id: int) -> ItemView | None:
    row = session.execute(
        select(item).where(item.c.destination == destination, item.c.id == item_id).with_for_update()
    ).first()
    return _view(row) if row is not None else None


def requeue(session: Session, item_id: int, now: datetime) -> None:
    """Back to pending and due now (an operator's retry after a fix); its attempts are kept."""
    session.execute(
        update(item)
        .where(item.c.id == item_id)
        .values(status="pending", next_attempt_at=now, lease_owner=None, lease_expires_at=None)
    )


@dataclass(frozen=True)
class Depth:
    """A destination's backlog, for the metrics."""

    destination: str
    unfinished: int
    oldest_unfinished: datetime | None
    dead: int


def depths(session: Session, destinations: Collection[str]) -> dict[str, Depth]:
    """The backlog of each of these destinations (delivered items, the bulk of the table, are not read)."""
    unfinished = item.c.status.in_(UNFINISHED)
    rows = session.execute(
        select(
            item.c.destination,
            func.count().filter(unfinished),
            func.min(item.c.created_at).filter(unfinished),
            func.count().filter(item.c.status == "dead"),
        )
        .where(item.c.destination.in_(destinations), item.c.status.in_((*UNFINISHED, "dead")))
        .group_by(item.c.destination)
    )
    found = {row[0]: Depth(row[0], int(row[1]), _utc(row[2]), int(row[3])) for row in rows}
    return {name: found.get(name, Depth(name, 0, None, 0)) for name in destinations}


def _utc(moment: datetime | str | None) -> datetime | None:
    """An aggregate of a UTC column comes back without the column type's conversion (a string on SQLite)."""
    if moment is None:
        return None
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
