"""The engine run over the input range of every classification (§6): what it can say, for the tests that keep
the screening CodeSystems and the ConceptMap complete."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import cache
from itertools import chain, combinations, product

from ilp_api.ilp.age import Age
from ilp_api.ilp.classify import anemia, glucose
from ilp_api.ilp.classify.adl import MAX_TOTAL, classify_adl
from ilp_api.ilp.classify.blood_pressure import classify_blood_pressure, classify_pregnancy_blood_pressure
from ilp_api.ilp.classify.bmi import SCHEMES, classify_bmi
from ilp_api.ilp.classify.cholesterol import classify_cholesterol
from ilp_api.ilp.classify.kek import classify_kek
from ilp_api.ilp.classify.kpsp import classify_kpsp
from ilp_api.ilp.classify.puma import classify_puma
from ilp_api.ilp.classify.skilas import DOMAINS, classify_skilas
from ilp_api.ilp.classify.srq20 import ITEM_COUNT, SUICIDE_ITEM, classify_srq20
from ilp_api.ilp.classify.tb_symptoms import ADULT_SYMPTOMS, CHILD_SYMPTOMS, classify_tb_symptoms
from ilp_api.ilp.classify.vision_hearing import classify_visus, classify_whisper
from ilp_api.ilp.classify.waist import classify_waist
from ilp_api.ilp.classify.weight_trend import classify_weight_trend
from ilp_api.ilp.growth import GrowthInput, classify_growth
from ilp_api.ilp.growth.inputs import FIRST_HEIGHT_DAY
from ilp_api.ilp.inputs import Adl, Puma, TbSymptoms, Visus, Weighing
from ilp_api.ilp.results import Classification, Sex

VISIT = date(2026, 6, 1)
SEXES: tuple[Sex, ...] = ("male", "female")


def tenths(low: float, high: float) -> Iterator[float]:
    return (step / 10 for step in range(round(low * 10), round(high * 10) + 1))


def blood_pressures() -> Iterator[Classification]:
    for years, systolic in product((12, 15, 30), range(60, 300, 5)):
        for diastolic in range(30, min(systolic, 200), 5):
            yield classify_blood_pressure(systolic, diastolic, years)
            yield classify_pregnancy_blood_pressure(systolic, diastolic)


def body_sizes() -> Iterator[Classification]:
    for scheme, pregnant, bmi in product(SCHEMES, (False, True), tenths(10, 60)):
        yield classify_bmi(bmi * 4, 200, pregnant, scheme)  # at 2 m, kg / 4 is the BMI
    for sex, years, pregnant in product(SEXES, (14, 30), (False, True)):
        yield from (classify_waist(cm, sex, years, pregnant) for cm in range(30, 250))


def laboratory() -> Iterator[Classification]:
    for key in glucose.TABLES:
        values = tenths(3, 20) if key == glucose.HBA1C_KEY else range(10, 1000)
        yield from (glucose.classify_glucose(key, value) for value in values)
    yield from (classify_cholesterol(value) for value in range(50, 1000, 5))
    births = (date(2026, 3, 1), date(2024, 1, 1), date(2015, 1, 1), date(2012, 1, 1), date(1990, 1, 1))
    for born, sex, pregnant in product(births, SEXES, (False, True)):
        threshold = anemia.anemia_threshold(Age.at(born, VISIT), sex, pregnant, 2, 10.5)
        yield from (anemia.classify_anemia(hb, threshold) for hb in tenths(2, 25))
    for pregnant in (False, True):
        yield from (classify_kek(cm, pregnant) for cm in tenths(5, 60))


def child_growth() -> Iterator[Classification]:
    for sex, days in product(SEXES, (30, 400, 1000, 1800, 1900, 4000, 6000)):
        child = GrowthInput(sex, days, completed_months=days * 12 // 365)
        length_or_height = "length_cm" if days < FIRST_HEIGHT_DAY else "height_cm"
        for kg in (half / 2 for half in range(1, 180)):
            yield from classify_growth(replace(child, weight_kg=kg))
        for kg, cm in product(range(1, 90), (60, 100, 150)):
            yield from classify_growth(replace(child, weight_kg=kg, **{length_or_height: cm}))
        for cm in range(30, 200):
            yield from classify_growth(replace(child, **{length_or_height: cm}))
        for cm in tenths(20, 70):
            yield from classify_growth(replace(child, head_circumference_cm=cm))
        yield from classify_growth(replace(child, weight_kg=15, oedema=True, **{length_or_height: 100}))


def weight_trends() -> Iterator[Classification]:
    april, may = date(2026, 4, 15), date(2026, 5, 15)  # the two calendar months before the visit
    for earlier in ((), (Weighing(date(2026, 2, 15), 9.0),)):
        yield classify_weight_trend(9.0, VISIT, earlier)
    for in_may, in_april in product((8.0, 9.0, 10.0), (None, 8.0, 9.5)):
        history = (Weighing(april, in_april),) if in_april else ()
        yield classify_weight_trend(9.0, VISIT, (*history, Weighing(may, in_may)))


def questionnaires() -> Iterator[Classification]:
    for yes, suicidal, emergency, years in product(range(ITEM_COUNT + 1), (False, True), (False, True), (10, 30)):
        answers = tuple(index < yes for index in range(ITEM_COUNT))
        answers = (*answers[: SUICIDE_ITEM - 1], suicidal, *answers[SUICIDE_ITEM:])
        yield classify_srq20(answers, years, 15, emergency)
    for answers, sex, years in product(product((False, True), repeat=4), SEXES, (39, 45, 70)):
        yield classify_puma(Puma(False, 35, *answers), sex, years)
    for total, years in product(range(MAX_TOTAL + 1), (17, 60)):
        yield classify_adl(Adl(total=total), years)
    domain_sets = chain.from_iterable(combinations(DOMAINS, size) for size in range(len(DOMAINS) + 1))
    for flagged, years in product(domain_sets, (59, 60)):
        yield classify_skilas(frozenset(flagged), years)
    for yes, months in product(range(11), range(2, 75)):
        yield classify_kpsp(yes, months)
    symptoms = sorted(ADULT_SYMPTOMS | CHILD_SYMPTOMS)
    reported_sets = chain.from_iterable(combinations(symptoms, size) for size in range(len(symptoms) + 1))
    for reported, household, years in product(reported_sets, (False, True), (10, 30)):
        yield classify_tb_symptoms(TbSymptoms(reported, household_contact=household), years)


def senses() -> Iterator[Classification]:
    for snellen in ("6/6", "6/9", "6/12", "6/18", "6/24", "6/60", "3/60", "1/60"):
        yield classify_visus(Visus(right=snellen))
    for wrong in range(6):
        yield classify_visus(Visus(finger_count_wrong=wrong))
        yield classify_whisper(wrong)


@cache
def classifications() -> tuple[Classification, ...]:
    """What the engine says over the input range of each classification (§6)."""
    return (
        *blood_pressures(),
        *body_sizes(),
        *laboratory(),
        *child_growth(),
        *weight_trends(),
        *questionnaires(),
        *senses(),
    )
