"""The OpenAPI document, completed from the registry so that a client can be generated from it alone.

The FHIR routes answer raw responses and read their query strings themselves, so FastAPI sees neither what they
return nor which search parameters they take. Both are added here, after FastAPI has built the document: each
resource type's model types its request and response bodies, a search or history answers a Bundle of resources,
every search parameter is a declared query parameter with its FHIR type and an example, and every 4xx is an
OperationOutcome. All of it comes from the registry, so the document cannot drift from the API.
"""

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from ilp_api.api.http import FORMAT_VALUES
from ilp_api.fhir import FHIR_JSON
from ilp_api.fhir.providers import Operation, OperationLevel, Providers
from ilp_api.fhir.registry import Registry, ResourceDefinition, SearchParameter, SearchType
from ilp_api.fhir.search import DATE_PREFIXES, MODIFIERS

Json = dict[str, Any]
SCHEMAS = "#/components/schemas/"

# The interactions of a type, by path: /fhir/{type}, /fhir/{type}/_search, /fhir/{type}/{id}, …/_history and
# …/_history/{version}.
INTERACTION_PATH = re.compile(
    r"^/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<search>/_search)?(?P<instance>/\{\w+\})?"
    r"(?:(?P<history>/_history)(?P<version>/\{\w+\})?)?$"
)
# Routes of another shape: (method, path) → (schema of the request body or None, schema of the answer). The
# registered operations (fhir/providers.py) are added to these.
OTHER_SHAPES: dict[tuple[str, str], tuple[str | None, str]] = {
    ("get", "/fhir/metadata"): (None, "CapabilityStatement"),
    ("post", "/fhir"): ("Bundle", "Bundle"),
    ("get", "/fhir/Patient/{patient_id}/{resource_type}"): (None, "Bundle"),
}
OPERATION_PATHS = {
    OperationLevel.SYSTEM: "/fhir/{code}",
    OperationLevel.TYPE: "/fhir/{type}/{code}",
    OperationLevel.INSTANCE: "/fhir/{type}/{{resource_id}}/{code}",
}
EXAMPLE_ID = "0d5c3b52-8f3e-4c1a-9d2b-6a7e1f4c2b90"
BUNDLE_TYPES = ("searchset", "history", "transaction", "batch", "transaction-response", "batch-response")
UNTYPED_ERROR_SCHEMAS: tuple[Json, ...] = ({}, {"$ref": SCHEMAS + "HTTPValidationError"})
SEARCH_NOTES = {
    SearchType.TOKEN: "`system|code`, `code` (any system) or `system|` (any code)",
    SearchType.STRING: "matches values that start with it, ignoring case and accents",
    SearchType.DATE: (
        f"YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with a time zone, optionally prefixed by "
        f"{', '.join(DATE_PREFIXES)}; repeat the parameter for a range"
    ),
    SearchType.REFERENCE: "`Type/id`, or the id alone when the parameter refers to one type",
}


