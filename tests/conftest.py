from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import settings

from tests.helpers import AppFactory, PageClient, build_app

# No per-example deadline: CI machines are small and shared; a slow example is not a bug.
settings.register_profile("firehose", deadline=None)
settings.load_profile("firehose")


@pytest.fixture
def make_app() -> AppFactory:
    return build_app


@pytest.fixture
def clients_ask_for_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Flask test client of the test asks for pages as a browser does (a 103 goes
    only to a request that names HTML or that Fetch Metadata marks a navigation)."""
    monkeypatch.setattr(Flask, "test_client_class", PageClient)
