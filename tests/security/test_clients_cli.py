"""``ilp clients add|list|revoke`` on a temporary SQLite database."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from security_helpers import insert_organization
from typer.testing import CliRunner

from ilp_api.cli import app
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import upgrade
from ilp_api.settings import get_settings


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("ILP_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_add_list_revoke(sqlite_url: str) -> None:
    database = Database(create_database_engine(sqlite_url))
    organization_id = insert_organization(database)
    database.engine.dispose()
    runner = CliRunner()

    added = runner.invoke(
        app, ["clients", "add", "--name", "SIMPUS", "--organization", organization_id, "--scopes", "system/*.cruds"]
    )
    assert added.exit_code == 0, added.output
    new = json.loads(added.stdout)
    assert new["client_id"]
    assert len(new["client_secret"]) >= 40
    assert new["organization_id"] == organization_id

    admin = runner.invoke(app, ["clients", "add", "--name", "ops", "--scopes", "ilp/admin"])
    assert admin.exit_code == 0, admin.output

    listed = runner.invoke(app, ["clients", "list"])
    assert listed.exit_code == 0, listed.output
    clients = json.loads(listed.stdout)
    assert {entry["name"] for entry in clients} == {"SIMPUS", "ops"}
    assert new["client_secret"] not in listed.stdout
    assert all("client_secret" not in entry for entry in clients)

    revoked = runner.invoke(app, ["clients", "revoke", new["client_id"]])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["revoked_at"] is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["add", "--name", "x", "--organization", "missing", "--scopes", "system/*.rs"], "does not exist"),
        (["add", "--name", "x", "--scopes", "system/*.rs"], "Only an admin client"),
        (["add", "--name", "x", "--scopes", "ilp/admin bogus"], "bogus"),
        (["revoke", "nobody"], "No client nobody"),
    ],
)
def test_errors_exit_non_zero(sqlite_url: str, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["clients", *arguments])
    assert result.exit_code == 1
    assert message in result.stderr
