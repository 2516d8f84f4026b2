"""Blood pressure: adults (§6.1), adolescents (§6.2) and in pregnancy (§11 ``tekanan-darah-kehamilan``).

SBP and DBP are graded separately and the worse grade wins ("dan/atau").
"""

from ilp_api.ilp.classify.bands import Band, BandTable, classified
from ilp_api.ilp.results import Classification, Interpretation, Rule

N, H, HH = Interpretation.NORMAL, Interpretation.HIGH, Interpretation.CRITICAL_HIGH

KEY = "tekanan-darah"
PREGNANCY_KEY = "tekanan-darah-kehamilan"
ADULT_RULE = Rule("6.1-td-dewasa", "JUK K3 Skrining HT, Tabel 22")
ADOLESCENT_RULE = Rule("6.2-td-remaja", "AAP 2017 via JUK K2 Skrining HT, Tabel 15")
PREGNANCY_RULE = Rule("11-td-kehamilan", "ilp-profile §7, §11 [interpretation]")

ISOLATED_SYSTOLIC = "hipertensi-sistolik-terisolasi"
ADULT_HYPERTENSION = frozenset({"hipertensi-1", "hipertensi-2", "hipertensi-3", ISOLATED_SYSTOLIC})
ADOLESCENT_HYPERTENSION = frozenset({"hipertensi-1", "hipertensi-2"})
PREGNANCY_HYPERTENSION = frozenset({"td-hamil-tinggi", "td-hamil-berat"})

ADULT_SYSTOLIC = BandTable(
    (
        Band("optimal", N, 120),
        Band("normal", N, 130),
        Band("normal-tinggi", H, 140),
        Band("hipertensi-1", H, 160),
        Band("hipertensi-2", H, 180),
        Band("hipertensi-3", HH),
    )
)
ADULT_DIASTOLIC = BandTable(
    (
        Band("optimal", N, 80),
        Band("normal", N, 85),
        Band("normal-tinggi", H, 90),
        Band("hipertensi-1", H, 100),
        Band("hipertensi-2", H, 110),
        Band("hipertensi-3", HH),
    )
)
ADOLESCENT_SYSTOLIC = BandTable(
    (Band("normal", N, 120), Band("meningkat", H, 130), Band("hipertensi-1", H, 140), Band("hipertensi-2", H))
)
ADOLESCENT_DIASTOLIC = BandTable((Band("normal", N, 80), Band("hipertensi-1", H, 90), Band("hipertensi-2", H)))
PREGNANCY_SYSTOLIC = BandTable((Band("normal", N, 140), Band("td-hamil-tinggi", H, 160), Band("td-hamil-berat", HH)))
PREGNANCY_DIASTOLIC = BandTable((Band("normal", N, 90), Band("td-hamil-tinggi", H, 110), Band("td-hamil-berat", HH)))
SYSTOLIC_GRADES = {"hipertensi-1": 1, "hipertensi-2": 2, "hipertensi-3": 3}
# ISH reads HH from the systolic grade-3 cut-off, H below it.
ISOLATED_SYSTOLIC_BANDS = {interpretation: Band(ISOLATED_SYSTOLIC, interpretation) for interpretation in (H, HH)}


def classify_blood_pressure(systolic: int, diastolic: int, age_years: int) -> Classification:
    if age_years >= 18:
        return _classify_adult(systolic, diastolic)
    if age_years >= 13:
        worse = ADOLESCENT_SYSTOLIC.worst((ADOLESCENT_SYSTOLIC.band(systolic), ADOLESCENT_DIASTOLIC.band(diastolic)))
        return classified(KEY, worse, ADOLESCENT_RULE)
    # AAP staging under 13 y needs percentile tables the ILP sources do not contain (§6.2).
    return Classification.not_classified(KEY, ADOLESCENT_RULE)


def _classify_adult(systolic: int, diastolic: int) -> Classification:
    systolic_band = ADULT_SYSTOLIC.band(systolic)
    if systolic >= 140 and diastolic < 90:
        isolated = ISOLATED_SYSTOLIC_BANDS[HH if systolic >= 180 else H]
        return classified(KEY, isolated, ADULT_RULE, details={"derajatSistolik": SYSTOLIC_GRADES[systolic_band.code]})
    return classified(KEY, ADULT_SYSTOLIC.worst((systolic_band, ADULT_DIASTOLIC.band(diastolic))), ADULT_RULE)


def classify_pregnancy_blood_pressure(systolic: int, diastolic: int) -> Classification:
    worse = PREGNANCY_SYSTOLIC.worst((PREGNANCY_SYSTOLIC.band(systolic), PREGNANCY_DIASTOLIC.band(diastolic)))
    return classified(PREGNANCY_KEY, worse, PREGNANCY_RULE)
