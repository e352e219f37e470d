"""The push -> Link -> connector pipeline, with every connector that speaks the protocol."""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import logging
import pickle
import threading
import tracemalloc
from collections.abc import AsyncIterator, Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from asgiref.sync import sync_to_async
from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    abort,
    after_this_request,
    current_app,
    g,
    redirect,
    render_template_string,
    request,
    session,
)
from flask.json.tag import JSONTag, TaggedJSONSerializer
from flask.sessions import (
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
)
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from firehose_digest import Connector, DigestConnector, Firehose, SessionConnector, push
from firehose_digest.collect import current_record
from firehose_digest.connectors import NotRecorded, PushedSetConnector
from firehose_digest.settings import load, set_cookie_room, set_cookie_room_said
from firehose_digest.static import note_static_file
from tests.helpers import (
    EXPECTED_FIRST,
    EXPECTED_RETURN,
    PER_HOST_KEYS,
    AppFactory,
    CountedListInSession,
    CountingConnector,
    InStore,
    ListInSession,
    ListInSessionInPlace,
    PageClient,
    RaisingPerHostSessions,
    build_app,
    error_pages,
    run_in_threads,
)


class FlaskFirehoseConnector:
    """Flask-Firehose 0.2.3's default connector, verbatim: a class with static methods."""

    @staticmethod
    def get_pushed() -> set[str]:
        pushed_items = session.get("h2-pushed", None)
        if pushed_items:
            return set(pushed_items.split(","))
        else:
            return set()

    @staticmethod
    def set_pushed(inset: set[str]) -> None:
        val = ",".join(inset)
        session["h2-pushed"] = val


class DictConnector:
    """A connector instance keeping one shared set (a server-side store)."""

    def __init__(self) -> None:
        self.store: set[str] = set()
        self.calls = 0

    def get_pushed(self) -> frozenset[str]:
        return frozenset(self.store)

    def set_pushed(self, items: set[str]) -> None:
        self.calls += 1
        self.store = set(items)


CONNECTORS: dict[str, Callable[[], Any]] = {
    "digest": DigestConnector,
    "session": SessionConnector,
    "flask-firehose-class": lambda: FlaskFirehoseConnector,
    "instance": DictConnector,
}


@pytest.fixture(params=sorted(CONNECTORS))
def any_app(request: pytest.FixtureRequest) -> Flask:
    return build_app(CONNECTORS[request.param]())


def test_first_visit_pushes_and_return_visit_marks_nopush(any_app: Flask) -> None:
    client = any_app.test_client()
    assert client.get("/").headers.get_all("Link") == [EXPECTED_FIRST]
    assert client.get("/").headers.get_all("Link") == [EXPECTED_RETURN]


def test_only_new_resources_are_pushed(any_app: Flask) -> None:
    client = any_app.test_client()
    client.get("/push?u=/a.css&u=/b.css")
    assert client.get("/push?u=/b.css&u=/c.css").headers["Link"] == (
        "</b.css>; rel=preload; as=style; nopush, </c.css>; rel=preload; as=style"
    )


def test_omit_mode_leaves_held_resources_out(make_app: AppFactory) -> None:
    client = make_app(FIREHOSE_ALREADY_PUSHED="omit").test_client()
    client.get("/push?u=/a.css")
    assert client.get("/push?u=/a.css&u=/b.css").headers["Link"] == (
        "</b.css>; rel=preload; as=style"
    )
    assert "Link" not in client.get("/push?u=/a.css").headers


def test_page_without_pushes_gets_no_link_and_no_cookie(any_app: Flask) -> None:
    response = any_app.test_client().get("/quiet")
    assert "Link" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_a_page_without_pushes_does_not_ask_the_connector() -> None:
    """Nothing to decide: what the client holds is not read (a cookie verified, a store
    asked) for a page that links nothing, nor is the response made to vary on it."""
    connector = CountingConnector()
    client = build_app(connector).test_client()
    client.get("/")
    connector.asked = 0
    response = client.get("/quiet")
    assert "Link" not in response.headers
    assert "Vary" not in response.headers
    assert connector.asked == 0


def test_view_link_header_is_kept_and_ours_added_before_it(make_app: AppFactory) -> None:
    """Ours first: a proxy pushes in header order up to a limit (nginx: 10), and a view's
    own preload must not take the place of one we record as pushed."""
    response = make_app().test_client().get("/own-link")
    assert response.headers.get_all("Link") == [
        "</static/site.css>; rel=preload; as=style",
        "</next>; rel=next",
    ]


def test_what_after_request_hooks_push_is_on_the_response_and_learned() -> None:
    """Flask runs a view's ``after_this_request`` callbacks, then its blueprint's
    ``after_request`` hooks, then the app's, last registered first: ours, put first in
    the app's list, runs after all of them, whether registered before ``Firehose(app)``
    or after, so what each pushes is linked, recorded and learned for the 103, in the
    order they ran."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="after hooks", FIREHOSE_EARLY_HINTS=True)

    @app.after_request
    def early_css(response: Response) -> Response:  # registered before the extension
        push("/static/early.css", as_="style")
        return response

    Firehose(app)
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.after_request
    def shop_css(response: Response) -> Response:
        push("/static/shop.css", as_="style")
        return response

    @shop.route("/")
    def index() -> str:
        push("/static/view.css", as_="style")

        @after_this_request
        def callback_css(response: Response) -> Response:
            push("/static/callback.css", as_="style")
            return response

        return "shop"

    app.register_blueprint(shop)

    @app.after_request
    def late_css(response: Response) -> Response:  # registered after the extension
        push("/static/late.css", as_="style")
        return response

    expected = ", ".join(
        f"</static/{name}.css>; rel=preload; as=style"
        for name in ("view", "callback", "shop", "late", "early")
    )
    sent: list[Any] = []
    browser = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    client = app.test_client()
    assert client.get("/shop/", environ_base=browser).headers.getlist("Link") == [expected]
    assert client.get("/shop/").headers.getlist("Link") == [
        ", ".join(f"{value}; nopush" for value in expected.split(", "))
    ]
    app.test_client().get("/shop/", environ_base=browser)
    assert sent == [[("Link", expected)]]


def test_a_preload_the_view_writes_itself_is_left_as_written_on_every_visit(
    make_app: AppFactory,
) -> None:
    """docs/deployment.md and how-it-works.md: a preload the view writes itself is pushed
    by every proxy on every visit, "even of a url push() tracks and the client holds": ours
    says nopush, the view's own value is never rewritten."""
    app = make_app()
    own = "</static/site.css>; rel=preload; as=style"

    @app.route("/own-preload")
    def own_preload() -> Response:
        push("/static/site.css", as_="style")
        return Response("ok", headers={"Link": own})

    client = app.test_client()
    assert client.get("/own-preload").headers.get_all("Link") == [own, own]
    assert client.get("/own-preload").headers.get_all("Link") == [f"{own}; nopush", own]


@pytest.mark.parametrize(
    "change",
    [
        {"FIREHOSE_ENCODING": "bloom"},
        {"FIREHOSE_CAPACITY": 200},
        {"FIREHOSE_FP_RATE": 0.02},
        {"FIREHOSE_DIGEST_VERSION": "2"},
    ],
)
def test_during_a_rollout_of_new_digest_settings_each_side_overwrites_the_others_cookie(
    make_app: AppFactory, change: dict[str, object]
) -> None:
    """docs/deployment.md: such a change "makes each side refuse the other's cookie and
    write its own over it", so a client alternating between them is pushed everything."""
    old, new = make_app(), make_app(**change)
    cookie = ""  # none yet
    for app in (old, new, old, new):
        client = app.test_client()
        if cookie:
            client.set_cookie("h2-digest", cookie)
        assert client.get("/").headers["Link"] == EXPECTED_FIRST
        written = client.get_cookie("h2-digest")
        assert written is not None and written.value != cookie
        cookie = written.value
    same_side = new.test_client()  # the cookie new wrote last, read by new again
    same_side.set_cookie("h2-digest", cookie)
    assert same_side.get("/").headers["Link"] == EXPECTED_RETURN


def test_same_url_twice_is_emitted_once(make_app: AppFactory) -> None:
    response = make_app().test_client().get("/push?u=/a.css&u=/a.css")
    assert response.headers.get_all("Link") == ["</a.css>; rel=preload; as=style"]


STYLE_LINK = "</x.css>; rel=preload; as=style"
SCRIPT_LINK = "</x.css>; rel=preload; as=script"


@pytest.mark.parametrize(
    ("first", "then", "link"),
    [
        ({"as_": "style"}, {"as_": "script"}, STYLE_LINK),
        ({"as_": "script"}, {"as_": "style"}, SCRIPT_LINK),
        ({"as_": "style"}, {"as_": "style", "flags": ("nopush",)}, STYLE_LINK),
        ({"as_": "style", "flags": ("nopush",)}, {"as_": "style"}, f"{STYLE_LINK}; nopush"),
    ],
)
def test_of_a_url_pushed_twice_in_one_request_the_first_push_wins(
    first: dict[str, Any], then: dict[str, Any], link: str
) -> None:
    """One link per url, as the first ``push()`` made it: a template that pushes again
    what its layout pushed, with other arguments, changes nothing."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"
    Firehose(app)

    @app.route("/")
    def page() -> str:
        return " ".join(
            push("/x.css", *arguments.get("flags", ()), as_=arguments["as_"])
            for arguments in (first, then)
        )

    assert app.test_client().get("/").headers.get_all("Link") == [link]


def test_push_returns_the_url_in_views_templates_and_outside_requests() -> None:
    app = Flask(__name__)
    Firehose(app, connector=SessionConnector())
    assert push("/a.css", as_="style") == "/a.css"
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ push('/a.css', as='style') }}").render()
        assert rendered == "/a.css"


def test_jinja_settings_made_before_init_app_hold_in_templates_that_push() -> None:
    """docs/how-it-works.md: init_app makes the app's Jinja environment, so its options
    are set before; made so, they hold, and the template's push() is linked."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", TEMPLATES_AUTO_RELOAD=True)
    app.jinja_options = {**app.jinja_options, "line_statement_prefix": "%"}
    Firehose(app)
    assert app.jinja_env.auto_reload

    @app.route("/")
    def page() -> str:
        return render_template_string("% if 1\n{{ push('/a.css', as='style') }}\n% endif\n")

    response = app.test_client().get("/")
    assert response.text.strip() == "/a.css"
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style"


def test_a_url_pushed_as_something_else_gets_its_own_link() -> None:
    """push() caches what it made of a url: the cache must not answer for other arguments."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"
    Firehose(app, connector=SessionConnector())

    @app.route("/<kind>")
    def page(kind: str) -> str:
        if kind == "template":
            return app.jinja_env.from_string("{{ push('/x', as='fetch') }}").render()
        if kind == "both":  # as_= wins over the template's as=, as in push_static()
            template_spelling: dict[str, Any] = {"as": "image"}
            return push("/x", as_="style", **template_spelling)
        if kind == "versioned":
            return push("/x", as_="style", version="v2")
        return push("/x", as_=kind) if kind != "none" else push("/x")

    client = app.test_client()
    assert client.get("/style").headers["Link"] == "</x>; rel=preload; as=style"
    # The same url is the same key: held from here on, whatever it is pushed as.
    for kind, link in [
        ("script", "</x>; rel=preload; as=script; nopush"),
        ("template", "</x>; rel=preload; as=fetch; crossorigin; nopush"),
        ("none", "</x>; rel=preload; nopush"),
        ("both", "</x>; rel=preload; as=style; nopush"),
        ("image", "</x>; rel=preload; as=image; nopush"),
    ]:
        assert client.get(f"/{kind}").headers["Link"] == link, kind
    assert client.get("/versioned").headers["Link"] == "</x>; rel=preload; as=style"


def test_push_caches_stay_bounded() -> None:
    from firehose_digest import collect

    long_path = "x" * 2000
    for i in range(2 * collect.MAX_RESOURCES_BYTES // 4000):
        push(f"/plain/{long_path}{i}.css", as_="style")
        push(f"/font/{long_path}{i}.woff2", "crossorigin", as_="font")
        assert collect._resources_bytes <= collect.MAX_RESOURCES_BYTES
    assert 0 < len(collect._resources) < 2 * collect.MAX_RESOURCES_BYTES // 4000


@pytest.mark.parametrize(
    ("length", "every_argument", "origin"),
    [(10, True, ""), (300, False, ""), (1500, False, ""), (1500, False, "https://cdn.example")],
)
def test_push_cache_at_its_fullest_holds_no_more_memory_than_its_bound(
    length: int, every_argument: bool, origin: str
) -> None:
    """Counted as the objects an entry keeps alive, not estimated: counted as twice the
    link, the key and 300 bytes, it held 1.5 times its bound of per-user urls (a stranger's
    tracemalloc run); a long link's length is an int object of its own. A url of another
    origin (a per-user url on a CDN) is read for its origin alone: ``urlsplit`` keeps the
    128 urls it split last in a cache of its own, which held 1.22 times the bound beside
    it."""
    from firehose_digest import collect

    name = "n" * length
    collect._resources.clear()
    collect._resources_bytes = 0
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fullest = 0
        for i in range(100_000):
            before = collect._resources_bytes
            if every_argument and i % 2:
                push(f"/f/{i}/{name}.woff2", "crossorigin", as_="font", version=f"v{i}", title="a")
            else:
                push(f"{origin}/avatars/{i}/{name}.png", as_="image")
            if collect._resources_bytes < before:
                break  # emptied: the state before this push was the fullest
            fullest = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert collect._resources_bytes < before, "the cache never filled"
    assert fullest <= collect.MAX_RESOURCES_BYTES


def test_push_cache_counts_every_entry_once_under_threads() -> None:
    """Threads adding at once lost updates to the count (counted 542,565 bytes against
    548,347 held, a stranger's run), so the cache could pass its bound."""
    from firehose_digest import collect

    collect._resources.clear()
    collect._resources_bytes = 0

    def push_many(thread: int) -> None:
        for i in range(2000):
            push(f"/u/{thread}/{i % 500}.png", as_="image")

    run_in_threads(*(functools.partial(push_many, n) for n in range(16)))
    held = sum(collect._entry_size(*entry) for entry in collect._resources.items())
    assert collect._resources_bytes == held


def test_push_cache_counts_an_entry_two_threads_made_at_once_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests pushing a new url together both miss the cache; the second to store it
    must not count it again."""
    from firehose_digest import collect

    collect._resources.clear()
    collect._resources_bytes = 0
    both_missed = threading.Barrier(2, timeout=10)
    entry_size = collect._entry_size

    def sized_once_both_missed(*args: Any) -> int:
        both_missed.wait()
        return entry_size(*args)

    monkeypatch.setattr(collect, "_entry_size", sized_once_both_missed)
    run_in_threads(*[functools.partial(push, "/new.css")] * 2, interleave=False)
    ((arguments, resource),) = collect._resources.items()
    assert collect._resources_bytes == entry_size(arguments, resource)


def test_push_refuses_header_injection_even_outside_requests() -> None:
    with pytest.raises(ValueError, match="url"):
        push("/a.css\r\nSet-Cookie: admin=1")
    with pytest.raises(ValueError, match="Link parameter"):
        push("/a.css", as_="style\nX: 1")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (b"/a.css", "must be a string"),
        (5, "must be a string"),
        ("/a\udc80.css", "holds a lone surrogate"),
    ],
    ids=["bytes", "int", "lone surrogate"],
)
def test_push_refuses_a_url_that_is_not_a_str_or_not_utf_8(url: Any, said: str) -> None:
    """docs/how-it-works.md's "Urls": a url that is not a str, or one holding a lone
    surrogate (a file name read with ``surrogateescape``), raises ValueError saying so."""
    with pytest.raises(ValueError, match=f"^a pushed url {said}"):
        push(url, as_="style")


def test_disabled_extension_writes_nothing(make_app: AppFactory) -> None:
    response = make_app(FIREHOSE_ENABLED=False).test_client().get("/")
    assert "Link" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_rel_and_flags_other_than_preload_are_written_but_not_tracked() -> None:
    app = Flask(__name__)
    app.secret_key = "k"
    connector = DictConnector()
    Firehose(app, connector=connector)

    @app.route("/")
    def index() -> str:
        push("https://fonts.example", rel="preconnect")
        push("/big.js", "nopush", as_="script")
        return "ok"

    client = app.test_client()
    for _ in range(2):
        assert client.get("/").headers["Link"] == (
            "<https://fonts.example>; rel=preconnect, </big.js>; rel=preload; as=script; nopush"
        )
    assert connector.store == set() and connector.calls == 0


#: Ways to say a script is a legacy bundle (``<script nomodule>``): a flag in any case, a
#: keyword, a keyword of any value, a positional ``"name=value"``.
NOMODULE_SPELLINGS = [
    pytest.param(("nomodule",), {}, id="flag"),
    pytest.param(("NoModule",), {}, id="flag in another case"),
    pytest.param((), {"nomodule": True}, id="nomodule=True"),
    pytest.param((), {"nomodule": ""}, id='nomodule=""'),
    pytest.param((), {"NOMODULE": "nomodule"}, id="NOMODULE=nomodule"),
    pytest.param(("nomodule=",), {}, id='positional "nomodule="'),
]


@pytest.mark.parametrize(("flags", "keywords"), NOMODULE_SPELLINGS)
def test_a_nomodule_script_is_neither_linked_pushed_nor_recorded(
    flags: tuple[str, ...], keywords: dict[str, Any]
) -> None:
    """Every browser that supports modules skips a ``nomodule`` script (HTML Standard);
    of those that run it (Chrome 60, Firefox 59, Safari 10.1, Edge 15 and before) only
    Chromium 50 to 60 preloads (MDN's tables). Its preload fetched, and a proxy pushed,
    the legacy bundle on every first visit of every current browser, never used."""
    app = Flask(__name__)
    app.secret_key = "k"
    connector = DictConnector()
    Firehose(app, connector=connector)

    @app.route("/")
    def index() -> str:
        push("/legacy.js", *flags, as_="script", **keywords)
        return push("/app.css", as_="style")

    @app.route("/declared")
    @Firehose.hints("/legacy.js", *flags, as_="script", **keywords)
    def declared() -> str:
        return push("/app.css", as_="style")

    client = app.test_client()
    links = [client.get(url).headers["Link"] for url in ("/", "/", "/declared")]
    assert links == ["</app.css>; rel=preload; as=style"] + 2 * [
        "</app.css>; rel=preload; as=style; nopush"
    ]
    assert connector.store == {"/app.css"}
    with app.test_request_context():
        assert push("/legacy.js", *flags, **keywords) == "/legacy.js"


def test_a_dropped_nomodule_link_is_logged_at_debug_once_per_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A user wondering where their link went finds why in the log: once per url, as
    ``push()`` keeps what it made of the same arguments, not on every request."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app, connector=DictConnector())

    @app.route("/")
    def index() -> str:
        return push("/logged/legacy.js", "nomodule", as_="script")

    client = app.test_client()
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        for _ in range(3):
            assert client.get("/").status_code == 200
        Firehose.hints("/logged/declared.js", as_="script", nomodule=True)

    said = [r.getMessage() for r in caplog.records if "nomodule" in r.getMessage()]
    assert said == [
        f"firehose: {url} names nomodule, a legacy bundle every browser that runs modules skips:"
        " not linked, pushed, hinted or recorded"
        for url in ("/logged/legacy.js", "/logged/declared.js")
    ]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "nomodule" in r.getMessage())


def test_a_dropped_nomodule_link_is_logged_as_a_log_line_can_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its url may be made of a request's text (a theme's, a query's): one of 4,000
    characters made a DEBUG line as long. It goes through ``for_log``, as a WARNING's
    client text does: cut to 200 characters."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app, connector=DictConnector())

    @app.route("/")
    def index() -> str:
        return push(f"/legacy/{request.args['theme']}.js", "nomodule", as_="script")

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        assert app.test_client().get("/", query_string={"theme": "t" * 4000}).status_code == 200
    [said] = [r.getMessage() for r in caplog.records if "nomodule" in r.getMessage()]
    assert said.startswith(f"firehose: /legacy/{'t' * 192}... names nomodule"), said[:300]


def test_a_connector_s_not_recorded_is_logged_as_a_log_line_can_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connector's ``NotRecorded`` (docs/connectors.md) may say the client's text,
    its path here: one of 4,000 characters made the DEBUG line as long. It goes
    through ``for_log``, as a WARNING's client text does: quoted, cut to 200."""

    class PathRefused:
        def open(self, app: Flask, request: Request) -> frozenset[str]:
            return frozenset()

        def save(self, app: Flask, response: Response, *keys: Any) -> None:
            raise NotRecorded(f"no room for {request.path}")

    app = build_app(PathRefused())

    @app.route("/<path:anything>")
    def anything(anything: str) -> str:
        return push("/site.css", as_="style")

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        app.test_client().get("/a\x1b" + "b" * 4000)
    [said] = [r.getMessage() for r in caplog.records if "recorded nothing" in r.getMessage()]
    assert said.endswith(".save() recorded nothing: 'no room for /a\\x1b" + "b" * 185 + "...'")


@pytest.mark.parametrize("value", [False, None])
def test_nomodule_false_or_none_is_left_out_and_the_script_linked(value: bool | None) -> None:
    """As any keyword of ``False`` or ``None``: not a legacy bundle."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app, connector=DictConnector())

    @app.route("/")
    def index() -> str:
        return push("/app.js", as_="script", nomodule=value)

    assert app.test_client().get("/").headers["Link"] == "</app.js>; rel=preload; as=script"


def test_version_makes_a_changed_asset_new_again(make_app: AppFactory) -> None:
    app = make_app()
    version = {"v": "1"}

    @app.route("/versioned")
    def versioned() -> str:
        push("/app.css", as_="style", version=version["v"])
        return "ok"

    client = app.test_client()
    client.get("/versioned")
    assert client.get("/versioned").headers["Link"].endswith("; nopush")
    version["v"] = "2"
    assert client.get("/versioned").headers["Link"] == "</app.css>; rel=preload; as=style"


def test_instance_connector_is_told_only_when_something_is_new(make_app: AppFactory) -> None:
    connector = DictConnector()
    client = make_app(connector).test_client()
    client.get("/")
    client.get("/")
    assert connector.calls == 1
    assert connector.store == {"/static/site.css", "/static/app.js", "/static/inter.woff2"}


def test_one_extension_serves_two_apps() -> None:
    firehose = Firehose(connector=SessionConnector())
    first, second = Flask("first"), Flask("second")
    for app, config in ((first, {"FIREHOSE_ALREADY_PUSHED": "omit"}), (second, {})):
        app.config.update(SECRET_KEY="k", **config)
        app.add_url_rule("/", "index", lambda: push("/a.css") and "ok")
        firehose.init_app(app)
    assert not hasattr(firehose, "app")
    clients = first.test_client(), second.test_client()
    for client in clients:
        client.get("/")
    assert "Link" not in clients[0].get("/").headers
    assert clients[1].get("/").headers["Link"] == "</a.css>; rel=preload; nopush"


def test_init_app_twice_does_not_write_links_twice(make_app: AppFactory) -> None:
    app = make_app()
    Firehose(app)
    assert len(app.test_client().get("/quiet?x").headers.get_all("Link")) == 0
    assert len(app.test_client().get("/own-link").headers.get_all("Link")) == 2


def test_init_app_twice_records_a_response_once(make_app: AppFactory) -> None:
    """The second init_app adds no second step: the digest cookie is written once."""
    app = make_app()
    Firehose(app)
    response = app.test_client().get("/")
    assert response.headers.get_all("Link") == [EXPECTED_FIRST]
    assert len(response.headers.get_all("Set-Cookie")) == 1


def test_another_firehose_taking_over_an_app_with_another_connector_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two ``Firehose`` objects on one app (a module's, and one a factory or a test made):
    the second's ``init_app`` puts its connector in place of the first's, whose store is
    no longer asked. That is said once, naming both; the same object's ``init_app`` again
    (to read the config again) and a second object with the same connector say nothing."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    app.add_url_rule("/", "index", lambda: push("/a.css") and "ok")
    other = Flask("blog")
    other.config["SECRET_KEY"] = "k"
    shared = InStore()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        first = Firehose(app, connector=SessionConnector())
        first.init_app(app)
        second = Firehose(app)
        second.init_app(app)
        Firehose(other, connector=shared)
        Firehose(other, connector=shared)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: a second Firehose set up app 'shop' with connector "
        "DigestConnector(capacity=None, fp_rate=None, encoding=None), in place of the "
        "first one's SessionConnector(max_items=100), which is no longer asked: keep one "
        "Firehose per app (call its init_app(app) again to read the config again)"
    ]
    client = app.test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; nopush"
    assert client.get_cookie("h2-digest") is not None


@dataclass
class StoreOfItsClient:
    """A connector whose ``repr`` leaves its client out, as a store's often does; two
    made alike are equal by their fields (a dataclass's ``==``)."""

    client: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def open(self, app: Flask, request: Request) -> set[str]:
        return self.client.get("held", set())

    def save(self, app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        self.client["held"] = set(pushed)


class StoreNamedByItsApp(StoreOfItsClient):
    """A connector whose ``repr`` reads the app's config, outside any app context at
    ``init_app``."""

    def __repr__(self) -> str:
        return f"StoreNamedByItsApp({current_app.config['SECRET_KEY']!r})"


class FlaskFirehoseStore:
    """A Flask-Firehose connector, adapted anew by each ``Firehose`` given it."""

    def get_pushed(self) -> set[str]:
        return set()

    def set_pushed(self, items: set[str]) -> None:
        pass


SHARED_FLASK_FIREHOSE_STORE = FlaskFirehoseStore()


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        (lambda: StoreOfItsClient({"a": set()}), lambda: StoreOfItsClient({"b": set()}), True),
        (StoreOfItsClient, StoreOfItsClient, True),
        (StoreNamedByItsApp, lambda: StoreNamedByItsApp({"b": set()}), True),
        (DigestConnector, lambda: DigestConnector(capacity=300), False),
        (DigestConnector, lambda: DigestConnector(capacity=200), True),
        (lambda: SHARED_FLASK_FIREHOSE_STORE, lambda: SHARED_FLASK_FIREHOSE_STORE, False),
        (SessionConnector, lambda: SessionConnector(max_items=100), False),
        (SessionConnector, lambda: SessionConnector(max_items=50), True),
    ],
    ids=[
        "stores of other clients, one repr",
        "two stores made alike",
        "a repr that needs the app",
        "the default capacity named",
        "another capacity",
        "one Flask-Firehose connector adapted twice",
        "two session lists of one length",
        "a session list of another length",
    ],
)
def test_a_takeover_is_said_when_the_store_changes_and_never_fails_init_app(
    caplog: pytest.LogCaptureFixture,
    first: Callable[[], Any],
    second: Callable[[], Any],
    said: bool,
) -> None:
    """Whether the second ``Firehose``'s connector keeps another store is not read from
    the connectors' ``repr``, which may leave out what tells them apart, or fail outside a
    request (``init_app`` runs): an app's own connectors are told apart as objects (two
    made alike, empty, are two stores, ``==`` or not), ours by what they keep (a digest's
    settings, an adapter's Flask-Firehose connector, a session list's length)."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app, connector=first())
        Firehose(app, connector=second())
    assert any("a second Firehose" in r.msg for r in caplog.records) == said


def test_a_takeover_names_a_connector_whose_repr_fails_by_its_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``repr`` that needs an app context fails at ``init_app``: the warning names the
    class instead, and still says the connectors are two."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app, connector=StoreNamedByItsApp())
        Firehose(app, connector=StoreNamedByItsApp({"b": set()}))
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: a second Firehose set up app 'shop' with connector another "
        "<StoreNamedByItsApp>, in place of the first one's <StoreNamedByItsApp>, which is "
        "no longer asked: keep one Firehose per app (call its init_app(app) again to read "
        "the config again)"
    ]


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("FIREHOSE_EARLY_HINTS", True, False),
        ("FIREHOSE_MAX_PUSHES", 3, False),
        ("FIREHOSE_ALREADY_PUSHED", "omit", False),
        ("FIREHOSE_LINK_BUDGET", 1000, False),
        ("FIREHOSE_CAPACITY", 200, True),
        ("FIREHOSE_COOKIE_NAME", "digest", True),
        ("FIREHOSE_DIGEST_VERSION", "v2", True),
        ("FIREHOSE_ENCODING", "bloom", True),
        ("FIREHOSE_FP_RATE", 0.02, True),
    ],
)
def test_a_takeover_by_the_default_digest_is_said_only_for_a_change_of_the_digest_s_store(
    caplog: pytest.LogCaptureFixture, key: str, value: Any, said: bool
) -> None:
    """A module's ``Firehose(app)`` and a factory's, each with the default digest, read
    the same cookie: a setting loaded between them that is not the digest's (103s on, how
    many pushes) changes what the second reads of the config, as ``init_app`` again would,
    not which store is asked. One of the digest's own (its size, its cookie) leaves the
    first one's cookies unread, and is said."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
        app.config[key] = value
        Firehose(app)
    assert any("a second Firehose" in r.msg for r in caplog.records) == said


def test_a_takeover_by_a_digest_named_as_the_first_says_the_settings_that_differ(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two default digests have one ``repr``: a takeover of one by the other, after the
    factory loaded another capacity and digest version, names what tells them apart, not
    the same connector twice; each key of the digest's store by its own name."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
        app.config.update(FIREHOSE_CAPACITY=200, FIREHOSE_DIGEST_VERSION="v2")
        Firehose(app)
        app.config.update(
            FIREHOSE_COOKIE_NAME="digest", FIREHOSE_ENCODING="bloom", FIREHOSE_FP_RATE=0.02
        )
        Firehose(app)
    default = "DigestConnector(capacity=None, fp_rate=None, encoding=None)"
    tail = (
        ", which is no longer asked: keep one Firehose per app (call its init_app(app) "
        "again to read the config again)"
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: a second Firehose set up app 'shop' with connector {default} "
        "(FIREHOSE_DIGEST_VERSION='v2', FIREHOSE_CAPACITY=200), in place of the first "
        f"one's {default} (FIREHOSE_DIGEST_VERSION='', FIREHOSE_CAPACITY=300){tail}",
        f"firehose: a second Firehose set up app 'shop' with connector {default} "
        "(FIREHOSE_COOKIE_NAME='digest', FIREHOSE_ENCODING='bloom', FIREHOSE_FP_RATE=0.02), "
        f"in place of the first one's {default} (FIREHOSE_COOKIE_NAME='h2-digest', "
        f"FIREHOSE_ENCODING='gcs', FIREHOSE_FP_RATE=0.01){tail}",
    ]


class AppsDigest(DigestConnector):
    """An app's own digest connector: told apart from another as an object."""


def test_a_takeover_by_an_app_s_digest_subclass_names_what_tells_the_two_apart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two objects of an app's subclass of ``DigestConnector`` have one ``repr``: a
    takeover of one by the other said "with connector AppsDigest(...), in place of the
    first one's AppsDigest(...)", the same name twice, whether the factory had loaded
    another digest version between them or nothing differed but the object."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app, connector=AppsDigest())
        app.config["FIREHOSE_DIGEST_VERSION"] = 2
        Firehose(app, connector=AppsDigest())
        Firehose(app, connector=AppsDigest())
    named = "AppsDigest(capacity=None, fp_rate=None, encoding=None)"
    tail = (
        ", which is no longer asked: keep one Firehose per app (call its init_app(app) "
        "again to read the config again)"
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: a second Firehose set up app 'shop' with connector {named} "
        f"(FIREHOSE_DIGEST_VERSION='2'), in place of the first one's {named} "
        f"(FIREHOSE_DIGEST_VERSION=''){tail}",
        f"firehose: a second Firehose set up app 'shop' with connector another {named}, "
        f"in place of the first one's {named}{tail}",
    ]


def test_a_takeover_by_a_digest_of_another_class_names_each_by_its_repr_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The default digest taken over by an app's subclass, after the factory loaded
    another digest version: their names tell them apart, and no settings are added."""
    app = Flask("shop")
    app.config["SECRET_KEY"] = "k"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
        app.config["FIREHOSE_DIGEST_VERSION"] = 2
        Firehose(app, connector=AppsDigest())
    arguments = "(capacity=None, fp_rate=None, encoding=None)"
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: a second Firehose set up app 'shop' with connector AppsDigest{arguments}, "
        f"in place of the first one's DigestConnector{arguments}, which is no longer asked: "
        "keep one Firehose per app (call its init_app(app) again to read the config again)"
    ]


def test_push_off_adds_only_the_static_step_once() -> None:
    """With push off no record is ever opened: the app's wsgi_app is wrapped for static
    caching alone, once, and a second init_app adds no step twice. Flask's hook lists and
    the wrapper are read because a step run twice does the same work twice, which no
    response shows."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE_ENABLED=False)
    wsgi_app = app.wsgi_app
    firehose = Firehose(app)
    firehose.init_app(app)
    assert getattr(app.wsgi_app, "wsgi_app", None) == wsgi_app
    assert len(app.after_request_funcs[None]) == 1
    # The stamp of a static file taken before its view opens it, for that step.
    assert app.url_value_preprocessors[None] == [note_static_file]


def test_a_second_init_app_turns_push_off_and_on_again() -> None:
    """The last init_app's settings are in force: push off writes no Link and no cookie,
    and turning it on again needs no hook twice."""
    app = build_app()
    firehose = Firehose(app)
    app.config["FIREHOSE_ENABLED"] = False
    firehose.init_app(app)
    off = app.test_client().get("/")
    assert "Link" not in off.headers
    assert "Set-Cookie" not in off.headers
    app.config["FIREHOSE_ENABLED"] = True
    firehose.init_app(app)
    on = app.test_client().get("/")
    assert on.headers.get_all("Link") == [EXPECTED_FIRST]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("FIREHOSE_ENABLED", "yes"),
        ("FIREHOSE_ALREADY_PUSHED", "drop"),
        ("FIREHOSE_CAPACITY", 0),
        ("FIREHOSE_CAPACITY", "300"),
        ("FIREHOSE_FP_RATE", 1.0),
        ("FIREHOSE_FP_RATE", 0),
        ("FIREHOSE_ENCODING", "cuckoo"),
        ("FIREHOSE_COOKIE_NAME", ""),
        ("FIREHOSE_MAX_AGE", -5),
        # What os.environ (and app.config.from_prefixed_env) gives for the byte 0xe9.
        ("FIREHOSE_DIGEST_VERSION", "deploy-\udce9"),
    ],
)
def test_bad_configuration_fails_at_init_app_naming_the_key(key: str, value: Any) -> None:
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ValueError, match=key):
        Firehose(app)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"FIREHOSE_FP_RATE": 1e-9},
            "FIREHOSE_FP_RATE=1e-09 is too small for FIREHOSE_ENCODING='gcs' at "
            "FIREHOSE_CAPACITY=300: capacity / fp_rate = 3e+11 must round into (300, "
            "16777215]. Raise FIREHOSE_FP_RATE, or lower FIREHOSE_CAPACITY.",
        ),
        (
            {"FIREHOSE_FP_RATE": 1e-12, "FIREHOSE_ENCODING": "bloom"},
            "FIREHOSE_FP_RATE=1e-12 is too small for FIREHOSE_ENCODING='bloom': fp_rate "
            "1e-12 needs 40 hashes, more than the 32 supported. Raise FIREHOSE_FP_RATE.",
        ),
        (
            {"FIREHOSE_FP_RATE": 0.99999999},
            "FIREHOSE_FP_RATE=0.99999999 is too close to 1 for FIREHOSE_ENCODING='gcs' at "
            "FIREHOSE_CAPACITY=300: capacity / fp_rate = 300 must round into (300, "
            "16777215] (it rounds to 300). Lower FIREHOSE_FP_RATE.",
        ),
    ],
)
def test_a_rate_no_digest_is_built_at_is_refused_saying_which_way_to_move_it(
    config: dict[str, Any], message: str
) -> None:
    """A rate in (0, 1) that the encoding cannot build a digest at was refused as
    "FIREHOSE_CAPACITY / FIREHOSE_FP_RATE: capacity / fp_rate = 3e+11 must round into
    ...": the keys read as a ratio, neither value was shown, nor what to change."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", **config)
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("key", "value"),
    [("FIREHOSE_CAPACITY", 0), ("SESSION_COOKIE_SAMESITE", "None"), ("SECRET_KEY", "k\udcff")],
)
def test_bad_configuration_fails_at_init_app_with_push_off_too(key: str, value: Any) -> None:
    """The README's choice: push off (a test config) still checks every key, so a bad one
    is named there rather than first in production."""
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", "FIREHOSE_ENABLED": False, key: value})
    with pytest.raises(ValueError, match=key):
        Firehose(app)


def test_connector_without_the_protocol_fails_at_init_app() -> None:
    with pytest.raises(ValueError, match="get_pushed"):
        Firehose(Flask(__name__), connector=object())


class GetPushedForAUser:
    """A Flask-Firehose style connector whose get_pushed() wants an argument it never gets."""

    def get_pushed(self, user: str) -> set[str]:
        return set()

    def set_pushed(self, items: set[str]) -> None:
        """Nothing to keep."""


def test_a_get_pushed_that_cannot_be_called_bare_fails_at_init_app() -> None:
    """The extension calls get_pushed() with no argument: one that needs an argument would
    raise TypeError on every request, so it is refused at init_app, as set_pushed is."""
    with pytest.raises(ValueError, match=r"get_pushed\(\) must take \(\)"):
        Firehose(Flask(__name__), connector=GetPushedForAUser())


class HalfConnector:
    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()


class HalfSaver:
    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        pass


class HalfFlaskFirehoseReader:
    def get_pushed(self) -> set[str]:
        return set()


class HalfFlaskFirehoseWriter:
    def set_pushed(self, items: set[str]) -> None:
        pass


class StaticOpenWithInit:
    @staticmethod
    def open(app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    @staticmethod
    def save(app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        """Nothing to write."""

    def init_app(self, app: Flask, settings: Any) -> None:
        """An instance's set-up."""


