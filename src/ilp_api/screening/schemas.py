"""Request and response of ``POST /api/v1/screening/evaluate`` (profile §11), camelCase on the wire.

Per-field plausibility (§5) is checked here and answered with the profile's ``nilai-di-luar-rentang``;
contradictions between fields and the shape of each instrument are the engine's to judge (``InvalidInput``).
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ilp_api.ilp.catalogue import plausible_range
from ilp_api.ilp.errors import VALUE_OUT_OF_RANGE

Site = Literal["posyandu", "kunjungan-rumah", "sekolah", "pustu", "puskesmas"]
Service = Literal["laboratorium", "farmasi", "tindakan", "rawat-inap"]


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def plausible(low: float, high: float) -> AfterValidator:
    """A §5 plausibility range; outside it → 422 ``nilai-di-luar-rentang`` naming the field."""

    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise PydanticCustomError(
                VALUE_OUT_OF_RANGE,
                "{value} is outside the plausible range {low}–{high}",
                {"ilp_code": VALUE_OUT_OF_RANGE, "value": value, "low": low, "high": high},
            )
        return value

    return AfterValidator(check)


def one_of(*allowed: float) -> AfterValidator:
    """For numeric choices a ``Literal`` cannot spell (floats)."""

    def check(value: float | None) -> float | None:
        if value is not None and value not in allowed:
            raise PydanticCustomError(
                VALUE_OUT_OF_RANGE,
                "{value} is not one of {allowed}",
                {"ilp_code": VALUE_OUT_OF_RANGE, "value": value, "allowed": allowed},
            )
        return value

    return AfterValidator(check)


def catalogued(key: str) -> AfterValidator:
    """The plausible range of a §5 measurement, from the one catalogue the Observation checks use too."""
    return plausible(*plausible_range(key))


class PregnancyIn(Schema):
    status: Literal["hamil", "bersalin", "nifas"]
    gestational_age_days: Annotated[int | None, plausible(0, 315)] = Field(
        default=None, description="Days since HPHT or by USG; T1 ≤84, T2 85–168, T3 ≥169 (§4.2)"
    )
    delivery_date: date | None = None
    anc_visit_number: Annotated[int | None, plausible(1, 12)] = Field(
        default=None, description="The K number of this ANC visit (K3 makes gula-darah due)"
    )


class MeasurementsIn(Schema):
    """Profile §5; every value optional, each within its plausibility range."""

    systolic: Annotated[int | None, catalogued("systolic")] = None
    diastolic: Annotated[int | None, catalogued("diastolic")] = None
    weight_kg: Annotated[float | None, catalogued("weight_kg")] = None
    height_cm: Annotated[float | None, catalogued("height_cm")] = Field(default=None, description="Standing")
    length_cm: Annotated[float | None, catalogued("length_cm")] = Field(default=None, description="Lying")
    head_circumference_cm: Annotated[float | None, catalogued("head_circumference_cm")] = None
    muac_cm: Annotated[float | None, catalogued("muac_cm")] = None
    waist_cm: Annotated[float | None, catalogued("waist_cm")] = None
    glucose_random: Annotated[float | None, catalogued("glucose_random")] = Field(default=None, description="mg/dL")
    glucose_fasting: Annotated[float | None, catalogued("glucose_fasting")] = Field(default=None, description="mg/dL")
    hba1c: Annotated[float | None, catalogued("hba1c")] = Field(default=None, description="%")
    hemoglobin: Annotated[float | None, catalogued("hemoglobin")] = Field(default=None, description="g/dL")
    cholesterol_total: Annotated[float | None, catalogued("cholesterol_total")] = Field(
        default=None, description="mg/dL"
    )
    temperature_c: Annotated[float | None, catalogued("temperature_c")] = None
    heart_rate: Annotated[int | None, catalogued("heart_rate")] = None
    respiratory_rate: Annotated[int | None, catalogued("respiratory_rate")] = None
    oedema: bool = Field(default=False, description="Bilateral pitting oedema (child: gizi-buruk, §6.9)")


class PumaIn(Schema):
    never_smoked: bool = True
    pack_years: Annotated[float, plausible(0, 300)] = Field(default=0.0, description="cigarettes/day × years / 20")
    dyspnoea: bool = False
    sputum: bool = False
    cough: bool = False
    spirometry_referral: bool = False


class AdlIn(Schema):
    total: Annotated[int | None, plausible(0, 20)] = None
    items: dict[str, int] | None = Field(
        default=None,
        description="All ten Barthel items: bowels, bladder, grooming, toilet, feeding, transfer, "
        "mobility, dressing, stairs, bathing. Give either total or items.",
    )


class SkilasIn(Schema):
    """``true`` = the domain is flagged (positive)."""

    kognitif: bool = False
    mobilitas: bool = False
    malnutrisi: bool = False
    penglihatan: bool = False
    pendengaran: bool = False
    depresi: bool = False


class KpspIn(Schema):
    yes_count: Annotated[int, plausible(0, 10)]


class TbSymptomsIn(Schema):
    symptoms: list[str] = Field(
        default_factory=list,
        description="≥15 y: batuk, berat-badan-turun, demam, keringat-malam. <15 y: batuk-2-minggu, "
        "demam-2-minggu, berat-badan-turun, lesu, tanda-ekstraparu",
    )
    household_contact: bool = False
    close_contact: bool = False


class VisusIn(Schema):
    right: str | None = Field(default=None, description="Snellen fraction, numerator 6, 3 or 1: 6/12, 3/60")
    left: str | None = None
    finger_count_wrong: Annotated[int | None, plausible(0, 5)] = None


class WhisperIn(Schema):
    words_heard: Annotated[int, plausible(0, 5)]


class InstrumentsIn(Schema):
    srq20: list[bool] | None = Field(default=None, description="20 answers; index 0 is item 1")
    puma: PumaIn | None = None
    adl: AdlIn | None = None
    skilas: SkilasIn | None = None
    kpsp: KpspIn | None = None
    tb_symptoms: TbSymptomsIn | None = None
    visus: VisusIn | None = None
    whisper: WhisperIn | None = None


class WeighingIn(Schema):
    date: date
    weight_kg: Annotated[float, catalogued("weight_kg")]


class SettingsIn(Schema):
    """Overrides of the §0 settings for this evaluation."""

    bmi_scheme: Literal["ilp", "p2ptm"] | None = None
    sadanis_min_age_years: Literal[15, 30] | None = None
    srq20_min_age_years: Literal[15, 18] | None = None
    anemia_pregnancy_t2_threshold: Annotated[float | None, one_of(11.0, 10.5)] = Field(
        default=None, json_schema_extra={"enum": [11.0, 10.5]}
    )
    kpsp_age_mode: Literal["completed-months", "sdidtk-rounding"] | None = None
    spm_anc_min_visits: Literal[6, 4] | None = None


class EvaluateRequest(Schema):
    birth_date: date
    sex: Literal["male", "female"]
    visit_date: date | None = Field(default=None, description="Default: today in the site's time zone")
    site: Site
    pregnancy: PregnancyIn | None = None
    emergency: bool = False
    services: list[Service] = Field(
        default_factory=list, description="Puskesmas lab, farmasi, tindakan or rawat inap used (R7); never PoCT"
    )
    measurements: MeasurementsIn = MeasurementsIn()
    instruments: InstrumentsIn = InstrumentsIn()
    weights: list[WeighingIn] = Field(default_factory=list, description="Earlier weighings (not today's)")
    last_done: dict[str, date] = Field(
        default_factory=dict, description="Item or vaccine-dose code → date it was last done (e.g. srq-20, mr-1)"
    )
    settings: SettingsIn | None = None


class RuleOut(Schema):
    id: str
    source: str


class AgeOut(Schema):
    days: int
    months: int
    years: int


class KlasterOut(Schema):
    klaster: int
    role: Literal["primary", "screening", "surveillance", "lintas"]
    reasons: list[str]
    rules: list[RuleOut]


class ClassificationOut(Schema):
    key: str
    code: str
    interpretation: Literal["N", "H", "HH", "L", "LL", "A"] | None
    flags: list[str]
    value: float | None
    details: dict[str, Any]
    rule: RuleOut


class DueOut(Schema):
    item: str
    reason: str
    rule: RuleOut


class ReferralOut(Schema):
    target: Literal["pustu", "puskesmas", "fkrtl"]
    urgency: Literal["rutin", "segera", "gawat-darurat"]
    reasons: list[str]
    rules: list[RuleOut]


class FollowUpOut(Schema):
    code: str
    due_in_days: int
    reasons: list[str]
    rules: list[RuleOut]


class EvaluateResponse(Schema):
    rule_set: str
    age: AgeOut
    stages: list[str]
    klaster: list[KlasterOut]
    prioritas: bool
    classifications: list[ClassificationOut]
    due: list[DueOut]
    referrals: list[ReferralOut]
    follow_ups: list[FollowUpOut]
    flags: list[str] = Field(description="Visit-level findings of no single classification: 4T (§4.2)")
    warnings: list[str] = Field(description="usia-kehamilan-tidak-lazim, dosis-interval-kurang")


REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "ibu-hamil-hipertensi": {
        "summary": "§10 #1: 22 y, 20 weeks pregnant, BP 150/95 at the posyandu",
        "value": {
            "birthDate": "2004-03-01",
            "sex": "female",
            "visitDate": "2026-06-01",
            "site": "posyandu",
            "pregnancy": {"status": "hamil", "gestationalAgeDays": 140, "ancVisitNumber": 3},
            "measurements": {"systolic": 150, "diastolic": 95},
        },
    },
    "lansia-adl": {
        "summary": "§10 #3: woman, 65 y, ADL 10 at the posyandu",
        "value": {
            "birthDate": "1961-01-15",
            "sex": "female",
            "visitDate": "2026-06-01",
            "site": "posyandu",
            "instruments": {"adl": {"total": 10}},
        },
    },
    "balita-kpsp": {
        "summary": "§10 #10: child, 20 months, KPSP 8 yes",
        "value": {
            "birthDate": "2024-10-01",
            "sex": "male",
            "visitDate": "2026-06-01",
            "site": "posyandu",
            "instruments": {"kpsp": {"yesCount": 8}},
        },
    },
}
