"""The datatypes for what comes next (Quantity, Range, Ratio, Period, Annotation, Attachment, Timing, the
``[x]`` choices), checked against fhir.resources: what our models accept it accepts, what it refuses ours
refuse, and the R4 invariants it does not check ours state in words."""

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ilp_api.fhir.datatypes import (
    Age,
    Annotation,
    Attachment,
    Duration,
    Element,
    Identifier,
    Period,
    Quantity,
    Range,
    Ratio,
    SampledData,
    SimpleQuantity,
    Timing,
    choice,
)
from ilp_api.fhir.outcome import validation_issues
from ilp_api.resources.observation import Observation

UCUM = "http://unitsofmeasure.org"
KG = {"value": 72.5, "unit": "kg", "system": UCUM, "code": "kg"}


VALID = [
    (Quantity, KG | {"comparator": "<"}),
    (Age, {"value": 45, "unit": "tahun", "system": UCUM, "code": "a"}),
    (Duration, {"value": 30, "system": UCUM, "code": "min"}),
    (Range, {"low": KG, "high": KG | {"value": 80}}),
    (Ratio, {"numerator": {"value": 1}, "denominator": {"value": 128}}),
    (Period, {"start": "2026-06-01", "end": "2026-06-01T10:00:00+07:00"}),
    (Period, {"start": "2026-06-01T23:00:00-05:00", "end": "2026-06-02"}),
    (Period, {"start": "2026-05", "end": "2026-05-10"}),
    (Period, {"start": "2016-12-31T23:59:60Z", "end": "9999-12-31"}),
    (Annotation, {"authorString": "Bidan Sri", "time": "2026-06-01", "text": "Ibu hamil, **kontrol** 2 minggu"}),
    (Annotation, {"authorReference": {"reference": "Practitioner/1"}, "text": "dirujuk"}),
    (Attachment, {"contentType": "application/pdf", "data": "JVBERi0=", "title": "KMS", "size": 5}),
    (
        Timing,
        {
            "repeat": {
                "frequency": 3,
                "period": 1,
                "periodUnit": "d",
                "boundsDuration": {"value": 7, "code": "d", "system": UCUM},
            }
        },
    ),
    (Timing, {"event": ["2026-06-01T08:00:00+07:00"], "repeat": {"timeOfDay": ["08:00:00"], "dayOfWeek": ["mon"]}}),
    (Identifier, {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "1"}),
    (SampledData, {"origin": {"value": 0}, "period": 10, "dimensions": 1, "data": "1 2 3"}),
]


def _fhir_resources_accepts(model: type[Element], data: dict[str, Any]) -> bool:
    try:
        get_fhir_model_class(model.__name__).model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("model", "data"), VALID, ids=[f"{m.__name__}-{i}" for i, (m, _) in enumerate(VALID)])
def test_what_we_accept_is_valid_fhir(model: type[Element], data: dict[str, Any]) -> None:
    model.model_validate(data)

    assert _fhir_resources_accepts(model, data)


STRUCTURALLY_INVALID = [
    (Quantity, KG | {"value": "banyak"}),
    (Quantity, KG | {"units": "kg"}),
    (Annotation, {"authorString": "Bidan Sri", "authorReference": {"reference": "Practitioner/1"}, "text": "x"}),
    (Annotation, {"authorString": "Bidan Sri"}),
    (Attachment, {"contentType": "application/pdf", "size": -1}),
    (Timing, {"repeat": {"boundsDuration": {"value": 7}, "boundsPeriod": {"start": "2026-01-01"}}}),
    (Period, {"start": "2026-13-01"}),
]


@pytest.mark.parametrize(
    ("model", "data"), STRUCTURALLY_INVALID, ids=[f"{m.__name__}-{i}" for i, (m, _) in enumerate(STRUCTURALLY_INVALID)]
)
def test_what_fhir_refuses_we_refuse(model: type[Element], data: dict[str, Any]) -> None:
    assert not _fhir_resources_accepts(model, data)
    with pytest.raises(ValidationError):
        model.model_validate(data)


