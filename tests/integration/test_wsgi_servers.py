"""How WSGI servers hand the app the ``Cookie`` header, and what the docs say of it.

An HTTP/2 client may send each cookie as a header field of its own (RFC 9113 §8.2.3); a
server is to join them with "; " before the app reads them. Each test runs a real server
on a free loopback port and an ``nghttp`` client (:class:`~tests.integration.rig.Browser`,
one ``cookie`` field per cookie, as browsers send them over HTTP/2).

And where gunicorn writes what the extension logs: docs/deployment.md's "Logs".
"""

from __future__ import annotations

import importlib.util
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import Browser, Gunicorn, Server, make_certificate

from .cookie_app import create_app
from .launcher import LIVE_SERVERS, TEST_EXTRA, require, require_tools

pytestmark = pytest.mark.integration

HELD = ["/static/site.css", "/static/app.js"]


class Http2Gunicorn(Server):
    """gunicorn serving HTTP/2 itself over TLS (``--http-protocols h2,h1``, gthread),
    ``cookie_app`` on a free loopback port."""

    name = "gunicorn-h2"

    def __init__(self, workdir: Path, certificate: tuple[Path, Path]) -> None:
        super().__init__(workdir)
        self.certificate = certificate

    def argv(self) -> list[str]:
        cert, key = self.certificate
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1", "--threads", "4",
            "--certfile", str(cert), "--keyfile", str(key),
            "--http-protocols", "h2,h1",
            "--graceful-timeout", "3",
            "--access-logfile", "-",
            # Else every gunicorn shares one socket under ~/.gunicorn.
            "--no-control-socket",
            "tests.integration.cookie_app:create_app()",
        ]  # fmt: skip

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def http2_gunicorn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Http2Gunicorn]:
    require_tools("nghttp", "openssl")
    require("h2 (gunicorn's HTTP/2)", importlib.util.find_spec("h2") is not None, TEST_EXTRA)
    server = Http2Gunicorn(tmp_path / "gunicorn-h2", make_certificate(tmp_path / "cert"))
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)  # its log is attached to a failing test's report
        try:
            yield server
        finally:
            live.remove(server)


class Http2AsgiGranian(Server):
    """granian serving HTTP/2 over TLS through its ASGI interface, ``cookie_app`` wrapped in
    ``a2wsgi`` (:func:`~tests.integration.cookie_app.create_asgi_app`), on a free loopback
    port."""

    name = "granian-asgi-h2"

    def __init__(self, workdir: Path, certificate: tuple[Path, Path]) -> None:
        super().__init__(workdir)
        self.certificate = certificate

    def argv(self) -> list[str]:
        cert, key = self.certificate
        return [
            sys.executable, "-m", "granian",
            "--interface", "asgi", "--http", "2",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1",
            "--ssl-certificate", str(cert), "--ssl-keyfile", str(key),
            "--factory", "tests.integration.cookie_app:create_asgi_app",
        ]  # fmt: skip

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def http2_asgi_granian(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Http2AsgiGranian]:
    require_tools("nghttp", "openssl")
    for module in ("granian", "a2wsgi"):
        require(module, importlib.util.find_spec(module) is not None, TEST_EXTRA)
    server = Http2AsgiGranian(tmp_path / "granian", make_certificate(tmp_path / "cert"))
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)
        try:
            yield server
        finally:
            live.remove(server)


def _visits(session_cookie: str) -> int:
    """The visit count in a ``session`` cookie ``cookie_app`` wrote."""
    app = create_app()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    visits: int = serializer.loads(session_cookie)["visits"]
    return visits


