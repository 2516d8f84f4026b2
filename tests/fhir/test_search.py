"""Search machinery shared by every type: paging, totals, links, sorting, _include/_revinclude, _tag, strictness."""

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from factories import (
    DATA_QUALITY_SYSTEM,
    build_network,
    create,
    included,
    link,
    match_ids,
    nik,
    outcome,
    patient_json,
    practitioner_json,
    practitioner_role_json,
    search,
)

FAMILIES = ("Anggraini", "Budiman", "Cahyono", "Darmawan", "Effendi")


@pytest.fixture
def five_patients(client: TestClient) -> list[str]:
    """Five patients created in order, born 1990..1994, family names in alphabetical order."""
    return [
        create(
            client, patient_json(nik(f"{1990 + i}-01-15", serial=i + 1), family=family, birth_date=f"{1990 + i}-01-15")
        )["id"]
        for i, family in enumerate(FAMILIES)
    ]


def _query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlsplit(url).query)


def test_count_pages_with_total_and_next_previous_links(client: TestClient, five_patients: list[str]) -> None:
    first = search(client, "Patient", "_count=2&_sort=family")

    assert first["total"] == 5
    assert len(match_ids(first)) == 2
    assert link(first, "previous") is None
    assert _query(link(first, "next"))["_offset"] == ["2"]

    second = client.get(link(first, "next")).json()  # type: ignore[arg-type]
    assert match_ids(second) == five_patients[2:4]
    assert _query(link(second, "previous"))["_offset"] == ["0"]

    last = client.get(link(second, "next")).json()  # type: ignore[arg-type]
    assert match_ids(last) == five_patients[4:]
    assert link(last, "next") is None


def test_links_keep_the_search_criteria(client: TestClient, five_patients: list[str]) -> None:
    bundle = search(client, "Patient", "gender=male&_count=2&_sort=family")

    next_query = _query(link(bundle, "next"))

    assert next_query["gender"] == ["male"]
    assert next_query["_sort"] == ["family"]
    assert link(bundle, "self").startswith("http://testserver/fhir/Patient?")  # type: ignore[union-attr]


def test_count_zero_gives_only_the_total(client: TestClient, five_patients: list[str]) -> None:
    bundle = search(client, "Patient", "_count=0")

    assert bundle["total"] == 5
    assert "entry" not in bundle


def test_total_none_leaves_the_total_out(client: TestClient, five_patients: list[str]) -> None:
    bundle = search(client, "Patient", "_total=none&_count=2")

    assert "total" not in bundle
    assert len(match_ids(bundle)) == 2


@pytest.mark.parametrize(
    ("sort", "expected_order"),
    [
        ("family", [0, 1, 2, 3, 4]),
        ("-family", [4, 3, 2, 1, 0]),
        ("birthdate", [0, 1, 2, 3, 4]),
        ("-birthdate", [4, 3, 2, 1, 0]),
        ("_lastUpdated", [0, 1, 2, 3, 4]),
        ("-_lastUpdated", [4, 3, 2, 1, 0]),
    ],
    ids=["family", "family-descending", "birthdate", "birthdate-descending", "lastUpdated", "lastUpdated-descending"],
)
def test_sort(client: TestClient, five_patients: list[str], sort: str, expected_order: list[int]) -> None:
    bundle = search(client, "Patient", f"_sort={sort}")

    assert match_ids(bundle) == [five_patients[i] for i in expected_order]


def test_sorting_by_a_reference_is_rejected_naming_sortable_parameters(client: TestClient) -> None:
    body = outcome(client.get("/fhir/Patient?_sort=organization"), 400)

    assert body["issue"][0]["expression"] == ["_sort"]
    assert "family" in body["issue"][0]["diagnostics"]


def test_include_adds_the_managing_organization(client: TestClient) -> None:
    network = build_network(client)
    create(client, patient_json(organization=network["posyandu"]))

    bundle = search(client, "Patient", "_include=Patient:organization")

    assert len(match_ids(bundle)) == 1
    assert included(bundle) == [("Organization", network["posyandu"])]
    assert bundle["total"] == 1  # included resources are not counted


def test_revinclude_adds_the_practitioner_roles_at_an_organization(client: TestClient) -> None:
    network = build_network(client)
    bidan = create(client, practitioner_json())
    role = create(client, practitioner_role_json(bidan["id"], network["pustu"]))

    bundle = search(client, "Organization", f"_id={network['pustu']}&_revinclude=PractitionerRole:organization")

    assert match_ids(bundle) == [network["pustu"]]
    assert included(bundle) == [("PractitionerRole", role["id"])]


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("_include=Organization:partof", "_include"),
        ("_include=Patient:family", "_include"),
        ("_revinclude=PractitionerRole:location", "_revinclude"),
    ],
    ids=["include-of-another-type", "include-of-a-non-reference", "revinclude-not-pointing-here"],
)
def test_impossible_includes_are_400(client: TestClient, query: str, expression: str) -> None:
    assert outcome(client.get(f"/fhir/Patient?{query}"), 400)["issue"][0]["expression"] == [expression]


def test_tag_search_finds_data_quality_flags(client: TestClient) -> None:
    consistent = create(client, patient_json(nik(serial=1)))
    flagged = create(client, patient_json(nik(serial=2), birth_date="2001-12-03"))

    bundle = search(client, "Patient", f"_tag={DATA_QUALITY_SYSTEM}|nik-tanggal-lahir-berbeda")
    untagged = search(client, "Patient", f"_tag:not={DATA_QUALITY_SYSTEM}|nik-tanggal-lahir-berbeda")

    assert match_ids(bundle) == [flagged["id"]]
    assert match_ids(untagged) == [consistent["id"]]


def test_unknown_search_parameters_are_400_unless_lenient(client: TestClient) -> None:
    create(client, patient_json())

    body = outcome(client.get("/fhir/Patient?nmae=budi"), 400)
    lenient = client.get("/fhir/Patient?nmae=budi", headers={"Prefer": "handling=lenient"})

    assert body["issue"][0]["expression"] == ["nmae"]
    assert lenient.status_code == 200
    assert lenient.json()["total"] == 1


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("_count=many", "_count"),
        ("_count=-1", "_count"),
        ("birthdate=yesterday", "birthdate"),
        ("gender:contains=male", "gender:contains"),
        ("name=", "name"),
        ("general-practitioner=123", "general-practitioner"),
    ],
    ids=["count-not-a-number", "count-negative", "date-not-a-date", "modifier-not-for-token", "empty", "ambiguous-ref"],
)
def test_malformed_search_is_400_naming_the_parameter(client: TestClient, query: str, expression: str) -> None:
    assert outcome(client.get(f"/fhir/Patient?{query}"), 400)["issue"][0]["expression"] == [expression]


def test_count_above_the_maximum_is_capped(client: TestClient, five_patients: list[str]) -> None:
    bundle = search(client, "Patient", "_count=100000")

    assert _query(link(bundle, "self"))["_count"] == ["200"]
    assert len(match_ids(bundle)) == 5


def test_id_search_and_or_values(client: TestClient, five_patients: list[str]) -> None:
    bundle = search(client, "Patient", f"_id={five_patients[0]},{five_patients[3]}&_sort=family")

    assert match_ids(bundle) == [five_patients[0], five_patients[3]]
