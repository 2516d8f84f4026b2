"""TB symptom screening (§6.15, §11): the symptom list depends on the TB-programme child age (<15 y)."""

from ilp_api.ilp.errors import UNKNOWN_CODE, InvalidInput
from ilp_api.ilp.inputs import TbSymptoms
from ilp_api.ilp.results import Classification, Interpretation, Rule

KEY = "tb-gejala"
RULE = Rule("6.15-tb-gejala", "JUK K2/K3 TB; Formulir TBC")
PRESUMPTIVE_TB = "terduga-tb"
CLOSE_CONTACT = "kontak-erat"
WRONG_AGE_SYMPTOM = "gejala-tidak-sesuai-usia"
CHILD_AGE_BELOW = 15
ADULT_SYMPTOMS = frozenset({"batuk", "berat-badan-turun", "demam", "keringat-malam"})
CHILD_SYMPTOMS = frozenset({"batuk-2-minggu", "demam-2-minggu", "berat-badan-turun", "lesu", "tanda-ekstraparu"})


def classify_tb_symptoms(answers: TbSymptoms, age_years: int) -> Classification:
    reported = set(answers.symptoms)
    if unknown := reported - ADULT_SYMPTOMS - CHILD_SYMPTOMS:
        raise InvalidInput("instruments.tbSymptoms.symptoms", UNKNOWN_CODE, f"Unknown symptoms {sorted(unknown)}")
    for_age = CHILD_SYMPTOMS if age_years < CHILD_AGE_BELOW else ADULT_SYMPTOMS
    counted = reported & for_age
    flags = []
    if reported - for_age:
        flags.append(WRONG_AGE_SYMPTOM)  # ignored for the result, reported so the kader can re-ask
    if answers.household_contact or answers.close_contact:
        flags.append(CLOSE_CONTACT)
    if counted:
        code, interpretation = PRESUMPTIVE_TB, Interpretation.ABNORMAL
    else:
        code, interpretation = "bukan-terduga-tb", Interpretation.NORMAL
    return Classification(KEY, code, interpretation, RULE, flags=tuple(flags), value=len(counted))
