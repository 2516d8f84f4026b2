"""The cost of keeping FHIR decimals exact: ``fhir.json.loads``/``dumps`` against bare orjson, same run.

    .venv/bin/python bench/json_bench.py [--repeat N]

Two bodies: a Patient create (no decimal, the common case: orjson, then one walk that checks the nesting
depth and looks for floats) and an Observation-like body with decimals (the same, then the standard library's
exact re-parse). Prints microseconds per call and the ratio product / bare orjson. Single core, a few
seconds, no database.
"""

import argparse
import timeit
from collections.abc import Callable

import orjson

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.limits import Limits

JSON_DEPTH = Limits().json_depth
PATIENT = orjson.dumps(
    {
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://fhir.kemkes.go.id/id/nik", "value": "9271060312000001"},
            {"system": "http://ilp-api.example/fhir/sid/bpjs-nokartu", "value": "0001234567890"},
        ],
        "active": True,
        "name": [{"use": "official", "family": "Santoso", "given": ["Budi", "Eko"]}],
        "telecom": [{"system": "phone", "value": "+6281234567890", "use": "mobile"}],
        "gender": "male",
        "birthDate": "2000-12-03",
        "address": [
            {
                "use": "home",
                "line": ["Jl. Pandanaran No. 10"],
                "city": "Kota Semarang",
                "district": "Semarang Tengah",
                "state": "Jawa Tengah",
                "extension": [
                    {
                        "url": "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode",
                        "extension": [
                            {"url": "province", "valueCode": "33"},
                            {"url": "city", "valueCode": "3374"},
                            {"url": "district", "valueCode": "337401"},
                            {"url": "village", "valueCode": "3374011001"},
                            {"url": "rt", "valueCode": "001"},
                            {"url": "rw", "valueCode": "002"},
                        ],
                    }
                ],
            }
        ],
        "managingOrganization": {"reference": "Organization/puskesmas-pandanaran"},
    }
)
_QUANTITY = '{"value": %s, "unit": "%s", "system": "http://unitsofmeasure.org", "code": "%s"}'
OBSERVATION = (
    '{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/1"},'
    ' "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},'
    ' "effectiveDateTime": "2026-06-01T09:30:00+07:00", "component": ['
    + ", ".join(
        f'{{"code": {{"text": "{name}"}}, "valueQuantity": {_QUANTITY % (value, unit, unit)}}}'
        for name, value, unit in [
            ("systolic", "120", "mm[Hg]"),
            ("diastolic", "80", "mm[Hg]"),
            ("weight", "72.50", "kg"),
            ("height", "170.0", "cm"),
            ("hemoglobin", "11.80", "g/dL"),
            ("temperature", "36.60", "Cel"),
        ]
    )
    + "]}"
).encode()


def per_call(function: Callable[[], object], repeat: int) -> float:
    """Microseconds per call, the best of five rounds."""
    return min(timeit.repeat(function, number=repeat, repeat=5)) / repeat * 1e6


def compare(name: str, body: bytes, repeat: int) -> None:
    exact = fhir_json.loads(body, JSON_DEPTH)
    bare = orjson.loads(body)
    print(f"{name} ({len(body)} bytes)")
    for step, baseline, product in (
        ("parse", lambda: orjson.loads(body), lambda: fhir_json.loads(body, JSON_DEPTH)),
        ("serialise", lambda: orjson.dumps(bare), lambda: fhir_json.dumps(exact)),
    ):
        bare_time, product_time = per_call(baseline, repeat), per_call(product, repeat)
        ratio = product_time / bare_time
        print(f"  {step:<9}  orjson {bare_time:6.2f} µs   fhir.json {product_time:6.2f} µs   ratio {ratio:5.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20_000)
    repeat = parser.parse_args().repeat
    compare("Patient create", PATIENT, repeat)
    compare("Observation with decimals", OBSERVATION, repeat)
    assert b'"value":72.50' in fhir_json.dumps(fhir_json.loads(OBSERVATION)), "a decimal lost its precision"


if __name__ == "__main__":
    main()
