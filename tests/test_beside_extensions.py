"""The extension beside the Flask extensions real apps use with it: Flask-Session,
Flask-Talisman, WhiteNoise; those that reshape or replay a response: Flask-Caching,
Flask-Compress, Flask-CORS; and those a site's users pass through: Flask-Login,
Flask-WTF's CSRFProtect, Flask-Limiter."""

from __future__ import annotations

import contextlib
import copy
import gzip
import logging
import math
import pickle
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli  # type: ignore[import-untyped]  # with Flask-Compress, in the test extras
import pytest
from cachelib import SimpleCache
from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    make_response,
    render_template_string,
    request,
    session,
)
from flask.sessions import SessionInterface, SessionMixin
from flask.testing import FlaskClient
from flask_caching import Cache
from flask_compress import Compress
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import (  # type: ignore[import-untyped]  # in the test extras
    LoginManager,
    UserMixin,
    current_user,
    login_fresh,
    login_user,
    logout_user,
)
from flask_login.signals import session_protected  # type: ignore[import-untyped]  # in the test extras
from flask_session import Session  # type: ignore[import-untyped]  # in the test extras
from flask_talisman import Talisman  # type: ignore[import-untyped]  # in the test extras
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]  # in the test extras
from werkzeug.datastructures import CallbackDict
from werkzeug.test import TestResponse
from whitenoise import WhiteNoise  # type: ignore[import-untyped]  # in the test extras

from firehose_digest import DigestConnector, Firehose, SessionConnector, push


@pytest.mark.parametrize(
    ("other_tab", "after"),
    [("/logout/clear", "None"), ("/logout/pop", "None"), ("/login/bob", "bob")],
)
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_another_tab_beside_a_page_load_holds_with_a_server_side_session(
    connector: Any, other_tab: str, after: str, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/security.md: ``SessionConnector`` with Flask's cookie session lets a page that
    only read the session, whose response reaches the browser after a logout's, sign the
    user in again; "with ``SessionConnector``, prefer a server-side session". Flask-Session
    (its ``SESSION_REFRESH_EACH_REQUEST`` off, so that it writes only a changed session)
    saved the whole session the page opened, the user included, under the id the logout
    deleted (the Flask tutorial's ``session.clear()``) or popped the user from (as
    Flask-Login's ``logout_user()`` pops its keys), and set that id's cookie again: the
    browser, keeping the ``Set-Cookie`` it reads last, was signed in again. So it was over
    another user signing in (Flask-Login's ``login_user`` sets ``_user_id`` and the other
    keys it had, clearing nothing: the same keys with other values), and the first user
    was back. Each change in the store is seen, and the page records nothing."""
    app = _flask_session_app(connector)
    opened, done = threading.Event(), threading.Event()

    @app.route("/login/<user>")
    def login(user: str) -> str:
        session["_user_id"] = user
        session["_fresh"] = True
        return f"signed in as {user}"

    @app.route("/logout/<how>")
    def logout(how: str) -> str:
        if how == "clear":
            session.clear()
        else:
            session.pop("_user_id")
        return "signed out"

    @app.route("/whoami")
    def whoami() -> str:
        return str(session.get("_user_id"))

    @app.route("/report")
    def report() -> str:
        user = session.get("_user_id")  # a page that only reads the session
        opened.set()
        assert done.wait(5)
        push("/static/chart.js", as_="script")  # new to this client: recorded
        return f"<p>report for {user}</p>"

    browser = app.test_client()
    browser.get("/login/ann")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    # A second tab of the same browser loads a report while the first signs out or in.
    tab = app.test_client()
    tab.set_cookie("session", cookie.value)
    reports: list[str] = []
    loading = threading.Thread(target=lambda: reports.append(tab.get("/report").text))
    loading.start()
    assert opened.wait(5)
    browser.get(other_tab)
    assert browser.get("/whoami").text == after
    done.set()
    loading.join(5)
    assert reports == ["<p>report for ann</p>"]
    # The report's response comes last: what its cookie opens now is what the browser has.
    assert tab.get("/whoami").text == after
    # Seen, not stumbled on: a save() that failed would log an error, and record nothing too.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def two_visits_under_flask_session(key: object, use_signer: object) -> list[TestResponse]:
    """Two visits of a page pushing ``/a.css``, with ``SessionConnector`` over Flask-Session
    (a cachelib store) signing its id with ``key`` as ``use_signer`` says."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=key,
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_USE_SIGNER=use_signer,
    )
    with pytest.warns(DeprecationWarning) if use_signer else contextlib.nullcontext():
        Session(app)  # its signer is deprecated in 0.8
    Firehose(app, connector=SessionConnector())

    @app.route("/")
    def page() -> str:
        push("/a.css", as_="style")
        return "page"

    client = app.test_client()
    return [client.get("/") for _ in range(2)]


#: Keys Flask-Session's signer cannot sign the id with, and what the warning says of each.
UNSIGNING_KEYS = pytest.mark.parametrize(
    ("key", "problem"),
    [
        (
            123,
            "SECRET_KEY must be a str or bytes, got int (Flask-Session's SESSION_USE_SIGNER "
            "cannot sign the session id with it): in the environment quote a key of digits "
            """as JSON, FLASK_SECRET_KEY='"123"'""",
        ),
        (
            bytearray(b"a-long-secret-key"),
            "SECRET_KEY must be a str or bytes, got bytearray: give the same key as bytes, "
            "bytes(key)",
        ),
    ],
    ids=["int", "bytearray"],
)


@UNSIGNING_KEYS
@pytest.mark.parametrize("signed", [True, False], ids=["id signed", "id as it is"])
def test_flask_session_signing_its_id_with_a_key_it_cannot_serves_links_and_warns_once(
    key: object, problem: str, signed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask-Session's ``SESSION_USE_SIGNER`` (deprecated in 0.8, the default of many an
    older app) signs the session id with ``SECRET_KEY``: with ``FLASK_SECRET_KEY=123``, an
    int, the session ``SessionConnector`` wrote for a new client failed Flask-Session's
    save, a 500 on every first page that pushed. A ``bytearray``, which Flask's own session
    signs with (it hands itsdangerous a list of keys), fails there too: Flask-Session hands
    itsdangerous the key alone, which takes it for a list of keys, each byte an int ``hmac``
    refuses. As under Flask's own session, nothing is pushed, and one warning names the
    key; an id kept as it is takes any key."""
    with caplog.at_level(logging.WARNING):
        responses = two_visits_under_flask_session(key, signed)
    assert [r.status_code for r in responses] == [200, 200]
    links = [r.headers["Link"] for r in responses]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if signed:
        assert links == ["</a.css>; rel=preload; as=style; nopush"] * 2
        assert warnings == [
            f"firehose: {problem}, so SessionConnector cannot remember what a client holds; "
            "pages keep their preload links but nothing is pushed"
        ]
    else:
        assert links == [
            "</a.css>; rel=preload; as=style",
            "</a.css>; rel=preload; as=style; nopush",
        ]
        assert warnings == []


@pytest.mark.parametrize(
    ("key", "problem"),
    [(None, "SECRET_KEY is not set"), ("", "SECRET_KEY is empty")],
    ids=["unset", "empty"],
)
@pytest.mark.parametrize("use_signer", [True, 1], ids=["True", "1"])
def test_flask_session_signing_its_id_without_a_secret_key_serves_links_and_warns_once(
    key: str | None, problem: str, use_signer: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask-Session's ``SESSION_USE_SIGNER`` without ``SECRET_KEY``: Flask-Session opens
    a session all the same (a page that writes nothing in it answers 200), but its save
    of a session written refuses to sign the id ("SECRET_KEY must be set when
    SESSION_USE_SIGNER=True"): the list ``SessionConnector`` wrote made every page that
    pushed answer 500. Nothing is pushed, and one warning names the key. Flask-Session
    signs on any true value, as ``from_prefixed_env`` reads ``FLASK_SESSION_USE_SIGNER=1``
    (an int): one taken for no signer answered 500 still."""
    with caplog.at_level(logging.WARNING):
        responses = two_visits_under_flask_session(key, use_signer)
    assert [(r.status_code, r.headers["Link"]) for r in responses] == [
        (200, "</a.css>; rel=preload; as=style; nopush")
    ] * 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"firehose: {problem} (Flask-Session's SESSION_USE_SIGNER cannot sign the session id "
        "without it), so SessionConnector cannot remember what a client holds; pages keep "
        "their preload links but nothing is pushed"
    ]


