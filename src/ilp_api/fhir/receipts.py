"""Transaction receipts: the same transaction Bundle, sent again, is answered with what the first one stored.

A kader app on a bad connection does not know whether its visit arrived, so it sends it again, sometimes while
the first copy is still being stored. A transaction that claims a unique identifier (a visit's Encounter
identifier, a NIK) is therefore received by its digest first: the receipt's primary key makes a concurrent copy
wait for the first and then read what it stored, and a later copy read it at once. A copy with other content has
another digest: it runs, and its identifier claim refuses it (409) naming the holder.
"""

from dataclasses import dataclass

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ilp_api.db.base import utc_now
from ilp_api.fhir.tables import TransactionReceiptRow

receipt = TransactionReceiptRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EntryReceipt:
    """What one entry stored: the version it wrote and the status it answered."""

    status: int
    resource_type: str
    id: str
    version_id: int


class TransactionReceipts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def receive(self, digest: str, client_id: str) -> list[EntryReceipt] | None:
        """Record the transaction as received in this one's database transaction; if an earlier copy was stored,
        return what it stored instead (None: this is the first)."""
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        received = self.session.execute(
            dialect.insert(receipt)
            .on_conflict_do_nothing()
            .values(digest=digest, client_id=client_id, received=utc_now())
            .returning(receipt.c.digest)
        ).first()
        if received is not None:
            return None
        stored = self.session.execute(select(receipt.c.entries).where(receipt.c.digest == digest)).scalar_one()
        return [EntryReceipt(*entry) for entry in orjson.loads(stored)]

    def complete(self, digest: str, entries: list[EntryReceipt]) -> None:
        answered = orjson.dumps([[e.status, e.resource_type, e.id, e.version_id] for e in entries]).decode()
        self.session.execute(update(receipt).where(receipt.c.digest == digest).values(entries=answered))
