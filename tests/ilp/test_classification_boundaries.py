"""Every threshold of §6, just below, at and just above, in the style of rcpchgrowth's table tests."""

from collections.abc import Callable

import pytest

from ilp_api.ilp.age import Age
from ilp_api.ilp.classify.adl import classify_adl
from ilp_api.ilp.classify.anemia import anemia_threshold, classify_anemia
from ilp_api.ilp.classify.blood_pressure import classify_blood_pressure, classify_pregnancy_blood_pressure
from ilp_api.ilp.classify.bmi import body_mass_index, classify_bmi
from ilp_api.ilp.classify.cholesterol import classify_cholesterol
from ilp_api.ilp.classify.glucose import classify_glucose
from ilp_api.ilp.classify.kek import classify_kek
from ilp_api.ilp.classify.kpsp import classify_kpsp
from ilp_api.ilp.classify.puma import classify_puma
from ilp_api.ilp.classify.skilas import classify_skilas
from ilp_api.ilp.classify.srq20 import classify_srq20
from ilp_api.ilp.classify.tb_symptoms import classify_tb_symptoms
from ilp_api.ilp.classify.vision_hearing import classify_visus, classify_whisper
from ilp_api.ilp.classify.waist import classify_waist
from ilp_api.ilp.inputs import Adl, Puma, TbSymptoms, Visus
from ilp_api.ilp.results import NOT_CLASSIFIED, Classification

Case = tuple[Callable[[], Classification], str, str | None]


def _srq(yes: int, suicide: bool = False, age: int = 30) -> Classification:
    answers = tuple(index < yes for index in range(20))
    if suicide:
        answers = (*answers[:16], True, *answers[17:])
    return classify_srq20(answers, age, 15, emergency=False)


def _anemia(hb: float, age: Age, sex: str = "female", pregnant: bool = False, trimester: int | None = None):
    return classify_anemia(hb, anemia_threshold(age, sex, pregnant, trimester, 11.0))  # type: ignore[arg-type]


