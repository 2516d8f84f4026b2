"""Builders for the FHIR resources the tests send, and small helpers to read the API's answers.

Each builder returns plain FHIR JSON (a dict) with sensible defaults; pass only what a test is about.
"""

from datetime import date
from typing import Any

import httpx
from sqlalchemy import text

from ilp_api.resources.encounter import ACT_CODE, KLASTER_SYSTEM_PATH

CANONICAL = "http://ilp-api.example/fhir"  # Settings.canonical_base default, used by the test settings
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
BPJS_SYSTEM = f"{CANONICAL}/sid/bpjs-nokartu"
SATUSEHAT_ID_SYSTEM = f"{CANONICAL}/sid/satusehat-id"
FACILITY_TYPE_SYSTEM = f"{CANONICAL}/CodeSystem/jenis-fasilitas"
PERAN_SYSTEM = f"{CANONICAL}/CodeSystem/peran"
DATA_QUALITY_SYSTEM = f"{CANONICAL}/CodeSystem/data-quality"
ILP_ERROR_SYSTEM = f"{CANONICAL}/CodeSystem/ilp-error"
RW_COVERAGE_URL = f"{CANONICAL}/StructureDefinition/cakupan-rw"
ADMINISTRATIVE_CODE = "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode"

TEST_NIK = "9271060312000001"  # profile §1 sandbox value: male, born 2000-12-03, kecamatan 927106
TEST_NIK_BIRTH_DATE = "2000-12-03"

# A consistent piece of Kota Semarang (33 → 3374 → 337401 → 3374011001) for addresses and facilities.
PROVINCE, KOTA, KECAMATAN, KELURAHAN = "33", "3374", "337401", "3374011001"
OTHER_KOTA = "3371"  # Kota Magelang: same province, outside KOTA

FHIR_JSON = {"Content-Type": "application/fhir+json"}

LOINC = "http://loinc.org"
BODY_WEIGHT = "29463-7"
BODY_HEIGHT = "8302-2"
ICD_10 = "http://hl7.org/fhir/sid/icd-10"
HYPERTENSION = "I10"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SNOMED = "http://snomed.info/sct"
PATIENT_REFERRAL = "3457005"
KLASTER_SYSTEM = f"{CANONICAL}{KLASTER_SYSTEM_PATH}"
DOSE_SYSTEM = f"{CANONICAL}/CodeSystem/imunisasi"


def nik(birth_date: str = TEST_NIK_BIRTH_DATE, sex: str = "male", serial: int = 1, kecamatan: str = "927106") -> str:
    """A structurally valid NIK encoding ``birth_date`` and ``sex`` (women: day + 40), profile §1."""
    born = date.fromisoformat(birth_date)
    day = born.day + (40 if sex == "female" else 0)
    return f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def administrative_code(wilayah: str, rt: str | None = None, rw: str | None = None) -> dict[str, Any]:
    """The SATUSEHAT administrativeCode extension for a wilayah code and every level above it."""
    levels = (("province", 2), ("city", 4), ("district", 6), ("village", 10))
    parts = [(level, wilayah[:digits]) for level, digits in levels if digits <= len(wilayah)]
    parts += [(name, value) for name, value in (("rt", rt), ("rw", rw)) if value]
    return {
        "url": ADMINISTRATIVE_CODE,
        "extension": [{"url": level, "valueCode": code} for level, code in parts],
    }


def address(wilayah: str, rt: str | None = None, rw: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"use": "home", "line": ["Jl. Pemuda 1"], **fields, "extension": [administrative_code(wilayah, rt, rw)]}


def patient_json(
    nik: str | None = TEST_NIK,
    *,
    family: str = "Santoso",
    given: str = "Budi",
    gender: str = "male",
    birth_date: str | None = TEST_NIK_BIRTH_DATE,
    wilayah: str | None = None,
    rt: str | None = None,
    rw: str | None = None,
    organization: str | None = None,
    identifiers: list[dict[str, Any]] | None = None,
    **elements: Any,
) -> dict[str, Any]:
    """A Patient registered by NIK; ``organization`` is the managing organization's id."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": ([{"system": NIK_SYSTEM, "value": nik}] if nik else []) + (identifiers or []),
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": gender,
    }
    if birth_date:
        patient["birthDate"] = birth_date
    if wilayah:
        patient["address"] = [address(wilayah, rt, rw)]
    if organization:
        patient["managingOrganization"] = {"reference": f"Organization/{organization}"}
    if not patient["identifier"]:
        del patient["identifier"]
    return patient | elements


def organization_json(
    kind: str = "puskesmas",
    *,
    name: str | None = None,
    wilayah: str | None = KECAMATAN,
    part_of: str | None = None,
    satusehat_id: str | None = None,
    rws: tuple[str, ...] = (),
    **elements: Any,
) -> dict[str, Any]:
    """A facility of the ILP network (dinkes, puskesmas, pustu, posyandu, fkrtl); ``part_of`` is the parent's id."""
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "active": True,
        "type": [{"coding": [{"system": FACILITY_TYPE_SYSTEM, "code": kind}]}],
        "name": name or f"{kind.capitalize()} Pandanaran",
    }
    if satusehat_id:
        organization["identifier"] = [{"system": SATUSEHAT_ID_SYSTEM, "value": satusehat_id}]
    if wilayah:
        organization["address"] = [address(wilayah, use="work")]
    if part_of:
        organization["partOf"] = {"reference": f"Organization/{part_of}"}
    if rws:
        organization["extension"] = [{"url": RW_COVERAGE_URL, "valueCode": rw} for rw in rws]
    return organization | elements


