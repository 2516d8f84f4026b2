"""The FHIR interactions of every registered resource type, over HTTP: each route runs through ``perform``.

``perform`` checks the request's media types and purpose of use and hands the interaction to the pipeline
(fhir/pipeline.py), which authorizes, runs, hooks and audits it. Endpoints are ``async`` only to read the raw
body; database work runs in the thread pool, and stops when the client disconnects (db/cancellation.py).
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from ilp_api.api.http import (
    FORM,
    RESOURCE_TYPES,
    check_accept,
    check_content_type,
    fhir_base,
    history_bundle,
    json_response,
    media_type,
    resource_response,
    searchset,
)
from ilp_api.db.cancellation import run_in_threadpool_until_disconnect
from ilp_api.fhir.outcome import BadRequest
from ilp_api.fhir.patch import JSON_PATCH, MERGE_PATCH, OPERATIONS, PATCH_MEDIA_TYPES
from ilp_api.fhir.pipeline import (
    CREATE,
    DELETE,
    HISTORY,
    PATCH,
    READ,
    SEARCH,
    UPDATE,
    VREAD,
    Interaction,
    Pipeline,
    Subject,
)
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
    body_types: tuple[str, ...] = (),
    query: str | None = None,
    before: Callable[[], None] = lambda: None,
) -> T:
    """One interaction over the pipeline; a request refused by its media types or purpose is audited as well.

    ``body_types`` are the media types the request body may have (none: it takes no body). ``query`` is the search
    to audit when it is not (only) the URL's: a search by POST sends it in the body. ``before`` runs once the
    request is admitted, outside the interaction's transaction (an operation's call to an outside system).
    """

    def admit() -> None:
        check_accept(request)
        if body_types:
            check_content_type(request, body_types)
        check_purpose(request)
        before()

    origin = origin_of(request, principal, query)
    return await run_in_threadpool_until_disconnect(
        request.receive,
        lambda: pipeline(request).interact(
            origin, definition, interaction, work, entities=entities, target=target, admit=admit
        ),
    )


def pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline  # type: ignore[no-any-return]


def origin_of(request: Request, principal: Principal, query: str | None = None) -> Origin:
    return Origin(
        caller=principal,
        source_ip=request.client.host if request.client else None,
        purpose=stated_purpose(request),
        # The path as sent (percent-encoded): a decoded one could hold characters the database refuses.
        path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=query or request.url.query or None,
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


def lenient_handling(prefer: str | None) -> bool:
    return prefer is not None and "handling=lenient" in prefer


def _minimal(prefer: str | None) -> bool:
    return prefer is not None and "return=minimal" in prefer


def _written(result: WriteResult) -> list[Ref]:
    return [Ref(result.stored.resource_type, result.stored.id)]


def _one(stored: Stored) -> list[Ref]:
    return [Ref(stored.resource_type, stored.id)]


def found_refs(page: tuple[SearchPage, int, int]) -> list[Ref]:
    """Every resource a search returned, matches and includes alike."""
    return [Ref(s.resource_type, s.id) for s in (*page[0].matches, *page[0].included)]


def search_parameters(request: Request, form: bytes = b"") -> list[tuple[str, str]]:
    """The URL's search parameters and those of a form body (a search by POST), ``_format`` aside.

    Undecodable bytes become U+FFFD: a form body is percent-encoded ASCII, so they match nothing.
    """
    in_form = parse_qsl(form.decode("utf-8", "replace"), keep_blank_values=True)
    return [(k, v) for k, v in (*request.query_params.multi_items(), *in_form) if k != "_format"]


SEARCH_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {FORM: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}},
    }
}
PATCH_OPERATION_SCHEMA = {
    "type": "object",
    "required": ["op", "path"],
    "properties": {
        "op": {"type": "string", "enum": list(OPERATIONS)},
        "path": {"type": "string", "example": "/name/0/family"},
        "from": {"type": "string"},
        "value": {},
    },
}
PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON_PATCH: {"schema": {"type": "array", "items": PATCH_OPERATION_SCHEMA}},
            MERGE_PATCH: {"schema": {"type": "object"}},
        },
    }
}


def shown_search(
    service: ResourceService,
    unit: UnitOfWork,
    definition: ResourceDefinition,
    query: list[tuple[str, str]],
    lenient: bool,
) -> tuple[SearchPage, int, int]:
    """A search's page as the reader is shown it (with the identifiers other systems gave its resources)."""
    page, count, offset = service.search(unit.repository, definition, query, lenient=lenient)
    return service.shown_page(unit.repository, page), count, offset


def resource_router(definition: ResourceDefinition) -> APIRouter:
    kind = definition.type
    router = APIRouter(prefix=f"/fhir/{kind}", tags=[kind], responses=ERROR_RESPONSES)

    def service(request: Request) -> ResourceService:
        return pipeline(request).service

    @router.post("", status_code=201, summary=f"Create a {kind}")
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
            body_types=RESOURCE_TYPES,
        )
        location = f"{fhir_base(request)}/{kind}/{result.stored.id}/_history/{result.stored.version_id}"
        status = 201 if result.created else 200
        return resource_response(result.stored, status, {"Location": location}, minimal=_minimal(prefer))

    async def answer_search(
        request: Request,
        principal: CurrentPrincipal,
        query: list[tuple[str, str]],
        prefer: str | None,
        *,
        body_types: tuple[str, ...] = (),
        audited_query: str | None = None,
    ) -> Response:
        page, count, offset = await perform(
            request,
            principal,
            definition,
            SEARCH,
            lambda unit: shown_search(service(request), unit, definition, query, lenient_handling(prefer)),
            entities=found_refs,
            body_types=body_types,
            query=audited_query,
        )
        return json_response(searchset(fhir_base(request), kind, query, page, count, offset))

    @router.get("", summary=f"Search {kind}", description=definition.description)
    async def search(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
        return await answer_search(request, principal, search_parameters(request), prefer)

    @router.post(
        "/_search",
        summary=f"Search {kind}, the parameters in a form body",
        description="The same search as GET, for parameters too long or too private for a URL; parameters in the "
        "URL and in the body are combined.",
        openapi_extra=SEARCH_FORM_BODY,
    )
    async def search_by_post(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
        query = search_parameters(request, await request.body())
        return await answer_search(
            request, principal, query, prefer, body_types=(FORM,), audited_query=urlencode(query)
        )

    @router.get("/{resource_id}", summary=f"Read a {kind}")
    async def read(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        stored = await perform(
            request,
            principal,
            definition,
            READ,
            lambda unit: service(request).shown(
                unit.repository, service(request).read(unit.repository, definition, resource_id)
            ),
            entities=_one,
            target=resource_id,
        )
        return resource_response(stored)

    @router.put("/{resource_id}", summary=f"Update a {kind}")
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
            body_types=RESOURCE_TYPES,
            target=resource_id,
        )
        return resource_response(result.stored, minimal=_minimal(prefer))

    @router.patch(
        "/{resource_id}",
        summary=f"Patch a {kind}",
        description=f"A JSON Patch ({JSON_PATCH}), or a JSON Merge Patch, applied to the current version and stored "
        "as an update: the same validation and rules as PUT, and `If-Match` for optimistic locking.",
        openapi_extra=PATCH_BODY,
    )
    async def patch(
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
            PATCH,
            lambda unit: service(request).patch(unit, definition, resource_id, body, media_type(request), if_match),
            entities=_written,
            body_types=PATCH_MEDIA_TYPES,
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
