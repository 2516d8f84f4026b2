"""Practitioner (nakes and kader, by NIK), PractitionerRole (who works where, as what) and Location."""

import pytest
from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    KECAMATAN,
    PERAN_SYSTEM,
    create,
    expressions,
    ilp_codes,
    included,
    location_json,
    match_ids,
    outcome,
    practitioner_json,
    practitioner_role_json,
    search,
    stored_rows,
)
from ilp_api.db.engine import Database


def test_roles_are_searchable_by_organization_role_and_practitioner(
    client: TestClient, network: dict[str, str]
) -> None:
    bidan = create(client, practitioner_json())
    kader = create(client, practitioner_json("3374014101850003", family="Wati", given="Sri"))
    bidan_role = create(client, practitioner_role_json(bidan["id"], network["pustu"], "bidan"))
    kader_role = create(client, practitioner_role_json(kader["id"], network["posyandu"], "kader"))

    assert match_ids(search(client, "PractitionerRole", f"organization={network['posyandu']}")) == [kader_role["id"]]
    assert match_ids(search(client, "PractitionerRole", f"role={PERAN_SYSTEM}|bidan")) == [bidan_role["id"]]
    by_practitioner = search(
        client, "PractitionerRole", f"practitioner={kader['id']}&_include=PractitionerRole:practitioner"
    )
    assert match_ids(by_practitioner) == [kader_role["id"]]
    assert included(by_practitioner) == [("Practitioner", kader["id"])]


def test_practitioner_search_by_name_and_identifier(client: TestClient) -> None:
    sri = create(client, practitioner_json())

    assert match_ids(search(client, "Practitioner", "name=lest")) == [sri["id"]]
    assert match_ids(search(client, "Practitioner", "identifier=3374015507900002")) == [sri["id"]]


@pytest.mark.parametrize(
    ("role", "expression", "ilp_code"),
    [
        (
            {"code": [{"coding": [{"system": PERAN_SYSTEM, "code": "dukun"}]}]},
            "PractitionerRole.code",
            "peran-tidak-valid",
        ),
        ({"code": [{"text": "bidan"}]}, "PractitionerRole.code", "peran-tidak-valid"),
        ({"practitioner": {"reference": "Practitioner/nobody"}}, "PractitionerRole (practitioner)", None),
        ({"organization": {"reference": "Patient/x"}}, "PractitionerRole (organization)", None),
    ],
    ids=["unknown-role", "no-role-coding", "practitioner-missing", "organization-wrong-type"],
)
def test_invalid_role_is_422(
    client: TestClient,
    db: Database,
    network: dict[str, str],
    role: dict[str, object],
    expression: str,
    ilp_code: str | None,
) -> None:
    bidan = create(client, practitioner_json())
    body = practitioner_role_json(bidan["id"], network["pustu"]) | role

    problem = outcome(client.post("/fhir/PractitionerRole", json=body, headers=FHIR_JSON), 422)

    assert expression in expressions(problem)
    if ilp_code:
        assert ilp_codes(problem) == [ilp_code]
    assert stored_rows(db, "PractitionerRole") == 0


def test_practitioner_nik_is_validated(client: TestClient, db: Database) -> None:
    problem = outcome(
        client.post("/fhir/Practitioner", json=practitioner_json("3374010000000000"), headers=FHIR_JSON), 422
    )

    assert expressions(problem) == ["Practitioner.identifier[0].value"]
    assert ilp_codes(problem) == ["nik-tidak-valid"]
    assert stored_rows(db, "Practitioner") == 0


def test_location_search_by_organization_and_wilayah(client: TestClient, network: dict[str, str]) -> None:
    building = create(client, location_json(organization=network["puskesmas"]))

    assert match_ids(search(client, "Location", f"organization={network['puskesmas']}")) == [building["id"]]
    assert match_ids(search(client, "Location", f"wilayah={KECAMATAN[:4]}")) == [building["id"]]
    assert match_ids(search(client, "Location", "name=gedung")) == [building["id"]]


def test_location_with_a_malformed_wilayah_is_422(client: TestClient, db: Database) -> None:
    body = location_json()
    body["address"]["extension"][0]["extension"][0]["valueCode"] = "3"

    problem = outcome(client.post("/fhir/Location", json=body, headers=FHIR_JSON), 422)

    assert "Location.address.extension('administrativeCode').province" in expressions(problem)
    assert stored_rows(db, "Location") == 0