def install_openapi(app: FastAPI, registry: Registry, providers: Providers) -> None:
    """Make ``app.openapi()`` answer the completed document (built once, on first use)."""
    generate = app.openapi

    def openapi() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate(), registry, providers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: Json, registry: Registry, providers: Providers) -> Json:
    shapes = OTHER_SHAPES | {
        shape: bodies for operation in providers.operations() for shape, bodies in operation_shapes(operation)
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(resource_schemas(registry))
    modelled = [definition.type for definition in registry]
    served = {match["type"] for match in map(INTERACTION_PATH.match, document["paths"]) if match}
    named = {schema for bodies in shapes.values() for schema in bodies if schema}
    unmodelled = sorted((served | named) - {*modelled, "Bundle"})
    schemas.update({resource_type: open_resource_schema(resource_type) for resource_type in unmodelled})
    schemas.update(bundle_schemas([*modelled, *unmodelled]))
    schemas.update(OPERATION_OUTCOME_SCHEMAS)
    for path, method, operation in _operations(document):
        _type_operation(path, method, operation, registry, shapes)
        _type_errors(operation)
    # FastAPI's own 422 schema, now replaced by the OperationOutcome the app answers with (ValidationError is its part).
    for replaced in ("HTTPValidationError", "ValidationError"):
        if f'"{SCHEMAS}{replaced}"' not in json.dumps(document):
            schemas.pop(replaced, None)
    return copy.deepcopy(document)  # parts of it are module constants, some shared by many operations


def resource_schemas(registry: Registry) -> Json:
    """JSON Schemas of the resource models, each with its resourceType fixed, and the datatypes they use."""
    schemas: Json = {}
    for definition in registry:
        schema = definition.model.model_json_schema(by_alias=True, ref_template=SCHEMAS + "{model}")
        schemas.update(schema.pop("$defs", {}))
        schema["properties"]["resourceType"] = {"type": "string", "const": definition.type}
        schemas[definition.model.__name__] = schema
    return schemas


def open_resource_schema(resource_type: str) -> Json:
    """A resource the API serves but does not model: any element FHIR R4 defines for it."""
    return {
        "type": "object",
        "title": resource_type,
        "description": f"A FHIR R4 {resource_type}: see https://hl7.org/fhir/R4/{resource_type.lower()}.html",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "const": resource_type}, "id": {"type": "string"}},
        "additionalProperties": True,
    }


def bundle_schemas(resource_types: list[str]) -> Json:
    def ref(name: str) -> Json:
        return {"$ref": SCHEMAS + name}

    text = {"type": "string"}
    return {
        "Bundle": {
            "type": "object",
            "title": "Bundle",
            "description": "A search or history answer, a transaction or batch, or the answer to one",
            "required": ["resourceType", "type"],
            "properties": {
                "resourceType": {"type": "string", "const": "Bundle"},
                "id": text,
                "type": {"type": "string", "enum": list(BUNDLE_TYPES)},
                "total": {"type": "integer", "minimum": 0, "description": "All matches (omitted with _total=none)"},
                "link": {"type": "array", "items": ref("BundleLink")},
                "entry": {"type": "array", "items": ref("BundleEntry")},
            },
        },
        "BundleLink": {
            "type": "object",
            "description": "`self`, `first`, `previous` and `next` pages of a search",
            "required": ["relation", "url"],
            "properties": {"relation": text, "url": text},
        },
        "BundleEntry": {
            "type": "object",
            "properties": {
                "fullUrl": text,
                "resource": {"anyOf": [ref(resource_type) for resource_type in resource_types]},
                "search": ref("BundleEntrySearch"),
                "request": ref("BundleEntryRequest"),
                "response": ref("BundleEntryResponse"),
            },
        },
        "BundleEntrySearch": {
            "type": "object",
            "description": "Whether the entry matched the search or was added by _include or _revinclude",
            "properties": {"mode": {"type": "string", "enum": ["match", "include"]}},
        },
        "BundleEntryRequest": {
            "type": "object",
            "description": "What a transaction or batch entry asks for (and what a history entry was)",
            "required": ["method", "url"],
            "properties": {
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
                "url": {**text, "examples": ["Patient", "Patient/123", "Patient?identifier=system|value"]},
                "ifNoneExist": text,
                "ifMatch": text,
            },
        },
        "BundleEntryResponse": {
            "type": "object",
            "description": "How a transaction, batch or history entry was answered",
            "required": ["status"],
            "properties": {
                "status": {**text, "examples": ["201 Created"]},
                "location": text,
                "etag": text,
                "lastModified": text,
                "outcome": ref("OperationOutcome"),
            },
        },
    }


OPERATION_OUTCOME_SCHEMAS: Json = {
    "OperationOutcome": {
        "type": "object",
        "title": "OperationOutcome",
        "description": "Why a request was refused, and what to do instead",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "const": "OperationOutcome"},
            "issue": {"type": "array", "items": {"$ref": SCHEMAS + "OperationOutcomeIssue"}},
        },
    },
    "OperationOutcomeIssue": {
        "type": "object",
        "required": ["severity", "code"],
        "properties": {
            "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
            "code": {"type": "string", "description": "FHIR issue type", "examples": ["invalid"]},
            "diagnostics": {"type": "string"},
            "details": {"$ref": SCHEMAS + "CodeableConcept"},
            "expression": {"type": "array", "items": {"type": "string"}, "examples": [["Patient.birthDate"]]},
        },
    },
}


