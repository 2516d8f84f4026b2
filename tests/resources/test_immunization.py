"""Immunization: a resident's vaccine doses, the schedule's dose they name, their checked days and references, and
their search parameters."""

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    DOSE_SYSTEM,
    FHIR_JSON,
    SNOMED,
    assert_refused,
    changed,
    create,
    encounter_json,
    immunization_json,
    location_json,
    match_ids,
    nik,
    outcome,
    patient_json,
    practitioner_json,
    practitioner_role_json,
    search,
)
from ilp_api.db.engine import Database
from ilp_api.resources.vaccines import KFA

BORN = "2026-01-05"
DOSE_RECORDS = "https://posyandu-app.example/imunisasi"
MEASLES = "14189004"  # SNOMED CT: measles
PROGRAMME = "http://terminology.kemkes.go.id/CodeSystem/immunization-reason"


@pytest.fixture
def baby(client: TestClient) -> str:
    return str(create(client, patient_json(nik(BORN, "female"), gender="female", birth_date=BORN))["id"])


def test_a_dose_is_found_by_patient_date_vaccine_status_lot_and_who_gave_it_where(
    client: TestClient, network: dict[str, str], baby: str
) -> None:
    bidan = create(client, practitioner_role_json(create(client, practitioner_json())["id"], network["puskesmas"]))
    room = create(client, location_json("Ruang Imunisasi", organization=network["puskesmas"]))
    visit = create(client, encounter_json(baby, network["puskesmas"], period={"start": "2026-10-05T09:00:00+07:00"}))
    measles_rubella = create(
        client,
        immunization_json(
            baby,
            "mr-1",
            "2026-10-05T09:10:00+07:00",
            identifier=[{"system": DOSE_RECORDS, "value": "I-0001"}],
            vaccineCode={
                "coding": [
                    {"system": DOSE_SYSTEM, "code": "mr-1"},
                    {"system": KFA, "code": "93005779", "display": "Vaksin M/R (BIO FARMA, 1)"},
                ]
            },
            encounter={"reference": f"Encounter/{visit['id']}"},
            location={"reference": f"Location/{room['id']}"},
            lotNumber="MR-2026-0917",
            expirationDate="2027-06-30",
            performer=[{"actor": {"reference": f"PractitionerRole/{bidan['id']}"}}],
            reasonCode=[{"coding": [{"system": PROGRAMME, "code": "IM-Dasar"}]}],
            protocolApplied=[
                {
                    "series": "Imunisasi dasar",
                    "authority": {"reference": f"Organization/{network['dinkes']}"},
                    "targetDisease": [{"coding": [{"system": SNOMED, "code": MEASLES}]}],
                    "doseNumberPositiveInt": 1,
                    "seriesDosesPositiveInt": 2,
                }
            ],
        ),
    )
    bcg = create(client, immunization_json(baby, "bcg", "2026-01-20"))
    refused = create(
        client,
        immunization_json(baby, "opv-1", "2026-01-20", status="not-done", statusReason={"text": "Orang tua menolak"}),
    )

    def found(query: str) -> list[str]:
        return sorted(match_ids(search(client, "Immunization", query)))

    assert found(f"patient={baby}") == sorted([measles_rubella["id"], bcg["id"], refused["id"]])
    assert found(f"vaccine-code={DOSE_SYSTEM}|mr-1") == [measles_rubella["id"]]
    assert found(f"vaccine-code={KFA}|93005779") == [measles_rubella["id"]]
    assert found("status=not-done") == [refused["id"]]
    assert found("date=2026-10-05") == [measles_rubella["id"]]
    assert found("date=lt2026-02-01") == sorted([bcg["id"], refused["id"]])
    assert found("lot-number=mr-2026") == [measles_rubella["id"]]
    assert found(f"location={room['id']}") == [measles_rubella["id"]]
    assert found(f"performer=PractitionerRole/{bidan['id']}") == [measles_rubella["id"]]
    assert found(f"reason-code={PROGRAMME}|IM-Dasar") == [measles_rubella["id"]]
    assert found(f"target-disease={SNOMED}|{MEASLES}") == [measles_rubella["id"]]
    assert found("series=imunisasi") == [measles_rubella["id"]]
    assert found(f"identifier={DOSE_RECORDS}|I-0001") == [measles_rubella["id"]]
    assert found(f"encounter={visit['id']}") == [measles_rubella["id"]]
    assert found(f"authority=Organization/{network['dinkes']}") == [measles_rubella["id"]]
    assert match_ids(search(client, f"Patient/{baby}/Immunization", "vaccine-code=bcg")) == [bcg["id"]]


