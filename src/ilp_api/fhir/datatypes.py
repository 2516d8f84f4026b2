"""FHIR R4 datatypes as strict pydantic models: the ingest gate for client writes.

These cover the elements ILP API stores and searches. They reject unknown elements (``extra="forbid"``),
so a misspelt element is reported instead of silently dropped. They are far cheaper than fhir.resources
(which the tests use to prove every response conforms), so they can run on every write.
"""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ilp_api.fhir.limits import Limits
from ilp_api.fhir.tables import INDEXED_TEXT_LENGTH

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# FHIR strings may hold tab, CR and LF but no other character below U+0020 (PostgreSQL refuses NUL, too).
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern)]
# Codes, URIs, identifier values and telecom values are what searches find, so they must fit the index.
Code = Annotated[str, StringConstraints(pattern=r"^[^\s]+( [^\s]+)*$", max_length=INDEXED_TEXT_LENGTH)]
Uri = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=INDEXED_TEXT_LENGTH)]
SearchableString = Annotated[str, StringConstraints(max_length=INDEXED_TEXT_LENGTH)]

DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
# A dateTime with a time must carry a time zone (FHIR R4); a date alone is allowed.
DATE_TIME_PATTERN = (
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$"
)
INSTANT_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$"
)
# What a client is told instead of the pattern its value missed.
FORMAT_HINTS = {
    DATE_PATTERN: "a FHIR date is YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2000-12-03",
    DATE_TIME_PATTERN: "a FHIR dateTime is a date, or a date and time with a zone, e.g. 2026-11-22T09:30:00+07:00",
    INSTANT_PATTERN: "a FHIR instant is a date and time with a zone, e.g. 2026-11-22T09:30:00+07:00",
    ID_PATTERN.pattern: "an id is 1 to 64 letters, digits, '-' and '.'",
}


def real_calendar_date(value: str) -> str:
    """The patterns allow 2023-02-30 and year 0000; FHIR dates are real calendar dates from year 0001."""
    if value[:4] == "0000":
        raise ValueError("year 0000 does not exist: years start at 0001")
    try:
        date.fromisoformat(value[:10] if len(value) >= 10 else value[:4] + "-01-01")
    except ValueError:
        raise ValueError(f"{value[:10]} is not a day of the calendar") from None
    return value


FhirDate = Annotated[str, StringConstraints(pattern=DATE_PATTERN), AfterValidator(real_calendar_date)]
FhirDateTime = Annotated[str, StringConstraints(pattern=DATE_TIME_PATTERN), AfterValidator(real_calendar_date)]
Instant = Annotated[str, StringConstraints(pattern=INSTANT_PATTERN), AfterValidator(real_calendar_date)]
Decimal = float
# FHIR integers are 32-bit signed.
Integer = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
PositiveInt = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Element(BaseModel):
    # strict: FHIR JSON types are strict ("active": "true" is not a boolean), and the JSON is stored as sent.
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, str_strip_whitespace=False)


class Extension(Element):
    url: Uri
    extension: list["Extension"] | None = None
    value_string: str | None = Field(None, alias="valueString")
    value_code: Code | None = Field(None, alias="valueCode")
    value_boolean: bool | None = Field(None, alias="valueBoolean")
    value_integer: Integer | None = Field(None, alias="valueInteger")
    value_decimal: Decimal | None = Field(None, alias="valueDecimal")
    value_date: FhirDate | None = Field(None, alias="valueDate")
    value_date_time: FhirDateTime | None = Field(None, alias="valueDateTime")
    value_uri: Uri | None = Field(None, alias="valueUri")
    value_coding: "Coding | None" = Field(None, alias="valueCoding")
    value_codeable_concept: "CodeableConcept | None" = Field(None, alias="valueCodeableConcept")
    value_reference: "Reference | None" = Field(None, alias="valueReference")
    value_identifier: "Identifier | None" = Field(None, alias="valueIdentifier")
    value_period: "Period | None" = Field(None, alias="valuePeriod")

    @model_validator(mode="after")
    def _value_or_extensions(self) -> "Extension":
        values = [name for name, value in self if name.startswith("value_") and value is not None]
        if len(values) > 1:
            raise ValueError("an extension has at most one value[x]")
        if values and self.extension:
            raise ValueError("an extension has either a value[x] or nested extensions, not both")
        return self


class HasExtensions(Element):
    extension: list[Extension] | None = None


class Coding(HasExtensions):
    system: Uri | None = None
    version: str | None = None
    code: Code | None = None
    display: str | None = None
    user_selected: bool | None = Field(None, alias="userSelected")


