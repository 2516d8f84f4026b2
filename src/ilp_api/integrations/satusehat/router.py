"""``GET /api/v1/satusehat``: whether visits go to SATUSEHAT, and where (integrations/satusehat/config.py)."""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ilp_api.integrations.satusehat.config import endpoints, status
from ilp_api.security.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["satusehat"])


class SatusehatStatus(BaseModel):
    enabled: bool = Field(description="Whether stored visits are queued for SATUSEHAT")
    simulator: bool = Field(description="Development: they go to the built-in simulator under /simulator/satusehat")
    fhir_url: str | None = Field(None, alias="fhirUrl", description="SATUSEHAT's FHIR base, when enabled")
    status: str = Field(description="One line for people: on or off, and why")


@router.get(
    "/satusehat",
    summary="Whether stored visits go to SATUSEHAT, and where",
    description="Off when ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL are unset (outside development).",
    response_model=SatusehatStatus,
    response_model_by_alias=True,
)
async def get_satusehat_status(request: Request, principal: CurrentPrincipal) -> SatusehatStatus:
    settings = request.app.state.settings
    found = endpoints(settings)
    return SatusehatStatus(
        enabled=found is not None,
        simulator=bool(found and found.simulator),
        fhirUrl=found.fhir_url if found else None,
        status=status(settings),
    )