@pytest.mark.parametrize("key", ["a-long-secret-key", b"a-long-secret-key"], ids=["str", "bytes"])
def test_flask_session_signing_its_id_with_a_key_it_can_pushes_and_records(
    key: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask-Session's ``SESSION_USE_SIGNER`` with a ``SECRET_KEY`` it signs the id with:
    ``SessionConnector`` pushes and records as under any session, and warns of nothing."""
    with caplog.at_level(logging.WARNING):
        responses = two_visits_under_flask_session(key, True)
    assert [(r.status_code, r.headers["Link"]) for r in responses] == [
        (200, "</a.css>; rel=preload; as=style"),
        (200, "</a.css>; rel=preload; as=style; nopush"),
    ]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def _app_with_budgets(session_first: bool, budgets: dict[str, int]) -> Flask:
    """An app pushing ``/a.css`` on Flask-Session (a cachelib store), with ``budgets``:
    Flask-Session set up before ``Firehose(app)`` if ``session_first``, else after it."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s", SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache(), **budgets
    )
    if session_first:
        Session(app)
    Firehose(app, connector=SessionConnector())
    if not session_first:
        Session(app)

    @app.route("/")
    def page() -> str:
        push("/a.css", as_="style")
        return "page"

    return app


@pytest.mark.parametrize(
    "budgets",
    [
        {"FIREHOSE_LINK_BUDGET": 3072 - 22},
        {"FIREHOSE_LINK_BUDGET": (1 << 20) - 22, "FIREHOSE_HEADER_BUDGET": 1 << 20},
    ],
    ids=["a Link taking the default header budget", "both at their largest"],
)
def test_a_server_side_session_set_up_first_records_with_budgets_refused_a_cookie_session(
    budgets: dict[str, int],
) -> None:
    """Budgets that leave Flask's cookie session no room for a session holding one key
    are refused for it at init_app (tests/test_edges.py). Flask-Session's cookie holds an
    id, not the session: set up before ``Firehose(app)``, it is not measured, and those
    budgets are accepted, and record. Set up after, it is not seen yet: the refusal says
    to set it up first."""
    client = _app_with_budgets(True, budgets).test_client()
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    with pytest.raises(ValueError, match=r"set up after Firehose\(app\)"):
        _app_with_budgets(False, budgets)


class Cart:
    """A value an app keeps in a pickling session store: no ``__eq__`` of its own."""


@dataclass
class Basket:
    """A value with an ``__eq__`` of its own (a dataclass's), comparing what it holds."""

    carts: list[Cart] = field(default_factory=list)
    average: float = 0.0


class SignedIn:
    """A signed-in user an app keeps whole in a pickling session store: no ``__eq__``."""

    def __init__(self, name: str) -> None:
        self.name = name


class PickledSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str = "") -> None:
        def on_update(self: PickledSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid or secrets.token_urlsafe(16)
        self.modified = False


class PickledSessions(SessionInterface):
    """A server-side session that pickles its values, as Flask-Session did before 0.7."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def open_session(self, app: Flask, request: Request) -> PickledSession:
        sid = request.cookies.get("sid", "")
        if sid in self.store:
            return PickledSession(pickle.loads(self.store[sid]), sid)
        return PickledSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, PickledSession)
        if session.modified:
            self.store[session.sid] = pickle.dumps(dict(session))
            response.set_cookie("sid", session.sid)


def _pickling_app() -> tuple[Flask, PickledSessions]:
    """An app on :class:`PickledSessions`, with ``SessionConnector``."""
    app = Flask(__name__)
    interface = PickledSessions()
    app.session_interface = interface
    Firehose(app, connector=SessionConnector())
    return app, interface


def _flask_session_app(connector: Any = None) -> Flask:
    """An app on Flask-Session, which writes only a changed session (its
    ``SESSION_REFRESH_EACH_REQUEST`` off), with ``connector`` (``SessionConnector``)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s",
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    Session(app)
    Firehose(app, connector=connector or SessionConnector())
    return app


def _assert_a_reading_page_records(app: Flask, value: Callable[[], object]) -> None:
    """A page that only reads ``value()`` from the session, unchanged in its store,
    records what it pushed: the next visit holds it."""

    @app.route("/fill")
    def fill() -> str:
        session["kept"] = value()
        return "filled"

    @app.route("/")
    def page() -> str:
        session.get("kept")  # a page that only reads the session
        push("/static/cart.js", as_="script")
        return "<p>cart</p>"

    client = app.test_client()
    client.get("/fill")
    assert [client.get("/").headers["Link"] for _ in range(2)] == [
        "</static/cart.js>; rel=preload; as=script",
        "</static/cart.js>; rel=preload; as=script; nopush",
    ]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(Cart, id="an object"),
        pytest.param(lambda: [Cart(), Cart()], id="a list of objects"),
        pytest.param(lambda: {"items": (Cart(), 2)}, id="a dict of a tuple of objects"),
        pytest.param(lambda: math.nan, id="NaN"),
        pytest.param(lambda: {"ratings": [4.5, math.nan]}, id="a NaN in a list"),
        pytest.param(lambda: Basket([Cart()]), id="a dataclass of objects"),
        pytest.param(lambda: Basket(average=math.nan), id="a NaN in a dataclass"),
    ],
)
def test_a_page_that_reads_objects_or_a_nan_from_a_pickling_session_records(
    value: Callable[[], object],
) -> None:
    """A value read from a pickling store is a new object each time: one without an
    ``__eq__`` of its own, alone or in a list, a dict or a dataclass, or a NaN (which
    equals no NaN), never equals its copy read again from the store. The session looked
    changed in its store on every page, which then pushed nothing and recorded nothing,
    ever."""
    _assert_a_reading_page_records(_pickling_app()[0], value)


def _holding_itself() -> list[Any]:
    """A list that holds itself: two copies of it recurse when compared with ``==``."""
    looped: list[Any] = []
    looped.append(looped)
    return looped


def test_a_page_that_reads_a_list_holding_itself_from_a_pickling_session_records() -> None:
    """Its copy read again from the store makes ``==`` recurse (a RecursionError), where
    its pickle, which keeps the loop, compares: unchanged, so the page records."""
    _assert_a_reading_page_records(_pickling_app()[0], _holding_itself)


class Hook:
    """A value with a callback, which ``copy.deepcopy`` keeps and ``pickle`` refuses."""

    def __init__(self) -> None:
        self.callback = lambda: None


class CopyingSessions(PickledSessions):
    """A server-side session that keeps deep copies of its values, unpickled."""

    def __init__(self) -> None:
        super().__init__()
        self.copies: dict[str, dict[str, Any]] = {}

    def open_session(self, app: Flask, request: Request) -> PickledSession:
        sid = request.cookies.get("sid", "")
        if sid in self.copies:
            return PickledSession(copy.deepcopy(self.copies[sid]), sid)
        return PickledSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, PickledSession)
        if session.modified:
            self.copies[session.sid] = copy.deepcopy(dict(session))
            response.set_cookie("sid", session.sid)


def test_a_page_that_reads_an_unpicklable_value_from_a_copying_session_records() -> None:
    """A store that keeps copies, not pickles, hands back an object that equals no copy
    of itself and that pickle refuses: it is not compared, and the page records."""
    app = Flask(__name__)
    app.session_interface = CopyingSessions()
    Firehose(app, connector=SessionConnector())
    _assert_a_reading_page_records(app, Hook)


def test_a_nan_in_a_flask_session_records() -> None:
    """Flask-Session (msgspec) keeps a NaN as a float, a new one at each read."""
    _assert_a_reading_page_records(_flask_session_app(), lambda: math.nan)  # no ratings yet


@pytest.mark.parametrize(
    ("before", "after", "name"),
    [
        pytest.param(
            lambda: [Cart(), "ann"], lambda: [Cart(), "bob"], lambda v: v[1], id="in a list"
        ),
        pytest.param(
            lambda: SignedIn("ann"), lambda: SignedIn("bob"), lambda v: v.name, id="an object"
        ),
    ],
)
def test_a_change_in_a_pickling_store_is_seen(
    before: Callable[[], Any], after: Callable[[], Any], name: Callable[[Any], str]
) -> None:
    """Another tab signs in as another user while a page that only read the session
    loads: whether kept in a list, or whole as an object without ``__eq__`` (which was
    not compared, so the page wrote the first user back over the second), the change in
    the store is seen, the page records nothing, and the store keeps the second user."""
    app, interface = _pickling_app()

    @app.route("/login")
    def login() -> str:
        session["kept"] = before()
        return "signed in"

    @app.route("/")
    def page() -> str:
        session.get("kept")  # a page that only reads the session
        sid = request.cookies["sid"]
        stored = pickle.loads(interface.store[sid])
        stored["kept"] = after()  # another tab's sign-in, meanwhile
        interface.store[sid] = pickle.dumps(stored)
        push("/static/cart.js", as_="script")
        return "<p>cart</p>"

    client = app.test_client()
    client.get("/login")
    assert client.get("/").headers["Link"] == "</static/cart.js>; rel=preload; as=script; nopush"
    stored = pickle.loads(next(iter(interface.store.values())))
    assert name(stored["kept"]) == "bob"
    assert "h2-held" not in stored


