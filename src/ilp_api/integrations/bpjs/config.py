"""Where a PCare call's URL and credentials come from.

A call is made for an organization (the caller's); ``CredentialSource`` answers with the credentials to sign it
with, or None when BPJS is not set up for it. On this branch the only source is the settings (one puskesmas per
deployment); the encrypted per-puskesmas store (integrations/credentials.py, keyed by integration and
Organization) plugs in here as another source, consulted first.
"""

from dataclasses import dataclass
from typing import Protocol

from ilp_api.integrations.bpjs.protocol import Credentials
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


def credentials_from_settings(settings: Settings) -> CredentialSource:
    credentials = settings_credentials(settings)
    return lambda organization_id: credentials
