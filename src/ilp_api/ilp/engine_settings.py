"""Engine settings (§0), defaults first. The §8 sasaran parameters belong to PWS, not to a single visit."""

from dataclasses import dataclass
from typing import Literal

BmiScheme = Literal["ilp", "p2ptm"]
KpspAgeMode = Literal["completed-months", "sdidtk-rounding"]


@dataclass(frozen=True)
class EngineSettings:
    bmi_scheme: BmiScheme = "ilp"
    sadanis_min_age_years: Literal[15, 30] = 15
    srq20_min_age_years: Literal[15, 18] = 15
    anemia_pregnancy_t2_threshold: float = 11.0  # 11.0 or 10.5 (PPK)
    kpsp_age_mode: KpspAgeMode = "completed-months"
    # Used by SPM counting (§8), carried here so one settings object serves every rule.
    spm_anc_min_visits: Literal[6, 4] = 6


DEFAULT_SETTINGS = EngineSettings()
