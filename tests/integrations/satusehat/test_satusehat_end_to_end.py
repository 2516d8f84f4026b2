"""SATUSEHAT end to end: visits recorded through the API served over HTTP, queued by the write hook, delivered by
the real worker (in this process, or ``ilp worker`` as a subprocess) to the simulator served over HTTP; what
arrived is read through the simulator's admin API, what the outbox holds through the operations view."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from factories import build_network, create, location_json
from harness import mint_token, served
from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import registry
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.service import build_worker
from ilp_api.integrations.outbox.worker import Worker
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import save_credential
from ilp_api.integrations.satusehat.protocol import IHS_NUMBER
from ilp_api.integrations.satusehat.repository import set_supervisor
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT, SEED_PRACTITIONERS
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from ilp_api.wiring import resource_service
from satusehat_simulator import Simulator
from visits import quantity, record_visit, resident, visit_bundle

SUPERVISOR_IHS = str(SEED_PRACTITIONERS[1]["ihs"])
# Tiny backoff, lease and timeouts: faults are waited out in fractions of a second.
FAST = {
    "outbox_batch_size": 10,
    "outbox_lease_seconds": 3,
    "outbox_delivery_timeout_seconds": 1.5,
    "outbox_backoff_base_seconds": 0.05,
    "outbox_backoff_cap_seconds": 0.2,
    "outbox_poll_interval_seconds": 0.02,
    "satusehat_timeout_seconds": 0.5,
    # Throttles of the API and towards SATUSEHAT are tested on their own: here they would only slow the runs.
    "satusehat_requests_per_minute": 60_000,
    "rate_limit_per_minute": 0,
}


@dataclass(frozen=True)
class Site:
    """The API served over HTTP with SATUSEHAT pointed at the simulator, and a network ready to deliver."""

    api: httpx.Client
    db: Database
    settings: Settings
    simulator: Simulator
    network: dict[str, str]

    def patients(self, count: int) -> list[str]:
        return [resident(self.api, "1990-05-17", "female", serial) for serial in range(1, count + 1)]  # type: ignore[arg-type]

    def visit(self, patient: str, day: str = "2026-11-03") -> str:
        bundle = visit_bundle(patient, self.network["posyandu"], quantity("29463-7", 61, "kg"), day=day)
        return record_visit(self.api, bundle)  # type: ignore[arg-type]

    def outbox(self, status: str | None = None) -> dict[str, Any]:
        response = self.api.get("/api/v1/satusehat/outbox", params={"status": status} if status else None)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def credential(self, org_id: str) -> None:
        with self.db.session(write=True) as session:
            store = CredentialStore(session, CredentialCipher.from_settings(self.settings))
            credential = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, org_id)
            save_credential(store, self.network["puskesmas"], credential)


@pytest.fixture
def site(db: Database, settings: Settings, simulator: Simulator) -> Iterator[Site]:
    configured = settings.model_copy(
        update={"satusehat_auth_url": simulator.auth_url, "satusehat_fhir_url": simulator.fhir_url, **FAST}
    )
    token = mint_token(db, configured, None, ADMIN_SCOPE)
    # The app's pipeline installs the SATUSEHAT write hook, the integration being configured.
    with (
        served(create_app(configured, db), "api") as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api,
    ):
        network = build_network(api)
        location = location_json("Posyandu Melati, Balai RW 001", organization=network["posyandu"])
        create(api, location | {"position": {"longitude": 110.4167, "latitude": -6.9833}})
        with db.session(write=True) as session:
            set_supervisor(session, network["pustu"], SUPERVISOR_IHS)  # the visits are kader's
        found = Site(api, db, configured, simulator, network)
        found.credential(SEED_CLIENT.organization_id)
        yield found


def drain(site: Site) -> Worker:
    """``Worker.run(until_idle=True)`` over the registered SATUSEHAT destination; the worker, for its tally."""

    async def run() -> Worker:
        service = resource_service(registry, site.settings)
        worker = build_worker(site.db, site.settings, service, destinations, ["satusehat"])
        try:
            await worker.run(until_idle=True)
        finally:
            for destination in worker.destinations.values():
                await destination.aclose()  # type: ignore[attr-defined]
        return worker

    return asyncio.run(run())


def arrived(simulator: Simulator) -> list[dict[str, Any]]:
    """The Encounters of the transaction Bundles the simulator accepted, in the order they arrived."""
    return [bundle["entry"][0]["resource"] for bundle in simulator.admin("GET", "transactions").json()]


def stored_visits(simulator: Simulator) -> Counter[str]:
    """How many Encounters the simulator holds per local visit (their identifier's value is the local id)."""
    return Counter(str(encounter["identifier"][0]["value"]) for encounter in simulator.resources("Encounter"))


def wait_until(condition: Callable[[], object], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.02)


def test_a_visit_recorded_through_the_api_arrives_as_a_transaction_bundle(site: Site) -> None:
    (patient,) = site.patients(1)
    encounter_id = site.visit(patient)
    version = site.api.get(f"/fhir/Encounter/{encounter_id}").json()["meta"]["versionId"]
    assert site.outbox()["counts"] == {"pending": 1, "delivered": 0, "failed": 0, "dead": 0}

    worker = drain(site)

    assert worker.tally == Counter(delivered=1)
    (bundle,) = site.simulator.admin("GET", "transactions").json()
    assert bundle["type"] == "transaction"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"Encounter", "Observation"}
    encounter = bundle["entry"][0]["resource"]
    assert encounter["participant"][0]["individual"] == {"reference": f"Practitioner/{SUPERVISOR_IHS}"}
    patient_ihs = encounter["subject"]["reference"].removeprefix("Patient/")
    shown_patient = site.api.get(f"/fhir/Patient/{patient}").json()
    assert [i["value"] for i in shown_patient["identifier"] if i["system"] == IHS_NUMBER] == [patient_ihs]
    shown = site.api.get(f"/fhir/Encounter/{encounter_id}").json()
    assert {"system": f"{site.settings.canonical_base}/sid/satusehat-id", "value": encounter["id"]} in [
        {"system": i["system"], "value": i["value"]} for i in shown["identifier"]
    ]
    assert shown["meta"]["versionId"] == version, "recording the remote ids made no new version"
    outbox = site.outbox("delivered")
    assert outbox["counts"]["delivered"] == 1
    assert [(i["subject"], i["status"]) for i in outbox["items"]] == [(f"Encounter/{encounter_id}", "delivered")]
    assert drain(site).tally == Counter(), "nothing left, and no new delivery from recording the ids"


