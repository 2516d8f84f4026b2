"""Organization scoping, declared as data: which stored resources a client bound to an organization sees.

Each resource type lists the rules that make one of its resources visible; the repository compiles them to
SQL and applies them to every read, search, history, include and write. A type without rules is invisible
to a scoped client (fail closed). The organization's subtree is computed inside each query, so an
organization created in the same request is already part of it.

Patient data is scoped through the patient compartment: each Patient has one stored ``Placement`` (who manages
the resident, where they live), and every member of a Patient's compartment (the Patient itself included) is
visible exactly where that placement is. A resident who moves takes everything of theirs along at once.
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class InSubtree:
    """The resource is one of the subtree's Organizations."""


@dataclass(frozen=True)
class ReferencesSubtree:
    """A reference search parameter of the resource points at an Organization of the subtree."""

    parameter: str


@dataclass(frozen=True)
class InPatientCompartment:
    """The resource belongs to the compartment of a Patient placed within reach: managed by an organization of
    the subtree, or living in the organization's wilayah (for a posyandu: its village and the RWs it covers)."""


@dataclass(frozen=True)
class ReferencedByVisible:
    """A visible resource of ``source_type`` refers to this one (a Practitioner through a PractitionerRole)."""

    source_type: str
    parameter: str


@dataclass(frozen=True)
class Listed:
    """Every client sees the resource when a token parameter of it holds ``code`` of a system whose url ends with
    ``system_path`` (the project's CodeSystems lie under the canonical base, a setting): an entry of a directory
    every organization consults, such as a referral hospital. Seeing it lets a client refer to it, nothing more:
    the type's rules refuse writes from outside (resources/organization.py)."""

    parameter: str
    system_path: str
    code: str


ScopeRule = InSubtree | ReferencesSubtree | InPatientCompartment | ReferencedByVisible | Listed


@dataclass(frozen=True)
class Area:
    """Where an organization's residents live: a wilayah code prefix, narrowed to RWs for a posyandu."""

    wilayah: str
    village: str | None = None
    rws: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    organization_id: str
    area: Area | None
    rules: Mapping[str, tuple[ScopeRule, ...]]


@dataclass(frozen=True)
class Placement:
    """Where a Patient is within reach of organizations: its managing organization, and the village and RW it
    lives in (one address). Stored as one row per Patient, so scoping joins one row, not the address indexes."""

    managing_organization_id: str | None = None
    village: str | None = None
    rw: str | None = None


def reach_depends_on(rules: Mapping[str, tuple[ScopeRule, ...]]) -> frozenset[str]:
    """The types whose writes can change which resources *of other types* a scope reaches: Organizations (the
    subtree), Patients (their placement scopes their compartments) and the sources of ``ReferencedByVisible``."""
    types = set[str]()
    for rule in (rule for type_rules in rules.values() for rule in type_rules):
        if isinstance(rule, InSubtree | ReferencesSubtree):
            types.add("Organization")
        elif isinstance(rule, InPatientCompartment):
            types.add("Patient")
        elif isinstance(rule, ReferencedByVisible):
            types.add(rule.source_type)
    return frozenset(types)
