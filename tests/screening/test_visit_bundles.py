"""Screening visits end to end over HTTP: a visit sent as one transaction Bundle is evaluated on write, and what
follows is stored with it: classifications, referrals addressed through the facility network, follow-ups, klaster
episodes. Corrections re-evaluate the visit. Both databases. Findings as Conditions: test_findings.py.
"""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from factories import (
    BODY_WEIGHT,
    FHIR_JSON,
    LOINC,
    build_network,
    expressions,
    outcome,
    questionnaire_response_json,
    search,
    stored_rows,
)
from ilp_api.cli import app
from ilp_api.db.engine import Database
from ilp_api.settings import get_settings
from visits import (
    PREGNANT,
    blood_pressure,
    category,
    classification,
    derived,
    episodes_of,
    quantity,
    quantity_value,
    quantity_value_of,
    record_visit,
    resident,
    visit_bundle,
)


def test_the_pregnant_22_year_old_with_raised_bp_gets_her_klaster_her_pregnancy_and_a_referral(
    client: TestClient, network: dict[str, str]
) -> None:
    mother = resident(client, "2004-05-10", "female")

    visit = record_visit(client, visit_bundle(mother, network["posyandu"], blood_pressure(150, 95), PREGNANT))

    observations = derived(client, "Observation", visit)
    assert category(classification(observations, "tekanan-darah")) == "hipertensi-1"
    assert category(classification(observations, "tekanan-darah-kehamilan")) == "td-hamil-tinggi"
    [request] = derived(client, "ServiceRequest", visit)
    assert request["performer"] == [{"reference": f"Organization/{network['puskesmas']}"}]
    assert request["priority"] == "urgent"  # td-hamil-tinggi: segera, the higher of the two (§7)
    assert {c["coding"][0]["code"] for c in request["reasonCode"]} >= {"td-hamil-tinggi", "hipertensi-1"}
    [task] = [t for t in derived(client, "Task", visit) if t.get("focus")]
    assert task["focus"]["reference"] == f"ServiceRequest/{request['id']}"
    assert task["owner"]["reference"] == f"Organization/{network['puskesmas']}"
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == ("requested", "dikirim")
    episodes = search(client, "EpisodeOfCare", f"patient=Patient/{mother}&status=active")["entry"]
    by_type = {e["resource"]["type"][0]["coding"][0]["code"]: e["resource"] for e in episodes}
    assert set(by_type) == {"klaster-2", "klaster-3", "kehamilan"}
    assert by_type["klaster-2"]["managingOrganization"]["reference"] == f"Organization/{network['puskesmas']}"
    encounter = client.get(f"/fhir/Encounter/{visit}").json()
    episode_refs = {f"EpisodeOfCare/{episode['id']}" for episode in by_type.values()}
    assert {e["reference"] for e in encounter["episodeOfCare"]} == episode_refs
    anc = search(client, "Encounter", f"episode-of-care=EpisodeOfCare/{by_type['kehamilan']['id']}")
    assert [e["resource"]["id"] for e in anc["entry"]] == [visit]  # her first ANC contact counts on the pregnancy
    for klaster_3 in ("klaster=klaster-3", "klaster=3"):
        assert [e["resource"]["id"] for e in search(client, "Encounter", klaster_3)["entry"]] == [visit]


def test_a_stunted_three_year_old_is_referred_to_the_puskesmas(client: TestClient, network: dict[str, str]) -> None:
    child = resident(client, "2023-09-20", "male")

    # WHO 2006 length/height-for-age, boys 37 months: median 96.9 cm; 88.0 cm is about −2.4 SD.
    visit = record_visit(client, visit_bundle(child, network["posyandu"], quantity("8302-2", 88.0, "cm")))

    stunting = classification(derived(client, "Observation", visit), "tb-u")
    assert category(stunting) == "pendek"
    assert -3 <= stunting["valueQuantity"]["value"] < -2
    [request] = derived(client, "ServiceRequest", visit)
    assert request["performer"] == [{"reference": f"Organization/{network['puskesmas']}"}]
    assert request["priority"] == "routine"
    klaster = {t["coding"][0]["code"] for t in client.get(f"/fhir/Encounter/{visit}").json()["type"]}
    assert klaster == {"klaster-2"}


