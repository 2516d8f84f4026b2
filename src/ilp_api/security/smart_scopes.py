"""SMART on FHIR scopes for backend services: parsing and what a set of scopes grants. Pure functions.

A resource scope is ``system/<type or *>.<permissions>``. SMART v2 permissions are letters of ``cruds`` in that
order (``rs``, ``cud``); SMART v1's ``read``, ``write`` and ``*`` are accepted and mean ``rs``, ``cud`` and
``cruds``, as the SMART v2 specification maps them. ``patient/`` and ``user/`` scopes need a user or patient
context that client credentials never have, and v2 query-restricted scopes (``?category=...``) are not
supported: both are rejected rather than silently widened. ``ilp/admin`` manages API clients; it grants no
resource access here (``auth.Principal.can`` lets admins do everything).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

ADMIN_SCOPE = "ilp/admin"
# Looking a person up at BPJS before they are in the register (GET /api/v1/bpjs/peserta): personal data of someone
# no organization holds, so a scope of its own, which no resource scope (system/*.cruds neither) implies. The
# identity scope also shows their NIK and phone number unmasked.
BPJS_PESERTA_SCOPE = "ilp/bpjs-peserta"
BPJS_PESERTA_IDENTITY_SCOPE = "ilp/bpjs-peserta-identitas"
PROJECT_SCOPES = frozenset({ADMIN_SCOPE, BPJS_PESERTA_SCOPE, BPJS_PESERTA_IDENTITY_SCOPE})

_RESOURCE_SCOPE = re.compile(r"system/(?P<type>\*|[A-Z][A-Za-z]{0,63})\.(?P<permissions>[a-z*]+)")
_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
# Every ordered, non-empty selection of c r u d s, as SMART v2 writes them.
_V2_PERMISSIONS = re.compile(r"c?r?u?d?s?")


@dataclass(frozen=True)
class ResourceScope:
    resource_type: str  # a FHIR resource type, or "*" for every type
    interactions: frozenset[str]

    def grants(self, resource_type: str, interaction: str) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.interactions


def parse_resource_scope(scope: str) -> ResourceScope:
    """``system/Patient.rs`` → ResourceScope("Patient", {r, s}); ValueError for anything else."""
    match = _RESOURCE_SCOPE.fullmatch(scope)
    if match is None:
        raise ValueError(f"'{scope}' is not a system/<ResourceType or *>.<permissions> scope")
    permissions = match["permissions"]
    letters = _V1_PERMISSIONS.get(permissions, permissions)
    if not letters or not _V2_PERMISSIONS.fullmatch(letters):
        raise ValueError(f"'{scope}': permissions must be letters of 'cruds' in that order, or read, write or *")
    return ResourceScope(match["type"], frozenset(letters))


def split_scopes(text: str) -> list[str]:
    """A space-separated scope string (RFC 6749 §3.3) as a list without duplicates, in its order."""
    return list(dict.fromkeys(text.split()))


def validate_scopes(text: str) -> list[str]:
    """The scopes of ``text``, each known; ValueError naming the first that is not, or when there are none."""
    scopes = split_scopes(text)
    if not scopes:
        raise ValueError("at least one scope is required")
    for scope in scopes:
        if scope not in PROJECT_SCOPES:
            parse_resource_scope(scope)
    return scopes


def _resource_scopes(scopes: Iterable[str]) -> list[ResourceScope]:
    parsed = []
    for scope in scopes:
        try:
            parsed.append(parse_resource_scope(scope))
        except ValueError:
            continue  # ilp/… scopes, or one this server does not know: it grants no resource access
    return parsed


def grants(scopes: Iterable[str], resource_type: str, interaction: str) -> bool:
    """Whether ``scopes`` allow ``interaction`` (one of c r u d s) on ``resource_type``.

    ``resource_type`` "*" asks for every type at once, which only a wildcard scope grants.
    """
    return any(scope.grants(resource_type, interaction) for scope in _resource_scopes(scopes))


def covers(granted: Iterable[str], requested: str) -> bool:
    """Whether the ``granted`` scopes include everything the one ``requested`` scope would allow.

    By meaning, not by spelling: a client registered with ``system/*.cruds`` may ask for ``system/Patient.rs``.
    """
    granted = list(granted)
    if requested in PROJECT_SCOPES:
        return requested in granted
    wanted = parse_resource_scope(requested)
    return all(grants(granted, wanted.resource_type, interaction) for interaction in wanted.interactions)
