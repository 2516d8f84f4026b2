"""Visit Bundles that must be refused, over HTTP on both databases: each answered 4xx with an OperationOutcome that
names the entry and the element, and nothing of the visit stored (row counts before and after). And a correction
of a mistyped weight that withdraws the finding it made."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    KELURAHAN,
    build_network,
    create,
    expressions,
    nik,
    organization_json,
    outcome,
    patient_json,
    questionnaire_response_json,
    stored_rows,
)
from harness import mint_token
from ilp_api.db.engine import Database
from ilp_api.settings import Settings
from visits import (
    BASE,
    category,
    classification,
    derived,
    quantity,
    quantity_value,
    record_visit,
    resident,
    visit_bundle,
)

VISIT_TYPES = ("Encounter", "Observation", "QuestionnaireResponse", "ServiceRequest", "Task", "EpisodeOfCare")
Setup = dict[str, str]


@pytest.fixture
def setup(client: TestClient) -> Setup:
    network = build_network(client)
    network["patient"] = resident(client, "1981-06-01", "female")
    network["other_patient"] = resident(client, "1990-01-01", "male", serial=2)
    return network


def with_answer(bundle: dict[str, Any], patient: str, form: str, answers: dict[str, Any], **elements: Any) -> None:
    response = questionnaire_response_json(patient, form, answers, encounter={"reference": "urn:uuid:visit"})
    entry = {"resource": {**response, **elements}, "request": {"method": "POST", "url": "QuestionnaireResponse"}}
    bundle["entry"].append(entry)


def dangling(setup: Setup) -> dict[str, Any]:
    bundle = visit_bundle(setup["patient"], setup["posyandu"], quantity("29463-7", 60, "kg"))
    bundle["entry"][1]["resource"]["encounter"] = {"reference": "urn:uuid:no-such-entry"}
    return bundle


def another_patient(setup: Setup) -> dict[str, Any]:
    bundle = visit_bundle(setup["patient"], setup["posyandu"], quantity("29463-7", 60, "kg"))
    bundle["entry"][1]["resource"]["subject"] = {"reference": f"Patient/{setup['other_patient']}"}
    return bundle


def implausible(setup: Setup) -> dict[str, Any]:
    return visit_bundle(setup["patient"], setup["posyandu"], quantity("29463-7", 600, "kg"))


def unknown_questionnaire(setup: Setup) -> dict[str, Any]:
    bundle = visit_bundle(setup["patient"], setup["posyandu"])
    with_answer(bundle, setup["patient"], "tes-bisik", {"words-heard": 5}, questionnaire=f"{BASE}/Questionnaire/sdq")
    return bundle


def answer_out_of_range(setup: Setup) -> dict[str, Any]:
    bundle = visit_bundle(setup["patient"], setup["posyandu"])
    with_answer(bundle, setup["patient"], "tes-bisik", {"words-heard": 7})
    return bundle


def not_a_facility(setup: Setup) -> dict[str, Any]:
    return visit_bundle(setup["patient"], setup["dinkes"], quantity("29463-7", 60, "kg"))


CASES: dict[str, tuple[Callable[[Setup], dict[str, Any]], int, str]] = {
    "dangling-urn-uuid": (dangling, 400, "Bundle.entry[1]"),
    "observation-of-another-patient": (another_patient, 422, "Bundle.entry[1].resource.subject"),
    "implausible-value": (implausible, 422, "Bundle.entry[1].resource.valueQuantity.value"),
    "unknown-questionnaire": (unknown_questionnaire, 422, "Bundle.entry[1].resource.questionnaire"),
    "answer-out-of-range": (answer_out_of_range, 422, "Bundle.entry[1].resource.item[0].answer[0]"),
    "site-not-a-facility": (not_a_facility, 422, "Bundle.entry[0].resource.serviceProvider"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_invalid_visit_is_refused_naming_the_entry_and_nothing_is_stored(
    client: TestClient, db: Database, setup: Setup, case: str
) -> None:
    build, status, named = CASES[case]
    bundle = build(setup)
    before = {kind: stored_rows(db, kind) for kind in VISIT_TYPES}

    problem = outcome(client.post("/fhir", json=bundle, headers=FHIR_JSON), status)

    named_in = [*expressions(problem), *(issue["diagnostics"] for issue in problem["issue"])]
    assert any(text.startswith(named) for text in named_in), named_in
    assert {kind: stored_rows(db, kind) for kind in VISIT_TYPES} == before


def test_a_visit_at_a_facility_outside_the_clients_organization_is_refused(
    anonymous_client: TestClient, client: TestClient, db: Database, settings: Settings
) -> None:
    network = build_network(client)
    mawar = organization_json(
        "posyandu", name="Posyandu Mawar", wilayah=KELURAHAN, part_of=network["pustu"], rws=("003",)
    )
    elsewhere = create(client, mawar)["id"]
    villager = patient_json(nik(), wilayah=KELURAHAN, rw="001", organization=network["posyandu"])
    patient = create(client, villager)["id"]
    posyandu_token = mint_token(db, settings, network["posyandu"], "system/*.cruds")
    anonymous_client.headers["Authorization"] = f"Bearer {posyandu_token}"
    before = {kind: stored_rows(db, kind) for kind in VISIT_TYPES}

    response = anonymous_client.post("/fhir", json=visit_bundle(patient, elsewhere), headers=FHIR_JSON)

    assert 400 <= response.status_code < 500, response.text
    assert "Bundle.entry[0]" in str(expressions(response.json())), response.text
    assert {kind: stored_rows(db, kind) for kind in VISIT_TYPES} == before


def test_a_corrected_weight_that_removes_a_gizi_kurang_finding_cancels_its_referral(
    client: TestClient, setup: Setup
) -> None:
    child = resident(client, "2023-09-20", "male", serial=3)
    height, mistyped = quantity("8302-2", 96.0, "cm"), quantity("29463-7", 12.0, "kg")  # the kader meant 14.0
    visit = record_visit(client, visit_bundle(child, setup["posyandu"], height, mistyped))
    assert category(classification(derived(client, "Observation", visit), "bb-tb")) == "gizi-kurang"
    [weight] = [o for o in derived(client, "Observation", visit) if o["code"]["coding"][0]["code"] == "29463-7"]

    corrected = {**weight, "valueQuantity": quantity_value(14.0, "kg")}
    assert client.put(f"/fhir/Observation/{weight['id']}", json=corrected, headers=FHIR_JSON).status_code == 200

    assert category(classification(derived(client, "Observation", visit), "bb-tb")) == "gizi-baik"
    [referral] = derived(client, "ServiceRequest", visit)
    assert referral["status"] == "revoked"
    [task] = [t for t in derived(client, "Task", visit) if t.get("focus")]
    assert task["status"] == "cancelled"
    assert task["statusReason"]["text"]