ADULT, TEEN = 30, 15
CASES: dict[str, Case] = {
    # §6.1 and its "Tests:" line
    "td-120/79-normal": (lambda: classify_blood_pressure(120, 79, ADULT), "normal", "N"),
    "td-119/79-optimal": (lambda: classify_blood_pressure(119, 79, ADULT), "optimal", "N"),
    "td-129/85-normal-tinggi": (lambda: classify_blood_pressure(129, 85, ADULT), "normal-tinggi", "H"),
    "td-139/84-normal-tinggi": (lambda: classify_blood_pressure(139, 84, ADULT), "normal-tinggi", "H"),
    "td-140/89-ish-1": (lambda: classify_blood_pressure(140, 89, ADULT), "hipertensi-sistolik-terisolasi", "H"),
    "td-140/90-hipertensi-1": (lambda: classify_blood_pressure(140, 90, ADULT), "hipertensi-1", "H"),
    "td-139/90-hipertensi-1": (lambda: classify_blood_pressure(139, 90, ADULT), "hipertensi-1", "H"),
    "td-159/99-hipertensi-1": (lambda: classify_blood_pressure(159, 99, ADULT), "hipertensi-1", "H"),
    "td-160/99-hipertensi-2": (lambda: classify_blood_pressure(160, 99, ADULT), "hipertensi-2", "H"),
    "td-150/100-hipertensi-2": (lambda: classify_blood_pressure(150, 100, ADULT), "hipertensi-2", "H"),
    "td-179/109-hipertensi-2": (lambda: classify_blood_pressure(179, 109, ADULT), "hipertensi-2", "H"),
    "td-150/110-hipertensi-3": (lambda: classify_blood_pressure(150, 110, ADULT), "hipertensi-3", "HH"),
    "td-180/95-hipertensi-3": (lambda: classify_blood_pressure(180, 95, ADULT), "hipertensi-3", "HH"),
    "td-185/85-ish-3": (lambda: classify_blood_pressure(185, 85, ADULT), "hipertensi-sistolik-terisolasi", "HH"),
    "td-18th-birthday-adult": (lambda: classify_blood_pressure(125, 79, 18), "normal", "N"),
    # §6.2 and its "Tests:" line
    "remaja-119/79-normal": (lambda: classify_blood_pressure(119, 79, TEEN), "normal", "N"),
    "remaja-125/79-meningkat": (lambda: classify_blood_pressure(125, 79, TEEN), "meningkat", "H"),
    "remaja-120/79-meningkat": (lambda: classify_blood_pressure(120, 79, TEEN), "meningkat", "H"),
    "remaja-118/80-hipertensi-1": (lambda: classify_blood_pressure(118, 80, TEEN), "hipertensi-1", "H"),
    "remaja-130/70-hipertensi-1": (lambda: classify_blood_pressure(130, 70, TEEN), "hipertensi-1", "H"),
    "remaja-139/90-hipertensi-2": (lambda: classify_blood_pressure(139, 90, TEEN), "hipertensi-2", "H"),
    "remaja-140/70-hipertensi-2": (lambda: classify_blood_pressure(140, 70, TEEN), "hipertensi-2", "H"),
    "remaja-17y-125/79-meningkat": (lambda: classify_blood_pressure(125, 79, 17), "meningkat", "H"),
    "remaja-13y-classified": (lambda: classify_blood_pressure(125, 79, 13), "meningkat", "H"),
    "anak-12y-not-classified": (lambda: classify_blood_pressure(150, 95, 12), NOT_CLASSIFIED, None),
    # §11 tekanan-darah-kehamilan
    "hamil-139/89-normal": (lambda: classify_pregnancy_blood_pressure(139, 89), "normal", "N"),
    "hamil-140/80-tinggi": (lambda: classify_pregnancy_blood_pressure(140, 80), "td-hamil-tinggi", "H"),
    "hamil-130/90-tinggi": (lambda: classify_pregnancy_blood_pressure(130, 90), "td-hamil-tinggi", "H"),
    "hamil-159/109-tinggi": (lambda: classify_pregnancy_blood_pressure(159, 109), "td-hamil-tinggi", "H"),
    "hamil-160/100-berat": (lambda: classify_pregnancy_blood_pressure(160, 100), "td-hamil-berat", "HH"),
    "hamil-150/110-berat": (lambda: classify_pregnancy_blood_pressure(150, 110), "td-hamil-berat", "HH"),
    # §6.3 ilp (BMI from weight at 200 cm: kg / 4)
    "imt-18.4": (lambda: classify_bmi(73.6, 200, False, "ilp"), "berat-badan-kurang", "L"),
    "imt-18.5": (lambda: classify_bmi(74.0, 200, False, "ilp"), "normal", "N"),
    "imt-22.9": (lambda: classify_bmi(91.6, 200, False, "ilp"), "normal", "N"),
    "imt-23.0": (lambda: classify_bmi(92.0, 200, False, "ilp"), "berat-badan-lebih", "H"),
    "imt-24.9": (lambda: classify_bmi(99.6, 200, False, "ilp"), "berat-badan-lebih", "H"),
    "imt-25.0": (lambda: classify_bmi(100.0, 200, False, "ilp"), "obesitas-1", "H"),
    "imt-29.9": (lambda: classify_bmi(119.6, 200, False, "ilp"), "obesitas-1", "H"),
    "imt-30.0": (lambda: classify_bmi(120.0, 200, False, "ilp"), "obesitas-2", "H"),
    "imt-hamil": (lambda: classify_bmi(60, 160, True, "ilp"), NOT_CLASSIFIED, None),
    # §6.3 p2ptm
    "p2ptm-16.9": (lambda: classify_bmi(67.6, 200, False, "p2ptm"), "kurus-berat", "L"),
    "p2ptm-17.0": (lambda: classify_bmi(68.0, 200, False, "p2ptm"), "kurus-ringan", "L"),
    "p2ptm-18.5": (lambda: classify_bmi(74.0, 200, False, "p2ptm"), "normal", "N"),
    "p2ptm-25.0": (lambda: classify_bmi(100.0, 200, False, "p2ptm"), "normal", "N"),
    "p2ptm-25.1": (lambda: classify_bmi(100.4, 200, False, "p2ptm"), "gemuk-ringan", "H"),
    "p2ptm-27.0": (lambda: classify_bmi(108.0, 200, False, "p2ptm"), "gemuk-ringan", "H"),
    "p2ptm-27.1": (lambda: classify_bmi(108.4, 200, False, "p2ptm"), "gemuk-berat", "H"),
    # §6.4
    "perut-pria-90": (lambda: classify_waist(90, "male", 30, False), "normal", "N"),
    "perut-pria-90.1": (lambda: classify_waist(90.1, "male", 30, False), "obesitas-sentral", "H"),
    "perut-wanita-80": (lambda: classify_waist(80, "female", 30, False), "normal", "N"),
    "perut-wanita-80.1": (lambda: classify_waist(80.1, "female", 30, False), "obesitas-sentral", "H"),
    "perut-14y": (lambda: classify_waist(100, "female", 14, False), NOT_CLASSIFIED, None),
    "perut-15y": (lambda: classify_waist(100, "female", 15, False), "obesitas-sentral", "H"),
    "perut-hamil": (lambda: classify_waist(100, "female", 30, True), NOT_CLASSIFIED, None),
    # §6.5
    "gds-69-rendah": (lambda: classify_glucose("gula-darah-sewaktu", 69), "normal", "L"),
    "gds-70": (lambda: classify_glucose("gula-darah-sewaktu", 70), "normal", "N"),
    "gds-139": (lambda: classify_glucose("gula-darah-sewaktu", 139), "normal", "N"),
    "gds-140": (lambda: classify_glucose("gula-darah-sewaktu", 140), "prediabetes", "H"),
    "gds-199": (lambda: classify_glucose("gula-darah-sewaktu", 199), "prediabetes", "H"),
    "gds-200": (lambda: classify_glucose("gula-darah-sewaktu", 200), "suspek-diabetes", "H"),
    "gdp-99": (lambda: classify_glucose("gula-darah-puasa", 99), "normal", "N"),
    "gdp-100": (lambda: classify_glucose("gula-darah-puasa", 100), "prediabetes", "H"),
    "gdp-125": (lambda: classify_glucose("gula-darah-puasa", 125), "prediabetes", "H"),
    "gdp-126": (lambda: classify_glucose("gula-darah-puasa", 126), "suspek-diabetes", "H"),
    "hba1c-5.6": (lambda: classify_glucose("hba1c", 5.6), "normal", "N"),
    "hba1c-5.7": (lambda: classify_glucose("hba1c", 5.7), "prediabetes", "H"),
    "hba1c-6.4": (lambda: classify_glucose("hba1c", 6.4), "prediabetes", "H"),
    "hba1c-6.5": (lambda: classify_glucose("hba1c", 6.5), "suspek-diabetes", "H"),
    # §6.6
    "kolesterol-199": (lambda: classify_cholesterol(199), "normal", "N"),
    "kolesterol-200": (lambda: classify_cholesterol(200), "batas-tinggi", "H"),
    "kolesterol-239": (lambda: classify_cholesterol(239), "batas-tinggi", "H"),
    "kolesterol-240": (lambda: classify_cholesterol(240), "tinggi", "H"),
    # §6.7: the threshold value itself is normal
    "hb-bumil-10.9": (lambda: _anemia(10.9, Age(9000, 295, 24), pregnant=True), "anemia", "L"),
    "hb-bumil-11.0": (lambda: _anemia(11.0, Age(9000, 295, 24), pregnant=True), "normal", "N"),
    "hb-bumil-6.9": (lambda: _anemia(6.9, Age(9000, 295, 24), pregnant=True), "anemia", "LL"),
    "hb-bumil-7.0": (lambda: _anemia(7.0, Age(9000, 295, 24), pregnant=True), "anemia", "L"),
    "hb-5-bulan": (lambda: _anemia(8.0, Age(160, 5, 0)), NOT_CLASSIFIED, None),
    "hb-6-bulan-10.9": (lambda: _anemia(10.9, Age(185, 6, 0)), "anemia", "L"),
    "hb-59-bulan-11.0": (lambda: _anemia(11.0, Age(1800, 59, 4)), "normal", "N"),
    "hb-5y-11.4": (lambda: _anemia(11.4, Age(1830, 60, 5)), "anemia", "L"),
    "hb-11y-11.5": (lambda: _anemia(11.5, Age(4100, 132, 11)), "normal", "N"),
    "hb-12y-11.9": (lambda: _anemia(11.9, Age(4400, 144, 12), sex="male"), "anemia", "L"),
    "hb-14y-12.0": (lambda: _anemia(12.0, Age(5200, 170, 14), sex="male"), "normal", "N"),
    "hb-wanita-11.9": (lambda: _anemia(11.9, Age(7000, 230, 19)), "anemia", "L"),
    "hb-wanita-12.0": (lambda: _anemia(12.0, Age(7000, 230, 19)), "normal", "N"),
    "hb-pria-12.9": (lambda: _anemia(12.9, Age(5500, 180, 15), sex="male"), "anemia", "L"),
    "hb-pria-13.0": (lambda: _anemia(13.0, Age(5500, 180, 15), sex="male"), "normal", "N"),
    # §6.8
    "lila-23.4": (lambda: classify_kek(23.4, True), "kek", "L"),
    "lila-23.5": (lambda: classify_kek(23.5, True), "normal", "N"),
    "lila-tidak-hamil": (lambda: classify_kek(20.0, False), NOT_CLASSIFIED, None),
    # §6.10
    "srq-5": (lambda: _srq(5), "normal", "N"),
    "srq-6": (lambda: _srq(6), "masalah-kesehatan-jiwa", "A"),
    "srq-3-item-17": (lambda: _srq(3, suicide=True), "normal", "A"),
    "srq-14y": (lambda: _srq(8, age=14), NOT_CLASSIFIED, None),
    "srq-15y": (lambda: _srq(8, age=15), "masalah-kesehatan-jiwa", "A"),
    # §6.11
    "puma-39y": (lambda: classify_puma(Puma(dyspnoea=True), "male", 39), NOT_CLASSIFIED, None),
    "puma-5": (
        lambda: classify_puma(Puma(False, 31, True, False, False, False), "male", 55),
        "normal",
        "N",
    ),
    "puma-6": (
        lambda: classify_puma(Puma(False, 30.5, True, True, True, True), "female", 45),
        "risiko-tinggi-ppok",
        "A",
    ),
    # §6.12
    "adl-20": (lambda: classify_adl(Adl(total=20), 60), "mandiri", "N"),
    "adl-19": (lambda: classify_adl(Adl(total=19), 60), "ketergantungan-ringan", "A"),
    "adl-12": (lambda: classify_adl(Adl(total=12), 60), "ketergantungan-ringan", "A"),
    "adl-11": (lambda: classify_adl(Adl(total=11), 60), "ketergantungan-sedang", "A"),
    "adl-9": (lambda: classify_adl(Adl(total=9), 60), "ketergantungan-sedang", "A"),
    "adl-8": (lambda: classify_adl(Adl(total=8), 60), "ketergantungan-berat", "A"),
    "adl-5": (lambda: classify_adl(Adl(total=5), 60), "ketergantungan-berat", "A"),
    "adl-4": (lambda: classify_adl(Adl(total=4), 60), "ketergantungan-total", "A"),
    "adl-17y": (lambda: classify_adl(Adl(total=4), 17), NOT_CLASSIFIED, None),
    # §6.13
    "skilas-none": (lambda: classify_skilas(frozenset(), 60), "normal", "N"),
    "skilas-one": (lambda: classify_skilas(frozenset({"depresi"}), 60), "perlu-pemeriksaan-lanjut", "A"),
    "skilas-59y": (lambda: classify_skilas(frozenset({"depresi"}), 59), NOT_CLASSIFIED, None),
    # §6.14
    "kpsp-6": (lambda: classify_kpsp(6, 12), "penyimpangan", "A"),
    "kpsp-7": (lambda: classify_kpsp(7, 12), "meragukan", "A"),
    "kpsp-8": (lambda: classify_kpsp(8, 12), "meragukan", "A"),
    "kpsp-9": (lambda: classify_kpsp(9, 12), "sesuai", "N"),
    "kpsp-2-bulan": (lambda: classify_kpsp(9, 2), NOT_CLASSIFIED, None),
    "kpsp-73-bulan": (lambda: classify_kpsp(9, 73), NOT_CLASSIFIED, None),
    # §6.15
    "tb-dewasa-batuk": (lambda: classify_tb_symptoms(TbSymptoms(("batuk",)), 15), "terduga-tb", "A"),
    "tb-anak-batuk-dewasa": (lambda: classify_tb_symptoms(TbSymptoms(("batuk",)), 14), "bukan-terduga-tb", "N"),
    "tb-anak-lesu": (lambda: classify_tb_symptoms(TbSymptoms(("lesu",)), 14), "terduga-tb", "A"),
    "tb-tanpa-gejala": (lambda: classify_tb_symptoms(TbSymptoms(), 40), "bukan-terduga-tb", "N"),
    # §6.16: the worse eye classifies
    "visus-6/12": (lambda: classify_visus(Visus("6/6", "6/12")), "normal", "N"),
    "visus-6/15": (lambda: classify_visus(Visus("6/15", "6/6")), "gangguan-ringan", "A"),
    "visus-6/18": (lambda: classify_visus(Visus("6/18", "6/6")), "gangguan-ringan", "A"),
    "visus-6/24": (lambda: classify_visus(Visus("6/24", "6/6")), "gangguan-sedang", "A"),
    "visus-6/60": (lambda: classify_visus(Visus("6/60", None)), "gangguan-sedang", "A"),
    "visus-3/30-is-6/60": (lambda: classify_visus(Visus("3/30", None)), "gangguan-sedang", "A"),
    "visus-3/60": (lambda: classify_visus(Visus("3/60", None)), "gangguan-berat", "A"),
    "visus-1/60": (lambda: classify_visus(Visus("1/60", None)), "buta", "A"),
    "jari-salah-1": (lambda: classify_visus(Visus(finger_count_wrong=1)), "normal", "N"),
    "jari-salah-2": (lambda: classify_visus(Visus(finger_count_wrong=2)), "suspek-gangguan-penglihatan", "A"),
    "bisik-3": (lambda: classify_whisper(3), "tidak-lulus", "A"),
    "bisik-4": (lambda: classify_whisper(4), "lulus", "N"),
}


