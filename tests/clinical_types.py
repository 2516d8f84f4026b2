"""Minimal Observation and Task types, registered only for the tests of patient compartments.

The project does not serve them yet: these are just enough to store a member of a Patient's compartment through
each kind of declaration (Observation via ``subject`` and ``performer``, as FHIR R4 lists it; Task via ``for``,
the project's extension of R4). ``clinical_app`` registers them, builds an app with their routes and removes them
afterwards; a test module uses it as its ``app`` fixture.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import Field

from ilp_api.app import create_app
from ilp_api.db.engine import Database
from ilp_api.fhir.datatypes import CodeableConcept, Reference, Resource
from ilp_api.fhir.registry import ResourceDefinition, SearchParameter, SearchType, codes, references, registry
from ilp_api.fhir.visibility_rules import InPatientCompartment, ReferencesSubtree
from ilp_api.settings import Settings

LOINC = "http://loinc.org"
BODY_WEIGHT = "29463-7"
BODY_HEIGHT = "8302-2"


class Observation(Resource):
    status: str
    code: CodeableConcept
    subject: Reference | None = None
    performer: list[Reference] | None = None


class Task(Resource):
    status: str
    intent: str
    for_: Reference | None = Field(None, alias="for")
    owner: Reference | None = None


OBSERVATION = ResourceDefinition(
    type="Observation",
    model=Observation,
    description="Test-only Observation",
    search_parameters=(
        SearchParameter("code", SearchType.TOKEN, "What was observed", codes("code")),
        SearchParameter(
            "subject", SearchType.REFERENCE, "Who it is about", references("subject"), targets=("Patient",)
        ),
        SearchParameter(
            "performer",
            SearchType.REFERENCE,
            "Who observed it",
            references("performer"),
            targets=("Patient", "Organization"),
        ),
    ),
    compartment=("subject", "performer"),
    scope_rules=(InPatientCompartment(),),
    patient_data=True,
)

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
    """An app serving Observation and Task besides the project's types; they are unregistered afterwards."""
    for definition in (OBSERVATION, TASK):
        registry.register(definition)
    try:
        yield create_app(settings, database)
    finally:
        for definition in (OBSERVATION, TASK):
            registry.unregister(definition.type)


def observation_json(patient_id: str, code: str = BODY_WEIGHT, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        **elements,
    }


def task_json(patient_id: str, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "for": {"reference": f"Patient/{patient_id}"},
        **elements,
    }
