"""All twelve example cases of profile §10, end to end through the API, read through §11 (first hop only)."""

from typing import Any

import pytest
from response_reading import Evaluate, classification, due_items, follow_ups, klaster_roles, referrals

VISIT_DATE = "2026-06-01"


def visit(birth_date: str, sex: str, site: str, **extra: Any) -> dict[str, Any]:
    return {"birthDate": birth_date, "sex": sex, "visitDate": VISIT_DATE, "site": site, **extra}


def test_1_pregnant_woman_with_hypertension(evaluate: Evaluate) -> None:
    body = evaluate(
        visit(
            "2004-03-01",
            "female",
            "posyandu",
            pregnancy={"status": "hamil", "gestationalAgeDays": 140, "ancVisitNumber": 3},
            measurements={"systolic": 150, "diastolic": 95},
        )
    )
    assert body["stages"] == ["dewasa", "ibu-hamil"]
    assert klaster_roles(body) == {(2, "primary"), (3, "screening")}
    adult = classification(body, "tekanan-darah")
    assert (adult["code"], adult["interpretation"]) == ("hipertensi-1", "H")
    assert classification(body, "tekanan-darah-kehamilan")["code"] == "td-hamil-tinggi"
    # The segera ANC referral outranks the rutin HT referral: one referral to the puskesmas.
    assert referrals(body) == [("puskesmas", "segera")]
    assert {"hipertensi-1", "td-hamil-tinggi"} <= set(body["referrals"][0]["reasons"])
    due = due_items(body)
    assert {"srq-20", "gula-darah", "tb-gejala"} <= due.keys()
    assert due["gula-darah"] == "anc-k3"
    assert "tekanan-darah" not in due  # measured at this visit


def test_2_stunted_child(evaluate: Evaluate) -> None:
    # 86.8 cm at 36 months gives HAZ −2.51 against WHO 2006 (boys).
    child = visit("2023-06-01", "male", "posyandu", measurements={"heightCm": 86.8})
    body = evaluate(child)
    assert body["stages"] == ["balita"]
    assert klaster_roles(body) == {(2, "primary")}
    height_for_age = classification(body, "tb-u")
    assert (height_for_age["code"], height_for_age["interpretation"]) == ("pendek", "L")
    assert height_for_age["value"] == pytest.approx(-2.5, abs=0.01)
    assert referrals(body) == [("puskesmas", "rutin")]
    # The onward →F rutin (SpA) is the puskesmas's own hop.
    assert referrals(evaluate({**child, "site": "puskesmas"})) == [("fkrtl", "rutin")]


def test_3_lansia_moderately_dependent(evaluate: Evaluate) -> None:
    body = evaluate(visit("1961-01-15", "female", "posyandu", instruments={"adl": {"total": 10}}))
    assert body["stages"] == ["lansia"]
    assert klaster_roles(body) == {(3, "primary")}
    assert body["prioritas"] is True
    adl = classification(body, "adl")
    assert (adl["code"], adl["interpretation"], adl["details"]["grade"]) == ("ketergantungan-sedang", "A", "B")
    assert referrals(body) == [("pustu", "rutin")]


def test_4_adolescent_hypertension(evaluate: Evaluate) -> None:
    body = evaluate(visit("2010-01-10", "male", "posyandu", measurements={"systolic": 135, "diastolic": 85}))
    assert body["stages"] == ["anak-usia-sekolah", "remaja"]
    assert klaster_roles(body) == {(2, "primary")}
    blood_pressure = classification(body, "tekanan-darah")
    assert (blood_pressure["code"], blood_pressure["interpretation"]) == ("hipertensi-1", "H")
    assert blood_pressure["rule"]["id"] == "6.2-td-remaja"
    assert referrals(body) == [("puskesmas", "rutin")]
    due = due_items(body)
    assert due["gula-darah"] == "faktor-risiko"
    assert {"srq-20", "imt", "lingkar-perut", "visus"} <= due.keys()