def test_two_consecutive_months_without_gain_make_a_2t_referral(client: TestClient, network: dict[str, str]) -> None:
    child = resident(client, "2025-01-15", "female")
    weight = {"code": {"coding": [{"system": LOINC, "code": BODY_WEIGHT}]}}

    for day in ("2026-09-03", "2026-10-05"):
        record_visit(client, visit_bundle(child, network["posyandu"], {**weight, **quantity_value_of(9.0)}, day=day))
    visit = record_visit(client, visit_bundle(child, network["posyandu"], {**weight, **quantity_value_of(9.0)}))

    assert category(classification(derived(client, "Observation", visit), "tren-berat")) == "2T"
    [request] = derived(client, "ServiceRequest", visit)
    assert "2T" in {c["coding"][0]["code"] for c in request["reasonCode"]}


def test_a_45_year_old_answering_srq_20_item_17_yes_is_referred_at_once(
    client: TestClient, network: dict[str, str]
) -> None:
    adult = resident(client, "1981-06-01", "female")
    answers = {f"srq-{item}": item == 17 for item in range(1, 21)}
    bundle = visit_bundle(adult, network["posyandu"])
    response = questionnaire_response_json(adult, "srq-20", answers, encounter={"reference": "urn:uuid:visit"})
    bundle["entry"].append({"resource": response, "request": {"method": "POST", "url": "QuestionnaireResponse"}})

    visit = record_visit(client, bundle)

    srq = classification(derived(client, "Observation", visit), "srq-20")
    assert category(srq) == "normal"  # one yes of twenty …
    assert [c["valueCodeableConcept"]["coding"][0]["code"] for c in srq["component"]] == ["risiko-bunuh-diri"]
    [request] = derived(client, "ServiceRequest", visit)  # … but item 17: →P segera, escorted (§7)
    assert (request["priority"], request["performer"]) == (
        "urgent",
        [{"reference": f"Organization/{network['puskesmas']}"}],
    )
    assert "risiko-bunuh-diri" in {c["coding"][0]["code"] for c in request["reasonCode"]}


def test_a_corrected_height_that_removes_a_finding_cancels_its_referral(
    client: TestClient, network: dict[str, str]
) -> None:
    child = resident(client, "2023-09-20", "male")
    visit = record_visit(client, visit_bundle(child, network["posyandu"], quantity("8302-2", 88.0, "cm")))
    [height] = [o for o in derived(client, "Observation", visit) if o["code"]["coding"][0]["code"] == "8302-2"]

    corrected = {**height, "valueQuantity": quantity_value(97.0, "cm")}  # the kader had typed 88 for 98
    assert client.put(f"/fhir/Observation/{height['id']}", json=corrected, headers=FHIR_JSON).status_code == 200

    assert category(classification(derived(client, "Observation", visit), "tb-u")) == "normal"
    [request] = derived(client, "ServiceRequest", visit)
    assert request["status"] == "revoked"
    [task] = [t for t in derived(client, "Task", visit) if t.get("focus")]
    assert task["status"] == "cancelled"
    assert task["statusReason"]["text"]


def test_a_visit_held_by_the_dinkes_is_refused_and_nothing_is_stored(
    client: TestClient, db: Database, network: dict[str, str]
) -> None:
    child = resident(client, "2023-09-20", "male")

    response = client.post("/fhir", json=visit_bundle(child, network["dinkes"]), headers=FHIR_JSON)

    assert "Bundle.entry[0].resource.serviceProvider" in expressions(outcome(response, 422))
    assert (stored_rows(db, "Encounter"), stored_rows(db, "Observation")) == (0, 0)


def test_a_visit_sent_again_is_answered_with_what_was_stored_and_nothing_is_stored_twice(
    client: TestClient, db: Database, network: dict[str, str]
) -> None:
    child = resident(client, "2023-09-20", "male")
    measurements = (quantity("8302-2", 88.0, "cm"), quantity(BODY_WEIGHT, 11.2, "kg"))
    first = client.post("/fhir", json=visit_bundle(child, network["posyandu"], *measurements), headers=FHIR_JSON)
    rows = {kind: stored_rows(db, kind) for kind in ("Encounter", "Observation", "ServiceRequest", "Task")}

    # The app lost the answer and sends the visit again, with fresh urn:uuids.
    again = client.post(
        "/fhir", json=visit_bundle(child, network["posyandu"], *measurements, visit="retry"), headers=FHIR_JSON
    )

    assert again.status_code == 200, again.text
    replayed = again.json()["entry"]
    assert {e["response"]["status"] for e in replayed} == {"200 OK"}
    # The same resources at the same versions, the derived ones included.
    assert [e["response"]["etag"] for e in replayed] == [e["response"]["etag"] for e in first.json()["entry"]]
    assert [e["fullUrl"] for e in replayed] == [e["fullUrl"] for e in first.json()["entry"]]
    assert {kind: stored_rows(db, kind) for kind in rows} == rows


