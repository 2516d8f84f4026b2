"""Every resource the API emits is valid FHIR R4, checked by fhir.resources' models on real responses.

(``fhir.resources.R4B`` is the R4B model set; for the resource types ILP API serves it is structurally R4.)
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from factories import (
    CANONICAL,
    FHIR_JSON,
    LOINC,
    build_network,
    condition_json,
    coverage_json,
    create,
    eligibility_request_json,
    eligibility_response_json,
    encounter_json,
    episode_of_care_json,
    immunization_json,
    location_json,
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
from ilp_api.fhir.datatypes import UCUM
from ilp_api.fhir.registry import registry
from ilp_api.resources import load_resources

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

# Every type, whichever modules the tests collected so far happened to import.
load_resources()


def conforms(resource: dict[str, Any]) -> None:
    """Parse with the R4 model of its resourceType; raises with the offending element otherwise."""
    model = get_fhir_model_class(resource["resourceType"])
    parsed = model.model_validate(resource)
    assert parsed.get_resource_type() == resource["resourceType"]


@pytest.fixture
def everything(client: TestClient) -> dict[str, dict[str, Any]]:
    """One stored resource of every registered type, as the API answered its creation."""
    network = build_network(client)
    organization = client.get(f"/fhir/Organization/{network['posyandu']}").json()
    practitioner = create(client, practitioner_json())
    patient = create(
        client, patient_json(birth_date="2001-12-03", wilayah="3374011001", rw="002", organization=network["pustu"])
    )
    location = create(client, location_json(organization=network["puskesmas"]))
    kader = create(client, practitioner_role_json(practitioner["id"], network["posyandu"], "kader"))
    visit = create(
        client,
        encounter_json(
            patient["id"],
            network["posyandu"],
            identifier=[{"system": "https://posyandu-app.example/kunjungan", "value": "V-1"}],
            participant=[{"individual": {"reference": f"PractitionerRole/{kader['id']}"}}],
            location=[{"location": {"reference": f"Location/{location['id']}"}, "status": "completed"}],
        ),
    )
    blood_pressure = observation_json(
        patient["id"],
        "85354-9",
        encounter={"reference": f"Encounter/{visit['id']}"},
        effectiveDateTime="2026-11-03T08:10:00+07:00",
        performer=[{"reference": f"PractitionerRole/{kader['id']}"}],
        component=[
            {
                "code": {"coding": [{"system": LOINC, "code": code}]},
                "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
                "referenceRange": [{"high": {"value": high, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}],
            }
            for code, value, high in (("8480-6", 150, 140), ("8462-4", 95, 90))
        ],
        interpretation=[{"coding": [{"system": INTERPRETATION, "code": "H"}]}],
    )
    measured = create(client, blood_pressure)
    of_visit = {"encounter": {"reference": f"Encounter/{visit['id']}"}}
    hypertension = create(
        client,
        condition_json(
            patient["id"],
            **of_visit,
            onsetDateTime="2026-11-03",
            recorder={"reference": f"PractitionerRole/{kader['id']}"},
            evidence=[{"detail": [{"reference": f"Observation/{measured['id']}"}]}],
            note=[{"text": "TD tinggi pada dua kunjungan berturut-turut"}],
        ),
    )
    referral = create(
        client,
        service_request_json(
            patient["id"],
            requester=network["posyandu"],
            performer=network["puskesmas"],
            **of_visit,
            occurrencePeriod={"start": "2026-11-04"},
            reasonReference=[{"reference": f"Condition/{hypertension['id']}"}],
            supportingInfo=[{"reference": f"Observation/{measured['id']}"}],
        ),
    )
    episode = episode_of_care_json(
        patient["id"],
        network["puskesmas"],
        extension=[
            {"url": f"{CANONICAL}/StructureDefinition/klaster-role", "valueCode": "primary"},
            {"url": f"{CANONICAL}/StructureDefinition/rule", "valueString": "3-R3-siklus-hidup"},
        ],
        statusHistory=[{"status": "planned", "period": {"start": "2026-11-01", "end": "2026-11-03"}}],
        diagnosis=[{"condition": {"reference": f"Condition/{hypertension['id']}"}, "rank": 1}],
        referralRequest=[{"reference": f"ServiceRequest/{referral['id']}"}],
        careManager={"reference": f"PractitionerRole/{kader['id']}"},
    )
    task = task_json(
        patient["id"],
        requester=network["posyandu"],
        owner=network["puskesmas"],
        **of_visit,
        basedOn=[{"reference": f"ServiceRequest/{referral['id']}"}],
        focus={"reference": f"ServiceRequest/{referral['id']}"},
        authoredOn="2026-11-03T08:30:00+07:00",
        restriction={"period": {"end": "2026-11-10"}},
        input=[{"type": {"text": "Temuan"}, "valueReference": {"reference": f"Observation/{measured['id']}"}}],
        output=[{"type": {"text": "Diterima"}, "valueBoolean": True}],
    )
    puma = questionnaire_response_json(
        patient["id"],
        "puma",
        {"ever-smoked": True, "pack-years": 25.5, "dyspnoea": True, "sputum": False, "cough": True}
        | {"spirometry-referral": False},
        **of_visit,
        basedOn=[{"reference": f"ServiceRequest/{referral['id']}"}],
        author={"reference": f"PractitionerRole/{kader['id']}"},
        source={"reference": f"Patient/{patient['id']}"},
    )
    stored_task = create(client, task)
    answer_recorded = provenance_json(
        f"Task/{stored_task['id']}/_history/1",
        network["puskesmas"],
        network["pustu"],
        occurredPeriod={"start": "2026-11-04T09:00:00+07:00", "end": "2026-11-04T09:30:00+07:00"},
        policy=["https://puskesmas-app.example/kebijakan/rujukan"],
        location={"reference": f"Location/{location['id']}"},
        reason=[{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]}],
        activity={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"}]},
        entity=[{"role": "source", "what": {"reference": f"ServiceRequest/{referral['id']}"}}],
    )
    answer_recorded["agent"][0] |= {
        "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "enterer"}]},
        "role": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "ENT"}]}],
    }
    dose = immunization_json(
        patient["id"],
        "mr-1",
        "2026-11-03T08:15:00+07:00",
        **of_visit,
        location={"reference": f"Location/{location['id']}"},
        lotNumber="MR-2026-0917",
        doseQuantity={"value": 0.5, "unit": "mL", "system": UCUM, "code": "mL"},
        performer=[{"actor": {"reference": f"PractitionerRole/{kader['id']}"}}],
        protocolApplied=[{"authority": {"reference": f"Organization/{network['dinkes']}"}, "doseNumberPositiveInt": 1}],
    )
    return {
        "Organization": organization,
        "Patient": patient,
        "Location": location,
        "Practitioner": practitioner,
        "PractitionerRole": kader,
        "Encounter": visit,
        "Observation": measured,
        "Condition": hypertension,
        "ServiceRequest": referral,
        "EpisodeOfCare": create(client, episode),
        "Task": stored_task,
        "Provenance": create(client, answer_recorded),
        "QuestionnaireResponse": create(client, puma),
        "Immunization": create(client, dose),
        **insurance(client, patient["id"]),
    }


def insurance(client: TestClient, patient_id: str) -> dict[str, dict[str, Any]]:
    """A BPJS Coverage and an eligibility request and response about it, shaped as $eligibility writes them."""
    payor = create(client, organization_json("penjamin", name="BPJS Kesehatan", wilayah=None))["id"]
    coverage_class = "http://terminology.hl7.org/CodeSystem/coverage-class"
    coverage = create(
        client,
        coverage_json(
            patient_id,
            payor,
            subscriberId="0001000000001",
            period={"start": "2020-01-01", "end": "2099-12-31"},
            **{"class": [{"type": {"coding": [{"system": coverage_class, "code": "class"}]}, "value": "3"}]},
        ),
    )
    request = create(
        client,
        eligibility_request_json(
            patient_id, payor, insurance=[{"focal": True, "coverage": {"reference": f"Coverage/{coverage['id']}"}}]
        ),
    )
    insured = {
        "coverage": {"reference": f"Coverage/{coverage['id']}"},
        "inforce": True,
        "benefitPeriod": {"start": "2020-01-01"},
        "item": [{"category": {"text": "KELAS III"}, "name": "KELAS III"}],
        "extension": [{"url": f"{CANONICAL}/StructureDefinition/bpjs-fktp-ini", "valueBoolean": True}],
    }
    response = create(client, eligibility_response_json(patient_id, request["id"], payor, insurance=[insured]))
    return {"Coverage": coverage, "CoverageEligibilityRequest": request, "CoverageEligibilityResponse": response}


@pytest.mark.parametrize("resource_type", sorted(definition.type for definition in registry))
def test_stored_resources_conform(
    client: TestClient, everything: dict[str, dict[str, Any]], resource_type: str
) -> None:
    created = everything[resource_type]
    read = client.get(f"/fhir/{resource_type}/{created['id']}").json()

    conforms(created)
    conforms(read)


@pytest.mark.parametrize(
    "query",
    [
        "Patient?_include=Patient:organization",
        "Organization?_revinclude=PractitionerRole:organization&_count=2",
        "Location?_include=Location:organization",
        "PractitionerRole?_include=PractitionerRole:practitioner",
        "Practitioner",
        "CodeSystem",
        "ConceptMap",
        "Questionnaire",
        "Encounter?_include=Encounter:service-provider&_revinclude=Observation:encounter",
        "ServiceRequest?_include=ServiceRequest:performer&_revinclude=Task:focus",
        "EpisodeOfCare?_include=EpisodeOfCare:condition",
        "Task?_include=Task:focus&_include=Task:patient&_revinclude=Provenance:target",
        "Condition?category=temuan-skrining",  # a finding of the visit's blood pressure, kept by the hook
    ],
)
def test_searchset_bundles_conform(client: TestClient, everything: dict[str, dict[str, Any]], query: str) -> None:
    bundle = client.get(f"/fhir/{query}").json()

    assert bundle["entry"]
    conforms(bundle)


def test_history_bundle_conforms(client: TestClient, everything: dict[str, dict[str, Any]]) -> None:
    patient = everything["Patient"]
    client.put(f"/fhir/Patient/{patient['id']}", json=patient, headers=FHIR_JSON)
    client.delete(f"/fhir/Patient/{patient['id']}")

    history = client.get(f"/fhir/Patient/{patient['id']}/_history").json()

    assert len(history["entry"]) == 3
    conforms(history)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/fhir/Patient/unknown", None),
        ("POST", "/fhir/Patient", patient_json("9271060312000000")),
        ("GET", "/fhir/Patient?bogus=1", None),
        ("GET", "/nowhere", None),
        ("POST", "/api/v1/screening/evaluate", {}),
    ],
    ids=["not-found", "invalid-nik", "bad-search", "no-route", "fastapi-validation"],
)
def test_operation_outcomes_conform(client: TestClient, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)

    assert response.status_code >= 400
    conforms(response.json())


def test_capability_statement_conforms_and_declares_fhir_4_0_1(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()

    conforms(statement)
    assert statement["fhirVersion"] == "4.0.1"


def test_code_systems_conform(client: TestClient) -> None:
    bundle = client.get("/fhir/CodeSystem").json()

    for entry in bundle["entry"]:
        code_system = client.get(f"/fhir/CodeSystem/{entry['resource']['id']}").json()
        conforms(code_system)
        assert code_system["url"].startswith("http://ilp-api.example/fhir/CodeSystem/")