class StaticOpenWithStaticInit:
    """Static open(), save() and init_app(): the class serves as it is, and is set up."""

    store: ClassVar[set[str]] = set()
    set_up: ClassVar[list[Flask]] = []

    @staticmethod
    def open(app: Flask, request: Any) -> frozenset[str]:
        return frozenset(StaticOpenWithStaticInit.store)

    @staticmethod
    def save(app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        StaticOpenWithStaticInit.store.update(pushed)

    @staticmethod
    def init_app(app: Flask, settings: Any) -> None:
        StaticOpenWithStaticInit.set_up.append(app)


def test_a_connector_class_whose_init_app_needs_no_instance_serves_as_it_is() -> None:
    """Only an init_app taking self needs an instance: a static one is called with the
    app, and the class's static open() and save() serve its requests."""
    StaticOpenWithStaticInit.store, StaticOpenWithStaticInit.set_up = set(), []
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style") and "ok")
    Firehose(app, connector=StaticOpenWithStaticInit)
    assert StaticOpenWithStaticInit.set_up == [app]
    client = app.test_client()
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert StaticOpenWithStaticInit.store == {"/a.css"}


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        # Flask-Firehose took its connector as a class; ours have state: an instance.
        (
            SessionConnector,
            r"SessionConnector is a class whose methods need an instance: .*SessionConnector\(\)",
        ),
        (DictConnector, r"DictConnector is a class whose methods need an instance"),
        # Static open() and save() serve from the class, but not an init_app taking self.
        (StaticOpenWithInit, r"StaticOpenWithInit is a class whose .*StaticOpenWithInit\(\)"),
        (Connector, r"Connector is the protocol .*SessionConnector\(\)"),
        # Half the protocol: open() answered and nothing was ever saved.
        (HalfConnector(), r"implements open\(\) but not save\(\)"),
        # Half a protocol on a class: what it lacks is said, not to pass an instance,
        # which would lack it too.
        (HalfConnector, r"HalfConnector'> has neither open\(\) and save\(\)"),
        (HalfSaver, r"HalfSaver'> has neither open\(\) and save\(\)"),
        (HalfFlaskFirehoseReader, r"nor a callable set_pushed\(\)"),
        (HalfFlaskFirehoseWriter, r"nor a callable get_pushed\(\)"),
    ],
)
def test_a_connector_that_cannot_work_fails_at_init_app(connector: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Firehose(Flask(__name__), connector=connector)


class StoreConnector:
    """A connector made with its store, as one keeping keys in Redis is."""

    def __init__(self, store: dict[str, frozenset[str]], *, prefix: str = "held:") -> None:
        self.store = store
        self.prefix = prefix

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return self.store.get(self.prefix, frozenset())

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        self.store[self.prefix] = frozenset(held) | frozenset(pushed)


class KeywordStoreConnector(StoreConnector):
    def __init__(self, *, store: dict[str, frozenset[str]]) -> None:
        super().__init__(store)


class DictStoreConnector(dict[str, frozenset[str]]):
    """A connector that is its own store, a dict: Python reads no signature of its class."""

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return self.get("held", frozenset())

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        self["held"] = frozenset(held) | frozenset(pushed)


@pytest.mark.parametrize(
    ("connector", "call"),
    [
        (PushedSetConnector, "PushedSetConnector(connector)"),
        (StoreConnector, "StoreConnector(store)"),
        (KeywordStoreConnector, "KeywordStoreConnector(store=...)"),
        (SessionConnector, "SessionConnector()"),
        (DictStoreConnector, "DictStoreConnector()"),
    ],
)
def test_a_class_passed_for_an_instance_is_told_the_call_that_makes_one(
    connector: type, call: str
) -> None:
    """The error named ``connector=PushedSetConnector()`` (or ``StoreConnector()``) as the
    fix, a TypeError for a missing argument when followed: it names what the class takes
    (none, where Python cannot read its signature: a class built on ``dict``)."""
    with pytest.raises(ValueError, match="need an instance") as raised:
        Firehose(Flask(__name__), connector=connector)
    assert str(raised.value).endswith(f"pass an instance, connector={call}")


class GetPushedWithASaveOfItsOwn:
    """A Flask-Firehose connector whose save() persists its store: not half the protocol."""

    def __init__(self) -> None:
        self.store: set[str] = set()
        self.saved = 0

    def get_pushed(self) -> set[str]:
        return set(self.store)

    def set_pushed(self, items: set[str]) -> None:
        self.store = set(items)

    def save(self) -> None:
        self.saved += 1


class MethodsSetOnTheInstance(Connector):
    def __init__(self) -> None:
        self.store: frozenset[str] = frozenset()

        def save(app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
            self.store = self.store.union(pushed)

        self.open = lambda app, request: self.store  # type: ignore[method-assign]
        self.save = save  # type: ignore[method-assign]


class StaticOpenAndSave:
    store: ClassVar[frozenset[str]] = frozenset()

    @staticmethod
    def open(app: Flask, request: Any) -> frozenset[str]:
        return StaticOpenAndSave.store

    @staticmethod
    def save(app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        StaticOpenAndSave.store = StaticOpenAndSave.store.union(pushed)


class StaticGetPushedInstanceOpen:
    """Passed as a class: its static get_pushed()/set_pushed() serve, not the open() and
    save() that need an instance (each request logged a TypeError)."""

    store: ClassVar[set[str]] = set()

    @staticmethod
    def get_pushed() -> set[str]:
        return set(StaticGetPushedInstanceOpen.store)

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        StaticGetPushedInstanceOpen.store = set(items)

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        raise AssertionError("an instance method, called on the class")

    def save(self, *args: Any) -> None:
        raise AssertionError("an instance method, called on the class")


@pytest.mark.parametrize(
    "make",
    [
        GetPushedWithASaveOfItsOwn,
        MethodsSetOnTheInstance,
        lambda: StaticOpenAndSave,
        lambda: StaticGetPushedInstanceOpen,
    ],
    ids=["get-pushed-and-a-save", "set-on-instance", "static-open-save", "static-get-pushed"],
)
def test_a_connector_that_can_work_is_used(
    make: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    StaticOpenAndSave.store = frozenset()
    StaticGetPushedInstanceOpen.store = set()
    client = build_app(make()).test_client()
    with caplog.at_level(logging.ERROR):
        assert client.get("/").headers["Link"] == EXPECTED_FIRST
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert not caplog.records


def test_a_flask_firehose_connector_naming_the_protocol_as_its_base_is_used() -> None:
    """Connector's stub open() and save() are not an implementation: a get_pushed()
    connector that subclasses the protocol is adapted, not taken as holding nothing."""

    class Legacy(InStore, Connector):
        pass

    legacy = Legacy()  # type: ignore[abstract]  # as untyped code does
    client = build_app(legacy).test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert legacy.store


def test_set_pushed_is_handed_get_pushed_s_own_container_with_the_keys_added() -> None:
    """A container that can ``add`` gets the pushed keys in place: a connector keeping
    its keys in order (oldest first) is handed them in that order, not as a new set."""

    class Ordered:
        def __init__(self, keys: list[str]) -> None:
            self.keys = keys

        def __contains__(self, key: object) -> bool:
            return key in self.keys

        def __iter__(self) -> Iterator[str]:
            return iter(self.keys)

        def add(self, key: str) -> None:
            self.keys.append(key)

    class OrderedStore:
        def __init__(self) -> None:
            self.keys = ["/static/site.css"]

        def get_pushed(self) -> Ordered:
            return Ordered(list(self.keys))

        def set_pushed(self, items: Ordered) -> None:
            assert isinstance(items, Ordered)
            self.keys = items.keys

    store = OrderedStore()
    client = build_app(store).test_client()
    client.get("/push?u=/b.css&u=/a.css")
    assert store.keys == ["/static/site.css", "/b.css", "/a.css"]


def test_set_pushed_is_handed_the_pushed_keys_alone_for_a_container_it_cannot_copy() -> None:
    """A container that can neither ``add`` nor be iterated (a filter answering ``in``
    alone) cannot be handed back with the keys added: ``set_pushed`` gets those keys
    alone, as docs/connectors.md says, and a store that unions them keeps what it held."""

    class Filter:
        def __init__(self, keys: set[str]) -> None:
            self.keys = keys

        def __contains__(self, key: object) -> bool:
            return key in self.keys

    class FilterStore:
        def __init__(self) -> None:
            self.keys = {"/static/site.css"}
            self.handed: list[object] = []

        def get_pushed(self) -> Filter:
            return Filter(set(self.keys))

        def set_pushed(self, items: set[str]) -> None:
            self.handed.append(items)
            self.keys |= items

    store = FilterStore()
    client = build_app(store).test_client()
    first = client.get("/push?u=/static/site.css&u=/a.css")
    assert first.headers["Link"] == (
        "</static/site.css>; rel=preload; as=style; nopush, </a.css>; rel=preload; as=style"
    )
    assert store.handed == [{"/a.css"}]
    assert store.keys == {"/static/site.css", "/a.css"}


def test_failing_connector_costs_nothing_but_tracking(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def get_pushed(self) -> set[str]:
            raise OSError("store is down")

        def set_pushed(self, items: set[str]) -> None:
            raise AssertionError("never called after a failed get_pushed")

    response = make_app(Broken()).test_client().get("/")
    assert response.status_code == 200
    # Nothing can be recorded, so nothing is offered for push; browsers keep the preloads.
    assert response.headers["Link"] == EXPECTED_RETURN
    # Another client would be pushed these links: a shared cache keeps this page apart.
    assert response.headers["Vary"] == "Cookie"
    assert "store is down" in caplog.text


class TestSessionConnector:
    @pytest.mark.parametrize(
        ("connector", "remembered"),
        [(SessionConnector(), True), (FlaskFirehoseConnector, False)],
        ids=["SessionConnector", "Flask-Firehose's"],
    )
    def test_a_key_with_a_comma_is_remembered(self, connector: Any, remembered: bool) -> None:
        """docs/connectors.md: a version may hold a comma (an ETag), and so may its key.
        A list keeps it one key; Flask-Firehose's comma-joined session splits it in two,
        and pushes it on every visit. (A url with a comma is never pushed or recorded.)"""
        app = Flask(__name__)
        app.config["SECRET_KEY"] = "commas"
        Firehose(app, connector=connector)
        app.add_url_rule("/", "page", lambda: push("/a.css", as_="style", version='"v1,2"'))
        client = app.test_client()
        assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
        again = client.get("/").headers["Link"]
        assert again.endswith("; nopush") is remembered

    def test_reads_flask_firehose_comma_joined_sessions(self, make_app: AppFactory) -> None:
        client = make_app(SessionConnector()).test_client()
        with client.session_transaction() as sess:
            sess["h2-pushed"] = "/a.css,/b.css"
        assert client.get("/push?u=/b.css").headers["Link"].endswith("; nopush")

    @pytest.mark.parametrize("after", ["empty", "logged in again"])
    def test_a_session_the_request_empties_stays_empty(self, after: str) -> None:
        """A logout's ``session.clear()`` on a page that pushes (a site-wide hook): the
        new keys were written into the cleared session, so Flask kept its cookie (and a
        server-side store its entry) where the app had let it go. Left empty, nothing is
        pushed; a session the request refills (a login that clears first) records."""
        app = Flask(__name__)
        app.config["SECRET_KEY"] = "s"
        Firehose(app, connector=SessionConnector())

        @app.before_request
        def site_wide() -> None:
            push("/site.css", as_="style")

        @app.route("/")
        def page() -> str:
            return push("/page.css", as_="style")

        @app.route("/logout")
        def logout() -> WerkzeugResponse:
            session.clear()
            push("/bye.css", as_="style")
            if after == "logged in again":
                session["user"] = 7
            return redirect("/")

        client = app.test_client()
        client.get("/")
        response = client.get("/logout")
        assert response.status_code == 302
        with client.session_transaction() as sess:
            stored = dict(sess)
        if after == "empty":
            assert "session=;" in response.headers["Set-Cookie"]  # deleted
            assert stored == {}
            assert response.headers["Link"] == (
                "</site.css>; rel=preload; as=style; nopush, "
                "</bye.css>; rel=preload; as=style; nopush"
            )
        else:
            # What the client held went with the clear: pushed again, and recorded.
            assert stored == {"user": 7, "h2-held": ["/site.css", "/bye.css"]}
            assert response.headers["Link"] == (
                "</site.css>; rel=preload; as=style, </bye.css>; rel=preload; as=style"
            )

    def test_a_session_the_request_empties_is_said_at_debug(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Leaving a session the request emptied empty is no failure: the response records
        nothing, and its debug line says the request emptied the session."""
        app = build_app(SessionConnector())

        @app.route("/logout")
        def logout() -> str:
            session.clear()
            return push("/bye.css", as_="style")

        client = app.test_client()
        client.get("/")
        with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
            client.get("/logout")
        [unrecorded] = [
            r.getMessage() for r in caplog.records if "recorded nothing" in r.getMessage()
        ]
        assert unrecorded.endswith(
            ".save() recorded nothing: the session was emptied by this request"
        )
        assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []

    @pytest.mark.parametrize("sent", [None, "not-a-signed-session"], ids=["none", "invalid"])
    def test_an_empty_session_the_request_did_not_empty_records(
        self, make_app: AppFactory, sent: str | None
    ) -> None:
        """Only a session the request emptied is left so: a first visit, or a session
        cookie that no longer verifies (an old key, garbage), opens as an empty session
        nothing modified, and records what it pushes."""
        client = make_app(SessionConnector()).test_client()
        if sent is not None:
            client.set_cookie("session", sent)
        assert client.get("/push?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"
        with client.session_transaction() as sess:
            assert sess["h2-held"] == ["/a.css"]

    def test_a_session_that_always_says_modified_records_a_first_visit(
        self, make_app: AppFactory
    ) -> None:
        """``SessionMixin.modified`` is True unless a session class tracks its changes: an
        empty one counts as emptied only if the client sent a session cookie."""

        class Untracked(dict[str, Any], SessionMixin):
            pass

        class UntrackedSessions(SecureCookieSessionInterface):
            session_class = Untracked  # type: ignore[assignment]

        app = make_app(SessionConnector())
        app.session_interface = UntrackedSessions()
        client = app.test_client()
        assert client.get("/push?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"
        assert client.get("/push?u=/a.css").headers["Link"].endswith("; nopush")

    def test_an_untracked_session_the_client_sent_empty_records(self) -> None:
        """A server-side session whose cookie holds an id, given to every visitor, of a
        class that does not track changes (``modified`` always True): empty, it was taken
        for one a logout emptied, and nothing was ever recorded (a stranger's hunt)."""

        class Untracked(dict[str, Any], SessionMixin):
            sid = ""

        class ById(SessionInterface):
            def __init__(self) -> None:
                self.store: dict[str, dict[str, Any]] = {}

            def open_session(self, app: Flask, request: Request) -> Untracked:
                sid = request.cookies.get(self.get_cookie_name(app)) or f"id{len(self.store)}"
                opened = Untracked(self.store.get(sid, {}))
                opened.sid = sid
                return opened

            def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
                assert isinstance(session, Untracked)
                self.store[session.sid] = dict(session)
                response.set_cookie(self.get_cookie_name(app), session.sid)

        app = build_app(SessionConnector())
        app.session_interface = sessions = ById()
        client = app.test_client()
        client.get("/quiet")  # an id, an empty session
        assert client.get("/push?u=/a.css").headers["Link"].startswith("</a.css>; rel=preload")
        assert "/a.css" in next(iter(sessions.store.values()))["h2-held"]

    def test_a_server_side_session_records_whatever_secret_key_is(self) -> None:
        """A server-side session (Flask-Session's, unsigned by default) never signs with
        ``SECRET_KEY``: an int one, which Flask's cookie session could not sign, is no
        reason to refuse the app (a review found init_app refusing it)."""

        class ById(SessionInterface):
            def __init__(self) -> None:
                self.store: dict[str, dict[str, Any]] = {}

            def open_session(self, app: Flask, request: Request) -> SecureCookieSession:
                sid = request.cookies.get(self.get_cookie_name(app)) or "id"
                return SecureCookieSession(self.store.get(sid, {}))

            def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
                self.store["id"] = dict(session)
                response.set_cookie(self.get_cookie_name(app), "id")

        app = Flask(__name__)
        app.config["SECRET_KEY"] = 123
        app.session_interface = sessions = ById()
        Firehose(app, connector=SessionConnector())

        @app.route("/page")
        def page() -> str:
            push("/a.css", as_="style")
            return "page"

        client = app.test_client()
        assert client.get("/page").headers["Link"] == "</a.css>; rel=preload; as=style"
        assert client.get("/page").headers["Link"].endswith("; nopush")
        assert sessions.store["id"]["h2-held"] == ["/a.css"]

    @pytest.mark.parametrize(
        ("samesite", "site", "recorded"),
        [
            ("Strict", "cross-site", False),
            ("strict", "cross-site", False),
            ("Lax", "cross-site", True),  # a Lax cookie is sent: the client had none
            (None, "cross-site", True),  # browsers' default: Lax
            ("Strict", "same-site", True),
            ("Strict", "same-origin", True),
            ("Strict", "none", True),  # typed in, a bookmark: cookies are sent
            ("Strict", None, True),  # no Fetch Metadata: nothing to go by
        ],
    )
    def test_a_strict_session_withheld_from_another_site_is_not_written_over(
        self, samesite: str | None, site: str | None, recorded: bool
    ) -> None:
        """A navigation from another site comes without a Strict session cookie, yet the
        browser keeps the session cookie its response sets: a session holding our keys
        alone replaced the signed-in one (a stranger's hunt)."""
        app = Flask(__name__)
        app.config.update(SECRET_KEY="s", SESSION_COOKIE_SAMESITE=samesite)
        Firehose(app, connector=SessionConnector())
        app.add_url_rule("/", "page", lambda: push("/a.css", as_="style"))
        headers = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"} if site else {}
        arrival = app.test_client().get("/", headers=headers)
        assert arrival.status_code == 200
        written = [c for c in arrival.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert bool(written) is recorded
        assert arrival.headers["Link"].endswith("; nopush") is not recorded

    @pytest.mark.parametrize(
        "connector", [SessionConnector, lambda: FlaskFirehoseConnector], ids=["ours", "FF"]
    )
    @pytest.mark.parametrize("hints", [False, True], ids=["no-103", "103"])
    @pytest.mark.parametrize(
        ("cookie", "recorded"),
        [
            # A copy that does not verify ahead of the client's own (planted by a sibling
            # subdomain at a longer path, or left by an older deploy): Flask reads the
            # first, opens an empty session, and one written here replaced the client's.
            ("session=junk; session={own}", False),
            ("session={foreign}; session={own}", False),
            ("session=; session={own}", False),
            ("session=junk; session=more; session={own}", False),
            # Two Cookie lines a server joined with ",": Werkzeug reads the session as
            # part of theme's value.
            ("theme=dark,session={own}", False),
            ("theme=dark, session={own}", False),
            # Flask read the client's own: it keeps it, our keys added.
            ("session={own}", True),
            ("session={own}; session={own}", True),
            ("session={own}; session=junk", True),
            ("session={own}; theme=dark", True),
            # A lone copy that does not verify holds nothing to lose.
            ("session=junk", True),
            ("session={own}x", True),
            # No session yet.
            ("theme=dark", True),
        ],
    )
    def test_a_session_cookie_flask_did_not_read_is_not_written_over(
        self, connector: Callable[[], Any], hints: bool, cookie: str, recorded: bool
    ) -> None:
        """A session written where the client sent a session cookie Flask did not read
        replaced the client's own at the cookie's Path, signed-in user and all, where the
        page alone wrote nothing (a junk copy ahead of the genuine one,
        a Cookie header joined with ","). Nothing is recorded there: the page keeps its
        preload, nopush, its 103 offers none, and no session is written."""
        app = Flask(__name__)
        app.config.update(SECRET_KEY="s", FIREHOSE_EARLY_HINTS=hints)
        Firehose(app, connector=connector())
        app.add_url_rule(
            "/", "page", lambda: f"{push('/a.css', as_='style')} {session.get('user')}"
        )
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        other = Flask("other")
        other.config["SECRET_KEY"] = "another key"
        other_serializer = other.session_interface.get_signing_serializer(other)  # type: ignore[attr-defined]
        assert serializer is not None and other_serializer is not None
        own = serializer.dumps({"user": "alice"})
        foreign = other_serializer.dumps({"user": "mallory"})
        header = cookie.format(own=own, foreign=foreign)
        sent_103: list[list[tuple[str, str]]] = []
        client = app.test_client(use_cookies=False)
        if hints:  # the page's links learned first, as a previous visit taught them
            client.get(
                "/",
                headers={"Accept": "text/html"},
                environ_overrides={"wsgi.early_hints": lambda fields: None},
            )

        response = client.get(
            "/",
            headers={"Cookie": header, "Accept": "text/html"},
            environ_overrides={"wsgi.early_hints": sent_103.append},
        )

        assert response.status_code == 200
        written = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert bool(written) is recorded, written
        pushed = response.headers["Link"] == "</a.css>; rel=preload; as=style"
        assert pushed is recorded, response.headers["Link"]
        if not recorded:
            assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
        if written and f"session={own}" in header.replace(",", ";").replace("; ", ";").split(";"):
            # What Flask read is kept in the session written.
            assert serializer.loads(written[0].split(";")[0].partition("=")[2])["user"] == "alice"
        if hints:  # a 103 offers for push only what will be recorded (if sent at all)
            offered = [v for hint in sent_103 for n, v in hint if n == "Link"]
            assert bool(offered) is recorded, sent_103

    @pytest.mark.parametrize(
        "connector",
        [SessionConnector, lambda: FlaskFirehoseConnector, lambda: ListInSession],
        ids=["ours", "FF", "docs"],
    )
    @pytest.mark.parametrize("hints", [False, True], ids=["no-103", "103"])
    @pytest.mark.parametrize(
        ("config", "deleted_at", "in_hook", "signed_out"),
        [
            # A logout that deletes the session cookie on its response, `session` left
            # alone, in the view or in an after_request hook: the session written after
            # that line was the one the browser kept, its user signed in again.
            ({}, {}, False, True),
            ({}, {}, True, True),
            ({}, {"path": "/"}, False, True),
            ({"SESSION_COOKIE_PATH": "/shop"}, {"path": "/shop"}, False, True),
            ({"SESSION_COOKIE_DOMAIN": "example.com"}, {"domain": "example.com"}, False, True),
            ({"SESSION_COOKIE_DOMAIN": "example.com"}, {"domain": ".example.com"}, True, True),
            # Another cookie of its name (an old deploy's path or domain) deleted: the
            # session cookie itself is kept, our keys added, as the app's page keeps it.
            ({"SESSION_COOKIE_PATH": "/shop"}, {"path": "/"}, False, False),
            ({"SESSION_COOKIE_DOMAIN": "example.com"}, {}, False, False),
            ({}, {"domain": "example.com"}, False, False),
        ],
        ids=lambda value: repr(value) if isinstance(value, dict) else None,
    )
    def test_a_session_cookie_the_response_deletes_is_not_written_again(
        self,
        connector: Callable[[], Any],
        hints: bool,
        config: dict[str, str],
        deleted_at: dict[str, str],
        in_hook: bool,
        signed_out: bool,
    ) -> None:
        """A page that deletes the session cookie on its response (a logout that leaves
        `session` as it is) and pushes: the session connector wrote the session read, our
        keys added, on a Set-Cookie after the app's, which the browser keeps, so the user
        was signed in again. The DigestConnector already leaves a cookie
        of its own the response sets. Nothing is recorded there now: the page keeps its
        preload, nopush, and only the app's line goes out."""
        app = Flask(__name__)
        app.config.update(
            SECRET_KEY="s", FIREHOSE_EARLY_HINTS=hints, SERVER_NAME="www.example.com"
        )
        app.config.update(config)
        Firehose(app, connector=connector())
        root = config.get("SESSION_COOKIE_PATH", "")

        def login() -> str:
            session["user"] = "alice"
            return "signed in"

        def page() -> str:
            return f"{push('/a.css', as_='style')} {session.get('user')}"

        def logout() -> Response:
            push("/a.css", as_="style")
            push("/bye.css", as_="style")
            response = Response("signed out")
            if not in_hook:
                response.delete_cookie(
                    "session", deleted_at.get("path", "/"), deleted_at.get("domain")
                )
            return response

        @app.after_request
        def delete_in_hook(response: Response) -> Response:
            if in_hook and request.endpoint == "logout":
                response.delete_cookie(
                    "session", deleted_at.get("path", "/"), deleted_at.get("domain")
                )
            return response

        app.add_url_rule(f"{root}/login", "login", login, methods=["POST"])
        app.add_url_rule(f"{root}/", "page", page)
        app.add_url_rule(f"{root}/logout", "logout", logout)
        client = app.test_client()
        headers = {"Accept": "text/html"}
        hint = {"wsgi.early_hints": lambda fields: None} if hints else {}
        # Its links learned for a 103, as another client's visit taught them.
        app.test_client().get(f"{root}/logout", headers=headers, environ_base=hint)
        client.post(f"{root}/login")
        assert client.get(f"{root}/", headers=headers, environ_base=hint).status_code == 200

        response = client.get(f"{root}/logout", headers=headers, environ_base=hint)

        assert response.status_code == 200
        lines = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert len(lines) == 1 if signed_out else 2, lines
        link = "</a.css>; rel=preload; as=style; nopush, </bye.css>; rel=preload; as=style"
        assert response.headers["Link"] == link + ("; nopush" if signed_out else "")
        # The browser's cookie jar, after the response: signed out, or still signed in.
        assert (
            client.get(f"{root}/", headers=headers)
            .get_data(as_text=True)
            .endswith("None" if signed_out else "alice")
        )

    def test_keeps_only_the_most_recent_keys(self, make_app: AppFactory) -> None:
        client = make_app(SessionConnector(max_items=2), FIREHOSE_MAX_PUSHES=2).test_client()
        for url in ("/1.css", "/2.css", "/3.css"):
            client.get(f"/push?u={url}")
        with client.session_transaction() as sess:
            assert sess["h2-held"] == ["/2.css", "/3.css"]

    def test_flask_firehose_list_is_moved_pruned_at_the_first_linking_response(
        self, make_app: AppFactory
    ) -> None:
        """A migrated session near nginx's 4 KB buffer shrinks at once, even on a page
        that pushes nothing new: Flask-Firehose's list is moved under our key, cut to
        max_items, and its own key dropped."""
        client = make_app(SessionConnector(max_items=10), FIREHOSE_MAX_PUSHES=1).test_client()
        old = [f"/{i}.css" for i in range(300)]
        with client.session_transaction() as sess:
            sess["h2-pushed"] = ",".join(old)
        response = client.get("/push?u=/299.css")
        assert response.headers["Link"] == "</299.css>; rel=preload; as=style; nopush"
        with client.session_transaction() as sess:
            assert "h2-pushed" not in sess
            assert sess["h2-held"] == old[-10:]

    def test_a_worker_still_on_flask_firehose_can_read_the_session(
        self, make_app: AppFactory
    ) -> None:
        """During a rolling deploy, or after a rollback, Flask-Firehose's get_pushed() runs
        on sessions we wrote: it split our list and failed every request. It finds its own
        key gone (everything is new to it), and what it writes there is read back."""
        new = make_app(SessionConnector()).test_client()
        new.get("/push?u=/a.css")
        old = make_app(FlaskFirehoseConnector)
        with new.session_transaction() as sess:
            session_data = dict(sess)
        with old.test_request_context():
            session.update(session_data)
            assert FlaskFirehoseConnector.get_pushed() == set()
            FlaskFirehoseConnector.set_pushed({"/b.css"})
            session_data = dict(session)
        with new.session_transaction() as sess:
            sess.update(session_data)
        response = new.get("/push?u=/a.css&u=/b.css&u=/c.css")
        assert response.headers["Link"].split(", ") == [
            "</a.css>; rel=preload; as=style; nopush",
            "</b.css>; rel=preload; as=style; nopush",
            "</c.css>; rel=preload; as=style",
        ]
        with new.session_transaction() as sess:
            assert "h2-pushed" not in sess
            assert sess["h2-held"] == ["/a.css", "/b.css", "/c.css"]

    def test_an_empty_flask_firehose_list_holds_no_key(self, make_app: AppFactory) -> None:
        """Flask-Firehose wrote ``",".join(set())``, an empty str, for a session that held
        nothing: no key, not the empty key, is moved under ours."""
        client = make_app(SessionConnector()).test_client()
        with client.session_transaction() as sess:
            sess["h2-pushed"] = ""
        client.get("/push?u=/a.css")
        with client.session_transaction() as sess:
            assert sess["h2-held"] == ["/a.css"]
            assert "h2-pushed" not in sess

    def test_garbage_in_the_session_is_an_empty_set(self, make_app: AppFactory) -> None:
        client = make_app(SessionConnector()).test_client()
        with client.session_transaction() as sess:
            sess["h2-pushed"] = {"not": "a list"}
        assert client.get("/push?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"

    def test_bad_max_items_raises(self) -> None:
        with pytest.raises(ValueError, match="max_items"):
            SessionConnector(max_items=0)

    def test_a_page_of_held_keys_alone_writes_no_session_cookie(
        self, make_app: AppFactory
    ) -> None:
        """A response that pushes nothing new would only move its keys to the end: not
        worth a new session cookie on every return visit."""
        client = make_app(SessionConnector()).test_client()
        first = client.get("/")
        assert first.headers["Link"] == EXPECTED_FIRST
        assert "session=" in first.headers["Set-Cookie"]
        again = client.get("/")
        assert again.headers["Link"] == EXPECTED_RETURN
        assert "Set-Cookie" not in again.headers

    def test_keeps_the_last_hundred_keys_by_default(self) -> None:
        """``SessionConnector()`` keeps ``max_items=100``, as docs/connectors.md says; a
        session kept server side, so that the cookie budget cuts nothing."""
        app = session_app(0)
        app.session_interface = IdInCookieSessions()
        client = app.test_client()
        urls = [f"/k{n}.css" for n in range(101)]
        for chunk in range(0, 101, 10):
            client.get("/?" + "&".join(f"u={url}" for url in urls[chunk : chunk + 10]))
        assert IdInCookieSessions.store["1"]["h2-held"] == urls[1:]

    def test_max_items_of_one_keeps_the_last_key(self, make_app: AppFactory) -> None:
        client = make_app(SessionConnector(max_items=1), FIREHOSE_MAX_PUSHES=1).test_client()
        for url in ("/1.css", "/2.css"):
            client.get(f"/push?u={url}")
        with client.session_transaction() as sess:
            assert sess["h2-held"] == ["/2.css"]

    @pytest.mark.parametrize("max_items", [True, 1.5, "3"])
    def test_max_items_that_is_no_int_raises(self, max_items: Any) -> None:
        with pytest.raises(ValueError, match="max_items must be an int >= 1"):
            SessionConnector(max_items=max_items)

    def test_set_pushed_without_a_secret_key_raises_as_flask_firehose_s_did(self) -> None:
        """Called as Flask-Firehose's connector was, ``set_pushed`` on Flask's null session
        (no ``SECRET_KEY``) raises Flask's RuntimeError: it used to hand the ``current_app``
        proxy to a WeakSet, a TypeError, and had it warned instead, an app wrapping it in
        :class:`PushedSetConnector` would have pushed everything on every visit."""
        connector = SessionConnector()
        app = build_app(connector, SECRET_KEY=None)
        with app.test_request_context():
            with pytest.raises(RuntimeError, match="secret key"):
                connector.set_pushed(["/a.css"])
            assert connector.get_pushed() == []

    def test_save_for_an_app_it_was_not_set_up_for_records_unmeasured(self) -> None:
        """No budget was noted for an app whose init_app never ran: the keys are kept,
        as many as ``max_items``, the session cookie unmeasured."""
        app = Flask(__name__)
        app.config["SECRET_KEY"] = "s"
        connector = SessionConnector(max_items=2)
        with app.test_request_context():
            connector.save(app, Response("ok"), frozenset(), ["/a.css", "/b.css", "/c.css"], [])
            assert session["h2-held"] == ["/b.css", "/c.css"]

    def test_a_flask_firehose_connector_s_save_for_an_app_it_was_not_set_up_for_records(
        self,
    ) -> None:
        """As with SessionConnector: no room was noted for an app whose init_app never
        ran, so what set_pushed() wrote in the session is kept, unmeasured."""
        app = Flask(__name__)
        app.config["SECRET_KEY"] = "s"
        connector = PushedSetConnector(FlaskFirehoseConnector)
        with app.test_request_context():
            connector.save(app, Response("ok"), frozenset(), ["/a.css"], [])
            assert session["h2-pushed"] == "/a.css"


def served_preloads_only(client: FlaskClient, pages: int) -> None:
    """``pages`` visits of ``/``, each served with its preloads, none pushed, and no cookie
    set: what a page gets where nothing can be remembered."""
    for _ in range(pages):
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["Link"] == EXPECTED_RETURN
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "connector",
    [
        SessionConnector,
        DigestConnector,
        lambda: FlaskFirehoseConnector,
        lambda: PushedSetConnector(SessionConnector()),
    ],
    ids=["session", "digest", "flask-firehose", "session-through-get-and-set"],
)
def test_no_secret_key_serves_links_and_warns_once(
    connector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing can be remembered, so nothing is offered for push: the preloads stay.

    Flask-Firehose's connector, or ours asked through its ``get_pushed()`` and
    ``set_pushed()``, finds out by failing to write the session: that one failure is
    logged, with the warning, and the requests after it log nothing.
    """
    app = build_app(connector())
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        served_preloads_only(client, pages=3)
    warnings = [r for r in caplog.records if "SECRET_KEY" in r.getMessage()]
    assert len(warnings) == 1
    assert " at 0x" not in warnings[0].getMessage()  # the connector named by what it is
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # said once


@pytest.mark.parametrize(
    ("connector", "named"),
    [
        (SessionConnector, "SessionConnector"),
        (DigestConnector, "DigestConnector"),
        (
            lambda: PushedSetConnector(SessionConnector()),
            "PushedSetConnector(SessionConnector(max_items=100))",
        ),
    ],
    ids=["session", "digest", "session-through-get-and-set"],
)
def test_the_no_secret_key_warning_names_the_connector(
    connector: Any, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning says which connector cannot remember what a client holds."""
    app = build_app(connector())
    app.config["SECRET_KEY"] = None
    with caplog.at_level(logging.WARNING):
        app.test_client().get("/")
    [warning] = [r.getMessage() for r in caplog.records if "SECRET_KEY" in r.getMessage()]
    assert f"SECRET_KEY is not set, so {named} cannot remember what a client holds" in warning


class NoSessionHere(SecureCookieSessionInterface):
    """A session interface that gives no session (a store that is down, a request it
    does not serve): Flask makes a null session whatever ``SECRET_KEY`` is."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None


@pytest.mark.parametrize(
    "connector",
    [SessionConnector, lambda: PushedSetConnector(SessionConnector())],
    ids=["session", "session-through-get-and-set"],
)
def test_a_session_interface_that_gives_no_session_is_named_not_secret_key(
    connector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``SECRET_KEY`` set, a null session is the interface's doing: the warning
    names it, and does not send the user to set a key that is set."""
    app = build_app(connector())
    app.session_interface = NoSessionHere()
    with caplog.at_level(logging.WARNING):
        app.test_client().get("/")
    [warning] = [r.getMessage() for r in caplog.records if "cannot remember" in r.getMessage()]
    assert "SECRET_KEY" not in warning
    assert "NoSessionHere.open_session() gave no session" in warning


#: The connectors that keep what a client holds in Flask's session, each with the name
#: its warnings give.
SESSION_KEPT_CONNECTORS = pytest.mark.parametrize(
    ("connector", "named"),
    [
        (SessionConnector, "SessionConnector"),
        (
            lambda: PushedSetConnector(SessionConnector()),
            "PushedSetConnector(SessionConnector(max_items=100))",
        ),
        (lambda: FlaskFirehoseConnector, f"PushedSetConnector({FlaskFirehoseConnector!r})"),
    ],
    ids=["session", "session-through-get-and-set", "flask-firehose"],
)


class SessionWithoutKey(SecureCookieSessionInterface):
    """Flask's cookie session, opened even without ``SECRET_KEY`` (so that views may read
    ``session.get()``): Flask's own save cannot sign what is written to it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return super().open_session(app, request) or self.session_class()


class LoggedSessionWithoutKey(SessionWithoutKey):
    """:class:`SessionWithoutKey`, its save wrapped (to log, to add a header): Flask's save
    still signs, and cannot without ``SECRET_KEY``."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)


@SESSION_KEPT_CONNECTORS
@pytest.mark.parametrize(
    "interface", [SessionWithoutKey, LoggedSessionWithoutKey], ids=["opened", "save-wrapped"]
)
@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is empty"),
        ({"SECRET_KEY": None, "SECRET_KEY_FALLBACKS": ["old"]}, "SECRET_KEY is not set"),
    ],
    ids=["unset", "empty", "fallbacks-alone"],
)
def test_a_session_opened_without_secret_key_serves_links_and_warns_once(
    interface: Callable[[], SessionInterface],
    connector: Callable[[], Any],
    named: str,
    keys: dict[str, Any],
    problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session interface that opens a session without ``SECRET_KEY``: the list the
    connector wrote there failed Flask's save, a 500 on every page that pushed. As with
    Flask's null session, the pages keep their preloads, nothing is pushed, and one
    warning says why. A key is unset as Flask's ``get_signing_serializer`` reads it: an
    empty one too, and one with ``SECRET_KEY_FALLBACKS`` alone. Its save wrapped, it was
    taken for a server-side session's, which needs no key: the 500 stayed (without the
    extension, a page that writes nothing in the session saves nothing, and answers 200)."""
    app = build_app(connector(), **keys)
    app.session_interface = interface()
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        served_preloads_only(client, pages=3)
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"{problem}, so {named} cannot remember what a client holds" in warning


#: A false ``SECRET_KEY`` other than None, which Flask's session reads as none (a null
#: session, "no secret key was set"), and what the warning names it.
FALSE_KEYS = pytest.mark.parametrize(
    ("environ", "key", "problem"),
    [
        (
            {"FLASK_SECRET_KEY": "0"},
            None,
            "SECRET_KEY must be a str or bytes, got int (Flask's session reads a false key "
            "as none): in the environment quote a key of digits as JSON, "
            """FLASK_SECRET_KEY='"123"'""",
        ),
        (
            {},
            False,
            "SECRET_KEY must be a str or bytes, got bool (Flask's session reads a false key "
            "as none)",
        ),
        ({}, b"", "SECRET_KEY is empty"),
    ],
    ids=["FLASK_SECRET_KEY=0", "False", "empty bytes"],
)


@FALSE_KEYS
@pytest.mark.parametrize(
    "interface", [SecureCookieSessionInterface, SessionWithoutKey], ids=["flask's", "opened"]
)
@SESSION_KEPT_CONNECTORS
def test_a_false_secret_key_is_named_as_what_it_is(
    environ: dict[str, str],
    key: object,
    problem: str,
    interface: Callable[[], SessionInterface],
    connector: Callable[[], Any],
    named: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flask's session takes ``SECRET_KEY = 0``, ``False`` or ``b""`` for no key, as it
    takes None (its null session says "no secret key was set"): the pages keep their
    preloads, nothing is pushed. The warning said ``SECRET_KEY is not set`` of a key the
    app set, ``FLASK_SECRET_KEY=0`` too (an int once ``from_prefixed_env`` read it),
    without the hint the warning gives ``FLASK_SECRET_KEY=123``: it names the value."""
    app = build_app(connector())
    app.session_interface = interface()
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app.config["SECRET_KEY"] = key
    app.config.from_prefixed_env()
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        served_preloads_only(client, pages=3)
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: {problem}, so {named} cannot remember what a client holds; pages keep "
        "their preload links but nothing is pushed"
    ]


@SESSION_KEPT_CONNECTORS
def test_a_bytearray_secret_key_is_refused_with_what_to_write(
    connector: Callable[[], Any], named: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask's own session signs with a ``bytearray`` key; not every signer does
    (Flask-Session's reads it as a list of int keys: tests/test_beside_extensions.py), and
    Flask types the key str or bytes. It is refused as a key of another type is, with what
    to write, and the warning does not say Flask's session cannot be signed with it. The
    digest refuses it at ``init_app``, naming the key."""
    app = build_app(connector(), SECRET_KEY=bytearray(b"a-long-secret-key"))
    with caplog.at_level(logging.WARNING):
        served_preloads_only(app.test_client(), pages=2)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: SECRET_KEY must be a str or bytes, got bytearray: give the same key as "
        f"bytes, bytes(key), so {named} cannot remember what a client holds; pages keep "
        "their preload links but nothing is pushed"
    ]
    with pytest.raises(ValueError, match="SECRET_KEY must be a str or bytes, got bytearray"):
        build_app(DigestConnector(), SECRET_KEY=bytearray(b"a-long-secret-key"))


@pytest.mark.parametrize("key", ["", b""], ids=["str", "bytes"])
def test_an_empty_secret_key_is_named_so_by_the_digest(
    key: str | bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """``DigestConnector`` with an empty key, which it does not sign with (anyone could):
    the warning says the key is empty, not unset."""
    app = build_app(DigestConnector(), SECRET_KEY=key)
    with caplog.at_level(logging.WARNING):
        served_preloads_only(app.test_client(), pages=2)
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("firehose: SECRET_KEY is empty, so DigestConnector cannot")


class PerHostSessions(SessionWithoutKey):
    """Flask's cookie session signed with a key per host, opened on a host it holds no key
    for as well: there its ``get_signing_serializer`` is None, with ``SECRET_KEY`` set."""

    keys: ClassVar[dict[str, str]] = PER_HOST_KEYS

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = self.keys.get(request.host)
        if key is None:
            return None
        signer = {"key_derivation": self.key_derivation, "digest_method": self.digest_method}
        return URLSafeTimedSerializer(
            key, salt=self.salt, serializer=self.serializer, signer_kwargs=signer
        )


class LoggedPerHostSessions(PerHostSessions):
    """:class:`PerHostSessions`, its save wrapped."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)


@SESSION_KEPT_CONNECTORS
@pytest.mark.parametrize(
    "interface", [PerHostSessions, LoggedPerHostSessions], ids=["flask's save", "save-wrapped"]
)
def test_a_session_its_interface_has_no_serializer_for_serves_links_and_warns_once(
    interface: Callable[[], SessionInterface],
    connector: Callable[[], Any],
    named: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A subclass of Flask's interface whose ``get_signing_serializer`` gives None on a
    host it holds no key for, but opens a session there: the list written in it failed
    Flask's save, a 500 on every page of that host that pushed (measuring the session
    took no serializer for a session that fits). There the pages keep their preloads,
    nothing is pushed, one warning names the interface; the known host records."""
    app = build_app(connector())
    app.session_interface = interface()
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            response = client.get("/", base_url="http://other.test/")
            assert (response.status_code, response.headers["Link"]) == (200, EXPECTED_RETURN)
            assert "Set-Cookie" not in response.headers
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: {interface.__name__}.get_signing_serializer() gave no serializer, so "
        f"{named} cannot remember what a client holds; pages keep their preload links but "
        "nothing is pushed"
    ]
    assert client.get("/", base_url="http://known.test/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/", base_url="http://known.test/").headers["Link"] == EXPECTED_RETURN


@SESSION_KEPT_CONNECTORS
def test_a_session_whose_serializer_raises_costs_no_page(
    connector: Callable[[], Any], named: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``get_signing_serializer`` that raises on a host it holds no key for: the
    connector fails there (logged), and the page is served with its preloads. Asked if
    the session could be signed once a Flask-Firehose connector had written its list
    there, the error left the list written, for Flask's save to fail on: a 500 on every
    page of that host that pushed. The known host records."""
    app = build_app(connector())
    app.session_interface = RaisingPerHostSessions()
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            response = client.get("/", base_url="http://other.test/")
            assert (response.status_code, response.headers["Link"]) == (200, EXPECTED_RETURN)
            assert "Set-Cookie" not in response.headers
    assert caplog.records
    assert all(r.getMessage().startswith(f"firehose: {named}") for r in caplog.records)
    assert client.get("/", base_url="http://known.test/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/", base_url="http://known.test/").headers["Link"] == EXPECTED_RETURN


class LoggedSessions(SecureCookieSessionInterface):
    """Flask's cookie session, its save wrapped (to log, to add a header): signed alike,
    but not measured as Flask's own."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (
            123,
            "SECRET_KEY must be a str or bytes, got int (Flask's session cannot be signed "
            "with it): in the environment quote a key of digits as JSON, "
            """FLASK_SECRET_KEY='"123"'""",
        ),
        (
            True,
            "SECRET_KEY must be a str or bytes, got bool (Flask's session cannot be signed "
            "with it)",
        ),
    ],
    ids=["int", "bool"],
)
@pytest.mark.parametrize(
    "interface", [SecureCookieSessionInterface, LoggedSessions], ids=["flask's", "subclass"]
)
@SESSION_KEPT_CONNECTORS
def test_a_secret_key_no_session_can_be_signed_with_serves_links_and_warns_once(
    key: object,
    problem: str,
    interface: Callable[[], SessionInterface],
    connector: Callable[[], Any],
    named: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``FLASK_SECRET_KEY=123`` read by ``from_prefixed_env`` is an int, which Flask's
    cookie session cannot sign with. A connector keeping its keys there cannot remember
    anything: as with no ``SECRET_KEY``, the pages keep their preloads, nothing is pushed,
    and one warning names the key and what to write. It logged a TypeError with its
    traceback on every page, and under a subclass of Flask's interface, whose session the
    extension does not measure, the list it wrote failed Flask's save: a 500 on every
    page that pushed. (A server-side session never signs with the key: it is no reason to
    refuse the app at init_app, :class:`TestSessionConnector`.)"""
    app = build_app(connector())
    app.session_interface = interface()
    app.config["SECRET_KEY"] = key
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        served_preloads_only(client, pages=3)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            f"firehose: {problem}, so {named} "
            "cannot remember what a client holds; pages keep their preload links but "
            "nothing is pushed",
        )
    ]


def test_a_session_unwritable_without_secret_key_is_said_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The response whose ``set_pushed()`` found no session to write records nothing; its
    debug line says why (the warning is said once, this line on each such response)."""
    app = build_app(PushedSetConnector(SessionConnector()))
    app.config["SECRET_KEY"] = None
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        app.test_client().get("/")
    [unrecorded] = [r.getMessage() for r in caplog.records if "recorded nothing" in r.getMessage()]
    assert unrecorded.endswith(
        ".save() recorded nothing: SECRET_KEY is not set: the session cannot be written"
    )


@pytest.mark.parametrize("key", [None, 123], ids=["unset", "int"])
def test_flask_firehose_s_connector_is_left_alone_until_the_app_has_a_secret_key(
    key: object,
) -> None:
    """Once its ``set_pushed`` failed on Flask's null session, or wrote a session Flask
    cannot sign (an int key), nothing is asked of it while the app has no ``SECRET_KEY``
    that signs (each request would plan pushes only to write them as nopush); given one,
    it is asked again and records."""
    calls: list[str] = []

    class Counted:
        def get_pushed(self) -> set[str]:
            calls.append("get")
            return FlaskFirehoseConnector.get_pushed()

        def set_pushed(self, items: set[str]) -> None:
            calls.append("set")
            FlaskFirehoseConnector.set_pushed(items)

    app = build_app(Counted())
    app.config["SECRET_KEY"] = key
    client = app.test_client()
    for _ in range(3):
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert calls == ["get", "set"]
    app.config["SECRET_KEY"] = "now set"
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert calls == ["get", "set", "get", "set", "get"]


def test_a_get_pushed_connector_without_a_session_needs_no_secret_key() -> None:
    """A Flask-Firehose-style connector that keeps its keys elsewhere than the session
    pushes and records as before in an app without ``SECRET_KEY``."""
    connector = DictConnector()
    app = build_app(connector)
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert connector.calls == 1


def test_a_session_that_refuses_a_write_with_a_secret_key_is_an_error_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only Flask's null session (no SECRET_KEY) is told once and then left alone: a
    session store that fails its writes is logged as the failure it is, on every page,
    and not blamed on SECRET_KEY."""

    class FailingSession(SecureCookieSession):
        def __setitem__(self, key: str, value: Any) -> None:
            raise RuntimeError("session store unavailable")

    class FailingSessions(SecureCookieSessionInterface):
        def open_session(self, app: Flask, request: Any) -> SecureCookieSession:
            return FailingSession()

    app = build_app(FlaskFirehoseConnector)
    app.session_interface = FailingSessions()
    client = app.test_client()
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        for _ in range(2):
            assert client.get("/").headers["Link"] == EXPECTED_RETURN  # nothing recorded
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.exc_info is not None for r in errors] == [True, True]
    assert "SECRET_KEY" not in caplog.text


def test_a_get_pushed_connector_that_fails_once_is_asked_again_without_a_secret_key() -> None:
    """Only a write Flask's null session refused stops the asking: a connector keeping its
    keys elsewhere that raises once is logged, and asked again on the next request."""

    class FailsOnce(DictConnector):
        def set_pushed(self, items: set[str]) -> None:
            if not self.calls:
                self.calls += 1
                raise RuntimeError("the store was busy")
            super().set_pushed(items)

    connector = FailsOnce()
    app = build_app(connector)
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # not recorded: nopush
    assert client.get("/").headers["Link"] == EXPECTED_FIRST  # asked again, recorded
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


class IteratorConnector(DictConnector):
    def get_pushed(self) -> Any:
        return (key for key in sorted(self.store))


class CommaJoinedConnector(DictConnector):
    """Returns its store as Flask-Firehose kept it in the session: one comma-joined str."""

    def get_pushed(self) -> Any:
        return ",".join(sorted(self.store))


@pytest.mark.parametrize("connector_class", [IteratorConnector, CommaJoinedConnector])
def test_a_get_pushed_that_returns_no_set_is_read_as_one(
    connector_class: type[DictConnector],
) -> None:
    """An iterator was used up by the first ``in``, and a str answered for its substrings
    and was handed back to set_pushed as a set of characters: keys were pushed again and
    lost from the store."""
    connector = connector_class()
    client = build_app(connector).test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    for _ in range(2):
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert connector.store == {"/static/site.css", "/static/app.js", "/static/inter.woff2"}
    assert connector.calls == 1
    client.get("/push?u=/new.css")
    assert connector.store == {
        "/static/site.css",
        "/static/app.js",
        "/static/inter.woff2",
        "/new.css",
    }


class NoneForANewClient(DictConnector):
    """A store read as ``dict.get`` or Redis ``GET`` reads it: None for a key not there."""

    def get_pushed(self) -> Any:
        return set(self.store) if self.store else None


def test_a_get_pushed_that_returns_none_is_logged_as_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Flask-Firehose's get_pushed() returns a set, and no answer of it means that nothing
    can be remembered (its push() failed on None). A connector answering None for a
    client it holds nothing of recorded nothing, silently, so never pushed anything: it
    fails as one that raised, logged on each page, which keeps its links nopush."""
    connector = NoneForANewClient()
    client = build_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert connector.calls == 0
    [record] = caplog.records
    assert "get_pushed() returned None" in str(record.exc_info[1] if record.exc_info else "")


class AnswersNoSet(DictConnector):
    """A store answering what no set is: bytes, as Redis ``GET`` answers without
    ``decode_responses=True``, or a count."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def get_pushed(self) -> Any:
        return self.answer


@pytest.mark.parametrize("answer", [b"/static/site.css", 5], ids=["bytes", "int"])
def test_a_get_pushed_that_returns_no_container_of_keys_is_named_in_its_error(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Its error named open(), which a Flask-Firehose connector does not have, and said to
    return a container of keys "or None", which get_pushed() may not: it names
    get_pushed() and asks for a set, as for None. The page keeps its links, nopush."""
    connector = AnswersNoSet(answer)
    client = build_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert connector.calls == 0
    [record] = caplog.records
    error = str(record.exc_info[1] if record.exc_info else "")
    assert error.startswith(
        f"PushedSetConnector({connector!r}).get_pushed() returned {type(answer).__name__!r}"
    )
    assert error.endswith("return a set of keys (an empty one for a client holding nothing)")


def test_flask_firehose_connector_pushes_once_a_secret_key_is_set() -> None:
    """Stopping after the failed write lasts only while the session cannot be written."""
    app = build_app(FlaskFirehoseConnector)
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    app.config["SECRET_KEY"] = "now set"
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


def test_session_connector_keeps_at_least_what_one_response_pushes() -> None:
    """Exactly FIREHOSE_MAX_PUSHES keys is enough; one fewer is refused at init_app."""
    with pytest.raises(ValueError, match=r"max_items=9\).*FIREHOSE_MAX_PUSHES=10"):
        build_app(SessionConnector(max_items=9))
    app = build_app(SessionConnector(max_items=3), FIREHOSE_MAX_PUSHES=3)
    client = app.test_client()
    urls = [f"/{i}.css" for i in range(5)]
    query = "&".join(f"u={url}" for url in urls)
    first = client.get(f"/push?{query}").headers["Link"].split(", ")
    assert [link.endswith("nopush") for link in first] == [False] * 3 + [True] * 2
    again = client.get(f"/push?{query}").headers["Link"].split(", ")
    assert [link.endswith("nopush") for link in again[:3]] == [True] * 3  # all recorded


def test_session_connector_keeps_resources_in_use(make_app: AppFactory) -> None:
    """A url asked about on a page that also pushed something new counts as recently used."""
    client = make_app(SessionConnector(max_items=3), FIREHOSE_MAX_PUSHES=3).test_client()
    client.get("/push?u=/common.css&u=/1.css")
    client.get("/push?u=/common.css&u=/2.css")
    client.get("/push?u=/common.css&u=/3.css")
    with client.session_transaction() as sess:
        assert sess["h2-held"] == ["/2.css", "/common.css", "/3.css"]


def test_an_app_moved_from_the_digest_to_session_connector_leaves_the_digest_cookie() -> None:
    """docs/connectors.md: each client is pushed everything once, and the digest cookie,
    deleted by nothing, is sent on, unread, until its Max-Age runs out."""
    client = build_app().test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    client.application = build_app(SessionConnector())
    first = client.get("/")
    assert first.headers["Link"] == EXPECTED_FIRST
    assert [c for c in first.headers.getlist("Set-Cookie") if c.startswith("h2-digest=")] == []
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert client.get_cookie("h2-digest") is not None


def test_a_request_made_inside_a_view_keeps_its_own_links() -> None:
    app = build_app(DictConnector())

    @app.route("/outer")
    def outer() -> str:
        push("/a.css", as_="style")
        inner = app.test_client().get("/push?u=/b.css")
        assert inner.headers["Link"] == "</b.css>; rel=preload; as=style"
        push("/c.css", as_="style")
        return "ok"

    response = app.test_client().get("/outer")
    assert response.headers["Link"] == (
        "</a.css>; rel=preload; as=style, </c.css>; rel=preload; as=style"
    )


@pytest.mark.parametrize("firehose", [False, True], ids=["no Firehose", "push off"])
def test_the_pushes_of_another_app_a_view_calls_join_the_view_s_page(firehose: bool) -> None:
    """docs/how-it-works.md: what ``push()`` collects belongs to the request
    ``app.wsgi_app`` is serving, so another app the view calls through a test client, with
    push off or no ``Firehose`` at all, adds its pushes to the view's page."""
    widgets = Flask("widgets")
    if firehose:
        widgets.config["FIREHOSE_ENABLED"] = False
        Firehose(widgets)
    widgets.add_url_rule("/w", "w", lambda: push("/widget.css", as_="style"))
    app = build_app(DictConnector())

    @app.route("/outer")
    def outer() -> str:
        push("/a.css", as_="style")
        inner = widgets.test_client().get("/w")
        assert "Link" not in inner.headers
        return inner.get_data(as_text=True)

    assert app.test_client().get("/outer").headers["Link"] == (
        "</a.css>; rel=preload; as=style, </widget.css>; rel=preload; as=style"
    )


@pytest.mark.parametrize("copied", [True, False], ids=["a copy", "one object"])
def test_a_response_a_cache_hands_back_carries_none_of_our_links(copied: bool) -> None:
    """docs/how-it-works.md: a view served from a cache ran its ``push()`` once. Our
    ``Link`` and ``Vary`` are added as the response starts, so no response the cache hands
    back carries them (nor a client's ``nopush``), whether it keeps a copy of what the view
    returned (pickled, as Flask-Caching's backends keep it) or the one object. The digest's
    ``Set-Cookie`` is set on the response object after the view, as Flask's session cookie
    is: a copy hands back none of it; the one object hands the first client's cookie to
    the next. That last assertion pins the hazard the doc warns of, not a wish: a change
    that writes the cookie as the response starts may drop it."""
    stored: dict[str, Any] = {}

    def cached(view: Callable[[], Response]) -> Callable[[], Response]:
        @functools.wraps(view)
        def from_the_cache() -> Response:
            if "report" not in stored:
                response = view()
                stored["report"] = pickle.dumps(response) if copied else response
            kept = stored["report"]
            return cast("Response", pickle.loads(kept)) if copied else kept

        return from_the_cache

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "cached"
    Firehose(app)

    @app.route("/")
    @cached
    def report() -> Response:
        push("/a.css", as_="style")
        return Response("report")

    client = app.test_client()
    first = client.get("/")
    assert first.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert first.headers["Set-Cookie"].startswith("h2-digest=")
    for again in (client.get("/"), app.test_client().get("/")):
        assert "Link" not in again.headers
        assert "Vary" not in again.headers
    second = app.test_client().get("/")
    assert second.headers.getlist("Set-Cookie") == (
        [] if copied else first.headers.getlist("Set-Cookie")
    )


def test_a_request_dispatched_around_the_wsgi_app_only_returns_urls() -> None:
    """Links are collected around ``app.wsgi_app``; dispatching by hand skips it, harmlessly."""
    app = build_app(DictConnector())
    with app.test_request_context("/push?u=/a.css"):
        response = app.full_dispatch_request()
    assert response.status_code == 200
    assert "Link" not in response.headers


def test_a_request_dispatched_around_the_wsgi_app_is_harmless_with_early_hints_on() -> None:
    """With FIREHOSE_EARLY_HINTS the 103 hook runs before the view too: outside
    ``app.wsgi_app`` there is no record, so it sends nothing, and the page is served."""
    app = build_app(DictConnector(), FIREHOSE_EARLY_HINTS=True)
    with app.test_request_context("/push?u=/a.css"):
        response = app.full_dispatch_request()
    assert response.status_code == 200
    assert "Link" not in response.headers


def test_a_request_dispatched_inside_a_view_leaves_the_view_s_cookie_alone() -> None:
    """A view rendering a fragment through ``app.full_dispatch_request()`` ran our hooks on
    the inner request, under the view's record: the client's digest was read from the
    inner request (no cookie), so the view pushed everything again and wrote a digest
    that forgot the rest."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "nested"
    Firehose(app)

    @app.route("/a")
    def a() -> str:
        return push("/a.css", as_="style")

    @app.route("/page")
    def page() -> str:
        push("/b.css", as_="style")
        with app.test_request_context("/fragment"):
            fragment = app.full_dispatch_request().get_data(as_text=True)
        return fragment

    @app.route("/fragment")
    def fragment() -> str:
        return push("/c.css", as_="style")  # joins the page, as the docs say

    client = app.test_client()
    client.get("/a")
    first = client.get("/page")
    again = client.get("/page")
    assert first.headers["Link"] == (
        "</b.css>; rel=preload; as=style, </c.css>; rel=preload; as=style"
    )
    assert again.headers["Link"] == (
        "</b.css>; rel=preload; as=style; nopush, </c.css>; rel=preload; as=style; nopush"
    )
    assert "Set-Cookie" not in again.headers
    assert client.get("/a").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


def owned_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "owner"
    return app


def pushing_app_inside(middleware: Callable[[Any], Any]) -> Flask:
    """An app whose ``/`` pushes ``/s.css``, ``middleware`` wrapped around its
    ``wsgi_app`` before ``Firehose(app)``: inside our wrapper."""
    app = owned_app()
    app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push("/s.css", as_="style")

    return app


def test_a_middleware_that_builds_a_new_environ_keeps_the_links() -> None:
    """The record is the request's, whatever environ object Flask's request was made from:
    a middleware inside ours may hand the app a new dict."""

    def new_environ(wsgi_app: Any) -> Any:
        """A WSGI adapter that hands the app the fields it knows, in a dict of its own."""
        known = [
            *("REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "QUERY_STRING", "HTTP_HOST"),
            *("SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "HTTP_COOKIE"),
            *("wsgi.url_scheme", "wsgi.input", "wsgi.errors"),
        ]
        return lambda environ, start_response: wsgi_app(
            {name: environ[name] for name in known if name in environ}, start_response
        )

    client = pushing_app_inside(new_environ).test_client()
    assert client.get("/").headers["Link"] == "</s.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</s.css>; rel=preload; as=style; nopush"


def test_a_view_calling_the_wsgi_app_with_its_own_environ_keeps_its_links() -> None:
    app = owned_app()
    Firehose(app)

    @app.route("/outer")
    def outer() -> str:
        push("/outer.css", as_="style")

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            return None

        environ = request.environ  # the very dict, its path changed for the call
        environ["PATH_INFO"] = "/inner"
        try:
            b"".join(app.wsgi_app(environ, start_response))
        finally:
            environ["PATH_INFO"] = "/outer"
        return "outer"

    @app.route("/inner")
    def inner() -> str:
        return push("/inner.css", as_="style")

    client = app.test_client()
    assert client.get("/outer").headers["Link"] == "</outer.css>; rel=preload; as=style"
    assert client.get("/outer").headers["Link"] == "</outer.css>; rel=preload; as=style; nopush"


def lazily(wsgi_app: Any) -> Any:
    """A middleware written as a generator function: the app runs at the first chunk."""

    def middleware(environ: Any, start_response: Any) -> Iterator[bytes]:
        yield from wsgi_app(environ, start_response)

    return middleware


@pytest.mark.parametrize(
    "middleware",
    [lazily, lambda wsgi_app: DebuggedApplication(wsgi_app, evalex=False)],
    ids=["generator", "DebuggedApplication"],
)
def test_a_lazy_middleware_inside_ours_keeps_the_links(middleware: Any) -> None:
    """A middleware wrapped around ``app.wsgi_app`` before ``init_app`` that is a generator
    (Werkzeug's ``DebuggedApplication``) returns before the app has run: the app ran once
    our wrapper had given the record back, and every page went out without a Link or a
    digest, silently."""
    client = pushing_app_inside(middleware).test_client()
    first = client.get("/")
    assert first.headers["Link"] == "</s.css>; rel=preload; as=style"
    assert first.headers["Set-Cookie"].startswith("h2-digest=")
    assert client.get("/").headers["Link"] == "</s.css>; rel=preload; as=style; nopush"


class LazyBodyWithoutClose:
    """A middleware's own lazy body: an iterator that runs the app at its first chunk and
    has no ``close()`` (PEP 3333 makes it optional)."""

    def __init__(self, wsgi_app: Any, environ: Any, start_response: Any) -> None:
        self._call: tuple[Any, Any, Any] = (wsgi_app, environ, start_response)
        self._chunks: Iterator[bytes] | None = None

    def __iter__(self) -> LazyBodyWithoutClose:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            wsgi_app, environ, start_response = self._call
            self._chunks = iter(wsgi_app(environ, start_response))
        return next(self._chunks)


def test_a_lazy_body_without_close_is_read_to_its_end_with_the_links() -> None:
    """Every chunk of a lazy body is read, and closing ours is a no-op where the body
    has no ``close()`` of its own."""
    app = owned_app()
    app.wsgi_app = functools.partial(LazyBodyWithoutClose, app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/")
    def index() -> Response:
        push("/s.css", as_="style")
        return Response(iter(["<p>one", "<p>two"]))

    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.extend(value for name, value in headers if name == "Link")

    body = app.wsgi_app(EnvironBuilder("/").get_environ(), start_response)
    assert list(body) == [b"<p>one", b"<p>two"]
    assert started == ["</s.css>; rel=preload; as=style"]
    cast("Any", body).close()
    assert current_record.get() is None


def test_a_lazy_body_closed_early_closes_the_app_s_and_leaves_no_record_current() -> None:
    """A client gone after the first chunk: the server closes the body, which closes the
    lazy app's own (PEP 3333); between chunks, and after, no record is current."""
    app = owned_app()
    app.wsgi_app = lazily(app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)
    closed: list[bool] = []

    @app.route("/")
    def index() -> Response:
        push("/s.css", as_="style")

        def chunks() -> Iterator[str]:
            try:
                yield "<p>one"
                yield "<p>two"
            finally:
                closed.append(True)

        return Response(chunks())

    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.extend(value for name, value in headers if name == "Link")

    body = app.wsgi_app(EnvironBuilder("/").get_environ(), start_response)
    assert next(iter(body)) == b"<p>one"
    assert started == ["</s.css>; rel=preload; as=style"]
    assert current_record.get() is None
    cast("Any", body).close()
    assert closed == [True]
    assert current_record.get() is None


def test_a_lazy_app_mounted_inside_another_s_wsgi_app_closes_as_its_body_does() -> None:
    """``DispatcherMiddleware`` hands the mounted app the request's environ itself, which
    each app's wrapper names its record in, and a lazy mounted app's body is wrapped by
    both: the inner one's ``close()`` takes that name away, and the outer one's, finding
    none, must still close without raising (a ``KeyError`` of ours would reach the server,
    which logs it as the app's error)."""
    shop = pushing_app_inside(lazily)
    site = owned_app()
    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})  # type: ignore[method-assign]
    Firehose(site)
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.extend(value for name, value in headers if name == "Link")

    body = site.wsgi_app(EnvironBuilder("/shop/").get_environ(), start_response)
    assert list(body) == [b"/s.css"]
    assert started == ["</s.css>; rel=preload; as=style"]
    cast("Any", body).close()
    assert current_record.get() is None


@pytest.mark.parametrize(
    "where",
    [
        "url value preprocessor",
        "url value preprocessor before init_app",
        "url value preprocessors before init_app",
        "hooks replaced",
        "url value preprocessor put before ours",
    ],
)
def test_a_request_claims_its_record_before_anything_it_runs(where: str) -> None:
    """Requests dispatched from an error handler that an url value preprocessor's abort
    reached (one registered before init_app too, first of several), or from a view of an
    app whose before_request list was replaced after init_app, came first to our hooks and
    decided the page from their own, cookie-less, request: everything pushed again on every
    visit, nothing recorded. One put before ours after init_app still does so, as
    ``claim``'s docstring says, but the page keeps every link."""
    app = owned_app()
    extension = Firehose()
    if not where.endswith("before init_app"):
        extension.init_app(app)

    def fragment() -> str:
        with app.test_request_context("/fragment"):
            return app.full_dispatch_request().get_data(as_text=True)

    @app.route("/fragment")
    def fragment_view() -> str:
        return push("/fragment.css", as_="style")

    @app.route("/<lang>/page")
    def page(lang: str) -> str:
        push("/page.css", as_="style")
        return fragment()

    if where.startswith("url value preprocessor"):

        @app.url_value_preprocessor
        def language(endpoint: str | None, values: dict[str, Any] | None) -> None:
            if values and values.get("lang") not in ("en", "fr"):
                abort(404)

        @app.errorhandler(404)
        def choose(error: Exception) -> tuple[str, int]:
            push("/page.css", as_="style")
            return fragment(), 200

        path = "/xx/page"
        if where.endswith("before ours"):
            preprocessors = app.url_value_preprocessors[None]
            preprocessors.insert(0, preprocessors.pop())
        if where.endswith("before init_app"):
            if where.startswith("url value preprocessors"):
                app.url_value_preprocessor(lambda endpoint, values: None)
            extension.init_app(app)
    else:
        app.before_request_funcs = {None: [lambda: None]}
        path = "/en/page"
    client = app.test_client()
    links = "</page.css>; rel=preload; as=style, </fragment.css>; rel=preload; as=style"
    assert client.get(path).headers["Link"] == links
    if where.endswith("before ours"):
        assert client.get(path).headers["Link"] == links
    else:
        held = links.replace(", ", "; nopush, ") + "; nopush"
        assert client.get(path).headers["Link"] == held


def test_a_hook_that_answers_for_the_view_gets_its_own_links() -> None:
    """A before_request hook registered before the extension pushes and answers (a login
    redirect): the response, a 302, is still the request's own, pushed and recorded."""
    app = owned_app()

    @app.before_request
    def login() -> Any:
        push("/login.css", as_="style")
        return redirect("/login") if request.path == "/private" else None

    Firehose(app)

    @app.route("/private")
    def private() -> str:
        return "private"

    client = app.test_client()
    first, again = client.get("/private"), client.get("/private")
    assert (first.status_code, again.status_code) == (302, 302)
    assert first.headers["Link"] == "</login.css>; rel=preload; as=style"
    assert again.headers["Link"] == "</login.css>; rel=preload; as=style; nopush"


def test_a_thread_sees_the_page_only_in_a_copy_of_the_context() -> None:
    """As docs/how-it-works.md says: Flask's copy_current_request_context copies its own
    context, not the page's collection; contextvars.copy_context() copies both."""
    import contextvars
    import threading

    from flask import copy_current_request_context

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "threads"
    Firehose(app)

    def in_thread(work: Callable[[], object]) -> str:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return "page"

    @app.route("/flask")
    def flask_copy() -> str:
        return in_thread(copy_current_request_context(lambda: push("/t.css", as_="style")))

    @app.route("/contextvars")
    def contextvars_copy() -> str:
        context = contextvars.copy_context()
        return in_thread(lambda: context.run(push, "/t.css", as_="style"))

    client = app.test_client(use_cookies=False)
    assert "Link" not in client.get("/flask").headers
    assert client.get("/contextvars").headers["Link"] == "</t.css>; rel=preload; as=style"


def test_a_thread_pushing_in_a_copy_of_the_context_after_the_page_changes_nothing() -> None:
    """A thread started with a copy of the view's context, as every thread starts on a
    free-threaded Python 3.14 (``sys.flags.thread_inherit_context``), that pushes once
    the page was answered: the push raises nothing, and neither that page nor the next
    links it."""
    import contextvars
    import threading

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "threads"
    Firehose(app)
    raised: list[BaseException] = []
    started: list[tuple[threading.Thread, threading.Event]] = []

    def late(answered: threading.Event) -> None:
        answered.wait(10)
        try:
            push("/late.css", as_="style")
        except BaseException as error:  # any error is what is checked
            raised.append(error)

    @app.route("/page")
    def page() -> str:
        answered = threading.Event()
        thread = threading.Thread(target=contextvars.copy_context().run, args=(late, answered))
        thread.start()
        started.append((thread, answered))
        return push("/a.css", as_="style")

    def answered_then_pushed() -> TestResponse:
        response = client.get("/page")
        thread, answered = started[-1]
        answered.set()
        thread.join(10)
        assert not thread.is_alive()
        return response

    client = app.test_client()
    first, again = answered_then_pushed(), answered_then_pushed()

    assert raised == []
    assert first.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert again.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


def _push_late_once_told(
    told: threading.Event, pushed: threading.Event, raised: list[BaseException]
) -> None:
    """What a thread with a copy of a request's context does in the tests below: push
    ``/late.css`` once ``told``, keep any error in ``raised``, then set ``pushed``."""
    told.wait(10)
    try:
        push("/late.css", as_="style")
    except BaseException as error:  # any error is what is checked
        raised.append(error)
    pushed.set()


def test_a_thread_pushing_in_a_copy_of_the_context_while_the_links_are_decided(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A thread with a copy of the view's context (as every thread starts on a
    free-threaded Python 3.14) that pushes while our step plans the page's links: the page
    is linked as pushed when the step began. Read as the thread added to them, a page its
    103 offered a push for raised RuntimeError (dictionary changed size during
    iteration), logged as the connector's failure, and nothing was pushed; where the 103
    is learned, the same race was a 500."""
    import contextvars

    deciding, asked, pushed = threading.Event(), threading.Event(), threading.Event()
    raised: list[BaseException] = []
    threads: list[threading.Thread] = []

    class HandingOver:
        """What the client holds, answered, once the view has returned, after the view's
        thread has pushed: the push lands while the links are planned."""

        def __init__(self, held: Container[str]) -> None:
            self.held = held

        def __contains__(self, key: object) -> bool:
            if deciding.is_set() and not asked.is_set():
                asked.set()
                pushed.wait(10)
            return key in self.held

    class Connector(DigestConnector):
        def open(self, app: Flask, request: Request) -> Any:
            held = super().open(app, request)
            return None if held is None else HandingOver(held)

        def save(self, app: Flask, response: Response, held: Any, *keys: Any) -> None:
            super().save(app, response, held.held, *keys)

    app = Flask(__name__)
    app.config.update(SECRET_KEY="threads", FIREHOSE_EARLY_HINTS=True)
    Firehose(app, connector=Connector())

    late = functools.partial(_push_late_once_told, asked, pushed, raised)

    @app.route("/page")
    def page() -> str:
        thread = threading.Thread(target=contextvars.copy_context().run, args=(late,))
        thread.start()
        threads.append(thread)
        return push("/a.css", as_="style")

    @app.after_request
    def last_hook(response: Response) -> Response:
        deciding.set()  # our step runs after every after_request hook
        return response

    sent: list[object] = []
    navigation = {
        "wsgi.early_hints": sent.append,
        "HTTP_ACCEPT": "text/html",
        "HTTP_SEC_FETCH_MODE": "navigate",
        "HTTP_SEC_FETCH_DEST": "document",
    }

    def visit() -> TestResponse:  # a new client: it holds nothing
        response = app.test_client().get("/page", environ_base=navigation)
        threads[-1].join(10)
        assert not threads[-1].is_alive()
        for event in (deciding, asked, pushed):
            event.clear()
        return response

    learned, hinted = visit(), visit()

    assert raised == []
    assert sent == [[("Link", "</a.css>; rel=preload; as=style")]]  # the second visit's
    assert learned.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert hinted.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_a_thread_a_before_request_hook_starts_pushing_while_the_103_is_planned() -> None:
    """A ``before_request`` hook that pushes, then starts a thread with a copy of its
    context (as every thread starts on a free-threaded Python 3.14) that pushes on: our
    103 offers what the hooks had pushed when it was planned, and the page links the
    thread's push too. Read as the thread added to it, the 103's loop raised RuntimeError
    (dictionary changed size during iteration), a 500. No code of the app's runs inside
    that loop: a profile function hands over to the thread as the loop's generator
    starts, so the push lands in it every time."""
    import contextvars
    import sys
    from types import FrameType

    planning, pushed = threading.Event(), threading.Event()
    raised: list[BaseException] = []
    threads: list[threading.Thread] = []
    handed_over: list[bool] = []

    late = functools.partial(_push_late_once_told, planning, pushed, raised)

    app = Flask(__name__)
    app.config.update(SECRET_KEY="threads", FIREHOSE_EARLY_HINTS=True)

    @app.before_request
    def hook() -> None:  # registered before Firehose(app): it runs before our 103
        push("/a.css", as_="style")
        push("/b.css", as_="style")
        thread = threading.Thread(target=contextvars.copy_context().run, args=(late,))
        thread.start()
        threads.append(thread)

    Firehose(app)

    @app.route("/page")
    def page() -> str:
        return "page"

    def hand_over(frame: FrameType, event: str, arg: object) -> None:
        # A generator's frame is called each time it resumes: at its first, in the 103's
        # planning, the iterator over the pushes it reads is made.
        caller = frame.f_back
        if (
            event == "call"
            and frame.f_code.co_name == "<genexpr>"
            and caller is not None
            and caller.f_code.co_name == "_send_early_hints"
            and not handed_over
        ):
            handed_over.append(True)
            planning.set()
            pushed.wait(10)

    sent: list[object] = []
    navigation = {
        "wsgi.early_hints": sent.append,
        "HTTP_ACCEPT": "text/html",
        "HTTP_SEC_FETCH_MODE": "navigate",
        "HTTP_SEC_FETCH_DEST": "document",
    }
    profile = sys.getprofile()
    sys.setprofile(hand_over)  # this thread's alone, which serves the request
    try:
        response = app.test_client().get("/page", environ_base=navigation)
    finally:
        sys.setprofile(profile)
        planning.set()  # the thread ends, handed over or not
    threads[-1].join(10)

    assert not threads[-1].is_alive()
    assert handed_over, "no generator of _send_early_hints ran: hand over elsewhere"
    assert raised == []
    assert response.status_code == 200
    assert sent == [[("Link", "</a.css>; rel=preload; as=style, </b.css>; rel=preload; as=style")]]
    assert response.headers["Link"] == ", ".join(
        f"</{name}.css>; rel=preload; as=style" for name in ("a", "b", "late")
    )


@pytest.mark.parametrize(
    ("arguments", "keywords", "written"),
    [
        # Flask-Firehose appended positional arguments as they were: "name=value" ones too.
        (("rel=preload", "as=style"), {}, "</a.css>; rel=preload; as=style"),
        (
            ('type="font/woff2"', "crossorigin"),
            {"as": "font"},
            '</a.css>; rel=preload; as=font; type="font/woff2"; crossorigin',
        ),
        # It wrote every keyword with str(): a number still is one.
        ((), {"as_": "style", "importance": 1}, "</a.css>; rel=preload; as=style; importance=1"),
        # Corrected: True is the bare flag, None and False leave the parameter out.
        ((), {"as_": "font", "crossorigin": True}, "</a.css>; rel=preload; as=font; crossorigin"),
        ((), {"as_": "font", "crossorigin": None}, "</a.css>; rel=preload; as=font"),
        # A font is fetched in CORS mode: without crossorigin its preload is not used.
        ((), {"as_": "font"}, "</a.css>; rel=preload; as=font; crossorigin"),
        (("AS=font",), {}, "</a.css>; rel=preload; as=font; crossorigin"),
        (
            ("crossorigin=use-credentials",),
            {"as_": "font"},
            "</a.css>; rel=preload; as=font; crossorigin=use-credentials",
        ),
        ((), {"as_": "style", "media": False}, "</a.css>; rel=preload; as=style"),
        # A keyword, whatever its value, stands for its name: a positional one is dropped.
        (("as=script",), {"as_": "style"}, "</a.css>; rel=preload; as=style"),
        (("as=script",), {"as": "style"}, "</a.css>; rel=preload; as=style"),
        (("as=script",), {"as": None}, "</a.css>; rel=preload"),
        (("as=script",), {"AS": "style"}, "</a.css>; rel=preload; as=style"),
        # A font's crossorigin, its as and the name crossorigin read in any case, and a
        # "name = value" read without its spaces, as Flask-Firehose's users spelled it.
        ((), {"as_": "FONT"}, "</a.css>; rel=preload; as=FONT; crossorigin"),
        (("CrossOrigin",), {"as_": "font"}, "</a.css>; rel=preload; as=font; CrossOrigin"),
        (
            ("crossorigin = anonymous",),
            {"as_": "font"},
            "</a.css>; rel=preload; as=font; crossorigin=anonymous",
        ),
        ((" as = style ",), {}, "</a.css>; rel=preload; as=style"),
        # Of a name given twice as "name=value", the first, as a parser reads only the
        # first of rel, media, title and type (RFC 8288 §3.3, §3.4.1).
        (("title=a", "title=b"), {}, "</a.css>; rel=preload; title=a"),
        (("as=style", "AS=script"), {}, "</a.css>; rel=preload; as=style"),
        # as_ and a keyword spelling of as: one rule, in any case, as_ first.
        ((), {"as_": "style", "as": "script"}, "</a.css>; rel=preload; as=style"),
        ((), {"as_": "style", "AS": "script"}, "</a.css>; rel=preload; as=style"),
        (
            ("crossorigin=anonymous",),
            {"as": "font", "crossorigin": True},
            "</a.css>; rel=preload; as=font; crossorigin",
        ),
        (
            ("crossorigin",),
            {"as": "font", "crossorigin": True},
            "</a.css>; rel=preload; as=font; crossorigin",
        ),
        (
            ("crossorigin=use-credentials",),
            {"as": "font", "crossorigin": None},
            "</a.css>; rel=preload; as=font",
        ),
    ],
)
def test_flask_firehose_argument_forms_are_written_as_links(
    arguments: tuple[str, ...], keywords: dict[str, Any], written: str
) -> None:
    response = first_visit(*arguments, **keywords)
    assert response.status_code == 200
    assert response.headers["Link"] == written


def first_visit(*arguments: Any, **keywords: Any) -> TestResponse:
    """A first visit to a page whose view calls ``push("/a.css", *arguments, **keywords)``,
    in an app of its own (so through an empty cookie jar and push()'s own cache)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "forms"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push("/a.css", *arguments, **keywords)

    return app.test_client().get("/")


@pytest.mark.parametrize(
    ("arguments", "keywords"),
    [((), {"rel": True}), ((), {"as": True}), ((), {"a=b": True}), (("=x",), {}), ((1,), {})],
)
def test_push_and_hints_refuse_the_same_spellings(
    arguments: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        Firehose.hints("/a.css", *arguments, **keywords)
    with pytest.raises(ValueError):
        push("/a.css", *arguments, **keywords)


def test_push_and_hints_write_the_same_link_for_the_same_spellings() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "forms"
    Firehose(app)
    spellings: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {"as_": "script", "as": "style"}),
        (("as=script", "type=font/woff2"), {"crossorigin": True, "importance": 1}),
    ]
    for n, (arguments, keywords) in enumerate(spellings):

        @app.route(f"/declared/{n}", endpoint=f"declared{n}")
        @Firehose.hints(f"/{n}.css", *arguments, **keywords)
        def declared() -> str:
            return "declared"

        @app.route(f"/pushed/{n}", endpoint=f"pushed{n}")
        def pushed(n: int = n) -> str:
            return push(f"/{n}.css", *spellings[n][0], **spellings[n][1])

    for n in range(len(spellings)):
        client = app.test_client(use_cookies=False)
        assert (
            client.get(f"/declared/{n}").headers["Link"]
            == client.get(f"/pushed/{n}").headers["Link"]
        )


def test_true_and_one_are_two_links_not_one_cached_resource() -> None:
    """True == 1 in Python, so push()'s cache would have answered one with the other."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "forms"
    Firehose(app)

    @app.route("/<int:n>")
    def page(n: int) -> str:
        return push(f"/{n}.woff2", as_="font", crossorigin=True if n == 1 else 1)

    client = app.test_client()
    assert client.get("/1").headers["Link"] == "</1.woff2>; rel=preload; as=font; crossorigin"
    assert client.get("/1").headers["Link"].endswith("; crossorigin; nopush")
    with app.test_request_context():
        push("/2.woff2", as_="font", crossorigin=True)
    assert client.get("/2").headers["Link"] == "</2.woff2>; rel=preload; as=font; crossorigin=1"


class ExtensionConnector:
    """A Flask-Firehose connector that is a Flask extension too, set up by its app."""

    def __init__(self, app: Flask) -> None:
        self.store: set[str] = set()
        self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.add_url_rule("/pushed", "pushed", lambda: ",".join(sorted(self.store)))

    def get_pushed(self) -> set[str]:
        return set(self.store)

    def set_pushed(self, items: set[str]) -> None:
        self.store = set(items)


class StaticWithInit:
    """Flask-Firehose style static methods, beside an init_app that needs an instance."""

    store: ClassVar[set[str]] = set()

    @staticmethod
    def get_pushed() -> set[str]:
        return set(StaticWithInit.store)

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        StaticWithInit.store = set(items)

    def init_app(self, app: Flask) -> None:
        raise AssertionError("Flask-Firehose never called a connector's init_app")


@pytest.mark.parametrize("make", [ExtensionConnector, lambda app: StaticWithInit])
def test_a_flask_firehose_connector_is_used_as_it_is_its_init_app_not_called(
    make: Callable[[Flask], Any],
) -> None:
    StaticWithInit.store = set()  # its class holds the store: a run of its own each time
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "legacy"

    @app.route("/")
    def index() -> str:
        return push("/a.css", as_="style")

    Firehose(app, connector=make(app))
    client = app.test_client()
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


class CookieKeyedStore:
    """A Flask-Firehose connector over a server-side store keyed by a cookie of its own,
    which it sets, having no response, with ``after_this_request`` from ``get_pushed()``,
    as Flask's documentation shows for a view (Flask-Firehose asked it from a
    ``before_request`` hook)."""

    def __init__(self) -> None:
        self.store: dict[str, set[str]] = {}

    def _sid(self) -> str:
        if "push_sid" not in g:
            sid = request.cookies.get("push_sid")
            if sid is None:
                sid = f"sid{len(self.store)}"

                @after_this_request
                def remember(response: Response) -> Response:
                    response.set_cookie("push_sid", sid, httponly=True)
                    return response

            g.push_sid = sid
        return str(g.push_sid)

    def get_pushed(self) -> set[str]:
        return set(self.store.get(self._sid(), ()))

    def set_pushed(self, items: set[str]) -> None:
        self.store[self._sid()] = set(items)


def test_a_flask_firehose_connector_s_after_this_request_callback_runs() -> None:
    """Flask-Firehose called ``get_pushed()`` before the view, so what it registered with
    ``after_this_request`` ran on the response. Called from our ``after_request`` step,
    after Flask has run the request's callbacks, it never runs: no cookie is set, each
    request is a new client, every link is pushed on every visit, and the store gains an
    entry per request (behind nginx: 250 pushes in 50 views, 197 redundant, 50 entries;
    with Flask-Firehose 53 pushes and one entry), with no error logged."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "legacy"
    connector = CookieKeyedStore()
    Firehose(app, connector=connector)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style"))
    client = app.test_client()
    first = client.get("/")
    assert first.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get_cookie("push_sid") is not None, "the connector's cookie was never set"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert len(connector.store) == 1


def test_a_flask_firehose_connector_is_not_asked_once_a_later_init_app_turns_push_off() -> None:
    """A second ``init_app`` with ``FIREHOSE_ENABLED = False`` turns push off: no Link, and
    the connector is not asked (the after_request step and the 103 hook both check; the
    early ``get_pushed()`` hook did not at 49fdbef, and its read of the session added
    ``Vary: Cookie`` to every response of an app with push off)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "legacy"
    connector = CountedListInSession()
    Firehose(app, connector=connector)
    app.config["FIREHOSE_ENABLED"] = False
    Firehose(app, connector=connector)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style"))
    response = app.test_client().get("/")
    assert "Link" not in response.headers
    assert connector.asked == 0
    assert "Vary" not in response.headers


def test_a_connector_a_later_init_app_puts_in_a_flask_firehose_one_s_place_is_asked_late() -> None:
    """A second ``init_app`` with ``SessionConnector()`` in place of a Flask-Firehose
    connector: the early ``get_pushed()`` hook the first one added stays on the app, and
    asks neither. A page that pushes nothing is not asked (``SessionConnector`` reading
    the session would add ``Vary: Cookie`` to it, as the old one is asked before every
    view), and a page that pushes records in the session, under our key."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "legacy"
    old = CountedListInSession()
    firehose = Firehose(app, connector=old)
    firehose.connector = SessionConnector()
    firehose.init_app(app)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style"))
    app.add_url_rule("/api", "api", lambda: {"ok": True})
    client = app.test_client()
    assert "Vary" not in client.get("/api").headers
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    with client.session_transaction() as sess:
        assert dict(sess) == {"h2-held": ["/a.css"]}
    assert old.asked == 0


def _legacy_app(connector: Any) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "legacy"
    Firehose(app, connector=connector)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style"))
    app.add_url_rule("/api", "api", lambda: {"ok": True})
    return app


def test_a_flask_firehose_connector_is_not_asked_for_what_no_view_answers() -> None:
    """A 404 before any view (and an OPTIONS, a static file) links nothing: the connector
    is not asked, and a connector reading Flask's session adds no ``Vary: Cookie``."""
    connector = CountedListInSession()
    client = _legacy_app(connector).test_client()
    assert client.get("/").headers.getlist("Vary") == ["Cookie"]
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Vary" not in response.headers
    assert connector.asked == 1


def test_a_flask_firehose_connector_is_not_asked_for_a_static_file(tmp_path: Path) -> None:
    """A static file links nothing (_may_link): the early ``get_pushed()`` hook asks
    nothing for it either, so a connector reading Flask's session puts no ``Vary: Cookie``
    on the file (a preloaded file fetched twice) and registers no cookie of its own there."""
    (tmp_path / "app.css").write_bytes(b"a{}\n")
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    app.config["SECRET_KEY"] = "legacy"
    connector = CountedListInSession()
    Firehose(app, connector=connector)
    with app.test_client().get("/static/app.css") as response:
        assert response.status_code == 200
        assert "Vary" not in response.headers
    assert connector.asked == 0


def test_a_flask_firehose_connector_is_asked_before_every_view_as_flask_firehose_asked() -> None:
    """Before the view of a JSON answer too, as Flask-Firehose asked (its before_request
    hook): a connector reading Flask's session makes that answer vary on ``Cookie``, as
    it did under Flask-Firehose, which this compares with."""
    import flask_firehose  # type: ignore[import-untyped]  # in the test extras

    connector = CountedListInSession()
    ours = _legacy_app(connector).test_client().get("/api")
    theirs_app = Flask(__name__)
    theirs_app.config["SECRET_KEY"] = "legacy"
    flask_firehose.Firehose(theirs_app, connector=CountedListInSession())
    theirs_app.add_url_rule("/api", "api", lambda: {"ok": True})
    theirs = theirs_app.test_client().get("/api")
    assert connector.asked == 1
    assert ours.headers.getlist("Vary") == theirs.headers.getlist("Vary") == ["Cookie"]


class FlaskStyleInit:
    def init_app(self, app: Flask) -> None: ...
    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None: ...


class SaveWithoutReused:
    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any) -> None: ...


def with_the_old_save_signature(method: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator written for a save() of four arguments, around one."""

    @functools.wraps(method)
    def wrapper(self: Any, app: Flask, response: Any, held: Any, pushed: Any) -> Any:
        return method(self, app, response, held, pushed)

    return wrapper


class WrappedSaveWithoutReused(SaveWithoutReused):
    @with_the_old_save_signature
    def save(self, app: Flask, response: Any, held: Any, pushed: Any) -> None: ...


class OpenKeywordOnly:
    def open(self, *, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None: ...


class SetPushedWithoutItems:
    def get_pushed(self) -> set[str]:
        return set()

    def set_pushed(self) -> None: ...


class AsyncSave:
    """An async store's client, awaited in the connector: its coroutine was never awaited,
    so nothing was recorded, and every visit pushed everything again."""

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    async def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would await a store."""


class SyncToAsyncSave:
    """A blocking store's save() wrapped in asgiref's ``sync_to_async`` when the instance is
    made: Python 3.12 marks the wrapper with ``inspect.markcoroutinefunction``; below it,
    asgiref marks it the older way, which only ``asyncio.iscoroutinefunction`` reads."""

    def __init__(self) -> None:
        self.save = sync_to_async(self._save)

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def _save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would write a store."""


class AsyncOpen:
    async def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would write a store."""


class AsyncSetPushed:
    def get_pushed(self) -> set[str]:
        return set()

    async def set_pushed(self, items: Any) -> None:
        """Would await a store."""


class AsyncInitApp(AsyncOpen):
    async def init_app(self, app: Flask, settings: Any) -> None:
        """Would open a pool."""

    def open(self, app: Flask, request: Any) -> frozenset[str]:  # type: ignore[override]
        return frozenset()


def logged(method: Callable[..., Any]) -> Callable[..., Any]:
    """A plain wrapper, as a logging decorator is, around an async or generator method."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    return wrapper


class WrappedAsyncSave:
    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset(self.store)

    @logged
    async def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        self.store.update(pushed)


class AsyncCall:
    async def __call__(self, items: Any) -> None:
        """Would await a store."""


class WrappedAsyncSetPushed:
    def get_pushed(self) -> set[str]:
        return set()

    set_pushed = AsyncCall()


class WrappedAsyncOpen:
    @logged
    async def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would write a store."""


class WrappedAsyncGetPushed:
    @logged
    async def get_pushed(self) -> set[str]:
        return set()

    def set_pushed(self, items: Any) -> None:
        """Would write a store."""


@pytest.mark.parametrize(
    "connector",
    [WrappedAsyncSave(), WrappedAsyncSetPushed(), WrappedAsyncOpen(), WrappedAsyncGetPushed()],
)
def test_an_async_method_init_app_cannot_see_is_an_error_logged_on_the_request(
    connector: Any, caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    """Behind a plain wrapper, or as an object's async ``__call__``: its coroutine, never
    awaited, recorded nothing, silently, and every visit pushed everything again. The
    error says what to do, as ``init_app``'s does for an ``async def`` it can see (it said
    only that the coroutine did nothing)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "async"
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style"))
    response = app.test_client().get("/")
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert (
        "an awaitable: it is called as a plain function, never awaited, so it did nothing: "
        "make it a plain function (run an async store's call to completion in it)"
    ) in caplog.text
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


@pytest.mark.parametrize(
    ("connector", "named"),
    [
        (WrappedAsyncOpen(), "{connector!r}.open()"),
        (WrappedAsyncSave(), "{connector!r}.save()"),
        (WrappedAsyncSetPushed(), ".set_pushed()"),
        (WrappedAsyncGetPushed(), ".get_pushed()"),
    ],
    ids=["open", "save", "set_pushed", "get_pushed"],
)
def test_an_async_method_is_named_in_the_error(
    connector: Any, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The error names the method that returned the coroutine: set_pushed() or
    get_pushed(), which the adapter calls, not the save() or open() the extension called
    (get_pushed()'s named open()); the page keeps its links."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "async"
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style"))
    assert app.test_client().get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    method = named.format(connector=connector)
    assert f"{method} returned 'coroutine', an awaitable" in caplog.text


class Pending:
    """An awaitable with no ``close()``, as an ``asyncio.Future`` has none: what a plain
    wrapper handing an async store's write to a loop (``ensure_future``) returns."""

    def __await__(self) -> Iterator[None]:
        yield None


class SavesLater:
    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset(self.store)

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> Pending:
        return Pending()


def test_an_awaitable_without_close_returned_by_save_is_an_error_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A save() that returns an awaitable other than a coroutine, one with nothing to close:
    the same error, naming its type, and the page keeps its links, ``nopush``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "async"
    connector = SavesLater()
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style"))
    assert app.test_client().get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert (
        f"{connector!r}.save() returned 'Pending', an awaitable: it is called as a plain "
        "function, never awaited, so it did nothing"
    ) in caplog.text


class OnlyGetPushed(Connector):
    """Flask-Firehose's Connector subclassed, after renaming the import, half done."""

    def get_pushed(self) -> set[str]:
        return set()


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        (FlaskStyleInit(), r"init_app\(\) must take \(app, settings\)"),
        (SaveWithoutReused(), r"save\(\) must take \(app, response, held, pushed, reused\)"),
        # Neither the wrapper nor what it wraps takes the extension's arguments.
        (
            WrappedSaveWithoutReused(),
            r"save\(\) must take \(app, response, held, pushed, reused\)",
        ),
        (OpenKeywordOnly(), r"open\(\) must take \(app, request\)"),
        (SetPushedWithoutItems(), r"set_pushed\(\) must take \(items\)"),
        (OnlyGetPushed, r"neither open\(\) and save\(\) nor a callable set_pushed\(\)"),
        (AsyncSave(), r"save\(\) is async"),
        (SyncToAsyncSave(), r"save\(\) is async"),
        (AsyncOpen(), r"open\(\) is async"),
        (AsyncSetPushed(), r"set_pushed\(\) is async"),
        (AsyncInitApp(), r"init_app\(\) is async"),
    ],
)
def test_a_connector_the_extension_cannot_call_fails_at_init_app(
    connector: Any, message: str
) -> None:
    """Each was a TypeError logged on every request, nothing ever pushed; or, for the
    class, a ValueError asking for an instance that would fail for another reason."""
    with pytest.raises(ValueError, match=message):
        Firehose(Flask(__name__), connector=connector)


def test_the_error_for_a_method_the_extension_cannot_call_ends_with_why() -> None:
    """What binding the extension's arguments raised ends the message."""
    with pytest.raises(ValueError) as refused:
        Firehose(Flask(__name__), connector=SaveWithoutReused())
    assert str(refused.value).endswith(
        ": save() must take (app, response, held, pushed, reused), as the extension calls "
        "it: too many positional arguments"
    )


class GeneratorSave:
    """A save() left with a ``yield`` (a store client's streaming write, half converted):
    calling it makes a generator and runs none of its body, so nothing was recorded."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset(self.store)

    def save(
        self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any
    ) -> Iterator[None]:
        self.store.update(pushed)
        yield


class GeneratorSetPushed:
    def __init__(self) -> None:
        self.items: set[str] = set()

    def get_pushed(self) -> set[str]:
        return set(self.items)

    def set_pushed(self, items: Any) -> Iterator[None]:
        self.items = set(items)
        yield


class PlainOpenAndSave:
    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would write a store."""


class GeneratorInitApp(PlainOpenAndSave):
    def init_app(self, app: Flask, settings: Any) -> Iterator[None]:
        yield


class AsyncGeneratorOpen:
    """An async generator: no ``in`` can ask what it yields, on any request."""

    async def open(self, app: Flask, request: Any) -> AsyncIterator[str]:
        yield "/a.css"

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        """Would write a store."""


class AsyncGeneratorGetPushed:
    async def get_pushed(self) -> AsyncIterator[str]:
        yield "/a.css"

    def set_pushed(self, items: Any) -> None:
        """Would write a store."""


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        (GeneratorSave(), r"save\(\) is a generator function"),
        (GeneratorSetPushed(), r"set_pushed\(\) is a generator function"),
        (GeneratorInitApp(), r"init_app\(\) is a generator function"),
        (AsyncGeneratorOpen(), r"open\(\) is an async generator function"),
        (AsyncGeneratorGetPushed(), r"get_pushed\(\) is an async generator function"),
    ],
)
def test_a_connector_method_that_runs_none_of_its_body_fails_at_init_app(
    connector: Any, message: str
) -> None:
    """Called as the extension calls it, a generator function returns a generator and runs
    nothing: save() and set_pushed() recorded nothing, silently, and every visit pushed
    everything again; an async generator's open() or get_pushed() was an error on every
    request. A plain generator's open() or get_pushed() is read: what it yields is held."""
    with pytest.raises(ValueError, match=message):
        Firehose(Flask(__name__), connector=connector)


@pytest.mark.parametrize(
    ("wrapped", "message"),
    [
        (SetPushedWithoutItems(), r"set_pushed\(\) must take \(items\)"),
        (GetPushedForAUser(), r"get_pushed\(\) must take \(\)"),
        (AsyncSetPushed(), r"set_pushed\(\) is async"),
        (GeneratorSetPushed(), r"set_pushed\(\) is a generator function"),
        (AsyncGeneratorGetPushed(), r"get_pushed\(\) is an async generator function"),
        (SessionConnector, r"SessionConnector is a class whose methods need an instance"),
    ],
)
def test_a_flask_firehose_connector_wrapped_by_the_app_is_checked_at_init_app(
    wrapped: Any, message: str
) -> None:
    """``PushedSetConnector`` is exported for an app's own use: one the app wraps itself
    passed init_app unchecked, and each of these failed on every request instead, logged,
    nothing ever recorded. Its connector is checked as a bare one is."""
    with pytest.raises(ValueError, match=message):
        Firehose(Flask(__name__), connector=PushedSetConnector(wrapped))


class AdapterSavingAsync(PushedSetConnector):
    async def save(  # type: ignore[override]
        self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any
    ) -> None:
        super().save(app, response, held, pushed, reused)


class AdapterSavingTwo(PushedSetConnector):
    def save(self, app: Flask, response: Any) -> None:  # type: ignore[override]
        pass


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        (AdapterSavingAsync, r"save\(\) is async"),
        (AdapterSavingTwo, r"save\(\) must take \(app, response, held, pushed, reused\)"),
    ],
)
def test_an_app_s_own_flask_firehose_adapter_is_checked_as_a_connector_too(
    adapter: type[PushedSetConnector], message: str
) -> None:
    """An app's subclass of ``PushedSetConnector`` is a connector of its own: its
    ``open()`` and ``save()`` are checked as any connector's are, besides the connector it
    wraps (checking only that one let such a ``save()`` fail on every request)."""
    with pytest.raises(ValueError, match=message):
        Firehose(Flask(__name__), connector=adapter(_LegacyStore()))


