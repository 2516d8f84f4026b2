"""Read-only CodeSystem endpoints: read by id and search by url or name."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import check_accept, fhir_base, json_response
from ilp_api.fhir.outcome import BadRequest, NotFound
from ilp_api.terminology.codesystems import CODE_SYSTEMS, CODE_SYSTEMS_BY_ID

router = APIRouter(prefix="/CodeSystem", tags=["CodeSystem"])
SEARCH_PARAMETERS = ("url", "name", "_id")


@router.get("", summary="Search the project's CodeSystems (url, name, _id)")
def search_code_systems(request: Request) -> Response:
    check_accept(request)
    canonical = request.app.state.settings.canonical_base
    unknown = [key for key in request.query_params if key not in (*SEARCH_PARAMETERS, "_format")]
    if unknown:
        raise BadRequest(f"Unknown search parameter '{unknown[0]}' for CodeSystem. Supported: url, name, _id")
    systems = [system.to_fhir(canonical) for system in CODE_SYSTEMS]
    for key in SEARCH_PARAMETERS:
        wanted = request.query_params.get(key)
        if wanted is not None:
            field = "id" if key == "_id" else key
            systems = [s for s in systems if str(s[field]).lower() == wanted.lower()]
    base = fhir_base(request)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(systems),
        "link": [{"relation": "self", "url": str(request.url)}],
        "entry": [
            {"fullUrl": f"{base}/CodeSystem/{s['id']}", "resource": s, "search": {"mode": "match"}} for s in systems
        ],
    }
    if not systems:
        del bundle["entry"]
    return json_response(bundle)


@router.get("/{code_system_id}", summary="Read one of the project's CodeSystems")
def read_code_system(request: Request, code_system_id: str) -> Response:
    check_accept(request)
    system = CODE_SYSTEMS_BY_ID.get(code_system_id)
    if system is None:
        raise NotFound(f"CodeSystem/{code_system_id} is not known. Known: {', '.join(CODE_SYSTEMS_BY_ID)}")
    return json_response(system.to_fhir(request.app.state.settings.canonical_base))
