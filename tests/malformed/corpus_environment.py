"""The malformed-input corpus's world: a seeded dataset, its tokens, and the state of the tables.

Seeding a network for each of the corpus's cases would cost minutes; instead it is seeded once per database,
and each case compares the tables with the state the previous case left (see test_corpus.py).
"""

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy import select

from audit_expectations import recorded_events
from factories import (
    KELURAHAN,
    build_network,
    condition_json,
    coverage_json,
    create,
    eligibility_request_json,
    eligibility_response_json,
    encounter_json,
    episode_of_care_json,
    immunization_json,
    location_json,
    observation_json,
    organization_json,
    patient_json,
    practitioner_json,
    practitioner_role_json,
    provenance_json,
    questionnaire_response_json,
    service_request_json,
    task_json,
)
from harness import empty_database, mint_token
from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.repository import enqueue
from ilp_api.integrations.outbox.repository import items as outbox_items
from ilp_api.schema import metadata
from ilp_api.security.clients import register_client
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from pcare_simulator import Simulator, bpjs_settings

# The only tables a rejected request may change.
AUDIT_TABLES = frozenset({"audit_event", "audit_entity"})

TableState = dict[str, tuple[int, str]]


def table_state(database: Database) -> TableState:
    """Row count and a hash of the content of every table but the audit trail's."""
    state = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name not in AUDIT_TABLES:
                rows = sorted(repr(tuple(row)) for row in connection.execute(select(table)))
                state[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return state


@dataclass
class CorpusEnvironment:
    """The API over a seeded database, and what the tables and the audit trail held after the last case."""

    database: Database
    client: TestClient
    seeds: dict[str, str]  # what ${name} in the corpus stands for
    tokens: dict[str, str]  # by the corpus's "auth" values
    state: TableState = field(default_factory=dict)
    audit: Counter[tuple[str, str, str]] = field(default_factory=Counter)


@contextmanager
def corpus_environment(database: Database, settings: Settings, simulator: Simulator) -> Iterator[CorpusEnvironment]:
    """The environment over ``database``, with BPJS at the PCare simulator, emptied again afterwards."""
    # Hundreds of requests from one client in a few seconds: the rate limiter would answer most with 429
    # (bpjs_settings lifts it).
    simulator.reset()
    app = create_app(bpjs_settings(settings, simulator, bpjs_lookups_per_minute=0), database)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            seeds = seed(client, database, settings)
            tokens = {
                "admin": mint_token(database, settings, None, ADMIN_SCOPE),
                "scoped": mint_token(database, settings, seeds["posyandu"], "system/*.cruds"),
                "scoped-rs": mint_token(database, settings, seeds["posyandu"], "system/*.rs"),
            }
            environment = CorpusEnvironment(database, client, seeds, tokens)
            environment.state = table_state(database)
            environment.audit = recorded_events(database)
            yield environment
    finally:
        empty_database(database)


def seed(client: TestClient, database: Database, settings: Settings) -> dict[str, str]:
    """A network with one resource of each type, and clients for the token and revoke endpoints."""
    client.headers["Authorization"] = f"Bearer {mint_token(database, settings, None, ADMIN_SCOPE)}"
    network = build_network(client)
    patient = create(client, patient_json(wilayah=KELURAHAN, rw="001", organization=network["posyandu"]))
    location = create(client, location_json(organization=network["puskesmas"]))
    practitioner = create(client, practitioner_json())
    role = create(client, practitioner_role_json(practitioner["id"], network["puskesmas"]))
    encounter = create(client, encounter_json(patient["id"], network["posyandu"]))
    observation = create(
        client, observation_json(patient["id"], encounter={"reference": f"Encounter/{encounter['id']}"})
    )
    questionnaire_response = create(client, questionnaire_response_json(patient["id"]))
    episode = create(client, episode_of_care_json(patient["id"], network["puskesmas"]))
    condition = create(client, condition_json(patient["id"]))
    referral = create(
        client, service_request_json(patient["id"], requester=network["posyandu"], performer=network["puskesmas"])
    )
    task = create(client, task_json(patient["id"], requester=network["posyandu"], owner=network["puskesmas"]))
    provenance = create(client, provenance_json(f"Task/{task['id']}", network["puskesmas"]))
    immunization = create(client, immunization_json(patient["id"]))
    payor = create(client, organization_json("penjamin", name="BPJS Kesehatan", wilayah=None))
    coverage = create(client, coverage_json(patient["id"], payor["id"]))
    eligibility_request = create(client, eligibility_request_json(patient["id"], payor["id"]))
    eligibility_response = create(
        client, eligibility_response_json(patient["id"], eligibility_request["id"], payor["id"])
    )
    del client.headers["Authorization"]
    # The operations view of a registered outbox destination (none on a branch without integrations: then every
    # case meets the 404 of an unknown destination), with an item queued for it.
    destination = next(iter(destinations.names()), "satusehat")
    with database.session(write=True) as session:
        token_client = register_client(session, "corpus token client", network["posyandu"], "system/*.rs")
        throwaway = register_client(session, "corpus throwaway client", network["posyandu"], "system/*.rs")
        enqueue(session, destination=destination, ordering_key=f"Patient/{patient['id']}", kind="visit",
                subject_type="Encounter", subject_id=encounter["id"])  # fmt: skip
    with database.session(write=False) as session:
        [queued] = outbox_items(session, destination, None, 1, 0)
    return {
        **network,
        "Patient": patient["id"],
        "Organization": network["puskesmas"],
        "Location": location["id"],
        "Practitioner": practitioner["id"],
        "PractitionerRole": role["id"],
        "Encounter": encounter["id"],
        "Observation": observation["id"],
        "QuestionnaireResponse": questionnaire_response["id"],
        "EpisodeOfCare": episode["id"],
        "Condition": condition["id"],
        "ServiceRequest": referral["id"],
        "Task": task["id"],
        "Provenance": provenance["id"],
        "Immunization": immunization["id"],
        "penjamin": payor["id"],
        "Coverage": coverage["id"],
        "CoverageEligibilityRequest": eligibility_request["id"],
        "CoverageEligibilityResponse": eligibility_response["id"],
        "CodeSystem": "peran",  # read-only: the project's code systems are there from the start
        "Questionnaire": "tes-bisik",  # read-only too: the screening forms
        "ConceptMap": "temuan-skrining-icd10",  # and the map of screening findings to ICD-10
        "client_id": token_client.info.client_id,
        "client_secret": token_client.client_secret,
        "throwaway_client": throwaway.info.client_id,
        "destination": destination,
        "item_id": str(queued.id),
    }
