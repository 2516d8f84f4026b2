"""The CapabilityStatement, generated from the registry (stored types) and fhir/providers.py (read-only types
and operations), with no hand-written entry, so that it lists only what is really served."""

from collections.abc import Iterable
from typing import Any

from ilp_api import __version__
from ilp_api.fhir import FHIR_VERSION
from ilp_api.fhir.compartment import COMPARTMENT_DEFINITION_PATH, COMPARTMENT_TYPE
from ilp_api.fhir.providers import Operation, OperationLevel, Providers, ReadOnlyType
from ilp_api.fhir.registry import Registry, ResourceDefinition, SearchParameter, SearchType

INSTANCE_AND_TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "create",
    "search-type",
)
RESULT_PARAMETERS = (
    ("_count", "number", "Page size (default and maximum set by the server)"),
    ("_offset", "number", "Skip this many matches (used by the next/previous links)"),
    ("_sort", "string", "Comma-separated parameters, '-' for descending"),
    ("_total", "token", "accurate (default) or none"),
    ("_summary", "token", "count: only the number of matches (Bundle.total), no entries"),
)


def capability_statement(
    registry: Registry, providers: Providers, base: str, published: str, token_url: str, canonical_base: str
) -> dict[str, Any]:
    operations = list(providers.operations())
    resources = [_resource(definition, registry) for definition in registry]
    resources += [_read_only(definition) for definition in providers.types()]
    for resource in resources:
        on_type = [o for o in operations if o.level != OperationLevel.SYSTEM and o.resource_type == resource["type"]]
        if on_type:
            resource["operation"] = _operations(on_type, canonical_base)
    rest: dict[str, Any] = {
        "mode": "server",
        "security": _security(token_url),
        "resource": sorted(resources, key=lambda r: r["type"]),
        "interaction": [{"code": "transaction"}, {"code": "batch"}],
    }
    if registry.get(COMPARTMENT_TYPE):
        # R4's Patient compartment as the registry extends it (Task through Task.for, …), so the project's own.
        rest["compartment"] = [canonical_base + COMPARTMENT_DEFINITION_PATH]
    on_system = [o for o in operations if o.level is OperationLevel.SYSTEM]
    if on_system:
        rest["operation"] = _operations(on_system, canonical_base)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published,
        "publisher": "ILP API",
        "kind": "instance",
        "software": {"name": "ILP API", "version": __version__},
        "implementation": {"description": "ILP API FHIR R4 endpoint", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [rest],
    }


def _operations(operations: Iterable[Operation], canonical_base: str) -> list[dict[str, Any]]:
    return [{"name": o.name, "definition": o.canonical(canonical_base), "documentation": o.summary} for o in operations]


def _search_parameters(parameters: Iterable[SearchParameter]) -> list[dict[str, Any]]:
    return [{"name": p.name, "type": p.type.value, "documentation": p.description} for p in parameters] + [
        {"name": name, "type": kind, "documentation": text} for name, kind, text in RESULT_PARAMETERS
    ]


def _read_only(definition: ReadOnlyType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": definition.type,
        "documentation": definition.description,
        "interaction": [{"code": interaction.code} for interaction in definition.interactions],
    }
    if definition.search is not None:
        entry["searchParam"] = _search_parameters(definition.parameters_by_name.values())
    return entry


SECURITY_SERVICE_SYSTEM = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def _security(token_url: str) -> dict[str, Any]:
    """SMART App Launch's way of telling clients where to get tokens (also at /.well-known/smart-configuration)."""
    return {
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": "token", "valueUri": token_url}],
            }
        ],
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ]
            }
        ],
        "description": "OAuth 2.0 client credentials; bearer tokens carry SMART v2 system scopes "
        "(system/Patient.rs, system/*.cruds) or ilp/admin. Data is scoped to the client's organization.",
    }


def _resource(definition: ResourceDefinition, registry: Registry) -> dict[str, Any]:
    searchable = list(definition.parameters_by_name.values())
    references = [p for p in searchable if p.type is SearchType.REFERENCE]
    revincludes = sorted(
        f"{other.type}:{p.name}"
        for other in registry
        for p in other.parameters_by_name.values()
        if p.type is SearchType.REFERENCE and definition.type in p.targets
    )
    entry: dict[str, Any] = {
        "type": definition.type,
        "documentation": definition.description,
        "interaction": [{"code": code} for code in INSTANCE_AND_TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": False,
        "conditionalCreate": True,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchInclude": [f"{definition.type}:{p.name}" for p in references],
        "searchRevInclude": revincludes,
        "searchParam": _search_parameters(searchable),
    }
    if not entry["searchInclude"]:
        del entry["searchInclude"]
    if not entry["searchRevInclude"]:
        del entry["searchRevInclude"]
    return entry
