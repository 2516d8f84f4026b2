"""POST /fhir: transaction Bundles are all-or-nothing and link entries by urn:uuid; batches answer per entry."""

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from factories import (
    FHIR_JSON,
    KELURAHAN,
    NIK_SYSTEM,
    create,
    ilp_codes,
    nik,
    organization_json,
    outcome,
    patient_json,
    stored_rows,
)
from ilp_api.db.engine import Database
from ilp_api.fhir.limits import Limits


def entry(method: str, url: str, resource: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    request = {"method": method, "url": url} | {k: v for k, v in extra.items() if k in ("ifNoneExist", "ifMatch")}
    item: dict[str, Any] = {"request": request}
    if resource is not None:
        item["resource"] = resource
    if "fullUrl" in extra:
        item["fullUrl"] = extra["fullUrl"]
    return item


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def post(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/fhir", json=body, headers=FHIR_JSON)


def statuses(response: Any) -> list[str]:
    return [item["response"]["status"] for item in response.json()["entry"]]


def test_transaction_links_new_entries_by_urn_uuid(client: TestClient) -> None:
    dinkes = create(client, organization_json("dinkes", wilayah="3374"))
    puskesmas_urn = "urn:uuid:8b1c2f0e-0000-4000-8000-000000000001"
    puskesmas = organization_json("puskesmas", part_of=dinkes["id"])
    resident = patient_json(wilayah=KELURAHAN, rw="001")
    resident["managingOrganization"] = {"reference": puskesmas_urn}

    # The Patient comes first in the Bundle: the server still creates the Organization it refers to first.
    response = post(
        client,
        bundle(
            "transaction",
            entry("POST", "Patient", resident),
            entry("POST", "Organization", puskesmas, fullUrl=puskesmas_urn),
        ),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "transaction-response"
    assert statuses(response) == ["201 Created", "201 Created"]
    patient, organization = (item["resource"] for item in body["entry"])
    assert patient["managingOrganization"]["reference"] == f"Organization/{organization['id']}"
    assert body["entry"][0]["response"]["location"].endswith(f"/Patient/{patient['id']}/_history/1")


def test_transaction_is_all_or_nothing(client: TestClient, db: Database) -> None:
    invalid = patient_json(nik(serial=2))
    invalid["identifier"][0]["value"] = "9271060312000000"  # serial 0000: V5

    response = post(
        client, bundle("transaction", entry("POST", "Patient", patient_json()), entry("POST", "Patient", invalid))
    )

    body = outcome(response, 422)
    assert body["issue"][0]["expression"] == ["Bundle.entry[1].resource.identifier[0].value"]
    assert "nik-tidak-valid" in ilp_codes(body)
    assert stored_rows(db, "Patient") == 0, "the valid first entry must be rolled back too"


def test_transaction_runs_deletes_before_creates_and_updates_with_if_match(client: TestClient) -> None:
    old = create(client, patient_json(nik(serial=3)))
    kept = create(client, patient_json(nik(serial=4)))
    changed = kept | {"gender": "male", "telecom": [{"system": "phone", "value": "0811"}]}

    response = post(
        client,
        bundle(
            "transaction",
            entry("PUT", f"Patient/{kept['id']}", changed, ifMatch='W/"1"'),
            entry("POST", "Patient", patient_json(nik(serial=5))),
            entry("DELETE", f"Patient/{old['id']}"),
            entry("GET", f"Patient?identifier={NIK_SYSTEM}|{nik(serial=5)}"),
        ),
    )

    assert statuses(response) == ["200 OK", "201 Created", "204 No Content", "200 OK"]
    search = response.json()["entry"][3]["resource"]
    assert search["type"] == "searchset"
    assert search["total"] == 1, "the GET sees the POST of the same transaction"
    assert client.get(f"/fhir/Patient/{old['id']}").status_code == 410


def test_stale_if_match_fails_the_whole_transaction(client: TestClient, db: Database) -> None:
    patient = create(client, patient_json())

    response = post(
        client,
        bundle(
            "transaction",
            entry("POST", "Patient", patient_json(nik(serial=6))),
            entry("PUT", f"Patient/{patient['id']}", patient, ifMatch='W/"7"'),
        ),
    )

    body = outcome(response, 412)
    assert body["issue"][0]["diagnostics"].startswith("Bundle.entry[1] (PUT Patient/")
    assert stored_rows(db, "Patient") == 1


def test_batch_answers_each_entry_on_its_own(client: TestClient, db: Database) -> None:
    response = post(
        client,
        bundle(
            "batch",
            entry("POST", "Patient", patient_json(nik(serial=7))),
            entry("POST", "Patient", patient_json(nik(serial=8), birth_date="2999-01-01")),
            entry("GET", "Patient/no-such-id"),
        ),
    )

    assert response.status_code == 200
    assert response.json()["type"] == "batch-response"
    assert statuses(response) == ["201 Created", "422", "404"]
    failed = response.json()["entry"][1]["response"]["outcome"]
    assert failed["issue"][0]["expression"] == ["Bundle.entry[1].resource.birthDate"]
    assert stored_rows(db, "Patient") == 1


def test_a_batch_entry_the_server_once_failed_on_fails_alone(client: TestClient, db: Database) -> None:
    # The probe's batch: the second entry answered 500 for the whole batch after the first was committed.
    overlong = patient_json(nik(serial=8), identifiers=[{"system": "urn:x", "value": "a" * 300}])

    response = post(
        client,
        bundle("batch", entry("POST", "Patient", patient_json(nik(serial=7))), entry("POST", "Patient", overlong)),
    )

    assert response.status_code == 200
    assert statuses(response) == ["201 Created", "422"]
    assert stored_rows(db, "Patient") == 1


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"resourceType": "Patient"}, 400, "takes a Bundle"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, 422, "Bundle.type"),
        (bundle("transaction", entry("PATCH", "Patient/1")), 422, "Bundle.entry[0].request.method"),
        (bundle("transaction", entry("POST", "Basic", {"resourceType": "Basic"})), 400, "entry[0]"),
        (bundle("transaction", entry("POST", "Patient")), 400, "resource is required"),
        (bundle("batch", entry("GET", "Patient/1/_history/1/x")), 400, "Type/id"),
        ({"resourceType": "Bundle", "type": "batch", "entry": None}, 422, "Bundle.entry"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": 5}, 422, "Bundle.entry"),
        (bundle("batch", entry("GET", "Patient/a\u0000b")), 400, "control character"),
        (bundle("transaction", entry("GET", "Patient?name=a\u0000b")), 400, "control character"),
    ],
    ids=[
        "not-a-bundle",
        "collection",
        "patch",
        "unsupported-type",
        "post-without-resource",
        "bad-url",
        "entry-null",
        "entry-number",
        "nul-in-id",
        "nul-in-query",
    ],
)
def test_malformed_bundles_are_refused(client: TestClient, body: dict[str, Any], status: int, fragment: str) -> None:
    issue = outcome(post(client, body), status)["issue"][0]

    assert fragment in issue["diagnostics"] + " ".join(issue.get("expression", []))