class AdapterWithItsOwnInitApp(PushedSetConnector):
    """An app's adapter whose ``init_app`` sets up what it needs, and never calls
    ``PushedSetConnector.init_app``, which notes the room for the session cookie."""

    def init_app(self, app: Flask, settings: Any) -> None:
        app.config.setdefault("PUSHED_STORE", "session")


def test_an_adapter_whose_init_app_calls_no_super_is_set_up_and_records() -> None:
    """Its own ``init_app`` runs, and its keys are recorded in the session as its base's
    are (within the room its base notes, which the extension notes for it:
    ``test_a_flask_firehose_connector_may_not_grow_the_session_past_the_header_budget``)."""
    app = build_app(AdapterWithItsOwnInitApp(ListInSession))
    assert app.config["PUSHED_STORE"] == "session"
    client = app.test_client()
    assert client.get("/").headers.get_all("Link") == [EXPECTED_FIRST]
    assert client.get("/").headers.get_all("Link") == [EXPECTED_RETURN]
    with client.session_transaction() as sess:
        assert sess["pushed"] == ["/static/app.js", "/static/inter.woff2", "/static/site.css"]


class GeneratorOpen:
    def __init__(self) -> None:
        self.store = {"/a.css"}

    def open(self, app: Flask, request: Any) -> Iterator[str]:
        yield from self.store

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None:
        self.store.update(pushed)