def test_a_visit_sent_again_with_other_content_is_refused_naming_the_stored_encounter(
    client: TestClient, db: Database, network: dict[str, str]
) -> None:
    child = resident(client, "2023-09-20", "male")
    visit = record_visit(client, visit_bundle(child, network["posyandu"], quantity("8302-2", 88.0, "cm")))

    response = client.post(
        "/fhir", json=visit_bundle(child, network["posyandu"], quantity("8302-2", 98.0, "cm")), headers=FHIR_JSON
    )

    assert f"Encounter/{visit}" in outcome(response, 409)["issue"][0]["diagnostics"]
    assert (stored_rows(db, "Encounter"), stored_rows(db, "Observation")) == (1, 1 + 1)  # the height, its tb-u


RESENDS = 50


def test_fifty_concurrent_resends_of_one_visit_store_one_encounter(
    live_server: str, live_auth: dict[str, str], db: Database
) -> None:
    with httpx.Client(base_url=live_server, headers={**FHIR_JSON, **live_auth}, timeout=60) as http:
        network = build_network(http)
        child = resident(http, "2023-09-20", "male")
        bundle = visit_bundle(child, network["posyandu"], quantity("8302-2", 88.0, "cm"))
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda _: http.post("/fhir", json=bundle), range(RESENDS)))

    assert [a.status_code for a in answers] == [200] * RESENDS, [a.text[:200] for a in answers if a.status_code != 200]
    assert len({a.json()["entry"][0]["response"]["location"] for a in answers}) == 1
    assert stored_rows(db, "Encounter") == 1


