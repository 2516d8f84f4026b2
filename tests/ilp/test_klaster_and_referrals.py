"""Klaster routing (§3) and the referral pathways of §7 as settled by §11, per site."""

import pytest

from ilp_api.ilp.age import Age
from ilp_api.ilp.inputs import Site
from ilp_api.ilp.klaster import RoutingFacts, route_klaster
from ilp_api.ilp.referrals import Person, plan_actions
from ilp_api.ilp.results import Classification, Interpretation, Rule

GROWTH_RULE = Rule("6.9-test", "Permenkes 2/2020")


def _routing(years: int, stages: tuple[str, ...], **facts: object) -> set[tuple[int, str, tuple[str, ...]]]:
    defaults: dict[str, object] = {
        "emergency": False,
        "gawat_darurat_referral": False,
        "findings": frozenset(),
        "services": frozenset(),
    }
    routing = RoutingFacts(age_years=years, stages=stages, **{**defaults, **facts})  # type: ignore[arg-type]
    return {(entry.klaster, entry.role, entry.reasons) for entry in route_klaster(routing)}


@pytest.mark.parametrize(
    ("years", "stages", "facts", "expected"),
    [
        (17, ("remaja",), {}, {(2, "primary", ("siklus-hidup",))}),
        (18, ("dewasa",), {}, {(3, "primary", ("siklus-hidup",))}),
        (
            22,
            ("dewasa", "ibu-hamil"),
            {},
            {(2, "primary", ("kehamilan",)), (3, "screening", ("skrining-usia-produktif",))},
        ),
        (17, ("remaja", "ibu-hamil"), {}, {(2, "primary", ("kehamilan",))}),
        (30, ("dewasa", "ibu-bersalin"), {}, {(2, "primary", ("persalinan",))}),
        (60, ("lansia", "ibu-nifas"), {}, {(2, "primary", ("nifas",)), (3, "screening", ("skrining-lansia",))}),
        (
            40,
            ("dewasa",),
            {"emergency": True, "services": frozenset({"farmasi"})},
            {(3, "primary", ("siklus-hidup",)), (5, "lintas", ("gawat-darurat", "farmasi"))},
        ),
        (
            40,
            ("dewasa",),
            {"findings": frozenset({"terduga-tb", "kontak-erat"})},
            {(3, "primary", ("siklus-hidup",)), (4, "surveillance", ("terduga-tb", "kontak-erat"))},
        ),
    ],
    ids=[
        "17-y",
        "18th-birthday",
        "R5-hamil-22",
        "R4-hamil-17",
        "R5-no-bersalin",
        "R5-lansia-nifas",
        "R1-R7-merge",
        "R6-tb",
    ],
)
def test_routing(
    years: int, stages: tuple[str, ...], facts: dict[str, object], expected: set[tuple[int, str, tuple[str, ...]]]
) -> None:
    assert _routing(years, stages, **facts) == expected


def _finding(key: str, code: str, value: float | None = None, flags: tuple[str, ...] = ()) -> Classification:
    return Classification(key, code, Interpretation.ABNORMAL, GROWTH_RULE, flags=flags, value=value)


def _person(
    years: int = 3, months: int | None = None, weight: float | None = 12.0, stages: frozenset[str] = frozenset()
) -> Person:
    months = years * 12 if months is None else months
    return Person(Age(months * 30, months, years), "female", stages, weight)


def _plan(findings: list[Classification], site: Site, person: Person | None = None):  # type: ignore[no-untyped-def]
    referrals, follow_ups = plan_actions(findings, person or _person(), site)
    return (
        [(referral.target, referral.urgency) for referral in referrals],
        {follow_up.code: follow_up.due_in_days for follow_up in follow_ups},
    )


