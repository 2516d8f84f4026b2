"""A client generated from the committed openapi/openapi.json by a standard generator works against the API.

openapi-python-client writes the client once per session; it then creates and searches a Patient with its typed
models, talking to the app through the test client (an httpx.Client the generated client accepts).
"""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from factories import NIK_SYSTEM, TEST_NIK, TEST_NIK_BIRTH_DATE

PACKAGE = "ilp_generated_client"


@pytest.fixture(scope="session")
def generated_client(repository_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    directory = tmp_path_factory.mktemp("generated")
    config = directory / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n", encoding="utf-8")
    generation = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(repository_root / "openapi" / "openapi.json"),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
        ],
        capture_output=True,
        text=True,
    )
    assert generation.returncode == 0, generation.stdout + generation.stderr
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))


def test_a_generated_client_creates_and_searches_a_patient(generated_client: ModuleType, client: TestClient) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    create = importlib.import_module(f"{PACKAGE}.api.patient.create_fhir_patient_post")
    search = importlib.import_module(f"{PACKAGE}.api.patient.search_fhir_patient_get")
    api = generated_client.Client(base_url=str(client.base_url)).set_httpx_client(client)
    patient = models.Patient(
        resource_type="Patient",
        identifier=[models.Identifier(system=NIK_SYSTEM, value=TEST_NIK)],
        name=[models.HumanName(family="Santoso", given=["Budi"])],
        gender=models.PatientGenderType0.MALE,
        birth_date=TEST_NIK_BIRTH_DATE,
    )

    created = create.sync_detailed(client=api, body=patient)

    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.Patient)
    assert created.parsed.id
    assert created.parsed.name[0].family == "Santoso"

    found = search.sync(
        client=api, identifier=f"{NIK_SYSTEM}|{TEST_NIK}", field_total=models.SearchFhirPatientGetTotal.ACCURATE
    )

    assert isinstance(found, models.Bundle)
    assert found.type_ == models.BundleType.SEARCHSET
    assert found.total == 1
    assert [entry.resource.id for entry in found.entry] == [created.parsed.id]
    assert isinstance(found.entry[0].resource, models.Patient)

    refused = search.sync_detailed(client=api, birthdate=["not-a-date"])

    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.OperationOutcome)
    assert "birthdate" in refused.parsed.issue[0].diagnostics
