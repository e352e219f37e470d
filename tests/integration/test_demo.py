"""``make demo`` end to end: what a newcomer runs first must keep working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .launcher import require_tools

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def user_path() -> str:
    """This PATH less its ``sbin`` folders, as a user who is not root has it on Debian."""
    folders = os.environ.get("PATH", os.defpath).split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if Path(folder).name != "sbin")


@pytest.fixture(scope="module")
def out() -> str:
    """What ``python -m examples.demo`` printed, run once for the tests that read it, with
    a user's PATH: Debian's nginx is in /usr/sbin, on root's PATH alone."""
    require_tools("nginx", "nghttp", "openssl", "curl")
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": user_path()},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_pushes_then_marks_nopush_and_shows_early_hints(out: str) -> None:
    assert "GET / (return visit): 200, Set-Cookie h2-digest: unchanged, not sent" in out
    assert "first visit: 3 PUSH_PROMISEs" in out
    assert "return visit: 0 PUSH_PROMISEs; 3 of 3 links marked nopush" in out
    assert "0 redundant" in out and "0 errors" in out
    assert "HTTP/1.1 103 Early Hints" in out


def test_demo_shows_the_untracked_baseline_whole_lines_and_what_to_try_next(out: str) -> None:
    baseline = out[out.index("  without tracking (") : out.index("\nThrough nginx")]
    assert "GET / (return visit): 200, Set-Cookie h2-digest: none" in baseline
    assert "return visit: 0 of 3 links marked nopush: a push proxy pushes 3 of them again" in (
        baseline
    )
    assert "return visit: 3 PUSH_PROMISEs, 3 of them for files the browser already holds" in out
    # Headers are printed one link-value a line, whole: nothing is cut short.
    assert "..." not in out
    assert all(line.endswith(("crossorigin", "nopush")) for line in font_links(out))
    steps = out[out.index("\nTry next:\n") :].splitlines()[2:]
    assert "  make test" in steps
    assert any(line.endswith(" -m firehose_digest plan --capacity 300") for line in steps)
    assert any(line.endswith("gunicorn --chdir examples/quickstart app:app") for line in steps)
    assert any("README.md" in line for line in steps)


def font_links(out: str) -> list[str]:
    return [line for line in out.splitlines() if "Link: </static/fonts/" in line]


@pytest.mark.parametrize("command", ["nginx", "apache2", "haproxy", "varnishd"])
def test_a_user_runs_the_servers_debian_puts_in_sbin(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """Not root, the integration tests skipped every nginx test ("nginx (on PATH) is not
    installed") of an nginx installed in /usr/sbin, which a user's PATH lacks."""
    if not Path("/usr/sbin", command).exists():
        pytest.skip(f"{command} is not in /usr/sbin")
    monkeypatch.setenv("PATH", user_path())
    monkeypatch.delenv("CI", raising=False)
    try:
        require_tools(command)
    except pytest.skip.Exception as skipped:
        pytest.fail(f"skipped: {skipped}")
