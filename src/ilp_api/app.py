"""create_app(): mounts routers, middleware and exception handlers; nothing else."""

from fastapi import FastAPI

from ilp_api import __version__
from ilp_api.api.bundle import router as bundle_router
from ilp_api.api.compartments import compartment_router
from ilp_api.api.docs import install_docs
from ilp_api.api.errors import install_exception_handlers
from ilp_api.api.fhir import fhir_router
from ilp_api.api.openapi import install_openapi
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.fhir.providers import providers
from ilp_api.fhir.registry import registry
from ilp_api.health import router as health_router
from ilp_api.metrics import metrics_registry
from ilp_api.middleware import BodySizeLimitMiddleware, RequestObservationMiddleware
from ilp_api.screening.router import router as screening_router
from ilp_api.security.router import install_security
from ilp_api.settings import Settings, get_settings
from ilp_api.wiring import build_pipeline, load_definitions


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    load_definitions()
    app = FastAPI(
        title="ILP API",
        version=__version__,
        summary="FHIR R4 REST backend for Integrasi Layanan Primer (ILP)",
        description=(
            "Residents, the health-facility network, screening, klaster assignments and referrals of "
            "Indonesia's Integrated Primary Care, as FHIR R4 (4.0.1) resources under `/fhir`, and the ILP "
            "rules engine under `/api/v1`. Every error is a FHIR OperationOutcome."
        ),
        docs_url=None,  # install_docs serves /docs and /redoc from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database or Database(
        create_database_engine(
            settings.database_url,
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
    )
    app.state.metrics_registry = metrics_registry(app.state.database.engine)
    app.state.pipeline = build_pipeline(app.state.database, registry, settings)
    install_exception_handlers(app, settings.canonical_base)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, canonical_base=settings.canonical_base
    )
    app.add_middleware(RequestObservationMiddleware)
    app.include_router(health_router)
    install_security(app, settings)
    app.include_router(fhir_router(registry, providers, settings.canonical_base))
    app.include_router(compartment_router(registry))  # after it: /Patient/{id}/_history is no compartment search
    app.include_router(bundle_router)
    app.include_router(screening_router)
    install_openapi(app, registry, providers)
    install_docs(app)
    return app
