"""Write tests/malformed/corpus.jsonl: malformed requests for every operation of the app's OpenAPI document.

    python tests/malformed/generate_corpus.py

Deterministic (no randomness, operations in document order), so the committed file changes only when the API or
this script does; tests/malformed/test_corpus.py checks that the committed file is what this script writes.

Each operation gets the mutation families that fit its shape (bad ids, bad and repeated query parameters, wrong
content types, bad JSON, wrong JSON types, nulls, control characters, overlong strings, deep nesting, bad
headers, bodies over the size limit …), derived from the OpenAPI document and the FHIR registry's search
parameters; then come the hand-written reproducers of issue 7.

Every stored type's routes share one generic code path (headers, JSON parsing, patch documents, ids, versions,
paging, form bodies, the size limit), so those families run in full on one representative type and by their
first case on every other type's routes. The families that depend on the type (its elements' JSON types, its
index columns, its search parameters' dates and references, a patch result validated by its model) run in full
for every type. So each new type costs tens of cases, not hundreds. A case is one JSON object per line:

    id          unique, "<operation slug>/<family>/<detail>"
    operation   "METHOD /openapi/path/{template}": the operation it covers
    family      the mutation family
    auth        "admin" (an ilp/admin token), "scoped" / "scoped-rs" (system/*.cruds / system/*.rs bound to
                the seeded posyandu) or "none"
    method, path   path percent-encoded as sent
    query       optional [[name, value], …], encoded at test time (repeats allowed)
    headers     optional {name: value}
    body        optional: {"json": value, "expand": {marker: spec}, "pad_to": bytes} | {"text": str}
                | {"base64": str} | {"form": [[name, value], …]}
    expect      "reject" (a 4xx OperationOutcome, or OAuth error JSON at the token endpoint) or "answered"
                (anything but a 5xx: input an endpoint ignores by design, such as query parameters of a probe)
    entries     optional, for batches answered 200: the status class each entry must answer ("2xx", "4xx")

``${name}`` anywhere in a case is replaced at test time by the seeded dataset (``${Patient}``: the id of a
seeded Patient, ``${posyandu}``, ``${client_id}`` …; see conftest.py). Large payloads are generator specs
expanded at test time, so this file stays small: in a JSON body, the string ``"$marker"`` is replaced by
``{"string": {"length": n}}`` (n × "a"), ``{"array": {"item": value, "count": n}}`` or
``{"nested": {"depth": n, "kind": "array" | "object" | "extension"}}``; ``pad_to`` pads the JSON text with
spaces to that many bytes.
"""

import base64
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # run as a script: make tests/factories.py importable
    sys.path.insert(0, str(TESTS))

from factories import (  # noqa: E402
    FHIR_JSON,
    KECAMATAN,
    KELURAHAN,
    NIK_SYSTEM,
    condition_json,
    coverage_json,
    eligibility_request_json,
    eligibility_response_json,
    encounter_json,
    episode_of_care_json,
    immunization_json,
    location_json,
    nik,
    observation_json,
    organization_json,
    patient_json,
    practitioner_json,
    practitioner_role_json,
    provenance_json,
    questionnaire_response_json,
    service_request_json,
    task_json,
)
from ilp_api.fhir.registry import SearchType, registry  # noqa: E402
from ilp_api.openapi_document import openapi_document  # noqa: E402
from ilp_api.resources import load_resources  # noqa: E402

CORPUS = Path(__file__).with_name("corpus.jsonl")
TOKEN_PATH = "/oauth2/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
NUL = "\u0000"
OVER_INDEX = 300  # index columns (identifier system/value, telecom, tag codes) are 255 characters
UNKNOWN_ID = "malformed-corpus-unknown-id"
OVERSIZED_BODY = 32 * 1024 * 1024  # over any sensible request body limit
PURPOSE_OVER_COLUMN = "TREAT" * 13  # 65 characters: the audit trail's purpose column holds 64
MIN_CASES_PER_OPERATION = 5
REPRESENTATIVE_TYPE = "Patient"  # the stored type whose routes get every variant of the generic families
TYPE_DEPENDENT_FAMILIES = {"wrong-type", "overlong", "bad-date", "bad-reference", "invalid-result"}
NOT_STORED_TYPE = "Bundle"  # a valid resource type that no stored resource has: a body or patch of the wrong type

# Path parameter values that are no id: percent-encoded as sent.
BAD_IDS = {
    "nul": "%00",
    "control-char": "ab%01cd",
    "over-64-chars": "a" * 65,
    "2000-chars": "a" * 2000,
    "invalid-utf8": "%FF%FE",
}
BAD_VERSIONS = {
    "int32-overflow": "2147483648",
    "int64-overflow": "99999999999999999999",
    "negative": "-1",
    "not-a-number": "abc",
    "decimal": "1.5",
    "nul": "%00",
}
BAD_DATES = {"impossible-day": "2023-02-30", "year-zero": "0000", "month-13": "2023-13-01"}

Case = dict[str, Any]


class Operation:
    """One path + method of the OpenAPI document, with what the generator needs to know about it."""

    def __init__(self, document: dict[str, Any], path: str, method: str, spec: dict[str, Any]) -> None:
        self.document = document
        self.path = path
        self.method = method.upper()
        self.spec = spec
        self.label = f"{self.method} {path}"
        self.slug = (self.method + path).lower().replace("/", "-").replace("{", "").replace("}", "").strip("-")
        self.secured = bool(spec.get("security"))
        self.parameters = {p["name"]: p for p in spec.get("parameters", [])}
        content = spec.get("requestBody", {}).get("content", {})
        self.media_type = next(iter(content), None)
        self.body_schema = resolve(document, content[self.media_type].get("schema", {})) if content else None
        examples = content[self.media_type].get("examples", {}) if content else {}
        self.example = next(iter(examples.values()))["value"] if examples else None
        match = re.fullmatch(r"/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<rest>/.*)?", path)
        self.fhir_type = match["type"] if match else None
        self.fhir_rest = (match["rest"] or "") if match else None

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    def concrete_path(self, **values: str) -> str:
        """The path with each parameter replaced by ``values`` (already percent-encoded) or a seeded id."""
        path = self.path
        for name in self.path_parameters:
            path = path.replace("{" + name + "}", values.get(name, self._existing(name)))
        return path

    def _existing(self, name: str) -> str:
        if name == "version_id":
            return "1"
        if name == "client_id":
            return "${throwaway_client}"
        if name == "code_system_id":
            return "jenis-fasilitas"
        return "${" + (self.fhir_type or name) + "}"


def bad_json(resource_type: str, valid: Callable[[], dict[str, Any]]) -> dict[str, str]:
    """Bodies that are no JSON object of ``resource_type``, by name."""
    return {
        "empty": "",
        "truncated": '{"resourceType": "' + resource_type + '", "name": [',
        "null": "null",
        "array": "[]",
        "string": '"' + resource_type + '"',
        "number": "42",
        "trailing-garbage": json.dumps(valid()) + " }",
        "nan": '{"resourceType": "' + resource_type + '", "active": NaN}',
        "single-quotes": "{'resourceType': '" + resource_type + "'}",
        "lone-surrogate": '{"resourceType": "' + resource_type + '", "language": "\\ud800"}',
    }


def is_public_probe(operation: "Operation") -> bool:
    """A public endpoint that takes no input at all (health probes, discovery, metadata)."""
    return not operation.secured and not operation.parameters and operation.media_type is None


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level deep is all the generator needs)."""
    reference = schema.get("$ref")
    if reference is None:
        return schema
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return target  # type: ignore[no-any-return]


def value_type(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of an ``anyOf [X, null]`` property schema, references resolved."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return resolve(document, options[0]) if options else {}


def allows_null(schema: dict[str, Any]) -> bool:
    return any(option.get("type") == "null" for option in schema.get("anyOf", []))


class CorpusBuilder:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.cases: list[Case] = []
        self.serial = 0  # each created Patient gets its own NIK, so one wrongly accepted cannot mask another

    def add(self, operation: Operation, family: str, detail: str, **request: Any) -> None:
        case: Case = {
            "id": f"{operation.slug}/{family}/{detail}",
            "operation": operation.label,
            "family": family,
            "auth": request.pop("auth", "admin" if operation.secured else "none"),
            "method": request.pop("method", operation.method),
            "path": request.pop("path", None) or operation.concrete_path(),
        }
        for key in ("query", "headers", "body", "expect", "entries"):
            if key in request:
                case[key] = request.pop(key)
        assert not request, f"unknown case fields {sorted(request)}"
        self.cases.append(case)

    # ---- what every operation gets ----

    def generic(self, operation: Operation) -> None:
        for name, value in BAD_IDS.items() if operation.path_parameters else ():
            parameter = operation.path_parameters[0]
            self.add(
                operation,
                "bad-id",
                name,
                path=operation.concrete_path(**{parameter: value}),
                **self._body_of(operation),
            )
        if operation.media_type is not None or is_public_probe(operation):
            self.add(
                operation,
                "oversized-body",
                "32mb",
                headers={"Content-Type": operation.media_type or "application/json"},
                body={"json": {"padding": True}, "pad_to": OVERSIZED_BODY},
            )

    def _body_of(self, operation: Operation) -> dict[str, Any]:
        """A valid body for operations that need one, so a bad id is what the request gets wrong."""
        if operation.fhir_type and operation.media_type and operation.method == "PUT":
            return {"headers": FHIR_JSON, "body": {"json": self.base_resource(operation.fhir_type, with_id=True)}}
        return {}

    # ---- FHIR ----

    def base_resource(self, resource_type: str, with_id: bool = False) -> dict[str, Any]:
        """A valid resource of the type (placeholders for the seeded ids), or a bare one for unknown types."""
        self.serial += 1
        builders: dict[str, Callable[[], dict[str, Any]]] = {
            "Patient": lambda: patient_json(
                nik(serial=self.serial), wilayah=KELURAHAN, rw="001", organization="${posyandu}"
            ),
            "Organization": lambda: organization_json(
                "posyandu", name=f"Posyandu Corpus {self.serial}", wilayah=KELURAHAN, part_of="${pustu}", rws=("003",)
            ),
            "Location": lambda: location_json(f"Gedung Corpus {self.serial}", organization="${puskesmas}"),
            "Practitioner": lambda: practitioner_json(nik(serial=self.serial, sex="female", kecamatan=KECAMATAN)),
            "PractitionerRole": lambda: practitioner_role_json("${Practitioner}", "${puskesmas}"),
            "Encounter": lambda: encounter_json("${Patient}", "${posyandu}"),
            "Observation": lambda: observation_json("${Patient}", effectiveDateTime="2026-11-03"),
            "EpisodeOfCare": lambda: episode_of_care_json("${Patient}", "${puskesmas}"),
            "Condition": lambda: condition_json("${Patient}", encounter={"reference": "Encounter/${Encounter}"}),
            "ServiceRequest": lambda: service_request_json(
                "${Patient}", requester="${posyandu}", performer="${puskesmas}"
            ),
            "Task": lambda: task_json("${Patient}", requester="${posyandu}", owner="${puskesmas}"),
            "Provenance": lambda: provenance_json("Task/${Task}", "${puskesmas}"),
            "QuestionnaireResponse": lambda: questionnaire_response_json("${Patient}"),
            "Immunization": lambda: immunization_json("${Patient}", encounter={"reference": "Encounter/${Encounter}"}),
            "Coverage": lambda: coverage_json("${Patient}", "${penjamin}"),
            "CoverageEligibilityRequest": lambda: eligibility_request_json("${Patient}", "${penjamin}"),
            "CoverageEligibilityResponse": lambda: eligibility_response_json(
                "${Patient}", "${CoverageEligibilityRequest}", "${penjamin}"
            ),
        }
        resource = builders.get(resource_type, lambda: {"resourceType": resource_type})()
        if with_id:
            resource = {"resourceType": resource_type, "id": "${" + resource_type + "}", **resource}
        return resource

    def fhir_common(self, operation: Operation) -> None:
        """Headers every FHIR interaction checks."""
        body = self._body_of(operation)
        if operation.method == "DELETE":  # never aim a header case at a seeded resource: a miss would delete it
            body = {"path": operation.concrete_path(resource_id=UNKNOWN_ID)}
        headers = body.pop("headers", {})
        self.add(operation, "bad-header", "accept-xml", headers={**headers, "Accept": "application/fhir+xml"}, **body)
        if operation.method == "GET":
            self.add(operation, "bad-query", "format-xml", query=[["_format", "xml"]], headers=headers, **body)
        if not operation.secured:
            return
        self.add(
            operation,
            "bad-header",
            "purpose-over-64-chars",
            headers={**headers, "X-Purpose-Of-Use": PURPOSE_OVER_COLUMN},
            **body,
        )
        if not operation.path_parameters:
            self.add(
                operation, "bad-header", "purpose-lowercase", headers={**headers, "X-Purpose-Of-Use": "treat"}, **body
            )

    def fhir_search(self, operation: Operation) -> None:
        definition = registry.get(operation.fhir_type or "")
        add = self.add
        add(operation, "bad-query", "unknown-parameter", query=[["no-such-parameter", "1"]])
        add(operation, "bad-query", "unknown-parameter-nul", query=[["no-such" + NUL, "1"]])
        for name, value in {"count-text": "abc", "count-negative": "-1", "count-exponent": "1e3"}.items():
            add(operation, "bad-paging", name, query=[["_count", value]])
        add(operation, "bad-paging", "offset-negative", query=[["_offset", "-5"]])
        # A server may answer fewer than _count asked for: a huge one must only not fail.
        for name in ("_count", "_offset"):
            add(operation, "bad-paging", f"{name[1:]}-int64-overflow", query=[[name, "9" * 20]], expect="answered")
        add(operation, "bad-query", "duplicated-count", query=[["_count", "1"], ["_count", "abc"]])
        if definition is None:  # CodeSystem, AuditEvent, types unknown here: the generic families only
            return
        add(operation, "bad-query", "nul-in-id", query=[["_id", "a" + NUL]])
        for name, value in BAD_DATES.items():
            add(operation, "bad-lastupdated", name, query=[["_lastUpdated", value]])
        add(operation, "bad-lastupdated", "bad-prefix", query=[["_lastUpdated", "xx2020-01-01"]])
        add(operation, "bad-lastupdated", "hour-25", query=[["_lastUpdated", "2020-01-01T25:00:00Z"]])
        add(operation, "bad-sort", "unknown-key", query=[["_sort", "no-such-key"]])
        add(operation, "bad-sort", "only-minus", query=[["_sort", "-"]])
        sortable = [p.name for p in definition.parameters_by_name.values() if p.type is not SearchType.REFERENCE]
        keys = [("-" if i % 2 else "") + sortable[i % len(sortable)] for i in range(150)]
        add(operation, "too-many", "sort-150-keys", query=[["_sort", ",".join(keys)]])
        add(operation, "bad-include", "unknown-type", query=[["_include", "NoSuchType:nothing"]])
        add(operation, "bad-include", "nul", query=[["_include", definition.type + ":" + NUL]])
        add(operation, "bad-include", "revinclude-garbage", query=[["_revinclude", "::::"]])
        add(
            operation,
            "bad-query",
            "lenient-still-checks-values",
            query=[["_lastUpdated", "2023-02-30"]],
            headers={"Prefer": "handling=lenient"},
        )
        add(operation, "bad-query", "nul-in-tag", query=[["_tag", "system|" + NUL]])
        # One code path per parameter type: a few parameters of each stand for the rest.
        for parameter in definition.search_parameters[:2]:
            add(operation, "bad-modifier", parameter.name, query=[[f"{parameter.name}:no-such-modifier", "x"]])
        plain = [p for p in definition.search_parameters if p.type in (SearchType.TOKEN, SearchType.STRING)]
        for parameter in definition.search_parameters:
            name = parameter.name
            if parameter.type is SearchType.DATE:
                for detail, value in BAD_DATES.items():
                    add(operation, "bad-date", f"{name}-{detail}", query=[[name, value]])
                add(operation, "bad-date", f"{name}-bad-prefix", query=[[name, "xx2000"]])
            elif parameter.type is SearchType.REFERENCE:
                add(operation, "bad-reference", f"{name}-nul", query=[[name, "Organization/" + NUL]])
                add(operation, "bad-reference", f"{name}-too-many-segments", query=[[name, "a/b/c/d"]])
            elif parameter in plain[:3]:
                add(operation, "control-char", f"{name}-nul", query=[[name, "a" + NUL + "b"]])
        first_token = next((p.name for p in definition.search_parameters if p.type is SearchType.TOKEN), None)
        if first_token:
            add(operation, "too-many", f"{first_token}-repeated-200-times", query=[[first_token, "x"]] * 200)

    def fhir_create(self, operation: Operation) -> None:
        assert operation.fhir_type is not None
        self.fhir_body_families(operation)
        resource_type = operation.fhir_type
        for name, value in BAD_DATES.items():
            self.add(
                operation,
                "bad-if-none-exist",
                f"lastupdated-{name}",
                headers={**FHIR_JSON, "If-None-Exist": f"_lastUpdated={value}"},
                body={"json": self.base_resource(resource_type)},
            )
        for detail, criteria in {"unknown-parameter": "no-such-parameter=1", "nul": "identifier=" + quote(NUL)}.items():
            self.add(
                operation,
                "bad-if-none-exist",
                detail,
                headers={**FHIR_JSON, "If-None-Exist": criteria},
                body={"json": self.base_resource(resource_type)},
            )

    def fhir_update(self, operation: Operation) -> None:
        assert operation.fhir_type is not None
        self.fhir_update_body_families(operation)
        resource_type = operation.fhir_type
        other = dict(self.base_resource(resource_type, with_id=True), id="some-other-id")
        self.add(operation, "bad-id", "body-id-differs", headers=FHIR_JSON, body={"json": other})
        without_id = self.base_resource(resource_type)
        self.add(operation, "bad-id", "body-without-id", headers=FHIR_JSON, body={"json": without_id})
        for detail, value in {
            "8000-digits": 'W/"' + "9" * 8000 + '"',
            "8000-digits-bare": "9" * 8000,
            "not-a-version": 'W/"abc"',
            "negative": 'W/"-1"',
            "int32-overflow": 'W/"2147483648"',
            "stale": 'W/"999"',
        }.items():
            self.add(
                operation,
                "bad-if-match",
                detail,
                headers={**FHIR_JSON, "If-Match": value},
                body={"json": self.base_resource(resource_type, with_id=True)},
            )

    def fhir_update_body_families(self, operation: Operation) -> None:
        """What an update shares with create (one body parser and validator) only sampled: the same families."""
        assert operation.fhir_type is not None
        resource_type = operation.fhir_type
        add = self.add

        def valid() -> dict[str, Any]:
            return self.base_resource(resource_type, with_id=True)

        add(
            operation,
            "content-type",
            "text-plain",
            headers={"Content-Type": "text/plain"},
            body={"text": json.dumps(valid())},
        )
        for detail in ("truncated", "null", "array"):
            add(operation, "bad-json", detail, headers=FHIR_JSON, body={"text": bad_json(resource_type, valid)[detail]})
        self.wrong_resource_type(operation, valid)
        for detail, element in {"active-string-true": {"active": "true"}, "active-number-1": {"active": 1}}.items():
            add(operation, "wrong-type", detail, headers=FHIR_JSON, body={"json": {**valid(), **element}})
        properties = resolve(self.document, operation.body_schema or {}).get("properties", {})
        if "identifier" in properties:
            long_identifier = [{"system": "http://example.org/id", "value": "x" * OVER_INDEX}]
            resource = valid()
            resource["identifier"] = resource.get("identifier", []) + long_identifier
            add(operation, "overlong", "identifier-value", headers=FHIR_JSON, body={"json": resource})
        add(
            operation,
            "deep-nesting",
            "extensions-200-levels",
            headers=FHIR_JSON,
            body={
                "json": {**valid(), "extension": "$nested"},
                "expand": {"$nested": {"nested": {"depth": 200, "kind": "extension"}}},
            },
        )

    def fhir_body_families(self, operation: Operation) -> None:
        """Wrong content, bad JSON, wrong JSON types, nulls, control characters, overlong strings, nesting."""
        assert operation.fhir_type is not None
        resource_type = operation.fhir_type
        add = self.add

        def valid() -> dict[str, Any]:
            return self.base_resource(resource_type)

        for detail, content_type in {
            "text-plain": "text/plain",
            "xml": "application/fhir+xml",
            "form": FORM["Content-Type"],
        }.items():
            add(
                operation,
                "content-type",
                detail,
                headers={"Content-Type": content_type},
                body={"text": json.dumps(valid())},
            )
        for detail, text in bad_json(resource_type, valid).items():
            add(operation, "bad-json", detail, headers=FHIR_JSON, body={"text": text})
        add(
            operation,
            "bad-json",
            "invalid-utf8",
            headers=FHIR_JSON,
            body={"base64": base64.b64encode(b'{"resourceType": "\xff\xfe"}').decode()},
        )
        self.wrong_resource_type(operation, valid)
        add(
            operation,
            "bad-resource",
            "resource-type-number",
            headers=FHIR_JSON,
            body={"json": {**valid(), "resourceType": 1}},
        )
        add(
            operation,
            "bad-resource",
            "unknown-element",
            headers=FHIR_JSON,
            body={"json": {**valid(), "noSuchElement": "x"}},
        )
        add(operation, "null-value", "active-null", headers=FHIR_JSON, body={"json": {**valid(), "active": None}})
        add(
            operation, "null-value", "null-in-array", headers=FHIR_JSON, body={"json": {**valid(), "extension": [None]}}
        )
        add(
            operation,
            "bad-lastupdated",
            "meta-impossible-day",
            headers=FHIR_JSON,
            body={"json": {**valid(), "meta": {"lastUpdated": "2023-02-30T00:00:00Z"}}},
        )
        schema = resolve(self.document, operation.body_schema or {})
        for name, property_schema in schema.get("properties", {}).items():
            if name in ("resourceType", "id", "meta"):
                continue
            for detail, value in self.wrong_values(property_schema):
                add(
                    operation,
                    "wrong-type",
                    f"{name}-{detail}",
                    headers=FHIR_JSON,
                    body={"json": {**valid(), name: value}},
                )
        for detail, element in {
            "name-nul": {"name": [{"family": "Sant" + NUL + "oso"}]},
            "name-escape": {"name": [{"family": "Santoso\u001b[2J"}]},
            "language-newline": {"language": "id\nen"},
        }.items():
            if detail.split("-")[0] in schema.get("properties", {}):
                add(operation, "control-char", detail, headers=FHIR_JSON, body={"json": {**valid(), **element}})
        self.overlong_strings(operation, schema, valid)
        marker_template = {**valid(), "extension": "$nested"}
        add(
            operation,
            "deep-nesting",
            "extensions-200-levels",
            headers=FHIR_JSON,
            body={"json": marker_template, "expand": {"$nested": {"nested": {"depth": 200, "kind": "extension"}}}},
        )
        for kind in ("array", "object"):
            add(
                operation,
                "deep-nesting",
                f"{kind}-1000-levels",
                headers=FHIR_JSON,
                body={
                    "json": {**valid(), "text": "$nested"},
                    "expand": {"$nested": {"nested": {"depth": 1000, "kind": kind}}},
                },
            )

    def wrong_resource_type(self, operation: Operation, valid: Callable[[], dict[str, Any]]) -> None:
        for detail, resource in {
            "no-resource-type": {k: v for k, v in valid().items() if k != "resourceType"},
            "other-resource-type": {**valid(), "resourceType": NOT_STORED_TYPE},
        }.items():
            self.add(operation, "bad-resource", detail, headers=FHIR_JSON, body={"json": resource})

    def wrong_values(self, schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """Values of the wrong JSON type for a property (FHIR JSON types are strict: no coercion)."""
        target = value_type(self.document, schema)
        kind = target.get("type")
        if kind == "boolean":
            yield "string-true", "true"
            yield "number-1", 1
        elif kind == "integer":
            yield "string-2", "2"
            yield "int32-overflow", 2147483648
            yield "decimal", 1.5
        elif kind == "string":
            yield "number", 5
            if "enum" in target:
                yield "unknown-code", "not-a-code"
            if "pattern" in target and r"\d{4}" in target["pattern"]:
                yield "impossible-date", "2023-02-30"
                yield "year-zero", "0000"
        elif kind == "array":
            yield "object-for-array", {}
        else:
            yield "string-for-object", "x"

    def overlong_strings(
        self, operation: Operation, schema: dict[str, Any], valid: Callable[[], dict[str, Any]]
    ) -> None:
        properties = schema.get("properties", {})
        long = "x" * OVER_INDEX
        elements: dict[str, dict[str, Any]] = {
            "meta-tag-code": {"meta": {"tag": [{"system": "http://example.org/tags", "code": long}]}},
            "meta-tag-system": {"meta": {"tag": [{"system": "http://example.org/" + long, "code": "x"}]}},
        }
        if "identifier" in properties:
            elements["identifier-value"] = {"identifier": [{"system": "http://example.org/id", "value": long}]}
            elements["identifier-system"] = {"identifier": [{"system": "http://example.org/" + long, "value": "1"}]}
        if "telecom" in properties:
            elements["telecom-value"] = {"telecom": [{"system": "phone", "value": "0" * OVER_INDEX}]}
        for detail, element in elements.items():
            resource = valid()
            if "identifier" in element and resource.get("identifier"):  # keep the NIK: only the long one is wrong
                element = {"identifier": resource["identifier"] + element["identifier"]}
            self.add(operation, "overlong", detail, headers=FHIR_JSON, body={"json": {**resource, **element}})

    def fhir_patch(self, operation: Operation) -> None:
        """Patch documents that are malformed (400), cannot apply (409, 422) or make the resource invalid (422)."""
        patch = {"Content-Type": "application/json-patch+json"}
        add = self.add

        def replace(path: str, value: Any) -> dict[str, Any]:
            return {"json": [{"op": "replace", "path": path, "value": value}]}

        for detail, content_type in {"text-plain": "text/plain", "fhirpath-patch": "application/fhir+json"}.items():
            add(operation, "content-type", detail, headers={"Content-Type": content_type}, body={"text": "[]"})
        for detail, text in {
            "truncated": '[{"op": "add", ',
            "null": "null",
            "string": '"patch"',
            "number": "4",
        }.items():
            add(operation, "bad-json", detail, headers=patch, body={"text": text})
        for detail, document in {
            "object-for-array": {"op": "remove", "path": "/active"},
            "operation-null": [None],
            "op-unknown": [{"op": "delete", "path": "/active"}],
            "op-missing": [{"path": "/active"}],
            "path-missing": [{"op": "remove"}],
            "path-without-slash": [{"op": "remove", "path": "active"}],
            "path-bad-escape": [{"op": "remove", "path": "/a~2b"}],
            "path-nul": [{"op": "remove", "path": "/act" + NUL + "ive"}],
            "value-missing": [{"op": "replace", "path": "/active"}],
            "copy-without-from": [{"op": "copy", "path": "/active"}],
        }.items():
            add(operation, "bad-patch", detail, headers=patch, body={"json": document})
        for detail, document in {
            "test-fails": [{"op": "test", "path": "/resourceType", "value": NOT_STORED_TYPE}],
            "remove-missing-element": [{"op": "remove", "path": "/no-such-element"}],
            "index-beyond-end": [{"op": "remove", "path": "/identifier/999"}],
            "index-int64-overflow": [{"op": "remove", "path": "/identifier/" + "9" * 20}],
            "change-id": replace("/id", "another-id")["json"],
            "change-resource-type": replace("/resourceType", NOT_STORED_TYPE)["json"],
            "remove-resource": [{"op": "remove", "path": ""}],
            "copies-doubling": [{"op": "copy", "from": "/identifier", "path": "/identifier/-"}] * 40,
        }.items():
            add(operation, "bad-patch", detail, headers=patch, body={"json": document})
        for detail, body in {
            "active-string": replace("/active", "true"),
            "unknown-element": {"json": [{"op": "add", "path": "/noSuchElement", "value": "x"}]},
            "nul-in-identifier": replace("/identifier/0/value", "33" + NUL),
            "overlong-tag": {
                "json": [
                    {"op": "add", "path": "/meta/tag", "value": [{"system": "http://e.org", "code": "x" * OVER_INDEX}]}
                ]
            },
            "deep-nesting": {
                "json": [{"op": "add", "path": "/extension", "value": "$nested"}],
                "expand": {"$nested": {"nested": {"depth": 200, "kind": "extension"}}},
            },
        }.items():
            add(operation, "invalid-result", detail, headers=patch, body=body)
        for detail, value in {
            "8000-digits": 'W/"' + "9" * 8000 + '"',
            "not-a-version": 'W/"abc"',
            "stale": 'W/"999"',
        }.items():
            add(operation, "bad-if-match", detail, headers={**patch, "If-Match": value}, body=replace("/active", True))
        add(
            operation,
            "unknown-id",
            "well-formed",
            path=operation.concrete_path(resource_id=UNKNOWN_ID),
            headers=patch,
            body=replace("/active", True),
        )

    def fhir_search_by_post(self, operation: Operation) -> None:
        """A search whose parameters come in a form body: the body checked as the URL's query is."""
        add = self.add
        add(operation, "content-type", "json", headers=JSON, body={"json": {"_id": "x"}})
        add(operation, "content-type", "text-plain", headers={"Content-Type": "text/plain"}, body={"text": "_id=x"})
        for detail, form in {
            "unknown-parameter": [["no-such-parameter", "1"]],
            "unknown-parameter-nul": [["no-such" + NUL, "1"]],
            "count-text": [["_count", "abc"]],
            "summary-unknown": [["_summary", "everything"]],
            "lastupdated-impossible-day": [["_lastUpdated", "2023-02-30"]],
            "nul-in-id": [["_id", "a" + NUL]],
            "sort-unknown-key": [["_sort", "no-such-key"]],
            "id-repeated-200-times": [["_id", "x"]] * 200,
        }.items():
            add(operation, "bad-form", detail, headers=FORM, body={"form": form})
        add(
            operation,
            "bad-form",
            "invalid-utf8-name",
            headers=FORM,
            body={"base64": base64.b64encode(b"\xff\xfe=1").decode()},
        )
        add(operation, "bad-form", "url-and-body-combined", query=[["_count", "abc"]], headers=FORM, body={"form": []})

    def fhir_instance(self, operation: Operation) -> None:
        """read, delete, history and vread: ids and versions that cannot be, and ones that do not exist."""
        parameter = operation.path_parameters[0]
        self.add(operation, "unknown-id", "well-formed", path=operation.concrete_path(**{parameter: UNKNOWN_ID}))
        if operation.path.endswith("/_history"):
            self.add(operation, "bad-paging", "count-text", query=[["_count", "abc"]])
            self.add(operation, "bad-paging", "offset-negative", query=[["_offset", "-1"]])
        if operation.path.endswith("{version_id}"):
            for detail, version in BAD_VERSIONS.items():
                self.add(operation, "bad-version", detail, path=operation.concrete_path(version_id=version))

    def fhir_operation(self, operation: Operation) -> None:
        """A FHIR operation taking a Parameters resource ($pindah-masuk): bodies and parameters it cannot take."""
        purpose = {**FHIR_JSON, "X-Purpose-Of-Use": "TREAT"}

        def parameters(*parameter: dict[str, Any]) -> dict[str, Any]:
            return {"resourceType": "Parameters", "parameter": list(parameter)}

        nik_of_nobody = {"name": "nik", "valueString": nik(serial=9999)}
        organization = {"name": "managingOrganization", "valueReference": {"reference": "Organization/${puskesmas}"}}
        for detail, body in {
            "not-parameters": {"json": {"resourceType": "Patient"}},
            "no-parameter": {"json": {"resourceType": "Parameters"}},
            "unknown-parameter": {"json": parameters(nik_of_nobody, organization, {"name": "x", "valueString": "y"})},
            "parameter-twice": {"json": parameters(nik_of_nobody, nik_of_nobody, organization)},
            "nik-malformed": {"json": parameters({"name": "nik", "valueString": "12"}, organization)},
            "nik-nul": {"json": parameters({"name": "nik", "valueString": "3374" + NUL}, organization)},
            "nik-of-nobody": {"json": parameters(nik_of_nobody, organization)},
            "organization-unknown": {
                "json": parameters(
                    nik_of_nobody, {"name": "managingOrganization", "valueReference": {"reference": "Organization/x"}}
                )
            },
            "bad-json": {"text": "{"},
        }.items():
            self.add(operation, "bad-parameters", detail, headers=purpose, body=body)
        valid = {"json": parameters(nik_of_nobody, organization)}
        self.add(operation, "bad-header", "no-purpose-of-use", headers=FHIR_JSON, body=valid)
        self.add(operation, "forbidden-scope", "posyandu-cruds", auth="scoped", headers=purpose, body=valid)

    def fhir_bundle(self, operation: Operation) -> None:
        self.fhir_common(operation)
        add = self.add

        def bundle(kind: str, *entries: Any, **elements: Any) -> dict[str, Any]:
            return {"resourceType": "Bundle", "type": kind, "entry": list(entries), **elements}

        def post(resource: dict[str, Any], **request: Any) -> dict[str, Any]:
            return {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"], **request}}

        read_patient = {"request": {"method": "GET", "url": "Patient/${Patient}"}}
        long_identifier = {"identifier": [{"system": "http://example.org/id", "value": "x" * OVER_INDEX}]}
        for kind in ("transaction", "batch"):
            for detail, entry in {"null": None, "number": 5, "string": "x", "object": {}}.items():
                add(
                    operation,
                    "bad-bundle",
                    f"{kind}-entry-{detail}",
                    headers=FHIR_JSON,
                    body={"json": {**bundle(kind), "entry": entry}},
                )
            for detail, entry in {"null": None, "number": 5, "empty-object": {}}.items():
                add(
                    operation,
                    "bad-bundle",
                    f"{kind}-entry-item-{detail}",
                    headers=FHIR_JSON,
                    body={"json": bundle(kind, entry)},
                )
            for detail, request in {
                "method-patch": {"method": "PATCH", "url": "Patient/${Patient}"},
                "method-null": {"method": None, "url": "Patient"},
                "url-empty": {"method": "GET", "url": ""},
                "url-nul": {"method": "GET", "url": "Patient/" + NUL},
                "url-nul-in-query": {"method": "GET", "url": "Patient?name=" + NUL},
                "url-unknown-type": {"method": "GET", "url": "NoSuchType/1"},
                "url-too-many-segments": {"method": "GET", "url": "Patient/1/_history/1/x"},
                "url-number": {"method": "GET", "url": 5},
                "url-impossible-date": {"method": "GET", "url": "Patient?birthdate=2023-02-30"},
                "url-year-zero": {"method": "GET", "url": "Patient?_lastUpdated=0000"},
            }.items():
                add(
                    operation,
                    "bad-bundle",
                    f"{kind}-request-{detail}",
                    headers=FHIR_JSON,
                    body={"json": bundle(kind, {"request": request})},
                )
            add(
                operation,
                "bad-bundle",
                f"{kind}-post-without-resource",
                headers=FHIR_JSON,
                body={"json": bundle(kind, {"request": {"method": "POST", "url": "Patient"}})},
            )
            invalid_patient = {**self.base_resource("Patient"), "gender": 5}
            add(
                operation,
                "bad-bundle",
                f"{kind}-invalid-resource",
                headers=FHIR_JSON,
                body={"json": bundle(kind, post(invalid_patient))},
            )
            overlong = {**self.base_resource("Patient"), **long_identifier}
            add(
                operation,
                "overlong",
                f"{kind}-identifier-value",
                headers=FHIR_JSON,
                body={"json": bundle(kind, post(overlong))},
            )
            if_none_exist = post(self.base_resource("Patient"), ifNoneExist="birthdate=2023-02-30")
            add(
                operation,
                "bad-if-none-exist",
                f"{kind}-impossible-date",
                headers=FHIR_JSON,
                body={"json": bundle(kind, if_none_exist)},
            )
            put = {
                "resource": self.base_resource("Patient", with_id=True),
                "request": {"method": "PUT", "url": "Patient/${Patient}", "ifMatch": 'W/"' + "9" * 8000 + '"'},
            }
            add(operation, "bad-if-match", f"{kind}-8000-digits", headers=FHIR_JSON, body={"json": bundle(kind, put)})
            add(
                operation,
                "too-many",
                f"{kind}-501-entries",
                headers=FHIR_JSON,
                body={
                    "json": {**bundle(kind), "entry": "$entries"},
                    "expand": {"$entries": {"array": {"item": read_patient, "count": 501}}},
                },
            )
        add(
            operation,
            "bad-bundle",
            "type-collection",
            headers=FHIR_JSON,
            body={"json": bundle("collection", read_patient)},
        )
        add(
            operation,
            "bad-bundle",
            "type-missing",
            headers=FHIR_JSON,
            body={"json": {"resourceType": "Bundle", "entry": [read_patient]}},
        )
        add(operation, "bad-bundle", "not-a-bundle", headers=FHIR_JSON, body={"json": self.base_resource("Patient")})
        add(
            operation,
            "bad-json",
            "truncated",
            headers=FHIR_JSON,
            body={"text": '{"resourceType": "Bundle", "type": "batch", "entry": ['},
        )
        add(operation, "bad-json", "array", headers=FHIR_JSON, body={"text": "[]"})
        add(
            operation,
            "content-type",
            "text-plain",
            headers={"Content-Type": "text/plain"},
            body={"text": json.dumps(bundle("batch", read_patient))},
        )
        urn = "urn:uuid:5d3c3b0e-0000-4000-8000-000000000001"
        twice = bundle(
            "transaction",
            post(self.base_resource("Patient"), url="Patient") | {"fullUrl": urn},
            post(self.base_resource("Patient")) | {"fullUrl": urn},
        )
        add(operation, "bad-bundle", "transaction-fullurl-twice", headers=FHIR_JSON, body={"json": twice})
        dangling = {
            **self.base_resource("Patient"),
            "managingOrganization": {"reference": "urn:uuid:00000000-0000-4000-8000-00000000dead"},
        }
        add(
            operation,
            "bad-bundle",
            "transaction-dangling-urn",
            headers=FHIR_JSON,
            body={"json": bundle("transaction", post(dangling))},
        )
        # issue 7 item 3: a batch whose second entry fails answers 500 after committing the first. The first
        # entry here only reads, so the tables stay as they were whatever the server does.
        add(
            operation,
            "batch-semantics",
            "second-entry-fails",
            headers=FHIR_JSON,
            body={"json": bundle("batch", read_patient, post({**self.base_resource("Patient"), **long_identifier}))},
            entries=["2xx", "4xx"],
        )
        add(
            operation,
            "deep-nesting",
            "extensions-200-levels-in-entry",
            headers=FHIR_JSON,
            body={
                "json": bundle("transaction", post({**self.base_resource("Patient"), "extension": "$nested"})),
                "expand": {"$nested": {"nested": {"depth": 200, "kind": "extension"}}},
            },
        )
        add(
            operation,
            "deep-nesting",
            "array-1000-levels",
            headers=FHIR_JSON,
            body={
                "json": {**bundle("batch"), "entry": "$nested"},
                "expand": {"$nested": {"nested": {"depth": 1000, "kind": "array"}}},
            },
        )

    # ---- everything else ----

    def token(self, operation: Operation) -> None:
        add = self.add
        grant = ["grant_type", "client_credentials"]
        credentials = [["client_id", "${client_id}"], ["client_secret", "${client_secret}"]]
        for detail, form in {
            "no-grant-type": [*credentials],
            "grant-type-password": [["grant_type", "password"], *credentials],
            "grant-type-twice": [grant, grant, *credentials],
            "grant-type-nul": [["grant_type", "client_credentials" + NUL], *credentials],
            "client-id-nul": [grant, ["client_id", "${client_id}" + NUL], ["client_secret", "${client_secret}"]],
            "client-id-only-nul": [grant, ["client_id", NUL], ["client_secret", "x"]],
            "client-secret-nul": [grant, ["client_id", "${client_id}"], ["client_secret", NUL]],
            "client-id-10000-chars": [grant, ["client_id", "a" * 10_000], ["client_secret", "x"]],
            "wrong-secret": [grant, ["client_id", "${client_id}"], ["client_secret", "wrong"]],
            "missing-secret": [grant, ["client_id", "${client_id}"]],
            "scope-not-held": [grant, *credentials, ["scope", "ilp/admin"]],
            "scope-malformed": [grant, *credentials, ["scope", "system/Patient.xyz"]],
            "scope-nul": [grant, *credentials, ["scope", "system/Patient.rs" + NUL]],
            # A scope naming a type this server does not serve (yet) is granted: it allows nothing until then.
            "scope-bad-permissions": [grant, *credentials, ["scope", "system/Patient.xyz"]],
        }.items():
            add(operation, "bad-token-request", detail, headers=FORM, body={"form": form})
        for detail, authorization in {
            "basic-not-base64": "Basic %%%",
            "basic-no-colon": "Basic " + base64.b64encode(b"just-an-id").decode(),
            "basic-nul-id": "Basic " + base64.b64encode(b"\x00:secret").decode(),
            "basic-invalid-utf8": "Basic " + base64.b64encode(b"\xff\xfe:secret").decode(),
            "basic-empty": "Basic ",
        }.items():
            add(
                operation,
                "bad-token-request",
                detail,
                headers={**FORM, "Authorization": authorization},
                body={"form": [grant]},
            )
        basic = "Basic " + base64.b64encode(b"some-client:x").decode()
        add(
            operation,
            "bad-token-request",
            "basic-and-form-secret",
            headers={**FORM, "Authorization": basic},
            body={"form": [grant, ["client_secret", "x"]]},
        )
        add(operation, "content-type", "json", headers=JSON, body={"json": {"grant_type": "client_credentials"}})
        add(operation, "content-type", "missing", body={"text": "grant_type=client_credentials"})
        add(
            operation,
            "bad-form",
            "invalid-utf8",
            headers=FORM,
            body={"base64": base64.b64encode(b"grant_type=\xff\xfe").decode()},
        )
        add(operation, "bad-form", "empty", headers=FORM, body={"text": ""})

    def json_api(self, operation: Operation) -> None:
        """/api/v1 operations with a JSON body: wrong content, bad JSON and schema-driven wrong values."""
        base = self.valid_json_body(operation)
        schema = operation.body_schema or {}
        add = self.add
        add(
            operation,
            "content-type",
            "text-plain",
            headers={"Content-Type": "text/plain"},
            body={"text": json.dumps(base)},
        )
        for detail, text in {"empty": "", "truncated": "{", "null": "null", "array": "[]", "nan": '{"x": NaN}'}.items():
            add(operation, "bad-json", detail, headers=JSON, body={"text": text})
        add(
            operation,
            "bad-json",
            "invalid-utf8",
            headers=JSON,
            body={"base64": base64.b64encode(b'{"name": "\xff"}').decode()},
        )
        if schema.get("additionalProperties") is False:
            add(
                operation,
                "unknown-element",
                "extra-property",
                headers=JSON,
                body={"json": {**base, "noSuchProperty": 1}},
            )
        for name in schema.get("required", []):
            add(
                operation,
                "missing-required",
                name,
                headers=JSON,
                body={"json": {k: v for k, v in base.items() if k != name}},
            )
        for name, property_schema in schema.get("properties", {}).items():
            target = value_type(self.document, property_schema)
            kind = target.get("type")
            wrong: dict[str, Any] = {
                "string": 12345,
                "boolean": "maybe",
                "integer": "two",
                "number": "abc",
                "array": "x",
                "object": "x",
            }
            add(operation, "wrong-type", name, headers=JSON, body={"json": {**base, name: wrong.get(kind, [])}})
            if not allows_null(property_schema) and "default" not in property_schema:
                add(operation, "null-value", name, headers=JSON, body={"json": {**base, name: None}})
            if kind == "string" and target.get("format") == "date":
                for detail, value in {"impossible-day": "2023-02-30", "year-zero": "0000-01-01"}.items():
                    add(operation, "bad-date", f"{name}-{detail}", headers=JSON, body={"json": {**base, name: value}})
            elif kind == "string" and "enum" not in target:
                add(operation, "control-char", f"{name}-nul", headers=JSON, body={"json": {**base, name: "a" + NUL}})
                add(
                    operation,
                    "overlong",
                    f"{name}-10000-chars",
                    headers=JSON,
                    body={"json": {**base, name: "a" * 10_000}},
                )
            elif "enum" in target:
                add(
                    operation,
                    "wrong-type",
                    f"{name}-unknown-code",
                    headers=JSON,
                    body={"json": {**base, name: "not-a-code"}},
                )
        add(
            operation,
            "deep-nesting",
            "array-1000-levels",
            headers=JSON,
            body={
                "json": {**base, "noSuchProperty": "$nested"},
                "expand": {"$nested": {"nested": {"depth": 1000, "kind": "array"}}},
            },
        )

    def valid_json_body(self, operation: Operation) -> dict[str, Any]:
        if operation.example is not None:
            return dict(operation.example)
        if operation.path == "/api/v1/clients":
            return {"name": "Corpus client", "organization_id": "${posyandu}", "scope": "system/*.rs"}
        schema = operation.body_schema or {}
        return dict.fromkeys(schema.get("required", []), "x")

    def by_scope(self, operation: Operation) -> None:
        """Operations only an ilp/admin client may call (managing clients, the outbox): 403 for any other."""
        body = self.valid_json_body(operation) if operation.media_type else None
        for detail in ("cruds", "rs"):
            self.add(
                operation,
                "forbidden-scope",
                f"posyandu-{detail}",
                auth="scoped" if detail == "cruds" else "scoped-rs",
                **({"headers": JSON, "body": {"json": body}} if body is not None else {}),
            )

    def json_query(self, operation: Operation) -> None:
        """/api/v1 reads that take query parameters: each parameter missing, malformed or of the wrong type."""
        declared = {name for name, parameter in operation.parameters.items() if parameter["in"] == "query"}
        valid = {"organization": "Organization/${posyandu}"} if "organization" in declared else {}
        add = self.add
        for name, parameter in operation.parameters.items():
            if parameter["in"] == "header" and parameter.get("required"):
                add(operation, "bad-header", f"{name}-missing", query=[[n, v] for n, v in valid.items()])
            if parameter["in"] != "query":
                continue
            if parameter.get("required"):
                add(operation, "bad-query", f"{name}-missing", query=[[n, v] for n, v in valid.items() if n != name])
            add(operation, "control-char", f"{name}-nul", query=[*valid.items(), [name, "a" + NUL + "b"]])
            if "pattern" in parameter.get("schema", {}):
                add(operation, "bad-query", f"{name}-off-pattern", query=[*valid.items(), [name, "not-the-pattern"]])
        for detail, pairs in {
            "count-text": [["_count", "abc"]],
            "count-negative": [["_count", "-1"]],
            "offset-exponent": [["_offset", "1e3"]],
            "date-impossible": [["date", "2023-02-30"]],
            "status-unknown": [["status", "not-a-status"]],
            "unknown-organization": [["organization", "Organization/" + UNKNOWN_ID]],
            "organization-not-an-organization": [["organization", "Patient/${Patient}"]],
            # A read of an organization's residents (the worklist) checks the purpose of use it is given.
            "purpose-lowercase": [["organization", "Organization/${posyandu}"]],
        }.items():
            if not {name for name, _ in pairs} <= declared:
                continue  # a parameter the operation does not take is ignored, not refused
            headers = {"X-Purpose-Of-Use": "treat"} if detail == "purpose-lowercase" else {}
            query = [[n, v] for n, v in valid.items() if n not in dict(pairs)] + pairs
            add(operation, "bad-query", detail, query=query, headers=headers)

    def ignored_input(self, operation: Operation) -> None:
        """Public endpoints without parameters ignore what they do not read: they must still not fail."""
        for detail, request in {
            "unknown-query-nul": {"query": [["x", NUL]]},
            "unknown-query-repeated": {"query": [["x", "1"]] * 200},
            "accept-xml": {"headers": {"Accept": "application/xml"}},
            "bearer-garbage": {"headers": {"Authorization": "Bearer not-a-token"}},
        }.items():
            self.add(operation, "ignored-input", detail, expect="answered", **request)
        if operation.secured:  # a token is all such an endpoint reads: without one, 401
            self.add(operation, "unauthenticated", "no-token", auth="none")


def hand_written(builder: CorpusBuilder, operations: dict[str, Operation]) -> None:
    """Reproducers of issue 7 items 2, 5 and 6 that the families above do not already produce."""
    add = builder.add
    if (patients := operations.get("GET /fhir/Patient")) is not None:
        add(patients, "too-many", "gender-repeated-200-times", query=[["gender", "male"]] * 200)
        for value in ("2023-02-30", "0000", "ge0000-01-01"):
            add(patients, "issue7-item2", f"birthdate-{value}", query=[["birthdate", value]])
    if (audit := operations.get("GET /fhir/AuditEvent")) is not None:
        for value in ("2023-02-30", "0000", "ge2023-02-30", "xx2020"):
            add(audit, "bad-date", f"date-{value}", query=[["date", value]])
        add(audit, "bad-query", "entity-nul", query=[["entity", "Patient/" + NUL]])
        add(audit, "bad-query", "entity-not-a-reference", query=[["entity", "nonsense"]])
        add(audit, "forbidden-scope", "posyandu-cruds", auth="scoped")
    if (create := operations.get("POST /fhir/Patient")) is not None:
        valid = builder.base_resource
        for detail, element in {
            "active-string-true": {"active": "true"},
            "active-number-1": {"active": 1},
            "multiple-birth-integer-string": {"multipleBirthInteger": "2"},
            "deceased-boolean-no": {"deceasedBoolean": "no"},
        }.items():
            add(create, "issue7-item5", detail, headers=FHIR_JSON, body={"json": {**valid("Patient"), **element}})
        for detail, birth_date in {"impossible-day": "2023-02-30", "year-zero": "0000", "future": "2999-01-01"}.items():
            add(
                create,
                "issue7-item2",
                f"birthdate-{detail}",
                headers=FHIR_JSON,
                body={"json": {**valid("Patient"), "birthDate": birth_date}},
            )
        for value in ("2023-02-30", "0000"):
            add(
                create,
                "issue7-item2",
                f"if-none-exist-birthdate-{value}",
                headers={**FHIR_JSON, "If-None-Exist": f"birthdate={value}"},
                body={"json": valid("Patient")},
            )
        add(
            create,
            "issue7-item2",
            "nik-nul",
            headers=FHIR_JSON,
            body={"json": {**valid("Patient"), "identifier": [{"system": NIK_SYSTEM, "value": "3374" + NUL}]}},
        )
        add(
            create,
            "issue7-item2",
            "reference-nul",
            headers=FHIR_JSON,
            body={"json": {**valid("Patient"), "managingOrganization": {"reference": "Organization/" + NUL}}},
        )
        add(
            create,
            "forbidden-scope",
            "patient-outside-posyandu",
            auth="scoped",
            headers=FHIR_JSON,
            body={"json": patient_json(nik(serial=9000), organization="${dinkes}")},
        )
        # issue 7 item 6: unbounded sizes. Expanded at test time (see the module docstring).
        add(
            create,
            "too-large",
            "identifiers-400000",
            headers=FHIR_JSON,
            body={
                "json": {**valid("Patient"), "identifier": "$identifiers"},
                "expand": {
                    "$identifiers": {
                        "array": {"item": {"system": "http://example.org/id", "value": "1"}, "count": 400_000}
                    }
                },
            },
        )
        add(
            create,
            "too-large",
            "name-10mb",
            headers=FHIR_JSON,
            body={
                "json": {**valid("Patient"), "name": [{"text": "$name"}]},
                "expand": {"$name": {"string": {"length": 10_000_000}}},
            },
        )
    if (clients := operations.get("POST /api/v1/clients")) is not None:
        base = builder.valid_json_body(clients)
        for detail, change in {
            "organization-unknown": {"organization_id": UNKNOWN_ID},
            "organization-nul": {"organization_id": "a" + NUL},
            "scope-empty": {"scope": ""},
            "scope-bad-permissions": {"scope": "system/Patient.xyz"},
            "scope-malformed": {"scope": "everything please"},
            "scope-nul": {"scope": "system/*.rs" + NUL},
            "no-organization-for-data-scope": {"organization_id": None},
            "name-empty": {"name": ""},
        }.items():
            add(clients, "bad-registration", detail, headers=JSON, body={"json": {**base, **change}})
    if (evaluate := operations.get("POST /api/v1/screening/evaluate")) is not None:
        base = builder.valid_json_body(evaluate)
        for detail, change in {
            "visit-before-birth": {"visitDate": "1990-01-01"},
            "systolic-negative": {"measurements": {"systolic": -120, "diastolic": 80}},
            "systolic-huge": {"measurements": {"systolic": 10**30, "diastolic": 80}},
            "gestational-age-negative": {"pregnancy": {"status": "hamil", "gestationalAgeDays": -1}},
        }.items():
            add(evaluate, "bad-value", detail, headers=JSON, body={"json": {**base, **change}})
    if (revoke := operations.get("POST /api/v1/clients/{client_id}/revoke")) is not None:
        add(revoke, "unknown-id", "well-formed", path=revoke.concrete_path(client_id=UNKNOWN_ID))


def build_corpus() -> list[Case]:
    load_resources()
    document = openapi_document()
    builder = CorpusBuilder(document)
    operations = {
        f"{method.upper()} {path}": Operation(document, path, method, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }
    for operation in operations.values():
        kind = operation.fhir_rest
        if operation.path == TOKEN_PATH:
            builder.token(operation)
        elif operation.path == "/fhir" and operation.method == "POST":
            builder.fhir_bundle(operation)
        elif operation.path == "/fhir/metadata":
            builder.fhir_common(operation)
        elif operation.fhir_type is not None and kind is not None and kind.startswith("/$"):
            builder.fhir_common(operation)
            builder.fhir_operation(operation)
        elif operation.fhir_type is not None and kind is not None:
            builder.fhir_common(operation)
            if kind == "" and operation.method == "GET":
                builder.fhir_search(operation)
            elif kind == "" and operation.method == "POST":
                builder.fhir_create(operation)
            elif operation.method == "PUT":
                builder.fhir_update(operation)
            elif operation.method == "PATCH":
                builder.fhir_patch(operation)
            elif kind == "/_search":
                builder.fhir_search_by_post(operation)
            else:
                builder.fhir_instance(operation)
        elif operation.media_type is not None:
            builder.json_api(operation)
        elif operation.path.startswith("/api/v1") and operation.method == "GET" and operation.parameters:
            builder.json_query(operation)
        if operation.path.startswith("/api/v1/clients") or operation.path.endswith(("/outbox", "/retry")):
            builder.by_scope(operation)
        if operation.fhir_type is None and not operation.parameters and operation.media_type is None:
            builder.ignored_input(operation)
        builder.generic(operation)
    hand_written(builder, operations)
    return ordered(sampled(builder.cases, operations))


def sampled(cases: list[Case], operations: dict[str, Operation]) -> list[Case]:
    """Generic families in full on the representative type's routes; on another stored type's, their first
    case each, topped up in order to the minimum an operation must have."""
    kept_per_operation: Counter[str] = Counter()
    families_seen: set[tuple[str, str]] = set()
    kept = []
    for case in cases:
        fhir_type = operations[case["operation"]].fhir_type
        family = (case["operation"], case["family"])
        if (
            registry.get(fhir_type or "") is None
            or fhir_type == REPRESENTATIVE_TYPE
            or case["family"] in TYPE_DEPENDENT_FAMILIES
            or family not in families_seen
            or kept_per_operation[case["operation"]] < MIN_CASES_PER_OPERATION
        ):
            kept.append(case)
            kept_per_operation[case["operation"]] += 1
        families_seen.add(family)
    return kept


def ordered(cases: list[Case]) -> list[Case]:
    """Cheap cases first, then deletes, then the large payloads, so one slow or state-changing failure does
    not make the cheap ones slow or misleading."""

    def weight(case: Case) -> int:
        body = case.get("body", {})
        if "pad_to" in body or ("expand" in body and "nested" not in json.dumps(body["expand"])):
            return 2
        return 1 if case["method"] == "DELETE" else 0

    return sorted(cases, key=weight)


def serialise(cases: list[Case]) -> str:
    return "".join(json.dumps(case, ensure_ascii=True, separators=(",", ":")) + "\n" for case in cases)


def main() -> None:
    cases = build_corpus()
    identifiers = [case["id"] for case in cases]
    duplicates = sorted({i for i in identifiers if identifiers.count(i) > 1})
    if duplicates:
        raise SystemExit(f"duplicate case ids: {duplicates}")
    CORPUS.write_text(serialise(cases), encoding="utf-8")
    print(f"{len(cases)} cases written to {CORPUS.relative_to(TESTS.parent)}")


if __name__ == "__main__":
    main()
