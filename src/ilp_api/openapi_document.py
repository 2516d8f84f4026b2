"""The OpenAPI document exactly as committed under openapi/ (stable: no database, default settings)."""

from typing import Any

from ilp_api.app import create_app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.settings import Settings


def openapi_document() -> dict[str, Any]:
    settings = Settings(database_url="sqlite://", canonical_base=Settings.model_fields["canonical_base"].default)
    return create_app(settings, Database(create_database_engine("sqlite://"))).openapi()
