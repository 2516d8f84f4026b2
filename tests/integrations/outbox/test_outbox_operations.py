"""The operations view: GET /api/v1/{destination}/outbox and its retry, for operators only; the same in
`ilp satusehat status`; the backlog in /metrics."""

import asyncio
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from outbox_doubles import FAST, Clock, Sink
from typer.testing import CliRunner

from factories import outcome
from ilp_api import cli
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.destination import DeadLetter, RetryLater
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.outbox.worker import Worker
from ilp_api.settings import get_settings

OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}


def fill(db: Database, sink: Sink, destination: str = "sink") -> None:
    """a1 dead (10117), a2 behind it, b1 failed, c1 and c2 delivered."""
    with db.session(write=True) as session:
        for key, subject in (("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1"), ("c", "c2")):
            enqueue(session, destination=destination, ordering_key=f"Patient/{key}", kind="visit",
                    subject_type="Encounter", subject_id=subject)  # fmt: skip
    sink.name = destination
    sink.answers += [
        DeadLetter("Wrong organization ID (RuleNumber: 10117)", outcome=OUTCOME, rule_numbers=("10117",)),
        RetryLater("503 Service Unavailable"),
    ]
    worker = Worker(db, [sink], FAST, clock=Clock())
    asyncio.run(worker.run_once())
    asyncio.run(worker.run_once())


def test_an_operator_sees_the_counts_and_the_items_with_their_errors(
    client: TestClient, db: Database, registered_sink: Sink
) -> None:
    fill(db, registered_sink)
    body = client.get("/api/v1/sink/outbox").json()
    assert body["counts"] == {"pending": 1, "delivered": 2, "failed": 1, "dead": 1}
    assert (body["blocked"], body["total"], body["next"]) == (1, 5, None)
    assert [item["subject"] for item in body["items"]] == [f"Encounter/{s}" for s in ("c2", "c1", "b1", "a2", "a1")]
    dead = body["items"][-1]
    assert dead["status"] == "dead"
    assert (dead["ruleNumbers"], dead["outcome"]) == (["10117"], OUTCOME)
    assert dead["lastError"] == "Wrong organization ID (RuleNumber: 10117)"
    assert (dead["orderingKey"], dead["sequence"], dead["attempts"]) == ("Patient/a", 1, 1)

    failed = client.get("/api/v1/sink/outbox?status=failed").json()
    assert [(i["subject"], i["lastError"]) for i in failed["items"]] == [("Encounter/b1", "503 Service Unavailable")]
    paged = client.get("/api/v1/sink/outbox?_count=2").json()
    assert len(paged["items"]) == 2
    assert paged["next"] == "/api/v1/sink/outbox?_count=2&_offset=2"


def test_a_dead_item_is_retried_and_its_key_follows(client: TestClient, db: Database, registered_sink: Sink) -> None:
    fill(db, registered_sink)
    dead = client.get("/api/v1/sink/outbox?status=dead").json()["items"][0]
    retried = client.post(f"/api/v1/sink/outbox/{dead['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["lastError"]) == (
        "pending",
        "Wrong organization ID (RuleNumber: 10117)",
    )

    again = client.post(f"/api/v1/sink/outbox/{dead['id']}/retry")
    assert "only a dead or failed item can be retried" in outcome(again, 409)["issue"][0]["diagnostics"]
    asyncio.run(Worker(db, [registered_sink], FAST).run(until_idle=True))
    counts = client.get("/api/v1/sink/outbox").json()["counts"]
    assert counts == {"pending": 0, "delivered": 5, "failed": 0, "dead": 0}


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        (
            "GET",
            "/api/v1/elsewhere/outbox",
            404,
            "No outbox destination is named 'elsewhere' (registered: satusehat, sink)",
        ),
        ("GET", "/api/v1/sink/outbox?status=lost", 400, "status is one of pending, delivered, failed, dead"),
        ("GET", "/api/v1/sink/outbox?_count=many", 400, "_count"),
        ("POST", "/api/v1/sink/outbox/12345/retry", 404, "The sink outbox has no item 12345"),
        ("POST", "/api/v1/sink/outbox/99999999999999999999/retry", 404, "item ids are numbers"),
        ("POST", "/api/v1/sink/outbox/x1/retry", 404, "item ids are numbers"),
    ],
)
def test_a_wrong_request_is_answered_with_an_operation_outcome(
    client: TestClient, registered_sink: Sink, method: str, path: str, status: int, says: str
) -> None:
    assert says in outcome(client.request(method, path), status)["issue"][0]["diagnostics"]


def test_only_operators_see_the_outbox(
    anonymous_client: TestClient, issue_token: Callable[[str | None, str], str], registered_sink: Sink
) -> None:
    outcome(anonymous_client.get("/api/v1/sink/outbox"), 401)
    clinic = {"Authorization": f"Bearer {issue_token('some-organization', 'system/*.cruds')}"}
    refused = outcome(anonymous_client.post("/api/v1/sink/outbox/1/retry", headers=clinic), 403)
    assert "ilp/admin" in refused["issue"][0]["diagnostics"]


def test_the_backlog_is_in_the_metrics(client: TestClient, db: Database, registered_sink: Sink) -> None:
    fill(db, registered_sink)
    text = client.get("/metrics").text
    assert 'ilp_outbox_depth{destination="sink"} 2.0' in text  # a2 and b1
    assert 'ilp_outbox_dead{destination="sink"} 1.0' in text
    [age] = [line for line in text.splitlines() if line.startswith('ilp_outbox_oldest_age_seconds{destination="sink"}')]
    assert 0 < float(age.split()[-1]) < 60


def test_ilp_satusehat_status_prints_a_table(db: Database, monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    fill(db, Sink(), destination="satusehat")
    monkeypatch.setenv("ILP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(cli.app, ["satusehat", "status"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()  # logs, when a command before configured them, go to stderr
    assert lines[0] == "satusehat outbox: 1 pending, 2 delivered, 1 failed, 1 dead"
    assert "1 waiting behind a dead item" in lines[1]
    [dead] = [line for line in lines if "Encounter/a1" in line]
    assert "dead" in dead
    assert "[RuleNumber 10117] Wrong organization ID" in dead
