"""DigestConnector: the signed cookie, its attributes, rotation, budgets, hostile values."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
import warnings
from collections.abc import Callable, Container
from decimal import Decimal
from fractions import Fraction
from functools import partial
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, cast

import pytest
from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    render_template_string,
    request,
    session,
)
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface
from flask.testing import FlaskClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from itsdangerous import BadSignature, TimestampSigner
from itsdangerous.encoding import base64_encode
from werkzeug.http import dump_cookie
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import TestResponse

from bench.request_cost import asset_url
from firehose_digest import (
    AgingDigest,
    BloomDigest,
    DigestConnector,
    Firehose,
    GCSDigest,
    SessionConnector,
    cookie_scope,
    held_digests,
    push,
    static_tag,
)
from firehose_digest import settings as settings_module
from firehose_digest.codec import DigestCodec, keys_in_force, salt_for
from firehose_digest.connectors import LEFT_LIST_LENGTH, NotRecorded
from firehose_digest.digests import encoded_size_bound
from firehose_digest.held_digests import MAX_COOKIE_SCOPES
from firehose_digest.settings import (
    DEFAULTS,
    CookieAttributes,
    Settings,
    check_digest_fits,
    check_scope_fits,
    largest_digest_value,
    load,
    set_cookie_line,
    set_cookie_room,
    set_cookie_room_said,
)
from tests.helpers import (
    EXPECTED_FIRST,
    EXPECTED_RETURN,
    PAGE,
    RaisingPerHostSessions,
    build_app,
    count_verified,
    revalidated_page,
)

COOKIE = "h2-digest"


@pytest.fixture(params=["gcs", "bloom"])
def encoding(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def digest_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_is_the_default_connector() -> None:
    app = build_app()
    assert isinstance(app.extensions["firehose"].connector, DigestConnector)
    assert app.config["FIREHOSE_ENCODING"] == "gcs"
    assert app.config["FIREHOSE_COOKIE_NAME"] == COOKIE


def test_cookie_is_set_only_when_the_digest_changes(encoding: str) -> None:
    client = build_app(DigestConnector(encoding=encoding)).test_client()
    first = client.get("/")
    assert first.headers["Link"] == EXPECTED_FIRST
    assert f"{COOKIE}=" in first.headers["Set-Cookie"]
    again = client.get("/")
    assert again.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" not in again.headers
    assert "Set-Cookie" in client.get("/push?u=/new.css").headers


def test_vary_cookie_when_links_depend_on_it() -> None:
    client = build_app().test_client()
    assert client.get("/").headers["Vary"] == "Cookie"
    assert "Vary" not in client.get("/quiet").headers


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ("Accept-Encoding", ["Accept-Encoding, Cookie"]),
        ("Accept-Encoding, Cookie", ["Accept-Encoding, Cookie"]),
        ("cookie", ["cookie"]),
        ("*", ["*"]),
    ],
)
def test_vary_cookie_is_added_once_beside_the_view_s_own(vary: str, expected: list[str]) -> None:
    app = build_app()

    @app.route("/varied")
    def varied() -> Response:
        push("/static/site.css", as_="style")
        return Response("ok", headers={"vary": vary})

    assert app.test_client().get("/varied").headers.getlist("Vary") == expected


def test_no_second_vary_when_the_session_added_one() -> None:
    app = build_app()

    @app.route("/session")
    def uses_session() -> str:
        session["seen"] = True  # Flask adds Vary: Cookie as the session is saved
        push("/static/site.css", as_="style")
        return "ok"

    assert app.test_client().get("/session").headers.getlist("Vary") == ["Cookie"]


def test_cookie_attributes_follow_flask_session_settings() -> None:
    app = build_app(
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/shop",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        FIREHOSE_MAX_AGE=3600,
    )
    header = app.test_client().get("/", base_url="https://example.test/shop").headers["Set-Cookie"]
    morsel = SimpleCookie(header)[COOKIE]
    assert morsel["domain"] == "example.test"
    assert morsel["path"] == "/shop"
    assert morsel["max-age"] == "3600"
    assert morsel["secure"] and morsel["httponly"]
    assert morsel["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("config", "attributes"),
    [
        ({}, "HttpOnly; Path=/"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "Path=/"),
        (
            {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_PARTITIONED": True},
            "Secure; HttpOnly; Path=/; SameSite=None; Partitioned",
        ),
    ],
    ids=["defaults", "not httponly", "partitioned"],
)
def test_httponly_and_partitioned_follow_flask_session_settings(
    config: dict[str, Any], attributes: str
) -> None:
    """docs/security.md, "Cookie attributes": ``HttpOnly`` as Flask's default (``True``) or
    as set, and ``Partitioned``, which makes the cookie ``Secure``."""
    header = build_app(**config).test_client().get("/").headers["Set-Cookie"]
    assert header.endswith(f"; Max-Age=2592000; {attributes}")


def mounted_site(configured_late: bool = False) -> Flask:
    """An app at "/" and one mounted at "/shop" as Flask documents it (``APPLICATION_ROOT``,
    so its cookies are ``Path=/shop``), sharing ``SECRET_KEY``, the cookie's name, and one
    ``DigestConnector``; ``configured_late``: ``APPLICATION_ROOT`` set after ``init_app``."""
    connector = DigestConnector()

    def app_at(root: str, css: str) -> Flask:
        app = Flask(f"at {root}")
        app.config["SECRET_KEY"] = "one key for the site"
        if not configured_late:
            app.config["APPLICATION_ROOT"] = root
        Firehose(app, connector=connector)
        app.config["APPLICATION_ROOT"] = root
        app.add_url_rule("/", "page", lambda: push(css, as_="style"))
        return app

    site = app_at("/", "/site.css")
    site.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        site.wsgi_app, {"/shop": app_at("/shop", "/shop/shop.css")}
    )
    return site


@pytest.mark.parametrize("configured_late", [False, True])
def test_an_app_mounted_under_another_reads_its_own_digest(configured_late: bool) -> None:
    """The browser sends both apps' cookies to "/shop": the shop read the site's, signed
    last, and pushed its own files again after every visit to the site."""
    browser = mounted_site(configured_late).test_client()
    assert browser.get("/shop/").headers["Link"] == "</shop/shop.css>; rel=preload; as=style"
    assert browser.get("/").headers["Link"] == "</site.css>; rel=preload; as=style"
    assert browser.get_cookie("h2-digest", path="/") is not None
    assert browser.get_cookie("h2-digest", path="/shop") is not None
    for _ in range(2):
        shop = browser.get("/shop/")
        assert shop.headers["Link"] == "</shop/shop.css>; rel=preload; as=style; nopush"
        assert "Set-Cookie" not in shop.headers
        site = browser.get("/")
        assert site.headers["Link"] == "</site.css>; rel=preload; as=style; nopush"


@pytest.mark.parametrize(
    "other",
    [
        {"SECRET_KEY": "the other app's key"},
        {"FIREHOSE_DIGEST_VERSION": "2"},
        {"FIREHOSE_CAPACITY": 200},
        {"FIREHOSE_ENCODING": "bloom"},
    ],
    ids=["key", "digest version", "capacity", "encoding"],
)
def test_one_connector_serving_two_apps_reads_each_cookie_by_its_own_app(
    other: dict[str, Any],
) -> None:
    """One ``DigestConnector`` set up for two apps (one ``Firehose()`` for both) keeps each
    app's settings, keys and decoded cookies apart: a value the one app wrote, and has
    cached as decoded, is not believed by the other, which differs by one setting; nor
    does the other's refusal change what the first reads."""
    connector = DigestConnector()
    first, second = build_app(connector), build_app(connector, **other)
    written = first.test_client().get("/")
    value = written.headers["Set-Cookie"].split(";", 1)[0]
    sent = {"Cookie": value}
    for app, expected in [(first, EXPECTED_RETURN), (second, EXPECTED_FIRST)] * 2:
        response = app.test_client(use_cookies=False).get("/", headers=sent)
        assert response.headers["Link"] == expected


def test_a_key_rotation_in_one_app_leaves_the_other_s_decoded_cookies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two apps sharing one ``DigestConnector``: the one rotating its key (the old one a
    fallback) verifies its returning client's cookie again, once; the other's returning
    client is read from its cache as before, and neither is pushed anything again."""
    connector = DigestConnector()
    rotating, steady = build_app(connector), build_app(connector, SECRET_KEY="steady key")
    clients = [rotating.test_client(), steady.test_client()]
    for client in clients:
        assert client.get("/").headers["Link"] == EXPECTED_FIRST
    verified = count_verified(monkeypatch)
    rotating.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["test secret"])
    for _ in range(2):
        for client in clients:
            assert client.get("/").headers["Link"] == EXPECTED_RETURN
    rotating_cookie = clients[0].get_cookie(COOKIE)
    assert rotating_cookie is not None
    assert verified == [rotating_cookie.value]


@pytest.mark.parametrize(
    ("written_for", "read_by"),
    [
        ({"SESSION_COOKIE_PATH": "/shop"}, {}),
        ({}, {"SESSION_COOKIE_PATH": "/shop"}),
        ({"APPLICATION_ROOT": "/shop"}, {"APPLICATION_ROOT": "/shop/"}),
        ({"SESSION_COOKIE_DOMAIN": "example.test"}, {}),
        ({"SESSION_COOKIE_DOMAIN": "example.test"}, {"SESSION_COOKIE_DOMAIN": "a.example.test"}),
    ],
)
def test_a_digest_written_for_another_domain_or_path_is_foreign(
    written_for: dict[str, str], read_by: dict[str, str]
) -> None:
    writer, reader = build_app(**written_for), build_app(**read_by)
    # Under /shop, where the browser sends a cookie of each of those paths.
    shop = "http://example.test/shop"
    value = writer.test_client().get("/", base_url=shop).headers["Set-Cookie"]
    cookie = value.split(";", 1)[0]
    again = reader.test_client(use_cookies=False).get(
        "/", base_url="http://localhost/shop", headers={"Cookie": cookie}
    )
    assert again.headers["Link"] == EXPECTED_FIRST
    same = writer.test_client(use_cookies=False).get(
        "/", base_url=shop, headers={"Cookie": cookie}
    )
    assert same.headers["Link"] == EXPECTED_RETURN


@pytest.mark.parametrize(
    ("written_for", "read_by"),
    [
        (".Example.test", "example.test"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("example.test:8443", "example.test"),
    ],
)
def test_a_domain_is_read_as_a_browser_reads_it(written_for: str, read_by: str) -> None:
    """As Werkzeug writes the attribute, which a browser compares in lower case (RFC 6265
    §5.2.3): without a leading dot or a port, IDNA-encoded."""
    writer = build_app(SESSION_COOKIE_DOMAIN=written_for)
    reader = build_app(SESSION_COOKIE_DOMAIN=read_by)
    value = writer.test_client().get("/", base_url="http://example.test").headers["Set-Cookie"]
    again = reader.test_client(use_cookies=False).get(
        "/", headers={"Cookie": value.split(";", 1)[0]}
    )
    assert again.headers["Link"] == EXPECTED_RETURN


@pytest.mark.usefixtures("clients_ask_for_pages")
def test_hosts_sharing_a_cookie_domain_share_what_the_digest_holds() -> None:
    """docs/security.md: hosts that share one digest through ``SESSION_COOKIE_DOMAIN``
    share its keys, the url as pushed: what ``a.example.test`` recorded is held on
    ``b.example.test``, linked ``nopush`` there and left out of its 103."""
    app = build_app(SESSION_COOKIE_DOMAIN="example.test", FIREHOSE_EARLY_HINTS=True)

    def on_b(client: FlaskClient) -> tuple[TestResponse, list[Any]]:
        sent: list[Any] = []
        response = client.get(
            "/", base_url="http://b.example.test", environ_base={"wsgi.early_hints": sent.append}
        )
        return response, sent

    on_b(app.test_client())  # b's page is learned
    # and hinted to a client new to the site
    assert on_b(app.test_client())[1] == [[("Link", EXPECTED_FIRST)]]
    browser = app.test_client()
    assert browser.get("/", base_url="http://a.example.test").headers["Link"] == EXPECTED_FIRST
    response, sent = on_b(browser)
    assert response.headers["Link"] == EXPECTED_RETURN
    assert sent == []


class CookiePerHost(SecureCookieSessionInterface):
    """A multi-tenant app's session: each host's cookie is scoped to that host."""

    def get_cookie_domain(self, app: Flask) -> str | None:
        return request.host.partition(":")[0] if has_request_context() else None


def told_on_pages_refused(app: Flask, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Two pages of https://shop.example to one client, each refused a digest: its links
    ``nopush``, no cookie written; what was logged at WARNING and above meanwhile."""
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(2):
            response = client.get("/", base_url="https://shop.example")
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    return [r.getMessage() for r in caplog.records]


def test_a_host_cookie_given_a_domain_per_request_is_not_written_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``init_app`` refuses a ``__Host-`` digest cookie with a ``Domain``, which browsers
    drop, but it runs outside any request: a session interface scoping the cookie per
    host gave none then, and one on each request, and every response set
    ``__Host-fd=...; Domain=shop.example``, refused, so each visit pushed everything
    again. Such a response writes no cookie and pushes nothing (its links ``nopush``),
    and a warning names the attribute, once."""
    app = build_app(SESSION_COOKIE_SECURE=True, FIREHOSE_COOKIE_NAME="__Host-fd")
    app.session_interface = CookiePerHost()
    assert told_on_pages_refused(app, caplog) == [
        "firehose: the session interface (CookiePerHost) scopes the digest cookie of a "
        "request as Domain='shop.example', Path='/', Secure=True (SESSION_COOKIE_DOMAIN "
        "here: what its get_cookie_domain() gave): FIREHOSE_COOKIE_NAME='__Host-fd' needs "
        "SESSION_COOKIE_SECURE, no SESSION_COOKIE_DOMAIN and a SESSION_COOKIE_PATH of '/': "
        "browsers refuse it; such responses push nothing and write no digest (said once per "
        "app and process)"
    ]
    # Scoped as browsers keep it (host-only, on the app's own session interface), it is.
    app = build_app(SESSION_COOKIE_SECURE=True, FIREHOSE_COOKIE_NAME="__Host-fd")
    response = app.test_client().get("/", base_url="https://shop.example")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert response.headers["Set-Cookie"].startswith("__Host-fd=")
    assert "Domain" not in response.headers["Set-Cookie"]


def hinted_visit(client: FlaskClient, host: str) -> tuple[TestResponse, list[str]]:
    """A browser's visit to ``host``'s page, with the links its 103 offers for push: those
    a front that pushes from a 103 (h2o, Apache) pushes, every one not ``nopush``."""
    sent: list[list[tuple[str, str]]] = []
    response = client.get(
        "/",
        base_url=f"https://{host}",
        environ_overrides={"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"},
    )
    offered = [
        link
        for headers in sent
        for name, value in headers
        if name == "Link"
        for link in re.split(r", (?=<)", value)
        if "nopush" not in link
    ]
    return response, offered


def hinting_host_prefixed_app() -> Flask:
    """An app with 103s on whose digest cookie is ``__Host-`` prefixed: a ``Domain`` given
    to it per request is a scope browsers refuse."""
    return build_app(
        SESSION_COOKIE_SECURE=True, FIREHOSE_COOKIE_NAME="__Host-fd", FIREHOSE_EARLY_HINTS=True
    )


def assert_return_visits_offer_nothing(client: FlaskClient) -> None:
    """Two return visits to a learned page whose digest cannot be recorded: each 103 offers
    nothing for push, the page links everything ``nopush``, and no cookie is written."""
    for _ in range(2):
        response, offered = hinted_visit(client, "shop.example")
        assert offered == []
        assert response.headers["Link"] == EXPECTED_RETURN
        assert "Set-Cookie" not in response.headers


def test_a_103_offers_nothing_for_push_where_the_scope_is_refused() -> None:
    """A request whose ``__Host-`` digest cookie its session interface gives a ``Domain``
    records nothing: its 103 offers nothing a front would push, or h2o and Apache, which
    push from a 103, pushed the page's links on every visit."""
    app = hinting_host_prefixed_app()
    app.session_interface = CookiePerHost()
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    client = app.test_client()
    assert_return_visits_offer_nothing(client)


