"""The vaccines of the national schedule (profile §4.4): each dose's name in Indonesian, which the project publishes
as its dose CodeSystem (``{canonical base}/CodeSystem/imunisasi``), and the KFA codes SATUSEHAT knows the vaccine by.

KFA (Kamus Farmasi dan Alat Kesehatan, system ``http://sys-ids.kemkes.go.id/kfa``) names a vaccine in two ways: a
product code (``93…``, one manufacturer's pack, e.g. 93001282 Vaksin DTP-HB-Hib PENTABIO, 1 dosis) and a vaccine
group code (``VG…``), which SATUSEHAT's Immunization examples send beside the product. A dose of the schedule says
which vaccine was given, not which product, so this table holds the group codes; the product is the client's to
record when it knows it, as another coding of ``Immunization.vaccineCode``.

No official source (SATUSEHAT playbook, KFA browser) for these codes could be consulted. Each comes from the
terminology table of a third-party SATUSEHAT client (``SATUSEHAT_CLIENT_TABLE``) and is marked ``verified=False``
until someone checks it against KFA; a vaccine for which no source gives a code would have none, never a guessed
one. The group numbers follow CVX's (VG19 BCG is CVX 19, VG45 HepB is CVX 45), a pattern, not a confirmation.
Doubts the source leaves are noted at their vaccine.
"""

import re
from dataclasses import dataclass

from ilp_api.ilp.screening_packages import DOSE_CODES

KFA = "http://sys-ids.kemkes.go.id/kfa"
DOSE_CODE_SYSTEM = "imunisasi"  # its url is {canonical base}/CodeSystem/imunisasi
SATUSEHAT_CLIENT_TABLE = (
    "ivanwilliammd/satusehat-integration, src/Terminology/ImmunizationTerminology.php (a third-party SATUSEHAT "
    "client's map of KFA vaccine products to their group codes; not an official source)"
)


def dose_system(canonical_base: str) -> str:
    return f"{canonical_base}/CodeSystem/{DOSE_CODE_SYSTEM}"


@dataclass(frozen=True)
class KfaCode:
    code: str
    display: str  # as the source writes it


@dataclass(frozen=True)
class Vaccine:
    name: str  # as the programme calls it, in Indonesian
    kfa: tuple[KfaCode, ...]  # the KFA vaccine group codes; none where no source gives one
    verified: bool  # an official source we can cite confirms ``kfa``
    source: str | None  # where ``kfa`` was taken from


HEPATITIS_B = KfaCode("VG45", "HepB")
POLIO = KfaCode("VG89", "POLIO")  # oral and injected polio vaccines alike, in the source
VACCINES = {
    # The source gives VG45 for hepatitis B products (recombinant 20 µg); the birth dose's own product is not in it.
    "hb0": Vaccine("Hepatitis B (HB0), dalam 24 jam setelah lahir", (HEPATITIS_B,), False, SATUSEHAT_CLIENT_TABLE),
    "bcg": Vaccine("BCG", (KfaCode("VG19", "BCG"),), False, SATUSEHAT_CLIENT_TABLE),
    "opv": Vaccine("Polio tetes (OPV)", (POLIO,), False, SATUSEHAT_CLIENT_TABLE),
    # One group code per component, as the source codes the PENTABIO products.
    "dpt-hb-hib": Vaccine(
        "DPT-HB-Hib",
        (KfaCode("VG107", "DTAP"), HEPATITIS_B, KfaCode("VG17", "HIB")),
        False,
        SATUSEHAT_CLIENT_TABLE,
    ),
    "rv": Vaccine("Rotavirus (RV)", (KfaCode("VG122", "ROTAVIRUS"),), False, SATUSEHAT_CLIENT_TABLE),
    "pcv": Vaccine("Pneumokokus konjugasi (PCV)", (KfaCode("VG152", "PneumoPCV"),), False, SATUSEHAT_CLIENT_TABLE),
    "ipv": Vaccine("Polio suntik (IPV)", (POLIO,), False, SATUSEHAT_CLIENT_TABLE),
    # The source codes Bio Farma's M/R vaccine with the group it calls MMR (CVX 03; M/R alone is CVX 04): check it.
    "mr": Vaccine("Campak-Rubela (MR)", (KfaCode("VG03", "MMR"),), False, SATUSEHAT_CLIENT_TABLE),
}
NUMBERED_DOSE = re.compile(r"(?P<vaccine>.+)-(?P<number>\d+)")  # opv-2: the second dose of opv


def vaccine_of(dose: str) -> Vaccine:
    numbered = NUMBERED_DOSE.fullmatch(dose)
    return VACCINES[numbered["vaccine"] if numbered else dose]


def dose_display(dose: str) -> str:
    """``Polio tetes (OPV) dosis 2``; a vaccine given once is its name alone."""
    numbered = NUMBERED_DOSE.fullmatch(dose)
    return f"{vaccine_of(dose).name} dosis {numbered['number']}" if numbered else vaccine_of(dose).name


BY_DOSE = {dose: vaccine_of(dose) for dose in DOSE_CODES}  # every dose of the schedule, HB0 first
DOSE_DISPLAY = {dose: dose_display(dose) for dose in DOSE_CODES}
