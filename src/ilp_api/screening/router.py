"""``POST /api/v1/screening/evaluate``: evaluates one visit with the ILP rules engine and stores nothing."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Request

from ilp_api.screening.schemas import REQUEST_EXAMPLES, EvaluateRequest, EvaluateResponse
from ilp_api.screening.service import evaluate_visit
from ilp_api.security.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1/screening", tags=["screening"])


@router.post(
    "/evaluate",
    summary="Evaluate one visit against the ILP profile (stores nothing)",
    description=(
        "Life-cycle stages, klaster routing, classifications with HL7 v3 interpretation, due screening items, "
        "first-hop referrals and follow-ups, under the rule set named in `ruleSet`. Every output names the rule "
        "that produced it as `{id, source}`. Implausible or contradictory input is a 422 OperationOutcome whose "
        "issue names the field (`expression`) and the profile's code (`details.coding`). Any authenticated "
        "client may call it: it reads and stores no patient data."
    ),
    response_model=EvaluateResponse,
    response_model_by_alias=True,
)
def evaluate(
    request: Request,
    visit: Annotated[EvaluateRequest, Body(openapi_examples=REQUEST_EXAMPLES)],
    _client: CurrentPrincipal,
) -> EvaluateResponse:
    today = datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()
    return evaluate_visit(visit, today)
