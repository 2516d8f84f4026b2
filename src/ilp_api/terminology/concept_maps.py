"""The ConceptMap from screening findings (CodeSystem/ilp-klasifikasi) to ICD-10, served with the read-only type
ConceptMap; the visit hook reads it to code the Conditions it keeps for findings (screening/findings.py).

Screening never diagnoses (profile §6), so the targets are ICD-10 codes that record a sign or a factor without a
diagnosis: chapter XVIII (R, symptoms, signs and abnormal findings) and chapter XXI (Z, factors influencing
health status). A finding whose only ICD-10 home is a diagnosis (obesity E66, anaemia D50–D64, malnutrition
E40–E46, visual impairment H54 …) is listed ``unmatched``, with the reason; so is a borderline result the profile
answers by measuring again. Exactly the findings with a target code become Conditions.

Titles are WHO's ICD-10 2019 titles, checked against WHO's ICD-10 to ICD-11 mapping tables (which carry the ICD-10
titles) and the known 2016–2019 title changes. ``equivalence`` reads as R4 defines it: ``wider`` when the ICD-10
code covers the finding and more, ``relatedto`` when it only touches it. A comment marked [unverified] leans on
something not checked against the 2019 tabular list itself, such as an inclusion term.
"""

from dataclasses import dataclass
from typing import Any, Literal

from ilp_api import __version__
from ilp_api.fhir.in_memory import fixed_resources_type
from ilp_api.fhir.providers import providers
from ilp_api.fhir.registry import Json, SearchParameter, SearchType, codes, strings, walk
from ilp_api.terminology.screening_codes import KLASIFIKASI_DISPLAY

ICD_10 = "http://hl7.org/fhir/sid/icd-10"
ICD_10_VERSION = "2019"
CONCEPT_MAP_ID = "temuan-skrining-icd10"

Equivalence = Literal["wider", "relatedto", "unmatched"]


@dataclass(frozen=True)
class Icd10:
    code: str
    title: str  # WHO's, 2019

    def coding(self) -> Json:
        return {"system": ICD_10, "code": self.code, "display": self.title}


ELEVATED_BLOOD_PRESSURE = Icd10("R03.0", "Elevated blood-pressure reading, without diagnosis of hypertension")
HYPERGLYCAEMIA = Icd10("R73.9", "Hyperglycaemia, unspecified")
DELAYED_MILESTONE = Icd10("R62.0", "Delayed milestone")
LACK_OF_DEVELOPMENT = Icd10("R62.8", "Other lack of expected normal physiological development")
EMOTIONAL_STATE = Icd10("R45.8", "Other symptoms and signs involving emotional state")
UNHAPPINESS = Icd10("R45.2", "Unhappiness")
COGNITION = Icd10("R41.8", "Other and unspecified symptoms and signs involving cognitive functions and awareness")
MOBILITY = Icd10("R26.8", "Other and unspecified abnormalities of gait and mobility")
FOOD_INTAKE = Icd10("R63.8", "Other symptoms and signs concerning food and fluid intake")
TUBERCULOSIS_CONTACT = Icd10("Z20.1", "Contact with and exposure to tuberculosis")
PERSONAL_CARE = Icd10("Z74.1", "Need for assistance with personal care")
DEPENDENCY = Icd10("Z74.9", "Problem related to care-provider dependency, unspecified")


@dataclass(frozen=True)
class FindingMap:
    """Where one finding goes in ICD-10: ``target`` None is ``unmatched`` (no Condition)."""

    finding: str
    target: Icd10 | None
    equivalence: Equivalence
    comment: str

    def to_fhir(self) -> Json:
        target: Json = {"code": self.target.code, "display": self.target.title} if self.target else {}
        return {
            "code": self.finding,
            "display": KLASIFIKASI_DISPLAY[self.finding],
            "target": [{**target, "equivalence": self.equivalence, "comment": self.comment}],
        }


def mapped(target: Icd10, equivalence: Equivalence, comment: str, *findings: str) -> tuple[FindingMap, ...]:
    return tuple(FindingMap(finding, target, equivalence, comment) for finding in findings)


def unmatched(comment: str, *findings: str) -> tuple[FindingMap, ...]:
    return tuple(FindingMap(finding, None, "unmatched", comment) for finding in findings)


SCREENING_READING = "A reading in this band at screening; hypertension itself (I10–I15) is the doctor's diagnosis."
FAILED_EYE_TEST = "Visual impairment is H54, a diagnosis; no R or Z code names a failed eye test."
FAILED_HEARING_TEST = "Hearing loss is H90–H91, a diagnosis; no R or Z code names a failed hearing test."

