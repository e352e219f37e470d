"""The sdist carries what a packager checks a release with, and nothing written at run time."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.integration.launcher import TEST_EXTRA, require

ROOT = Path(__file__).resolve().parents[1]


def test_sdist_carries_docs_tests_examples_changes_and_license(tmp_path: Path) -> None:
    require("build (the test extra)", importlib.util.find_spec("build") is not None, TEST_EXTRA)
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    (sdist,) = tmp_path.glob("firehose_digest-*.tar.gz")
    with tarfile.open(sdist) as archive:
        top, *_ = archive.getnames()
        names = {name.partition("/")[2] for name in archive.getnames()}
    for expected in (
        "LICENSE",
        "CHANGES.md",
        "README.md",
        "pyproject.toml",
        "firehose_digest/py.typed",
        "docs/cli.md",
        "tests/integration/test_wheel.py",
        "examples/demo.py",
        "examples/quickstart/app.py",
        "examples/quickstart/templates/index.html",
        "examples/quickstart/static/app.css",
        "bench/casper.py",
    ):
        assert expected in names, f"{expected} is missing from {top}"
    assert not [
        name for name in names if "__pycache__" in name or name.startswith("examples/static/")
    ]
    # Its docs' tests pass where a packager unpacks it: the docs link to bench/results/.
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp_path, filter="data")
        else:  # Debian 12's own Python, 3.11.2, predates extraction filters (3.11.4)
            archive.extractall(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_docs.py"],
        cwd=tmp_path / top.partition("/")[0],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
