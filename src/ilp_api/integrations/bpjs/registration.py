"""``POST /fhir/Patient/$daftar-dari-bpjs``: register a resident from what BPJS knows of them.

Takes ``noKartu`` or ``nik`` (valueString) and optionally ``managingOrganization`` (valueReference; default the
caller's organization), asks BPJS outside any transaction (``Operation.consult``), and creates the Patient with
the member's name, birth date, sex, NIK, card number and phone, ``meta.source`` ``urn:bpjs-kesehatan:pcare:peserta``
(mapping.py). The Patient's own rules apply as to any create (the NIK is checked, the organization must be the
caller's to place residents in); a resident already registered with that NIK is answered as it is.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel, OperationParameter
from ilp_api.fhir.registry import Json, Ref, parse_reference
from ilp_api.fhir.service import ResourceService, parse_body
from ilp_api.fhir.unit_of_work import UnitOfWork
from ilp_api.integrations.bpjs.client import MEMBER_NUMBERS, Jenis
from ilp_api.integrations.bpjs.mapping import registered_patient
from ilp_api.integrations.bpjs.service import BpjsIntegration
from ilp_api.resources.indonesia import NIK
from ilp_api.resources.organization import ORGANIZATION
from ilp_api.resources.patient import PATIENT
from ilp_api.resources.pindah_masuk import PARAMETERS

OPERATION = "$daftar-dari-bpjs"


@dataclass(frozen=True)
class Asked:
    """BPJS's member, and the organization to register them with."""

    peserta: Json
    organization: str | None


def registration_operation(bpjs: BpjsIntegration) -> Operation:
    def consult(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Callable[[], object]:
        jenis, nomor, organization = _read_parameters(call.body, service)
        known = unit.repository.get(ORGANIZATION.type, organization) if organization is not None else None
        if organization is not None and (known is None or known.deleted):
            # Known before BPJS is asked: a request that cannot succeed costs BPJS nothing.
            raise Unprocessable(
                f"managingOrganization Organization/{organization} is not known",
                expression="Parameters.parameter('managingOrganization')",
            )
        caller = call.caller.organization_id
        return lambda: Asked(bpjs.peserta(caller, jenis, nomor), organization or caller)

    def register(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
        asked = call.consulted
        assert isinstance(asked, Asked)  # consult ran first
        patient = registered_patient(asked.peserta, unit.rules.canonical_base, asked.organization)
        nik = next((i["value"] for i in patient["identifier"] if i["system"] == NIK), None)
        if nik is None:
            raise Unprocessable("BPJS's answer holds no NIK (noKTP) to register the resident by", expression="noKTP")
        stored = service.create(unit, PATIENT, fhir_json.dumps(patient), if_none_exist=f"identifier={NIK}|{nik}")
        return Answer(stored.stored, entities=(Ref(PATIENT.type, stored.stored.id),))

    return Operation(
        name="daftar-dari-bpjs",
        level=OperationLevel.TYPE,
        resource_type="Patient",
        summary="Register a resident from BPJS's member data",
        description=(
            "Asks BPJS PCare about `noKartu` or `nik` (one, as valueString) and creates the Patient with the "
            "member's name, birth date, sex, NIK, card number and phone; `meta.source` "
            "`urn:bpjs-kesehatan:pcare:peserta` says where it came from. `managingOrganization` (valueReference) "
            "places the resident; default the caller's organization. A resident already registered with that NIK "
            "is answered as it is. BPJS failures answer as `$eligibility`'s do."
        ),
        affects_state=True,
        permission="c",
        handler=register,
        consult=consult,
        parameters=(
            OperationParameter("noKartu", "in", "string", "The BPJS card number (13 digits)"),
            OperationParameter("nik", "in", "string", "The NIK (16 digits), when the card number is not known"),
            OperationParameter("managingOrganization", "in", "Reference", "Where the resident is registered"),
            OperationParameter("return", "out", "Patient", "The resident registered", 1),
        ),
        example={"resourceType": "Parameters", "parameter": [{"name": "noKartu", "valueString": "0001000000001"}]},
    )


def _read_parameters(body: bytes, service: ResourceService) -> tuple[Jenis, str, str | None]:
    _, data = parse_body(PARAMETERS, body, service.limits)
    numbers: list[tuple[Jenis, str]] = []
    organization = None
    for index, parameter in enumerate(data["parameter"]):
        name, expression = parameter["name"], f"Parameters.parameter[{index}]"
        if name == "managingOrganization":
            organization = _organization(parameter, expression)
        elif name in MEMBER_NUMBERS:
            numbers.append(_number(name, parameter, expression))
        else:
            raise Unprocessable(
                f"Unknown parameter '{name}': {OPERATION} takes noKartu or nik, and managingOrganization",
                expression=f"{expression}.name",
            )
    if len(numbers) != 1:
        raise Unprocessable(f"{OPERATION} takes exactly one of noKartu and nik", expression="Parameters.parameter")
    return numbers[0][0], numbers[0][1], organization


def _number(name: str, parameter: Json, expression: str) -> tuple[Jenis, str]:
    jenis, pattern, shape = MEMBER_NUMBERS[name]
    value = parameter.get("valueString")
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Unprocessable(f"{name} is a valueString of {shape}", expression=f"{expression}.valueString")
    return jenis, value


def _organization(parameter: Json, expression: str) -> str:
    reference = parse_reference(parameter.get("valueReference", {}).get("reference", ""))
    if reference is None or reference.type != "Organization":
        raise Unprocessable(
            "managingOrganization takes a valueReference to an Organization", expression=f"{expression}.valueReference"
        )
    return reference.id
