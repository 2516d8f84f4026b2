"""Organization: the health network of a kab/kota, dinkes → puskesmas → pustu → posyandu (profile §1).

Each facility has one facility type from the project's ``jenis-fasilitas`` CodeSystem, a wilayah (the
SATUSEHAT administrativeCode on its address) lying within its parent's, and for a posyandu the RWs it
serves (extension ``cakupan-rw``).

That structure decides what a client bound to the organization sees (security/visibility.py), so a client may
not change it on its own organization, nor delete that organization: only an organization above it in the
hierarchy, or an ``ilp/admin`` operator, may. (Whatever lies above a client is invisible to it already.)

Referral hospitals (``fkrtl``) are listed for every client, since any puskesmas may refer to one and record its
answer (resources/task_workflow.py); listed is not owned: a client writes only the organizations of its own
subtree, and a hospital's belongs to its dinkes. So are insurers (``penjamin``: BPJS Kesehatan, which
``$eligibility`` creates as the payor of the Coverages it writes), which only an operator changes.
"""

from collections.abc import Iterator
from typing import Literal, Protocol

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Address,
    CodeableConcept,
    ContactPoint,
    HasExtensions,
    HumanName,
    Identifier,
    Reference,
    Resource,
)
from ilp_api.fhir.outcome import Forbidden, Issue, Unprocessable
from ilp_api.fhir.registry import (
    Json,
    Ref,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    Token,
    WriteContext,
    codes,
    parse_reference,
    references,
    registry,
    strings,
)
from ilp_api.fhir.visibility_rules import Area, InSubtree, Listed
from ilp_api.ilp.wilayah import is_within, wilayah_problem
from ilp_api.resources.indonesia import (
    address_villages,
    address_wilayah,
    administrative_codes,
    check_addresses,
    most_specific_wilayah,
)

FacilityType = Literal["dinkes", "puskesmas", "pustu", "posyandu", "fkrtl", "penjamin"]
# Which facility types each type may be partOf; None means it may stand at the top.
ALLOWED_PARENTS: dict[str, tuple[str | None, ...]] = {
    "dinkes": (None,),
    "puskesmas": ("dinkes",),
    "pustu": ("puskesmas",),
    "posyandu": ("pustu", "puskesmas"),
    "fkrtl": (None, "dinkes"),
    "penjamin": (None,),
}
REFERRAL_HOSPITAL = "fkrtl"
# An insurer (BPJS Kesehatan): listed for every client, whose residents' Coverage names it as payor.
PAYOR = "penjamin"
FACILITY_TYPE_SYSTEM_PATH = "/CodeSystem/jenis-fasilitas"
MAX_NETWORK_DEPTH = 6  # posyandu → pustu → puskesmas → dinkes, with room to spare


def facility_type_system(canonical_base: str) -> str:
    return canonical_base + FACILITY_TYPE_SYSTEM_PATH


def rw_coverage_url(canonical_base: str) -> str:
    return f"{canonical_base}/StructureDefinition/cakupan-rw"


class OrganizationContact(HasExtensions):
    purpose: CodeableConcept | None = None
    name: HumanName | None = None
    telecom: list[ContactPoint] | None = None
    address: Address | None = None


class Organization(Resource):
    identifier: list[Identifier] | None = None
    active: bool | None = None
    type: list[CodeableConcept]
    name: str
    alias: list[str] | None = None
    telecom: list[ContactPoint] | None = None
    address: list[Address] | None = None
    part_of: Reference | None = Field(None, alias="partOf")
    contact: list[OrganizationContact] | None = None


def facility_type(data: Json, canonical_base: str) -> str | None:
    system = facility_type_system(canonical_base)
    found = [c["code"] for t in data.get("type", []) for c in t.get("coding", []) if c.get("system") == system]
    return found[0] if len(found) == 1 else None


def organization_wilayah(data: Json) -> str | None:
    return next((most_specific_wilayah(administrative_codes(a)) for a in data.get("address", [])), None)


class ReadsResources(Protocol):
    """What walking the network needs: a WriteContext, or an integration's own read-only view."""

    def read(self, reference: Ref) -> Json | None: ...


def network_above(context: ReadsResources, organization: Json | None) -> Iterator[Json]:
    """The organization and each one it is part of, upwards, as the context sees them (what lies above a client
    is out of its sight, so the walk ends there)."""
    current = organization
    for _ in range(MAX_NETWORK_DEPTH):
        if current is None:
            return
        yield current
        parent = parse_reference(current.get("partOf", {}).get("reference", ""))
        current = context.read(parent) if parent is not None and parent.type == "Organization" else None


