"""`ilp demo`: the generator is deterministic and realistic; the loader goes through the API's rules, once."""

from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ilp_api.db.engine import Database
from ilp_api.demo.generate import PLACEHOLDER, DemoNetwork, DemoResource, generate_network
from ilp_api.demo.load import LoadReport, load_demo
from ilp_api.fhir.repository import resource
from ilp_api.ilp.nik import decode_nik
from ilp_api.resources.indonesia import NIK, NIK_IBU, administrative_codes
from ilp_api.resources.patient import data_quality_system
from ilp_api.settings import Settings

BASE = "http://ilp-api.example/fhir"
TODAY = date(2025, 6, 15)
NETWORK_COUNTS = {"Organization": 15, "Location": 15}  # 1 dinkes, 2 puskesmas, 4 pustu, 8 posyandu


@pytest.fixture(scope="module")
def network() -> DemoNetwork:
    return generate_network(canonical_base=BASE, today=TODAY)


def identifier(resource: DemoResource, system: str) -> str | None:
    return next((i["value"] for i in resource.body.get("identifier", []) if i["system"] == system), None)


def test_the_same_seed_gives_the_same_network_and_another_seed_other_people(network: DemoNetwork) -> None:
    assert generate_network(canonical_base=BASE, today=TODAY) == network
    other = generate_network(canonical_base=BASE, today=TODAY, seed=7)
    assert [r.body for r in other.of_type("Patient")] != [r.body for r in network.of_type("Patient")]


def test_network_shape(network: DemoNetwork) -> None:
    counts = Counter(r.resource_type for r in network.resources)
    assert counts["Patient"] == 300
    assert {t: counts[t] for t in NETWORK_COUNTS} == NETWORK_COUNTS
    assert counts["Practitioner"] == counts["PractitionerRole"]
    kinds = Counter(r.kind for r in network.of_type("Organization"))
    assert kinds == {"dinkes": 1, "puskesmas": 2, "pustu": 4, "posyandu": 8}
    staff = Counter(r.kind for r in network.of_type("Practitioner"))
    assert 16 <= staff["kader"] <= 24
    assert staff["dokter"] == staff["perawat"] == 2
    assert staff["bidan"] == 6  # one per pustu and one per puskesmas


def test_references_point_at_earlier_resources(network: DemoNetwork) -> None:
    seen: set[str] = set()

    def placeholders(value: object) -> list[str]:
        if isinstance(value, dict):
            ref = value.get("reference")
            own = [ref.removeprefix(PLACEHOLDER)] if isinstance(ref, str) else []
            return own + [p for item in value.values() for p in placeholders(item)]
        return [p for item in value for p in placeholders(item)] if isinstance(value, list) else []

    for demo in network.resources:
        assert set(placeholders(demo.body)) <= seen, demo.key
        seen.add(demo.key)


def test_niks_are_valid_and_agree_with_the_record_except_the_deliberate_ones(network: DemoNetwork) -> None:
    disagreeing = set()
    people = [*network.of_type("Patient"), *network.of_type("Practitioner")]
    for person in people:
        for system in (NIK, NIK_IBU):
            if identifier(person, system):
                decode_nik(identifier(person, system) or "", TODAY)  # raises if V1–V5 fail
        nik = identifier(person, NIK)
        if nik is None:
            continue
        decoded = decode_nik(nik, TODAY)
        if decoded.birth_date.isoformat() != person.body["birthDate"] or decoded.sex != person.body["gender"]:
            disagreeing.add(person.key)
    assert disagreeing == network.nik_mismatches
    assert len(disagreeing) == 6  # 2% of 300
    niks = [identifier(p, NIK) for p in people if identifier(p, NIK)]
    assert len(niks) == len(set(niks))


