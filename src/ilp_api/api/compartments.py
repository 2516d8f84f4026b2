"""``GET /fhir/Patient/{id}/$everything`` and compartment search ``GET /fhir/Patient/{id}/{type}``.

Each runs through ``perform`` (scopes, one transaction with the caller's organization scope, audit); the
compartment logic itself is in fhir/compartment_operations.py.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import fhir_base, json_response, searchset
from ilp_api.api.resources import ERROR_RESPONSES, Prefer, found_refs, lenient_handling, perform, pipeline
from ilp_api.fhir.compartment import COMPARTMENT_TYPE, compartment_types
from ilp_api.fhir.compartment_operations import EVERYTHING, compartment_search, everything
from ilp_api.fhir.outcome import NotFound
from ilp_api.fhir.pipeline import SEARCH
from ilp_api.fhir.registry import Registry
from ilp_api.security.auth import CurrentPrincipal


def compartment_router(registry: Registry) -> APIRouter:
    router = APIRouter(prefix=f"/fhir/{COMPARTMENT_TYPE}/{{patient_id}}", responses=ERROR_RESPONSES)
    patient = registry.get(COMPARTMENT_TYPE)
    if patient is None:
        return router
    members = ", ".join(compartment_types(registry))

    @router.get(
        "/$everything",
        tags=[COMPARTMENT_TYPE],
        summary="Everything about a Patient: the Patient and its compartment",
        description=(
            f"A searchset Bundle: the Patient, then every member of its compartment ({members}) that the client "
            "may see and read, one page at a time (the Bundle's next link)."
        ),
        openapi_extra={
            "parameters": [
                _query("_since", "Only resources updated at or after this instant", "2026-11-01T00:00:00+07:00"),
                _query("_type", f"Comma-separated types among: {members}", COMPARTMENT_TYPE),
                _query("_count", "Page size", "50"),
                _query("_offset", "Skip this many resources (used by the next link)", "0"),
            ]
        },
    )
    async def patient_everything(request: Request, principal: CurrentPrincipal, patient_id: str) -> Response:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        readable = [d.type for d in registry if principal.can(d.type, "r")]
        page, count, offset = await perform(
            request,
            principal,
            patient,
            EVERYTHING,
            lambda unit: everything(pipeline(request).service, unit.repository, patient_id, query, readable),
            entities=found_refs,
            target=patient_id,
        )
        path = f"{COMPARTMENT_TYPE}/{patient_id}/$everything"
        return json_response(searchset(fhir_base(request), path, query, page, count, offset))

    @router.get(
        "/{resource_type}",
        tags=[COMPARTMENT_TYPE],
        summary="Search one type within a Patient's compartment",
        description=f"`Patient/{{id}}/Observation?code=…`: the type's own search parameters. Types: {members}.",
    )
    async def search_compartment(
        request: Request, principal: CurrentPrincipal, patient_id: str, resource_type: str, prefer: Prefer = None
    ) -> Response:
        definition = registry.get(resource_type)
        if definition is None:
            raise NotFound(f"Unknown resource type {resource_type!r}; a Patient compartment holds {members}")
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        lenient = lenient_handling(prefer)
        page, count, offset = await perform(
            request,
            principal,
            definition,
            SEARCH,
            lambda unit: compartment_search(
                pipeline(request).service, unit.repository, definition, patient_id, query, lenient=lenient
            ),
            entities=found_refs,
        )
        path = f"{COMPARTMENT_TYPE}/{patient_id}/{resource_type}"
        return json_response(searchset(fhir_base(request), path, query, page, count, offset))

    return router


def _query(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }
