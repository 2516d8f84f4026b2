"""The committed OpenAPI document (openapi/openapi.json) is the one the code generates."""

import json
from pathlib import Path

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
