"""One NIK, one Patient: 100 simultaneous registrations over real HTTP leave exactly one record."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from factories import FHIR_JSON, NIK_SYSTEM, TEST_NIK, patient_json, stored_rows
from ilp_api.db.engine import Database

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
