"""What the engine is told about one visit: plain frozen dataclasses, validated at the API boundary (§5, §11)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal

from ilp_api.ilp.results import Sex

Site = Literal["posyandu", "kunjungan-rumah", "sekolah", "pustu", "puskesmas"]
PregnancyStatus = Literal["hamil", "bersalin", "nifas"]
Service = Literal["laboratorium", "farmasi", "tindakan", "rawat-inap"]


@dataclass(frozen=True)
class Pregnancy:
    status: PregnancyStatus
    gestational_age_days: int | None = None
    delivery_date: date | None = None
    anc_visit_number: int | None = None


@dataclass(frozen=True)
class Measurements:
    """The §5 catalogue; ``None`` means not measured at this visit."""

    systolic: int | None = None
    diastolic: int | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    length_cm: float | None = None
    head_circumference_cm: float | None = None
    muac_cm: float | None = None
    waist_cm: float | None = None
    glucose_random: float | None = None
    glucose_fasting: float | None = None
    hba1c: float | None = None
    hemoglobin: float | None = None
    cholesterol_total: float | None = None
    temperature_c: float | None = None
    heart_rate: int | None = None
    respiratory_rate: int | None = None
    oedema: bool = False


@dataclass(frozen=True)
class Puma:
    never_smoked: bool = True
    pack_years: float = 0.0
    dyspnoea: bool = False
    sputum: bool = False
    cough: bool = False
    spirometry_referral: bool = False


@dataclass(frozen=True)
class Adl:
    """Exactly one form: the Barthel ``total`` or all ten ``items`` (§11)."""

    total: int | None = None
    items: Mapping[str, int] | None = None


@dataclass(frozen=True)
class TbSymptoms:
    symptoms: tuple[str, ...] = ()
    household_contact: bool = False
    close_contact: bool = False


@dataclass(frozen=True)
class Visus:
    """Snellen fractions per eye (``"6/12"``), or the finger-count form; never both (§11)."""

    right: str | None = None
    left: str | None = None
    finger_count_wrong: int | None = None


@dataclass(frozen=True)
class Instruments:
    srq20: tuple[bool, ...] | None = None
    puma: Puma | None = None
    adl: Adl | None = None
    skilas: frozenset[str] | None = None  # the flagged (positive) §6.13 domains
    kpsp_yes_count: int | None = None
    tb_symptoms: TbSymptoms | None = None
    visus: Visus | None = None
    whisper_words_heard: int | None = None


@dataclass(frozen=True)
class Weighing:
    date: date
    weight_kg: float


@dataclass(frozen=True)
class VisitInput:
    birth_date: date
    sex: Sex
    visit_date: date
    site: Site
    pregnancy: Pregnancy | None = None
    emergency: bool = False
    services: frozenset[Service] = frozenset()
    measurements: Measurements = field(default_factory=Measurements)
    instruments: Instruments = field(default_factory=Instruments)
    weights: tuple[Weighing, ...] = ()  # earlier weighings only; today's is measurements.weight_kg
    last_done: Mapping[str, date] = field(default_factory=lambda: MappingProxyType({}))
