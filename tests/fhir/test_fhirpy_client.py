"""A standard FHIR client library (fhirpy) works against the live server: create, read, update, search.

fhirpy has no If-Match support of its own; a client built with ``extra_headers={"If-Match": etag}`` sends it
on every request, which is how an application would do optimistic locking with it.
"""

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound
from fhirpy.lib import SyncFHIRResource

from factories import NIK_SYSTEM, TEST_NIK, patient_json


@pytest.fixture
def fhir(live_server: str, live_auth: dict[str, str]) -> SyncFHIRClient:
    return SyncFHIRClient(f"{live_server}/fhir", extra_headers=live_auth)


def _save_if_match(fhir: SyncFHIRClient, resource: SyncFHIRResource, version_id: str) -> SyncFHIRResource:
    """PUT ``resource`` through a client that sends ``If-Match: W/"<version_id>"``."""
    locking = SyncFHIRClient(fhir.url, extra_headers={**fhir.extra_headers, "If-Match": f'W/"{version_id}"'})
    saved = locking.resource(resource.resource_type, **resource.serialize())
    saved.save()
    return saved


def test_fhirpy_create_read_update_and_search_round_trip(fhir: SyncFHIRClient) -> None:
    patient = fhir.resource("Patient", **patient_json())
    patient.save()
    assert patient.id
    assert patient["meta"]["versionId"] == "1"

    read = fhir.reference("Patient", patient.id).to_resource()
    assert read.serialize() == patient.serialize()

    read["name"][0]["family"] = "Wibowo"
    updated = _save_if_match(fhir, read, "1")
    assert updated["meta"]["versionId"] == "2"

    found = fhir.resources("Patient").search(identifier=f"{NIK_SYSTEM}|{TEST_NIK}").fetch_all()
    assert [p.serialize() for p in found] == [updated.serialize()]
    assert found[0]["name"][0]["family"] == "Wibowo"
    assert found[0]["identifier"] == patient_json()["identifier"]


def test_fhirpy_update_with_a_stale_if_match_gets_412(fhir: SyncFHIRClient) -> None:
    patient = fhir.resource("Patient", **patient_json())
    patient.save()
    _save_if_match(fhir, patient, "1")  # now at version 2

    with pytest.raises(MultipleResourcesFound) as raised:  # fhirpy's name for every 412
        _save_if_match(fhir, patient, "1")

    assert "OperationOutcome" in str(raised.value)
    assert fhir.reference("Patient", patient.id).to_resource()["meta"]["versionId"] == "2"


def test_fhirpy_patch_and_save_of_some_fields(fhir: SyncFHIRClient) -> None:
    """fhirpy patches with the changed elements as a JSON object (a JSON Merge Patch): each makes a new version."""
    patient = fhir.resource("Patient", **patient_json())
    patient.save()

    patched = fhir.patch("Patient", patient.id, gender="female", birthDate=None)
    patient["name"][0]["family"] = "Wibowo"
    patient["active"] = False  # not among the fields saved: stays as stored
    patient.save(fields=["name"])
    patient.patch(telecom=[{"system": "phone", "value": "081234567890"}])

    stored = fhir.reference("Patient", patient.id).to_resource()
    assert (patched["gender"], "birthDate" in patched) == ("female", False)
    assert stored["meta"]["versionId"] == "4"
    assert (stored["gender"], stored["name"][0]["family"], stored["active"]) == ("female", "Wibowo", True)
    assert stored["telecom"] == [{"system": "phone", "value": "081234567890"}]


def test_fhirpy_patch_with_a_stale_if_match_gets_412(fhir: SyncFHIRClient) -> None:
    patient = fhir.resource("Patient", **patient_json())
    patient.save()
    fhir.patch("Patient", patient.id, gender="female")  # now at version 2
    locking = SyncFHIRClient(fhir.url, extra_headers={**fhir.extra_headers, "If-Match": 'W/"1"'})

    with pytest.raises(MultipleResourcesFound):  # fhirpy's name for every 412
        locking.patch("Patient", patient.id, gender="male")

    assert fhir.reference("Patient", patient.id).to_resource()["gender"] == "female"
