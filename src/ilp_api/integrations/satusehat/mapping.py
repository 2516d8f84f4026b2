"""A stored visit → one SATUSEHAT transaction Bundle (pure: no I/O, no clock).

The visit is its Encounter and what refers to it; the SATUSEHAT ids it must refer to (the patient's IHS number,
the nakes', the facility's Organization and Location ids) are inputs, looked up before by the destination. What
SATUSEHAT cannot take is skipped with its reason, returned beside the Bundle, never dropped silently:

- Observations coded only in the project's CodeSystems (the visit's classifications): SATUSEHAT takes LOINC,
  SNOMED CT or Kemkes ``examination`` codes (rule 10010);
- Conditions without an ICD-10 code (10003), or entered in error;
- QuestionnaireResponses to the project's forms: SATUSEHAT takes only Kemkes canonicals (10169), and none of the
  ILP forms has one that is public; a response to a Kemkes canonical is sent;
- Immunizations of a dose with no KFA code (resources/vaccines.py);
- EpisodeOfCare: satusehat.md documents no SATUSEHAT profile for it; Tasks and anything else: no mapping.

Times are UTC ``+00:00`` (§6). Identifiers are the sender's ``http://sys-ids.kemkes.go.id/<type>/<org>`` with the
local id as value, so a Bundle sent again is answered 20002 instead of stored twice (§8). fullUrls are
``urn:uuid:`` UUIDs derived from the local reference, the same on every attempt.

ILP records one period per visit; SATUSEHAT wants its three phases (statusHistory arrived, in-progress, finished).
The mapping sends the visit's start as arrival and start of service, and its end (or, without one, the latest
time its resources were recorded, else its start) as the end of service.
"""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ilp_api.integrations.satusehat.protocol import (
    ACT_CODE,
    CONDITION_CATEGORY,
    ICD_10,
    KEMKES_QUESTIONNAIRE,
    KEMKES_TERMINOLOGY,
    KFA,
    LOINC,
    OBSERVATION_CATEGORY,
    PARTICIPATION_TYPE,
    SNOMED,
    UCUM,
    Json,
    business_id_system,
    utc,
)
from ilp_api.resources.vaccines import dose_system, vaccine_of
from ilp_api.terminology.concept_maps import icd10_of

NO_PRACTITIONER_IHS = "no-practitioner-ihs"
FULL_URL_NAMESPACE = uuid.UUID("0f3d2b8e-6f0c-4d8a-9a53-7c1c6a1f2e40")
OBSERVATION_SYSTEMS = (LOINC, SNOMED, KEMKES_TERMINOLOGY + "examination")
SERVICE_REQUEST_SYSTEMS = (LOINC, SNOMED, "http://hl7.org/fhir/sid/icd-9-cm", KEMKES_TERMINOLOGY + "examination")
PATIENT_REFERRAL = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
VITAL_SIGNS = frozenset({"8480-6", "8462-4", "85354-9", "8867-4", "9279-1", "8310-5", "29463-7", "8302-2", "39156-5"})
NOT_SENT_STATUSES = frozenset({"entered-in-error", "cancelled", "revoked", "draft", "preliminary"})
SENT_ENCOUNTER_STATUSES = frozenset({"finished", "in-progress", "arrived"})
# The types of a visit's resources that may be sent beside its Encounter (each has a mapping below).
SENT_TYPES = frozenset({"Observation", "Condition", "ServiceRequest", "QuestionnaireResponse", "Immunization"})


@dataclass(frozen=True)
class StoredVisit:
    """A visit as stored: its Encounter and every resource that refers to it (any type, in any status)."""

    encounter: Json
    resources: tuple[Json, ...]


@dataclass(frozen=True)
class SatusehatIds:
    """What the Bundle refers to in SATUSEHAT: the sender's Organization id (its identifiers' namespace), the
    service provider (the facility, or its posyandu/pustu sub-Organization), the Location, the patient's IHS
    number and the IHS numbers of the nakes who answer for the visit."""

    organization: str
    service_provider: str
    location: str
    patient: str
    practitioners: tuple[str, ...]


@dataclass(frozen=True)
class Skipped:
    reference: str  # the local resource, e.g. "Observation/123"
    reason: str


@dataclass(frozen=True)
class MappedVisit:
    bundle: Json
    sent: tuple[str, ...]  # the local references, in entry order (the response's entries follow it)
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True)
class Unmappable:
    """The visit cannot go at all; ``reason`` is the dead letter's (e.g. ``no-practitioner-ihs``)."""

    reason: str


