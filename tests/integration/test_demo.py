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


def test_demo_pushes_then_marks_nopush_and_shows_early_hints() -> None:
    require_tools("nginx", "nghttp", "openssl", "curl")
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "GET / (return visit): 200, Set-Cookie h2-digest: unchanged, not sent" in out
    assert "first visit: 3 PUSH_PROMISEs" in out
    assert "return visit: 0 PUSH_PROMISEs; 3 of 3 links marked nopush" in out
    assert "0 redundant" in out and "0 errors" in out
    assert "HTTP/1.1 103 Early Hints" in out