def in_subtree(context: WriteContext, organization: Json | None, root_id: str) -> bool:
    """Whether ``organization`` is ``root_id`` or lies below it."""
    return any(above.get("id") == root_id for above in network_above(context, organization))


def apply_organization_rules(context: WriteContext, organization: Organization, data: Json) -> Json:
    stored = context.replacing
    if stored is not None and data.get("id") == context.caller_organization_id:
        # The client's own organization: its structure stays as stored, checked when the organization above
        # it (or an operator) set it. The parent lies above the caller, out of its sight: not looked up again.
        _refuse_structural_changes(stored, data, context.canonical_base)
        check_addresses(context, data, "Organization")
        return data
    if stored is not None:
        _refuse_outside_subtree(context, stored)
    system = facility_type_system(context.canonical_base)
    kind = facility_type(data, context.canonical_base)
    if kind is None or kind not in ALLOWED_PARENTS:
        raise Unprocessable(
            f"Organization.type needs exactly one coding from {system} with code {', '.join(ALLOWED_PARENTS)}",
            expression="Organization.type",
            ilp_code="jenis-fasilitas-tidak-valid",
        )
    check_addresses(context, data, "Organization")
    _check_rw_coverage(context, data, kind)
    parent = _parent(context, data)
    _refuse_outside_subtree(context, parent)  # where it goes: under an organization of the caller's subtree
    parent_kind = facility_type(parent, context.canonical_base) if parent else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        allowed = " or ".join("nothing" if p is None else p for p in ALLOWED_PARENTS[kind])
        raise Unprocessable(
            f"A {kind} is partOf {allowed}, not {parent_kind or 'nothing'}",
            expression="Organization.partOf",
            ilp_code="hierarki-fasilitas-tidak-valid",
        )
    own, parents = organization_wilayah(data), organization_wilayah(parent) if parent else None
    if own and parents and not is_within(own, parents):
        raise Unprocessable(
            f"Wilayah {own} lies outside wilayah {parents} of the parent organization ({parent_kind})",
            expression="Organization.address[0].extension('administrativeCode')",
            ilp_code="wilayah-bertentangan-dengan-induk",
        )
    return data


def _structure(data: Json, canonical_base: str) -> dict[str, object]:
    """What decides an organization's reach, by the element a refusal names: its type, parent, wilayah,
    RW coverage and whether it is active."""
    return {
        "Organization.type": facility_type(data, canonical_base),
        "Organization.partOf": parse_reference(data.get("partOf", {}).get("reference", "")),
        "Organization.address": [administrative_codes(address) for address in data.get("address", [])],
        "Organization.extension('cakupan-rw')": sorted(covered_rws(data)),
        "Organization.active": data.get("active") is not False,
    }


def _refuse_structural_changes(stored: Json, data: Json, canonical_base: str) -> None:
    before = _structure(stored, canonical_base)
    changed = [element for element, value in _structure(data, canonical_base).items() if before[element] != value]
    if changed:
        issues = [
            Issue(
                f"{element} is part of your own organization's structure, which decides what your client may see: "
                "only the organization above yours, or an operator with ilp/admin, may change it",
                "forbidden",
                expression=element,
            )
            for element in changed
        ]
        raise Forbidden(issues[0].diagnostics, issues=issues)


def check_organization_delete(context: WriteContext, organization: Json) -> None:
    if organization.get("id") == context.caller_organization_id:
        raise Forbidden(
            "A client cannot delete its own organization: ask the organization above yours, or an operator "
            "with ilp/admin",
            expression="Organization",
        )
    _refuse_outside_subtree(context, organization)


def _refuse_outside_subtree(context: WriteContext, organization: Json | None) -> None:
    """A client sees the listed referral hospitals beside its subtree, but writes only its subtree."""
    caller = context.caller_organization_id
    if caller is not None and not in_subtree(context, organization, caller):
        raise Forbidden(
            "This Organization lies outside your organization's subtree: referral hospitals (fkrtl) are listed "
            "for every client to refer to, but only the organization above one, or an operator with ilp/admin, "
            "may change it",
            expression="Organization",
        )


