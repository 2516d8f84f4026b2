"""Stored visits mapped to SATUSEHAT transaction Bundles: a real visit, recorded through the API and evaluated, is
accepted by the simulator; what SATUSEHAT cannot take is skipped with its reason; a broken mapping is refused with
the rule it breaks."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from factories import create, practitioner_json, practitioner_role_json
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import registry
from ilp_api.integrations.satusehat.client import Accepted, Answer, Refused, SatusehatClient, SatusehatCredential
from ilp_api.integrations.satusehat.mapping import (
    NO_PRACTITIONER_IHS,
    MappedVisit,
    SatusehatIds,
    StoredVisit,
    Unmappable,
    map_visit,
    participants,
)
from ilp_api.integrations.satusehat.protocol import UTC_DATETIME
from ilp_api.integrations.satusehat.repository import SatusehatRepository, VisitRecord
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT
from ilp_api.settings import Settings
from ilp_api.wiring import resource_service
from satusehat_simulator import Simulator
from visits import BASE, blood_pressure, quantity, record_visit, visit_bundle

CREDENTIAL = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)
PATIENT_IHS = "P02478375538"  # the simulator's person with the test patient's NIK
NAKES_IHS = "10006926841"  # the simulator's nakes with factories.practitioner_json's NIK
T = TypeVar("T")


def stored_visit(db: Database, settings: Settings, encounter_id: str) -> VisitRecord:
    with db.session(write=False) as session:
        record = SatusehatRepository(session, resource_service(registry, settings)).visit(encounter_id)
    assert record is not None
    return record


def screened_visit(client: TestClient, network: dict[str, str], patient: dict[str, Any]) -> str:
    """A posyandu visit of an adult with a high blood pressure, weight and height, attended by a bidan."""
    bidan = create(client, practitioner_json())
    create(client, practitioner_role_json(bidan["id"], network["posyandu"]))
    bundle = visit_bundle(
        patient["id"],
        network["posyandu"],
        blood_pressure(165, 100),
        quantity("29463-7", 70, "kg"),
        quantity("8302-2", 170, "cm"),
    )
    bundle["entry"][0]["resource"]["participant"] = [{"individual": {"reference": f"Practitioner/{bidan['id']}"}}]
    return record_visit(client, bundle)


def call(simulator: Simulator, request: Callable[[SatusehatClient], Awaitable[T]]) -> T:
    async def session() -> T:
        client = SatusehatClient(simulator.auth_url, simulator.fhir_url)
        try:
            return await request(client)
        finally:
            await client.aclose()

    return asyncio.run(session())


def post(simulator: Simulator, bundle: dict[str, Any]) -> Answer:
    return call(simulator, lambda client: client.post_transaction(CREDENTIAL, bundle))


def posyandu_location(simulator: Simulator) -> str:
    location = call(
        simulator,
        lambda client: client.register_location(
            CREDENTIAL, "posyandu-1", "Posyandu Melati", longitude=110.4, latitude=-6.98, managing_organization="100011"
        ),
    )
    assert isinstance(location, str)
    return location


def ids(**changes: Any) -> SatusehatIds:
    defaults = {
        "organization": "100011",
        "service_provider": "100011",
        "location": "unregistered",
        "patient": PATIENT_IHS,
        "practitioners": (NAKES_IHS,),
    }
    return SatusehatIds(**(defaults | changes))


def test_a_stored_visit_is_accepted_by_the_simulator(
    client: TestClient,
    db: Database,
    settings: Settings,
    network: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    encounter_id = screened_visit(client, network, patient)
    record = stored_visit(db, settings, encounter_id)
    assert [p.roles for p in record.participants] == [("bidan",)]
    mapped = map_visit(record.visit, ids(location=posyandu_location(simulator)), BASE)
    assert isinstance(mapped, MappedVisit)

    kinds = [reference.split("/")[0] for reference in mapped.sent]
    assert kinds[0] == "Encounter"
    assert kinds.count("Observation") == 3, "blood pressure, weight, height"
    assert "Condition" in kinds, "the elevated reading, ICD-10 R03.0 from the ConceptMap"
    assert "ServiceRequest" in kinds, "the referral"
    reasons = {skipped.reason.split(":")[0] for skipped in mapped.skipped}
    assert "coded only in the project's CodeSystems" in reasons, "classification Observations are not sent"
    assert any(s.reference.startswith("Task/") for s in mapped.skipped)
    assert any(s.reference.startswith("EpisodeOfCare/") for s in mapped.skipped)

    encounter = mapped.bundle["entry"][0]["resource"]
    assert encounter["identifier"] == [
        {"system": "http://sys-ids.kemkes.go.id/encounter/100011", "value": encounter_id}
    ]
    assert [h["status"] for h in encounter["statusHistory"]] == ["arrived", "in-progress", "finished"]
    assert encounter["period"]["start"] == "2026-11-03T01:00:00+00:00", "08:00 WIB"
    assert all(UTC_DATETIME.match(t) for t in datetimes(mapped.bundle))

    answer = post(simulator, mapped.bundle)
    assert isinstance(answer, Accepted), answer
    assert len((answer.body or {})["entry"]) == len(mapped.sent)
    (received,) = simulator.admin("GET", "transactions").json()
    (condition,) = [e["resource"] for e in received["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert condition["code"]["coding"][0]["code"] == "R03.0"
    assert condition["subject"] == {"reference": f"Patient/{PATIENT_IHS}"}
    assert condition["encounter"]["reference"].startswith("Encounter/")

    again = post(simulator, mapped.bundle)
    assert isinstance(again, Refused)
    assert again.duplicate, "never stored twice"


def test_a_broken_mapping_is_refused_with_its_rule(
    client: TestClient,
    db: Database,
    settings: Settings,
    network: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    record = stored_visit(db, settings, screened_visit(client, network, patient))
    location = posyandu_location(simulator)
    foreign = map_visit(record.visit, ids(organization="100025753", location=location), BASE)  # another's ids
    assert isinstance(foreign, MappedVisit)
    answer = post(simulator, foreign.bundle)
    assert isinstance(answer, Refused)
    assert answer.rule_numbers[0] == "10117"

    mapped = map_visit(record.visit, ids(location=location), BASE)
    assert isinstance(mapped, MappedVisit)
    mapped.bundle["entry"][0]["resource"]["period"]["start"] = "2026-11-03T08:00:00+07:00"  # not UTC
    answer = post(simulator, mapped.bundle)
    assert isinstance(answer, Refused)
    assert answer.rule_numbers[0] == "10173"
    assert simulator.resources("Encounter") == []


def test_kader_only_visits_need_a_supervising_nakes() -> None:
    assert participants([], "10006926841") == ("10006926841",)
    assert participants(["10009880728"], "10006926841") == ("10009880728",)
    assert participants([], None) == ()
    visit = StoredVisit({"resourceType": "Encounter", "id": "1", "status": "finished"}, ())
    assert map_visit(visit, ids(practitioners=()), BASE) == Unmappable(NO_PRACTITIONER_IHS)


def test_what_satusehat_cannot_take_is_skipped_with_its_reason() -> None:
    encounter = {
        "resourceType": "Encounter",
        "id": "9",
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "2026-11-03T08:00:00+07:00"},
    }
    form = {
        "resourceType": "QuestionnaireResponse",
        "id": "q1",
        "status": "completed",
        "questionnaire": f"{BASE}/Questionnaire/tes-bisik",
    }
    kemkes = {**form, "id": "q2", "questionnaire": "https://fhir.kemkes.go.id/Questionnaire/Q0002"}
    dose = {
        "resourceType": "Immunization",
        "id": "i1",
        "status": "completed",
        "occurrenceDateTime": "2026-11-03",
        "vaccineCode": {"coding": [{"system": f"{BASE}/CodeSystem/imunisasi", "code": "bcg"}]},
    }
    gone = {"resourceType": "Observation", "id": "o1", "status": "entered-in-error"}
    mapped = map_visit(StoredVisit(encounter, (form, kemkes, dose, gone)), ids(), BASE)
    assert isinstance(mapped, MappedVisit)
    assert mapped.sent == ("Encounter/9", "Immunization/i1", "QuestionnaireResponse/q2")
    assert {s.reference: s.reason.split(" ")[0] for s in mapped.skipped} == {
        "Observation/o1": "status",
        "QuestionnaireResponse/q1": f"{BASE}/Questionnaire/tes-bisik",
    }
    immunization = mapped.bundle["entry"][1]["resource"]
    assert immunization["vaccineCode"]["coding"][0] == {
        "system": "http://sys-ids.kemkes.go.id/kfa",
        "code": "VG19",
        "display": "BCG",
    }
    assert immunization["occurrenceDateTime"] == "2026-11-03T00:00:00+00:00"


def datetimes(value: Any) -> list[str]:
    """Every dateTime string of a Bundle (a value with a 'T' at position 10)."""
    if isinstance(value, dict):
        return [t for item in value.values() for t in datetimes(item)]
    if isinstance(value, list):
        return [t for item in value for t in datetimes(item)]
    return [value] if isinstance(value, str) and len(value) > 10 and value[10:11] == "T" and value[:4].isdigit() else []
