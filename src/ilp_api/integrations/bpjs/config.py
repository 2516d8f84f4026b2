"""Where a PCare call's URL and credentials come from.

A call is made for an organization (the caller's); ``CredentialSource`` answers with the credentials to sign it
with, or None when BPJS is not set up for it: those stored for the organization or the nearest one above it
(``ilp bpjs credentials set``, encrypted at rest by integrations/credentials.py), else the deployment's own
(ILP_BPJS_*, for a single puskesmas).
"""

from dataclasses import dataclass
from typing import Protocol

from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.protocol import Credentials
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.settings import Settings


class CredentialSource(Protocol):
    def __call__(self, organization_id: str | None) -> Credentials | None: ...


@dataclass(frozen=True)
class PcareSettings:
    """The integration as configured: where PCare is, how long to wait, when to stop trying."""

    base_url: str
    ppk_code: str | None
    timeout_seconds: float
    breaker_failures: int
    breaker_reset_seconds: float
    clock_skew_seconds: int


def pcare_settings(settings: Settings) -> PcareSettings | None:
    """None when the integration is off (no PCare URL)."""
    if settings.bpjs_pcare_url is None:
        return None
    return PcareSettings(
        base_url=settings.bpjs_pcare_url,
        ppk_code=settings.bpjs_ppk_code,
        timeout_seconds=settings.bpjs_timeout_seconds,
        breaker_failures=settings.bpjs_breaker_failures,
        breaker_reset_seconds=settings.bpjs_breaker_reset_seconds,
        clock_skew_seconds=settings.bpjs_clock_skew_seconds,
    )


def settings_credentials(settings: Settings) -> Credentials | None:
    """The deployment's own credentials (ILP_BPJS_*), or None when any is missing."""
    cons_id, secret, user_key = settings.bpjs_cons_id, settings.bpjs_secret, settings.bpjs_user_key
    username, password = settings.bpjs_username, settings.bpjs_password
    if cons_id is None or secret is None or user_key is None or username is None or password is None:
        return None
    return Credentials(
        cons_id=cons_id,
        secret=secret.get_secret_value(),
        user_key=user_key.get_secret_value(),
        username=username,
        password=password.get_secret_value(),
        kd_aplikasi=settings.bpjs_kd_aplikasi,
    )


INTEGRATION = "bpjs"  # the credentials' key in the integration-neutral store
SECRETS = ("secret", "user_key", "password")


def save_credentials(store: CredentialStore, organization_id: str, credentials: Credentials) -> None:
    values = {"cons_id": credentials.cons_id, "username": credentials.username, "kd_aplikasi": credentials.kd_aplikasi}
    store.save(INTEGRATION, organization_id, values, {name: getattr(credentials, name) for name in SECRETS})


def stored_then_settings(database: Database, settings: Settings) -> CredentialSource:
    """The credentials of the caller's organization or the nearest one above it, else the deployment's own; an
    ilp/admin caller (no organization) signs with the deployment's own."""
    deployment = settings_credentials(settings)
    cipher = CredentialCipher.from_settings(settings)

    def credentials(organization_id: str | None) -> Credentials | None:
        if organization_id is None:
            return deployment
        with database.session(write=False) as session:
            stored = CredentialStore(session, cipher).nearest(INTEGRATION, organization_id)
        if stored is None:
            return deployment
        return Credentials(
            cons_id=stored.values["cons_id"],
            username=stored.values["username"],
            kd_aplikasi=stored.values["kd_aplikasi"],
            **{name: stored.secrets[name] for name in SECRETS},
        )

    return credentials
