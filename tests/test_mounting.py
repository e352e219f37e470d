"""An app under a prefix, or with its cookies scoped to part of the site: a page the
browser sends no cookie to can record nothing, and must write nothing over what it holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from cachelib import SimpleCache
from flask import Flask, session
from flask.testing import FlaskClient
from flask_session import Session  # type: ignore[import-untyped]  # in the test extras
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import EnvironBuilder, run_wsgi_app

from firehose_digest import DigestConnector, Firehose, SessionConnector, push
from tests.helpers import InStore

COOKIE = "h2-digest"


def link(url: str) -> str:
    return f"<{url}>; rel=preload; as=style"


def nopush(url: str) -> str:
    return f"{link(url)}; nopush"


def scoped_app(connector: Any = None, **config: Any) -> Flask:
    """A public page at ``/`` and an admin area at ``/admin/``, each pushing its files."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="mounting", **config)

    @app.route("/")
    def home() -> str:
        push("/static/site.css", as_="style")
        return "<p>home"

    @app.route("/admin/login")
    def login() -> str:
        session["user"] = "alice"
        return "<p>signed in"

    @app.route("/admin/")
    def admin() -> str:
        push("/static/site.css", as_="style")
        push("/static/admin.css", as_="style")
        return f"<p>{session.get('user')}"

    Firehose(app, connector=connector)
    return app


