"""The route of every registered operation (fhir/providers.py): ``POST`` (and ``GET`` when it changes nothing)
at ``/fhir/$name``, ``/fhir/{type}/$name`` or ``/fhir/{type}/{id}/$name`` as its level says.

Each call runs through ``perform``: the scopes of the operation's type, one unit of work, the handler, the write
hooks and the audit of what it touched.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import fhir_base, json_response, resource_response
from ilp_api.api.resources import ERROR_RESPONSES, perform, pipeline, stated_purpose
from ilp_api.fhir.pipeline import Subject
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel
from ilp_api.fhir.repository import Stored
from ilp_api.security.auth import CurrentPrincipal, Principal


def operation_router(operation: Operation, subject: Subject) -> APIRouter:
    """``subject``: the operation's type, whose scopes guard it and under which it is audited."""
    router = APIRouter(tags=[operation.resource_type], responses=ERROR_RESPONSES)
    path = {
        OperationLevel.SYSTEM: f"/{operation.code}",
        OperationLevel.TYPE: f"/{operation.resource_type}/{operation.code}",
        OperationLevel.INSTANCE: f"/{operation.resource_type}/{{resource_id}}/{operation.code}",
    }[operation.level]

    async def invoke(request: Request, principal: Principal, resource_id: str | None) -> Response:
        body = await request.body()
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        call = OperationCall(resource_id, body, query, stated_purpose(request), fhir_base(request))
        service = pipeline(request).service
        answer: Answer = await perform(
            request,
            principal,
            subject,
            operation.interaction,
            lambda unit: operation.handler(unit, service, call),
            entities=lambda result: list(result.entities),
            target=resource_id,
        )
        if isinstance(answer.resource, Stored):
            return resource_response(answer.resource)
        return json_response(answer.resource)

    async def on_instance(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
        return await invoke(request, principal, resource_id)

    async def on_type(request: Request, principal: CurrentPrincipal) -> Response:
        return await invoke(request, principal, None)

    for method in ["POST"] if operation.affects_state else ["GET", "POST"]:
        router.add_api_route(
            path,
            on_instance if operation.level is OperationLevel.INSTANCE else on_type,
            methods=[method],
            name=f"{operation.resource_type}-{operation.name}",
            summary=operation.summary,
            description=operation.description,
            openapi_extra=_request_body(operation) if method == "POST" else None,
        )
    return router


def _request_body(operation: Operation) -> dict[str, Any] | None:
    if operation.example is None:
        return None
    content = {"application/fhir+json": {"schema": {"type": "object"}, "example": operation.example}}
    return {"requestBody": {"required": operation.affects_state, "content": content}}
