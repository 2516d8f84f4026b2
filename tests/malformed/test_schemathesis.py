"""schemathesis over the whole OpenAPI document, on PostgreSQL: no request it generates makes the server fail.

A fixed seed and a per-operation example budget keep the run reproducible and short as operations are added.
Every stored type's read, history, update, patch and delete run one generic code path, so those are fuzzed on
one representative type; every type's create and search, whose bodies and parameters are its own, on each.
Every request carries an ilp/admin token, so generated input reaches validation instead of the 401. Traffic is
recorded like the harness's own client's (tests/conftest.py ``anonymous_client``): afterwards the audit trail
must hold exactly the events audit_expectations.py derives from it.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from audit_expectations import Exchange, ExchangeLog, recorded_events
from ilp_api.app import create_app
from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.fhir.registry import registry
from ilp_api.openapi_document import openapi_document
from ilp_api.security.repository import ClientRecord, ClientRepository
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from pcare_simulator import Simulator, bpjs_settings

SEED = 20261207
EXAMPLES_PER_OPERATION = 25
REVOKE_PATH = "/api/v1/clients/{client_id}/revoke"
REPRESENTATIVE_TYPE = "Patient"
TYPE_PATH = re.compile(r"/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<rest>/.*)?")


@pytest.fixture
def admin_token(issue_token: Callable[[str | None, str], str]) -> str:
    return issue_token(None, ADMIN_SCOPE)


@pytest.fixture
def api_app(db: Database, settings: Settings, pcare_simulator_url: str) -> FastAPI:
    # Thousands of requests from one client: the rate limiter would answer most of them with 429 (bpjs_settings
    # lifts it). BPJS is on, at the simulator: its operations answer as they would in use.
    simulator = Simulator(pcare_simulator_url)
    simulator.reset()
    return create_app(bpjs_settings(settings, simulator, bpjs_lookups_per_minute=0), db)


@pytest.fixture
def exchanges(db: Database) -> Iterator[ExchangeLog]:
    """What the test sent; afterwards the audit trail must hold exactly the events derived from it."""
    log = ExchangeLog()
    yield log
    assert recorded_events(db) == log.expected_events(), "the audit trail differs from the requests made"


def throwaway_client(database: Database) -> str:
    """A client that exists only to be revoked, so revoking never touches the test's own client."""
    client_id = f"throwaway-{uuid.uuid4().hex[:12]}"
    record = ClientRecord(client_id, client_id, None, "system/*.rs", "no-secret", utc_now(), None)
    with database.session(write=True) as session:
        ClientRepository(session).add(record)
    return client_id


def fuzzed_operations(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the instance interactions (not operations) of stored types but the representative."""
    paths = {}
    for path, methods in document["paths"].items():
        match = TYPE_PATH.fullmatch(path)
        instance = match is not None and match["rest"] is not None and not match["rest"].startswith("/$")
        if instance and registry.get(match["type"]) is not None and match["type"] != REPRESENTATIVE_TYPE:
            continue
        paths[path] = methods
    return {**document, "paths": paths}


schema = schemathesis.openapi.from_dict(fuzzed_operations(openapi_document()))
schema.config.seed = SEED
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION)
# Not the coverage phase: it enumerates the FHIR resource schemas (recursive Extension) for minutes per
# operation while collecting; examples and fuzzing reach every operation within the budget.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_no_generated_request_makes_the_server_fail(
    case: schemathesis.Case, api_app: FastAPI, admin_token: str, exchanges: ExchangeLog, db: Database
) -> None:
    if case.path == REVOKE_PATH:
        case.path_parameters = {"client_id": throwaway_client(db)}
    response = case.call(app=api_app, headers={"Authorization": f"Bearer {admin_token}"})
    request = response.request
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    exchanges.exchanges.append(
        Exchange(request.method or "", urlsplit(request.url).path, response.status_code, response.content, body)
    )
    # Only server errors: the document describes FHIR bodies loosely (resources and OperationOutcomes as free
    # JSON, error statuses as a shared list), so the conformance checks would grade the document, not the server.
    case.validate_response(response, checks=[not_a_server_error])