def test_evaluate_answers_what_recording_would_store_and_stores_nothing(
    client: TestClient, db: Database, network: dict[str, str]
) -> None:
    mother = resident(client, "2004-05-10", "female")
    bundle = visit_bundle(mother, network["posyandu"], blood_pressure(150, 95), PREGNANT)
    before = {kind: stored_rows(db, kind) for kind in ("Encounter", "Observation", "EpisodeOfCare", "Task")}

    response = client.post("/fhir/Encounter/$evaluate", json=bundle, headers=FHIR_JSON)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in answer["entry"]]
    assert kinds.count("EpisodeOfCare") == 3  # klaster 2, klaster 3, her pregnancy
    assert {"Encounter", "ServiceRequest", "Task"} <= set(kinds)
    observations = [e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert category(classification(observations, "tekanan-darah-kehamilan")) == "td-hamil-tinggi"
    assert {kind: stored_rows(db, kind) for kind in before} == before


def test_evaluate_refuses_what_recording_would_refuse_naming_the_entry(
    client: TestClient, db: Database, network: dict[str, str]
) -> None:
    child = resident(client, "2023-09-20", "male")

    response = client.post("/fhir/Encounter/$evaluate", json=visit_bundle(child, network["dinkes"]), headers=FHIR_JSON)

    assert "Bundle.entry[0].resource.serviceProvider" in expressions(outcome(response, 422))
    assert stored_rows(db, "Encounter") == 0


def test_a_pregnancy_counts_her_visits_and_ends_42_days_after_the_delivery(
    client: TestClient, network: dict[str, str]
) -> None:
    mother = resident(client, "2000-02-14", "female")
    record_visit(client, visit_bundle(mother, network["posyandu"], blood_pressure(110, 70), PREGNANT, day="2026-03-02"))
    # The next month's visit records no pregnancy status: her open pregnancy says she is pregnant (K2).
    second = record_visit(client, visit_bundle(mother, network["posyandu"], blood_pressure(112, 72), day="2026-04-06"))
    assert category(classification(derived(client, "Observation", second), "tekanan-darah-kehamilan")) == "normal"
    pregnancy = episodes_of(client, mother)["kehamilan"]
    anc = search(client, "Encounter", f"episode-of-care=EpisodeOfCare/{pregnancy['id']}")
    assert len(anc["entry"]) == 2

    delivered = {
        "code": {"coding": [{"system": LOINC, "code": "93857-1"}]},
        "valueDateTime": "2026-09-20T04:00:00+07:00",
    }
    record_visit(
        client, visit_bundle(mother, network["posyandu"], blood_pressure(115, 75), delivered, day="2026-09-25")
    )
    assert episodes_of(client, mother)["kehamilan"]["status"] == "active"  # nifas: still hers, KF visits count
    record_visit(client, visit_bundle(mother, network["posyandu"], blood_pressure(115, 75), day="2026-11-02"))

    ended = client.get(f"/fhir/EpisodeOfCare/{pregnancy['id']}").json()
    assert (ended["status"], ended["period"]["end"]) == ("finished", "2026-11-01")  # 20 Sep + 42 days
    kf = search(client, "Encounter", f"episode-of-care=EpisodeOfCare/{pregnancy['id']}")
    assert len(kf["entry"]) == 3  # two ANC visits and the nifas visit; the last one came after it ended


def test_a_childs_klaster_2_episode_ends_on_the_18th_birthday_and_klaster_3_takes_over(
    client: TestClient, network: dict[str, str]
) -> None:
    teenager = resident(client, "2008-11-20", "male")
    record_visit(client, visit_bundle(teenager, network["posyandu"], blood_pressure(118, 76), day="2026-10-05"))
    child_episode = episodes_of(client, teenager)["klaster-2"]

    record_visit(client, visit_bundle(teenager, network["posyandu"], blood_pressure(118, 76), day="2026-12-01"))

    ended = client.get(f"/fhir/EpisodeOfCare/{child_episode['id']}").json()
    assert (ended["status"], ended["period"]["end"]) == ("finished", "2026-11-20")
    assert episodes_of(client, teenager)["klaster-3"]["status"] == "active"


def test_the_daily_sweep_closes_what_time_alone_has_ended(
    client: TestClient, db: Database, network: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    adult = resident(client, "1980-01-15", "female")
    teenager = resident(client, "2008-12-01", "male", serial=2)
    record_visit(client, visit_bundle(adult, network["posyandu"], blood_pressure(120, 80), day="2025-10-01"))
    record_visit(client, visit_bundle(teenager, network["posyandu"], blood_pressure(118, 76), day="2026-10-05"))
    monkeypatch.setenv("ILP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()

    try:
        swept = CliRunner().invoke(app, ["episodes", "close", "--today", "2026-12-01"])
    finally:
        get_settings.cache_clear()

    assert swept.exit_code == 0, swept.output
    assert "closed 2 episode(s)" in swept.stdout
    idle = episodes_of(client, adult)["klaster-3"]  # no visit since 1 Oct 2025
    assert (idle["status"], idle["period"]["end"]) == ("finished", "2026-10-01")
    grown = episodes_of(client, teenager)["klaster-2"]
    assert (grown["status"], grown["period"]["end"]) == ("finished", "2026-12-01")


def test_the_answer_to_a_visit_lists_what_was_stored_and_derived_at_their_latest_versions(
    client: TestClient, network: dict[str, str]
) -> None:
    mother = resident(client, "2004-05-10", "female")

    response = client.post(
        "/fhir", json=visit_bundle(mother, network["posyandu"], blood_pressure(150, 95), PREGNANT), headers=FHIR_JSON
    )

    entries = response.json()["entry"]
    encounter = entries[0]
    assert encounter["resource"]["episodeOfCare"]  # as the hook left it, not as sent
    assert encounter["response"]["etag"] == f'W/"{encounter["resource"]["meta"]["versionId"]}"'
    derived = entries[3:]
    kinds = sorted(entry["resource"]["resourceType"] for entry in derived)
    assert kinds.count("EpisodeOfCare") == 3
    assert {"Observation", "ServiceRequest", "Task"} <= set(kinds)
    assert {entry["response"]["status"] for entry in derived} == {"201 Created"}
    for entry in derived:
        stored = client.get(entry["response"]["location"])
        assert stored.json() == entry["resource"]
