"""The real logging set-up never writes a resident's NIK, KK, BPJS number or name, whatever the request did.

The project's own ``configure_logging`` is installed and its handler's stream captured, a realistic session is
run against the demo network (searches by NIK, name and BPJS number, read, update, refused creates, an unknown
search parameter, a database failure that reaches the unhandled-error log), and the captured text is searched
for every identifier and name the demo registered.
"""

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ilp_api.db.engine import Database
from ilp_api.demo.generate import DemoResource
from ilp_api.demo.load import LoadReport, load_demo
from ilp_api.logging import configure_logging
from ilp_api.resources.indonesia import KK, NIK, NIK_IBU, bpjs_system
from ilp_api.settings import Settings

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """What the project's JSON log handler writes during the test; the logging set-up is restored after."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    uvicorn_names = ("uvicorn", "uvicorn.error")
    saved_uvicorn = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in uvicorn_names
    }
    saved_access_disabled = logging.getLogger("uvicorn.access").disabled
    # httpx logs each URL the *test client* requests; the service does not use httpx, so its lines are left out.
    httpx_logger = logging.getLogger("httpx")
    saved_httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)

    configure_logging(json_output=True)
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream

    root.handlers[:], level = saved_root
    root.setLevel(level)
    for name, (handlers, propagate) in saved_uvicorn.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    logging.getLogger("uvicorn.access").disabled = saved_access_disabled
    httpx_logger.setLevel(saved_httpx_level)


def identifier(resource: DemoResource, system: str) -> str | None:
    return next((i["value"] for i in resource.body.get("identifier", []) if i["system"] == system), None)


def registered_numbers(report: LoadReport, settings: Settings) -> set[str]:
    """Every NIK, mother's NIK, KK and BPJS number of the demo's residents and staff."""
    systems = (NIK, NIK_IBU, KK, bpjs_system(settings.canonical_base))
    people = [*report.network.of_type("Patient"), *report.network.of_type("Practitioner")]
    return {value for person in people for system in systems if (value := identifier(person, system))}


def resident_names(report: LoadReport) -> set[str]:
    """Every resident's name text and each of its given and family parts."""
    names: set[str] = set()
    for patient in report.network.of_type("Patient"):
        for name in patient.body["name"]:
            names.add(name["text"])
            names.update(name.get("given", []))
            if "family" in name:
                names.add(name["family"])
    return names


def leaked(log: str, values: set[str]) -> list[str]:
    # Whole words only: a short given name such as "Sri" must not match inside an unrelated word.
    return sorted(value for value in values if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", log))


def patient_body(nik: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": NIK, "value": nik}],
        "name": [{"text": name}],
        "gender": "male",
        "birthDate": "1990-01-01",
    }


def fail_patient_inserts(database: Database) -> None:
    """Make the database itself refuse to store a Patient, as a full disk or a broken replica would."""
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION ilp_test_refuse() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER ilp_test_refuse BEFORE INSERT ON resource FOR EACH ROW "
                    "WHEN (NEW.resource_type = 'Patient') EXECUTE FUNCTION ilp_test_refuse()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER ilp_test_refuse BEFORE INSERT ON resource WHEN NEW.resource_type = 'Patient' "
                    "BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END"
                )
            )


def restore_patient_inserts(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "DROP TRIGGER IF EXISTS ilp_test_refuse" + (" ON resource" if database.dialect == "postgresql" else "")
            )
        )
        if database.dialect == "postgresql":
            connection.execute(text("DROP FUNCTION IF EXISTS ilp_test_refuse()"))


