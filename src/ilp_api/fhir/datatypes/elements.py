"""FHIR R4 complex datatypes, the ``[x]`` choice elements and the base of every resource model."""

import re
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from ilp_api.fhir.datatypes.primitives import (
    AbsoluteUri,
    Base64Binary,
    Code,
    Decimal,
    FhirDate,
    FhirDateTime,
    Id,
    Instant,
    Integer,
    Markdown,
    PositiveInt,
    SearchableString,
    Time,
    UnsignedInt,
    Uri,
    ordered,
)


class Element(BaseModel):
    # strict: FHIR JSON types are strict ("active": "true" is not a boolean), and the JSON is stored as sent.
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, str_strip_whitespace=False)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def choice(element: str, *, required: bool = False, **types: Any) -> type[Element]:
    """A base model declaring the choice element ``element[x]`` once: one optional field per type, and a check
    that at most one of them (exactly one when ``required``) is sent, naming the offenders.

    ``types`` maps each type's suffix to its type, e.g. ``choice("value", Quantity=Quantity, String=str)``
    declares ``valueQuantity`` and ``valueString``. Inherit from it beside the model's other bases.
    """
    aliases = {f"{_snake(element)}_{_snake(suffix)}": element + suffix for suffix in types}
    fields: dict[str, Any] = {
        name: (Union[kind, None], Field(None, alias=aliases[name]))  # noqa: UP007 - kind may be a forward reference
        for name, kind in zip(aliases, types.values(), strict=True)
    }

    def one_type(model: Element) -> Element:
        sent = [alias for name, alias in aliases.items() if getattr(model, name) is not None]
        if len(sent) > 1:
            raise ValueError(f"{element}[x] takes one type, but {' and '.join(sent)} were sent: keep one")
        if required and not sent:
            raise ValueError(f"{element}[x] is required: send one of {', '.join(aliases.values())}")
        return model

    validator: Any = model_validator(mode="after")(one_type)
    return create_model(
        f"{element[0].upper()}{element[1:]}Choice",
        __base__=Element,
        __module__=__name__,
        __validators__={f"one_{_snake(element)}_type": validator},
        **fields,
    )


class HasExtensions(Element):
    extension: list["Extension"] | None = None


class Coding(HasExtensions):
    system: AbsoluteUri | None = None
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

    @model_validator(mode="after")
    def _start_not_after_end(self) -> "Period":
        if self.start and self.end and not ordered(self.start, self.end):
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        return self


class Reference(HasExtensions):
    reference: str | None = None
    type: Uri | None = None
    identifier: "Identifier | None" = None
    display: str | None = None


# Names clients write instead of an identifier system, each with what it names and its system, so that the
# refusal can say which system was meant. The resource packages add theirs (resources/indonesia.py: NIK, KK).
IDENTIFIER_SYSTEM_NAMES: dict[str, tuple[str, str]] = {}


class Identifier(HasExtensions):
    use: Code | None = None
    type: CodeableConcept | None = None
    system: AbsoluteUri | None = None
    value: SearchableString | None = None
    period: Period | None = None
    assigner: Reference | None = None

    @field_validator("system", mode="before")
    @classmethod
    def _system_not_a_name(cls, value: Any) -> Any:
        named = IDENTIFIER_SYSTEM_NAMES.get(value.casefold()) if isinstance(value, str) else None
        if named is not None:
            what, system = named
            raise ValueError(f"{value!r} is not an identifier system: the system of a {what} is {system}")
        return value


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


UCUM = "http://unitsofmeasure.org"
# The UCUM codes of time that Age and Duration may carry, and Timing's units (the same, less "ms").
UCUM_TIME_UNITS = ("ms", "s", "min", "h", "d", "wk", "mo", "a")
TimeUnit = Literal["s", "min", "h", "d", "wk", "mo", "a"]


class SimpleQuantity(HasExtensions):
    """A Quantity without a comparator: a value as measured, e.g. a Range's bounds."""

    value: Decimal | None = None
    unit: str | None = None
    system: AbsoluteUri | None = None
    code: Code | None = None

    @model_validator(mode="after")
    def _code_has_system(self) -> "SimpleQuantity":
        if self.code is not None and self.system is None:
            raise ValueError(f"a quantity's code ({self.code}) needs its system, e.g. {UCUM} for UCUM units")
        return self


class Quantity(SimpleQuantity):
    comparator: Literal["<", "<=", ">=", ">"] | None = None


class _DurationOfTime(SimpleQuantity):
    """An amount of time: a UCUM unit of time, and a code whenever there is a value."""

    @model_validator(mode="after")
    def _time_in_ucum(self) -> "_DurationOfTime":
        if self.value is not None and self.code is None:
            raise ValueError(f"a value of time needs its UCUM code, one of {', '.join(UCUM_TIME_UNITS)}")
        if self.system is not None and self.system != UCUM:
            raise ValueError(f"a time's system is UCUM ({UCUM}), not {self.system}")
        if self.system is not None and self.code not in UCUM_TIME_UNITS:
            raise ValueError(f"{self.code} is no UCUM unit of time: use one of {', '.join(UCUM_TIME_UNITS)}")
        return self


