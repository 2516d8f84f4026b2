"""ASGI entry point for uvicorn: ``uvicorn ilp_api.main:app``.

The schema is migrated first (ILP_MIGRATE_ON_START, on by default for SQLite) or checked: a server whose
database schema is behind its code refuses to start and says to run ``ilp db upgrade``. In development the
SATUSEHAT simulator is mounted under /simulator/satusehat (outside the OpenAPI document).
"""

from ilp_api.app import create_app
from ilp_api.db.migrate import prepare_schema
from ilp_api.integrations.satusehat.simulator import mount_simulator
from ilp_api.settings import get_settings

settings = get_settings()
prepare_schema(settings.database_url, migrate=settings.migrates_on_start)
app = create_app(settings)
if settings.environment == "development":
    mount_simulator(app)  # a SATUSEHAT to deliver to without credentials (integrations/satusehat/simulator)
