from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import settings

from tests.helpers import AppFactory, PageClient, build_app

#: Plugins, so that pytest-xdist's controller, which collects nothing, has them too: the
#: integration tests' figures tables, printed at the end of a run; which tests share a
#: worker under ``--dist loadgroup``.
pytest_plugins = ["tests.integration.figures", "tests.integration.workers"]

# No per-example deadline: CI machines are small and shared; a slow example is not a bug.
settings.register_profile("firehose", deadline=None)
settings.load_profile("firehose")


@pytest.fixture
def samples_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tempfile``'s folder for this test is its ``tmp_path``: the docs' samples make their
    static folders with ``tempfile.mkdtemp()``, as a reader would, and run by the suite
    they left two folders in the system's temporary directory on every run."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture
def make_app() -> AppFactory:
    return build_app


@pytest.fixture
def clients_ask_for_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Flask test client of the test asks for pages as a browser does (a 103 goes
    only to a request that names HTML or that Fetch Metadata marks a navigation)."""
    monkeypatch.setattr(Flask, "test_client_class", PageClient)
