"""The BPJS integration as this process runs it: its settings, where credentials come from, one PCare client
(so one circuit breaker for every request of the process), and for look-ups of people not yet registered the
answers' cache, the per-client rate limit and the key the audit trail hashes looked-up numbers with."""

import time
from collections.abc import Callable
from typing import Any

from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.breaker import CircuitBreaker
from ilp_api.integrations.bpjs.client import Jenis, PcareClient
from ilp_api.integrations.bpjs.config import CredentialSource, PcareSettings, pcare_settings, stored_then_settings
from ilp_api.integrations.bpjs.errors import not_configured
from ilp_api.integrations.bpjs.lookup import Found, PesertaCache
from ilp_api.security.ratelimit import RateLimiter
from ilp_api.settings import Settings


class BpjsIntegration:
    def __init__(
        self,
        configured: PcareSettings | None,
        credentials: CredentialSource,
        *,
        cache: PesertaCache,
        lookup_limiter: RateLimiter,
        identifier_hash_key: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.configured = configured
        self.credentials = credentials
        self.cache = cache
        self.lookup_limiter = lookup_limiter
        self.identifier_hash_key = identifier_hash_key
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

    def lookup(self, organization_id: str | None, jenis: Jenis, nomor: str) -> Found:
        """``peserta`` through the cache: fresh, or stale while BPJS cannot be asked."""
        return self.cache.lookup(jenis, nomor, lambda: self.peserta(organization_id, jenis, nomor))


# Development only (settings refuse production without ILP_IDENTIFIER_HASH_KEY when BPJS is on).
DEVELOPMENT_HASH_KEY = b"ilp-api development identifier hash key"


def bpjs_integration(settings: Settings, database: Database) -> BpjsIntegration:
    key = settings.identifier_hash_key
    return BpjsIntegration(
        pcare_settings(settings),
        stored_then_settings(database, settings),
        cache=PesertaCache(settings.bpjs_cache_seconds, settings.bpjs_cache_entries),
        lookup_limiter=RateLimiter(
            settings.bpjs_lookups_per_minute, settings.bpjs_lookups_burst, settings.rate_limit_tracked_keys
        ),
        identifier_hash_key=key.get_secret_value().encode() if key else DEVELOPMENT_HASH_KEY,
    )