def test_a_full_session_logs_requests_without_identifiers_or_names(
    captured_log: io.StringIO, db: Database, settings: Settings, app: FastAPI, client: TestClient
) -> None:
    report = load_demo(db, settings, residents=40, seed=11)
    residents = [r for r in report.network.of_type("Patient") if identifier(r, NIK) and "given" in r.body["name"][0]]
    first, second = residents[0], residents[1]
    first_id, first_nik = report.ids[first.key], identifier(first, NIK)
    assert first_nik is not None
    insured = next(r for r in report.network.of_type("Patient") if identifier(r, bpjs_system(settings.canonical_base)))
    given = first.body["name"][0]["given"][0]

    found = client.get("/fhir/Patient", params={"identifier": f"{NIK}|{first_nik}"})
    assert found.json()["total"] == 1
    assert client.get("/fhir/Patient", params={"name": first.body["name"][0]["text"]}).json()["total"] >= 1
    assert client.get("/fhir/Patient", params={"given": given, "_count": 5}).status_code == 200
    bpjs = f"{bpjs_system(settings.canonical_base)}|{identifier(insured, bpjs_system(settings.canonical_base))}"
    assert client.get("/fhir/Patient", params={"identifier": bpjs}).json()["total"] == 1

    read = client.get(f"/fhir/Patient/{first_id}")
    assert read.status_code == 200
    updated = read.json() | {"telecom": [{"system": "phone", "value": "081234567890", "use": "mobile"}]}
    response = client.put(
        f"/fhir/Patient/{first_id}", json=updated, headers={"Content-Type": FHIR_JSON, "If-Match": read.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    assert client.get("/fhir/Patient", params={"telecom": "081234567890"}).json()["total"] == 1

    invalid = patient_body("3374019999990001", "Budi Santoso Wibowo")  # month 99: not a NIK
    assert client.post("/fhir/Patient", json=invalid, headers={"Content-Type": FHIR_JSON}).status_code == 422
    second_nik = identifier(second, NIK)
    assert second_nik is not None
    duplicate = patient_body(second_nik, second.body["name"][0]["text"])
    conflict = client.post("/fhir/Patient", json=duplicate, headers={"Content-Type": FHIR_JSON})
    assert conflict.status_code == 409
    assert second_nik in conflict.text  # the caller is told which NIK is taken; the log must not be

    # A misspelt parameter carrying a name is refused, and its value is still personal data.
    assert client.get("/fhir/Patient", params={"nama": given}).status_code == 400

    # A failure the API does not anticipate is logged with its traceback, which must carry no row data either.
    fail_patient_inserts(db)
    try:
        body = patient_body("3374010101900777", first.body["name"][0]["text"])
        body["name"][0]["given"] = first.body["name"][0]["given"]
        failed = client.post("/fhir/Patient", json=body, headers={"Content-Type": FHIR_JSON})
        assert failed.status_code == 500
    finally:
        restore_patient_inserts(db)

    log = captured_log.getvalue()
    requests = [line for line in log.splitlines() if '"message": "request"' in line]
    assert len(requests) >= 10, log
    assert '"params": ["identifier"]' in log  # the NIK search was logged, by parameter name only
    assert "unhandled error" in log
    assert "simulated storage failure" in log  # the cause is still there for the operator
    assert leaked(log, registered_numbers(report, settings) | {"3374010101900777", "081234567890"}) == []
    assert leaked(log, resident_names(report) | {"Budi Santoso Wibowo"}) == []


SEPARATED_NIKS = ("3310-0619-0395-0038", "3310 0619 0395 0038", "3310.0619.0395.0038", "33.10.06.190395.0038")


@pytest.mark.parametrize("nik", SEPARATED_NIKS)
def test_a_nik_with_separators_is_masked_in_messages_and_exceptions(captured_log: io.StringIO, nik: str) -> None:
    logger = logging.getLogger("ilp_api.test")
    logger.warning("resident with NIK %s not found", nik)
    try:
        raise ValueError(f"no Patient for NIK {nik}.")
    except ValueError:
        logger.exception("lookup failed")

    log = captured_log.getvalue()
    assert "0619" not in log
    assert "0395" not in log
    assert "190395" not in log
    assert log.count("0038") == 2  # masked, not dropped: the first and last four digits stay for the operator


def test_requests_log_route_and_parameter_names_only(
    captured_log: io.StringIO, client: TestClient, anonymous_client: TestClient
) -> None:
    name = "Bayu Wibowo"
    nik = "3310-0619-0395-0038"
    requests = [
        (client, f"/fhir/Patient/{name}"),  # a name where an id belongs
        (client, f"/fhir/Patient/{name}/_history"),
        (client, f"/fhir/Patient/{name}/_history/1"),
        (client, "/fhir/Patient?" + urlencode({"_sort": name})),
        (client, "/fhir/Patient?" + urlencode({"_include": f"Patient:{name}"})),
        (client, "/fhir/Patient?" + urlencode({"identifier": f"{NIK}|{nik}"})),
        (client, "/fhir/Patient?" + urlencode({"_id": name, "_count": "5"})),
        (client, "/fhir/Patient?" + urlencode({name: "x"})),  # a parameter name that is not one
        (client, f"/fhir/Unknown/{name}"),  # no route at all
        (anonymous_client, f"/fhir/Patient/{name}"),  # refused before any route code: 401
    ]
    statuses = [http.get(url).status_code for http, url in requests]
    assert statuses.count(404) >= 4, statuses  # the name is no id: not found, or no such route
    assert all(status < 500 for status in statuses), statuses

    log = captured_log.getvalue()
    lines = [json.loads(line) for line in log.splitlines() if '"message": "request"' in line]
    assert len(lines) == len(requests), log
    assert leaked(log, {"Bayu", "Wibowo", "Bayu%20Wibowo", "Bayu+Wibowo", "0619", "0395"}) == []
    routes = {line["route"] for line in lines}
    assert {"/fhir/Patient/{resource_id}", "/fhir/Patient", None} <= routes
    assert {line["path"] for line in lines if line["route"] == "/fhir/Patient/{resource_id}"} == {"/fhir/Patient/***"}
    parameters = [line["params"] for line in lines if line["route"] == "/fhir/Patient"]
    assert ["_sort"] in parameters
    assert ["_id", "_count"] in parameters
    assert ["***"] in parameters


def test_a_valid_id_is_logged(captured_log: io.StringIO, client: TestClient) -> None:
    assert client.get("/fhir/Patient/abc-123.x/_history/2").status_code == 404
    (line,) = [json.loads(line) for line in captured_log.getvalue().splitlines() if '"message": "request"' in line]
    assert line["route"] == "/fhir/Patient/{resource_id}/_history/{version_id}"
    assert line["path"] == "/fhir/Patient/abc-123.x/_history/2"