def test_a_refused_visit_goes_dead_with_its_rule_number_and_is_retried_after_the_fix(site: Site) -> None:
    first, second = site.patients(2)
    site.visit(first)
    assert drain(site).tally == Counter(delivered=1)  # the facility's Location is registered now
    site.credential("100099")  # an operator's typo in --org-id: the Encounter's identifier names another org
    refused = site.visit(second)

    assert drain(site).tally == Counter(dead=1)
    (item,) = site.outbox("dead")["items"]
    assert item["subject"] == f"Encounter/{refused}"
    assert item["ruleNumbers"][0] == "10117"
    assert item["outcome"]["resourceType"] == "OperationOutcome"
    assert "RuleNumber: 10117" in item["outcome"]["issue"][0]["details"]["text"]
    assert len(arrived(site.simulator)) == 1

    site.credential(SEED_CLIENT.organization_id)
    assert site.api.post(f"/api/v1/satusehat/outbox/{item['id']}/retry").status_code == 200
    assert drain(site).tally == Counter(delivered=1)
    assert site.outbox()["counts"] == {"pending": 0, "delivered": 2, "failed": 0, "dead": 0}
    assert len(arrived(site.simulator)) == 2


def test_faults_are_waited_out_and_every_visit_is_delivered_exactly_once(site: Site) -> None:
    visits = [site.visit(patient) for patient in site.patients(3)]
    site.simulator.inject("status", count=3, status=503)
    site.simulator.inject("rate-limit", count=2, seconds=1)
    hang = 1.0  # beyond the client's timeout: each attempt gives up, the simulator goes on with the request
    site.simulator.inject("hang", count=3, seconds=hang)

    worker = drain(site)
    time.sleep(hang)  # what the simulator still held when the worker gave up has been answered

    assert worker.tally["delivered"] == 3
    assert worker.tally["failed"] >= 3, worker.tally
    assert stored_visits(site.simulator) == Counter(visits)
    assert site.outbox()["counts"] == {"pending": 0, "delivered": 3, "failed": 0, "dead": 0}


