"""The /fhir router: CapabilityStatement, the project's CodeSystems and every registered resource type."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.audit_events import router as audit_router
from ilp_api.api.code_systems import router as code_system_router
from ilp_api.api.http import check_accept, fhir_base, json_response
from ilp_api.api.resources import resource_router
from ilp_api.fhir.capability import capability_statement
from ilp_api.fhir.registry import Registry
from ilp_api.security.auth import TOKEN_PATH

STARTED = datetime.now(UTC).isoformat(timespec="seconds")
CODE_SYSTEM_CAPABILITY = {
    "type": "CodeSystem",
    "documentation": "The project's own CodeSystems (read-only)",
    "interaction": [{"code": "read"}, {"code": "search-type"}],
    "searchParam": [
        {"name": "url", "type": "uri"},
        {"name": "name", "type": "string"},
        {"name": "_id", "type": "token"},
    ],
}

AUDIT_EVENT_CAPABILITY = {
    "type": "AuditEvent",
    "documentation": "Access to patient data, append-only; for ilp/admin, or a dinkes per resident (entity=Patient/…)",
    "interaction": [{"code": "search-type"}],
    "searchParam": [
        {"name": "entity", "type": "reference"},
        {"name": "date", "type": "date"},
    ],
}


def fhir_router(registry: Registry) -> APIRouter:
    router = APIRouter(prefix="/fhir")

    @router.get("/metadata", tags=["FHIR"], summary="CapabilityStatement (FHIR 4.0.1)")
    def metadata(request: Request) -> Response:
        check_accept(request)
        extra = [CODE_SYSTEM_CAPABILITY, AUDIT_EVENT_CAPABILITY]
        token_url = fhir_base(request).removesuffix("/fhir") + TOKEN_PATH
        canonical_base = request.app.state.settings.canonical_base
        statement = capability_statement(registry, fhir_base(request), STARTED, extra, token_url, canonical_base)
        return json_response(statement)

    router.include_router(code_system_router)
    router.include_router(audit_router)
    for definition in registry:
        router.include_router(resource_router(definition))
    return router