def test_a_103_offers_nothing_for_push_where_a_getter_set_on_the_instance_scopes_it_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As where the interface's class overrides the getter: one set on Flask's own
    interface instance (a test's monkeypatch, an app's per-host function) gave each request
    its ``Domain`` unseen by ``open()``, decided once per class, and only ``save()`` caught
    it: the 103, sent before, offered the page's links for push on every visit, and h2o and
    Apache pushed them every time. ``open()`` sees it now."""
    app = hinting_host_prefixed_app()
    interface = app.session_interface
    assert type(interface) is SecureCookieSessionInterface
    monkeypatch.setattr(interface, "get_cookie_domain", CookiePerHost().get_cookie_domain)
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    client = app.test_client()
    assert_return_visits_offer_nothing(client)


def test_a_getter_set_on_the_interface_class_after_a_request_is_seen_by_the_next_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``open()`` decided once per class whether the session interface scopes the cookie
    per request: a getter set on the class after a request had been served (a test's
    monkeypatch of the app's interface class) went unseen, and every 103 offered the page's
    links for push, which h2o and Apache push, while ``save()`` caught the scope and
    recorded nothing. ``open()`` reads the scope on each request: the next one sees it."""

    class Sessions(SecureCookieSessionInterface):
        pass

    app = hinting_host_prefixed_app()
    app.session_interface = Sessions()
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    monkeypatch.setattr(Sessions, "get_cookie_domain", CookiePerHost.get_cookie_domain)
    assert_return_visits_offer_nothing(app.test_client())


#: Scopes set in app.config after init_app that no digest can be recorded under, by the
#: attribute that makes them so, with the config init_app took: each as save() refuses it.
REFUSED_LATE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "domain on __Host-": (
        {"FIREHOSE_COOKIE_NAME": "__Host-fd"},
        {"SESSION_COOKIE_DOMAIN": "shop.example"},
    ),
    "secure off __Host-": (
        {"FIREHOSE_COOKIE_NAME": "__Host-fd"},
        {"SESSION_COOKIE_SECURE": False},
    ),
    "samesite unwritable": ({}, {"SESSION_COOKIE_SAMESITE": "Sometimes"}),
    "samesite none, not secure": (
        {},
        {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": False},
    ),
    "httponly not a bool": ({}, {"SESSION_COOKIE_HTTPONLY": "yes"}),
    "partitioned not a bool": ({}, {"SESSION_COOKIE_PARTITIONED": "yes"}),
    # Host-only, the largest cookie fits in 190 bytes; with "; Domain=shop.example", not.
    "domain too long to fit": (
        {"FIREHOSE_CAPACITY": 10, "MAX_COOKIE_SIZE": 190},
        {"SESSION_COOKIE_DOMAIN": "shop.example"},
    ),
}


@pytest.mark.parametrize("before_first_request", [True, False], ids=["before", "between"])
@pytest.mark.parametrize("scope", list(REFUSED_LATE))
def test_a_103_offers_nothing_for_push_where_a_late_config_scopes_it_refused(
    scope: str, before_first_request: bool
) -> None:
    """A session cookie attribute set in ``app.config`` after ``init_app`` (a factory that
    configures after ``Firehose(app)``) scopes every digest cookie as ``init_app`` would
    refuse it. Flask's own interface reads its config on each request, so ``open()``
    never asked, and only ``save()`` refused the scope: each 103 offered the page's links
    for push, which h2o and Apache push, and nothing was recorded, so on every visit. Set
    before the first request or between two, ``open()`` sees it now, as ``save()`` does."""
    config, late = REFUSED_LATE[scope]
    app = build_app(SESSION_COOKIE_SECURE=True, FIREHOSE_EARLY_HINTS=True, **config)
    if before_first_request:
        app.config.update(late)
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    app.config.update(late)
    assert_return_visits_offer_nothing(app.test_client())


@pytest.mark.parametrize("before_first_request", [True, False], ids=["before", "between"])
def test_a_session_cookie_named_as_the_digest_after_init_app_keeps_the_session(
    caplog: pytest.LogCaptureFixture, before_first_request: bool
) -> None:
    """``init_app`` refuses a ``SESSION_COOKIE_NAME`` that is the digest cookie's name:
    the digest would replace the session. Set in ``app.config`` after it, Flask's own
    interface names the session cookie so on each request, and the next page that pushed
    wrote its digest over the session cookie: a signed-in user was signed out. Such a
    request records nothing, as under a refused scope, and one warning says why."""
    app = build_app(SESSION_COOKIE_SECURE=True, FIREHOSE_EARLY_HINTS=True)

    @app.route("/sign-in")
    def sign_in() -> str:
        session["user"] = "ada"
        return "signed in"

    @app.route("/me")
    def me() -> str:
        return str(session.get("user", "nobody"))

    if before_first_request:
        app.config["SESSION_COOKIE_NAME"] = COOKIE
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    app.config["SESSION_COOKIE_NAME"] = COOKIE
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        client.get("/sign-in", base_url="https://shop.example")
        assert_return_visits_offer_nothing(client)
        assert client.get("/me", base_url="https://shop.example").text == "ada"
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: the session interface (SecureCookieSessionInterface) names the session "
        f"cookie of a request {COOKIE!r}: FIREHOSE_COOKIE_NAME={COOKIE!r} is the session "
        "cookie's name (SESSION_COOKIE_NAME): the digest would replace the session; such "
        "responses push nothing and write no digest (said once per app and process)"
    ]


class SessionNamedPerHost(SecureCookieSessionInterface):
    """A session cookie named per host: ``legacy.example`` keeps a name the digest's."""

    def get_cookie_name(self, app: Flask) -> str:
        legacy = has_request_context() and request.host == "legacy.example"
        return COOKIE if legacy else super().get_cookie_name(app)


def test_a_session_cookie_a_getter_names_as_the_digest_keeps_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session interface may name the session cookie per request: where it names it as
    the digest is named, nothing is recorded, and the warning says the name is what its
    getter gave; the other hosts' digests are recorded, before it and after."""
    app = build_app()
    app.session_interface = SessionNamedPerHost()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for host in ["shop.example", "legacy.example", "legacy.example", "shop.example"]:
            response = app.test_client().get("/", base_url=f"https://{host}")
            written = response.headers.get("Set-Cookie", "")
            assert written.startswith(f"{COOKIE}=") == (host == "shop.example")
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: the session interface (SessionNamedPerHost) names the session cookie of a "
        f"request {COOKIE!r}: FIREHOSE_COOKIE_NAME={COOKIE!r} is the session cookie's name "
        "(SESSION_COOKIE_NAME): the digest would replace the session (SESSION_COOKIE_NAME "
        "here: what its get_cookie_name() gave); such responses push nothing and write no "
        "digest (said once per app and process)"
    ]


class CookiePerTenant(SecureCookieSessionInterface):
    """A session scoped to the tenant domain the view names (``g.tenant_domain``)."""

    def get_cookie_domain(self, app: Flask) -> str | None:
        return g.get("tenant_domain") if has_request_context() else None


def tenant_page_visits(app: Flask) -> Callable[[], TestResponse]:
    """A browser's visits, each offered a 103, to ``/tenant`` of ``app``: a page whose view
    sets its tenant's domain (``g.tenant_domain``), as a session interface may read it."""

    @app.route("/tenant")
    def tenant() -> str:
        g.tenant_domain = "shop.example"
        return render_template_string(PAGE)

    hints = {"wsgi.early_hints": lambda headers: None, "HTTP_ACCEPT": "text/html"}
    browser = app.test_client()
    return partial(browser.get, "/tenant", "https://shop.example", environ_overrides=hints)


def test_a_scope_the_view_changes_after_open_is_refused_by_save() -> None:
    """A 103 has ``open()`` read the scope before the view; a session interface reading
    what the view set (its tenant's domain) scopes the cookie otherwise by the time
    ``save()`` writes it. A ``Domain`` on a ``__Host-`` cookie, which browsers refuse, is
    not written then either, and the page pushes nothing."""
    app = hinting_host_prefixed_app()
    app.session_interface = CookiePerTenant()
    visit = tenant_page_visits(app)
    visit()  # the page is learned: the next 103s open the digest before the view
    for _ in range(2):
        response = visit()
        assert response.headers["Link"] == EXPECTED_RETURN
        assert "Set-Cookie" not in response.headers


def test_a_scope_refused_is_recorded_under_once_it_can_be_and_refused_again_after() -> None:
    """A scope found recordable is kept, a scope refused is not: a late config that
    ``init_app`` would refuse (``SESSION_COOKIE_SECURE = False`` on a ``__Host-`` digest)
    records nothing; put back, the digest is recorded again, and its 103 offers the links
    it lacks; set so again, it is refused again, though the scope was recordable between."""
    app = hinting_host_prefixed_app()
    hinted_visit(app.test_client(), "shop.example")  # the page is learned
    client = app.test_client()
    app.config["SESSION_COOKIE_SECURE"] = False
    assert_return_visits_offer_nothing(client)
    app.config["SESSION_COOKIE_SECURE"] = True
    response, offered = hinted_visit(client, "shop.example")
    assert len(offered) == 3
    assert response.headers["Set-Cookie"].startswith("__Host-fd=")
    assert hinted_visit(client, "shop.example")[1] == []  # recorded: nothing new to push
    app.config["SESSION_COOKIE_SECURE"] = False
    assert_return_visits_offer_nothing(app.test_client())


class CookieOfTheViewsTenant(SecureCookieSessionInterface):
    """A session scoped to the tenant domain the view sets, read as Flask reads it: after
    the view. Read before it (``g.tenant_domain`` unset), its getter raises."""

    def get_cookie_domain(self, app: Flask) -> str | None:
        return str(g.tenant_domain) if has_request_context() else None


def test_a_getter_that_raises_before_the_view_costs_the_page_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Flask asks a session interface for the cookie's ``Domain`` only once the view has
    run; a 103 has ``open()`` read it before. A getter that raises then (it reads what the
    view sets) fails ``open()``: the page is served all the same, its links ``nopush``,
    nothing written, and the log says why, as for any connector that fails."""
    app = build_app(FIREHOSE_EARLY_HINTS=True)
    app.session_interface = CookieOfTheViewsTenant()
    visit = tenant_page_visits(app)
    assert visit().headers["Link"] == EXPECTED_FIRST  # opened after the view: recorded
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        response = visit()
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" not in response.headers
    (failed,) = caplog.records
    assert failed.getMessage().endswith(".open() failed; nothing is pushed")
    assert failed.exc_info is not None and failed.exc_info[0] is AttributeError


def test_a_max_cookie_size_lowered_after_init_app_leaves_the_digest_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``MAX_COOKIE_SIZE`` is read at ``init_app``, which sizes the digest by it; one
    lowered after it is named at the first request as kept at the value read. Flask's
    ``Response`` reads it live, though, and Werkzeug's ``set_cookie`` warned at each digest
    cookie past it: under ``-W error`` (this suite's) that failed every ``save()``, so the
    103 offered the page's links for push on every visit and nothing was recorded. The
    digest cookie is measured against the limit ``init_app`` read, as every other one of
    its sizes is."""
    app = build_app(FIREHOSE_EARLY_HINTS=True)
    app.config["MAX_COOKIE_SIZE"] = 60
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        hinted_visit(app.test_client(), "shop.example")  # the page is learned
        first, offered = hinted_visit(client, "shop.example")
        assert first.headers["Set-Cookie"].startswith(f"{COOKIE}=")
        assert len(offered) == 3
        assert_return_visits_offer_nothing(client)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: MAX_COOKIE_SIZE is 60 in app.config, but init_app read 4093, which "
        "firehose_digest keeps: set it before Firehose(app), or call init_app(app) again"
    ]


def test_a_scope_changed_after_init_app_that_can_be_recorded_is_checked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session cookie attribute set after ``init_app`` (``SESSION_COOKIE_SECURE``) gives
    every response a scope ``init_app`` did not check: the digest is recorded under it,
    and it is measured once (``check_scope_fits`` builds the largest cookie's line), not
    on each of the requests that open and save the digest."""
    app = build_app()
    app.config["SESSION_COOKIE_SECURE"] = True
    checked: list[CookieAttributes] = []

    def counted(settings: Any, cookie: CookieAttributes, largest_value: str) -> None:
        checked.append(cookie)
        check_scope_fits(settings, cookie, largest_value)

    monkeypatch.setattr(cookie_scope, "check_scope_fits", counted)
    for _ in range(3):
        response = app.test_client().get("/", base_url="https://shop.example")
        assert response.headers["Link"] == EXPECTED_FIRST
        assert "; Secure" in response.headers["Set-Cookie"]
    assert [cookie.secure for cookie in checked] == [True]


def test_a_cookie_a_domain_per_request_makes_too_long_is_not_written_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``init_app`` sizes the largest digest cookie with the attributes it sees, outside
    any request: host-only there. A session interface scoping the cookie per host adds a
    ``Domain`` on each request, and on a long host the cookie passed ``MAX_COOKIE_SIZE``:
    Werkzeug warned at each such ``Set-Cookie`` (a cookie a browser may drop), and past
    ``FIREHOSE_HEADER_BUDGET`` it could cost nginx's buffer. Such a request records
    nothing and pushes nothing, and a warning says why, as ``init_app`` would have said
    it of that ``Domain``, once, and that the ``SESSION_COOKIE_DOMAIN`` it names is what
    the session interface gave, not the config. A short host's still fits."""
    app = build_app(FIREHOSE_CAPACITY=10, MAX_COOKIE_SIZE=210)
    app.session_interface = CookiePerHost()
    long_host = "the-longest-tenant-name-we-have.customers.shop.example"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(2):
            response = app.test_client().get("/", base_url=f"https://{long_host}")
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: the session interface (CookiePerHost) scopes the digest cookie of a "
        f"request as Domain={long_host!r}, Path='/', Secure=False (SESSION_COOKIE_DOMAIN "
        "here: what its get_cookie_domain() gave): FIREHOSE_CAPACITY=10 "
        "(gcs at FIREHOSE_FP_RATE=0.01) can make a digest cookie of 240 bytes (both "
        "generations full, with its name and attributes), more than MAX_COOKIE_SIZE=210, "
        "past which Werkzeug warns at each Set-Cookie; no FIREHOSE_CAPACITY fits (the "
        "cookie's name and attributes alone take 147 bytes: FIREHOSE_COOKIE_NAME, "
        "SESSION_COOKIE_PATH, SESSION_COOKIE_DOMAIN; with a digest of FIREHOSE_CAPACITY=1, "
        "213). Raise MAX_COOKIE_SIZE; such responses push nothing and write no digest (said "
        "once per app and process)"
    ]
    response = app.test_client().get("/", base_url="https://shop.example")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert len(response.headers["Set-Cookie"]) <= 210


