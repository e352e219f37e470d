"""Hostile and odd requests, as a server hands them to the app's WSGI callable.

tests/test_hostile.py fuzzes the digest cookie's value; this file fuzzes the rest of what a
client controls: the method, the path (``PATH_INFO`` as a server decodes it: ``%00`` as a
NUL, bytes that are not UTF-8 as latin-1 characters), the raw request-uri, the query, the
protocol, ``Host`` and ``X-Forwarded-*`` (with and without ProxyFix), Fetch Metadata and
the prefetch headers, ``Accept``, the ``Cookie`` header (our cookie's name repeated, in
another case, beside junk), and a server's ``wsgi.early_hints`` (there, absent, or failing
as a client gone). For every request, whatever it holds:

- no 500 that the same site without the extension does not give too (Werkzeug has its
  own: a ``Host`` of ``[1:2]`` in a redirect's ``Location``);
- every header a token and a latin-1 value without CR, LF or NUL, in the 103 too;
- every ``Link`` value, ours and the 103's, read by the strict RFC 8288 parser;
- our ``Link`` and the digest's ``Set-Cookie`` only on a page (HTML, or no
  ``Content-Type``), never on a 304 nor an answer to ``OPTIONS``; a ``Set-Cookie`` with
  ``Vary: Cookie``, and ``Vary: Cookie`` wherever a full digest changes the ``Link``;
- a 103 only to a GET, never to HTTP/1.0;
- nothing logged at WARNING or above but the server's lack of ``wsgi.early_hints``, said
  once per app.

The same requests go to the site with ``SessionConnector`` or Flask-Firehose 0.2.3's own
connector, mounted with ``DispatcherMiddleware`` or not, every ``SESSION_COOKIE_*``
attribute set or none, beside the client's sessions (whole, cut, repeated, holding old
lists): the rules above, the session's ``Set-Cookie`` held to the digest's, and nothing
offered for push offered again to the client that keeps the session it was given.
"""

from __future__ import annotations

import errno
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import pytest
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    render_template_string,
    request,
    url_for,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from firehose_digest import Firehose, SessionConnector, push, push_static
from tests.rfc8288 import parse_link_header

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

COOKIE = "h2-digest"
ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "examples" / "quickstart" / "static"

PAGE = """<!doctype html>
<link rel=stylesheet href="{{ push_static('app.css') }}">
<script src="{{ push('/static/app.js', as='script') }}"></script>
<link rel=preload href="{{
  push('/static/inter.woff2', 'crossorigin', as='font', type='font/woff2') }}">
"""


def site(
    *,
    extension: bool = True,
    proxy_fix: bool = False,
    connector: Any = None,
    cookie_attributes: bool = False,
) -> Flask:
    """Pages that push from a template and a view, one that pushes its query's ``u``, a
    conditional page, JSON, a download and a blueprint with a static folder of its own.
    ``connector``: the digest's if None; ``cookie_attributes``: every ``SESSION_COOKIE_*``
    attribute a cookie of ours takes set."""
    app = Flask("hostile_requests", static_folder=str(STATIC))
    app.config.update(SECRET_KEY="hostile requests", FIREHOSE_EARLY_HINTS=True)
    # Without the extension, a static file's url is what an app writes by hand: url_for()'s.
    static = push_static if extension else url_for_static
    if cookie_attributes:
        app.config.update(
            SESSION_COOKIE_DOMAIN="example.test",
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_SAMESITE="None",
            SESSION_COOKIE_PARTITIONED=True,
        )

    @app.route("/")
    def index() -> str:
        return render_template_string(PAGE)

    @app.route("/p/<path:rest>", methods=["GET", "POST", "PROPFIND"])
    def deep(rest: str) -> str:
        push("/static/app.js", as_="script")
        return render_template_string(PAGE)

    @app.route("/push")
    def push_query() -> str:
        try:
            urls = request.args.getlist("u")
            for url in urls:
                push(url, as_="style")
        except (UnicodeDecodeError, ValueError):  # a query not UTF-8; a url push() refuses
            abort(400)
        return "pushed"

    @app.route("/cond")
    def conditional() -> Response:
        push("/static/app.js", as_="script")
        response = Response("page", mimetype="text/html")
        response.set_etag("page")
        response.make_conditional(request)
        return response

    @app.route("/json")
    def json() -> dict[str, int]:
        push("/static/app.js", as_="script")
        return {"a": 1}

    @app.route("/download")
    def download() -> Response:
        push("/static/app.js", as_="script")
        return Response(
            "<p>x", mimetype="text/html", headers={"Content-Disposition": "attachment"}
        )

    shop = Blueprint(
        "shop", __name__, static_folder=str(STATIC), static_url_path="/files", url_prefix="/shop"
    )

    @shop.route("/")
    def shop_index() -> str:
        static("app.js", endpoint="shop.static")
        push("/static/app.js", as_="script")
        return "<p>shop"

    app.register_blueprint(shop)
    if extension:
        Firehose(app, connector=connector)
    else:  # the same pages, push() only returning its url
        app.jinja_env.globals.update(push=push, push_static=url_for_static)
    if proxy_fix:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    return app


