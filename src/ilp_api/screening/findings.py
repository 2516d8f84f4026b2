"""Findings as Conditions: a finding of an evaluated visit that the ConceptMap codes in ICD-10
(terminology/concept_maps.py) is held as a Condition of the resident, one per finding while it stays open, with
the visits that found it as its evidence. Called by the visit hook (screening/hook.py) once the visit's derived
Observations are stored.

Profile §6 says "Screening is not diagnosis. Never auto-create a Condition from a screening category." What is
recorded here is a finding to follow up, never a diagnosis, and the Condition says so in every element a client
reads: ``verificationStatus`` is ``unconfirmed`` and the rules never confirm it; the category is the project's
``temuan-skrining`` (beside R4's ``problem-list-item``, the list of problems to follow); the ICD-10 code is one
of chapter XVIII or XXI, a sign or a factor that names no disease, next to the profile's own code. Confirming,
refuting or resolving is the clinician's act: once a clinician has changed either status the Condition is
theirs, and the rules add no further visit to it.

- A finding seen again at another visit extends the resident's open Condition of that finding: its evidence gains
  the visit's Observations. Evidence runs in visit order, one entry per visit; ``encounter``, ``onsetDateTime``
  and ``recordedDate`` name the first visit that found it.
- A correction that removes a finding removes that visit's evidence from whichever Condition holds it. A
  Condition of the rules left without evidence becomes ``entered-in-error`` (and so loses its clinical status, R4
  con-5): it rested on a recording the correction undid, which is an entry error, not a finding refuted by
  clinical evidence.
- A z-score the engine flags implausible asks for a new measurement (profile §6.9) and makes no finding.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ilp_api.fhir.json import without_meta
from ilp_api.fhir.registry import LATEST, Json, date_range, parse_reference
from ilp_api.fhir.service import new_id
from ilp_api.ilp.evaluate import Evaluation
from ilp_api.ilp.growth.classify import IMPLAUSIBLE_FLAG
from ilp_api.screening.derivation import classification_key, code_system
from ilp_api.screening.records import UnitRecords
from ilp_api.terminology.concept_maps import icd10_of
from ilp_api.terminology.screening_codes import KLASIFIKASI_DISPLAY

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SCREENING_FINDING = "temuan-skrining"
WITHDRAWN = "Temuan dicabut: kunjungan yang menemukannya telah dikoreksi"


class FoundAt(NamedTuple):
    """The visit an evidence entry comes from: when it started (as a time to sort by, and as written)."""

    when: datetime
    start: str
    encounter: str


def kategori_system(canonical_base: str) -> str:
    return code_system(canonical_base, "kategori-kondisi")


@dataclass(frozen=True)
class VisitFindings:
    encounter_id: str
    patient_id: str
    started: str  # Encounter.period.start
    observations: frozenset[str]  # every classification Observation ever derived from the visit, retired ones too
    found: Mapping[str, tuple[str, ...]]  # finding → the visit's Observations showing it

    def holds(self, evidence: Json) -> bool:
        return any(self._observation(detail) in self.observations for detail in evidence.get("detail", []))

    def evidence(self, finding: str) -> Json:
        return {"detail": [{"reference": f"Observation/{observation}"} for observation in self.found[finding]]}

    @staticmethod
    def _observation(detail: Json) -> str | None:
        ref = parse_reference(detail.get("reference", ""))
        return ref.id if ref is not None and ref.type == "Observation" else None


def record_findings(
    records: UnitRecords, encounter: Json, evaluation: Evaluation | None, derived: Mapping[str, str]
) -> None:
    """Hold the visit's findings as Conditions. ``evaluation`` None: the visit counts for nothing (cancelled …);
    ``derived`` is the id of every resource derived from the visit, by its key (screening/derivation.py)."""
    subject = parse_reference(encounter["subject"]["reference"])
    assert subject is not None  # checked when the Encounter was stored
    visit_prefix = classification_key(encounter["id"], "")
    visit = VisitFindings(
        encounter_id=encounter["id"],
        patient_id=subject.id,
        started=encounter.get("period", {}).get("start", ""),
        observations=frozenset(id_ for key, id_ in derived.items() if key.startswith(visit_prefix)),
        found=_found(evaluation, encounter["id"], derived) if evaluation else {},
    )
    _Findings(records, visit).record()


def _found(evaluation: Evaluation, encounter_id: str, derived: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for result in evaluation.classifications:
        if IMPLAUSIBLE_FLAG in result.flags:
            continue
        observation = derived[classification_key(encounter_id, result.key)]
        for finding in dict.fromkeys((result.code, *result.flags)):
            if icd10_of(finding) is not None:
                found.setdefault(finding, []).append(observation)
    return {finding: tuple(sorted(observations)) for finding, observations in found.items()}


class _Findings:
    def __init__(self, records: UnitRecords, visit: VisitFindings) -> None:
        self.records = records
        self.visit = visit
        self.base = records.base

    def record(self) -> None:
        held = sorted(
            self.records.search(
                "Condition",
                ("patient", f"Patient/{self.visit.patient_id}"),
                ("category", f"{kategori_system(self.base)}|{SCREENING_FINDING}"),
            ),
            key=lambda condition: (condition.get("recordedDate", ""), condition["id"]),
        )
        placed: set[str] = set()
        for condition in held:  # where the visit's evidence already is, it stays (renewed), or leaves if not found
            evidence = condition.get("evidence", [])
            mine = [index for index, entry in enumerate(evidence) if self.visit.holds(entry)]
            if not mine:
                continue
            finding = self._finding(condition)
            renewed = [self.visit.evidence(finding)] if finding in self.visit.found else []
            kept = [entry for entry in evidence if not self.visit.holds(entry)]
            self._rewrite(condition, [*kept[: mine[0]], *renewed, *kept[mine[0] :]])
            placed |= {finding} if renewed else set()
        for finding in self.visit.found:  # found here and held nowhere yet: extend its open Condition, or record one
            if finding in placed:
                continue
            open_one = next((c for c in held if self._finding(c) == finding and _rules_own(c)), None)
            if open_one is None:
                self._create(finding)
            else:
                self._rewrite(open_one, [*open_one.get("evidence", []), self.visit.evidence(finding)])

    def _finding(self, condition: Json) -> str:
        system = code_system(self.base, "ilp-klasifikasi")
        return next((c["code"] for c in condition.get("code", {}).get("coding", []) if c.get("system") == system), "")

    def _create(self, finding: str) -> None:
        icd10 = icd10_of(finding)
        assert icd10 is not None  # only mapped findings are found
        condition = {
            "resourceType": "Condition",
            "id": new_id(),
            "clinicalStatus": _concept(CLINICAL, "active"),
            "verificationStatus": _concept(VERIFICATION, "unconfirmed"),
            "category": [
                {
                    "coding": [
                        {"system": CATEGORY, "code": "problem-list-item"},
                        {"system": kategori_system(self.base), "code": SCREENING_FINDING},
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": code_system(self.base, "ilp-klasifikasi"),
                        "code": finding,
                        "display": KLASIFIKASI_DISPLAY[finding],
                    },
                    icd10.coding(),
                ]
            },
            "subject": {"reference": f"Patient/{self.visit.patient_id}"},
        }
        self.records.store("Condition", self._with_evidence(condition, [self.visit.evidence(finding)]), create=True)

    def _rewrite(self, condition: Json, evidence: list[Json]) -> None:
        current = without_meta(condition)
        if _rules_own(condition):
            rewritten = self._with_evidence(current, evidence)
        else:  # a clinician's Condition keeps its statuses and dates; only evidence the visit withdrew leaves it
            rewritten = {key: value for key, value in current.items() if key != "evidence"}
            rewritten |= {"evidence": evidence} if evidence else {}
        if rewritten != current:
            self.records.store("Condition", rewritten, create=False)

    def _with_evidence(self, condition: Json, evidence: list[Json]) -> Json:
        """The rules' Condition over this evidence: in visit order, dated by the first visit. Evidence whose
        Observation is gone is dropped; with no visit's evidence left, the Condition is entered in error."""
        dated = sorted(
            (found_at, index, entry)
            for index, entry in enumerate(evidence)
            if (found_at := self._found_at(entry)) is not None
        )
        rest = {key: value for key, value in condition.items() if key != "evidence"}
        rest |= {"evidence": [entry for _, _, entry in dated]} if dated else {}
        first = dated[0][0] if dated else None
        if first is None or not first.start:
            return {
                **{key: value for key, value in rest.items() if key != "clinicalStatus"},
                "verificationStatus": _concept(VERIFICATION, "entered-in-error"),
                "note": [*rest.get("note", []), {"text": WITHDRAWN}],
            }
        return {
            **rest,
            "encounter": {"reference": first.encounter},
            "onsetDateTime": first.start,
            "recordedDate": first.start,
        }

    def _found_at(self, evidence: Json) -> FoundAt | None:
        """The visit of the evidence: this one, or the one of the derived Observation it names (that Observation's
        effective time and encounter). None when the Observation is gone; evidence that names no visit's
        Observation (a clinician's) sorts last, with no start."""
        if self.visit.holds(evidence):
            visit = f"Encounter/{self.visit.encounter_id}"
            return FoundAt(date_range(self.visit.started).low, self.visit.started, visit)
        details = evidence.get("detail", [])
        observation = self.records.read(details[0]) if details else {}
        if observation is None:
            return None
        start, encounter = observation.get("effectiveDateTime", ""), observation.get("encounter", {}).get("reference")
        return FoundAt(date_range(start).low, start, encounter) if start and encounter else FoundAt(LATEST, "", "")


def _rules_own(condition: Json) -> bool:
    """Open and the rules': active and unconfirmed, as the rules wrote it."""
    return _code(condition, "clinicalStatus") == "active" and _code(condition, "verificationStatus") == "unconfirmed"


def _code(condition: Json, element: str) -> str | None:
    codings: Iterable[Json] = condition.get(element, {}).get("coding", [])
    return next((coding.get("code") for coding in codings), None)


def _concept(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}
