"""What an evaluated visit adds to the record, as FHIR: one Observation per classification, a ServiceRequest and its
Task per referral, a Task per follow-up. Pure: the hook (screening/hook.py) stores what this returns.

Every derived resource carries an identifier in the ``ilp-turunan`` system whose value names its visit and what it
is (``{encounter id}/rujukan/puskesmas``), so a re-evaluation of the same visit finds and replaces it instead of
adding another, and retires what is no longer indicated.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ilp_api.fhir.datatypes import UCUM
from ilp_api.fhir.registry import Json
from ilp_api.ilp.evaluate import Evaluation
from ilp_api.ilp.referrals import SCHEDULE, FollowUp, Referral
from ilp_api.ilp.results import Classification, Rule
from ilp_api.ilp.screening_packages import DOSE_CODES

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INSTRUMENTS = frozenset({"srq-20", "puma", "adl", "skilas", "kpsp", "tb-gejala"})  # answered, not measured
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
PRIORITY = {"rutin": "routine", "segera": "urgent", "gawat-darurat": "stat"}  # §7 urgency → R4 request priority
UNIT_OF = {"imt": ("kg/m2", "kg/m2")}  # other classification values are scores and z-scores: dimensionless
SENT = "dikirim"  # a referral the rules create is addressed at once (Task.status requested)


def category_of(key: str) -> str:
    return "survey" if key in INSTRUMENTS else "exam"


def code_system(canonical_base: str, name: str) -> str:
    return f"{canonical_base}/CodeSystem/{name}"


def derived_identifier_system(canonical_base: str) -> str:
    return f"{canonical_base}/identifier/ilp-turunan"


def rule_extension_url(canonical_base: str) -> str:
    return f"{canonical_base}/StructureDefinition/rule"


def classification_key(encounter_id: str, key: str) -> str:
    """The identifier value of the Observation derived from a visit's classification ``key`` (``imt``)."""
    return f"{encounter_id}/klasifikasi/{key}"


@dataclass(frozen=True)
class Derived:
    """A resource to hold after this visit: ``key`` is its identifier value; a reference to another derived
    resource is written ``{"reference": "derived:<key>"}`` until the hook knows its id."""

    resource_type: str
    key: str
    resource: Json


@dataclass(frozen=True)
class VisitFacts:
    canonical_base: str
    encounter_id: str
    patient_id: str
    provider_id: str  # the facility that held the visit
    started: str  # Encounter.period.start, as recorded: the derived resources' time
    day: date
    targets: Mapping[str, str | None]  # referral target tier → the Organization id it resolves to (None: unknown)


def derive(evaluation: Evaluation, facts: VisitFacts) -> list[Derived]:
    derivation = _Derivation(facts)
    return [
        *(derivation.observation(result) for result in evaluation.classifications),
        *(resource for referral in evaluation.referrals for resource in derivation.referral(referral)),
        *(derivation.follow_up(follow_up) for follow_up in evaluation.follow_ups),
    ]


