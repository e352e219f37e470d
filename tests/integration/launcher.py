"""Starting the example site's servers for a test, and the settings the tests share."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

import pytest

from tests.integration.rig import (
    H2O,
    SITE_APP,
    Apache,
    BrowseFigures,
    Gunicorn,
    Nginx,
    Server,
    executable,
    make_certificate,
    site_env,
)

ASSETS = 300
PAGES = 100
SECRET_KEY = "integration-secret-key"
#: Every site gets these; what the realistic browse needs: 300 entries at 1% false positives.
DIGEST_SETTINGS: dict[str, object] = {"FIREHOSE_CAPACITY": 300, "FIREHOSE_FP_RATE": 0.01}
BROWSE = [f"/browse/{page}" for page in range(PAGES)]

LIVE_SERVERS = pytest.StashKey[list[Server]]()
BROWSES = pytest.StashKey[dict[str, BrowseFigures]]()
#: The edge-case browse's figures, one row per proxy: column title -> cell.
EDGE_BROWSES = pytest.StashKey[dict[str, dict[str, str]]]()
#: Other tables printed at the end of the session (:mod:`.figures`): title -> markdown.
TABLES = pytest.StashKey[dict[str, str]]()

RecordBrowse = Callable[[str, BrowseFigures], None]
_ServerT = TypeVar("_ServerT", bound=Server)


#: The Debian package of each command the integration tests drive, as the Makefile's
#: ``SERVERS`` lists them (tests/test_docs.py keeps the two equal): a user's skip says
#: what to install, since ``make test`` installs them as root alone, and a command's name
#: does not say its package (``nghttp``: nghttp2-client, ``certutil``: libnss3-tools).
DEBIAN_PACKAGES = {
    "nginx": "nginx-core",
    "h2o": "h2o",
    "apache2": "apache2",
    "haproxy": "haproxy",
    "caddy": "caddy",
    "varnishd": "varnish",
    "nghttp": "nghttp2-client",
    "h2load": "nghttp2-client",
    "openssl": "openssl",
    "curl": "curl",
    "chromium": "chromium",
    "firefox-esr": "firefox-esr",
    "certutil": "libnss3-tools",
    "WebKitWebDriver": "webkit2gtk-driver",
    "Xvfb": "xvfb",
}
#: What a skip for a missing part of the test extra says to run.
TEST_EXTRA = "pip install -e '.[test]'"


def require(what: str, found: bool, install: str) -> None:
    """Skip the test when ``what`` is missing, saying how to ``install`` it, or fail it
    under CI (``CI=true``)."""
    if found:
        return
    message = f"{what} is not installed: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the integration tests must run)")
    pytest.skip(message)


def require_tools(*names: str) -> None:
    """Each command on PATH or in /usr/sbin, or a skip naming its Debian package."""
    for name in names:
        require(
            f"{name} (on PATH or in /usr/sbin)",
            executable(name) is not None,
            f"apt-get install {DEBIAN_PACKAGES[name]} (make test does, as root)",
        )


class Launcher:
    """Starts the site's servers, lists them for failure reports, stops them all at close."""

    def __init__(self, config: pytest.Config, workdir: Path, static_dir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.static_dir = static_dir
        self.stack = ExitStack()
        self._count = 0
        self._certificate: tuple[Path, Path] | None = None

    @property
    def certificate(self) -> tuple[Path, Path]:
        if self._certificate is None:
            require_tools("openssl")
            self._certificate = make_certificate(self.workdir / "cert")
        return self._certificate

    def _subdir(self, kind: str) -> Path:
        self._count += 1
        return self.workdir / f"{kind}-{self._count}"

    def start(self, server: _ServerT) -> _ServerT:
        """Start ``server`` and have it stopped when the launcher closes."""
        live = self.config.stash.setdefault(LIVE_SERVERS, [])
        self.stack.enter_context(server)
        live.append(server)
        self.stack.callback(live.remove, server)
        return server

    def site(
        self,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        **settings: object,
    ) -> Gunicorn:
        """A gunicorn serving the example site; ``settings`` become its ``FLASK_*`` config."""
        settings = {
            "SECRET_KEY": SECRET_KEY,
            "SITE_ASSETS": ASSETS,
            "SITE_STATIC_DIR": self.static_dir,
            **DIGEST_SETTINGS,
            **settings,
        }
        workdir = self._subdir("gunicorn")
        env = {**site_env(**settings), **(env or {})}
        return self.start(Gunicorn(SITE_APP, workdir, env, port=port))

    def nginx(self, backends: Sequence[Gunicorn]) -> Nginx:
        require_tools("nginx", "nghttp")
        ports = [backend.port for backend in backends]
        workdir = self._subdir("nginx")
        return self.start(Nginx(ports, self.static_dir, self.certificate, workdir))

    def h2o(self, backend: Gunicorn, casper: bool = False) -> H2O:
        require_tools("h2o", "nghttp")
        workdir = self._subdir("h2o")
        return self.start(H2O(backend.port, self.static_dir, self.certificate, workdir, casper))

    def apache(self, backend: Gunicorn, serves_static: bool = False) -> Apache:
        """Apache in front of ``backend``; serving the static folder from disk too, as
        ``docs/deploy/apache-static.conf`` has it, when ``serves_static``."""
        require_tools("apache2")
        require_tools("nghttp")
        workdir = self._subdir("apache")
        static_dir = self.static_dir if serves_static else None
        return self.start(Apache(backend.port, self.certificate, workdir, static_dir=static_dir))