def test_a_dose_recorded_in_error_is_corrected_then_deleted(client: TestClient, baby: str) -> None:
    dose = create(client, immunization_json(baby, "bcg", "2026-01-20"))
    corrected = changed(dose, {"status": "entered-in-error", "meta": None})

    updated = client.put(f"/fhir/Immunization/{dose['id']}", json=corrected, headers=FHIR_JSON)
    read = client.get(f"/fhir/Immunization/{dose['id']}").json()
    deleted = client.delete(f"/fhir/Immunization/{dose['id']}")

    assert updated.status_code == 200, updated.text
    assert (read["status"], read["meta"]["versionId"]) == ("entered-in-error", "2")
    assert deleted.status_code == 204
    outcome(client.get(f"/fhir/Immunization/{dose['id']}"), 410)


def test_a_dose_not_given_need_not_name_a_dose_of_the_schedule(client: TestClient, baby: str) -> None:
    """Only a completed dose counts for the schedule: one not given may name just the vaccine."""
    not_given = immunization_json(
        baby, vaccineCode={"coding": [{"system": KFA, "code": "VG19", "display": "BCG"}]}, status="not-done"
    )

    assert create(client, not_given)["status"] == "not-done"


TOMORROW_AND_A_DAY = (date.today() + timedelta(days=2)).isoformat()  # after today in any time zone


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"vaccineCode": {"coding": [{"system": KFA, "code": "VG19"}]}}, "Immunization.vaccineCode"),
        ({"vaccineCode": {"coding": [{"system": DOSE_SYSTEM, "code": "mr-3"}]}}, "Immunization.vaccineCode"),
        (
            {"vaccineCode": {"coding": [{"system": DOSE_SYSTEM, "code": c} for c in ("bcg", "opv-1")]}},
            "Immunization.vaccineCode",
        ),
        ({"occurrenceDateTime": TOMORROW_AND_A_DAY}, "Immunization.occurrenceDateTime"),
        ({"occurrenceDateTime": "2025-12-31T23:00:00+07:00"}, "Immunization.occurrenceDateTime"),
        ({"occurrenceDateTime": "2025"}, "Immunization.occurrenceDateTime"),
        ({"occurrenceDateTime": None}, "Immunization"),
        ({"occurrenceString": "bulan lalu"}, "Immunization"),
        ({"patient": {"reference": "Patient/nobody"}}, "Immunization (patient)"),
        ({"performer": [{"actor": {"reference": "Location/x"}}]}, "Immunization (performer)"),
        ({"encounter": {"reference": "Encounter/nowhere"}}, "Immunization (encounter)"),
        ({"protocolApplied": [{"series": "Imunisasi dasar"}]}, "Immunization.protocolApplied[0]"),
        ({"status": "given"}, "Immunization.status"),
        ({"vaccineCode": None}, "Immunization.vaccineCode"),
    ],
    ids=[
        "completed-without-a-dose",
        "unknown-dose",
        "two-doses",
        "after-today",
        "before-birth",
        "a-year-before-birth",
        "no-occurrence",
        "two-occurrence-types",
        "unknown-patient",
        "performer-a-location",
        "unknown-visit",
        "no-dose-number",
        "status",
        "no-vaccine-code",
    ],
)
def test_an_invalid_dose_is_refused_and_nothing_stored(
    client: TestClient, db: Database, baby: str, change: dict[str, Any], expression: str
) -> None:
    assert_refused(client, db, changed(immunization_json(baby, "bcg", "2026-01-20"), change), expression)


def test_a_dose_given_in_a_visit_is_the_visits_patients(
    client: TestClient, db: Database, network: dict[str, str], baby: str
) -> None:
    sibling = create(client, patient_json(nik("2024-03-03", "male", serial=2), birth_date="2024-03-03"))
    visit = create(client, encounter_json(sibling["id"], network["posyandu"]))

    in_visit = immunization_json(baby, "bcg", "2026-01-20", encounter={"reference": f"Encounter/{visit['id']}"})
    assert_refused(client, db, in_visit, "Immunization.patient")