def test_residents_of_every_life_stage(network: DemoNetwork) -> None:
    groups = Counter(r.kind for r in network.of_type("Patient"))
    expected = ("bayi-baru-lahir", "bayi", "balita", "anak-usia-sekolah", "remaja", "ibu-hamil", "dewasa", "lansia")
    assert all(groups[group] > 0 for group in expected), groups
    for newborn in (r for r in network.of_type("Patient") if r.kind == "bayi-baru-lahir"):
        assert identifier(newborn, NIK) is None
        mother = identifier(newborn, NIK_IBU)
        assert any(identifier(p, NIK) == mother and p.body["gender"] == "female" for p in network.of_type("Patient"))
        assert newborn.body["name"][0]["text"].startswith("By Ny. ")
        assert (TODAY - date.fromisoformat(newborn.body["birthDate"])).days <= 28
    bpjs = [r for r in network.of_type("Patient") if identifier(r, f"{BASE}/sid/bpjs-nokartu")]
    assert 0.6 < len(bpjs) / 300 < 0.8


def test_residents_live_in_an_rw_their_posyandu_covers(network: DemoNetwork) -> None:
    coverage = {}
    for posyandu in (r for r in network.of_type("Organization") if r.kind == "posyandu"):
        village = administrative_codes(posyandu.body["address"][0])["village"]
        parent = posyandu.body["partOf"]["reference"].removeprefix(PLACEHOLDER)
        rws = {(village, e["valueCode"]) for e in posyandu.body["extension"]}
        coverage[posyandu.key] = rws
        coverage[parent] = coverage.get(parent, set()) | rws
    for patient in network.of_type("Patient"):
        codes = administrative_codes(patient.body["address"][0])
        organization = patient.body["managingOrganization"]["reference"].removeprefix(PLACEHOLDER)
        assert (codes["village"], codes["rw"]) in coverage[organization]


def stored_counts(db: Database) -> dict[str, int]:
    with db.session(write=False) as session:
        rows = session.execute(select(resource.c.resource_type, func.count()).group_by(resource.c.resource_type))
        return {row[0]: row[1] for row in rows}


def load_small(db: Database, settings: Settings) -> LoadReport:
    return load_demo(db, settings, residents=40, seed=11)


def test_load_stores_everything_through_the_rules_and_only_once(db: Database, settings: Settings) -> None:
    progress: list[tuple[int, int]] = []
    report = load_demo(db, settings, residents=40, seed=11, progress=lambda done, total: progress.append((done, total)))
    assert not report.already_loaded
    expected = Counter(r.resource_type for r in report.network.resources)
    assert stored_counts(db) == expected == report.created
    assert progress[-1] == (40, 40)
    assert len(progress) == 40

    again = load_small(db, settings)
    assert again.already_loaded
    assert again.dinkes_id == report.dinkes_id
    assert again.created == Counter()
    assert stored_counts(db) == expected


def test_a_posyandus_residents_are_found_through_the_api(db: Database, settings: Settings, client: TestClient) -> None:
    report = load_small(db, settings)
    posyandu_key = next(r.key for r in report.network.of_type("Organization") if r.kind == "posyandu")
    expected = sorted(
        report.ids[r.key]
        for r in report.network.of_type("Patient")
        if r.body["managingOrganization"]["reference"] == PLACEHOLDER + posyandu_key
    )
    assert expected
    response = client.get("/fhir/Patient", params={"organization": f"Organization/{report.ids[posyandu_key]}"})
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["total"] == len(expected)
    assert sorted(entry["resource"]["id"] for entry in bundle["entry"]) == expected


def test_deliberate_nik_mismatches_carry_the_data_quality_flag(
    db: Database, settings: Settings, client: TestClient
) -> None:
    report = load_small(db, settings)
    system = data_quality_system(settings.canonical_base)
    response = client.get(
        "/fhir/Patient", params={"_tag": f"{system}|nik-tanggal-lahir-berbeda,{system}|nik-jenis-kelamin-berbeda"}
    )
    flagged = {entry["resource"]["id"] for entry in response.json().get("entry", [])}
    assert flagged == {report.ids[key] for key in report.network.nik_mismatches}