def test_a_generator_open_is_read_as_what_the_client_holds() -> None:
    """What open() yields is held: its generator is read once, before any ``in``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "generator"
    Firehose(app, connector=GeneratorOpen())

    @app.route("/")
    def page() -> str:
        push("/a.css", as_="style")
        push("/b.css", as_="style")
        return "page"

    links = app.test_client().get("/").headers["Link"]
    assert links == "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style"


class TypedGeneratorStore:
    """A connector typed as docs/connectors.md describes it: ``open()`` yields the keys
    held (read whole into a frozenset), ``save()`` is handed tuples."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, app: Flask, request: Request) -> Iterator[str]:
        yield from sorted(self.store)

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        self.store.update(pushed)


def test_a_connector_typed_as_the_docs_describe_it_is_a_connector() -> None:
    """``firehose_digest.Connector`` is the protocol for type checkers, but typed an
    ``open()`` that returns an iterator, and a ``save()`` taking the tuples it is handed,
    as not one: ``mypy --strict`` refused the annotated line below, though the extension
    takes both."""
    connector: Connector = TypedGeneratorStore()
    app = Flask(__name__)
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style") and "page")
    client = app.test_client()

    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


class OwnNamesStore:
    """A connector whose parameters are named as its author likes (``req``, ``resp``)."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, flask_app: Flask, req: Request) -> Container[str]:
        return frozenset(self.store)

    def save(
        self,
        flask_app: Flask,
        resp: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        self.store.update(pushed)


def test_a_connector_naming_its_parameters_otherwise_is_a_connector() -> None:
    """The extension calls ``open()`` and ``save()`` positionally, as docs/connectors.md
    writes them: the protocol's parameters are positional-only, so a type checker takes
    a connector whose own are named otherwise. Named, pyright (1.1.414, strict or not)
    refused the annotated line below ("Parameter name mismatch: "request" versus "req"")
    though the extension takes it; mypy ignores a protocol method's names."""
    for method in (Connector.open, Connector.save):
        parameters = list(inspect.signature(method).parameters.values())[1:]
        assert [p.kind for p in parameters] == [inspect.Parameter.POSITIONAL_ONLY] * len(
            parameters
        ), method
    connector: Connector = OwnNamesStore()
    app = Flask(__name__)
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style") and "page")
    client = app.test_client()

    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


