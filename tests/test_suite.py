"""The suite's own guard: a test that hangs fails by name instead of holding CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(test_file: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """pytest on ``test_file`` with the project's configuration (rootdir and ini)."""
    config = ["--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), *options]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *config, str(test_file)],
        capture_output=True,
        text=True,
        timeout=25,
        cwd=ROOT,
    )


def test_every_test_runs_under_a_timeout(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert float(pytestconfig.getini("timeout")) > 0


def test_a_test_that_hangs_fails_with_its_name(tmp_path: Path) -> None:
    hanging = tmp_path / "test_hangs.py"
    hanging.write_text("import time\n\ndef test_hangs():\n    time.sleep(30)\n")
    run = run_pytest(hanging, "-o", "timeout=1")  # only the timeout shortened
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Timeout" in run.stdout
    assert "FAILED" in run.stdout and "test_hangs" in run.stdout


def test_without_pytest_timeout_the_suite_still_runs(tmp_path: Path) -> None:
    """A venv without the plugin (a packager's): its unknown ini key is no error."""
    passing = tmp_path / "test_passes.py"
    passing.write_text("def test_passes():\n    pass\n")
    run = run_pytest(passing, "-p", "no:timeout")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
