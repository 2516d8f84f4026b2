"""FHIR R4 primitive types as annotated ``str``/``int``/``float``, with the hints a client is shown instead of
a regular expression when its value does not match."""

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from ilp_api.fhir.tables import INDEXED_TEXT_LENGTH

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# FHIR strings may hold tab, CR and LF but no other character below U+0020 (PostgreSQL refuses NUL, too).
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern)]
# Codes, URIs, identifier values and telecom values are what searches find, so they must fit the index.
Code = Annotated[str, StringConstraints(pattern=r"^[^\s]+( [^\s]+)*$", max_length=INDEXED_TEXT_LENGTH)]
# A uri may be relative (Reference.type "Patient", a complex extension's part "rw").
Uri = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=INDEXED_TEXT_LENGTH)]
# Where FHIR names a namespace (Identifier.system, Coding.system, Quantity.system) the uri must be absolute,
# or a search by system|value never finds it. A scheme, a colon, no blank: simple enough for schemathesis.
ABSOLUTE_URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"
AbsoluteUri = Annotated[str, StringConstraints(pattern=ABSOLUTE_URI_PATTERN, max_length=INDEXED_TEXT_LENGTH)]
SearchableString = Annotated[str, StringConstraints(max_length=INDEXED_TEXT_LENGTH)]
Markdown = str

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
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?$"
BASE64_PATTERN = r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# What a client is told instead of the pattern its value missed.
FORMAT_HINTS = {
    DATE_PATTERN: "a FHIR date is YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2000-12-03",
    DATE_TIME_PATTERN: "a FHIR dateTime is a date, or a date and time with a zone, e.g. 2026-11-22T09:30:00+07:00",
    INSTANT_PATTERN: "a FHIR instant is a date and time with a zone, e.g. 2026-11-22T09:30:00+07:00",
    TIME_PATTERN: "a FHIR time is hh:mm:ss, e.g. 09:30:00",
    BASE64_PATTERN: "base64Binary is standard base64 (A-Z, a-z, 0-9, + and /, padded with =)",
    ABSOLUTE_URI_PATTERN: "this names a namespace, so it is an absolute URI (a scheme and a colon first), "
    "e.g. http://loinc.org or urn:oid:2.16.840.1.113883.6.1",
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
Time = Annotated[str, StringConstraints(pattern=TIME_PATTERN)]
Base64Binary = Annotated[str, StringConstraints(pattern=BASE64_PATTERN)]
# A float to compute with; fhir/json.py keeps the digits the client sent, which are what is stored and returned.
Decimal = float
# FHIR integers are 32-bit signed.
Integer = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
PositiveInt = Annotated[int, Field(ge=1, le=2**31 - 1)]
UnsignedInt = Annotated[int, Field(ge=0, le=2**31 - 1)]


def parse_date(value: str) -> date | None:
    """The full date of a FHIR date/dateTime, or None for a partial one (``1990`` or ``1990-05``)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return date.fromisoformat(value[:10])
    return None


def days(value: str) -> tuple[date, date]:
    """The first and the last day a valid FHIR date (or a dateTime's date) means: ``2026-05`` is all of May."""
    year, month, day = (int(part) for part in (value[:10] + "-00-00").split("-")[:3])
    first = date(year, month or 1, day or 1)
    if day:
        return first, first
    if month:
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, first.replace(month=12, day=31)


# A date without a time has no zone: beside a time, it may be the day anywhere on earth, UTC+14 to UTC-12.
_EARLIEST_ZONE = timezone(timedelta(hours=14))
_LATEST_ZONE = timezone(timedelta(hours=-12))


def moments(value: str) -> tuple[datetime, datetime]:
    """The first and the last moment a valid FHIR date or dateTime can mean."""
    if "T" in value:
        # Minutes and zones never reach 60, so ":60" is a leap second: one moment is as good as the next here.
        moment = datetime.fromisoformat(value.replace(":60", ":59"))
        return moment, moment
    first, last = days(value)
    return (
        datetime.combine(first, datetime.min.time(), _EARLIEST_ZONE),
        datetime.combine(last, datetime.max.time(), _LATEST_ZONE),
    )


def ordered(start: str, end: str) -> bool:
    """Whether ``start`` can lie at or before ``end``: false only when every reading of them says otherwise."""
    if "T" in start or "T" in end:
        return moments(start)[0] <= moments(end)[1]
    return days(start)[0] <= days(end)[1]
