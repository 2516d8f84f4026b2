"""Findings kept as the resident's Conditions across visits (screening/findings.py), over HTTP on both databases:
unconfirmed, coded by the ConceptMap, extended by a repeat finding, withdrawn by a correction."""

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from factories import CONDITION_CLINICAL, FHIR_JSON, questionnaire_response_json, search
from visits import (
    BASE,
    KLASIFIKASI,
    PREGNANT,
    VISIT_DAY,
    blood_pressure,
    category,
    classification,
    derived,
    quantity,
    record_visit,
    resident,
    visit_bundle,
)

ICD_10 = "http://hl7.org/fhir/sid/icd-10"
SCREENING_FINDINGS = f"category={BASE}/CodeSystem/kategori-kondisi|temuan-skrining"
OCTOBER, NOVEMBER = "2026-10-06", VISIT_DAY


def findings(client: TestClient, patient: str) -> list[dict[str, Any]]:
    bundle = search(client, "Condition", f"patient=Patient/{patient}&{SCREENING_FINDINGS}&_sort=_id")
    return [entry["resource"] for entry in bundle.get("entry", [])]


def codes_of(condition: dict[str, Any]) -> dict[str, str]:
    return {coding["system"]: coding["code"] for coding in condition["code"]["coding"]}


def status(condition: dict[str, Any], element: str) -> str | None:
    return condition[element]["coding"][0]["code"] if element in condition else None


def blood_pressure_reading(client: TestClient, visit: str) -> dict[str, Any]:
    """The visit's recorded blood pressure, as the kader sent it."""
    return next(o for o in derived(client, "Observation", visit) if o["code"]["coding"][0]["code"] == "85354-9")


def evidence_of(client: TestClient, visit: str) -> dict[str, Any]:
    """The evidence entry a visit's blood-pressure classification gives a Condition."""
    observation = classification(derived(client, "Observation", visit), "tekanan-darah")
    return {"detail": [{"reference": f"Observation/{observation['id']}"}]}


def correct_blood_pressure(client: TestClient, visit: str, systolic: int, diastolic: int) -> None:
    corrected = {**blood_pressure_reading(client, visit), **blood_pressure(systolic, diastolic)}
    response = client.put(f"/fhir/Observation/{corrected['id']}", json=corrected, headers=FHIR_JSON)
    assert response.status_code == 200, response.text


def test_a_repeat_finding_at_a_second_visit_extends_the_first_condition(
    client: TestClient, network: dict[str, str]
) -> None:
    adult = resident(client, "1980-02-11", "male")

    first = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=OCTOBER))
    second = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(152, 96), day=NOVEMBER))

    [condition] = findings(client, adult)
    assert codes_of(condition) == {KLASIFIKASI: "hipertensi-1", ICD_10: "R03.0"}
    assert (status(condition, "clinicalStatus"), status(condition, "verificationStatus")) == ("active", "unconfirmed")
    assert condition["encounter"] == {"reference": f"Encounter/{first}"}
    assert condition["onsetDateTime"] == condition["recordedDate"] == f"{OCTOBER}T08:00:00+07:00"
    assert condition["evidence"] == [evidence_of(client, first), evidence_of(client, second)]
    assert condition["meta"]["versionId"] == "2"  # found in October, extended in November


def test_a_visit_recorded_late_takes_its_place_in_the_order_of_visits(
    client: TestClient, network: dict[str, str]
) -> None:
    adult = resident(client, "1980-02-11", "male")

    november = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=NOVEMBER))
    october = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=OCTOBER))

    [condition] = findings(client, adult)
    assert condition["encounter"] == {"reference": f"Encounter/{october}"}
    assert condition["evidence"] == [evidence_of(client, october), evidence_of(client, november)]


def test_a_correction_that_removes_a_finding_removes_its_evidence_and_an_unsupported_condition_is_withdrawn(
    client: TestClient, network: dict[str, str]
) -> None:
    adult = resident(client, "1980-02-11", "male")
    first = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=OCTOBER))
    second = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=NOVEMBER))

    correct_blood_pressure(client, first, 118, 76)  # October's reading was mistyped

    [condition] = findings(client, adult)
    assert condition["evidence"] == [evidence_of(client, second)]
    assert condition["encounter"] == {"reference": f"Encounter/{second}"}  # now the first visit that found it
    assert condition["onsetDateTime"] == f"{NOVEMBER}T08:00:00+07:00"
    assert status(condition, "verificationStatus") == "unconfirmed"

    correct_blood_pressure(client, second, 120, 78)  # and so was November's

    [withdrawn] = findings(client, adult)
    assert withdrawn["id"] == condition["id"]
    assert status(withdrawn, "verificationStatus") == "entered-in-error"
    assert "clinicalStatus" not in withdrawn  # R4 con-5
    assert "evidence" not in withdrawn
    assert withdrawn["note"][0]["text"]


