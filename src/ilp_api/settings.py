"""Runtime settings, read from the environment with the ``ILP_`` prefix (or a ``.env`` file)."""

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
    identifier_refusals_per_hour: int = Field(
        default=20,
        ge=0,
        description="Per client and process: how many writes an hour may be refused because an identifier (a "
        "NIK) is registered outside the client's area; beyond that its writes registering an identifier answer "
        "429 (0: unlimited). Without a bound the refusal would tell anyone which NIKs are registered.",
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

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        ZoneInfo(name)  # raises for an unknown zone, refusing to start
        return name

    @model_validator(mode="after")
    def _signing_keys(self) -> Self:
        if self.environment == "production" and not self.jwt_keys:
            raise ValueError("ILP_JWT_KEYS is required in production: tokens must survive restarts and workers")
        kids = [key.kid for key in self.jwt_keys]
        if len(set(kids)) != len(kids):
            raise ValueError("ILP_JWT_KEYS: every kid must be unique")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
