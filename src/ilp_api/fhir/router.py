"""Router factory: every registered resource type gets the same FHIR interactions from here.

Every interaction goes through ``perform``: the client's scopes are checked, the work runs in one
transaction whose repository sees only the client's organization scope, and access to patient data is
audited (in the same transaction as a write; a failure is audited on its own after the rollback).
Endpoints are ``async`` only to read the raw body; database work runs in the thread pool.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ilp_api.audit.records import MINOR_FAILURE, SERIOUS_FAILURE, SUCCESS, AuditRecord
from ilp_api.audit.repository import AuditRepository
from ilp_api.db.base import utc_now
from ilp_api.db.cancellation import run_in_threadpool_until_disconnect
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.http import (
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
from ilp_api.fhir.outcome import BadRequest, status_of
from ilp_api.fhir.patch import JSON_PATCH, MERGE_PATCH, OPERATIONS, PATCH_MEDIA_TYPES
from ilp_api.fhir.registry import Ref, ResourceDefinition, registry
from ilp_api.fhir.repository import SearchPage, Stored
from ilp_api.fhir.scope import Scope
from ilp_api.fhir.service import (
    IdentifierHeldElsewhere,
    RefusalLimit,
    ResourceService,
    WriteContext,
    WriteResult,
    new_id,
    write_context,
)
from ilp_api.security.auth import CurrentPrincipal, Principal, require

T = TypeVar("T")

IfNoneExist = Annotated[
    str | None,
    Header(alias="If-None-Exist", description="Conditional create: search criteria, e.g. `identifier=system|value`"),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='Optimistic locking: the ETag read, e.g. `W/"2"`')]
Prefer = Annotated[
    str | None, Header(alias="Prefer", description="`return=minimal` for no body; `handling=lenient` in searches")
]
PURPOSE_HEADER = "X-Purpose-Of-Use"
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


@dataclass(frozen=True)
class Interaction:
    code: str  # FHIR restful-interaction code, as audited
    scope: str  # SMART v2 permission letter: c r u d s
    writes: bool
    body_types: tuple[str, ...] = ()  # the media types its request body may have; () when it takes none


CREATE = Interaction("create", "c", True, RESOURCE_TYPES)
READ = Interaction("read", "r", False)
VREAD = Interaction("vread", "r", False)
HISTORY = Interaction("history-instance", "r", False)
SEARCH = Interaction("search-type", "s", False)
SEARCH_BY_POST = Interaction("search-type", "s", False, (FORM,))
UPDATE = Interaction("update", "u", True, RESOURCE_TYPES)
PATCH = Interaction("patch", "u", True, PATCH_MEDIA_TYPES)
DELETE = Interaction("delete", "d", True)


class ScopeResolver(Protocol):
    def __call__(self, session: Session, principal: Principal, canonical_base: str) -> Scope | None: ...


RefusalLimits = Callable[[str], RefusalLimit]  # a client id → its allowance


@contextmanager
def unit_of_work(request: Request, principal: Principal, *, write: bool) -> Iterator[WriteContext]:
    """One transaction whose repository sees only what the principal's organization may see.

    The scope resolver and the refusal limiter are installed by create_app (security/scoping.py,
    security/refusals.py), keeping fhir/ free of resource and security code.
    """
    database: Database = request.app.state.database
    settings = request.app.state.settings
    resolve_scope: ScopeResolver = request.app.state.scope_for
    refusals: RefusalLimits = request.app.state.identifier_refusals
    with database.session(write=write) as session:
        scope = resolve_scope(session, principal, settings.canonical_base)
        yield write_context(session, settings, scope, refusals(principal.client_id))


async def perform(
    request: Request,
    principal: Principal,
    definition: ResourceDefinition,
    interaction: Interaction,
    work: Callable[[WriteContext], T],
    *,
    entities: Callable[[T], list[Ref]],
    target: str | None = None,
    query: str | None = None,
) -> T:
    """Check, run and audit one interaction. Any access to patient data leaves exactly one AuditEvent.

    ``query`` is the search to audit when it is not (only) the URL's: a search by POST sends it in the body.
    """

    def audit(status: int, outcome: str, refs: list[Ref]) -> AuditRecord:
        return audit_record(request, principal, interaction.code, status, outcome, refs, query=query)

    def run() -> T:
        # Patient data is audited in the request's own transaction, reads included: one commit covers both.
        with unit_of_work(request, principal, write=interaction.writes or definition.patient_data) as context:
            result = work(context)
            touched = [ref for ref in entities(result) if is_patient_data(ref)]
            if definition.patient_data:
                status = 201 if isinstance(result, WriteResult) and result.created else 200
                AuditRepository(context.repository.session).append(audit(status, SUCCESS, touched))
        if touched and not definition.patient_data:  # e.g. Organization?_revinclude=Patient:organization
            append_audit_alone(request, audit(200, SUCCESS, touched))
        return result

    try:
        require(principal, definition.type, interaction.scope)
        check_accept(request)
        if interaction.body_types:
            check_content_type(request, interaction.body_types)
        check_purpose(request)
        # A client that disconnects has its running statement cancelled (db/cancellation.py).
        return await run_in_threadpool_until_disconnect(request.receive, run)
    except Exception as error:
        if definition.patient_data:
            refs = failure_entities(error, definition, target)
            status = status_of(error)
            outcome = MINOR_FAILURE if status < 500 else SERIOUS_FAILURE
            await run_in_threadpool(append_audit_alone, request, audit(status, outcome, refs))
        raise


def failure_entities(error: Exception, definition: ResourceDefinition, target: str | None) -> list[Ref]:
    """What a failed interaction's AuditEvent names: the resource addressed, if its id is one, and the holder of
    an identifier refused as held elsewhere, so that the record's owners see who asked about it."""
    refs = [Ref(definition.type, target)] if target and ID_PATTERN.match(target) else []
    if isinstance(error, IdentifierHeldElsewhere) and error.holder:
        refs.append(error.holder)
    return refs


