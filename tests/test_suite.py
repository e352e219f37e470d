"""The suite's own guards: a test that hangs fails by name instead of holding CI, and the
work a test bounds is counted as it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import FrameType

import pytest

from firehose_digest.hints import origin_of
from tests.helpers import work_of

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


def test_work_of_counts_the_package_s_lines_and_puts_a_tracer_back() -> None:
    """The counts the hostile and decoding tests bound are what ran: ten calls count ten
    times one call's lines, code outside the package counts none, and a tracer already
    set (coverage, a debugger) is set again after."""

    def tracer(frame: FrameType, event: str, arg: object) -> None:
        return None

    before = sys.gettrace()
    sys.settrace(tracer)
    try:
        _, one = work_of(lambda: origin_of("https://cdn.example/a.css"))
        _, ten = work_of(lambda: [origin_of("https://cdn.example/a.css") for _ in range(10)])
        _, outside = work_of(lambda: [str(i) for i in range(1000)])
        _, held = work_of(lambda: bytearray(2**20))
        after = sys.gettrace()
    finally:
        sys.settrace(before)
    assert one.lines > 0
    assert ten.lines == 10 * one.lines
    assert outside.lines == 0
    assert held.peak >= 2**20
    assert after is tracer
