from __future__ import annotations

import pytest
from hypothesis import settings

from tests.helpers import AppFactory, build_app

# No per-example deadline: CI machines are small and shared; a slow example is not a bug.
settings.register_profile("firehose", deadline=None)
settings.load_profile("firehose")


@pytest.fixture
def make_app() -> AppFactory:
    return build_app
