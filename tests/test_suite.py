"""The suite's own guards: a test that hangs fails by name instead of holding CI, and the
work a test bounds is counted as it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import FrameType

import pytest

from firehose_digest.hints import origin_of
from tests.helpers import work_of
from tests.integration.chromium import Browser
from tests.integration.workers import group_of

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


def run_pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``folder``, a made-up tree with no configuration of its own, importing
    this repository's ``tests`` package (the plugins under test)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
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


def test_loadgroup_runs_an_integration_module_whole_and_the_browsers_together(
    tmp_path: Path,
) -> None:
    """``make test``'s ``-n 2 --dist loadgroup``: an integration module's tests on one
    worker, the browsers' modules on the same one. With pytest 9.2,
    pytest-xdist 3.8's ``xdist_group`` marks were ignored and each test went its own way."""
    pytest.importorskip("xdist")  # in the test extra; a packager's venv may lack it
    integration = tmp_path / "tests" / "integration"
    integration.mkdir(parents=True)
    ran = tmp_path / "ran"
    ran.mkdir()
    # Each test leaves a file named after its module, its parameter and its worker.
    record = (
        "import os, time\nfrom pathlib import Path\nimport pytest\n\n"
        "@pytest.mark.parametrize('i', range(6))\ndef test_it(i):\n    time.sleep(0.05)\n"
        f"    ran = Path({str(ran)!r})\n"
        "    (ran / f\"{Path(__file__).stem} {i} {os.environ['PYTEST_XDIST_WORKER']}\").touch()\n"
    )
    modules = ["test_servers", "test_browser", "test_firefox"]
    for module in modules:
        (integration / f"{module}.py").write_text(record)
    (tmp_path / "tests" / "test_unit.py").write_text(record)
    options = ["-p", "tests.integration.workers", "-n", "2", "--dist", "loadgroup"]
    run = run_pytest_in(tmp_path, *options, "tests")
    assert run.returncode == 0, run.stdout + run.stderr
    ran_on: dict[str, set[str]] = {}
    for file in ran.iterdir():
        module, _, worker = file.name.split()
        ran_on.setdefault(module, set()).add(worker)
    assert sum(1 for _ in ran.iterdir()) == 24, ran_on
    assert all(len(ran_on[module]) == 1 for module in modules), ran_on
    assert ran_on["test_browser"] == ran_on["test_firefox"], ran_on
    assert "test_unit" in ran_on


def test_a_unit_test_is_a_group_of_its_own_and_a_deeper_module_is_not_grouped() -> None:
    assert group_of("tests/test_cli.py::test_a[1]") == "tests/test_cli.py::test_a[1]"
    assert group_of("tests/integration/test_wheel.py::test_a[lowest]") == "test_wheel"
    assert group_of("tests/integration/test_webkit.py::test_a") == "browsers"
    assert (
        group_of("tests/integration/deeper/test_b.py::t")
        == "tests/integration/deeper/test_b.py::t"
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_a_table_a_test_leaves_is_printed_at_the_end(tmp_path: Path, workers: list[str]) -> None:
    """A table kept in :data:`~tests.integration.launcher.TABLES` (test_browser.py's load
    times) is printed at the end of the run, by one process or by xdist's controller from
    what its workers handed over: a fixture's print is captured, and lost on a worker."""
    if workers:
        pytest.importorskip("xdist")  # in the test extra; a packager's venv may lack it
    (tmp_path / "test_leaves_a_table.py").write_text(
        "import pytest\nfrom tests.integration.launcher import TABLES\n\n"
        "def test_leaves(request):\n"
        "    request.config.stash.setdefault(TABLES, {})['made-up figures'] = '| x | 42 |\\n'\n"
    )
    options = ["-p", "tests.integration.figures", *workers]
    run = run_pytest_in(tmp_path, *options, "test_leaves_a_table.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "= made-up figures =" in run.stdout, run.stdout
    assert "\n| x | 42 |\n" in run.stdout, run.stdout


def test_a_page_kept_open_is_quit_when_what_it_waits_for_raises(tmp_path: Path) -> None:
    """``Browser.stay`` (tests/integration/chromium.py) runs the caller's condition while
    the browser is open: one that raises must still have the browser quit and the error
    seen, not leave ``stay`` waiting for a browser nobody told to quit (until the test's
    timeout). A shell stands in for Chromium: it writes its pid and sleeps, as an open
    page does."""
    pid_file = tmp_path / "pid"

    class Sleeper(Browser):
        def _argv(self, *args: str) -> list[str]:
            return [
                "sh",
                "-c",
                f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}; exec sleep 600",
            ]

    def until() -> bool:
        if not pid_file.exists():
            return False
        raise ValueError("not enough values to unpack")  # Request.parse of half a line

    with pytest.raises(ValueError, match="not enough values"):
        Sleeper(tmp_path / "profile").stay("http://127.0.0.1:9/", until)
    with pytest.raises(ProcessLookupError):  # quit, and reaped
        os.kill(int(pid_file.read_text()), 0)


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
