"""``ilp clients add|list|revoke`` on the test databases (SQLite and PostgreSQL)."""

import json
from collections.abc import Iterator

import pytest
from security_helpers import insert_organization
from typer.testing import CliRunner

from ilp_api.cli import app
from ilp_api.db.engine import Database
from ilp_api.settings import get_settings


@pytest.fixture
def cli_database(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The test database, as ILP_DATABASE_URL for the command line."""
    monkeypatch.setenv("ILP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_add_list_revoke(cli_database: Database) -> None:
    organization_id = insert_organization(cli_database)
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
        (["add", "--name", "SIMPUS\x00", "--scopes", "ilp/admin"], "control characters"),
        (["add", "--name", "SIMPUS\nops", "--scopes", "ilp/admin"], "control characters"),
        (["add", "--name", "x" * 256, "--scopes", "ilp/admin"], "1 to 255 characters"),
        (["add", "--name", "x", "--organization", "\x00", "--scopes", "system/*.rs"], "does not exist"),
        (["revoke", "\x00"], "No client has this id"),
        (["revoke", "x" * 65], "No client has this id"),
    ],
)
def test_errors_exit_non_zero(cli_database: Database, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["clients", *arguments])
    assert result.exit_code == 1
    assert message in result.stderr
