"""`ilp demo`: the generator is deterministic and realistic; the loader goes through the API's rules, once, and its
visits are evaluated as a kader app's would be."""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from harness import served
from ilp_api.app import create_app
from ilp_api.cli import DEMO_SERVER, app
from ilp_api.db.engine import Database
from ilp_api.demo.generate import PLACEHOLDER, DemoNetwork, DemoResource, generate_network
from ilp_api.demo.load import LoadReport, load_demo
from ilp_api.demo.visits import CHILDREN, UNDER_FIVE, DemoVisit, generate_visits
from ilp_api.fhir.datatypes import UCUM
from ilp_api.fhir.repository import resource
from ilp_api.ilp.age import add_months
from ilp_api.ilp.nik import decode_nik
from ilp_api.integrations.satusehat.simulator import MOUNT_PATH, mount_simulator
from ilp_api.resources.indonesia import NIK, NIK_IBU, administrative_codes
from ilp_api.resources.observation import catalogued_measure
from ilp_api.resources.patient import data_quality_system
from ilp_api.resources.questionnaire_response import answer_problems, form_answered
from ilp_api.settings import Settings, get_settings

BASE = "http://ilp-api.example/fhir"
TODAY = date(2025, 6, 15)
NETWORK_COUNTS = {"Organization": 15, "Location": 15}  # 1 dinkes, 2 puskesmas, 4 pustu, 8 posyandu


@pytest.fixture(scope="module")
def network() -> DemoNetwork:
    return generate_network(canonical_base=BASE, today=TODAY)


@pytest.fixture(scope="module")
def visits(network: DemoNetwork) -> tuple[DemoVisit, ...]:
    return generate_visits(network, canonical_base=BASE, today=TODAY)


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


def test_the_same_seed_gives_the_same_visits(network: DemoNetwork, visits: tuple[DemoVisit, ...]) -> None:
    assert generate_visits(network, canonical_base=BASE, today=TODAY) == visits
    assert generate_visits(network, canonical_base=BASE, today=TODAY, seed=7) != visits


def test_a_month_of_visits_of_every_life_stage_at_the_residents_posyandu(
    network: DemoNetwork, visits: tuple[DemoVisit, ...]
) -> None:
    stages = {visit.stage for visit in visits}
    assert {"ibu-hamil", "dewasa", "lansia"} <= stages
    assert stages & UNDER_FIVE
    assert stages & CHILDREN
    assert [visit.day for visit in visits] == sorted(visit.day for visit in visits)
    resources = {r.key: r for r in network.resources}
    month_start = TODAY - timedelta(days=30)
    weighed: dict[str, list[date]] = {}
    for visit in visits:
        encounter = visit.resources[0].body
        patient = resources[encounter["subject"]["reference"].removeprefix(PLACEHOLDER)]
        posyandu = resources[encounter["serviceProvider"]["reference"].removeprefix(PLACEHOLDER)]
        home = administrative_codes(patient.body["address"][0])
        assert administrative_codes(posyandu.body["address"][0])["village"] == home["village"]
        assert home["rw"] in {extension["valueCode"] for extension in posyandu.body["extension"]}
        # Children under five are weighed every month: this one's and the two before's open days.
        earliest = add_months(month_start, -2) if patient.kind in UNDER_FIVE else month_start
        assert max(earliest, date.fromisoformat(patient.body["birthDate"])) <= visit.day <= TODAY
        if patient.kind in UNDER_FIVE:
            weighed.setdefault(patient.key, []).append(visit.day)
        for record in visit.resources[1:]:
            assert record.body["subject"] == encounter["subject"]
            assert record.body["encounter"]["reference"] == PLACEHOLDER + visit.key
    assert any(len(days) == 3 for days in weighed.values())
    assert all(len({(day.year, day.month) for day in days}) == len(days) for days in weighed.values())


