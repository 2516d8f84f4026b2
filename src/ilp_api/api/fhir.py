"""The /fhir routers: the CapabilityStatement, and the routes of every stored type, read-only type and operation
of the registry."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import check_accept, fhir_base, json_response
from ilp_api.api.operations import operation_router
from ilp_api.api.read_only import read_only_router
from ilp_api.api.resources import resource_router
from ilp_api.fhir.capability import capability_statement
from ilp_api.fhir.pipeline import Subject
from ilp_api.fhir.providers import Operation, Providers
from ilp_api.fhir.registry import Registry
from ilp_api.security.auth import TOKEN_PATH

STARTED = datetime.now(UTC).isoformat(timespec="seconds")


def fhir_routers(registry: Registry, providers: Providers, canonical_base: str) -> list[APIRouter]:
    """The routers under /fhir, each with its full path, in the order they are matched."""
    router = APIRouter(prefix="/fhir")

    @router.get("/metadata", tags=["FHIR"], summary="CapabilityStatement (FHIR 4.0.1)")
    def metadata(request: Request) -> Response:
        check_accept(request)
        base = fhir_base(request)
        token_url = base.removesuffix("/fhir") + TOKEN_PATH
        return json_response(capability_statement(registry, providers, base, STARTED, token_url, canonical_base))

    return [
        router,
        # Operations first, so that a GET of /fhir/Patient/$name is not taken for a read of a Patient of that id.
        *(operation_router(op, _subject(op, registry, providers)) for op in providers.operations()),
        *(read_only_router(read_only) for read_only in providers.types()),
        *(resource_router(definition) for definition in registry),
    ]


def _subject(operation: Operation, registry: Registry, providers: Providers) -> Subject:
    subject: Subject | None = registry.get(operation.resource_type) or providers.get_type(operation.resource_type)
    if subject is None:
        raise ValueError(f"{operation.code} is registered on {operation.resource_type}, which is not a served type")
    return subject
