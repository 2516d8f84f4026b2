"""Registering, listing, revoking and authenticating API clients (OAuth 2.0 confidential clients).

A client belongs to one Organization (a dinkes, a puskesmas, a posyandu) whose data its tokens may reach,
except admin clients: those hold only ``ilp/admin``, have no organization and reach everything. The secret is
shown once, when the client is registered; only a keyed hash of it is stored (``client_secrets``).

Names, ids and secrets arrive from HTTP and the command line: control characters and overlong values are
refused here, before the database (PostgreSQL refuses NUL in text; a name is one printable line).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.outcome import NotFound, Unprocessable
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.security.client_secrets import SecretCheck, check_legacy_secret, check_secret, hash_secret
from ilp_api.security.repository import ClientRecord, ClientRepository
from ilp_api.security.smart_scopes import ADMIN_SCOPE, validate_scopes

DEMO_SCOPES = "system/*.cruds"
NAME_MAX_LENGTH = 255  # the column
CLIENT_ID_MAX_LENGTH = 64  # the column
# Issued secrets have 43 characters; the bound keeps what a token request makes the server hash small.
CLIENT_SECRET_MAX_LENGTH = 256
# C0 and C1 control characters and DEL: stricter than FHIR strings (fhir.datatypes), which allow tab, CR and LF.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# RFC 6749 Appendix A: client_id and client_secret are printable ASCII (VSCHAR, %x20-7E).
_VSCHAR = re.compile(r"[\x20-\x7e]*")


def credential_problem(field: str, value: str, max_length: int) -> str | None:
    """Why ``value`` cannot be a client_id or client_secret (RFC 6749 Appendix A), or None."""
    if len(value) > max_length:
        return f"{field} is longer than {max_length} characters"
    if not _VSCHAR.fullmatch(value):
        return f"{field} may hold only printable ASCII characters (RFC 6749 Appendix A)"
    return None


def _is_client_id(client_id: str) -> bool:
    return bool(client_id) and credential_problem("client_id", client_id, CLIENT_ID_MAX_LENGTH) is None


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
    """Registers a client; 422 for a bad name, unknown scopes or an Organization that does not exist."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise Unprocessable(f"A client needs a name of 1 to {NAME_MAX_LENGTH} characters", expression="name")
    if CONTROL_CHARACTER.search(name):
        raise Unprocessable("A client's name may not hold control characters (tab, newline, NUL…)", expression="name")
    try:
        scope_list = validate_scopes(scopes)
    except ValueError as error:
        raise Unprocessable(f"scope: {error}", expression="scope") from None
    if organization_id is None:
        # An organization-less client reaches every organization's data (security.visibility): admins only.
        if scope_list != [ADMIN_SCOPE]:
            raise Unprocessable(
                f"Only an admin client (scope exactly '{ADMIN_SCOPE}') may have no organization",
                expression="organization_id",
            )
    else:
        known = ID_PATTERN.fullmatch(organization_id)  # a FHIR id; anything else cannot exist
        stored = ResourceRepository(session).get("Organization", organization_id) if known else None
        if stored is None or stored.deleted:
            raise Unprocessable(f"Organization/{organization_id} does not exist", expression="organization_id")
    secret = secrets.token_urlsafe(32)
    record = ClientRecord(
        # Hex, not url-safe base64: an id starting with "-" would read as an option on the command line.
        client_id=secrets.token_hex(16),
        name=name,
        organization_id=organization_id,
        scopes=" ".join(scope_list),
        secret_hash=hash_secret(secret),
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
    if not _is_client_id(client_id):
        raise NotFound(f"No client has this id: client ids are 1 to {CLIENT_ID_MAX_LENGTH} printable ASCII characters")
    if repository.get(client_id) is None:
        raise NotFound(f"No client {client_id}")
    repository.revoke(client_id, utc_now())
    record = repository.get(client_id)
    assert record is not None
    return ClientInfo.of(record)


def _client_record(database: Database, client_id: str) -> ClientRecord | None:
    with database.session(write=False) as session:
        return ClientRepository(session).get(client_id)


def _upgrade_secret_hash(database: Database, record: ClientRecord, secret: str) -> None:
    with database.session(write=True) as session:
        ClientRepository(session).replace_secret_hash(record.client_id, record.secret_hash, hash_secret(secret))


async def authenticate_client(database: Database, client_id: str, client_secret: str) -> ClientInfo | None:
    """The active client with these credentials, else None (unknown, revoked and wrong secret alike).

    ``client_id`` and ``client_secret`` are assumed checked with ``credential_problem``. Unknown ids cost what
    known ids cost (``check_secret(None, ...)``). No database connection is held while a legacy argon2 hash is
    verified, and a client found with one gets its secret re-hashed to the current format.
    """
    record = await run_in_threadpool(_client_record, database, client_id)
    stored = record.secret_hash if record else None
    check = check_secret(stored, client_secret)
    if check is SecretCheck.LEGACY:
        assert record is not None
        if not await check_legacy_secret(record.secret_hash, client_secret):
            return None
        if record.active:
            await run_in_threadpool(_upgrade_secret_hash, database, record, client_secret)
    elif check is SecretCheck.WRONG:
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
