"""The simulator's validation rules: SATUSEHAT's Kamus Validasi as shared/reference/satusehat.md §4-§7 documents
it, as pure functions of a resource, the caller's Organization id and what exists.

Where the reference gives a rule range but not which number goes with which element (10117-10124, 20017-20021),
the numbers are assigned in the documented order (noted at each); the client and the outbox only need a number
to parse and store, and the message and ``expression`` say what is wrong.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ilp_api.integrations.satusehat.protocol import (
    EARLIEST,
    ICD_10,
    IHS_NUMBER,
    KEMKES_QUESTIONNAIRE,
    KEMKES_TERMINOLOGY,
    KFA,
    LOINC,
    NIK,
    NIK_IBU,
    SNOMED,
    SYS_IDS,
    UCUM,
    UTC_DATETIME,
    Json,
    business_id_system,
    parse_datetime,
)

Exists = Callable[[str], bool]  # "Patient/P001" → whether the simulator holds it


@dataclass(frozen=True)
class Problem:
    """One issue of an OperationOutcome; ``rule`` None for a generic message SATUSEHAT sends without a number."""

    text: str
    expression: str
    rule: str | None = None

    def issue(self) -> Json:
        text = f"{self.text} (RuleNumber: {self.rule})" if self.rule else self.text
        return {"severity": "error", "code": "value", "details": {"text": text}, "expression": [self.expression]}


def outcome(problems: list[Problem]) -> Json:
    return {"resourceType": "OperationOutcome", "issue": [problem.issue() for problem in problems]}


ICD_10_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
CONDITION_CODE_SYSTEMS = (ICD_10, SNOMED, KEMKES_TERMINOLOGY + "clinical-term")
OBSERVATION_CODE_SYSTEMS = (LOINC, SNOMED, KEMKES_TERMINOLOGY + "examination")
ENCOUNTER_IDENTIFIER_KINDS = ("encounter", "asik", "sitb")
STATUS_HISTORY = ("arrived", "in-progress", "finished")
# The dateTime elements each resource type is checked for (§6: format, not future, not before 2014-06-03).
DATETIMES = {
    "Encounter": ("period.start", "period.end"),
    "Observation": ("effectiveDateTime", "issued"),
    "Condition": ("onsetDateTime", "recordedDate"),
    "QuestionnaireResponse": ("authored",),
    "ServiceRequest": ("authoredOn", "occurrenceDateTime"),
    "Immunization": ("occurrenceDateTime", "recorded"),
}


def validate(resource: Json, organization_id: str, exists: Exists, now: datetime, *, strict_utc: bool) -> list[Problem]:
    """What SATUSEHAT refuses in ``resource`` posted by a client of ``organization_id``."""
    kind = resource.get("resourceType", "")
    checks = CHECKS.get(kind)
    if checks is None:
        return [Problem(f"Resource type {kind or '(none)'} is not supported", "resourceType", "20006")]
    found = list(checks(resource, organization_id, exists))
    found += list(_datetimes(resource, now, strict_utc=strict_utc))
    return found


def _reference(resource: Json, element: str) -> str:
    value = resource.get(element)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value.get("reference", "")) if isinstance(value, dict) else ""


def _referenced(
    resource: Json, element: str, expected: str, exists: Exists, rule: str | None, path: str | None = None
) -> Iterator[Problem]:
    """``element`` must refer to an existing resource of type ``expected``."""
    reference = _reference(resource, element)
    kind = resource.get("resourceType")
    where = f"{kind}.{path or element}"
    if not reference:
        yield Problem(f"Reference is mandatory: {where}", where, rule)
    elif not reference.startswith(f"{expected}/"):
        yield Problem(f"{where} must refer to a {expected}", where, rule)
    elif not exists(reference):
        yield Problem(f"Element not found: {reference}", where, "20007")


def _subject_and_encounter(resource: Json, exists: Exists, subject_rule: str, encounter_rule: str) -> Iterator[Problem]:
    yield from _referenced(resource, "subject", "Patient", exists, subject_rule)
    yield from _referenced(resource, "encounter", "Encounter", exists, encounter_rule)


def _codings(concept: Json | None) -> list[Json]:
    return list((concept or {}).get("coding", []))


def _identifier_systems(resource: Json, kind: str, organization_id: str) -> Iterator[Problem]:
    """A ``http://sys-ids.kemkes.go.id/...`` identifier must carry the sender's own Organization id (numbered
    10117 for the Encounter only; for other types the reference gives no number)."""
    for index, identifier in enumerate(resource.get("identifier", [])):
        system = str(identifier.get("system", ""))
        if system.startswith(SYS_IDS + "/") and system.rsplit("/", 1)[-1] != organization_id:
            yield Problem(
                f"Wrong organization ID provided by system URL: {system}",
                f"{kind}.identifier[{index}].system",
            )


def check_encounter(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    own = [business_id_system(kind, organization_id) for kind in ENCOUNTER_IDENTIFIER_KINDS]
    systems = [identifier.get("system") for identifier in resource.get("identifier", [])]
    if not any(system in own for system in systems):
        expression = "Encounter.identifier[0].system" if systems else "Encounter.identifier"
        shown = systems[0] if systems else "(none)"
        yield Problem(f"Wrong organization ID provided by system URL: {shown}", expression, "10117")
    yield from _referenced(resource, "subject", "Patient", exists, "10118")
    individuals = [p.get("individual", {}).get("reference", "") for p in resource.get("participant", [])]
    if not individuals or not all(individuals):
        yield Problem("Reference is mandatory: Encounter.participant.individual", "Encounter.participant", "10119")
    for index, individual in enumerate(individuals):
        if individual and not exists(individual):
            where = f"Encounter.participant[{index}].individual"
            yield Problem(f"Element not found: {individual}", where, "20007")
    locations = [entry.get("location", {}).get("reference", "") for entry in resource.get("location", [])]
    if not locations or not all(locations):
        yield Problem("Reference is mandatory: Encounter.location.location", "Encounter.location", "10120")
    for index, location in enumerate(locations):
        if location and not exists(location):
            yield Problem(f"Element not found: {location}", f"Encounter.location[{index}].location", "20007")
    period = resource.get("period", {})
    if not period.get("start"):
        yield Problem("Encounter.period.start is mandatory", "Encounter.period.start", "10121")
    if resource.get("status") == "finished" and not period.get("end"):
        yield Problem("A finished Encounter needs period.start and period.end", "Encounter.period.end", "10121")
    yield from _status_history(resource)
    yield from _referenced(resource, "serviceProvider", "Organization", exists, "10123")
    if not resource.get("class", {}).get("code"):  # 10124: the last of the range, the one element left
        yield Problem("Encounter.class is mandatory", "Encounter.class", "10124")


def _status_history(resource: Json) -> Iterator[Problem]:
    history = resource.get("statusHistory", [])
    statuses = [entry.get("status") for entry in history]
    missing = [status for status in STATUS_HISTORY if status not in statuses]
    if resource.get("status") == "finished" and missing:
        yield Problem(
            f"Encounter.statusHistory must hold arrived, in-progress and finished (missing {', '.join(missing)})",
            "Encounter.statusHistory",
            "10122",
        )
    for index, entry in enumerate(history):
        period = entry.get("period", {})
        if not period.get("start"):
            yield Problem("statusHistory.period.start is mandatory", f"Encounter.statusHistory[{index}]", "10122")
        if entry.get("status") == "finished" and not period.get("end"):
            where = f"Encounter.statusHistory[{index}].period.end"
            yield Problem("finished needs period.start and period.end", where, "10121")


def check_observation(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    yield from _subject_and_encounter(resource, exists, "10129", "10130")
    if not resource.get("status"):
        yield Problem("Observation.status is mandatory", "Observation.status")
    systems = [coding.get("system") for coding in _codings(resource.get("code"))]
    if not any(system in OBSERVATION_CODE_SYSTEMS for system in systems):
        yield Problem(
            "Invalid Coding System: Observation.code must be LOINC, SNOMED CT or Kemkes examination",
            "Observation.code.coding[0].system",
            "10010",
        )
    quantities = [("Observation.valueQuantity", resource.get("valueQuantity"))]
    quantities += [
        (f"Observation.component[{index}].valueQuantity", component.get("valueQuantity"))
        for index, component in enumerate(resource.get("component", []))
    ]
    for where, quantity in quantities:
        if quantity is not None and (quantity.get("system") != UCUM or not quantity.get("code")):
            yield Problem("Invalid Coding System: a quantity needs a UCUM unit code", f"{where}.system", "10012")
    yield from _identifier_systems(resource, "Observation", organization_id)


def check_condition(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    yield from _subject_and_encounter(resource, exists, "10125", "10126")
    codings = _codings(resource.get("code"))
    known = [coding for coding in codings if coding.get("system") in CONDITION_CODE_SYSTEMS]
    if not known:
        yield Problem(
            "Code not found: Condition.code must be ICD-10, SNOMED CT or Kemkes clinical-term",
            "Condition.code",
            "10003",
        )
    for index, coding in enumerate(codings):
        if coding.get("system") == ICD_10 and not ICD_10_CODE.match(str(coding.get("code", ""))):
            yield Problem(
                f"Code not found: {coding.get('code')} is no ICD-10 code (upper case, e.g. R03.0)",
                f"Condition.code.coding[{index}].code",
                "10003",
            )
    yield from _identifier_systems(resource, "Condition", organization_id)


def check_service_request(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    yield from _subject_and_encounter(resource, exists, "10141", "10142")
    for element in ("status", "intent", "code"):
        if not resource.get(element):
            yield Problem(f"ServiceRequest.{element} is mandatory", f"ServiceRequest.{element}")
    yield from _identifier_systems(resource, "ServiceRequest", organization_id)


def check_questionnaire_response(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    canonical = str(resource.get("questionnaire", ""))
    if not canonical.startswith(KEMKES_QUESTIONNAIRE + "Q"):
        yield Problem(
            f"Questionnaire {canonical or '(none)'} is no Kemkes Questionnaire",
            "QuestionnaireResponse.questionnaire",
            "10169",
        )
    yield from _referenced(resource, "subject", "Patient", exists, None)
    yield from _referenced(resource, "encounter", "Encounter", exists, None)
    if resource.get("status") != "completed":
        yield Problem("QuestionnaireResponse.status must be completed", "QuestionnaireResponse.status")


def check_immunization(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    yield from _referenced(resource, "patient", "Patient", exists, None)
    yield from _referenced(resource, "encounter", "Encounter", exists, None)
    if not any(coding.get("system") == KFA for coding in _codings(resource.get("vaccineCode"))):
        yield Problem(
            "Invalid Coding System: Immunization.vaccineCode needs a KFA code", "Immunization.vaccineCode", None
        )


def check_patient(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    systems = [identifier.get("system") for identifier in resource.get("identifier", []) if identifier.get("value")]
    if not any(system in (NIK, NIK_IBU) for system in systems):
        yield Problem("Patient.identifier (nik or nik-ibu) is mandatory", "Patient.identifier", "10166")
    if not any(str(name.get("text", "")).strip() for name in resource.get("name", [])):
        yield Problem("Patient.name.text must not be empty", "Patient.name", "10168")
    if any(system == IHS_NUMBER for system in systems):
        yield Problem("Patient.identifier ihs-number is assigned by SATUSEHAT", "Patient.identifier", None)


def check_organization(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    if not resource.get("name"):
        yield Problem("Organization.name is mandatory", "Organization.name")
    yield from _referenced(resource, "partOf", "Organization", exists, None)
    yield from _own_identifier(resource, "organization", organization_id)


def check_location(resource: Json, organization_id: str, exists: Exists) -> Iterator[Problem]:
    if not resource.get("name"):
        yield Problem("Location.name is mandatory", "Location.name")
    position = resource.get("position", {})
    for axis in ("longitude", "latitude"):
        if not isinstance(position.get(axis), int | float):
            yield Problem(f"Location.position.{axis} is mandatory", f"Location.position.{axis}")
    yield from _referenced(resource, "managingOrganization", "Organization", exists, None)
    yield from _own_identifier(resource, "location", organization_id)


def _own_identifier(resource: Json, kind: str, organization_id: str) -> Iterator[Problem]:
    system = business_id_system(kind, organization_id)
    where = f"{resource['resourceType']}.identifier"
    if not any(identifier.get("system") == system for identifier in resource.get("identifier", [])):
        yield Problem(f"Invalid identifier System: {where} needs system {system}", where)


CHECKS: dict[str, Callable[[Json, str, Exists], Iterator[Problem]]] = {
    "Encounter": check_encounter,
    "Observation": check_observation,
    "Condition": check_condition,
    "ServiceRequest": check_service_request,
    "QuestionnaireResponse": check_questionnaire_response,
    "Immunization": check_immunization,
    "Patient": check_patient,
    "Organization": check_organization,
    "Location": check_location,
}


def _datetimes(resource: Json, now: datetime, *, strict_utc: bool) -> Iterator[Problem]:
    kind = resource.get("resourceType", "")
    values = [(f"{kind}.{path}", _at(resource, path)) for path in DATETIMES.get(kind, ())]
    if kind == "Encounter":
        for index, entry in enumerate(resource.get("statusHistory", [])):
            for end in ("start", "end"):
                values.append((f"Encounter.statusHistory[{index}].period.{end}", entry.get("period", {}).get(end)))
    for where, value in values:
        if value is None:
            continue
        moment = parse_datetime(str(value))
        if moment is None or (strict_utc and not UTC_DATETIME.match(str(value))):
            expected = "YYYY-MM-DDThh:mm:ss+00:00"
            yield Problem(f"Invalid date time format: {value} (expected {expected})", where, "10173")
        elif moment > now:
            yield Problem(f"Invalid date time value: {value} lies in the future", where, "10173")
        elif moment < EARLIEST:
            yield Problem(f"Invalid date time value: {value} is before 2014-06-03", where, "10173")
    periods = [("Encounter.period", resource.get("period"))] if kind == "Encounter" else []
    periods += [
        (f"Encounter.statusHistory[{index}].period", entry.get("period"))
        for index, entry in enumerate(resource.get("statusHistory", []) if kind == "Encounter" else [])
    ]
    for where, period in periods:
        first, last = (parse_datetime(str((period or {}).get(edge, ""))) for edge in ("start", "end"))
        if first and last and last < first:
            yield Problem(f"Invalid date time value: {where}.end lies before its start", f"{where}.end", "10173")


def _at(resource: Json, path: str) -> object:
    value: object = resource
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return value