def test_entries_referring_to_each_other_in_a_cycle_are_refused(client: TestClient, db: Database) -> None:
    first, second = "urn:uuid:00000000-0000-4000-8000-00000000000a", "urn:uuid:00000000-0000-4000-8000-00000000000b"
    one = patient_json(nik(serial=9), link=[{"other": {"reference": second}, "type": "seealso"}])
    two = patient_json(nik(serial=10), link=[{"other": {"reference": first}, "type": "seealso"}])

    response = post(
        client,
        bundle(
            "transaction", entry("POST", "Patient", one, fullUrl=first), entry("POST", "Patient", two, fullUrl=second)
        ),
    )

    assert "cycle" in outcome(response, 400)["issue"][0]["diagnostics"]
    assert stored_rows(db, "Patient") == 0


def test_a_urn_uuid_no_entry_declares_is_refused(client: TestClient) -> None:
    resident = patient_json(managingOrganization={"reference": "urn:uuid:00000000-0000-4000-8000-0000000000ff"})

    body = outcome(post(client, bundle("transaction", entry("POST", "Patient", resident))), 400)

    assert "fullUrl of no POST entry" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "headers",
    [{"X-Purpose-Of-Use": "A" * 70}, {"Accept": "application/xml"}, {"Content-Type": "text/plain"}],
    ids=["purpose", "accept", "content-type"],
)
def test_a_bundle_refused_for_its_headers_is_audited(client: TestClient, headers: dict[str, str]) -> None:
    body = orjson.dumps(bundle("batch", entry("GET", "Patient?name=a")))

    assert client.post("/fhir", content=body, headers={**FHIR_JSON, **headers}).status_code in (400, 406, 415)
    # The client fixture checks at teardown that the refusal left one failure AuditEvent.


def test_bundle_size_is_bounded(client: TestClient) -> None:
    entries = [entry("GET", "Patient/x")] * (Limits().bundle_entries + 1)

    body = outcome(post(client, bundle("batch", *entries)), 400)

    assert body["issue"][0]["code"] == "too-costly"


def test_capability_statement_lists_transaction_and_batch(client: TestClient) -> None:
    rest = client.get("/fhir/metadata").json()["rest"][0]

    assert {"code": "transaction"} in rest["interaction"]
    assert {"code": "batch"} in rest["interaction"]