def visit(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    return response.headers["Link"].split(", ") if "Link" in response.headers else []


def flask_firehose_connector() -> Any:
    import flask_firehose  # type: ignore[import-untyped]  # in the test extras

    return flask_firehose.Connector


@pytest.mark.parametrize(
    "connector", [DigestConnector, SessionConnector, flask_firehose_connector]
)
def test_a_page_outside_the_cookie_path_pushes_nothing_and_keeps_what_is_held(
    connector: Any,
) -> None:
    """``SESSION_COOKIE_PATH = "/admin"`` (the session kept to the admin area; or an
    ``APPLICATION_ROOT`` that does not cover every url the app serves): the browser sends
    the cookie to ``/admin/...`` alone (RFC 6265 §5.1.4), so ``/`` was pushed
    ``site.css`` on every visit, and its ``Set-Cookie`` (``Path=/admin``) replaced the
    admin area's digest with one of ``/`` alone: ``admin.css`` was pushed again. With
    ``SessionConnector`` or Flask-Firehose's own connector, Flask's session written from
    ``/`` signed the user out of the admin area. A page whose cookie the browser does not
    send can record nothing: it pushes nothing, and writes no cookie."""
    client = scoped_app(connector(), SESSION_COOKIE_PATH="/admin").test_client()
    client.get("/admin/login")
    assert visit(client, "/admin/") == [link("/static/site.css"), link("/static/admin.css")]
    for _ in range(2):
        response = client.get("/")
        assert response.headers["Link"] == nopush("/static/site.css")
        assert "Set-Cookie" not in response.headers
    again = client.get("/admin/")
    assert again.headers["Link"].split(", ") == [
        nopush("/static/site.css"),
        nopush("/static/admin.css"),
    ]
    assert again.get_data(as_text=True) == "<p>alice"


def test_a_connector_keeping_no_session_is_not_told_it_records_nothing_outside_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Flask-Firehose connector keeping its keys in a store of its own writes no session,
    so a page outside ``SESSION_COOKIE_PATH`` pushes and records as any other. Its first
    push there still warned that such pages "push and record nothing": the adapter asked
    whether the session cookie is sent before ``set_pushed`` wrote anything, and asks it
    now only of a session ``set_pushed`` changed."""
    connector = InStore()
    client = scoped_app(connector, SESSION_COOKIE_PATH="/admin").test_client()
    with caplog.at_level("WARNING"):
        assert visit(client, "/") == [link("/static/site.css")]
        assert visit(client, "/") == [nopush("/static/site.css")]
    assert connector.store == {"/static/site.css"}
    assert [r.getMessage() for r in caplog.records if "outside" in r.getMessage()] == []


def test_a_path_read_as_the_browser_sends_it() -> None:
    """A ``Path`` of non-ASCII characters is written percent-encoded (Werkzeug's
    ``dump_cookie``), as the browser sends the page's path: pages under it are in it."""
    app = scoped_app(APPLICATION_ROOT="/café")
    client = app.test_client(use_cookies=False)  # its jar compares the path decoded
    first = client.get("/")
    assert first.headers["Link"] == link("/static/site.css")
    written = first.headers["Set-Cookie"]
    assert "Path=/caf%C3%A9" in written
    again = client.get("/", headers={"Cookie": written.split(";", 1)[0]})
    assert again.headers["Link"] == nopush("/static/site.css")


@pytest.mark.parametrize(
    "raw",
    [
        "/@team+blog:en/",  # the request-uri as the browser sent it
        "/",  # a front stripped the prefix, which SCRIPT_NAME puts back
    ],
)
def test_a_path_of_characters_a_cookie_path_keeps_is_matched_as_written(raw: str) -> None:
    """``@``, ``+`` and ``:`` are written as they are in the cookie's ``Path`` (Werkzeug's
    ``dump_cookie``), and a browser sends them so in the page's path: ``/@team+blog:en``
    is not ``/%40team%2Bblog%3Aen``, and its pages read the digest."""
    app = scoped_app(APPLICATION_ROOT="/@team+blog:en")
    client = app.test_client(use_cookies=False)
    sent = {"SCRIPT_NAME": "/@team+blog:en", "REQUEST_URI": raw, "RAW_URI": raw}
    first = client.get("/", environ_overrides=sent)
    assert first.headers["Link"] == link("/static/site.css")
    written = first.headers["Set-Cookie"]
    assert "; Path=/@team+blog:en" in written
    cookie = {"Cookie": written.split(";", 1)[0]}
    again = client.get("/", headers=cookie, environ_overrides=sent)
    assert again.headers["Link"] == nopush("/static/site.css")


@pytest.mark.parametrize(
    ("config", "omitted", "sent", "page", "pushed"),
    [
        # an app at the root
        ({"SESSION_COOKIE_PATH": "/admin"}, "SCRIPT_NAME", "/admin/", "/admin/", 2),
        # a mounted app's root, without its slash
        ({"APPLICATION_ROOT": "/admin"}, "PATH_INFO", "/admin", "/", 1),
    ],
)
def test_a_server_that_omits_an_empty_path_variable_is_read_under_the_cookie_path(
    caplog: pytest.LogCaptureFixture,
    config: dict[str, str],
    omitted: str,
    sent: str,
    page: str,
    pushed: int,
) -> None:
    """PEP 3333 lets a server leave out a variable whose value is empty: ``SCRIPT_NAME``
    of an app at the root, ``PATH_INFO`` of a request for a mounted app's root
    (Werkzeug reads either so). Its pages are under ``Path=/admin``, not outside it as
    ``None/admin/`` or ``/adminNone``."""
    app = scoped_app(**config)
    wsgi_app = app.wsgi_app

    def as_the_server_sends_it(environ: Any, start_response: Any) -> Any:
        environ.pop(omitted)
        environ["REQUEST_URI"] = environ["RAW_URI"] = sent
        return wsgi_app(environ, start_response)

    app.wsgi_app = as_the_server_sends_it  # type: ignore[method-assign]
    client = app.test_client()
    files = [link("/static/site.css"), link("/static/admin.css")][:pushed]
    with caplog.at_level("WARNING"):
        assert visit(client, page) == files
        assert visit(client, page) == [f"{value}; nopush" for value in files]
    assert [r.getMessage() for r in caplog.records] == []


@pytest.mark.parametrize("connector", [DigestConnector, SessionConnector])
def test_a_percent_encoded_spelling_of_the_cookie_path_is_outside_it(connector: Any) -> None:
    """RFC 6265 §5.1.4 matches the cookie's ``Path`` against the request-uri's path as
    sent: Firefox (and curl) send ``/%61dmin/`` as written, so the ``Path=/admin`` cookie
    is not sent with it. Werkzeug decodes ``PATH_INFO`` to ``/admin/`` (the raw path is in
    ``REQUEST_URI``/``RAW_URI``), so ``cookie_path_matches`` says the cookie was sent,
    the page records into an empty holder, and its ``Set-Cookie`` (``Path=/admin``)
    replaces the one the browser keeps: the admin's digest, or with ``SessionConnector``
    the signed-in session. A link to ``/%61dmin/`` on any site is enough."""
    client = scoped_app(connector(), SESSION_COOKIE_PATH="/admin").test_client(use_cookies=False)
    response = client.get("/%61dmin/")  # no Cookie: the browser sends none to this path
    assert response.request.environ["PATH_INFO"] == "/admin/"
    assert response.request.environ["REQUEST_URI"] == "/%61dmin/"
    assert "Set-Cookie" not in response.headers, response.headers["Set-Cookie"]


@pytest.mark.parametrize("connector", [DigestConnector, SessionConnector])
def test_a_leading_double_slash_waitress_collapsed_is_outside_the_cookie_path(
    connector: Any,
) -> None:
    """A link written ``{{ base }}/admin/`` with a ``base`` ending in "/": the browser
    asks for ``//admin/`` as written, and sends no ``Path=/admin`` cookie with it (RFC
    6265 §5.1.4; gunicorn gives ``PATH_INFO`` ``//admin/``, outside). waitress 3.0 makes
    the leading slashes one (``PATH_INFO`` ``/admin/``, the raw path in ``REQUEST_URI``),
    which did not decode to the raw path, so was taken for a prefix a front had stripped:
    the page recorded into an empty holder, and its ``Set-Cookie`` replaced the admin's
    digest (``SessionConnector``: the signed-in session). The environ is the one waitress
    gave for ``GET //admin/``."""
    app = scoped_app(connector(), SESSION_COOKIE_PATH="/admin")
    environ = EnvironBuilder(path="/admin/").get_environ()
    del environ["RAW_URI"]  # waitress gives REQUEST_URI alone
    environ["REQUEST_URI"] = "//admin/"

    _, status, headers = run_wsgi_app(app, environ)

    assert status == "200 OK"
    assert "Set-Cookie" not in headers, headers["Set-Cookie"]
    assert headers["Link"].split(", ") == [nopush("/static/site.css"), nopush("/static/admin.css")]


@pytest.mark.parametrize("connector", [DigestConnector, SessionConnector])
def test_a_percent_encoded_spelling_with_a_query_under_gunicorn_is_outside_the_cookie_path(
    connector: Any,
) -> None:
    """``/%61dmin/?page=2`` as gunicorn gives it: the request-uri in ``RAW_URI`` alone,
    query and all. The browser matches ``Path=/admin`` against the path as sent,
    ``/%61dmin/`` (RFC 6265 §5.1.4: the request-uri's path, not its query), and sends no
    cookie. Read without ``RAW_URI``, or compared with ``PATH_INFO`` query and all, the
    raw path was not the path the app sees, so was taken for a prefix a front had
    stripped: the page recorded into an empty holder, and its ``Set-Cookie``
    (``Path=/admin``) replaced the one the browser keeps."""
    app = scoped_app(connector(), SESSION_COOKIE_PATH="/admin")
    environ = EnvironBuilder(path="/admin/", query_string="page=2").get_environ()
    del environ["REQUEST_URI"]  # gunicorn gives RAW_URI alone
    environ["RAW_URI"] = "/%61dmin/?page=2"

    _, status, headers = run_wsgi_app(app, environ)

    assert status == "200 OK"
    assert "Set-Cookie" not in headers, headers["Set-Cookie"]
    assert headers["Link"].split(", ") == [nopush("/static/site.css"), nopush("/static/admin.css")]


def test_a_page_under_the_cookie_path_is_read_where_the_server_gives_request_uri_alone() -> None:
    """waitress, uWSGI and mod_wsgi give the raw request-uri in ``REQUEST_URI``, without
    gunicorn's ``RAW_URI``: a page under ``Path=/admin`` reads and records the digest."""
    app = scoped_app(SESSION_COOKIE_PATH="/admin")
    wsgi_app = app.wsgi_app

    def as_waitress_sends_it(environ: Any, start_response: Any) -> Any:
        del environ["RAW_URI"]
        return wsgi_app(environ, start_response)

    app.wsgi_app = as_waitress_sends_it  # type: ignore[method-assign]
    client = app.test_client()
    assert visit(client, "/admin/") == [link("/static/site.css"), link("/static/admin.css")]
    assert visit(client, "/admin/") == [nopush("/static/site.css"), nopush("/static/admin.css")]


def test_a_spelling_of_a_non_ascii_cookie_path_in_lowercase_hex_is_outside_it() -> None:
    """``Path=/caf%C3%A9`` is matched byte for byte (RFC 6265 §5.1.4): a link written
    ``/caf%c3%a9/`` is asked for as written, and the browser sends no cookie with it. The
    raw path decodes, as WSGI decodes it (Latin-1), to the path the app sees: it is the
    path as sent, outside, and no cookie is written over the one the browser keeps."""
    app = scoped_app(APPLICATION_ROOT="/café")
    client = app.test_client(use_cookies=False)
    assert "Path=/caf%C3%A9" in client.get("/").headers["Set-Cookie"]
    raw = {"REQUEST_URI": "/caf%c3%a9/", "RAW_URI": "/caf%c3%a9/"}
    response = client.get("/", environ_overrides=raw)
    assert "Set-Cookie" not in response.headers, response.headers["Set-Cookie"]


def test_a_client_s_own_spelling_of_a_path_in_the_cookie_path_is_not_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``/%61pp/`` for ``/app/`` (a crawler, a hand-made link): Firefox sends it as
    written, so no cookie, and the page records nothing; but nothing is wrong with the
    app. Told, the warning sent its operator after a front that strips the prefix, and,
    said once per app, it was spent: a front that then stripped it went untold. The
    warning is for a path outside the cookie's ``Path`` as the app sees it too."""
    app = scoped_app(APPLICATION_ROOT="/app")
    client = app.test_client(use_cookies=False)
    mounted = {"SCRIPT_NAME": "/app"}
    with caplog.at_level("WARNING"):
        raw = {"REQUEST_URI": "/%61pp/", "RAW_URI": "/%61pp/"}
        spelled = client.get("/", environ_overrides={**mounted, **raw})
        assert "Set-Cookie" not in spelled.headers
        assert spelled.headers["Link"] == nopush("/static/site.css")
        assert [r.getMessage() for r in caplog.records] == []
        stripped = {"SCRIPT_NAME": "", "REQUEST_URI": "/", "RAW_URI": "/"}
        client.get("/", environ_overrides=stripped)
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1
    assert told[0].startswith("firehose: / is outside the cookie's Path /app")


def test_a_page_outside_the_cookie_path_writes_no_server_side_session() -> None:
    """docs/security.md: "neither ``SessionConnector`` nor Flask-Firehose's session
    connector writes the session there". With Flask-Session, ``PushedSetConnector.save``
    skips the path check (``before`` is None for a session Flask's cookie interface does
    not write), so Flask-Firehose's ``set_pushed`` fills a fresh server-side session on
    ``/`` and Flask-Session sets its id with ``Path=/admin``: the admin is signed out."""
    app = scoped_app(
        flask_firehose_connector()(),
        SESSION_COOKIE_PATH="/admin",
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
    )
    Session(app)
    client = app.test_client()
    client.get("/admin/login")
    assert client.get("/admin/").get_data(as_text=True) == "<p>alice"
    response = client.get("/")
    assert "Set-Cookie" not in response.headers, response.headers["Set-Cookie"]
    assert client.get("/admin/").get_data(as_text=True) == "<p>alice"


@pytest.mark.parametrize("server_side", [False, True], ids=["cookie session", "Flask-Session"])
@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_strict_session_withheld_from_another_site_is_not_written_by_flask_firehose_s(
    site: str, server_side: bool
) -> None:
    """``SESSION_COOKIE_SAMESITE = "Strict"``: a navigation from another site comes
    without the session cookie, yet the browser keeps the one its response sets (RFC
    6265bis §5.7). ``SessionConnector`` records nothing there; Flask-Firehose's own
    connector filled a fresh session, and its cookie replaced the signed-in one: a link
    from any site signed the user out. A same-site arrival without a session starts one."""
    config: dict[str, Any] = {"SESSION_COOKIE_SAMESITE": "Strict"}
    if server_side:
        config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache())
    app = scoped_app(flask_firehose_connector()(), **config)
    if server_side:
        Session(app)
    arrival = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"}

    response = app.test_client(use_cookies=False).get("/", headers=arrival)

    recorded = site == "same-site"
    assert response.headers["Link"] == (link if recorded else nopush)("/static/site.css")
    assert ("Set-Cookie" in response.headers) is recorded


