"""create_app(): mounts routers, middleware and exception handlers; nothing else."""

from fastapi import FastAPI

from ilp_api import __version__
from ilp_api.fhir.outcome import install_exception_handlers
from ilp_api.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="ILP API",
        version=__version__,
        summary="FHIR R4 REST backend for Integrasi Layanan Primer (ILP)",
        description=(
            "Residents, the health-facility network, screening, klaster assignments and referrals of "
            "Indonesia's Integrated Primary Care, as FHIR R4 (4.0.1) resources under `/fhir`, and the ILP "
            "rules engine under `/api/v1`. Every error is a FHIR OperationOutcome."
        ),
    )
    app.state.settings = settings
    install_exception_handlers(app, settings.canonical_base)

    @app.get("/health", tags=["service"], summary="Liveness probe")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