def test_5_suicide_risk_with_normal_total(evaluate: Evaluate) -> None:
    answers = [False] * 20
    answers[0] = answers[1] = answers[16] = True  # total 3, item 17 yes
    body = evaluate(visit("1981-02-02", "male", "posyandu", instruments={"srq20": answers}))
    assert body["stages"] == ["dewasa"]
    assert klaster_roles(body) == {(3, "primary")}
    srq = classification(body, "srq-20")
    assert (srq["code"], srq["flags"], srq["interpretation"], srq["value"]) == (
        "normal",
        ["risiko-bunuh-diri"],
        "A",
        3,
    )
    assert referrals(body) == [("puskesmas", "segera")]


def test_6_pregnant_adolescent_with_kek_and_anemia(evaluate: Evaluate) -> None:
    body = evaluate(
        visit(
            "2010-02-01",
            "female",
            "puskesmas",
            pregnancy={"status": "hamil", "gestationalAgeDays": 70, "ancVisitNumber": 1},
            services=["laboratorium"],
            measurements={"muacCm": 22.0, "hemoglobin": 10.5, "systolic": 118, "diastolic": 76},
        )
    )
    assert body["stages"] == ["anak-usia-sekolah", "remaja", "ibu-hamil"]
    assert klaster_roles(body) == {(2, "primary"), (5, "lintas")}
    assert next(entry for entry in body["klaster"] if entry["klaster"] == 5)["reasons"] == ["laboratorium"]
    assert (classification(body, "kek")["code"], classification(body, "kek")["interpretation"]) == ("kek", "L")
    assert (classification(body, "anemia")["code"], classification(body, "anemia")["interpretation"]) == (
        "anemia",
        "L",
    )
    assert classification(body, "tekanan-darah")["code"] == "normal"
    assert body["flags"] == ["terlalu-muda"]
    assert referrals(body) == []  # the puskesmas doctor treats; Hb 10.5 is not below 8
    assert follow_ups(body) == {"mt-bumil-kek-90-hari": 90, "ttd": 30}


def test_7_presumptive_tb_household_contact(evaluate: Evaluate) -> None:
    tb = {"symptoms": ["batuk", "keringat-malam"], "householdContact": True}
    body = evaluate(visit("1991-05-05", "male", "posyandu", instruments={"tbSymptoms": tb}))
    assert body["stages"] == ["dewasa"]
    assert klaster_roles(body) == {(3, "primary"), (4, "surveillance")}
    screening = classification(body, "tb-gejala")
    assert (screening["code"], screening["interpretation"], screening["flags"]) == (
        "terduga-tb",
        "A",
        ["kontak-erat"],
    )
    assert referrals(body) == [("pustu", "rutin")]
    assert body["referrals"][0]["reasons"] == ["terduga-tb"]  # kontak-erat is subsumed (§11)


def test_8_severe_hypertension_in_pregnancy(evaluate: Evaluate) -> None:
    body = evaluate(
        visit(
            "1996-01-20",
            "female",
            "pustu",
            pregnancy={"status": "hamil", "gestationalAgeDays": 238},
            measurements={"systolic": 165, "diastolic": 112},
        )
    )
    assert body["stages"] == ["dewasa", "ibu-hamil"]
    assert klaster_roles(body) == {(2, "primary"), (3, "screening"), (5, "lintas")}
    adult = classification(body, "tekanan-darah")
    assert (adult["code"], adult["interpretation"]) == ("hipertensi-3", "HH")
    assert classification(body, "tekanan-darah-kehamilan")["code"] == "td-hamil-berat"
    assert referrals(body) == [("fkrtl", "gawat-darurat")]
    assert {"hipertensi-3", "td-hamil-berat"} <= set(body["referrals"][0]["reasons"])


def test_9_severely_wasted_infant(evaluate: Evaluate) -> None:
    # 4.74 kg at 62.0 cm gives WHZ −3.40 against WHO 2006 (girls).
    infant = visit("2026-02-01", "female", "posyandu", measurements={"weightKg": 4.74, "lengthCm": 62.0})
    body = evaluate(infant)
    assert body["stages"] == ["bayi", "balita"]
    assert klaster_roles(body) == {(2, "primary")}
    wasting = classification(body, "bb-tb")
    assert (wasting["code"], wasting["interpretation"]) == ("gizi-buruk", "LL")
    assert wasting["value"] == pytest.approx(-3.4, abs=0.01)
    assert referrals(body) == [("puskesmas", "segera")]
    # At the puskesmas an infant under 6 months goes on to the FKRTL, segera.
    assert ("fkrtl", "segera") in referrals(evaluate({**infant, "site": "puskesmas"}))


