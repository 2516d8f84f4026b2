"""Apply the Alembic migrations programmatically (``ilp db upgrade``, ``ilp serve``, the tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    config = Config(str(_alembic_ini()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def _alembic_ini() -> Path:
    # The source tree (editable install, tests), else the working directory (the Docker image's /app).
    for candidate in (Path(__file__).resolve().parents[3], Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "migrations").is_dir():
            return candidate / "alembic.ini"
    raise FileNotFoundError("alembic.ini and migrations/ not found beside the source tree or in the working directory")
