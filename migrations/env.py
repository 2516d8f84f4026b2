"""Alembic environment: the URL comes from the caller (``ilp db upgrade``, the tests) or ILP_DATABASE_URL."""

from alembic import context
from sqlalchemy import Connection

from ilp_api.db.engine import create_database_engine
from ilp_api.schema import metadata
from ilp_api.settings import get_settings


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.config.attributes.get("database_url") or get_settings().database_url
    engine = create_database_engine(url)
    with engine.connect() as new_connection:
        run_migrations(new_connection)
    engine.dispose()