def location_json(name: str = "Gedung Puskesmas Pandanaran", *, organization: str | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {"resourceType": "Location", "status": "active", "name": name, "mode": "instance"}
    location["address"] = address(KECAMATAN, use="work")
    if organization:
        location["managingOrganization"] = {"reference": f"Organization/{organization}"}
    return location


def practitioner_json(nik: str = "3374015507900002", *, family: str = "Lestari", given: str = "Sri") -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": NIK_SYSTEM, "value": nik}],
        "active": True,
        "name": [{"family": family, "given": [given]}],
        "gender": "female",
    }


def practitioner_role_json(practitioner: str, organization: str, role: str = "bidan") -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "active": True,
        "practitioner": {"reference": f"Practitioner/{practitioner}"},
        "organization": {"reference": f"Organization/{organization}"},
        "code": [{"coding": [{"system": PERAN_SYSTEM, "code": role}]}],
    }


def encounter_json(patient: str, provider: str | None = None, **elements: Any) -> dict[str, Any]:
    """A finished visit on 2026-11-03 at ``provider`` (an Organization id)."""
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": "2026-11-03T08:00:00+07:00", "end": "2026-11-03T08:20:00+07:00"},
        **({"serviceProvider": {"reference": f"Organization/{provider}"}} if provider else {}),
        **elements,
    }


def observation_json(patient: str, code: str = BODY_WEIGHT, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        **elements,
    }


def episode_of_care_json(
    patient: str, organization: str | None = None, klaster: str = "klaster-3", **elements: Any
) -> dict[str, Any]:
    """An active klaster episode since 2026-11-03, managed by ``organization`` (an Organization id)."""
    return {
        "resourceType": "EpisodeOfCare",
        "status": "active",
        "type": [{"coding": [{"system": KLASTER_SYSTEM, "code": klaster}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "period": {"start": "2026-11-03"},
        **({"managingOrganization": {"reference": f"Organization/{organization}"}} if organization else {}),
        **elements,
    }


def condition_json(patient: str, code: str = HYPERTENSION, **elements: Any) -> dict[str, Any]:
    """An active diagnosis (ICD-10 ``code``), recorded on 2026-11-03."""
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": ICD_10, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "recordedDate": "2026-11-03",
        **elements,
    }


def service_request_json(
    patient: str, *, requester: str | None = None, performer: str | None = None, **elements: Any
) -> dict[str, Any]:
    """An active routine referral, from ``requester`` to ``performer`` (Organization ids), made on 2026-11-03."""
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": PATIENT_REFERRAL}]}],
        "priority": "routine",
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": "2026-11-03",
        **({"requester": {"reference": f"Organization/{requester}"}} if requester else {}),
        **({"performer": [{"reference": f"Organization/{performer}"}]} if performer else {}),
        **elements,
    }


def task_json(
    patient: str, *, requester: str | None = None, owner: str | None = None, **elements: Any
) -> dict[str, Any]:
    """A requested Task for the resident, asked by ``requester`` of ``owner`` (Organization ids)."""
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "for": {"reference": f"Patient/{patient}"},
        **({"requester": {"reference": f"Organization/{requester}"}} if requester else {}),
        **({"owner": {"reference": f"Organization/{owner}"}} if owner else {}),
        **elements,
    }


def provenance_json(target: str, who: str, on_behalf_of: str | None = None, **elements: Any) -> dict[str, Any]:
    """``who`` (an Organization id) recorded ``target`` (a reference such as ``Task/123``) on 2026-11-05, for
    ``on_behalf_of`` (an Organization id) if given."""
    agent: dict[str, Any] = {"who": {"reference": f"Organization/{who}"}}
    if on_behalf_of:
        agent["onBehalfOf"] = {"reference": f"Organization/{on_behalf_of}"}
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target}],
        "recorded": "2026-11-05T10:00:00+07:00",
        "agent": [agent],
        **elements,
    }


def questionnaire_response_json(
    patient: str, form: str = "tes-bisik", answers: dict[str, Any] | None = None, **elements: Any
) -> dict[str, Any]:
    """A completed response to the form (the Questionnaire's id), authored on 2026-11-03. ``answers`` maps each
    linkId to its value, sent as valueBoolean, valueInteger, valueDecimal or valueString after the value's type;
    with none, the response has no items."""
    given = {"words-heard": 5} if answers is None else answers
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{CANONICAL}/Questionnaire/{form}",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "authored": "2026-11-03T08:30:00+07:00",
        **(
            {"item": [{"linkId": link_id, "answer": [answer(value)]} for link_id, value in given.items()]}
            if given
            else {}
        ),
        **elements,
    }


