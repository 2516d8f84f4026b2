"""Credentials of the integrations (SATUSEHAT, BPJS, …), per integration and local Organization, with their
secrets encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256) under ILP_CREDENTIALS_KEY.

Integration-neutral: an integration stores plain values (ids it may show) and secret values (never shown, never
logged) under its name, and asks for the credentials of the nearest organization at or above a facility that has
some (a posyandu's visits go out under its puskesmas's SATUSEHAT client).
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from ilp_api.db.base import utc_now
from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.registry import Json, Ref
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.integrations.tables import IntegrationCredentialRow
from ilp_api.resources.organization import network_above
from ilp_api.settings import Settings

# Development only (production requires ILP_CREDENTIALS_KEY): a fixed key, so that stored secrets survive restarts;
# it is public, so it protects nothing.
DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"ILP API development credentials key").digest())


class CredentialsUnreadable(Exception):
    """Stored secrets the configured key cannot decrypt (the key changed, or the row was tampered with)."""


@dataclass(frozen=True)
class Credentials:
    integration: str
    organization_id: str  # the local Organization they are stored for
    values: Mapping[str, str]
    secrets: Mapping[str, str] = field(repr=False)


class CredentialCipher:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> "CredentialCipher":
        key = settings.credentials_key
        return cls(key.get_secret_value().encode() if key is not None else DEVELOPMENT_KEY)

    def encrypt(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            decrypted: dict[str, str] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise CredentialsUnreadable(
                "stored credentials cannot be decrypted with ILP_CREDENTIALS_KEY (was the key changed?)"
            ) from None
        return decrypted


class CredentialStore:
    """The credential table (all of its SQL) in one session."""

    def __init__(self, session: Session, cipher: CredentialCipher) -> None:
        self.session = session
        self.cipher = cipher

    def save(
        self, integration: str, organization_id: str, values: Mapping[str, str], secrets: Mapping[str, str]
    ) -> None:
        """Stores (or replaces) the organization's credentials for ``integration``."""
        plain, secret = json.dumps(dict(values), sort_keys=True), self.cipher.encrypt(secrets)
        row = self.session.get(IntegrationCredentialRow, (integration, organization_id))
        if row is None:
            row = IntegrationCredentialRow(
                integration=integration,
                organization_id=organization_id,
                plain_values=plain,
                secret_values=secret,
                updated=utc_now(),
            )
        else:
            row.plain_values, row.secret_values, row.updated = plain, secret, utc_now()
        self.session.add(row)
        self.session.flush()

    def get(self, integration: str, organization_id: str) -> Credentials | None:
        row = self.session.get(IntegrationCredentialRow, (integration, organization_id))
        if row is None:
            return None
        values = json.loads(row.plain_values)
        return Credentials(integration, organization_id, values, self.cipher.decrypt(row.secret_values))

    def nearest(self, integration: str, organization_id: str) -> Credentials | None:
        """The credentials stored for the organization or the nearest one above it (its puskesmas, for a posyandu
        or a pustu), or None."""
        reader = _OrganizationReader(ResourceRepository(self.session))
        start = reader.read(Ref("Organization", organization_id))
        for organization in network_above(reader, start):
            found = self.get(integration, str(organization["id"]))
            if found is not None:
                return found
        return None


class _OrganizationReader:
    """Stored resources as the network walk reads them, without any client's scope."""

    def __init__(self, repository: ResourceRepository) -> None:
        self.repository = repository

    def read(self, reference: Ref) -> Json | None:
        stored = self.repository.get(reference.type, reference.id)
        return None if stored is None or stored.deleted else fhir_json.loads(stored.content)
