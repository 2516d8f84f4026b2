"""The BPJS integration as this process runs it: its settings, where credentials come from, one PCare client
(so one circuit breaker for every request of the process)."""

import time
from collections.abc import Callable
from typing import Any

from ilp_api.integrations.bpjs.breaker import CircuitBreaker
from ilp_api.integrations.bpjs.client import Jenis, PcareClient
from ilp_api.integrations.bpjs.config import CredentialSource, PcareSettings, credentials_from_settings, pcare_settings
from ilp_api.integrations.bpjs.errors import not_configured
from ilp_api.settings import Settings


class BpjsIntegration:
    def __init__(
        self, configured: PcareSettings | None, credentials: CredentialSource, clock: Callable[[], float] = time.time
    ) -> None:
        self.configured = configured
        self.credentials = credentials
        self.client = (
            PcareClient(
                configured.base_url,
                timeout_seconds=configured.timeout_seconds,
                breaker=CircuitBreaker(configured.breaker_failures, configured.breaker_reset_seconds),
                clock_skew_seconds=configured.clock_skew_seconds,
                clock=clock,
            )
            if configured is not None
            else None
        )

    @property
    def ppk_code(self) -> str | None:
        return self.configured.ppk_code if self.configured else None

    def peserta(self, organization_id: str | None, jenis: Jenis, nomor: str) -> dict[str, Any]:
        """BPJS's member under this card number or NIK, asked with the credentials of ``organization_id``'s
        puskesmas; a FhirError (errors.py) for every way that fails, the integration being off included."""
        credentials = self.credentials(organization_id)
        if self.client is None or credentials is None:
            raise not_configured()
        return self.client.peserta(credentials, jenis, nomor)


def bpjs_integration(settings: Settings) -> BpjsIntegration:
    return BpjsIntegration(pcare_settings(settings), credentials_from_settings(settings))
