"""Kemendagri wilayah codes (profile §1): structure and hierarchy, without the reference list.

Codes are stored without dots: province 2 digits, kab/kota 4, kecamatan 6, desa/kelurahan 10. The full
list (Kepmendagri 300.2.2-2138/2025) is versioned data an operator loads; these checks need none of it.
"""

from itertools import pairwise

# 38 provinces; Papua is 91–96, where 93–96 are new since 2022 and must be accepted.
PROVINCE_CODES = frozenset(
    [
        *("11", "12", "13", "14", "15", "16", "17", "18", "19", "21"),
        *("31", "32", "33", "34", "35", "36", "51", "52", "53"),
        *("61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76"),
        *("81", "82", "91", "92", "93", "94", "95", "96"),
    ]
)


# Digits of each level: provinsi, kabupaten/kota, kecamatan, desa/kelurahan.
LEVEL_LENGTHS = (2, 4, 6, 10)


def is_kabupaten_or_kota_digits(digits: str) -> bool:
    """Digits 3–4: 01–69 for a kabupaten, 71–99 for a kota."""
    number = int(digits)
    return 1 <= number <= 69 or 71 <= number <= 99


def wilayah_problem(code: str) -> str | None:
    """Why ``code`` is not a structurally valid wilayah code, or None when it is."""
    if not code.isascii() or not code.isdigit() or len(code) not in LEVEL_LENGTHS:
        return "a wilayah code is 2, 4, 6 or 10 digits without dots"
    if code[:2] not in PROVINCE_CODES:
        return f"'{code[:2]}' is not a province code"
    if len(code) >= 4 and not is_kabupaten_or_kota_digits(code[2:4]):
        return "kabupaten/kota digits must be 01–69 (kabupaten) or 71–99 (kota)"
    if len(code) >= 6 and code[4:6] == "00":
        return "kecamatan digits must be 01–99"
    if len(code) == 10 and code[6] not in "123":
        return "digit 7 of a desa/kelurahan code is 1 (kelurahan), 2 (desa) or 3 (desa adat)"
    return None


def hierarchy_problem(codes: list[str]) -> str | None:
    """Each given level must be a prefix of the next (province ⊂ kab/kota ⊂ kecamatan ⊂ desa)."""
    ordered = sorted(codes, key=len)
    for parent, child in pairwise(ordered):
        if not child.startswith(parent):
            return f"{child} does not lie within {parent}"
    return None


def is_within(code: str, area: str) -> bool:
    """True when ``code`` lies inside (or is) the wilayah ``area``."""
    return code.startswith(area)
