"""Probes and metrics for operators: /health/live, /health/ready, /metrics.

Liveness never touches the database, so an orchestrator does not restart a healthy process during a database
outage; readiness does, so a load balancer stops sending traffic while the database is unreachable.
/metrics is public unless ``ILP_METRICS_TOKEN`` is set: it holds counts by route template and no patient data,
but it shows traffic, so expose it only on an internal network or set the token.
"""

import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from ilp_api.db.engine import Database
from ilp_api.fhir.outcome import ServiceUnavailable, Unauthorized, database_unavailable
from ilp_api.metrics import exposition
from ilp_api.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(tags=["service"])
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The database is unavailable (OperationOutcome, Retry-After)",
        "content": {"application/fhir+json": {}},
    }
}


@router.get("/health/live", summary="Liveness probe: the process answers (the database is not checked)")
@router.get("/health", summary="Liveness probe (alias of /health/live, kept for existing probes)")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/ready", summary="Readiness probe: the database answers within the connect timeout", responses=UNAVAILABLE
)
def ready(request: Request) -> dict[str, str]:
    database: Database = request.app.state.database
    settings: Settings = request.app.state.settings
    try:
        database.ping(timeout_ms=settings.database_connect_timeout_seconds * 1000)
    except SQLAlchemyError as error:
        logger.warning("not ready: the database check failed: %s", type(error).__name__)
        raise database_unavailable(error) or ServiceUnavailable("The database check failed") from None
    return {"status": "ok"}


@router.get(
    "/metrics",
    summary="Prometheus metrics (public unless ILP_METRICS_TOKEN is set)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), token.get_secret_value().encode()
        ):
            raise Unauthorized(
                "/metrics requires 'Authorization: Bearer <ILP_METRICS_TOKEN>'",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body, media_type = exposition(request.app.state.metrics_registry)
    return Response(body, media_type=media_type)
