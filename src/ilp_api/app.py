"""create_app(): mounts routers, middleware and exception handlers; nothing else."""

from fastapi import APIRouter, FastAPI

from ilp_api import __version__
from ilp_api.api.bundle import router as bundle_router
from ilp_api.api.compartments import compartment_router
from ilp_api.api.docs import install_docs
from ilp_api.api.errors import install_exception_handlers
from ilp_api.api.fhir import fhir_routers
from ilp_api.api.openapi import install_openapi
from ilp_api.api.worklists import router as worklists_router
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.fhir.providers import providers
from ilp_api.fhir.registry import registry
from ilp_api.health import router as health_router
from ilp_api.integrations.bpjs.eligibility import eligibility_operation
from ilp_api.integrations.bpjs.registration import registration_operation
from ilp_api.integrations.bpjs.router import router as bpjs_router
from ilp_api.integrations.bpjs.service import bpjs_integration
from ilp_api.integrations.bpjs.simulator.app import create_simulator, simulator_state
from ilp_api.integrations.outbox.metrics import OutboxCollector
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.router import router as outbox_router
from ilp_api.integrations.satusehat.router import router as satusehat_router
from ilp_api.metrics import metrics_registry
from ilp_api.middleware import BodySizeLimitMiddleware, RequestObservationMiddleware
from ilp_api.screening.router import router as screening_router
from ilp_api.security.router import clients_router, install_security, oauth_router
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
    app.state.metrics_registry.register(OutboxCollector(app.state.database, destinations))
    app.state.pipeline = build_pipeline(app.state.database, registry, settings)
    app.state.bpjs = bpjs_integration(settings, app.state.database)
    # Registered per app: the operation holds this app's BPJS client (its settings, its circuit breaker).
    providers.register_operation(eligibility_operation(app.state.bpjs))
    providers.register_operation(registration_operation(app.state.bpjs))
    install_exception_handlers(app, settings.canonical_base)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, canonical_base=settings.canonical_base
    )
    app.add_middleware(RequestObservationMiddleware)
    install_security(app, settings)
    for router in (health_router, oauth_router, clients_router):
        add_routes(app, router)
    for router in fhir_routers(registry, providers, settings.canonical_base):
        add_routes(app, router)
    add_routes(app, compartment_router(registry))  # after them: /Patient/{id}/_history is no compartment search
    add_routes(app, bundle_router)
    add_routes(app, screening_router)
    add_routes(app, worklists_router)
    add_routes(app, outbox_router)
    add_routes(app, satusehat_router)
    add_routes(app, bpjs_router)
    install_openapi(app, registry, providers)
    if settings.environment == "development":
        # A PCare of its own to develop against (ILP_BPJS_PCARE_URL=http://…/simulator/bpjs); outside the OpenAPI.
        app.mount("/simulator/bpjs", create_simulator(simulator_state(settings)))
    install_docs(app)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """``router``'s routes into the application's own table, as they are.

    ``include_router`` keeps a router as a branch that FastAPI matches anew, level by level, on every request:
    about a tenth of a Patient create's CPU (bench/fhir_bench.py). These routers carry their full paths, and the
    application has no dependency overrides, which only routes made by its own router would see.
    """
    app.router.routes.extend(router.routes)