@pytest.mark.parametrize(
    ("finding", "site", "referrals", "follow_ups"),
    [
        (_finding("tb-u", "pendek"), "posyandu", [("puskesmas", "rutin")], {}),
        (_finding("tb-u", "sangat-pendek"), "puskesmas", [("fkrtl", "rutin")], {}),
        (_finding("bb-tb", "gizi-buruk"), "pustu", [("puskesmas", "segera")], {}),
        (_finding("bb-tb", "gizi-buruk"), "puskesmas", [], {}),
        (_finding("bb-tb", "gizi-kurang"), "posyandu", [("puskesmas", "rutin")], {}),
        (_finding("bb-u", "berat-badan-kurang"), "sekolah", [("puskesmas", "rutin")], {}),
        (_finding("bb-tb", "obesitas"), "puskesmas", [("fkrtl", "rutin")], {}),
        (_finding("lk-u", "mikrosefali"), "posyandu", [("puskesmas", "rutin")], {}),
        (_finding("imt-u", "gizi-lebih"), "posyandu", [], {"review-gizi-2-minggu": 14, "edukasi": 0}),
        (_finding("bb-tb", "gizi-buruk", flags=("z-tidak-wajar",)), "posyandu", [], {}),
        (_finding("tren-berat", "2T"), "posyandu", [("puskesmas", "rutin")], {}),
        (_finding("tren-berat", "T"), "posyandu", [], {"timbang-ulang-bulan-depan": 30, "edukasi": 0}),
        (_finding("tb-gejala", "terduga-tb"), "kunjungan-rumah", [("pustu", "rutin")], {}),
        (_finding("tb-gejala", "terduga-tb"), "pustu", [], {"pemeriksaan-dahak": 1}),
        (_finding("tb-gejala", "bukan-terduga-tb", flags=("kontak-erat",)), "pustu", [("puskesmas", "rutin")], {}),
        (_finding("adl", "ketergantungan-berat"), "posyandu", [("pustu", "rutin")], {"perawatan-rumah": 30}),
        (_finding("adl", "ketergantungan-ringan"), "pustu", [("puskesmas", "rutin")], {}),
        (_finding("skilas", "perlu-pemeriksaan-lanjut"), "puskesmas", [], {"pemeriksaan-geriatri": 7}),
        (_finding("kpsp", "penyimpangan"), "puskesmas", [("fkrtl", "rutin")], {}),
        (_finding("visus", "suspek-gangguan-penglihatan"), "posyandu", [("puskesmas", "rutin")], {}),
        (_finding("gula-darah-sewaktu", "prediabetes"), "posyandu", [("puskesmas", "rutin")], {"cek-gula-3-bulan": 90}),
        (_finding("gula-darah-puasa", "prediabetes"), "puskesmas", [("fkrtl", "rutin")], {"cek-gula-3-bulan": 90}),
        (_finding("anemia", "anemia", value=7.9), "puskesmas", [("fkrtl", "rutin")], {}),
        (_finding("anemia", "anemia", value=6.9), "puskesmas", [("fkrtl", "segera")], {}),
    ],
    ids=[
        "pendek-posyandu",
        "sangat-pendek-puskesmas",
        "gizi-buruk-pustu",
        "gizi-buruk-puskesmas-3y-12kg",
        "gizi-kurang",
        "bb-u-kurang-sekolah",
        "bb-tb-obesitas-puskesmas",
        "mikrosefali",
        "gizi-lebih",
        "z-tidak-wajar-no-referral",
        "2T",
        "single-T",
        "terduga-tb-rumah",
        "terduga-tb-pustu",
        "kontak-erat-pustu",
        "adl-berat-posyandu",
        "adl-ringan-pustu",
        "skilas-puskesmas",
        "kpsp-penyimpangan-puskesmas",
        "jari-posyandu",
        "gds-child-posyandu",
        "gdp-child-puskesmas",
        "hb-below-8-puskesmas",
        "hb-below-7-puskesmas",
    ],
)
def test_first_hop(
    finding: Classification, site: Site, referrals: list[tuple[str, str]], follow_ups: dict[str, int]
) -> None:
    assert _plan([finding], site) == (referrals, follow_ups)


def test_gizi_buruk_under_six_months_goes_to_the_fkrtl_from_the_puskesmas() -> None:
    infant = _person(years=0, months=4, weight=5.0)
    assert _plan([_finding("bb-tb", "gizi-buruk")], "puskesmas", infant)[0] == [("fkrtl", "segera")]


def test_ttd_for_girls_12_to_17_but_not_for_women() -> None:
    anemia = _finding("anemia", "anemia", value=11.0)
    assert "ttd" in _plan([anemia], "posyandu", _person(years=13))[1]
    assert "ttd" not in _plan([anemia], "posyandu", _person(years=25))[1]


def test_one_referral_per_target_at_the_highest_urgency() -> None:
    findings = [_finding("tb-u", "pendek"), _finding("bb-tb", "gizi-buruk")]
    referrals, _ = plan_actions(findings, _person(), "posyandu")
    assert [(referral.target, referral.urgency, referral.reasons) for referral in referrals] == [
        ("puskesmas", "segera", ("pendek", "gizi-buruk"))
    ]


def test_gawat_darurat_replaces_the_rest_and_carries_their_reasons() -> None:
    findings = [
        _finding("tekanan-darah-kehamilan", "td-hamil-berat"),
        _finding("gula-darah-sewaktu", "suspek-diabetes"),
        _finding("tb-gejala", "terduga-tb"),
    ]
    referrals, _ = plan_actions(findings, _person(years=30, stages=frozenset({"ibu-hamil"})), "posyandu")
    assert [(referral.target, referral.urgency) for referral in referrals] == [("fkrtl", "gawat-darurat")]
    assert set(referrals[0].reasons) == {"td-hamil-berat", "suspek-diabetes", "terduga-tb"}


def test_items_the_site_cannot_do_are_scheduled() -> None:
    _, follow_ups = plan_actions([], _person(years=30), "posyandu", ["tes-bisik", "sadanis"])
    assert [(f.code, f.due_in_days, f.reasons) for f in follow_ups] == [("jadwalkan", 0, ("tes-bisik", "sadanis"))]


def test_every_referral_names_its_rules() -> None:
    referrals, _ = plan_actions([_finding("tb-u", "pendek")], _person(), "posyandu")
    assert [rule.id for rule in referrals[0].rules] == ["7-pendek"]