FINDING_MAPS: tuple[FindingMap, ...] = (
    # Blood pressure (§6.1, §6.2, §11)
    *mapped(
        ELEVATED_BLOOD_PRESSURE,
        "wider",
        SCREENING_READING,
        "hipertensi-1",
        "hipertensi-2",
        "hipertensi-3",
        "hipertensi-sistolik-terisolasi",
    ),
    *mapped(
        ELEVATED_BLOOD_PRESSURE,
        "wider",
        "AAP 2017's 'elevated blood pressure' of an adolescent; not a diagnosis of hypertension.",
        "meningkat",
    ),
    *mapped(
        ELEVATED_BLOOD_PRESSURE,
        "relatedto",
        "[unverified] ICD-10 classes hypertension in pregnancy, childbirth and the puerperium in chapter XV "
        "(O10–O16), all diagnoses; R03.0 records the raised reading only.",
        "td-hamil-tinggi",
        "td-hamil-berat",
    ),
    *unmatched(
        "High-normal by its name (JUK Tabel 22), not an elevated reading: it is watched monthly (profile §7).",
        "normal-tinggi",
    ),
    # Glucose, cholesterol, anemia, KEK (§6.5–§6.8)
    *mapped(
        HYPERGLYCAEMIA,
        "wider",
        "Glucose above normal on a screening test; not R73.0, which is a glucose tolerance test's result.",
        "prediabetes",
    ),
    *mapped(
        HYPERGLYCAEMIA,
        "wider",
        "Diabetes (E10–E14) is diagnosed by the puskesmas doctor on plasma glucose or HbA1c (profile §6.5).",
        "suspek-diabetes",
    ),
    *unmatched(
        "Hypoglycaemia is E16.2, a diagnosis; chapter XVIII has no low-glucose reading.",
        "glukosa-rendah",
    ),
    *unmatched(
        "A raised cholesterol is E78, a disorder of lipoprotein metabolism and a diagnosis; a tall child (TB/U, "
        "the same code) is no finding to follow.",
        "batas-tinggi",
        "tinggi",
    ),
    *unmatched("Anaemias are D50–D64, diagnoses; chapter XVIII has no low-haemoglobin reading.", "anemia"),
    *unmatched("Malnutrition in pregnancy is O25, a diagnosis; no R or Z code names a low MUAC.", "kek"),
    # Body size and child growth (§6.3, §6.4, §6.9)
    *mapped(
        LACK_OF_DEVELOPMENT,
        "wider",
        "Short for age, cause not established; [unverified] R62.8 has 'lack of growth' as an inclusion term, "
        "and retarded development following malnutrition is E45, a diagnosis.",
        "pendek",
        "sangat-pendek",
    ),
    *mapped(
        LACK_OF_DEVELOPMENT,
        "wider",
        "Two months without weight gain (profile §6.9); [unverified] R62.8 has 'failure to gain weight' as an "
        "inclusion term.",
        "2T",
    ),
    *unmatched(
        "One month without gain is weighed again next month (profile §7); two in a row (2T) is the finding.",
        "T",
    ),
    *unmatched(
        "ICD-10 has low weight only as malnutrition (E40–E46, graded by these very z-scores), a diagnosis; WHO's "
        "R63.6 is insufficient intake of food and water, not underweight (that is ICD-10-CM's).",
        "berat-badan-kurang",
        "berat-badan-sangat-kurang",
        "kurus-berat",
        "kurus-ringan",
        "gizi-kurang",
        "gizi-buruk",
    ),
    *unmatched(
        "Overweight and obesity are E66, a diagnosis; no R or Z code names a weight status (R63.5 is a gain).",
        "berat-badan-lebih",
        "obesitas-1",
        "obesitas-2",
        "gemuk-ringan",
        "gemuk-berat",
        "obesitas-sentral",
        "risiko-berat-badan-lebih",
        "berisiko-gizi-lebih",
        "gizi-lebih",
        "obesitas",
    ),
    *unmatched(
        "Microcephaly (Q02) and macrocephaly (Q75.3) are congenital malformations, diagnoses.",
        "mikrosefali",
        "makrosefali",
    ),
    # SRQ-20, PUMA, ADL, SKILAS, KPSP (§6.10–§6.14)
    *mapped(
        EMOTIONAL_STATE,
        "relatedto",
        "[unverified] SRQ-20 at 6 or more points to a common mental disorder (chapter V, a diagnosis); R45.8 "
        "records symptoms of emotional state without one.",
        "masalah-kesehatan-jiwa",
    ),
    *mapped(
        EMOTIONAL_STATE,
        "wider",
        "[unverified] R45.8 has 'suicidal ideation (tendencies)' as an inclusion term.",
        "risiko-bunuh-diri",
    ),
    *unmatched(
        "No R or Z code names a COPD risk score; the symptoms it counts (R05 cough, R06.0 dyspnoea) are the "
        "clinician's to code.",
        "risiko-tinggi-ppok",
    ),
    *mapped(
        DEPENDENCY,
        "wider",
        "Barthel 12–19: some help needed, perhaps only to move about; which activity is not recorded.",
        "ketergantungan-ringan",
    ),
    *mapped(
        PERSONAL_CARE,
        "wider",
        "Barthel 11 or less: the personal-care items (bowels, bladder, grooming, toilet, feeding, dressing, "
        "bathing) alone total 12, so at least one of them needs help.",
        "ketergantungan-sedang",
        "ketergantungan-berat",
        "ketergantungan-total",
    ),
    *unmatched("Mapped domain by domain, through the flags it carries.", "perlu-pemeriksaan-lanjut"),
    *mapped(COGNITION, "wider", "SKILAS: wrong orientation, or three words not recalled.", "kognitif"),
    *mapped(MOBILITY, "wider", "SKILAS: cannot stand up five times within 14 seconds.", "mobilitas"),
    *mapped(
        FOOD_INTAKE,
        "relatedto",
        "SKILAS: weight loss, poor appetite or eating difficulty, or LiLA under 21 cm; weight loss (R63.4) and "
        "anorexia (R63.0) have codes of their own, which the domain does not tell apart.",
        "malnutrisi",
    ),
    *mapped(
        UNHAPPINESS,
        "relatedto",
        "[unverified] SKILAS: sad or hopeless (R45.2), or little interest or pleasure (R45.3 demoralization and "
        "apathy), in the last two weeks.",
        "depresi",
    ),
    *unmatched(FAILED_EYE_TEST, "penglihatan"),
    *unmatched(FAILED_HEARING_TEST, "pendengaran"),
    *mapped(
        DELAYED_MILESTONE,
        "wider",
        "KPSP at 6 or fewer (profile §6.14): a deviation to be confirmed; a developmental disorder (F80–F89) is the "
        "doctor's diagnosis.",
        "penyimpangan",
    ),
    *unmatched("A doubtful KPSP is repeated in 14 days (profile §7); the repeat decides.", "meragukan"),
    # TB symptoms, vision and hearing (§6.15, §6.16)
    *unmatched(
        "WHO 2019 Z03.0 is an observation for suspected tuberculosis that was ruled out, not one under way; the "
        "symptoms (R05, R50.9, R61.9, R63.4) are the clinician's to code, tuberculosis (A15–A19) the doctor's.",
        "terduga-tb",
    ),
    *mapped(
        TUBERCULOSIS_CONTACT,
        "wider",
        "A household or close contact of a tuberculosis case (profile §6.15).",
        "kontak-erat",
    ),
    *unmatched(
        FAILED_EYE_TEST,
        "gangguan-ringan",
        "gangguan-sedang",
        "gangguan-berat",
        "buta",
        "suspek-gangguan-penglihatan",
    ),
    *unmatched(FAILED_HEARING_TEST, "tidak-lulus"),
)

