"""With CI=true an unreachable PostgreSQL fails the test run; without it, the PostgreSQL half is skipped, visibly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"  # port 1: nothing listens there


def run_pytest(repository_root: Path, ci: str) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"CI": ci, "ILP_TEST_POSTGRES_URL": UNREACHABLE}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_metadata.py"]
    return subprocess.run(command, cwd=repository_root, env=environment, capture_output=True, text=True, check=False)


def test_ci_fails_when_postgres_is_unreachable(repository_root: Path) -> None:
    result = run_pytest(repository_root, ci="true")

    assert result.returncode == 1
    assert "PostgreSQL at" in result.stdout + result.stderr
    assert "unreachable" in result.stdout + result.stderr


@pytest.mark.parametrize("ci", ["", "false"])
def test_outside_ci_the_postgresql_half_is_skipped_and_says_so(repository_root: Path, ci: str) -> None:
    result = run_pytest(repository_root, ci=ci)

    assert result.returncode == 0, result.stdout
    assert "skipped" in result.stdout
    assert "set CI=true to make this a failure" in result.stdout
