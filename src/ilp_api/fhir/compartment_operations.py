"""The Patient compartment's two reads: ``Patient/{id}/$everything`` and ``Patient/{id}/{type}`` (search).

Both first read the Patient as the caller sees it (404 when out of reach, 410 when deleted), then return the
members of its compartment that the caller's scope shows. No HTTP here: api/compartments.py serves them.
"""

from collections.abc import Collection, Sequence
from datetime import datetime

from ilp_api.fhir.compartment import COMPARTMENT_TYPE, compartment_types, in_compartment
from ilp_api.fhir.outcome import BadRequest, Forbidden, NotFound, shown
from ilp_api.fhir.providers import Answer, OperationCall
from ilp_api.fhir.registry import Ref, ResourceDefinition, date_range
from ilp_api.fhir.repository import Page, ResourceRepository, SearchPage
from ilp_api.fhir.search import MAX_OFFSET, paging_number
from ilp_api.fhir.service import ResourceService
from ilp_api.fhir.unit_of_work import UnitOfWork

EVERYTHING_PARAMETERS = ("_since", "_type", "_count", "_offset", "_format")


def patient_everything(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
    """The ``$everything`` operation's handler: one page of the Patient and its compartment, as the caller sees it."""
    assert call.resource_id is not None  # an instance-level operation
    readable = [definition.type for definition in service.registry if call.caller.can(definition.type, "r")]
    page, count, offset = everything(service, unit.repository, call.resource_id, call.query, readable)
    touched = tuple(Ref(stored.resource_type, stored.id) for stored in page.matches)
    return Answer(Page(page, count, offset), entities=touched)


def everything(
    service: ResourceService,
    repository: ResourceRepository,
    patient_id: str,
    query: Sequence[tuple[str, str]],
    readable: Collection[str],
) -> tuple[SearchPage, int, int]:
    """The Patient and the members of its compartment, one page of them. ``readable``: the types the caller's
    scopes let it read; without ``_type`` the others are left out, named in ``_type`` they are refused (403)."""
    parameters = _everything_parameters(query)
    count = paging_number(parameters.get("_count"), "_count", service.default_count, service.max_count)
    offset = paging_number(parameters.get("_offset"), "_offset", 0, MAX_OFFSET)
    since = _since(parameters["_since"]) if "_since" in parameters else None
    members = compartment_types(service.registry)
    if "_type" in parameters:
        types = _requested_types(parameters["_type"], members)
        refused = [t for t in types if t not in readable]
        if refused:
            needed = ", ".join(f"system/{t}.r" for t in refused)
            raise Forbidden(f"The client's scopes do not allow reading {', '.join(refused)}: it needs {needed}")
    else:
        types = [t for t in members if t in readable]
    _read_patient(service, repository, patient_id)
    matches, total = repository.everything(patient_id, types, since, count, offset)
    return SearchPage(matches, [], total), count, offset


def compartment_search(
    service: ResourceService,
    repository: ResourceRepository,
    definition: ResourceDefinition,
    patient_id: str,
    query: Sequence[tuple[str, str]],
    *,
    lenient: bool = False,
) -> tuple[SearchPage, int, int]:
    """A search of ``definition``'s type among the members of one Patient's compartment."""
    if not in_compartment(definition):
        members = ", ".join(compartment_types(service.registry))
        raise BadRequest(
            f"{definition.type} does not belong to a Patient compartment; its members are: {members}",
            expression=definition.type,
        )
    _read_patient(service, repository, patient_id)
    return service.search(repository, definition, query, lenient=lenient, patient_id=patient_id)


def _read_patient(service: ResourceService, repository: ResourceRepository, patient_id: str) -> None:
    patient = service.registry.get(COMPARTMENT_TYPE)
    if patient is None:
        raise NotFound(f"This server keeps no {COMPARTMENT_TYPE} resources")
    service.read(repository, patient, patient_id)


def _everything_parameters(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in query:
        if name not in EVERYTHING_PARAMETERS:
            raise BadRequest(
                f"$everything takes {', '.join(EVERYTHING_PARAMETERS[:-1])}, not {shown(name)}", expression=name
            )
        if name in parameters:
            raise BadRequest(f"Give {name} once (several types go in one _type, comma-separated)", expression=name)
        parameters[name] = value
    return parameters


def _since(value: str) -> datetime:
    """Resources updated at or after the start of the instant (or day, month, year) given."""
    try:
        return date_range(value).low
    except ValueError as error:
        raise BadRequest(
            f"_since {shown(value)} is not a FHIR instant ({error}): e.g. 2026-11-01T08:00:00+07:00",
            expression="_since",
        ) from None


def _requested_types(value: str, members: list[str]) -> list[str]:
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in types if t not in members]
    if not types or unknown:
        given = shown(unknown[0]) if unknown else "nothing"
        raise BadRequest(f"_type names {given}; a Patient compartment holds {', '.join(members)}", expression="_type")
    return types