ICD_10_OF = {entry.finding: entry.target for entry in FINDING_MAPS if entry.target is not None}


def icd10_of(finding: str) -> Icd10 | None:
    """The ICD-10 code a finding is recorded with; None when it has none and so makes no Condition."""
    return ICD_10_OF.get(finding)


def concept_map(canonical_base: str) -> dict[str, Any]:
    return {
        "resourceType": "ConceptMap",
        "id": CONCEPT_MAP_ID,
        "url": f"{canonical_base}/ConceptMap/{CONCEPT_MAP_ID}",
        "version": __version__,
        "name": "TemuanSkriningIcd10",
        "title": "Temuan skrining ILP ke ICD-10",
        "status": "active",
        "experimental": False,
        "publisher": "ILP API",
        "description": (
            "Screening findings (CodeSystem/ilp-klasifikasi) to the ICD-10 codes of signs and factors, chapters "
            "XVIII (R) and XXI (Z): screening never diagnoses. A finding with a target becomes an unconfirmed "
            "Condition of the resident; an unmatched one says why it has none."
        ),
        "group": [
            {
                "source": f"{canonical_base}/CodeSystem/ilp-klasifikasi",
                "target": ICD_10,
                "targetVersion": ICD_10_VERSION,
                "element": [entry.to_fhir() for entry in FINDING_MAPS],
            }
        ],
    }


CONCEPT_MAP = providers.register_type(
    fixed_resources_type(
        "ConceptMap",
        "The project's concept maps (read-only): screening findings to ICD-10",
        (
            SearchParameter("url", SearchType.URI, "The canonical URL, matched exactly", lambda r: [r["url"]]),
            SearchParameter("name", SearchType.STRING, "Computer-friendly name (TemuanSkriningIcd10)", strings("name")),
            SearchParameter("_id", SearchType.TOKEN, "Logical id (temuan-skrining-icd10)", codes("id")),
            SearchParameter("status", SearchType.TOKEN, "active (every map served is)", codes("status")),
            SearchParameter(
                "source-system", SearchType.URI, "The system mapped from", lambda r: walk(r, "group.source")
            ),
            SearchParameter("target-system", SearchType.URI, "The system mapped to", lambda r: walk(r, "group.target")),
            SearchParameter(
                "source-code", SearchType.TOKEN, "A code mapped from (hipertensi-1)", codes("group.element.code")
            ),
            SearchParameter(
                "target-code", SearchType.TOKEN, "A code mapped to (R03.0)", codes("group.element.target.code")
            ),
        ),
        lambda canonical_base: [concept_map(canonical_base)],
    )
)
