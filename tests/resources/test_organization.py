"""Organization: the facility network dinkes → puskesmas → pustu → posyandu, with wilayah inside the parent's."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    ADMINISTRATIVE_CODE,
    FACILITY_TYPE_SYSTEM,
    FHIR_JSON,
    KECAMATAN,
    KELURAHAN,
    KOTA,
    OTHER_KOTA,
    SATUSEHAT_ID_SYSTEM,
    create,
    expressions,
    ilp_codes,
    match_ids,
    organization_json,
    outcome,
    search,
    stored_rows,
)
from ilp_api.db.engine import Database


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=puskesmas", ["puskesmas"]),
        (f"type={FACILITY_TYPE_SYSTEM}|posyandu", ["posyandu"]),
        ("type=pustu,posyandu", ["posyandu", "pustu"]),
        ("type=http://other.example/types|puskesmas", []),
        ("name=puskesmas", ["puskesmas"]),
        ("name=PUS", ["puskesmas", "pustu"]),
        ("name:contains=kunden", ["pustu"]),
        (f"identifier={SATUSEHAT_ID_SYSTEM}|100011", ["puskesmas"]),
        ("identifier=100011", ["puskesmas"]),
        ("wilayah=33", ["dinkes", "posyandu", "puskesmas", "pustu"]),
        (f"wilayah={KOTA}", ["dinkes", "posyandu", "puskesmas", "pustu"]),
        (f"wilayah={KECAMATAN}", ["posyandu", "puskesmas", "pustu"]),
        (f"wilayah={KELURAHAN}", ["posyandu", "pustu"]),
        (f"wilayah={OTHER_KOTA}", []),
        (f"address-village={KELURAHAN}", ["posyandu", "pustu"]),
        ("rw=002", ["posyandu"]),
        (f"rw={KELURAHAN}|001", ["posyandu"]),
        ("rw=003", []),
        ("active=true", ["dinkes", "posyandu", "puskesmas", "pustu"]),
    ],
    ids=[
        "type-code",
        "type-system-code",
        "type-or",
        "type-other-system",
        "name-prefix",
        "name-prefix-of-two",
        "name-contains",
        "identifier-system-value",
        "identifier-value",
        "wilayah-province-below",
        "wilayah-kota-below",
        "wilayah-kecamatan-below",
        "wilayah-kelurahan",
        "wilayah-other-kota",
        "village",
        "rw-covered",
        "rw-in-village",
        "rw-not-covered",
        "active",
    ],
)
def test_organization_search(client: TestClient, network: dict[str, str], query: str, expected: list[str]) -> None:
    bundle = search(client, "Organization", query)

    assert sorted(match_ids(bundle)) == sorted(network[kind] for kind in expected)


def test_wilayah_prefix_does_not_match_a_different_kota_sharing_digits(client: TestClient) -> None:
    # 33 74 vs 33 7: a shorter, non-level prefix is not a wilayah; only real level codes match below.
    create(client, organization_json("dinkes", wilayah="3374"))
    create(client, organization_json("dinkes", name="Dinkes Kota Salatiga", wilayah="3373"))

    assert search(client, "Organization", "wilayah=3374")["total"] == 1


def test_partof_search_finds_the_children(client: TestClient, network: dict[str, str]) -> None:
    children = search(client, "Organization", f"partof=Organization/{network['puskesmas']}")
    by_id = search(client, "Organization", f"partof={network['pustu']}")

    assert match_ids(children) == [network["pustu"]]
    assert match_ids(by_id) == [network["posyandu"]]


def test_default_sort_is_by_name(client: TestClient, network: dict[str, str]) -> None:
    names = [e["resource"]["name"] for e in search(client, "Organization")["entry"]]

    assert names == sorted(names)


# ---- bad input ----


def _with_codes(codes: dict[str, str], kind: str = "dinkes", **elements: Any) -> dict[str, Any]:
    """An organization whose address carries exactly these administrativeCode parts."""
    extension = {"url": ADMINISTRATIVE_CODE, "extension": [{"url": k, "valueCode": v} for k, v in codes.items()]}
    return organization_json(kind, wilayah=None, address=[{"extension": [extension]}], **elements)


CODE = "Organization.address[0].extension('administrativeCode')"

MALFORMED_WILAYAH = [
    ("province-unknown", {"province": "99"}, f"{CODE}.province"),
    ("province-one-digit", {"province": "3"}, f"{CODE}.province"),
    ("city-with-dots", {"province": "33", "city": "33.74"}, f"{CODE}.city"),
    ("city-digits-70", {"province": "33", "city": "3370"}, f"{CODE}.city"),
    ("city-wrong-length", {"province": "33", "city": "337401"}, f"{CODE}.city"),
    ("district-00", {"province": "33", "city": "3374", "district": "337400"}, f"{CODE}.district"),
    ("village-digit-7-is-4", {"city": "3374", "district": KECAMATAN, "village": "3374014001"}, f"{CODE}.village"),
    ("levels-contradict", {"province": "33", "city": "3471"}, CODE),
]


@pytest.mark.parametrize(
    ("codes", "expression"),
    [case[1:] for case in MALFORMED_WILAYAH],
    ids=[case[0] for case in MALFORMED_WILAYAH],
)
def test_malformed_wilayah_is_422(client: TestClient, db: Database, codes: dict[str, str], expression: str) -> None:
    body = outcome(client.post("/fhir/Organization", json=_with_codes(codes), headers=FHIR_JSON), 422)

    assert expression in expressions(body)
    assert ilp_codes(body) == ["wilayah-tidak-valid"]
    assert stored_rows(db, "Organization") == 0


def test_wilayah_outside_the_parent_s_is_422(client: TestClient, db: Database, network: dict[str, str]) -> None:
    elsewhere = organization_json("pustu", wilayah="3371011001", part_of=network["puskesmas"])

    body = outcome(client.post("/fhir/Organization", json=elsewhere, headers=FHIR_JSON), 422)

    assert ilp_codes(body) == ["wilayah-bertentangan-dengan-induk"]
    assert expressions(body) == [CODE]
    assert stored_rows(db, "Organization") == 4


def test_moving_a_parent_away_from_its_child_s_wilayah_is_checked_on_the_child_only(
    client: TestClient, network: dict[str, str]
) -> None:
    pustu = client.get(f"/fhir/Organization/{network['pustu']}").json()
    pustu["address"] = organization_json(wilayah="3374021001")["address"]

    body = outcome(client.put(f"/fhir/Organization/{network['pustu']}", json=pustu, headers=FHIR_JSON), 422)

    assert ilp_codes(body) == ["wilayah-bertentangan-dengan-induk"]


INVALID = [
    (
        "no-facility-type",
        organization_json(type=[{"text": "klinik"}]),
        "Organization.type",
        "jenis-fasilitas-tidak-valid",
    ),
    ("unknown-facility-type", organization_json("klinik"), "Organization.type", "jenis-fasilitas-tidak-valid"),
    ("puskesmas-at-the-top", organization_json("puskesmas"), "Organization.partOf", "hierarki-fasilitas-tidak-valid"),
    ("parent-missing", organization_json("puskesmas", part_of="nope"), "Organization.partOf", None),
    (
        "rw-coverage-not-posyandu",
        organization_json("dinkes", wilayah=KOTA, rws=("001",)),
        "Organization.extension('cakupan-rw')",
        None,
    ),
    ("name-missing", organization_json("dinkes", name=None) | {"name": None}, "Organization.name", None),
    ("unknown-element", organization_json("dinkes", nama="Dinkes"), "Organization.nama", None),
]


@pytest.mark.parametrize(
    ("body", "expression", "ilp_code"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_organization_is_422(
    client: TestClient, db: Database, body: dict[str, Any], expression: str, ilp_code: str | None
) -> None:
    problem = outcome(client.post("/fhir/Organization", json=body, headers=FHIR_JSON), 422)

    assert expression in expressions(problem)
    if ilp_code:
        assert ilp_codes(problem) == [ilp_code]
    assert stored_rows(db, "Organization") == 0


@pytest.mark.parametrize(
    ("kind", "parent"),
    [("pustu", "dinkes"), ("posyandu", "dinkes"), ("puskesmas", "pustu")],
    ids=["pustu-under-dinkes", "posyandu-under-dinkes", "puskesmas-under-pustu"],
)
def test_facility_hierarchy_is_enforced(client: TestClient, network: dict[str, str], kind: str, parent: str) -> None:
    body = organization_json(kind, wilayah=KELURAHAN, part_of=network[parent])

    problem = outcome(client.post("/fhir/Organization", json=body, headers=FHIR_JSON), 422)

    assert ilp_codes(problem) == ["hierarki-fasilitas-tidak-valid"]


def test_posyandu_may_hang_directly_under_a_puskesmas(client: TestClient, network: dict[str, str]) -> None:
    posyandu = create(client, organization_json("posyandu", wilayah=KELURAHAN, part_of=network["puskesmas"]))

    assert posyandu["partOf"]["reference"] == f"Organization/{network['puskesmas']}"


@pytest.mark.parametrize("partial", ["337", "33740", "3374011"], ids=["3-digits", "5-digits", "7-digits"])
def test_wilayah_search_takes_whole_levels_only(client: TestClient, partial: str) -> None:
    """A digit fragment would match by accident (337 → 3374, 3375, …): it is refused instead."""
    body = outcome(client.get("/fhir/Organization", params={"wilayah": partial}), 400)

    assert body["issue"][0]["expression"] == ["wilayah"]
