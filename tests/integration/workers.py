"""Which tests share a pytest-xdist worker under ``--dist loadgroup`` (``make test`` runs
``-n 2 --dist loadgroup``): each integration module runs whole on one worker, so its
module-scoped servers, venvs and browses are made once; the modules that drive a browser
share one group, so no two browsers run at once beside each other's think times. A unit
test is a group of its own: they spread one by one.

A scheduler of our own (xdist's ``pytest_xdist_make_scheduler`` hook), not ``xdist_group``
marks: pytest-xdist 3.8 passes a mark's group to the controller by appending it to the
test's node id, which pytest 9.2 no longer lets it change, so under pytest 9.2 the marks
were ignored and an integration module's tests spread over both workers
(pytest-dev/pytest-xdist#1386). The controller reads node ids alone, so the group is
worked out from the node id. A plugin (``tests/conftest.py`` loads it): the controller
collects nothing, and reads ``tests/integration/conftest.py`` only when given a path
under it.
"""

from __future__ import annotations

from typing import Any

import pytest

INTEGRATION = "tests/integration/"
#: The modules that drive a real browser (Chromium, Firefox, WebKit).
BROWSER_MODULES = frozenset(
    {"test_browser", "test_firefox", "test_revalidation", "test_samesite", "test_webkit"}
)
BROWSERS = "browsers"


def group_of(nodeid: str) -> str:
    """The group of the test ``nodeid`` (relative to the rootdir, as pytest gives it): its
    integration module's name, :data:`BROWSERS` for a browser's module, else ``nodeid``."""
    path = nodeid.split("::", 1)[0]
    if not path.startswith(INTEGRATION) or "/" in path[len(INTEGRATION) :]:
        return nodeid
    module = path[len(INTEGRATION) :].removesuffix(".py")
    return BROWSERS if module in BROWSER_MODULES else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """On the xdist controller, under ``--dist loadgroup``: a scheduler that hands out
    whole groups (:func:`group_of`). Other ``--dist`` modes are xdist's own."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ByGroup(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return ByGroup(config, log)
