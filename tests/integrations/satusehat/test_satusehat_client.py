"""The SATUSEHAT client over real HTTP against the simulator: tokens cached and renewed, lookups and creates, facility
registration, and every kind of answer classified."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from ilp_api.integrations.satusehat.client import (
    Accepted,
    Refused,
    SatusehatClient,
    SatusehatCredential,
    Transient,
    created_patient_id,
)
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT
from satusehat_simulator import Simulator

T = TypeVar("T")
CREDENTIAL = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)


def run(simulator: Simulator, call: Callable[[SatusehatClient], Awaitable[T]], **options: Any) -> T:
    async def session() -> T:
        client = SatusehatClient(simulator.auth_url, simulator.fhir_url, **options)
        try:
            return await call(client)
        finally:
            await client.aclose()

    return asyncio.run(session())


def token_requests(simulator: Simulator) -> int:
    requests = simulator.admin("GET", "requests").json()
    return sum(1 for request in requests if request["path"].endswith("/accesstoken"))


def test_token_cached_and_renewed_once_on_401(simulator: Simulator) -> None:
    async def calls(client: SatusehatClient) -> list[object]:
        first = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        second = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        simulator.admin("POST", "tokens/expire")  # SATUSEHAT forgets it early: a 401, a new token, once
        third = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        return [first, second, third]

    answers = run(simulator, calls)
    assert [type(answer) for answer in answers] == [Accepted, Accepted, Accepted]
    assert token_requests(simulator) == 2


def test_short_token_lifetime_is_renewed_before_expiry(simulator: Simulator) -> None:
    simulator.admin("PUT", "settings", token_lifetime_seconds=1)  # "1": renewed after half of it

    async def calls(client: SatusehatClient) -> None:
        await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        await asyncio.sleep(0.6)
        await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")

    run(simulator, calls)
    assert token_requests(simulator) == 2
    requests = simulator.admin("GET", "requests").json()
    assert [r["path"] for r in requests].count("/fhir-r4/v1/Patient/P02478375538") == 2, "no 401 round trip"


def test_wrong_secret_is_refused_not_transient(simulator: Simulator) -> None:
    wrong = SatusehatCredential(CREDENTIAL.client_id, "wrong", CREDENTIAL.organization_id)
    answer = run(simulator, lambda client: client.fhir(wrong, "GET", "Patient/P02478375538"))
    assert isinstance(answer, Refused)
    assert answer.status == 401
    assert "client_secret combination is unacceptable" in answer.message


def test_patient_found_or_created(simulator: Simulator) -> None:
    demographics = {"name": [{"text": "Rina Wati"}], "gender": "female", "birthDate": "1990-01-01"}

    async def calls(client: SatusehatClient) -> list[object]:
        known = await client.patient_ihs(CREDENTIAL, "9271060312000001")
        created = await client.patient_ihs(CREDENTIAL, "3374014101900001", demographics=demographics)
        again = await client.patient_ihs(CREDENTIAL, "3374014101900001", demographics=demographics)
        newborn = await client.patient_ihs(
            CREDENTIAL, "3374014101900001", newborn=True, demographics={"name": [{"text": "Bayi Ny. Rina"}]}
        )
        return [known, created, again, newborn]

    known, created, again, newborn = run(simulator, calls)
    assert known == "P02478375538"
    assert isinstance(created, str)
    assert created.startswith("P")
    assert again == created, "found by NIK the second time, not created twice"
    assert isinstance(newborn, str)
    assert newborn not in (known, created)
    assert len(simulator.resources("Patient")) == 3 + 2


def test_patient_create_answers_in_every_documented_shape() -> None:
    assert created_patient_id({"success": True, "data": {"patient_id": "P1"}}) == "P1"
    assert created_patient_id({"create_patient": {"success": True, "data": {"patient_id": "P2"}}}) == "P2"
    assert created_patient_id({"resourceType": "Patient", "id": "P3"}) == "P3"
    assert created_patient_id({"success": False, "message": "?"}) is None


def test_practitioner_lookup(simulator: Simulator) -> None:
    async def calls(client: SatusehatClient) -> list[object]:
        return [
            await client.practitioner_ihs(CREDENTIAL, "7209061211900001"),
            await client.practitioner_ihs(CREDENTIAL, "3374010101010101"),
        ]

    assert run(simulator, calls) == ["10009880728", None]


def test_posyandu_registered_once_as_suborganization_and_location(simulator: Simulator) -> None:
    async def calls(client: SatusehatClient) -> list[object]:
        organization = await client.register_suborganization(CREDENTIAL, "org-7", "Posyandu Melati", "100011")
        assert isinstance(organization, str)
        location = await client.register_location(
            CREDENTIAL, "org-7", "Posyandu Melati", longitude=110.4, latitude=-6.9, managing_organization=organization
        )
        again = await client.register_suborganization(CREDENTIAL, "org-7", "Posyandu Melati", "100011")
        return [organization, location, again]

    organization, location, again = run(simulator, calls)
    assert again == organization
    (stored,) = [o for o in simulator.resources("Organization") if o["id"] == organization]
    assert stored["partOf"] == {"reference": "Organization/100011"}
    (place,) = simulator.resources("Location")
    assert place["id"] == location
    assert place["position"] == {"longitude": 110.4, "latitude": -6.9}


def test_answers_classified(simulator: Simulator) -> None:
    bad_bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "x", "resource": {}}]}

    async def calls(client: SatusehatClient) -> list[object]:
        await client.token(CREDENTIAL)
        simulator.inject("status", status=503)
        unavailable = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        simulator.inject("rate-limit", seconds=12)
        limited = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        simulator.inject("hang", seconds=1.0)
        hung = await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        refused = await client.post_transaction(CREDENTIAL, bad_bundle)
        return [unavailable, limited, hung, refused]

    unavailable, limited, hung, refused = run(simulator, calls, timeout_seconds=0.3)
    assert unavailable == Transient("HTTP 503: Service Unavailable", None)
    assert limited == Transient("HTTP 429: Too Many Requests", 12.0)
    assert isinstance(hung, Transient)
    assert hung.reason.startswith("timeout")
    assert isinstance(refused, Refused)
    assert refused.status == 400
    assert refused.rule_numbers == ("20006",)
    assert refused.outcome is not None


def test_unreachable_platform_is_transient() -> None:
    async def call() -> object:
        client = SatusehatClient("http://127.0.0.1:9/oauth2/v1", "http://127.0.0.1:9/fhir-r4/v1")
        try:
            return await client.fhir(CREDENTIAL, "GET", "Patient/P1")
        finally:
            await client.aclose()

    answer = asyncio.run(call())
    assert isinstance(answer, Transient)
    assert answer.reason.startswith("transport error")


def test_requests_per_credential_are_rate_limited(simulator: Simulator) -> None:
    async def calls(client: SatusehatClient) -> float:
        await client.token(CREDENTIAL)
        started = time.monotonic()
        for _ in range(5):
            await client.fhir(CREDENTIAL, "GET", "Patient/P02478375538")
        return time.monotonic() - started

    # 600 a minute, one at once: a request every 0.1 s, so five take at least 0.4 s however the first is timed.
    elapsed = run(simulator, calls, requests_per_minute=600, burst=1)
    assert elapsed >= 0.39


def test_duplicate_names_the_existing_id(simulator: Simulator) -> None:
    body = {"resourceType": "Patient", "identifier": [{"system": "https://fhir.kemkes.go.id/id/nik", "value": "1"}]}
    body["name"] = [{"text": "Duplikat"}]
    token = simulator.token()
    first = httpx.post(f"{simulator.fhir_url}/Patient", json=body, headers={"Authorization": f"Bearer {token}"})
    existing = first.json()["data"]["patient_id"]
    answer = run(simulator, lambda client: client.fhir(CREDENTIAL, "POST", "Patient", json=body))
    assert isinstance(answer, Refused)
    assert answer.duplicate
    assert answer.existing_id == existing
