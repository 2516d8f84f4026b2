"""Screening visits as a kader app sends them (one transaction Bundle each), and reading back what they derived."""

from typing import Any

from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    LOINC,
    create,
    encounter_json,
    nik,
    observation_json,
    patient_json,
    search,
)
from ilp_api.fhir.datatypes import UCUM

BASE = "http://ilp-api.example/fhir"  # the default canonical base
KLASTER = f"{BASE}/CodeSystem/klaster"
KLASIFIKASI = f"{BASE}/CodeSystem/ilp-klasifikasi"
VISIT_DAY = "2026-11-03"
VISIT_IDENTIFIER = "https://posyandu-app.example/kunjungan"


def quantity(code: str, value: float, unit: str) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueQuantity": quantity_value(value, unit)}


def quantity_value(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def blood_pressure(systolic: int, diastolic: int) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "component": [quantity("8480-6", systolic, "mm[Hg]"), quantity("8462-4", diastolic, "mm[Hg]")],
    }


PREGNANT = {
    "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
    "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA15173-0"}]},
}


def visit_bundle(
    patient: str, provider: str, *measurements: dict[str, Any], day: str = VISIT_DAY, visit: str = "visit"
) -> dict[str, Any]:
    """An Encounter and its Observations, linked by urn:uuid (``visit`` names them), as a kader app sends them;
    the Encounter's business identifier is the patient and day."""
    encounter = encounter_json(
        patient,
        provider,
        period={"start": f"{day}T08:00:00+07:00"},
        identifier=[{"system": VISIT_IDENTIFIER, "value": f"{patient}/{day}"}],
    )
    entries = [
        {"fullUrl": f"urn:uuid:{visit}", "resource": encounter, "request": {"method": "POST", "url": "Encounter"}}
    ]
    for index, measurement in enumerate(measurements):
        observation = observation_json(
            patient, encounter={"reference": f"urn:uuid:{visit}"}, effectiveDateTime=f"{day}T08:05:00+07:00"
        )
        entries.append(
            {
                "fullUrl": f"urn:uuid:{visit}-measurement-{index}",
                "resource": {**observation, **measurement},
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def record_visit(client: TestClient, bundle: dict[str, Any]) -> str:
    """Posts the visit; returns the Encounter's id."""
    response = client.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    location = response.json()["entry"][0]["response"]["location"]  # …/Encounter/{id}/_history/1
    return str(location.split("Encounter/")[1].split("/")[0])


def resident(client: TestClient, born: str, gender: str, serial: int = 1) -> str:
    sex = "female" if gender == "female" else "male"
    return str(create(client, patient_json(nik(born, sex, serial), gender=gender, birth_date=born))["id"])


def derived(client: TestClient, resource_type: str, encounter: str) -> list[dict[str, Any]]:
    bundle = search(client, resource_type, f"encounter=Encounter/{encounter}")
    return [entry["resource"] for entry in bundle.get("entry", [])]


def classification(observations: list[dict[str, Any]], key: str) -> dict[str, Any]:
    found = [o for o in observations if o["code"]["coding"][0]["code"] == key]
    assert len(found) == 1, [o["code"] for o in observations]
    return found[0]


def category(observation: dict[str, Any]) -> str:
    codes = [c["code"] for c in observation["interpretation"][0]["coding"] if c["system"] == KLASIFIKASI]
    return str(codes[0])


def quantity_value_of(kilograms: float) -> dict[str, Any]:
    return {"valueQuantity": quantity_value(kilograms, "kg")}


def episodes_of(client: TestClient, patient: str) -> dict[str, dict[str, Any]]:
    """The patient's episodes by type code (the latest of each)."""
    bundle = search(client, "EpisodeOfCare", f"patient=Patient/{patient}&_sort=_lastUpdated")
    return {e["resource"]["type"][0]["coding"][0]["code"]: e["resource"] for e in bundle.get("entry", [])}
