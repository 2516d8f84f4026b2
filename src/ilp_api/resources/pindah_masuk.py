"""``POST /fhir/Patient/$pindah-masuk``: a resident moves into the area, and the new puskesmas takes them over.

A client registering a NIK that is held by a Patient outside its area is refused without being told where
(409, limited per client and audited), so that the refusal is no oracle of who is registered. A resident
who really moved in has this path instead: a puskesmas or a dinkes (not a pustu or posyandu; ilp/admin too)
names the NIK, the new managing organization in its own subtree and optionally the new address, and states
why in ``X-Purpose-Of-Use``. The Patient is found by NIK wherever it is registered, updated through the
normal update path (a new version, the Patient rules, the index) and returned; the AuditEvent names it and
the purpose, so the previous owners can see who took the record over. Declared as an operation of the
registry (fhir/providers.py), which gives it its route and its CapabilityStatement entry.
"""

from dataclasses import dataclass

from pydantic import Field

from ilp_api.fhir import json as fhir_json
from ilp_api.fhir.datatypes import Address, Element, Identifier, Reference, Resource
from ilp_api.fhir.limits import Limits
from ilp_api.fhir.outcome import BadRequest, Forbidden, NotFound, Unprocessable
from ilp_api.fhir.providers import Answer, Operation, OperationCall, OperationLevel, OperationParameter, providers
from ilp_api.fhir.registry import Json, Ref, ResourceDefinition, Token, WriteContext, parse_reference
from ilp_api.fhir.service import ResourceService, parse_body
from ilp_api.fhir.unit_of_work import PURPOSE_HEADER, UnitOfWork
from ilp_api.ilp.nik import NIK_ERROR, InvalidNik, decode_nik
from ilp_api.resources.indonesia import NIK
from ilp_api.resources.organization import facility_type
from ilp_api.resources.patient import PATIENT

OPERATION = "$pindah-masuk"
TAKING_OVER = ("puskesmas", "dinkes")


class Parameter(Element):
    name: str
    value_string: str | None = Field(None, alias="valueString")
    value_identifier: Identifier | None = Field(None, alias="valueIdentifier")
    value_reference: Reference | None = Field(None, alias="valueReference")
    value_address: Address | None = Field(None, alias="valueAddress")


class Parameters(Resource):
    parameter: list[Parameter]


# Not registered: it only lets the operation's body pass the same gate (parse_body) as every resource.
PARAMETERS = ResourceDefinition(
    type="Parameters", model=Parameters, description="Input of a FHIR operation", search_parameters=()
)


@dataclass(frozen=True)
class MoveIn:
    nik: str
    organization: Ref
    address: Json | None


def move_in(unit: UnitOfWork, service: ResourceService, call: OperationCall) -> Answer:
    """Checks the caller first, then finds the resident by NIK in every area and moves the record to the caller."""
    context = unit.rules
    if call.purpose is None:
        raise BadRequest(
            f"{OPERATION} needs {PURPOSE_HEADER}, the reason for taking the record over (e.g. TREAT)",
            expression=PURPOSE_HEADER,
        )
    _check_caller(context)
    wanted = _read_parameters(context, call.body, service.limits)
    if context.read(wanted.organization) is None:
        raise Unprocessable(
            f"managingOrganization {wanted.organization.type}/{wanted.organization.id} is not an organization of "
            "your subtree",
            expression="Parameters.parameter('managingOrganization')",
        )
    everywhere = unit.unscoped()
    patient_id = everywhere.repository.claim_holder(PATIENT.type, Token(NIK, wanted.nik))
    patient = everywhere.rules.read(Ref(PATIENT.type, patient_id)) if patient_id else None
    if patient_id is None or patient is None:
        raise NotFound(
            f"No active Patient has NIK {wanted.nik}; register the resident with POST /fhir/Patient",
            expression="Parameters.parameter('nik')",
        )
    patient["managingOrganization"] = {"reference": f"Organization/{wanted.organization.id}"}
    if wanted.address is not None:
        patient["address"] = [wanted.address]
    # Visible to the caller afterwards: its managing organization lies in the caller's subtree.
    moved = service.update(everywhere, PATIENT, patient_id, fhir_json.dumps(patient), if_match=None)
    return Answer(moved.stored, entities=(Ref(PATIENT.type, patient_id),))


