"""``GET /api/v1/worklists``: an organization's follow-up worklist (screening/worklists.py computes it).

The list is the organization's: it is computed seeing what that organization sees (its residents), for a caller
who may see the organization (its own, one below it, or any for ilp/admin). Reading it is a search of residents:
it needs the Patient search scope and is audited as one, naming the residents on the page.
"""

from dataclasses import replace
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool

from ilp_api.api.http import fhir_base
from ilp_api.api.resources import check_purpose, origin_of, pipeline
from ilp_api.fhir.datatypes import CONTROL_CHARACTER
from ilp_api.fhir.outcome import BadRequest, NotFound
from ilp_api.fhir.pipeline import SEARCH
from ilp_api.fhir.registry import Ref, parse_reference
from ilp_api.fhir.search import MAX_OFFSET, paging_number
from ilp_api.resources.patient import PATIENT
from ilp_api.screening.records import UnitRecords
from ilp_api.screening.worklists import WorkItem, WorklistSettings, worklist
from ilp_api.security.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["screening"])
DEFAULT_COUNT, MAX_COUNT = 50, 500


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WorkItemOut(Schema):
    patient: str = Field(description="Patient/{id}")
    patient_name: str
    rw: str | None
    item: str = Field(
        description="tindak-lanjut/<code>, rujukan-belum-dijawab, kunjungan-anc, skrining-tahunan, imunisasi/<dose>"
    )
    reason: str
    since: date
    due: date
    overdue: bool
    rule: str
    source: str | None = Field(description="The resource that holds the item (Task/…, EpisodeOfCare/…), if any")


class WorklistOut(Schema):
    organization: str
    rw: str | None
    today: date
    total: int
    next: str | None = Field(description="The next page, if any")
    items: list[WorkItemOut]


@router.get(
    "/worklists",
    summary="Who among an organization's residents is due or overdue, and why",
    description=(
        "Computed when asked from what is stored and today's date, so that what falls due with time alone (a "
        "follow-up's date, a pregnant woman's next K visit, an unanswered referral, a new year without "
        "screening, a child reaching the age of a vaccine dose) appears without any new write. Longest due first; "
        "paged with `_count` and `_offset`."
    ),
    response_model=WorklistOut,
    response_model_by_alias=True,
)
async def get_worklist(
    request: Request,
    principal: CurrentPrincipal,
    organization: Annotated[str, Query(description="Organization/{id} (or the id) the list is for")],
    rw: Annotated[str | None, Query(description="Only residents of this RW (e.g. 002)")] = None,
    on: Annotated[
        date | None, Query(alias="date", description="As of this day (default: today at the site), to plan ahead")
    ] = None,
    count: Annotated[str | None, Query(alias="_count", description=f"Page size (default {DEFAULT_COUNT})")] = None,
    offset: Annotated[str | None, Query(alias="_offset", description="Skip this many items")] = None,
) -> WorklistOut:
    check_purpose(request)
    page_size = paging_number(count, "_count", DEFAULT_COUNT, MAX_COUNT)
    skip = paging_number(offset, "_offset", 0, MAX_OFFSET)
    for name, value in (("organization", organization), ("rw", rw)):
        if value is not None and CONTROL_CHARACTER.search(value):
            raise BadRequest(f"{name} holds a control character", expression=name)
    reference = parse_reference(organization) or Ref("Organization", organization)
    settings = request.app.state.settings
    today = on or settings.site_today()
    rules = WorklistSettings(settings.referral_answer_days, settings.anc_interval_days)
    bundles = pipeline(request)

    def interaction() -> list[WorkItem]:
        with bundles.unit_of_work(principal, write=False) as unit:
            found = unit.repository.get("Organization", reference.id) if reference.type == "Organization" else None
        if found is None or found.deleted:
            raise NotFound(f"Organization/{reference.id} is not known, or not within your organization's reach")
        return bundles.interact(
            origin_of(request, replace(principal, organization_id=reference.id)),  # seeing as the organization sees
            PATIENT,
            SEARCH,
            lambda unit: worklist(UnitRecords(unit), today, rules, rw),
            entities=lambda items: [Ref("Patient", item.patient_id) for item in items[skip : skip + page_size]],
        )

    items = await run_in_threadpool(interaction)
    page = items[skip : skip + page_size]
    more = skip + page_size < len(items)
    query = {
        "organization": f"Organization/{reference.id}",
        **({"rw": rw} if rw else {}),
        **({"date": on} if on else {}),
    }
    following = {**query, "_count": page_size, "_offset": skip + page_size}
    return WorklistOut(
        organization=f"Organization/{reference.id}",
        rw=rw,
        today=today,
        total=len(items),
        next=f"{fhir_base(request).removesuffix('/fhir')}/api/v1/worklists?{urlencode(following)}" if more else None,
        items=[
            WorkItemOut(
                patient=f"Patient/{item.patient_id}",
                patient_name=item.patient_name,
                rw=item.rw,
                item=item.item,
                reason=item.reason,
                since=item.since,
                due=item.due,
                overdue=item.overdue(today),
                rule=item.rule,
                source=item.source,
            )
            for item in page
        ],
    )
