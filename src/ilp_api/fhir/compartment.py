"""Patient compartments: which patients' compartments a resource belongs to, recorded when it is written.

FHIR R4's Patient CompartmentDefinition, extended by the project where R4 leaves a type out (Task through
``Task.for``), is declared per resource type in the registry (``ResourceDefinition.compartment``: the reference
search parameters whose Patient targets are the compartment's patients). A Patient belongs to its own compartment
and carries its placement, through which every member of the compartment is scoped (fhir/visibility_rules.py).
"""

from dataclasses import dataclass

from ilp_api.fhir.registry import Json, Ref, Registry, ResourceDefinition
from ilp_api.fhir.visibility_rules import Placement

COMPARTMENT_TYPE = "Patient"
# The CompartmentDefinition the CapabilityStatement declares, under the project's canonical base: R4's Patient
# compartment as the registry extends it.
COMPARTMENT_DEFINITION_PATH = "/CompartmentDefinition/patient"


@dataclass(frozen=True)
class Membership:
    """The patients whose compartments a resource belongs to, and, for a Patient, its placement."""

    patients: frozenset[str]
    placement: Placement | None = None


def membership(definition: ResourceDefinition, resource_id: str, data: Json) -> Membership | None:
    """None for a type that belongs to no patient compartment (it has no rows to keep)."""
    if definition.type == COMPARTMENT_TYPE:
        placement = definition.placement(data) if definition.placement else Placement()
        return Membership(frozenset({resource_id, *_patients(definition, data)}), placement)
    if definition.compartment:
        return Membership(frozenset(_patients(definition, data)))
    return None


def _patients(definition: ResourceDefinition, data: Json) -> set[str]:
    return {
        value.id
        for name in definition.compartment
        for value in definition.parameters_by_name[name].extract(data)
        if isinstance(value, Ref) and value.type == COMPARTMENT_TYPE
    }


def in_compartment(definition: ResourceDefinition) -> bool:
    return definition.type == COMPARTMENT_TYPE or bool(definition.compartment)


def compartment_types(registry: Registry) -> list[str]:
    """The registered types a Patient's compartment can hold, the Patient first."""
    members = [d.type for d in registry if d.compartment and d.type != COMPARTMENT_TYPE]
    return [COMPARTMENT_TYPE, *members] if registry.get(COMPARTMENT_TYPE) else members
