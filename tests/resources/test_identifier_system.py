"""Identifier.system is an absolute URI: a short name such as ``nik`` would be stored where no NIK rule and no
search by system ever finds it, so it is refused, naming the system that was meant."""

import pytest
from fastapi.testclient import TestClient

from factories import FHIR_JSON, NIK_SYSTEM, TEST_NIK, outcome, patient_json, practitioner_json


@pytest.mark.parametrize(
    ("system", "meant"),
    [
        ("nik", f"the system of a NIK is {NIK_SYSTEM}"),
        ("NIK", f"the system of a NIK is {NIK_SYSTEM}"),
        ("kk", "the system of a KK number is https://fhir.kemkes.go.id/id/kk"),
    ],
)
def test_a_system_given_by_name_is_refused_naming_the_system_meant(client: TestClient, system: str, meant: str) -> None:
    patient = patient_json(nik=None, identifiers=[{"system": system, "value": TEST_NIK}])

    body = outcome(client.post("/fhir/Patient", json=patient, headers=FHIR_JSON), 422)

    assert body["issue"][0]["expression"] == ["Patient.identifier[0].system"]
    assert body["issue"][0]["diagnostics"] == (
        f"Patient.identifier[0].system: {system!r} is not an identifier system: {meant}"
    )


@pytest.mark.parametrize("system", ["nomor-bpjs", "kemkes.go.id/id/nik", "//fhir.kemkes.go.id/id/nik"])
def test_any_other_relative_system_is_refused_with_the_form_of_one(client: TestClient, system: str) -> None:
    practitioner = practitioner_json()
    practitioner["identifier"].append({"system": system, "value": "123"})

    body = outcome(client.post("/fhir/Practitioner", json=practitioner, headers=FHIR_JSON), 422)

    assert body["issue"][0]["expression"] == ["Practitioner.identifier[1].system"]
    assert (
        "is not in the right format: this names a namespace, so it is an absolute URI"
        in (body["issue"][0]["diagnostics"])
    )


def test_absolute_systems_of_every_form_are_accepted(client: TestClient) -> None:
    identifiers = [
        {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "1"},
        {"system": "urn:uuid:4f6a0b3e-0000-4000-8000-000000000001", "value": "2"},
        {"system": "http://sys-ids.kemkes.go.id/patient/100000030009", "value": "3"},
    ]

    response = client.post("/fhir/Patient", json=patient_json(identifiers=identifiers), headers=FHIR_JSON)

    assert response.status_code == 201, response.text


def test_a_coding_system_is_absolute_too(client: TestClient) -> None:
    patient = patient_json(maritalStatus={"coding": [{"system": "v3-MaritalStatus", "code": "M"}]})

    body = outcome(client.post("/fhir/Patient", json=patient, headers=FHIR_JSON), 422)

    assert body["issue"][0]["expression"] == ["Patient.maritalStatus.coding[0].system"]