@pytest.fixture(params=["set up before Firehose", "set up after Firehose"])
def other_first(request: pytest.FixtureRequest) -> bool:
    """Whether the other extension or middleware is set up before ``Firehose(app)``."""
    return bool(request.param == "set up before Firehose")


@pytest.fixture(params=[DigestConnector, SessionConnector])
def connector(request: pytest.FixtureRequest) -> Any:
    return request.param()


def _app_with_static(folder: Path) -> Flask:
    """An app whose static folder holds ``site.css`` and ``app.js``."""
    (folder / "site.css").write_text("body { color: red }\n")
    (folder / "app.js").write_text("console.log(1)\n")
    app = Flask(__name__, static_folder=folder, static_url_path="/static")
    app.config.update(SECRET_KEY="s", FIREHOSE_EARLY_HINTS=True)
    return app


def test_whitenoise_serves_push_static_urls_with_its_own_headers(
    tmp_path: Path, other_first: bool, connector: Any
) -> None:
    """docs/early-hints.md: WhiteNoise answers a ``push_static`` url before Flask, with
    its own ``Cache-Control`` (never ``immutable``: it reads no query), no cookie, no
    ``Vary`` and none of our headers, wrapped inside ``Firehose(app)``'s wrapper or
    around it; the page keeps its links and cookie."""
    app = _app_with_static(tmp_path)

    def serve_static() -> None:
        app.wsgi_app = WhiteNoise(app.wsgi_app, root=tmp_path, prefix="static/")  # type: ignore[method-assign]

    if other_first:
        serve_static()
    Firehose(app, connector=connector)
    if not other_first:
        serve_static()

    @app.route("/")
    def page() -> str:
        session["visits"] = session.get("visits", 0) + 1  # a session on every page
        return render_template_string("{{ static_tag('site.css') }}")

    browser = app.test_client()
    first = browser.get("/")
    url = "/static/site.css?v=43c0e95b06"
    assert first.get_data(as_text=True) == f'<link rel="stylesheet" href="{url}">'
    assert first.headers["Link"] == f"<{url}>; rel=preload; as=style"
    assert browser.get("/").headers["Link"] == f"<{url}>; rel=preload; as=style; nopush"
    for client in (browser, app.test_client()):
        with client.get(url) as file:
            assert file.get_data(as_text=True) == "body { color: red }\n"
            assert file.headers["Cache-Control"] == "max-age=60, public"
            assert not {"Set-Cookie", "Vary", "Link"} & set(file.headers.keys())


def test_whitenoise_varies_a_compressed_file_on_accept_encoding_alone(
    tmp_path: Path, other_first: bool
) -> None:
    """docs/early-hints.md: beside a compressed copy (``python -m whitenoise.compress``
    writes ``site.css.gz``), WhiteNoise's response is ``Vary: Accept-Encoding``, never
    ``Cookie``, though the page sets one, wrapped inside ``Firehose(app)``'s wrapper or
    around it."""
    app = _app_with_static(tmp_path)
    (tmp_path / "site.css.gz").write_bytes(gzip.compress(b"body { color: red }\n"))

    def serve_static() -> None:
        app.wsgi_app = WhiteNoise(app.wsgi_app, root=tmp_path, prefix="static/")  # type: ignore[method-assign]

    if other_first:
        serve_static()
    Firehose(app)
    if not other_first:
        serve_static()

    @app.route("/")
    def page() -> str:
        session["visits"] = session.get("visits", 0) + 1
        return render_template_string("{{ static_tag('site.css') }}")

    browser = app.test_client()
    assert "Set-Cookie" in browser.get("/").headers
    with browser.get("/static/site.css?v=43c0e95b06") as file:
        assert file.get_data(as_text=True) == "body { color: red }\n"
        assert file.headers.get_all("Vary") == ["Accept-Encoding"]
        assert not {"Set-Cookie", "Link"} & set(file.headers.keys())


NAVIGATION = {"HTTP_ACCEPT": "text/html", "HTTP_SEC_FETCH_MODE": "navigate"}


