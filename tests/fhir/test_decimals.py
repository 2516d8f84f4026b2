"""A FHIR decimal keeps its precision as sent: ``1.50`` is stored and returned as ``1.50``, never as ``1.5``."""

import json

import orjson
import pytest
from fastapi.testclient import TestClient

from factories import FHIR_JSON, outcome, patient_json
from ilp_api.fhir.json import ExactNumber, dumps, loads

EXTENSION_URL = "http://ilp-api.example/fhir/StructureDefinition/test-measure"


@pytest.mark.parametrize(
    "literal",
    ["1.50", "1E-7", "-0.0", "0.1000000000000000055511151231257827", "1e-400", "123456789012345678901234567890"],
    ids=["trailing-zero", "exponent", "negative-zero", "more-digits-than-a-double", "underflow", "beyond-64-bits"],
)
def test_a_number_is_written_back_as_its_text(literal: str) -> None:
    body = f'{{"value": {literal}, "others": [1, "x", {{"nested": {literal}}}]}}'.encode()

    data = loads(body)

    assert dumps(data) == body.replace(b" ", b"")
    assert data["value"] == float(literal)  # and it computes as the number it is


def test_a_body_without_decimals_is_parsed_once_and_unchanged() -> None:
    body = b'{"resourceType":"Patient","active":true,"multipleBirthInteger":-0,"name":[{"family":"Santoso"}]}'

    data = loads(body)

    # An integer is a value: -0 is 0 (FHIR integers carry no precision to keep).
    assert dumps(data) == body.replace(b"-0", b"0")
    assert not any(isinstance(value, ExactNumber) for value in data.values())


def test_integers_stay_integers_where_orjson_would_keep_them() -> None:
    data = loads(b'{"a": 1.5, "b": 18446744073709551615, "c": -9223372036854775808}')

    assert type(data["b"]) is int
    assert type(data["c"]) is int
    assert type(data["a"]) is ExactNumber


def test_exact_numbers_compute_and_compare_as_floats() -> None:
    data = loads(b'{"weight": 72.50, "height": 1.700}')

    assert data["weight"] / data["height"] ** 2 == pytest.approx(25.086, abs=1e-3)
    assert data["weight"] > 72
    assert round(data["weight"]) == 72
    assert json.loads(dumps(data)) == {"weight": 72.5, "height": 1.7}


def test_what_is_not_json_is_still_refused_by_orjson() -> None:
    for body in (b'{"a": 1.50,}', b'{"a": NaN}', b'{"a": 1e400}'):
        with pytest.raises(orjson.JSONDecodeError):
            loads(body)


def _with_decimal(literal: str) -> bytes:
    patient = patient_json(extension=[{"url": EXTENSION_URL, "valueDecimal": 0}])
    return orjson.dumps(patient).replace(b'"valueDecimal":0', f'"valueDecimal":{literal}'.encode())


@pytest.mark.parametrize("literal", ["1.50", "1E-7", "-0.0", "72.500"])
def test_a_stored_decimal_is_returned_as_sent(client: TestClient, literal: str) -> None:
    created = client.post("/fhir/Patient", content=_with_decimal(literal), headers=FHIR_JSON)
    assert created.status_code == 201, created.text
    location = created.headers["Location"].split("/_history")[0]

    for text in (created.text, client.get(location).text, client.get("/fhir/Patient").text):
        assert f'"valueDecimal":{literal}' in text


def test_a_decimal_in_a_transaction_bundle_is_returned_as_sent(client: TestClient) -> None:
    patient = _with_decimal("1.50")
    entry = b'{"fullUrl":"urn:uuid:4f6a0b3e-0000-4000-8000-000000000001","resource":%s,' % patient
    bundle = b'{"resourceType":"Bundle","type":"transaction","entry":[%s"request":{"method":"POST","url":"Patient"}}]}'
    bundle %= entry

    response = client.post("/fhir", content=bundle, headers=FHIR_JSON)

    assert response.status_code == 200, response.text
    location = response.json()["entry"][0]["response"]["location"].split("/_history")[0]
    assert '"valueDecimal":1.50' in response.text
    assert '"valueDecimal":1.50' in client.get(location).text


def test_a_number_beyond_a_double_is_refused_as_invalid_json(client: TestClient) -> None:
    body = outcome(client.post("/fhir/Patient", content=_with_decimal("1e400"), headers=FHIR_JSON), 400)

    assert "infinity" in body["issue"][0]["diagnostics"]


def test_an_integer_element_refuses_a_decimal_and_a_huge_integer(client: TestClient) -> None:
    for literal in ("2.0", "1E2", "123456789012345678901234567890"):
        patient = orjson.dumps(patient_json(multipleBirthInteger=0)).replace(
            b'"multipleBirthInteger":0', f'"multipleBirthInteger":{literal}'.encode()
        )
        body = outcome(client.post("/fhir/Patient", content=patient, headers=FHIR_JSON), 422)

        assert body["issue"][0]["expression"] == ["Patient.multipleBirthInteger"]