def participants(nakes_ihs: Iterable[str], supervisor_ihs: str | None) -> tuple[str, ...]:
    """Who answers for the visit in SATUSEHAT: its nakes with an IHS number; for a kader-only visit (kader have
    none) the posyandu's supervising nakes; else nobody (the visit is then dead-lettered)."""
    found = tuple(dict.fromkeys(nakes_ihs))
    if found:
        return found
    return (supervisor_ihs,) if supervisor_ihs else ()


def map_visit(
    visit: StoredVisit, ids: SatusehatIds, canonical_base: str, delivered: frozenset[str] = frozenset()
) -> MappedVisit | Unmappable:
    """``delivered``: the local references SATUSEHAT holds already; one of them retired since (entered in error,
    cancelled, revoked) is sent again in that status, so that SATUSEHAT retires it too (it has no delete)."""
    encounter = visit.encounter
    if encounter.get("status") not in SENT_ENCOUNTER_STATUSES:
        return Unmappable(f"encounter-status-{encounter.get('status')}: only visits that took place are reported")
    if not ids.practitioners:
        return Unmappable(NO_PRACTITIONER_IHS)
    mapper = _Mapper(visit, ids, canonical_base, delivered)
    entries = [mapper.entry(encounter, mapper.encounter())]
    sent, skipped = [_reference(encounter)], []
    for resource in sorted(visit.resources, key=lambda r: (r["resourceType"], r["id"])):
        mapped = mapper.resource(resource)
        if isinstance(mapped, Skipped):
            skipped.append(mapped)
        else:
            entries.append(mapper.entry(resource, mapped))
            sent.append(_reference(resource))
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return MappedVisit(bundle, tuple(sent), tuple(skipped))


def full_url(canonical_base: str, reference: str) -> str:
    return f"urn:uuid:{uuid.uuid5(FULL_URL_NAMESPACE, f'{canonical_base}/{reference}')}"


def _reference(resource: Json) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _codings(concept: Json | None, systems: Iterable[str]) -> list[Json]:
    wanted = tuple(systems)
    return [coding for coding in (concept or {}).get("coding", []) if coding.get("system") in wanted]


def _status(resource: Json, element: str) -> str | None:
    value = resource.get(element)
    if isinstance(value, dict):
        return next((coding.get("code") for coding in value.get("coding", [])), None)
    return value if isinstance(value, str) else None


