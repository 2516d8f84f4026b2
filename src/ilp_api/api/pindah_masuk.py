"""``POST /fhir/Patient/$pindah-masuk``: the route of the move-in operation (resources/pindah_masuk.py)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ilp_api.api.http import resource_response
from ilp_api.api.resources import ERROR_RESPONSES, perform, pipeline
from ilp_api.fhir.registry import Ref
from ilp_api.fhir.unit_of_work import PURPOSE_HEADER
from ilp_api.resources.patient import PATIENT
from ilp_api.resources.pindah_masuk import MOVE_IN, OPERATION, move_in
from ilp_api.security.auth import CurrentPrincipal

router = APIRouter(prefix=f"/fhir/{PATIENT.type}", tags=[PATIENT.type], responses=ERROR_RESPONSES)

EXAMPLE = {
    "resourceType": "Parameters",
    "parameter": [
        {"name": "nik", "valueString": "3374060312000001"},
        {"name": "managingOrganization", "valueReference": {"reference": "Organization/<id in your subtree>"}},
    ],
}


@router.post(
    f"/{OPERATION}",
    summary="Take over a resident who moved into your area (pindah masuk), by NIK",
    description=(
        "For a puskesmas or dinkes client (or ilp/admin), with `X-Purpose-Of-Use`. Parameters: `nik` "
        "(valueString or valueIdentifier), `managingOrganization` (valueReference to an Organization of the "
        "caller's subtree) and optionally `address` (valueAddress, the new address). Finds the Patient by NIK "
        "wherever it is registered, updates it (a new version) and returns it; the access is audited."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": {"type": "object"}, "example": EXAMPLE}},
        }
    },
)
async def pindah_masuk(request: Request, principal: CurrentPrincipal) -> Response:
    body = await request.body()
    service = pipeline(request).service
    purpose = request.headers.get(PURPOSE_HEADER)
    result = await perform(
        request,
        principal,
        PATIENT,
        MOVE_IN,
        lambda unit: move_in(unit, service, body, purpose),
        entities=lambda result: [Ref(PATIENT.type, result.stored.id)],
    )
    return resource_response(result.stored)