@pytest.mark.parametrize(
    ("first", "said"),
    [
        ("a client's Host", "SESSION_COOKIE_DOMAIN is 1207 bytes long as written"),
        ("SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SAMESITE='Sometimes': SameSite must be"),
    ],
    ids=["a client's long Host", "SameSite set after init_app"],
)
def test_a_scope_no_cookie_can_be_written_with_does_not_silence_a_too_long_one(
    first: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A scope with an attribute ``init_app`` refuses outright (a client's ``Host`` over the
    1024 bytes browsers keep of a ``Domain``, or ``SESSION_COOKIE_SAMESITE = "Sometimes"``
    set after ``init_app``) was told as one whose largest cookie does not fit: a tenant's
    host whose cookie did not fit, which the app can act on, was then never told. Each is
    told once."""
    app = build_app(FIREHOSE_CAPACITY=10, MAX_COOKIE_SIZE=230)
    app.session_interface = CookiePerHost()
    long_host = "the-longest-tenant-name-we-have.customers.shop.example"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        if first == "a client's Host":
            app.test_client().get("/", base_url=f"https://{'a.' * 600}example")
        else:
            app.config["SESSION_COOKIE_SAMESITE"] = "Sometimes"
            app.test_client().get("/", base_url="https://shop.example")
            app.config["SESSION_COOKIE_SAMESITE"] = None
        for _ in range(2):
            response = app.test_client().get("/", base_url=f"https://{long_host}")
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 2, told
    assert said in told[0]
    assert f"Domain={long_host!r}" in told[1]
    assert "can make a digest cookie of 240 bytes" in told[1]


@pytest.mark.parametrize(
    ("limit", "config", "longest"),
    [
        ("MAX_COOKIE_SIZE", {"MAX_COOKIE_SIZE": 230}, 31),
        (
            "FIREHOSE_HEADER_BUDGET",
            {"FIREHOSE_HEADER_BUDGET": 470, "FIREHOSE_LINK_BUDGET": 200},
            35,
        ),
    ],
)
def test_a_domain_per_request_whose_largest_cookie_just_fits_records_one_byte_more_not(
    limit: str, config: dict[str, int], longest: int
) -> None:
    """A request's ``Domain`` is held to the rule ``init_app`` applies to
    ``SESSION_COOKIE_DOMAIN``: the largest cookie the digest can make, scoped so, must fit
    the room left for it. A host whose largest cookie's ``Set-Cookie`` line is exactly
    that room is recorded, and its 103 offers its links for push; one a byte longer is
    not recorded, and its 103 offers nothing for push, on the first visit or any later
    one (a front that pushes from a 103 would push them every time). Whichever limit
    sets the room; Werkzeug never warns of a cookie past ``MAX_COOKIE_SIZE``."""
    fits = "a" * longest + ".shop.example"
    build_app(FIREHOSE_CAPACITY=10, SESSION_COOKIE_DOMAIN=fits, **config)
    with pytest.raises(ValueError, match=limit):
        build_app(FIREHOSE_CAPACITY=10, SESSION_COOKIE_DOMAIN=f"a{fits}", **config)

    app = build_app(FIREHOSE_CAPACITY=10, FIREHOSE_EARLY_HINTS=True, **config)
    app.session_interface = CookiePerHost()
    assert limit in set_cookie_room_said(app.extensions["firehose"].connector.settings(app))
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")  # recorded, not raised: a warned cookie is written
        for host in (fits, f"a{fits}"):
            hinted_visit(app.test_client(), host)  # the page is learned
        client = app.test_client()
        response, offered = hinted_visit(client, fits)
        assert len(offered) == 3
        assert response.headers["Link"] == EXPECTED_FIRST
        assert f"Domain={fits}" in response.headers["Set-Cookie"]
        response, offered = hinted_visit(client, fits)
        assert offered == []
        assert response.headers["Link"] == EXPECTED_RETURN

        client = app.test_client()
        for _ in range(2):
            response, offered = hinted_visit(client, f"a{fits}")
            assert offered == []
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    assert [str(w.message) for w in warned] == []


class EmbeddedPerHost(CookiePerHost):
    """Each host's cookie scoped to that host, and ``SameSite=None`` on an ``embed.`` one,
    whose pages other sites frame."""

    def get_cookie_samesite(self, app: Flask) -> str | None:
        embedded = has_request_context() and request.host.startswith("embed.")
        return "None" if embedded else super().get_cookie_samesite(app)


def test_a_refused_scope_and_one_too_long_are_each_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An app whose session interface scopes one host's cookie as browsers refuse it
    (``SameSite=None`` without ``Secure``) and another's too long is told of each, once."""
    app = build_app(FIREHOSE_CAPACITY=10, MAX_COOKIE_SIZE=230)
    app.session_interface = EmbeddedPerHost()
    long_host = "the-longest-tenant-name-we-have.customers.shop.example"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for host in (long_host, "embed.shop.example") * 2:
            response = app.test_client().get("/", base_url=f"http://{host}")
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    told = [r.getMessage().partition(", Path")[0] for r in caplog.records]
    assert told == [
        "firehose: the session interface (EmbeddedPerHost) scopes the digest cookie of a "
        f"request as Domain={long_host!r}",
        "firehose: the session interface (EmbeddedPerHost) scopes the digest cookie of a "
        "request as Domain='embed.shop.example'",
    ]
    assert "SameSite=None cookie that is not Secure" in caplog.records[1].getMessage()


def test_a_scope_per_request_is_checked_without_making_a_digest(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request's scope, where a session interface scopes the cookie per host, is
    held to ``init_app``'s rule: the largest cookie the digest can make must fit. That
    largest value is the settings' alone: made for each request (the largest digest built
    and signed), it cost more than a bare request, on every request of an app serving more
    hosts than a cache of verdicts kept. Twenty hosts' first visits make it once at most."""
    app = build_app(FIREHOSE_ENCODING=encoding)
    app.session_interface = CookiePerHost()
    made: list[tuple[Any, ...]] = []

    def counted(*args: Any) -> int:
        made.append(args)
        return encoded_size_bound(*args)

    monkeypatch.setattr(settings_module, "encoded_size_bound", counted)
    for n in range(20):
        host = f"tenant-{n}.shop.example"
        response = app.test_client().get("/", base_url=f"https://{host}")
        assert response.headers["Link"] == EXPECTED_FIRST
        assert f"Domain={host}" in response.headers["Set-Cookie"]
    assert len(made) <= 1, made


def _refusal(check: Callable[[], None]) -> str | None:
    """Why ``check`` refuses, or None."""
    try:
        check()
    except ValueError as e:
        return str(e)
    return None


@settings(max_examples=500, deadline=None)
@given(
    config=st.fixed_dictionaries(
        {
            "FIREHOSE_ENCODING": st.sampled_from(["gcs", "bloom"]),
            "FIREHOSE_CAPACITY": st.integers(1, 400),
            "FIREHOSE_MAX_PUSHES": st.just(1),
            "FIREHOSE_LINK_BUDGET": st.sampled_from([0, 200, 1800]),
            "FIREHOSE_HEADER_BUDGET": st.sampled_from([1500, 2200, 3072]),
            "FIREHOSE_COOKIE_NAME": st.sampled_from(
                ["h2-digest"] * 4 + ["__Secure-d", "__Host-d"]
            ),
            "FIREHOSE_MAX_AGE": st.sampled_from([1, 30 * 24 * 3600]),
            "MAX_COOKIE_SIZE": st.sampled_from([None, 230, 500, 1200, 2000]),
        }
    ),
    domain=st.one_of(
        st.none(),
        st.text(st.sampled_from([*"ab9-.", "é", "例", ";", "\t", ":"]), max_size=80),
        st.integers(1, 1100).map(lambda n: ("a" * 60 + ".") * (n // 61) + "b" * (n % 61 or 1)),
    ),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    samesite=st.sampled_from([None, "Lax", None, "None", "Lax", "Sometimes"]),
    path=st.sampled_from(["/", "/shop/é"] * 3 + ["shop"]),
    past_the_room=st.integers(-2, 2),
)
def test_a_scope_per_request_is_refused_exactly_where_init_app_refuses_it(
    config: dict[str, Any],
    domain: str | None,
    flags: tuple[bool, bool, bool],
    samesite: str | None,
    path: str,
    past_the_room: int,
) -> None:
    """``check_scope_fits``, which measures a request's scope with the largest value
    signed once, refuses exactly the scopes ``check_digest_fits`` (``init_app``'s check,
    which signs that value again) refuses, in the same words but for the size. The Path
    is padded to make the largest cookie's line ``past_the_room`` bytes past the room
    left for it, where the verdict turns."""
    try:
        digest_settings = load(config)
        largest = largest_digest_value(digest_settings)
    except ValueError:
        assume(False)  # init_app refuses these settings whatever the scope
    secure, httponly, partitioned = flags
    scope = CookieAttributes(path, domain, secure, httponly, samesite, partitioned)
    try:  # the largest cookie's line before padding: none for a scope Werkzeug refuses
        largest_cookie = dump_cookie(
            digest_settings.cookie_name,
            largest,
            max_age=digest_settings.max_age,
            max_size=0,
            **dataclasses.asdict(dataclasses.replace(scope, samesite=None)),
        )
    except ValueError:
        largest_cookie = ""
    pad = set_cookie_room(digest_settings) - set_cookie_line(largest_cookie) + past_the_room
    pad -= len(f"; SameSite={samesite}") if samesite else 0
    if largest_cookie and path.startswith("/") and pad > 0:
        scope = dataclasses.replace(scope, path=path + "p" * pad)

    refused = _refusal(lambda: check_digest_fits(digest_settings, scope))
    refused_per_request = _refusal(lambda: check_scope_fits(digest_settings, scope, largest))

    assert (refused is None) == (refused_per_request is None), (refused, refused_per_request)
    if refused_per_request and not refused_per_request.startswith("the largest digest cookie"):
        assert refused_per_request == refused


def test_a_scope_per_request_is_measured_by_the_settings_of_the_last_init_app() -> None:
    """The largest value a request's scope is measured with is signed at ``init_app``:
    run again with a larger capacity, a long host's cookie that fitted no longer does, and
    that host is not recorded; run again with the first capacity, it is once more."""
    app = build_app(DigestConnector(), FIREHOSE_CAPACITY=10, MAX_COOKIE_SIZE=300)
    app.session_interface = CookiePerHost()
    firehose = app.extensions["firehose"].owner
    assert firehose is not None
    host = "tenant-with-a-longish-name.shop.example"
    for capacity, recorded in ((10, True), (35, False), (10, True)):
        app.config["FIREHOSE_CAPACITY"] = capacity
        firehose.init_app(app)
        response = app.test_client().get("/", base_url=f"https://{host}")
        assert ("Set-Cookie" in response.headers) is recorded, capacity
        assert response.headers["Link"] == (EXPECTED_FIRST if recorded else EXPECTED_RETURN)


def domain_per_host(app: Flask) -> str | None:
    """:class:`CookiePerHost`'s ``Domain``, as a plain function (no ``__func__``)."""
    return CookiePerHost().get_cookie_domain(app)


@pytest.mark.parametrize(
    "getter",
    [CookiePerHost().get_cookie_domain, domain_per_host],
    ids=["another class's method", "a plain function"],
)
def test_a_getter_set_on_the_session_interface_instance_is_held_to_the_rule_too(
    getter: Callable[[Flask], str | None],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A getter set on Flask's own interface instance is held to ``init_app``'s rule as
    one its class overrides: nothing is written under the scope it gives (the cookie a
    long host's ``Domain`` makes may fit now, but not once the digest fills up). The
    warning says the ``Domain`` came from that getter, a bound method of another class or
    a plain function alike."""
    app = build_app(FIREHOSE_CAPACITY=10, MAX_COOKIE_SIZE=210)
    interface = app.session_interface
    monkeypatch.setattr(interface, "get_cookie_domain", getter)
    long_host = "the-longest-tenant-name-we-have.customers.shop.example"
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(2):
            response = client.get("/", base_url=f"https://{long_host}")
            assert response.headers["Link"] == EXPECTED_RETURN
            assert "Set-Cookie" not in response.headers
    [told] = [r.getMessage() for r in caplog.records]
    assert "(SESSION_COOKIE_DOMAIN here: what its get_cookie_domain() gave)" in told
    response = app.test_client().get("/", base_url="https://shop.example")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert "Domain=shop.example" in response.headers["Set-Cookie"]


def test_a_domain_a_client_s_host_makes_too_long_is_said_in_200_characters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a session interface scoping the cookie per host, the ``Domain`` of that
    warning is the client's ``Host``: one of 4,000 characters (Werkzeug serves it) wrote a
    WARNING as long. It is cut to 200 characters, as any client's text a line names."""
    app = build_app()
    app.session_interface = CookiePerHost()
    long_host = "a." * 2000 + "example"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        response = app.test_client().get("/", base_url=f"https://{long_host}")
    assert response.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" not in response.headers
    [told] = [r.getMessage() for r in caplog.records]
    assert told.startswith(
        "firehose: the session interface (CookiePerHost) scopes the digest cookie of a "
        f"request as Domain='{long_host[:199]}..., Path='/', Secure=False "
        "(SESSION_COOKIE_DOMAIN here: what its get_cookie_domain() gave): "
    ), told[:300]
    assert long_host[:300] not in told and len(told) < 600, told


def test_a_cookie_scoped_per_request_keeps_its_decoded_digests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each change of scope between requests emptied the decoded-digest cache: two hosts
    alternating verified and decoded every returning cookie again."""
    verified = count_verified(monkeypatch)
    app = build_app()
    app.session_interface = CookiePerHost()
    a, b = app.test_client(), app.test_client()
    for client, host in [(a, "http://a.example"), (b, "http://b.example")]:
        assert client.get("/", base_url=host).headers["Link"] == EXPECTED_FIRST
    verified.clear()
    for _ in range(3):
        for client, host in [(a, "http://a.example"), (b, "http://b.example")]:
            assert client.get("/", base_url=host).headers["Link"] == EXPECTED_RETURN
    assert verified == []
    # Each verifies only for its own host: a's cookie sent to b is foreign there.
    cookie = a.get_cookie("h2-digest", domain="a.example")
    assert cookie is not None
    stranger = app.test_client(use_cookies=False)
    sent = {"Cookie": f"h2-digest={cookie.value}"}
    assert (
        stranger.get("/", base_url="http://b.example", headers=sent).headers["Link"]
        == EXPECTED_FIRST
    )


def test_a_copy_cached_for_another_scope_is_foreign_among_several() -> None:
    """Sent beside another copy, a value decoded for one host's cookie scope is looked up
    in the cache of decoded digests by its salt too: on another host it is foreign."""
    app = build_app()
    app.session_interface = CookiePerHost()
    a = app.test_client()
    assert a.get("/", base_url="http://a.example").headers["Link"] == EXPECTED_FIRST
    cookie = a.get_cookie("h2-digest", domain="a.example")
    assert cookie is not None
    stranger = app.test_client(use_cookies=False)
    sent = {"Cookie": f"h2-digest=stranger; h2-digest={cookie.value}"}
    response = stranger.get("/", base_url="http://b.example", headers=sent)
    assert response.headers["Link"] == EXPECTED_FIRST
    assert stranger.get("/", base_url="http://a.example", headers=sent).headers["Link"] == (
        EXPECTED_RETURN
    )


def test_a_digest_read_from_among_copies_is_as_old_as_it_was_signed() -> None:
    """A digest decoded from among several copies of the cookie (a stranger's beside it)
    expires when its own cookie does: its page writes no cookie, as renewal is not due,
    and the next requests, which find it decoded already, whether sent beside the other
    copy or alone, read it as held."""
    client = build_app().test_client()
    client.get("/")
    value = digest_cookie(client)
    app = build_app().test_client(use_cookies=False)  # not decoded there yet
    for header in (f"{COOKIE}=stranger; {COOKIE}={value}",) * 2 + (f"{COOKIE}={value}",):
        response = app.get("/", headers={"Cookie": header})
        assert response.headers["Link"] == EXPECTED_RETURN
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("hosts", [MAX_COOKIE_SCOPES, MAX_COOKIE_SCOPES + 1])
def test_past_the_scopes_kept_the_decoded_digests_are_still_read(
    hosts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exactly at the bound, and one past it, where the codecs are made again: no more
    than the bound are kept, and the values verified once stay cached with their salts."""
    app = build_app()
    app.session_interface = CookiePerHost()
    state = app.extensions["firehose"].connector._state(app)
    clients = [(app.test_client(), f"http://h{n}.example") for n in range(hosts)]
    for client, host in clients:
        assert client.get("/", base_url=host).headers["Link"] == EXPECTED_FIRST
        assert len(state._scoped) <= MAX_COOKIE_SCOPES
    verified = count_verified(monkeypatch)
    for _ in range(2):
        for client, host in clients:
            assert client.get("/", base_url=host).headers["Link"] == EXPECTED_RETURN
            assert len(state._scoped) <= MAX_COOKIE_SCOPES
    assert verified == []


def count_scope_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The domain of each scope ``open()`` checks from now on (``check_scope_fits``, as
    ``init_app`` checks its own), in order."""
    checked: list[str] = []

    def counting_check_scope_fits(
        settings: Settings, cookie: CookieAttributes, largest: str
    ) -> None:
        checked.append(str(cookie.domain))
        check_scope_fits(settings, cookie, largest)

    monkeypatch.setattr(cookie_scope, "check_scope_fits", counting_check_scope_fits)
    return checked


def test_a_host_s_scope_is_checked_once_while_its_pages_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session interface scoping the cookie per host gives each request a scope other
    than the one ``init_app`` checked: whether the largest cookie fits it was worked out
    again (a Set-Cookie line built and measured) on every page of every host. Each host's
    scope is checked once, up to the bound of scopes kept; a scope that does not fit is
    checked, and refused, on every page."""
    checked = count_scope_checks(monkeypatch)
    app = build_app()
    app.session_interface = CookiePerHost()
    # init_app's scope (no host: read outside a request) is one of those kept.
    hosts = [f"h{n}.example" for n in range(MAX_COOKIE_SCOPES - 1)]
    clients = [(app.test_client(), host) for host in hosts]
    for client, host in clients:
        assert client.get("/", base_url=f"http://{host}").headers["Link"] == EXPECTED_FIRST
    for _ in range(2):
        for client, host in clients:
            response = client.get("/", base_url=f"http://{host}")
            assert response.headers["Link"] == EXPECTED_RETURN
    assert sorted(checked) == sorted(hosts)
    long_host = ".".join(["x" * 63, "y" * 63, "z" * 63, "example"])  # past the header budget
    for _ in range(2):
        response = app.test_client().get("/", base_url=f"http://{long_host}")
        assert "Set-Cookie" not in response.headers
    assert checked.count(long_host) == 2
    # One host past the bound empties the scopes kept: each is checked again, once.
    extra = f"h{MAX_COOKIE_SCOPES}.example"
    app.test_client().get("/", base_url=f"http://{extra}")
    for _ in range(2):
        for client, host in clients[:2]:
            assert client.get("/", base_url=f"http://{host}").headers["Link"] == EXPECTED_RETURN
    assert checked.count(extra) == 1
    assert [checked.count(host) for _, host in clients[:2]] == [2, 2]


def test_hosts_served_in_turn_find_their_codecs_without_reading_the_keys_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session interface scoping the cookie per host signs each host's cookie apart. A
    request of another scope than the last one's read the app's keys again, under the
    state's lock, and checked them, to find its scope's codec: with the keys unchanged,
    the codec kept for its scope is found without. A key changed is seen at once all the
    same: a cookie signed with the old one no longer verifies."""
    asked: list[object] = []

    def counting_keys_in_force(*args: Any) -> Any:
        asked.append(args)
        return keys_in_force(*args)

    app = build_app()
    app.session_interface = CookiePerHost()
    clients = [(app.test_client(), f"http://h{n}.example") for n in range(3)]
    for client, host in clients:
        assert client.get("/", base_url=host).headers["Link"] == EXPECTED_FIRST
    monkeypatch.setattr(held_digests, "keys_in_force", counting_keys_in_force)
    for _ in range(2):
        for client, host in clients:
            assert client.get("/", base_url=host).headers["Link"] == EXPECTED_RETURN
    assert asked == []
    app.config["SECRET_KEY"] = "another secret"
    for client, host in clients:
        assert client.get("/", base_url=host).headers["Link"] == EXPECTED_FIRST
    assert asked


def test_a_host_served_after_another_records_what_its_page_pushes() -> None:
    """Hosts in turn: a request of a host whose codec is kept, after another host's,
    finds that codec without the lock. Found as None, its page would record nothing and
    push nothing new, as without ``SECRET_KEY``; a page of links all held (``nopush``)
    looks the same either way, so a new file is pushed here, and held next time."""
    app = build_app()
    app.session_interface = CookiePerHost()
    a, b = app.test_client(), app.test_client()
    for client, host in [(a, "http://a.example"), (b, "http://b.example")]:
        assert client.get("/", base_url=host).headers["Link"] == EXPECTED_FIRST

    response = a.get("/push?u=/new.css", base_url="http://a.example")

    assert response.headers["Link"] == "</new.css>; rel=preload; as=style"
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=")
    again = a.get("/push?u=/new.css", base_url="http://a.example")
    assert again.headers["Link"] == "</new.css>; rel=preload; as=style; nopush"


class _SecureAsAList(CookiePerHost):
    """A session interface whose getter gives a value no cookie attribute is, nor any set
    holds."""

    def get_cookie_secure(self, app: Flask) -> Any:
        return [True] if has_request_context() else False


def test_a_scope_no_set_holds_is_checked_and_refused_on_every_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Scopes found to fit are kept in a set: a scope holding a list is asked there too,
    and must be checked, and refused with one warning, as any scope that does not fit,
    not fail the connector."""
    app = build_app()
    app.session_interface = _SecureAsAList()
    (told,) = told_on_pages_refused(app, caplog)
    assert "SESSION_COOKIE_SECURE must be True or False, got [True]" in told


class _NoDomainAsAList(CookiePerHost):
    """A session interface that gives one host an empty list for its cookie's ``Domain``:
    false, so no ``Domain`` (a host-only cookie, as Werkzeug writes it), which no set
    holds."""

    def get_cookie_domain(self, app: Flask) -> Any:
        domain = super().get_cookie_domain(app)
        return [] if domain == "listed.example" else domain


def test_a_recordable_scope_no_set_holds_leaves_the_scopes_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scope the digest can be recorded under that no set holds is recorded, and asked
    again on each page; it must not empty the scopes kept, as many as
    ``MAX_COOKIE_SCOPES``, to make room for itself, when it can take none: each host's
    would be checked again."""
    checked = count_scope_checks(monkeypatch)
    app = build_app()
    app.session_interface = _NoDomainAsAList()
    # With init_app's scope (no host: read outside a request), the bound of scopes kept.
    hosts = [f"h{n}.example" for n in range(MAX_COOKIE_SCOPES - 1)]
    for host in hosts:
        app.test_client().get("/", base_url=f"http://{host}")
    listed = app.test_client()
    assert listed.get("/", base_url="http://listed.example").headers["Link"] == EXPECTED_FIRST
    assert listed.get("/", base_url="http://listed.example").headers["Link"] == EXPECTED_RETURN
    for host in hosts:
        app.test_client().get("/", base_url=f"http://{host}")
    assert sorted(checked) == sorted(hosts)


def test_a_domain_set_after_init_app_that_no_cookie_can_have_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Set after ``init_app``, which would refuse it, a ``Domain`` no cookie can have is
    named once, as a scope nothing can be recorded under: ``open()`` failed on it instead,
    and the log took a traceback on every request."""
    app = build_app()
    app.config["SESSION_COOKIE_DOMAIN"] = "shop..example"
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(2):
            response = app.test_client().get("/")
            assert response.status_code == 200
            assert response.headers["Link"] == EXPECTED_RETURN
    assert [(r.levelname, r.exc_info) for r in caplog.records] == [("WARNING", None)]
    assert "SESSION_COOKIE_DOMAIN='shop..example'" in caplog.text


def test_arguments_override_config() -> None:
    connector = DigestConnector(capacity=50, encoding="bloom", fp_rate=0.05)
    app = build_app(connector, FIREHOSE_CAPACITY=10, FIREHOSE_FP_RATE=0.01)
    settings = connector.settings(app)
    assert (settings.capacity, settings.kind.__name__, settings.fp_rate) == (
        50,
        "BloomDigest",
        0.05,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"capacity": 5}, "FIREHOSE_CAPACITY=5 is less than FIREHOSE_MAX_PUSHES=10"),
        ({"capacity": 100_000}, "FIREHOSE_CAPACITY must be an int"),
        ({"fp_rate": 2.0}, "FIREHOSE_FP_RATE must be a number"),
        ({"encoding": "zip"}, "FIREHOSE_ENCODING must be one of"),
    ],
)
def test_a_connector_argument_that_cannot_work_is_named_as_given(
    arguments: dict[str, Any], message: str
) -> None:
    """The app's config may not hold FIREHOSE_CAPACITY at all: the error says it was the
    connector's argument that stands for it."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    connector = DigestConnector(**arguments)
    with pytest.raises(ValueError) as refused:
        Firehose(app, connector=connector)
    assert str(refused.value).startswith(f"{connector!r} (its arguments stand for")
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("arguments", "message", "converted"),
    [
        (
            {"capacity": "300"},
            "FIREHOSE_CAPACITY must be an int in [1, 8192], got '300'; "
            "a number given as a str: convert it, int(value)",
            {"capacity": 300},
        ),
        (
            {"fp_rate": "0.02"},
            "FIREHOSE_FP_RATE must be a number in (0, 1), got '0.02'; "
            "a number given as a str: convert it, float(value)",
            {"fp_rate": 0.02},
        ),
        # The advice, followed, must work: int("1e3") and float("1%") raise ValueError,
        # and were advised all the same, as was int("abc"), no number.
        ({"capacity": "1e3"}, "FIREHOSE_CAPACITY must be an int in [1, 8192], got '1e3'", None),
        (
            {"capacity": "300.5"},
            "FIREHOSE_CAPACITY must be an int in [1, 8192], got '300.5'",
            None,
        ),
        ({"capacity": "abc"}, "FIREHOSE_CAPACITY must be an int in [1, 8192], got 'abc'", None),
        ({"fp_rate": "1%"}, "FIREHOSE_FP_RATE must be a number in (0, 1), got '1%'", None),
    ],
)
def test_a_connector_argument_given_as_a_str_is_told_to_convert_it_where_that_works(
    arguments: dict[str, Any], message: str, converted: dict[str, Any] | None
) -> None:
    """A str typed in Python (or read from os.environ by hand) is no environment
    variable's: the hint names no FLASK_ variable, which the user never set, and says
    what to write where converting it works; so written, the connector is taken."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    connector = DigestConnector(**arguments)
    with pytest.raises(ValueError) as refused:
        Firehose(app, connector=connector)
    assert str(refused.value) == (
        f"{connector!r} (its arguments stand for FIREHOSE_CAPACITY, FIREHOSE_FP_RATE, "
        f"FIREHOSE_ENCODING): {message}"
    )
    assert "environ" not in str(refused.value)
    if converted is not None:
        Firehose(app, connector=DigestConnector(**converted))


def _configured(**config: Any) -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", **config)
    Firehose(app)


def _connected(connector: Any) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    Firehose(app, connector=connector)


def _pushed(**keywords: Any) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    Firehose(app)
    with app.test_request_context():
        push("/legacy.js", as_="script", **keywords)


def _tagged(**keywords: Any) -> None:
    static = Path(__file__).parents[1] / "examples" / "quickstart" / "static"
    app = Flask(__name__, static_folder=static)
    app.config["SECRET_KEY"] = "k"
    Firehose(app)
    with app.test_request_context():
        static_tag("app.css", **keywords)


#: Where a number is taken: how to give it, a number of another type, what converts it.
NUMBERS_TAKEN = [
    pytest.param(lambda v: _connected(SessionConnector(max_items=v)), "int", id="max_items"),
    pytest.param(lambda v: _connected(DigestConnector(capacity=v)), "int", id="capacity"),
    pytest.param(lambda v: _connected(DigestConnector(fp_rate=v / 10_000)), "float", id="fp_rate"),
    pytest.param(lambda v: _configured(FIREHOSE_CAPACITY=v), "int", id="FIREHOSE_CAPACITY"),
    pytest.param(lambda v: _configured(FIREHOSE_MAX_PUSHES=v), "int", id="MAX_PUSHES"),
    pytest.param(lambda v: _configured(FIREHOSE_FP_RATE=v / 10_000), "float", id="FP_RATE"),
    pytest.param(lambda v: _configured(MAX_COOKIE_SIZE=v * 20), "int", id="MAX_COOKIE_SIZE"),
    pytest.param(lambda v: _configured(FIREHOSE_DIGEST_VERSION=v), "str", id="DIGEST_VERSION"),
    pytest.param(lambda v: _pushed(nonce=v), "str", id="push-nonce"),
    pytest.param(lambda v: _pushed(version=v), "str", id="push-version"),
    pytest.param(lambda v: _tagged(title=v), "str", id="static_tag-title"),
]


@pytest.mark.parametrize("number", [Decimal("100"), Fraction(100)], ids=["Decimal", "Fraction"])
@pytest.mark.parametrize(("take", "convert"), NUMBERS_TAKEN)
def test_a_number_of_another_type_is_told_to_convert_it_everywhere_one_is_taken(
    take: Callable[[Any], None], convert: str, number: Decimal | Fraction
) -> None:
    """An int or a float is what each setting, connector argument and push() keyword
    takes as a number; a Decimal or a Fraction (a price, a ratio from the app's own code)
    was refused as if it were no number ("must be a number in (0, 1), got
    Decimal('0.01')", "must be a str or a number"). It is refused everywhere alike, its
    type named and the conversion said; so converted, it is taken."""
    with pytest.raises(ValueError) as refused:
        take(number)
    said = f"; a {type(number).__name__}: convert it, {convert}(value)"
    assert said in str(refused.value), str(refused.value)
    take({"int": int, "float": float, "str": str}[convert](number))


def test_session_connector_s_max_items_given_as_a_str_is_told_to_convert_it() -> None:
    """As DigestConnector's capacity is (332350c): it quoted the str alone."""
    with pytest.raises(ValueError) as refused:
        SessionConnector(max_items="100")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "SessionConnector max_items must be an int >= 1, got '100'; a number given as a "
        "str: convert it, int(value)"
    )
    with pytest.raises(ValueError, match=r"got '1e3'$"):  # int() of it raises: no advice
        SessionConnector(max_items="1e3")  # type: ignore[arg-type]


def test_a_refusal_not_about_the_connector_s_arguments_is_not_put_on_them() -> None:
    """A connector given arguments, refused for a setting none of them stands for (the
    cookie's Path): the error names that setting alone, as for a connector without any."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", SESSION_COOKIE_PATH="shop")
    with pytest.raises(ValueError, match=r"^SESSION_COOKIE_PATH='shop' "):
        Firehose(app, connector=DigestConnector(capacity=50, fp_rate=0.05, encoding="bloom"))


def test_another_process_with_the_same_key_honours_the_cookie(encoding: str) -> None:
    """Stateless: nothing but the cookie carries the state (no shared decode cache)."""
    issuer = build_app(DigestConnector(encoding=encoding)).test_client()
    issuer.get("/")
    other = build_app(DigestConnector(encoding=encoding)).test_client()
    other.set_cookie(COOKIE, digest_cookie(issuer) or "")
    assert other.get("/").headers["Link"] == EXPECTED_RETURN


def test_key_rotation_keeps_digests_and_re_signs_with_the_new_key() -> None:
    old = build_app(SECRET_KEY="old").test_client()
    old.get("/")
    rotated_app = build_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
    rotated = rotated_app.test_client()
    rotated.set_cookie(COOKIE, digest_cookie(old) or "")
    assert rotated.get("/").headers["Link"] == EXPECTED_RETURN
    rotated.get("/push?u=/new.css")
    only_new = build_app(SECRET_KEY="new").test_client()
    only_new.set_cookie(COOKIE, digest_cookie(rotated) or "")
    assert only_new.get("/").headers["Link"] == EXPECTED_RETURN


@pytest.mark.parametrize("fallbacks", ["old", b"old"])
def test_fallbacks_given_as_one_key_are_refused_at_init(fallbacks: str | bytes) -> None:
    """A bare str would make each of its characters a key: a cookie signed with "o" would
    verify, and one signed with "old" would not."""
    with pytest.raises(ValueError, match="SECRET_KEY_FALLBACKS"):
        build_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=fallbacks)
    build_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=("old",))  # a tuple is a list of keys


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (
            bytearray(b"old-secret-key"),
            "got bytearray at index 1: give the same key as bytes, bytes(key)",
        ),
        ("old-secret-k\udcff", "got a str with a lone surrogate at index 1"),
        (83920174659201, "got int at index 1"),
    ],
    ids=["bytearray", "lone surrogate", "int"],
)
def test_a_fallback_no_hmac_can_use_is_named_by_its_place_not_its_value(
    key: object, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A fallback still verifies Flask's session (a bytearray one signs it, too): its value
    is a secret, never written into the error or a log line, which said ``got
    bytearray(b'old-secret-key')``. Refused at init_app, and set later one warning, naming
    the key, its index, and, for a bytearray, what to write, as for ``SECRET_KEY``."""
    fallbacks = ["older", key]
    expected = f"SECRET_KEY_FALLBACKS must hold str (UTF-8) or bytes keys, {problem}"
    with pytest.raises(ValueError) as refused:
        build_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=fallbacks)
    assert str(refused.value) == expected
    if isinstance(key, str):
        return  # Flask's session cannot open a request with it, with or without us: a 500
    app = build_app(SECRET_KEY="new")
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks
    with caplog.at_level(logging.WARNING):
        assert app.test_client().get("/").status_code == 200
    assert [r.getMessage() for r in caplog.records] == [
        f"firehose: {expected}, so DigestConnector cannot remember what a client holds; "
        "pages keep their preload links but nothing is pushed"
    ]


def test_fallbacks_set_to_one_key_at_run_time_sign_nothing() -> None:
    """Set after init_app, a bare str of fallbacks is as if no key were set (one warning):
    no character of it verifies a cookie, nothing is offered for push, no cookie is set."""
    signed_with_o = build_app(SECRET_KEY="o").test_client()
    signed_with_o.get("/")
    app = build_app(SECRET_KEY="new")
    app.config["SECRET_KEY_FALLBACKS"] = "old"
    client = app.test_client()
    client.set_cookie(COOKIE, digest_cookie(signed_with_o) or "")
    response = client.get("/push?u=/new.css")
    assert response.headers["Link"] == "</new.css>; rel=preload; as=style; nopush"
    assert "Set-Cookie" not in response.headers
    app.config["SECRET_KEY_FALLBACKS"] = ["old"]  # corrected: "o" signs nothing valid
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_key_removed_at_run_time_is_no_longer_trusted() -> None:
    """On the very next request, even for a value this process has cached."""
    app = build_app(SECRET_KEY="old")
    client = app.test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # now from the cache
    app.config["SECRET_KEY"] = "new"
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_fallback_removed_in_place_is_no_longer_trusted() -> None:
    app = build_app(SECRET_KEY="old")
    client = app.test_client()
    client.get("/")
    app.config["SECRET_KEY_FALLBACKS"] = ["old"]
    app.config["SECRET_KEY"] = "new"
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # verified by the fallback
    app.config["SECRET_KEY_FALLBACKS"].remove("old")  # the same list, changed in place
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_fallback_removed_while_the_codec_is_made_is_no_longer_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another thread empties the fallbacks while this one makes the codec from them: the
    keys kept beside the codec are the ones it was made from, so the next request sees the
    change and no longer trusts the removed key."""
    from firehose_digest import held_digests
    from firehose_digest.codec import DigestCodec

    app = build_app(SECRET_KEY="old")
    client = app.test_client()
    client.get("/")
    app.config["SECRET_KEY_FALLBACKS"] = ["old"]
    app.config["SECRET_KEY"] = "new"
    made_with = []

    class RacingCodec(DigestCodec):
        def __init__(self, keys: Any, *arguments: Any) -> None:
            super().__init__(keys, *arguments)
            made_with.append(keys)
            app.config["SECRET_KEY_FALLBACKS"].clear()  # meanwhile, in another thread

    monkeypatch.setattr(held_digests, "DigestCodec", RacingCodec)
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # made with "old" trusted
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    assert made_with == [["old", "new"], ["new"]]


def test_the_keys_are_read_again_under_the_lock_before_a_codec_is_made() -> None:
    """Thread A reads the config while "old" is still a fallback; thread B removes it and
    installs its codec; A then takes the lock. Had A made its codec from its first read, the
    removed key would be trusted again until some request looked again."""
    from firehose_digest.codec import DigestCodec
    from firehose_digest.digests import DigestError

    app = build_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
    state = app.extensions["firehose"].connector._state(app)
    state.codec(app)

    class Config(dict[str, Any]):
        """The config as A sees it: the fallback before the lock, none once A holds it."""

        def get(self, key: str, default: Any = None) -> Any:
            if key == "SECRET_KEY_FALLBACKS":
                return [] if state._lock.locked() else ["old"]
            return super().get(key, default)

    app.config = Config(app.config, SECRET_KEY="newer")  # type: ignore[assignment]
    codec = state.codec(app)
    assert codec is not None and state._inputs_and_codec[1] is codec
    salt, max_age = state.settings.salt, state.settings.max_age
    codec.loads(DigestCodec(["newer"], salt, max_age).dumps(b"x"))
    with pytest.raises(DigestError):
        codec.loads(DigestCodec(["old"], salt, max_age).dumps(b"x"))


def test_a_codec_another_request_installed_meanwhile_is_used_with_its_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests see the key change; the first to take the lock makes the codec and
    reads a client's cookie with it while the second waits. The second, reading the keys
    in force again under the lock, uses that codec: the digest decoded meanwhile stays
    cached, not verified again."""
    issuer = build_app(SECRET_KEY="new").test_client()
    issuer.get("/")
    cookie = issuer.get_cookie(COOKIE)
    assert cookie is not None
    value = cookie.value
    app = build_app(SECRET_KEY="old")
    state = app.extensions["firehose"].connector._state(app)
    assert state.codec(app) is not None
    app.config["SECRET_KEY"] = "new"
    lock = state._lock

    class Contended:
        """The lock as the second request meets it: taken first by another request."""

        def __enter__(self) -> None:
            monkeypatch.setattr(state, "_lock", lock)
            client = app.test_client()
            client.set_cookie(COOKIE, value)
            assert client.get("/").headers["Link"] == EXPECTED_RETURN  # the first request
            lock.acquire()

        def __exit__(self, *exc: object) -> None:
            lock.release()

    monkeypatch.setattr(state, "_lock", Contended())
    codec = state.codec(app)
    assert codec is not None and state._inputs_and_codec[1] is codec
    verified = count_verified(monkeypatch)
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert verified == []


def test_the_missing_key_warning_is_logged_outside_the_lock() -> None:
    """A log handler may itself serve a request of the app (an error page, a webhook):
    had the warning been logged with the lock held, that request would wait on it forever."""
    import threading

    app = build_app(SECRET_KEY="k")
    state = app.extensions["firehose"].connector._state(app)
    reentered: list[object] = []

    class Reenters(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reentered.append(state.codec(app))

    app.config["SECRET_KEY"] = None
    app.logger.addHandler(handler := Reenters())
    try:
        worker = threading.Thread(target=state.codec, args=(app,), daemon=True)
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive(), "codec() waited on its own lock"
    finally:
        app.logger.removeHandler(handler)
    assert reentered == [None]


def test_a_page_that_only_reuses_a_key_held_in_the_older_generation_refreshes_it(
    encoding: str,
) -> None:
    """A rotation leaves ``/every.css`` in the older generation alone; a page that pushes
    nothing new but links it again writes it back into the current one, so it survives the
    next rotation instead of being pushed again."""
    app = build_app(DigestConnector(encoding=encoding), FIREHOSE_CAPACITY=8, FIREHOSE_MAX_PUSHES=8)
    client = app.test_client()

    def push(*names: str) -> TestResponse:
        return client.get("/push?" + "&".join(f"u=/{name}.css" for name in names))

    def pushed(response: TestResponse) -> list[str]:
        return [link for link in response.headers["Link"].split(", ") if "nopush" not in link]

    filling = [f"page-{n}" for n in range(7)]
    assert len(pushed(push("every", *filling))) == 8  # the generation is full
    assert len(pushed(push("next"))) == 1  # rotates: /every.css is in the older one alone

    reuse = push("every")

    assert pushed(reuse) == []
    assert f"{COOKIE}=" in reuse.headers["Set-Cookie"]  # nothing pushed, yet written
    again = push("every")
    assert pushed(again) == []
    assert "Set-Cookie" not in again.headers  # the current generation holds it now
    assert len(pushed(push(*[f"more-{n}" for n in range(6)]))) == 6  # full again
    assert len(pushed(push("last", "after-last"))) == 2  # rotates: the older one is dropped
    assert pushed(push("every")) == []


def test_a_page_that_rotates_the_digest_midway_keeps_its_keys_through_the_next_rotation(
    encoding: str,
) -> None:
    """Capacity 8: a page pushing 4 keys into a generation holding 6 rotates it after the
    first 2, which are then in the older generation alone. ``save()`` adds the page's keys
    again after the rotation, so the new generation holds all 4: when the next page
    rotates it in turn, the older generation it leaves holds the whole page, not half of
    it, and nothing is pushed again."""
    app = build_app(DigestConnector(encoding=encoding), FIREHOSE_CAPACITY=8, FIREHOSE_MAX_PUSHES=8)
    client = app.test_client()

    def push(*names: str) -> list[str]:
        response = client.get("/push?" + "&".join(f"u=/{name}.css" for name in names))
        return [link for link in response.headers["Link"].split(", ") if "nopush" not in link]

    page = [f"page-{n}" for n in range(4)]
    assert len(push(*[f"first-{n}" for n in range(6)])) == 6
    assert len(push(*page)) == 4  # rotates after its first 2
    assert len(push(*[f"next-{n}" for n in range(7)])) == 7  # rotates again

    assert push(*page) == []


def _pushed_urls(response: TestResponse) -> list[str]:
    links = response.headers.get("Link", "").split(", ")
    return [link[1 : link.index(">")] for link in links if link and "nopush" not in link]


@pytest.mark.parametrize("encoding_name", ["gcs", "bloom"])
def test_a_page_of_more_keys_than_a_generation_keeps_what_it_pushed(encoding_name: str) -> None:
    """25 links at capacity 10: writing its keys back rotated twice and dropped the
    generation holding this response's pushes, so the next visit pushed them again."""
    app = build_app(
        DigestConnector(encoding=encoding_name), FIREHOSE_CAPACITY=10, FIREHOSE_MAX_PUSHES=10
    )
    client = app.test_client()
    page = "/push?" + "&".join(f"u=/{n}.css" for n in range(25))
    before: list[str] = []
    for _ in range(6):
        now = _pushed_urls(client.get(page))
        assert not set(now) & set(before)
        before = now


@settings(max_examples=60, deadline=None)
@given(
    encoding_name=st.sampled_from(["gcs", "bloom"]),
    capacity=st.integers(1, 12),
    data=st.data(),
)
def test_what_a_response_pushes_is_held_on_the_next_request(
    encoding_name: str, capacity: int, data: st.DataObject
) -> None:
    """Whatever the pages, the capacity and the pushes per response: every key a response
    pushed is nopush on the very next request for that page."""
    max_pushes = data.draw(st.integers(1, capacity), label="max_pushes")
    pages = data.draw(
        st.lists(
            st.lists(st.integers(0, 40), max_size=3 * capacity, unique=True),
            min_size=1,
            max_size=6,
        ),
        label="pages",
    )
    app = build_app(
        DigestConnector(encoding=encoding_name),
        FIREHOSE_CAPACITY=capacity,
        FIREHOSE_MAX_PUSHES=max_pushes,
    )
    client = app.test_client()
    for page in pages:
        url = "/push?" + "&".join(f"u=/{n}.css" for n in page)
        pushed = _pushed_urls(client.get(url))
        assert len(pushed) <= max_pushes
        assert not set(pushed) & set(_pushed_urls(client.get(url)))


def test_a_page_whose_stale_key_cannot_be_written_back_sets_no_cookie() -> None:
    """Capacity 2: a page reusing /old.css (older generation only), /a.css and /b.css
    can write back only its last two, which are current already: nothing changes, so no
    cookie is set, visit after visit."""
    app = build_app(FIREHOSE_CAPACITY=2, FIREHOSE_MAX_PUSHES=2)
    client = app.test_client()
    client.get("/push?u=/old.css&u=/x.css")  # full
    client.get("/push?u=/a.css")  # rotates: /old.css and /x.css are older
    client.get("/push?u=/b.css")
    for _ in range(2):
        response = client.get("/push?u=/old.css&u=/a.css&u=/b.css")
        assert response.headers["Link"].count("nopush") == 3
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("how", ["deleted", "set"])
def test_a_digest_cookie_the_app_sets_itself_is_left_as_it_set_it(how: str) -> None:
    """A "forget me" page deletes the digest (security.md: it tells which of the site's
    files a browser was pushed); ours was written after it, the old digest and this page,
    and a browser keeps the last (a stranger's hunt). The app's own wins: this page's new
    link is not pushed, as nothing records it."""
    app = build_app()

    @app.route("/forget-me")
    def forget_me() -> Response:
        push("/privacy.css", as_="style")  # new to the client: would be pushed
        response = Response("forgotten")
        if how == "deleted":
            response.delete_cookie("h2-digest")
        else:
            response.set_cookie("h2-digest", "chosen-by-the-app")
        return response

    client = app.test_client()
    client.get("/push?u=/a.css")
    response = client.get("/forget-me")
    written = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("h2-digest=")]
    assert len(written) == 1
    assert written[0].startswith("h2-digest=;" if how == "deleted" else "h2-digest=chosen")
    assert response.headers["Link"] == "</privacy.css>; rel=preload; as=style; nopush"
    assert client.get("/push?u=/a.css").headers["Link"] == "</a.css>; rel=preload; as=style"


def test_a_page_that_sets_a_cookie_of_its_own_records_what_it_pushes() -> None:
    """Only a Set-Cookie of the digest's own name is the app's say over it: a page that
    sets another cookie (a theme; a consent cookie whose name begins with ours) records
    its push, and the next visit is told the client holds it."""
    app = build_app()

    @app.route("/theme")
    def theme() -> Response:
        push("/dark.css", as_="style")
        response = Response("themed")
        response.set_cookie("theme", "dark")
        response.set_cookie(f"{COOKIE}-consent", "yes")
        return response

    client = app.test_client()
    assert client.get("/theme").headers["Link"] == "</dark.css>; rel=preload; as=style"
    assert digest_cookie(client) is not None
    assert client.get("/theme").headers["Link"] == "</dark.css>; rel=preload; as=style; nopush"


def test_security_md_s_recipe_deletes_the_digest_where_it_was_written() -> None:
    """Under ``APPLICATION_ROOT`` the digest's Path is the app's root: a deletion at "/"
    would leave it (and stop our write too), so the recipe reads Flask's interface."""
    app = build_app(
        APPLICATION_ROOT="/shop",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="None",
    )

    @app.route("/forget-me")
    def forget_me() -> Response:
        response = Response("forgotten")
        interface = app.session_interface
        response.delete_cookie(
            app.config["FIREHOSE_COOKIE_NAME"],
            path=interface.get_cookie_path(app),
            domain=interface.get_cookie_domain(app),
            secure=interface.get_cookie_secure(app),
            httponly=interface.get_cookie_httponly(app),
            partitioned=interface.get_cookie_partitioned(app),
        )
        return response

    client = app.test_client(use_cookies=False)
    shop = "https://example.test/shop"
    [written] = client.get("/push?u=/a.css", base_url=shop).headers.getlist("Set-Cookie")
    [deleted] = client.get("/forget-me", base_url=shop).headers.getlist("Set-Cookie")
    scope = {"Path=/shop", "Domain=example.test", "Secure", "Partitioned"}
    assert scope <= {part.strip() for part in written.split(";")[1:]}
    assert deleted.startswith(f"{COOKIE}=;")
    assert scope <= {part.strip() for part in deleted.split(";")}


@pytest.mark.parametrize("turned", ["on", "off"])
def test_a_digest_written_before_a_deploy_turned_partitioned_on_or_off_is_not_read(
    turned: str,
) -> None:
    """A partitioned cookie and an unpartitioned one of the same name, domain and path are
    two cookies (CHIPS): once a deploy toggles ``SESSION_COOKIE_PARTITIONED`` the browser
    keeps the old one beside the new until its Max-Age, and security.md's "forget me"
    recipe deletes only the new. The old one verified, so a forgotten browser's digest was
    read again. Now it is signed for its Partitioned attribute too, read per request as
    the domain and path are: the old one is foreign after either a new deploy or a config
    changed in place."""
    before = turned == "off"
    config = {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True}
    https = "https://example.test"
    app = build_app(SESSION_COOKIE_PARTITIONED=before, **config)
    browser = app.test_client(use_cookies=False)
    written = browser.get("/", base_url=https).headers["Set-Cookie"]
    assert ("; Partitioned" in written) is before
    sent = {"Cookie": written.split(";", 1)[0]}
    assert browser.get("/", base_url=https, headers=sent).headers["Link"] == EXPECTED_RETURN
    redeployed = build_app(SESSION_COOKIE_PARTITIONED=not before, **config)
    after = redeployed.test_client(use_cookies=False).get("/", base_url=https, headers=sent)
    assert after.headers["Link"] == EXPECTED_FIRST
    assert ("; Partitioned" in after.headers["Set-Cookie"]) is not before
    app.config["SESSION_COOKIE_PARTITIONED"] = not before  # cached with the old salt
    assert browser.get("/", base_url=https, headers=sent).headers["Link"] == EXPECTED_FIRST


@pytest.mark.parametrize(
    "deploy",
    [
        {"SESSION_COOKIE_PARTITIONED": True},
        {"SESSION_COOKIE_DOMAIN": "example.test"},
        {"SESSION_COOKIE_PATH": "/push"},
    ],
    ids=["Partitioned", "Domain", "Path"],
)
def test_a_rolled_back_deploy_reads_again_the_copy_written_before_it(
    deploy: dict[str, Any],
) -> None:
    """security.md: a deploy that changes the cookie's scope leaves the old copy beside
    the new, unread; the "forget me" recipe deletes the new one. Rolled back, the old
    copy verifies again, and the browser is read as holding what it held before."""
    config = {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True}
    https = "https://example.test"
    before = build_app(**config).test_client(use_cookies=False)
    old = before.get("/push?u=/a.css", base_url=https).headers["Set-Cookie"].split(";")[0]
    deployed = build_app(**config, **deploy).test_client(use_cookies=False)
    first = deployed.get("/push?u=/a.css", base_url=https, headers={"Cookie": old})
    assert first.headers["Link"] == "</a.css>; rel=preload; as=style"  # the old copy unread
    # The new copy is deleted ("forget me"); rolled back, the browser sends the old one.
    again = before.get("/push?u=/a.css", base_url=https, headers={"Cookie": old})
    assert again.headers["Link"] == "</a.css>; rel=preload; as=style; nopush"


@pytest.mark.parametrize(
    ("config", "salt"),
    [
        ({}, "firehose-digest"),
        (
            {"SESSION_COOKIE_DOMAIN": "Example.test", "APPLICATION_ROOT": "/shop"},
            "firehose-digest;domain=example.test;path=/shop",
        ),
        ({"SESSION_COOKIE_PATH": "/shop"}, "firehose-digest;domain=None;path=/shop"),
    ],
    ids=["default", "domain and path", "path"],
)
def test_an_unpartitioned_digest_signed_before_partitioned_was_signed_is_still_read(
    config: dict[str, str], salt: str
) -> None:
    """Signing ``Partitioned`` changed no unpartitioned cookie's salt: the value a client
    holds from before the upgrade, signed with the salt as it was (plain itsdangerous),
    is still its digest, and nothing is pushed to it again."""
    app = build_app(SESSION_COOKIE_SECURE=True, **config)
    digest = AgingDigest(GCSDigest, 300, 0.01)
    for url in ["/static/site.css", "/static/app.js", "/static/inter.woff2"]:
        digest.add(url)
    signer = TimestampSigner("test secret", salt=salt, key_derivation="hmac")
    value = signer.sign(base64_encode(digest.to_bytes())).decode()
    path = config.get("APPLICATION_ROOT") or config.get("SESSION_COOKIE_PATH") or "/"
    response = app.test_client(use_cookies=False).get(
        "/", base_url=f"https://example.test{path}", headers={"Cookie": f"{COOKIE}={value}"}
    )
    assert response.headers["Link"] == EXPECTED_RETURN


def test_unknown_key_means_everything_is_new() -> None:
    old = build_app(SECRET_KEY="old").test_client()
    old.get("/")
    stranger = build_app(SECRET_KEY="new").test_client()
    stranger.set_cookie(COOKIE, digest_cookie(old) or "")
    assert stranger.get("/").headers["Link"] == EXPECTED_FIRST


@pytest.mark.parametrize(
    ("version", "salt"), [("", "firehose-digest"), ("V", "firehose-digest:V")]
)
def test_the_digest_is_signed_with_the_salt_security_md_names(version: str, salt: str) -> None:
    """docs/security.md: itsdangerous' ``TimestampSigner``, HMAC-SHA1, the last key signing,
    with the salt ``firehose-digest`` (``firehose-digest:V`` with
    ``FIREHOSE_DIGEST_VERSION = "V"``)."""
    app = build_app(
        SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"], FIREHOSE_DIGEST_VERSION=version
    )
    client = app.test_client()
    client.get("/")
    value = digest_cookie(client) or ""
    assert TimestampSigner("new", salt=salt, key_derivation="hmac").unsign(value)
    with pytest.raises(BadSignature):
        TimestampSigner("old", salt=salt, key_derivation="hmac").unsign(value)


def test_a_new_digest_version_pushes_everything_again() -> None:
    client = build_app(FIREHOSE_DIGEST_VERSION="deploy-1").test_client()
    client.get("/")
    redeployed = build_app(FIREHOSE_DIGEST_VERSION="deploy-2").test_client()
    redeployed.set_cookie(COOKIE, digest_cookie(client) or "")
    assert redeployed.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_digest_made_with_other_settings_starts_afresh() -> None:
    client = build_app(FIREHOSE_CAPACITY=100).test_client()
    client.get("/")
    resized = build_app(FIREHOSE_CAPACITY=200).test_client()
    resized.set_cookie(COOKIE, digest_cookie(client) or "")
    assert resized.get("/").headers["Link"] == EXPECTED_FIRST


@pytest.mark.parametrize(
    "sent",
    [["unsigned"], ["no digest"], ["no digest", "unsigned"]],
    ids=["unsigned", "no digest", "both, as copies"],
)
def test_a_cookie_that_is_no_digest_is_ignored_with_a_debug_line(
    sent: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Not signed, or signed with the app's key but no digest (a payload of garbage):
    each value ignored says why, at debug level, whether sent alone or beside others."""
    app = build_app()
    codec = app.extensions["firehose"].connector._state(app).codec(app)
    assert codec is not None
    values = [codec.dumps(b"garbage") if kind == "no digest" else kind for kind in sent]
    client = app.test_client(use_cookies=False)
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = client.get("/", headers={"Cookie": "; ".join(f"{COOKIE}={v}" for v in values)})
    assert response.headers["Link"] == EXPECTED_FIRST
    ignored = [r for r in caplog.records if "ignoring the digest cookie" in r.getMessage()]
    assert len(ignored) == len(sent)


def test_a_cookie_s_signature_is_logged_as_a_log_line_can_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The DEBUG line of a cookie that does not verify quotes itsdangerous's error, which
    repeats the signature the client sent: one of 4,000 characters made a line as long
    (its ESCs escaped, four characters each, in a bytes repr). It goes through
    ``for_log``, as a WARNING's client text does: cut to 200 characters."""
    app = build_app()
    value = "e30.AAAAAA." + "\x1b[2J" * 1000
    client = app.test_client(use_cookies=False)
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = client.get("/", headers={"Cookie": f"{COOKIE}={value}"})
    assert response.headers["Link"] == EXPECTED_FIRST
    [ignored] = [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()]
    assert ignored.startswith("firehose: ignoring the digest cookie: bad signature or encoding")
    assert ignored.endswith("...") and len(ignored) < 300, len(ignored)


def test_a_digest_made_with_other_settings_is_ignored_with_a_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = build_app(FIREHOSE_CAPACITY=100).test_client()
    client.get("/")
    resized = build_app(FIREHOSE_CAPACITY=200).test_client()
    resized.set_cookie(COOKIE, digest_cookie(client) or "")
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        assert resized.get("/").headers["Link"] == EXPECTED_FIRST
    messages = [r.getMessage() for r in caplog.records]
    expected = "firehose: ignoring the digest cookie: not one made with these settings"
    assert messages.count(expected) == 1


def test_a_digest_of_these_settings_cut_short_is_ignored_with_a_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Signed with the app's key and made with its settings (its header says so), but one
    byte short: what it holds cannot be read, so the page is pushed as to a new client,
    and the value ignored says why, as each other one does."""
    client = build_app().test_client()
    client.get("/")
    app = build_app()
    codec = app.extensions["firehose"].connector._state(app).codec(app)
    assert codec is not None
    genuine = codec.loads(digest_cookie(client) or "").payload
    returning = app.test_client(use_cookies=False)
    sent = {"Cookie": f"{COOKIE}={codec.dumps(genuine)}"}
    assert returning.get("/", headers=sent).headers["Link"] == EXPECTED_RETURN
    sent = {"Cookie": f"{COOKIE}={codec.dumps(genuine[:-1])}"}
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        assert returning.get("/", headers=sent).headers["Link"] == EXPECTED_FIRST
    messages = [r.getMessage() for r in caplog.records]
    truncated = (
        "firehose: ignoring the digest cookie: AgingDigest: current generation is truncated"
    )
    assert messages.count(truncated) == 1, messages


def test_a_digest_verified_while_the_keys_change_is_read_not_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another request installs the codec of new keys while this one verifies the cookie
    with the old: what the cookie holds is still read (the client is not pushed everything
    again), but not cached under a codec no longer in force."""
    issuer = build_app(SECRET_KEY="old").test_client()
    issuer.get("/")
    value = digest_cookie(issuer)
    assert value is not None
    reader = build_app(SECRET_KEY="old")
    state = reader.extensions["firehose"].connector._state(reader)
    loads = DigestCodec.loads

    def racing_loads(codec: DigestCodec, signed: str) -> Any:
        if reader.config["SECRET_KEY"] == "old":
            reader.config.update(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
            assert state.codec(reader) is not codec  # meanwhile, in another thread
        return loads(codec, signed)

    monkeypatch.setattr(DigestCodec, "loads", racing_loads)
    client = reader.test_client()
    client.set_cookie(COOKIE, value)
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    assert value not in state._decoded
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # verified with the new codec
    assert value in state._decoded


def test_an_older_value_sent_back_is_believed_and_what_was_pushed_since_is_pushed_again() -> None:
    """docs/security.md: a client can send back any older value it was given, within
    ``FIREHOSE_MAX_AGE``: the signature proves the server issued a digest, not that it is
    the latest; what was pushed since is pushed again."""
    client = build_app().test_client()
    client.get("/push?u=/a.css")
    older = digest_cookie(client) or ""
    client.get("/push?u=/b.css")
    assert digest_cookie(client) != older
    client.set_cookie(COOKIE, older)
    assert client.get("/push?u=/a.css&u=/b.css").headers["Link"] == (
        "</a.css>; rel=preload; as=style; nopush, </b.css>; rel=preload; as=style"
    )


def test_expired_cookie_is_an_empty_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    client = build_app(FIREHOSE_MAX_AGE=60).test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_cookie_this_process_signed_expires_as_its_signature_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second ticks between signing the cookie and caching it: the cache must date it
    by the time signed into it, or it would hold one second past FIREHOSE_MAX_AGE."""
    clock = [1_000_000.9]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    from firehose_digest.codec import DigestCodec

    dumps = DigestCodec.dumps

    def slow_dumps(self: DigestCodec, payload: bytes) -> str:
        value = dumps(self, payload)
        clock[0] += 0.2  # now 1_000_001.1
        return value

    monkeypatch.setattr(DigestCodec, "dumps", slow_dumps)
    client = build_app(FIREHOSE_MAX_AGE=10).test_client()
    clock[0] = 1_000_000.9  # init_app signed a sample cookie: start from here
    client.get("/")  # signed at 1_000_000, cached
    signed = digest_cookie(client)
    assert signed is not None
    clock[0] = 1_000_000 + 10 + 0.5  # age 10: still good
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    client.set_cookie(COOKIE, signed)  # not the one that response signed again
    clock[0] = 1_000_000 + 11 + 0.5  # age 11 > 10: expired, as itsdangerous says
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


@pytest.mark.parametrize(("max_age", "renewal"), [(100, 51.0), (101, 51.5)])
def test_a_digest_is_signed_again_once_half_its_lifetime_is_gone(
    monkeypatch: pytest.MonkeyPatch, encoding: str, max_age: int, renewal: float
) -> None:
    """A client that keeps coming back to pages it holds changes nothing, yet keeps its
    digest: from half of FIREHOSE_MAX_AGE on, the next response signs it again (without
    it, the cookie would expire and everything be pushed again)."""
    signed_at = 2_000_000_000
    clock = [float(signed_at)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    app = build_app(DigestConnector(encoding=encoding), FIREHOSE_MAX_AGE=max_age)
    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    first = digest_cookie(client)
    # Good until signed_at + max_age + 1 (itsdangerous: age <= max_age in whole seconds);
    # half of that lifetime is gone max_age / 2 before it.
    clock[0] = signed_at + renewal - 0.001
    kept = client.get("/")
    assert kept.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" not in kept.headers
    clock[0] = signed_at + renewal
    renewed = client.get("/")
    assert renewed.headers["Link"] == EXPECTED_RETURN
    assert f"{COOKIE}=" in renewed.headers["Set-Cookie"]
    assert f"Max-Age={max_age}" in renewed.headers["Set-Cookie"]
    assert digest_cookie(client) != first
    clock[0] = signed_at + max_age + 2  # the first cookie has expired; the new one holds
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    client.set_cookie(COOKIE, first or "")
    assert client.get("/").headers["Link"] == EXPECTED_FIRST


def test_a_client_whose_page_answers_304_keeps_its_digest_past_its_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page with an ETag and ``no-cache`` is revalidated on each visit: a returning
    client gets 304 after 304, which pushes nothing but uses the page's held keys again.
    Past half the cookie's lifetime the 304 signs the digest again, as a 200 would (the
    value is made from the request's ``Cookie`` alone, so a shared cache that merges it
    into the 200 it stored for that ``Cookie`` gives it to no one else); without it the
    cookie expired, and the next page pushed everything again."""
    signed_at = 2_000_000_000
    clock = [float(signed_at)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    app = build_app(FIREHOSE_MAX_AGE=100)

    @app.route("/revalidated")
    def revalidated() -> Response:
        push("/static/site.css", as_="style")
        return revalidated_page({"Cache-Control": "no-cache"})

    client = app.test_client()
    assert client.get("/revalidated").status_code == 200
    clock[0] = signed_at + 51
    not_modified = client.get("/revalidated", headers={"If-None-Match": '"v1"'})
    assert not_modified.status_code == 304
    assert "Link" not in not_modified.headers
    assert not_modified.headers.getlist("Vary") == ["Cookie"]
    assert not_modified.headers.get("Set-Cookie", "").startswith(f"{COOKIE}=")
    clock[0] = signed_at + 102  # the first cookie has expired; the renewed one holds
    assert client.get("/push?u=/static/site.css").headers["Link"] == (
        "</static/site.css>; rel=preload; as=style; nopush"
    )


def test_a_304_writes_back_what_only_the_older_generation_holds() -> None:
    """A page the client revalidates keeps its keys through rotations, as one answered 200
    does: a 304 wrote none back, so a key other pages had pushed into the older generation
    was dropped at the next rotation and pushed again."""
    app = build_app(FIREHOSE_CAPACITY=10)

    @app.route("/revalidated")
    def revalidated() -> Response:
        push("/page.css", as_="style")
        return revalidated_page({"Cache-Control": "no-cache"})

    client = app.test_client()
    client.get("/revalidated")
    client.get("/push?" + "&".join(f"u=/a{n}.css" for n in range(10)))  # a rotation
    not_modified = client.get("/revalidated", headers={"If-None-Match": '"v1"'})
    assert not_modified.status_code == 304
    assert not_modified.headers.get("Set-Cookie", "").startswith(f"{COOKIE}=")
    client.get("/push?" + "&".join(f"u=/b{n}.css" for n in range(10)))  # another
    changed = client.get("/revalidated", headers={"If-None-Match": '"v2"'})
    assert changed.headers["Link"] == "</page.css>; rel=preload; as=style; nopush"


def test_a_304_that_uses_no_held_key_signs_nothing_as_its_200_would_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past half its lifetime, only a 304 that uses held keys again signs the digest: a
    page of untracked links alone (``nopush``) reuses none, and its 200 writes nothing.
    Its 304 varies not on ``Cookie``, so a shared cache merges it into the 200 it stored
    for every client (RFC 9111 §4.3.4): a digest it set would go out to all of them."""
    signed_at = 2_000_000_000
    clock = [float(signed_at)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    app = build_app(FIREHOSE_MAX_AGE=100)

    @app.route("/untracked")
    def untracked() -> Response:
        push("/static/print.css", "nopush", as_="style")
        return revalidated_page({"Cache-Control": "no-cache"})

    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST  # a digest, signed now
    clock[0] = signed_at + 51  # half its lifetime gone: a page it holds signs it again

    page = client.get("/untracked")
    not_modified = client.get("/untracked", headers={"If-None-Match": '"v1"'})

    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert not_modified.status_code == 304
    assert "Set-Cookie" not in not_modified.headers
    assert "Vary" not in not_modified.headers
    assert client.get("/").headers.get("Set-Cookie", "").startswith(f"{COOKIE}=")


def test_with_held_links_omitted_a_digest_is_still_signed_again_past_half_its_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FIREHOSE_ALREADY_PUSHED=omit writes no link for what the client holds, yet the
    response used those keys again: they are the reused ones save() is given, so a client
    that only comes back to pages it holds keeps its digest as it does with nopush."""
    signed_at = 2_000_000_000
    clock = [float(signed_at)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    client = build_app(FIREHOSE_ALREADY_PUSHED="omit", FIREHOSE_MAX_AGE=100).test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    clock[0] = signed_at + 51

    renewed = client.get("/")

    assert "Link" not in renewed.headers
    assert renewed.headers.get("Set-Cookie", "").startswith(f"{COOKIE}=")


def test_past_half_its_lifetime_a_response_that_pushes_nothing_may_win_the_race(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/security.md's one exception: two parallel requests send the same cookie, one
    pushes something new, the other nothing; past half the lifetime both write a cookie,
    and if the browser keeps the second, the first one's push is offered again."""
    clock = [2_000_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    client = build_app(FIREHOSE_MAX_AGE=100).test_client()
    client.get("/")
    old = digest_cookie(client) or ""

    def parallel(age: float) -> tuple[str | None, str | None]:
        clock[0] = 2_000_000_000 + age
        results = []
        for path in ("/push?u=/new.css", "/"):  # both sent the same cookie
            client.set_cookie(COOKIE, old)
            response = client.get(path)
            results.append(response.headers.get("Set-Cookie"))
        return results[0], results[1]

    pushing, quiet = parallel(10)
    assert pushing is not None and quiet is None  # only the change is written: nothing lost
    pushing, quiet = parallel(60)
    assert pushing is not None and quiet is not None  # the quiet one signs the old digest
    # The browser kept the quiet one's cookie, read last: /new.css is offered again.
    assert client.get("/push?u=/new.css").headers["Link"] == "</new.css>; rel=preload; as=style"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "a.b.c",
        "\u00e9\u00e9",
        "A" * 5000,
        ".",
        "EWRpZ2VzdA.a0nSAA.fduGa1jIdiGg9IlR",
    ],
)
def test_hostile_cookie_serves_the_page_with_every_link(value: str, encoding: str) -> None:
    # A raw header: the test client's own jar would refuse (and warn about) 5 KB values.
    client = build_app(DigestConnector(encoding=encoding)).test_client(use_cookies=False)
    response = client.get("/", headers={"Cookie": f"{COOKIE}={value}"})
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_FIRST
    assert f"{COOKIE}=" in response.headers["Set-Cookie"]


def test_a_client_whose_other_cookies_change_is_still_recognised() -> None:
    client = build_app().test_client()
    client.get("/")
    value = digest_cookie(client)
    app = build_app().test_client(use_cookies=False)
    for visit in range(3):
        header = f"session=visit{visit}; {COOKIE}={value}"
        assert app.get("/", headers={"Cookie": header}).headers["Link"] == EXPECTED_RETURN


def test_our_cookie_is_found_among_others() -> None:
    client = build_app().test_client()
    client.get("/")
    value = digest_cookie(client)
    app = build_app()
    header = f"session=abc; x-{COOKIE}=nope; {COOKIE}={value}; theme=dark"
    response = app.test_client(use_cookies=False).get("/", headers={"Cookie": header})
    assert response.headers["Link"] == EXPECTED_RETURN


@pytest.mark.parametrize(
    "joined",
    ["theme=dark,{ours}", "{ours},theme=dark", "a=1,{ours},b=2", "a=1, {ours}", "a=1;b=2,{ours}"],
)
def test_our_cookie_is_found_in_fields_gunicorn_joined_with_commas(joined: str) -> None:
    """gunicorn joins repeated ``Cookie`` lines with ",", as ASGI wrappers join an HTTP/2
    browser's cookie fields (Werkzeug then reads the digest as part of another cookie's
    value)."""
    client = build_app().test_client()
    client.get("/")
    header = joined.format(ours=f"{COOKIE}={digest_cookie(client)}")
    response = build_app().test_client(use_cookies=False).get("/", headers={"Cookie": header})
    assert response.headers["Link"] == EXPECTED_RETURN
    assert "Set-Cookie" not in response.headers


def test_a_realistic_site_keeps_a_small_cookie(encoding: str) -> None:
    """300 fingerprinted assets remembered, exactly the capacity: one generation, small."""
    client = build_app(DigestConnector(encoding=encoding, capacity=300)).test_client()
    for page in range(30):
        query = "&".join(f"u=/static/assets/r{page * 10 + i}.0123456789.css" for i in range(10))
        client.get(f"/push?{query}")
    value = digest_cookie(client) or ""
    assert len(value) <= (500 if encoding == "gcs" else 600)
    client_again = build_app(DigestConnector(encoding=encoding, capacity=300)).test_client()
    client_again.set_cookie(COOKIE, value)
    links = client_again.get("/push?u=/static/assets/r7.0123456789.css").headers["Link"]
    assert links.endswith("; nopush")


def test_the_cookie_is_as_long_as_how_it_works_says_at_300_urls() -> None:
    """docs/how-it-works.md: at 300 urls and p = 1% the signed cookie is so many characters
    for GCS against Bloom, one generation and both full, for the urls of
    bench/results/cookie_size.md, added as that bench adds them."""
    text = " ".join(
        (Path(__file__).parent.parent / "docs" / "how-it-works.md").read_text().split()
    )
    said = re.search(
        r"at 300 urls and p = 1% its signed cookie is (\d+) characters against Bloom's (\d+) "
        r"\((\d+) against (\d+) once both generations are full",
        text,
    )
    assert said is not None
    gcs, bloom, gcs_full, bloom_full = map(int, said.groups())
    codec = DigestCodec(["secret"], salt_for(""), DEFAULTS["FIREHOSE_MAX_AGE"])
    said_of: list[tuple[type[GCSDigest] | type[BloomDigest], list[int]]] = [
        (GCSDigest, [gcs, gcs_full]),
        (BloomDigest, [bloom, bloom_full]),
    ]
    for kind, sizes in said_of:
        digest = AgingDigest(kind, 300, 0.01)
        measured = []
        for n in range(600):
            digest.add(asset_url(n))
            if n + 1 in (300, 600):
                measured.append(len(codec.dumps(digest.to_bytes())))
        assert measured == sizes, kind.__name__


@pytest.mark.parametrize(
    ("capacity", "fp_rate"), [(1600, 0.0001), (4000, 0.001), (3000, 0.01), (8192, 0.5)]
)
def test_configurations_whose_cookie_cannot_fit_are_refused(capacity: int, fp_rate: float) -> None:
    app = Flask(__name__)
    app.config.update(FIREHOSE_CAPACITY=capacity, FIREHOSE_FP_RATE=fp_rate)
    with pytest.raises(ValueError, match=rf"FIREHOSE_CAPACITY={capacity}\b.*that fits is \d+"):
        Firehose(app)


def test_twenty_pushes_fit_nginx_default_header_buffer(encoding: str) -> None:
    """nginx reads all upstream headers into one 4 KB buffer (proxy_buffer_size)."""
    app = build_app(DigestConnector(encoding=encoding))
    client = app.test_client()
    for page in range(40):
        query = "&".join(f"u=/static/assets/r{page * 20 + i}.0123456789.css" for i in range(20))
        response = client.get(f"/push?{query}")
        head = "HTTP/1.1 200 OK\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in response.headers.items()
        )
        assert len(head.encode()) < 3072, head


def test_a_connector_keeps_no_app_alive() -> None:
    """One connector set up for many apps (tests, app factories) drops each app's state
    with the app; a live app keeps its own."""
    import gc
    import weakref

    connector = DigestConnector()
    kept = Flask("kept")
    kept.config["SECRET_KEY"] = "k"
    Firehose(kept, connector=connector)
    gone = Flask("gone")
    gone.config["SECRET_KEY"] = "k"
    Firehose(gone, connector=connector)
    Firehose(gone, connector=connector)  # set up twice: still one entry
    assert len(connector._apps) == 2
    gone_ref = weakref.ref(gone)
    del gone
    gc.collect()
    assert gone_ref() is None
    assert len(connector._apps) == 1
    assert connector.settings(kept).capacity == kept.config["FIREHOSE_CAPACITY"]
    with pytest.raises(RuntimeError, match="was not set up for app"):
        connector.settings(Flask("never"))


def test_flask_firehose_list_left_in_the_session_is_dropped() -> None:
    """An app moved from Flask-Firehose to the digest: its users' sessions still hold the
    comma-joined list that grew until nginx answered 502, and nothing reads it now. The
    first response that links something drops it, so the session cookie shrinks."""
    app = build_app()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-pushed"] = ",".join(f"/static/assets/r{i}.css" for i in range(300))
        sess["user"] = 42
    before = client.get_cookie("session")
    assert before is not None
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_FIRST
    with client.session_transaction() as sess:
        assert dict(sess) == {"user": 42}
    after = client.get_cookie("session")
    assert after is not None and len(after.value) < len(before.value) // 10


def test_session_connector_list_left_in_the_session_is_dropped() -> None:
    """An app moved from ``SessionConnector`` to the digest (the default, the smaller
    cookie): its users' sessions still hold ``h2-held``, up to the ~1.2 KB SessionConnector
    let it take beside a full ``Link``, and nothing reads it now. Left there, it is the app's
    own header room (about 930 bytes) and more: behind nginx 1.22, a client with a
    permanent session (re-set on every response) whose digest filled got 502 on every page
    with a full ``Link`` (24 of 80 views), where the same browse without the list got none.
    It is dropped as Flask-Firehose's list is."""
    app = build_app()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-held"] = [asset_url(i) for i in range(100)]  # SessionConnector's most
        sess["user"] = 42
    before = client.get_cookie("session")
    assert before is not None and len(before.value) >= LEFT_LIST_LENGTH
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_FIRST
    with client.session_transaction() as sess:
        assert dict(sess) == {"user": 42}


def test_a_list_left_in_a_session_the_response_deletes_is_not_written_again() -> None:
    """A logout that deletes the session cookie on its response, ``session`` left as it
    was, on a page that pushes (a client's first page after the move pushes everything):
    the list dropped from the session read made Flask write it, user and all, on a line
    after the app's, which the browser keeps, signing the user in again. The
    app's deletion stands; the digest is written."""
    app = build_app()

    @app.route("/logout")
    def logout() -> Response:
        push("/static/bye.css", as_="style")
        response = Response("signed out")
        response.delete_cookie("session")
        return response

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-held"] = [asset_url(i) for i in range(100)]
        sess["user"] = 42
    before = client.get_cookie("session")
    assert before is not None and len(before.value) >= LEFT_LIST_LENGTH

    response = client.get("/logout")

    assert response.headers["Link"] == "</static/bye.css>; rel=preload; as=style"
    lines = response.headers.getlist("Set-Cookie")
    assert [line for line in lines if line.startswith("session=")] == [
        "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    ]
    assert any(line.startswith("h2-digest=") for line in lines)
    assert client.get_cookie("session") is None


def test_a_list_left_in_a_session_signed_days_ago_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session holding the list was signed on a visit before the move, days ago:
    within its lifetime (PERMANENT_SESSION_LIFETIME, as Flask reads it), it is read, and
    the list dropped, as on the visit that signed it."""
    app = build_app()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-pushed"] = ",".join(f"/static/assets/r{i}.css" for i in range(300))
        sess["user"] = 42
    days_later = time.time() + 3 * 86400
    monkeypatch.setattr(time, "time", lambda: days_later)
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    with client.session_transaction() as sess:
        assert dict(sess) == {"user": 42}


def _app_with_a_star_page() -> Flask:
    """The digest app, with a page ``/star`` that pushes one link and sets ``Vary: *``."""
    app = build_app()

    @app.route("/star")
    def star() -> Response:
        push("/static/site.css", as_="style")
        return Response("star", headers={"Vary": "*"})

    return app


def test_looking_for_flask_firehose_list_leaves_the_session_unaccessed() -> None:
    """Read through flask.session, the session would be marked accessed on every pushing
    response, and Flask would add Cookie to the view's own Vary (or to a Vary of *)."""
    app = _app_with_a_star_page()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = 42
    response = client.get("/star")
    assert response.headers["Link"] == "</static/site.css>; rel=preload; as=style"
    assert response.headers.getlist("Vary") == ["*"]


def test_a_short_flask_firehose_list_is_not_looked_for() -> None:
    """A session cookie under LEFT_LIST_LENGTH risks no 502, and decoding it
    again on every pushing response would cost an HMAC: it is left as it is."""
    app = build_app()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["h2-pushed"] = "/static/a.css,/static/b.css"
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None and len(session_cookie.value) < LEFT_LIST_LENGTH
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    with client.session_transaction() as sess:
        assert sess["h2-pushed"] == "/static/a.css,/static/b.css"


@pytest.mark.parametrize(
    ("length", "dropped"), [(1023, False), (1024, True)], ids=["a byte short", "exactly 1 KB"]
)
def test_a_flask_firehose_list_is_looked_for_in_a_session_cookie_of_1_kb_or_more(
    length: int, dropped: bool
) -> None:
    """docs/connectors.md: the list is dropped "when the session cookie is 1 KB or more"
    (LEFT_LIST_LENGTH); a shorter one is not decoded again, and keeps it."""
    app = build_app()
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    pushed = ",".join(f"/static/assets/r{i}.css" for i in range(20))
    # Hex filler of each length in turn until the signed value has exactly ``length``
    # characters (itsdangerous compresses it, so the length does not grow in step).
    filler = "".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range(length // 32))
    sessions = ({"h2-pushed": pushed, "own": filler[:n]} for n in range(2 * length))
    value = next(v for v in map(serializer.dumps, sessions) if len(v) == length)
    client = app.test_client()
    client.set_cookie("session", value)

    assert client.get("/").headers["Link"] == EXPECTED_FIRST

    with client.session_transaction() as sess:
        assert ("h2-pushed" not in sess) is dropped
        assert len(sess["own"]) > 0


@pytest.mark.parametrize("sent", ["another key", "garbage"])
def test_a_long_session_cookie_that_does_not_verify_is_not_looked_into(
    sent: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A session cookie long enough to be looked into for Flask-Firehose's list, but
    signed with a key the app no longer has (or no signed value at all): Flask opened a new
    session for it, and the digest is written as on any first visit, with no error."""
    app = build_app()
    if sent == "another key":
        other = Flask(__name__)
        other.config["SECRET_KEY"] = "rotated away"
        serializer = SecureCookieSessionInterface().get_signing_serializer(other)
        assert serializer is not None
        value = serializer.dumps(
            {"h2-pushed": ",".join(f"/static/assets/r{i}.css" for i in range(300))}
        )
    else:
        value = "x" * (2 * LEFT_LIST_LENGTH)
    assert len(value) >= LEFT_LIST_LENGTH
    client = app.test_client()
    client.set_cookie("session", value)
    response = client.get("/")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert f"{COOKIE}=" in response.headers["Set-Cookie"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_long_session_cookie_its_serializer_raises_on_is_not_looked_into(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session interface whose ``get_signing_serializer`` raises on a host it holds no
    key for (its own ``open_session`` never asks there), and a session cookie long
    enough to be looked into for Flask-Firehose's list: the session cannot be read, so
    nothing is dropped from it, and the digest is recorded as on any first visit. The
    lookup's error failed the save: an ERROR with its traceback on each such request
    (the Host and the cookie are the client's to send), nothing recorded, and nothing
    ever pushed to that client. The digest keeps nothing in the session."""
    app = build_app()
    app.session_interface = RaisingPerHostSessions()
    client = app.test_client()
    client.set_cookie("session", "x" * LEFT_LIST_LENGTH, domain="other.test")
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = client.get("/", base_url="http://other.test/")
    assert (response.status_code, response.headers["Link"]) == (200, EXPECTED_FIRST)
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == [COOKIE]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert client.get("/", base_url="http://other.test/").headers["Link"] == EXPECTED_RETURN


def test_a_session_serializer_s_error_is_logged_as_a_log_line_can_show_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """That serializer's error, said at DEBUG, names the client's Host (a KeyError of
    it): one of 4,000 characters, which Werkzeug serves, made a line as long. It goes
    through ``for_log``: cut to 200 characters."""
    app = build_app()
    app.session_interface = RaisingPerHostSessions()
    long_host = "a." * 2000 + "test"
    client = app.test_client(use_cookies=False)
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = client.get(
            "/",
            base_url=f"http://{long_host}/",
            headers={"Cookie": f"session={'x' * LEFT_LIST_LENGTH}"},
        )
    assert response.headers["Link"] == EXPECTED_FIRST
    [said] = [r.getMessage() for r in caplog.records if "looked into" in r.getMessage()]
    assert said.startswith(
        "firehose: the session cannot be looked into for a list left there: KeyError('a.a."
    ), said[:200]
    assert said.endswith("...") and len(said) < 300, len(said)


def test_a_long_session_without_flask_firehose_list_is_left_unaccessed() -> None:
    """A session cookie long enough to be looked into, whose session holds no list of
    Flask-Firehose's: nothing is taken out of the session, so Flask neither marks it
    accessed (Cookie added to a Vary of *) nor writes it again."""
    app = _app_with_a_star_page()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["history"] = ",".join(f"/static/assets/r{i}.css" for i in range(400))
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None
    assert len(session_cookie.value) >= LEFT_LIST_LENGTH
    response = client.get("/star")
    assert response.headers["Link"] == "</static/site.css>; rel=preload; as=style"
    assert response.headers.getlist("Vary") == ["*"]
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == [COOKIE]


class TokenSessions(SessionInterface):
    """A session interface not of Flask's signed-cookie kind: its cookie is a long opaque
    token (an encrypted session, say), which the app's serializer cannot read."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession:
        return SecureCookieSession()

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        pass


def test_a_long_cookie_of_another_session_interface_is_not_looked_into() -> None:
    app = build_app()
    app.session_interface = TokenSessions()
    client = app.test_client()
    client.set_cookie("session", "t" * (2 * LEFT_LIST_LENGTH))
    response = client.get("/")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert f"{COOKIE}=" in response.headers["Set-Cookie"]
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


class PairSerializer(TaggedJSONSerializer):
    """Signs the session as a list of its (key, value) pairs, which Flask's
    ``open_session`` turns back into the session (``session_class(pairs)``)."""

    def dumps(self, value: Any) -> str:
        return super().dumps([list(pair) for pair in value.items()])


class PairSessions(SecureCookieSessionInterface):
    serializer = PairSerializer()


def test_a_long_session_signed_as_no_dict_is_left_as_it_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session interface of Flask's kind whose signed payload is no dict: nothing is
    looked for in it, nothing is taken out of the session, and the page is served and
    recorded as any first visit, with no error."""
    app = build_app()
    app.session_interface = PairSessions()
    client = app.test_client()
    history = ",".join(f"/static/assets/r{i}.css" for i in range(400))
    with client.session_transaction() as sess:
        sess["history"] = history
        sess["user"] = 42
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None and len(session_cookie.value) >= LEFT_LIST_LENGTH
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = client.get("/")
    assert response.headers["Link"] == EXPECTED_FIRST
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == [COOKIE]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with client.session_transaction() as sess:
        assert dict(sess) == {"history": history, "user": 42}
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


@pytest.mark.parametrize(
    "changed",
    [
        {"FIREHOSE_CAPACITY": 50},
        {"FIREHOSE_ENCODING": "bloom"},
        # The salt: a new version makes every cookie of the old one foreign (security.md).
        {"FIREHOSE_DIGEST_VERSION": "2"},
    ],
    ids=["capacity", "encoding", "digest version"],
)
def test_a_digest_opened_under_settings_init_app_has_since_replaced_is_not_saved(
    changed: dict[str, Any],
) -> None:
    """``init_app`` run again with other digest settings while a request is served (a
    103's ``open()`` runs before the view): that request's digest, read under the old
    settings, was written back, cached as decoded under the new ones and believed there,
    where a fresh process refuses it (a new digest version re-signed what the old one
    held). It records nothing; the next request starts anew."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "reinit"
    connector = DigestConnector()
    firehose = Firehose(app, connector=connector)
    app.add_url_rule("/", "page", lambda: push("/old.css", as_="style"))
    cookie = app.test_client().get("/").headers["Set-Cookie"].split(";", 1)[0]
    with app.test_request_context("/", headers={"Cookie": cookie}):
        held = connector.open(app, request)
    assert held is not None
    assert "/old.css" in held
    app.config.update(changed)
    firehose.init_app(app)
    response = Response("page")
    with app.test_request_context("/"), pytest.raises(NotRecorded, match="settings"):
        connector.save(app, response, held, ["/a.css"], [])
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "changed",
    [{}, {"FIREHOSE_MAX_PUSHES": 5}, {"FIREHOSE_CAPACITY": 50}, {"FIREHOSE_DIGEST_VERSION": "2"}],
    ids=["nothing", "max pushes", "capacity", "digest version"],
)
def test_a_new_client_is_recorded_across_init_app_run_again(changed: dict[str, Any]) -> None:
    """A client holding nothing holds nothing under any settings: what a request read
    before ``init_app`` ran again (another instance of the empty digest) is recorded under
    the new ones, as a first visit is. It was refused as read under other settings."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "reinit"
    connector = DigestConnector()
    firehose = Firehose(app, connector=connector)
    with app.test_request_context("/"):
        held = connector.open(app, request)
    assert held is not None
    app.config.update(changed)
    firehose.init_app(app)
    response = Response("page")
    with app.test_request_context("/"):
        connector.save(app, response, held, ["/a.css"], [])
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    with app.test_request_context("/", headers={"Cookie": cookie}):
        assert "/a.css" in cast("Container[str]", connector.open(app, request))


class DigestConnectorWithItsOwnInitApp(DigestConnector):
    """An app's subclass whose ``init_app`` sets up what it needs, and never calls
    ``DigestConnector.init_app``, which makes the app's signing state."""

    def init_app(self, app: Flask, settings: Any) -> None:
        app.config.setdefault("DIGEST_AUDIT", "off")


def test_a_subclass_whose_init_app_calls_no_super_records_as_the_base_does() -> None:
    """Its ``open()`` found no state for the app: every page logged an error and pushed
    everything again on each visit. The base's ``init_app`` is run for it too."""
    client = build_app(DigestConnectorWithItsOwnInitApp()).test_client()
    first = client.get("/")
    assert first.headers["Link"] == EXPECTED_FIRST
    assert f"{COOKIE}=" in first.headers["Set-Cookie"]
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


class DigestConnectorOfItsOwnCookieName(DigestConnector):
    """An app's subclass whose ``init_app`` calls ``super().init_app()`` with settings of
    its own: a cookie name of its choosing."""

    def init_app(self, app: Flask, settings: Any) -> None:
        super().init_app(app, dataclasses.replace(settings, cookie_name="own-digest"))


def test_a_subclass_that_sets_up_with_settings_of_its_own_keeps_them() -> None:
    """The base's ``init_app``, run for a subclass whose own may not call it, does not
    undo what a subclass's call of it set up."""
    connector = DigestConnectorOfItsOwnCookieName()
    client = build_app(connector).test_client()
    assert "own-digest=" in client.get("/").headers["Set-Cookie"]
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


class DigestConnectorOfItsOwnSize(DigestConnector):
    """An app's subclass that sets up a digest of its own size, whatever the app's config
    asks for."""

    def init_app(self, app: Flask, settings: Any) -> None:
        super().init_app(app, settings.with_digest(300, 0.01, "gcs"))


class SessionConnectorThatFixesItsBound(SessionConnector):
    """An app's subclass that fixes its own ``max_items`` before its base checks it."""

    def __init__(self) -> None:
        super().__init__(max_items=4)

    def init_app(self, app: Flask, settings: Any) -> None:
        self.max_items = settings.max_pushes
        super().init_app(app, settings)


@pytest.mark.parametrize(
    ("connector", "config"),
    [
        (DigestConnectorOfItsOwnSize, {"FIREHOSE_CAPACITY": 8192, "FIREHOSE_FP_RATE": 1e-6}),
        (DigestConnectorOfItsOwnCookieName, {"FIREHOSE_COOKIE_NAME": "session"}),
        (SessionConnectorThatFixesItsBound, {}),
    ],
    ids=["own digest size", "own cookie name", "own max_items"],
)
def test_a_subclass_that_sets_itself_up_is_not_refused_for_what_its_base_would_refuse(
    connector: type[DigestConnector | SessionConnector], config: dict[str, Any]
) -> None:
    """Our ``init_app``, run for a subclass whose own does not call it, is not run for one
    that does: the app's config (a digest too large for the header budget, the session
    cookie's name) or the subclass's own arguments before it fixed them would refuse what
    the subclass set up, and every app of it failed at ``init_app``."""
    client = build_app(connector(), **config).test_client()
    first = client.get("/")
    assert first.headers["Link"] == EXPECTED_FIRST
    assert client.get("/").headers["Link"] == EXPECTED_RETURN


class DigestConnectorRefusingAConfig(DigestConnector):
    """An app's subclass whose ``init_app`` refuses a configuration of its own."""

    def init_app(self, app: Flask, settings: Any) -> None:
        if app.config.get("DIGEST_REFUSED"):
            raise ValueError("DIGEST_REFUSED is set")
        super().init_app(app, settings)


def test_a_subclass_whose_second_init_app_fails_still_serves_as_set_up_before() -> None:
    """An ``init_app`` again (to read the config again) that the subclass refuses raises,
    and the app, which an app may keep serving, keeps what the first one set up: it lost
    it, and every page logged an error and pushed everything again."""
    connector = DigestConnectorRefusingAConfig()
    app = build_app(connector)
    client = app.test_client()
    assert client.get("/").headers["Link"] == EXPECTED_FIRST
    app.config["DIGEST_REFUSED"] = True
    with pytest.raises(ValueError, match="DIGEST_REFUSED"):
        Firehose(app, connector=connector)
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    new = client.get("/push?u=/new.css")
    assert new.headers["Link"] == "</new.css>; rel=preload; as=style"
    assert f"{COOKIE}=" in new.headers["Set-Cookie"]
