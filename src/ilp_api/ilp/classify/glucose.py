"""Random and fasting glucose and HbA1c (§6.5), at every age including pregnancy."""

from ilp_api.ilp.classify.bands import Band, BandTable
from ilp_api.ilp.results import Classification, Interpretation, Rule

N, H, L = Interpretation.NORMAL, Interpretation.HIGH, Interpretation.LOW

RANDOM_KEY, FASTING_KEY, HBA1C_KEY = "gula-darah-sewaktu", "gula-darah-puasa", "hba1c"
RULE = Rule("6.5-glukosa", "JUK K3 DM, Tabel 23-24; PKG GDS")
LOW_GLUCOSE = Band("normal", L, 70, flags=("glukosa-rendah",))  # [interpretation]


def _glucose_table(prediabetes_from: float, diabetes_from: float, low: tuple[Band, ...] = ()) -> BandTable:
    return BandTable(
        (
            *low,
            Band("normal", N, prediabetes_from),
            Band("prediabetes", H, diabetes_from),
            Band("suspek-diabetes", H),
        )
    )


TABLES = {
    RANDOM_KEY: _glucose_table(140, 200, low=(LOW_GLUCOSE,)),
    FASTING_KEY: _glucose_table(100, 126, low=(LOW_GLUCOSE,)),
    HBA1C_KEY: _glucose_table(5.7, 6.5),
}


def classify_glucose(key: str, value: float) -> Classification:
    """``key`` is one of ``gula-darah-sewaktu``, ``gula-darah-puasa``, ``hba1c``."""
    return TABLES[key].classify(key, value, RULE)