def test_talisman_s_nonce_is_the_link_s_and_no_103_names_its_link(
    tmp_path: Path, other_first: bool, connector: Any
) -> None:
    """docs/how-it-works.md, Beside a Content-Security-Policy: a ``static_tag`` given
    Flask-Talisman's ``csp_nonce()`` links the file with the nonce the response's policy
    names, a new one on each response; the page's 103 names only its other links."""
    app = _app_with_static(tmp_path)
    policy = {"default-src": "'self'", "script-src": "'strict-dynamic'"}  # and the nonce
    guard = {"content_security_policy": policy, "content_security_policy_nonce_in": ["script-src"]}
    if other_first:
        Talisman(app, force_https=False, **guard)
    Firehose(app, connector=connector)
    if not other_first:
        Talisman(app, force_https=False, **guard)

    @app.route("/")
    def page() -> str:
        return render_template_string(
            "{{ static_tag('app.js', nonce=csp_nonce()) }}{{ static_tag('site.css') }}"
        )

    sent: list[list[tuple[str, str]]] = []
    browser = {**NAVIGATION, "wsgi.early_hints": sent.append}
    app.test_client().get("/", environ_base=browser)  # learns the page
    nonces = []
    for _ in range(2):
        sent.clear()
        response = app.test_client().get("/", environ_base=browser)
        nonce = re.fullmatch(
            r"default-src 'self'; script-src 'strict-dynamic' 'nonce-([\w-]+)'",
            response.headers["Content-Security-Policy"],
        )
        assert nonce is not None
        nonces.append(nonce[1])
        assert response.headers["Link"] == (
            f"</static/app.js?v=ff5b86b851>; rel=preload; as=script; nonce={nonce[1]}, "
            "</static/site.css?v=43c0e95b06>; rel=preload; as=style"
        )
        assert f'<script src="/static/app.js?v=ff5b86b851" nonce="{nonce[1]}">' in (
            response.get_data(as_text=True)
        )
        assert sent == [[("Link", "</static/site.css?v=43c0e95b06>; rel=preload; as=style")]]
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize(("site", "recorded"), [("same-origin", True), ("cross-site", False)])
def test_a_frame_talisman_s_x_frame_options_refuses_records_nothing(
    other_first: bool, connector: Any, site: str, recorded: bool
) -> None:
    """Talisman's ``X-Frame-Options: SAMEORIGIN`` (its default), written by its
    ``after_request`` hook, is seen whichever extension was set up first: another site's
    ``<iframe>`` shows nothing, preloads nothing, and its links are not recorded."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"
    if other_first:
        Talisman(app, force_https=False)
    Firehose(app, connector=connector)
    if not other_first:
        Talisman(app, force_https=False)

    @app.route("/widget")
    def widget() -> str:
        push("/static/widget.css", as_="style")
        return "widget"

    framed = {"HTTP_SEC_FETCH_MODE": "navigate", "HTTP_SEC_FETCH_DEST": "iframe"}
    framed["HTTP_SEC_FETCH_SITE"] = site
    client = app.test_client()
    links = [client.get("/widget", environ_base=framed).headers["Link"] for _ in range(2)]
    link = "</static/widget.css>; rel=preload; as=style"
    assert links == ([link, f"{link}; nopush"] if recorded else [f"{link}; nopush"] * 2)


class _ListInSession:
    """A Flask-Firehose connector keeping its keys in a list in the session, added to in
    place, as the list ``get_pushed`` returned; its ``set_pushed`` fails while ``failing``."""

    def __init__(self) -> None:
        self.failing = False

    def get_pushed(self) -> list[str]:
        pushed: list[str] = session.setdefault("pushed", [])
        return pushed

    def set_pushed(self, items: Any) -> None:
        pushed = session.setdefault("pushed", [])
        pushed.extend(item for item in items if item not in pushed)
        session.modified = True
        if self.failing:
            raise ConnectionError("the session store is down")


def test_a_list_in_a_server_side_session_is_recorded_to_and_put_back_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a server-side session (Flask-Session), the list a connector keeps its keys in
    is copied before ``set_pushed`` (app_session._value_copy, one level): a page that adds
    to it records, and one whose ``set_pushed`` fails after adding to the list in place
    gets the list back as it was, so what was not recorded is pushed on the next visit."""
    connector = _ListInSession()
    app = _flask_session_app(connector)

    @app.route("/<name>")
    def page(name: str) -> str:
        push("/a.css", as_="style")
        push(f"/{name}.css", as_="style")
        return name

    client = app.test_client()
    client.get("/a")
    assert client.get("/b").headers["Link"] == (
        "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style"
    )
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    connector.failing = True
    assert client.get("/c").status_code == 200
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [ConnectionError]
    connector.failing = False

    again = client.get("/c").headers["Link"]

    assert again == "</a.css>; rel=preload; as=style; nopush, </c.css>; rel=preload; as=style"
    assert client.get("/c").headers["Link"].count("nopush") == 2