def _operations(document: Json) -> Iterator[tuple[str, str, Json]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def operation_shapes(operation: Operation) -> Iterator[tuple[tuple[str, str], tuple[str | None, str]]]:
    """An operation's routes (POST, and GET where FHIR allows it): a POST takes Parameters, or the resource itself
    when that is its one input (as FHIR allows), and both answer the type of its ``return`` parameter (Parameters
    when it declares none)."""
    path = OPERATION_PATHS[operation.level].format(type=operation.resource_type, code=operation.code)
    answer = next((p.type for p in operation.parameters if p.use == "out" and p.name == "return"), "Parameters")
    inputs = [p.type for p in operation.parameters if p.use == "in"]
    yield ("post", path), (inputs[0] if len(inputs) == 1 and inputs[0][:1].isupper() else "Parameters", answer)
    if operation.by_get:
        yield ("get", path), (None, answer)


def _type_operation(
    path: str, method: str, operation: Json, registry: Registry, shapes: dict[tuple[str, str], tuple[str | None, str]]
) -> None:
    if (method, path) in shapes:
        request, answer = shapes[method, path]
        if request:
            _set_schema(operation["requestBody"]["content"], request)
        _answer(operation, answer)
        return
    match = INTERACTION_PATH.match(path)
    if match is None:
        return
    definition = registry.get(match["type"])
    resource = definition.model.__name__ if definition else match["type"]
    if match["history"] and not match["version"]:
        operation.setdefault("parameters", []).extend([COUNT, OFFSET])
        _answer(operation, "Bundle")
    elif match["search"] or (not match["instance"] and method == "get"):
        if definition:
            operation.setdefault("parameters", []).extend(search_parameters(definition, registry))
        _answer(operation, "Bundle")
    elif method != "delete":
        if method == "post":
            responses = operation["responses"]
            responses["200"] = {**responses["201"], "description": "A match of If-None-Exist: nothing was created"}
        if method in ("post", "put"):
            operation["requestBody"] = {"required": True, "content": {FHIR_JSON: {}}}
            _set_schema(operation["requestBody"]["content"], resource)
        _answer(operation, resource)


def _answer(operation: Json, schema: str) -> None:
    for status, response in operation["responses"].items():
        if status.startswith("2") and status != "204":
            response["content"] = {FHIR_JSON: {}}
            _set_schema(response["content"], schema)


def _set_schema(content: Json, schema: str) -> None:
    """Every media type of a body gets the schema; any example stays."""
    for media_type in content.values():
        media_type["schema"] = {"$ref": SCHEMAS + schema}


def _type_errors(operation: Json) -> None:
    """A 4xx without a schema of its own (the token endpoint's OAuth errors have one) is an OperationOutcome."""
    for status, response in operation["responses"].items():
        schemas = [media_type.get("schema", {}) for media_type in response.get("content", {}).values()]
        if status.startswith("4") and all(schema in UNTYPED_ERROR_SCHEMAS for schema in schemas):
            response["content"] = {FHIR_JSON: {"schema": {"$ref": SCHEMAS + "OperationOutcome"}}}
            if response.get("description") == "Validation Error":
                response["description"] = "Invalid request (OperationOutcome)"


def search_parameters(definition: ResourceDefinition, registry: Registry) -> list[Json]:
    """The type's search parameters, then the result parameters that page, sort, count and include."""
    declared = [_search_parameter(parameter) for parameter in definition.parameters_by_name.values()]
    return declared + [parameter for make in RESULT_PARAMETER_DOCS.values() for parameter in make(definition, registry)]


def _search_parameter(parameter: SearchParameter) -> Json:
    modifiers = MODIFIERS.get(parameter.type, ())
    description = (
        f"{parameter.description}. FHIR {parameter.type} search parameter: {SEARCH_NOTES[parameter.type]}. "
        "Comma-separated values match any of them"
    )
    if parameter.targets:
        description += f". Refers to {' or '.join(parameter.targets)}"
    if modifiers:
        description += f". Also as {', '.join(f'`{parameter.name}:{modifier}`' for modifier in modifiers)}"
    example = example_value(parameter)
    repeatable = parameter.type is SearchType.DATE
    return {
        "name": parameter.name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "array", "items": {"type": "string"}} if repeatable else {"type": "string"},
        **({"explode": True} if repeatable else {}),
        "example": [example] if repeatable else example,
        "x-fhir-search-type": parameter.type.value,
    }


