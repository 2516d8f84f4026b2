"""SatusehatDestination.deliver over real HTTP against the simulator: a visit recorded through the API goes as one
transaction Bundle with its patient, nakes, posyandu and Location resolved; sent again it is never stored twice;
faults are retried later; what no retry mends is dead-lettered with its reason or RuleNumber. And the write hook
that queues visits."""

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories import FHIR_JSON, create, location_json, practitioner_json, practitioner_role_json
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import Json, registry
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.integrations.outbox.destination import DeadLetter, Delivered, Delivery, DeliveryResult, RetryLater
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import save_credential
from ilp_api.integrations.satusehat.destination import SatusehatDestination
from ilp_api.integrations.satusehat.hook import install_satusehat_hook
from ilp_api.integrations.satusehat.repository import set_supervisor
from ilp_api.integrations.satusehat.simulator.state import SEED_CLIENT
from ilp_api.settings import Settings
from ilp_api.wiring import resource_service
from satusehat_simulator import Simulator
from visits import blood_pressure, derived, quantity, quantity_value, record_visit, visit_bundle

PATIENT_IHS = "P02478375538"  # the simulator's person with the test patient's NIK
NAKES_IHS = "10006926841"  # the simulator's nakes with factories.practitioner_json's NIK


class RecordedRemoteIds:
    """What the outbox's remote_identifier table holds after the worker records ``Delivered.remote_ids``, for
    these tests until the outbox branch is merged (its ``remote_ids`` then takes this place)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}

    def __call__(
        self, session: Session, destination: str, resource_type: str, resource_ids: Sequence[str]
    ) -> dict[str, str]:
        return {i: self.ids[(resource_type, i)] for i in resource_ids if (resource_type, i) in self.ids}

    def record(self, result: DeliveryResult) -> None:
        assert isinstance(result, Delivered), result
        self.ids |= dict(result.remote_ids)


def nothing_recorded(
    session: Session, destination: str, resource_type: str, resource_ids: Sequence[str]
) -> dict[str, str]:
    return {}


def on_simulator(settings: Settings, simulator: Simulator) -> Settings:
    return settings.model_copy(
        update={"satusehat_auth_url": simulator.auth_url, "satusehat_fhir_url": simulator.fhir_url}
    )


def deliver(
    db: Database,
    settings: Settings,
    encounter_id: str,
    remote_ids: Any = nothing_recorded,
    timeout: float = 5.0,
    kind: str = "visit",
) -> DeliveryResult:
    async def once() -> DeliveryResult:
        timed = settings.model_copy(update={"satusehat_timeout_seconds": timeout})
        destination = SatusehatDestination(db, resource_service(registry, timed), timed, remote_ids)
        try:
            delivery = Delivery(1, "satusehat", "Patient/x", 1, kind, "Encounter", encounter_id, 0)
            return await destination.deliver(delivery)
        finally:
            await destination.aclose()

    return asyncio.run(once())


@pytest.fixture
def posyandu(client: TestClient, db: Database, network: dict[str, str]) -> dict[str, str]:
    """The network with SATUSEHAT credentials on its puskesmas and a Location (with position) for its posyandu."""
    location = location_json("Posyandu Melati, Balai RW 001", organization=network["posyandu"])
    create(client, location | {"position": {"longitude": 110.4167, "latitude": -6.9833}})
    with db.session(write=True) as session:
        store = CredentialStore(session, CredentialCipher.from_settings(Settings()))
        credential = SatusehatCredential(SEED_CLIENT.client_id, SEED_CLIENT.client_secret, SEED_CLIENT.organization_id)
        save_credential(store, network["puskesmas"], credential)
    return network


def bidan_visit(client: TestClient, network: dict[str, str], patient_id: str, day: str = "2026-11-03") -> str:
    bidan = create(client, practitioner_json())
    create(client, practitioner_role_json(bidan["id"], network["posyandu"]))
    bundle = visit_bundle(
        patient_id, network["posyandu"], blood_pressure(165, 100), quantity("29463-7", 70, "kg"), day=day
    )
    bundle["entry"][0]["resource"]["participant"] = [{"individual": {"reference": f"Practitioner/{bidan['id']}"}}]
    return record_visit(client, bundle)


def test_a_visit_is_delivered_with_its_people_and_places(
    client: TestClient,
    db: Database,
    settings: Settings,
    posyandu: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    settings = on_simulator(settings, simulator)
    encounter_id = bidan_visit(client, posyandu, patient["id"])
    result = deliver(db, settings, encounter_id)

    assert isinstance(result, Delivered), result
    assert result.remote_ids[("Patient", patient["id"])] == PATIENT_IHS
    posyandu_org = result.remote_ids[("Organization", posyandu["posyandu"])]
    pustu_org = result.remote_ids[("Organization", posyandu["pustu"])]
    assert result.remote_ids[("Organization", posyandu["puskesmas"])] == "100011", "the facility is the credential's"
    (transaction,) = simulator.admin("GET", "transactions").json()
    encounter = transaction["entry"][0]["resource"]
    assert result.remote_ids[("Encounter", encounter_id)] == encounter["id"]
    assert encounter["subject"] == {"reference": f"Patient/{PATIENT_IHS}"}
    assert encounter["participant"][0]["individual"] == {"reference": f"Practitioner/{NAKES_IHS}"}
    assert encounter["serviceProvider"] == {"reference": f"Organization/{posyandu_org}"}
    organizations = {o["id"]: o for o in simulator.resources("Organization")}
    assert organizations[posyandu_org]["partOf"] == {"reference": f"Organization/{pustu_org}"}
    assert organizations[pustu_org]["partOf"] == {"reference": "Organization/100011"}
    (location,) = simulator.resources("Location")
    assert encounter["location"] == [{"location": {"reference": f"Location/{location['id']}"}}]
    assert location["position"] == {"longitude": 110.4167, "latitude": -6.9833}
    assert result.note is not None
    assert "skipped Observation/" in result.note, "the classifications, with their reason"


def test_delivered_again_it_is_never_stored_twice(
    client: TestClient,
    db: Database,
    settings: Settings,
    posyandu: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    settings = on_simulator(settings, simulator)
    encounter_id = bidan_visit(client, posyandu, patient["id"])
    recorded = RecordedRemoteIds()
    recorded.record(deliver(db, settings, encounter_id, recorded))
    created = {
        kind: len(simulator.resources(kind)) for kind in ("Encounter", "Observation", "Organization", "Location")
    }

    # An update (the ids recorded): each resource goes as a PUT of its SATUSEHAT id, a retired one retired there.
    weight = next(
        o for o in derived(client, "Observation", encounter_id) if o["code"]["coding"][0]["code"] == "29463-7"
    )
    retired = {key: value for key, value in weight.items() if key != "meta"} | {"status": "entered-in-error"}
    assert client.put(f"/fhir/Observation/{weight['id']}", json=retired, headers=FHIR_JSON).status_code == 200
    recorded.record(deliver(db, settings, encounter_id, recorded, kind="update"))
    (encounter,) = simulator.resources("Encounter")
    assert encounter["meta"]["versionId"] == "2"
    remote_weight = recorded.ids[("Observation", weight["id"])]
    assert [o["status"] for o in simulator.resources("Observation") if o["id"] == remote_weight] == ["entered-in-error"]
    # A retry whose first attempt went through unseen (no ids recorded): 20002, resolved, not stored twice.
    again = deliver(db, settings, encounter_id)
    assert isinstance(again, Delivered), again
    assert again.note is not None
    assert "duplicate (20002)" in again.note
    assert {kind: len(simulator.resources(kind)) for kind in created} == created


def test_faults_are_retried_later_and_the_visit_goes_once(
    client: TestClient,
    db: Database,
    settings: Settings,
    posyandu: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    settings = on_simulator(settings, simulator)
    encounter_id = bidan_visit(client, posyandu, patient["id"])
    simulator.inject("status", status=503)
    unavailable = deliver(db, settings, encounter_id)
    simulator.inject("rate-limit", seconds=30)
    limited = deliver(db, settings, encounter_id)
    simulator.inject("hang", count=8, seconds=0.6)
    hung = deliver(db, settings, encounter_id, timeout=0.3)
    simulator.admin("DELETE", "faults")
    delivered = deliver(db, settings, encounter_id)

    assert isinstance(unavailable, RetryLater)
    assert "HTTP 503" in unavailable.reason
    assert limited == RetryLater(limited.reason, 30.0)  # type: ignore[union-attr]
    assert isinstance(hung, RetryLater)
    assert "timeout" in hung.reason
    assert isinstance(delivered, Delivered), delivered
    assert len(simulator.resources("Encounter")) == 1


def test_what_no_retry_mends_is_dead_lettered(
    client: TestClient,
    db: Database,
    settings: Settings,
    posyandu: dict[str, str],
    patient: dict[str, Any],
    simulator: Simulator,
) -> None:
    configured = on_simulator(settings, simulator)
    kader = create(client, practitioner_json("3374014101950003", family="Kader", given="Ani"))
    create(client, practitioner_role_json(kader["id"], posyandu["posyandu"], role="kader"))
    bundle = visit_bundle(patient["id"], posyandu["posyandu"], quantity("29463-7", 70, "kg"))
    bundle["entry"][0]["resource"]["participant"] = [{"individual": {"reference": f"Practitioner/{kader['id']}"}}]
    kader_only = record_visit(client, bundle)
    assert deliver(db, configured, kader_only) == DeadLetter("no-practitioner-ihs")
    with db.session(write=True) as session:
        set_supervisor(session, posyandu["pustu"], NAKES_IHS)  # every posyandu below the pustu
    supervised = deliver(db, configured, kader_only)
    assert isinstance(supervised, Delivered), supervised
    (encounter,) = simulator.resources("Encounter")
    assert encounter["participant"][0]["individual"] == {"reference": f"Practitioner/{NAKES_IHS}"}

    too_old = bidan_visit(client, posyandu, patient["id"], day="2013-05-02")  # before SATUSEHAT's 2014-06-03
    refused = deliver(db, configured, too_old)
    assert isinstance(refused, DeadLetter)
    assert refused.rule_numbers[0] == "10173"
    assert refused.outcome is not None

    assert deliver(db, settings.model_copy(update={"environment": "production"}), too_old) == DeadLetter(
        "satusehat-off: ILP_SATUSEHAT_AUTH_URL and ILP_SATUSEHAT_FHIR_URL are unset"
    )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM integration_credential")
    production = on_simulator(settings, simulator).model_copy(update={"environment": "production"})
    no_credentials = deliver(db, production, too_old)
    assert isinstance(no_credentials, DeadLetter)
    assert no_credentials.reason.startswith("no-credentials")


def test_the_hook_queues_each_visit_and_its_updates(
    client: TestClient, settings: Settings, network: dict[str, str], patient: dict[str, Any]
) -> None:
    queued: list[Json] = []

    def enqueue(session: Session, **item: Any) -> None:
        assert isinstance(session, Session)  # the writer's own transaction
        queued.append(item)

    production = settings.model_copy(update={"environment": "production"})
    assert install_satusehat_hook(enqueue, settings) is not None, "development: on, against the mounted simulator"
    try:
        encounter_id = record_visit(
            client, visit_bundle(patient["id"], network["posyandu"], quantity("29463-7", 70, "kg"))
        )
        weight = quantity("8302-2", 170, "cm") | {
            "resourceType": "Observation",
            "status": "final",
            "subject": {"reference": f"Patient/{patient['id']}"},
            "encounter": {"reference": f"Encounter/{encounter_id}"},
            "effectiveDateTime": "2026-11-03T08:10:00+07:00",
        }
        create(client, weight)
        planned = create(
            client,
            {
                "resourceType": "Encounter",
                "status": "planned",
                "class": {"code": "AMB", "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                "subject": {"reference": f"Patient/{patient['id']}"},
            },
        )
    finally:
        assert install_satusehat_hook(enqueue, production) is None, "the integration off: the hook is removed"
    item = {
        "destination": "satusehat",
        "ordering_key": f"Patient/{patient['id']}",
        "subject_type": "Encounter",
        "subject_id": encounter_id,
    }
    assert queued == [item | {"kind": "visit"}, item | {"kind": "update"}]
    assert planned["id"] not in [q["subject_id"] for q in queued]
    create(client, weight | {"valueQuantity": quantity_value(171, "cm")})
    assert len(queued) == 2, "with the integration off, nothing is queued"