def audit_record(
    request: Request,
    principal: Principal,
    interaction: str,
    status: int,
    outcome: str,
    refs: list[Ref],
    path: str | None = None,
    query: str | None = None,
) -> AuditRecord:
    """``path`` and ``query`` default to the request's; a Bundle entry passes its own path (``/fhir/Patient/123``),
    a search by POST its query."""
    return AuditRecord(
        id=new_id(),
        recorded=utc_now(),
        interaction=interaction,
        outcome=outcome,
        status=status,
        client_id=principal.client_id,
        organization_id=principal.organization_id,
        source_ip=request.client.host if request.client else None,
        purpose=stated_purpose(request),
        # The path as sent (percent-encoded): a decoded one could hold characters the database refuses.
        path=path or request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
        query=query or ((request.url.query or None) if path is None else None),
        entities=tuple(refs),
    )


def append_audit_alone(request: Request, record: AuditRecord) -> None:
    database: Database = request.app.state.database
    with database.session(write=True) as session:
        AuditRepository(session).append(record)


def check_purpose(request: Request) -> None:
    if PURPOSE_HEADER in request.headers and stated_purpose(request) is None:
        raise BadRequest(
            f"{PURPOSE_HEADER} takes an HL7 v3 ActReason code such as TREAT or PUBHLTH", expression=PURPOSE_HEADER
        )


def stated_purpose(request: Request) -> str | None:
    """The purpose of use to audit: only a well-formed one (a refused request is audited without it)."""
    purpose = request.headers.get(PURPOSE_HEADER)
    return purpose if purpose is not None and PURPOSE.match(purpose) else None


def _lenient(prefer: str | None) -> bool:
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


def is_patient_data(ref: Ref) -> bool:
    definition = registry.get(ref.type)
    return definition is not None and definition.patient_data


def request_body(definition: ResourceDefinition) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{definition.model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": schema}, "application/json": {"schema": schema}},
        }
    }


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


def resource_router(definition: ResourceDefinition) -> APIRouter:
    kind = definition.type
    router = APIRouter(prefix=f"/{kind}", tags=[kind], responses=ERROR_RESPONSES)

    def service(request: Request) -> ResourceService:
        return request.app.state.resource_service  # type: ignore[no-any-return]

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
            lambda ctx: service(request).create(ctx, definition, body, if_none_exist),
            entities=_written,
        )
        location = f"{fhir_base(request)}/{kind}/{result.stored.id}/_history/{result.stored.version_id}"
        status = 201 if result.created else 200
        return resource_response(result.stored, status, {"Location": location}, minimal=_minimal(prefer))

    async def answer_search(
        request: Request,
        principal: CurrentPrincipal,
        interaction: Interaction,
        query: list[tuple[str, str]],
        prefer: str | None,
        audited_query: str | None = None,
    ) -> Response:
        page, count, offset = await perform(
            request,
            principal,
            definition,
            interaction,
            lambda ctx: service(request).search(ctx.repository, definition, query, lenient=_lenient(prefer)),
            entities=_found,
            query=audited_query,
        )
        return json_response(searchset(fhir_base(request), kind, query, page, count, offset))

    @router.get("", summary=f"Search {kind}", description=definition.description)
    async def search(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
        return await answer_search(request, principal, SEARCH, search_parameters(request), prefer)

    @router.post(
        "/_search",
        summary=f"Search {kind}, the parameters in a form body",
        description="The same search as GET, for parameters too long or too private for a URL; parameters in the "
        "URL and in the body are combined.",
        openapi_extra=SEARCH_FORM_BODY,
    )
    async def search_by_post(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
        query = search_parameters(request, await request.body())
        return await answer_search(request, principal, SEARCH_BY_POST, query, prefer, urlencode(query))

    @router.get("/{resource_id}", summary=f"Read a {kind}")
    async def read(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        stored = await perform(
            request,
            principal,
            definition,
            READ,
            lambda ctx: service(request).read(ctx.repository, definition, resource_id),
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
            lambda ctx: service(request).update(ctx, definition, resource_id, body, if_match),
            entities=_written,
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
            lambda ctx: service(request).patch(ctx, definition, resource_id, body, media_type(request), if_match),
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
            lambda ctx: service(request).delete(ctx, definition, resource_id),
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
            lambda ctx: service(request).history(ctx.repository, definition, resource_id, query),
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
            lambda ctx: service(request).vread(ctx.repository, definition, resource_id, version_id),
            entities=_one,
            target=resource_id,
        )
        return resource_response(stored)

    return router
