"""What the integrations' commands (``ilp satusehat …``, ``ilp bpjs …``) share."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.settings import Settings

OrganizationOption = Annotated[str, typer.Option("--organization", help="The local Organization's id")]


@contextmanager
def organization_session(settings: Settings, organization_id: str) -> Iterator[Session]:
    """A write transaction on the migrated database, once the local Organization is known to exist."""
    upgrade(settings.database_url)
    database = Database(create_database_engine(settings.database_url))
    try:
        with database.session(write=True) as session:
            stored = ResourceRepository(session).get("Organization", organization_id)
            if stored is None or stored.deleted:
                typer.echo(f"Organization/{organization_id} is not known here", err=True)
                raise typer.Exit(code=1)
            yield session
    finally:
        database.engine.dispose()
