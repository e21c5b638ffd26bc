"""Every command-line entry point answers --help: the scripts project.yml calls and the tools."""

import subprocess
import sys

import pytest

from tests.util import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "scripts").glob("*.py"))
TOOLS = sorted(
    path.stem for path in (REPO_ROOT / "tools").glob("*.py")
    if path.stem not in ("__init__", "measure", "reports", "revisions")
) + sorted(path.parent.name for path in (REPO_ROOT / "tools").glob("*/__main__.py"))
"""Tool modules and packages run as ``python -m tools.NAME`` (``measure``, ``reports`` and ``revisions`` are helpers)."""


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_script_has_help(script):
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage" in result.stdout.lower()


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_has_help(tool):
    result = subprocess.run([sys.executable, "-m", f"tools.{tool}", "--help"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage" in result.stdout.lower()
