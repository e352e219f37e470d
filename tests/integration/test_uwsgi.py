"""The site under uWSGI (pyuwsgi), as docs/deployment.md says of it.

Two processes of two threads each, the app imported by the master and forked (uWSGI's
default) or imported by each worker (``--lazy-apps``): served directly
(``--http-socket``), and behind nginx 1.22 speaking uWSGI's protocol (``uwsgi_pass``) to
it and HTTP/2 with ``http2_push_preload on`` to an ``nghttp`` client.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import ssl
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from firehose_digest.static import IMMUTABLE, PRIVATE_IMMUTABLE, file_version
from tests.integration.rig import (
    REPO_ROOT,
    START_TIMEOUT,
    Browser,
    Nginx,
    Server,
    ServerError,
    make_certificate,
)

from .launcher import LIVE_SERVERS, TEST_EXTRA, require, require_tools
from .uwsgi_app import SECRET_KEY

pytestmark = pytest.mark.integration

SITE_CSS = b"body { margin: 0; }\n"


class UWsgi(Server):
    """uWSGI from this interpreter's environment (pyuwsgi), serving ``uwsgi_app``: HTTP on
    its port (``socket="http-socket"``), or uWSGI's protocol (``socket="socket"``)."""

    name = "uwsgi"

    def __init__(
        self, workdir: Path, static_dir: Path, socket: str, *options: str, hold_lock: bool = False
    ) -> None:
        super().__init__(workdir)
        self.static_dir = static_dir
        self.socket = socket
        self.options = options
        self.hold_lock = hold_lock

    def argv(self) -> list[str]:
        return [
            sys.executable, "-c", "import sys, pyuwsgi; sys.exit(pyuwsgi.run())",
            f"--{self.socket}", f"127.0.0.1:{self.port}",
            "--master", "--processes", "2", "--threads", "2",
            "--die-on-term",  # else SIGTERM reloads it
            "--pythonpath", str(REPO_ROOT),
            "--module", "tests.integration.uwsgi_app:app",
            *self.options,
        ]  # fmt: skip

    def start(self) -> None:
        """Start it, and wait until each process that imports the app has: the master,
        or with ``--lazy-apps`` each worker (one stopped amid its import outlives the
        rig's ``STOP_TIMEOUT``)."""
        super().start()
        importers = 2 if "--lazy-apps" in self.options else 1
        deadline = time.monotonic() + START_TIMEOUT
        while self.log().count("WSGI app 0 (mountpoint='') ready") < importers:
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"{self.name}: the app was not loaded\n{self.log()}")
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        env = {**super().env(), "UWSGI_APP_STATIC": str(self.static_dir)}
        if self.hold_lock:
            env["UWSGI_APP_HOLD_LOCK"] = "1"
        return env


class UWsgiNginx(Nginx):
    """docs/deploy/nginx.conf passing requests to uWSGI by its protocol, not by HTTP."""

    proxied = "      proxy_pass http://backends;\n      proxy_set_header Host $host;\n"

    def config(self) -> str:
        config = super().config()
        assert self.proxied in config
        params = self.conf_dir() / "uwsgi_params"
        return config.replace(
            self.proxied, f"      include {params};\n      uwsgi_pass backends;\n"
        )


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "static"
    directory.mkdir()
    (directory / "site.css").write_bytes(SITE_CSS)
    (directory / "app.js").write_bytes(b"document.body.dataset.js = '1';\n")
    return directory


@pytest.fixture
def live(request: pytest.FixtureRequest) -> list[Server]:
    """The servers whose logs a failing test's report shows."""
    require("pyuwsgi", importlib.util.find_spec("pyuwsgi") is not None, TEST_EXTRA)
    servers: list[Server] = request.config.stash.setdefault(LIVE_SERVERS, [])
    return servers


@contextlib.contextmanager
def started(live: list[Server], server: Server) -> Iterator[None]:
    with server:
        live.append(server)
        try:
            yield
        finally:
            live.remove(server)


@pytest.fixture(params=[False, True], ids=["forked", "lazy-apps"])
def behind_nginx(
    request: pytest.FixtureRequest, tmp_path: Path, static_dir: Path, live: list[Server]
) -> Iterator[UWsgiNginx]:
    require_tools("nginx", "nghttp", "openssl")
    options = ("--lazy-apps",) if request.param else ()
    backend = UWsgi(tmp_path / "uwsgi", static_dir, "socket", *options)
    certificate = make_certificate(tmp_path / "cert")
    front = UWsgiNginx([backend.port], static_dir, certificate, tmp_path / "nginx")
    with started(live, backend), started(live, front):
        yield front