# The R4 invariants and required codes fhir.resources does not check, and what the client is told.
INVARIANTS = [
    (Quantity, KG | {"comparator": "~"}, "Input should be '<', '<=', '>=' or '>'"),
    (
        Timing,
        {"repeat": {"dayOfWeek": ["monday"]}},
        "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
    ),
    (
        Period,
        {"start": "2026-06-02", "end": "2026-06-01"},
        "the period ends (2026-06-01) before it starts (2026-06-02)",
    ),
    (Period, {"start": "2026-06", "end": "2026-05-31"}, "the period ends (2026-05-31) before it starts (2026-06)"),
    (
        Period,
        {"start": "2026-06-01T10:00:00+07:00", "end": "2026-06-01T09:00:00+07:00"},
        "the period ends (2026-06-01T09:00:00+07:00) before it starts (2026-06-01T10:00:00+07:00)",
    ),
    (Range, {"low": KG | {"value": 90}, "high": KG}, "the range's low (90) is above its high (72.5)"),
    (Ratio, {"numerator": {"value": 1}}, "a ratio has both a numerator and a denominator, or neither"),
    (Quantity, {"value": 1, "code": "kg"}, "a quantity's code (kg) needs its system, e.g. http://unitsofmeasure.org"),
    (Age, {"value": 45}, "a value of time needs its UCUM code, one of ms, s, min, h, d, wk, mo, a"),
    (Duration, {"value": 4, "system": UCUM, "code": "kg"}, "kg is no UCUM unit of time"),
    (Attachment, {"data": "JVBERi0="}, "an attachment with data needs its contentType, e.g. application/pdf"),
    (Timing, {"repeat": {"period": 1}}, "a period needs its periodUnit"),
    (Timing, {"repeat": {"countMax": 3}}, "countMax needs a count"),
    (Timing, {"repeat": {"timeOfDay": ["08:00:00"], "when": ["MORN"]}}, "timeOfDay and when cannot both be given"),
]


@pytest.mark.parametrize(
    ("model", "data", "message"), INVARIANTS, ids=[f"{m.__name__}-{i}" for i, (m, _, _) in enumerate(INVARIANTS)]
)
def test_invariants_are_refused_in_words(model: type[Element], data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)

    assert message in str(refused.value)


def test_a_comparator_is_only_for_a_quantity() -> None:
    with pytest.raises(ValidationError, match="comparator"):
        SimpleQuantity.model_validate(KG | {"comparator": "<"})
    with pytest.raises(ValidationError, match="comparator"):
        Range.model_validate({"low": KG | {"comparator": ">"}})


# The served Observation: value[x] and effective[x] are its choice elements.
OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"text": "Berat badan"},
    "subject": {"reference": "Patient/1"},
}


@pytest.mark.parametrize(
    "value",
    [
        {"valueQuantity": KG},
        {"valueString": "negatif"},
        {"valueBoolean": False},
        {"valueInteger": 3},
        {"valueTime": "08:30:00"},
        {"valueRange": {"low": KG}},
        {"valueCodeableConcept": {"text": "reaktif"}},
    ],
)
def test_one_value_of_any_declared_type_is_accepted(value: dict[str, Any]) -> None:
    observation = OBSERVATION | value | {"effectiveDateTime": "2026-06-01"}

    Observation.model_validate(observation)
    assert _fhir_resources_accepts(Observation, observation)


def test_two_values_are_refused_naming_both() -> None:
    observation = OBSERVATION | {"valueQuantity": KG, "valueString": "72,5 kg", "effectiveDateTime": "2026-06-01"}

    with pytest.raises(ValidationError) as refused:
        Observation.model_validate(observation)
    issues = validation_issues(refused.value, root="Observation", model=Observation)

    assert [issue.diagnostics for issue in issues] == [
        "Observation: value[x] takes one type, but valueQuantity and valueString were sent: keep one"
    ]
    assert not _fhir_resources_accepts(Observation, observation)


def test_each_choice_of_a_model_is_checked_on_its_own() -> None:
    observation = OBSERVATION | {"valueBoolean": True, "effectivePeriod": {"start": "2026-06-01"}}
    Observation.model_validate(observation)

    with pytest.raises(ValidationError, match="effective\\[x\\] takes one type"):
        Observation.model_validate(observation | {"effectiveDateTime": "2026-06-01"})


def test_a_required_choice_names_its_types() -> None:
    answer = choice("value", required=True, Boolean=bool, String=str)

    with pytest.raises(ValidationError, match=r"value\[x\] is required: send one of valueBoolean, valueString"):
        answer.model_validate({})


def test_a_misspelt_choice_is_answered_with_the_known_one() -> None:
    with pytest.raises(ValidationError) as refused:
        Observation.model_validate(OBSERVATION | {"valueQuantiy": KG})
    issues = validation_issues(refused.value, root="Observation", model=Observation)

    assert issues[0].diagnostics == (
        "Unknown element 'Observation.valueQuantiy': it is not part of this Observation as ILP API supports it; "
        "did you mean 'valueQuantity'?"
    )