def test_visits_record_catalogued_measurements_and_complete_answers(visits: tuple[DemoVisit, ...]) -> None:
    """As a kader app would record them: each measurement in its catalogue code and UCUM unit, within its plausible
    range, and each form answered completely (the loader's test sees the server accept them)."""
    measured: set[str] = set()
    for record in (r.body for visit in visits for r in visit.resources[1:]):
        if record["resourceType"] == "QuestionnaireResponse":
            form = form_answered(record["questionnaire"], BASE)
            assert list(answer_problems(form, record)) == []
            measured.add(form.id)
            continue
        for element in (record, *record.get("component", [])):
            measure = catalogued_measure(element["code"])
            if measure is None:
                continue
            quantity = element["valueQuantity"]
            assert (quantity["system"], quantity["code"]) == (UCUM, measure.unit)
            assert measure.low <= quantity["value"] <= measure.high
            measured.add(measure.key)
    assert {"weight_kg", "length_cm", "head_circumference_cm", "muac_cm", "systolic", "glucose_random"} <= measured
    assert {"srq-20", "adl-barthel-total", "skilas"} <= measured


def stored_counts(db: Database) -> dict[str, int]:
    with db.session(write=False) as session:
        rows = session.execute(select(resource.c.resource_type, func.count()).group_by(resource.c.resource_type))
        return {row[0]: row[1] for row in rows}


def load_small(db: Database, settings: Settings) -> LoadReport:
    return load_demo(db, settings, residents=40, seed=11)


def test_load_stores_everything_through_the_rules_and_only_once(db: Database, settings: Settings) -> None:
    progress: list[tuple[str, int, int]] = []
    report = load_demo(db, settings, residents=40, seed=11, progress=lambda *stored: progress.append(stored))
    assert not report.already_loaded
    generated = Counter(r.resource_type for r in report.network.resources)
    generated.update(r.resource_type for visit in report.visits for r in visit.resources)
    assert stored_counts(db) == report.created
    assert generated - report.created == Counter()
    # What the rules derived from the visits: classifications, referrals, follow-ups, episodes, findings.
    assert set(report.created - generated) == {"Observation", "ServiceRequest", "Task", "EpisodeOfCare", "Condition"}
    residents = [done for what, done, total in progress if what == "residents"]
    assert residents == list(range(1, 41))
    assert progress[-1] == ("visits", len(report.visits), len(report.visits))

    again = load_small(db, settings)
    assert again.already_loaded
    assert again.dinkes_id == report.dinkes_id
    assert again.created == Counter()
    assert stored_counts(db) == report.created


def test_the_visits_are_evaluated_and_the_puskesmas_answers_some_referrals(
    db: Database, settings: Settings, client: TestClient
) -> None:
    report = load_small(db, settings)
    tally = report.tally
    assert sum(tally.visits.values()) == len(report.visits)
    assert {"ibu-hamil", "dewasa", "lansia"} <= set(tally.visits)
    assert set(tally.visits) & UNDER_FIVE
    assert set(tally.visits) & CHILDREN
    assert tally.findings > 0
    assert tally.follow_ups > 0
    assert tally.referrals == report.created["ServiceRequest"] > 0

    found = client.get("/fhir/Task", params={"code": "fulfill", "_count": 200}).json()
    referrals = [entry["resource"] for entry in found["entry"]]
    answers = Counter((task["status"], task["businessStatus"]["coding"][0]["code"]) for task in referrals)
    assert answers[("accepted", "diterima")] == tally.answers["diterima"]
    assert answers[("completed", "selesai")] == tally.answers["selesai"]
    assert answers[("requested", "dikirim")] == len(referrals) - sum(tally.answers.values())
    assert sum(tally.answers.values()) > 0
    answered = next(task for task in referrals if task["status"] == "completed")
    history = client.get(f"/fhir/Task/{answered['id']}/_history").json()["entry"]
    statuses = [entry["resource"]["status"] for entry in reversed(history)]
    assert statuses == ["requested", "received", "accepted", "in-progress", "completed"]


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


# ---- `ilp demo` prints working client credentials ----

