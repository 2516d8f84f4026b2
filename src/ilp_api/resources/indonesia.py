"""Identifier systems, the SATUSEHAT address extension and wilayah checks shared by several resources."""

from collections.abc import Iterator
from typing import Any

from ilp_api.fhir.outcome import Issue, Unprocessable
from ilp_api.fhir.registry import Json, Token, WriteContext
from ilp_api.ilp.nik import NIK_ERROR, InvalidNik, decode_nik
from ilp_api.ilp.wilayah import hierarchy_problem, wilayah_problem

KEMKES_ID = "https://fhir.kemkes.go.id/id"
NIK = f"{KEMKES_ID}/nik"
NIK_IBU = f"{KEMKES_ID}/nik-ibu"
KK = f"{KEMKES_ID}/kk"
IHS_NUMBER = f"{KEMKES_ID}/ihs-number"
ADMINISTRATIVE_CODE = "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode"
# Sub-extensions in order of nesting, with the digits each must have.
WILAYAH_PARTS = {"province": 2, "city": 4, "district": 6, "village": 10}
RT_RW_PARTS = ("rt", "rw")
NAME_FIELDS = {"province": "state", "city": "city", "district": "district"}


def bpjs_system(canonical_base: str) -> str:
    """BPJS has no published FHIR system for noKartu: the project names one under its canonical base."""
    return f"{canonical_base}/sid/bpjs-nokartu"


def administrative_codes(address: Json) -> dict[str, str]:
    """``{"province": "33", "city": "3374", ..., "rw": "002"}`` from one address's extension."""
    codes: dict[str, str] = {}
    for extension in address.get("extension", []):
        if extension.get("url") == ADMINISTRATIVE_CODE:
            for part in extension.get("extension", []):
                if "valueCode" in part:
                    codes[part["url"]] = part["valueCode"]
    return codes


def most_specific_wilayah(codes: dict[str, str]) -> str | None:
    return max((codes[p] for p in WILAYAH_PARTS if p in codes), key=len, default=None)


def check_addresses(context: WriteContext, data: Json, root: str) -> list[dict[str, str]]:
    """Validate every address's wilayah codes; fill in known names. Returns each address's codes."""
    all_codes = []
    known_names: dict[str, str] | None = None
    addresses = data.get("address", [])
    if isinstance(addresses, dict):  # Location.address is a single Address
        addresses = [addresses]
    for index, address in enumerate(addresses):
        path = f"{root}.address[{index}]" if root.split(".")[0] != "Location" else f"{root}.address"
        codes = administrative_codes(address)
        issues = list(_structure_issues(codes, path))
        if issues:
            raise Unprocessable(issues[0].diagnostics, issues=issues)
        wilayah_codes = [codes[p] for p in WILAYAH_PARTS if p in codes]
        if wilayah_codes and context.wilayah.is_loaded():
            known_names = context.wilayah.names(wilayah_codes)
            unknown = [code for code in wilayah_codes if code not in known_names]
            if unknown:
                raise Unprocessable(
                    f"Wilayah code {unknown[0]} is not in the imported Kemendagri list",
                    expression=f"{path}.extension('administrativeCode')",
                    ilp_code="wilayah-tidak-dikenal",
                )
            for part, field in NAME_FIELDS.items():
                if part in codes and field not in address:
                    address[field] = known_names[codes[part]]
        all_codes.append(codes)
    return all_codes


def _structure_issues(codes: dict[str, str], path: str) -> Iterator[Issue]:
    expression = f"{path}.extension('administrativeCode')"
    for part, digits in WILAYAH_PARTS.items():
        if part not in codes:
            continue
        problem = wilayah_problem(codes[part])
        if problem is None and len(codes[part]) != digits:
            problem = f"a {part} code has {digits} digits"
        if problem:
            yield Issue(
                f"{part} '{codes[part]}': {problem}",
                expression=f"{expression}.{part}",
                ilp_code="wilayah-tidak-valid",
            )
    hierarchy = hierarchy_problem([codes[p] for p in WILAYAH_PARTS if p in codes])
    if hierarchy:
        yield Issue(
            f"Wilayah codes contradict each other: {hierarchy}",
            expression=expression,
            ilp_code="wilayah-tidak-valid",
        )
    for part in RT_RW_PARTS:
        if part in codes and not (len(codes[part]) == 3 and codes[part].isdigit()):
            yield Issue(
                f"{part} '{codes[part]}' must be 3 digits, e.g. 002",
                expression=f"{expression}.{part}",
                ilp_code="wilayah-tidak-valid",
            )


def check_identifier_formats(data: Json, root: str, context: WriteContext) -> None:
    """NIK (V1–V5), mother's NIK, KK and BPJS number formats; one NIK per person."""
    issues = []
    bpjs = bpjs_system(context.canonical_base)
    nik_count = 0
    for index, identifier in enumerate(data.get("identifier", [])):
        system, value = identifier.get("system"), identifier.get("value", "")
        path = f"{root}.identifier[{index}].value"
        if system in (NIK, NIK_IBU):
            nik_count += system == NIK
            try:
                decode_nik(value, context.today)
            except InvalidNik as error:
                issues.append(
                    Issue(
                        f"NIK {_mask(value)} is not valid: {error}",
                        expression=path,
                        ilp_code=NIK_ERROR,
                    )
                )
        elif system == KK and not (len(value) == 16 and value.isdigit()):
            issues.append(Issue("A KK number is exactly 16 digits", expression=path, ilp_code="kk-tidak-valid"))
        elif system == bpjs and not (len(value) == 13 and value.isdigit()):
            issues.append(
                Issue(
                    "A BPJS card number (noKartu) is exactly 13 digits, leading zeros kept",
                    expression=path,
                    ilp_code="bpjs-tidak-valid",
                )
            )
    if nik_count > 1:
        issues.append(Issue("A person has one NIK", expression=f"{root}.identifier", ilp_code=NIK_ERROR))
    if issues:
        raise Unprocessable(issues[0].diagnostics, issues=issues)


def _mask(value: str) -> str:
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else "***"


# ---- search extractors over the administrativeCode extension ----


def address_villages(resource: Json) -> Iterator[Token]:
    for address in _addresses(resource):
        codes = administrative_codes(address)
        if "village" in codes:
            yield Token("", codes["village"])


def address_wilayah(resource: Json) -> Iterator[Token]:
    """The most specific wilayah of each address; searched with :below semantics (prefix)."""
    for address in _addresses(resource):
        code = most_specific_wilayah(administrative_codes(address))
        if code:
            yield Token("", code)


def address_rws(resource: Json) -> Iterator[Token]:
    """RW as a token whose system is the village code: ``rw=3374011001|002`` or just ``rw=002``."""
    for address in _addresses(resource):
        codes = administrative_codes(address)
        if "rw" in codes:
            yield Token(codes.get("village", ""), codes["rw"])


def _addresses(resource: Json) -> list[Any]:
    addresses = resource.get("address", [])
    return [addresses] if isinstance(addresses, dict) else list(addresses)