class Duration(_DurationOfTime):
    pass


class Age(_DurationOfTime):
    value: Decimal | None = Field(None, gt=0)


class Range(HasExtensions):
    low: SimpleQuantity | None = None
    high: SimpleQuantity | None = None

    @model_validator(mode="after")
    def _low_not_above_high(self) -> "Range":
        low = self.low.value if self.low else None
        high = self.high.value if self.high else None
        in_one_unit = self.low and self.high and self.low.code == self.high.code
        if low is not None and high is not None and in_one_unit and low > high:
            raise ValueError(f"the range's low ({low:g}) is above its high ({high:g})")
        return self


class Ratio(HasExtensions):
    numerator: Quantity | None = None
    denominator: Quantity | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Ratio":
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("a ratio has both a numerator and a denominator, or neither")
        return self


class SampledData(HasExtensions):
    origin: SimpleQuantity
    period: Decimal
    factor: Decimal | None = None
    lower_limit: Decimal | None = Field(None, alias="lowerLimit")
    upper_limit: Decimal | None = Field(None, alias="upperLimit")
    dimensions: PositiveInt
    data: str | None = None


class Annotation(HasExtensions, choice("author", Reference=Reference, String=str)):  # type: ignore[misc]
    time: FhirDateTime | None = None
    text: Markdown


class Attachment(HasExtensions):
    content_type: Code | None = Field(None, alias="contentType")
    language: Code | None = None
    data: Base64Binary | None = None
    url: Uri | None = None
    size: UnsignedInt | None = None
    hash: Base64Binary | None = None
    title: str | None = None
    creation: FhirDateTime | None = None

    @model_validator(mode="after")
    def _data_has_content_type(self) -> "Attachment":
        if self.data is not None and self.content_type is None:
            raise ValueError("an attachment with data needs its contentType, e.g. application/pdf")
        return self


class TimingRepeat(HasExtensions, choice("bounds", Duration=Duration, Range=Range, Period=Period)):  # type: ignore[misc]
    count: PositiveInt | None = None
    count_max: PositiveInt | None = Field(None, alias="countMax")
    duration: Decimal | None = Field(None, ge=0)
    duration_max: Decimal | None = Field(None, ge=0, alias="durationMax")
    duration_unit: TimeUnit | None = Field(None, alias="durationUnit")
    frequency: PositiveInt | None = None
    frequency_max: PositiveInt | None = Field(None, alias="frequencyMax")
    period: Decimal | None = Field(None, ge=0)
    period_max: Decimal | None = Field(None, ge=0, alias="periodMax")
    period_unit: TimeUnit | None = Field(None, alias="periodUnit")
    day_of_week: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(None, alias="dayOfWeek")
    time_of_day: list[Time] | None = Field(None, alias="timeOfDay")
    when: list[Code] | None = None
    offset: UnsignedInt | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TimingRepeat":
        """The invariants tim-1, tim-2 and tim-6 to tim-10 of FHIR R4, each in words."""
        needs = [
            (self.duration is not None and self.duration_unit is None, "a duration needs its durationUnit"),
            (self.period is not None and self.period_unit is None, "a period needs its periodUnit"),
            (self.period_max is not None and self.period is None, "periodMax needs a period"),
            (self.duration_max is not None and self.duration is None, "durationMax needs a duration"),
            (self.count_max is not None and self.count is None, "countMax needs a count"),
            (self.offset is not None and not self.when, "an offset needs a when"),
            (bool(self.time_of_day and self.when), "timeOfDay and when cannot both be given"),
        ]
        for broken, message in needs:
            if broken:
                raise ValueError(message)
        return self


class Timing(HasExtensions):
    event: list[FhirDateTime] | None = None
    repeat: TimingRepeat | None = None
    code: CodeableConcept | None = None


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


# The types ILP API takes for an element of FHIR's open type ``*`` (Extension.value[x], Task.input.value[x]), by
# their suffix: ``choice("value", **OPEN_TYPES)``.
OPEN_TYPES: dict[str, Any] = {
    "String": str,
    "Code": Code,
    "Boolean": bool,
    "Integer": Integer,
    "Decimal": Decimal,
    "Date": FhirDate,
    "DateTime": FhirDateTime,
    "Uri": Uri,
    "Coding": Coding,
    "CodeableConcept": CodeableConcept,
    "Reference": Reference,
    "Identifier": Identifier,
    "Period": Period,
    "Quantity": Quantity,
}
ExtensionValue = choice("value", **OPEN_TYPES)


class Extension(ExtensionValue):  # type: ignore[misc, valid-type]
    url: Uri
    extension: list["Extension"] | None = None

    @model_validator(mode="after")
    def _value_or_extensions(self) -> "Extension":
        if self.extension and any(value is not None for name, value in self if name.startswith("value_")):
            raise ValueError("an extension has either a value[x] or nested extensions, not both")
        return self


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


# Every model above that names Extension (through HasExtensions) or Identifier before their definition.
for _model in [value for value in globals().values() if isinstance(value, type) and issubclass(value, Element)]:
    _model.model_rebuild()
