"""Organization scoping, declared as data: which stored resources a client bound to an organization sees.

Each resource type lists the rules that make one of its resources visible; the repository compiles them to
SQL and applies them to every read, search, history, include and write. A type without rules is invisible
to a scoped client (fail closed). The organization's subtree is computed inside each query, so an
organization created in the same request is already part of it.
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
class LivesInArea:
    """An address lies in the organization's wilayah (for a posyandu: its village and the RWs it covers)."""

    village_parameter: str
    rw_parameter: str


@dataclass(frozen=True)
class ReferencedByVisible:
    """A visible resource of ``source_type`` refers to this one (a Practitioner through a PractitionerRole)."""

    source_type: str
    parameter: str


ScopeRule = InSubtree | ReferencesSubtree | LivesInArea | ReferencedByVisible


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
