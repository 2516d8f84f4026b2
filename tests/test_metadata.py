"""The CapabilityStatement lists exactly the registered types and operations, and everything it lists works."""

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from factories import outcome
from ilp_api.fhir.providers import OperationLevel, providers
from ilp_api.fhir.registry import SearchType, registry
from ilp_api.security.auth import SecurityState
from ilp_api.settings import Settings
from ilp_api.wiring import load_definitions

load_definitions()
REGISTERED = sorted(definition.type for definition in registry)
READ_ONLY = sorted(definition.type for definition in providers.types())
# A syntactically valid value per search parameter type, to show the parameter is accepted.
SAMPLE = {"token": "x", "string": "x", "date": "ge2000-01-01", "uri": "http://x", "number": "1"}
RESULT_SAMPLES = {"_count": "1", "_offset": "0", "_total": "none", "_summary": "count"}


@pytest.fixture
def statement(client: TestClient) -> dict[str, Any]:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _resources(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {resource["type"]: resource for resource in statement["rest"][0]["resource"]}


def test_lists_exactly_the_registered_stored_and_read_only_types(statement: dict[str, Any]) -> None:
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert sorted(_resources(statement)) == sorted([*REGISTERED, *READ_ONLY])


def _fhir_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route under /fhir/, as the app's OpenAPI document lists them, ids as {}."""
    return {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/fhir/")
        for method in operations
    }


def _operation_path(level: str, resource_type: str, name: str) -> str:
    return {"system": f"/fhir/${name}", "type": f"/fhir/{resource_type}/${name}"}.get(
        level, f"/fhir/{resource_type}/{{}}/${name}"
    )


def test_every_entry_is_a_registry_entry_with_a_route_and_every_route_is_listed(
    app: FastAPI, statement: dict[str, Any], settings: Settings
) -> None:
    routes = _fhir_routes(app)
    listed_types = set(_resources(statement))
    listed_operations = {
        (resource["type"], operation["name"], operation["definition"])
        for resource in _resources(statement).values()
        for operation in resource.get("operation", [])
    } | {("", operation["name"], operation["definition"]) for operation in statement["rest"][0].get("operation", [])}
    registered_operations = {
        (
            "" if o.level is OperationLevel.SYSTEM else o.resource_type,
            o.name,
            o.canonical(settings.canonical_base),
        )
        for o in providers.operations()
    }
    operation_routes = {path for _, path in routes if "$" in path}
    served_types = {path.split("/")[2] for _, path in routes if not path.split("/")[2].startswith("$")} - {"metadata"}

    assert listed_types == set(REGISTERED) | set(READ_ONLY)
    assert listed_operations == registered_operations
    assert operation_routes == {_operation_path(o.level, o.resource_type, o.name) for o in providers.operations()}
    assert served_types == listed_types


def test_registered_search_parameters_are_all_listed(statement: dict[str, Any]) -> None:
    resources = _resources(statement)
    for definition in registry:
        listed = {p["name"] for p in resources[definition.type]["searchParam"]}
        assert set(definition.parameters_by_name) <= listed, definition.type


def _sample(resource_type: str, resource: dict[str, Any], name: str, kind: str) -> str:
    if name == "_sort":  # the first parameter the type sorts by
        listed = resource["searchParam"]
        return next(p["name"] for p in listed if p["type"] not in ("reference", "number") and p["name"] != "_sort")
    if name in RESULT_SAMPLES:
        return RESULT_SAMPLES[name]
    if name == "wilayah":  # hierarchical: only whole levels are valid values
        return "3374"
    if kind == "reference":
        definition = registry.get(resource_type)
        target = definition.parameters_by_name[name].targets[0] if definition else "Patient"
        return f"{target}/x"
    return SAMPLE[kind]


# One type per test: each test's client starts with a fresh rate limit, which all the types' searches would pass.
@pytest.mark.parametrize("resource_type", [*REGISTERED, *READ_ONLY])
def test_every_listed_search_parameter_is_accepted(
    client: TestClient, statement: dict[str, Any], resource_type: str
) -> None:
    resource = _resources(statement)[resource_type]
    for parameter in resource["searchParam"]:
        value = _sample(resource_type, resource, parameter["name"], parameter["type"])
        query = f"{parameter['name']}={value}"
        response = client.get(f"/fhir/{resource_type}?{query}")
        assert response.status_code == 200, f"{resource_type}?{query}: {response.text}"
        assert response.json()["type"] == "searchset"


def test_listed_search_parameter_types_match_the_registry(statement: dict[str, Any]) -> None:
    resources = _resources(statement)
    for definition in registry:
        listed = {p["name"]: p["type"] for p in resources[definition.type]["searchParam"]}
        for name, parameter in definition.parameters_by_name.items():
            assert listed[name] == parameter.type.value, f"{definition.type}.{name}"


@pytest.mark.parametrize("resource_type", [*REGISTERED, *READ_ONLY])
def test_every_listed_include_and_revinclude_is_accepted(
    client: TestClient, statement: dict[str, Any], resource_type: str
) -> None:
    resource = _resources(statement)[resource_type]
    for include in resource.get("searchInclude", []):
        assert client.get(f"/fhir/{resource_type}?_include={include}").status_code == 200, include
    for revinclude in resource.get("searchRevInclude", []):
        assert client.get(f"/fhir/{resource_type}?_revinclude={revinclude}").status_code == 200, revinclude


def test_every_reference_parameter_is_offered_as_include(statement: dict[str, Any]) -> None:
    resources = _resources(statement)
    for definition in registry:
        references = {p.name for p in definition.parameters_by_name.values() if p.type is SearchType.REFERENCE}
        offered = {include.split(":")[1] for include in resources[definition.type].get("searchInclude", [])}
        assert offered == references, definition.type


# Each interaction, tried on an id that does not exist: a listed interaction answers from its handler (404
# "not known", 400 for a missing body), never with "no route" or 405.
PROBES = {
    "read": ("GET", "/fhir/{type}/no-such-id", 404),
    "vread": ("GET", "/fhir/{type}/no-such-id/_history/1", 404),
    "history-instance": ("GET", "/fhir/{type}/no-such-id/_history", 404),
    "update": ("PUT", "/fhir/{type}/no-such-id", 400),
    "patch": ("PATCH", "/fhir/{type}/no-such-id", 404),
    "delete": ("DELETE", "/fhir/{type}/no-such-id", 404),
    "create": ("POST", "/fhir/{type}", 400),
    "search-type": ("GET", "/fhir/{type}", 200),
}


def test_every_listed_interaction_is_served(client: TestClient, app: FastAPI, statement: dict[str, Any]) -> None:
    for resource_type, resource in _resources(statement).items():
        # Every type's probes together are more than a client's burst: each type starts with fresh rate limits.
        app.state.security = SecurityState.from_settings(app.state.settings)
        listed = [interaction["code"] for interaction in resource["interaction"]]
        assert listed, resource_type
        for code in listed:
            method, path, status = PROBES[code]
            response = client.request(
                method,
                path.format(type=resource_type),
                content=b"",
                headers={"Content-Type": "application/json-patch+json" if code == "patch" else "application/fhir+json"},
            )
            assert response.status_code == status, f"{code} {resource_type}: {response.text}"
            if status != 200:
                assert not outcome(response, status)["issue"][0]["diagnostics"].startswith("No route")
        for code in sorted(set(PROBES) - set(listed)):
            method, path, _ = PROBES[code]
            response = client.request(method, path.format(type=resource_type))
            assert response.status_code in (404, 405), f"{code} {resource_type} is not listed but answers"
            assert response.status_code == 405 or outcome(response, 404)["issue"][0]["diagnostics"].startswith(
                "No route"
            )


def test_metadata_says_where_to_get_a_token(statement: dict[str, Any], anonymous_client: Any) -> None:
    security = statement["rest"][0]["security"]
    uris = security["extension"][0]
    token_url = next(e["valueUri"] for e in uris["extension"] if e["url"] == "token")

    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert token_url == "http://testserver/oauth2/token"
    assert anonymous_client.post(token_url.removeprefix("http://testserver"), data={}).status_code == 400
