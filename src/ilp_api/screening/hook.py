"""Visits evaluated on write: a write hook of the pipeline (fhir/hooks.py) that, in the transaction that records or
corrects a visit, evaluates it with the ILP engine and stores what follows.

Any write of an Encounter, or of an Observation or QuestionnaireResponse of one, re-evaluates that visit as it
now stands (measurements from its Observations, instruments from its answered Questionnaires): its
classifications as Observations, its referrals as ServiceRequest + Task addressed to the facility the network
resolves (this posyandu's pustu, its puskesmas), its follow-ups as Tasks with a due date (screening/derivation.py),
replacing what an earlier evaluation of the same visit derived and retiring what is no longer indicated. The
patient's klaster are kept as one active EpisodeOfCare per (patient, puskesmas, klaster 2–4), a pregnancy as an
episode of its own, and the Encounter points at them and names its klaster. Findings the ConceptMap codes in
ICD-10 are kept as the resident's unconfirmed Conditions, one per finding across visits (screening/findings.py).

The hook reads and writes without the caller's organization scope: the referral target and the puskesmas lie
above the caller's own facility.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from ilp_api.fhir.hooks import write_hooks
from ilp_api.fhir.json import without_meta
from ilp_api.fhir.outcome import FhirError, Unprocessable
from ilp_api.fhir.registry import Json, Ref, parse_reference
from ilp_api.fhir.service import new_id
from ilp_api.fhir.unit_of_work import Change, UnitOfWork
from ilp_api.ilp.engine_settings import DEFAULT_SETTINGS
from ilp_api.ilp.errors import InvalidInput
from ilp_api.ilp.evaluate import Evaluation, evaluate
from ilp_api.ilp.inputs import Site, VisitInput
from ilp_api.resources.organization import facility_type, network_above
from ilp_api.resources.questionnaire_response import instruments_from
from ilp_api.screening.derivation import (
    Derived,
    VisitFacts,
    derive,
    derived_identifier_system,
)
from ilp_api.screening.episodes import PatientEpisodes, klaster_system
from ilp_api.screening.findings import record_findings
from ilp_api.screening.follow_ups_done import complete_follow_ups
from ilp_api.screening.immunizations import recorded_doses
from ilp_api.screening.records import UnitRecords
from ilp_api.screening.visit_record import VisitRecord, visit_date, visit_input, weight_history

SITES: dict[str, Site] = {"posyandu": "posyandu", "pustu": "pustu", "puskesmas": "puskesmas"}
NOT_EVALUATED = frozenset({"planned", "cancelled", "entered-in-error"})  # such an Encounter keeps nothing derived
# What retiring a derived resource means for its type, and the statuses in which it is already at rest.
RETIRED = {"Observation": "cancelled", "ServiceRequest": "revoked", "Task": "cancelled"}
AT_REST = frozenset({"cancelled", "revoked", "completed", "rejected", "failed", "entered-in-error"})
# A derived request the workflow has taken over (accepted, in progress …) is no longer the rules' to rewrite.
RULES_OWN = {"Observation": frozenset({"final", "cancelled"}), "ServiceRequest": frozenset({"active", "revoked"})}
TASK_RULES_OWN = frozenset({"requested", "cancelled"})
NO_LONGER_INDICATED = "Tidak lagi diindikasikan setelah kunjungan dikoreksi"


def evaluate_visits(changes: Sequence[Change], unit: UnitOfWork) -> None:
    """The write hook: each visit this unit of work touched, evaluated once, after all of its writes."""
    for encounter_id in sorted(visits_touched(changes, unit.rules.canonical_base)):
        VisitEvaluation(unit.unscoped(), encounter_id).run()


def visits_touched(changes: Iterable[Change], canonical_base: str) -> set[str]:
    derived_system = derived_identifier_system(canonical_base)
    touched = set()
    for change in changes:
        for resource in (change.before, change.after):
            if resource is None or derived_system in _identifier_systems(resource):
                continue
            if change.resource_type == "Encounter" and change.after is not None:
                touched.add(change.id)
            elif change.resource_type in ("Observation", "QuestionnaireResponse"):
                visit = parse_reference(resource.get("encounter", {}).get("reference", ""))
                if visit is not None and visit.type == "Encounter":
                    touched.add(visit.id)
    return touched


class VisitEvaluation(UnitRecords):
    def __init__(self, unit: UnitOfWork, encounter_id: str) -> None:
        super().__init__(unit)
        self.encounter_id = encounter_id

    # ---- the evaluation ----

    def run(self) -> None:
        try:
            self.evaluate()
        except FhirError as error:
            error.about = error.about or f"Encounter/{self.encounter_id}"  # the entry a Bundle names
            raise

    def evaluate(self) -> None:
        encounter = self.unit.rules.read(Ref("Encounter", self.encounter_id))
        if encounter is None:
            return
        provider = self.read(encounter.get("serviceProvider"))
        if encounter["status"] in NOT_EVALUATED or provider is None:
            record_findings(self, encounter, None, self.reconcile([]))
            return
        network = list(network_above(self.unit.rules, provider))
        site = SITES.get(facility_type(provider, self.base) or "")
        if site is None:
            raise Unprocessable(
                f"Encounter.serviceProvider Organization/{provider['id']} is no posyandu, pustu or puskesmas: a "
                "screening visit is held by one of them",
                expression="Encounter.serviceProvider",
            )
        patient = self.read(encounter["subject"])
        assert patient is not None  # the reference was checked when the Encounter was stored
        patient_episodes = PatientEpisodes(self, patient)
        patient_episodes.close_ended(visit_date(encounter))
        engine_input, evaluation = self.evaluation(encounter, patient_episodes, site)
        tiers = {facility_type(o, self.base): o["id"] for o in reversed(network[1:])}
        facts = VisitFacts(
            canonical_base=self.base,
            encounter_id=self.encounter_id,
            patient_id=patient["id"],
            provider_id=provider["id"],
            started=encounter["period"]["start"],
            day=visit_date(encounter),
            targets={tier: tiers.get(tier) for tier in ("pustu", "puskesmas", "fkrtl")},
        )
        record_findings(self, encounter, evaluation, self.reconcile(derive(evaluation, facts)))
        complete_follow_ups(self, engine_input, facts)
        puskesmas = next((o["id"] for o in network if facility_type(o, self.base) == "puskesmas"), None)
        episodes = patient_episodes.keep(evaluation, facts.started, puskesmas) if puskesmas else []
        self.link(encounter, evaluation, episodes)

    def evaluation(self, encounter: Json, episodes: PatientEpisodes, site: Site) -> tuple[VisitInput, Evaluation]:
        patient = episodes.patient
        visit = f"Encounter/{self.encounter_id}"
        observations = [o for o in self.search("Observation", ("encounter", visit)) if not self.is_derived(o)]
        responses = self.search("QuestionnaireResponse", ("encounter", visit))
        day = visit_date(encounter)
        weighings = self.search("Observation", ("patient", f"Patient/{patient['id']}"), ("code", "29463-7"))
        record = VisitRecord(
            encounter=encounter,
            patient=patient,
            site=site,
            observations=observations,
            instruments=instruments_from(responses, self.base),
            earlier_weights=weight_history(weighings, before=day),
            anc_visit_number=episodes.anc_visit_number(day),
            doses_given=recorded_doses(self, patient["id"], until=day),
        )
        try:
            engine_input = visit_input(record)
            return engine_input, evaluate(engine_input, DEFAULT_SETTINGS)
        except InvalidInput as error:
            raise Unprocessable(
                f"The visit Encounter/{self.encounter_id} contradicts itself: {error.message} ({error.field})",
                expression="Encounter",
                ilp_code=error.code,
            ) from error

    def is_derived(self, resource: Json) -> bool:
        return derived_identifier_system(self.base) in _identifier_systems(resource)

    # ---- storing what follows ----

    def reconcile(self, wanted: list[Derived]) -> dict[str, str]:
        """Create what is new, rewrite what changed, retire what the visit no longer calls for. Returns the id of
        every resource derived from the visit, wanted or retired, by its key."""
        system = derived_identifier_system(self.base)
        held: dict[str, Json] = {}
        for resource_type in RETIRED:
            for resource in self.search(
                resource_type, ("encounter", f"Encounter/{self.encounter_id}"), ("identifier", f"{system}|")
            ):
                held[_derived_key(resource, system)] = resource
        every_id = {key: resource["id"] for key, resource in held.items()}
        ids = {derived.key: held[derived.key]["id"] if derived.key in held else new_id() for derived in wanted}
        types = {derived.key: derived.resource_type for derived in wanted}
        for derived in wanted:
            resource = {**_resolved(derived.resource, ids, types), "id": ids[derived.key]}
            current = held.pop(derived.key, None)
            if current is None:
                self.store(derived.resource_type, resource, create=True)
            elif (
                current.get("status") in _owned_statuses(derived.resource_type)
                and current.get("owner") == resource.get("owner")  # else its requester has addressed it since
                and without_meta(current) != resource
            ):
                self.store(derived.resource_type, resource, create=False)
        for resource in held.values():
            retired = RETIRED[resource["resourceType"]]
            if resource.get("status") not in AT_REST:
                reason = {"statusReason": {"text": NO_LONGER_INDICATED}} if resource["resourceType"] == "Task" else {}
                self.store(
                    resource["resourceType"], {**without_meta(resource), "status": retired, **reason}, create=False
                )
        return every_id | ids

    def link(self, encounter: Json, evaluation: Evaluation, episodes: list[str]) -> None:
        """The Encounter names its klaster (5 included) and points at its episodes."""
        system = klaster_system(self.base)
        others = [t for t in encounter.get("type", []) if not any(c.get("system") == system for c in t["coding"])]
        klaster = sorted({entry.klaster for entry in evaluation.klaster})
        kept = [e for e in encounter.get("episodeOfCare", []) if e.get("reference") not in _refs(episodes)]
        linked = {
            **without_meta(encounter),
            "type": [*others, *({"coding": [{"system": system, "code": f"klaster-{k}"}]} for k in klaster)],
            "episodeOfCare": [*kept, *({"reference": ref} for ref in _refs(episodes))],
            "id": encounter["id"],
        }
        if linked != {**without_meta(encounter), "id": encounter["id"]}:
            self.store("Encounter", linked, create=False)


def _refs(episodes: list[str]) -> list[str]:
    return [f"EpisodeOfCare/{episode}" for episode in episodes]


def _owned_statuses(resource_type: str) -> frozenset[str]:
    return RULES_OWN.get(resource_type, TASK_RULES_OWN)


def _identifier_systems(resource: Json) -> set[str]:
    """The systems of a resource's identifiers (a list in most types, one Identifier in some)."""
    identifiers = resource.get("identifier", [])
    return {i.get("system", "") for i in (identifiers if isinstance(identifiers, list) else [identifiers])}


def _derived_key(resource: Json, system: str) -> str:
    return str(next(i["value"] for i in resource["identifier"] if i.get("system") == system))


def _resolved(value: Any, ids: dict[str, str], types: dict[str, str]) -> Any:
    """``{"reference": "derived:<key>"}`` → ``{"reference": "<Type>/<id>"}``."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("derived:"):
            key = reference.removeprefix("derived:")
            return {**value, "reference": f"{types[key]}/{ids[key]}"}
        return {k: _resolved(v, ids, types) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(item, ids, types) for item in value]
    return value


write_hooks.add(evaluate_visits)
