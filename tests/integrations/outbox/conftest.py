"""A test destination "sink" registered like an integration's, for the tests that go through the API."""

from collections.abc import Iterator

import pytest
from outbox_doubles import Sink

from ilp_api.db.engine import Database
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.outbox.registry import Registration, destinations
from ilp_api.settings import Settings

SINK_PATIENT_SYSTEM = "https://sink.example/id/patient"


@pytest.fixture
def registered_sink() -> Iterator[Sink]:
    sink = Sink()

    def build(database: Database, settings: Settings, service: ResourceService) -> Sink:
        return sink

    def identifier_system(resource_type: str, canonical_base: str) -> str | None:
        return SINK_PATIENT_SYSTEM if resource_type == "Patient" else None

    destinations.register(Registration("sink", build, identifier_system))
    try:
        yield sink
    finally:
        destinations.unregister("sink")
