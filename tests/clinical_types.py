"""A minimal Task type, registered only for the tests of patient compartments.

The project does not serve Task yet: this one is just enough to store a member of a Patient's compartment through
the project's extension of R4 (``Task.for``), beside the served Observation (``subject`` and ``performer``, as
FHIR R4 lists them). ``clinical_app`` registers it, builds an app with its routes and removes it afterwards; a
test module uses it as its ``app`` fixture.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import Field

from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import Reference, Resource
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree
from ilp_api.settings import Settings


class Task(Resource):
    status: str
    intent: str
    for_: Reference | None = Field(None, alias="for")
    owner: Reference | None = None


TASK = ResourceDefinition(
    type="Task",
    model=Task,
    description="Test-only Task",
    search_parameters=(
        SearchParameter("patient", SearchType.REFERENCE, "Task.for", references("for"), targets=("Patient",)),
        SearchParameter("owner", SearchType.REFERENCE, "Who does it", references("owner"), targets=("Organization",)),
    ),
    compartment=("patient",),
    scope_rules=(InPatientCompartment(), ReferencesSubtree("owner")),
    patient_data=True,
)


@contextmanager
def clinical_app(settings: Settings, database: Database) -> Iterator[FastAPI]:
    """An app serving Task besides the project's types; it is unregistered afterwards."""
    registry.register(TASK)
    try:
        yield create_app(settings, database)
    finally:
        registry.unregister(TASK.type)


def task_json(patient_id: str, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "for": {"reference": f"Patient/{patient_id}"},
        **elements,
    }
