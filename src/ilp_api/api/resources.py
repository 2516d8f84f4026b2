"""The FHIR interactions of every registered resource type, over HTTP: each route runs through ``perform``.

``perform`` checks the request's media types and purpose of use and hands the interaction to the pipeline
(fhir/pipeline.py), which authorizes, runs, hooks and audits it. Endpoints are ``async`` only to read the raw
body; database work runs in the thread pool, and stops when the client disconnects (db/cancellation.py).
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from ilp_api.api.http import (
    check_accept,
    check_content_type,
    fhir_base,
    history_bundle,
    json_response,
    resource_response,
    searchset,
)
from ilp_api.db.cancellation import run_in_threadpool_until_disconnect
from ilp_api.fhir.outcome import BadRequest
from ilp_api.fhir.pipeline import CREATE, DELETE, HISTORY, READ, SEARCH, UPDATE, VREAD, Interaction, Pipeline, Subject
from ilp_api.fhir.registry import Ref, ResourceDefinition
from ilp_api.fhir.repository import SearchPage, Stored
from ilp_api.fhir.service import ResourceService, WriteResult
from ilp_api.fhir.unit_of_work import PURPOSE_HEADER, Origin, UnitOfWork
from ilp_api.security.auth import CurrentPrincipal, Principal

T = TypeVar("T")

IfNoneExist = Annotated[
    str | None,
    Header(alias="If-None-Exist", description="Conditional create: search criteria, e.g. `identifier=system|value`"),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='Optimistic locking: the ETag read, e.g. `W/"2"`')]
Prefer = Annotated[
    str | None, Header(alias="Prefer", description="`return=minimal` for no body; `handling=lenient` in searches")
]
PURPOSE = re.compile(r"^[A-Z]{2,16}$")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text + " (OperationOutcome)", "content": {"application/fhir+json": {}}}
    for status, text in {
        400: "Malformed request",
        401: "Missing or invalid access token",
        403: "Token lacks the scope, or the resource lies outside the client's organization",
        404: "Unknown resource (or outside the client's organization)",
        409: "Conflict",
        410: "Deleted",
        412: "Version or condition mismatch",
        422: "Invalid resource",
        429: "Rate limit exceeded",
    }.items()
}


async def perform(
    request: Request,
    principal: Principal,
    definition: Subject,
    interaction: Interaction,
    work: Callable[[UnitOfWork], T],
    *,
    entities: Callable[[T], list[Ref]],
    target: str | None = None,
) -> T:
    """One interaction over the pipeline; a request refused by its media types or purpose is audited as well."""

    def admit() -> None:
        check_accept(request)
        if interaction.writes:
            check_content_type(request)
        check_purpose(request)

    origin = origin_of(request, principal)
    return await run_in_threadpool_until_disconnect(
        request.receive,
        lambda: pipeline(request).interact(
            origin, definition, interaction, work, entities=entities, target=target, admit=admit
        ),
    )


def pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline  # type: ignore[no-any-return]


def origin_of(request: Request, principal: Principal) -> Origin:
    return Origin(
        caller=principal,
        source_ip=request.client.host if request.client else None,
        purpose=stated_purpose(request),
        # The path as sent (percent-encoded): a decoded one could hold characters the database refuses.
        path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=request.url.query or None,
    )


def check_purpose(request: Request) -> None:
    if PURPOSE_HEADER in request.headers and stated_purpose(request) is None:
        raise BadRequest(
            f"{PURPOSE_HEADER} takes an HL7 v3 ActReason code such as TREAT or PUBHLTH", expression=PURPOSE_HEADER
        )


def stated_purpose(request: Request) -> str | None:
    """The purpose of use to audit: only a well-formed one (a refused request is audited without it)."""
    purpose = request.headers.get(PURPOSE_HEADER)
    return purpose if purpose is not None and PURPOSE.match(purpose) else None


def lenient(prefer: str | None) -> bool:
    return prefer is not None and "handling=lenient" in prefer


def _minimal(prefer: str | None) -> bool:
    return prefer is not None and "return=minimal" in prefer


def _written(result: WriteResult) -> list[Ref]:
    return [Ref(result.stored.resource_type, result.stored.id)]


def _one(stored: Stored) -> list[Ref]:
    return [Ref(stored.resource_type, stored.id)]


def _found(page: tuple[SearchPage, int, int]) -> list[Ref]:
    """Every resource a search returned, matches and includes alike."""
    return [Ref(s.resource_type, s.id) for s in (*page[0].matches, *page[0].included)]


def request_body(definition: ResourceDefinition) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{definition.model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": schema}, "application/json": {"schema": schema}},
        }
    }


def resource_router(definition: ResourceDefinition) -> APIRouter:
    kind = definition.type
    router = APIRouter(prefix=f"/{kind}", tags=[kind], responses=ERROR_RESPONSES)

    def service(request: Request) -> ResourceService:
        return pipeline(request).service

    @router.post("", status_code=201, summary=f"Create a {kind}", openapi_extra=request_body(definition))
    async def create(
        request: Request, principal: CurrentPrincipal, if_none_exist: IfNoneExist = None, prefer: Prefer = None
    ) -> Response:
        body = await request.body()
        result = await perform(
            request,
            principal,
            definition,
            CREATE,
            lambda unit: service(request).create(unit, definition, body, if_none_exist),
            entities=_written,
        )
        location = f"{fhir_base(request)}/{kind}/{result.stored.id}/_history/{result.stored.version_id}"
        status = 201 if result.created else 200
        return resource_response(result.stored, status, {"Location": location}, minimal=_minimal(prefer))

    @router.get("", summary=f"Search {kind}", description=definition.description)
    async def search(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        page, count, offset = await perform(
            request,
            principal,
            definition,
            SEARCH,
            lambda unit: service(request).search(unit.repository, definition, query, lenient=lenient(prefer)),
            entities=_found,
        )
        return json_response(searchset(fhir_base(request), kind, query, page, count, offset))

    @router.get("/{resource_id}", summary=f"Read a {kind}")
    async def read(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        stored = await perform(
            request,
            principal,
            definition,
            READ,
            lambda unit: service(request).read(unit.repository, definition, resource_id),
            entities=_one,
            target=resource_id,
        )
        return resource_response(stored)

    @router.put("/{resource_id}", summary=f"Update a {kind}", openapi_extra=request_body(definition))
    async def update(
        request: Request,
        principal: CurrentPrincipal,
        resource_id: str,
        if_match: IfMatch = None,
        prefer: Prefer = None,
    ) -> Response:
        body = await request.body()
        result = await perform(
            request,
            principal,
            definition,
            UPDATE,
            lambda unit: service(request).update(unit, definition, resource_id, body, if_match),
            entities=_written,
            target=resource_id,
        )
        return resource_response(result.stored, minimal=_minimal(prefer))

    @router.delete("/{resource_id}", status_code=204, summary=f"Delete a {kind}")
    async def delete(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        await perform(
            request,
            principal,
            definition,
            DELETE,
            lambda unit: service(request).delete(unit, definition, resource_id),
            entities=lambda _: [Ref(kind, resource_id)],
            target=resource_id,
        )
        return Response(status_code=204)

    @router.get("/{resource_id}/_history", summary=f"History of a {kind}")
    async def history(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        query = list(request.query_params.multi_items())
        versions, total = await perform(
            request,
            principal,
            definition,
            HISTORY,
            lambda unit: service(request).history(unit.repository, definition, resource_id, query),
            entities=lambda _: [Ref(kind, resource_id)],
            target=resource_id,
        )
        return json_response(history_bundle(fhir_base(request), versions, total, str(request.url)))

    @router.get("/{resource_id}/_history/{version_id}", summary=f"Read one version of a {kind}")
    async def vread(request: Request, principal: CurrentPrincipal, resource_id: str, version_id: str) -> Response:
        stored = await perform(
            request,
            principal,
            definition,
            VREAD,
            lambda unit: service(request).vread(unit.repository, definition, resource_id, version_id),
            entities=_one,
            target=resource_id,
        )
        return resource_response(stored)

    return router
