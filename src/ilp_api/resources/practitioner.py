"""Practitioner (nakes and kader, identified by NIK) and PractitionerRole (who works where, as what).

A Practitioner belongs to the organization that registered it: the server records the caller's organization
at create in the extension ``didaftarkan-oleh`` and keeps it on every update, whatever the client sends. The
registering organization's subtree sees it, and so does every organization whose PractitionerRoles refer to
it. One registered by an operator (ilp/admin) belongs to no organization: only operators see it until a
role is assigned.
"""

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Address,
    CodeableConcept,
    ContactPoint,
    FhirDate,
    HasExtensions,
    HumanName,
    Identifier,
    Period,
    Reference,
    Resource,
)
from ilp_api.fhir.outcome import Unprocessable
from ilp_api.fhir.registry import (
    Json,
    Ref,
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
from ilp_api.fhir.visibility_rules import ReferencedByVisible, ReferencesSubtree
from ilp_api.resources.indonesia import check_addresses, check_identifier_formats

# Roles in the ILP network; `kader` are community volunteers, the rest are nakes (health workers).
PERAN_CODES = (
    "kader",
    "bidan",
    "perawat",
    "dokter",
    "dokter-gigi",
    "gizi",
    "sanitarian",
    "analis-lab",
    "apoteker",
    "promkes",
)


REGISTRAR_PATH = "/StructureDefinition/didaftarkan-oleh"


def peran_system(canonical_base: str) -> str:
    return f"{canonical_base}/CodeSystem/peran"


def _is_registrar(extension: Json) -> bool:
    """Under any canonical base, so that no spelling of it escapes the server's hand."""
    return str(extension.get("url", "")).endswith(REGISTRAR_PATH)


def registrar(practitioner: Json) -> Iterator[Ref]:
    """The organization that registered the practitioner (from the extension the server keeps)."""
    for extension in practitioner.get("extension", []):
        if _is_registrar(extension):
            reference = parse_reference(extension.get("valueReference", {}).get("reference", ""))
            if reference:
                yield reference


class Qualification(HasExtensions):
    identifier: list[Identifier] | None = None
    code: CodeableConcept
    period: Period | None = None
    issuer: Reference | None = None


class Practitioner(Resource):
    identifier: list[Identifier] | None = None
    active: bool | None = None
    name: list[HumanName]
    telecom: list[ContactPoint] | None = None
    address: list[Address] | None = None
    gender: Literal["male", "female", "other", "unknown"] | None = None
    birth_date: FhirDate | None = Field(None, alias="birthDate")
    qualification: list[Qualification] | None = None


class AvailableTime(HasExtensions):
    days_of_week: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(
        None, alias="daysOfWeek"
    )
    all_day: bool | None = Field(None, alias="allDay")
    available_start_time: str | None = Field(None, alias="availableStartTime")
    available_end_time: str | None = Field(None, alias="availableEndTime")


class PractitionerRole(Resource):
    identifier: list[Identifier] | None = None
    active: bool | None = None
    period: Period | None = None
    practitioner: Reference
    organization: Reference
    code: list[CodeableConcept]
    specialty: list[CodeableConcept] | None = None
    location: list[Reference] | None = None
    telecom: list[ContactPoint] | None = None
    available_time: list[AvailableTime] | None = Field(None, alias="availableTime")


def apply_practitioner_rules(context: WriteContext, practitioner: Practitioner, data: Json) -> Json:
    check_identifier_formats(data, "Practitioner", context)
    check_addresses(context, data, "Practitioner")
    _keep_registrar(context, data)
    return data


def _keep_registrar(context: WriteContext, data: Json) -> None:
    """The registering organization is the server's to record: the caller's at create, the stored one on update."""
    if context.replacing is not None:
        kept = [e for e in context.replacing.get("extension", []) if _is_registrar(e)]
    elif context.caller_organization_id is not None:
        reference = {"reference": f"Organization/{context.caller_organization_id}"}
        kept = [{"url": context.canonical_base + REGISTRAR_PATH, "valueReference": reference}]
    else:
        kept = []  # registered by an operator: no organization owns it
    extensions = [e for e in data.get("extension", []) if not _is_registrar(e)] + kept
    if extensions:
        data["extension"] = extensions
    else:
        data.pop("extension", None)


def apply_role_rules(context: WriteContext, role: PractitionerRole, data: Json) -> Json:
    system = peran_system(context.canonical_base)
    roles = [c.get("code") for concept in data["code"] for c in concept.get("coding", []) if c.get("system") == system]
    if not roles or any(code not in PERAN_CODES for code in roles):
        raise Unprocessable(
            f"PractitionerRole.code needs a coding from {system}: {', '.join(PERAN_CODES)}",
            expression="PractitionerRole.code",
            ilp_code="peran-tidak-valid",
        )
    return data


PRACTITIONER = registry.register(
    ResourceDefinition(
        type="Practitioner",
        model=Practitioner,
        description="Nakes and kader, identified by NIK.",
        apply_rules=apply_practitioner_rules,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "NIK or SATUSEHAT id",
                codes("identifier"),
                example="https://fhir.kemkes.go.id/id/nik|3374064404850002",
            ),
            SearchParameter(
                "name",
                SearchType.STRING,
                "Any part of the name",
                strings("name.text", "name.family", "name.given"),
                example="dewi",
            ),
            SearchParameter(
                "gender", SearchType.TOKEN, "male | female | other | unknown", codes("gender"), example="female"
            ),
            SearchParameter("birthdate", SearchType.DATE, "Birth date", dates("birthDate")),
            SearchParameter("active", SearchType.TOKEN, "true | false", codes("active"), example="true"),
            SearchParameter(
                "registered-by",
                SearchType.REFERENCE,
                "The organization that registered the practitioner (recorded by the server)",
                registrar,
                targets=("Organization",),
            ),
        ),
        default_sort=("name",),
        # Seen by the registering organization's subtree, and through their roles by the organizations they serve.
        scope_rules=(
            ReferencesSubtree("registered-by"),
            ReferencedByVisible("PractitionerRole", "practitioner"),
        ),
    )
)

PRACTITIONER_ROLE = registry.register(
    ResourceDefinition(
        type="PractitionerRole",
        model=PractitionerRole,
        description="Who works where, as what: kader of a posyandu, bidan of a pustu, dokter of a puskesmas.",
        apply_rules=apply_role_rules,
        search_parameters=(
            SearchParameter(
                "practitioner",
                SearchType.REFERENCE,
                "The practitioner",
                references("practitioner"),
                targets=("Practitioner",),
            ),
            SearchParameter(
                "organization",
                SearchType.REFERENCE,
                "Where they work",
                references("organization"),
                targets=("Organization",),
            ),
            SearchParameter(
                "location",
                SearchType.REFERENCE,
                "Places they serve",
                references("location"),
                targets=("Location",),
            ),
            SearchParameter(
                "role", SearchType.TOKEN, "kader | bidan | perawat | dokter | …", codes("code"), example="kader"
            ),
            SearchParameter("active", SearchType.TOKEN, "true | false", codes("active"), example="true"),
        ),
        scope_rules=(ReferencesSubtree("organization"),),
    )
)
