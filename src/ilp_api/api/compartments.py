"""Compartment search ``GET /fhir/Patient/{id}/{type}`` (``$everything`` is an operation of resources/patient.py).

It runs through ``perform`` (scopes, one transaction with the caller's organization scope, audit); the compartment
logic itself is in fhir/compartment_operations.py.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import fhir_base, json_response, searchset
from ilp_api.api.resources import ERROR_RESPONSES, Prefer, found_refs, lenient_handling, perform, pipeline
from ilp_api.fhir.compartment import COMPARTMENT_TYPE, compartment_types
from ilp_api.fhir.compartment_operations import compartment_search
from ilp_api.fhir.outcome import NotFound
from ilp_api.fhir.pipeline import SEARCH
from ilp_api.fhir.registry import Registry
from ilp_api.fhir.repository import SearchPage
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.security.auth import CurrentPrincipal


def compartment_router(registry: Registry) -> APIRouter:
    router = APIRouter(prefix=f"/fhir/{COMPARTMENT_TYPE}/{{patient_id}}", responses=ERROR_RESPONSES)
    patient = registry.get(COMPARTMENT_TYPE)
    if patient is None:
        return router
    members = ", ".join(compartment_types(registry))

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
        service = pipeline(request).service

        def search(unit: UnitOfWork) -> tuple[SearchPage, int, int]:
            page, count, offset = compartment_search(
                service, unit.repository, definition, patient_id, query, lenient=lenient
            )
            return service.shown_page(unit.repository, page), count, offset

        page, count, offset = await perform(request, principal, definition, SEARCH, search, entities=found_refs)
        path = f"{COMPARTMENT_TYPE}/{patient_id}/{resource_type}"
        return json_response(searchset(fhir_base(request), path, query, page, count, offset))

    return router