def test_gunicorn_http2_reads_the_session_and_the_digest_beside_other_cookies(
    http2_gunicorn: Http2Gunicorn,
) -> None:
    """docs/early-hints.md ("gunicorn serving HTTP/2 itself"): a browser sends each cookie
    as a field of its own over HTTP/2, and gunicorn's HTTP/2 (``h2``) joins them with
    "; ", so Flask's session survives beside other cookies and the digest is read. (Over
    HTTP/1.1, gunicorn joins repeated ``Cookie`` lines with ",":
    tests/integration/test_early_hints.py.)"""
    browser = Browser(http2_gunicorn.origin)
    browser.cookies["theme"] = "dark"  # the site's other cookies, each a field of its own
    first = browser.view("/page/a")
    assert first.status == 200
    assert _visits(first.set_cookies["session"]) == 1
    browser.cookies["lang"] = "en"

    again = browser.view("/page/a")

    assert again.status == 200
    assert again.nopush == HELD  # the digest was read
    assert _visits(again.set_cookies["session"]) == 2  # and Flask's session survived


def test_asgi_wrapped_http2_keeps_the_session_beside_the_digest(
    http2_asgi_granian: Http2AsgiGranian,
) -> None:
    """A Flask app served through an ASGI wrapper (a2wsgi; asgiref's ``WsgiToAsgi`` does the
    same) by an ASGI server speaking HTTP/2 (granian, uvicorn ``--http2``): the browser
    sends each cookie as a field of its own, the server hands them to the wrapper as they
    came, and the wrapper joins them with "," (``a2wsgi/wsgi.py`` ``build_environ``). The
    digest was read through that, but Flask's session was not: a site whose only cookie
    was the session lost it on every request once the extension added the digest cookie
    beside it (Chromium 156 against granian 2.8.9 and uvicorn 0.55 + a2wsgi 1.10:
    ``visits`` stayed 1; without ``Firehose(app)`` it counted 1, 2, 3). The extension
    joins such fields again with "; " before the app reads them."""
    browser = Browser(http2_asgi_granian.origin)
    first = browser.view("/page/a")
    assert first.status == 200
    assert _visits(first.set_cookies["session"]) == 1
    assert "h2-digest" in first.set_cookies  # now the browser holds two cookies

    again = browser.view("/page/a")

    assert again.status == 200
    assert again.nopush == HELD  # the digest was read
    assert _visits(again.set_cookies["session"]) == 2  # and Flask's session survived


def _seen(browser: Browser, name: str) -> str | None:
    """What the app read of cookie ``name`` (``cookie_app``'s ``/seen/<name>``)."""
    view = browser.view(f"/seen/{name}")
    assert view.status == 200
    hexed = view.set_cookies["seen"]
    return None if hexed == "-" else bytes.fromhex(hexed).decode()


def test_a_cookie_value_s_own_comma_survives_gunicorns_http2(
    http2_gunicorn: Http2Gunicorn,
) -> None:
    """gunicorn's own HTTP/2 joins a browser's cookie fields with "; " itself (as RFC 9113
    §8.2.3 asks; SERVER_PROTOCOL ``HTTP/2.0``). A value holding ",name=" (a consent
    cookie a page's script wrote, ``consent=necessary=1,analytics=0``; Chromium 156
    stores and sends it as written) is the client's own, as Werkzeug reads it without the
    extension. At 774574f the extension's rejoin split it on HTTP/2 alone, with no ASGI
    wrapper there: the app read ``consent`` as ``necessary=1`` and a cookie
    ``analytics``. A ``Cookie`` holding a ";" is now left as sent."""
    browser = Browser(http2_gunicorn.origin)
    browser.cookies["consent"] = "necessary=1,analytics=0"
    browser.cookies["theme"] = "dark"
    assert _seen(browser, "consent") == "necessary=1,analytics=0"
    assert _seen(browser, "analytics") is None


def test_asgi_wrapped_http2_keeps_a_quoted_value_s_comma(
    http2_asgi_granian: Http2AsgiGranian,
) -> None:
    """deployment.md: "at each `,` followed by a cookie name and `=`, outside quotes". Not
    when the "," comes before a name and "=" inside the quotes: ``prefs="lang=en,theme=dark"``
    was read as ``lang=en; theme=dark``."""
    browser = Browser(http2_asgi_granian.origin)
    browser.cookies["prefs"] = '"lang=en,theme=dark"'
    browser.cookies["other"] = "1"
    assert _seen(browser, "prefs") == "lang=en,theme=dark"