class WrappedGeneratorInitApp(PlainOpenAndSave):
    def __init__(self) -> None:
        self.ran = False

    @logged
    def init_app(self, app: Flask, settings: Any) -> Iterator[None]:
        self.ran = True
        yield


class WrappedAsyncInitApp(PlainOpenAndSave):
    def __init__(self) -> None:
        self.ran = False

    @logged
    async def init_app(self, app: Flask, settings: Any) -> None:
        self.ran = True


@pytest.mark.parametrize(
    ("connector", "returned"),
    [(WrappedGeneratorInitApp(), "generator"), (WrappedAsyncInitApp(), "coroutine")],
    ids=["generator", "async"],
)
def test_an_init_app_that_runs_none_of_its_body_behind_a_wrapper_fails_at_init_app(
    connector: Any, returned: str, recwarn: pytest.WarningsRecorder
) -> None:
    """Its body never ran (a pool never opened), and Firehose(app) went on as if it had:
    what it returned is found at init_app, a ValueError there, as for an unwrapped one."""
    with pytest.raises(ValueError, match=rf"init_app\(\) returned '{returned}'"):
        Firehose(Flask(__name__), connector=connector)
    assert not connector.ran
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


class WrappedGeneratorSave(GeneratorSave):
    save = logged(GeneratorSave.save)