def answer(value: bool | int | float | str) -> dict[str, Any]:
    """A QuestionnaireResponse answer holding ``value`` in the value[x] element of its type."""
    kind = {bool: "Boolean", int: "Integer", float: "Decimal", str: "String"}[type(value)]
    return {f"value{kind}": value}


def immunization_json(patient: str, dose: str = "bcg", given: str = "2026-11-03", **elements: Any) -> dict[str, Any]:
    """A completed dose of the schedule (``dose``, a code of the project's dose CodeSystem), given on ``given``."""
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": DOSE_SYSTEM, "code": dose}]},
        "patient": {"reference": f"Patient/{patient}"},
        "occurrenceDateTime": given,
        **elements,
    }


def coverage_json(patient: str, payor: str, **elements: Any) -> dict[str, Any]:
    """A resident's insurance paid by ``payor`` (an Organization id)."""
    return {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient}"},
        "payor": [{"reference": f"Organization/{payor}"}],
        **elements,
    }


def eligibility_request_json(patient: str, insurer: str, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": f"Patient/{patient}"},
        "created": "2026-11-03T10:00:00+07:00",
        "insurer": {"reference": f"Organization/{insurer}"},
        **elements,
    }


def eligibility_response_json(patient: str, request: str, insurer: str, **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": f"Patient/{patient}"},
        "created": "2026-11-03T10:00:01+07:00",
        "request": {"reference": f"CoverageEligibilityRequest/{request}"},
        "outcome": "complete",
        "insurer": {"reference": f"Organization/{insurer}"},
        **elements,
    }


# ---- reading answers ----


def create(client: Any, resource: dict[str, Any], **headers: str) -> dict[str, Any]:
    """POST a resource that must be accepted; returns the stored resource."""
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource, headers={**FHIR_JSON, **headers})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def search(client: Any, resource_type: str, query: str = "") -> dict[str, Any]:
    """A searchset Bundle that must be returned with 200."""
    response = client.get(f"/fhir/{resource_type}?{query}")
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    assert bundle["type"] == "searchset"
    return bundle


def total(client: Any, resource_type: str, query: str = "") -> int:
    return search(client, resource_type, query)["total"]  # type: ignore[no-any-return]


def match_ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def included(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "include"
    )


def link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)


def outcome(response: httpx.Response, status: int) -> dict[str, Any]:
    """The OperationOutcome a failed request must answer with (never FastAPI's bare ``{"detail": ...}``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert "detail" not in body
    assert body["issue"], body
    for issue in body["issue"]:
        assert issue["severity"] in ("fatal", "error", "warning", "information")
        assert issue["code"]
        assert issue["diagnostics"]
    return body


def expressions(body: dict[str, Any]) -> list[str]:
    return [expression for issue in body["issue"] for expression in issue.get("expression", [])]


def ilp_codes(body: dict[str, Any]) -> list[str]:
    return [c["code"] for issue in body["issue"] for c in issue.get("details", {}).get("coding", [])]


def tags(resource: dict[str, Any]) -> list[str]:
    return sorted(t["code"] for t in resource.get("meta", {}).get("tag", []) if t["system"] == DATA_QUALITY_SYSTEM)


def build_network(client: Any) -> dict[str, str]:
    """Dinkes Kota Semarang → Puskesmas Pandanaran → Pustu Pekunden → Posyandu Melati (RW 001, 002): their ids."""
    dinkes = create(client, organization_json("dinkes", name="Dinkes Kota Semarang", wilayah=KOTA))
    puskesmas = create(
        client,
        organization_json(
            "puskesmas", name="Puskesmas Pandanaran", wilayah=KECAMATAN, part_of=dinkes["id"], satusehat_id="100011"
        ),
    )
    pustu = create(
        client, organization_json("pustu", name="Pustu Pekunden", wilayah=KELURAHAN, part_of=puskesmas["id"])
    )
    posyandu = create(
        client,
        organization_json(
            "posyandu", name="Posyandu Melati", wilayah=KELURAHAN, part_of=pustu["id"], rws=("001", "002")
        ),
    )
    return {"dinkes": dinkes["id"], "puskesmas": puskesmas["id"], "pustu": pustu["id"], "posyandu": posyandu["id"]}


def stored_rows(database: Any, resource_type: str) -> int:
    """Rows of ``resource_type`` in the resource table, read directly (deleted ones included)."""
    with database.engine.connect() as connection:
        query = text("SELECT count(*) FROM resource WHERE resource_type = :type")
        return int(connection.execute(query, {"type": resource_type}).scalar_one())


def changed(resource: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``resource`` with ``change``'s elements set; an element set to None is left out."""
    return {key: value for key, value in (resource | change).items() if value is not None}


def assert_refused(client: Any, database: Any, resource: dict[str, Any], expression: str) -> dict[str, Any]:
    """POST a resource that must be refused with 422 naming ``expression``, with nothing of its type stored."""
    resource_type = resource["resourceType"]
    problem = outcome(client.post(f"/fhir/{resource_type}", json=resource, headers=FHIR_JSON), 422)
    assert expression in expressions(problem), expressions(problem)
    assert stored_rows(database, resource_type) == 0
    return problem
