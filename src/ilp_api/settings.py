"""Runtime settings, read from the environment with the ``ILP_`` prefix (or a ``.env`` file)."""

from datetime import date, datetime
from functools import lru_cache
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class JwtKey(BaseModel):
    """One HS256 signing key. ``kid`` goes into each token's header so verification picks the right key."""

    kid: str = Field(min_length=1, max_length=64)
    # RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
    secret: SecretStr = Field(min_length=32)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ILP_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./ilp.db",
        description="SQLAlchemy URL. The default is an embedded SQLite file in the working directory; "
        "a postgresql:// URL switches to PostgreSQL (driver psycopg 3).",
    )
    canonical_base: str = Field(
        default="http://ilp-api.example/fhir",
        description="Base of the canonical URLs of the project's CodeSystems and StructureDefinitions. "
        "Set it to the public FHIR base of the deployment before storing production data.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base URL clients see (behind a proxy). Unset: derived from each request.",
    )
    timezone: str = Field(default="Asia/Jakarta", description="Site time zone (WIB/WITA/WIT) for visit dates.")
    default_page_size: int = Field(default=20, ge=1, le=1000)
    max_page_size: int = Field(default=200, ge=1, le=1000)
    referral_answer_days: int = Field(
        default=7, ge=1, le=365, description="Worklists: a referral still unanswered after this many days is listed"
    )
    anc_interval_days: int = Field(
        default=30,
        ge=7,
        le=120,
        description="Worklists: a pregnant woman's next K visit falls due this long after her last",
    )
    log_level: str = "INFO"
    log_json: bool = True
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without ILP_JWT_KEYS; development signs with a random "
        "per-process key instead (tokens then die with the process and differ between workers).",
    )
    jwt_keys: list[JwtKey] = Field(
        default_factory=list,
        description='JSON list of {"kid": ..., "secret": ...}. The first key signs; every listed key verifies, '
        "so a key is rotated by putting the new one first and removing the old one after the token lifetime.",
    )
    token_issuer: str = Field(default="ilp-api", description="The iss claim of the access tokens.")
    token_audience: str = Field(default="ilp-api", description="The aud claim of the access tokens.")
    token_lifetime_seconds: int = Field(default=300, ge=30, le=86400)
    client_status_cache_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="How long a process trusts its last look at a client's revocation; a revoked client's "
        "tokens stop working within this many seconds (0: every request checks the database).",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Sustained requests per minute per client and process (0: unlimited)."
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="Requests a client may make at once.")
    # Token endpoint: failed client authentications (issue 7, item 7).
    token_failures_per_minute: int = Field(
        default=10,
        ge=0,
        description="Failed token requests per minute, per client id and per source address, and process, "
        "sustained; beyond, the token endpoint answers 429 before checking any secret (0: unlimited).",
    )
    token_failures_burst: int = Field(
        default=20, ge=1, description="Failed token requests a client id or an address may make at once."
    )
    rate_limit_tracked_keys: int = Field(
        default=10_000,
        ge=1,
        description="Clients, client ids or addresses each rate limiter remembers; beyond, the longest idle "
        "is forgotten (bounds memory when attackers send random client ids).",
    )

    # Bounds on one request (see fhir/limits.py); beyond them the request is refused before any database work.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="Request body size; larger: 413.")
    max_json_depth: int = Field(default=32, ge=8, description="Nesting of objects and arrays in a JSON body.")
    max_string_length: int = Field(default=65_536, ge=1024, description="Characters in one JSON string.")
    max_array_items: int = Field(default=1_000, ge=10, description="Items in one JSON array.")
    max_identifiers: int = Field(default=20, ge=1, description="Identifiers of one resource.")
    max_parameter_repeats: int = Field(default=10, ge=1, description="Occurrences of one search parameter.")
    max_values_per_parameter: int = Field(
        default=100, ge=1, description="Comma-separated (OR-ed) values in one search parameter occurrence."
    )
    max_sort_keys: int = Field(default=5, ge=1, description="Keys in _sort.")
    max_bundle_entries: int = Field(default=500, ge=1, description="Entries of a transaction or batch Bundle.")

    # Operations (issue 7: outages, slow queries, least privilege, metrics).
    migrate_on_start: bool | None = Field(
        default=None,
        description="Apply pending migrations when the server starts. Unset: on for SQLite, off for PostgreSQL, "
        "where `ilp db upgrade` runs as the tables' owner and a server whose schema is behind refuses to start.",
    )
    database_connect_timeout_seconds: int = Field(
        default=5,
        ge=1,
        le=300,
        description="How long a request waits for a PostgreSQL connection (connecting, or a free one in the "
        "pool) and /health/ready for its check before answering 503.",
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="PostgreSQL cancels a request's statement after this many milliseconds and the request "
        "answers 503 (0: no limit). Not applied to migrations or `ilp` commands.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics requires 'Authorization: Bearer <this token>'; unset, it is public.",
    )

    # SATUSEHAT (issue 10): unset URLs switch the integration off, except in development (the mounted simulator).
    satusehat_auth_url: str | None = Field(
        default=None,
        description="SATUSEHAT OAuth base, e.g. https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1. Unset (with "
        "ILP_SATUSEHAT_FHIR_URL): the integration is off, except in development, where the simulator `ilp serve` "
        "mounts under /simulator/satusehat is used.",
    )
    satusehat_fhir_url: str | None = Field(
        default=None,
        description="SATUSEHAT FHIR base, e.g. https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1.",
    )
    satusehat_client_id: str | None = Field(
        default=None,
        description="Single-facility deployments: the client id of the one SATUSEHAT organization, used where no "
        "puskesmas above a visit has credentials of its own (`ilp satusehat credentials set`).",
    )
    satusehat_client_secret: SecretStr | None = Field(default=None, description="Its client secret.")
    satusehat_org_id: str | None = Field(default=None, description="Its SATUSEHAT Organization id.")
    satusehat_requests_per_minute: int = Field(
        default=300,
        ge=1,
        description="Requests to SATUSEHAT per minute, per credential and process (Kemkes' SDKs throttle to 300).",
    )
    satusehat_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long one request to SATUSEHAT may take before it is retried."
    )
    credentials_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (32 url-safe base64 bytes; `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`) that encrypts the integrations' stored secrets. Required in "
        "production; development uses a fixed, public key.",
    )

    @property
    def migrates_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.database_url.startswith("sqlite")

    identifier_refusals_per_hour: int = Field(
        default=20,
        ge=0,
        description="Per client and process: how many writes an hour may be refused because an identifier (a "
        "NIK) is registered outside the client's area; beyond that its writes registering an identifier answer "
        "429 (0: unlimited). Without a bound the refusal would tell anyone which NIKs are registered.",
    )

    # The outbox and `ilp worker` (integrations/outbox): deliveries to other systems.
    outbox_batch_size: int = Field(
        default=20, ge=1, le=1000, description="Items a worker claims at once and delivers concurrently."
    )
    outbox_lease_seconds: float = Field(
        default=120,
        gt=0,
        description="How long a claimed item stays a worker's; a worker that died leaves it to be taken over after "
        "this. Longer than ILP_OUTBOX_DELIVERY_TIMEOUT_SECONDS, so that a live worker never loses one mid-call.",
    )
    outbox_delivery_timeout_seconds: float = Field(
        default=60, gt=0, description="Bound on one delivery call; beyond, the item is retried later."
    )
    outbox_backoff_base_seconds: float = Field(
        default=5, gt=0, description="The first retry waits about this long; each further one twice as long."
    )
    outbox_backoff_cap_seconds: float = Field(
        default=1800, gt=0, description="The longest wait between retries (a Retry-After sent may be longer)."
    )
    outbox_poll_interval_seconds: float = Field(
        default=2, gt=0, description="How long an idle worker waits before looking for new items again."
    )

    # BPJS Kesehatan PCare (issue 11). Unset URL or credentials: the integration is off, and says so.
    bpjs_pcare_url: str | None = Field(
        default=None,
        description="Base URL of PCare v4, e.g. https://apijkn.bpjs-kesehatan.go.id/pcare-rest (dev: "
        "https://apijkn-dev.bpjs-kesehatan.go.id/pcare-rest-dev; the local simulator: "
        "http://127.0.0.1:8000/simulator/bpjs). Unset: the BPJS integration is off.",
    )
    bpjs_cons_id: str | None = Field(default=None, description="PCare consumer id (X-cons-id).")
    bpjs_secret: SecretStr | None = Field(default=None, description="PCare consumer secret: signs requests.")
    bpjs_user_key: SecretStr | None = Field(default=None, description="The PCare service's user_key on apijkn.")
    bpjs_username: str | None = Field(default=None, description="The puskesmas' PCare user name.")
    bpjs_password: SecretStr | None = Field(default=None, description="The puskesmas' PCare password.")
    bpjs_kd_aplikasi: str = Field(default="095", description="kdAplikasi in X-authorization (PCare: 095).")
    bpjs_ppk_code: str | None = Field(
        default=None,
        description="This puskesmas' BPJS provider (PPK) code: a member registered with another FKTP is flagged.",
    )
    bpjs_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long one PCare call may wait to connect, and then for each read, before it answers 503.",
    )
    bpjs_breaker_failures: int = Field(
        default=5,
        ge=1,
        description="Consecutive PCare failures (timeouts, refused connections, error pages) that open the "
        "circuit breaker: calls then answer 503 at once instead of waiting on BPJS.",
    )
    bpjs_breaker_reset_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long the open breaker refuses calls before it lets one through to try BPJS again.",
    )
    bpjs_cache_seconds: int = Field(
        default=300,
        ge=0,
        description="GET /api/v1/bpjs/peserta: how long an answer is served from memory without asking BPJS again; "
        "older answers are still served, marked stale with their age, while BPJS is unreachable (0: no cache).",
    )
    bpjs_cache_entries: int = Field(default=10_000, ge=1, description="Answers the peserta cache holds at most.")
    bpjs_lookups_per_minute: int = Field(
        default=30,
        ge=0,
        description="GET /api/v1/bpjs/peserta per client and process, sustained (0: unlimited); beyond, 429.",
    )
    bpjs_lookups_burst: int = Field(default=10, ge=1, description="Peserta look-ups a client may make at once.")
    identifier_hash_key: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC-SHA256 under which the audit trail records a looked-up NIK or card number; "
        "required in production when BPJS is on (unset in development: a fixed development key).",
    )
    bpjs_clock_skew_seconds: int = Field(
        default=120,
        ge=1,
        description="A difference between this server's clock and the Date of a PCare answer beyond which a "
        "refused call is reported as clock skew (PCare rejects stale timestamps; run NTP).",
    )

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, url: str) -> str:
        # Operators paste plain postgresql:// URLs; the project ships psycopg 3, not psycopg2.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @field_validator("canonical_base")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("bpjs_pcare_url")
    @classmethod
    def _trimmed_url(cls, url: str | None) -> str | None:
        # A leading space in a configured PCare URL once broke a client (bpjs-pcare.md §1).
        return url.strip().rstrip("/") or None if url is not None else None

    def site_today(self) -> date:
        """Today at the site (profile §0: visit dates are local dates, not UTC ones)."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        ZoneInfo(name)  # raises for an unknown zone, refusing to start
        return name

    @model_validator(mode="after")
    def _signing_keys(self) -> Self:
        if self.environment == "production" and not self.jwt_keys:
            raise ValueError("ILP_JWT_KEYS is required in production: tokens must survive restarts and workers")
        if self.outbox_lease_seconds <= self.outbox_delivery_timeout_seconds:
            raise ValueError(
                "ILP_OUTBOX_LEASE_SECONDS must be longer than ILP_OUTBOX_DELIVERY_TIMEOUT_SECONDS: a lease that "
                "expires during a delivery lets a second worker deliver the same item"
            )
        if (self.satusehat_auth_url is None) != (self.satusehat_fhir_url is None):
            raise ValueError("set both ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL, or neither (SATUSEHAT off)")
        if self.environment == "production" and self.credentials_key is None:
            raise ValueError("ILP_CREDENTIALS_KEY is required in production: it encrypts the integrations' secrets")
        if self.environment == "production" and self.bpjs_pcare_url and self.identifier_hash_key is None:
            raise ValueError("ILP_IDENTIFIER_HASH_KEY is required in production when BPJS is on (ILP_BPJS_PCARE_URL)")
        kids = [key.kid for key in self.jwt_keys]
        if len(set(kids)) != len(kids):
            raise ValueError("ILP_JWT_KEYS: every kid must be unique")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