class WrappedGeneratorSetPushed(GeneratorSetPushed):
    set_pushed = logged(GeneratorSetPushed.set_pushed)


@pytest.mark.parametrize(
    ("connector", "method"),
    [(WrappedGeneratorSave(), "save"), (WrappedGeneratorSetPushed(), "set_pushed")],
    ids=["save", "set_pushed"],
)
def test_a_generator_method_init_app_cannot_see_is_an_error_logged_on_the_request(
    connector: Any, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind a plain wrapper: the generator it returned ran nothing, so nothing was
    recorded, silently, and every visit pushed everything again. It is logged as the
    error it is, and the page keeps its links, pushing nothing it cannot record."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "generator"
    Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/a.css", as_="style"))
    link = app.test_client().get("/").headers["Link"]
    assert link == "</a.css>; rel=preload; as=style; nopush"
    assert f".{method}() returned 'generator', which runs none of its body" in caplog.text


def header_line(name: str, value: str) -> int:
    return len(name) + len(": \r\n") + len(value)


@pytest.mark.parametrize("permanent", [False, True], ids=["session", "permanent session"])
def test_session_connector_keeps_the_session_cookie_within_the_header_budget(
    permanent: bool,
) -> None:
    """Versioned keys cost about 27 bytes each of the session cookie: 100 of them broke
    nginx's 4 KB buffer (a 502 on every page after it, behind nginx 1.22). The oldest go
    first, until Link, Vary and the session's Set-Cookie fit FIREHOSE_HEADER_BUDGET; what
    the last page pushed is held, and the app's own session data is kept."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "budget"
    Firehose(app, connector=SessionConnector())

    @app.route("/view/<int:n>")
    def view(n: int) -> str:
        session["user"] = "someone@example.com"
        session.permanent = permanent
        for k in range(max(0, n - 2) * 10, (n + 1) * 10):  # 30 links, 10 of them new
            v = hashlib.blake2b(b"%d" % k, digest_size=5).hexdigest()  # as push_static's
            push(f"/static/assets/r{k}.css?v={v}", as_="style", version=v)
        return "view"

    client = app.test_client()
    budget = app.config["FIREHOSE_HEADER_BUDGET"]
    for n in range(20):
        response = client.get(f"/view/{n}")
        assert response.status_code == 200
        ours = header_line("Link", response.headers["Link"]) + header_line("Vary", "Cookie")
        ours += sum(header_line("Set-Cookie", c) for c in response.headers.getlist("Set-Cookie"))
        assert ours <= budget, (n, ours)
    links = client.get("/view/19").headers["Link"].split(", ")
    assert all(link.endswith("; nopush") for link in links[-10:])  # the last page's, held
    with client.session_transaction() as sess:
        assert sess["user"] == "someone@example.com"
        assert 10 <= len(sess["h2-held"]) < 100


def session_app(own_bytes: int, connector: Any = None, **config: Any) -> Flask:
    """A page pushing ?u= urls, beside ``own_bytes`` of the app's own session data."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="budget", **config)
    Firehose(app, connector=SessionConnector() if connector is None else connector)

    @app.route("/")
    def index() -> str:
        # Random bytes, hex: compression cannot hide them.
        session["own"] = "".join(
            hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(own_bytes // 128)
        )
        for url in request.args.getlist("u"):
            push(url, as_="style")
        return "page"

    return app


class SessionConnectorWithItsOwnInitApp(SessionConnector):
    """An app's subclass whose ``init_app`` sets up what it needs, and never calls
    ``SessionConnector.init_app``, which notes the room for the session cookie."""

    def init_app(self, app: Flask, settings: Any) -> None:
        app.config.setdefault("PUSHED_STORE", "session")


@pytest.mark.parametrize("connector", [SessionConnector, SessionConnectorWithItsOwnInitApp])
@pytest.mark.parametrize("spare", [0, -1], ids=["exactly its room", "one byte over"])
def test_a_session_cookie_exactly_as_long_as_its_room_is_written_and_one_byte_more_is_not(
    spare: int, connector: type[SessionConnector]
) -> None:
    """The session's Set-Cookie line, as Flask writes it (name, value and attributes),
    may take exactly what FIREHOSE_HEADER_BUDGET leaves beside a full Link and Vary; a
    byte less and its keys are not recorded, nor pushed: the proxy's header buffer is the
    bound, and a byte past it is a 502. So for an app's subclass whose ``init_app`` calls
    no ``super().init_app()``: the room its base notes there was never noted, and 100
    versioned keys made a 5.7 KB session cookie, one browsers drop whole."""
    measured = session_app(0).test_client().get("/?u=/a.css")
    line = header_line("Set-Cookie", measured.headers["Set-Cookie"])
    link_budget = 100
    budget = line + header_line("Link", "x" * link_budget) + header_line("Vary", "Cookie")
    app = session_app(
        0, connector(), FIREHOSE_LINK_BUDGET=link_budget, FIREHOSE_HEADER_BUDGET=budget + spare
    )
    client = app.test_client()

    response = client.get("/?u=/a.css")

    fits = spare == 0
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style" + (
        "" if fits else "; nopush"
    )
    with client.session_transaction() as sess:
        assert sess["h2-held"] == (["/a.css"] if fits else [])


#: A session cookie's bound, how the app sets it, and the app's own session bytes beside
#: the pushed key: Werkzeug's default MAX_COOKIE_SIZE, with the header budget raised behind a
#: larger proxy buffer; and Flask's MAX_COOKIE_SIZE, lowered, where Werkzeug warns at each
#: Set-Cookie.
SESSION_BOUNDS = {
    "Werkzeug default": (4093, {"FIREHOSE_HEADER_BUDGET": 1 << 20}, 4864),
    "MAX_COOKIE_SIZE": (2000, {"FIREHOSE_HEADER_BUDGET": 1 << 20, "MAX_COOKIE_SIZE": 2000}, 1024),
}


@pytest.mark.parametrize(
    ("connector", "stored"), [(SessionConnector, "h2-held"), (ListInSession, "pushed")]
)
@pytest.mark.parametrize("past", [0, 1], ids=["at the bound", "one past it"])
@pytest.mark.parametrize(("bound", "config", "own"), SESSION_BOUNDS.values(), ids=SESSION_BOUNDS)
def test_a_session_cookie_is_kept_within_its_bound_whatever_the_header_budget(
    bound: int, config: dict[str, int], own: int, past: int, connector: Any, stored: str
) -> None:
    """With FIREHOSE_HEADER_BUDGET raised behind a larger proxy buffer, the budget alone
    bounded the session cookie: 100 urls of a 64-hex hash grew it to 5.6 KB at a budget of
    8192, past the 4096 bytes of name and value a browser keeps, and it drops such a cookie
    whole (the app's own session data with it); past a lowered MAX_COOKIE_SIZE, Werkzeug warned (an
    error under this suite). A cookie at the bound is written with the pushed key; one
    the key would take a byte past it is not."""
    instance = connector() if connector is SessionConnector else connector
    quiet = {**config, "MAX_COOKIE_SIZE": 0}  # 0: Werkzeug does not warn
    measured = session_app(own, instance, SESSION_COOKIE_NAME="s", **quiet)
    cookie = measured.test_client().get("/?u=/a.css").headers["Set-Cookie"]
    # The session cookie's name sets its length: the value and attributes stay the same.
    name = "s" * (1 + bound + past - len(cookie))
    instance = connector() if connector is SessionConnector else connector
    app = session_app(own, instance, SESSION_COOKIE_NAME=name, **config)
    client = app.test_client()

    response = client.get("/?u=/a.css")

    kept = not past
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style" + (
        "" if kept else "; nopush"
    )
    assert all(len(line) <= bound for line in response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as sess:
        assert sess.get(stored, []) == (["/a.css"] if kept else [])
        assert len(sess["own"]) == own


#: Deploys that leave a session cookie less room than the one a client holds was trimmed
#: to: our header budget lowered (to leave the app's own headers more of nginx's 4 KB),
#: Flask's MAX_COOKIE_SIZE lowered.
SMALLER_ROOM = {
    "FIREHOSE_HEADER_BUDGET lowered": {"FIREHOSE_HEADER_BUDGET": 2560},
    "MAX_COOKIE_SIZE lowered": {"MAX_COOKIE_SIZE": 1000},
}


@pytest.mark.parametrize("linked", [(8, 9), (4, 5)], ids=["the newest keys", "older keys"])
@pytest.mark.parametrize("touched", [True, False], ids=["session set again", "session as sent"])
@pytest.mark.parametrize("redeploy", SMALLER_ROOM.values(), ids=SMALLER_ROOM)
def test_a_session_a_deploy_left_too_large_is_trimmed_where_flask_writes_it_anyway(
    redeploy: dict[str, int], touched: bool, linked: tuple[int, int]
) -> None:
    """A permanent session is written by Flask on every response
    (``SESSION_REFRESH_EACH_REQUEST``). Its list was trimmed to the room the settings of
    its last push left; after a deploy that leaves less, a page that pushes nothing new
    wrote it as it was beside a full ``Link``: past ``FIREHOSE_HEADER_BUDGET`` (behind
    nginx, a 502 on every such page), or past ``MAX_COOKIE_SIZE`` (Werkzeug's warning, an
    error under this suite). The oldest keys go, those the page links are kept (older
    ones too, as used last): whether the page sets the session again
    (``session.permanent = True``) or leaves it as the client sent it, which Flask writes
    again all the same."""

    def site(**config: int) -> Flask:
        app = Flask(__name__)
        app.config.update(SECRET_KEY="budget", **config)
        Firehose(app, connector=SessionConnector())

        @app.route("/view/<int:n>")
        def view(n: int, touch: bool = True) -> str:
            if touch:
                session.permanent = True
            for k in range(n * 10, n * 10 + 10):
                v = hashlib.blake2b(b"%d" % k, digest_size=5).hexdigest()  # as push_static's
                push(f"/static/assets/r{k}.css?v={v}", as_="style", version=v)
            return "view"

        @app.route("/again")
        def again() -> str:
            for n in linked:  # what two views pushed: a full Link
                view(n, touched)
            return "again"

        return app

    client = site().test_client()
    for n in range(10):
        client.get(f"/view/{n}")
    client.application = site(**redeploy)
    app = client.application
    budget = app.config["FIREHOSE_HEADER_BUDGET"]
    for _ in range(2):
        response = client.get("/again")
        links = response.headers["Link"].split(", ")
        assert all(link.endswith("; nopush") for link in links)  # still held
        (cookie,) = response.headers.getlist("Set-Cookie")  # Flask writes it each time
        ours = header_line("Link", response.headers["Link"]) + header_line("Vary", "Cookie")
        assert ours + header_line("Set-Cookie", cookie) <= budget
        assert len(cookie) <= app.config["MAX_COOKIE_SIZE"]


def test_a_session_flask_writes_again_as_sent_is_not_measured_again_while_it_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A permanent session a page leaves as the client sent it is written by Flask again
    (``SESSION_REFRESH_EACH_REQUEST``) as long as it was: where that fits its room, it is
    not serialized, compressed and signed a second time to check it (that doubled what a
    signed-in user's page with only held links cost in the session's work)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "refreshed"
    Firehose(app, connector=SessionConnector())

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "alice"
        push("/a.css", as_="style")
        return "in"

    @app.route("/")
    def index() -> str:
        push("/a.css", as_="style")
        return "page"

    client = app.test_client()
    client.get("/login")
    signed: list[object] = []
    dumps = URLSafeTimedSerializer.dumps

    def counted(self: URLSafeTimedSerializer, obj: Any, salt: Any = None) -> Any:
        signed.append(obj)
        return dumps(self, obj, salt)

    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", counted)
    response = client.get("/")
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert "session=" in response.headers["Set-Cookie"]  # Flask wrote it again
    assert len(signed) == 1  # Flask's own write, and no measure of ours


@pytest.mark.parametrize(
    "connector",
    [
        ListInSession,
        ListInSessionInPlace,
        pytest.param(AdapterWithItsOwnInitApp(ListInSession), id="adapter-without-super"),
    ],
)
@pytest.mark.parametrize("spare", [0, -1], ids=["exactly its room", "one byte over"])
def test_a_flask_firehose_connector_may_not_grow_the_session_past_the_header_budget(
    spare: int, connector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A Flask-Firehose connector kept as it is grows Flask's cookie session with every
    url pushed: behind nginx 1.22 the 502s began at view 78 of the anchors' browse (at 94
    with Flask-Firehose, whose Link left held urls out). What its ``set_pushed`` writes
    may take what the header budget leaves the session's Set-Cookie line, as
    SessionConnector's list may; a byte more, and the session is put back as it was,
    that response's links are nopush and nothing is recorded, said once. So for an app's
    own adapter whose ``init_app`` calls no ``super().init_app()``: the room its base
    notes there was never noted, and such a session grew without bound."""
    measured = session_app(256, ListInSession).test_client().get("/?u=/a.css")
    line = header_line("Set-Cookie", measured.headers["Set-Cookie"])
    link_budget = 100
    budget = line + header_line("Link", "x" * link_budget) + header_line("Vary", "Cookie")
    app = session_app(
        256, connector, FIREHOSE_LINK_BUDGET=link_budget, FIREHOSE_HEADER_BUDGET=budget + spare
    )
    client = app.test_client()

    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        response = client.get("/?u=/a.css")
        client.get("/?u=/a.css")

    fits = spare == 0
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style" + (
        "" if fits else "; nopush"
    )
    with client.session_transaction() as sess:
        assert sess.get("pushed", []) == (["/a.css"] if fits else [])
        assert len(sess["own"]) == 256  # the app's own data is kept
    told = [r for r in caplog.records if "grew the session cookie" in r.getMessage()]
    assert len(told) == (0 if fits else 1)


@pytest.mark.parametrize("connector", [ListInSession, ListInSessionInPlace])
def test_a_session_a_flask_firehose_connector_outgrew_is_put_back_as_it_was(
    connector: Any,
) -> None:
    """Room for one key: the second page's key does not fit, and the session holds the
    first one's alone again, even when ``set_pushed`` extended the stored list in place."""
    measured = session_app(0, ListInSession).test_client().get("/?u=/a.css")
    line = header_line("Set-Cookie", measured.headers["Set-Cookie"])
    budget = line + header_line("Link", "x" * 100) + header_line("Vary", "Cookie")
    app = session_app(0, connector, FIREHOSE_LINK_BUDGET=100, FIREHOSE_HEADER_BUDGET=budget)
    client = app.test_client()
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"

    response = client.get("/?u=/a.css&u=/b.css")

    assert response.headers["Link"] == (
        "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style; nopush"
    )
    with client.session_transaction() as sess:
        assert sess["pushed"] == ["/a.css"]


class ListInSessionThenFails(ListInSession):
    """Writes the session, then its store fails."""

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        session["pushed"] = sorted(items)
        raise ConnectionError("the store went away")


def test_what_a_failing_set_pushed_wrote_to_the_session_is_put_back() -> None:
    """A ``set_pushed`` that raises has recorded nothing, its links are ``nopush``: what
    it wrote to the session before failing is not kept either."""
    app = session_app(0, ListInSessionThenFails)
    client = app.test_client()

    response = client.get("/?u=/a.css")

    assert response.status_code == 200
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    with client.session_transaction() as sess:
        assert "pushed" not in sess


class SetInSession:
    """Flask-Firehose's connector as one writes it first: the set it is handed stored as
    it is, which Flask's session cannot serialize (JSON has no set)."""

    @staticmethod
    def get_pushed() -> set[str]:
        return set(session.get("pushed", []))

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        session["pushed"] = items


def test_a_session_set_pushed_made_unserializable_is_put_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Measuring the session ``set_pushed`` wrote failed with ``TypeError: Object of type
    set is not JSON serializable``, logged as a failed ``save()``, yet the set stayed in
    the session: Flask's own save then failed the same way, and every page that pushed
    something answered 500. What it wrote is put back, as for a ``set_pushed`` that
    raises, and the page is served with its links ``nopush``."""
    app = session_app(0, SetInSession)
    client = app.test_client()

    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = client.get("/?u=/a.css")

    assert response.status_code == 200
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    with client.session_transaction() as sess:
        assert "pushed" not in sess
        assert sess["own"] == ""  # the view's own write is kept
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: PushedSetConnector(<class 'tests.test_extension.SetInSession'>).save() "
        "failed; nothing is recorded"
    ]


def test_what_a_failing_set_pushed_wrote_to_a_server_side_session_is_put_back() -> None:
    """Only Flask's cookie session was copied before ``set_pushed`` ran (to measure it),
    so a session kept server-side kept what a failing one wrote: its keys were held from
    then on, linked ``nopush``, though no response had offered them for push."""
    IdInCookieSessions.store.clear()
    app = session_app(0, ListInSessionThenFails)
    app.session_interface = IdInCookieSessions()
    client = app.test_client()

    response = client.get("/?u=/a.css")

    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert IdInCookieSessions.store["1"]["own"] == ""  # the app's own write is kept
    assert "pushed" not in IdInCookieSessions.store["1"]


class SetInSessionThenFails:
    """Hands out the session's own set, which the extension adds the pushed keys to in
    place, then its store fails."""

    @staticmethod
    def get_pushed() -> set[str]:
        held: set[str] = session.setdefault("pushed", set())
        return held

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        raise ConnectionError("the store went away")


def test_keys_added_in_place_to_a_server_side_session_are_put_back() -> None:
    """The set ``get_pushed()`` returned is the session's own, and the keys are added to
    it in place before ``set_pushed`` runs: a copy of the session's top level shared that
    set, saw no change, and kept the keys of a failed write."""
    IdInCookieSessions.store.clear()
    IdInCookieSessions.store["1"] = {"pushed": set()}  # kept as it is, as pickle keeps it
    app = session_app(0, SetInSessionThenFails)
    app.session_interface = IdInCookieSessions()
    client = app.test_client()
    client.set_cookie("sid", "1")

    response = client.get("/?u=/a.css")

    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert IdInCookieSessions.store["1"]["pushed"] == set()


def _failing_write_app() -> Flask:
    """A page pushing ``/a.css`` that leaves Flask's session alone, beside
    ``ListInSessionThenFails``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "budget"
    Firehose(app, connector=ListInSessionThenFails)
    app.add_url_rule("/", "index", lambda: push("/a.css", as_="style") or "page")
    return app


def test_a_session_put_back_after_a_failing_set_pushed_is_not_written_again() -> None:
    """What a failing ``set_pushed`` wrote is put back with ``clear()`` and ``update()``,
    which mark the session modified: Flask then writes the session cookie as though the
    view had. A client whose session cookie Flask could not read (signed with a key this
    worker does not hold, mid-rollout, or another app's on the same host) had it deleted
    (``Set-Cookie: session=; Expires=Thu, 01 Jan 1970``), where a ``set_pushed`` failing
    without writing leaves it alone; a new client got a deletion for a cookie it never
    had, and with ``SESSION_REFRESH_EACH_REQUEST = False`` a permanent session's expiry
    slides on each such page."""
    other = Flask(__name__)
    other.config["SECRET_KEY"] = "another key"
    with other.test_request_context():
        serializer = other.session_interface.get_signing_serializer(other)  # type: ignore[attr-defined]
        assert serializer is not None
        unreadable = serializer.dumps({"user": "alice"})
    app = _failing_write_app()

    fresh = app.test_client(use_cookies=False).get("/")
    theirs = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": f"session={unreadable}"}
    )

    assert fresh.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert fresh.headers.getlist("Set-Cookie") == []
    assert theirs.headers.getlist("Set-Cookie") == []  # the client's cookie is not deleted