class _Derivation:
    def __init__(self, facts: VisitFacts) -> None:
        self.facts = facts
        self.base = facts.canonical_base

    def _common(self, key: str, rules: tuple[Rule, ...]) -> Json:
        facts = self.facts
        return {
            "extension": [{"url": rule_extension_url(self.base), "valueString": rule.id} for rule in rules],
            "identifier": [{"system": derived_identifier_system(self.base), "value": key}],
            "encounter": {"reference": f"Encounter/{facts.encounter_id}"},
        }

    def _concepts(self, system: str, codes: tuple[str, ...]) -> list[Json]:
        return [{"coding": [{"system": code_system(self.base, system), "code": code}]} for code in codes]

    def _due_item(self, item: str) -> Json:
        system = "imunisasi" if item in DOSE_CODES else "paket-skrining"
        return {"coding": [{"system": code_system(self.base, system), "code": item}]}

    def observation(self, result: Classification) -> Derived:
        key = classification_key(self.facts.encounter_id, result.key)
        category = {"system": code_system(self.base, "ilp-klasifikasi"), "code": result.code}
        v3 = result.interpretation
        interpretation = [{"system": INTERPRETATION, "code": v3.value}] if v3 else []
        if result.value is not None:
            unit, code = UNIT_OF.get(result.key, ("1", "1"))
            value: Json = {"valueQuantity": {"value": result.value, "unit": unit, "system": UCUM, "code": code}}
        else:
            value = {"valueCodeableConcept": {"coding": [category]}}
        resource = {
            "resourceType": "Observation",
            **self._common(key, (result.rule,)),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category_of(result.key)}]}],
            "code": {"coding": [{"system": code_system(self.base, "ilp-observation"), "code": result.key}]},
            "subject": {"reference": f"Patient/{self.facts.patient_id}"},
            "effectiveDateTime": self.facts.started,
            **value,
            "interpretation": [{"coding": [*interpretation, category]}],
        }
        if result.flags:
            resource["component"] = [
                {
                    "code": {"coding": [{"system": code_system(self.base, "ilp-observation"), "code": "flag"}]},
                    "valueCodeableConcept": {"coding": [{"system": category["system"], "code": flag}]},
                }
                for flag in result.flags
            ]
        return Derived("Observation", key, resource)

    def referral(self, referral: Referral) -> Iterator[Derived]:
        facts = self.facts
        key = f"{facts.encounter_id}/rujukan/{referral.target}"
        target = facts.targets.get(referral.target)
        requester = {"reference": f"Organization/{facts.provider_id}"}
        performer = [{"reference": f"Organization/{target}"}] if target else []
        reasons = self._concepts("ilp-klasifikasi", referral.reasons)
        yield Derived(
            "ServiceRequest",
            key,
            {
                "resourceType": "ServiceRequest",
                **self._common(key, referral.rules),
                "status": "active",
                "intent": "order",
                "priority": PRIORITY[referral.urgency],
                "code": {"coding": [{"system": code_system(self.base, "ilp-tindakan"), "code": "rujukan"}]},
                "subject": {"reference": f"Patient/{facts.patient_id}"},
                "authoredOn": facts.started,
                "requester": requester,
                "performerType": {
                    "coding": [{"system": code_system(self.base, "jenis-fasilitas"), "code": referral.target}]
                },
                **({"performer": performer} if performer else {}),
                "reasonCode": reasons,
            },
        )
        yield Derived(
            "Task",
            f"{key}/task",
            {
                "resourceType": "Task",
                **self._common(f"{key}/task", referral.rules),
                "basedOn": [{"reference": f"derived:{key}"}],
                "status": "requested",
                "businessStatus": {"coding": [{"system": code_system(self.base, "status-rujukan"), "code": SENT}]},
                "intent": "order",
                "priority": PRIORITY[referral.urgency],
                "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
                "focus": {"reference": f"derived:{key}"},
                "for": {"reference": f"Patient/{facts.patient_id}"},
                "authoredOn": facts.started,
                "requester": requester,
                **({"owner": performer[0]} if performer else {}),
                **({"reasonCode": reasons[0]} if reasons else {}),
            },
        )

    def follow_up(self, follow_up: FollowUp) -> Derived:
        facts = self.facts
        key = f"{facts.encounter_id}/tindak-lanjut/{follow_up.code}"
        due = facts.day + timedelta(days=follow_up.due_in_days)
        site = {"reference": f"Organization/{facts.provider_id}"}
        if follow_up.code == SCHEDULE.code:  # R8: items due that this site cannot provide, not findings
            reasons = [self._due_item(reason) for reason in follow_up.reasons]
        else:
            reasons = self._concepts("ilp-klasifikasi", follow_up.reasons)
        return Derived(
            "Task",
            key,
            {
                "resourceType": "Task",
                **self._common(key, follow_up.rules),
                "status": "requested",
                "intent": "plan",
                "code": {"coding": [{"system": code_system(self.base, "tindak-lanjut"), "code": follow_up.code}]},
                "for": {"reference": f"Patient/{facts.patient_id}"},
                "authoredOn": facts.started,
                "requester": site,
                "owner": site,
                "restriction": {"period": {"end": due.isoformat()}},
                **({"reasonCode": reasons[0]} if reasons else {}),
            },
        )