class CodeableConcept(HasExtensions):
    coding: list[Coding] | None = None
    text: str | None = None


class Period(HasExtensions):
    start: FhirDateTime | None = None
    end: FhirDateTime | None = None


class Reference(HasExtensions):
    reference: str | None = None
    type: Uri | None = None
    identifier: "Identifier | None" = None
    display: str | None = None


class Identifier(HasExtensions):
    use: Code | None = None
    type: CodeableConcept | None = None
    system: Uri | None = None
    value: SearchableString | None = None
    period: Period | None = None
    assigner: Reference | None = None


class HumanName(HasExtensions):
    use: Code | None = None
    text: str | None = None
    family: str | None = None
    given: list[str] | None = None
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    period: Period | None = None


class ContactPoint(HasExtensions):
    system: Code | None = None
    value: SearchableString | None = None
    use: Code | None = None
    rank: PositiveInt | None = None
    period: Period | None = None


class Address(HasExtensions):
    use: Code | None = None
    type: Code | None = None
    text: str | None = None
    line: list[str] | None = None
    city: str | None = None
    district: str | None = None
    state: str | None = None
    postal_code: str | None = Field(None, alias="postalCode")
    country: str | None = None
    period: Period | None = None


class Meta(HasExtensions):
    """Client-sent ``versionId`` and ``lastUpdated`` are accepted and then replaced by the server."""

    version_id: Id | None = Field(None, alias="versionId")
    last_updated: Instant | None = Field(None, alias="lastUpdated")
    source: Uri | None = None
    profile: list[Uri] | None = None
    security: list[Coding] | None = None
    tag: list[Coding] | None = None


class Narrative(HasExtensions):
    status: Code
    div: str


class Resource(Element):
    """Base of every resource model. ``resourceType`` is checked by the router before validation."""

    resource_type: str = Field(alias="resourceType")
    id: Id | None = None
    meta: Meta | None = None
    implicit_rules: Uri | None = Field(None, alias="implicitRules")
    language: Code | None = None
    text: Narrative | None = None
    extension: list[Extension] | None = None
    modifier_extension: list[Extension] | None = Field(None, alias="modifierExtension")


def parse_date(value: str) -> date | None:
    """The full date of a FHIR date/dateTime, or None for a partial one (``1990`` or ``1990-05``)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return date.fromisoformat(value[:10])
    return None


def nests_deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON nests objects and arrays more than ``limit`` levels deep.

    Iterative, because it runs before anything that recurses (validation, the checks below, the JSON encoder).
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# The longest FHIR R4 element name has fewer than 40 characters.
MAX_ELEMENT_NAME = 64


def json_problems(data: Any, path: str, limits: Limits) -> list[tuple[str, str, str]]:
    """What FHIR JSON forbids (null, empty values, control characters) and what exceeds ``limits``.

    Each problem is (path, message, OperationOutcome issue code). Call it only on JSON that passed
    ``nests_deeper_than``: it recurses.
    """
    problems: list[tuple[str, str, str]] = []
    if data is None:
        problems.append((path, "null is not allowed in FHIR JSON; leave the element out", "invalid"))
    elif isinstance(data, str):
        if not data.strip():
            problems.append((path, "empty strings are not allowed in FHIR JSON; leave the element out", "invalid"))
        elif len(data) > limits.string_length:
            message = f"{len(data)} characters are more than the {limits.string_length} a string may have"
            problems.append((path, message, "too-long"))
        elif CONTROL_CHARACTER.search(data):
            message = "control characters (other than tab, CR and LF) are not allowed in FHIR strings"
            problems.append((path, message, "invalid"))
    elif isinstance(data, list):
        if not data:
            problems.append((path, "empty arrays are not allowed in FHIR JSON; leave the element out", "invalid"))
        elif len(data) > limits.array_items:
            message = f"{len(data)} items are more than the {limits.array_items} an array may have"
            return [(path, message, "too-long")]
        for index, item in enumerate(data):
            problems.extend(json_problems(item, f"{path}[{index}]", limits))
    elif isinstance(data, dict):
        if not data:
            problems.append((path, "empty objects are not allowed in FHIR JSON; leave the element out", "invalid"))
        for key, value in data.items():
            if CONTROL_CHARACTER.search(key) or len(key) > MAX_ELEMENT_NAME:
                message = f"element names have at most {MAX_ELEMENT_NAME} characters and no control characters"
                problems.append((path, message, "invalid"))
                continue
            problems.extend(json_problems(value, f"{path}.{key}", limits))
    return problems


Extension.model_rebuild()
Reference.model_rebuild()
