"""GET /fhir/AuditEvent: who accessed a resident's record, when, from where and why.

Open to ``ilp/admin`` clients, and to a dinkes client (scope ``system/AuditEvent.rs``) for residents within
its kab/kota. Audit rows are never written through this API.
"""

from datetime import datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ilp_api.api.http import check_accept, fhir_base, json_response, paging_links
from ilp_api.api.resources import check_purpose, pipeline
from ilp_api.audit.repository import AuditRepository
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.outcome import BadRequest, Forbidden, NotFound
from ilp_api.fhir.registry import Ref, parse_reference
from ilp_api.fhir.repository import ResourceRepository
from ilp_api.fhir.search import MAX_OFFSET, date_value, paging_number
from ilp_api.resources.organization import facility_type
from ilp_api.security.auth import CurrentPrincipal, require

router = APIRouter(prefix="/AuditEvent", tags=["AuditEvent"])
PARAMETERS = ("entity", "date", "_count", "_offset")


@router.get("", summary="Search the audit trail by entity and date")
async def search_audit_events(request: Request, principal: CurrentPrincipal) -> Response:
    check_accept(request)
    check_purpose(request)
    require(principal, "AuditEvent", "s")
    settings = request.app.state.settings
    query = list(request.query_params.multi_items())
    unknown = [key for key, _ in query if key not in PARAMETERS]
    if unknown:
        raise BadRequest(f"Unknown search parameter '{unknown[0]}' for AuditEvent. Supported: {', '.join(PARAMETERS)}")
    parameters = dict(query)
    entity = _entity(parameters.get("entity"))
    since, before = _dates([value for key, value in query if key == "date"])
    count = paging_number(parameters.get("_count"), "_count", settings.default_page_size, settings.max_page_size)
    offset = paging_number(parameters.get("_offset"), "_offset", 0, MAX_OFFSET)

    def work() -> tuple[list[dict[str, object]], int]:
        with pipeline(request).unit_of_work(principal, write=False) as unit:
            if not principal.is_admin:
                _check_dinkes_may_see(unit.repository, principal.organization_id, entity, settings.canonical_base)
            records, total = AuditRepository(unit.repository.session).search(entity, since, before, count, offset)
            return [record.to_fhir(settings.canonical_base) for record in records], total

    events, total = await run_in_threadpool(work)
    base = fhir_base(request)
    links = paging_links(base, "AuditEvent", query, count, offset, has_more=offset + count < total)
    bundle: dict[str, object] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if events:
        bundle["entry"] = [
            {"fullUrl": f"{base}/AuditEvent/{e['id']}", "resource": e, "search": {"mode": "match"}} for e in events
        ]
    return json_response(bundle)


def _entity(value: str | None) -> Ref | None:
    if value is None:
        return None
    reference = parse_reference(value)
    if reference is None or not ID_PATTERN.match(reference.id):
        raise BadRequest("entity must be a reference like Patient/<id>", expression="entity")
    return reference


def _dates(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """``date=ge2026-11-01&date=lt2026-12-01`` → [since, before). Only eq/ge/gt/le/lt are meaningful here."""
    since: datetime | None = None
    before: datetime | None = None
    for value in values:
        searched = date_value(value, "date")
        period = searched.range
        if searched.prefix == "ne":
            raise BadRequest("date takes the prefixes eq, ge, gt, le and lt on AuditEvent, not ne", expression="date")
        if searched.prefix in ("eq", "ge"):
            since = period.low
        if searched.prefix == "gt":
            since = period.high
        if searched.prefix in ("eq", "le"):
            before = period.high
        if searched.prefix == "lt":
            before = period.low
    return since, before


def _check_dinkes_may_see(
    repository: ResourceRepository, organization_id: str | None, entity: Ref | None, canonical: str
) -> None:
    organization = repository.get("Organization", organization_id or "")
    if organization is None or facility_type(orjson.loads(organization.content), canonical) != "dinkes":
        raise Forbidden("Only a dinkes (or an ilp/admin client) may read the audit trail")
    if entity is None or entity.type != "Patient":
        raise BadRequest(
            "A dinkes searches the audit trail per resident: give entity=Patient/<id>", expression="entity"
        )
    if repository.get("Patient", entity.id) is None:
        raise NotFound(f"Patient/{entity.id} is not known in your kab/kota")
