"""The route of every registered operation (fhir/providers.py): ``POST`` (and ``GET`` when FHIR allows it)
at ``/fhir/$name``, ``/fhir/{type}/$name`` or ``/fhir/{type}/{id}/$name`` as its level says.

Each call runs through ``perform``: the scopes of the operation's type, one unit of work, the handler, the write
hooks and the audit of what it touched.
"""

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import fhir_base, json_response, resource_response, searchset
from ilp_api.api.resources import ERROR_RESPONSES, perform, pipeline, stated_purpose
from ilp_api.fhir.pipeline import Subject
from ilp_api.fhir.providers import PRIMITIVE_TYPES, Answer, Operation, OperationCall, OperationLevel
from ilp_api.fhir.repository import Page, Stored
from ilp_api.security.auth import CurrentPrincipal, Principal


def operation_router(operation: Operation, subject: Subject) -> APIRouter:
    """``subject``: the operation's type, whose scopes guard it and under which it is audited."""
    router = APIRouter(prefix="/fhir", tags=[operation.resource_type], responses=ERROR_RESPONSES)
    path = {
        OperationLevel.SYSTEM: f"/{operation.code}",
        OperationLevel.TYPE: f"/{operation.resource_type}/{operation.code}",
        OperationLevel.INSTANCE: f"/{operation.resource_type}/{{resource_id}}/{operation.code}",
    }[operation.level]

    async def invoke(request: Request, principal: Principal, resource_id: str | None) -> Response:
        body = await request.body()
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        call = OperationCall(principal, resource_id, body, query, stated_purpose(request), fhir_base(request))
        service = pipeline(request).service
        consulted: list[object] = []

        def consult() -> None:
            if operation.consult is not None:
                with pipeline(request).unit_of_work(principal, write=False) as unit:
                    outside_call = operation.consult(unit, service, call)
                consulted.append(outside_call())

        answer: Answer = await perform(
            request,
            principal,
            subject,
            operation.interaction,
            lambda unit: operation.handler(unit, service, replace(call, consulted=next(iter(consulted), None))),
            entities=lambda result: list(result.entities),
            target=resource_id,
            before=consult,
        )
        if isinstance(answer.resource, Stored):
            return resource_response(answer.resource)
        if isinstance(answer.resource, Page):
            page = answer.resource
            # Paging links come back to this operation, on this resource.
            at = path.removeprefix("/").replace("{resource_id}", resource_id or "")
            return json_response(searchset(call.base, at, query, page.found, page.count, page.offset))
        return json_response(answer.resource)

    async def on_instance(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        return await invoke(request, principal, resource_id)

    async def on_type(request: Request, principal: CurrentPrincipal) -> Response:
        return await invoke(request, principal, None)

    for method in ["GET", "POST"] if operation.by_get else ["POST"]:
        router.add_api_route(
            path,
            on_instance if operation.level is OperationLevel.INSTANCE else on_type,
            methods=[method],
            name=f"{operation.resource_type}-{operation.name}",
            summary=operation.summary,
            description=operation.description,
            openapi_extra=_request_body(operation) if method == "POST" else _query_parameters(operation),
        )
    return router


def _request_body(operation: Operation) -> dict[str, Any]:
    """A Parameters resource (typed by api/openapi.py), with the operation's example if it has one."""
    example = {"example": operation.example} if operation.example is not None else {}
    content = {"application/fhir+json": {"schema": {"type": "object"}, **example}}
    return {"requestBody": {"required": not operation.by_get, "content": content}}


# The JSON type of each FHIR primitive an operation's input sent in the query string of a GET may have.
QUERY_TYPES = dict.fromkeys(PRIMITIVE_TYPES, "string") | {"integer": "integer", "boolean": "boolean"}


def _query_parameters(operation: Operation) -> dict[str, Any]:
    """The GET form of an operation takes its (primitive) inputs as query parameters."""
    return {
        "parameters": [
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.min > 0,
                "description": f"{parameter.documentation} (FHIR {parameter.type})",
                "schema": {"type": QUERY_TYPES[parameter.type]},
            }
            for parameter in operation.parameters
            if parameter.use == "in"
        ]
    }
