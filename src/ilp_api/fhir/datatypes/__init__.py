"""FHIR R4 datatypes as strict pydantic models: the ingest gate for client writes.

The models are written by hand, not generated from the FHIR R4 StructureDefinitions, because what they do
beyond the definitions is the point: they cover only the elements ILP API stores (an element it does not
know is refused by ``extra="forbid"``, so a misspelt one is reported instead of silently dropped), they keep
searchable values within the index (fhir/tables.py), they carry the invariants in words a clinic developer
can act on (a period that ends before it starts, a quantity's code without its system), and they are cheap
enough to run on every write. A generator would bring the whole R4 surface (hundreds of elements nobody
sends), its own naming, and a build step, and the hand-written additions would still be needed on top.
fhir.resources, which is generated, stays in the tests: it proves that what these models accept is valid
FHIR and that what they refuse is refused there too (tests/fhir/test_datatypes.py).

- ``primitives``: the primitive types (annotated str/int/float) and the hints shown instead of their patterns;
- ``elements``: the complex types, the ``[x]`` choice helper, and ``Resource``;
- ``json_rules``: what FHIR JSON forbids whatever the element, and the server's bounds.
"""

from ilp_api.fhir.datatypes.elements import (
    IDENTIFIER_SYSTEM_NAMES,
    OPEN_TYPES,
    UCUM,
    Address,
    Age,
    Annotation,
    Attachment,
    CodeableConcept,
    Coding,
    ContactPoint,
    Duration,
    Element,
    Extension,
    HasExtensions,
    HumanName,
    Identifier,
    Meta,
    Narrative,
    Period,
    Quantity,
    Range,
    Ratio,
    Reference,
    Resource,
    SampledData,
    SimpleQuantity,
    Timing,
    TimingRepeat,
    choice,
)
from ilp_api.fhir.datatypes.json_rules import MAX_ELEMENT_NAME, json_problems
from ilp_api.fhir.datatypes.primitives import (
    ABSOLUTE_URI_PATTERN,
    CONTROL_CHARACTER,
    FORMAT_HINTS,
    ID_PATTERN,
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
    days,
    parse_date,
    real_calendar_date,
)

__all__ = [
    "ABSOLUTE_URI_PATTERN",
    "CONTROL_CHARACTER",
    "FORMAT_HINTS",
    "IDENTIFIER_SYSTEM_NAMES",
    "ID_PATTERN",
    "MAX_ELEMENT_NAME",
    "OPEN_TYPES",
    "UCUM",
    "AbsoluteUri",
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "Base64Binary",
    "Code",
    "CodeableConcept",
    "Coding",
    "ContactPoint",
    "Decimal",
    "Duration",
    "Element",
    "Extension",
    "FhirDate",
    "FhirDateTime",
    "HasExtensions",
    "HumanName",
    "Id",
    "Identifier",
    "Instant",
    "Integer",
    "Markdown",
    "Meta",
    "Narrative",
    "Period",
    "PositiveInt",
    "Quantity",
    "Range",
    "Ratio",
    "Reference",
    "Resource",
    "SampledData",
    "SearchableString",
    "SimpleQuantity",
    "Time",
    "Timing",
    "TimingRepeat",
    "UnsignedInt",
    "Uri",
    "choice",
    "days",
    "json_problems",
    "parse_date",
    "real_calendar_date",
]