def test_10_kpsp_doubtful_and_booster_doses(evaluate: Evaluate) -> None:
    given = {
        **dict.fromkeys(("bcg", "opv-1"), "2024-10-05"),
        **dict.fromkeys(("dpt-hb-hib-1", "opv-2", "rv-1", "pcv-1"), "2024-12-01"),
        **dict.fromkeys(("dpt-hb-hib-2", "opv-3", "rv-2", "pcv-2"), "2025-01-01"),
        **dict.fromkeys(("dpt-hb-hib-3", "opv-4", "rv-3", "ipv-1"), "2025-02-01"),
        **dict.fromkeys(("mr-1", "ipv-2"), "2025-07-01"),
        "pcv-3": "2025-10-01",
    }
    body = evaluate(visit("2024-10-01", "male", "posyandu", instruments={"kpsp": {"yesCount": 8}}, lastDone=given))
    assert body["stages"] == ["balita"]
    assert klaster_roles(body) == {(2, "primary")}
    kpsp = classification(body, "kpsp")
    assert (kpsp["code"], kpsp["interpretation"], kpsp["details"]["band"]) == ("meragukan", "A", 18)
    assert follow_ups(body)["ulang-kpsp-14-hari"] == 14
    doses = {due["reason"] for due in body["due"] if due["item"] == "imunisasi"}
    assert doses == {"dpt-hb-hib-4", "mr-2"}


def test_11_lansia_copd_risk_and_hearing(evaluate: Evaluate) -> None:
    puma = {"neverSmoked": False, "packYears": 25, "dyspnoea": True, "sputum": True}
    body = evaluate(visit("1964-03-03", "male", "pustu", instruments={"puma": puma, "skilas": {"pendengaran": True}}))
    assert body["stages"] == ["lansia"]
    assert klaster_roles(body) == {(3, "primary")}
    assert body["prioritas"] is True
    copd = classification(body, "puma")
    assert (copd["code"], copd["interpretation"], copd["value"]) == ("risiko-tinggi-ppok", "A", 6)
    skilas = classification(body, "skilas")
    assert (skilas["code"], skilas["flags"]) == ("perlu-pemeriksaan-lanjut", ["pendengaran"])
    assert referrals(body) == [("puskesmas", "rutin")]
    assert {"risiko-tinggi-ppok", "perlu-pemeriksaan-lanjut"} <= set(body["referrals"][0]["reasons"])
    assert "edukasi" in follow_ups(body)  # UBM


@pytest.mark.parametrize(
    ("scheme", "bmi_code"), [("ilp", "obesitas-1"), ("p2ptm", "gemuk-berat")], ids=["ilp", "p2ptm"]
)
def test_12_obesity_and_suspected_diabetes(evaluate: Evaluate, scheme: str, bmi_code: str) -> None:
    measurements = {
        "weightKg": 70,
        "heightCm": 160,
        "waistCm": 88,
        "glucoseRandom": 210,
        "systolic": 128,
        "diastolic": 82,
    }
    body = evaluate(
        visit("1986-01-01", "female", "posyandu", measurements=measurements, settings={"bmiScheme": scheme})
    )
    assert body["stages"] == ["dewasa"]
    assert klaster_roles(body) == {(3, "primary")}
    bmi = classification(body, "imt")
    assert (bmi["value"], bmi["code"]) == (27.3, bmi_code)
    assert classification(body, "lingkar-perut")["code"] == "obesitas-sentral"
    assert classification(body, "gula-darah-sewaktu")["code"] == "suspek-diabetes"
    assert classification(body, "tekanan-darah")["code"] == "normal"
    assert referrals(body) == [("puskesmas", "rutin")]
    assert follow_ups(body)["evaluasi-3-bulan"] == 90