def url_for_static(filename: str, endpoint: str = "static") -> str:
    """What a page without the extension writes for ``push_static(filename)``."""
    return url_for(endpoint, filename=filename)


SITES = {proxy_fix: site(proxy_fix=proxy_fix) for proxy_fix in (False, True)}
BARE_SITES = {proxy_fix: site(extension=False, proxy_fix=proxy_fix) for proxy_fix in (False, True)}


class Served(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    hints: list[list[tuple[str, str]]]


def serve(app: WSGIApplication, environ: dict[str, Any]) -> Served:
    """The app called as a server calls it, on a copy of ``environ``."""
    environ = {**environ, "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO()}
    hints: list[list[tuple[str, str]]] = []
    if environ.get("wsgi.early_hints") is None:
        environ.pop("wsgi.early_hints", None)
    elif environ["wsgi.early_hints"] == "records":
        environ["wsgi.early_hints"] = lambda headers: hints.append(list(headers))
    elif environ.get("wsgi.early_hints") == "client gone":
        environ["wsgi.early_hints"] = client_gone
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, list(headers)))
        return lambda data: None

    body = app(environ, start_response)
    try:
        b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    status, headers = started[-1]
    return Served(int(status.split()[0]), headers, hints)


def client_gone(headers: list[tuple[str, str]]) -> None:
    raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def full_digest(app: Flask) -> str:
    """The ``Cookie`` of a client that holds everything ``/`` pushes."""
    served = serve(app, plain_get("/"))
    [line] = [value for name, value in served.headers if name == "Set-Cookie"]
    return line.partition(";")[0]


def plain_get(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "example.test",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "example.test",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


GENUINE = full_digest(site())

#: What a server can put in a header: latin-1, no CR, LF or NUL (it refuses them).
header_text = st.text(
    st.characters(max_codepoint=0xFF, blacklist_characters="\r\n\x00"), max_size=20
)


def odd(*values: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["", " ", "\t", *values]), header_text)


