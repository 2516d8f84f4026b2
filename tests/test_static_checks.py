"""ruff and mypy are part of the test command, so a lint or type error fails CI like a test does."""

import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "src", "tests", "bench", "migrations"],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "bench", "migrations"],
    "mypy": [sys.executable, "-m", "mypy", "src"],
}


@pytest.mark.parametrize("tool", TOOLS, ids=list(TOOLS))
def test_tool_is_clean(tool: str, repository_root: Path) -> None:
    result = subprocess.run(TOOLS[tool], cwd=repository_root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{tool} found problems:\n{result.stdout}\n{result.stderr}"
