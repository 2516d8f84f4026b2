"""The committed OpenAPI document (openapi/openapi.json) is the one the code generates, and it is typed."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ilp_api.api.openapi import RESULT_PARAMETER_DOCS, SCHEMAS
from ilp_api.fhir import FHIR_JSON
from ilp_api.fhir.registry import registry
from ilp_api.fhir.search import RESULT_PARAMETERS
from ilp_api.openapi_document import openapi_document


def test_committed_openapi_document_is_current(repository_root: Path) -> None:
    committed_file = repository_root / "openapi" / "openapi.json"
    assert committed_file.exists(), "openapi/openapi.json is missing: run `ilp openapi` and commit the result"
    committed = json.loads(committed_file.read_text(encoding="utf-8"))
    generated = json.loads(json.dumps(openapi_document()))

    assert committed == generated, "openapi/openapi.json is stale: run `ilp openapi` and commit the result"


def test_openapi_document_describes_the_fhir_api() -> None:
    document = openapi_document()

    assert "/fhir/Patient" in document["paths"]
    assert "/fhir/Patient/{resource_id}/_history/{version_id}" in document["paths"]
    assert "Patient" in document["components"]["schemas"]


def _fhir_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        if path.startswith("/fhir"):
            for method, operation in methods.items():
                yield path, method, operation


def _schema_of(response: dict[str, Any]) -> dict[str, Any]:
    (media_type,) = response["content"].values()
    return media_type["schema"]  # type: ignore[no-any-return]


def test_every_fhir_answer_is_typed() -> None:
    document = openapi_document()

    for path, method, operation in _fhir_operations(document):
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response, (method, path)
                continue
            schema = _schema_of(response)
            reference = schema.get("$ref", "")
            assert reference.startswith(SCHEMAS), (method, path, status, schema)
            assert reference.removeprefix(SCHEMAS) in document["components"]["schemas"]
            if status.startswith("4"):
                assert reference == SCHEMAS + "OperationOutcome", (method, path, status)


def test_every_interaction_of_a_registered_type_uses_its_model() -> None:
    document = openapi_document()
    paths = document["paths"]

    for definition in registry:
        model = SCHEMAS + definition.model.__name__
        base, instance = f"/fhir/{definition.type}", f"/fhir/{definition.type}/{{resource_id}}"
        for method, path in (("post", base), ("put", instance)):
            assert paths[path][method]["requestBody"]["content"][FHIR_JSON]["schema"] == {"$ref": model}
        assert _schema_of(paths[base]["post"]["responses"]["201"]) == {"$ref": model}
        assert _schema_of(paths[instance]["get"]["responses"]["200"]) == {"$ref": model}
        assert _schema_of(paths[base]["get"]["responses"]["200"]) == {"$ref": SCHEMAS + "Bundle"}
        assert _schema_of(paths[f"{instance}/_history"]["get"]["responses"]["200"]) == {"$ref": SCHEMAS + "Bundle"}
        schema = document["components"]["schemas"][definition.model.__name__]
        assert schema["properties"]["resourceType"]["const"] == definition.type
        entry_resources = document["components"]["schemas"]["BundleEntry"]["properties"]["resource"]["anyOf"]
        assert {"$ref": model} in entry_resources


def _search_parameters(document: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    parameters = document["paths"][f"/fhir/{resource_type}"]["get"]["parameters"]
    return {parameter["name"]: parameter for parameter in parameters if parameter["in"] == "query"}


def test_every_search_parameter_is_declared_with_its_type_and_an_example() -> None:
    document = openapi_document()

    for definition in registry:
        declared = _search_parameters(document, definition.type)
        for name, parameter in definition.parameters_by_name.items():
            assert declared[name]["x-fhir-search-type"] == parameter.type.value, (definition.type, name)
            assert declared[name]["example"], (definition.type, name)
            assert parameter.description in declared[name]["description"]
        assert {"_count", "_offset", "_sort", "_total"} <= set(declared)
        assert set(declared) - set(definition.parameters_by_name) <= RESULT_PARAMETERS
        assert declared["_count"]["schema"] == {"type": "integer", "minimum": 0}


def test_includes_are_declared_with_the_values_they_take() -> None:
    patient = _search_parameters(openapi_document(), "Patient")
    organization = _search_parameters(openapi_document(), "Organization")

    assert patient["_include"]["schema"]["items"]["enum"] == ["Patient:organization", "Patient:general-practitioner"]
    assert "Patient:organization" in organization["_revinclude"]["schema"]["items"]["enum"]
    assert "Organization:partof" in organization["_include"]["schema"]["items"]["enum"]


def test_every_result_parameter_of_the_search_is_documented() -> None:
    assert set(RESULT_PARAMETER_DOCS) == RESULT_PARAMETERS
