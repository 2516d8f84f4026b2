"""Migration 0005 places the Patients stored before it, from their index rows, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from postgres_helpers import database_url
from sqlalchemy import create_engine, text

from ilp_api.db.migrate import upgrade

BEFORE = [
    "INSERT INTO resource VALUES ('Patient', 'budi', 1, '2026-11-01 00:00:00', false, '{}')",
    "INSERT INTO resource VALUES ('Patient', 'tanpa-alamat', 1, '2026-11-01 00:00:00', false, '{}')",
    "INSERT INTO resource VALUES ('Organization', 'posyandu', 1, '2026-11-01 00:00:00', false, '{}')",
    "INSERT INTO search_reference (resource_type, resource_id, param, target_type, target_id) "
    "VALUES ('Patient', 'budi', 'organization', 'Organization', 'posyandu')",
    "INSERT INTO search_token (resource_type, resource_id, param, system, code) "
    "VALUES ('Patient', 'budi', 'address-village', '', '3374011001')",
    "INSERT INTO search_token (resource_type, resource_id, param, system, code) "
    "VALUES ('Patient', 'budi', 'rw', '3374011001', '002')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    return database_url(request.getfixturevalue("postgres_name"))


def test_stored_patients_are_placed_and_in_their_own_compartments(url: str) -> None:
    upgrade(url, "0004")
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in BEFORE:
            connection.execute(text(statement))
    upgrade(url)
    with engine.connect() as connection:
        compartments = connection.execute(text("SELECT * FROM patient_compartment ORDER BY resource_id")).all()
        placements = connection.execute(text("SELECT * FROM patient_placement ORDER BY patient_id")).all()
    engine.dispose()
    assert [tuple(row) for row in compartments] == [
        ("Patient", "budi", "budi"),
        ("Patient", "tanpa-alamat", "tanpa-alamat"),
    ]
    assert [tuple(row) for row in placements] == [
        ("budi", "posyandu", "3374011001", "002"),
        ("tanpa-alamat", None, None, None),
    ]