def _parent(context: WriteContext, data: Json) -> Json | None:
    reference = parse_reference(data.get("partOf", {}).get("reference", ""))
    if reference is None:
        return None
    if reference.type != "Organization":
        raise Unprocessable("partOf must refer to an Organization", expression="Organization.partOf")
    parent = context.read(Ref("Organization", reference.id))
    if parent is None:
        raise Unprocessable(f"Organization/{reference.id} does not exist", expression="Organization.partOf")
    return parent


def _check_rw_coverage(context: WriteContext, data: Json, kind: str) -> None:
    rws = list(_coverage(data, context.canonical_base))
    if rws and kind != "posyandu":
        raise Unprocessable("Only a posyandu covers RWs", expression="Organization.extension('cakupan-rw')")
    for rw in rws:
        if not (len(rw) == 3 and rw.isdigit()):
            raise Unprocessable(
                f"RW '{rw}' must be 3 digits, e.g. 002",
                expression="Organization.extension('cakupan-rw')",
                ilp_code="wilayah-tidak-valid",
            )
    if rws and not any("village" in administrative_codes(a) for a in data.get("address", [])):
        raise Unprocessable(
            "A posyandu that covers RWs needs the desa/kelurahan code (village) on its address",
            expression="Organization.address",
            ilp_code="wilayah-tidak-valid",
        )


def _coverage(data: Json, canonical_base: str) -> Iterator[str]:
    url = rw_coverage_url(canonical_base)
    for extension in data.get("extension", []):
        if extension.get("url") == url and "valueCode" in extension:
            yield extension["valueCode"]


def covered_rws(data: Json) -> Iterator[Token]:
    """RWs a posyandu serves, as ``<village code>|<rw>`` tokens (any canonical base)."""
    village = next((administrative_codes(a).get("village", "") for a in data.get("address", [])), "")
    for extension in data.get("extension", []):
        if extension.get("url", "").endswith("/StructureDefinition/cakupan-rw") and "valueCode" in extension:
            yield Token(village, extension["valueCode"])


ORGANIZATION = registry.register(
    ResourceDefinition(
        type="Organization",
        model=Organization,
        description=(
            "The facility network: dinkes, puskesmas, pustu, posyandu and referral hospitals (fkrtl); and insurers "
            "(penjamin: BPJS Kesehatan)."
        ),
        apply_rules=apply_organization_rules,
        check_delete=check_organization_delete,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "Any identifier, e.g. the SATUSEHAT id",
                codes("identifier"),
                example="100026543",
            ),
            SearchParameter(
                "name",
                SearchType.STRING,
                "Name or alias; prefix, :contains or :exact",
                strings("name", "alias"),
                example="puskesmas",
            ),
            SearchParameter(
                "type",
                SearchType.TOKEN,
                "Facility type: dinkes | puskesmas | pustu | posyandu | fkrtl | penjamin (an insurer)",
                codes("type"),
                example="posyandu",
            ),
            SearchParameter("active", SearchType.TOKEN, "true | false", codes("active"), example="true"),
            SearchParameter(
                "partof",
                SearchType.REFERENCE,
                "The parent organization",
                references("partOf"),
                targets=("Organization",),
            ),
            SearchParameter(
                "wilayah",
                SearchType.TOKEN,
                "Kemendagri wilayah code; matches the wilayah and everything within it (3374 → the whole kota)",
                address_wilayah,
                match_below=True,
                value_problem=wilayah_problem,
                example="3374",
            ),
            SearchParameter(
                "address-village",
                SearchType.TOKEN,
                "Desa/kelurahan code of the address",
                address_villages,
                example="3374011001",
            ),
            SearchParameter(
                "rw",
                SearchType.TOKEN,
                "An RW a posyandu covers: `002` or `<village>|002`",
                covered_rws,
                example="3374011001|002",
            ),
        ),
        default_sort=("name",),
        scope_rules=(
            InSubtree(),
            Listed("type", FACILITY_TYPE_SYSTEM_PATH, REFERRAL_HOSPITAL),
            Listed("type", FACILITY_TYPE_SYSTEM_PATH, PAYOR),
        ),
    )
)


def service_area(organization: Json, canonical_base: str) -> Area | None:
    """Where the residents an organization serves live: its wilayah, and for a posyandu the RWs it covers."""
    wilayah = organization_wilayah(organization)
    if wilayah is None:
        return None
    if facility_type(organization, canonical_base) != "posyandu":
        return Area(wilayah)
    village = next((administrative_codes(a).get("village") for a in organization.get("address", [])), None)
    return Area(wilayah, village, tuple(_coverage(organization, canonical_base)))
