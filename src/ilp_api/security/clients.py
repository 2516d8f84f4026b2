"""Registering, listing, revoking and authenticating API clients (OAuth 2.0 confidential clients).

A client belongs to one Organization (a dinkes, a puskesmas, a posyandu) whose data its tokens may reach,
except admin clients: those hold only ``ilp/admin``, have no organization and reach everything. The secret is
shown once, when the client is registered; only its argon2 hash is stored.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from ilp_api.db.base import utc_now
from ilp_api.fhir.outcome import NotFound, Unprocessable
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.security.repository import ClientRecord, ClientRepository
from ilp_api.security.scopes import ADMIN_SCOPE, validate_scopes

# argon2id with the library's defaults (RFC 9106's second recommendation): slow enough that a leaked
# table cannot be brute-forced, at tens of milliseconds per token request.
password_hasher = PasswordHasher()

DEMO_SCOPES = "system/*.cruds"


@dataclass(frozen=True)
class ClientInfo:
    """A client as listed: everything but the secret."""

    client_id: str
    name: str
    organization_id: str | None
    scopes: tuple[str, ...]
    created: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ClientRecord) -> "ClientInfo":
        return cls(
            record.client_id,
            record.name,
            record.organization_id,
            tuple(record.scopes.split()),
            record.created,
            record.revoked_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "organization_id": self.organization_id,
            "scope": " ".join(self.scopes),
            "created": self.created.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class NewClient:
    """A client just registered, with the only copy of its secret."""

    info: ClientInfo
    client_secret: str

    def to_json(self) -> dict[str, Any]:
        return self.info.to_json() | {"client_secret": self.client_secret}


def register_client(session: Session, name: str, organization_id: str | None, scopes: str) -> NewClient:
    """Registers a client; 422 for an empty name, unknown scopes or an Organization that does not exist."""
    name = name.strip()
    if not name or len(name) > 255:
        raise Unprocessable("A client needs a name of 1 to 255 characters", expression="name")
    try:
        scope_list = validate_scopes(scopes)
    except ValueError as error:
        raise Unprocessable(f"scope: {error}", expression="scope") from None
    if organization_id is None:
        # An organization-less client reaches every organization's data (security.scoping): admins only.
        if scope_list != [ADMIN_SCOPE]:
            raise Unprocessable(
                f"Only an admin client (scope exactly '{ADMIN_SCOPE}') may have no organization",
                expression="organization_id",
            )
    else:
        stored = ResourceRepository(session).get("Organization", organization_id)
        if stored is None or stored.deleted:
            raise Unprocessable(f"Organization/{organization_id} does not exist", expression="organization_id")
    secret = secrets.token_urlsafe(32)
    record = ClientRecord(
        # Hex, not url-safe base64: an id starting with "-" would read as an option on the command line.
        client_id=secrets.token_hex(16),
        name=name,
        organization_id=organization_id,
        scopes=" ".join(scope_list),
        secret_hash=password_hasher.hash(secret),
        created=utc_now(),
        revoked_at=None,
    )
    ClientRepository(session).add(record)
    return NewClient(ClientInfo.of(record), secret)


def list_clients(session: Session) -> list[ClientInfo]:
    return [ClientInfo.of(record) for record in ClientRepository(session).all()]


def revoke_client(session: Session, client_id: str) -> ClientInfo:
    """Revokes the client (idempotent); its tokens stop working within ``client_status_cache_seconds``."""
    repository = ClientRepository(session)
    if repository.get(client_id) is None:
        raise NotFound(f"No client {client_id}")
    repository.revoke(client_id, utc_now())
    record = repository.get(client_id)
    assert record is not None
    return ClientInfo.of(record)


@cache
def _unknown_client_hash() -> str:
    return password_hasher.hash(secrets.token_urlsafe(32))


def authenticate_client(session: Session, client_id: str, client_secret: str) -> ClientInfo | None:
    """The active client with these credentials, else None (unknown, revoked and wrong secret alike)."""
    record = ClientRepository(session).get(client_id)
    try:
        # Unknown ids are verified against a dummy hash so the response time does not reveal which ids exist.
        password_hasher.verify(record.secret_hash if record else _unknown_client_hash(), client_secret)
    except (VerificationError, InvalidHashError):
        return None
    if record is None or not record.active:
        return None
    return ClientInfo.of(record)


def client_is_active(session: Session, client_id: str) -> bool:
    record = ClientRepository(session).get(client_id)
    return record is not None and record.active


def create_demo_clients(session: Session, organizations: dict[str, str]) -> list[dict[str, Any]]:
    """One client per demo organization (label → Organization id), replacing the previous run's client.

    Each gets ``system/*.cruds`` (organization scoping limits it to its own data). Returns what the demo
    prints: ``label``, ``organization_id``, ``client_id``, ``client_secret`` and ``scope``.
    """
    repository = ClientRepository(session)
    credentials = []
    for label, organization_id in organizations.items():
        name = f"demo {label}"
        repository.delete_named(name, organization_id)
        new = register_client(session, name, organization_id, DEMO_SCOPES)
        credentials.append(
            {
                "label": label,
                "organization_id": organization_id,
                "client_id": new.info.client_id,
                "client_secret": new.client_secret,
                "scope": DEMO_SCOPES,
            }
        )
    return credentials