def _visits(session_cookie: str) -> int:
    """The visit count in a ``session`` cookie ``uwsgi_app`` wrote."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    visits: int = serializer.loads(session_cookie)["visits"]
    return visits


def test_behind_nginx_each_file_is_pushed_once(behind_nginx: UWsgiNginx) -> None:
    """A return visit, to the page or another, pushes nothing the client holds, whichever
    worker answers; Flask's session survives beside the digest; HEAD and a 404 push
    nothing."""
    site_css = f"/static/site.css?v={file_version(str(behind_nginx.static_dir / 'site.css'))}"
    links = ["/static/app.js", site_css]
    browser = Browser(behind_nginx.origin)
    browser.cookies["theme"] = "dark"  # the site's other cookies, each a field of its own

    first = browser.view("/page/a")
    again = browser.view("/page/a")
    other = browser.view("/page/b")

    assert (first.status, first.pushed, first.nopush) == (200, links, [])
    assert _visits(first.set_cookies["session"]) == 1
    assert "h2-digest" in first.set_cookies
    for view, visits in ((again, 2), (other, 3)):
        assert (view.status, view.pushed, view.nopush) == (200, [], links)
        assert _visits(view.set_cookies["session"]) == visits
        assert "h2-digest" not in view.set_cookies  # the digest did not change
    head = Browser(behind_nginx.origin).view("/page/c", method="HEAD")
    assert (head.status, head.pushed) == (200, [])
    missing = browser.view("/nowhere")
    assert (missing.status, missing.pushed, missing.links) == (404, [], [])


def test_a_request_past_buffer_size_is_answered_502_by_nginx(behind_nginx: UWsgiNginx) -> None:
    """docs/deployment.md: uWSGI's ``buffer-size`` (4096 bytes by default) holds a
    request's headers and the variables nginx adds; past it, uWSGI drops the request and
    nginx answers 502, before the app sees it."""
    browser = Browser(behind_nginx.origin)
    browser.cookies["pad"] = "x" * 2500
    assert browser.view("/page/a").status == 200
    browser.cookies["pad"] = "x" * 4100
    assert browser.view("/page/a").status == 502


@pytest.mark.parametrize("behind_nginx", [False], ids=["forked"], indirect=True)
def test_response_headers_fit_uwsgi_buffer_size_less_19_bytes(behind_nginx: UWsgiNginx) -> None:
    """docs/deployment.md: nginx reads all of uWSGI's response head into
    ``uwsgi_buffer_size`` (4 KB), and uWSGI adds to the app's header lines only its status
    line and the blank line, 19 bytes (gunicorn 93): lines of 4,076 bytes come whole. One
    byte more, a head of exactly 4,096, and nginx 1.22 sends the status and headers but
    never the body; two, and it answers 502."""
    assert _get_through(behind_nginx, "/headers/4076") == (200, b"whole\n")
    with pytest.raises(http.client.IncompleteRead):
        _get_through(behind_nginx, "/headers/4077")
    assert _get_through(behind_nginx, "/headers/4078")[0] == 502


def _get_through(front: UWsgiNginx, path: str) -> tuple[int, bytes]:
    """GET ``path`` from ``front`` over HTTP/1.1 and TLS: the status and the whole body."""
    context = ssl.create_default_context(cafile=front.certificate[0])
    connection = http.client.HTTPSConnection("127.0.0.1", front.port, context=context)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _get(
    port: int, path: str, cookies: dict[str, str], timeout: float = 20.0
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET ``path`` over HTTP/1.1 with ``cookies``; keep the cookies the response sets."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": "text/html"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    for set_cookie in response.headers.get_all("Set-Cookie") or []:
        name, _, value = set_cookie.split(";", 1)[0].partition("=")
        cookies[name] = value
    return response.status, response.headers, body


@pytest.mark.parametrize("lazy_apps", [False, True], ids=["forked", "lazy-apps"])
def test_served_directly(
    tmp_path: Path, static_dir: Path, live: list[Server], lazy_apps: bool
) -> None:
    """``--http-socket``: ``Link``, ``Vary`` and the digest's ``Set-Cookie`` on a first
    visit, ``nopush`` and no digest on a return; the versioned file, sent through uWSGI's
    ``wsgi.file_wrapper``, is whole and ``immutable``, and ``private`` beside the
    session's cookie."""
    options = ("--lazy-apps",) if lazy_apps else ()
    server = UWsgi(tmp_path / "uwsgi", static_dir, "http-socket", *options)
    site_css = f"/static/site.css?v={file_version(str(static_dir / 'site.css'))}"
    pushed = f"</static/app.js>; rel=preload; as=script, <{site_css}>; rel=preload; as=style"
    held = pushed.replace("script,", "script; nopush,") + "; nopush"
    with started(live, server):
        cookies: dict[str, str] = {}
        status, headers, _ = _get(server.port, "/page/a", cookies)
        assert (status, headers["Link"], headers["Vary"]) == (200, pushed, "Cookie")
        assert sorted(cookies) == ["h2-digest", "session"]
        digest = cookies["h2-digest"]
        status, headers, _ = _get(server.port, "/page/b", cookies)
        assert (status, headers["Link"], headers["Vary"]) == (200, held, "Cookie")
        assert cookies["h2-digest"] == digest

        status, headers, body = _get(server.port, site_css, {})
        assert (status, headers["Cache-Control"], body) == (200, IMMUTABLE, SITE_CSS)
        status, headers, body = _get(server.port, site_css, cookies)
        assert headers.get_all("Set-Cookie")  # the permanent session's, renewed
        assert (status, headers["Cache-Control"], body) == (200, PRIVATE_IMMUTABLE, SITE_CSS)


@pytest.mark.parametrize(
    "option",
    ["--py-call-uwsgi-fork-hooks", "--lazy-apps", None],
    ids=["fork-hooks", "lazy-apps", "neither"],
)
def test_a_lock_held_as_the_master_forks(
    tmp_path: Path, static_dir: Path, live: list[Server], option: str | None
) -> None:
    """docs/deployment.md: uWSGI forks its workers from C, past Python's fork hooks, so a
    cache's lock a thread held in the master as it forked (a page warmed at import) stays
    held in every worker, and every page waits forever: unless uWSGI calls those hooks
    (``--py-call-uwsgi-fork-hooks``), which hand each worker the lock free, as ``os.fork``
    does (tests/test_fork.py), or each worker imports the app (``--lazy-apps``)."""
    options = (option,) if option else ()
    server = UWsgi(tmp_path / "uwsgi", static_dir, "http-socket", *options, hold_lock=True)
    with started(live, server):
        if option:
            assert _get(server.port, "/page/a", {})[0] == 200
        else:
            with pytest.raises(TimeoutError):
                _get(server.port, "/page/a", {}, timeout=5.0)
