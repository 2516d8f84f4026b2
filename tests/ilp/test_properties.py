"""Properties the profile implies for every input, checked with hypothesis."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ilp_api.ilp.age import Age
from ilp_api.ilp.classify.blood_pressure import ADOLESCENT_SYSTOLIC, ADULT_SYSTOLIC, classify_blood_pressure
from ilp_api.ilp.evaluate import evaluate
from ilp_api.ilp.inputs import Instruments, Measurements, Pregnancy, TbSymptoms, VisitInput
from ilp_api.ilp.referrals import URGENCY_ORDER
from ilp_api.ilp.stages import life_cycle_stages

VISIT = date(2026, 6, 1)
SEVERITY = [band.code for band in ADULT_SYSTOLIC.bands]
SEVERITY.insert(SEVERITY.index("hipertensi-1"), "hipertensi-sistolik-terisolasi")
TEEN_SEVERITY = [band.code for band in ADOLESCENT_SYSTOLIC.bands]
SITES = st.sampled_from(["posyandu", "kunjungan-rumah", "sekolah", "pustu", "puskesmas"])


def _rank(code: str, years: int) -> int:
    if years >= 18:
        # ISH ranks with the systolic grade it carries; the grade table orders the rest.
        return SEVERITY.index("hipertensi-1" if code == "hipertensi-sistolik-terisolasi" else code)
    return TEEN_SEVERITY.index(code)


@given(
    systolic=st.integers(51, 299),
    diastolic=st.integers(20, 199),
    raise_systolic=st.integers(0, 40),
    raise_diastolic=st.integers(0, 40),
    years=st.integers(13, 100),
)
def test_higher_blood_pressure_is_never_milder(
    systolic: int, diastolic: int, raise_systolic: int, raise_diastolic: int, years: int
) -> None:
    lower = classify_blood_pressure(systolic, diastolic, years)
    higher = classify_blood_pressure(systolic + raise_systolic, diastolic + raise_diastolic, years)
    assert _rank(higher.code, years) >= _rank(lower.code, years)


@given(birth=st.dates(date(1900, 1, 1), VISIT))
def test_every_age_has_a_stage(birth: date) -> None:
    assert life_cycle_stages(Age.at(birth, VISIT), None, VISIT)


VISITS = st.builds(
    VisitInput,
    birth_date=st.dates(date(1930, 1, 1), VISIT),
    sex=st.sampled_from(["male", "female"]),
    visit_date=st.just(VISIT),
    site=SITES,
    emergency=st.booleans(),
    services=st.frozensets(st.sampled_from(["laboratorium", "farmasi", "tindakan", "rawat-inap"])),
    measurements=st.builds(
        Measurements,
        systolic=st.just(None),
        diastolic=st.just(None),
        hemoglobin=st.none() | st.floats(2, 25),
        glucose_random=st.none() | st.floats(10, 1000),
        waist_cm=st.none() | st.floats(30, 250),
    ),
)


@given(visit=VISITS, female_pregnant=st.booleans())
def test_exactly_one_primary_klaster(visit: VisitInput, female_pregnant: bool) -> None:
    if female_pregnant and visit.sex == "female":
        visit = VisitInput(**{**visit.__dict__, "pregnancy": Pregnancy("hamil", 100)})
    primaries = [entry for entry in evaluate(visit).klaster if entry.role == "primary"]
    assert len(primaries) == 1


FINDINGS = st.sampled_from(
    [
        {"measurements": Measurements(systolic=185, diastolic=95)},
        {"measurements": Measurements(glucose_random=250)},
        {"measurements": Measurements(hemoglobin=6.5)},
        {"instruments": Instruments(tb_symptoms=TbSymptoms(("batuk",), household_contact=True))},
        {"instruments": Instruments(srq20=(True,) * 20)},
        {"instruments": Instruments(whisper_words_heard=1)},
        {"measurements": Measurements(waist_cm=120)},
    ]
)


def _highest_urgency(visit: VisitInput) -> int:
    return max((URGENCY_ORDER.index(referral.urgency) for referral in evaluate(visit).referrals), default=-1)


@given(visit=VISITS, extra=FINDINGS)
def test_adding_a_finding_never_lowers_the_urgency(visit: VisitInput, extra: dict[str, object]) -> None:
    base = VisitInput(**{**visit.__dict__, "measurements": Measurements(), "instruments": Instruments()})
    with_finding = VisitInput(**{**base.__dict__, **extra})
    assert _highest_urgency(with_finding) >= _highest_urgency(base)


@given(birth=st.dates(date(1930, 1, 1), VISIT - timedelta(days=1)))
def test_each_referral_target_appears_once(birth: date) -> None:
    visit = VisitInput(
        birth,
        "female",
        VISIT,
        "posyandu",
        measurements=Measurements(systolic=185, diastolic=95, glucose_random=250, hemoglobin=6.5, waist_cm=120),
    )
    targets = [referral.target for referral in evaluate(visit).referrals]
    assert len(targets) == len(set(targets))