FETCH_MODES = ("navigate", "NAVIGATE", " navigate ", "navigate, navigate", "cors", "no-cors")
FETCH_DESTS = ("document", "Document", "document,iframe", "iframe", "empty", "object")
HEADERS: dict[str, st.SearchStrategy[str]] = {
    "HTTP_SEC_FETCH_MODE": odd(*FETCH_MODES),
    "HTTP_SEC_FETCH_DEST": odd(*FETCH_DESTS),
    "HTTP_SEC_FETCH_SITE": odd("none", "same-origin", "cross-site"),
    "HTTP_SEC_FETCH_USER": odd("?1"),
    "HTTP_SEC_PURPOSE": odd("prefetch", "prefetch;prerender", "PREFETCH"),
    "HTTP_PURPOSE": odd("prefetch"),
    "HTTP_SERVICE_WORKER_NAVIGATION_PRELOAD": odd("true"),
    "HTTP_ACCEPT": odd("*/*", "text/html", "TEXT/HTML", "text/html;q=0", "text/html;q=abc"),
    "HTTP_COOKIE": st.one_of(
        st.sampled_from(
            [
                f"{COOKIE}=a; {COOKIE}={GENUINE.partition('=')[2]}",
                f"{GENUINE}; {COOKIE}=a",
                f"{GENUINE},{COOKIE}=b",
                f"H2-DIGEST={GENUINE.partition('=')[2]}",
                f"{COOKIE}=",
                COOKIE,
                ";;,,",
                GENUINE,
            ]
        ),
        header_text,
    ),
    "HTTP_REFERER": header_text,
    "HTTP_X_REQUESTED_WITH": odd("XMLHttpRequest"),
    "HTTP_IF_NONE_MATCH": odd('"page"', "*"),
    "HTTP_VERSION": odd("2", "2.0"),
    "HTTP_X_VARNISH": header_text,
    "HTTP_RANGE": odd("bytes=0-1", "bytes=5-1"),
    "HTTP_X_FORWARDED_HOST": odd("[1:2]", "a b", "EXAMPLE.test:80", "h\xe9st"),
    "HTTP_X_FORWARDED_PROTO": odd("https", "https, http"),
    "HTTP_X_FORWARDED_PREFIX": odd(
        *("/app", "/a%2Fb", "//", "/\xe9", "/a?b", "/a|b", "/%"),
        *("http:x", "HTTPS:", "ftp:/x"),  # a url of a scheme without its //
    ),
}
#: PATH_INFO as a server decodes it: "%00" a NUL, "%C3%A9" two latin-1 characters.
segments = st.one_of(
    st.sampled_from(
        ["", ".", "..", "static", "app.css", "p", "shop", "files", "\x00", "\xc3\xa9"]
    ),
    st.text(st.characters(max_codepoint=0xFF), max_size=8),
)
paths = st.one_of(
    st.sampled_from(["/", "/p/x", "/shop/", "/cond"]),  # pages, learned for a 103
    st.sampled_from(
        [
            *(
                "/",
                "/push",
                "/cond",
                "/json",
                "/download",
                "/shop/",
                "/shop",
                "/shop/files/app.js",
            ),
            *("/static/app.css", "/static//app.css", "//push", "/./push", "/p/" + "a" * 5000),
        ]
    ),
    st.lists(segments, max_size=5).map(lambda parts: "/" + "/".join(parts)),
)
urls = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30)
queries = st.one_of(
    st.sampled_from(["", "v=1&v=2", "u=%0D%0A", "u=%00", "u=%FF", "u=\xff", "u=//evil/x.css"]),
    st.lists(urls, min_size=1, max_size=3).map(
        lambda us: "&".join(f"u={quote(u, safe='/')}" for u in us)
    ),
    header_text.filter(lambda text: "#" not in text),
)
BROWSER = {
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
    "HTTP_SEC_FETCH_SITE": "none",
}


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    environ = plain_get(draw(paths))
    environ["REQUEST_METHOD"] = draw(
        st.sampled_from(["GET"] * 6 + ["HEAD", "OPTIONS", "get", "PROPFIND", "CONNECT", "POST"])
    )
    environ["SERVER_PROTOCOL"] = draw(
        st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/3"])
    )
    environ["QUERY_STRING"] = draw(queries)
    environ["SCRIPT_NAME"] = draw(st.sampled_from(["", "", "/app", "/app/", "/\xe9"]))
    environ["wsgi.url_scheme"] = draw(st.sampled_from(["http", "https"]))
    if draw(st.booleans()):
        environ["HTTP_HOST"] = draw(odd("[::1]", "[1:2]", "EXAMPLE.test", "x" * 300))
    else:
        del environ["HTTP_HOST"]
    raw = draw(st.sampled_from([None, "as sent", "another", "absolute"]))
    query = f"?{environ['QUERY_STRING']}" if environ["QUERY_STRING"] else ""
    if raw == "as sent":
        environ["RAW_URI"] = quote(environ["PATH_INFO"], safe="/%") + query
    elif raw == "another":
        environ["REQUEST_URI"] = draw(header_text)
    elif raw == "absolute":
        environ["RAW_URI"] = f"http://example.test{environ['PATH_INFO']}{query}"
    if draw(st.integers(0, 2)):  # a browser's navigation, two times in three
        environ.update(BROWSER)
    if not draw(st.integers(0, 5)):  # a revalidation, one time in six: /cond answers 304
        environ["HTTP_IF_NONE_MATCH"] = '"page"'
    for name in draw(st.sets(st.sampled_from(sorted(HEADERS)), max_size=4)):
        environ[name] = draw(HEADERS[name])
    if draw(st.booleans()):
        environ["wsgi.input_terminated"] = True
    hints = draw(st.sampled_from(["records", "client gone", None]))
    if hints is not None:
        environ["wsgi.early_hints"] = hints
    return environ


TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def warnings_logged() -> Iterator[Records]:
    records = Records()
    logging.getLogger().addHandler(records)
    try:
        yield records
    finally:
        logging.getLogger().removeHandler(records)


def check_fields(fields: list[tuple[str, str]]) -> None:
    for name, value in fields:
        assert TOKEN.fullmatch(name), name
        value.encode("latin-1")
        assert not {"\r", "\n", "\x00"} & set(value), (name, value)
        if name.lower() == "link":
            parse_link_header(value)


def vary_names_cookie(headers: list[tuple[str, str]]) -> bool:
    return any(
        field.strip().lower() in ("cookie", "*")
        for name, value in headers
        if name.lower() == "vary"
        for field in value.split(",")
    )


