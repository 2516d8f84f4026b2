"""Location: where services happen (a puskesmas building, a posyandu's meeting place)."""

from typing import Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Address,
    CodeableConcept,
    Coding,
    ContactPoint,
    HasExtensions,
    Identifier,
    Reference,
    Resource,
)
from ilp_api.fhir.registry import (
    Json,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    WriteContext,
    codes,
    references,
    registry,
    strings,
)
from ilp_api.fhir.visibility_rules import ReferencesSubtree
from ilp_api.ilp.wilayah import wilayah_problem
from ilp_api.resources.indonesia import address_villages, address_wilayah, check_addresses


class Position(HasExtensions):
    longitude: float = Field(ge=-180, le=180)
    latitude: float = Field(ge=-90, le=90)
    altitude: float | None = None


class Location(Resource):
    identifier: list[Identifier] | None = None
    status: Literal["active", "suspended", "inactive"] | None = None
    operational_status: Coding | None = Field(None, alias="operationalStatus")
    name: str
    alias: list[str] | None = None
    description: str | None = None
    mode: Literal["instance", "kind"] | None = None
    type: list[CodeableConcept] | None = None
    telecom: list[ContactPoint] | None = None
    address: Address | None = None
    physical_type: CodeableConcept | None = Field(None, alias="physicalType")
    position: Position | None = None
    managing_organization: Reference | None = Field(None, alias="managingOrganization")
    part_of: Reference | None = Field(None, alias="partOf")


def apply_location_rules(context: WriteContext, location: Location, data: Json) -> Json:
    check_addresses(context, data, "Location")
    return data


LOCATION = registry.register(
    ResourceDefinition(
        type="Location",
        model=Location,
        description="Service places of the network, each managed by an Organization.",
        apply_rules=apply_location_rules,
        search_parameters=(
            SearchParameter(
                "identifier", SearchType.TOKEN, "Any identifier", codes("identifier"), example="P3374011001-R01"
            ),
            SearchParameter("name", SearchType.STRING, "Name or alias", strings("name", "alias"), example="posyandu"),
            SearchParameter(
                "status", SearchType.TOKEN, "active | suspended | inactive", codes("status"), example="active"
            ),
            SearchParameter("type", SearchType.TOKEN, "Location type", codes("type"), example="HOSP"),
            SearchParameter(
                "organization",
                SearchType.REFERENCE,
                "The managing organization",
                references("managingOrganization"),
                targets=("Organization",),
            ),
            SearchParameter(
                "partof",
                SearchType.REFERENCE,
                "The enclosing location",
                references("partOf"),
                targets=("Location",),
            ),
            SearchParameter(
                "wilayah",
                SearchType.TOKEN,
                "Wilayah code and below",
                address_wilayah,
                match_below=True,
                value_problem=wilayah_problem,
                example="3374",
            ),
            SearchParameter(
                "address-village", SearchType.TOKEN, "Desa/kelurahan code", address_villages, example="3374011001"
            ),
        ),
        default_sort=("name",),
        scope_rules=(ReferencesSubtree("organization"),),
    )
)
