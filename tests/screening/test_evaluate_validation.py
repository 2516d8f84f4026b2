"""Implausible or contradictory visits are a 422 OperationOutcome naming the field and the profile's code."""

from typing import Any

import pytest
from response_reading import Evaluate

ADULT = {"birthDate": "1980-01-01", "sex": "male", "visitDate": "2026-06-01", "site": "posyandu"}


def _issue(body: dict[str, Any]) -> tuple[str, str]:
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    return issue["expression"][0], issue["details"]["coding"][0]["code"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (
            {"measurements": {"systolic": 120, "diastolic": 120}},
            "measurements.diastolic",
            "diastolik-harus-kurang-dari-sistolik",
        ),
        ({"measurements": {"systolic": 120}}, "measurements.diastolic", "diastolik-harus-kurang-dari-sistolik"),
        ({"measurements": {"systolic": 301, "diastolic": 80}}, "measurements.systolic", "nilai-di-luar-rentang"),
        ({"measurements": {"systolic": 49, "diastolic": 30}}, "measurements.systolic", "nilai-di-luar-rentang"),
        ({"measurements": {"weightKg": 0.29}}, "measurements.weightKg", "nilai-di-luar-rentang"),
        ({"measurements": {"hemoglobin": 25.1}}, "measurements.hemoglobin", "nilai-di-luar-rentang"),
        ({"measurements": {"hba1c": 2.9}}, "measurements.hba1c", "nilai-di-luar-rentang"),
        ({"pregnancy": {"status": "hamil"}}, "pregnancy", "kehamilan-pada-laki-laki"),
        ({"instruments": {"srq20": [False] * 19}}, "instruments.srq20", "jumlah-item-tidak-sesuai"),
        ({"instruments": {"adl": {"total": 10, "items": {"bowels": 2}}}}, "instruments.adl", "bentuk-isian-ganda"),
        ({"instruments": {"adl": {"items": {"bowels": 2}}}}, "instruments.adl.items", "jumlah-item-tidak-sesuai"),
        ({"instruments": {"adl": {"total": 21}}}, "instruments.adl.total", "nilai-di-luar-rentang"),
        ({"instruments": {"visus": {"right": "6/12", "left": "20/20"}}}, "instruments.visus.left", "visus-tidak-valid"),
        (
            {"instruments": {"visus": {"right": "6/9", "fingerCountWrong": 1}}},
            "instruments.visus",
            "bentuk-isian-ganda",
        ),
        ({"instruments": {"whisper": {"wordsHeard": 6}}}, "instruments.whisper.wordsHeard", "nilai-di-luar-rentang"),
        (
            {"instruments": {"tbSymptoms": {"symptoms": ["pilek"]}}},
            "instruments.tbSymptoms.symptoms",
            "kode-tidak-dikenal",
        ),
        ({"weights": [{"date": "2026-06-01", "weightKg": 60}]}, "weights[0].date", "tanggal-setelah-kunjungan"),
        ({"lastDone": {"srq-20": "2026-07-01"}}, "lastDone.srq-20", "tanggal-setelah-kunjungan"),
        ({"birthDate": "2026-06-02"}, "birthDate", "tanggal-setelah-kunjungan"),
        (
            {"settings": {"anemiaPregnancyT2Threshold": 10.0}},
            "settings.anemiaPregnancyT2Threshold",
            "nilai-di-luar-rentang",
        ),
    ],
    ids=[
        "diastolic-equals-systolic",
        "systolic-without-diastolic",
        "systolic-above-300",
        "systolic-below-50",
        "weight-below-0.3",
        "hemoglobin-above-25",
        "hba1c-below-3",
        "pregnant-male",
        "srq20-19-answers",
        "adl-both-forms",
        "adl-missing-items",
        "adl-total-above-20",
        "visus-feet",
        "visus-both-forms",
        "whisper-6-words",
        "tb-unknown-symptom",
        "weighing-on-visit-date",
        "last-done-after-visit",
        "born-after-visit",
        "unknown-anemia-setting",
    ],
)
def test_rejected_with_field_and_code(evaluate: Evaluate, change: dict[str, Any], field: str, code: str) -> None:
    assert _issue(evaluate({**ADULT, **change}, status=422)) == (field, code)


@pytest.mark.parametrize(
    "measurements",
    [{"systolic": 50, "diastolic": 20}, {"systolic": 300, "diastolic": 200}, {"weightKg": 0.3, "heightCm": 250}],
    ids=["lowest", "highest", "weight-height-edges"],
)
def test_range_edges_are_plausible(evaluate: Evaluate, measurements: dict[str, Any]) -> None:
    assert evaluate({**ADULT, "measurements": measurements})["ruleSet"]


def test_visit_date_defaults_to_today_at_the_site(evaluate: Evaluate) -> None:
    body = evaluate({key: value for key, value in ADULT.items() if key != "visitDate"} | {"birthDate": "2000-01-01"})
    assert body["age"]["years"] >= 26


def test_evaluate_needs_an_authenticated_client(anonymous_client: Any) -> None:
    response = anonymous_client.post("/api/v1/screening/evaluate", json=ADULT)
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_documents_examples_in_camel_case(anonymous_client: Any) -> None:
    schema = anonymous_client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/screening/evaluate"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert "ibu-hamil-hipertensi" in examples
    assert "followUps" in schema["components"]["schemas"]["EvaluateResponse"]["properties"]
