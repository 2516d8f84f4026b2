"""Races over real HTTP and real commits: one NIK makes one Patient, and a write that loses a race is told so.

100 simultaneous registrations of one NIK leave exactly one record. Concurrent updates of one Patient answer
412 (with If-Match) or a 409 saying it changed meanwhile, never "already registered to Patient/<itself>"; two
residents swapping NIKs at once are refused, and a deadlock between their claims is a 409, not a 500.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from factories import FHIR_JSON, NIK_SYSTEM, TEST_NIK, nik, patient_json, stored_rows
from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import Token
from ilp_api.fhir.repository import ConcurrentClaim, IdentifierTaken, ResourceRepository, Stored

REQUESTS = 100
WORKERS = 25  # bounded: enough to overlap heavily, few enough for SQLite's single writer and the PG pool


def test_concurrent_creates_of_one_nik_store_exactly_one_patient(
    live_server: str, live_auth: dict[str, str], db: Database
) -> None:
    conditional = {**FHIR_JSON, **live_auth, "If-None-Exist": f"identifier={NIK_SYSTEM}|{TEST_NIK}"}
    plain = {**FHIR_JSON, **live_auth}
    kinds = ["conditional" if i % 2 else "plain" for i in range(REQUESTS)]

    with httpx.Client(base_url=f"{live_server}/fhir", timeout=60) as http:

        def post(kind: str) -> tuple[str, httpx.Response]:
            headers = conditional if kind == "conditional" else plain
            return kind, http.post("/Patient", json=patient_json(), headers=headers)

        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(post, kinds))

    assert stored_rows(db, "Patient") == 1, [(r.status_code, r.text[:300]) for _, r in results][:3]
    created = [response for _, response in results if response.status_code == 201]
    assert len(created) == 1, [r.status_code for _, r in results]
    patient_id = created[0].json()["id"]
    for kind, response in results:
        if kind == "conditional":
            assert response.status_code in (200, 201), response.text
            assert response.json()["id"] == patient_id
        elif response.status_code != 201:
            assert response.status_code == 409, response.text
            body = response.json()
            assert body["resourceType"] == "OperationOutcome"
            assert patient_id in body["issue"][0]["diagnostics"]


UPDATES = 20


def _register(http: httpx.Client, headers: dict[str, str], serial: int = 1) -> dict[str, Any]:
    response = http.post("/Patient", json=patient_json(nik(serial=serial)), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _never_its_own_duplicate(response: httpx.Response, patient_id: str) -> None:
    """A lost race is told as such, never as "already registered to Patient/<itself>"."""
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    diagnostics = body["issue"][0]["diagnostics"]
    assert "already" not in diagnostics, diagnostics
    assert "identitas-sudah-terdaftar" not in response.text


def test_concurrent_updates_with_if_match_one_wins_the_others_get_412(
    live_server: str, live_auth: dict[str, str]
) -> None:
    headers = {**FHIR_JSON, **live_auth}
    with httpx.Client(base_url=f"{live_server}/fhir", timeout=60) as http:
        patient = _register(http, headers)

        def put(number: int) -> httpx.Response:
            changed = patient | {"telecom": [{"system": "phone", "value": f"0812000{number:05d}"}]}
            return http.put(f"/Patient/{patient['id']}", json=changed, headers=headers | {"If-Match": 'W/"1"'})

        with ThreadPoolExecutor(WORKERS) as pool:
            responses = list(pool.map(put, range(UPDATES)))
        final = http.get(f"/Patient/{patient['id']}", headers=headers).json()

    assert sorted(r.status_code for r in responses) == [200] + [412] * (UPDATES - 1), [r.text for r in responses]
    for response in responses[1:] if responses[0].status_code == 200 else responses:
        if response.status_code == 412:
            _never_its_own_duplicate(response, patient["id"])
    assert final["meta"]["versionId"] == "2"


def test_concurrent_updates_without_if_match_lose_with_a_true_409(live_server: str, live_auth: dict[str, str]) -> None:
    """On PostgreSQL the second of two overlapping updates fails its version check; SQLite runs them in turn."""
    headers = {**FHIR_JSON, **live_auth}
    with httpx.Client(base_url=f"{live_server}/fhir", timeout=60) as http:
        patient = _register(http, headers)

        def put(number: int) -> httpx.Response:
            changed = patient | {"telecom": [{"system": "phone", "value": f"0812000{number:05d}"}]}
            return http.put(f"/Patient/{patient['id']}", json=changed, headers=headers)

        with ThreadPoolExecutor(WORKERS) as pool:
            responses = list(pool.map(put, range(UPDATES)))
        final = http.get(f"/Patient/{patient['id']}", headers=headers).json()

    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            _never_its_own_duplicate(response, patient["id"])
            assert "changed by someone else" in response.json()["issue"][0]["diagnostics"]
    assert int(final["meta"]["versionId"]) == 1 + sum(r.status_code == 200 for r in responses)


def test_concurrent_swaps_of_two_niks_are_refused_truthfully(live_server: str, live_auth: dict[str, str]) -> None:
    """Each of two residents takes the other's NIK at the same time: both are refused (the NIK is held, or the
    database broke a deadlock between them), never with a server error, never naming a resident as its own
    duplicate; both keep their NIK."""
    headers = {**FHIR_JSON, **live_auth}
    with httpx.Client(base_url=f"{live_server}/fhir", timeout=60) as http:
        first, second = _register(http, headers, serial=1), _register(http, headers, serial=2)

        def take(pair: tuple[dict[str, Any], dict[str, Any]]) -> tuple[str, httpx.Response]:
            patient, other = pair
            changed = patient | {"identifier": other["identifier"]}
            return patient["id"], http.put(f"/Patient/{patient['id']}", json=changed, headers=headers)

        with ThreadPoolExecutor(2) as pool:
            results = [result for _ in range(10) for result in pool.map(take, [(first, second), (second, first)])]
        kept = [http.get(f"/Patient/{p['id']}", headers=headers).json()["identifier"] for p in (first, second)]

    for patient_id, response in results:
        assert response.status_code == 409, response.text
        assert patient_id not in response.json()["issue"][0]["diagnostics"]
    assert kept == [first["identifier"], second["identifier"]]


def test_a_claim_deadlock_is_told_as_a_concurrent_claim(db: Database) -> None:
    """Two transactions swap NIKs, each waiting for the other: PostgreSQL ends one with a deadlock error, which
    becomes ConcurrentClaim (a 409 "send it again"); the other then finds the NIK held by the first resident."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: claims cannot deadlock")
    first, second = Token(NIK_SYSTEM, nik(serial=1)), Token(NIK_SYSTEM, nik(serial=2))
    with db.session(write=True) as session:
        _store_version(ResourceRepository(session), "first", 1, [first])
        _store_version(ResourceRepository(session), "second", 1, [second])
    outcomes: dict[str, Exception | None] = {}

    released = threading.Event()

    def swap(patient_id: str, claiming: Token) -> None:
        """Release the resident's NIK (version 2), then claim the other's (version 3), in one transaction."""
        try:
            with db.session(write=True) as session:
                repository = ResourceRepository(session)
                _store_version(repository, patient_id, 2, [])
                if patient_id == "second":
                    released.wait()  # until "first" has released its NIK (not committed)
                else:
                    released.set()
                    _until_a_backend_waits_for_a_lock(db)  # "second", for the NIK "first" released
                _store_version(repository, patient_id, 3, [claiming])
            outcomes[patient_id] = None
        except (ConcurrentClaim, IdentifierTaken) as error:
            outcomes[patient_id] = error

    other = threading.Thread(target=swap, args=("second", first))
    other.start()
    swap("first", second)
    other.join(timeout=30)

    kinds = sorted(type(outcome).__name__ for outcome in outcomes.values())
    assert kinds == ["ConcurrentClaim", "IdentifierTaken"], outcomes
    taken = next(outcome for outcome in outcomes.values() if isinstance(outcome, IdentifierTaken))
    loser = next(key for key, outcome in outcomes.items() if isinstance(outcome, IdentifierTaken))
    assert taken.holder_id != loser, "the holder named is the other resident"


def _store_version(repository: ResourceRepository, patient_id: str, version_id: int, claims: list[Token]) -> None:
    content = orjson.dumps({"resourceType": "Patient", "id": patient_id}).decode()
    repository.store(
        Stored("Patient", patient_id, version_id, utc_now(), False, content),
        "POST" if version_id == 1 else "PUT",
        expected_version=None if version_id == 1 else version_id - 1,
        index_values=(),
        claims=claims,
    )


def _until_a_backend_waits_for_a_lock(db: Database) -> None:
    with db.engine.connect() as connection:
        for _ in range(3000):
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.01)
    pytest.fail("the other transaction never waited for the released claim")