@pytest.mark.parametrize(
    "odd",
    [("cart[id]", "3"), ("ui:mode", "dark"), ("café", "1")],
    ids=["brackets", "colon", "utf8"],
)
def test_asgi_wrapped_http2_splits_before_any_cookie_name_a_browser_sends(
    http2_asgi_granian: Http2AsgiGranian, odd: tuple[str, str]
) -> None:
    """The rejoin splits only before an RFC 6265 token and "=", but browsers send cookies
    whose names are no token (Chromium 156 stores a script's ``cart[id]`` and ``ui:mode``
    and sends them back as written; a UTF-8 name too). After such a cookie's field, the
    one before it keeps the ",": here ``theme`` was read as ``dark,cart[id]=3``; where that
    cookie is Flask's session, the session is lost on every request, the fault 774574f
    fixed for token names."""
    name, value = odd
    browser = Browser(http2_asgi_granian.origin)
    browser.cookies["theme"] = "dark"
    browser.cookies[name] = value
    assert _seen(browser, "theme") == "dark"


class LoggingGunicorn(Gunicorn):
    """gunicorn writing its error log to a file of its own, as an operator runs it."""

    def __init__(self, app_spec: str, workdir: Path, pythonpath: Path) -> None:
        super().__init__(app_spec, workdir)
        self.error_log = workdir / "error.log"
        self.pythonpath = pythonpath

    def argv(self) -> list[str]:
        argv = super().argv()
        return [
            *argv[:-1],
            "--error-logfile", str(self.error_log),
            "--pythonpath", str(self.pythonpath),
            argv[-1],
        ]  # fmt: skip


def _logs_section_block() -> str:
    """The Python block of docs/deployment.md's "Logs" section, as shown."""
    text = (Path(__file__).parents[2] / "docs" / "deployment.md").read_text()
    section = text.split("\n## Logs\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("routed", [True, False], ids=["as-deployment-md-shows", "not-routed"])
def test_a_failing_connector_s_traceback_reaches_gunicorns_error_log_as_shown(
    request: pytest.FixtureRequest, tmp_path: Path, routed: bool
) -> None:
    """docs/deployment.md ("Logs"): the ``firehose_digest`` logger has no handler of its
    own, so gunicorn's ``--error-logfile`` gets a failing connector's traceback only once
    the app gives it gunicorn's handlers, with the line the page shows; and, that line put
    before ``Firehose(app)`` as the page says, ``init_app``'s warning of a setting it does
    not know too."""
    entry = tmp_path / "entry"
    entry.mkdir()
    shown = _logs_section_block() if routed else ""
    (entry / "logs_entry.py").write_text(f"{shown}\nfrom tests.integration.logs_app import app\n")
    server = LoggingGunicorn("logs_entry:app", tmp_path / "gunicorn", entry)
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)  # its log is attached to a failing test's report
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=10) as page:
                assert page.status == 200
                # The page is served whole, its link preloaded and pushed by no front.
                assert page.headers["Link"] == "</static/site.css>; rel=preload; as=style; nopush"
            assert server.requests_served(1) == 1
        finally:
            live.remove(server)
    error_log = server.error_log.read_text()
    failure = "logs_app.StoreDown object at 0x"
    assert (failure in error_log) is routed
    assert ("ConnectionError: the push store" in error_log) is routed
    unknown = "firehose: FIREHOSE_MAX_PUSH is not a setting of firehose_digest"
    assert (unknown in error_log) is routed
    if routed:
        assert "[ERROR] firehose: " in error_log  # gunicorn's own format: its level
        assert f"[WARNING] {unknown}" in error_log
    else:
        assert failure in server.log()  # Python's last resort: the process's stderr
        assert unknown in server.log()
