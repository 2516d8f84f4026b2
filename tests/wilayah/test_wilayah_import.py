"""The Kemendagri wilayah list: parsing the CSV, storing it, and what the API does once it is loaded."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from factories import (
    DATA_QUALITY_SYSTEM,
    FHIR_JSON,
    KECAMATAN,
    KELURAHAN,
    KOTA,
    create,
    ilp_codes,
    nik,
    organization_json,
    outcome,
    patient_json,
    stored_rows,
    tags,
)
from ilp_api.cli import app as cli
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.settings import get_settings
from ilp_api.wilayah.importer import ImportProblem, parse_wilayah_csv
from ilp_api.wilayah.repository import WilayahDirectory

SEMARANG_CSV = """kode,nama
33,JAWA TENGAH
33.74,KOTA SEMARANG
33.74.01,SEMARANG TENGAH
33.74.01.1001,PEKUNDEN
92,PAPUA BARAT DAYA
92.71,KOTA SORONG
92.71.06,SORONG UTARA
"""
ENTRIES = sorted(
    {
        "33": "JAWA TENGAH",
        "3374": "KOTA SEMARANG",
        "337401": "SEMARANG TENGAH",
        KELURAHAN: "PEKUNDEN",
        "92": "PAPUA BARAT DAYA",
        "9271": "KOTA SORONG",
        "927106": "SORONG UTARA",
    }.items()
)


# ---- the CSV ----


def test_parse_reads_codes_with_dots_and_skips_the_header() -> None:
    entries, problems = parse_wilayah_csv(SEMARANG_CSV.splitlines())

    assert problems == []
    assert entries == ENTRIES


@pytest.mark.parametrize(
    ("csv_text", "problem"),
    [
        ("33,JAWA TENGAH\n33,JAWA TENGAH\n", ImportProblem(2, "33: duplicate code")),
        ("33,JAWA TENGAH\n3374\n", ImportProblem(2, "expected two columns: code,name")),
        ("33,JAWA TENGAH\n33.7,X\n", ImportProblem(2, "33.7: a wilayah code is 2, 4, 6 or 10 digits without dots")),
        ("99,ATLANTIS\n", ImportProblem(1, "99: '99' is not a province code")),
        ("33.74,KOTA SEMARANG\n", ImportProblem(0, "3374: its parent 33 is not in the file")),
    ],
    ids=["duplicate", "no-name", "bad-length", "unknown-province", "orphan"],
)
def test_parse_reports_each_problem_with_its_line(csv_text: str, problem: ImportProblem) -> None:
    _, problems = parse_wilayah_csv(csv_text.splitlines())

    assert problem in problems


# ---- the directory ----


def test_replace_all_stores_the_list_and_replaces_a_previous_one(db: Database) -> None:
    with db.session(write=True) as session:
        directory = WilayahDirectory(session)
        assert not directory.is_loaded()
        directory.replace_all([("33", "JAWA TENGAH"), ("3374", "KOTA SMG")])
    with db.session(write=True) as session:
        WilayahDirectory(session).replace_all(ENTRIES)

    with db.session(write=False) as session:
        directory = WilayahDirectory(session)
        assert directory.is_loaded()
        assert directory.names(["3374", KELURAHAN, "3371"]) == {"3374": "KOTA SEMARANG", KELURAHAN: "PEKUNDEN"}
        assert directory.names([]) == {}


# ---- the API with a list loaded ----


@pytest.fixture
def loaded(db: Database) -> None:
    with db.session(write=True) as session:
        WilayahDirectory(session).replace_all(ENTRIES)


def test_known_codes_get_their_names_filled_in(client: TestClient, loaded: None) -> None:
    patient = create(client, patient_json(wilayah=KELURAHAN, rw="002"))

    address = patient["address"][0]
    assert (address["state"], address["city"], address["district"]) == (
        "JAWA TENGAH",
        "KOTA SEMARANG",
        "SEMARANG TENGAH",
    )


def test_names_the_client_sent_are_kept(client: TestClient, loaded: None) -> None:
    body = patient_json(wilayah=KELURAHAN)
    body["address"][0]["city"] = "Semarang"

    assert create(client, body)["address"][0]["city"] == "Semarang"


@pytest.mark.parametrize(
    ("resource_type", "body"),
    [
        ("Patient", patient_json(wilayah="3374011002")),
        ("Patient", patient_json(wilayah="3374021001")),
        ("Organization", organization_json("dinkes", wilayah="3371")),
    ],
    ids=["patient-unknown-village", "patient-unknown-kecamatan", "organization-unknown-kota"],
)
def test_unknown_codes_are_rejected(
    client: TestClient, db: Database, loaded: None, resource_type: str, body: dict[str, object]
) -> None:
    problem = outcome(client.post(f"/fhir/{resource_type}", json=body, headers=FHIR_JSON), 422)

    assert ilp_codes(problem) == ["wilayah-tidak-dikenal"]
    assert stored_rows(db, resource_type) == 0


def test_without_a_list_codes_are_checked_by_structure_only(client: TestClient) -> None:
    patient = create(client, patient_json(wilayah="3374021001"))

    assert "city" not in patient["address"][0]


def test_nik_of_an_unknown_kecamatan_is_flagged_v7(client: TestClient, loaded: None) -> None:
    known = create(client, patient_json())  # 927106 is in the list
    unknown = create(client, patient_json(nik(kecamatan="927105")))

    assert tags(known) == []
    assert tags(unknown) == ["nik-wilayah-tidak-dikenal"]
    found = client.get(f"/fhir/Patient?_tag={DATA_QUALITY_SYSTEM}|nik-wilayah-tidak-dikenal").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [unknown["id"]]


def test_facilities_use_the_list_too(client: TestClient, loaded: None) -> None:
    dinkes = create(client, organization_json("dinkes", wilayah=KOTA))
    puskesmas = create(client, organization_json("puskesmas", wilayah=KECAMATAN, part_of=dinkes["id"]))

    assert puskesmas["address"][0]["district"] == "SEMARANG TENGAH"


# ---- the command ----


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """ILP_DATABASE_URL pointing at a fresh SQLite file, as an operator would set it."""
    monkeypatch.setenv("ILP_DATABASE_URL", f"sqlite:///{tmp_path / 'ilp.db'}")
    get_settings.cache_clear()
    database = Database(create_database_engine(get_settings().database_url))
    yield database
    database.engine.dispose()
    get_settings.cache_clear()


def test_cli_imports_a_file(cli_database: Database, tmp_path: Path) -> None:
    csv_file = tmp_path / "wilayah.csv"
    csv_file.write_text(SEMARANG_CSV, encoding="utf-8")

    result = CliRunner().invoke(cli, ["wilayah", "import", str(csv_file)])

    assert result.exit_code == 0, result.output
    assert "imported 7 wilayah codes" in result.output
    with cli_database.session(write=False) as session:
        assert WilayahDirectory(session).names(["3374", "927106"]) == {
            "3374": "KOTA SEMARANG",
            "927106": "SORONG UTARA",
        }


def test_cli_refuses_a_file_with_problems_and_imports_nothing(cli_database: Database, tmp_path: Path) -> None:
    csv_file = tmp_path / "wilayah.csv"
    csv_file.write_text("33,JAWA TENGAH\n33.7,BROKEN\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["wilayah", "import", str(csv_file)])

    assert result.exit_code == 1
    assert "line 2" in result.output
    assert "nothing imported" in result.output
    assert "wilayah" not in inspect(cli_database.engine).get_table_names()  # it stopped before even migrating
