"""Migrating on start is a setting (on for SQLite, off for PostgreSQL); a schema behind the code refuses to start.

``ilp serve`` is run up to the point where it would start uvicorn (replaced here by a recorder), and the ASGI
entry point ``ilp_api.main`` is imported in a child process, as uvicorn would.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_helpers import database_url
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from ilp_api import cli
from ilp_api.db.migrate import SchemaNotCurrent, check_schema_current, prepare_schema, upgrade
from ilp_api.settings import Settings, get_settings

PREVIOUS_REVISION = "0003"


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """What ``ilp serve`` handed to uvicorn, instead of serving."""
    calls: list[Any] = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def serve(monkeypatch: pytest.MonkeyPatch, url: str, **environment: str) -> Any:
    monkeypatch.setenv("ILP_DATABASE_URL", url)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return CliRunner().invoke(cli.app, ["serve"])


def test_sqlite_migrates_on_start_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_calls: list[Any]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert Settings(database_url=url).migrates_on_start
    with pytest.raises(SchemaNotCurrent, match="no revision"):
        check_schema_current(url)

    result = serve(monkeypatch, url)

    assert result.exit_code == 0, result.output
    assert len(serve_calls) == 1
    check_schema_current(url)


def test_a_schema_the_code_does_not_know_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="newer version of ILP API"):
        prepare_schema(url, migrate=False)


def test_postgresql_behind_its_code_refuses_to_start_until_upgraded(
    postgres_name: str, monkeypatch: pytest.MonkeyPatch, serve_calls: list[Any]
) -> None:
    url = database_url(postgres_name)
    upgrade(url, PREVIOUS_REVISION)
    assert not Settings(database_url=url).migrates_on_start

    refused = serve(monkeypatch, url)
    assert refused.exit_code == 1
    assert f"at revision {PREVIOUS_REVISION}" in refused.output
    assert "Run `ilp db upgrade`" in refused.output
    assert serve_calls == []

    # The ASGI entry point, as `uvicorn ilp_api.main:app` imports it, refuses too.
    child = subprocess.run(
        [sys.executable, "-c", "import ilp_api.main"],
        env={**os.environ, "ILP_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode != 0
    assert "SchemaNotCurrent" in child.stderr
    assert "Run `ilp db upgrade`" in child.stderr

    upgraded = CliRunner().invoke(cli.app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    started = serve(monkeypatch, url)
    assert started.exit_code == 0, started.output
    assert len(serve_calls) == 1


def test_postgresql_migrates_on_start_when_set(
    postgres_name: str, monkeypatch: pytest.MonkeyPatch, serve_calls: list[Any]
) -> None:
    url = database_url(postgres_name)
    upgrade(url, PREVIOUS_REVISION)

    result = serve(monkeypatch, url, ILP_MIGRATE_ON_START="true")

    assert result.exit_code == 0, result.output
    assert len(serve_calls) == 1
    check_schema_current(url)
