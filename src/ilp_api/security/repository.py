"""All SQL for API clients."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ilp_api.security.tables import ClientRow

client = ClientRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    name: str
    organization_id: str | None
    scopes: str
    secret_hash: str
    created: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _record(row: Row[tuple[object, ...]]) -> ClientRecord:
    return ClientRecord(**row._mapping)


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ClientRecord) -> None:
        self.session.execute(
            insert(client).values(
                client_id=record.client_id,
                name=record.name,
                organization_id=record.organization_id,
                scopes=record.scopes,
                secret_hash=record.secret_hash,
                created=record.created,
                revoked_at=record.revoked_at,
            )
        )

    def get(self, client_id: str) -> ClientRecord | None:
        row = self.session.execute(select(client).where(client.c.client_id == client_id)).first()
        return _record(row) if row else None

    def all(self) -> list[ClientRecord]:
        rows = self.session.execute(select(client).order_by(client.c.created, client.c.client_id))
        return [_record(row) for row in rows]

    def revoke(self, client_id: str, at: datetime) -> None:
        """Marks the client revoked at ``at``; a client already revoked keeps its first revocation time."""
        self.session.execute(
            update(client).where(client.c.client_id == client_id, client.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def replace_secret_hash(self, client_id: str, old: str, new: str) -> None:
        """Stores ``new`` unless the hash changed since ``old`` was read (another request re-hashed it first)."""
        self.session.execute(
            update(client).where(client.c.client_id == client_id, client.c.secret_hash == old).values(secret_hash=new)
        )

    def delete_named(self, name: str, organization_id: str) -> None:
        self.session.execute(delete(client).where(client.c.name == name, client.c.organization_id == organization_id))
