"""``POST /fhir/Patient/{id}/$eligibility``: asks BPJS whether the resident is an active JKN member.

The resident is asked about by their BPJS card number, else by their NIK. PCare is asked outside any transaction
(``Operation.consult``: read the patient, then call BPJS), so a slow BPJS holds no database connection; then, in
one transaction, the operation stores the CoverageEligibilityRequest, creates or updates the resident's BPJS
Coverage and stores the CoverageEligibilityResponse it answers with (mapping.py). Every failure is an
OperationOutcome with the codes of errors.py, and writes nothing. The BPJS Kesehatan Organization (id
``bpjs-kesehatan``, facility type ``penjamin``) is created by the first call that needs it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel, OperationParameter
from ilp_api.fhir.registry import Json, Ref
from ilp_api.fhir.service import ResourceService, parse_body
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.integrations.bpjs.client import Jenis
from ilp_api.integrations.bpjs.mapping import (
    PAYOR_ID,
    coverage,
    eligibility_request,
    eligibility_response,
    member_number,
    payor_organization,
)
from ilp_api.integrations.bpjs.service import BpjsIntegration
from ilp_api.resources.coverage import COVERAGE
from ilp_api.resources.coverage_eligibility_request import ELIGIBILITY_REQUEST
from ilp_api.resources.coverage_eligibility_response import ELIGIBILITY_RESPONSE
from ilp_api.resources.organization import ORGANIZATION, facility_type_system
from ilp_api.resources.patient import PATIENT
from ilp_api.resources.pindah_masuk import PARAMETERS

OPERATION = "$eligibility"


@dataclass(frozen=True)
class Answered:
    """What BPJS said about the resident, and when it was asked."""

    peserta: dict[str, Any]
    asked: str


def eligibility_operation(bpjs: BpjsIntegration) -> Operation:
    def consult(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Callable[[], object]:
        patient = _patient(unit, service, call)
        _check_no_parameters(call.body, service)
        asked_by = member_number(patient, unit.rules.canonical_base)
        if asked_by is None:
            raise Unprocessable(
                f"Patient/{patient['id']} has neither a BPJS card number (identifier system "
                f"{unit.rules.canonical_base}/sid/bpjs-nokartu) nor a NIK to ask BPJS about",
                expression="Patient.identifier",
                ilp_code="tanpa-nomor-bpjs",
            )
        jenis: Jenis = "noka" if asked_by[0] == "noka" else "nik"
        organization = call.caller.organization_id
        return lambda: Answered(bpjs.peserta(organization, jenis, asked_by[1]), _now())

    def record(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
        answered = call.consulted
        assert isinstance(answered, Answered)  # consult ran first
        patient_id = _patient(unit, service, call)["id"]  # still there, still visible
        canonical_base = unit.rules.canonical_base
        _ensure_payor(unit, service, canonical_base)
        existing = _bpjs_coverage(unit, service, patient_id)
        body = coverage(answered.peserta, patient_id, canonical_base, existing)
        if existing is None:
            coverage_id = service.create(unit, COVERAGE, fhir_json.dumps(body)).stored.id
        else:
            coverage_id = service.update(unit, COVERAGE, existing, fhir_json.dumps(body), if_match=None).stored.id
        provider = call.caller.organization_id
        request = eligibility_request(patient_id, coverage_id, answered.asked, provider)
        request_id = service.create(unit, ELIGIBILITY_REQUEST, fhir_json.dumps(request)).stored.id
        response = eligibility_response(
            answered.peserta,
            patient_id=patient_id,
            request_id=request_id,
            coverage_id=coverage_id,
            created=_now(),
            provider=provider,
            ppk_code=bpjs.ppk_code,
            canonical_base=canonical_base,
        )
        stored = service.create(unit, ELIGIBILITY_RESPONSE, fhir_json.dumps(response)).stored
        touched = (
            Ref(PATIENT.type, patient_id),
            Ref(COVERAGE.type, coverage_id),
            Ref(ELIGIBILITY_REQUEST.type, request_id),
            Ref(ELIGIBILITY_RESPONSE.type, stored.id),
        )
        return Answer(stored, entities=touched)

    return Operation(
        name="eligibility",
        level=OperationLevel.INSTANCE,
        resource_type="Patient",
        summary="Ask BPJS Kesehatan whether the resident is an active JKN member",
        description=(
            "Asks BPJS PCare about the resident by their BPJS card number (identifier system "
            "`{base}/sid/bpjs-nokartu`), else their NIK; stores the CoverageEligibilityRequest, creates or updates "
            "the resident's BPJS Coverage, and answers the stored CoverageEligibilityResponse: "
            "`insurance.inforce` whether the membership is active, `benefitPeriod` its validity, `item` the benefit "
            "class, and extensions for the registered FKTP, whether it is this puskesmas, and the arrears. Takes no "
            "parameters (an empty body or an empty Parameters). BPJS unreachable, slow or paused by the circuit "
            "breaker: 503 with Retry-After; BPJS answering wrongly: 502; a member BPJS does not know: 422 "
            "(codes in the README's BPJS section). Off when ILP_BPJS_* are unset: 503 `bpjs-tidak-dikonfigurasi`."
        ),
        affects_state=True,
        permission="u",
        handler=record,
        consult=consult,
        parameters=(OperationParameter("return", "out", "CoverageEligibilityResponse", "BPJS's answer, as stored", 1),),
    )


def _patient(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Json:
    assert call.resource_id is not None  # an instance-level operation
    return fhir_json.loads(service.read(unit.repository, PATIENT, call.resource_id).content)  # type: ignore[no-any-return]


def _check_no_parameters(body: bytes, service: ResourceService) -> None:
    if not body.strip():
        return
    _, data = parse_body(PARAMETERS, body, service.limits)
    if data["parameter"]:
        raise Unprocessable(
            f"Unknown parameter '{data['parameter'][0]['name']}': {OPERATION} takes none (the resident is the one "
            "in the URL)",
            expression="Parameters.parameter[0].name",
        )


def _bpjs_coverage(unit: UnitOfWork, service: ResourceService, patient_id: str) -> str | None:
    query = [("beneficiary", f"Patient/{patient_id}"), ("payor", f"Organization/{PAYOR_ID}"), ("_sort", "_lastUpdated")]
    page, _, _ = service.search(unit.repository, COVERAGE, query)
    return page.matches[-1].id if page.matches else None


def _ensure_payor(unit: UnitOfWork, service: ResourceService, canonical_base: str) -> None:
    """Create the BPJS Kesehatan Organization the first time it is needed (as an operator would: it belongs to no
    client's subtree)."""
    operator = unit.unscoped()
    if operator.repository.get(ORGANIZATION.type, PAYOR_ID) is not None:
        return
    body = fhir_json.dumps(payor_organization(facility_type_system(canonical_base)))
    try:
        with unit.repository.session.begin_nested():
            service.create(operator, ORGANIZATION, body, resource_id=PAYOR_ID)
    except IntegrityError:
        pass  # a concurrent first call created it


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