CREDENTIAL = re.compile(
    r"^  (?P<label>dinkes|puskesmas|posyandu) +Organization/(?P<organization>\S+)  "
    r"client_id (?P<client_id>[0-9a-f]{32})  client_secret (?P<secret>\S+)$",
    re.MULTILINE,
)
FACILITY = re.compile(r"^(?P<kind>dinkes|puskesmas|posyandu) +Organization/(?P<organization>\S+)  ", re.MULTILINE)
TOKEN_COMMAND = re.compile(
    r"TOKEN=\$\(curl -s -X POST (?P<url>\S+) -u (?P<client_id>[^:\s]+):(?P<secret>\S+) "
    r"-d grant_type=client_credentials "
)
READ_COMMAND = re.compile(r"curl -s '(?P<url>[^']+/fhir/[^']+)' -H \"Authorization: Bearer \$TOKEN\"")
WORKLIST_COMMAND = re.compile(r"curl -s '(?P<url>[^']+/api/v1/worklists\?[^']+)' -H \"Authorization: Bearer \$TOKEN\"")


@dataclass(frozen=True)
class Credential:
    label: str
    organization_id: str
    client_id: str
    secret: str


def credentials(output: str) -> list[Credential]:
    return [Credential(m["label"], m["organization"], m["client_id"], m["secret"]) for m in CREDENTIAL.finditer(output)]


RunDemo = Callable[[], str]


@pytest.fixture
def run_demo(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunDemo]:
    """Runs `ilp demo` (40 residents, seed 11, as ``load_small``) on the test database; returns its stdout."""
    monkeypatch.setenv("ILP_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()

    def run() -> str:
        result = CliRunner().invoke(app, ["demo", "--residents", "40", "--seed", "11"])
        assert result.exit_code == 0, result.output
        return result.stdout

    yield run
    get_settings.cache_clear()


def token(client: TestClient, client_id: str, secret: str) -> str:
    # As the printed curl does: HTTP Basic (`-u`), form body with grant_type only.
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def test_the_demo_prints_credentials_for_a_dinkes_a_puskesmas_and_a_posyandu_on_every_run(
    run_demo: RunDemo, anonymous_client: TestClient
) -> None:
    first_output = run_demo()
    first = credentials(first_output)
    assert [c.label for c in first] == ["dinkes", "puskesmas", "posyandu"]
    facilities = {(m["kind"], m["organization"]) for m in FACILITY.finditer(first_output)}
    assert {(c.label, c.organization_id) for c in first} <= facilities

    second_output = run_demo()
    assert "demo already loaded" in second_output
    second = credentials(second_output)
    assert [(c.label, c.organization_id) for c in second] == [(c.label, c.organization_id) for c in first]
    assert not {c.client_id for c in first} & {c.client_id for c in second}
    # The rerun replaced the clients: the first run's secrets no longer work, the new ones do.
    for old, new in zip(first, second, strict=True):
        refused = anonymous_client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(old.client_id, old.secret)
        )
        assert refused.status_code == 401
        assert token(anonymous_client, new.client_id, new.secret)


