"""Fixtures that run the example site behind nginx, h2o and Apache on loopback.

A missing tool (nginx, h2o, apache2, nghttp, openssl, flask_firehose) skips the tests that need it,
with the reason; under CI (``CI=true``) it fails them instead, so a broken image is seen.
Every server is stopped at teardown, even on failure; a failing test shows the logs of
the servers that were running. Each browse's figures go into a table printed at the end
of the session (:mod:`tests.integration.figures`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from examples.site import write_assets
from tests.integration.rig import H2O, Apache, BrowseFigures, Gunicorn, Nginx

from .launcher import (
    ASSETS,
    BROWSES,
    LIVE_SERVERS,
    TEST_EXTRA,
    Launcher,
    RecordBrowse,
    require,
)

LOG_TAIL = 4000


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("static")
    write_assets(directory, ASSETS)
    return directory


@pytest.fixture(scope="session")
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, static_dir: Path
) -> Iterator[Launcher]:
    """Servers shared by the whole session (each test browses with a browser of its own)."""
    launcher = Launcher(request.config, tmp_path_factory.mktemp("servers"), static_dir)
    with launcher.stack:
        yield launcher


@pytest.fixture
def own_servers(
    request: pytest.FixtureRequest, tmp_path: Path, static_dir: Path
) -> Iterator[Launcher]:
    """Servers for this test alone, stopped when it ends."""
    launcher = Launcher(request.config, tmp_path, static_dir)
    with launcher.stack:
        yield launcher


@pytest.fixture(scope="session")
def digest_site(servers: Launcher) -> Gunicorn:
    return servers.site()


@pytest.fixture(scope="session")
def nginx(servers: Launcher, digest_site: Gunicorn) -> Nginx:
    return servers.nginx([digest_site])


@pytest.fixture(scope="session")
def h2o(servers: Launcher, digest_site: Gunicorn) -> H2O:
    return servers.h2o(digest_site)


@pytest.fixture(scope="session")
def apache(servers: Launcher, digest_site: Gunicorn) -> Apache:
    return servers.apache(digest_site)


@pytest.fixture(params=["nginx", "h2o", "apache"])
def proxy(request: pytest.FixtureRequest) -> Nginx | H2O | Apache:
    """The digest site behind each push proxy in turn."""
    front: Nginx | H2O | Apache = request.getfixturevalue(request.param)
    return front


@pytest.fixture
def users_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``HOME`` for this test, the XDG base directories unset: a browser started
    now finds its user's home there, and should leave it empty."""
    home = tmp_path / "users-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def flask_firehose_installed() -> None:
    require("flask_firehose", importlib.util.find_spec("flask_firehose") is not None, TEST_EXTRA)


@pytest.fixture
def record_browse(request: pytest.FixtureRequest) -> RecordBrowse:
    """Keep a browse's figures for the table at the end of the session."""

    def record(name: str, figures: BrowseFigures) -> None:
        request.config.stash.setdefault(BROWSES, {})[name] = figures

    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the log tails of the running servers to a failed test's report."""
    report = yield
    if report.failed:
        for server in item.config.stash.get(LIVE_SERVERS, []):
            title = f"{server.name} on port {server.port} (log tail)"
            report.sections.append((title, server.log()[-LOG_TAIL:]))
    return report
