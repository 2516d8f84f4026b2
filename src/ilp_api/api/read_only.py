"""The routes of every read-only type (fhir/providers.py): read and search-type, as the type serves them.

Each runs through ``perform`` like a stored type's: the SMART scopes, one unit of work that sees what the
caller may see, the type's own access rule, and audit. A search is parsed by the shared machinery, so it
takes the same typed parameters, dates, ``_count``/``_offset`` paging, ``_sort``, ``_total`` and ``_summary``.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import fhir_base, json_response, json_searchset
from ilp_api.api.resources import ERROR_RESPONSES, Prefer, lenient_handling, perform, pipeline
from ilp_api.fhir.pipeline import READ, SEARCH
from ilp_api.fhir.providers import Found, ReadOnlyType
from ilp_api.fhir.registry import Json, Ref
from ilp_api.fhir.search import SearchRequest
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.security.auth import CurrentPrincipal


def read_only_router(definition: ReadOnlyType) -> APIRouter:
    kind = definition.type
    router = APIRouter(prefix=f"/fhir/{kind}", tags=[kind], responses=ERROR_RESPONSES)
    read = definition.read

    if definition.search is not None:

        @router.get("", summary=f"Search {kind}", description=definition.description)
        async def search(request: Request, principal: CurrentPrincipal, prefer: Prefer = None) -> Response:
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
            service = pipeline(request).service

            def work(unit: UnitOfWork) -> tuple[Found, SearchRequest]:
                searched = service.parse_search(definition, query, lenient=lenient_handling(prefer))
                return definition.find(unit, searched), searched

            found, searched = await perform(
                request,
                principal,
                definition,
                SEARCH,
                work,
                entities=lambda result: [Ref(kind, match["id"]) for match in result[0].matches],
            )
            bundle = json_searchset(
                fhir_base(request), kind, query, found.matches, found.total, searched.count, searched.offset
            )
            return json_response(bundle)

    if read is not None:

        @router.get("/{resource_id}", summary=f"Read a {kind}")
        async def read_one(request: Request, principal: CurrentPrincipal, resource_id: str) -> Response:
            resource: Json = await perform(
                request,
                principal,
                definition,
                READ,
                lambda unit: read(unit, resource_id),
                entities=lambda _: [Ref(kind, resource_id)],
                target=resource_id,
            )
            return json_response(resource)

    return router
