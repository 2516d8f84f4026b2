"""Router factory: every registered resource type gets the same FHIR interactions from here.

Endpoints are ``async`` only to read the raw body; the database work runs in the thread pool, one
transaction per request.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ilp_api.db.engine import Database
from ilp_api.fhir.http import (
    check_accept,
    check_content_type,
    fhir_base,
    history_bundle,
    json_response,
    resource_response,
    searchset,
)
from ilp_api.fhir.registry import ResourceDefinition
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.service import ResourceService, WriteContext
from ilp_api.wilayah.repository import WilayahDirectory

T = TypeVar("T")

IfNoneExist = Annotated[
    str | None,
    Header(
        alias="If-None-Exist",
        description="Conditional create: search criteria, e.g. `identifier=system|value`",
    ),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='Optimistic locking: the ETag read, e.g. `W/"2"`')]
Prefer = Annotated[
    str | None,
    Header(alias="Prefer", description="`return=minimal` for no body; `handling=lenient` in searches"),
]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text + " (OperationOutcome)", "content": {"application/fhir+json": {}}}
    for status, text in {
        400: "Malformed request",
        404: "Unknown resource",
        409: "Conflict",
        410: "Deleted",
        412: "Version or condition mismatch",
        422: "Invalid resource",
    }.items()
}


@contextmanager
def unit_of_work(request: Request, *, write: bool) -> Iterator[WriteContext]:
    database: Database = request.app.state.database
    settings = request.app.state.settings
    with database.session(write=write) as session:
        yield WriteContext(
            repository=ResourceRepository(session),
            wilayah=WilayahDirectory(session),
            canonical_base=settings.canonical_base,
            today=datetime.now(ZoneInfo(settings.timezone)).date(),
        )


async def in_transaction(request: Request, write: bool, work: Callable[[WriteContext], T]) -> T:
    def run() -> T:
        with unit_of_work(request, write=write) as context:
            return work(context)

    return await run_in_threadpool(run)


def _lenient(prefer: str | None) -> bool:
    return prefer is not None and "handling=lenient" in prefer


def _minimal(prefer: str | None) -> bool:
    return prefer is not None and "return=minimal" in prefer


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
        return request.app.state.resource_service  # type: ignore[no-any-return]

    @router.post("", status_code=201, summary=f"Create a {kind}", openapi_extra=request_body(definition))
    async def create(request: Request, if_none_exist: IfNoneExist = None, prefer: Prefer = None) -> Response:
        check_content_type(request)
        check_accept(request)
        body = await request.body()
        result = await in_transaction(
            request, True, lambda ctx: service(request).create(ctx, definition, body, if_none_exist)
        )
        location = f"{fhir_base(request)}/{kind}/{result.stored.id}/_history/{result.stored.version_id}"
        response = resource_response(result.stored, 201 if result.created else 200, {"Location": location})
        return Response(status_code=response.status_code, headers=response.headers) if _minimal(prefer) else response

    @router.get("", summary=f"Search {kind}", description=definition.description)
    async def search(request: Request, prefer: Prefer = None) -> Response:
        check_accept(request)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        page, count, offset = await in_transaction(
            request,
            False,
            lambda ctx: service(request).search(ctx.repository, definition, query, lenient=_lenient(prefer)),
        )
        return json_response(searchset(fhir_base(request), kind, query, page, count, offset))

    @router.get("/{resource_id}", summary=f"Read a {kind}")
    async def read(request: Request, resource_id: str) -> Response:
        check_accept(request)
        stored = await in_transaction(
            request, False, lambda ctx: service(request).read(ctx.repository, definition, resource_id)
        )
        return resource_response(stored)

    @router.put("/{resource_id}", summary=f"Update a {kind}", openapi_extra=request_body(definition))
    async def update(request: Request, resource_id: str, if_match: IfMatch = None, prefer: Prefer = None) -> Response:
        check_content_type(request)
        check_accept(request)
        body = await request.body()
        result = await in_transaction(
            request, True, lambda ctx: service(request).update(ctx, definition, resource_id, body, if_match)
        )
        response = resource_response(result.stored)
        return Response(status_code=200, headers=response.headers) if _minimal(prefer) else response

    @router.delete("/{resource_id}", status_code=204, summary=f"Delete a {kind}")
    async def delete(request: Request, resource_id: str) -> Response:
        await in_transaction(
            request, True, lambda ctx: service(request).delete(ctx.repository, definition, resource_id)
        )
        return Response(status_code=204)

    @router.get("/{resource_id}/_history", summary=f"History of a {kind}")
    async def history(request: Request, resource_id: str) -> Response:
        check_accept(request)
        query = list(request.query_params.multi_items())
        versions, total, _, _ = await in_transaction(
            request,
            False,
            lambda ctx: service(request).history(ctx.repository, definition, resource_id, query),
        )
        return json_response(history_bundle(fhir_base(request), versions, total, str(request.url)))

    @router.get("/{resource_id}/_history/{version_id}", summary=f"Read one version of a {kind}")
    async def vread(request: Request, resource_id: str, version_id: str) -> Response:
        check_accept(request)
        stored = await in_transaction(
            request,
            False,
            lambda ctx: service(request).vread(ctx.repository, definition, resource_id, version_id),
        )
        return resource_response(stored)

    return router
