"""Patient: the resident register. Search parameters, the NIK rules of profile §1 and what bad input does."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    ADMINISTRATIVE_CODE,
    BPJS_SYSTEM,
    DATA_QUALITY_SYSTEM,
    FHIR_JSON,
    KELURAHAN,
    NIK_SYSTEM,
    TEST_NIK,
    build_network,
    create,
    expressions,
    ilp_codes,
    match_ids,
    nik,
    outcome,
    patient_json,
    search,
    stored_rows,
    tags,
    total,
)
from ilp_api.db.engine import Database

# ---- search ----


@pytest.fixture
def born(client: TestClient) -> dict[str, str]:
    """Three patients by birth date: 1990-05-20 (female), 2000-12-03 (male), 2010-02-01 (female)."""
    people = {
        "1990-05-20": patient_json(nik("1990-05-20", "female"), given="Siti", gender="female", birth_date="1990-05-20"),
        "2000-12-03": patient_json(TEST_NIK),
        "2010-02-01": patient_json(nik("2010-02-01", "female"), given="Ayu", gender="female", birth_date="2010-02-01"),
    }
    return {birth_date: create(client, patient)["id"] for birth_date, patient in people.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("birthdate=2000-12-03", ["2000-12-03"]),
        ("birthdate=eq2000-12-03", ["2000-12-03"]),
        ("birthdate=2000", ["2000-12-03"]),
        ("birthdate=2000-12", ["2000-12-03"]),
        ("birthdate=ne2000-12-03", ["1990-05-20", "2010-02-01"]),
        ("birthdate=lt2000-12-03", ["1990-05-20"]),
        ("birthdate=le2000-12-03", ["1990-05-20", "2000-12-03"]),
        ("birthdate=gt2000-12-03", ["2010-02-01"]),
        ("birthdate=ge2000-12-03", ["2000-12-03", "2010-02-01"]),
        ("birthdate=ge1990&birthdate=lt2001", ["1990-05-20", "2000-12-03"]),
        ("birthdate=1990-05-20,2010-02-01", ["1990-05-20", "2010-02-01"]),
        ("birthdate=1999", []),
    ],
    ids=["plain", "eq", "year", "month", "ne", "lt", "le", "gt", "ge", "range-and", "or", "none"],
)
def test_birthdate_search(client: TestClient, born: dict[str, str], query: str, expected: list[str]) -> None:
    bundle = search(client, "Patient", f"{query}&_sort=birthdate")

    assert match_ids(bundle) == [born[birth_date] for birth_date in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gender=female", ["1990-05-20", "2010-02-01"]),
        ("gender=male", ["2000-12-03"]),
        ("gender:not=male", ["1990-05-20", "2010-02-01"]),
        (f"identifier={NIK_SYSTEM}|{TEST_NIK}", ["2000-12-03"]),
        (f"identifier={TEST_NIK}", ["2000-12-03"]),
        (f"identifier={BPJS_SYSTEM}|{TEST_NIK}", []),
        (f"identifier={NIK_SYSTEM}|", ["1990-05-20", "2000-12-03", "2010-02-01"]),
        ("name=budi", ["2000-12-03"]),
        ("name=BUD", ["2000-12-03"]),
        ("name=santoso", ["1990-05-20", "2000-12-03", "2010-02-01"]),
        ("name=udi", []),
        ("name:contains=udi", ["2000-12-03"]),
        ("name:contains=ANTO", ["1990-05-20", "2000-12-03", "2010-02-01"]),
        ("name:exact=Budi", ["2000-12-03"]),
        ("name:exact=budi", []),
        ("given=siti,ayu", ["1990-05-20", "2010-02-01"]),
        ("family=santoso&gender=male", ["2000-12-03"]),
    ],
    ids=[
        "gender-female",
        "gender-male",
        "gender-not",
        "identifier-system-value",
        "identifier-value-only",
        "identifier-other-system",
        "identifier-any-value-in-system",
        "name-lowercase",
        "name-prefix-uppercase",
        "name-family",
        "name-not-a-prefix",
        "name-contains",
        "name-contains-uppercase",
        "name-exact",
        "name-exact-is-case-sensitive",
        "given-or",
        "and",
    ],
)
def test_token_and_string_search(client: TestClient, born: dict[str, str], query: str, expected: list[str]) -> None:
    bundle = search(client, "Patient", f"{query}&_sort=birthdate")

    assert match_ids(bundle) == [born[birth_date] for birth_date in expected]


def test_name_search_ignores_accents(client: TestClient) -> None:
    patient = create(client, patient_json(family="Sétiawan"))

    assert match_ids(search(client, "Patient", "name=setia")) == [patient["id"]]
    assert match_ids(search(client, "Patient", "name=SÉTIAWAN")) == [patient["id"]]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        (f"address-village={KELURAHAN}", True),
        ("address-village=3374011002", False),
        ("rw=002", True),
        (f"rw={KELURAHAN}|002", True),
        (f"rw={KELURAHAN}|003", False),
        ("rw=3374011002|002", False),
    ],
    ids=["village", "other-village", "rw", "rw-in-village", "other-rw-in-village", "rw-in-other-village"],
)
def test_address_search(client: TestClient, query: str, found: bool) -> None:
    patient = create(client, patient_json(wilayah=KELURAHAN, rt="005", rw="002"))

    assert match_ids(search(client, "Patient", query)) == ([patient["id"]] if found else [])


def test_organization_search_by_reference_or_bare_id(client: TestClient) -> None:
    network = build_network(client)
    at_posyandu = create(client, patient_json(nik(serial=1), organization=network["posyandu"]))
    create(client, patient_json(nik(serial=2), organization=network["pustu"]))

    by_reference = search(client, "Patient", f"organization=Organization/{network['posyandu']}")
    by_id = search(client, "Patient", f"organization={network['posyandu']}")

    assert match_ids(by_reference) == match_ids(by_id) == [at_posyandu["id"]]


# ---- NIK warnings are kept, flagged and findable ----


@pytest.mark.parametrize(
    ("changes", "expected_tags"),
    [
        ({}, []),
        ({"birthDate": "2001-12-03"}, ["nik-tanggal-lahir-berbeda"]),
        ({"gender": "female"}, ["nik-jenis-kelamin-berbeda"]),
        ({"birthDate": "1999-01-01", "gender": "female"}, ["nik-jenis-kelamin-berbeda", "nik-tanggal-lahir-berbeda"]),
        ({"birthDate": "2000"}, []),
        ({"gender": "unknown"}, []),
    ],
    ids=["consistent", "birth-date-differs", "sex-differs", "both-differ", "partial-birth-date", "sex-unknown"],
)
def test_nik_disagreeing_with_the_record_is_accepted_and_tagged(
    client: TestClient, changes: dict[str, Any], expected_tags: list[str]
) -> None:
    response = client.post("/fhir/Patient", json=patient_json() | changes, headers=FHIR_JSON)

    assert response.status_code == 201, response.text
    assert tags(response.json()) == expected_tags
    for code in expected_tags:
        found = search(client, "Patient", f"_tag={DATA_QUALITY_SYSTEM}|{code}")
        assert match_ids(found) == [response.json()["id"]]


def test_a_woman_s_nik_encodes_day_plus_40(client: TestClient) -> None:
    siti = create(client, patient_json(nik("1990-05-20", "female"), gender="female", birth_date="1990-05-20"))

    assert nik("1990-05-20", "female")[6:12] == "600590"
    assert tags(siti) == []


def test_correcting_the_record_removes_the_tag(client: TestClient) -> None:
    patient = create(client, patient_json(birth_date="2001-12-03"))
    patient["birthDate"] = "2000-12-03"

    updated = client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=FHIR_JSON).json()

    assert tags(updated) == []
    assert total(client, "Patient", f"_tag={DATA_QUALITY_SYSTEM}|nik-tanggal-lahir-berbeda") == 0


def test_tags_of_other_systems_are_kept(client: TestClient) -> None:
    own_tag = {"system": "http://example.org/tags", "code": "import-2024"}

    patient = create(client, patient_json(meta={"tag": [own_tag]}, gender="female"))

    assert own_tag in patient["meta"]["tag"]
    assert tags(patient) == ["nik-jenis-kelamin-berbeda"]


# ---- one active Patient per NIK ----


def test_duplicate_nik_is_409_naming_the_holder(client: TestClient, db: Database) -> None:
    first = create(client, patient_json())

    body = outcome(client.post("/fhir/Patient", json=patient_json(given="Budiman"), headers=FHIR_JSON), 409)

    assert first["id"] in body["issue"][0]["diagnostics"]
    assert expressions(body) == ["Patient.identifier"]
    assert ilp_codes(body) == ["identitas-sudah-terdaftar"]
    assert stored_rows(db, "Patient") == 1


def test_updating_another_patient_to_a_taken_nik_is_409(client: TestClient) -> None:
    create(client, patient_json(nik(serial=1)))
    second = create(client, patient_json(nik(serial=2)))
    second["identifier"][0]["value"] = nik(serial=1)

    outcome(client.put(f"/fhir/Patient/{second['id']}", json=second, headers=FHIR_JSON), 409)

    assert client.get(f"/fhir/Patient/{second['id']}").json()["identifier"][0]["value"] == nik(serial=2)


def test_an_inactive_record_does_not_hold_its_nik(client: TestClient) -> None:
    create(client, patient_json(active=False))

    assert create(client, patient_json())["active"] is True


# ---- bad input: 4xx OperationOutcome naming the element, and nothing stored ----


def _identifier(system: str, value: str) -> dict[str, Any]:
    return {"system": system, "value": value}


INVALID = [
    ("nik-15-digits", patient_json("927106031200001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-letters", patient_json("92710603120000A1"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v2-province", patient_json("9971060312000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v3-kab-70", patient_json("9270060312000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v3-kab-00", patient_json("9200060312000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v3-kecamatan-00", patient_json("9271000312000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v4-day-32", patient_json("9271063212000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v4-day-72", patient_json("9271067212000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v4-month-13", patient_json("9271060313000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v4-31-february", patient_json("9271063102000001"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    ("nik-v5-serial-0000", patient_json("9271060312000000"), 422, "Patient.identifier[0].value", "nik-tidak-valid"),
    (
        "two-niks",
        patient_json(identifiers=[_identifier(NIK_SYSTEM, nik(serial=2))]),
        422,
        "Patient.identifier",
        "nik-tidak-valid",
    ),
    (
        "bpjs-12-digits",
        patient_json(identifiers=[_identifier(BPJS_SYSTEM, "000123456789")]),
        422,
        "Patient.identifier[1].value",
        "bpjs-tidak-valid",
    ),
    (
        "bpjs-letters",
        patient_json(identifiers=[_identifier(BPJS_SYSTEM, "00012345678AB")]),
        422,
        "Patient.identifier[1].value",
        "bpjs-tidak-valid",
    ),
    (
        "kk-15-digits",
        patient_json(identifiers=[_identifier("https://fhir.kemkes.go.id/id/kk", "337401010101000")]),
        422,
        "Patient.identifier[1].value",
        "kk-tidak-valid",
    ),
    (
        "birth-date-future",
        patient_json(birth_date="2999-01-01"),
        422,
        "Patient.birthDate",
        "tanggal-lahir-di-masa-depan",
    ),
    ("birth-date-not-a-date", patient_json(birth_date="2000-13-01"), 422, "Patient.birthDate", None),
    ("gender-not-a-code", patient_json(gender="pria"), 422, "Patient.gender", None),
    ("unknown-element", patient_json(nickname="Budi"), 422, "Patient.nickname", None),
    (
        "unknown-nested-element",
        patient_json(name=[{"family": "X", "middle": "Y"}]),
        422,
        "Patient.name[0].middle",
        None,
    ),
    ("null-value", patient_json(gender=None), 422, "Patient.gender", None),
    ("empty-string", patient_json(gender=""), 422, "Patient.gender", None),
    ("empty-array", patient_json(telecom=[]), 422, "Patient.telecom", None),
    ("empty-object", patient_json(maritalStatus={}), 422, "Patient.maritalStatus", None),
    ("wrong-resource-type", patient_json(resourceType="Practitioner"), 400, "resourceType", None),
    (
        "deceased-both",
        patient_json(deceasedBoolean=True, deceasedDateTime="2020-01-01"),
        422,
        "Patient.deceased[x]",
        None,
    ),
    (
        "wilayah-malformed",
        patient_json(
            address=[
                {
                    "extension": [
                        {"url": ADMINISTRATIVE_CODE, "extension": [{"url": "village", "valueCode": "33.74.01.1001"}]}
                    ]
                }
            ]
        ),
        422,
        "Patient.address[0].extension('administrativeCode').village",
        "wilayah-tidak-valid",
    ),
    (
        "rw-not-3-digits",
        patient_json(wilayah=KELURAHAN, rw="2"),
        422,
        "Patient.address[0].extension('administrativeCode').rw",
        "wilayah-tidak-valid",
    ),
    (
        "unknown-organization",
        patient_json(organization="no-such-org"),
        422,
        "Patient (organization)",
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "expression", "ilp_code"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_patient_is_rejected_naming_the_element_and_stores_nothing(
    client: TestClient, db: Database, body: dict[str, Any], status: int, expression: str, ilp_code: str | None
) -> None:
    response = client.post("/fhir/Patient", json=body, headers=FHIR_JSON)

    problem = outcome(response, status)
    assert expression in expressions(problem)
    if ilp_code:
        assert ilp_code in ilp_codes(problem)
    assert stored_rows(db, "Patient") == 0
    assert total(client, "Patient") == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (b"[]", 400), (b"", 400)],
    ids=["invalid-json", "json-array", "empty-body"],
)
def test_unreadable_body_is_400_and_stores_nothing(client: TestClient, db: Database, body: bytes, status: int) -> None:
    outcome(client.post("/fhir/Patient", content=body, headers=FHIR_JSON), status)

    assert stored_rows(db, "Patient") == 0


def test_an_invalid_update_keeps_the_stored_version(client: TestClient) -> None:
    patient = create(client, patient_json())

    response = client.put(
        f"/fhir/Patient/{patient['id']}", json={**patient, "birthDate": "2999-01-01"}, headers=FHIR_JSON
    )

    assert expressions(outcome(response, 422)) == ["Patient.birthDate"]
    assert client.get(f"/fhir/Patient/{patient['id']}").json() == patient


def test_nik_is_masked_in_error_messages(client: TestClient) -> None:
    body = outcome(client.post("/fhir/Patient", json=patient_json("9271060312000000"), headers=FHIR_JSON), 422)

    assert "9271060312000000" not in body["issue"][0]["diagnostics"]
    assert "(V5)" in body["issue"][0]["diagnostics"]


def test_newborn_registered_by_mother_s_nik(client: TestClient) -> None:
    baby = patient_json(
        None,
        family="By Ny. Siti",
        given="",
        birth_date="2024-03-01",
        identifiers=[_identifier("https://fhir.kemkes.go.id/id/nik-ibu", nik("1990-05-20", "female"))],
    )
    baby["name"] = [{"text": "By Ny. Siti"}]

    created = create(client, baby)

    assert match_ids(search(client, "Patient", "name=by ny")) == [created["id"]]
    assert tags(created) == []