@pytest.mark.parametrize(("classify", "code", "interpretation"), CASES.values(), ids=CASES.keys())
def test_boundary(classify: Callable[[], Classification], code: str, interpretation: str | None) -> None:
    result = classify()
    assert (result.code, result.interpretation) == (code, interpretation)
    assert result.rule.id
    assert result.rule.source


@pytest.mark.parametrize(
    ("systolic", "grade"), [(140, 1), (159, 1), (160, 2), (179, 2), (180, 3)], ids=["140", "159", "160", "179", "180"]
)
def test_isolated_systolic_grade(systolic: int, grade: int) -> None:
    assert classify_blood_pressure(systolic, 89, 40).details == {"derajatSistolik": grade}


@pytest.mark.parametrize(
    ("weight", "height", "bmi"),
    [(70, 160, 27.3), (63.2, 160, 24.7), (57.6, 160, 22.5), (58.88, 160, 23.0)],
    ids=["27.34-down", "24.69-up", "22.50-exact", "23.00-exact"],
)
def test_bmi_rounds_half_up_to_one_decimal(weight: float, height: float, bmi: float) -> None:
    assert body_mass_index(weight, height) == bmi


@pytest.mark.parametrize(
    ("pack_years", "points"), [(19.9, 0), (20, 1), (30, 1), (30.1, 2)], ids=["19.9", "20", "30", "30.1"]
)
def test_puma_pack_year_points(pack_years: float, points: int) -> None:
    # A never-smoking woman of 40 scores 0; only the pack-years move the total.
    result = classify_puma(Puma(never_smoked=False, pack_years=pack_years), "female", 40)
    assert result.value == points