def ours(headers: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The response's ``Link`` values and the digest's ``Set-Cookie`` lines."""
    links = [value for name, value in headers if name == "Link"]
    cookies = [v for n, v in headers if n == "Set-Cookie" and v.startswith(f"{COOKIE}=")]
    return links, cookies


def check_the_rules(
    served: Served,
    environ: dict[str, Any],
    bare: WSGIApplication,
    cookies: list[str],
    warnings_logged: Records,
) -> None:
    """The rules of this module's docstring for ``served``, the answer to ``environ``;
    ``bare`` is the same site without the extension, ``cookies`` the ``Set-Cookie`` lines
    of the connector's store."""
    if served.status == 500:
        assert serve(bare, environ).status == 500, environ
    check_fields(served.headers)
    for hint in served.hints:
        check_fields(hint)
    links = [value for name, value in served.headers if name == "Link"]
    content_type = dict(served.headers).get("Content-Type")
    if content_type is not None and not content_type.startswith("text/html"):
        assert (links, cookies) == ([], []), environ
    if served.status == 304 or environ["REQUEST_METHOD"] == "OPTIONS":
        assert (links, cookies) == ([], []), environ
    if cookies:
        assert vary_names_cookie(served.headers), environ
    if served.hints:
        assert environ["REQUEST_METHOD"].upper() == "GET", environ
        assert environ["SERVER_PROTOCOL"] != "HTTP/1.0", environ
    unexpected = [
        record.getMessage()
        for record in warnings_logged.records
        if not record.getMessage().startswith("firehose: FIREHOSE_EARLY_HINTS is on, but")
        and not (record.getMessage().startswith("Exception on") and served.status == 500)
    ]
    assert unexpected == [], environ


@settings(max_examples=400)
@given(environ=requests(), proxy_fix=st.booleans(), learned=st.booleans())
# A prefix that leaves the url of a file push_static() links a scheme without its //.
@example(
    environ={**plain_get("/"), "HTTP_X_FORWARDED_PREFIX": "http:x"}, proxy_fix=True, learned=False
)
def test_any_request_is_served_within_the_rules(
    warnings_logged: Records, environ: dict[str, Any], proxy_fix: bool, learned: bool
) -> None:
    app = SITES[proxy_fix]
    if learned:  # the page's links learned for a 103, as a previous visit would teach them
        serve(app, {**environ, "wsgi.early_hints": "records"})
    warnings_logged.records.clear()

    served = serve(app, environ)

    cookies = ours(served.headers)[1]
    check_the_rules(served, environ, BARE_SITES[proxy_fix], cookies, warnings_logged)

    if "HTTP_COOKIE" not in environ:
        # What another client's cookie would change varies on Cookie.
        without = serve(app, {**environ, "wsgi.early_hints": None})
        holding = serve(app, {**environ, "wsgi.early_hints": None, "HTTP_COOKIE": GENUINE})
        if ours(without.headers)[0] != ours(holding.headers)[0]:
            assert vary_names_cookie(without.headers), environ
            assert vary_names_cookie(holding.headers), environ


# --- The same requests to the pages of a site whose connector keeps Flask's session

#: Where the mounted sites are: DispatcherMiddleware moves it from PATH_INFO to SCRIPT_NAME.
MOUNT = "/m"


class Kept(NamedTuple):
    """A site whose connector writes Flask's session, and the same site with no extension."""

    wsgi: WSGIApplication
    bare: WSGIApplication
    #: Its ``Cookie`` values a client may have kept: a session the site wrote (holding what
    #: ``/`` pushes), and sessions it signed holding Flask-Firehose 0.2.3's comma-joined
    #: list (short, or of 200 urls), or under SessionConnector's key what it never
    #: writes (a list holding a number and None, a str).
    sessions: tuple[str, ...]


def kept_site(connector: str, *, mounted: bool, cookie_attributes: bool) -> Kept:
    def made(extension: bool) -> Flask:
        chosen: Any
        if connector == "session":
            chosen = SessionConnector()
        else:
            import flask_firehose  # type: ignore[import-untyped]  # in the test extras

            chosen = flask_firehose.Connector
        return site(extension=extension, connector=chosen, cookie_attributes=cookie_attributes)

    def mount(app: Flask) -> WSGIApplication:
        return DispatcherMiddleware(NotFound(), {MOUNT: app}) if mounted else app

    app = made(extension=True)
    first = serve(mount(app), plain_get(f"{MOUNT}/" if mounted else "/"))
    [genuine] = [v for n, v in first.headers if n == "Set-Cookie" and v.startswith("session=")]
    signed = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signed is not None
    lists = (
        {"h2-pushed": "/static/app.js,/static/inter.woff2"},
        {"h2-pushed": ",".join(f"/static/r{i}.css" for i in range(200))},
        {"h2-held": ["/static/app.js", 7, None]},
        {"h2-held": "/static/app.js"},
    )
    written = genuine.split(";")[0].removeprefix("session=")
    sessions = (written, *(signed.dumps(value) for value in lists))
    return Kept(mount(app), mount(made(extension=False)), sessions)


KEPT = {
    (connector, mounted, attributes): kept_site(
        connector, mounted=mounted, cookie_attributes=attributes
    )
    for connector in ("session", "flask-firehose")
    for mounted in (False, True)
    for attributes in (False, True)
}


@st.composite
def kept_cookies(draw: st.DrawFn, kept: Kept, environ: dict[str, Any]) -> str:
    """A ``Cookie`` of the client's sessions, whole, cut or repeated, beside what
    :func:`requests` drew; over HTTP/2 at times joined with "," as ASGI wrappers join it."""
    fields = [environ["HTTP_COOKIE"]] if "HTTP_COOKIE" in environ else []
    for _ in range(draw(st.integers(1, 3))):
        value = draw(st.sampled_from(kept.sessions))
        fields.append(f"session={value[: draw(st.integers(0, len(value)))]}")
    fields = draw(st.permutations(fields))
    if environ["SERVER_PROTOCOL"].startswith(("HTTP/2", "HTTP/3")) and draw(st.booleans()):
        return ",".join(fields)
    return "; ".join(fields)


def offered(fields: list[tuple[str, str]]) -> set[str]:
    """The path-absolute urls a response's (or a 103's) ``Link`` offers for push."""
    return {
        uri
        for name, value in fields
        if name == "Link"
        for uri, params in parse_link_header(value)
        if ("rel", "preload") in params
        and "nopush" not in {param for param, _ in params}
        and uri.startswith("/")
        and not uri.startswith("//")
    }


@settings(max_examples=200)
@given(
    environ=requests(),
    connector=st.sampled_from(["session", "flask-firehose"]),
    mounted=st.booleans(),
    attributes=st.booleans(),
    learned=st.booleans(),
    data=st.data(),
)
def test_any_request_to_a_site_keeping_flask_s_session_is_served_within_the_rules(
    warnings_logged: Records,
    environ: dict[str, Any],
    connector: str,
    mounted: bool,
    attributes: bool,
    learned: bool,
    data: st.DataObject,
) -> None:
    """The rules above, for ``SessionConnector`` and Flask-Firehose 0.2.3's own connector,
    mounted with ``DispatcherMiddleware`` or not, with the cookie attributes at their
    defaults or all set; the client's ``Cookie`` holds its sessions too, whole or cut.
    And the client that keeps what the response set is offered none of it again."""
    kept = KEPT[(connector, mounted, attributes)]
    if mounted:
        environ["PATH_INFO"] = MOUNT + environ["PATH_INFO"]
    if data.draw(st.booleans()):
        environ["HTTP_COOKIE"] = data.draw(kept_cookies(kept, environ))
    if learned:  # the page's links learned for a 103, as a previous visit would teach them
        serve(kept.wsgi, {**environ, "wsgi.early_hints": "records"})
    warnings_logged.records.clear()

    served = serve(kept.wsgi, environ)

    set_cookies = [value for name, value in served.headers if name == "Set-Cookie"]
    check_the_rules(served, environ, kept.bare, set_cookies, warnings_logged)

    # The client comes back with the session it was given (over HTTP/2, beside a cookie
    # of the page's, the fields joined with ","): what the response offered for push,
    # and (not to a browser, which records a 103 only with a page it shows) what its 103
    # offered, unless a 304 answered it, the session holds.
    pushed = offered(served.headers)
    if "HTTP_SEC_FETCH_MODE" not in environ and served.status < 400 and served.status != 304:
        pushed |= {uri for hint in served.hints for uri in offered(hint)}
    if not pushed:
        return
    [session] = [line.partition(";")[0] for line in set_cookies if line.startswith("session=")]
    if environ["SERVER_PROTOCOL"].startswith(("HTTP/2", "HTTP/3")):
        session += ",theme=dark"
    again = serve(kept.wsgi, {**environ, "HTTP_COOKIE": session, "wsgi.early_hints": "records"})
    assert not offered(again.headers) & pushed, (environ, served, again)
    for hint in again.hints:
        assert not offered(hint) & pushed, (environ, served, again)
