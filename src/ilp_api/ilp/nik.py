"""NIK (Nomor Induk Kependudukan) checks of profile §1.

Layout ``PPKKCC DDMMYY SSSS``: wilayah of registration, birth date (day + 40 for women) and a serial.
A valid NIK proves only its structure and the sex and birth date it encodes: there is no check digit.
Errors (V1–V5) make a NIK unusable; warnings (V6–V7) are kept as data-quality flags, because real
registers hold NIKs whose encoded date or sex disagrees with the person's record.
"""

from dataclasses import dataclass
from datetime import date

from ilp_api.ilp.results import Sex
from ilp_api.ilp.wilayah import PROVINCE_CODES, is_kabupaten_or_kota_digits

NIK_ERROR = "nik-tidak-valid"
BIRTH_DATE_MISMATCH = "nik-tanggal-lahir-berbeda"
SEX_MISMATCH = "nik-jenis-kelamin-berbeda"
UNKNOWN_WILAYAH = "nik-wilayah-tidak-dikenal"

FEMALE_DAY_OFFSET = 40


class InvalidNik(ValueError):
    """A NIK that fails one of V1–V5; ``rule`` says which."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{message} ({rule})")
        self.rule = rule


@dataclass(frozen=True)
class DecodedNik:
    wilayah: str  # PPKKCC, the kecamatan of first registration
    sex: Sex
    birth_date: date


def decode_nik(nik: str, reference_date: date) -> DecodedNik:
    """Validate V1–V5 and decode. ``reference_date`` picks the century (V6): 20YY unless that is later."""
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise InvalidNik("V1", "a NIK is exactly 16 digits")
    if nik[:2] not in PROVINCE_CODES:
        raise InvalidNik("V2", f"'{nik[:2]}' is not an Indonesian province code")
    if not is_kabupaten_or_kota_digits(nik[2:4]) or nik[4:6] == "00":
        raise InvalidNik("V3", "kabupaten/kota digits must be 01–69 or 71–99 and kecamatan digits 01–99")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex: Sex = "female" if day > FEMALE_DAY_OFFSET else "male"
    day -= FEMALE_DAY_OFFSET if sex == "female" else 0
    if not 1 <= day <= 31 or not 1 <= month <= 12:
        raise InvalidNik("V4", "digits 7–12 are not a birth date (DD 01–31, or 41–71 for women; MM 01–12)")
    birth_date = _birth_date(year, month, day, reference_date)
    if nik[12:] == "0000":
        raise InvalidNik("V5", "the serial (last four digits) must be 0001 or more")
    return DecodedNik(wilayah=nik[:6], sex=sex, birth_date=birth_date)


def _birth_date(two_digit_year: int, month: int, day: int, reference_date: date) -> date:
    candidates = []
    for century in (2000, 1900):
        try:
            candidates.append(date(century + two_digit_year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise InvalidNik(
            "V4", f"{day:02d}-{month:02d} does not exist in 19{two_digit_year:02d} or 20{two_digit_year:02d}"
        )
    # V6: the 2000s unless that birth date would lie after the reference date.
    return next((d for d in candidates if d <= reference_date), candidates[-1])


def data_quality_warnings(
    decoded: DecodedNik, birth_date: date | None, sex: Sex | None, known_wilayah: frozenset[str] | None
) -> list[str]:
    """V6 and V7 warnings against what the record says. ``known_wilayah`` is None when no list is loaded."""
    warnings = []
    if birth_date is not None and birth_date != decoded.birth_date:
        warnings.append(BIRTH_DATE_MISMATCH)
    if sex is not None and sex != decoded.sex:
        warnings.append(SEX_MISMATCH)
    if known_wilayah is not None and decoded.wilayah not in known_wilayah:
        warnings.append(UNKNOWN_WILAYAH)
    return warnings