def test_recording_a_visit_never_waits_on_satusehat(site: Site) -> None:
    patients = site.patients(4)
    visits = [site.visit(patients[0])]
    hang = 4.0
    site.simulator.inject("hang", count=1000, seconds=hang)
    worker: list[Worker] = []
    delivering = threading.Thread(target=lambda: worker.append(drain(site)), name="worker")
    delivering.start()
    wait_until(lambda: site.simulator.admin("GET", "requests").json(), "the worker called out")
    answered = []
    for patient in patients[1:]:
        started = time.monotonic()
        visits.append(site.visit(patient))
        answered.append(time.monotonic() - started)
    wait_until(lambda: site.outbox("failed")["total"], "an attempt gave up on the hanging simulator")
    site.simulator.admin("DELETE", "faults")
    delivering.join(timeout=30)

    assert max(answered) < hang / 2, answered  # a correctness bound: no visit waited for SATUSEHAT
    (drained,) = worker
    assert drained.tally["delivered"] == len(visits)
    assert stored_visits(site.simulator) == Counter(visits)


def worker_process(site: Site, **overrides: str) -> subprocess.Popen[str]:
    """``ilp worker --until-idle`` on the site's database and simulator, with its settings and ``overrides``."""
    environment = {
        **os.environ,
        "ILP_DATABASE_URL": site.db.engine.url.render_as_string(hide_password=False),
        "ILP_SATUSEHAT_AUTH_URL": site.simulator.auth_url,
        "ILP_SATUSEHAT_FHIR_URL": site.simulator.fhir_url,
        "ILP_LOG_LEVEL": "WARNING",
        **{f"ILP_{name.upper()}": str(value) for name, value in FAST.items()},
        **overrides,
    }
    ilp = os.path.join(os.path.dirname(sys.executable), "ilp")
    return subprocess.Popen(
        [ilp, "worker", "--until-idle", "--destination", "satusehat"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_mid_delivery_and_restarted_loses_nothing_and_sends_nothing_twice(site: Site) -> None:
    visits = [site.visit(patient) for patient in site.patients(4)]
    site.simulator.inject("hang", count=1000, seconds=0.1)  # every call slow: the kill lands mid-delivery
    process = worker_process(site, ILP_OUTBOX_BATCH_SIZE="1")

    def one_arrived_and_one_in_flight() -> bool:
        assert process.poll() is None, process.communicate()
        return bool(arrived(site.simulator)) and any(i["leasedUntil"] for i in site.outbox("pending")["items"])

    wait_until(one_arrived_and_one_in_flight, "a visit arrived while another was being delivered")
    process.kill()
    process.communicate(timeout=10)
    delivered = site.outbox()["counts"]["delivered"]
    assert delivered < len(visits)
    site.simulator.admin("DELETE", "faults")

    restarted = drain(site)  # a fresh worker: takes the killed one's lease over once it expires
    time.sleep(0.1)  # the killed worker's last call has been answered

    assert restarted.tally["delivered"] == len(visits) - delivered

    assert stored_visits(site.simulator) == Counter(visits)
    assert site.outbox()["counts"] == {"pending": 0, "delivered": 4, "failed": 0, "dead": 0}


def test_two_workers_drain_200_visits_each_once_and_each_patient_s_in_order(site: Site) -> None:
    if site.db.dialect != "postgresql":
        pytest.skip("several workers at once is a PostgreSQL deployment (FOR UPDATE SKIP LOCKED)")
    days = [f"2026-10-{day:02d}" for day in range(1, 6)]
    patients = site.patients(40)
    visits = [site.visit(patient, day) for day in days for patient in patients]  # a patient's in order of days
    workers: list[Worker] = []
    threads = [threading.Thread(target=lambda: workers.append(drain(site))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert stored_visits(site.simulator) == Counter(visits)
    assert sum(w.tally["delivered"] for w in workers) == len(visits)
    assert all(w.tally["delivered"] > 0 for w in workers), [w.tally for w in workers]
    # A call that timed out and went through all the same is sent again as an update: the first arrivals count.
    first_arrivals: dict[str, dict[str, str]] = {}
    for encounter in arrived(site.simulator):
        first_arrivals.setdefault(encounter["subject"]["reference"], {}).setdefault(
            encounter["id"], encounter["period"]["start"]
        )
    assert len(first_arrivals) == len(patients)
    assert all(list(starts.values()) == sorted(starts.values()) for starts in first_arrivals.values())
    assert {len(starts) for starts in first_arrivals.values()} == {len(days)}
