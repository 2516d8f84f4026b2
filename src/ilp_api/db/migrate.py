"""Apply the Alembic migrations programmatically (``ilp db upgrade``, ``ilp serve``, the tests), and check that a
database's schema is the one the code needs before serving it."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ilp_api.db.engine import create_database_engine


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to run."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(_alembic_ini()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def prepare_schema(database_url: str, *, migrate: bool) -> None:
    """At start-up: migrate (ILP_MIGRATE_ON_START), or refuse to serve a schema the code does not match."""
    if migrate:
        upgrade(database_url)
    else:
        check_schema_current(database_url)


def check_schema_current(database_url: str) -> None:
    """Raise SchemaNotCurrent unless the database is at the code's head revision."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    needed = set(script.get_heads())
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    if current == needed:
        return
    shown = ", ".join(sorted(current)) or "no revision (an empty database)"
    for revision in current:
        try:
            script.get_revision(revision)
        except CommandError:
            raise SchemaNotCurrent(
                f"The database schema is at revision {shown}, which this code does not know: it was migrated by "
                "a newer version of ILP API. Run that version, or restore a database made by this one."
            ) from None
    raise SchemaNotCurrent(
        f"The database schema is at revision {shown}; this code needs {', '.join(sorted(needed))}. "
        "Run `ilp db upgrade` as the database owner (or set ILP_MIGRATE_ON_START=true), then start the server."
    )


def _alembic_ini() -> Path:
    # The source tree (editable install, tests), else the working directory (the Docker image's /app).
    for candidate in (Path(__file__).resolve().parents[3], Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "migrations").is_dir():
            return candidate / "alembic.ini"
    raise FileNotFoundError("alembic.ini and migrations/ not found beside the source tree or in the working directory")