class Handle:
    """An object an app keeps in its session through a JSON tag of its own, holding what
    ``copy.deepcopy`` cannot copy (a lock)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.lock = threading.Lock()


class TagHandle(JSONTag):
    key = " handle"

    def check(self, value: Any) -> bool:
        return isinstance(value, Handle)

    def to_json(self, value: Any) -> Any:
        return value.number

    def to_python(self, value: Any) -> Any:
        return Handle(value)


def test_a_session_holding_what_deepcopy_cannot_copy_still_records_a_flask_firehose_push() -> None:
    """Flask's session may hold any object the app's serializer has a tag for (Flask's
    ``session_interface.serializer.register``). The guard copies the session with
    ``copy.deepcopy`` before ``set_pushed``: for an object that cannot be deep-copied,
    ``save`` failed with ``TypeError: cannot pickle '_thread.lock' object`` before asking
    the connector, on every page, logged as an error with its traceback, and nothing was
    ever pushed to that client."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "budget"
    Firehose(app, connector=ListInSession)
    app.session_interface.serializer.register(TagHandle)  # type: ignore[attr-defined]

    @app.route("/")
    def index() -> str:
        session["handle"] = Handle(1)
        push("/a.css", as_="style")
        return "page"

    client = app.test_client()
    first = client.get("/")
    again = client.get("/")

    assert first.headers["Link"] == "</a.css>; rel=preload; as=style"
    assert again.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


def _handle_session_app(connector: Any, **config: Any) -> Flask:
    """:func:`session_app` with no data of its own but a :class:`Handle` in its session
    (its tag registered with a serializer of the app's own: Flask's is shared)."""
    app = session_app(0, connector, **config)
    interface = SecureCookieSessionInterface()
    interface.serializer = TaggedJSONSerializer()
    interface.serializer.register(TagHandle)
    app.session_interface = interface
    app.before_request(lambda: session.setdefault("handle", Handle(1)) and None)
    return app


class NestedListInPlace:
    """A Flask-Firehose style connector keeping its list a level down, in a dict of its
    own in the session, extended in place."""

    @staticmethod
    def get_pushed() -> set[str]:
        return set(session.get("fh", {}).get("pushed", []))

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        stored = session.setdefault("fh", {}).setdefault("pushed", [])
        stored.extend(sorted(set(items) - set(stored)))
        session.modified = True


@pytest.mark.parametrize(
    ("connector", "stored"),
    [
        (ListInSessionInPlace, lambda sess: sess["pushed"]),
        (NestedListInPlace, lambda sess: sess["fh"]["pushed"]),
    ],
    ids=["list", "list in a dict"],
)
def test_a_session_holding_what_deepcopy_cannot_copy_is_still_kept_within_its_room(
    connector: Any, stored: Callable[[Any], list[str]]
) -> None:
    """The session could not be copied whole, so nothing was put back, and ``save`` then
    skipped every check of what ``set_pushed`` wrote: Flask-Firehose's own connector grew
    the session cookie past its room (behind nginx, a 502 on every page; past 4 KB, a
    cookie browsers drop with the app's own session changes). Room for one key: the second
    page's key does not fit, and the session holds the first one's alone again. Each
    value that can be is copied whole, so a list a level down is put back too."""
    measured = _handle_session_app(connector).test_client().get("/?u=/a.css")
    line = header_line("Set-Cookie", measured.headers["Set-Cookie"])
    budget = line + header_line("Link", "x" * 100) + header_line("Vary", "Cookie")
    app = _handle_session_app(connector, FIREHOSE_LINK_BUDGET=100, FIREHOSE_HEADER_BUDGET=budget)
    client = app.test_client()
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"

    response = client.get("/?u=/a.css&u=/b.css")

    assert response.headers["Link"] == (
        "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style; nopush"
    )
    with client.session_transaction() as sess:
        assert stored(sess) == ["/a.css"]
        assert sess["handle"].number == 1


def test_what_a_failing_set_pushed_wrote_beside_what_deepcopy_cannot_copy_is_put_back() -> None:
    """Nothing was put back for a session that could not be copied whole: the keys a
    failing ``set_pushed`` wrote were held from then on, never pushed."""
    client = _handle_session_app(ListInSessionThenFails).test_client()

    response = client.get("/?u=/a.css")

    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    with client.session_transaction() as sess:
        assert "pushed" not in sess
        assert sess["handle"].number == 1


def test_a_flask_firehose_connector_that_leaves_the_session_alone_records_beside_a_big_one() -> (
    None
):
    """The app's own session past the room the budget leaves it is the app's: a connector
    that does not write the session records what is pushed all the same."""
    connector = InStore()
    app = session_app(2048, connector, FIREHOSE_LINK_BUDGET=100, FIREHOSE_HEADER_BUDGET=1024)
    client = app.test_client()
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert connector.store == {"/a.css"}


def test_session_connector_keeps_what_it_pushes_and_drops_older_keys_to_fit() -> None:
    app = session_app(768)
    client = app.test_client()
    many = [f"/static/{hashlib.sha1(b'%d' % n).hexdigest()}.css" for n in range(40)]
    for chunk in range(0, 40, 10):
        query = "&".join(f"u={url}" for url in many[chunk : chunk + 10])
        assert client.get(f"/?{query}").status_code == 200
    with client.session_transaction() as sess:
        kept = sess["h2-held"]
    assert 10 <= len(kept) < 40 and kept == many[-len(kept) :]
    query = "&".join(f"u={url}" for url in many[-10:])
    assert all(
        link.endswith("; nopush") for link in client.get(f"/?{query}").headers["Link"].split(", ")
    )


def _room_for_five_keys() -> tuple[list[str], FlaskClient, int]:
    """Seven urls, and a client of a session app whose header budget leaves its session's
    Set-Cookie line room for five of them, not six: the urls, the client, the room."""
    urls = [f"/static/{hashlib.sha1(b'%d' % n).hexdigest()}.css" for n in range(7)]
    measuring = session_app(0).test_client()
    # lines[i]: the session's Set-Cookie line once it holds urls[: i + 1].
    lines = [
        header_line("Set-Cookie", measuring.get(f"/?u={url}").headers["Set-Cookie"])
        for url in urls
    ]
    link_budget = 200
    room = (lines[4] + lines[5]) // 2  # five keys fit, six do not
    budget = room + header_line("Link", "x" * link_budget) + header_line("Vary", "Cookie")
    app = session_app(0, FIREHOSE_LINK_BUDGET=link_budget, FIREHOSE_HEADER_BUDGET=budget)
    return urls, app.test_client(), room


def test_a_session_trimmed_to_fit_keeps_the_most_recent_keys_that_fit_and_pushes() -> None:
    """Room for five keys: each page pushes its new key, and the session keeps the five
    most recent, not fewer (the oldest dropped, one at a time), so what a client holds
    is not pushed again sooner than the budget requires."""
    urls, client, _ = _room_for_five_keys()

    for n, url in enumerate(urls):
        response = client.get(f"/?u={url}")

        assert response.headers["Link"] == f"<{url}>; rel=preload; as=style"
        with client.session_transaction() as sess:
            assert sess["h2-held"] == urls[max(0, n - 4) : n + 1]


def test_a_session_trimmed_for_two_new_keys_keeps_the_most_recent_that_fit() -> None:
    """Room for five keys; five are held, and a page pushes two more: the binary search
    over how many to keep ends on the most that fit (five), even when the last count it
    tried (six) did not fit."""
    urls, client, room = _room_for_five_keys()
    for url in urls[:5]:
        client.get(f"/?u={url}")
    response = client.get(f"/?u={urls[5]}&u={urls[6]}")
    assert response.headers["Link"] == (
        f"<{urls[5]}>; rel=preload; as=style, <{urls[6]}>; rel=preload; as=style"
    )
    assert header_line("Set-Cookie", response.headers["Set-Cookie"]) <= room
    with client.session_transaction() as sess:
        assert sess["h2-held"] == urls[2:]


def test_a_session_too_large_for_even_this_responses_keys_pushes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Recorded nowhere, a pushed link would be pushed on every visit: nothing is pushed,
    and none of our keys stay in the session. Said once, as a warning: a session that a
    client's own data grew fails on each of its pages, and a traceback per page floods
    the log."""
    app = session_app(1536)
    client = app.test_client()
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        for _ in range(3):
            response = client.get("/?u=/a.css&u=/b.css")
            assert response.status_code == 200
            assert response.headers["Link"] == (
                "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style; nopush"
            )
    told = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in told] == [logging.WARNING]
    assert "does not fit" in told[0].getMessage()
    assert len([r for r in caplog.records if "recorded nothing" in r.getMessage()]) == 3
    with client.session_transaction() as sess:
        assert sess["h2-held"] == []


def _session_app_pushing_each_u() -> Flask:
    """A page that leaves Flask's session alone and pushes each ``?u=`` url, its keys
    kept by ``SessionConnector``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "budget"
    Firehose(app, connector=SessionConnector())

    @app.route("/")
    def index() -> str:
        for url in request.args.getlist("u"):
            push(url, as_="style")
        return "page"

    return app


@pytest.mark.parametrize("held", [None, [], ["/a.css"]], ids=["no list", "empty", "a key"])
def test_a_session_too_large_for_new_keys_is_not_written_by_a_page_that_left_it_alone(
    held: list[str] | None,
) -> None:
    """A client whose own session data leaves no room for this response's new keys: the
    page, which did not change the session, records nothing, and so writes no session
    cookie either. Written on every page, beside the Link, a session cookie near 4 KB
    would pass nginx's 4 KB header buffer (a 502 on every page), where the app itself
    writes it only on the pages that change it."""
    app = _session_app_pushing_each_u()
    client = app.test_client()
    with client.session_transaction() as sess:
        # Random bytes, hex: compression cannot hide them. Past the room (1250 bytes) the
        # default budgets leave beside a full Link.
        sess["own"] = "".join(
            hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(12)
        )
        if held is not None:
            sess["h2-held"] = held
        sent = dict(sess)
    for _ in range(2):
        response = client.get("/?u=/a.css&u=/b.css")
        assert response.headers["Link"] == (
            "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style; nopush"
        )
        assert "Set-Cookie" not in response.headers
    with client.session_transaction() as sess:
        assert dict(sess) == sent


def test_a_permanent_session_too_large_for_its_first_keys_gains_no_empty_list() -> None:
    """A permanent session, which Flask writes on every response, holding no list yet and
    the app's own data past the room: the page's keys do not fit, so nothing is recorded
    and its links are ``nopush``; the session Flask writes is the one the client sent,
    without an empty ``h2-held`` beside the app's data."""
    app = _session_app_pushing_each_u()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.permanent = True
        # Past the room (1250 bytes) the default budgets leave beside a full Link.
        sess["own"] = "".join(
            hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(12)
        )
        sent = dict(sess)
    response = client.get("/?u=/a.css")
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert "Set-Cookie" in response.headers  # Flask's, for a permanent session
    with client.session_transaction() as sess:
        assert dict(sess) == sent


def test_a_session_connector_that_fails_leaves_the_session_as_the_page_left_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A save() that fails after writing its list (a subclass's own bookkeeping, after
    ``set_pushed``) on a page that left a permanent session alone, which Flask writes on
    every response: written with that list, the session would hold keys never pushed
    (their links are nopush). The session is put back, the failure logged, and the page
    served with its links. (An int ``SECRET_KEY`` failed here too, as the list was
    measured; such a key now leaves the list unopened.)"""

    class FailsAfterWriting(SessionConnector):
        def set_pushed(self, items: Iterable[str]) -> None:
            super().set_pushed(items)
            raise OSError("the write counter is down")

    app = build_app(FailsAfterWriting())
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.permanent = True
        sess["h2-held"] = ["/static/site.css"]
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" in response.headers  # Flask's, for a permanent session
    with client.session_transaction() as sess:
        assert dict(sess) == {"_permanent": True, "h2-held": ["/static/site.css"]}
    assert [record.getMessage() for record in caplog.records] == [
        "firehose: FailsAfterWriting(max_items=100).save() failed; nothing is recorded"
    ]


def test_what_a_failing_session_connector_wrote_is_put_back_beside_the_app_s_changes() -> None:
    """A subclass whose set_pushed() writes the list and then fails (its own bookkeeping,
    say), on a page that signs its user in: the session is written with the user, and
    with the list as the client sent it, not one holding keys that were never pushed
    (their links are nopush: pushed by none, they would be held by the next page)."""

    class CountsItsWrites(SessionConnector):
        def set_pushed(self, items: Iterable[str]) -> None:
            super().set_pushed(items)
            raise OSError("the write counter is down")

    app = build_app(CountsItsWrites())

    @app.route("/sign-in")
    def sign_in() -> str:
        session["user"] = "ada"
        push("/static/new.css", as_="style")
        return "signed in"

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-held"] = ["/static/site.css"]
    response = client.get("/sign-in")
    assert response.headers["Link"] == "</static/new.css>; rel=preload; as=style; nopush"
    with client.session_transaction() as sess:
        assert dict(sess) == {"h2-held": ["/static/site.css"], "user": "ada"}


def test_a_permanent_session_too_large_for_new_keys_is_written_within_its_room() -> None:
    """Flask writes a permanent session on every response: one whose new key does not fit
    beside the app's data pushes nothing, and the list it was sent with, which a lower
    budget no longer leaves room for, is trimmed to the most recent keys that fit, as on a
    page that pushes nothing."""
    app = _session_app_pushing_each_u()
    room = set_cookie_room(app.extensions["firehose"].settings)
    held = [f"/static/{hashlib.sha1(b'%d' % n).hexdigest()}.css" for n in range(20)]
    new = "/n-" + "".join(hashlib.sha1(b"n%d" % n).hexdigest() for n in range(15)) + ".css"
    client = app.test_client()
    with client.session_transaction() as sess:
        sess.permanent = True
        sess["own"] = "".join(
            hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(8)
        )
        sess["h2-held"] = held
    response = client.get(f"/?u={new}")
    assert response.headers["Link"] == f"<{new}>; rel=preload; as=style; nopush"
    assert header_line("Set-Cookie", response.headers["Set-Cookie"]) <= room
    with client.session_transaction() as sess:
        kept = sess["h2-held"]
    assert 0 < len(kept) < len(held) and kept == held[-len(kept) :]


class IdInCookieSessions(SecureCookieSessionInterface):
    """A session interface of Flask's kind whose cookie holds only an id (server-side)."""

    store: ClassVar[dict[str, dict[str, Any]]] = {}

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession:
        sid = request.cookies.get("sid", "")
        return SecureCookieSession(self.store.get(sid, {}))

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        self.store["1"] = dict(session)
        response.set_cookie("sid", "1")


def test_a_session_interface_that_writes_its_own_cookie_is_not_measured() -> None:
    app = session_app(4096)
    app.session_interface = IdInCookieSessions()
    client = app.test_client()
    client.get("/?u=/a.css")
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


class FlakyStoreSessions(IdInCookieSessions):
    """:class:`IdInCookieSessions` whose store fails the second read of a request."""

    store: ClassVar[dict[str, dict[str, Any]]] = {}

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession:
        if request.environ.setdefault("flaky.read", 0) > 0:
            raise ConnectionError("the session store is down")
        request.environ["flaky.read"] += 1
        return super().open_session(app, request)