class _Mapper:
    def __init__(self, visit: StoredVisit, ids: SatusehatIds, canonical_base: str, delivered: frozenset[str]) -> None:
        self.visit = visit
        self.delivered = delivered
        self.ids = ids
        self.base = canonical_base
        self.encounter_url = full_url(canonical_base, _reference(visit.encounter))

    def entry(self, local: Json, resource: Json) -> Json:
        return {
            "fullUrl": full_url(self.base, _reference(local)),
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]},
        }

    def identifier(self, kind: str, local: Json) -> list[Json]:
        return [{"system": business_id_system(kind, self.ids.organization), "value": local["id"]}]

    @property
    def patient(self) -> Json:
        return {"reference": f"Patient/{self.ids.patient}"}

    @property
    def practitioner(self) -> Json:
        return {"reference": f"Practitioner/{self.ids.practitioners[0]}"}

    @property
    def visit_encounter(self) -> Json:
        return {"reference": self.encounter_url}

    # ---- the Encounter ----

    def encounter(self) -> Json:
        local = self.visit.encounter
        start = utc(local["period"]["start"])
        end = self._end(start)
        history = [
            {"status": "arrived", "period": {"start": start, "end": start}},
            {"status": "in-progress", "period": {"start": start, "end": end}},
        ]
        status = local["status"]
        if status == "finished":
            history.append({"status": "finished", "period": {"start": end, "end": end}})
        class_ = local.get("class", {})
        return {
            "resourceType": "Encounter",
            "identifier": self.identifier("encounter", local),
            "status": status,
            "class": {
                "system": class_.get("system", ACT_CODE),
                "code": class_.get("code", "AMB"),
                **({"display": class_["display"]} if "display" in class_ else {}),
            },
            "subject": self.patient,
            "participant": [
                {
                    "type": [{"coding": [{"system": PARTICIPATION_TYPE, "code": "ATND", "display": "attender"}]}],
                    "individual": {"reference": f"Practitioner/{ihs}"},
                }
                for ihs in self.ids.practitioners
            ],
            "period": {"start": start, **({"end": end} if status == "finished" else {})},
            "location": [{"location": {"reference": f"Location/{self.ids.location}"}}],
            "statusHistory": history,
            "serviceProvider": {"reference": f"Organization/{self.ids.service_provider}"},
        }

    def _end(self, start: str) -> str:
        local_end = self.visit.encounter.get("period", {}).get("end")
        if local_end:
            return utc(local_end)
        recorded = [utc(t) for t in self._recorded_times()]
        return max([start, *recorded])

    def _recorded_times(self) -> Iterator[str]:
        for resource in self.visit.resources:
            for element in ("effectiveDateTime", "authored", "occurrenceDateTime"):
                value = resource.get(element)
                if isinstance(value, str) and len(value) > 10:
                    yield value

    # ---- what refers to it ----

    def resource(self, local: Json) -> Json | Skipped:
        kind = local["resourceType"]
        reference = _reference(local)
        status = _status(local, "status")
        retired = status in NOT_SENT_STATUSES or _status(local, "verificationStatus") == "entered-in-error"
        if retired and reference not in self.delivered:
            return Skipped(reference, f"status {status or 'entered-in-error'}: nothing to report")
        mappers = {  # one per SENT_TYPES
            "Observation": self.observation,
            "Condition": self.condition,
            "ServiceRequest": self.service_request,
            "QuestionnaireResponse": self.questionnaire_response,
            "Immunization": self.immunization,
        }
        mapper = mappers.get(kind)
        if mapper is None:
            if kind == "EpisodeOfCare":
                return Skipped(reference, "no SATUSEHAT EpisodeOfCare profile is documented (satusehat.md)")
            return Skipped(reference, f"SATUSEHAT takes no {kind} of a screening visit")
        return mapper(local)

    def observation(self, local: Json) -> Json | Skipped:
        reference = _reference(local)
        code = _codings(local.get("code"), OBSERVATION_SYSTEMS)
        if not code:
            return Skipped(
                reference,
                "coded only in the project's CodeSystems: SATUSEHAT takes LOINC, SNOMED CT or "
                "Kemkes examination codes (10010)",
            )
        categories = [c for concept in local.get("category", []) for c in _codings(concept, [OBSERVATION_CATEGORY])]
        if not categories:
            vital = any(coding["code"] in VITAL_SIGNS for coding in code)
            name = "vital-signs" if vital else "exam"
            categories = [{"system": OBSERVATION_CATEGORY, "code": name}]
        observation: Json = {
            "resourceType": "Observation",
            "identifier": self.identifier("observation", local),
            "status": local["status"],
            "category": [{"coding": categories}],
            "code": {"coding": code},
            "subject": self.patient,
            "encounter": self.visit_encounter,
            "performer": [self.practitioner],
        }
        effective = local.get("effectiveDateTime") or self.visit.encounter["period"]["start"]
        observation["effectiveDateTime"] = utc(effective)
        value = self._value(local)
        if isinstance(value, Skipped):
            return Skipped(reference, value.reason)
        observation |= value
        components = []
        for component in local.get("component", []):
            component_code = _codings(component.get("code"), OBSERVATION_SYSTEMS)
            component_value = self._value(component)
            if component_code and not isinstance(component_value, Skipped) and component_value:
                components.append({"code": {"coding": component_code}, **component_value})
        if components:
            observation["component"] = components
        if not value and not components:
            return Skipped(reference, "no value SATUSEHAT can take (LOINC/SNOMED answer or UCUM quantity)")
        return observation

    def _value(self, local: Json) -> Json | Skipped:
        """The value[x] of an Observation or component as SATUSEHAT takes it ({} when it has none)."""
        quantity = local.get("valueQuantity")
        if quantity is not None:
            if quantity.get("system") != UCUM or not quantity.get("code"):
                return Skipped("", "a quantity without a UCUM code (10012)")
            return {
                "valueQuantity": {key: quantity[key] for key in ("value", "unit", "system", "code") if key in quantity}
            }
        concept = local.get("valueCodeableConcept")
        if concept is not None:
            codings = _codings(concept, OBSERVATION_SYSTEMS)
            return {"valueCodeableConcept": {"coding": codings}} if codings else {}
        for element in ("valueBoolean", "valueInteger", "valueString"):
            if element in local:
                return {element: local[element]}
        return {}

    def condition(self, local: Json) -> Json | Skipped:
        codes = [{**coding, "code": str(coding["code"]).upper()} for coding in _codings(local.get("code"), [ICD_10])]
        if not codes:
            return Skipped(_reference(local), "no ICD-10 code (10003)")
        categories = [c for concept in local.get("category", []) for c in _codings(concept, [CONDITION_CATEGORY])]
        condition: Json = {
            "resourceType": "Condition",
            "identifier": self.identifier("condition", local),
            "clinicalStatus": local.get("clinicalStatus")
            or {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "category": [{"coding": categories or [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": {"coding": codes},
            "subject": self.patient,
            "encounter": self.visit_encounter,
        }
        if local.get("verificationStatus"):
            condition["verificationStatus"] = local["verificationStatus"]
        for element in ("onsetDateTime", "recordedDate"):
            if local.get(element):
                condition[element] = utc(local[element])
        return condition

    def service_request(self, local: Json) -> Json | Skipped:
        code = _codings(local.get("code"), SERVICE_REQUEST_SYSTEMS)
        referral = any(c.get("code") == "rujukan" for c in local.get("code", {}).get("coding", [])) or any(
            c.get("code") == PATIENT_REFERRAL["code"]
            for concept in local.get("category", [])
            for c in _codings(concept, [SNOMED])
        )
        if not code and referral:
            code = [PATIENT_REFERRAL]
        if not code:
            return Skipped(_reference(local), "code not in LOINC, SNOMED CT, ICD-9-CM or Kemkes examination")
        request: Json = {
            "resourceType": "ServiceRequest",
            "identifier": self.identifier("servicerequest", local),
            "status": local["status"],
            "intent": local["intent"],
            "code": {"coding": code},
            "subject": self.patient,
            "encounter": self.visit_encounter,
            "requester": self.practitioner,
        }
        if local.get("priority"):
            request["priority"] = local["priority"]
        if referral:
            request["category"] = [{"coding": [PATIENT_REFERRAL]}]
        reasons = list(self._icd10_reasons(local.get("reasonCode", [])))
        if reasons:
            request["reasonCode"] = reasons
        if local.get("authoredOn"):
            request["authoredOn"] = utc(local["authoredOn"])
        return request

    def _icd10_reasons(self, concepts: list[Json]) -> Iterator[Json]:
        """Reasons as SATUSEHAT takes them (ICD-10): ICD-10 codings as they are, screening findings through the
        project's ConceptMap (terminology/concept_maps.py); findings it leaves unmatched are not sent."""
        for concept in concepts:
            for coding in concept.get("coding", []):
                if coding.get("system") == ICD_10:
                    yield {"coding": [coding]}
                elif str(coding.get("system", "")).endswith("/CodeSystem/ilp-klasifikasi"):
                    target = icd10_of(str(coding.get("code")))
                    if target is not None:
                        yield {"coding": [target.coding()]}

    def questionnaire_response(self, local: Json) -> Json | Skipped:
        canonical = str(local.get("questionnaire", ""))
        if not canonical.startswith(KEMKES_QUESTIONNAIRE):
            return Skipped(_reference(local), f"{canonical} has no Kemkes Questionnaire canonical (10169)")
        response: Json = {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": canonical,
            "status": local["status"],
            "subject": self.patient,
            "encounter": self.visit_encounter,
            "author": self.practitioner,
            "source": self.patient,
            "item": local.get("item", []),
        }
        if local.get("authored"):
            response["authored"] = utc(local["authored"])
        return response

    def immunization(self, local: Json) -> Json | Skipped:
        doses = _codings(local.get("vaccineCode"), [dose_system(self.base)])
        kfa = _codings(local.get("vaccineCode"), [KFA])
        if not kfa and doses:
            kfa = [{"system": KFA, "code": c.code, "display": c.display} for c in vaccine_of(doses[0]["code"]).kfa]
        if not kfa:
            return Skipped(_reference(local), "no KFA code for the vaccine")
        immunization: Json = {
            "resourceType": "Immunization",
            "identifier": self.identifier("immunization", local),
            "status": local["status"],
            "vaccineCode": {"coding": kfa},
            "patient": self.patient,
            "encounter": self.visit_encounter,
            "primarySource": local.get("primarySource", True),
            "performer": [{"actor": self.practitioner}],
        }
        if local.get("occurrenceDateTime"):
            immunization["occurrenceDateTime"] = utc(local["occurrenceDateTime"])
        return immunization


def as_updates(bundle: Json, sent: tuple[str, ...], remote_ids: dict[str, str]) -> Json:
    """The Bundle with each resource SATUSEHAT already holds (``remote_ids``: local reference → its id there) sent
    as a PUT of that id instead of a POST."""
    entries = []
    for local, entry in zip(sent, bundle["entry"], strict=True):
        remote = remote_ids.get(local)
        if remote is None:
            entries.append(entry)
            continue
        kind = entry["resource"]["resourceType"]
        resource = {**entry["resource"], "id": remote}
        entries.append({**entry, "resource": resource, "request": {"method": "PUT", "url": f"{kind}/{remote}"}})
    return {**bundle, "entry": entries}
