"""SATUSEHAT's wire facts shared by the client, the mapping and the simulator (shared/reference/satusehat.md):
identifier systems, the RuleNumber in an OperationOutcome, and the one datetime form it takes."""

import re
from datetime import UTC, date, datetime
from typing import Any

Json = dict[str, Any]

NIK = "https://fhir.kemkes.go.id/id/nik"
NIK_IBU = "https://fhir.kemkes.go.id/id/nik-ibu"  # a newborn registered under the mother's NIK
IHS_NUMBER = "https://fhir.kemkes.go.id/id/ihs-number"
NAKES_IHS_NUMBER = "https://fhir.kemkes.go.id/id/nakes-his-number"
KEMKES_QUESTIONNAIRE = "https://fhir.kemkes.go.id/Questionnaire/"
SYS_IDS = "http://sys-ids.kemkes.go.id"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICD_10 = "http://hl7.org/fhir/sid/icd-10"
KFA = "http://sys-ids.kemkes.go.id/kfa"
KEMKES_TERMINOLOGY = "http://terminology.kemkes.go.id/CodeSystem/"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# The earliest datetime SATUSEHAT takes (satusehat.md §6, unverified upper docs value; rejected locally too).
EARLIEST = datetime(2014, 6, 3, tzinfo=UTC)
UTC_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
ANY_OFFSET_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
RULE_NUMBER = re.compile(r"RuleNumber:\s*(\d+)")
DUPLICATE = "20002"


def business_id_system(kind: str, organization_id: str) -> str:
    """``http://sys-ids.kemkes.go.id/<kind>/<org>``: identifiers are the sender's own (its Organization id)."""
    return f"{SYS_IDS}/{kind}/{organization_id}"


def rule_numbers(outcome: Json | None) -> tuple[str, ...]:
    """Every RuleNumber an OperationOutcome names, in order, each once (satusehat.md §7)."""
    found: list[str] = []
    for issue in (outcome or {}).get("issue", []):
        texts = (issue.get("details", {}).get("text", ""), issue.get("diagnostics", ""))
        for text in texts:
            for number in RULE_NUMBER.findall(str(text)):
                if number not in found:
                    found.append(number)
    return tuple(found)


def utc(value: str) -> str:
    """A FHIR dateTime as SATUSEHAT takes it: UTC, seconds, ``+00:00``. A date alone becomes its midnight UTC
    (SATUSEHAT rejects dates without a time where a dateTime is due)."""
    if len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError(f"{value} has a time but no offset")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_datetime(value: str) -> datetime | None:
    """A dateTime with time and offset, or None."""
    if not ANY_OFFSET_DATETIME.match(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
