"""AuditEvent, a read-only type: who accessed a resident's record, when, from where and why.

Searched by entity and date. Open to ``ilp/admin`` clients, and to a dinkes client (scope
``system/AuditEvent.rs``) for one resident of its kab/kota at a time. Audit rows are never written through the API.
"""

from ilp_api.audit.repository import AuditRepository, Page
from ilp_api.fhir.datatypes import ID_PATTERN
from ilp_api.fhir.outcome import BadRequest, Forbidden, NotFound
from ilp_api.fhir.providers import Found, ReadOnlyType, providers
from ilp_api.fhir.registry import Ref, SearchParameter, SearchType
from ilp_api.fhir.search import DateValue, Filter, SearchRequest
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.resources.organization import facility_type

ENTITY = SearchParameter("entity", SearchType.REFERENCE, "A resource the access touched: Patient/<id>", lambda r: ())
DATE = SearchParameter("date", SearchType.DATE, "When the access was recorded", lambda r: ())


def _search(unit: UnitOfWork, request: SearchRequest) -> Found:
    entities = [_references(f) for f in request.filters if f.parameter is ENTITY]
    dates = [_dates(f) for f in request.filters if f.parameter is DATE]
    newest_first = not request.sort or request.sort[0].descending
    page = Page(request.count, request.offset, request.with_total, newest_first)
    found = AuditRepository(unit.repository.session).search(entities, dates, page)
    canonical = unit.rules.canonical_base
    return Found([record.to_fhir(canonical) for record in found.records], found.total)


def _references(search_filter: Filter) -> list[Ref]:
    references = [value for value in search_filter.values if isinstance(value, Ref)]
    if any(not ID_PATTERN.match(reference.id) for reference in references):
        raise BadRequest("entity must be a reference like Patient/<id>", expression="entity")
    return references


def _dates(search_filter: Filter) -> list[DateValue]:
    dates = [value for value in search_filter.values if isinstance(value, DateValue)]
    if any(value.prefix == "ne" for value in dates):
        raise BadRequest("date takes the prefixes eq, ge, gt, le and lt on AuditEvent, not ne", expression="date")
    return dates


def _check_dinkes_may_see(unit: UnitOfWork, request: SearchRequest) -> None:
    """An ilp/admin client sees the whole trail; a dinkes sees the trail of one resident of its kab/kota."""
    context = unit.rules
    organization_id = context.caller_organization_id
    if organization_id is None:
        return
    organization = context.read(Ref("Organization", organization_id))
    if organization is None or facility_type(organization, context.canonical_base) != "dinkes":
        raise Forbidden("Only a dinkes (or an ilp/admin client) may read the audit trail")
    residents = [_references(f) for f in request.filters if f.parameter is ENTITY]
    if not residents or any(len(refs) != 1 or refs[0].type != "Patient" for refs in residents):
        raise BadRequest(
            "A dinkes searches the audit trail per resident: give entity=Patient/<id>", expression="entity"
        )
    for [resident] in residents:
        if context.read(resident) is None:
            raise NotFound(f"Patient/{resident.id} is not known in your kab/kota")


AUDIT_EVENT = providers.register_type(
    ReadOnlyType(
        type="AuditEvent",
        description=("Access to patient data, append-only; for ilp/admin, or a dinkes per resident (entity=Patient/…)"),
        search_parameters=(ENTITY, DATE),
        search=_search,
        check_search=_check_dinkes_may_see,
        default_sort=("-date",),
    )
)