def test_a_cancelled_visit_withdraws_its_findings(client: TestClient, network: dict[str, str]) -> None:
    adult = resident(client, "1980-02-11", "male")
    visit = record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95)))
    encounter = client.get(f"/fhir/Encounter/{visit}").json()

    cancelled = {**encounter, "status": "entered-in-error"}
    assert client.put(f"/fhir/Encounter/{visit}", json=cancelled, headers=FHIR_JSON).status_code == 200

    [condition] = findings(client, adult)
    assert status(condition, "verificationStatus") == "entered-in-error"


def test_a_condition_a_clinician_took_over_gets_no_further_visits(client: TestClient, network: dict[str, str]) -> None:
    adult = resident(client, "1980-02-11", "male")
    record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=OCTOBER))
    [found] = findings(client, adult)
    resolved = {**found, "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "resolved"}]}}
    assert client.put(f"/fhir/Condition/{found['id']}", json=resolved, headers=FHIR_JSON).status_code == 200

    record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(150, 95), day=NOVEMBER))

    older, newer = sorted(findings(client, adult), key=lambda condition: condition["recordedDate"])
    assert (older["id"], status(older, "clinicalStatus"), len(older["evidence"])) == (found["id"], "resolved", 1)
    assert (status(newer, "clinicalStatus"), len(newer["evidence"])) == ("active", 1)


def test_only_findings_the_concept_map_codes_become_conditions(client: TestClient, network: dict[str, str]) -> None:
    adult = resident(client, "1980-02-11", "female")
    answers = {f"srq-{item}": item == 17 for item in range(1, 21)}
    bundle = visit_bundle(adult, network["posyandu"], quantity("29463-7", 100.0, "kg"), quantity("8302-2", 165, "cm"))
    response = questionnaire_response_json(adult, "srq-20", answers, encounter={"reference": "urn:uuid:visit"})
    bundle["entry"].append({"resource": response, "request": {"method": "POST", "url": "QuestionnaireResponse"}})

    visit = record_visit(client, bundle)

    assert category(classification(derived(client, "Observation", visit), "imt")) == "obesitas-2"  # E66: no R/Z code
    [suicide_risk] = findings(client, adult)  # a flag of SRQ-20 item 17
    assert codes_of(suicide_risk) == {KLASIFIKASI: "risiko-bunuh-diri", ICD_10: "R45.8"}


def test_a_stunted_child_is_a_finding_but_an_implausible_height_is_measured_again(
    client: TestClient, network: dict[str, str]
) -> None:
    stunted, mismeasured = resident(client, "2023-09-20", "male"), resident(client, "2023-09-20", "male", serial=2)

    record_visit(client, visit_bundle(stunted, network["posyandu"], quantity("8302-2", 88.0, "cm")))
    visit = record_visit(client, visit_bundle(mismeasured, network["posyandu"], quantity("8302-2", 60.0, "cm")))

    [stunting] = findings(client, stunted)
    assert codes_of(stunting) == {KLASIFIKASI: "pendek", ICD_10: "R62.8"}
    implausible = classification(derived(client, "Observation", visit), "tb-u")
    assert [c["valueCodeableConcept"]["coding"][0]["code"] for c in implausible["component"]] == ["z-tidak-wajar"]
    assert findings(client, mismeasured) == []


def test_every_code_a_visit_writes_resolves_in_the_code_system_it_names(
    client: TestClient, network: dict[str, str]
) -> None:
    mother = resident(client, "2004-05-10", "female")
    glucose = quantity("2339-0", 160, "mg/dL")  # prediabetes: a follow-up Task
    record_visit(client, visit_bundle(mother, network["posyandu"], blood_pressure(150, 95), PREGNANT, glucose))
    everything = client.get(f"/fhir/Patient/{mother}/$everything").json()
    published = {}
    for entry in search(client, "CodeSystem", "_count=100")["entry"]:
        published[entry["resource"]["url"]] = {concept["code"] for concept in entry["resource"]["concept"]}

    written = {
        (coding["system"], coding["code"])
        for entry in everything["entry"]
        for coding in codings(entry["resource"])
        if coding["system"].startswith(f"{BASE}/CodeSystem/")
    }

    assert {system.rsplit("/", 1)[1] for system, _ in written} >= {
        "klaster",
        "ilp-observation",
        "ilp-klasifikasi",
        "tindak-lanjut",
        "status-rujukan",
        "ilp-tindakan",
        "kategori-kondisi",
        "paket-skrining",  # what a posyandu cannot provide, scheduled elsewhere (jadwalkan)
    }
    assert {(system, code) for system, code in written if code not in published.get(system, set())} == set()


def codings(value: Any) -> Iterator[dict[str, Any]]:
    """Every Coding in a resource, however deep."""
    if isinstance(value, dict):
        if isinstance(value.get("system"), str) and "code" in value:
            yield value
        for item in value.values():
            yield from codings(item)
    elif isinstance(value, list):
        for item in value:
            yield from codings(item)