def _check_caller(context: WriteContext) -> None:
    organization_id = context.caller_organization_id
    if organization_id is None:
        return  # an operator (ilp/admin)
    organization = context.read(Ref("Organization", organization_id))
    kind = facility_type(organization, context.canonical_base) if organization else None
    if kind not in TAKING_OVER:
        raise Forbidden(
            f"Only a puskesmas or a dinkes takes a resident over, not a {kind or 'client without a facility type'}: "
            "ask your puskesmas",
            expression="Patient",
        )


def _read_parameters(context: WriteContext, body: bytes, limits: Limits) -> MoveIn:
    _, data = parse_body(PARAMETERS, body, limits)
    given: dict[str, Json] = {}
    for index, parameter in enumerate(data["parameter"]):
        name = parameter["name"]
        if name not in ("nik", "managingOrganization", "address"):
            raise Unprocessable(
                f"Unknown parameter '{name}': {OPERATION} takes nik, managingOrganization and address",
                expression=f"Parameters.parameter[{index}].name",
            )
        if name in given:
            raise Unprocessable(f"Parameter '{name}' is given twice", expression=f"Parameters.parameter[{index}]")
        given[name] = parameter
    return MoveIn(_nik(context, given.get("nik")), _organization(given.get("managingOrganization")), _address(given))


def _nik(context: WriteContext, parameter: Json | None) -> str:
    expression = "Parameters.parameter('nik')"
    value = None
    if parameter is not None and "valueIdentifier" in parameter:
        identifier = parameter["valueIdentifier"]
        value = identifier.get("value") if identifier.get("system") == NIK else None
    elif parameter is not None:
        value = parameter.get("valueString")
    if not isinstance(value, str):
        raise Unprocessable(
            f"nik is required: a valueString, or a valueIdentifier of system {NIK}", expression=expression
        )
    try:
        decode_nik(value, context.today)
    except InvalidNik as error:
        raise Unprocessable(f"NIK is not valid: {error}", expression=expression, ilp_code=NIK_ERROR) from None
    return value


def _organization(parameter: Json | None) -> Ref:
    reference = parse_reference(parameter.get("valueReference", {}).get("reference", "")) if parameter else None
    if reference is None or reference.type != "Organization":
        raise Unprocessable(
            "managingOrganization is required: a valueReference to the Organization of your subtree that takes "
            "the resident over",
            expression="Parameters.parameter('managingOrganization')",
        )
    return reference


def _address(given: dict[str, Json]) -> Json | None:
    parameter = given.get("address")
    if parameter is None:
        return None
    if "valueAddress" not in parameter:
        raise Unprocessable("address takes a valueAddress", expression="Parameters.parameter('address')")
    address: Json = parameter["valueAddress"]
    return address


PINDAH_MASUK = providers.register_operation(
    Operation(
        name=OPERATION.removeprefix("$"),
        level=OperationLevel.TYPE,
        resource_type=PATIENT.type,
        summary="Take over a resident who moved into your area (pindah masuk), by NIK",
        description=(
            "For a puskesmas or dinkes client (or ilp/admin), with `X-Purpose-Of-Use`. Parameters: `nik` "
            "(valueString or valueIdentifier), `managingOrganization` (valueReference to an Organization of the "
            "caller's subtree) and optionally `address` (valueAddress, the new address). Finds the Patient by NIK "
            "wherever it is registered, updates it (a new version) and returns it; the access is audited."
        ),
        affects_state=True,
        permission="u",
        handler=move_in,
        parameters=(
            OperationParameter("nik", "in", "string", "The resident's NIK (or a valueIdentifier of its system)", 1),
            OperationParameter(
                "managingOrganization", "in", "Reference", "The Organization of your subtree taking over", 1
            ),
            OperationParameter("address", "in", "Address", "The resident's new address"),
            OperationParameter("return", "out", "Patient", "The Patient as moved", 1),
        ),
        example={
            "resourceType": "Parameters",
            "parameter": [
                {"name": "nik", "valueString": "3374060312000001"},
                {"name": "managingOrganization", "valueReference": {"reference": "Organization/<id in your subtree>"}},
            ],
        },
    )
)