def test_the_printed_commands_read_the_posyandus_residents_and_no_one_elses(
    db: Database, settings: Settings, run_demo: RunDemo, anonymous_client: TestClient
) -> None:
    report = load_small(db, settings)  # loaded first, so the ids of every generated resource are known
    output = run_demo()
    posyandu = next(c for c in credentials(output) if c.label == "posyandu")
    assert posyandu.organization_id == report.client_organizations()["posyandu"]

    token_command = TOKEN_COMMAND.search(output)
    read_command = READ_COMMAND.search(output)
    assert token_command is not None, output
    assert read_command is not None, output
    assert (token_command["client_id"], token_command["secret"]) == (posyandu.client_id, posyandu.secret)
    assert token_command["url"] == f"{DEMO_SERVER}/oauth2/token"
    assert read_command["url"].startswith(DEMO_SERVER)
    access_token = token(anonymous_client, token_command["client_id"], token_command["secret"])
    bearer = {"Authorization": f"Bearer {access_token}"}

    response = anonymous_client.get(read_command["url"].removeprefix(DEMO_SERVER), headers=bearer)
    assert response.status_code == 200, response.text
    key_of = {server_id: key for key, server_id in report.ids.items()}
    posyandu_key = key_of[posyandu.organization_id]
    expected = {
        report.ids[r.key]
        for r in report.network.of_type("Patient")
        if r.body["managingOrganization"]["reference"] == PLACEHOLDER + posyandu_key
    }
    assert expected
    assert {entry["resource"]["id"] for entry in response.json()["entry"]} == expected

    # A resident registered under the other puskesmas is outside the posyandu's scope: not found, not listed.
    own_puskesmas = key_of[report.client_organizations()["puskesmas"]]
    other_puskesmas = next(
        r.key for r in report.network.of_type("Organization") if r.kind == "puskesmas" and r.key != own_puskesmas
    )
    outsider = next(r for r in report.network.of_type("Patient") if under(report.network, r, other_puskesmas))
    outsider_id = report.ids[outsider.key]
    assert anonymous_client.get(f"/fhir/Patient/{outsider_id}", headers=bearer).status_code == 404
    everyone = anonymous_client.get("/fhir/Patient", params={"_count": 200}, headers=bearer).json()
    visible = {entry["resource"]["id"] for entry in everyone.get("entry", [])}
    assert expected <= visible
    assert outsider_id not in visible

    # Its worklist: who is due, among them for what the demo's visits left to do (a follow-up, a referral).
    worklist_command = WORKLIST_COMMAND.search(output)
    assert worklist_command is not None, output
    worklist = anonymous_client.get(worklist_command["url"].removeprefix(DEMO_SERVER), headers=bearer)
    assert worklist.status_code == 200, worklist.text
    items = worklist.json()["items"]
    assert any(str(item["source"]).startswith("Task/") for item in items), items


def under(network: DemoNetwork, patient: DemoResource, organization_key: str) -> bool:
    """Whether the patient's managing organization is ``organization_key`` or lies below it."""
    organizations = {r.key: r for r in network.of_type("Organization")}
    key: str | None = patient.body["managingOrganization"]["reference"].removeprefix(PLACEHOLDER)
    while key is not None:
        if key == organization_key:
            return True
        part_of = organizations[key].body.get("partOf")
        key = part_of["reference"].removeprefix(PLACEHOLDER) if part_of else None
    return False


def test_the_demo_s_visits_drain_into_the_mounted_simulator_and_show_delivered(
    db: Database, settings: Settings, run_demo: RunDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_demo()  # in development, with SATUSEHAT unset: its visits are queued for the mounted simulator
    served_app = create_app(settings, db)
    mount_simulator(served_app)  # as `ilp serve` does in development
    with served(served_app, "ilp-serve") as url:
        # The worker finds the simulator where `ilp serve` is; the demo's few visits need no throttle.
        monkeypatch.setenv("ILP_PUBLIC_BASE_URL", url)
        monkeypatch.setenv("ILP_SATUSEHAT_REQUESTS_PER_MINUTE", "60000")
        get_settings.cache_clear()
        worker = CliRunner().invoke(app, ["worker", "--until-idle"])
        status = CliRunner().invoke(app, ["satusehat", "status", "--count", "0"])
        transactions = httpx.get(f"{url}{MOUNT_PATH}/admin/transactions").json()

    assert worker.exit_code == 0, worker.output
    queued = int(re.search(r"attempts: (\d+) delivered$", worker.stdout.strip())[1])  # type: ignore[index]
    assert status.exit_code == 0, status.output
    assert status.stdout.splitlines()[0] == f"satusehat outbox: 0 pending, {queued} delivered, 0 failed, 0 dead"
    assert queued > 0
    assert len({bundle["entry"][0]["resource"]["id"] for bundle in transactions}) == queued