def test_a_front_that_strips_the_prefix_is_read_by_script_name() -> None:
    """A front that strips ``/myapp`` and says so (ProxyFix's ``x_prefix`` sets
    ``SCRIPT_NAME``): the raw request-uri the app got (``/page``) is not the path the
    browser sent, which ``SCRIPT_NAME`` and ``PATH_INFO`` are; the cookie is sent there."""
    app = scoped_app(APPLICATION_ROOT="/myapp")
    client = app.test_client(use_cookies=False)
    stripped = {"SCRIPT_NAME": "/myapp", "REQUEST_URI": "/", "RAW_URI": "/"}
    first = client.get("/", environ_overrides=stripped)
    assert first.headers["Link"] == link("/static/site.css")
    cookie = first.headers["Set-Cookie"]
    assert "Path=/myapp" in cookie
    again = client.get("/", environ_overrides=stripped, headers={"Cookie": cookie.split(";")[0]})
    assert again.headers["Link"] == nopush("/static/site.css")


def test_a_request_outside_the_cookie_path_is_told_once(caplog: pytest.LogCaptureFixture) -> None:
    """``APPLICATION_ROOT = "/myapp"`` behind a front that strips the prefix and sets no
    ``SCRIPT_NAME``: every page is outside the cookie's ``Path`` as the app sees it, and
    pushes nothing. A warning says so, once per app."""
    app = scoped_app(APPLICATION_ROOT="/myapp")
    client = app.test_client()
    stripped = {"SCRIPT_NAME": "", "REQUEST_URI": "/"}  # the test client's base is the root
    with caplog.at_level("WARNING"):
        for _ in range(3):
            response = client.get("/", environ_overrides=stripped)
            assert response.headers["Link"] == nopush("/static/site.css")
            assert "Set-Cookie" not in response.headers
    told = [
        r.getMessage() for r in caplog.records if "outside the cookie's Path" in r.getMessage()
    ]
    assert len(told) == 1
    assert "SCRIPT_NAME" in told[0]


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        pytest.param("/x\x1b[2J\rFAKE", r"'/x\x1b[2J\rFAKE'", id="controls"),
        pytest.param("/" + "a" * 4000, "/" + "a" * 199 + "...", id="4000 characters"),
    ],
)
def test_a_path_outside_the_cookie_path_is_told_as_a_log_line_can_show_it(
    sent: str, shown: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning names the path the client sent, raw from the request line
    (``RAW_URI``, ``REQUEST_URI``): Werkzeug's server hands an ESC or a CR there as it
    came, and they went into the line as they were (a terminal tailing the log cleared
    its screen; a CR wrote ``FAKE`` over the start of the line), and a path of kilobytes
    made a line as long. A path with a control character is quoted with its escapes, and
    any is cut to 200 characters."""
    app = scoped_app(APPLICATION_ROOT="/myapp")

    @app.route("/<path:name>")
    def anywhere(name: str) -> str:
        push("/static/site.css", as_="style")
        return name

    environ = EnvironBuilder(path="/").get_environ()
    environ["PATH_INFO"] = environ["REQUEST_URI"] = environ["RAW_URI"] = sent
    with caplog.at_level("WARNING"):
        _, status, headers = run_wsgi_app(app, environ)
    assert status == "200 OK"
    assert headers["Link"] == nopush("/static/site.css")
    [told] = [r.getMessage() for r in caplog.records]
    assert told.startswith(f"firehose: {shown} is outside the cookie's Path /myapp ("), told


@pytest.mark.parametrize(
    ("cookie_path", "page", "inside"),
    [
        ("/admin", "/admin", True),  # the Path itself
        ("/admin", "/admin/x", True),  # under it, past a "/"
        ("/admin", "/adminx", False),  # a longer name is not under it
        ("/admin/", "/admin", False),  # short of a Path ending in "/"
        ("/admin/", "/admin/x", True),
    ],
)
def test_the_cookie_path_is_matched_as_rfc_6265_says(
    cookie_path: str, page: str, inside: bool
) -> None:
    """RFC 6265 §5.1.4 at each of its boundaries: a page in the cookie's ``Path`` pushes
    and writes its digest; one outside it pushes nothing and writes none."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="mounting", SESSION_COOKIE_PATH=cookie_path)

    @app.route("/<path:anywhere>")
    def anywhere(anywhere: str) -> str:
        push("/static/site.css", as_="style")
        return "<p>page"

    Firehose(app)
    response = app.test_client().get(page)
    assert response.headers["Link"] == (link if inside else nopush)("/static/site.css")
    assert ("Set-Cookie" in response.headers) is inside


def test_an_error_an_app_mounted_inside_another_s_raises_reaches_the_server_as_raised() -> None:
    """``DispatcherMiddleware`` hands the mounted app the request's environ itself, which
    each app's wrapper names its record in: the mounted app's wrapper takes that name away
    as its error passes, and the outer wrapper, finding none, must let the error through
    as the app raised it (what the server logs, a debugger shows), not one of its own."""
    shop = Flask("shop")
    shop.config.update(SECRET_KEY="mounting", PROPAGATE_EXCEPTIONS=True)

    @shop.route("/")
    def broken() -> str:
        push("/shop.css", as_="style")
        raise RuntimeError("the shop's own error")

    Firehose(shop)
    site = Flask(__name__)
    site.config["SECRET_KEY"] = "mounting"
    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})  # type: ignore[method-assign]
    Firehose(site)

    with pytest.raises(RuntimeError, match="the shop's own error"):
        site.test_client().get("/shop/")