def example_value(parameter: SearchParameter) -> str:
    if parameter.example is not None:
        return parameter.example
    if parameter.type is SearchType.DATE:
        return "ge2020-01-01"
    if parameter.type is SearchType.REFERENCE and parameter.targets:
        return f"{parameter.targets[0]}/{EXAMPLE_ID}"
    raise ValueError(f"Search parameter {parameter.name} needs an example for the API documentation")


def _query(name: str, description: str, schema: Json, example: Any) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "example": example,
    }


COUNT = _query("_count", "Entries per page, up to the server's maximum", {"type": "integer", "minimum": 0}, 20)
OFFSET = _query("_offset", "Entries to skip; the paging links carry it", {"type": "integer", "minimum": 0}, 0)


def _sort(definition: ResourceDefinition, registry: Registry) -> list[Json]:
    sortable = [p.name for p in definition.parameters_by_name.values() if p.type is not SearchType.REFERENCE]
    return [
        _query(
            "_sort",
            f"Comma-separated keys, `-` first for descending: {', '.join(sortable)}. "
            f"Default: {','.join(definition.default_sort)}",
            {"type": "string"},
            "-_lastUpdated",
        )
    ]


def _total(definition: ResourceDefinition, registry: Registry) -> list[Json]:
    return [
        _query(
            "_total",
            "`none` leaves Bundle.total out and skips counting the matches: faster on a large register",
            {"type": "string", "enum": ["none", "estimate", "accurate"]},
            "none",
        )
    ]


def _includes(definition: ResourceDefinition, registry: Registry, *, reverse: bool) -> list[Json]:
    if reverse:
        name, what = "_revinclude", f"resources that refer to the matched {definition.type}"
        values = [
            f"{source.type}:{parameter.name}"
            for source in registry
            for parameter in source.search_parameters
            if parameter.type is SearchType.REFERENCE and definition.type in parameter.targets
        ]
    else:
        name, what = "_include", "resources the matches refer to"
        values = [f"{definition.type}:{p.name}" for p in definition.search_parameters if p.type is SearchType.REFERENCE]
    if not values:
        return []
    schema = {"type": "array", "items": {"type": "string", "enum": values}}
    return [{**_query(name, f"Add the {what} (search mode `include`)", schema, values[:1]), "explode": True}]


def _format(definition: ResourceDefinition, registry: Registry) -> list[Json]:
    return [_query("_format", "FHIR JSON is the only format", {"type": "string", "enum": list(FORMAT_VALUES)}, "json")]


# How each result parameter of fhir/search.py (RESULT_PARAMETERS) is declared; tests/test_openapi.py checks that
# none is missing.
RESULT_PARAMETER_DOCS: dict[str, Callable[[ResourceDefinition, Registry], list[Json]]] = {
    "_count": lambda definition, registry: [COUNT],
    "_offset": lambda definition, registry: [OFFSET],
    "_sort": _sort,
    "_total": _total,
    "_include": lambda definition, registry: _includes(definition, registry, reverse=False),
    "_revinclude": lambda definition, registry: _includes(definition, registry, reverse=True),
    "_format": _format,
    "_summary": lambda definition, registry: [
        _query(
            "_summary",
            "`count` answers only Bundle.total, without entries",
            {"type": "string", "enum": ["count", "false"]},
            "count",
        )
    ],
}
