"""Patient: the resident register (profile §1). One active Patient per NIK, enforced by a unique key."""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.compartment_operations import patient_everything
from ilp_api.fhir.datatypes import (
    Address,
    CodeableConcept,
    ContactPoint,
    FhirDate,
    FhirDateTime,
    HasExtensions,
    HumanName,
    Identifier,
    Integer,
    Period,
    Reference,
    Resource,
    parse_date,
)
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.providers import Operation, OperationLevel, OperationParameter, providers
from ilp_api.fhir.registry import (
    Json,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    WriteContext,
    codes,
    dates,
    parse_reference,
    references,
    registry,
    strings,
)
from ilp_api.fhir.visibility_rules import InPatientCompartment, Placement
from ilp_api.ilp.nik import InvalidNik, data_quality_warnings, decode_nik
from ilp_api.resources.indonesia import (
    NIK,
    address_rws,
    address_villages,
    administrative_codes,
    check_addresses,
    check_identifier_formats,
)

Gender = Literal["male", "female", "other", "unknown"]


class PatientContact(HasExtensions):
    relationship: list[CodeableConcept] | None = None
    name: HumanName | None = None
    telecom: list[ContactPoint] | None = None
    address: Address | None = None
    gender: Gender | None = None
    organization: Reference | None = None
    period: Period | None = None


class PatientCommunication(HasExtensions):
    language: CodeableConcept
    preferred: bool | None = None


class PatientLink(HasExtensions):
    other: Reference
    type: Literal["replaced-by", "replaces", "refer", "seealso"]


class Patient(Resource):
    identifier: list[Identifier] | None = None
    active: bool | None = None
    name: list[HumanName] | None = None
    telecom: list[ContactPoint] | None = None
    gender: Gender | None = None
    birth_date: FhirDate | None = Field(None, alias="birthDate")
    deceased_boolean: bool | None = Field(None, alias="deceasedBoolean")
    deceased_date_time: FhirDateTime | None = Field(None, alias="deceasedDateTime")
    address: list[Address] | None = None
    marital_status: CodeableConcept | None = Field(None, alias="maritalStatus")
    multiple_birth_boolean: bool | None = Field(None, alias="multipleBirthBoolean")
    multiple_birth_integer: Integer | None = Field(None, alias="multipleBirthInteger")
    contact: list[PatientContact] | None = None
    communication: list[PatientCommunication] | None = None
    general_practitioner: list[Reference] | None = Field(None, alias="generalPractitioner")
    managing_organization: Reference | None = Field(None, alias="managingOrganization")
    link: list[PatientLink] | None = None


def data_quality_system(canonical_base: str) -> str:
    return f"{canonical_base}/CodeSystem/data-quality"


def apply_patient_rules(context: WriteContext, patient: Patient, data: Json) -> Json:
    check_identifier_formats(data, "Patient", context)
    if patient.birth_date and patient.birth_date[:10] > context.today.isoformat()[: len(patient.birth_date)]:
        raise Unprocessable(
            f"birthDate {patient.birth_date} lies in the future (today is {context.today} at the site)",
            expression="Patient.birthDate",
            ilp_code="tanggal-lahir-di-masa-depan",
        )
    if patient.deceased_boolean is not None and patient.deceased_date_time is not None:
        raise Unprocessable("Give deceasedBoolean or deceasedDateTime, not both", expression="Patient.deceased[x]")
    check_addresses(context, data, "Patient")
    _tag_nik_disagreements(context, patient, data)
    return data


def _tag_nik_disagreements(context: WriteContext, patient: Patient, data: Json) -> None:
    """V6/V7: a NIK whose date or sex disagrees with the record is kept, and tagged so it can be found."""
    system = data_quality_system(context.canonical_base)
    meta = data.setdefault("meta", {})
    tags = [tag for tag in meta.get("tag", []) if tag.get("system") != system]
    nik = next((i["value"] for i in data.get("identifier", []) if i.get("system") == NIK), None)
    if nik:
        try:
            decoded = decode_nik(nik, context.today)
        except InvalidNik:  # already reported by check_identifier_formats
            decoded = None
        if decoded:
            sex = patient.gender if patient.gender in ("male", "female") else None
            known = None  # V7 needs the wilayah list: the NIK keeps its original code after a pemekaran
            if context.wilayah.is_loaded():
                known = frozenset(context.wilayah.names([decoded.wilayah]))
            # A partial birthDate (year only) cannot be compared with the NIK's full date.
            birth_date = parse_date(patient.birth_date) if patient.birth_date else None
            for code in data_quality_warnings(decoded, birth_date, sex, known):
                tags.append({"system": system, "code": code, "display": DATA_QUALITY_DISPLAY[code]})
    if tags:
        meta["tag"] = tags
    else:
        meta.pop("tag", None)
    if not meta:
        data.pop("meta")


def patient_placement(data: Json) -> Placement:
    """Who manages the resident, and the village and RW of the one address they are reached at (see residence)."""
    managing = parse_reference(data.get("managingOrganization", {}).get("reference", ""))
    address = residence(data.get("address", []))
    return Placement(
        managing_organization_id=managing.id if managing and managing.type == "Organization" else None,
        village=address.get("village"),
        rw=address.get("rw") if "village" in address else None,
    )


