"""The measurement catalogue (profile §5): what each measurement is coded as, its unit and its plausible range.

One table serves the JSON API's plausibility checks, the Observation's on write, and the reading of a recorded
visit into the engine's ``Measurements``. Codes are LOINC unless ``project_code`` (no LOINC code verified).
"""

from dataclasses import dataclass
from typing import Literal

LOINC = "http://loinc.org"
BLOOD_PRESSURE_PANEL = "85354-9"  # systolic and diastolic are its components (§5)

Category = Literal["vital-signs", "laboratory", "exam"]


@dataclass(frozen=True)
class Measure:
    key: str  # the field of ``inputs.Measurements``
    code: str
    unit: str  # a UCUM code
    low: float
    high: float
    category: Category = "vital-signs"
    integer: bool = False
    project_code: bool = False  # a code of the project's ilp-observation CodeSystem, not LOINC


CATALOGUE = (
    Measure("systolic", "8480-6", "mm[Hg]", 50, 300, integer=True),
    Measure("diastolic", "8462-4", "mm[Hg]", 20, 200, integer=True),
    Measure("weight_kg", "29463-7", "kg", 0.3, 400),
    Measure("height_cm", "8302-2", "cm", 40, 250),
    Measure("length_cm", "8306-3", "cm", 25, 130),
    Measure("head_circumference_cm", "9843-4", "cm", 20, 70),
    Measure("muac_cm", "muac", "cm", 5, 60, category="exam", project_code=True),
    Measure("waist_cm", "8280-0", "cm", 30, 250),
    Measure("glucose_random", "2339-0", "mg/dL", 10, 1000, category="laboratory"),
    Measure("glucose_fasting", "1558-6", "mg/dL", 10, 1000, category="laboratory"),
    Measure("hba1c", "4548-4", "%", 3.0, 20.0, category="laboratory"),
    Measure("hemoglobin", "718-7", "g/dL", 2.0, 25.0, category="laboratory"),
    Measure("cholesterol_total", "2093-3", "mg/dL", 50, 1000, category="laboratory"),
    Measure("temperature_c", "8310-5", "Cel", 30.0, 45.0),
    Measure("heart_rate", "8867-4", "/min", 20, 300, integer=True),
    Measure("respiratory_rate", "9279-1", "/min", 5, 120, integer=True),
)
BY_KEY = {measure.key: measure for measure in CATALOGUE}
BY_CODE = {measure.code: measure for measure in CATALOGUE}


def plausible_range(key: str) -> tuple[float, float]:
    measure = BY_KEY[key]
    return measure.low, measure.high
