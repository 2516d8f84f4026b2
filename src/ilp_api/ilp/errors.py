"""The one error the engine raises: an input that contradicts itself or the profile's plausibility rules."""

# Codes from the profile (§5) ...
VALUE_OUT_OF_RANGE = "nilai-di-luar-rentang"
DIASTOLIC_NOT_BELOW_SYSTOLIC = "diastolik-harus-kurang-dari-sistolik"
# ... and the project's own codes for contradictions the profile names without a code (§2, §11).
PREGNANCY_ON_MALE = "kehamilan-pada-laki-laki"
DATE_AFTER_VISIT = "tanggal-setelah-kunjungan"
WRONG_ITEM_COUNT = "jumlah-item-tidak-sesuai"
AMBIGUOUS_FORM = "bentuk-isian-ganda"
INVALID_VISUS = "visus-tidak-valid"
UNKNOWN_CODE = "kode-tidak-dikenal"


class InvalidInput(ValueError):
    """``field`` is a dotted camelCase path into the visit (``measurements.diastolic``); ``code`` a profile code."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message
