"""SMART scope parsing and what scopes grant: pure functions, table-driven."""

import pytest

from ilp_api.security.smart_scopes import (
    ResourceScope,
    covers,
    grants,
    parse_resource_scope,
    split_scopes,
    validate_scopes,
)


@pytest.mark.parametrize(
    ("scope", "resource_type", "interactions"),
    [
        ("system/Patient.rs", "Patient", "rs"),
        ("system/Encounter.cruds", "Encounter", "cruds"),
        ("system/*.rs", "*", "rs"),
        ("system/Observation.c", "Observation", "c"),
        ("system/Patient.ud", "Patient", "ud"),
        # SMART v1, mapped as SMART v2 specifies
        ("system/Patient.read", "Patient", "rs"),
        ("system/Patient.write", "Patient", "cud"),
        ("system/Patient.*", "Patient", "cruds"),
        ("system/*.*", "*", "cruds"),
    ],
)
def test_parse_resource_scope(scope: str, resource_type: str, interactions: str) -> None:
    assert parse_resource_scope(scope) == ResourceScope(resource_type, frozenset(interactions))


@pytest.mark.parametrize(
    "scope",
    [
        "patient/Patient.rs",  # needs a patient context client credentials never have
        "user/*.cruds",
        "system/Patient",
        "system/Patient.",
        "system/patient.rs",  # resource types start upper-case
        "system/Patient.sr",  # v2 letters must be in c r u d s order
        "system/Patient.rr",
        "system/Patient.x",
        "system/Patient.rs?category=vital-signs",  # query-restricted scopes are not supported
        "system/Pat-ient.rs",
        "ilp/other",
        "openid",
        "",
    ],
)
def test_parse_resource_scope_rejects(scope: str) -> None:
    with pytest.raises(ValueError, match=r"scope|permissions"):
        parse_resource_scope(scope)


@pytest.mark.parametrize(
    ("scopes", "resource_type", "interaction", "granted"),
    [
        (["system/Patient.rs"], "Patient", "r", True),
        (["system/Patient.rs"], "Patient", "s", True),
        (["system/Patient.rs"], "Patient", "c", False),
        (["system/Patient.rs"], "Encounter", "r", False),
        (["system/*.rs"], "Encounter", "s", True),
        (["system/*.rs"], "Encounter", "u", False),
        (["system/*.rs"], "*", "r", True),
        (["system/Patient.cruds"], "*", "r", False),  # every type at once needs a wildcard
        (["system/Patient.rs", "system/Patient.cud"], "Patient", "d", True),
        (["system/Patient.write"], "Patient", "u", True),
        (["system/Patient.read"], "Patient", "u", False),
        (["ilp/admin"], "Patient", "r", False),
        (["garbage", "system/Patient.r"], "Patient", "r", True),  # unknown scopes grant nothing, but do no harm
        ([], "Patient", "r", False),
    ],
)
def test_grants(scopes: list[str], resource_type: str, interaction: str, granted: bool) -> None:
    assert grants(scopes, resource_type, interaction) is granted


@pytest.mark.parametrize(
    ("granted", "requested", "covered"),
    [
        (["system/*.cruds"], "system/Patient.rs", True),
        (["system/*.cruds"], "system/*.rs", True),
        (["system/Patient.rs"], "system/Patient.read", True),
        (["system/Patient.read"], "system/Patient.rs", True),
        (["system/Patient.rs"], "system/Patient.cruds", False),
        (["system/Patient.cruds"], "system/*.rs", False),
        (["system/*.rs"], "system/Patient.c", False),
        (["ilp/admin"], "ilp/admin", True),
        (["system/*.cruds"], "ilp/admin", False),
    ],
)
def test_covers(granted: list[str], requested: str, covered: bool) -> None:
    assert covers(granted, requested) is covered


def test_covers_rejects_unknown_requested_scope() -> None:
    with pytest.raises(ValueError, match="not a system"):
        covers(["system/*.cruds"], "patient/*.rs")


def test_split_scopes_keeps_order_and_drops_duplicates() -> None:
    assert split_scopes("  system/*.rs ilp/admin\tsystem/*.rs ") == ["system/*.rs", "ilp/admin"]


def test_validate_scopes() -> None:
    assert validate_scopes("system/*.cruds ilp/admin") == ["system/*.cruds", "ilp/admin"]
    with pytest.raises(ValueError, match="at least one scope"):
        validate_scopes("   ")
    with pytest.raises(ValueError, match="'openid'"):
        validate_scopes("system/*.rs openid")