def test_a_session_store_that_fails_to_be_read_again_does_not_cost_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before writing a server-side session the page only read, ``SessionConnector`` reads
    its store again (another tab's logout may have emptied it). A store that fails that
    second read has not been seen to change: the keys are recorded, as the session
    interface that saves them next reports its own store's failure, and no error is
    logged here."""
    app = session_app(0)
    app.session_interface = FlakyStoreSessions()
    client = app.test_client()

    @app.route("/read")
    def read() -> str:
        push("/a.css", as_="style")
        return "page"

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        assert client.get("/read").headers["Link"] == "</a.css>; rel=preload; as=style"
        again = client.get("/read")
    assert again.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    assert FlakyStoreSessions.store["1"] == {"h2-held": ["/a.css"]}
    assert not caplog.records


class OwnKeySessions(SecureCookieSessionInterface):
    """Flask's cookie session, signed with a key of its own, not ``SECRET_KEY``."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer("its own key", salt=self.salt, serializer=self.serializer)


@pytest.mark.parametrize("key", [123, "k"], ids=["int", "str"])
@pytest.mark.parametrize(
    "interface", [IdInCookieSessions, OwnKeySessions], ids=["server-side", "own key"]
)
def test_a_session_of_flask_s_kind_that_signs_not_with_secret_key_records_whatever_it_is(
    key: object, interface: Callable[[], SecureCookieSessionInterface]
) -> None:
    """A subclass of Flask's interface whose own open and save never sign (its cookie
    holds an id), or that signs with a key of its own, takes an int ``SECRET_KEY`` as a
    server-side session does: it records."""
    app = build_app(SessionConnector(), SECRET_KEY=key)
    app.session_interface = interface()
    client = app.test_client()
    assert client.get("/push?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert client.get("/push?u=/a.css").headers["Link"].endswith("; nopush")


def test_a_session_kept_server_side_pushes_and_records_past_the_budget() -> None:
    """Its cookie holds an id, whatever the session holds: a session over the budget is
    not measured, so the first response pushes and records, and the next is nopush
    because the key is held (not because the write failed and nothing was pushed)."""
    app = session_app(4096)
    app.session_interface = IdInCookieSessions()
    client = app.test_client()
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"
    assert IdInCookieSessions.store["1"]["h2-held"] == ["/a.css"]
    assert client.get("/?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


def with_database(method: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator that hands a method one more argument (a connection, say)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any) -> Any:
        return method(self, "db", *args)

    return wrapper


class DecoratedConnector:
    """Its save() as written takes a db first; as called, what the extension passes."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def open(self, app: Flask, request: Any) -> set[str]:
        return self.store

    @with_database
    def save(
        self, db: str, app: Flask, response: Any, held: Any, pushed: Any, reused: Any
    ) -> None:
        self.store.update(pushed)


class UnreadableSignature:
    def open(self, app: Flask, request: Any) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Any, held: Any, pushed: Any, reused: Any) -> None: ...


UnreadableSignature.open.__signature__ = "not a signature"  # type: ignore[attr-defined]


@pytest.mark.parametrize("connector", [DecoratedConnector, UnreadableSignature])
def test_a_connector_whose_signature_reads_otherwise_is_taken_as_called(connector: type) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "signatures"
    Firehose(app, connector=connector())

    @app.route("/")
    def index() -> str:
        return push("/a.css", as_="style")

    assert app.test_client().get("/").status_code == 200


def test_a_session_too_large_for_new_keys_keeps_what_the_client_holds() -> None:
    """When a response's new keys do not fit beside the app's grown session, they are not
    pushed, and what earlier responses recorded stays held, as far as it fits."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "budget"
    Firehose(app, connector=SessionConnector())

    @app.route("/")
    def index() -> str:
        size = int(request.args.get("own", "0"))
        session["own"] = "".join(
            hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(size // 128)
        )
        for url in request.args.getlist("u"):
            push(url, as_="style")
        return "page"

    client = app.test_client()
    client.get("/?u=/a.css&u=/b.css")
    assert client.get("/?u=/a.css&u=/b.css").headers["Link"].count("nopush") == 2
    long = "/c-" + "".join(hashlib.sha1(b"%d" % n).hexdigest() for n in range(8)) + ".css"
    grown = client.get(f"/?own=1280&u=/a.css&u=/b.css&u={long}")
    assert grown.headers["Link"].endswith(f"<{long}>; rel=preload; as=style; nopush")
    with client.session_transaction() as sess:
        assert sess["h2-held"] == ["/a.css", "/b.css"]
    again = client.get(f"/?u=/a.css&u=/b.css&u={long}").headers["Link"].split(", ")
    assert again == [
        "</a.css>; rel=preload; as=style; nopush",
        "</b.css>; rel=preload; as=style; nopush",
        f"<{long}>; rel=preload; as=style",
    ]


def test_digest_save_outside_a_request_writes_the_cookie() -> None:
    """A connector of the user's may delegate to DigestConnector.save() where there is no
    request (a test, a task): the Flask-Firehose list it looks for is a request's."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "outside"
    connector = DigestConnector()
    Firehose(app, connector=connector)
    response = Response()
    with app.app_context():
        connector.save(app, response, frozenset(), ("/a.css",), ())
    assert response.headers["Set-Cookie"].startswith("h2-digest=")


def test_values_alike_to_python_are_cached_apart_when_written_apart() -> None:
    """0.0 == -0.0 and True == 1 == 1.0 as dict keys; as links they differ."""
    values = [0.0, -0.0, True, 1, 1.0]
    written = [
        first_visit(as_="style", x=value).headers["Link"].split("; ")[-1] for value in values
    ]
    assert written == ["x=0.0", "x=-0.0", "x", "x=1", "x=1.0"]


def test_a_keyword_stands_for_its_name_in_any_case() -> None:
    assert first_visit("CrossOrigin=anonymous", as_="font", crossorigin="use-credentials").headers[
        "Link"
    ] == ("</a.css>; rel=preload; as=font; crossorigin=use-credentials")


def test_hints_take_learn_as_push_does() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "x"
    Firehose(app)

    @app.route("/")
    @Firehose.hints("/mine.css", as_="style", learn=False)
    def index() -> str:
        return "page"

    assert app.test_client().get("/").headers["Link"] == "</mine.css>; rel=preload; as=style"


def test_hints_take_version_as_push_does() -> None:
    """A declared ``version`` is part of the recorded key: after a deploy changes it, a
    client holding the old file is pushed the new one, once, as with ``push(version=)``."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "x"
    Firehose(app)

    @app.route("/old")
    @Firehose.hints("/a.css", as_="style", version="1")
    def old() -> str:
        return "version 1"

    @app.route("/new")
    @Firehose.hints("/a.css", as_="style", version="2")
    def new() -> str:
        return "version 2"

    client = app.test_client()
    link = "</a.css>; rel=preload; as=style"
    assert client.get("/old").headers["Link"] == link
    assert client.get("/new").headers["Link"] == link
    assert client.get("/new").headers["Link"] == f"{link}; nopush"
    assert client.get("/old").headers["Link"] == f"{link}; nopush"


def test_a_value_hiding_itself_in_its_repr_is_not_cached_as_another() -> None:
    """A nonce class that keeps its value out of logs: each request's own is written."""

    class Secret(str):
        def __repr__(self) -> str:
            return "Secret(...)"

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "x"
    Firehose(app)

    @app.route("/<nonce>")
    def index(nonce: str) -> str:
        return push("/a.js", as_="script", nonce=Secret(nonce))

    client = app.test_client(use_cookies=False)
    for nonce in ("n0nce1", "n0nce2"):
        assert client.get(f"/{nonce}").headers["Link"].endswith(f"; nonce={nonce}")


def test_a_nonce_new_on_every_response_grows_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page under a nonce policy passes each response's nonce to its pushes
    (docs/how-it-works.md, beside a Content-Security-Policy): push()'s cache kept an entry
    for each such push and the link planner a page for each response, none ever asked
    for again, until each was full and emptied whole, the stable pages' entries with it.
    Made for its response alone, such a link is kept by no cache: the other entries stay,
    the same objects, each response writes its own nonce, and the link is recorded as
    any other (its key holds no nonce)."""
    from firehose_digest import collect, static_tag
    from firehose_digest.static import _pushed_files, file_version

    monkeypatch.setattr(collect, "_resources", {})
    monkeypatch.setattr(collect, "_resources_bytes", 0)
    (tmp_path / "app.js").write_bytes(b"run()\n")
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    app.config.update(SECRET_KEY="x", FIREHOSE_EARLY_HINTS=True)
    app.test_client_class = PageClient  # navigations: its pages are learned for 103s
    Firehose(app)

    @app.route("/stable")
    def stable() -> str:
        push("/site.css", as_="style")
        return "no nonce"

    @app.route("/policed")
    def policed() -> str:
        nonce = request.headers["X-Nonce"]
        push("/site.css", as_="style")
        push("/a.js", as_="script", nonce=nonce)
        push("/b.js", f"nonce={nonce}", as_="script")  # Flask-Firehose's spelling
        return static_tag("app.js", nonce=nonce)  # push_static's

    static_js = f"</static/app.js?v={file_version(str(tmp_path / 'app.js'))}>"

    def links(nonce: str, held: str) -> str:
        return (
            f"</site.css>; rel=preload; as=style{held}, "
            f"</a.js>; rel=preload; as=script; nonce={nonce}{held}, "
            f"</b.js>; rel=preload; as=script; nonce={nonce}{held}, "
            f"{static_js}; rel=preload; as=script; nonce={nonce}{held}"
        )

    client = app.test_client()

    def visit(path: str, nonce: str) -> TestResponse:
        hints = {"wsgi.early_hints": lambda headers: None}
        return client.get(path, headers={"X-Nonce": nonce}, environ_base=hints)

    assert visit("/policed", "n0nce00").headers["Link"] == links("n0nce00", "")
    for n in range(1, 3):  # return visits, whose plans are kept
        visit("/stable", "")
        assert visit("/policed", f"n0nce{n:02}").headers["Link"] == links(
            f"n0nce{n:02}", "; nopush"
        )
    state = app.extensions["firehose"]
    resources, resources_bytes = dict(collect._resources), collect._resources_bytes
    plans = {page: dict(kept) for page, (_, kept) in state.planner._pages.items()}
    planned_bytes = state.planner._bytes
    learned, learned_bytes = dict(state.hint_cache._entries), state.hint_cache._bytes
    pushed_files = dict(_pushed_files[app].files)
    assert resources and plans and learned and pushed_files
    for n in range(3, 50):
        nonce = f"n0nce{n:02}"  # of one length, as a policy's are
        response = visit("/policed", nonce)
        assert response.headers["Link"] == links(nonce, "; nopush")
        assert f'nonce="{nonce}"' in response.text
        assert (
            visit("/stable", nonce).headers["Link"] == "</site.css>; rel=preload; as=style; nopush"
        )
    assert collect._resources_bytes == resources_bytes
    assert collect._resources.keys() == resources.keys()
    assert all(collect._resources[key] is kept for key, kept in resources.items())
    assert state.planner._bytes == planned_bytes
    now = {page: dict(kept) for page, (_, kept) in state.planner._pages.items()}
    assert now.keys() == plans.keys()
    assert all(now[page][key] is plan for page in plans for key, plan in plans[page].items())
    assert state.hint_cache._bytes == learned_bytes
    assert all(state.hint_cache._entries[page] is entry for page, entry in learned.items())
    assert state.hint_cache._entries.keys() == learned.keys()
    assert _pushed_files[app].files == pushed_files


@pytest.mark.parametrize(
    ("arguments", "keywords", "expected"),
    [
        (("crossorigin", "type=text/css"), {}, '; type="text/css"; crossorigin'),
        (("media=print", "crossorigin"), {"media": "screen"}, "; media=screen; crossorigin"),
    ],
    ids=["after a bare flag", "after one a keyword replaces"],
)
def test_every_positional_flag_is_read_whatever_comes_before_it(
    arguments: tuple[str, ...], keywords: dict[str, str], expected: str
) -> None:
    """Flask-Firehose's positional spellings are read one by one: a bare flag, or a
    ``"name=value"`` a keyword replaces, leaves the flags after it in the link (a dropped
    ``crossorigin`` is a preload the browser cannot use, and fetches again)."""
    link = first_visit(*arguments, as_="style", **keywords).headers["Link"]
    assert link == "</a.css>; rel=preload; as=style" + expected


def test_rel_and_as_are_read_in_any_case_when_spelled_as_flask_firehose_did() -> None:
    assert first_visit("REL=prefetch", "AS=style").headers["Link"] == (
        "</a.css>; rel=prefetch; as=style"
    )


@pytest.mark.parametrize(
    ("key", "meant"), [("FIREHOSE_ENABLE", "ENABLED"), ("FIREHOSE_MAX_PUSH", "MAX_PUSHES")]
)
def test_a_short_misspelt_setting_is_matched_without_its_prefix(
    key: str, meant: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The names are compared after FIREHOSE_, which would otherwise outweigh them."""
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", key: 1})
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: {key} is not a setting of firehose_digest; did you mean FIREHOSE_{meant}?"
    ]


def test_flasks_max_cookie_size_given_our_prefix_is_named_as_flasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MAX_COOKIE_SIZE, the one Flask key init_app reads, is no FIREHOSE_* setting: written
    FIREHOSE_MAX_COOKIE_SIZE, its value was never read, and the warning offered
    FIREHOSE_COOKIE_NAME, a str, in its place."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE_MAX_COOKIE_SIZE=0.5)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: FIREHOSE_MAX_COOKIE_SIZE is not a setting of firehose_digest; did you "
        "mean MAX_COOKIE_SIZE, Flask's, which bounds our cookies too?"
    ]


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("FIREHOSE_COOKIE_SECURE", "SESSION_COOKIE_SECURE"),
        ("FIREHOSE_COOKIE_DOMAIN", "SESSION_COOKIE_DOMAIN"),
        ("FIREHOSE_COOKIE_PATH", "SESSION_COOKIE_PATH"),
        ("FIREHOSE_COOKIE_HTTPONLY", "SESSION_COOKIE_HTTPONLY"),
        ("FIREHOSE_COOKIE_SAMESITE", "SESSION_COOKIE_SAMESITE"),
        ("FIREHOSE_COOKIE_PARTITIONED", "SESSION_COOKIE_PARTITIONED"),
        ("FIREHOSE_SESSION_COOKIE_SECURE", "SESSION_COOKIE_SECURE"),
    ],
)
def test_a_cookie_attribute_given_our_prefix_is_named_as_flasks(
    key: str, meant: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The digest cookie's attributes are the session cookie's (SESSION_COOKIE_*): one
    written under our prefix is never read, and the warning offered FIREHOSE_COOKIE_NAME,
    the one cookie key of ours, in its place."""
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", key: True})
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: {key} is not a setting of firehose_digest; did you mean {meant}, "
        "Flask's, which the digest cookie's attributes follow?"
    ]


def test_a_misspelt_setting_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """FIREHOSE_EARLY_HINT (no S) left 103s off without a word."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE_EARLY_HINT=True, FIREHOSE_ZZZ=1)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: FIREHOSE_EARLY_HINT is not a setting of firehose_digest; "
        "did you mean FIREHOSE_EARLY_HINTS?",
        "firehose: FIREHOSE_ZZZ is not a setting of firehose_digest",
    ]


@pytest.mark.parametrize("source", ["toml table", "environment"])
def test_settings_nested_under_a_firehose_key_are_named_in_a_warning(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A TOML ``[FIREHOSE]`` table (``from_file(..., load=tomllib.load)``), or
    ``FLASK_FIREHOSE__EARLY_HINTS`` (``from_prefixed_env`` nests at ``__``), puts the
    settings in one ``FIREHOSE`` dict, which no key of ours is: 103s stayed off and
    ``MAX_PUSHES`` at 10, without a word."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    if source == "toml table":
        tomllib = pytest.importorskip("tomllib")
        config = tmp_path / "config.toml"
        config.write_text("[FIREHOSE]\nEARLY_HINTS = true\nMAX_PUSHES = 5\n")
        app.config.from_file(str(config), load=tomllib.load, text=False)
    else:
        monkeypatch.setenv("FLASK_FIREHOSE__EARLY_HINTS", "true")
        monkeypatch.setenv("FLASK_FIREHOSE__MAX_PUSHES", "5")
        app.config.from_prefixed_env()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: FIREHOSE is not a setting of firehose_digest: each setting is a key of "
        "its own (a TOML [FIREHOSE] table, or FLASK_FIREHOSE__* in the environment, nests "
        "them in one dict, which is not read); did you mean FIREHOSE_EARLY_HINTS, "
        "FIREHOSE_MAX_PUSHES?"
    ]


def test_a_firehose_key_of_no_settings_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE=True)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose(app)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: FIREHOSE is not a setting of firehose_digest: each setting is a key of "
        "its own (a TOML [FIREHOSE] table, or FLASK_FIREHOSE__* in the environment, nests "
        "them in one dict, which is not read)"
    ]


@pytest.mark.parametrize("enabled", [True, False], ids=["push on", "push off"])
def test_a_setting_changed_after_init_app_is_named_in_a_warning_once(
    enabled: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """init_app reads the settings: one set after it has no effect. Found adopting the
    extension in Flask's tutorial app with ``Firehose(app)`` put before its factory loads
    the configuration (``FIREHOSE_EARLY_HINTS = True`` in the instance config, as a test
    fixture's ``app.config.update``): no 103 was ever sent, and nothing said why. The
    first request names each such key, once; a second ``init_app`` reads them again."""
    app = build_app(FIREHOSE_ENABLED=enabled)
    firehose = app.extensions["firehose"]
    app.config.update(FIREHOSE_ENABLED=not enabled, FIREHOSE_EARLY_HINTS=True)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        app.test_client().get("/")
        app.test_client().get("/")
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: FIREHOSE_ENABLED is {not enabled!r} in app.config, but init_app read "
        f"{enabled!r}, which firehose_digest keeps: set it before Firehose(app), or call "
        "init_app(app) again",
        "firehose: FIREHOSE_EARLY_HINTS is True in app.config, but init_app read False, "
        "which firehose_digest keeps: set it before Firehose(app), or call init_app(app) "
        "again",
    ]
    assert firehose.settings.early_hints is False  # as read
    caplog.clear()
    Firehose(app)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        app.test_client().get("/")
    assert [r for r in caplog.records if "init_app read" in r.getMessage()] == []


@pytest.mark.parametrize(
    ("read", "changed", "warned"),
    [
        # from_prefixed_env reads FLASK_FIREHOSE_DIGEST_VERSION=42 as the int: the same salt.
        ({"FIREHOSE_DIGEST_VERSION": 42}, {"FIREHOSE_DIGEST_VERSION": "42"}, []),
        ({}, {"FIREHOSE_MAX_AGE": 30 * 24 * 3600}, []),  # the value read, set again
        ({}, {"MAX_COOKIE_SIZE": 3000}, ["MAX_COOKIE_SIZE is 3000"]),  # Flask's, read by us
        # Past Werkzeug's default, or within the whole byte read: our cookies' bound is one.
        ({}, {"MAX_COOKIE_SIZE": 8000}, []),
        ({"MAX_COOKIE_SIZE": 2000.5}, {"MAX_COOKIE_SIZE": 2000.7}, []),
        ({}, {"FIREHOSE_CAPACITY": 0}, ["FIREHOSE_CAPACITY is 0"]),  # refused by init_app
    ],
    ids=["same salt", "set again alike", "cookie size", "raised", "same whole bytes", "refused"],
)
def test_a_setting_changed_after_init_app_is_warned_only_if_it_would_change_something(
    read: dict[str, Any],
    changed: dict[str, Any],
    warned: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What is compared is what init_app makes of the configuration: another spelling of
    a value in force warns of nothing; Flask's ``MAX_COOKIE_SIZE``, which init_app reads
    too, and a value it would refuse are named."""
    app = build_app(**read)
    app.config.update(changed)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        app.test_client().get("/")
    said = [r.getMessage() for r in caplog.records if "init_app read" in r.getMessage()]
    assert [
        message.removeprefix("firehose: ").partition(" in app.config")[0] for message in said
    ] == warned


def test_a_response_started_during_the_call_is_handed_back_as_the_app_made_it() -> None:
    """Only a lazy app's body is wrapped to run under the request's record: Flask starts
    its response during the call, and its body goes to the server as Flask made it (a
    static file's, which a server may send with ``sendfile``)."""
    app = Flask(__name__, static_folder=str(Path(__file__).parent))
    app.config["SECRET_KEY"] = "owner"
    made: list[Any] = []
    flask_wsgi_app = app.wsgi_app

    def recorded(environ: Any, start_response: Any) -> Any:
        made.append(flask_wsgi_app(environ, start_response))
        return made[-1]

    app.wsgi_app = recorded  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push("/s.css", as_="style")

    for path in ("/", f"/static/{Path(__file__).name}"):
        body = app.wsgi_app(EnvironBuilder(path).get_environ(), lambda *args: None)
        assert body is made[-1]
        cast("Any", body).close()


def test_an_error_page_a_middleware_starts_over_the_response_gets_none_of_its_links() -> None:
    """A middleware inside ours that answers an error raised while the body streams starts
    its own page with ``exc_info``, as PEP 3333 has it (Werkzeug's debugger passes none):
    the ``Link`` and ``Vary`` decided for the page it replaces went out on it too. The
    server is handed that ``exc_info``, without which it refuses a second start (wsgiref:
    "Headers already set!")."""
    app = owned_app()
    app.wsgi_app = error_pages(app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/")
    def index() -> Response:
        push("/s.css", as_="style")

        def chunks() -> Iterator[str]:
            yield "<p>one"
            raise RuntimeError("the stream broke")

        return Response(chunks())

    started: list[tuple[str, list[tuple[str, str]], Any]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, list(headers), exc_info))  # not sent yet: a later call replaces it

    assert app.wsgi_app(EnvironBuilder("/").get_environ(), start_response) == [b"error"]
    (first_status, first, no_error), (status, headers, exc_info) = started
    assert first_status.startswith("200")
    assert ("Link", "</s.css>; rel=preload; as=style") in first
    assert no_error is None
    assert status.startswith("500")
    assert [name for name, _ in headers] == ["Content-Type"]
    assert exc_info is not None
    assert str(exc_info[1]) == "the stream broke"


def calling_again(wsgi_app: Any) -> Any:
    """A middleware that answers a 500 with the app's ``/error`` page, called for it again
    (as Paste's ``ErrorDocuments`` did), and calls the app again when it raised (a retry,
    as on a database deadlock)."""

    def middleware(environ: Any, start_response: Any) -> Any:
        started: list[tuple[str, Any]] = []

        def held_back(status: str, headers: Any, exc_info: Any = None) -> Any:
            started.append((status, headers))
            return lambda data: None

        try:
            body = b"".join(wsgi_app(dict(environ), held_back))
        except RuntimeError:
            return wsgi_app(environ, start_response)
        status, headers = started[0]
        if status.startswith("500"):
            return wsgi_app({**environ, "PATH_INFO": "/error"}, start_response)
        start_response(status, headers)
        return [body]

    return middleware


def test_a_middleware_calling_the_app_again_leaves_no_push_unrecorded() -> None:
    """A middleware inside ours that calls the app a second time for a request runs that
    call under the record the first claimed (``claim``'s docstring: telling the calls
    apart would cost every request a teardown function). Whatever goes out must still
    be safe: no 500, one 103 per request, and no link offered for push that the digest
    does not record; the error page for a 500 carries the 500's links, each nopush, and
    a retried page none."""
    app = owned_app()
    app.config.update(PROPAGATE_EXCEPTIONS=True, FIREHOSE_EARLY_HINTS=True)
    app.wsgi_app = calling_again(app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)
    failing: list[bool] = []

    @app.route("/broken")
    def broken() -> tuple[str, int]:
        push("/broken.css", as_="style")
        return "broken", 500

    @app.route("/error")
    def error() -> str:
        return push("/error.css", as_="style")

    @app.route("/page")
    def page() -> str:
        push("/page.css", as_="style")
        if failing:
            failing.pop()
            raise RuntimeError("deadlock")
        return "served"

    sent: list[list[tuple[str, str]]] = []
    environ = {
        "wsgi.early_hints": lambda headers: sent.append(list(headers)),
        "HTTP_ACCEPT": "text/html",
    }
    client = app.test_client()
    error_page = client.get("/broken", environ_base=environ)
    assert error_page.status_code == 200
    assert error_page.get_data(as_text=True) == "/error.css"
    assert error_page.headers.getlist("Link") == ["</broken.css>; rel=preload; as=style; nopush"]
    assert "Set-Cookie" not in error_page.headers
    app.test_client().get("/page", environ_base=environ)  # another client's: learned
    sent.clear()
    failing.append(True)
    retried = client.get("/page", environ_base=environ)
    assert retried.status_code == 200
    assert retried.get_data(as_text=True) == "served"
    assert sent == [[("Link", "</page.css>; rel=preload; as=style")]]
    assert retried.headers.getlist("Link") == []
    assert "Set-Cookie" not in retried.headers


def werkzeug_says_too_large() -> pytest.WarningsRecorder:
    """Werkzeug's warning for the app's own session cookie, too large to keep: a warning
    in production, which the suite's ``-W error`` would turn into a 500 page."""
    return pytest.warns(UserWarning, match="The 'session' cookie is too large")


@pytest.mark.parametrize("header_budget", [3072, 5928, 5929, 5930, 1 << 20])
def test_a_session_that_does_not_fit_is_told_what_would_make_room(
    header_budget: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The room is what the header budget leaves beside a full Link and Vary (1,822 bytes
    at the default link budget), at most the 4,107-byte line of a 4,093-byte cookie: from
    a budget of 5,929 the cookie binds, and a smaller FIREHOSE_LINK_BUDGET makes no room.
    The warning advised it, and blamed the header budget, in every case."""
    app = session_app(8192, SessionConnector(), FIREHOSE_HEADER_BUDGET=header_budget)
    with caplog.at_level(logging.WARNING, logger="firehose_digest"), werkzeug_says_too_large():
        response = app.test_client().get("/?u=/a.css")
    assert response.status_code == 200  # the app's own session, too large, is still sent
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    (said,) = [r.getMessage() for r in caplog.records if "does not fit" in r.getMessage()]
    room = min(header_budget - len("Link: \r\n") - 1800 - len("Vary: Cookie\r\n"), 4107)
    assert f" does not fit {room} bytes " in said
    budget_binds = header_budget < 5929
    assert ("FIREHOSE_LINK_BUDGET" in said) == budget_binds
    assert ("FIREHOSE_HEADER_BUDGET leaves" in said) == budget_binds
    werkzeugs_default = (
        "(the line of a 4093-byte cookie, the most a cookie of ours takes whatever "
        "MAX_COOKIE_SIZE says)"
    )
    assert (werkzeugs_default in said) == (not budget_binds)


def test_a_session_past_the_apps_max_cookie_size_is_told_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Under a lowered MAX_COOKIE_SIZE the room is that cookie's line, and the warning
    names the key, not Werkzeug's default nor the header budget."""
    app = session_app(
        8192, SessionConnector(), MAX_COOKIE_SIZE=2000, FIREHOSE_HEADER_BUDGET=1 << 20
    )
    with caplog.at_level(logging.WARNING, logger="firehose_digest"), werkzeug_says_too_large():
        response = app.test_client().get("/?u=/a.css")
    assert response.status_code == 200
    assert response.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"
    (said,) = [r.getMessage() for r in caplog.records if "does not fit" in r.getMessage()]
    assert f" does not fit {len('Set-Cookie: ') + 2000 + 2} bytes " in said
    assert "(the line of a cookie of MAX_COOKIE_SIZE=2000 bytes)" in said


def test_a_session_room_under_a_max_cookie_size_of_a_float_is_said_as_written() -> None:
    """A float binds as the whole bytes under it, as Werkzeug compares lengths with it: the
    session's warning names the value the app wrote and what it was read as, not a value
    the config never held."""
    settings = load({"MAX_COOKIE_SIZE": 2000.5, "FIREHOSE_HEADER_BUDGET": 1 << 20})
    assert set_cookie_room(settings) == len("Set-Cookie: ") + 2000 + 2
    assert set_cookie_room_said(settings) == (
        "the line of a cookie of MAX_COOKIE_SIZE=2000.5 (read as 2000 whole bytes)"
    )


class _LegacyStore:
    def get_pushed(self) -> list[str]:
        return []

    def set_pushed(self, items: object) -> None:
        pass


@pytest.mark.parametrize(
    ("base", "arguments"),
    [(SessionConnector, ()), (DigestConnector, ()), (PushedSetConnector, (_LegacyStore(),))],
)
def test_a_subclass_of_a_connector_is_named_as_itself_in_the_log(
    base: type, arguments: tuple[object, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """A log line names the connector by its ``repr``: an app's subclass of one of ours
    is named as the app wrote it, as :class:`DigestConnector` always named it."""
    subclass = type("MyConnector", (base,), {})
    connector = subclass(*arguments)
    assert repr(connector).startswith("MyConnector(")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "repr"

    @app.route("/")
    def page() -> str:
        push("/a.css", as_="style")
        return "page"

    Firehose(app, connector=connector)

    def refuse(*args: object) -> None:
        raise RuntimeError("store down")

    subclass.open = refuse  # type: ignore[attr-defined]
    subclass.get_pushed = refuse  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        assert app.test_client().get("/").status_code == 200
    assert any(
        record.getMessage().startswith("firehose: MyConnector(") for record in caplog.records
    )


@pytest.mark.parametrize("renamed", [False, True], ids=["same name", "renamed"])
def test_a_session_cookie_path_widened_between_deploys_is_as_connectors_md_says(
    renamed: bool,
) -> None:
    """``SESSION_COOKIE_PATH`` widened from /app to /: the browser keeps the old cookie
    beside the new and sends it first under /app (the longer path, RFC 6265 §5.4), and
    Flask reads the first, so a page there reads the old list while every write goes to
    the new cookie: a key new since the deploy is pushed on each visit (no error, and no
    cookie grows). A new ``SESSION_COOKIE_NAME`` with such a deploy pushes it once."""

    def deploy(**config: Any) -> Flask:
        app = build_app(SessionConnector(), **config)

        @app.route("/app/<name>")
        def page(name: str) -> str:
            push(f"/{name}.css", as_="style")
            return name

        return app

    old = deploy(SESSION_COOKIE_PATH="/app").test_client()
    assert old.get("/app/a").headers["Link"] == "</a.css>; rel=preload; as=style"
    new = deploy(SESSION_COOKIE_NAME="renamed" if renamed else "session").test_client()
    new._cookies = old._cookies  # the same browser, after the deploy
    visits = [new.get("/app/c") for _ in range(3)]
    assert [visit.status_code for visit in visits] == [200, 200, 200]
    pushed = [not visit.headers["Link"].endswith("nopush") for visit in visits]
    assert pushed == ([True, False, False] if renamed else [True, True, True])
    sent = visits[-1].request.headers["Cookie"]
    assert sent.count("session=") == (1 if renamed else 2)