def residence(addresses: list[Json]) -> dict[str, str]:
    """The administrative codes of the address the resident lives at now: of the addresses with a village code
    and not marked ``old``, the first ``home`` one, or else the first. A resident with a KTP address in one
    village and a domicile in another is reached through one of them, the way the client ordered and marked it.
    """
    current = [(a.get("use"), codes) for a in addresses if "village" in (codes := administrative_codes(a))]
    current = [(use, codes) for use, codes in current if use != "old"]
    home = next((codes for use, codes in current if use == "home"), None)
    return home or (current[0][1] if current else {})


DATA_QUALITY_DISPLAY = {
    "nik-tanggal-lahir-berbeda": "The birth date encoded in the NIK differs from Patient.birthDate",
    "nik-jenis-kelamin-berbeda": "The sex encoded in the NIK differs from Patient.gender",
    "nik-wilayah-tidak-dikenal": "The NIK's wilayah (PPKKCC) is not in the imported Kemendagri list",
    # On an EpisodeOfCare (screening/episodes.py): the tags of every type share the one CodeSystem.
    "persalinan-tidak-tercatat": "A pregnancy was closed on its EDD's clock: no delivery was recorded",
}


PATIENT = registry.register(
    ResourceDefinition(
        type="Patient",
        model=Patient,
        description="Residents, registered once by NIK (or mother's NIK for a newborn).",
        unique_identifier_systems=frozenset({NIK}),
        held_elsewhere_advice=(
            "if the resident has moved into your area, your puskesmas or dinkes takes the record over with "
            "POST /fhir/Patient/$pindah-masuk (see the README)"
        ),
        apply_rules=apply_patient_rules,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "NIK, KK, BPJS, IHS number: system|value",
                codes("identifier"),
                example="https://fhir.kemkes.go.id/id/nik|3374065507900001",
            ),
            SearchParameter(
                "name",
                SearchType.STRING,
                "Any part of the name; case- and accent-insensitive prefix, :contains, or :exact as written",
                strings("name.text", "name.family", "name.given", "name.prefix", "name.suffix"),
                example="siti",
            ),
            SearchParameter("family", SearchType.STRING, "Family name", strings("name.family"), example="rahayu"),
            SearchParameter("given", SearchType.STRING, "Given name", strings("name.given"), example="siti"),
            SearchParameter(
                "birthdate",
                SearchType.DATE,
                "Birth date, with eq/ne/lt/le/gt/ge prefixes",
                dates("birthDate"),
            ),
            SearchParameter(
                "gender", SearchType.TOKEN, "male | female | other | unknown", codes("gender"), example="female"
            ),
            SearchParameter("active", SearchType.TOKEN, "true | false", codes("active"), example="true"),
            SearchParameter(
                "telecom", SearchType.TOKEN, "Phone number or e-mail", codes("telecom.value"), example="081234567890"
            ),
            SearchParameter(
                "address-village",
                SearchType.TOKEN,
                "Kemendagri desa/kelurahan code (10 digits) of the address",
                address_villages,
                example="3374011001",
            ),
            SearchParameter(
                "rw",
                SearchType.TOKEN,
                "RW of the address: `002`, or `<village code>|002` for one village",
                address_rws,
                example="3374011001|002",
            ),
            SearchParameter(
                "organization",
                SearchType.REFERENCE,
                "The managing organization (puskesmas, pustu or posyandu)",
                references("managingOrganization"),
                targets=("Organization",),
            ),
            SearchParameter(
                "general-practitioner",
                SearchType.REFERENCE,
                "Assigned practitioner",
                references("generalPractitioner"),
                targets=("Practitioner", "PractitionerRole", "Organization"),
            ),
        ),
        default_sort=("_lastUpdated",),
        # Seen through its placement, as every member of its compartment is (fhir/visibility_rules.py).
        scope_rules=(InPatientCompartment(),),
        placement=patient_placement,
        patient_data=True,
    )
)

EVERYTHING = providers.register_operation(
    Operation(
        name="everything",
        level=OperationLevel.INSTANCE,
        resource_type=PATIENT.type,
        summary="Everything about a Patient: the Patient and its compartment",
        description=(
            "A searchset Bundle: the Patient, then every member of its compartment that the client may see and "
            "read, one page at a time (the Bundle's next link)."
        ),
        affects_state=False,
        permission="r",
        handler=patient_everything,
        parameters=(
            OperationParameter("_since", "in", "instant", "Only resources updated at or after this instant"),
            OperationParameter("_type", "in", "string", "Comma-separated types of the compartment to return"),
            OperationParameter("_count", "in", "integer", "Page size"),
            OperationParameter("_offset", "in", "integer", "Skip this many resources (used by the next link)"),
            OperationParameter("return", "out", "Bundle", "A searchset of the Patient and its compartment", 1),
        ),
        definition="http://hl7.org/fhir/OperationDefinition/Patient-everything",
    )
)