@pytest.mark.parametrize(("age", "points"), [(49, 0), (50, 1), (59, 1), (60, 2)], ids=["49", "50", "59", "60"])
def test_puma_age_points(age: int, points: int) -> None:
    assert classify_puma(Puma(), "female", age).value == points


def test_anemia_t2_threshold_setting() -> None:
    adult = Age(9000, 295, 24)
    assert anemia_threshold(adult, "female", True, 2, 10.5) == 10.5
    assert anemia_threshold(adult, "female", True, 3, 10.5) == 11.0


def test_tb_symptom_of_other_age_group_is_flagged() -> None:
    result = classify_tb_symptoms(TbSymptoms(("batuk-2-minggu",), household_contact=True), 30)
    assert (result.code, result.flags) == ("bukan-terduga-tb", ("gejala-tidak-sesuai-usia", "kontak-erat"))


def test_srq20_deferred_in_an_emergency() -> None:
    assert classify_srq20((True,) * 20, 30, 15, emergency=True).code == "ditunda"


def test_adl_items_sum_to_the_total() -> None:
    items = {"bowels": 2, "bladder": 2, "grooming": 1, "toilet": 2, "feeding": 2, "transfer": 3, "mobility": 3,
             "dressing": 2, "stairs": 2, "bathing": 0}  # fmt: skip
    result = classify_adl(Adl(items=items), 70)
    assert (result.value, result.code) == (19, "ketergantungan-ringan")
