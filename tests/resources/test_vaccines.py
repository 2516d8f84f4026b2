"""The vaccines of the schedule: every dose has its name and an entry in the KFA table, whose codes say where they
come from and are never marked verified without a source."""

from ilp_api.ilp.screening_packages import DOSE_CODES, SCHEDULE
from ilp_api.resources.vaccines import BY_DOSE, DOSE_DISPLAY, dose_display


def test_every_dose_of_the_schedule_has_an_entry_in_the_kfa_table() -> None:
    assert set(BY_DOSE) == {"hb0", *(dose.code for dose in SCHEDULE)} == set(DOSE_CODES)


def test_a_kfa_code_names_its_source_and_none_is_verified_without_one() -> None:
    for dose, vaccine in BY_DOSE.items():
        assert vaccine.source or not vaccine.kfa, dose
        assert not vaccine.verified or vaccine.source, dose
        assert all(code.code.startswith("VG") for code in vaccine.kfa), dose  # group codes, not one product's


def test_a_dose_is_named_in_indonesian_with_its_number() -> None:
    assert dose_display("opv-2") == "Polio tetes (OPV) dosis 2"
    assert dose_display("dpt-hb-hib-4") == "DPT-HB-Hib dosis 4"
    assert dose_display("bcg") == "BCG"
    assert list(DOSE_DISPLAY) == list(DOSE_CODES)
