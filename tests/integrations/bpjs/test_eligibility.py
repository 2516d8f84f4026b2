"""``POST /fhir/Patient/{id}/$eligibility`` against the PCare simulator over real HTTP, on SQLite and PostgreSQL."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from pydantic import SecretStr

from factories import FHIR_JSON, KELURAHAN, TEST_NIK, build_network, create, patient_json
from harness import served
from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.integrations.bpjs.config import save_credentials
from ilp_api.integrations.bpjs.errors import BpjsOutcome
from ilp_api.integrations.bpjs.simulator.fixtures import (
    ACTIVE,
    ARREARS,
    INACTIVE,
    OTHER_PPK,
    REGISTERED_ELSEWHERE,
    SIMULATED_PPK,
    SIMULATOR_CREDENTIALS,
    UNKNOWN,
)
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.resources.indonesia import bpjs_system
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from pcare_simulator import BREAKER_FAILURES, Simulator, bpjs_settings


def resident(client: TestClient, no_kartu: str | None = None, nik: str | None = TEST_NIK) -> str:
    card = [{"system": bpjs_system(client.app.state.settings.canonical_base), "value": no_kartu}] if no_kartu else []
    return str(create(client, patient_json(nik, identifiers=card))["id"])


def eligibility(client: TestClient, patient_id: str) -> httpx.Response:
    return client.post(f"/fhir/Patient/{patient_id}/$eligibility", headers=FHIR_JSON)


def search(client: TestClient, query: str) -> list[dict[str, Any]]:
    response = client.get(f"/fhir/{query}")
    assert response.status_code == 200, response.text
    return [entry["resource"] for entry in response.json().get("entry", [])]


def extensions(insurance: dict[str, Any]) -> dict[str, Any]:
    return {
        extension["url"].rsplit("/", 1)[1]: next(v for k, v in extension.items() if k.startswith("value"))
        for extension in insurance.get("extension", [])
    }


def outcome_code(response: httpx.Response) -> str:
    issue = response.json()["issue"][0]
    return str(issue["details"]["coding"][0]["code"])


def test_an_active_member_registered_here(bpjs_client: TestClient) -> None:
    patient_id = resident(bpjs_client, ACTIVE)
    response = eligibility(bpjs_client, patient_id)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["resourceType"] == "CoverageEligibilityResponse"
    assert (answer["outcome"], answer["purpose"], answer["disposition"]) == ("complete", ["validation"], "AKTIF")
    assert answer["insurer"]["reference"] == "Organization/bpjs-kesehatan"
    insurance = answer["insurance"][0]
    assert insurance["inforce"] is True
    assert insurance["benefitPeriod"] == {"start": "2020-01-01", "end": "2099-12-31"}
    assert insurance["item"][0]["name"] == "KELAS III"
    assert extensions(insurance) == {
        "bpjs-fktp-terdaftar": {
            "system": insurance["extension"][0]["valueCoding"]["system"],
            "code": SIMULATED_PPK,
            "display": "PUSKESMAS SIMULASI",
        },
        "bpjs-fktp-ini": True,
        "bpjs-tunggakan": 0,
    }
    request = bpjs_client.get(f"/fhir/{answer['request']['reference']}").json()
    assert request["patient"] == {"reference": f"Patient/{patient_id}"}
    assert request["insurer"]["reference"] == "Organization/bpjs-kesehatan"
    [coverage] = search(bpjs_client, f"Coverage?beneficiary=Patient/{patient_id}")
    assert insurance["coverage"]["reference"] == f"Coverage/{coverage['id']}"
    assert (coverage["status"], coverage["subscriberId"]) == ("active", ACTIVE)
    assert coverage["identifier"] == [
        {"system": bpjs_system(bpjs_client.app.state.settings.canonical_base), "value": ACTIVE}
    ]
    assert [(c["value"], c["name"]) for c in coverage["class"]] == [("3", "KELAS III"), ("22", "PBI (APBD)")]
    assert coverage["period"] == {"start": "2020-01-01", "end": "2099-12-31"}
    payor = bpjs_client.get("/fhir/Organization/bpjs-kesehatan").json()
    assert (payor["name"], payor["type"][0]["coding"][0]["code"]) == ("BPJS Kesehatan", "penjamin")
    for written in (answer, request, coverage, payor):  # valid R4, as fhir.resources reads it
        get_fhir_model_class(written["resourceType"]).model_validate(written)


def test_asking_again_updates_the_one_coverage(bpjs_client: TestClient) -> None:
    patient_id = resident(bpjs_client, ACTIVE)
    assert eligibility(bpjs_client, patient_id).status_code == 200
    assert eligibility(bpjs_client, patient_id).status_code == 200
    [coverage] = search(bpjs_client, f"Coverage?beneficiary=Patient/{patient_id}")
    assert coverage["meta"]["versionId"] == "2"
    assert len(search(bpjs_client, f"CoverageEligibilityResponse?patient=Patient/{patient_id}")) == 2


def test_by_nik_when_the_resident_has_no_card_number(bpjs_client: TestClient, simulator: Simulator) -> None:
    member = {
        "nama": "BUDI SANTOSO",
        "noKTP": TEST_NIK,
        "aktif": True,
        "ketAktif": "AKTIF",
        "tglMulaiAktif": "01-02-2024",
    }
    httpx.put(f"{simulator.url}/_simulator/members/0003000000001", json=member).raise_for_status()
    patient_id = resident(bpjs_client)
    response = eligibility(bpjs_client, patient_id)
    assert response.status_code == 200, response.text
    [coverage] = search(bpjs_client, f"Coverage?beneficiary=Patient/{patient_id}")
    assert (coverage["subscriberId"], coverage["period"]) == ("0003000000001", {"start": "2024-02-01"})


def test_an_inactive_member(bpjs_client: TestClient) -> None:
    patient_id = resident(bpjs_client, INACTIVE)
    answer = eligibility(bpjs_client, patient_id).json()
    assert (answer["insurance"][0]["inforce"], answer["disposition"]) == (False, "TIDAK AKTIF")
    [coverage] = search(bpjs_client, f"Coverage?beneficiary=Patient/{patient_id}")
    assert coverage["status"] == "cancelled"


def test_a_member_in_arrears_and_one_registered_elsewhere(bpjs_client: TestClient) -> None:
    arrears = extensions(eligibility(bpjs_client, resident(bpjs_client, ARREARS)).json()["insurance"][0])
    assert arrears["bpjs-tunggakan"] == 1_260_000
    elsewhere = eligibility(bpjs_client, resident(bpjs_client, REGISTERED_ELSEWHERE, nik=None)).json()
    fktp = extensions(elsewhere["insurance"][0])
    assert (fktp["bpjs-fktp-terdaftar"]["code"], fktp["bpjs-fktp-ini"]) == (OTHER_PPK, False)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (None, 422, BpjsOutcome.MEMBER_NOT_FOUND),
        ("html-500", 502, BpjsOutcome.SERVER_ERROR),
        ("garbage", 502, BpjsOutcome.MALFORMED_REPLY),
        ("hang", 503, BpjsOutcome.TIMEOUT),
    ],
)
def test_failures_answer_their_own_outcome_and_store_nothing(
    bpjs_client: TestClient, simulator: Simulator, fault: str | None, status: int, code: BpjsOutcome
) -> None:
    patient_id = resident(bpjs_client, UNKNOWN if fault is None else ACTIVE)
    if fault:
        simulator.fault(fault, seconds=2)
    response = eligibility(bpjs_client, patient_id)
    assert (response.status_code, outcome_code(response)) == (status, code)
    assert response.json()["resourceType"] == "OperationOutcome"
    assert search(bpjs_client, f"Coverage?beneficiary=Patient/{patient_id}") == []
    assert search(bpjs_client, f"CoverageEligibilityRequest?patient=Patient/{patient_id}") == []


def test_wrong_credentials(db: Database, settings: Settings, simulator: Simulator, issue_token: Any) -> None:
    wrong = bpjs_settings(settings, simulator, bpjs_password=SecretStr("not-the-password"))
    with TestClient(create_app(wrong, db)) as client:
        client.headers["Authorization"] = f"Bearer {issue_token(None, ADMIN_SCOPE)}"
        response = eligibility(client, resident(client, ACTIVE))
    assert (response.status_code, outcome_code(response)) == (502, BpjsOutcome.CREDENTIALS_REFUSED)


def test_the_integration_off_says_so(client: TestClient) -> None:
    response = eligibility(client, resident(client, ACTIVE))
    assert (response.status_code, outcome_code(response)) == (503, BpjsOutcome.NOT_CONFIGURED)
    assert "ILP_BPJS_PCARE_URL" in response.json()["issue"][0]["diagnostics"]


def test_a_resident_without_card_number_or_nik(bpjs_client: TestClient) -> None:
    response = eligibility(bpjs_client, resident(bpjs_client, nik=None))
    assert (response.status_code, outcome_code(response)) == (422, "tanpa-nomor-bpjs")


def test_parameters_are_refused(bpjs_client: TestClient) -> None:
    patient_id = resident(bpjs_client, ACTIVE)
    body = {"resourceType": "Parameters", "parameter": [{"name": "noKartu", "valueString": ACTIVE}]}
    response = bpjs_client.post(f"/fhir/Patient/{patient_id}/$eligibility", json=body, headers=FHIR_JSON)
    assert response.status_code == 422
    assert "takes none" in response.json()["issue"][0]["diagnostics"]


def test_the_breaker_opens_after_k_failures(
    db: Database, settings: Settings, simulator: Simulator, issue_token: Any
) -> None:
    with TestClient(create_app(bpjs_settings(settings, simulator), db)) as client:  # a breaker of its own
        client.headers["Authorization"] = f"Bearer {issue_token(None, ADMIN_SCOPE)}"
        patient_id = resident(client, ACTIVE)
        simulator.fault("html-500")
        for _ in range(BREAKER_FAILURES):
            assert eligibility(client, patient_id).status_code == 502
        seen = simulator.requests_seen()
        response = eligibility(client, patient_id)
    assert (response.status_code, outcome_code(response)) == (503, BpjsOutcome.BREAKER_OPEN)
    assert int(response.headers["Retry-After"]) > 0
    assert simulator.requests_seen() == seen


def test_twenty_concurrent_calls_with_bpjs_hanging_return_within_the_bound(
    db: Database, settings: Settings, simulator: Simulator, issue_token: Any
) -> None:
    app = create_app(bpjs_settings(settings, simulator, bpjs_breaker_failures=100), db)
    headers = {"Authorization": f"Bearer {issue_token(None, ADMIN_SCOPE)}", **FHIR_JSON}
    with served(app, "live-server") as url:
        patient = httpx.post(f"{url}/fhir/Patient", json=patient_json(identifiers=[]), headers=headers).json()
        simulator.fault("hang", seconds=3)
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=20) as pool:
                answers = list(pool.map(lambda _: http.post(f"/fhir/Patient/{patient['id']}/$eligibility"), range(20)))
            elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"20 calls took {elapsed:.2f} s"
    assert {(answer.status_code, outcome_code(answer)) for answer in answers} == {(503, BpjsOutcome.TIMEOUT)}


def test_a_puskesmas_credentials_sign_for_the_facilities_below_it(
    db: Database, settings: Settings, simulator: Simulator, issue_token: Any
) -> None:
    """Stored as `ilp bpjs credentials set` stores them, for the puskesmas only: its posyandu's client is answered
    with them, and an operator, who acts for no organization, with the deployment's own, of which there are none."""
    none_here = dict.fromkeys(("bpjs_cons_id", "bpjs_secret", "bpjs_user_key", "bpjs_username", "bpjs_password"))
    with TestClient(create_app(bpjs_settings(settings, simulator, **none_here), db)) as client:
        client.headers["Authorization"] = f"Bearer {issue_token(None, ADMIN_SCOPE)}"
        network = build_network(client)
        with db.session(write=True) as session:
            store = CredentialStore(session, CredentialCipher.from_settings(settings))
            save_credentials(store, network["puskesmas"], SIMULATOR_CREDENTIALS)
        card = [{"system": bpjs_system(settings.canonical_base), "value": ACTIVE}]
        resident = patient_json(wilayah=KELURAHAN, rw="001", organization=network["posyandu"], identifiers=card)
        patient_id = create(client, resident)["id"]
        as_operator = eligibility(client, patient_id)
        client.headers["Authorization"] = f"Bearer {issue_token(network['posyandu'], 'system/*.cruds')}"
        as_posyandu = eligibility(client, patient_id)
    assert (as_operator.status_code, outcome_code(as_operator)) == (503, BpjsOutcome.NOT_CONFIGURED)
    assert as_posyandu.status_code == 200, as_posyandu.text
    assert as_posyandu.json()["insurance"][0]["inforce"] is True
