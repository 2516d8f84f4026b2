"""Follow-up worklists over HTTP, both databases: what each resident of a posyandu is due for, computed on the
day it is asked (the visits are dated relative to today, so nothing here depends on the calendar)."""

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from factories import (
    KELURAHAN,
    create,
    immunization_json,
    nik,
    organization_json,
    outcome,
    patient_json,
)
from harness import mint_token
from ilp_api.db.engine import Database
from ilp_api.ilp.age import add_months
from ilp_api.security.smart_scopes import ADMIN_SCOPE
from ilp_api.settings import Settings
from visits import PREGNANT, blood_pressure, quantity, record_visit, visit_bundle

TODAY = date.today()  # the site's date in the test settings' time zone may differ by a day: kept clear of edges


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def villager(client: TestClient, network: dict[str, str], born: str, gender: str, serial: int, rw: str) -> str:
    """A resident of the posyandu's village, in RW ``rw``."""
    sex = "female" if gender == "female" else "male"
    resident = patient_json(
        nik(born, sex, serial),
        gender=gender,
        birth_date=born,
        wilayah=KELURAHAN,
        rw=rw,
        organization=network["posyandu"],
    )
    return str(create(client, resident)["id"])


def worklist(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/worklists?{query}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def items_by_patient(listed: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for item in listed["items"]:
        found.setdefault(item["patient"].removeprefix("Patient/"), set()).add(item["item"])
    return found


def doses_listed(listed: dict[str, Any], patient: str) -> dict[str, dict[str, Any]]:
    """The patient's imunisasi/<dose> items, by item."""
    return {
        i["item"]: i
        for i in listed["items"]
        if i["patient"] == f"Patient/{patient}" and i["item"].startswith("imunisasi/")
    }


def test_the_posyandu_worklist_says_who_is_due_for_what_and_why(client: TestClient, network: dict[str, str]) -> None:
    prediabetic = villager(client, network, "1975-04-02", "male", 1, "001")
    glucose = quantity("1558-6", 110, "mg/dL")  # prediabetes: re-check in 3 months (§11 cek-gula-3-bulan)
    record_visit(client, visit_bundle(prediabetic, network["posyandu"], glucose, day=days_ago(100)))
    referred = villager(client, network, "1970-08-09", "female", 2, "001")
    record_visit(client, visit_bundle(referred, network["posyandu"], blood_pressure(150, 95), day=days_ago(10)))
    pregnant = villager(client, network, "2001-01-20", "female", 3, "002")
    record_visit(client, visit_bundle(pregnant, network["posyandu"], PREGNANT, day=days_ago(40)))
    unseen = villager(client, network, "1990-06-15", "male", 4, "002")

    listed = worklist(client, f"organization=Organization/{network['posyandu']}")

    due = items_by_patient(listed)
    assert "tindak-lanjut/cek-gula-3-bulan" in due[prediabetic]
    assert "rujukan-belum-dijawab" in due[referred]  # →P rutin 10 days ago, not answered within 7
    assert "kunjungan-anc" in due[pregnant]  # K1 40 days ago: K2 was due after 30
    assert due[unseen] == {"skrining-tahunan"}
    follow_up = next(i for i in listed["items"] if i["item"] == "tindak-lanjut/cek-gula-3-bulan")
    assert (follow_up["since"], follow_up["due"]) == (days_ago(100), days_ago(10))
    assert follow_up["overdue"]
    assert follow_up["rule"]
    assert follow_up["source"].startswith("Task/")
    assert follow_up["patientName"]
    assert follow_up["rw"] == "001"
    assert [i["due"] for i in listed["items"]] == sorted(i["due"] for i in listed["items"])


def test_a_worklist_is_narrowed_to_one_rw_and_paged(client: TestClient, network: dict[str, str]) -> None:
    for serial in range(1, 6):
        villager(client, network, "1985-03-03", "male", serial, "001" if serial <= 3 else "002")

    first = worklist(client, f"organization=Organization/{network['posyandu']}&rw=001&_count=2")
    second = client.get(first["next"]).json()

    assert first["total"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next"] is None
    assert {i["rw"] for i in first["items"] + second["items"]} == {"001"}


def test_what_falls_due_with_time_appears_without_any_new_write(client: TestClient, network: dict[str, str]) -> None:
    pregnant = villager(client, network, "2001-01-20", "female", 1, "001")
    record_visit(client, visit_bundle(pregnant, network["posyandu"], PREGNANT, day=days_ago(5)))
    adult = villager(client, network, "1975-04-02", "male", 2, "001")
    record_visit(client, visit_bundle(adult, network["posyandu"], quantity("1558-6", 110, "mg/dL"), day=days_ago(5)))
    query = f"organization=Organization/{network['posyandu']}"

    now = items_by_patient(worklist(client, query))
    later = items_by_patient(worklist(client, f"{query}&date={(TODAY + timedelta(days=100)).isoformat()}"))

    assert "kunjungan-anc" not in now.get(pregnant, set())
    assert "kunjungan-anc" in later[pregnant]
    assert "tindak-lanjut/cek-gula-3-bulan" in now[adult]  # listed from the start, due in 90 days …
    overdue = worklist(client, f"{query}&date={(TODAY + timedelta(days=100)).isoformat()}")["items"]
    assert any(i["item"] == "tindak-lanjut/cek-gula-3-bulan" and i["overdue"] for i in overdue)  # … overdue by then


def test_an_overdue_immunization_is_on_the_worklist_until_the_dose_is_recorded(
    client: TestClient, network: dict[str, str]
) -> None:
    """DOFU: a 10-month-old without MR1 (due at 9 months) is listed for it, overdue, until MR1 is recorded."""
    born = add_months(TODAY, -10) - timedelta(days=5)
    baby = villager(client, network, born.isoformat(), "female", 1, "001")
    for dose in ("bcg", "opv-1"):
        create(client, immunization_json(baby, dose, (born + timedelta(days=7)).isoformat()))
    query = f"organization=Organization/{network['posyandu']}"

    before = doses_listed(worklist(client, query), baby)
    create(client, immunization_json(baby, "mr-1", days_ago(2)))
    after = doses_listed(worklist(client, query), baby)
    as_of_before_it = doses_listed(worklist(client, f"{query}&date={days_ago(3)}"), baby)

    measles_rubella = before["imunisasi/mr-1"]
    assert (measles_rubella["since"], measles_rubella["due"]) == (add_months(born, 9).isoformat(),) * 2
    assert measles_rubella["overdue"]
    assert measles_rubella["rule"] == "4.4-imunisasi"
    assert measles_rubella["reason"].startswith("Imunisasi Campak-Rubela (MR) dosis 1 belum diberikan")
    assert {"imunisasi/bcg", "imunisasi/opv-1"}.isdisjoint(before)  # given
    assert "imunisasi/opv-2" in before  # the next polio dose, due 28 days after the first
    assert "imunisasi/mr-1" not in after
    assert "imunisasi/mr-1" in as_of_before_it
    assert "imunisasi/mr-2" not in after  # from 18 months, 6 months after MR1


def test_a_dose_falls_due_with_age_alone_and_is_no_longer_followed_up_from_24_months(
    client: TestClient, network: dict[str, str]
) -> None:
    born = add_months(TODAY, -8) - timedelta(days=5)
    baby = villager(client, network, born.isoformat(), "male", 1, "002")
    query = f"organization=Organization/{network['posyandu']}"
    nine_months = add_months(born, 9)

    def doses_on(day: date) -> dict[str, dict[str, Any]]:
        return doses_listed(worklist(client, f"{query}&date={day.isoformat()}"), baby)

    assert "imunisasi/mr-1" not in doses_on(TODAY)
    assert not doses_on(nine_months)["imunisasi/mr-1"]["overdue"]  # due that day
    assert doses_on(nine_months + timedelta(days=1))["imunisasi/mr-1"]["overdue"]
    assert doses_on(add_months(born, 24)) == {}


def test_a_client_reads_only_the_worklists_within_its_reach(
    anonymous_client: TestClient, client: TestClient, network: dict[str, str], db: Database, settings: Settings
) -> None:
    mawar = organization_json(
        "posyandu", name="Posyandu Mawar", wilayah=KELURAHAN, part_of=network["pustu"], rws=("003",)
    )
    other = create(client, mawar)["id"]
    anonymous_client.headers["Authorization"] = f"Bearer {mint_token(db, settings, network['posyandu'], 'system/*.rs')}"

    own = anonymous_client.get(f"/api/v1/worklists?organization=Organization/{network['posyandu']}")
    foreign = anonymous_client.get(f"/api/v1/worklists?organization=Organization/{other}")
    above = anonymous_client.get(f"/api/v1/worklists?organization=Organization/{network['puskesmas']}")

    assert own.status_code == 200, own.text
    outcome(foreign, 404)
    outcome(above, 404)
    anonymous_client.headers["Authorization"] = f"Bearer {mint_token(db, settings, None, ADMIN_SCOPE)}"