def test_a_cached_page_carries_its_declared_link_and_its_own_client_s_cookie_alone(
    other_first: bool, connector: Any
) -> None:
    """docs/how-it-works.md, A view served from a cache: Flask-Caching's ``@cache.cached()``
    runs the view, and its ``push()`` calls, once. Each response, miss or hit, carries the
    declared link, pushed to a client new to it and ``nopush`` to one holding it, and
    varies on ``Cookie``; a hit carries no other client's cookie: the cached value, a
    ``Response`` here, is a copy (``SimpleCache`` pickles it) taken before our hooks ran,
    so what the first client was pushed is recorded for it alone. With 103s on, a page
    learned from hits is hinted its declared link alone, never what the view pushed."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", CACHE_TYPE="SimpleCache", FIREHOSE_EARLY_HINTS=True)
    cache = Cache()
    if other_first:
        cache.init_app(app)
    firehose = Firehose(app, connector=connector)
    if not other_first:
        cache.init_app(app)

    @app.route("/report")
    @firehose.hints("/static/report.css", as_="style")
    @cache.cached()
    def report() -> Response:
        push("/static/chart.js", as_="script")  # on the response the view makes alone
        return make_response("<p>report</p>")

    @app.route("/chart")
    def chart() -> str:
        push("/static/chart.js", as_="script")
        return "<p>chart</p>"

    css, js = (
        "</static/report.css>; rel=preload; as=style",
        "</static/chart.js>; rel=preload; as=script",
    )
    ann, bob = app.test_client(), app.test_client()
    responses = [ann.get("/report"), bob.get("/report"), ann.get("/report"), bob.get("/report")]
    assert [r.headers["Link"] for r in responses] == [
        f"{css}, {js}",
        css,  # a hit: the view ran for ann
        f"{css}; nopush",
        f"{css}; nopush",
    ]
    assert all("Cookie" in r.headers["Vary"] for r in responses)
    # Bob was never pushed chart.js, whatever the hit he was served was cached from.
    assert bob.get("/chart").headers["Link"] == js
    assert ann.get("/chart").headers["Link"] == f"{js}; nopush"
    sent: list[list[tuple[str, str]]] = []
    navigation = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    for carl in (app.test_client(), app.test_client()):
        assert carl.get("/report", environ_base=navigation).headers["Link"] == css
    assert sent == [[("Link", css)]] * 2


PAGE_BODY = "<p>a page long enough for Flask-Compress to compress</p>" * 20


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_one_vary_line_names_compress_s_and_cors_s_fields_and_cookie_last(
    other_first: bool, connector: Any, encoding: str
) -> None:
    """Flask-CORS set up before Flask-Compress: Compress's ``after_request`` hook runs
    first and writes ``Vary: Accept-Encoding``, then CORS adds ``Vary: Origin`` on a line
    of its own; ours runs after both, whenever ``Firehose(app)`` was set up. The response
    goes out with one ``Vary`` line naming all three with ``Cookie`` (nginx 1.22 keys
    ``proxy_cache`` on the last line alone: ``Cookie`` on the ``Origin`` line would have
    had it serve one client's compressed page to another), its body compressed and its
    CORS headers as without us; the 304 Compress answers to its own ``ETag`` varies so
    too, with no ``Link``; a CORS preflight gets none of our headers and no cookie."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"

    def set_up_others() -> None:
        CORS(app, origins=["https://a.example", "https://b.example"], supports_credentials=True)
        Compress(app)

    if other_first:
        set_up_others()
    Firehose(app, connector=connector)
    if not other_first:
        set_up_others()

    @app.route("/")
    def page() -> Response:
        push("/static/app.css", as_="style")
        response = make_response(PAGE_BODY)
        response.set_etag("v1")
        return response

    client = app.test_client()
    asked = {"Accept-Encoding": encoding, "Origin": "https://a.example"}
    first = client.get("/", headers=asked)
    decompress = gzip.decompress if encoding == "gzip" else brotli.decompress
    assert first.headers["Content-Encoding"] == encoding
    assert decompress(first.get_data()).decode() == PAGE_BODY
    assert first.headers["Link"] == "</static/app.css>; rel=preload; as=style"
    vary = ["Accept-Encoding, Origin, Cookie"]
    assert first.headers.get_all("Vary") == vary
    assert first.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert first.headers["Access-Control-Allow-Credentials"] == "true"

    again = client.get("/", headers={**asked, "If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.headers.get_all("Vary")) == (304, vary)
    assert "Link" not in again.headers

    preflight = client.options(
        "/", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert preflight.headers.get_all("Vary") == ["Accept-Encoding, Origin"]
    assert not {"Link", "Set-Cookie"} & set(preflight.headers.keys())


class Member(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type information
    def __init__(self, name: str) -> None:
        self.id = name


def _members_site(
    connector: Any | None, limiter_first: bool = False, flask_session: dict[str, Any] | None = None
) -> Flask:
    """A site on Flask-Login (``session_protection = "strong"``), Flask-WTF's
    ``CSRFProtect`` and Flask-Limiter (a blueprint limited to 2 a day, checked in its
    ``before_request`` hook), with ``Firehose(app, connector=connector)``, or without
    firehose_digest when ``connector`` is None: the twin each step is compared with. Each
    page answers who is signed in. Its session is Flask's, or Flask-Session's (a cachelib
    store) with the config ``flask_session`` gives."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", FIREHOSE_EARLY_HINTS=True)
    if flask_session is not None:
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache(), **flask_session)
        Session(app)
    members = LoginManager(app)
    members.session_protection = "strong"
    members.user_loader(lambda name: Member(name) if name in {"ann", "bob"} else None)

    def rate_limiter() -> Limiter:
        return Limiter(get_remote_address, app=app, storage_uri="memory://")

    limiter = rate_limiter() if limiter_first else None
    if connector is not None:
        Firehose(app, connector=connector)
    limiter = limiter or rate_limiter()
    CSRFProtect(app)

    def links(*urls: str) -> None:
        for url in urls if connector is not None else ():
            push(url, as_="style" if url.endswith(".css") else "script")

    def who() -> str:
        return f"{current_user.get_id()} fresh={login_fresh()}"

    @app.route("/login/<name>")
    def login(name: str) -> str:
        links("/static/site.css", "/static/account.js")
        login_user(Member(name), remember=request.args.get("remember") == "1")
        return who()

    @app.route("/logout")
    def logout() -> str:
        links("/static/site.css")
        logout_user()
        return who()

    @app.route("/")
    def page() -> str:
        links("/static/site.css", "/static/page.js")
        return who()

    @app.route("/form", methods=["GET", "POST"])
    def form() -> str:
        links("/static/form.js")
        if request.method == "POST":
            return "accepted " + who()
        return render_template_string("{{ csrf_token() }}")

    reports = Blueprint("reports", __name__)

    @reports.route("/report")
    def report() -> str:
        links("/static/report.css")
        return who()

    limiter.limit("2 per day")(reports)
    app.register_blueprint(reports)
    return app


class _Visitor:
    """One browser on an app: its cookies, its ``User-Agent``, the 103s it was sent, and
    each url it was offered for push (by a 103 or the page) with how many times, and the
    urls its last response offered."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.agent = "Firefox"
        self.hints: list[list[tuple[str, str]]] = []
        self.pushed: dict[str, int] = {}
        self.offered: set[str] = set()

    def __call__(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        self.hints.clear()
        environ = {"HTTP_USER_AGENT": self.agent, "HTTP_ACCEPT": "text/html"}
        environ["wsgi.early_hints"] = self.hints.append  # type: ignore[assignment]
        response = self.client.open(path, method=method, environ_base=environ, **kwargs)
        early = [value for headers in self.hints for _, value in headers]
        offered = {
            link[1 : link.index(">")]
            for value in [*early, response.headers.get("Link", "")]
            for link in filter(None, value.split(", "))
            if "nopush" not in link
        }
        self.offered = offered
        for url in offered:  # a 103's and its page's offer of a url are one push
            self.pushed[url] = self.pushed.get(url, 0) + 1
        return response


PAGE, SITE, ACCOUNT = {"/static/page.js"}, {"/static/site.css"}, {"/static/account.js"}

#: What the user does, the path (None: the step's own action on ``/``), who is answered,
#: and what is pushed with the digest cookie and with our list in the session.
SIGNED_IN_STEPS: list[tuple[str, str | None, str, set[str], set[str]]] = [
    ("first visit", "/", "None fresh=False", SITE | PAGE, SITE | PAGE),
    ("return visit", "/", "None fresh=False", set(), set()),
    # Setting remember_token beside our cookie or our list.
    ("signs in, remembered", "/login/ann?remember=1", "ann fresh=True", ACCOUNT, ACCOUNT),
    ("a page", "/", "ann fresh=True", set(), set()),
    # The browser drops its session cookie: the remember-me cookie signs ann in again, not
    # fresh, and Flask-Login 0.6.3 writes no _id then, so "strong" signs her out on the
    # page after, and deletes remember_token (as it does without us). Our list goes with
    # the session; the digest cookie stays.
    ("session lost", None, "ann fresh=False", set(), SITE | PAGE),
    ("a page under strong", "/", "None fresh=False", set(), set()),
    ("signs in", "/login/bob", "bob fresh=True", set(), ACCOUNT),
    # Another User-Agent: "strong" pops Flask-Login's keys, not ours.
    ("another User-Agent", None, "None fresh=False", set(), set()),
    ("signs in, remembered", "/login/bob?remember=1", "bob fresh=True", set(), set()),
    # logout_user() pops Flask-Login's keys, not ours, and deletes remember_token.
    ("signs out", "/logout", "None fresh=False", set(), set()),
    ("a page", "/", "None fresh=False", set(), set()),
]


# Flask-Login 0.6.3 dates its remember-me cookie with datetime.utcnow(), deprecated since
# Python 3.12: under the suite's "error" filter, each sign-in with remember-me was a 500.
@pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcnow\\(\\) is deprecated:DeprecationWarning"
)
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_flask_login_signs_the_same_users_in_and_out_beside_us(connector: Any) -> None:
    """Flask-Login's keys (``_user_id``, ``_fresh``, ``_id``), its remember-me cookie,
    ``logout_user()`` and ``session_protection = "strong"``, which pops its keys from a
    session whose client changed, beside our digest cookie or our list in the same
    session: at each step the same user is signed in as on a twin without
    firehose_digest, remember_token is kept or deleted alike, Flask-Login's part of the
    session is the twin's, and each url is pushed once, on the step that first links it
    (again after the session is lost, with the list in it)."""
    ours, twin = _Visitor(_members_site(connector)), _Visitor(_members_site(None))
    in_session = isinstance(connector, SessionConnector)
    for what, path, expected, with_digest, with_list in SIGNED_IN_STEPS:
        for visitor in (ours, twin):
            if what == "session lost":
                visitor.client.delete_cookie("session")
            if what == "another User-Agent":
                visitor.agent = "Chrome"
        answers = [v("GET", path or "/") for v in (ours, twin)]
        assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [
            (200, expected)
        ] * 2, what
        assert ours.offered == (with_list if in_session else with_digest), what
        remembered = [v.client.get_cookie("remember_token") is not None for v in (ours, twin)]
        assert remembered[0] == remembered[1], what
        sessions = [_flask_login_keys(v.client) for v in (ours, twin)]
        assert sessions[0] == sessions[1], what
    assert twin.pushed == {}


def _session_of(client: FlaskClient) -> dict[str, Any]:
    """The session ``client``'s cookie opens."""
    app = client.application
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return {}
    with app.test_request_context(headers={"Cookie": f"session={cookie.value}"}):
        opened = app.session_interface.open_session(app, request)
    return dict(opened or {})


def _flask_login_keys(client: FlaskClient) -> dict[str, Any]:
    """Flask-Login's part of the session ``client`` holds."""
    return {k: v for k, v in _session_of(client).items() if k in {"_user_id", "_fresh", "_id"}}


@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_a_csrf_refusal_pushes_nothing_and_keeps_the_token_beside_our_list(
    connector: Any,
) -> None:
    """Flask-WTF keeps its CSRF token in the session, where ``SessionConnector`` keeps its
    list: a form's token is accepted after our write, a POST without it or with another
    is refused 400 as on the twin, writing no cookie, and the token holds after them."""
    ours, twin = _Visitor(_members_site(connector)), _Visitor(_members_site(None))
    tokens = [v("GET", "/form").get_data(as_text=True) for v in (ours, twin)]
    steps = [
        ({"x": "1", "csrf_token": tokens[0]}, {"x": "1", "csrf_token": tokens[1]}, 200),
        ({"x": "2"}, {"x": "2"}, 400),  # no token
        ({"csrf_token": tokens[0][::-1]}, {"csrf_token": tokens[1][::-1]}, 400),
        ({"csrf_token": tokens[0]}, {"csrf_token": tokens[1]}, 200),  # after the refusals
    ]
    for ours_form, twin_form, status in steps:
        answers = [ours("POST", "/form", data=ours_form), twin("POST", "/form", data=twin_form)]
        assert [a.status_code for a in answers] == [status] * 2
        assert answers[0].get_data() == answers[1].get_data()
        if status == 400:  # records nothing, so writes no cookie
            assert "Set-Cookie" not in answers[0].headers
    assert ours.pushed == {"/static/form.js": 1}  # by the form's GET, never by a POST
    held = _session_of(ours.client)
    assert "csrf_token" in held
    assert ("h2-held" in held) == isinstance(connector, SessionConnector)


@pytest.mark.parametrize("limiter_first", [True, False], ids=["limiter first", "limiter after"])
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_a_rate_limited_page_answers_as_without_us_and_its_103_is_not_pushed_twice(
    connector: Any, limiter_first: bool
) -> None:
    """docs/early-hints.md: Flask-Limiter's ``before_request`` hook, set up before
    ``Firehose(app)``, answers ``429`` alone; set up after, a new visitor's ``429`` follows
    the page's 103, and what that 103 offered (pushed by h2o or Apache) is recorded all the
    same, so the next ``429`` sends no 103. Each ``429`` answers as on the twin."""
    ours, twin = _members_site(connector, limiter_first), _members_site(None, limiter_first)
    learner, learner_twin = _Visitor(ours), _Visitor(twin)
    for _ in range(2):  # the limit, 2 a day: the page is learned
        assert [v("GET", "/report").status_code for v in (learner, learner_twin)] == [200] * 2
    newcomer, newcomer_twin = _Visitor(ours), _Visitor(twin)
    hints = []
    for _ in range(2):
        answers = [newcomer("GET", "/report"), newcomer_twin("GET", "/report")]
        assert [a.status_code for a in answers] == [429] * 2
        assert answers[0].get_data() == answers[1].get_data()
        hints.append([value for headers in newcomer.hints for _, value in headers])
    offered = [] if limiter_first else ["</static/report.css>; rel=preload; as=style"]
    assert hints == [offered, []]
    assert newcomer.pushed == ({} if limiter_first else {"/static/report.css": 1})


@pytest.mark.parametrize(
    ("protection", "pages_deleting_remember_token", "fresh"),
    [("strong", 3, None), ("basic", 0, False)],
)
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_flask_login_s_protection_counts_a_visitor_s_list_as_a_failed_check(
    connector: Any, protection: str, pages_deleting_remember_token: int, fresh: bool | None
) -> None:
    """docs/connectors.md, What SessionConnector does to the session: a visitor who never
    signed in has, with ``SessionConnector``, a session (its list) without Flask-Login's
    ``_id``, and Flask-Login 0.6.3 counts each page that reads ``current_user`` as a failed
    check (its ``session_protected`` signal): under ``"strong"`` each such response deletes
    ``remember_token``; under ``"basic"`` the session is marked not fresh once. With the
    digest cookie, as without us, the visitor's session stays empty and nothing is sent."""
    app = _members_site(connector)
    app.login_manager.session_protection = protection  # type: ignore[attr-defined]
    _assert_a_visitor_s_four_pages(app, connector, pages_deleting_remember_token, fresh)


@pytest.mark.parametrize(
    ("permanent", "pages_deleting_remember_token", "fresh"),
    [({}, 0, False), ({"SESSION_PERMANENT": False}, 3, None)],
    ids=["permanent by default", "not permanent"],
)
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_flask_login_s_strong_protection_acts_as_basic_on_a_permanent_flask_session(
    connector: Any,
    permanent: dict[str, Any],
    pages_deleting_remember_token: int,
    fresh: bool | None,
) -> None:
    """docs/connectors.md, What SessionConnector does to the session: Flask-Login 0.6.3
    takes a permanent session's failed check as ``"basic"`` does, whatever its mode. So
    over Flask-Session, whose sessions are permanent by default, ``"strong"`` marks a
    visitor's session (its list) not fresh once and deletes no ``remember_token``; with
    ``SESSION_PERMANENT`` off it deletes it on each page, as over Flask's cookie session.
    With the digest cookie the visitor's session stays empty and nothing is sent."""
    app = _members_site(
        connector, flask_session={"SESSION_REFRESH_EACH_REQUEST": False, **permanent}
    )
    assert app.login_manager.session_protection == "strong"  # type: ignore[attr-defined]
    _assert_a_visitor_s_four_pages(app, connector, pages_deleting_remember_token, fresh)


def _assert_a_visitor_s_four_pages(
    app: Flask, connector: Any, pages_deleting_remember_token: int, fresh: bool | None
) -> None:
    """A visitor, never signed in, asks ``/`` four times: each page answers as anonymous;
    with ``SessionConnector`` (whose list is the session's one key) the last three count as
    Flask-Login failed checks, ``pages_deleting_remember_token`` of them delete that cookie,
    and the session ends with ``_fresh`` as ``fresh``; with the digest cookie none of that."""
    checks: list[object] = []

    def failed_check(sender: object) -> None:
        checks.append(sender)

    visitor = _Visitor(app)
    with session_protected.connected_to(failed_check, app):
        answers = [visitor("GET", "/") for _ in range(4)]
    in_session = isinstance(connector, SessionConnector)
    assert [a.get_data(as_text=True) for a in answers] == ["None fresh=False"] * 4
    deleting = [
        a
        for a in answers
        if any(c.startswith("remember_token=;") for c in a.headers.getlist("Set-Cookie"))
    ]
    assert len(deleting) == (pages_deleting_remember_token if in_session else 0)
    assert len(checks) == (3 if in_session else 0)  # the first page sent no session
    assert _session_of(visitor.client).get("_fresh") == (fresh if in_session else None)
