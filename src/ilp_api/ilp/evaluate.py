"""One visit in, one evaluation out: stages, klaster, classifications, due items, referrals and follow-ups."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ilp_api.ilp import RULE_SET_VERSION
from ilp_api.ilp.age import Age
from ilp_api.ilp.classify import anemia, glucose
from ilp_api.ilp.classify.adl import classify_adl
from ilp_api.ilp.classify.blood_pressure import classify_blood_pressure, classify_pregnancy_blood_pressure
from ilp_api.ilp.classify.bmi import classify_bmi
from ilp_api.ilp.classify.cholesterol import classify_cholesterol
from ilp_api.ilp.classify.kek import classify_kek
from ilp_api.ilp.classify.kpsp import classify_kpsp, kpsp_age_months
from ilp_api.ilp.classify.puma import classify_puma
from ilp_api.ilp.classify.skilas import classify_skilas
from ilp_api.ilp.classify.srq20 import classify_srq20
from ilp_api.ilp.classify.tb_symptoms import classify_tb_symptoms
from ilp_api.ilp.classify.vision_hearing import classify_visus, classify_whisper
from ilp_api.ilp.classify.waist import classify_waist
from ilp_api.ilp.classify.weight_trend import classify_weight_trend
from ilp_api.ilp.engine_settings import DEFAULT_SETTINGS, EngineSettings
from ilp_api.ilp.errors import DATE_AFTER_VISIT, DIASTOLIC_NOT_BELOW_SYSTOLIC, PREGNANCY_ON_MALE, InvalidInput
from ilp_api.ilp.growth import GrowthInput, classify_growth
from ilp_api.ilp.inputs import VisitInput
from ilp_api.ilp.klaster import KlasterAssignment, RoutingFacts, route_klaster
from ilp_api.ilp.referrals import FollowUp, Person, Referral, plan_actions
from ilp_api.ilp.results import Classification
from ilp_api.ilp.screening_packages import (
    IMMUNISATION_ITEM,
    DueFacts,
    DueItem,
    due_items,
    interval_warnings,
    trimester,
)
from ilp_api.ilp.stages import life_cycle_stages

MATERNAL_STAGES = frozenset({"ibu-hamil", "ibu-bersalin", "ibu-nifas"})
UNUSUAL_PREGNANCY_AGE = "usia-kehamilan-tidak-lazim"  # pregnancy under 10 or over 55 y (§2)


@dataclass(frozen=True)
class Evaluation:
    rule_set: str
    age: Age
    stages: tuple[str, ...]
    klaster: tuple[KlasterAssignment, ...]
    prioritas: bool
    classifications: tuple[Classification, ...]
    due: tuple[DueItem, ...]
    referrals: tuple[Referral, ...]
    follow_ups: tuple[FollowUp, ...]
    flags: tuple[str, ...]  # visit-level findings that belong to no single classification (4T)
    warnings: tuple[str, ...]  # plausible but worth a second look; never a refusal


def evaluate(visit: VisitInput, settings: EngineSettings = DEFAULT_SETTINGS) -> Evaluation:
    """Raises ``InvalidInput`` for a visit that contradicts itself."""
    _check_consistency(visit)
    age = Age.at(visit.birth_date, visit.visit_date)
    stages = life_cycle_stages(age, visit.pregnancy, visit.visit_date)
    stage_set = frozenset(stages)
    classifications = tuple(_classify(visit, age, stage_set, settings))
    findings = frozenset(finding for result in classifications for finding in (result.code, *result.flags))
    due = due_items(
        DueFacts(
            birth_date=visit.birth_date,
            visit_date=visit.visit_date,
            age=age,
            sex=visit.sex,
            site=visit.site,
            stages=stage_set,
            pregnancy=visit.pregnancy,
            findings=findings,
            done_today=_done_today(visit),
            last_done=visit.last_done,
            settings=settings,
        )
    )
    person = Person(age, visit.sex, stage_set, visit.measurements.weight_kg)
    unavailable = [
        item.reason if item.item == IMMUNISATION_ITEM else item.item for item in due if not item.available_here
    ]
    referrals, follow_ups = plan_actions(classifications, person, visit.site, unavailable)
    klaster = route_klaster(
        RoutingFacts(
            age_years=age.years,
            stages=stages,
            emergency=visit.emergency,
            gawat_darurat_referral=any(referral.urgency == "gawat-darurat" for referral in referrals),
            findings=findings,
            services=visit.services,
        )
    )
    return Evaluation(
        rule_set=RULE_SET_VERSION,
        age=age,
        stages=stages,
        klaster=klaster,
        prioritas=age.years >= 60,
        classifications=classifications,
        due=due,
        referrals=referrals,
        follow_ups=follow_ups,
        flags=_four_t(age, stages),
        warnings=_warnings(visit, age),
    )


def _check_consistency(visit: VisitInput) -> None:
    measurements, pregnancy = visit.measurements, visit.pregnancy
    if pregnancy is not None and visit.sex == "male":
        raise InvalidInput("pregnancy", PREGNANCY_ON_MALE, "A pregnancy, delivery or nifas cannot be a male's")
    systolic, diastolic = measurements.systolic, measurements.diastolic
    if (systolic is None) != (diastolic is None):
        missing = "diastolic" if diastolic is None else "systolic"
        raise InvalidInput(f"measurements.{missing}", DIASTOLIC_NOT_BELOW_SYSTOLIC, "Give systolic and diastolic")
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise InvalidInput("measurements.diastolic", DIASTOLIC_NOT_BELOW_SYSTOLIC, "diastolic must be below systolic")
    dated: list[tuple[str, date]] = [(f"weights[{i}].date", w.date) for i, w in enumerate(visit.weights)]
    if pregnancy is not None and pregnancy.delivery_date is not None:
        dated.append(("pregnancy.deliveryDate", pregnancy.delivery_date))
    for field, day in dated:
        # Earlier weighings only: today's weight is measurements.weightKg (§11).
        if day > visit.visit_date or (field.startswith("weights") and day == visit.visit_date):
            raise InvalidInput(field, DATE_AFTER_VISIT, f"{field} must be before the visit date")
    for item, day in visit.last_done.items():
        if day > visit.visit_date:
            raise InvalidInput(f"lastDone.{item}", DATE_AFTER_VISIT, "lastDone dates cannot be after the visit")


def _classify(
    visit: VisitInput, age: Age, stages: frozenset[str], settings: EngineSettings
) -> Iterator[Classification]:
    measurements, instruments = visit.measurements, visit.instruments
    pregnant = "ibu-hamil" in stages
    if measurements.systolic is not None and measurements.diastolic is not None:
        yield classify_blood_pressure(measurements.systolic, measurements.diastolic, age.years)
        if stages & MATERNAL_STAGES:
            yield classify_pregnancy_blood_pressure(measurements.systolic, measurements.diastolic)
    if age.years >= 18 and measurements.weight_kg is not None and measurements.height_cm is not None:
        yield classify_bmi(measurements.weight_kg, measurements.height_cm, pregnant, settings.bmi_scheme)
    if measurements.waist_cm is not None:
        yield classify_waist(measurements.waist_cm, visit.sex, age.years, pregnant)
    for key, value in (
        (glucose.RANDOM_KEY, measurements.glucose_random),
        (glucose.FASTING_KEY, measurements.glucose_fasting),
        (glucose.HBA1C_KEY, measurements.hba1c),
    ):
        if value is not None:
            yield glucose.classify_glucose(key, value)
    if measurements.cholesterol_total is not None:
        yield classify_cholesterol(measurements.cholesterol_total)
    if measurements.hemoglobin is not None:
        gestation = visit.pregnancy.gestational_age_days if visit.pregnancy else None
        threshold = anemia.anemia_threshold(
            age,
            visit.sex,
            pregnant,
            None if gestation is None else trimester(gestation),
            settings.anemia_pregnancy_t2_threshold,
        )
        yield anemia.classify_anemia(measurements.hemoglobin, threshold)
    if measurements.muac_cm is not None:
        yield classify_kek(measurements.muac_cm, pregnant)
    if age.years < 18:
        yield from classify_growth(
            GrowthInput(
                sex=visit.sex,
                age_days=age.days,
                completed_months=age.months,
                weight_kg=measurements.weight_kg,
                length_cm=measurements.length_cm,
                height_cm=measurements.height_cm,
                head_circumference_cm=measurements.head_circumference_cm,
                oedema=measurements.oedema,
            )
        )
    if age.months <= 59 and measurements.weight_kg is not None:
        yield classify_weight_trend(measurements.weight_kg, visit.visit_date, visit.weights)
    if instruments.srq20 is not None:
        yield classify_srq20(instruments.srq20, age.years, settings.srq20_min_age_years, visit.emergency)
    if instruments.puma is not None:
        yield classify_puma(instruments.puma, visit.sex, age.years)
    if instruments.adl is not None:
        yield classify_adl(instruments.adl, age.years)
    if instruments.skilas is not None:
        yield classify_skilas(instruments.skilas, age.years)
    if instruments.kpsp_yes_count is not None:
        kpsp_age = kpsp_age_months(visit.birth_date, visit.visit_date, settings.kpsp_age_mode)
        yield classify_kpsp(instruments.kpsp_yes_count, kpsp_age)
    if instruments.tb_symptoms is not None:
        yield classify_tb_symptoms(instruments.tb_symptoms, age.years)
    if instruments.visus is not None:
        yield classify_visus(instruments.visus)
    if instruments.whisper_words_heard is not None:
        yield classify_whisper(instruments.whisper_words_heard)


def _done_today(visit: VisitInput) -> frozenset[str]:
    """Items whose result this visit already carries; they are not due again. A measurement counts when it is
    given and not zero; an instrument counts whenever it is given (a KPSP with no yes answers is a result)."""
    m, i = visit.measurements, visit.instruments
    evidence = {
        "tekanan-darah": bool(m.systolic),
        "imt": bool(m.weight_kg and m.height_cm),
        "lingkar-perut": bool(m.waist_cm),
        "gula-darah": bool(m.glucose_random or m.glucose_fasting or m.hba1c),
        "kolesterol": bool(m.cholesterol_total),
        "antropometri-anak": bool(m.weight_kg or m.length_cm or m.height_cm),
        "pemantauan-nt": bool(m.weight_kg),
        "lila-kek": bool(m.muac_cm),
        "hb-remaja-putri": bool(m.hemoglobin),
        "srq-20": i.srq20 is not None,
        "puma": i.puma is not None,
        "adl": i.adl is not None,
        "skilas": i.skilas is not None,
        "kpsp": i.kpsp_yes_count is not None,
        "tb-gejala": i.tb_symptoms is not None,
        "visus": i.visus is not None,
        "tes-bisik": i.whisper_words_heard is not None,
    }
    return frozenset(item for item, done in evidence.items() if done)


def _four_t(age: Age, stages: tuple[str, ...]) -> tuple[str, ...]:
    """The age-based 4T flags of an ibu hamil (§4.2); spacing and parity are not inputs of this API.
    ">35 y" is read as completed years ≥ 35, as §0 reads every "> N tahun"."""
    if "ibu-hamil" not in stages:
        return ()
    if age.years < 20:
        return ("terlalu-muda",)
    return ("terlalu-tua",) if age.years >= 35 else ()


def _warnings(visit: VisitInput, age: Age) -> tuple[str, ...]:
    unusual_age = visit.pregnancy is not None and not 10 <= age.years <= 55
    return ((UNUSUAL_PREGNANCY_AGE,) if unusual_age else ()) + interval_warnings(visit.last_done)
