"""Runtime settings, read from the environment with the ``ILP_`` prefix (or a ``.env`` file)."""

from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
