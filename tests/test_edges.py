"""The edges real traffic hits: what is recorded is only what every proxy really pushes.

A resource is offered for push (a plain preload) and recorded as held only for a GET whose
status every supported proxy pushes on, for a path-absolute url, among the first
FIREHOSE_MAX_PUSHES new resources, within FIREHOSE_LINK_BUDGET; every other link is
``nopush`` and recorded nowhere. docs/proxies.md has the measured table behind the rule.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import UserString
from collections.abc import Callable, Container, Iterator
from dataclasses import astuple
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from flask import (
    Flask,
    Request,
    Response,
    abort,
    after_this_request,
    render_template_string,
    request,
    request_finished,
    send_file,
    session,
    stream_template_string,
    stream_with_context,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from jinja2 import ChainableUndefined, DebugUndefined, StrictUndefined, Undefined
from markupsafe import Markup
from werkzeug.http import dump_cookie, parse_cookie
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request as WerkzeugRequest

from firehose_digest import (
    DigestConnector,
    Firehose,
    SessionConnector,
    collect,
    cookie_fields,
    push,
    request_record,
)
from firehose_digest.codec import MAX_COOKIE_COPIES, DigestCodec
from firehose_digest.collect import (
    RequestPushes,
    current_record,
    make_resource,
    record_push,
    resource_of,
)
from firehose_digest.digests import MAX_CAPACITY, AgingDigest
from firehose_digest.held_digests import ANSWER_KEY_LENGTH, DigestState
from firehose_digest.links import Resource
from firehose_digest.settings import DEFAULTS
from tests.helpers import (
    EXPECTED_FIRST,
    EXPECTED_RETURN,
    CountedListInSession,
    CountingConnector,
    InStore,
    ListInSession,
    build_app,
    count_verified,
    revalidated_page,
    run_in_threads,
)

COOKIE = "h2-digest"
ENCODINGS = ["gcs", "bloom"]


def link(url: str) -> str:
    return f"<{url}>; rel=preload; as=style"


def nopush(url: str) -> str:
    return f"{link(url)}; nopush"


def edge_app(connector: Any = None, **config: Any) -> Flask:
    """``/page?u=URL...&status=N&type=T&h=Name:value...``: pushes each url, answers with
    that status and ``Content-Type`` (``type=none``: without one), and each header."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    app.config.update(config)

    @app.route("/page", methods=["GET", "HEAD", "POST"])
    def page() -> Response:
        for url in request.args.getlist("u"):
            push(url, as_="style")
        status = int(request.args.get("status", "200"))
        if request.args.get("raise"):
            abort(status)
        response = Response("page", status=status, headers=_vary())
        for header in request.args.getlist("h"):  # h=Name:value, added to the response
            name, _, value = header.partition(":")
            response.headers.add(name, value)
        content_type = request.args.get("type")
        if content_type == "none":
            del response.headers["Content-Type"]
        elif content_type:
            response.headers["Content-Type"] = content_type
        return response

    def _vary() -> dict[str, str]:
        vary = request.args.get("vary")
        return {"Vary": vary} if vary else {}

    Firehose(app, connector=connector)
    return app


def page(client: FlaskClient, *urls: str, method: str = "GET", **args: str) -> TestResponse:
    query = "&".join([*(f"u={url}" for url in urls), *(f"{k}={v}" for k, v in args.items())])
    return client.open(f"/page?{query}", method=method)


def links(response: TestResponse) -> list[str]:
    return response.headers["Link"].split(", ") if "Link" in response.headers else []


def held_now(client: FlaskClient, *urls: str) -> list[bool]:
    """Which urls the client's digest cookie holds, asked of the app's connector."""
    app = client.application
    cookie = client.get_cookie(COOKIE)
    headers = [("Cookie", f"{COOKIE}={cookie.value}")] if cookie else []
    held = app.extensions["firehose"].connector.open(
        app, Request(EnvironBuilder(headers=headers).get_environ())
    )
    return [url in held for url in urls]


# --- method and status -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_head_is_never_pushed_nor_recorded(encoding: str) -> None:
    client = edge_app(FIREHOSE_ENCODING=encoding).test_client()
    response = page(client, "/a.css", method="HEAD")
    assert links(response) == [nopush("/a.css")]
    assert "Set-Cookie" not in response.headers
    assert links(page(client, "/a.css")) == [link("/a.css")]  # pushed on the GET
    assert held_now(client, "/a.css") == [True]


# 399, unassigned but a status a view may return: mod_http2 pushes below 400. 305, one
# past the 304 it does not push on: only 304 is left out below 400.
PUSHED_STATUSES = [200, 201, 204, 301, 302, 303, 305, 307, 308, 399]
NOT_PUSHED_STATUSES = [304, 400, 403, 404, 410, 500, 503]


@pytest.mark.parametrize("status", PUSHED_STATUSES + NOT_PUSHED_STATUSES)
def test_only_statuses_every_proxy_pushes_on_are_recorded(status: int) -> None:
    client = edge_app().test_client()
    response = page(client, "/a.css", status=str(status))
    pushed = status in PUSHED_STATUSES
    if status == 304:  # no Link at all (test_a_304_tells_a_cache_nothing_the_200_would_not)
        assert links(response) == []
    else:
        assert links(response) == [link("/a.css") if pushed else nopush("/a.css")]
    assert held_now(client, "/a.css") == [pushed]


@pytest.mark.parametrize("status", [404, 500])
def test_an_aborted_view_is_not_recorded(status: int) -> None:
    client = edge_app().test_client()
    response = page(client, "/a.css", status=str(status), **{"raise": "1"})
    assert response.status_code == status
    assert links(response) == [nopush("/a.css")]
    assert held_now(client, "/a.css") == [False]


class _SessionStoreDown(SecureCookieSessionInterface):
    """A session store that is down: every save fails, after every after_request hook."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        raise ConnectionError("the session store is down")


@pytest.mark.parametrize("error_page", ["json", "html"])
def test_an_error_page_replacing_a_response_after_our_step_gets_its_own_links(
    error_page: str,
) -> None:
    """A session store that fails after our step has decided a 200's links: Flask answers
    with its 500 error page, running every after_request hook again. The 200's links,
    pushed and recorded in a cookie the 500 does not carry, went out on that 500 (on a
    JSON one too, which is no page): a proxy pushed them, and again on the next visit."""
    app = edge_app()
    app.session_interface = _SessionStoreDown()
    if error_page == "json":
        app.register_error_handler(500, lambda e: ({"error": "unavailable"}, 500))
    client = app.test_client()
    response = page(client, "/a.css")
    assert response.status_code == 500
    assert "Set-Cookie" not in response.headers
    if error_page == "json":
        assert (links(response), response.headers.get("Vary")) == ([], None)
    else:
        assert links(response) == [nopush("/a.css")]
    assert held_now(client, "/a.css") == [False]


class _SessionStoreDownOnce(SecureCookieSessionInterface):
    """A session store that fails the next save, then saves the error page Flask answers
    with in its place (a store's timeout, then its answer)."""

    fail_next = False

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the session store timed out")
        super().save_session(app, session, response)


@pytest.mark.parametrize(
    ("connector", "held"),
    [(DigestConnector(), False), (SessionConnector(), True), (ListInSession, True)],
    ids=["DigestConnector", "SessionConnector", "Flask-Firehose connector"],
)
def test_what_a_save_before_a_500_recorded_is_as_docs_connectors_md_says(
    connector: Any, held: bool
) -> None:
    """docs/connectors.md: a ``save`` succeeded, then the session store failed, and Flask
    answered its 500, whose links push nothing. The digest cookie went with the response
    Flask discarded: the page's files are pushed on the next visit. Keys kept in the
    session were saved with the 500: the next visit preloads them without a push."""
    app = edge_app(connector)
    app.session_interface = store = _SessionStoreDownOnce()
    client = app.test_client()
    assert links(page(client, "/held.css")) == [link("/held.css")]
    store.fail_next = True
    assert page(client, "/held.css", "/a.css").status_code == 500
    assert links(page(client, "/held.css", "/a.css")) == [
        nopush("/held.css"),
        nopush("/a.css") if held else link("/a.css"),
    ]


def test_a_post_is_not_recorded() -> None:
    client = edge_app().test_client()
    assert links(page(client, "/a.css", method="POST")) == [nopush("/a.css")]
    assert held_now(client, "/a.css") == [False]


# What Chromium 156 sent (read over DevTools, behind Apache, nginx and h2o): its requests
# refuse push (SETTINGS_ENABLE_PUSH=0), so a file is held only if Chromium preloaded it.
NAVIGATION = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate",
              "Sec-Fetch-Dest": "document"}  # fmt: skip
NOT_PRELOADED_FROM = {
    # fetch('/fragment'), and htmx's XMLHttpRequest: Chromium preloads nothing a fetch()'s
    # response links (Apache's log: /static/c.css and d.css never asked for).
    "fetch": {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
              "Sec-Fetch-Dest": "empty"},
    "htmx": {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
             "Sec-Fetch-Dest": "empty", "HX-Request": "true"},
    # <link rel=prefetch href=/page>: fetched, its Set-Cookie stored, its Link not read.
    "link-prefetch": {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors",
                      "Sec-Fetch-Dest": "empty", "Sec-Purpose": "prefetch"},
    # <script type=speculationrules> {"prefetch": ...}: Chromium ignored the 103 and the
    # Link until (unless) the user navigates there, but kept the Set-Cookie at once.
    "speculation-prefetch": {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate",
                             "Sec-Fetch-Dest": "document", "Sec-Purpose": "prefetch",
                             "Upgrade-Insecure-Requests": "1"},
    # A service worker's Navigation Preload, the worker answering with a page of its own:
    # Chromium 156 showed the worker's page and kept the preload's Set-Cookie.
    "sw-navigation-preload": {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate",
                              "Sec-Fetch-Dest": "document",
                              "Service-Worker-Navigation-Preload": "true"},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(NOT_PRELOADED_FROM))
def test_a_browser_request_chromium_preloads_nothing_from_records_nothing(kind: str) -> None:
    """Recorded as held, the files were left out of the next navigation's 103 (Chromium,
    behind Apache: fetched only after the page, ~330 ms later, against ~15 ms with no
    fetch() before), and with FIREHOSE_ALREADY_PUSHED="omit" out of its Link too (gunicorn
    direct: found only by the parser): a preload missed, for a file the browser never had."""
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers=NOT_PRELOADED_FROM[kind])
    assert held_now(client, "/a.css") == [False]
    assert links(client.get("/page?u=/a.css", headers=NAVIGATION)) == [link("/a.css")]


#: What WebKitGTK 2.50.6 (Safari's engine) sent for a synchronous XMLHttpRequest
#: (``x.open("GET", "/fragment", false)``), read at a plain Python server: no
#: ``Sec-Fetch-*`` header at all, although its navigations, its fetch() and its async XHR
#: carry them. Behind Apache it refused push and did not fetch the files the response's
#: Link named (tests/integration/test_webkit.py).
WEBKIT_SYNC_XHR = {
    "Referer": "https://127.0.0.1/fetcher",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/60.5 Safari/605.1.15",
    "Accept": "*/*",
}


def test_a_webkit_synchronous_xhr_records_nothing() -> None:
    """Recorded as held, a.css is left out of the next navigation's 103 and marked
    ``nopush`` (with "omit", left out of its Link): the digest says the client holds a
    file it never fetched."""
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers=WEBKIT_SYNC_XHR)
    assert held_now(client, "/a.css") == [False]
    assert links(client.get("/page?u=/a.css", headers=NAVIGATION)) == [link("/a.css")]


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        ({"Referer": "https://site/", "Accept": "text/html,*/*;q=0.8"}, True),  # old Safari
        ({"Referer": "https://site/", "Accept": "application/xhtml+xml"}, True),
        ({"Accept": "*/*"}, True),  # curl, nghttp: pushed to
        ({"Referer": "https://site/"}, False),  # no Accept: */* to the server
        ({"Referer": "https://site/", "Accept": "*/*"}, False),  # WebKit's synchronous XHR
    ],
)
def test_a_request_without_fetch_metadata_is_recorded_unless_a_page_asked_it(
    headers: dict[str, str], held: bool
) -> None:
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers=headers)
    assert held_now(client, "/a.css") == [held]


@pytest.mark.parametrize(
    ("dest", "header"),
    [
        # An HTML export, downloaded: Chromium 156 fetched nothing its Link named, in a
        # tab or in an iframe, and kept its Set-Cookie (tests/integration/test_browser.py).
        ("document", "Content-Disposition:attachment; filename=page.html"),
        ("iframe", "Content-Disposition:attachment"),
        # The disposition type in any case (RFC 6266 §4.2), as browsers read it.
        ("document", "Content-Disposition:Attachment; filename=page.html"),
        # A page that refuses every framer, framed: Chromium 156 showed an error page.
        ("iframe", "X-Frame-Options:DENY"),
        ("iframe", "Content-Security-Policy:default-src 'self'; frame-ancestors 'none'"),
    ],
)
def test_a_document_the_browser_does_not_show_records_nothing(dest: str, header: str) -> None:
    client = edge_app().test_client()
    client.get(f"/page?u=/a.css&h={quote(header)}", headers={**NAVIGATION, "Sec-Fetch-Dest": dest})
    assert held_now(client, "/a.css") == [False]


def test_a_download_named_in_the_first_of_two_dispositions_records_nothing() -> None:
    """The first ``Content-Disposition`` field decides: a later ``inline`` does not make
    a download a page shown."""
    client = edge_app().test_client()
    fields = [quote(f"Content-Disposition:{kind}") for kind in ("attachment", "inline")]
    client.get(f"/page?u=/a.css&h={fields[0]}&h={fields[1]}", headers=NAVIGATION)
    assert held_now(client, "/a.css") == [False]


@pytest.mark.parametrize(
    "header",
    [
        "Content-Disposition:attachment; filename=page.html",
        "X-Frame-Options:DENY",
        "Content-Security-Policy:frame-ancestors 'none'",
    ],
)
def test_a_download_or_a_refused_frame_is_recorded_for_a_client_that_is_no_browser(
    header: str,
) -> None:
    """Only a browser leaves unshown what it downloads or may not frame: a front pushes
    what such a response offers to curl or a proxy all the same (no ``Sec-Fetch-Mode``,
    so no browser, whatever ``Sec-Fetch-Dest`` says)."""
    client = edge_app().test_client()
    client.get(f"/page?u=/a.css&h={quote(header)}", headers={"Sec-Fetch-Dest": "iframe"})
    assert held_now(client, "/a.css") == [True]


#: Requests without Fetch Metadata, with the headers their clients document. A page's
#: XMLHttpRequest from jQuery (``$(el).load(url)``, ``$.get(url, cb, "html")``; pjax) sends
#: ``Accept: text/html, */*; q=0.01`` (jQuery's ``accepts.html`` + ``", */*; q=0.01"``)
#: and ``X-Requested-With: XMLHttpRequest``; Safari before 16.4 sends no ``Sec-Fetch-*``,
#: nor does WebKit's synchronous XMLHttpRequest today. Android's WebView sends
#: ``X-Requested-With: <the app's package>`` on its navigations too.
WITHOUT_FETCH_METADATA = {
    "safari-15-navigation": ({"Referer": "https://site/", "Accept":
                              "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
                             True),
    "chrome-75-navigation": ({"Referer": "https://site/", "Accept":
                              "text/html,application/xhtml+xml,application/xml;q=0.9,"
                              "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3"},
                             True),
    "edge-legacy-navigation": ({"Referer": "https://site/",
                                "Accept": "text/html, application/xhtml+xml, image/jxr, */*"},
                               True),
    "android-webview-navigation": ({"Referer": "https://site/", "Accept":
                                    "text/html,application/xhtml+xml,application/xml;q=0.9,"
                                    "*/*;q=0.8", "X-Requested-With": "com.example.app"}, True),
    "googlebot": ({"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                   "From": "googlebot(at)googlebot.com"}, True),
    "curl": ({"Accept": "*/*", "User-Agent": "curl/8.7.1"}, True),
    "python-requests": ({"Accept": "*/*", "User-Agent": "python-requests/2.32.3"}, True),
    "safari-15-xhr": ({"Referer": "https://site/", "Accept": "*/*"}, False),
    "safari-15-img": ({"Referer": "https://site/", "Accept":
                       "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"},
                      False),
    "jquery-load": ({"Referer": "https://site/", "Accept": "text/html, */*; q=0.01",
                     "X-Requested-With": "XMLHttpRequest"}, False),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(WITHOUT_FETCH_METADATA))
def test_a_request_without_fetch_metadata_is_recorded_as_its_client_uses_it(kind: str) -> None:
    headers, held = WITHOUT_FETCH_METADATA[kind]
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers=headers)
    assert held_now(client, "/a.css") == [held]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_a_browser_navigates_through_records_nothing(status: int) -> None:
    """Chromium does not preload what a redirect's Link names (GET /go/y, 302 to /other/y,
    behind Apache: c.css and d.css asked for only after /other/y's response, and
    /other/y, which had learned them, got no 103 as the redirect's cookie said held)."""
    client = edge_app().test_client()
    client.get(f"/page?u=/a.css&status={status}", headers=NAVIGATION)
    assert held_now(client, "/a.css") == [False]
    assert links(client.get("/page?u=/a.css", headers=NAVIGATION)) == [link("/a.css")]


@pytest.mark.parametrize(
    ("dest", "status", "held"),
    [
        ("document", 200, True),
        ("document", 201, True),
        ("iframe", 200, True),  # Chromium preloads an iframe's Link
        ("frame", 200, True),
        ("document", 204, False),  # no document: the browser stays on its page
        ("document", 205, False),
        # Chromium 156 preloads the Link of a document it shows in an <object> or an
        # <embed> too (its request: Sec-Fetch-Mode navigate, Sec-Fetch-Dest object/embed;
        # the stylesheet its Link named was fetched, as an iframe's is); Firefox 153 too,
        # with the same headers (by hand: a page whose Link alone named two stylesheets).
        ("embed", 200, True),
        ("object", 200, True),
        ("document", 404, False),
        # No document a browser shows: Fetch's navigation destinations are those above.
        ("empty", 200, False),
        # Only a 2xx is taken for a page shown: its last status (unassigned, as 399 for the
        # proxies) is recorded, and a 300 is not.
        ("document", 299, True),
        ("document", 300, False),
    ],
)
def test_a_browser_records_only_a_page_it_shows(dest: str, status: int, held: bool) -> None:
    client = edge_app().test_client()
    headers = {**NAVIGATION, "Sec-Fetch-Dest": dest}
    client.get(f"/page?u=/a.css&status={status}", headers=headers)
    assert held_now(client, "/a.css") == [held]


@pytest.mark.parametrize("status", [100, 103, 199])
@pytest.mark.parametrize("headers", [{"Accept": "*/*"}, NAVIGATION])
def test_a_1xx_a_view_returns_as_its_response_gets_nothing(
    status: int, headers: dict[str, str]
) -> None:
    """Flask sends ``return "", 103`` as it is, and Werkzeug's server and gunicorn write it
    with no body: the client reads it as interim (RFC 9110 §15.2) and waits for a page
    that never comes, and a browser keeps no cookie of a 1xx (Fetch). A Set-Cookie there
    recorded files the client never got; on a return visit, Vary: Cookie and a Link of
    nopush went out on it too."""
    client = edge_app().test_client()
    response = client.get(f"/page?u=/a.css&status={status}", headers=headers)
    assert response.status_code == status
    assert (links(response), response.headers.get("Vary")) == ([], None)
    assert "Set-Cookie" not in response.headers
    assert held_now(client, "/a.css") == [False]
    client.get("/page?u=/a.css", headers=headers)  # held now, by a 200
    response = client.get(f"/page?u=/a.css&status={status}", headers=headers)
    assert (links(response), response.headers.get("Vary")) == ([], None)


def media_app(media: str = "media", **config: object) -> Flask:
    """``/narrow`` preloads ``/a.css`` for narrow screens only (``media``, so spelled) and
    ``/b.css`` for all; ``/wide`` uses ``/a.css`` on every screen."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    app.config.update(config)

    @app.route("/narrow")
    def narrow() -> str:
        query: dict[str, Any] = {media: "(max-width: 600px)"}
        push("/a.css", as_="style", **query)
        push("/b.css", as_="style")
        return "page"

    @app.route("/wide")
    def wide() -> str:
        push("/a.css", as_="style")
        return "page"

    Firehose(app)
    return app


@pytest.mark.parametrize("media", ["media", "MEDIA"])  # a parameter name in any case
@pytest.mark.parametrize(
    ("headers", "held"),
    [
        (NAVIGATION, False),  # a browser fetches it only where the query matches
        ({"Accept": "*/*"}, True),  # curl, nghttp, a proxy: pushed to, whatever the query
    ],
)
def test_a_preload_for_some_screens_is_recorded_only_where_it_is_pushed(
    headers: dict[str, str], held: bool, media: str
) -> None:
    """Firefox 153 fetched nothing a page's ``Link`` named with a ``media`` query its
    window did not match (``(max-width: 600px)``, a ``<picture>`` source's), and kept the
    Set-Cookie that said it held the file: the next page using it on every screen got no
    103 for it (tests/integration/test_firefox.py)."""
    client = media_app(media).test_client()
    client.get("/narrow", headers=headers)
    assert held_now(client, "/a.css", "/b.css") == [held, True]
    assert links(client.get("/wide", headers=NAVIGATION)) == [
        nopush("/a.css") if held else link("/a.css")
    ]


@pytest.mark.parametrize(
    ("name", "value", "held"),
    [
        ("media", "", True),
        ("media", "   ", True),
        ("media", "all", True),
        ("media", " ALL ", True),
        ("imagesrcset", "", True),
        ("imagesrcset", "  ", True),
        # For comparison: these choose by screen, or fetch another url.
        ("media", "screen", False),
        ("media", "all and (max-width: 600px)", False),
        ("imagesrcset", "all", False),  # a candidate named "all": fetched in the url's place
    ],
)
def test_a_media_or_imagesrcset_that_chooses_nothing_is_recorded_for_a_browser(
    name: str, value: str, held: bool
) -> None:
    """An empty ``media`` (a macro's default), one of only whitespace, or ``all`` matches
    every screen (HTML Standard, "matches the environment"; Media Queries: ``all``
    matches all devices), and an empty ``imagesrcset`` names no candidate, so the browser
    preloads the link's url: they were taken for a preload of some screens, so a
    browser's page never recorded the file, and under ``"omit"`` never left it out."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="edges", FIREHOSE_ALREADY_PUSHED="omit")
    given: dict[str, Any] = {name: value}

    @app.route("/any")
    def any_screen() -> str:
        push("/a.css", as_="style", **given)
        return "page"

    Firehose(app)
    browser = app.test_client()
    browser.get("/any", headers=NAVIGATION)
    assert held_now(browser, "/a.css") == [held]
    assert bool(links(browser.get("/any", headers=NAVIGATION))) is not held


@pytest.mark.parametrize("omit", [False, True], ids=["nopush", "omit"])
def test_a_preload_for_some_screens_takes_no_push_slot_from_the_links_after_it(
    omit: bool,
) -> None:
    """A link a browser's request does not record must not take a push slot on it either:
    taken on every visit, it left the links after it unrecorded for good (with
    ``FIREHOSE_MAX_PUSHES = 1``, ``/b.css`` never held, and under ``"omit"`` never left
    out). A proxy's request, pushed ``/a.css``, still gives it the slot."""
    app = media_app(FIREHOSE_MAX_PUSHES=1, FIREHOSE_ALREADY_PUSHED="omit" if omit else "nopush")
    narrow = f'{link("/a.css")}; media="(max-width: 600px)"'
    browser = app.test_client()
    assert links(browser.get("/narrow", headers=NAVIGATION)) == [
        f"{narrow}; nopush",
        link("/b.css"),
    ]
    assert held_now(browser, "/a.css", "/b.css") == [False, True]
    again = links(browser.get("/narrow", headers=NAVIGATION))
    assert again == [f"{narrow}; nopush"] + ([] if omit else [nopush("/b.css")])
    proxy = app.test_client()
    assert links(proxy.get("/narrow")) == [narrow, nopush("/b.css")]


def _second_visit_with_103(app: Flask) -> tuple[list[str], list[str], list[bool]]:
    """A browser's first visit to ``/narrow`` on a server offering 103s (the page learned
    from an earlier client's): what its 103 linked, its final links, and which files its
    digest then holds."""
    sent: list[list[tuple[str, str]]] = []
    environ = {"wsgi.early_hints": sent.append}
    headers = dict(NAVIGATION, Accept="text/html")
    app.test_client().get("/narrow", headers=headers, environ_base=environ)  # learned
    sent.clear()
    browser = app.test_client()
    final = links(browser.get("/narrow", headers=headers, environ_base=environ))
    hinted = [value for headers_103 in sent for name, value in headers_103 if name == "Link"]
    return hinted, final, held_now(browser, "/a.css", "/b.css")


def test_a_103_gives_a_preload_for_some_screens_no_push_slot_either() -> None:
    """The 103 is planned as the final response is: for a browser, the ``media`` link
    takes no push slot there either, so at ``FIREHOSE_MAX_PUSHES = 1`` the 103 hints
    ``/b.css``, which the final response pushes and records (it hinted nothing)."""
    app = media_app(FIREHOSE_MAX_PUSHES=1, FIREHOSE_EARLY_HINTS=True)
    hinted, final, held = _second_visit_with_103(app)
    assert hinted == [link("/b.css")]
    assert final == [f'{link("/a.css")}; media="(max-width: 600px)"; nopush', link("/b.css")]
    assert held == [False, True]


def test_a_preload_for_some_screens_takes_no_slot_a_103_left_the_final_response() -> None:
    """The final response after a 103 is planned for that client alone, as a browser's
    still: with a push slot the 103 left free (``FIREHOSE_MAX_PUSHES = 2``, one hinted),
    the ``media`` link stays ``nopush`` and unrecorded. Planned as another client's, it
    took that slot, and the browser's digest said it held a file it may never fetch."""
    app = media_app(FIREHOSE_MAX_PUSHES=2, FIREHOSE_EARLY_HINTS=True)
    hinted, final, held = _second_visit_with_103(app)
    assert hinted == [link("/b.css")]
    assert final == [f'{link("/a.css")}; media="(max-width: 600px)"; nopush', link("/b.css")]
    assert held == [False, True]


def test_a_103_counts_a_preload_for_some_screens_as_the_final_link_writes_it() -> None:
    """With room in ``FIREHOSE_LINK_BUDGET`` for both links only if the ``media`` one were
    written without ``; nopush``, the 103 must not offer ``/b.css``, which the final
    ``Link`` leaves out (it did: a link hinted that the budget then cut)."""
    narrow = f'{link("/a.css")}; media="(max-width: 600px)"'
    budget = len(narrow) + len(", ") + len(link("/b.css"))
    app = media_app(FIREHOSE_MAX_PUSHES=2, FIREHOSE_EARLY_HINTS=True, FIREHOSE_LINK_BUDGET=budget)
    hinted, final, held = _second_visit_with_103(app)
    assert final == [f"{narrow}; nopush"]
    assert hinted == []
    assert held == [False, False]


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        (NAVIGATION, False),  # a browser fetches the candidate its screen needs
        ({"Accept": "*/*"}, True),  # curl, nghttp, a proxy: pushed the link's url
    ],
)
def test_a_preload_with_image_candidates_is_recorded_only_where_it_is_pushed(
    headers: dict[str, str], held: bool
) -> None:
    """Firefox 153 fetched the ``imagesrcset`` candidate of a page's ``Link``
    (``/static/narrow.png 400w``), never the link's own url, and kept the Set-Cookie that
    said it held that url: the next page showing it got no 103 for it
    (tests/integration/test_firefox.py)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/sized")
    def sized() -> str:
        push("/hero.png", as_="image", imagesrcset="/narrow.png 400w", imagesizes="100vw")
        return "page"

    Firehose(app)
    client = app.test_client()
    client.get("/sized", headers=headers)
    assert held_now(client, "/hero.png") == [held]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Sec-Purpose", "prefetch"),
        ("Purpose", "prefetch"),  # Chromium before Sec-Purpose
        ("X-Moz", "prefetch"),  # older Firefox's rel=prefetch
        ("X-Purpose", "preview"),  # Safari's previews
    ],
)
def test_a_page_fetched_ahead_records_nothing(name: str, value: str) -> None:
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers={**NAVIGATION, name: value})
    assert held_now(client, "/a.css") == [False]
    client.get("/page?u=/a.css", headers=NAVIGATION)
    assert held_now(client, "/a.css") == [True]  # the navigation that shows it does


def test_a_prerendered_page_records_what_it_links() -> None:
    # Chromium 156 renders a prerender at once and fetches what its Link names, whether or
    # not the user activates it (tests/integration/test_browser.py).
    client = edge_app().test_client()
    client.get("/page?u=/a.css", headers={**NAVIGATION, "Sec-Purpose": "prefetch;prerender"})
    assert held_now(client, "/a.css") == [True]


@pytest.mark.parametrize("explicit", [False, True])
def test_an_options_response_links_nothing_and_asks_nothing(explicit: bool) -> None:
    # No browser preloads from an OPTIONS answer (a CORS preflight has no page) and no
    # proxy pushes for one: neither a Link, nor Vary: Cookie, nor a read of the cookie.
    connector = CountingConnector()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.before_request
    def everywhere() -> None:
        push("/hook.css", as_="style")

    methods = ["GET", "OPTIONS"] if explicit else ["GET"]

    @app.route("/page", methods=methods)
    @Firehose.hints("/declared.css", as_="style")
    def view() -> str:
        push("/view.css", as_="style")
        return "page"

    Firehose(app, connector=connector)
    client = app.test_client()
    response = client.options("/page")
    assert response.status_code == 200
    assert "Link" not in response.headers
    assert "Vary" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert connector.asked == 0
    # Nothing was recorded: the GET after it pushes every link.
    assert links(client.get("/page")) == [
        link("/declared.css"),
        link("/hook.css"),
        link("/view.css"),
    ]


def test_an_options_response_asks_a_flask_firehose_connector_nothing() -> None:
    """how-it-works.md: an OPTIONS answer links nothing, "and the cookie is not read for
    it", a Flask-Firehose connector's neither. At 49fdbef it was asked before the view
    (``_open_early``), OPTIONS or not, and its read of Flask's session made Flask add
    ``Vary: Cookie`` to every CORS preflight."""
    connector = CountedListInSession()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/page")
    def view() -> str:
        push("/view.css", as_="style")
        return "page"

    Firehose(app, connector=connector)
    response = app.test_client().options("/page")
    assert response.status_code == 200
    assert "Link" not in response.headers
    assert "Vary" not in response.headers
    assert connector.asked == 0


PAGE_TYPES = [
    "text/html; charset=utf-8",
    "TEXT/HTML",
    " text/html ;charset=x",
    "application/xhtml+xml",
    "none",  # no Content-Type at all: taken for a page, as it was
]
FILE_TYPES = [
    "text/css; charset=utf-8",
    "text/javascript",
    "image/png",
    "application/json",
    "text/plain",
    "text/html-sandboxed",  # a type that merely starts as HTML's
]


@pytest.mark.parametrize("content_type", PAGE_TYPES + FILE_TYPES)
def test_only_a_page_gets_our_headers(content_type: str) -> None:
    """A file a view serves (a generated stylesheet, JSON), and what a proxy fetches to
    push it (no Cookie), gets no Link, Vary: Cookie or digest cookie, as a static file
    gets none, even when a before_request hook pushed for it: nothing is recorded."""
    connector = CountingConnector()
    client = edge_app(connector).test_client()
    response = page(client, "/a.css", type=quote(content_type))
    assert response.status_code == 200
    if content_type in PAGE_TYPES:
        assert links(response) == [link("/a.css")]
        assert response.headers["Vary"] == "Cookie"
        assert held_now(client, "/a.css") == [True]
        return
    assert response.headers["Content-Type"] == content_type
    assert (links(response), response.headers.get("Vary")) == ([], None)
    assert "Set-Cookie" not in response.headers
    assert connector.asked == 0
    assert links(page(client, "/a.css")) == [link("/a.css")]  # recorded nothing


# --- Vary: Cookie ------------------------------------------------------------------------

VARY_CASES = [
    # (config, urls, method, status, varies)
    ({}, ["/a.css"], "GET", 200, True),
    # No client is pushed anything on a HEAD, but it varies as its GET (RFC 9110 §9.3.2).
    ({}, ["/a.css"], "HEAD", 200, True),
    ({}, ["/a.css"], "GET", 404, False),  # no client is pushed anything on a 404
    ({}, ["/a.css"], "HEAD", 404, False),
    ({}, ["https://cdn.example/a.css"], "GET", 200, False),  # nor another origin's url
    ({"FIREHOSE_MAX_PUSHES": 0}, ["/a.css"], "GET", 200, False),  # nor with no push slot
    ({}, ["https://cdn.example/a.css", "/a.css"], "GET", 200, True),
    # A held link is left out, another client's kept: on a HEAD and a 404 too.
    ({"FIREHOSE_ALREADY_PUSHED": "omit"}, ["/a.css"], "HEAD", 200, True),
    ({"FIREHOSE_ALREADY_PUSHED": "omit"}, ["/a.css"], "GET", 404, True),
]


@pytest.mark.parametrize(("config", "urls", "method", "status", "varies"), VARY_CASES)
def test_vary_cookie_exactly_when_another_clients_links_would_differ(
    config: dict[str, Any], urls: list[str], method: str, status: int, varies: bool
) -> None:
    """A shared cache keys a response on the url alone without ``Vary: Cookie``, and on
    every client's own cookie with it: set where the links depend on what the client
    holds, and only there (a stranger's hunt found it on pages no client is pushed on),
    and on a HEAD where its GET's do (test_a_head_varies_as_its_get)."""
    client = edge_app(**config).test_client()
    response = page(client, *urls, method=method, status=str(status))
    assert response.status_code == status
    assert links(response)
    assert (response.headers.get("Vary") == "Cookie") is varies


@pytest.mark.parametrize(
    ("config", "url", "status"),
    [
        ({}, "/a.css", 404),
        ({}, "https://cdn.example/a.css", 200),
        ({"FIREHOSE_MAX_PUSHES": 0}, "/a.css", 200),
    ],
)
def test_a_page_no_client_is_pushed_on_varies_with_session_connector(
    config: dict[str, Any], url: str, status: int
) -> None:
    """``SessionConnector`` reads what the client holds from Flask's session, and Flask
    adds ``Vary: Cookie`` to every response whose session was read: a page no client is
    pushed anything on varies for a fresh client too, where the digest's does not
    (docs/security.md, "Shared caches and `Vary: Cookie`")."""
    for connector, vary in ((DigestConnector(), None), (SessionConnector(), "Cookie")):
        client = edge_app(connector, **config).test_client()
        response = page(client, url, status=str(status))
        assert (response.status_code, links(response)) == (status, [nopush(url)])
        assert response.headers.get("Vary") == vary
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("config", "url", "vary"),
    [
        ({}, "/a.css", "Accept-Encoding, Cookie"),  # the GET pushes it to a fresh client
        ({"FIREHOSE_ALREADY_PUSHED": "omit"}, "/a.css", "Accept-Encoding, Cookie"),
        ({}, "https://cdn.example/a.css", "Accept-Encoding"),  # the GET pushes it to none
        ({"FIREHOSE_MAX_PUSHES": 0}, "/a.css", "Accept-Encoding"),
    ],
)
def test_a_head_varies_as_its_get(config: dict[str, Any], url: str, vary: str) -> None:
    """A HEAD's fields are its GET's (RFC 9110 §9.3.2), and a cache that makes a HEAD
    request updates each GET it stored for that ``Cookie`` with them, ``Vary`` included
    (RFC 9111 §4.3.5, §3.2). A fresh client's HEAD said ``Vary: Accept-Encoding`` where
    its GET says ``Accept-Encoding, Cookie``: the first visit's page, its digest cookie
    with it, would then answer every client, and overwrite each returning one's digest.
    Its ``Link`` stays its own: no push on a HEAD, and nothing recorded."""
    client = edge_app(**config).test_client()
    head = page(client, url, method="HEAD", vary="Accept-Encoding")
    get = page(client, url, vary="Accept-Encoding")
    assert head.headers.getlist("Vary") == get.headers.getlist("Vary") == [vary]
    assert links(head) == [nopush(url)]


def test_links_made_nopush_by_the_cookie_header_vary_on_cookie() -> None:
    """Copies of the cookie past those tried make every link ``nopush`` (one not tried may
    hold the client's digest): that page must not be cached for every client."""
    header = "; ".join(f"{COOKIE}=bad{n}" for n in range(MAX_COOKIE_COPIES + 1))
    client = edge_app().test_client(use_cookies=False)
    response = client.get("/page?u=/a.css", headers={"Cookie": header})
    assert links(response) == [nopush("/a.css")]
    assert response.headers["Vary"] == "Cookie"


# --- url forms ---------------------------------------------------------------------------

URL_FORMS = [
    ("/d.css", True),
    ("/q.css?v=1", True),
    ("https://localhost/a.css", False),
    ("//localhost/b.css", False),
    ("rel/c.css", False),
    ("../up.css", False),
    # The URL Standard reads a backslash as "/" in an http(s) url: "//evil.example/e.css",
    # another host, though nginx would push the path from this one.
    ("/\\evil.example/e.css", False),
    # Proxies push it with its fragment in the path, which no browser request matches.
    ("/f.css#x", False),
    # A browser asks for /static/g.css, and for /h.css: proxies would push these paths.
    ("/static\\g.css", False),
    ("/static/../h.css", False),
    ("/static/./j.css", False),
    # Not a dot segment: pushed as written.
    ("/static/..k.css", True),
    ("/static/k.css?next=../", True),
    # h2o 2.2 reads no link from a "," or ";" in its url on (docs/proxies.md).
    ("/img/w_1,h_1/a.png", False),
    ("/api.json?fields=a;b", False),
    # nginx 1.22 resets the page's own stream for these paths.
    ("/50%off.css", False),
    ("/nul%00.css", False),
    ("/c/%2F..%2F..%2Fx.css", False),
    ("/%2F..%2Fx.css", False),
    # Nor, to be safe, any other ".." spelled with %2F, which nginx 1.22 did push.
    ("/c/%2F..%2Fx.css", False),
    # Read by every proxy as written.
    ("/c/%41.css", True),
    ("/c/a%2Fb.css", True),
    ("/c/q.css?a=50%", True),
]
#: The urls h2o reads no link after: written after every other link.
CUT = {"/img/w_1,h_1/a.png", "/api.json?fields=a;b"}


@pytest.mark.parametrize(
    ("url", "pushed"),
    [("/static/%2E%2e/i.css", False), ("/static/%2e/j.css", False), ("/static/%2e%2e%2e/", True)],
)
def test_a_dot_segment_spelled_with_percent_2e_is_one_too(url: str, pushed: bool) -> None:
    """The URL Standard reads %2e as "." in a path segment: the browser resolves it away."""
    assert make_resource(url, (), "style", None, ()).pushable is pushed


def asked(url: str) -> str:
    """``url`` as the page's ?u= value: its own "%", "?" and "#" percent-encoded."""
    return url.replace("%", "%25").replace("?", "%3F").replace("#", "%23")


@pytest.mark.parametrize(("url", "pushed"), URL_FORMS)
def test_only_path_absolute_urls_are_pushed_and_recorded(url: str, pushed: bool) -> None:
    client = edge_app().test_client()
    first = page(client, asked(url))
    assert links(first) == [link(url) if pushed else nopush(url)]
    assert held_now(client, url) == [pushed]


@pytest.mark.parametrize("url", ["http:cdn.example/x.css", "https:/x.css", "HTTP:x.css"])
def test_a_special_scheme_without_its_slashes_is_refused_not_linked(url: str) -> None:
    """A browser reads ``http:cdn.example/x.css`` by the page's own scheme: a path of an
    http page's, the host ``cdn.example`` from an https one (test_links.py). It was
    linked as given and recorded, its origin none, the page's own to a 103 sent over the
    app's HTTP/2, whatever host the browser then fetched from. Refused, as a url that
    could inject a header is, with how to write it."""
    app = edge_app()
    app.testing = True  # the view's exception is raised to the test, not made a 500

    with pytest.raises(ValueError, match="needs '//' and its host after it"):
        page(app.test_client(), asked(url))
    with pytest.raises(ValueError, match="needs '//' and its host after it"):
        push(url, as_="style")  # outside a request, checked all the same


def test_each_url_form_on_one_page() -> None:
    client = edge_app().test_client()
    urls = [asked(url) for url, _ in URL_FORMS]
    first = links(page(client, *urls))
    in_order = [form for form in URL_FORMS if form[0] not in CUT]
    last = [form for form in URL_FORMS if form[0] in CUT]
    assert first == [link(url) if pushed else nopush(url) for url, pushed in in_order + last]
    assert held_now(client, *(url for url, _ in URL_FORMS)) == [pushed for _, pushed in URL_FORMS]


def test_a_url_h2o_cuts_the_link_value_at_is_written_after_every_other_link() -> None:
    """h2o pushed nothing from "/a,b.css" on: "/c.css" and "/e.css", recorded as pushed,
    were never pushed. Within the budget as pushed, in order of push."""
    client = edge_app(
        FIREHOSE_LINK_BUDGET=len(", ".join(map(link, ["/a,b.css", "/c.css"]))) + len("; nopush")
    ).test_client()
    assert links(page(client, "/a,b.css", "/c.css", "/d;e.css")) == [
        link("/c.css"),
        nopush("/a,b.css"),
    ]
    client = edge_app().test_client()
    assert links(page(client, "/a,b.css", "/c.css", "/d;e.css", "/e.css")) == [
        link("/c.css"),
        link("/e.css"),
        nopush("/a,b.css"),
        nopush("/d;e.css"),
    ]


# --- how many per response ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_exactly_max_pushes_are_pushed_and_one_past_is_offered_later(encoding: str) -> None:
    assert DEFAULTS["FIREHOSE_MAX_PUSHES"] == 10  # nginx's http2_max_concurrent_pushes
    client = edge_app(FIREHOSE_ENCODING=encoding).test_client()
    urls = [f"/r{i}.css" for i in range(11)]
    first = links(page(client, *urls))
    assert first == [link(url) for url in urls[:10]] + [nopush(urls[10])]
    # The eleventh was not recorded: the next response offers it, alone among new ones.
    second = links(page(client, *urls))
    assert second == [nopush(url) for url in urls[:10]] + [link(urls[10])]
    assert held_now(client, *urls) == [True] * 11


def test_exactly_max_pushes_new_resources_fit() -> None:
    client = edge_app(FIREHOSE_MAX_PUSHES=3).test_client()
    page(client, "/held.css")
    urls = ["/held.css", "/a.css", "/b.css", "/c.css"]
    # A held resource does not count: three new ones are the limit, all pushed.
    assert links(page(client, *urls)) == [nopush("/held.css")] + [link(u) for u in urls[1:]]


def test_max_pushes_zero_pushes_nothing() -> None:
    client = edge_app(FIREHOSE_MAX_PUSHES=0).test_client()
    response = page(client, "/a.css")
    assert links(response) == [nopush("/a.css")]
    assert "Set-Cookie" not in response.headers


# --- the header budget -------------------------------------------------------------------


def test_links_past_the_budget_are_left_out_and_not_recorded() -> None:
    two = len(f"{link('/a.css')}, {link('/b.css')}")
    exact = edge_app(FIREHOSE_LINK_BUDGET=two).test_client()
    assert links(page(exact, "/a.css", "/b.css")) == [link("/a.css"), link("/b.css")]
    short = edge_app(FIREHOSE_LINK_BUDGET=two - 1).test_client()
    assert links(page(short, "/a.css", "/b.css")) == [link("/a.css")]
    assert held_now(short, "/a.css", "/b.css") == [True, False]


def test_the_links_kept_are_the_first_in_push_order_not_the_shortest() -> None:
    """The value ends at the first link past the budget: a shorter one pushed after it,
    which would fit, is left out too, so a page's links are always a prefix of its
    pushes (its most important first) and its 103 hints the same prefix."""
    long = f"/{'l' * 200}.css"
    budget = len(f"{link('/a.css')}, {link('/b.css')}")
    client = edge_app(FIREHOSE_LINK_BUDGET=budget).test_client()
    assert links(page(client, "/a.css", long, "/b.css")) == [link("/a.css")]
    assert held_now(client, "/a.css", long, "/b.css") == [True, False, False]


def test_a_value_the_budget_ends_before_any_tracked_link_does_not_vary_on_cookie() -> None:
    """``Vary: Cookie`` says the Link value depends on what the client holds. The budget
    ends at a long preconnect, before the one tracked link: nothing written was asked of
    the digest, so no shared cache need keep a copy of the page per cookie."""
    app = edge_app(FIREHOSE_LINK_BUDGET=60)

    @app.route("/connect")
    def connect() -> str:
        push(f"https://{'c' * 80}.example", rel="preconnect")
        push("/a.css", as_="style")
        return "connect"

    response = app.test_client().get("/connect")

    assert "Link" not in response.headers
    assert "Vary" not in response.headers


def test_the_budget_counts_nopush_on_return_visits() -> None:
    """A return visit's links are 8 bytes longer each: the budget holds for them too."""
    urls = [f"/asset/{i:04}.0123456789.css" for i in range(60)]
    client = edge_app(FIREHOSE_MAX_PUSHES=100).test_client()
    for _ in range(4):
        value = page(client, *urls).headers.get("Link", "")
        assert len(value) <= DEFAULTS["FIREHOSE_LINK_BUDGET"]


def largest_capacity(encoding: str, **config: Any) -> int:
    app = Flask(__name__)
    app.config.update(FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=8192, **config)
    with pytest.raises(ValueError, match="FIREHOSE_CAPACITY") as refused:
        Firehose(app)
    found = re.search(r"largest FIREHOSE_CAPACITY that fits is (\d+)", str(refused.value))
    assert found, refused.value
    return int(found.group(1))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_largest_capacity_is_accepted_and_one_more_is_refused(encoding: str) -> None:
    largest = largest_capacity(encoding)
    edge_app(FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=largest)
    with pytest.raises(ValueError, match=rf"FIREHOSE_CAPACITY={largest + 1}\b.*{largest}"):
        edge_app(FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=largest + 1)


def our_header_bytes(response: TestResponse, before: set[str]) -> int:
    """Bytes of our header lines (Link, the digest's Set-Cookie, Vary) as sent."""
    size = 0
    for name, value in response.headers.items():
        ours = name in ("Link", "Vary") or (name == "Set-Cookie" and value.startswith(COOKIE))
        if ours and name not in before:
            size += len(f"{name}: {value}\r\n")
    return size


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_our_headers_stay_in_budget_at_every_fill_of_the_largest_capacity(
    encoding: str, record_property: Any
) -> None:
    capacity = largest_capacity(encoding, SESSION_COOKIE_SECURE=True)
    client = edge_app(
        FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=capacity, SESSION_COOKIE_SECURE=True
    ).test_client()
    largest = 0
    # More links than the Link budget holds, so every response fills it; ten of each page's
    # are pushed and recorded per visit. Past two full generations, then return visits.
    per_page = 40
    pages = 2 * capacity // DEFAULTS["FIREHOSE_MAX_PUSHES"] + 3
    for number in [*range(pages), *range(pages - 10, pages)]:
        urls = [f"/static/p{number}/asset-{i}.0123456789abcdef.css" for i in range(per_page)]
        response = page(client, *urls)
        assert len(response.headers["Link"]) > DEFAULTS["FIREHOSE_LINK_BUDGET"] - 80
        largest = max(largest, our_header_bytes(response, set()))
    record_property("largest_header_bytes", largest)
    print(f"\n{encoding}: capacity {capacity}, our headers at most {largest} bytes")
    assert largest <= DEFAULTS["FIREHOSE_HEADER_BUDGET"]


def smallest_session_line() -> int:
    """The bytes of the ``Set-Cookie`` line of Flask's session holding ``SessionConnector``'s
    list of one short key (``/``), not permanent (no ``Expires``), as a page pushing it
    writes it: ``Set-Cookie: `` and CRLF counted, as the room counts them."""
    response = page(edge_app(SessionConnector()).test_client(), "/")
    value = response.headers["Set-Cookie"]
    assert value.startswith("session=") and "Expires" not in value
    return len(f"Set-Cookie: {value}\r\n")


@pytest.mark.parametrize("key", ["FIREHOSE_LINK_BUDGET", "FIREHOSE_HEADER_BUDGET"])
def test_session_connector_refuses_budgets_that_leave_no_room_for_a_session_of_one_key(
    key: str,
) -> None:
    """The room for the session's Set-Cookie line is what FIREHOSE_HEADER_BUDGET leaves
    beside a ``Link`` line of FIREHOSE_LINK_BUDGET and ``Vary: Cookie`` (22 bytes and the
    link budget, docs/configuration.md). Budgets leaving less than the line of a session
    holding one short key were accepted, and every save() raised NotRecorded: nothing was
    ever recorded, and behind h2o or Apache what each 103 offered was pushed on every
    visit. Refused at init_app, naming both keys; a room of exactly that line is
    accepted, and a page records what it pushes there."""
    least = smallest_session_line()
    budgets = {name: DEFAULTS[name] for name in ("FIREHOSE_LINK_BUDGET", "FIREHOSE_HEADER_BUDGET")}
    if key == "FIREHOSE_LINK_BUDGET":
        exact = budgets["FIREHOSE_HEADER_BUDGET"] - 22 - least
        short = exact + 1
    else:
        exact = budgets["FIREHOSE_LINK_BUDGET"] + 22 + least
        short = exact - 1

    client = edge_app(SessionConnector(), **{key: exact}).test_client()
    assert links(page(client, "/")) == [link("/")]
    assert links(page(client, "/")) == [nopush("/")]  # held: recorded
    with pytest.raises(ValueError) as refused:
        edge_app(SessionConnector(), **{key: short})
    said = str(refused.value)
    for name, value in {**budgets, key: short}.items():
        assert f"{name}={value}" in said, said
    assert f" {least - 1} bytes" in said and f" {least} bytes" in said, said
    assert "set up after Firehose(app)" in said, said


def test_session_connector_measures_a_session_of_one_key_without_secret_key_too() -> None:
    """A signed value is as long under any key: without ``SECRET_KEY`` (set after
    ``Firehose(app)``, or not at all), the session is measured with a stand-in key, and
    the same budgets are refused, and accepted a byte below."""
    exact = DEFAULTS["FIREHOSE_HEADER_BUDGET"] - 22 - smallest_session_line()
    edge_app(SessionConnector(), SECRET_KEY=None, FIREHOSE_LINK_BUDGET=exact)
    with pytest.raises(ValueError, match=f"FIREHOSE_LINK_BUDGET={exact + 1} and "):
        edge_app(SessionConnector(), SECRET_KEY=None, FIREHOSE_LINK_BUDGET=exact + 1)


def test_session_connector_refuses_a_max_cookie_size_leaving_no_room_naming_it() -> None:
    """The room is at most the line of a cookie of ``MAX_COOKIE_SIZE`` bytes: one that
    leaves less than the line of a session holding one short key is refused too, and the
    refusal says that ``MAX_COOKIE_SIZE`` set the room, not the budgets, which leave far
    more at their defaults. A room of exactly that line is accepted, and records."""
    least = smallest_session_line()
    exact = least - len("Set-Cookie: \r\n")  # the cookie itself: its line less the field's
    client = edge_app(SessionConnector(), MAX_COOKIE_SIZE=exact).test_client()
    assert links(page(client, "/")) == [link("/")]
    assert links(page(client, "/")) == [nopush("/")]  # held: recorded
    with pytest.raises(ValueError) as refused:
        edge_app(SessionConnector(), MAX_COOKIE_SIZE=exact - 1)
    assert str(refused.value).startswith(
        f"The session cookie's Set-Cookie line has room for {least - 1} bytes (the line of "
        f"a cookie of MAX_COOKIE_SIZE={exact - 1} bytes) at FIREHOSE_LINK_BUDGET=1800 and "
        f"FIREHOSE_HEADER_BUDGET=3072, less than the {least} bytes"
    ), refused.value


# --- Vary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view_vary", "expected"),
    [
        ("", ["Cookie"]),
        ("X-Cookie-Consent", ["X-Cookie-Consent, Cookie"]),
        ("Accept-Encoding, Cookies", ["Accept-Encoding, Cookies, Cookie"]),
        ("Cookie", ["Cookie"]),
        ("cookie", ["cookie"]),
        ("Accept-Encoding, COOKIE", ["Accept-Encoding, COOKIE"]),
        ("Accept-Encoding,Cookie", ["Accept-Encoding,Cookie"]),
        ("*", ["*"]),
        ("Accept-Encoding,*", ["Accept-Encoding,*"]),
    ],
)
def test_vary_is_read_by_field_name(view_vary: str, expected: list[str]) -> None:
    client = edge_app().test_client()
    response = page(client, "/a.css", vary=view_vary) if view_vary else page(client, "/a.css")
    assert response.headers.getlist("Vary") == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("Vary", "Accept-Encoding"), ("Vary", "Origin")], ["Accept-Encoding", "Origin, Cookie"]),
        ([("vary", " ")], ["Cookie"]),
        ([("Vary", "Origin"), ("Vary", "cookie")], ["Origin", "cookie"]),
        # Cookie on an earlier line only: nginx 1.22 keys on "Origin" alone
        # (tests/integration/test_shared_cache.py: a held page served to a new client).
        ([("Vary", "Cookie"), ("Vary", "Origin")], ["Cookie", "Origin, Cookie"]),
        ([("Content-Type", "text/html")], ["Cookie"]),
    ],
)
def test_cookie_joins_the_last_vary_line(
    headers: list[tuple[str, str]], expected: list[str]
) -> None:
    """The line nginx 1.22 keys its cache on; a blank line is replaced, not extended."""
    request_record._vary_on_cookie(headers)
    assert [value for name, value in headers if name.lower() == "vary"] == expected


def test_vary_cookie_joins_the_views_own_vary_line() -> None:
    """nginx 1.22's ``proxy_cache`` keys a response on its last ``Vary`` line alone: with
    ``Vary: Cookie`` added as a second line, the view's ``Vary: Accept-Encoding`` was
    forgotten, and a client that asked for no encoding was served the gzip body stored for
    another (tests/integration/test_shared_cache.py). Flask's session adds ``Cookie`` to
    the view's own line (``response.vary.add``): one line naming both."""
    client = edge_app().test_client()
    response = page(client, "/a.css", vary="Accept-Encoding")
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]


@pytest.mark.parametrize(
    ("make_connector", "reads_the_session"),
    [
        (InStore, False),
        # Asked before every view (how-it-works.md), it reads the session on every page.
        (lambda: ListInSession, True),
        (SessionConnector, False),
        (DigestConnector, False),
    ],
    ids=["keys in a store", "keys in the session", "SessionConnector", "DigestConnector"],
)
@pytest.mark.parametrize("pushes", [True, False], ids=["pushing", "pushing nothing"])
def test_a_connector_reading_the_session_leaves_the_view_s_vary_lines(
    make_connector: Callable[[], Any], reads_the_session: bool, pushes: bool
) -> None:
    """A connector that reads Flask's session (SessionConnector, a Flask-Firehose one, or
    the extension's copy of the session before ``set_pushed()``) marks it accessed, and
    Flask then adds ``Cookie`` with ``response.vary.add``, which rewrites ``Vary`` from its
    first line alone. A view's ``Vary: Origin`` on a line of its own was gone from the
    response: a shared cache then served one origin's CORS answer to every other. The
    lines are one field (RFC 9110 §5.3): joined, each is kept."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "change me"
    Firehose(app, connector=make_connector())

    @app.route("/")
    def index() -> Response:
        push("/a.css", as_="style")
        response = Response("page")
        response.headers.add("Vary", "Accept-Encoding")
        response.headers.add("Vary", "Origin")
        return response

    @app.route("/quiet")
    def quiet() -> Response:
        return Response("page", headers=[("Vary", "Accept-Encoding"), ("Vary", "Origin")])

    client = app.test_client()
    # Cookie: ours where the links depend on the cookie; Flask's where the session was
    # read. A page of no links whose session nobody read gets none.
    cookie = pushes or reads_the_session
    expected = ["Accept-Encoding, Origin, Cookie" if cookie else "Accept-Encoding, Origin"]
    for _ in range(2):  # a first visit, then a return visit
        response = client.get("/" if pushes else "/quiet")
        assert response.headers.getlist("Vary") == expected


# --- failures never cost the page --------------------------------------------------------


class OpenFails(DigestConnector):
    def open(self, app: Flask, request: Request) -> Any:
        raise OSError("store is down for reads")


class SaveFails(DigestConnector):
    def save(self, *args: Any) -> None:
        raise OSError("store is down for writes")


class SetPushedFails:
    def get_pushed(self) -> set[str]:
        return set()

    def set_pushed(self, items: Any) -> None:
        raise OSError("store is down for writes")


class AskingFails:
    """What get_pushed() returns cannot answer ``in``."""

    class Holder:
        def __contains__(self, key: object) -> bool:
            raise OSError("store is down for lookups")

    def get_pushed(self) -> Any:
        return self.Holder()

    def set_pushed(self, items: Any) -> None:
        raise AssertionError("nothing may be recorded")


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        (OpenFails(), "open() failed"),
        (SaveFails(), "save() failed"),
        (SetPushedFails(), "save() failed"),
        (AskingFails(), "holder failed"),
    ],
    ids=["open", "save", "set_pushed", "in"],
)
def test_a_failing_connector_serves_the_page_with_nothing_pushed(
    connector: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = edge_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = page(client, "/a.css", "/b.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]
    assert "Set-Cookie" not in response.headers
    # One failure logged, and nothing else failed: after a failed holder, set_pushed() is
    # not asked (its AssertionError would be logged as a failed save()).
    (failure,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert message in failure.getMessage()
    assert failure.exc_info is not None  # the traceback is in the log


@pytest.mark.parametrize("connector", [OpenFails(), AskingFails()], ids=["open", "in"])
def test_a_holder_that_fails_plans_a_browser_s_page_as_a_failed_open_does(
    connector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A holder that fails to answer ``in`` gets the links of a client of whom nothing is
    known, as an ``open()`` that fails does: still planned for a browser. A browser is
    offered no push of a link its screen chooses, so a page linking only such a link does
    not vary on ``Cookie``; planned as a proxy's, which is offered it, it would, and a
    shared cache would keep the page for one ``Cookie`` alone."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/")
    def index() -> str:
        push("/a.css", as_="style", media="(max-width: 600px)")
        return "page"

    Firehose(app, connector=connector)
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = app.test_client().get("/", headers=NAVIGATION)
    assert response.status_code == 200
    assert links(response) == [f'{link("/a.css")}; media="(max-width: 600px)"; nopush']
    assert response.headers.getlist("Vary") == []
    assert "Set-Cookie" not in response.headers
    assert [r.levelno for r in caplog.records] == [logging.ERROR]  # it did fail


class CountedAskingFails:
    """What ``open()`` returns fails to answer ``in`` (a store gone down after ``open``),
    after its first ``answers`` asks (none held), counting each time it is asked."""

    def __init__(self, answers: int = 0) -> None:
        self.asked = 0
        self.answers = answers

    def __contains__(self, key: object) -> bool:
        self.asked += 1
        if self.asked <= self.answers:
            return False
        raise OSError("store is down for lookups")


class AskedFails(DigestConnector):
    def __init__(self) -> None:
        super().__init__()
        self.holders: list[CountedAskingFails] = []

    def open(self, app: Flask, request: Request) -> Any:
        self.holders.append(CountedAskingFails())
        return self.holders[-1]

    def save(self, *args: Any) -> None:
        raise AssertionError("nothing may be recorded")

    def __repr__(self) -> str:
        return "AskedFails()"


@pytest.mark.parametrize("early_hints", [False, True], ids=["HEAD", "GET with its 103"])
def test_a_failing_holder_is_asked_and_logged_once_a_request(
    early_hints: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A holder that fails to answer ``in`` is one failure of the request, as a failed
    ``open()`` is: logged once, naming the connector, and not asked again (a store gone
    down makes the page wait for each ask). A HEAD plans its GET's links too, and a 103
    is planned before the view: each asked the holder again, and logged it again."""
    connector = AskedFails()
    client = edge_app(connector, FIREHOSE_EARLY_HINTS=early_hints).test_client()
    sent: list[object] = []
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    method = "GET" if early_hints else "HEAD"
    for _ in range(2):  # the first learns the page its 103 then hints
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="firehose_digest"):
            response = client.open(
                "/page?u=/a.css&u=/b.css", method=method, environ_overrides=server
            )
        assert response.status_code == 200
        assert links(response) == [nopush("/a.css"), nopush("/b.css")]
        assert sent == []  # nothing a front would push, and nothing else to hint
        assert connector.holders[-1].asked == 1
        assert [r.getMessage() for r in caplog.records] == [
            "firehose: AskedFails()'s holder failed; nothing is pushed"
        ]
        assert caplog.records[0].exc_info is not None


class DownAfterTheHint(DigestConnector):
    """Its holder answers the 103's two asks, then fails: a store gone down between the
    103 and the page. The page of the visit that learns it asks those two alone."""

    def __init__(self) -> None:
        super().__init__()
        self.holders: list[CountedAskingFails] = []
        self.saved = 0

    def open(self, app: Flask, request: Request) -> Any:
        self.holders.append(CountedAskingFails(answers=2))
        return self.holders[-1]

    def save(self, *args: Any) -> None:
        self.saved += 1

    def __repr__(self) -> str:
        return "DownAfterTheHint()"


def test_a_holder_failing_after_its_103_leaves_what_the_103_offered_unrecorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The 103 offered the links the client lacked for push, and a front pushed them;
    the page's own ask failed. It is planned as after a failed ``open()``: logged once,
    and nothing saved, not even what the 103 offered (docs/connectors.md, "Failures and
    the 103"), which a failing holder could not be saved with."""
    connector = DownAfterTheHint()
    client = edge_app(connector, FIREHOSE_EARLY_HINTS=True).test_client()
    sent: list[object] = []
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    client.get("/page?u=/a.css&u=/b.css", environ_overrides=server)  # learns the page
    assert (sent, connector.saved) == ([], 1)
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = client.get("/page?u=/a.css&u=/b.css", environ_overrides=server)
    assert sent == [[("Link", "</a.css>; rel=preload; as=style, </b.css>; rel=preload; as=style")]]
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]
    assert (connector.holders[-1].asked, connector.saved) == (3, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "firehose: DownAfterTheHint()'s holder failed; nothing is pushed"
    ]


@pytest.mark.parametrize("connector", [OpenFails(), SaveFails()], ids=["open", "save"])
def test_a_failing_connector_is_logged_on_each_request_it_fails(
    connector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/connectors.md: a connector whose ``open`` or ``save`` raises is logged with its
    traceback on each request it fails, not once."""
    client = edge_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        for _ in range(3):
            assert links(page(client, "/a.css")) == [nopush("/a.css")]
    assert [record.exc_info is not None for record in caplog.records] == [True] * 3


def test_a_cookie_that_cannot_be_written_records_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = edge_app()
    client = app.test_client()
    page(client, "/a.css")
    before = client.get_cookie(COOKIE)
    assert before is not None
    app.config["SESSION_COOKIE_SAMESITE"] = "Sometimes"  # Werkzeug refuses to write it
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(2):
            response = page(client, "/a.css", "/b.css")
            assert response.status_code == 200
            assert links(response) == [nopush("/a.css"), nopush("/b.css")]
            assert "Set-Cookie" not in response.headers
    # Set after init_app, it is refused as init_app refuses it, and said once.
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1
    assert "SESSION_COOKIE_SAMESITE='Sometimes': SameSite must be" in told[0]
    assert "here: what its" not in told[0]  # Flask's own interface read the config
    app.config["SESSION_COOKIE_SAMESITE"] = None
    # The client still holds what it held: /b.css was never recorded, so it is offered.
    assert links(page(client, "/a.css", "/b.css")) == [nopush("/a.css"), link("/b.css")]


def test_a_failing_session_connector_write_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenSession(SessionConnector):
        def set_pushed(self, items: Any) -> None:
            raise RuntimeError("session store is down")

    client = edge_app(BrokenSession()).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = page(client, "/a.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css")]


class OwnSetFails(SetPushedFails):
    """get_pushed() returns its store's own set, as a Flask-Firehose connector may."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def get_pushed(self) -> set[str]:
        return self.store


def test_a_failed_set_pushed_has_had_the_keys_added_to_get_pushed_s_own_set() -> None:
    """docs/connectors.md: a ``get_pushed()`` that returns its store's own set has had the
    pushed keys added to it in place before ``set_pushed`` failed, as Flask-Firehose added
    them; the page keeps its links, all ``nopush``."""
    connector = OwnSetFails()
    response = page(edge_app(connector).test_client(), "/a.css")
    assert links(response) == [nopush("/a.css")]
    assert connector.store == {"/a.css"}


class Timeout(BaseException):
    """Stands for gevent's ``Timeout``: a ``BaseException`` that is not an ``Exception``."""


class TimesOut(DigestConnector):
    def __init__(self, method: str) -> None:
        super().__init__()
        self.method = method

    def open(self, app: Flask, request: Request) -> Any:
        if self.method == "open":
            raise Timeout
        return super().open(app, request)

    def save(self, *args: Any) -> None:
        raise Timeout


@pytest.mark.parametrize("method", ["open", "save"])
def test_a_base_exception_from_a_connector_goes_through(method: str) -> None:
    """docs/connectors.md: a ``BaseException`` that is not an ``Exception`` (``SystemExit``,
    gevent's ``Timeout``) goes through, as it would from a view, where an ``Exception`` is
    logged and costs only tracking."""
    client = edge_app(TimesOut(method)).test_client()
    with pytest.raises(Timeout):
        page(client, "/a.css")


# save: the control (a digest is not changed in place); set_pushed: what was broken.
@pytest.mark.parametrize("connector", [SaveFails(), SetPushedFails()], ids=["save", "set_pushed"])
def test_a_failed_save_keeps_the_links_nopush_when_held_ones_are_omitted(connector: Any) -> None:
    """Planned again from the answers given before save(): set_pushed() was handed the
    pushed keys added to what get_pushed() returned, and asked again that holder said
    every key was held, so omitting the held ones dropped the whole Link header."""
    client = edge_app(connector, FIREHOSE_ALREADY_PUSHED="omit").test_client()
    response = page(client, "/a.css", "/b.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]


class Substrings:
    """open() returns a comma-joined str: ``in`` on it answers substrings."""

    def __init__(self) -> None:
        self.stored = ""
        self.saves = 0

    def open(self, app: Flask, request: Request) -> Any:
        return self.stored

    def save(self, app: Flask, response: Response, held: Any, *keys: Any) -> None:
        self.saves += 1
        self.stored = ",".join(sorted({*held.split(","), *keys[0]} - {""}))


class Text(str):
    """A str subclass that answers ``in`` as str does (Markup is one)."""


@pytest.mark.parametrize(
    ("kind", "refused"),
    [(str, "str"), (Text, "Text"), (UserString, "UserString"), (bytes, None)],
    ids=["str", "subclass", "UserString", "bytes"],
)
def test_an_open_returning_a_str_is_an_error_not_substrings(
    kind: Any, refused: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """``"/a.css" in "/a.css.map"`` held ``/a.css`` too: refused, with the reason in the
    log, and the page served with nothing pushed."""
    connector = Substrings()
    connector.stored = "/a.css.map"
    if kind is bytes:
        connector.open = lambda app, request: b"/a.css.map"  # type: ignore[method-assign]
        refused = "bytes"
    elif kind is not str:
        connector.open = lambda app, request: kind("/a.css.map")  # type: ignore[method-assign]
    client = edge_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = page(client, "/a.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css")]
    assert (connector.stored, connector.saves) == ("/a.css.map", 0)  # nothing saved
    (failure,) = [r for r in caplog.records if "open() failed" in r.getMessage()]
    assert failure.exc_info is not None
    assert f"returned a {refused}, which answers `in` by substring" in str(failure.exc_info[1])


class Unaskable:
    """open() returns a number: no ``in`` can ask it."""

    def __init__(self) -> None:
        self.saved: list[tuple[Any, ...]] = []

    def open(self, app: Flask, request: Request) -> Any:
        return 42

    def save(self, *args: Any) -> None:
        self.saved.append(args)  # an error raised here would only be logged


def test_an_open_returning_what_no_in_can_ask_is_an_error_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not taken for a client holding nothing: the log says what open() returned, and the
    page is served with nothing pushed."""
    connector = Unaskable()
    client = edge_app(connector).test_client()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = page(client, "/a.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css")]
    assert connector.saved == []
    (failure,) = [r for r in caplog.records if "open() failed" in r.getMessage()]
    assert failure.exc_info is not None
    assert "returned 'int' 42, which cannot be asked `key in held`" in str(failure.exc_info[1])


class Saves:
    """A store that holds nothing yet, counting what it is asked to save."""

    def __init__(self) -> None:
        self.saved: list[tuple[Any, Any]] = []

    def open(self, app: Flask, request: Request) -> frozenset[str]:
        return frozenset()

    def save(self, app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        self.saved.append((pushed, reused))


@pytest.mark.parametrize("method", ["POST", "HEAD"])
def test_a_response_that_pushes_nothing_saves_nothing(method: str) -> None:
    """Nothing pushed, nothing held: save() is not called (a store's write, a cookie)."""
    connector = Saves()
    client = edge_app(connector).test_client()
    response = page(client, "/a.css", method=method)
    assert links(response) == [nopush("/a.css")]
    assert connector.saved == []
    page(client, "/a.css")
    assert connector.saved == [(("/a.css",), ())]


class HoldsBAndD(Saves):
    def open(self, app: Flask, request: Request) -> frozenset[str]:
        return frozenset({"/b.css", "/d.css"})


@pytest.mark.parametrize("already_pushed", ["nopush", "omit"])
def test_save_is_given_the_pushed_and_the_reused_keys_as_tuples_in_page_order(
    already_pushed: str,
) -> None:
    """docs/connectors.md: ``save()`` gets the keys this response pushed and the held keys
    it used again (linked ``nopush``, or left out with ``"omit"``), as tuples in page
    order."""
    connector = HoldsBAndD()
    client = edge_app(connector, FIREHOSE_ALREADY_PUSHED=already_pushed).test_client()
    page(client, "/d.css", "/a.css", "/b.css", "/c.css")
    assert connector.saved == [(("/a.css", "/c.css"), ("/d.css", "/b.css"))]


class AskedKeys(Saves):
    """open() returns the connector itself: it holds nothing, and records each key asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[object] = []

    def open(self, app: Flask, request: Request) -> Any:
        return self

    def __contains__(self, key: object) -> bool:
        self.asked.append(key)
        return False


def test_the_holder_is_asked_about_every_tracked_key_of_the_page() -> None:
    """docs/connectors.md: what ``open()`` returned is asked about every tracked key of the
    page, those past the link budget too."""
    connector = AskedKeys()
    client = edge_app(connector, FIREHOSE_LINK_BUDGET=len(link("/a.css"))).test_client()
    assert links(page(client, "/a.css", "/b.css", "/c.css")) == [link("/a.css")]
    assert connector.asked == ["/a.css", "/b.css", "/c.css"]


class Lazy:
    """open() returns an iterator over its store, as a ``map`` over a Redis reply would."""

    def __init__(self) -> None:
        self.store: list[str] = []
        self.saved_with: list[Any] = []

    def open(self, app: Flask, request: Request) -> Any:
        return iter(self.store)

    def save(self, app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        self.saved_with.append(held)
        self.store.extend(pushed)


def test_an_open_returning_an_iterator_is_read_once_into_a_set() -> None:
    """The first ``in`` used the iterator up: a held key past it was offered again."""
    connector = Lazy()
    client = edge_app(connector).test_client()
    page(client, "/b.css")
    response = page(client, "/a.css", "/b.css")
    assert links(response) == [link("/a.css"), nopush("/b.css")]
    assert links(page(client, "/a.css", "/b.css")) == [nopush("/a.css"), nopush("/b.css")]
    # save() is given what was asked: the second visit's iterator, read.
    assert connector.saved_with[1] == frozenset({"/b.css"})


class Scan:
    """A store's reply that can be iterated again and again, and so asked ``in``, but is no
    container: its connector's save() reads its own attribute."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)


class Scanned:
    def __init__(self) -> None:
        self.store: list[str] = []

    def open(self, app: Flask, request: Request) -> Any:
        return Scan(self.store)

    def save(self, app: Flask, response: Response, held: Any, pushed: Any, reused: Any) -> None:
        held.keys.extend(pushed)  # an AttributeError when handed a frozenset copy


def test_an_iterable_open_returns_is_handed_to_save_as_it_is() -> None:
    """It was read into a frozenset, and save(), given the copy, failed on every request."""
    connector = Scanned()
    client = edge_app(connector).test_client()
    assert links(page(client, "/a.css")) == [link("/a.css")]
    assert connector.store == ["/a.css"]
    assert links(page(client, "/a.css", "/b.css")) == [nopush("/a.css"), link("/b.css")]


class Either:
    """What a client holds in its cookie or in a service worker's precache."""

    def __init__(self, *holders: Container[str]) -> None:
        self.holders = holders

    def __contains__(self, key: object) -> bool:
        return any(key in holder for holder in self.holders)


class WithPrecache(DigestConnector):
    def open(self, app: Flask, request: Request) -> Any:
        return Either(super().open(app, request) or frozenset(), {"/sw.js"})


def test_a_digest_connector_handed_another_holder_fails_loudly_and_keeps_the_cookie(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A subclass wrapping open()'s answer: save() started from an empty digest and wrote a
    cookie holding that page alone, so the pages before it were pushed again."""
    before = edge_app().test_client()
    page(before, "/a.css")
    assert held_now(before, "/a.css") == [True]
    client = edge_app(WithPrecache()).test_client()
    cookie = before.get_cookie(COOKIE)
    assert cookie is not None
    client.set_cookie(COOKIE, cookie.value)
    response = page(client, "/a.css", "/b.css")
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]  # nothing recorded
    assert "Set-Cookie" not in response.headers  # the cookie holding /a.css is kept
    assert "WithPrecache(capacity=None" in caplog.text
    assert "save() was given a Either" in caplog.text


# --- configuration -----------------------------------------------------------------------

BAD_VALUES: dict[str, list[Any]] = {
    "FIREHOSE_ENABLED": [1, "yes", None],
    "FIREHOSE_ALREADY_PUSHED": ["skip", None, 1],
    "FIREHOSE_MAX_PUSHES": [-1, 1.5, True, "10", 10**6],
    "FIREHOSE_LINK_BUDGET": [-1, 1.5, "2k", 10**9],
    "FIREHOSE_HEADER_BUDGET": [-1, None, 10**12],
    "FIREHOSE_CAPACITY": [0, -5, 8193, 10**100, 2.0, True, "300"],
    "FIREHOSE_FP_RATE": [
        *(0, 1, -0.1, 1.5, float("nan"), float("inf"), 1e-307, 5e-324, "0.01"),
        10**400,  # past a float's range
    ],
    "FIREHOSE_ENCODING": ["GCS", "cuckoo", None],
    "FIREHOSE_COOKIE_NAME": ["", "a b", "a;b", None, "ä"],
    "FIREHOSE_MAX_AGE": [0, -1, 400 * 24 * 3600 + 1, 1.5, None],
    "FIREHOSE_DIGEST_VERSION": [None, True, 1.5, b"v1", "deploy-\udce9"],
    "FIREHOSE_EARLY_HINTS": ["on", 1, None],
    "FIREHOSE_EARLY_HINTS_CACHE": [0, -1, 1.5, None, 10**9],
}


@pytest.mark.parametrize(
    ("key", "value"), [(key, value) for key, values in BAD_VALUES.items() for value in values]
)
def test_a_value_that_cannot_work_is_refused_naming_its_key(key: str, value: Any) -> None:
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ValueError, match=key):
        Firehose(app)


def test_a_deploy_id_json_read_as_a_float_says_how_to_quote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A short git hash like 31e4072 is a float (inf) to from_prefixed_env's JSON: refused,
    as 31e4072 and 12e4567 would be one version, with what to write instead."""
    monkeypatch.setenv("FLASK_FIREHOSE_DIGEST_VERSION", "31e4072")
    app = Flask(__name__)
    app.config.from_prefixed_env()
    assert app.config["FIREHOSE_DIGEST_VERSION"] == float("inf")
    with pytest.raises(ValueError, match=r"FIREHOSE_DIGEST_VERSION.*got inf.*quote it as JSON"):
        Firehose(app)
    monkeypatch.setenv("FLASK_FIREHOSE_DIGEST_VERSION", '"31e4072"')
    app.config.from_prefixed_env()
    assert app.config["FIREHOSE_DIGEST_VERSION"] == "31e4072"
    Firehose(app)


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"FIREHOSE_FP_RATE": 1.5}, ["FIREHOSE_FP_RATE", "(0, 1)", "1.5"]),
        ({"FIREHOSE_ENCODING": "zip"}, ["FIREHOSE_ENCODING", "['bloom', 'gcs']", "'zip'"]),
        (
            {"FIREHOSE_ALREADY_PUSHED": "keep"},
            ["FIREHOSE_ALREADY_PUSHED", "['nopush', 'omit']", "'keep'"],
        ),
        ({"SESSION_COOKIE_DOMAIN": 123}, ["SESSION_COOKIE_DOMAIN", "a str", "123"]),
        ({"SESSION_COOKIE_SAMESITE": True}, ["SESSION_COOKIE_SAMESITE", "a str", "True"]),
        (
            {"SESSION_COOKIE_DOMAIN": "caf\udce9.example"},
            ["SESSION_COOKIE_DOMAIN", "UTF-8 cannot encode", "'caf\\udce9.example'"],
        ),
        (
            {"SESSION_COOKIE_PATH": "/" + "\u00e9" * 200},  # 6 bytes each, percent-encoded
            ["SESSION_COOKIE_PATH", "1201 bytes", "over 1024 bytes"],
        ),
    ],
    ids=["rate", "encoding", "already pushed", "domain", "samesite", "surrogate", "long path"],
)
def test_a_setting_init_app_refuses_is_said_with_its_key_its_value_and_what_is_taken(
    config: dict[str, Any], said: list[str]
) -> None:
    """Each refusal names, in order, the key, what is accepted (or why the value is not)
    and the value given; the words between are free."""
    pattern = "^" + ".*".join(map(re.escape, said))
    with pytest.raises(ValueError, match=pattern):
        edge_app(**config)


def test_a_samesite_werkzeug_refuses_is_said_in_werkzeugs_words_naming_the_key() -> None:
    with pytest.raises(ValueError) as werkzeugs:
        dump_cookie("c", samesite="Sometimes")
    with pytest.raises(ValueError) as refused:
        edge_app(SESSION_COOKIE_SAMESITE="Sometimes")
    assert str(refused.value) == f"SESSION_COOKIE_SAMESITE='Sometimes': {werkzeugs.value}"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("FIREHOSE_CAPACITY", 0, "FIREHOSE_CAPACITY must be an int in [1, 8192], got 0"),
        (
            "FIREHOSE_MAX_AGE",
            1.5,
            "FIREHOSE_MAX_AGE must be an int in [1, 34560000] seconds, or a timedelta within "
            "them, got 1.5",
        ),
        ("FIREHOSE_FP_RATE", None, "FIREHOSE_FP_RATE must be a number in (0, 1), got None"),
    ],
)
def test_a_number_not_given_as_a_str_gets_no_environment_hint(
    key: str, value: Any, message: str
) -> None:
    """Only a str can have come from the environment unread as JSON: a number set in code
    is refused as it is, with nothing about FLASK_ variables."""
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        (1234, """: quote it as JSON, FLASK_FIREHOSE_COOKIE_NAME='"1234"'"""),
        (12.5, """: quote it as JSON, FLASK_FIREHOSE_COOKIE_NAME='"12.5"'"""),
        ("a b", ""),
        (None, ""),
        (True, ""),
    ],
)
def test_only_a_cookie_name_read_as_a_number_says_how_to_quote_it(name: Any, hint: str) -> None:
    """from_prefixed_env reads a name of digits as a number: that one is told how to quote
    it. A str refused for its characters, None or a bool is not a name of digits, and is
    refused as it is, with nothing about FLASK_ variables."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE_COOKIE_NAME=name)
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    message = f"FIREHOSE_COOKIE_NAME must be a cookie-name token (RFC 6265), got {name!r}"
    if hint:
        message += "; from_prefixed_env reads a name of digits as a number" + hint
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("key", "written", "then", "meant"),
    [
        ("FIREHOSE_FP_RATE", ".01", "0.01", 0.01),  # not JSON: stays the str ".01"
        # The number written, not the default: FLASK_FIREHOSE_FP_RATE=0.01 was shown for .05.
        ("FIREHOSE_FP_RATE", ".05", "0.05", 0.05),
        ("FIREHOSE_CAPACITY", "+200", "200", 200),
        ("FIREHOSE_MAX_AGE", "86_400", "86400", 86400),
        # No number in it: the default, said to be one.
        ("FIREHOSE_CAPACITY", "3e2x", "300 (the default)", 300),
        ("FIREHOSE_FP_RATE", "nan", "0.01 (the default)", 0.01),
        ("FIREHOSE_COOKIE_NAME", "1234", '"1234"', "1234"),  # JSON: the int 1234
    ],
)
def test_a_value_from_the_environment_says_how_to_write_it(
    monkeypatch: pytest.MonkeyPatch, key: str, written: str, then: str, meant: object
) -> None:
    """Set as the error shows it, the value is taken, and is the one written if it was a
    number at all."""
    monkeypatch.setenv(f"FLASK_{key}", written)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    app.config.from_prefixed_env()
    with pytest.raises(ValueError, match=f"FLASK_{key}='?{re.escape(then)}'?(,|$)"):
        Firehose(app)
    monkeypatch.setenv(f"FLASK_{key}", then.removesuffix(" (the default)"))
    app.config.from_prefixed_env()
    Firehose(app)
    assert app.config[key] == meant


def test_a_number_past_a_float_from_the_environment_is_shown_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An int no float holds, not JSON as written: shown as the number it is (an
    OverflowError, not the ValueError, if measured as a float)."""
    monkeypatch.setenv("FLASK_FIREHOSE_CAPACITY", "+" + "9" * 400)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    app.config.from_prefixed_env()
    with pytest.raises(
        ValueError, match=f"write a JSON number: FLASK_FIREHOSE_CAPACITY={'9' * 400},"
    ):
        Firehose(app)


@pytest.mark.parametrize("written", ["True", "1", "yes", "on"])
def test_a_switch_from_the_environment_says_how_to_write_it(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """from_prefixed_env reads JSON: "True" stays a str and "1" is an int, both refused,
    with what to write; "true" is True."""
    monkeypatch.setenv("FLASK_FIREHOSE_EARLY_HINTS", written)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    app.config.from_prefixed_env()
    with pytest.raises(
        ValueError,
        match=r"FIREHOSE_EARLY_HINTS must be True or False.*FLASK_FIREHOSE_EARLY_HINTS=true",
    ):
        Firehose(app)
    monkeypatch.setenv("FLASK_FIREHOSE_EARLY_HINTS", "true")
    app.config.from_prefixed_env()
    Firehose(app)
    assert app.config["FIREHOSE_EARLY_HINTS"] is True


@pytest.mark.parametrize(
    "key",
    [
        "FIREHOSE_EARLY_HINTS",
        "FIREHOSE_ENABLED",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_PARTITIONED",
    ],
)
@pytest.mark.parametrize("written", ["False", "0", "no", "off", "", "n", "F", "None"])
def test_a_switch_turned_off_from_the_environment_is_told_to_write_false(
    monkeypatch: pytest.MonkeyPatch, key: str, written: str
) -> None:
    """FLASK_FIREHOSE_ENABLED=False was refused with FLASK_FIREHOSE_ENABLED=true as what
    to write: set as shown, it turned on what was meant to be off. The example says false
    for a value that means off (``n``, ``F`` and ``None`` too), for each switch it checks,
    and that value, set so, is False."""
    monkeypatch.setenv(f"FLASK_{key}", written)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    app.config.from_prefixed_env()
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    told = re.search(rf"write true or false: FLASK_{key}=(\w+)", str(refused.value))
    assert told is not None, str(refused.value)
    monkeypatch.setenv(f"FLASK_{key}", told[1])
    app.config.from_prefixed_env()
    Firehose(app)
    assert app.config[key] is False


@pytest.mark.parametrize("written", ["True", "T", "yes", "y", "On", "1"])
def test_a_switch_turned_on_from_the_environment_is_told_to_write_true(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """A value that means on, in each spelling strtobool reads as on, is shown the one
    spelling of it to write."""
    monkeypatch.setenv("FLASK_FIREHOSE_EARLY_HINTS", written)
    app = Flask(__name__)
    app.config.from_prefixed_env()
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    told = re.search(
        r"write true or false: FLASK_FIREHOSE_EARLY_HINTS=(\w+)(?! or)", str(refused.value)
    )
    assert told is not None and told[1] == "true", str(refused.value)


@pytest.mark.parametrize("written", ["disabled", "enabled", "maybe", "2"])
def test_a_switch_given_a_word_neither_on_nor_off_is_shown_both_to_write(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """FLASK_FIREHOSE_EARLY_HINTS=disabled was shown FLASK_FIREHOSE_EARLY_HINTS=true to
    write: copied, it turned on what the word meant to turn off. A word that is neither a
    spelling of on nor of off is shown both, for the user to choose."""
    monkeypatch.setenv("FLASK_FIREHOSE_EARLY_HINTS", written)
    app = Flask(__name__)
    app.config.from_prefixed_env()
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    assert (
        "write true or false: FLASK_FIREHOSE_EARLY_HINTS=true or FLASK_FIREHOSE_EARLY_HINTS=false"
        in str(refused.value)
    )


def test_a_switch_set_to_a_tuple_in_python_is_given_no_environment_hint() -> None:
    """``FIREHOSE_ENABLED = True,`` (a trailing comma) is a tuple, set in Python, which no
    environment variable gives: it is refused naming the key and the value, and nothing
    after them."""
    with pytest.raises(ValueError) as refused:
        edge_app(FIREHOSE_ENABLED=(True,))
    assert str(refused.value) == "FIREHOSE_ENABLED must be True or False, got (True,)"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("null", "false"),  # None, as a str "None" is: off
        ("1.0", "true or FLASK_FIREHOSE_ENABLED=false"),
        ("0.0", "true or FLASK_FIREHOSE_ENABLED=false"),
        ("[]", "true or FLASK_FIREHOSE_ENABLED=false"),
        ("{}", "true or FLASK_FIREHOSE_ENABLED=false"),
    ],
)
def test_a_switch_given_any_json_value_is_told_how_to_write_it(
    monkeypatch: pytest.MonkeyPatch, written: str, shown: str
) -> None:
    """from_prefixed_env reads JSON: FLASK_FIREHOSE_ENABLED=null, 1.0, [] or {} was
    refused as "must be True or False, got None" with nothing of what to write, where a
    str or an int was told. Each JSON value is told, null as off (as "None" is)."""
    monkeypatch.setenv("FLASK_FIREHOSE_ENABLED", written)
    app = Flask(__name__)
    app.config.from_prefixed_env()
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    got = app.config["FIREHOSE_ENABLED"]
    assert str(refused.value) == (
        f"FIREHOSE_ENABLED must be True or False, got {got!r}; in the environment write true "
        f"or false: FLASK_FIREHOSE_ENABLED={shown}"
    )


@pytest.mark.parametrize(
    ("key", "written", "told"),
    [
        # bool("false") is True: a switch is compared, not converted.
        ("FIREHOSE_EARLY_HINTS", "false", 'compare it, == "true"'),
        ("FIREHOSE_MAX_AGE", "3600", "convert it"),
        ("FIREHOSE_FP_RATE", "0.01", "convert it"),
    ],
)
def test_a_value_read_from_os_environ_by_hand_says_to_convert_it(
    monkeypatch: pytest.MonkeyPatch, key: str, written: str, told: str
) -> None:
    """A Config class that reads the environment itself, as the Flask Mega-Tutorial's
    does (``FIREHOSE_EARLY_HINTS = os.environ.get("FIREHOSE_EARLY_HINTS")``), gets the str
    as written. The error named only the FLASK_ variable, which such an app never reads:
    set as told, it turned 103s off with no error. It says to convert the str too."""
    monkeypatch.setenv(key, written)

    class Config:
        SECRET_KEY = "edges"

    setattr(Config, key, os.environ.get(key))
    app = Flask(__name__)
    app.config.from_object(Config)
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    assert f"FLASK_{key}=" in str(refused.value)
    assert str(refused.value).endswith(
        "read by app.config.from_prefixed_env(); a value read from os.environ by hand is a "
        f"str: {told}"
    )


def test_a_secret_key_of_digits_from_the_environment_says_how_to_quote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "20261202")
    app = Flask(__name__)
    app.config.from_prefixed_env()
    with pytest.raises(ValueError, match=r"SECRET_KEY must be a str or bytes, got int.*'\"123\"'"):
        Firehose(app)
    monkeypatch.setenv("FLASK_SECRET_KEY", '"20261202"')
    app.config.from_prefixed_env()
    Firehose(app)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (True, "SECRET_KEY must be a str or bytes, got bool"),
        (["k"], "SECRET_KEY must be a str or bytes, got list"),
        (
            20261202,
            "SECRET_KEY must be a str or bytes, got int: in the environment quote a key of "
            """digits as JSON, FLASK_SECRET_KEY='"123"'""",
        ),
        ("k\udcff", "SECRET_KEY holds a character UTF-8 cannot encode (a lone surrogate)"),
    ],
    ids=["bool", "list", "int", "lone surrogate"],
)
def test_a_secret_key_that_cannot_sign_is_refused_with_what_it_is(
    key: object, message: str
) -> None:
    """The hint on quoting digits is for a number alone (``FLASK_SECRET_KEY=true`` is a
    bool, no number); a str that UTF-8 cannot encode is named as such, not as no str."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = key
    with pytest.raises(ValueError) as refused:
        Firehose(app)
    assert str(refused.value) == message


def test_a_secret_key_and_fallbacks_of_bytes_sign_and_verify_the_digest() -> None:
    """Flask's own docs make the key bytes (``secrets.token_bytes()``): the digest is
    signed with it, and a digest signed with an old bytes key is still read."""
    old = edge_app(SECRET_KEY=b"\x8f old key").test_client()
    assert links(page(old, "/a.css")) == [link("/a.css")]
    assert links(page(old, "/a.css")) == [nopush("/a.css")]
    cookie = old.get_cookie(COOKIE)
    assert cookie is not None
    rotated = edge_app(SECRET_KEY=b"\x8f new key", SECRET_KEY_FALLBACKS=[b"\x8f old key"])
    client = rotated.test_client()
    client.set_cookie(COOKIE, cookie.value)
    assert links(page(client, "/a.css", "/b.css")) == [nopush("/a.css"), link("/b.css")]


def test_a_numeric_deploy_id_is_a_digest_version() -> None:
    """``FLASK_FIREHOSE_DIGEST_VERSION=20240611`` is an int once from_prefixed_env read it:
    the same version as the str."""
    cookies = []
    for version in (20240611, "20240611"):
        app = build_app(FIREHOSE_DIGEST_VERSION=version)
        client = app.test_client()
        client.get("/")
        cookies.append(client.get_cookie("h2-digest"))
    number, text = cookies
    assert number is not None and text is not None
    reader = build_app(FIREHOSE_DIGEST_VERSION="20240611").test_client()
    reader.set_cookie("h2-digest", number.value)
    assert reader.get("/").headers["Link"] == EXPECTED_RETURN


@pytest.mark.parametrize("path", ["/", "/shop"])
def test_a_false_session_cookie_domain_signs_as_none(path: str) -> None:
    """One host-only cookie, one salt: an app leaving Flask < 2.3's False for None keeps
    its clients' digests (a review)."""
    written = {}
    for domain in (None, False, ""):
        client = edge_app(SESSION_COOKIE_DOMAIN=domain, APPLICATION_ROOT=path).test_client()
        page(client, "/a.css")
        cookie = client.get_cookie(COOKIE, path=path)
        assert cookie is not None
        written[domain] = cookie.value
    reader = edge_app(APPLICATION_ROOT=path).test_client(use_cookies=False)
    for value in written.values():
        response = reader.get("/page?u=/a.css", headers={"Cookie": f"{COOKIE}={value}"})
        assert links(response) == [nopush("/a.css")]


@pytest.mark.parametrize("domain", [False, ""])
def test_a_false_session_cookie_domain_is_a_host_only_cookie(domain: object) -> None:
    """As Flask writes its session cookie: no Domain. ``False`` is how Flask before 2.3
    turned off its ``SERVER_NAME`` fallback; ``init_app`` refused it (a stranger's hunt)."""
    client = edge_app(SESSION_COOKIE_DOMAIN=domain).test_client()
    response = page(client, "/a.css")
    assert links(response) == [link("/a.css")]
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith(f"{COOKIE}=")
    assert "domain" not in cookies[0].lower()
    assert links(page(client, "/a.css")) == [nopush("/a.css")]


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"FIREHOSE_COOKIE_NAME": "__Secure-digest"}, "FIREHOSE_COOKIE_NAME"),
        ({"FIREHOSE_COOKIE_NAME": "__Host-digest"}, "FIREHOSE_COOKIE_NAME"),
        (
            {
                "FIREHOSE_COOKIE_NAME": "__Host-digest",
                "SESSION_COOKIE_SECURE": True,
                "SESSION_COOKIE_DOMAIN": "example.com",
            },
            "FIREHOSE_COOKIE_NAME",
        ),
        # A __Host- cookie's Path must be "/", whether set or read from APPLICATION_ROOT.
        *[
            (
                {
                    "FIREHOSE_COOKIE_NAME": "__Host-digest",
                    "SESSION_COOKIE_SECURE": True,
                    path_key: "/app",
                },
                "FIREHOSE_COOKIE_NAME",
            )
            for path_key in ("SESSION_COOKIE_PATH", "APPLICATION_ROOT")
        ],
        ({"SESSION_COOKIE_SAMESITE": "None"}, "SESSION_COOKIE_SAMESITE"),
        ({"SESSION_COOKIE_DOMAIN": 123}, "SESSION_COOKIE_DOMAIN"),
        ({"SESSION_COOKIE_SAMESITE": True}, "SESSION_COOKIE_SAMESITE"),
        ({"SESSION_COOKIE_PATH": 1}, "SESSION_COOKIE_PATH"),
        # Any Path not starting with "/" is scoped by browsers to the page's folder.
        ({"SESSION_COOKIE_PATH": "app"}, "SESSION_COOKIE_PATH"),
        ({"APPLICATION_ROOT": ""}, "APPLICATION_ROOT"),
        ({"APPLICATION_ROOT": None}, "APPLICATION_ROOT"),
        # Browsers ignore an attribute value over 1024 bytes, and scope the cookie without it.
        ({"SESSION_COOKIE_PATH": "/" + "p" * 1024}, "SESSION_COOKIE_PATH .* is 1025 bytes"),
        # Past what a whole cookie may be: said as this error, not Werkzeug's size warning.
        ({"SESSION_COOKIE_PATH": "/" + "p" * 5000}, "SESSION_COOKIE_PATH .* is 5001 bytes"),
        # Percent-encoded as written: 205 "é" are 1,231 bytes.
        (
            {"SESSION_COOKIE_PATH": "/" + "\u00e9" * 205, "FIREHOSE_CAPACITY": 10},
            "SESSION_COOKIE_PATH .* is 1231 bytes",
        ),
        ({"SESSION_COOKIE_DOMAIN": ("a" * 63 + ".") * 16 + "com"}, "SESSION_COOKIE_DOMAIN is"),
        # A name that leaves no room for any digest is named, not only FIREHOSE_CAPACITY.
        ({"FIREHOSE_COOKIE_NAME": "n" * 4000}, "FIREHOSE_COOKIE_NAME"),
        # Werkzeug writes Secure (or HttpOnly, Partitioned) for any true value.
        ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_SECURE": 0}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_HTTPONLY": "no"}, "SESSION_COOKIE_HTTPONLY"),
        ({"SESSION_COOKIE_PARTITIONED": "yes"}, "SESSION_COOKIE_PARTITIONED"),
        ({"SECRET_KEY": "k\udcff"}, "SECRET_KEY"),
        ({"SECRET_KEY_FALLBACKS": ["old\udcff"]}, "SECRET_KEY_FALLBACKS"),
    ],
)
def test_a_cookie_browsers_refuse_or_cannot_be_signed_is_refused(
    config: dict[str, Any], named: str
) -> None:
    """A digest cookie browsers drop never comes back: every page would push everything,
    every time. A wrong type here or a key that cannot sign failed later, not naming it."""
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", **config})
    with pytest.raises(ValueError, match=named):
        Firehose(app)


@pytest.mark.parametrize("name", ["__Secure-digest", "__secure-Digest"])
def test_a_secure_prefixed_cookie_name_is_refused_saying_what_it_needs(name: str) -> None:
    """RFC 6265bis §4.1.3: browsers refuse a ``__Secure-`` cookie (in any case) that is not
    Secure. The refusal names the cookie name and the key that makes it Secure; with that
    key (or a Partitioned cookie, which Werkzeug makes Secure) it is taken."""
    with pytest.raises(ValueError) as refused:
        edge_app(FIREHOSE_COOKIE_NAME=name)
    assert str(refused.value) == (
        f"FIREHOSE_COOKIE_NAME={name!r} needs SESSION_COOKIE_SECURE: browsers refuse it"
    )
    edge_app(FIREHOSE_COOKIE_NAME=name, SESSION_COOKIE_SECURE=True)
    edge_app(FIREHOSE_COOKIE_NAME=name, SESSION_COOKIE_PARTITIONED=True)


@pytest.mark.parametrize("samesite", ["None", "none"])
def test_a_samesite_none_cookie_not_secure_is_refused_saying_what_it_needs(samesite: str) -> None:
    """Chrome and Firefox refuse ``SameSite=None`` (in any case) without Secure: the refusal
    opens with the key and its value as the app wrote it, then the key that makes it Secure;
    with that key (or a Partitioned cookie, which Werkzeug makes Secure) it is taken."""
    with pytest.raises(ValueError) as refused:
        edge_app(SESSION_COOKIE_SAMESITE=samesite)
    assert str(refused.value).startswith(
        f"SESSION_COOKIE_SAMESITE={samesite!r} needs SESSION_COOKIE_SECURE:"
    ), refused.value
    edge_app(SESSION_COOKIE_SAMESITE=samesite, SESSION_COOKIE_SECURE=True)
    edge_app(SESSION_COOKIE_SAMESITE=samesite, SESSION_COOKIE_PARTITIONED=True)


@pytest.mark.parametrize(
    "root",
    [1, ["/shop"], "/" + "p" * 1024, "/caf\udce9"],
    ids=["int", "list", "long", "surrogate"],
)
def test_a_bad_application_root_is_named_when_it_is_the_cookie_s_path(root: object) -> None:
    """Flask's session interface reads the cookie's Path from APPLICATION_ROOT when
    SESSION_COOKIE_PATH is unset: a wrong type, an over-long or an unencodable root was
    refused naming SESSION_COOKIE_PATH alone, a key the app never set."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", APPLICATION_ROOT=root)
    with pytest.raises(ValueError, match="APPLICATION_ROOT"):
        Firehose(app)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SESSION_COOKIE_PATH", "/caf\udce9"),
        ("SESSION_COOKIE_DOMAIN", "caf\udce9.test"),
    ],
)
def test_a_cookie_attribute_utf_8_cannot_encode_is_refused_naming_its_key(
    key: str, value: str
) -> None:
    """An undecodable byte in the environment (``FLASK_SESSION_COOKIE_PATH=/café`` saved
    as Latin-1, read in a UTF-8 locale) is a lone surrogate: init_app raised
    UnicodeEncodeError, "'utf-8' codec can't encode character", naming no key."""
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", key: value})
    with pytest.raises(ValueError, match=rf"{key}.*{re.escape(repr(value))}"):
        Firehose(app)


@pytest.mark.parametrize(
    "config",
    [
        {"FIREHOSE_COOKIE_NAME": "__Secure-digest", "SESSION_COOKIE_SECURE": True},
        {"FIREHOSE_COOKIE_NAME": "__Host-digest", "SESSION_COOKIE_SECURE": True},
        {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True},
        {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_PARTITIONED": True},
        # At the bound: browsers keep an attribute value of 1024 bytes.
        {"SESSION_COOKIE_PATH": "/" + "p" * 1023, "FIREHOSE_CAPACITY": 10},
    ],
)
def test_a_cookie_browsers_keep_is_accepted(config: dict[str, Any]) -> None:
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "k", **config})
    Firehose(app)


@pytest.mark.parametrize("samesite", ["Strict", "strict"])
def test_the_digest_is_lax_where_the_session_is_strict(samesite: str) -> None:
    """A browser sends no Strict cookie on a navigation from another site but keeps the one
    its response sets (RFC 6265bis §5.7): a Strict digest, empty on that visit, would be
    replaced by one holding that page alone. The session keeps its own SameSite."""
    app = build_app(SESSION_COOKIE_SAMESITE=samesite)

    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        return "in"

    client = app.test_client()
    digest = SimpleCookie(client.get("/").headers["Set-Cookie"])["h2-digest"]
    session_cookie = SimpleCookie(client.get("/login").headers["Set-Cookie"])["session"]
    assert digest["samesite"] == "Lax"
    assert session_cookie["samesite"] == "Strict"  # as Werkzeug writes it


def test_every_key_has_bad_values_tested() -> None:
    assert set(BAD_VALUES) == set(DEFAULTS)


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
)


@given(key=st.sampled_from(sorted(DEFAULTS)), value=ANY_VALUE)
def test_any_value_either_works_or_is_refused_naming_its_key(key: str, value: Any) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    app.config[key] = value
    try:
        Firehose(app)
    except ValueError as e:
        assert key in str(e)
        return
    app.test_client().get("/")  # a configuration that was accepted serves


# --- the cookie, read as Werkzeug reads it (a comma as a semicolon) ------------------------

FRAMINGS = [
    "{c}={v}",
    "{c}={v}; theme=dark",
    "session=abc; {c}={v}",
    '{c}="{v}"',
    "a=1,{c}={v}",
    "flag; {c}={v}",
    "{c} = {v}",
    "{c}={v};",
    "{c}={v} ; b=2",
    "\t{c}={v}",
    "x-{c}=nope; {c}={v}",
    "x{c}={v}",
    "{c}=; {c}={v}",
    "{c}={v}; {c}=garbage",
    "{c}=garbage; {c}={v}",
    "H2-DIGEST={v}",
    "{c}={v}x",
    '{c}="{v}',
]


def werkzeug_reads(header: str) -> list[str]:
    """Every value Werkzeug reads for the digest's name, in the order sent."""
    environ = EnvironBuilder(headers=[("Cookie", header)]).get_environ()
    return WerkzeugRequest(environ).cookies.getlist(COOKIE)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_the_cookie_is_read_as_werkzeug_reads_it_a_comma_as_a_semicolon(framing: str) -> None:
    """No cookie value holds a "," (RFC 6265 §4.1.1), and gunicorn joins repeated HTTP/1.1
    ``Cookie`` lines with one: a "," is read as the ";" it stands for."""
    issuer = build_app().test_client()
    issuer.get("/")
    cookie = issuer.get_cookie(COOKIE)
    assert cookie is not None
    header = framing.format(c=COOKIE, v=cookie.value)
    read = werkzeug_reads(header.replace(",", ";"))
    expected = EXPECTED_RETURN if cookie.value in read else EXPECTED_FIRST
    response = build_app().test_client(use_cookies=False).get("/", headers={"Cookie": header})
    assert response.headers["Link"] == expected


def test_the_framing_table_has_both_outcomes() -> None:
    """Otherwise the table above could not tell a reader that finds nothing from Werkzeug."""
    value = "v.a.b"
    found = [value in werkzeug_reads(f.format(c=COOKIE, v=value)) for f in FRAMINGS]
    assert any(found)
    assert not all(found)
    # Sent twice, either value is read (the one that verifies, below).
    assert werkzeug_reads(f"{COOKIE}=x; {COOKIE}={value}") == ["x", value]


@pytest.mark.parametrize("newer_first", [False, True], ids=["older first", "newer first"])
def test_of_two_digest_cookies_the_one_signed_last_is_read(
    monkeypatch: pytest.MonkeyPatch, newer_first: bool
) -> None:
    """After a deploy changes the cookie's domain (or path), a browser keeps the old
    cookie beside the new and sends both, the older first for equal paths (RFC 6265 §5.4),
    the newer first when its path is longer: what was recorded
    since the change is read, so it is not pushed on every visit."""
    app = edge_app()
    client = app.test_client()
    now = 1_800_000_000.0
    monkeypatch.setattr("time.time", lambda: now)
    client.get("/page?u=/a.css")
    older = client.get_cookie(COOKIE)
    now += 5
    client.get("/page?u=/a.css&u=/b.css")
    newer = client.get_cookie(COOKIE)
    assert older is not None and newer is not None and older.value != newer.value
    values = [newer.value, older.value] if newer_first else [older.value, newer.value]
    header = "; ".join(f"{COOKIE}={value}" for value in values)
    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css&u=/b.css", headers={"Cookie": header}
    )
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]
    assert "Set-Cookie" not in response.headers


def test_of_two_digest_cookies_signed_alike_the_one_sent_last_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signed in the same second (whole seconds are all a value carries), the one a
    browser sends last is the newer (RFC 6265 §5.4, equal paths: earlier created first)."""
    app = edge_app()
    monkeypatch.setattr("time.time", lambda: 1_800_000_000.0)
    first, second = app.test_client(), app.test_client()
    first.get("/page?u=/a.css")
    second.get("/page?u=/b.css")
    a, b = first.get_cookie(COOKIE), second.get_cookie(COOKIE)
    assert a is not None and b is not None
    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css&u=/b.css", headers={"Cookie": f"{COOKIE}={a.value}; {COOKIE}={b.value}"}
    )
    assert links(response) == [link("/a.css"), nopush("/b.css")]


@pytest.mark.parametrize("bad", ["garbage", "", "expired"])
def test_a_bad_second_digest_cookie_leaves_the_good_one_read(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    app = edge_app()
    now = 1_800_000_000.0
    monkeypatch.setattr("time.time", lambda: now)
    if bad == "expired":
        old = app.test_client()
        old.get("/page?u=/b.css")
        expired = old.get_cookie(COOKIE)
        assert expired is not None
        bad = expired.value
        now += app.config["FIREHOSE_MAX_AGE"] + 1
    client = app.test_client()
    client.get("/page?u=/a.css")
    good = client.get_cookie(COOKIE)
    assert good is not None
    for header in (
        f"{COOKIE}={bad}; {COOKIE}={good.value}",
        f"{COOKIE}={good.value}; {COOKIE}={bad}",
    ):
        response = app.test_client(use_cookies=False).get(
            "/page?u=/a.css&u=/b.css", headers={"Cookie": header}
        )
        assert links(response) == [nopush("/a.css"), link("/b.css")]


@pytest.mark.parametrize(
    ("reader", "after", "held"),
    [("another worker", 10.0, True), ("same worker", 0.5, True), ("same worker", 1.0, False)],
    ids=["decoded here", "just before expiry", "at expiry"],
)
def test_a_copy_beside_a_bad_one_is_read_until_exactly_its_expiry(
    monkeypatch: pytest.MonkeyPatch, reader: str, after: float, held: bool
) -> None:
    """Beside a bad copy, the good one is read: decoded here when another worker (an app
    of the same config) signed it, from the cache when this one did. A value is good while
    the clock is before issued + FIREHOSE_MAX_AGE + 1 (itsdangerous's whole seconds), as a
    lone cookie is; at that very time it has expired, and the client, holding nothing, is
    pushed to and recorded anew rather than left unrecorded. What it lacks is pushed."""
    now = 1_800_000_000.0
    monkeypatch.setattr("time.time", lambda: now)
    signer = edge_app()
    signing = signer.test_client()
    signing.get("/page?u=/a.css")
    signed = signing.get_cookie(COOKIE)
    assert signed is not None
    app = edge_app() if reader == "another worker" else signer
    max_age = app.config["FIREHOSE_MAX_AGE"]
    now += after if reader == "another worker" else max_age + after

    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css&u=/b.css",
        headers={"Cookie": f"{COOKIE}=garbage; {COOKIE}={signed.value}"},
    )

    assert links(response) == [nopush("/a.css") if held else link("/a.css"), link("/b.css")]
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=")


def test_a_copy_that_expires_as_it_is_verified_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beside a bad copy, a good one signed by another worker, verified in the last
    second of its lifetime, and the clock ticks past it before it is read: it has expired,
    so the client holds nothing and is pushed to and recorded anew, as a lone cookie
    expired by then would be (and not left unrecorded)."""
    clock = [1_800_000_000.0]
    monkeypatch.setattr("time.time", lambda: clock[0])
    signing = edge_app().test_client()
    signing.get("/page?u=/a.css")
    signed = signing.get_cookie(COOKIE)
    assert signed is not None
    app = edge_app()
    clock[0] += app.config["FIREHOSE_MAX_AGE"] + 0.9  # its last second
    loads = DigestCodec.loads

    def loads_then_tick(self: DigestCodec, value: str, now: float | None = None) -> Any:
        verified = loads(self, value, now)
        clock[0] += 0.2  # past issued + FIREHOSE_MAX_AGE + 1
        return verified

    monkeypatch.setattr(DigestCodec, "loads", loads_then_tick)
    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css&u=/b.css",
        headers={"Cookie": f"{COOKIE}=garbage; {COOKIE}={signed.value}"},
    )
    assert links(response) == [link("/a.css"), link("/b.css")]
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=")


def counting_app() -> Flask:
    """``/``: a page that pushes a stylesheet and counts its visits in Flask's session; its
    ``X-Visits`` and ``X-Theme`` headers say the count and the ``theme`` cookie read."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    Firehose(app)

    @app.route("/")
    def index() -> tuple[str, dict[str, str]]:
        push("/a.css", as_="style")
        session["visits"] = session.get("visits", 0) + 1
        theme = request.cookies.get("theme", "")
        return "page", {"X-Visits": str(session["visits"]), "X-Theme": theme}

    return app


def first_visit_cookies(app: Flask) -> tuple[str, str]:
    """The digest and the session cookie a first visit of ``counting_app`` sets."""
    jar = app.test_client()
    jar.get("/")
    digest, flask_session = jar.get_cookie(COOKIE), jar.get_cookie("session")
    assert digest is not None and flask_session is not None
    return digest.value, flask_session.value


@pytest.mark.parametrize("protocol", ["HTTP/2", "HTTP/2.0", "HTTP/3"])
def test_cookie_fields_an_asgi_wrapper_joined_with_commas_are_read_by_flask_too(
    protocol: str,
) -> None:
    """An ASGI wrapper (a2wsgi, asgiref's WsgiToAsgi) under an HTTP/2 server joins a
    browser's cookie fields with ",": Werkzeug read ``h2-digest=...,session=...`` as one
    cookie, and Flask's session was lost on every request once our cookie sat beside it
    (granian and uvicorn, measured; tests/integration/test_wsgi_servers.py). They are
    joined again with "; ", as RFC 9113 §8.2.3 asks, before the app reads them; a quoted
    value's own "," stays."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f'{COOKIE}={digest},theme="a,b",session={flask_session}'

    response = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": header}, environ_overrides={"SERVER_PROTOCOL": protocol}
    )

    assert response.headers["X-Visits"] == "2"
    assert response.headers["X-Theme"] == "a,b"
    assert links(response) == [nopush("/a.css")]


def test_a_comma_in_an_http11_cookie_header_is_left_to_the_app() -> None:
    """Over HTTP/1.1 a browser sends one ``Cookie`` line, joined with "; ": a "," there is
    the client's own, and what the app reads is left as Werkzeug reads it (only the
    digest is found through it)."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f"{COOKIE}={digest},session={flask_session}"

    response = app.test_client(use_cookies=False).get("/", headers={"Cookie": header})

    assert response.headers["X-Visits"] == "1"
    assert links(response) == [nopush("/a.css")]


def test_a_cookie_header_a_server_joined_right_on_http2_is_left_to_the_app() -> None:
    """An HTTP/2 server that joins a browser's cookie fields with "; " itself (gunicorn's
    own HTTP/2, hypercorn, granian's WSGI interface; SERVER_PROTOCOL ``HTTP/2.0``) hands
    no "," of its own: a "," there is inside a cookie's value
    (``theme=a=1,b=2``, as a page's script wrote it), and Werkzeug reads it as the app's.
    The rejoin ran on the protocol alone and split that value: ``theme`` read ``a=1``."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f"theme=a=1,b=2; {COOKIE}={digest}; session={flask_session}"

    response = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": header}, environ_overrides={"SERVER_PROTOCOL": "HTTP/2.0"}
    )

    assert response.headers["X-Theme"] == "a=1,b=2"
    assert response.headers["X-Visits"] == "2"


def test_a_quoted_value_s_comma_before_a_name_stays_when_fields_are_rejoined() -> None:
    """docs/deployment.md: "at each `,` followed by a cookie name and `=`, outside quotes".
    ``_COMMA_JOIN`` does not know quotes: ``theme="a=1,b=2"`` in fields an ASGI wrapper
    joined with "," was read as ``a=1; b=2``."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f'{COOKIE}={digest},theme="a=1,b=2",session={flask_session}'

    response = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": header}, environ_overrides={"SERVER_PROTOCOL": "HTTP/2"}
    )

    assert response.headers["X-Theme"] == "a=1,b=2"
    assert response.headers["X-Visits"] == "2"


def test_a_quote_inside_a_value_hides_no_comma_when_fields_are_rejoined() -> None:
    """Werkzeug reads a quoted value only where a value begins, right after its "=": a
    quote inside one (``size=24"``, a search a page's script kept) is a character of it.
    The rejoin took any quote for one opening a quoted value, so with another quote after
    it (a quoted value, or a second such cookie) every "," between them was hidden: over
    HTTP/2 under an ASGI wrapper, the session sent between them was lost on every
    request."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f'size=24",{COOKIE}={digest},session={flask_session},theme="a,b"'

    response = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": header}, environ_overrides={"SERVER_PROTOCOL": "HTTP/2"}
    )

    assert response.headers["X-Visits"] == "2"
    assert response.headers["X-Theme"] == "a,b"
    assert links(response) == [nopush("/a.css")]


def test_a_cookie_name_with_a_space_is_split_before_when_fields_are_rejoined() -> None:
    """Browsers keep a space inside a cookie's name (Firefox 44.0.1 put it back "for
    interoperability"; Chromium too), and send ``my pref=1`` as a script wrote it. The
    rejoin split only before a name without one, so the cookie before it kept ",my pref=1"
    in its value: where that was Flask's session, over HTTP/2 under an ASGI wrapper, the
    session was lost on every request. Splitting there costs no value Werkzeug reads: an
    unquoted value holding a space is none."""
    app = counting_app()
    digest, flask_session = first_visit_cookies(app)
    header = f"{COOKIE}={digest},session={flask_session},my pref=1,theme=dark"

    response = app.test_client(use_cookies=False).get(
        "/", headers={"Cookie": header}, environ_overrides={"SERVER_PROTOCOL": "HTTP/2"}
    )

    assert response.headers["X-Visits"] == "2"
    assert response.headers["X-Theme"] == "dark"
    assert links(response) == [nopush("/a.css")]


@pytest.mark.parametrize(
    ("header", "read"),
    [
        ("a=1,b=2", "a=1; b=2"),
        ("a=1,my b =2, c=3", "a=1; my b =2; c=3"),  # a name a browser keeps, its space too
        ("a=1, cart[id]=3", "a=1; cart[id]=3"),
        ('a="x,y=1",b=2', 'a="x,y=1"; b=2'),
        ('a = "x,y=1",b=2', 'a = "x,y=1"; b=2'),  # Werkzeug reads spaces around "="
        ('a=x"y,b=1,c="q"', 'a=x"y; b=1; c="q"'),  # a quote inside a value opens nothing
        ("a=1,2", "a=1,2"),  # no name and "=" after the ","
        ("a=x,y=1; b=2", "a=x,y=1; b=2"),  # joined right: a value's own ","
        # The one case docs/deployment.md says cannot be told from two joined cookies.
        ("consent=ads=1,stats=0", "consent=ads=1; stats=0"),
    ],
)
def test_what_is_joined_again_on_http2(header: str, read: str) -> None:
    assert cookie_fields.rejoined(header) == read


#: A "," and what begins a cookie after it: inside a quoted value (``"a=1,b=2"``), it
#: makes the header that value's field and another joined with "," make alike, and which
#: fields they were is the rejoin's guess (one quoted value: see
#: :func:`test_a_quoted_value_and_fields_a_stray_quote_opened_read_alike_when_joined`).
#: The properties below ask of the fields no such guess tells apart.
_JOIN_INSIDE = re.compile(r',[ \t]*[^\x00-\x20\x7f;=,"][^\x00-\x08\x0a-\x1f\x7f;=,"]*=')

#: Cookie fields as browsers send them over HTTP/2, one a field: a name (a space inside
#: one, as browsers keep it), "=", and a token or a quoted value with "," "=" and escapes
#: in it; and values a page's script wrote, with stray quotes and backslashes. No ";": a
#: browser sends none in a field (RFC 6265 §4.1.1; ``document.cookie`` ends a value there),
#: and one outside a quoted value says a server joined the fields with "; " itself.
_COOKIE_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,4}( [a-z]{1,3})?", fullmatch=True)
_TOKENS = st.text(alphabet="abc019=.-_", max_size=5)
_QUOTED = (
    st.text(alphabet='ab ,=\\"', max_size=6)
    .map(lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    .filter(lambda value: not _JOIN_INSIDE.search(value))
)
_STRAY_QUOTES = st.text(alphabet='ab"=\\ ', min_size=1, max_size=5)


def _fields(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    field = st.tuples(_COOKIE_NAMES, values).map("=".join)
    return st.lists(field, min_size=2, max_size=4)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(_fields(st.one_of(_TOKENS, _QUOTED)))
def test_fields_joined_with_commas_read_as_joined_with_semicolons(fields: list[str]) -> None:
    """Every cookie Werkzeug reads in a browser's fields joined with "; " (what an HTTP/2
    server does) it reads, with the same values, once fields an ASGI wrapper joined with
    "," are joined again."""
    semicolons = parse_cookie("; ".join(fields))
    rejoined = parse_cookie(cookie_fields.rejoined(",".join(fields)))
    for name in semicolons:
        assert rejoined.getlist(name) == semicolons.getlist(name)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(
    _fields(st.one_of(_TOKENS, _QUOTED, _STRAY_QUOTES)),
    _fields(st.one_of(_TOKENS, _QUOTED, _STRAY_QUOTES)),
)
@example(['last_q="star wars'], ['theme="a,b"'])  # an opening quote a search box kept
@example(['filter=tag="new'], ['size=24"'])  # '="' inside a value
@example(['A="'], ['A=""'])
@example(['A="'], ['A=","'])  # a quote is closed only before a field or the end
def test_stray_quotes_beside_the_session_hide_it_from_no_rejoin(
    before: list[str], after: list[str]
) -> None:
    """A value a script wrote with a quote in it (``last_q="star wars``,
    ``filter=tag="new``) costs no cookie after it that Werkzeug reads in the same fields
    joined with "; ": the rejoin took a quote after any "=" for one opening a quoted
    value, and took it closed at the next quote, so Flask's session between two such
    values was lost on every request over HTTP/2 under an ASGI wrapper. (Which value a
    quote opened and a later field's quote closed holds is not asked: its fields joined
    with "," cannot be told from one quoted value holding that ",", and are read so.)"""
    fields = [*before, "session=V1.x", *after]
    semicolons = parse_cookie("; ".join(fields))
    rejoined = parse_cookie(cookie_fields.rejoined(",".join(fields)))
    assert rejoined.getlist("session") == semicolons.getlist("session")


def test_a_quoted_value_and_fields_a_stray_quote_opened_read_alike_when_joined() -> None:
    """What the property above leaves out: two lists of fields joined with "," alike,
    which Werkzeug reads apart joined with "; ". The rejoin reads a quoted value."""
    quoted = ['x="a,b=b"', "z=1"]
    stray = ['x="a', 'b=b"', "z=1"]
    assert ",".join(quoted) == ",".join(stray)
    assert parse_cookie("; ".join(stray))["x"] == "a; b=b"
    assert dict(parse_cookie(cookie_fields.rejoined(",".join(stray)))) == {"x": "a,b=b", "z": "1"}


# --- found in review: spellings, hook order, settings that only failed later -------------


def test_rel_and_nopush_are_read_in_any_case_and_written_as_every_proxy_reads_them() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/")
    def index() -> str:
        # Apache does not push rel=Preload, h2o not rel=" preload ": written rel=preload.
        push("/upper.css", as_="style", rel="Preload")
        push("/spaced.css", as_="style", rel=" preload ")
        push("/list.css", as_="style", rel="preload prefetch")  # h2o does not push it
        push("/flag.css", "NOPUSH", as_="style")
        push("/param.css", as_="style", nopush="no")  # nopush to h2o, not to nginx
        return "ok"

    Firehose(app)
    client = app.test_client()
    first = links(client.get("/"))
    assert first == [
        "</upper.css>; rel=preload; as=style",
        "</spaced.css>; rel=preload; as=style",
        '</list.css>; rel="preload prefetch"; as=style; nopush',
        "</flag.css>; rel=preload; as=style; NOPUSH",
        "</param.css>; rel=preload; as=style; nopush=no; nopush",
    ]
    urls = ("/upper.css", "/spaced.css", "/list.css", "/flag.css", "/param.css")
    assert held_now(client, *urls) == [True, True, False, False, False]
    assert links(client.get("/"))[0] == "</upper.css>; rel=preload; as=style; nopush"


@pytest.mark.parametrize(
    ("rel", "written"),
    [
        # An attribute written over two lines: HTML reads a lone preload, as it is written.
        ("preload\n", "</a.css>; rel=preload; as=style"),
        ("\tpreload\r\n", "</a.css>; rel=preload; as=style"),
        ("preload\f", "</a.css>; rel=preload; as=style"),
        # Several relations: their tokens as HTML reads them, one space between
        # (RFC 8288's relation-types), never pushed (h2o does not push them).
        ("preload prefetch\n", '</a.css>; rel="preload prefetch"; as=style; nopush'),
        (" preload\t\tprefetch ", '</a.css>; rel="preload prefetch"; as=style; nopush'),
        ("preload  Prefetch", '</a.css>; rel="preload Prefetch"; as=style; nopush'),
    ],
    ids=["newline", "tab and crlf", "form feed", "list over lines", "list spaced", "two spaces"],
)
def test_a_rel_is_read_as_html_reads_it_split_on_ascii_whitespace(rel: str, written: str) -> None:
    """HTML reads ``rel`` as a set of tokens split on ASCII whitespace (tab, LF, FF, CR,
    space): a template's attribute written over lines is the same relations. A list of
    them with a tab or a newline was a ValueError (a 500)."""
    app = edge_app()

    @app.route("/rel")
    def rel_page() -> str:
        return push("/a.css", as_="style", rel=rel)

    assert links(app.test_client().get("/rel")) == [written]


@pytest.mark.parametrize(
    "rel",
    ["", " ", "\n", "\t\r\n", Markup(" &#10;"), None, False],
    ids=["empty", "space", "newline", "tab and crlf", "markup of whitespace", "None", "False"],
)
def test_an_empty_rel_is_no_rel_and_the_link_a_preload(rel: Any) -> None:
    """A rel of no relations, ``""`` or ASCII whitespace alone, is none, as ``None`` and
    ``False`` leave it out: ``rel`` defaults to ``preload``. A template variable that
    defaults to ``""`` (``rel=link_rel``) is how it arrives, and ``push_static()`` and
    ``static_tag()`` read it so (test_static.py). ``push()`` wrote ``rel=""``, a link no
    browser preloads and no proxy pushes, where the call without it preloads the file."""
    app = edge_app()

    @app.route("/rel")
    def rel_page() -> str:
        return render_template_string("{{ push('/a.css', as='style', rel=rel) }}", rel=rel)

    @app.route("/flag")
    def flag_page() -> str:
        return push("/b.css", f"rel={rel}", as_="style")  # Flask-Firehose's spelling

    client = app.test_client()
    assert links(client.get("/rel")) == ["</a.css>; rel=preload; as=style"]
    assert held_now(client, "/a.css") == [True]
    if type(rel) is str:
        assert links(client.get("/flag")) == ["</b.css>; rel=preload; as=style"]


@pytest.mark.parametrize(
    "call", ["push('/a.css', as='css', rel=rel)", "push_static('a.css', as='css', rel=rel)"]
)
@pytest.mark.parametrize(
    "rel",
    [
        "preload\x1f",
        "preload\x0b",
        "preload\x1cprefetch",
        "preload\x85",
        "preload\xa0",
        "\u3000preload",
    ],
    ids=["unit separator", "vertical tab", "file separator", "next line", "nbsp", "ideographic"],
)
def test_a_rel_with_a_space_html_does_not_split_on_is_refused(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    rel: str,
    call: str,
) -> None:
    """``str.split()`` also splits on ``\\x0b``, ``\\x1c``-``\\x1f``, ``\\x85`` and
    Unicode's spaces: ``rel="preload\\x1f"`` was written ``rel=preload``, a lone preload a
    proxy pushed and the digest recorded, where a browser reading the same rel sees no
    preload (one token, ``preload\\x1f``). Split as HTML splits it, it is no lone
    preload, and its control or non-ASCII character is refused as any value's; its
    ``as`` is no preload's to tell of either."""
    monkeypatch.setattr(collect, "_told_as", set())  # as="css" not told yet
    (tmp_path / "a.css").write_text("body {}")
    app = Flask(__name__, static_folder=str(tmp_path))
    app.config["SECRET_KEY"] = "edges"
    app.testing = True  # the view's exception is raised to the test, not made a 500
    Firehose(app)

    @app.route("/rel")
    def rel_page() -> str:
        return render_template_string("{{ " + call + " }}", rel=rel)

    with (
        caplog.at_level(logging.WARNING, "firehose_digest"),
        pytest.raises(ValueError, match="'rel'"),
    ):
        app.test_client().get("/rel")
    assert caplog.messages == []


@pytest.mark.parametrize("client_headers", [{}, NAVIGATION], ids=["curl", "browser"])
@pytest.mark.parametrize("connector", ["gcs", "bloom", "session"])
def test_a_304_tells_a_cache_nothing_the_200_would_not(
    connector: str, client_headers: dict[str, str]
) -> None:
    """A shared cache revalidates its stored 200 for the next client that sends the same
    ``Cookie`` (none, for a fresh client), and merges the 304's header fields into what it
    stored (RFC 9111 §4.3.4; Apache's mod_cache does). The 304 to a fresh client carried
    our ``Link`` with every link ``nopush`` (no push on a 304) and no ``Vary: Cookie``:
    behind Apache with mod_cache_disk, each later fresh client was served the stored
    digest cookie, which records both files, beside a ``Link`` that pushed neither
    (tests/integration/test_shared_cache.py). A 304 must carry the 200's ``Vary``
    (RFC 9110 §15.4.5) and no ``Link`` but the 200's."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    app.config["FIREHOSE_ENCODING"] = "bloom" if connector == "bloom" else "gcs"

    @app.route("/")
    def index() -> Response:
        push("/a.css", as_="style")
        return revalidated_page({"Cache-Control": "public, no-cache"})

    Firehose(app, SessionConnector() if connector == "session" else None)
    # What a cache stores for clients with no cookie: a browser's too, whose page its
    # 304 is planned as (a 200 the browser shows).
    stored = app.test_client().get("/", headers=client_headers)
    assert stored.status_code == 200
    assert links(stored) == [link("/a.css")]
    revalidation = {**client_headers, "If-None-Match": '"v1"'}
    revalidated = app.test_client().get("/", headers=revalidation)
    assert revalidated.status_code == 304
    assert revalidated.headers.get("Link") in (None, stored.headers["Link"])
    assert revalidated.headers.getlist("Vary") == stored.headers.getlist("Vary")
    # Nothing held, nothing used again: no cookie for the copy stored for new clients.
    assert "Set-Cookie" not in revalidated.headers
    # A cache's HEAD updates the GET it stored too (RFC 9111 §4.3.5): a 304 to it as well.
    head = app.test_client().head("/", headers=revalidation)
    assert (head.status_code, head.headers.get("Link")) == (304, None)
    assert head.headers.getlist("Vary") == stored.headers.getlist("Vary")


@pytest.mark.parametrize(
    ("dest", "as_attachment", "frame_options"),
    [("document", True, None), ("iframe", False, "DENY")],
    ids=["downloaded", "refused as a frame"],
)
def test_a_304_of_a_document_the_browser_does_not_show_varies_as_its_200(
    tmp_path: Path, dest: str, as_attachment: bool, frame_options: str | None
) -> None:
    """A page ``send_file`` serves (conditional, Flask's default) that a browser does not
    show, an HTML export downloaded or a page framed against its ``X-Frame-Options``, is
    pushed nothing, whatever the client holds: its 200 does not vary on ``Cookie``. Its
    304 did, planned as a page the browser shows: a cache merging the 304's fields into
    the 200 it stored (RFC 9111 §4.3.4) then kept it for that one ``Cookie``."""
    html = tmp_path / "export.html"
    html.write_text("<!doctype html><p>export")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/export")
    def export() -> Response:
        push("/a.css", as_="style")
        response = send_file(html, as_attachment=as_attachment)
        if frame_options is not None:
            response.headers["X-Frame-Options"] = frame_options
        return response

    Firehose(app)
    headers = {**NAVIGATION, "Sec-Fetch-Dest": dest}
    stored = app.test_client().get("/export", headers=headers)
    stored.close()  # the file send_file opened
    assert (stored.status_code, links(stored)) == (200, [nopush("/a.css")])
    revalidation = {**headers, "If-None-Match": stored.headers["ETag"]}
    revalidated = app.test_client().get("/export", headers=revalidation)
    revalidated.close()
    assert revalidated.status_code == 304
    assert revalidated.headers.getlist("Vary") == stored.headers.getlist("Vary") == []


def test_a_304_of_a_preload_for_some_screens_varies_as_a_browser_s_200() -> None:
    """A browser is offered no push of a link its screen chooses (a ``media`` query), held
    or not: a page linking only such a link writes the same ``Link`` for every browser, and
    its 200 does not vary on ``Cookie``. Its 304 is planned as that browser's 200, and must
    carry the same ``Vary`` (RFC 9110 §15.4.5): planned as a proxy's, which is pushed the
    link, it would vary, and a cache merging it into the stored 200 would keep that 200 for
    one ``Cookie`` alone."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/")
    def index() -> Response:
        push("/a.css", as_="style", media="(max-width: 600px)")
        return revalidated_page()

    Firehose(app)
    client = app.test_client()
    stored = client.get("/", headers=NAVIGATION)
    assert stored.status_code == 200
    assert stored.headers.getlist("Vary") == []
    revalidated = client.get("/", headers={**NAVIGATION, "If-None-Match": '"v1"'})
    assert (revalidated.status_code, links(revalidated)) == (304, [])
    assert revalidated.headers.getlist("Vary") == []


@pytest.mark.parametrize(
    ("method", "headers"),
    [("HEAD", {}), ("GET", NOT_PRELOADED_FROM["fetch"])],
    ids=["HEAD", "fetch"],
)
def test_a_304_varies_as_the_200_that_would_save_what_a_client_holds(
    method: str, headers: dict[str, str]
) -> None:
    """A request whose 200 pushes nothing whatever the client holds (a HEAD, a page's
    ``fetch()``) writes the same ``Link`` for every client, yet for a returning one it
    uses held keys again, which ``save()`` may write back or sign anew: that 200 varies on
    ``Cookie``, and so must its 304 (RFC 9110 §15.4.5: the ``Vary`` a 200 would have)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/", methods=["GET", "HEAD"])
    def index() -> Response:
        push("/a.css", as_="style")
        return revalidated_page()

    Firehose(app)
    client = app.test_client()
    client.get("/")
    assert held_now(client, "/a.css") == [True]
    stored = client.open("/", method=method, headers=headers)
    assert (stored.status_code, links(stored)) == (200, [nopush("/a.css")])
    assert stored.headers.getlist("Vary") == ["Cookie"]
    revalidated = client.open("/", method=method, headers={**headers, "If-None-Match": '"v1"'})
    assert (revalidated.status_code, links(revalidated)) == (304, [])
    assert revalidated.headers.getlist("Vary") == ["Cookie"]


@pytest.mark.parametrize(
    ("byte_range", "status", "pushed"),
    [("bytes=0-3", 206, True), ("bytes=100-200", 416, False)],
)
def test_a_page_sent_as_a_file_answers_a_range_and_records_as_its_status_says(
    tmp_path: Path, byte_range: str, status: int, pushed: bool
) -> None:
    """A page a view sends with ``send_file`` (conditional, as Flask's default) answers a
    ``Range`` as Werkzeug does: a part (206) is below 400, which every proxy pushes on
    (``mod_http2``'s rule), a range past the end (416) is not."""
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><p>" + "x" * 80)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.route("/")
    def index() -> Response:
        push("/a.css", as_="style")
        return send_file(html)

    Firehose(app)
    client = app.test_client()
    response = client.get("/", headers={"Range": byte_range})
    response.close()  # the file send_file opened
    assert response.status_code == status
    assert links(response) == [link("/a.css") if pushed else nopush("/a.css")]
    assert held_now(client, "/a.css") == [pushed]


@pytest.mark.parametrize("then_another", [False, True], ids=["alone", "with a hook after it"])
def test_a_hook_registered_before_the_extension_cannot_change_the_status_behind_it(
    then_another: bool,
) -> None:
    """Flask runs after_request hooks last registered first; ours runs after every one,
    not only after the last registered before it: a 304 is never recorded."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"

    @app.after_request
    def conditional(response: Response) -> Response:
        response.make_conditional(request)  # in place: a 304 when the ETag matches
        return response

    if then_another:

        @app.after_request
        def frame_options(response: Response) -> Response:
            response.headers["X-Frame-Options"] = "DENY"
            return response

    @app.route("/")
    def index() -> Response:
        push("/a.css", as_="style")
        response = Response("page")
        response.set_etag("v1")
        return response

    Firehose(app)
    client = app.test_client()
    response = client.get("/", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 304
    assert links(response) == []  # a 304 links nothing (a cache would keep it)
    assert held_now(client, "/a.css") == [False]


def test_the_session_cookies_name_is_refused_for_the_digest() -> None:
    with pytest.raises(ValueError, match="FIREHOSE_COOKIE_NAME='session'"):
        edge_app(FIREHOSE_COOKIE_NAME="session")


def test_an_invalid_samesite_is_refused_naming_its_key() -> None:
    with pytest.raises(ValueError, match="SESSION_COOKIE_SAMESITE='Sometimes'"):
        edge_app(SESSION_COOKIE_SAMESITE="Sometimes")


@pytest.mark.parametrize("domain", ["example..com", "a" * 64 + ".example"])
def test_a_cookie_domain_idna_refuses_is_refused_naming_its_key(domain: str) -> None:
    """Said with IDNA's reason, as Werkzeug meets it writing the Domain."""
    with pytest.raises(ValueError) as idna:
        dump_cookie("c", domain=domain)
    with pytest.raises(ValueError) as refused:
        edge_app(SESSION_COOKIE_DOMAIN=domain)
    assert str(refused.value) == f"SESSION_COOKIE_DOMAIN={domain!r}: {idna.value}"
    # The longest label is accepted (a smaller digest leaves room for its 66 characters).
    edge_app(SESSION_COOKIE_DOMAIN="a" * 63 + ".ex", FIREHOSE_CAPACITY=250)


@pytest.mark.parametrize(
    ("domain", "written"),
    [("[::1]", "["), ("2001:db8::1", "2001"), ("[2001:db8::1]:8443", "[2001")],
)
def test_an_ipv6_cookie_domain_is_refused_naming_its_key(domain: str, written: str) -> None:
    """Werkzeug takes a Domain's first ':' for a port's and drops what follows: an IPv6
    address was written cut short, a Domain the browser's host does not match, so the
    browser dropped every digest cookie (RFC 6265 §5.3, step 6) and every page pushed
    everything again, with no word at init_app."""
    with pytest.raises(
        ValueError,
        match=rf"^SESSION_COOKIE_DOMAIN={re.escape(repr(domain))} is an IPv6 address.* "
        rf"Domain={re.escape(written)} .*Leave it unset",
    ):
        edge_app(SESSION_COOKIE_DOMAIN=domain)
    assert f"; Domain={written};" in dump_cookie("c", domain=domain, path="/")


@pytest.mark.parametrize("domain", ["a;b", "a\x01b", "a\uff1bb"])
def test_a_cookie_domain_that_breaks_the_attribute_is_refused_saying_why(domain: str) -> None:
    """A ';' ends the Domain attribute (a fullwidth one is IDNA's ';'), and no domain holds
    a control character: the refusal names the key, the value and both reasons."""
    with pytest.raises(
        ValueError,
        match=rf"^SESSION_COOKIE_DOMAIN={re.escape(repr(domain))} .*a control character.*"
        "a ';' ends the Domain attribute",
    ):
        edge_app(SESSION_COOKIE_DOMAIN=domain)


@pytest.mark.parametrize(
    ("domain", "written"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        (".example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", ""),  # cut to nothing: browsers ignore an empty Domain (host-only)
    ],
)
def test_a_cookie_domain_werkzeug_writes_is_accepted(domain: str, written: str) -> None:
    """The forms ``init_app`` takes, each written by Werkzeug as a browser keeps it."""
    client = edge_app(SESSION_COOKIE_DOMAIN=domain).test_client()
    response = page(client, "/a.css")
    assert links(response) == [link("/a.css")]
    assert f"; Domain={written};" in response.headers["Set-Cookie"]


def domain_of(length: int) -> str:
    """A cookie Domain of ``length`` characters: labels of at most 60, then ``.example``."""
    labels, left = [], length - len(".example")
    while left > 0:
        label = min(60, left - 2 if left == 61 else left)  # no empty label after it
        labels.append("a" * label)
        left -= label + 1
    domain = ".".join([*labels, "example"])
    assert len(domain) == length
    return domain


@pytest.mark.parametrize(("encoding", "longest"), [("gcs", 102), ("bloom", 81)])
def test_the_defaults_fit_every_cookie_attribute_flask_sets(encoding: str, longest: int) -> None:
    """Production cookie settings at the default capacity and budgets: accepted with a
    Domain of up to ``longest`` characters (settings.py says so), refused one past it,
    where the full cookie, a full Link value and Vary are one byte over the budget."""
    production = {
        "FIREHOSE_ENCODING": encoding,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "None",
        "SESSION_COOKIE_PARTITIONED": True,
    }
    edge_app(**production, SESSION_COOKIE_DOMAIN=domain_of(longest))
    with pytest.raises(ValueError, match=r"3073 bytes long .* over FIREHOSE_HEADER_BUDGET=3072"):
        edge_app(**production, SESSION_COOKIE_DOMAIN=domain_of(longest + 1))


def test_a_header_budget_no_capacity_fits_says_so() -> None:
    """All of it taken by links: no cookie fits, and the message does not offer 0."""
    with pytest.raises(ValueError, match="no FIREHOSE_CAPACITY fits") as refused:
        edge_app(FIREHOSE_LINK_BUDGET=3000, FIREHOSE_HEADER_BUDGET=3072)
    assert "is 0" not in str(refused.value)


def test_a_digest_too_large_for_the_budget_names_the_link_budget_its_headers_hold() -> None:
    """The headers' bytes said are the full cookie's line, a Link of FIREHOSE_LINK_BUDGET
    bytes and Vary, and the link budget in them is named: 100 bytes fewer of links are
    100 fewer said, and a larger capacity fits."""
    said = []
    for link_budget in (1800, 1700):
        with pytest.raises(ValueError) as refused:
            edge_app(
                FIREHOSE_CAPACITY=600, FIREHOSE_FP_RATE=0.001, FIREHOSE_LINK_BUDGET=link_budget
            )
        found = re.search(
            r"can make our headers (\d+) bytes long \(a full two-generation cookie, "
            rf"FIREHOSE_LINK_BUDGET={link_budget} bytes of links, Vary\), over "
            r"FIREHOSE_HEADER_BUDGET=3072; the largest FIREHOSE_CAPACITY that fits is (\d+)\.",
            str(refused.value),
        )
        assert found, refused.value
        said.append((int(found.group(1)), int(found.group(2))))
    (wide, fits_wide), (narrow, fits_narrow) = said
    assert wide - narrow == 100
    assert fits_narrow > fits_wide


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_digest_too_large_for_the_budget_names_its_encoding_and_rate(encoding: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"^FIREHOSE_CAPACITY=600 \({encoding} at "
        r"FIREHOSE_FP_RATE=0\.001\) can make our headers \d+ bytes long",
    ):
        edge_app(FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=600, FIREHOSE_FP_RATE=0.001)


#: How a refusal names the cookie's bound when MAX_COOKIE_SIZE is unset, 0 or larger.
PAST_WERKZEUGS_DEFAULT = (
    "more than 4093 bytes, the most a cookie of ours takes whatever MAX_COOKIE_SIZE says "
    "(Werkzeug's default, just under the 4096 bytes of name and value past which a browser "
    "drops a cookie); "
)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_digest_cookie_browsers_would_drop_is_refused_as_such_whatever_the_budget(
    encoding: str,
) -> None:
    """Under a header budget that is no limit, a cookie over 4093 bytes is still refused,
    and the error says so: not headers of the budget's size plus one, and not advice to
    raise a budget that cannot help."""
    with pytest.raises(ValueError) as refused:
        edge_app(
            FIREHOSE_ENCODING=encoding,
            FIREHOSE_HEADER_BUDGET=1 << 20,
            FIREHOSE_CAPACITY=8192,
            FIREHOSE_FP_RATE=0.001,
        )
    message = str(refused.value)
    assert re.match(
        rf"FIREHOSE_CAPACITY=8192 \({encoding} at FIREHOSE_FP_RATE=0\.001\) can make a "
        r"digest cookie of \d+ bytes .*, "
        + re.escape(PAST_WERKZEUGS_DEFAULT)
        + r"the largest FIREHOSE_CAPACITY that fits is \d+\. Lower FIREHOSE_CAPACITY, or raise "
        r"FIREHOSE_FP_RATE\.$",
        message,
    ), message
    assert "HEADER_BUDGET" not in message
    largest = int(re.search(r"that fits is (\d+)", message).group(1))  # type: ignore[union-attr]
    for capacity in (largest, largest + 1):
        config = {
            "FIREHOSE_ENCODING": encoding,
            "FIREHOSE_HEADER_BUDGET": 1 << 20,
            "FIREHOSE_CAPACITY": capacity,
            "FIREHOSE_FP_RATE": 0.001,
        }
        if capacity == largest:
            edge_app(**config)
        else:
            with pytest.raises(ValueError, match=re.escape(PAST_WERKZEUGS_DEFAULT)):
                edge_app(**config)


@pytest.mark.parametrize(
    "config",
    [
        {"FIREHOSE_CAPACITY": 8192, "FIREHOSE_FP_RATE": 0.001},
        {"FIREHOSE_COOKIE_NAME": "c" * 3500},
    ],
    ids=["capacity", "cookie name"],
)
def test_a_cookie_too_large_for_browsers_under_a_budget_that_binds_first_names_the_budget(
    config: dict[str, Any],
) -> None:
    """The cookie passes 4093 bytes, but the header budget is what limits the capacity:
    the error names the budget and says to raise it, which lets a larger capacity in;
    once the budget no longer binds, the cookie's size is named."""

    def refusal(**more: Any) -> tuple[str, int]:
        with pytest.raises(ValueError) as refused:
            edge_app(**config, **more)
        message = str(refused.value)
        found = re.search(r"the largest FIREHOSE_CAPACITY that fits is (\d+)", message)
        assert found or "no FIREHOSE_CAPACITY fits" in message, message
        return message, int(found.group(1)) if found else 0

    message, largest = refusal()
    assert "can make our headers" in message
    assert "raise FIREHOSE_HEADER_BUDGET" in message
    roomier, larger = refusal(FIREHOSE_HEADER_BUDGET=8192)
    assert PAST_WERKZEUGS_DEFAULT in roomier
    assert larger > largest


def test_a_cookie_of_exactly_max_cookie_size_leaves_the_header_budget_named() -> None:
    """Werkzeug warns only past MAX_COOKIE_SIZE: a digest cookie of exactly that size is
    within it, so where our headers pass FIREHOSE_HEADER_BUDGET by a byte, the refusal names
    the budget and the keys that make room, and the largest capacity it gives is taken. A
    MAX_COOKIE_SIZE a byte smaller is what binds, and is named."""

    def refusal(**config: Any) -> str:
        with pytest.raises(ValueError) as refused:
            edge_app(FIREHOSE_CAPACITY=300, **config)
        return str(refused.value)

    def figure(pattern: str, message: str) -> int:
        found = re.search(pattern, message)
        assert found, message
        return int(found.group(1))

    cookie = figure(r"digest cookie of (\d+) bytes", refusal(MAX_COOKIE_SIZE=600))
    headers = figure(r"our headers (\d+) bytes", refusal(FIREHOSE_HEADER_BUDGET=2000))
    budget = {"FIREHOSE_HEADER_BUDGET": headers - 1}
    at = refusal(MAX_COOKIE_SIZE=cookie, **budget)
    assert f"can make our headers {headers} bytes long" in at, at
    assert f"over FIREHOSE_HEADER_BUDGET={headers - 1};" in at, at
    assert "Lower FIREHOSE_CAPACITY or FIREHOSE_LINK_BUDGET, or raise FIREHOSE_HEADER_BUDGET" in at
    assert "MAX_COOKIE_SIZE=" not in at, at
    largest = figure(r"the largest FIREHOSE_CAPACITY that fits is (\d+)", at)
    edge_app(FIREHOSE_CAPACITY=largest, MAX_COOKIE_SIZE=cookie, **budget)
    under = refusal(MAX_COOKIE_SIZE=cookie - 1, **budget)
    assert f"digest cookie of {cookie} bytes" in under, under
    assert f"more than MAX_COOKIE_SIZE={cookie - 1}," in under, under


def test_a_capacity_of_max_pushes_too_large_is_refused_with_what_to_change() -> None:
    """FIREHOSE_CAPACITY at its least, FIREHOSE_MAX_PUSHES: the refusal says what binds,
    as one a key larger says it, and that a capacity below FIREHOSE_MAX_PUSHES fits."""
    config = {"FIREHOSE_MAX_PUSHES": 10, "FIREHOSE_HEADER_BUDGET": 300}
    with pytest.raises(ValueError) as least:
        edge_app(**config, FIREHOSE_CAPACITY=10, FIREHOSE_LINK_BUDGET=100)
    with pytest.raises(ValueError) as larger:
        edge_app(**config, FIREHOSE_CAPACITY=11, FIREHOSE_LINK_BUDGET=100)
    for refused in (least, larger):
        message = str(refused.value)
        assert "no FIREHOSE_CAPACITY of FIREHOSE_MAX_PUSHES=10 or more fits" in message
        assert (
            "Lower FIREHOSE_CAPACITY and FIREHOSE_MAX_PUSHES, or FIREHOSE_LINK_BUDGET, or raise "
            "FIREHOSE_HEADER_BUDGET" in message
        )
    assert str(least.value).startswith("FIREHOSE_CAPACITY=10 ")


@pytest.mark.parametrize(
    ("config", "bound", "advice"),
    [
        (
            {"FIREHOSE_CAPACITY": 300, "FIREHOSE_LINK_BUDGET": 2600},
            "FIREHOSE_HEADER_BUDGET",
            ", or FIREHOSE_LINK_BUDGET, or raise FIREHOSE_HEADER_BUDGET behind a larger "
            "proxy_buffer_size (uwsgi_buffer_size).",
        ),
        (
            {"FIREHOSE_CAPACITY": 10, "MAX_COOKIE_SIZE": 170},
            "MAX_COOKIE_SIZE",
            ", or raise MAX_COOKIE_SIZE.",
        ),
        (
            {"FIREHOSE_CAPACITY": 8192, "FIREHOSE_HEADER_BUDGET": 1 << 20},
            "4093 bytes",
            ".",  # no key raises what browsers keep
        ),
    ],
    ids=["header budget", "cookie size", "Werkzeug's default"],
)
def test_when_max_pushes_is_what_no_capacity_fits_the_refusal_names_it(
    config: dict[str, Any], bound: str, advice: str
) -> None:
    """FIREHOSE_MAX_PUSHES is the least capacity init_app takes (a generation holds what one
    response pushes): where a smaller capacity would fit, the refusal names
    FIREHOSE_MAX_PUSHES and the largest capacity that fits, not the cookie's name and
    attributes as what takes the room, and says to lower both, with what else would make
    room. That capacity is taken with FIREHOSE_MAX_PUSHES lowered to it; one more is
    refused."""
    pushes = config["FIREHOSE_CAPACITY"]
    with pytest.raises(ValueError) as refused:
        edge_app(**config, FIREHOSE_MAX_PUSHES=pushes)
    message = str(refused.value)
    assert bound in message
    assert message.endswith(f"Lower FIREHOSE_CAPACITY and FIREHOSE_MAX_PUSHES{advice}"), message
    assert "alone take" not in message, message
    found = re.search(
        rf"; no FIREHOSE_CAPACITY of FIREHOSE_MAX_PUSHES={pushes} or more fits \(a digest "
        r"generation holds what one response pushes\), the largest that fits is (\d+)\. "
        r"Lower FIREHOSE_CAPACITY and FIREHOSE_MAX_PUSHES",
        message,
    )
    assert found, message
    largest = int(found.group(1))
    assert 0 < largest < pushes
    fitted = {**config, "FIREHOSE_CAPACITY": largest, "FIREHOSE_MAX_PUSHES": largest}
    edge_app(**fitted)
    with pytest.raises(ValueError, match=bound):
        edge_app(**{**fitted, "FIREHOSE_CAPACITY": largest + 1, "FIREHOSE_MAX_PUSHES": 0})


def test_when_a_rate_near_1_is_what_no_capacity_fits_the_refusal_names_it() -> None:
    """At a rate near 1 a GCS is built only of many keys (2,500 at 0.9998): where even the
    least of them does not fit, the refusal names FIREHOSE_FP_RATE, that capacity and its
    cookie's bytes, not the cookie's name and attributes as what takes the room."""
    with pytest.raises(ValueError) as refused:
        edge_app(FIREHOSE_FP_RATE=0.9998, FIREHOSE_CAPACITY=3000, FIREHOSE_LINK_BUDGET=2600)
    message = str(refused.value)
    found = re.search(
        r"; no FIREHOSE_CAPACITY fits \(at FIREHOSE_FP_RATE=0\.9998 a gcs digest is built of "
        r"no fewer than (\d+) keys, whose cookie takes (\d+) bytes\)\. Lower "
        r"FIREHOSE_CAPACITY and FIREHOSE_FP_RATE",
        message,
    )
    assert found, message
    least, size = int(found.group(1)), int(found.group(2))
    # The least indeed: one fewer is refused as unbuildable, and it is refused for its size.
    with pytest.raises(ValueError, match="too close to 1"):
        edge_app(FIREHOSE_FP_RATE=0.9998, FIREHOSE_CAPACITY=least - 1)
    with pytest.raises(ValueError, match=rf"FIREHOSE_CAPACITY={least} .* cookie of {size} bytes"):
        edge_app(FIREHOSE_FP_RATE=0.9998, FIREHOSE_CAPACITY=least, MAX_COOKIE_SIZE=size - 1)


@pytest.mark.parametrize("larger", ["one more", "the most"])
def test_at_a_rate_near_1_the_least_capacity_built_is_named_where_only_it_fits(
    larger: str,
) -> None:
    """At a rate near 1 a GCS is built only of many keys (55 at 0.9909, where 56 take a
    longer cookie): the capacities init_app takes start there. Under a MAX_COOKIE_SIZE of
    exactly the cookie of that least, a larger capacity, one more or the most, is refused
    naming the least as the largest that fits, and the least is taken."""
    rate = {"FIREHOSE_FP_RATE": 0.9909}
    with pytest.raises(ValueError) as refused:
        edge_app(**rate, FIREHOSE_CAPACITY=3000, MAX_COOKIE_SIZE=150)
    found = re.search(
        r"no fewer than (\d+) keys, whose cookie takes (\d+) bytes", str(refused.value)
    )
    assert found, refused.value
    least, size = int(found.group(1)), int(found.group(2))
    capacity = least + 1 if larger == "one more" else MAX_CAPACITY
    with pytest.raises(ValueError, match=rf"the largest FIREHOSE_CAPACITY that fits is {least}\."):
        edge_app(**rate, FIREHOSE_CAPACITY=capacity, MAX_COOKIE_SIZE=size)
    edge_app(**rate, FIREHOSE_CAPACITY=least, MAX_COOKIE_SIZE=size)


def test_where_only_a_capacity_of_1_fits_it_is_named_and_taken() -> None:
    """With FIREHOSE_MAX_PUSHES=1 the capacities init_app takes start at 1: under a
    MAX_COOKIE_SIZE of exactly the cookie of one key, a capacity of 2 is refused naming 1 as
    the largest that fits, and 1 is taken."""
    pushes = {"FIREHOSE_MAX_PUSHES": 1}
    with pytest.raises(ValueError) as refused:
        edge_app(**pushes, FIREHOSE_CAPACITY=1, MAX_COOKIE_SIZE=100)
    found = re.search(r"digest cookie of (\d+) bytes", str(refused.value))
    assert found, refused.value
    size = int(found.group(1))
    with pytest.raises(ValueError, match=r"the largest FIREHOSE_CAPACITY that fits is 1\."):
        edge_app(**pushes, FIREHOSE_CAPACITY=2, MAX_COOKIE_SIZE=size)
    edge_app(**pushes, FIREHOSE_CAPACITY=1, MAX_COOKIE_SIZE=size)


def test_when_the_cookie_blocks_at_a_rate_near_1_the_refusal_names_it_not_the_rate() -> None:
    """At a rate near 1 a GCS is built only of many keys, but where even the smallest
    cookie (a capacity of 1, at a rate of 0.5) passes MAX_COOKIE_SIZE, lowering
    FIREHOSE_CAPACITY and FIREHOSE_FP_RATE cannot help: the refusal names the cookie's name
    and attributes, with that smallest cookie's bytes, as init_app measures it."""
    with pytest.raises(ValueError) as refused:
        edge_app(FIREHOSE_FP_RATE=0.9998, FIREHOSE_CAPACITY=3000, MAX_COOKIE_SIZE=140)
    message = str(refused.value)
    assert "Lower FIREHOSE_CAPACITY and FIREHOSE_FP_RATE" not in message, message
    found = re.search(
        r"; no FIREHOSE_CAPACITY fits \(the cookie's name and attributes alone take \d+ "
        r"bytes: FIREHOSE_COOKIE_NAME, SESSION_COOKIE_PATH, SESSION_COOKIE_DOMAIN; with a "
        r"digest of FIREHOSE_CAPACITY=1 at FIREHOSE_FP_RATE=0\.5, (\d+)\)\. Raise "
        r"MAX_COOKIE_SIZE\.$",
        message,
    )
    assert found, message
    smallest = {"FIREHOSE_CAPACITY": 1, "FIREHOSE_MAX_PUSHES": 1, "FIREHOSE_FP_RATE": 0.5}
    with pytest.raises(ValueError, match=rf"cookie of {found.group(1)} bytes .* no FIREHOSE_C"):
        edge_app(**smallest, MAX_COOKIE_SIZE=140)
    edge_app(**smallest, MAX_COOKIE_SIZE=int(found.group(1)))


def test_a_cookie_name_too_long_for_any_digest_is_refused_without_a_warning() -> None:
    """Its name alone passes what browsers keep: no capacity fits, said once, as a
    ValueError (Werkzeug's size warning, an error under this suite, is not raised), with no
    key to lower or raise after the figures: none but the name it names makes room."""
    with pytest.raises(ValueError, match=r"no FIREHOSE_CAPACITY fits \(the cookie's name") as e:
        edge_app(FIREHOSE_HEADER_BUDGET=1 << 20, FIREHOSE_COOKIE_NAME="c" * 4100)
    assert re.search(r"FIREHOSE_COOKIE_NAME, .*FIREHOSE_CAPACITY=1, \d+\)\.$", str(e.value))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_digest_cookie_past_the_apps_max_cookie_size_is_refused_naming_it(encoding: str) -> None:
    """Flask's MAX_COOKIE_SIZE, lowered, is where Werkzeug warns at each Set-Cookie: a
    digest that could pass it warned on the pages that filled it (under ``-W error`` the
    save failed, and nothing was recorded). init_app names the key and the largest
    capacity under it; that capacity is taken, one more is refused."""
    config = {"FIREHOSE_ENCODING": encoding, "MAX_COOKIE_SIZE": 600}
    with pytest.raises(ValueError) as refused:
        edge_app(**config)
    message = str(refused.value)
    assert re.match(
        rf"FIREHOSE_CAPACITY=300 \({encoding} at FIREHOSE_FP_RATE=0\.01\) can make a "
        r"digest cookie of \d+ bytes .*, more than MAX_COOKIE_SIZE=600, past which Werkzeug "
        r"warns at each Set-Cookie; the largest FIREHOSE_CAPACITY that fits is \d+\. Lower "
        r"FIREHOSE_CAPACITY, or raise FIREHOSE_FP_RATE or MAX_COOKIE_SIZE\.$",
        message,
    ), message
    largest = int(re.search(r"that fits is (\d+)", message).group(1))  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="more than MAX_COOKIE_SIZE=600"):
        edge_app(**config, FIREHOSE_CAPACITY=largest + 1)
    client = edge_app(**config, FIREHOSE_CAPACITY=largest).test_client()
    # Two generations filled and rotated, ten new urls a page: each Set-Cookie within the
    # size, none warned of (an error under this suite, which would record nothing).
    for page in range(2 * largest // 10 + 5):
        urls = [f"/{page}-{n}.css" for n in range(10)]
        response = client.get("/page", query_string={"u": urls})
        assert all(len(line) <= 600 for line in response.headers.getlist("Set-Cookie"))
        again = client.get("/page", query_string={"u": urls})
        assert again.headers["Link"].count("nopush") == 10, page


@pytest.mark.parametrize("size", [0, 8192, None], ids=["0", "8192", "Flask's default"])
def test_max_cookie_size_never_lets_a_cookie_past_werkzeugs_default(size: int | None) -> None:
    """0 turns Werkzeug's warning off and a larger size moves it: neither lets a cookie
    past 4093 bytes, Werkzeug's default, which stays the bound."""
    config: dict[str, Any] = {} if size is None else {"MAX_COOKIE_SIZE": size}
    with pytest.raises(ValueError, match=re.escape(PAST_WERKZEUGS_DEFAULT)):
        edge_app(
            FIREHOSE_HEADER_BUDGET=1 << 20,
            FIREHOSE_CAPACITY=8192,
            FIREHOSE_FP_RATE=0.001,
            **config,
        )


@pytest.mark.parametrize("size", ["4093", -1, -0.5, True, float("nan")])
def test_a_max_cookie_size_that_fails_or_warns_at_every_cookie_is_refused(size: object) -> None:
    """Werkzeug compares each Set-Cookie's length with it: a str fails every session save
    and every digest written; a negative one (-0.5 too, whose whole bytes are 0, no
    limit), or True (1), warns at every cookie."""
    with pytest.raises(ValueError, match=rf"MAX_COOKIE_SIZE must be a number of bytes.*{size!r}"):
        edge_app(MAX_COOKIE_SIZE=size)


def test_a_max_cookie_size_of_one_byte_is_a_bound_not_a_mistake() -> None:
    """The least size past which Werkzeug warns, 1 byte, is a size (0 is none, -1 is
    refused, above): the digest is refused for its cookie's bytes over it, not for the
    key's value."""
    with pytest.raises(ValueError, match=r"more than MAX_COOKIE_SIZE=1,"):
        edge_app(MAX_COOKIE_SIZE=1)


@pytest.mark.parametrize(
    ("size", "bound"),
    [(None, 4093), (False, 4093), (0, 4093), (float("inf"), 4093), (1089.0, 1089), (1089.5, 1089)],
)
def test_a_max_cookie_size_werkzeug_takes_binds_as_werkzeug_reads_it(
    size: object, bound: int
) -> None:
    """Werkzeug warns when ``max_size and len(cookie) > max_size``: None and False turn the
    warning off as 0 does, a float bounds as the whole bytes under it. The default digest's
    largest cookie is 1089 bytes: taken under each, refused a byte lower."""
    edge_app(MAX_COOKIE_SIZE=size)
    if bound < 4093:
        with pytest.raises(ValueError, match=rf"more than MAX_COOKIE_SIZE={size - 1!r}[, ]"):  # type: ignore[operator]
            edge_app(MAX_COOKIE_SIZE=size - 1)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("size", "said"),
    [
        (0.5, "MAX_COOKIE_SIZE=0.5 (read as 0 whole bytes,"),
        (1.5, "MAX_COOKIE_SIZE=1.5 (read as 1 whole byte)"),
        (1088.5, "MAX_COOKIE_SIZE=1088.5 (read as 1088 whole bytes)"),
        (1.0, "MAX_COOKIE_SIZE=1.0, "),
        (1, "MAX_COOKIE_SIZE=1, "),
    ],
)
def test_a_max_cookie_size_refused_is_named_as_written_and_as_read(size: float, said: str) -> None:
    """A float binds as the whole bytes under it, and the refusal names the value the app
    wrote with what it was read as: 0.5 was named MAX_COOKIE_SIZE=0, the value that turns
    Werkzeug's warning off, and 1088.5 as 1088, a value the config never held."""
    with pytest.raises(ValueError) as refused:
        edge_app(MAX_COOKIE_SIZE=size)
    message = str(refused.value)
    assert f"more than {said}" in message, message


def test_when_no_capacity_fits_the_bytes_named_are_the_cookie_name_and_attributes() -> None:
    """The bytes said to be taken by the name and attributes alone grow with the Path and
    the cookie name, byte for byte."""

    def bare_bytes(**config: Any) -> int:
        with pytest.raises(ValueError, match="no FIREHOSE_CAPACITY fits") as refused:
            edge_app(FIREHOSE_LINK_BUDGET=3000, FIREHOSE_HEADER_BUDGET=3072, **config)
        found = re.search(r"attributes alone take (\d+) bytes", str(refused.value))
        assert found, refused.value
        return int(found.group(1))

    bare = bare_bytes()
    assert bare_bytes(SESSION_COOKIE_PATH="/" + "p" * 40) == bare + 40
    assert bare_bytes(FIREHOSE_COOKIE_NAME="h2-digest-longer") == bare + len("-longer")


def test_a_capacity_below_max_pushes_is_refused() -> None:
    """Said with why: a generation that holds less than one response pushes forgets the
    response's own first pushes."""
    with pytest.raises(ValueError) as refused:
        edge_app(FIREHOSE_CAPACITY=9)
    assert str(refused.value) == (
        "FIREHOSE_CAPACITY=9 is less than FIREHOSE_MAX_PUSHES=10: one response would push "
        "more than a digest generation holds, and forget its own first pushes"
    )
    edge_app(FIREHOSE_CAPACITY=10)  # exactly: accepted


@pytest.mark.parametrize("key", ["SECRET_KEY", "SECRET_KEY_FALLBACKS"])
def test_a_secret_key_no_hmac_can_use_is_refused_at_init(key: str) -> None:
    value: Any = 83920174659201 if key == "SECRET_KEY" else [83920174659201]
    with pytest.raises(ValueError, match=f"^{key} must"):
        edge_app(**{key: value})


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (
            "SECRET_KEY",
            83920174659201,  # FLASK_SECRET_KEY=8392... via from_prefixed_env
            "SECRET_KEY must be a str or bytes, got int: in the environment quote a key of "
            """digits as JSON, FLASK_SECRET_KEY='"123"'""",
        ),
        ("SECRET_KEY_FALLBACKS", "old", "SECRET_KEY_FALLBACKS must be a list of keys, got a str"),
    ],
    ids=["key", "fallbacks"],
)
def test_a_secret_key_made_unusable_later_is_a_warning_not_an_error_per_request(
    key: str, value: object, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Set after init_app (which refuses it) to what no HMAC takes: one warning, which
    names what is wrong with the key, not that it is unset."""
    app = edge_app()
    app.config[key] = value
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            response = page(client, "/a.css")
            assert response.status_code == 200
            assert links(response) == [nopush("/a.css")]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            f"firehose: {problem}, so DigestConnector cannot remember what a client holds; "
            "pages keep their preload links but nothing is pushed",
        )
    ]


def test_a_value_verified_with_keys_since_replaced_is_not_cached() -> None:
    app = edge_app(SECRET_KEY="old")
    state = app.extensions["firehose"].connector._state(app)
    old_codec = state.codec(app)
    app.config["SECRET_KEY"] = "new"
    state.codec(app)  # a request reads the new keys meanwhile
    digest = state.empty.digest.copy()
    state._store(old_codec, "value signed with old", 2**40, digest)
    assert "value signed with old" not in state._decoded


# --- the caches' bounds, each stood on ---------------------------------------------------


def test_a_decoded_digest_keeps_exactly_max_answers_and_answers_the_rest_alike() -> None:
    from firehose_digest.digests import AgingDigest, GCSDigest
    from firehose_digest.held_digests import MAX_ANSWERS, HeldDigest

    digest = AgingDigest(GCSDigest, 300, 0.01)
    keys = [f"/k{i}.css" for i in range(MAX_ANSWERS + 1)]
    for key in keys[::2]:
        digest.add(key)
    held = HeldDigest(digest)
    answers = [key in held for key in keys]
    assert answers == [key in digest for key in keys]
    assert len(held) == MAX_ANSWERS  # the last one was answered, not kept
    assert keys[-1] not in dict.keys(held)
    assert [key in held for key in keys] == answers  # asking again changes nothing


def test_a_decoded_digest_asked_by_two_threads_at_once_keeps_at_most_max_answers() -> None:
    """Two requests of one client (one cookie, so one cached digest) asking new keys at
    once, both with one place left: each saw it free and both kept their answer, one past
    the bound the decoded digests' bytes count. Made to ask together, deterministically."""
    from firehose_digest.digests import AgingDigest, GCSDigest
    from firehose_digest.held_digests import MAX_ANSWERS, HeldDigest

    both_asked = threading.Barrier(2, timeout=10)
    waiting = threading.local()

    class Together(HeldDigest):
        def __len__(self) -> int:
            length = super().__len__()
            if getattr(waiting, "at_the_bound", False):
                waiting.at_the_bound = False
                both_asked.wait()  # both threads have counted, neither has kept yet
            return length

    held = Together(AgingDigest(GCSDigest, 300, 0.01))
    for i in range(MAX_ANSWERS - 1):
        assert f"/fill-{i}" not in held

    answered = []

    def ask(key: str) -> None:
        waiting.at_the_bound = True
        answered.append(key in held)

    run_in_threads(lambda: ask("/a.css"), lambda: ask("/b.css"), interleave=False)
    assert answered == [False, False]  # each thread asked, past the barrier
    assert dict.__len__(held) <= MAX_ANSWERS
    assert "/a.css" not in held and "/b.css" not in held  # answered alike, kept or not


def test_a_decoded_digest_asked_one_key_by_two_threads_past_the_bound_answers_both() -> None:
    """Three requests of one client asking at once with one place left, two of them the
    same key: all three keep their answer, one past the bound, and each takes its own out.
    The two of one key take out one entry: the later finds it gone, and must still answer
    (not a KeyError, a 500). Made to count, keep and count again together."""
    from firehose_digest.digests import AgingDigest, GCSDigest
    from firehose_digest.held_digests import MAX_ANSWERS, HeldDigest

    together = threading.Barrier(3, timeout=10)
    counted = threading.local()

    class Together(HeldDigest):
        def __len__(self) -> int:
            calls = getattr(counted, "calls", None)
            if calls is None:
                return super().__len__()
            counted.calls = calls + 1
            if calls == 1:
                together.wait()  # all three have kept theirs before any counts again
            length = super().__len__()
            together.wait()  # all three have counted before any keeps or takes out
            return length

    held = Together(AgingDigest(GCSDigest, 300, 0.01))
    for i in range(MAX_ANSWERS - 1):
        assert f"/fill-{i}" not in held

    answered = []

    def ask(key: str) -> None:
        counted.calls = 0
        answered.append(key in held)

    run_in_threads(
        lambda: ask("/a.css"), lambda: ask("/a.css"), lambda: ask("/b.css"), interleave=False
    )
    assert answered == [False, False, False]  # each thread answered
    assert dict.__len__(held) == MAX_ANSWERS - 1  # each answer past the bound taken out


def test_a_decoded_digest_says_whether_its_current_generation_holds_a_page() -> None:
    """What ``save()`` asks before writing back a page's keys, answered from the kept
    answers, and alike for keys past :data:`MAX_ANSWERS`."""
    import mmh3

    from firehose_digest.digests import AgingDigest, GCSDigest
    from firehose_digest.held_digests import MAX_ANSWERS, HeldDigest

    names = ["/a", "/b", "/c", "/d", "/e", "/none"]
    # R = 400: these keys do not collide, so none is held for another.
    assert len({mmh3.hash64(k, 0x66697265, signed=False)[0] % 400 for k in names}) == 6
    digest = AgingDigest(GCSDigest, 4, 0.01)
    for key in names[:5]:
        digest.add(key)  # /e rotates: /a to /d are in the previous generation alone
    for filler in ([], [f"/fill-{i}" for i in range(MAX_ANSWERS)]):
        held = HeldDigest(digest)
        for key in filler:
            assert key not in held or key in digest
        assert held.current_holds(["/e"])
        assert not held.current_holds(["/e", "/a"])
        assert not held.current_holds(["/none"])
        assert [key in held for key in names] == [True] * 5 + [False]
        assert held.current_holds([]) is True


def _one_url_digests(
    state: DigestState, codec: DigestCodec, count: int
) -> list[tuple[str, AgingDigest]]:
    """``count`` digests of the app's kind, the i-th holding ``/only-{i}.css``, each with
    its signed value, made distinct in length by i trailing "x"s (stored, never verified)."""
    entries = []
    for i in range(count):
        digest = state.empty.digest.copy()
        digest.add(f"/only-{i}.css")
        entries.append((codec.dumps(digest.to_bytes()) + "x" * i, digest))
    return entries


def test_the_decoded_digests_stay_within_their_bytes_oldest_dropped_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from firehose_digest import held_digests

    app = edge_app()
    state = app.extensions["firehose"].connector._state(app)
    codec = state.codec(app)
    assert codec is not None
    digests = _one_url_digests(state, codec, 4)
    sizes = [
        held_digests._entry_size(v, held_digests.HeldDigest(d, salt=codec.salt))
        for v, d in digests
    ]
    # Room for exactly the last three entries: the fourth stored drops the first.
    monkeypatch.setattr(held_digests, "DECODED_CACHE_BYTES", sum(sizes[1:]))
    for value, digest in digests:
        state._store(codec, value, 2**40, digest)
        assert state._decoded_bytes <= held_digests.DECODED_CACHE_BYTES
    assert list(state._decoded) == [value for value, _ in digests[1:]]


def test_a_change_of_keys_empties_the_decoded_digests_and_their_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cache is emptied with the keys that signed its values, its count of bytes too:
    the values signed with the new key have all its room."""
    from firehose_digest import held_digests

    app = edge_app()
    state = app.extensions["firehose"].connector._state(app)
    stored = []
    for key in ("edges", "rotated"):
        app.config["SECRET_KEY"] = key
        codec = state.codec(app)
        assert codec is not None
        assert state._decoded == {}
        values = _one_url_digests(state, codec, 2)
        sizes = [
            held_digests._entry_size(v, held_digests.HeldDigest(d, salt=codec.salt))
            for v, d in values
        ]
        monkeypatch.setattr(held_digests, "DECODED_CACHE_BYTES", sum(sizes))
        for value, digest in values:
            state._store(codec, value, 2**40, digest)
        stored.append(list(state._decoded))
        assert stored[-1] == [value for value, _ in values]
    assert stored[0] != stored[1]


def test_after_a_change_of_keys_the_decoded_digests_are_counted_from_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count of bytes starts again at exactly zero with the new keys: two values one
    byte larger together than the cache keep only the newer, and the count is its size."""
    from firehose_digest import held_digests

    app = edge_app()
    state = app.extensions["firehose"].connector._state(app)
    codec = state.codec(app)
    assert codec is not None
    [(old, old_digest)] = _one_url_digests(state, codec, 1)
    state._store(codec, old, 2**40, old_digest)
    app.config["SECRET_KEY"] = "rotated"
    codec = state.codec(app)
    assert codec is not None
    entries = _one_url_digests(state, codec, 2)
    sizes = [
        held_digests._entry_size(v, held_digests.HeldDigest(d, salt=codec.salt))
        for v, d in entries
    ]
    monkeypatch.setattr(held_digests, "DECODED_CACHE_BYTES", sum(sizes) - 1)
    for value, digest in entries:
        state._store(codec, value, 2**40, digest)
    assert list(state._decoded) == [entries[1][0]]
    assert state._decoded_bytes == sizes[1]


@pytest.mark.parametrize("room", [0, -1], ids=["exactly its size", "one byte less"])
def test_a_decoded_digest_as_large_as_the_cache_is_kept_and_one_larger_is_not(
    monkeypatch: pytest.MonkeyPatch, room: int
) -> None:
    """An entry that takes the whole cache is kept (in place of the others); one a byte
    larger than the cache is never stored, and costs the entries already there nothing."""
    from firehose_digest import held_digests

    app = edge_app()
    state = app.extensions["firehose"].connector._state(app)
    codec = state.codec(app)
    assert codec is not None
    entries = _one_url_digests(state, codec, 2)
    (small, small_digest), (large, large_digest) = entries
    size = held_digests._entry_size(large, held_digests.HeldDigest(large_digest, salt=codec.salt))
    monkeypatch.setattr(held_digests, "DECODED_CACHE_BYTES", size + room)
    state._store(codec, small, 2**40, small_digest)
    assert list(state._decoded) == [small]
    held = state._store(codec, large, 2**40, large_digest)
    assert "/only-1.css" in held
    assert list(state._decoded) == ([large] if room == 0 else [small])
    assert state._decoded_bytes <= held_digests.DECODED_CACHE_BYTES


@pytest.mark.parametrize(
    ("key", "kept"),
    [
        ("/" + "k" * (ANSWER_KEY_LENGTH - 1), True),
        ("/" + "k" * ANSWER_KEY_LENGTH, False),
        ("/k.css\n\u00e9", False),  # a version of wide characters: longer in memory
    ],
    ids=["at the length", "one past", "not ASCII"],
)
def test_a_key_past_the_answer_length_is_answered_not_kept(key: str, kept: bool) -> None:
    """A kept answer keeps its key alive: a per-user url of any length, or a version of
    wide characters, would grow the decoded digests past the bytes they are counted at."""
    from firehose_digest.digests import AgingDigest, GCSDigest
    from firehose_digest.held_digests import HeldDigest

    digest = AgingDigest(GCSDigest, 10, 0.01)
    digest.add(key)
    held = HeldDigest(digest)
    assert key in held and "/other" not in held
    assert (key in dict.keys(held)) is kept


def test_a_decoded_digest_full_of_the_longest_kept_keys_is_counted_whole() -> None:
    """The decoded digests' byte bound holds only if an entry is counted at its most: the
    signed value, the digest, and MAX_ANSWERS answers whose keys nothing else keeps."""
    from firehose_digest import held_digests
    from firehose_digest.held_digests import ANSWER_KEY_LENGTH, MAX_ANSWERS, HeldDigest

    app = edge_app()
    state = app.extensions["firehose"].connector._state(app)
    codec = state.codec(app)
    assert codec is not None
    digest = state.empty.digest.copy()
    for i in range(300):
        digest.add(f"/held-{i}.css")
    value = codec.dumps(digest.to_bytes())
    held = HeldDigest(digest)
    for i in range(MAX_ANSWERS + 5):
        _ = f"/{i:0{ANSWER_KEY_LENGTH - 1}d}" in held  # a new str each: only held keeps it
    assert len(held) == MAX_ANSWERS
    real = (
        sys.getsizeof(value)
        + dict.__sizeof__(held)
        + sum(map(sys.getsizeof, dict.keys(held)))
        + sys.getsizeof(digest)  # its generations and their buffers
    )
    assert real <= held_digests._entry_size(value, held)


def test_a_key_that_is_not_ascii_is_hashed_uncached() -> None:
    """A version may hold any character: 2,048 keys of 256 such characters held 2.6 MiB
    in a cache said to hold about 1 MB."""
    from firehose_digest import digests

    digests._cached_hash.cache_clear()
    key = "/a.css\n" + "é" * (digests.HASH_CACHE_KEY_LENGTH - 7)
    assert len(key) == digests.HASH_CACHE_KEY_LENGTH
    assert digests._hash(key) == digests._hash_of(key)
    assert digests._cached_hash.cache_info().currsize == 0


@pytest.mark.parametrize("extra", [0, 1])
def test_keys_at_and_past_the_hash_cache_length_hash_alike(extra: int) -> None:
    from firehose_digest import digests

    key = "/" + "k" * (digests.HASH_CACHE_KEY_LENGTH - 1 + extra)
    digests._cached_hash.cache_clear()  # a cache: emptying it changes no answer
    assert digests._hash(key) == digests._hash_of(key)
    assert digests._cached_hash.cache_info().currsize == (1 if extra == 0 else 0)
    digest = digests.AgingDigest(digests.GCSDigest, 10, 0.01)
    digest.add(key)
    assert key in digest


def test_a_holder_that_only_iterates_is_asked_by_iteration() -> None:
    """``in`` falls back to iterating a container without ``__contains__``, as before."""

    class IterOnly:
        def __iter__(self) -> Any:
            return iter(["/a.css"])

    class Connector:
        def get_pushed(self) -> Any:
            return IterOnly()

        def set_pushed(self, items: Any) -> None:
            pass

    response = page(edge_app(Connector()).test_client(), "/a.css", "/b.css")
    assert links(response) == [nopush("/a.css"), link("/b.css")]


@pytest.mark.usefixtures("clients_ask_for_pages")
def test_a_holder_failing_before_a_103_costs_only_the_hint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = edge_app(AskingFails(), FIREHOSE_EARLY_HINTS=True)
    sent: list[Any] = []
    client = app.test_client()
    environ = {"wsgi.early_hints": sent.append}
    client.get("/page?u=/a.css", environ_base=environ)  # learns the page
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = client.get("/page?u=/a.css", environ_base=environ)
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css")]
    assert sent == []
    (failure,) = caplog.records  # the holder's, as a failed open() is: not the 103's
    assert "holder failed" in failure.getMessage()
    assert failure.exc_info is not None


def test_a_holder_failing_after_a_failed_save_still_serves_the_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store goes down between planning and saving: save() raises, and the holder
    would raise if asked again; the page is planned again from the answers it gave."""

    class Holder:
        up = True

        def __contains__(self, key: object) -> bool:
            if not Holder.up:
                raise OSError("store is down for lookups")
            return False

    class Connector:
        def get_pushed(self) -> Any:
            return Holder()

        def set_pushed(self, items: Any) -> None:
            Holder.up = False
            raise OSError("store is down for writes")

    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = page(edge_app(Connector()).test_client(), "/a.css", "/b.css")
    assert response.status_code == 200
    assert links(response) == [nopush("/a.css"), nopush("/b.css")]
    messages = [r.getMessage() for r in caplog.records]
    assert any("save() failed" in m for m in messages)
    assert not any("holder failed" in m for m in messages)


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        ((["x"],), {}, "Link flag must be an RFC 8288 token"),
        ((), {"title": ["x"]}, "Link parameter 'title' must be a string"),
        ((), {"as_": ["x"]}, "Link parameter 'as' must be a string"),
        ((), {"version": ["x"]}, "a resource's version must be a str"),
    ],
    ids=["flag", "parameter", "as", "version"],
)
def test_an_unhashable_push_argument_is_refused_saying_what_is_wrong(
    arguments: tuple[Any, ...], keywords: dict[str, Any], message: str
) -> None:
    """push() looks its arguments up in its cache first: one that cannot be hashed (a list,
    from a template) is refused as any bad argument is, with a ValueError, not a TypeError
    from the lookup."""
    with pytest.raises(ValueError, match=re.escape(message)):
        push("/a.css", *arguments, **keywords)


# --- a url spelled two ways is one target ----------------------------------------------


def test_a_url_and_its_percent_encoded_spelling_are_one_link_and_one_key() -> None:
    """``/é.css`` is written ``</%C3%A9.css>``: pushed in either spelling, it is linked
    once per response and held once pushed, whichever spelling the next page uses."""
    app = edge_app()

    @app.route("/both")
    def both() -> str:
        push("/é.css", as_="style")
        push("/%C3%A9.css", as_="style")
        return "both"

    @app.route("/encoded")
    def encoded() -> str:
        push("/%C3%A9.css", as_="style")
        return "encoded"

    client = app.test_client()
    assert links(client.get("/both")) == [link("/%C3%A9.css")]
    assert links(client.get("/encoded")) == [nopush("/%C3%A9.css")]


def test_a_url_with_a_space_is_linked_as_a_browser_requests_it() -> None:
    """A file name from the database (an avatar) may hold a space: a browser asks for
    ``/my%20photo.jpg`` for ``href="/my photo.jpg"``, and so does the link; the page is
    served, and either spelling is one link and one key."""
    app = edge_app()

    @app.route("/profile")
    def profile() -> str:
        return render_template_string(
            "{{ push('/my photo.jpg', as='style') }}{{ push('/my%20photo.jpg', as='style') }}"
        )

    client = app.test_client()
    first = client.get("/profile")
    assert first.status_code == 200
    assert first.get_data(as_text=True) == "/my photo.jpg/my%20photo.jpg"
    assert links(first) == [link("/my%20photo.jpg")]
    assert links(client.get("/profile")) == [nopush("/my%20photo.jpg")]


def test_a_url_a_macro_built_is_linked_as_the_page_reads_it() -> None:
    """A macro's output is ``Markup``, its ``&`` written ``&amp;``: the page's ``src``
    asks for ``/thumb?w=1&h=2``, so the link names that url, pushed and then held, not
    ``&amp;`` (a url the page never asks for, made nopush by its ``;``). The same text
    pushed as a plain str is a url of its own, linked as it is written."""
    app = edge_app()
    macro = "{% macro thumb(w, h) %}{{ url_for('thumb', w=w, h=h) }}{% endmacro %}"

    @app.route("/thumb")
    def thumb() -> str:
        return "thumb"

    @app.route("/gallery")
    def gallery() -> str:
        return render_template_string(macro + "<img src=\"{{ push(thumb(1, 2), as='image') }}\">")

    @app.route("/literal")
    def literal() -> str:
        return push("/thumb?w=1&amp;h=2", as_="image")

    client = app.test_client()
    first = client.get("/gallery")
    assert first.get_data(as_text=True) == '<img src="/thumb?w=1&amp;h=2">'
    assert links(first) == ["</thumb?w=1&h=2>; rel=preload; as=image"]
    assert links(client.get("/gallery")) == ["</thumb?w=1&h=2>; rel=preload; as=image; nopush"]
    assert links(client.get("/literal")) == ["</thumb?w=1&amp;h=2>; rel=preload; as=image; nopush"]


def test_a_macro_url_with_an_apostrophe_and_no_ampersand_is_linked_as_the_page_reads_it() -> None:
    """A macro's own text is not escaped: ``/static/o'neil café.css`` comes out as Markup
    with no ``&``. Encoding it joined the plain encoded path to the Markup's (empty)
    query and fragment, and Markup escaped it: ``</static/o&#39;neil%20caf%C3%A9.css>``,
    a url whose ``#`` cuts the path at ``o&`` (and whose ``;`` h2o splits on)."""
    app = edge_app()
    macro = "{% macro css() %}/static/o'neil café.css{% endmacro %}"

    @app.route("/macro")
    def macro_page() -> str:
        return render_template_string(macro + "<link href=\"{{ push(css(), as='style') }}\">")

    client = app.test_client()
    first = client.get("/macro")
    assert first.get_data(as_text=True) == '<link href="/static/o\'neil café.css">'
    assert links(first) == [link("/static/o'neil%20caf%C3%A9.css")]
    assert links(client.get("/macro")) == [nopush("/static/o'neil%20caf%C3%A9.css")]


@pytest.mark.parametrize(
    "template",
    [
        "{% macro css(name) %}\n  /static/{{ name }}.css\n{% endmacro %}{% set u = css('a') %}",
        "{% set u %}\r\n/static/a.css\n{% endset %}",
        "{% set u %}/static/\n\ta.css{% endset %}",
        "{% set u %}/static/&#10;a.css&#13;{% endset %}",
    ],
    ids=["macro", "block crlf", "within", "references"],
)
def test_a_url_a_block_writes_over_lines_is_linked_as_the_page_reads_it(template: str) -> None:
    """A macro or ``{% set %}`` block written over lines puts newlines in its url, which
    the page's ``href`` asks for without: the URL parser drops every tab and newline (WHATWG
    URL, "basic URL parser"). Refused as a url that could end the header, the page was a
    500; as a plain str, such a url is still refused (a bug or an attack)."""
    app = edge_app()

    @app.route("/lines")
    def lines() -> str:
        return render_template_string(template + "<link href=\"{{ push(u, as='style') }}\">")

    response = app.test_client().get("/lines")
    assert response.status_code == 200
    assert links(response) == [link("/static/a.css")]
    with pytest.raises(ValueError, match="CR or LF"):
        push("\n/static/a.css\n", as_="style")


def test_a_parameter_value_given_as_html_is_written_as_the_page_reads_it() -> None:
    """A ``{% set %}`` block is ``Markup``, a ``&`` of its text written ``&amp;``: as a
    parameter value its ``;`` was refused, a ValueError and a 500 for the page. It is
    read as the page reads it, as a url given as HTML is."""
    app = edge_app()
    block = "{% set title %}{{ q }}{% endset %}"

    @app.route("/titled")
    def titled() -> str:
        return render_template_string(
            block + "{{ push('/a.css', as='style', title=title) }}", q="Tom & Jerry"
        )

    response = app.test_client().get("/titled")
    assert response.status_code == 200
    assert links(response) == ['</a.css>; rel=preload; as=style; title="Tom & Jerry"']


@pytest.mark.parametrize(
    ("block", "call", "written"),
    [
        (
            "{% set media %}\n  (max-width: 600px)\n{% endset %}",
            "push('/a.css', as='style', media=media)",
            '</a.css>; rel=preload; as=style; media="(max-width: 600px)"',
        ),
        (
            "{% set media %}(max-width:&#10;600px){% endset %}",
            "push('/a.css', as='style', media=media)",
            '</a.css>; rel=preload; as=style; media="(max-width: 600px)"',
        ),
        (
            "{% set title %}Main\r\n\tstyle{% endset %}",
            "push('/a.css', as='style', title=title)",
            '</a.css>; rel=preload; as=style; title="Main style"',
        ),
        (
            "{% set flag %}title=Main\n  style\n{% endset %}",
            "push('/a.css', flag, as='style')",
            '</a.css>; rel=preload; as=style; title="Main style"',
        ),
        (
            '{% set flag %}media=" (max-width:\n 600px) "{% endset %}',
            "push('/a.css', flag, as='style')",
            '</a.css>; rel=preload; as=style; media="(max-width: 600px)"',
        ),
        (
            '{% set flag %}media=&#32;"(max-width: 600px)"&#10;{% endset %}',
            "push('/a.css', flag, as='style')",
            '</a.css>; rel=preload; as=style; media="(max-width: 600px)"',
        ),
        # Only whitespace goes from its ends, never a letter of the value.
        (
            "{% set title %}\n  X-Large X\n{% endset %}",
            "push('/a.css', as='style', title=title)",
            '</a.css>; rel=preload; as=style; title="X-Large X"',
        ),
    ],
    ids=[
        "media over lines",
        "newline reference",
        "crlf within",
        "positional",
        "quoted",
        "quoted, references outside",
        "letters at its ends",
    ],
)
def test_a_parameter_value_a_block_writes_over_lines_is_written_on_one(
    block: str, call: str, written: str
) -> None:
    """A ``{% set %}`` block written over lines puts newlines in a value, which a header
    cannot hold: refused as a value that could end the header, the page was a 500, though
    its ``<link media>`` read the same text. Each attribute a preload reads with whitespace
    in it (``media``, ``imagesrcset``, ``integrity``, ``type``) takes any run of it as one
    space: such a value is written as Infra's "strip and collapse ASCII whitespace" makes
    it. A plain str holding a newline is still refused (a bug or an attack)."""
    app = edge_app()

    @app.route("/lines")
    def lines() -> str:
        return render_template_string(block + "{{ " + call + " }}")

    response = app.test_client().get("/lines")
    assert response.status_code == 200
    assert links(response) == [written]
    with pytest.raises(ValueError, match="a header cannot"):
        push("/a.css", as_="style", media="\n(max-width: 600px)\n")


@pytest.mark.parametrize(
    ("block", "written"),
    [
        ("{% set kind %}\n  style\n{% endset %}", "</a.css>; rel=preload; as=style"),
        ("{% set kind %}\nfont\n{% endset %}", "</a.css>; rel=preload; as=font; crossorigin"),
        ("{% set kind %}x&amp{% endset %}", "</a.css>; rel=preload; as=x&"),
    ],
    ids=["over lines", "a font over lines", "a reference"],
)
@pytest.mark.parametrize("keyword", ["as", "as_"])
def test_as_given_as_html_is_read_as_the_page_reads_it_under_either_name(
    block: str, written: str, keyword: str
) -> None:
    """``as=`` given as a ``{% set %}`` block over lines was read as the page reads it, but
    the same block given as ``as_=`` (push()'s Python name, which a template may call too)
    was written as it was: its newline refused, a ValueError and a 500 for the page, and a
    font's ``as`` not seen, so no ``crossorigin``. Both names read it alike, and the same
    text pushed before as a plain str (push() keeps what it made) is not taken for it."""
    assert push("/a.css", as_="x&amp") == "/a.css"  # outside a request: made, and kept
    app = edge_app()

    @app.route("/kind")
    def kind() -> str:
        return render_template_string(block + "{{ push('/a.css', " + keyword + "=kind) }}")

    response = app.test_client().get("/kind")
    assert response.status_code == 200
    assert links(response) == [written]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("false", "</a.css>; rel=preload"),
        ("none", "</a.css>; rel=preload"),
        ("2", "</a.css>; rel=preload; as=2"),
    ],
)
@pytest.mark.parametrize("keyword", ["as", "as_"])
def test_as_is_read_as_any_keyword_under_either_name(
    value: str, written: str, keyword: str
) -> None:
    """push()'s docstring says a keyword's ``False`` is left out and a number written as
    its str, ``as_`` among them: ``as=false`` was left out, ``as_=false`` a ValueError
    (a 500), and ``as_=2`` too."""
    app = edge_app()

    @app.route("/kind")
    def kind() -> str:
        return render_template_string("{{ push('/a.css', " + keyword + "=" + value + ") }}")

    response = app.test_client().get("/kind")
    assert response.status_code == 200
    assert links(response) == [written]


def test_a_quote_in_a_parameter_value_is_refused_where_the_template_pushes() -> None:
    """Apache's ``mod_http2`` ends a quoted value at its first ``"``, escaped or not, and
    reads nothing after it: written ``title="say \\"hi\\""``, a held link's ``nopush``
    went unread, so Apache pushed it on every visit, and the links after it were never
    pushed, though recorded as pushed. As a ``,`` or ``;`` is, it is refused, by the
    ``push()`` the template wrote."""
    app = edge_app()
    app.testing = True  # the view's exception is raised to the test, not made a 500

    @app.route("/quoted")
    def quoted() -> str:
        return render_template_string(
            "{{ push('/a.css', as='style', title=q) }}{{ push('/b.js', as='script') }}",
            q='say "hi"',
        )

    with pytest.raises(ValueError, match="'title'") as raised:
        app.test_client().get("/quoted")
    assert any(str(entry.path) == "<template>" for entry in raised.traceback)


@pytest.mark.parametrize(
    ("written", "read"),
    [
        # In an attribute, a named reference without its ";" before "=" or a letter or
        # digit is text (HTML Standard, "named character reference state"; Chromium 156
        # reads href="/a?v=3&region=eu" so). html.unescape read "&reg" as "®".
        ("/chart.css?v=3&region=eu", "/chart.css?v=3&region=eu"),
        ("/chart.css?v=3&notify=1&amp=2", "/chart.css?v=3&notify=1&amp=2"),
        ("/chart.css?v=3&amp;region=eu", "/chart.css?v=3&region=eu"),
        # Read, the url loses its references alone: every letter stays, "X" as any.
        ("/chart.css?v=3&amp;X=1", "/chart.css?v=3&X=1"),
        ("/chart.css?v=3&reg;ion=eu", "/chart.css?v=3%C2%AEion=eu"),
        ("/chart.css?v=3&copy", "/chart.css?v=3%C2%A9"),
        ("/chart.css?v=3&#65a", "/chart.css?v=3Aa"),
        # After the name, only "=" or an ASCII letter or digit keeps it as written.
        ("/chart.css?v=3&reg2", "/chart.css?v=3&reg2"),
        # The shortest names, of two letters, too: "&gt=2" is a parameter gt, not ">=2".
        ("/chart.css?v=3&gt=2", "/chart.css?v=3&gt=2"),
        ("/chart.css?v=3&copy-2", "/chart.css?v=3%C2%A9-2"),
        ("/chart.css?v=3&reg/", "/chart.css?v=3%C2%AE/"),
        ("/chart.css?v=3&reg\xe9", "/chart.css?v=3%C2%AE%C3%A9"),
        # No name in the table starts it: text, as written; of one letter too.
        ("/chart.css?v=3&zzz=eu", "/chart.css?v=3&zzz=eu"),
        ("/chart.css?tags=a&b", "/chart.css?tags=a&b"),
        # A whole name the table holds is read as its character, though a shorter one
        # ("&not") starts it, followed by a letter: "&notin;" is U+2209, not "&not" and "in;".
        ("/chart.css?v=3&notin;", "/chart.css?v=3%E2%88%89"),
        # A numeric reference to a control or a noncharacter is a parse error, but the
        # HTML Standard keeps its code point, which the URL parser percent-encodes
        # (html.unescape dropped it: "/ab.css"), or strips at either end of the url.
        ("/a&#1;b.css", "/a%01b.css"),
        ("/a&#11;b.css", "/a%0Bb.css"),
        ("/a&#x7F;b.css", "/a%7Fb.css"),
        ("/a&#xFDD0;b.css", "/a%EF%B7%90b.css"),
        ("/a&#65535;b.css", "/a%EF%BF%BFb.css"),
        ("&#1;/a.css&#x1f;", "/a.css"),
        # As html.unescape reads them too: 0x00, a surrogate and past 0x10FFFF are U+FFFD,
        # 0x80 to 0x9F read through windows-1252, and CR is CR (dropped in a url).
        ("/a&#0;b.css", "/a%EF%BF%BDb.css"),
        ("/a&#xD800;b.css", "/a%EF%BF%BDb.css"),
        ("/a&#x110000;b.css", "/a%EF%BF%BDb.css"),
        ("/a&#x80;b.css", "/a%E2%82%ACb.css"),
        ("/a&#x81;b.css", "/a%C2%81b.css"),
        ("/a&#13;b.css", "/ab.css"),
        # However many digits: html.unescape's int() raised ValueError past 4,300 of them.
        pytest.param("/a&#" + "9" * 5000 + ";b.css", "/a%EF%BF%BDb.css", id="5000 digits"),
        pytest.param("/a&#" + "0" * 5000 + "65;b.css", "/aAb.css", id="5000 zeros then 65"),
    ],
)
def test_a_block_s_literal_ampersand_is_read_as_an_attribute_reads_it(
    written: str, read: str
) -> None:
    """A ``{% set %}`` block's own text is Markup, not escaped: ``&region=eu`` in an
    ``href`` is what the browser asks for, not ``®ion=eu``. Read as text content, the
    link named (and a proxy pushed, recorded as held) a url the page never asks for."""
    app = edge_app()

    @app.route("/block")
    def block() -> str:
        block = "{% set css %}" + written + "{% endset %}"
        return render_template_string(block + "<link href=\"{{ push(css, as='style') }}\">")

    response = app.test_client().get("/block")
    assert response.get_data(as_text=True) == f'<link href="{written}">'
    assert links(response) == [link(read)]


@pytest.mark.parametrize(
    "call",
    [
        "push('/a.css', as='style', title=text)",
        "push('/a.css', 'title=' ~ text, as='style')",
        "push('/a.css', as='style', rel='preload' ~ text)",
    ],
    ids=["keyword", "name=value", "rel"],
)
@pytest.mark.parametrize("reference", ["&#1;", "&#11;", "&#x1F;", "&#127;", "&#xFDD0;"])
def test_a_numeric_reference_to_a_control_is_read_as_the_page_reads_it_and_refused(
    reference: str, call: str
) -> None:
    """``html.unescape`` drops a numeric reference to a control that is not whitespace
    or to a noncharacter; the HTML Standard ("numeric character reference end state")
    calls it a parse error and keeps the code point: ``{% set title %}a&#1;b{% endset
    %}`` reads ``a\\x01b`` in the page. Read so, the value holds a control or a non-ASCII
    character and is refused, as the same text as a str is; it was linked ``title=ab``,
    and ``rel='preload&#1;'`` a lone preload, pushed."""
    app = edge_app()
    app.testing = True  # the view's exception is raised to the test, not made a 500

    @app.route("/referenced")
    def referenced() -> str:
        block = "{% set text %}" + reference + "{% endset %}"
        return render_template_string(block + "{{ " + call + " }}")

    with pytest.raises(ValueError, match="holds a character a header cannot"):
        app.test_client().get("/referenced")


@pytest.mark.parametrize("markup_first", [True, False], ids=["markup first", "str first"])
def test_the_same_text_as_markup_and_as_a_str_are_two_resources_whatever_came_first(
    markup_first: bool,
) -> None:
    """Markup is a str, equal to the same text: push()'s cache of resources, keyed on the
    arguments, must key the url as the page reads it, or the second spelling is answered
    with the first one's link (``&amp;`` read as ``&``, or not)."""
    app = edge_app()
    text = "/thumb?w=1&amp;h=2"

    @app.route("/as/<kind>")
    def pushes(kind: str) -> str:
        return push(Markup(text) if kind == "markup" else text, as_="image")

    client = app.test_client(use_cookies=False)
    order = ["markup", "str"] if markup_first else ["str", "markup"]
    written = {kind: links(client.get(f"/as/{kind}")) for kind in order}
    assert written == {
        "markup": ["</thumb?w=1&h=2>; rel=preload; as=image"],
        "str": ["</thumb?w=1&amp;h=2>; rel=preload; as=image; nopush"],  # its ";"
    }


@pytest.mark.parametrize("markup_first", [True, False], ids=["markup first", "str first"])
def test_a_flag_as_markup_and_as_a_str_are_two_resources_whatever_came_first(
    markup_first: bool,
) -> None:
    """A positional ``"name=value"`` given as Markup (a ``{% set %}`` block) has its value
    read as the page reads it, ``&amp`` as ``&``; the same text as a str is written as
    it is. Equal as str, the two were one entry of push()'s cache: the second spelling
    got the first one's link."""
    app = edge_app()
    flag = "title=Tom &amp Jerry"

    @app.route("/as/<kind>")
    def pushes(kind: str) -> str:
        return push("/a.css", Markup(flag) if kind == "markup" else flag, as_="style")

    client = app.test_client(use_cookies=False)
    order = ["markup", "str"] if markup_first else ["str", "markup"]
    written = {kind: links(client.get(f"/as/{kind}")) for kind in order}
    assert written == {
        "markup": ['</a.css>; rel=preload; as=style; title="Tom & Jerry"'],
        "str": ['</a.css>; rel=preload; as=style; title="Tom &amp Jerry"'],
    }


@pytest.mark.parametrize(
    ("block", "written"),
    [
        ("&#116;itle=a", "title=a"),
        ("&#x54;ITLE=a", "TITLE=a"),
        ("x&amp;y=a", "x&y=a"),
        ("&#110;opush", "nopush"),
        ("nopush\n", "nopush"),
        ("title&#61;a", "title=a"),
        ("title&#x3D;&#34;a&#34;", "title=a"),
        ("title=a&#61;b", 'title="a=b"'),
    ],
    ids=[
        "decimal",
        "hex, its case kept",
        "&amp;",
        "a flag",
        "a flag over lines",
        "its = a reference",
        "its = and quotes references",
        "a value's = a reference",
    ],
)
def test_a_flag_given_as_markup_is_read_as_the_page_reads_it_name_and_all(
    block: str, written: str
) -> None:
    """A ``{% set %}`` block (or a macro's output) is HTML as a whole: its name is read
    as the page reads it, as its value is. Only its value was: ``&#116;itle=a`` was
    refused as no token, a flag written over lines too, where the text says
    ``title=a`` and ``nopush``."""
    app = edge_app()

    @app.route("/flag")
    def flagged() -> str:
        set_block = "{% set f %}" + block + "{% endset %}"
        return render_template_string(set_block + "{{ push('/a.css', f, as='style') }}")

    assert links(app.test_client().get("/flag")) == [f"</a.css>; rel=preload; as=style; {written}"]


@pytest.mark.parametrize(
    "block", ["cross&#111;rigin=use-credentials", "crossorigin&#61;use-credentials"]
)
def test_a_crossorigin_given_as_markup_is_read_as_named(block: str) -> None:
    """A font's preload gets ``crossorigin`` unless one is named: one named in a block
    (``cross&#111;rigin=use-credentials``, its ``=`` a reference too) is named, not
    written beside a second one."""
    app = edge_app()

    @app.route("/font")
    def font() -> str:
        return push("/f.woff2", Markup(block), as_="font")

    assert links(app.test_client().get("/font")) == [
        "</f.woff2>; rel=preload; as=font; crossorigin=use-credentials"
    ]


def _written_with_references(text: str, references: list[int]) -> Markup:
    """``text`` as a block may write it: each character escaped, or a numeric reference
    (decimal, hexadecimal) as ``references`` says for it in turn."""
    spelled = []
    for index, char in enumerate(text):
        how = references[index % len(references)] if references else 0
        spelled.append(
            str(Markup.escape(char))
            if how == 0
            else f"&#{ord(char)};"
            if how == 1
            else f"&#x{ord(char):X};"
        )
    return Markup("".join(spelled))


def _link_or_refusal(flag: object) -> str:
    """A font's link for ``flag``: one gets ``crossorigin`` unless the flag names it."""
    try:
        return make_resource("/f.woff2", (flag,), "font", None, ()).link
    except ValueError as refused:
        return f"refused: {refused}"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ntiTle=\"&#;1x-crossorigin'"), max_size=16),
    st.lists(st.integers(0, 2), max_size=8),
)
@example('title="a=b"', [2])
@example("crossorigin=anonymous", [0] * 11 + [1])
def test_a_flag_given_as_markup_links_as_its_text_whatever_its_references(
    text: str, references: list[int]
) -> None:
    """A flag given as HTML is linked, or refused, as the text the page reads from it,
    whichever of its characters (its ``=`` and quotes too) are written as references: a
    font's, so whether it names ``crossorigin`` is read so too."""
    flag = _written_with_references(text, references)
    assert _link_or_refusal(flag) == _link_or_refusal(text)


@pytest.mark.parametrize(
    ("flag", "refused"),
    [
        (
            Markup("title=a&#1;"),
            "Link parameter 'title' holds a character a header cannot: 'a\\x01'",
        ),
        (Markup("ti&#1;tle=a"), "Link parameter name must be an RFC 8288 token, got 'ti\\x01tle'"),
        (
            Markup("ti&#39;tle=a"),
            "Link parameter name holds a ', * or %, at which Apache's mod_http2 stops "
            'reading the Link header: "ti\'tle"',
        ),
        (Markup("no&#1;push"), "Link flag must be an RFC 8288 token, got 'no\\x01push'"),
        (Markup("title&amp;#61;a"), "Link flag must be an RFC 8288 token, got 'title&#61;a'"),
    ],
    ids=["its value", "its name", "a quote in its name", "a flag", "read once, not twice"],
)
def test_a_flag_given_as_markup_is_refused_naming_it_as_a_plain_str(
    flag: Markup, refused: str
) -> None:
    """A refusal names the parameter as the page reads it, a str: it said
    ``Link parameter Markup('title')``, a name of the library's type, and named
    ``ti&#39;tle`` (a quote autoescaped in a block) no token, where its ``'`` is what
    Apache cannot read."""
    with pytest.raises(ValueError) as refusal:
        push("/a.css", flag, as_="style")  # checked outside a request all the same
    assert str(refusal.value) == refused


@pytest.mark.parametrize(
    "flag",
    [
        *("title=a\r\n", "title=a\n", "title=a\x1f", "title=\x0ba", "title=a\xa0"),
        *("title=\u3000a", "\x1ftitle=a", "title\x85=a"),
    ],
    ids=[
        *("crlf", "lf", "unit separator", "vertical tab", "nbsp", "ideographic space"),
        *("before the name", "after the name"),
    ],
)
def test_a_name_value_flag_holding_a_control_or_a_non_ascii_space_is_refused(flag: str) -> None:
    """A ``"name=value"`` flag was stripped with ``str.strip()``: ``"title=a\\r\\n"`` and
    ``"title=a\\x1f"`` were written ``title=a``, where the keyword ``title="a\\r\\n"``
    raises. Only the spaces and tabs written around ``=`` are dropped; a control or a
    non-ASCII space is refused, as in the keyword's value."""
    app = edge_app()
    app.testing = True  # the view's exception is raised to the test, not made a 500

    @app.route("/flag")
    def flagged() -> str:
        return push("/a.css", flag, as_="style")

    with pytest.raises(ValueError, match="title"):
        app.test_client().get("/flag")


@pytest.mark.parametrize(
    ("flag", "written"),
    [
        (" title = a\t", "</a.css>; rel=preload; as=style; title=a"),
        ("\ttitle=\t a b ", '</a.css>; rel=preload; as=style; title="a b"'),
        # rel="preload\n" reads as HTML reads it, a lone preload, in either spelling.
        ("rel=preload\n", "</a.css>; rel=preload; as=style"),
        # Given as HTML (a block written over lines), read as the page reads it.
        (
            Markup("\n  title=Main\n  style\n"),
            '</a.css>; rel=preload; as=style; title="Main style"',
        ),
    ],
    ids=["spaces and tabs", "spaces within", "rel over lines", "markup over lines"],
)
def test_a_name_value_flag_loses_the_spaces_and_tabs_around_its_parts(
    flag: str, written: str
) -> None:
    app = edge_app()

    @app.route("/flag")
    def flagged() -> str:
        return push("/a.css", flag, as_="style")

    assert links(app.test_client().get("/flag")) == [written]


@pytest.mark.parametrize(
    ("flag", "as_", "written"),
    [
        ("crossorigin ", "font", "</f>; rel=preload; as=font; crossorigin"),
        ("\tcrossorigin", "font", "</f>; rel=preload; as=font; crossorigin"),
        (" nopush ", "style", "</f>; rel=preload; as=style; nopush"),
    ],
    ids=["a space after", "a tab before", "spaces around"],
)
def test_a_bare_flag_loses_the_spaces_and_tabs_around_it(
    flag: str, as_: str, written: str
) -> None:
    """A bare flag is read as a ``"name=value"`` flag's name is: ``"crossorigin "`` was
    refused as no token, a 500, where ``" title = a "`` is ``title=a`` and Flask-Firehose
    wrote ``; crossorigin `` (whitespace a header reader drops, RFC 9110 §5.6.3). A
    font's link gets no second ``crossorigin``."""
    app = edge_app()

    @app.route("/flag")
    def flagged() -> str:
        return push("/f", flag, as_=as_)

    assert links(app.test_client().get("/flag")) == [written]


@pytest.mark.parametrize("flag", ["crossorigin\r\n", "nopush\x0b", "\xa0nopush", "no push"])
def test_a_bare_flag_holding_a_control_a_non_ascii_space_or_a_space_within_is_refused(
    flag: str,
) -> None:
    """Only the spaces and tabs around a bare flag go, as around a ``"name=value"``
    flag's parts: a control or a non-ASCII space is refused, and so is a space within."""
    with pytest.raises(ValueError, match="flag must be an RFC 8288 token"):
        make_resource("/f", (flag,), "style", None, ())


@pytest.mark.parametrize(("flag", "named"), [(" ", " "), ("\t", "\t"), (Markup("&#32;"), " ")])
def test_a_flag_of_whitespace_alone_is_refused_as_given(flag: str, named: str) -> None:
    """Its whitespace dropped, nothing is left: the refusal names what the app gave (a
    template variable's blank), as the page reads it, not ``''``, a flag it never wrote."""
    with pytest.raises(ValueError, match=re.escape(f"token, got {named!r}")):
        make_resource("/f", (flag,), "style", None, ())


@pytest.mark.parametrize(
    ("flags", "params", "written"),
    [
        (("crossorigin", "crossorigin"), (), "crossorigin"),
        (("nopush", "NoPush"), (), "nopush"),
        (("title=a", "TITLE=b"), (), "title=a"),
        (("crossorigin", "crossorigin=use-credentials"), (), "crossorigin"),
        (("crossorigin=use-credentials", " CrossOrigin"), (), "crossorigin=use-credentials"),
        ((), (("title", "a"), ("Title", "b")), "title=a"),
        (("title=b",), (("Title", "a"),), "Title=a"),
    ],
    ids=[
        "a flag twice",
        "in another case",
        "a name=value twice",
        "bare, then with a value",
        "with a value, then bare",
        "keywords differing in case",
        "a keyword beats a flag",
    ],
)
def test_a_parameter_named_twice_is_written_once_as_first_given(
    flags: tuple[str, ...], params: tuple[tuple[str, str], ...], written: str
) -> None:
    """Parameter names are case-insensitive (RFC 8288 §3), so two spellings of one are one
    parameter given twice: ``push(url, "crossorigin", "crossorigin")`` wrote it twice, and
    ``"crossorigin", "crossorigin=use-credentials"`` wrote both values, one of which a
    browser drops (which, RFC 8288 leaves undefined; an HTML parser keeps an element's
    first attribute). The first spelling is written, as of two ``"name=value"`` flags
    already; a keyword still beats every positional one."""
    link = make_resource("/f", flags, "style", None, params).link
    assert link == f"</f>; rel=preload; as=style; {written}"


@pytest.mark.parametrize(
    ("flags", "params"),
    [
        (("key=1", "\u212aey=2"), ()),
        (("\u212aey=2", "key=1"), ()),
        (("\u212aey",), (("key", "1"),)),
    ],
    ids=["a name first", "its non-ASCII look-alike first", "a keyword of the name"],
)
def test_a_name_that_lowers_to_another_outside_ascii_is_not_it(
    flags: tuple[str, ...], params: tuple[tuple[str, str], ...]
) -> None:
    """A name is given twice when it is the same in ASCII case alone, as HTTP and HTML
    compare names: ``"\u212aey"`` (KELVIN SIGN), which ``str.lower()`` makes ``key``, is
    another name, no token, refused whichever comes first. Taken for ``key``, it was
    dropped after it, unchecked, and refused before it."""
    with pytest.raises(ValueError, match=re.escape("token, got '\u212aey'")):
        make_resource("/f", flags, "style", None, params)


@pytest.mark.parametrize(
    ("flag", "named"), [(" =x", " =x"), ("=x", "=x"), (Markup("&#61;x"), "=x")]
)
def test_a_name_value_flag_of_no_name_is_refused_as_given(flag: str, named: str) -> None:
    """``push(url, " =x")`` said it got ``''``, a name the app never wrote: the refusal
    names the flag as given, as the page reads it (a ``Markup`` one's ``&#61;`` is ``=``)."""
    with pytest.raises(ValueError, match=re.escape(f"token, got {named!r}")):
        make_resource("/f", (flag,), "style", None, ())


def test_a_keyword_of_no_name_given_true_is_refused_as_no_token() -> None:
    """``push(url, **{"": True})`` (a template's ``**`` of data) is the bare flag ``''``,
    refused as no token: a ValueError, as for any flag no header can hold."""
    with pytest.raises(ValueError, match=re.escape("token, got ''")):
        make_resource("/f", (), "style", None, (("", True),))


@pytest.mark.parametrize(
    ("flag", "as_"),
    [("rel", "style"), ("REL", None), (" as ", None), (Markup("&#97;s"), None), ("As", None)],
)
def test_a_bare_rel_or_as_flag_is_refused_as_the_keyword_given_true_is(
    flag: str, as_: str | None
) -> None:
    """``rel`` and ``as`` take a value: ``rel=True`` and ``as_=True`` are refused. A bare
    one was written beside the link's own, ``</a.css>; rel=preload; as=style; rel`` (RFC
    8288 §3: a link has one ``rel``), or as the only one, ``</a.css>; rel=preload; as``:
    an empty ``as``, which no browser fetches, a push proxy pushed and the digest recorded."""
    with pytest.raises(ValueError, match=r"Link parameter '(rel|as)' takes a value, got the flag"):
        push("/a.css", flag, as_=as_)


@pytest.mark.parametrize("flag", ["as", "AS", "as=script", " As = script "])
def test_as_beats_a_positional_as_as_any_keyword_beats_its_name(flag: str) -> None:
    """``as_`` is the keyword ``as`` (a template's ``as=`` is one): every positional
    spelling of its name is dropped, as any keyword's is. A bare ``"as"`` beside it was
    refused as an ``as`` of no value in a view, while the same call from a template, whose
    ``as=`` is a keyword, wrote ``as=style``."""
    assert make_resource("/a.css", (flag,), "style", None, ()).link == (
        "</a.css>; rel=preload; as=style"
    )
    app = edge_app()
    with app.test_request_context():
        template = render_template_string(f"{{{{ push('/a.css', '{flag}', as='style') }}}}")
    assert template == "/a.css"


def _link_or_refused(flags: tuple[str, ...], params: tuple[tuple[str, str], ...]) -> object:
    try:
        return make_resource("/a.css", flags, "style", None, params).link
    except ValueError:
        return ValueError


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.text(st.sampled_from('a b\t\r\n\f\x0b\x1c\x1f\x7f\x85\xa0\u3000"=;,\xe9'), max_size=6))
@example("a\r\n")
@example("a\x1f")
@example("\xa0a")
def test_a_name_value_flag_is_read_as_its_keyword_spelling(value: str) -> None:
    """``push(url, "title=<value>")``, Flask-Firehose's spelling, links what ``push(url,
    title=<value>)`` does, or both raise: the flag's value is the keyword's, but for the
    spaces and tabs written around its parts and the quotes around it (``title="a b"``)."""
    assume(value == value.strip(" \t") and not (len(value) >= 2 and value[0] == value[-1] == '"'))
    keyword = _link_or_refused((), (("title", value),))
    assert _link_or_refused((f"title={value}",), ()) == keyword
    assert _link_or_refused((f" title =\t{value} ",), ()) == keyword


@pytest.mark.parametrize("markup_first", [True, False], ids=["markup first", "str first"])
@pytest.mark.parametrize("number", [False, True], ids=["a str value", "a number"])
def test_a_keyword_named_as_markup_and_as_a_str_are_two_resources_whatever_came_first(
    markup_first: bool, number: bool
) -> None:
    """A keyword's name given as Markup is read as the page reads it (``ti&#116;le`` is
    ``title``); the same text as a str is no token, refused. Equal as str, the two must
    not be one entry of push()'s cache, or the second spelling gets the first's answer:
    nor with a number for a value, whose arguments are keyed by type."""
    app = edge_app()
    name = "ti&#116;le"
    # Each its own, as push()'s cache is the process's.
    value: object = "markup-first" if markup_first else "str-first"
    if number:
        value = 41 if markup_first else 42

    @app.route("/as/<kind>")
    def pushes(kind: str) -> str:
        keywords: dict[Any, Any] = {Markup(name) if kind == "markup" else name: value}
        return push("/a.css", as_="style", **keywords)

    client = app.test_client(use_cookies=False)
    for kind in ["markup", "str"] if markup_first else ["str", "markup"]:
        if kind == "markup":
            written = f"</a.css>; rel=preload; as=style; title={value}"
            assert links(client.get("/as/markup")) == [written]
        else:  # the app's own mistake: a ValueError, so a 500
            assert client.get("/as/str").status_code == 500


@pytest.mark.parametrize(
    ("headers", "external", "written"),
    [
        # Werkzeug accepts any hex digits and colons in brackets as a host.
        ({"Host": "[1:2]"}, True, "http://[1:2]/static/app.css"),
        ({"Host": "[1::2::3]:8000"}, True, "http://[1::2::3]:8000/static/app.css"),
        # ProxyFix copies a client's prefix into the url, after the host or as its start.
        ({"X-Forwarded-Prefix": "["}, True, "http://localhost[/static/app.css"),
        ({"X-Forwarded-Prefix": "//["}, False, "//[/static/app.css"),
        ({"X-Forwarded-Prefix": "//a]b"}, False, "//a]b/static/app.css"),
    ],
)
def test_a_host_urlsplit_refuses_is_linked_not_a_500(
    headers: dict[str, str], external: bool, written: str
) -> None:
    """``url_for`` writes a host a client sent, which ``urlsplit`` refuses (brackets it
    cannot read as IPv6): ``push()`` raised its ValueError, a 500 where the app without
    the extension serves the page (a stranger's hunt). Another origin's url: nopush."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "edges"
    Firehose(app)

    @app.route("/page")
    def pushed() -> str:
        return push(url_for("static", filename="app.css", _external=external), as_="style")

    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    # Called as a server calls it: the test client's own urlsplit refuses such a host.
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, fields: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, fields))

    environ = EnvironBuilder(path="/page", headers=list(headers.items())).get_environ()
    body = b"".join(app(environ, start_response))
    [(status, fields)] = started
    assert status == "200 OK"
    assert body.decode() == written
    assert [value for name, value in fields if name == "Link"] == [nopush(written)]


@pytest.mark.parametrize(
    ("prefix", "written"),
    [("/shop", "/shop"), ("/<x>", "/%3Cx%3E"), ("/a\tb", "/ab"), ("/a\x01b", "/a%01b")],
)
def test_a_prefix_a_client_sent_is_linked_encoded_not_a_500(
    tmp_path: Any, prefix: str, written: str
) -> None:
    """ProxyFix trusts ``X-Forwarded-Prefix`` (``x_prefix=1``) and ``url_for`` copies it
    into each url as it is, "<", ">" and controls too: the page is served, with its urls
    linked as a browser requests them, by ``push()`` and by ``static_tag`` alike."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("body {}")
    app = Flask(__name__, root_path=str(tmp_path))
    app.config["SECRET_KEY"] = "edges"
    Firehose(app)

    @app.route("/pushed")
    def pushed() -> str:
        return push(url_for("static", filename="app.css"), as_="style")

    @app.route("/tag")
    def tagged() -> str:
        return render_template_string("{{ static_tag('app.css') }}")

    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    client = app.test_client()
    headers = {"X-Forwarded-Prefix": prefix}
    first = client.get("/pushed", headers=headers)
    assert first.status_code == 200
    assert first.get_data(as_text=True) == f"{prefix}/static/app.css"
    assert links(first) == [link(f"{written}/static/app.css")]
    tag = client.get("/tag", headers=headers)
    assert tag.status_code == 200
    [tag_link] = links(tag)
    assert tag_link.startswith(f"<{written}/static/app.css?v=")


def test_a_declared_url_and_a_pushed_spelling_of_it_are_one_link() -> None:
    app = edge_app()

    @app.route("/declared")
    @Firehose.hints("/é.css", as_="style")
    def declared() -> str:
        push("/%C3%A9.css", as_="style")
        return "declared"

    assert links(app.test_client().get("/declared")) == [link("/%C3%A9.css")]


@pytest.mark.parametrize("written", ["/thumb?w=1&amp;h=2", "\n  /thumb?w=1&amp;h=2\n"])
def test_a_url_declared_as_markup_is_linked_as_the_page_reads_it(written: str) -> None:
    """``Firehose.hints`` reads a url given as HTML as ``push()`` does: ``&amp;`` is ``&``,
    and a newline is dropped."""
    app = edge_app()

    @app.route("/declared")
    @Firehose.hints(Markup(written), as_="image")
    def declared() -> str:
        return "declared"

    assert links(app.test_client().get("/declared")) == ["</thumb?w=1&h=2>; rel=preload; as=image"]


def test_a_nested_request_context_within_a_view_collects_for_the_view() -> None:
    """What how-it-works.md says: pushes belong to the request app.wsgi_app serves, so an
    e-mail rendered in a view's own test_request_context adds its pushes to the page;
    the same template rendered outside any request records nothing."""
    app = edge_app()
    email = "{{ push('/email.css', as='style') }}"

    @app.route("/signup")
    def signup() -> str:
        push("/site.css", as_="style")
        with app.test_request_context("/welcome-email"):
            assert render_template_string(email) == "/email.css"
        return "check your inbox"

    with app.test_request_context("/welcome-email"):
        assert render_template_string(email) == "/email.css"
    assert links(app.test_client().get("/signup")) == [link("/site.css"), link("/email.css")]


@pytest.mark.parametrize("body", ["stream_template_string", "stream_with_context"])
def test_a_push_in_a_streamed_body_returns_the_url_and_records_nothing(body: str) -> None:
    """What how-it-works.md says: a streamed body runs after the headers were sent, so its
    push() returns the url and neither links nor records it; the view's own push, made
    before the stream, is linked and recorded."""
    app = edge_app()

    @app.route("/streamed")
    def streamed() -> Any:
        push("/site.css", as_="style")
        if body == "stream_template_string":
            return stream_template_string("{{ push('/late.css', as='style') }}")

        def chunks() -> Iterator[str]:
            yield "<p>"
            yield push("/late.css", as_="style")

        return Response(stream_with_context(chunks()))

    client = app.test_client()
    first = client.get("/streamed")
    assert "/late.css" in first.get_data(as_text=True)
    assert links(first) == [link("/site.css")]
    assert held_now(client, "/site.css", "/late.css") == [True, False]
    again = client.get("/streamed")
    assert "/late.css" in again.get_data(as_text=True)
    assert links(again) == [nopush("/site.css")]


@pytest.mark.parametrize("late", ["teardown_request", "teardown_appcontext", "request_finished"])
def test_a_push_after_the_response_was_decided_returns_the_url_and_records_nothing(
    late: str,
) -> None:
    """What how-it-works.md says: a teardown function and a ``request_finished``
    receiver run after our step decided the response's links, so their push() neither
    links nor records; an ``after_this_request`` callback runs before it, and does."""
    app = edge_app()
    returned = []

    def push_late(*args: Any, **kwargs: Any) -> None:
        returned.append(push("/late.css", as_="style"))

    if late == "request_finished":
        request_finished.connect(push_late, app)
    else:
        getattr(app, late)(push_late)

    @app.route("/hooked")
    def hooked() -> str:
        push("/site.css", as_="style")
        after_this_request(lambda response: push("/callback.css") and response)
        return "ok"

    client = app.test_client()
    try:
        first = client.get("/hooked")
        again = client.get("/hooked")
    finally:
        request_finished.disconnect(push_late, app)
    assert returned == ["/late.css", "/late.css"]
    assert links(first) == [link("/site.css"), "</callback.css>; rel=preload"]
    assert held_now(client, "/site.css", "/callback.css", "/late.css") == [True, True, False]
    assert links(again) == [nopush("/site.css"), "</callback.css>; rel=preload; nopush"]


def test_a_genuine_value_is_read_as_the_fourth_different_copy_not_the_fifth() -> None:
    """Four different values, exactly, counted from the last sent: the bound stands on its
    number, not the constant."""
    app = edge_app()
    issuer = app.test_client()
    issuer.get("/page?u=/a.css")
    genuine = issuer.get_cookie(COOKIE)
    assert genuine is not None
    fresh = app.test_client(use_cookies=False)
    for foreign, answer in [
        (3, [nopush("/a.css"), link("/b.css")]),
        # The genuine value is not read, and may be the client's digest: nothing is
        # recorded, so nothing is written over it (it was replaced by one of /b.css alone).
        (4, [nopush("/a.css"), nopush("/b.css")]),
    ]:
        values = [genuine.value] + [f"x{n}" for n in range(foreign)]
        header = "; ".join(f"{COOKIE}={value}" for value in values)
        response = fresh.get("/page?u=/a.css&u=/b.css", headers={"Cookie": header})
        assert links(response) == answer
        assert ("Set-Cookie" in response.headers) is (foreign == 3)


def test_a_genuine_value_among_more_copies_than_are_tried_is_read_if_tried() -> None:
    """Past MAX_COOKIE_COPIES different values, one not tried may be the client's digest;
    but when one tried verifies, it is what the client holds: read, and recorded."""
    app = edge_app()
    issuer = app.test_client()
    page(issuer, "/a.css")
    genuine = issuer.get_cookie(COOKIE)
    assert genuine is not None
    values = [f"x{n}" for n in range(MAX_COOKIE_COPIES + 1)] + [genuine.value]
    header = "; ".join(f"{COOKIE}={value}" for value in values)
    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css&u=/b.css", headers={"Cookie": header}
    )
    assert links(response) == [nopush("/a.css"), link("/b.css")]
    assert f"{COOKIE}=" in response.headers["Set-Cookie"]


def test_a_copy_this_process_decoded_is_not_verified_again_beside_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sent beside another copy, the value we signed is found in the cache of decoded
    digests, as when sent alone: only the stranger costs an HMAC."""
    app = edge_app()
    client = app.test_client()
    page(client, "/a.css")
    genuine = client.get_cookie(COOKIE)
    assert genuine is not None
    checked = count_verified(monkeypatch)
    header = f"{COOKIE}=stranger; {COOKIE}={genuine.value}"
    response = app.test_client(use_cookies=False).get("/page?u=/a.css", headers={"Cookie": header})
    assert links(response) == [nopush("/a.css")]
    assert checked == ["stranger"]


def test_a_cookie_sent_many_times_costs_at_most_max_cookie_copies_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A value that fails to verify is never cached, so each costs an HMAC on every
    request: of 600 copies (an 8 KB header), only MAX_COOKIE_COPIES different ones are
    checked, and a genuine value among them is still read."""
    checked = count_verified(monkeypatch)
    app = edge_app()
    client = app.test_client()
    client.get("/page?u=/a.css")
    genuine = client.get_cookie(COOKIE)
    assert genuine is not None
    checked.clear()
    copies = [f"{COOKIE}=x{n}" for n in range(600)]
    response = app.test_client(use_cookies=False).get(
        "/page?u=/a.css", headers={"Cookie": "; ".join(copies)}
    )
    assert response.status_code == 200
    # More different values than are tried: nothing recorded (one not tried may be ours).
    assert links(response) == [nopush("/a.css")]
    assert "Set-Cookie" not in response.headers
    sent = [value for value in checked if value.startswith("x")]  # not the one we signed
    assert sent == [f"x{n}" for n in range(600 - MAX_COOKIE_COPIES, 600)]
    checked.clear()
    same = "; ".join([f"{COOKIE}=x"] * 599 + [f"{COOKIE}={genuine.value}"])
    response = app.test_client(use_cookies=False).get("/page?u=/a.css", headers={"Cookie": same})
    assert links(response) == [nopush("/a.css")]  # 599 copies of one value are one
    assert [value for value in checked if value.startswith("x")] == ["x"]


def test_copies_planted_with_longer_paths_do_not_hide_the_clients_own_for_good() -> None:
    """A sibling subdomain plants four cookies of the name, ``Domain=.example.com`` and
    longer paths (``/blog``, ``/blog/``, ``/blog/2026``, ``/blog/2026/``): a browser sends
    them before the client's own at ``Path=/`` (RFC 6265 §5.4; Chromium 156 sent
    ``planted3; planted2; planted1; planted0; own``) on every request under
    ``/blog/2026/`` while they live (up to 400 days, the planter's choice). Only the first
    MAX_COOKIE_COPIES were tried, so the client's own, sent last, was never read: those
    pages were all ``nopush`` and recorded nothing, on every visit, not on "that request"
    (docs/security.md). The copies after the client's own can only be of its path or a
    shorter one: trying the last ones reads it."""
    app = edge_app()
    client = app.test_client()
    page(client, "/a.css")
    own = client.get_cookie(COOKIE)
    assert own is not None
    planted = [f"planted{n}" for n in range(MAX_COOKIE_COPIES)]  # longer paths: sent first
    header = "; ".join(f"{COOKIE}={value}" for value in [*planted, own.value])
    visitor = app.test_client(use_cookies=False)
    for _ in range(2):  # the planted copies are sent again on every visit
        response = visitor.get("/page?u=/a.css&u=/b.css", headers={"Cookie": header})
        assert links(response) == [nopush("/a.css"), link("/b.css")]
        assert f"{COOKIE}=" in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("site", "header"),
    [
        # HTML, "check a navigation response's adherence to X-Frame-Options" (steps 6, 8): more
        # than one value, one of them deny/sameorigin: refused. One header line, joined.
        ("same-origin", "X-Frame-Options:DENY, SAMEORIGIN"),
        ("same-origin", "X-Frame-Options:deny,deny"),
        # Step 6 again, without DENY: two values, one of them sameorigin, refuse the
        # frame even for its own origin (not read as SAMEORIGIN alone).
        ("same-origin", "X-Frame-Options:SAMEORIGIN, ALLOWALL"),
        # Beside a value HTML does not know (ALLOW-FROM, which it never took), sameorigin
        # or allowall refuses the frame all the same.
        ("same-origin", "X-Frame-Options:SAMEORIGIN, ALLOW-FROM https://example.test"),
        ("same-origin", "X-Frame-Options:ALLOWALL, ALLOW-FROM https://example.test"),
        # sameorigin, framed by another site: refused (Chromium's error page, as for DENY).
        ("cross-site", "X-Frame-Options:SAMEORIGIN"),
        ("cross-site", "Content-Security-Policy:frame-ancestors 'self'"),
        ("cross-site", "Content-Security-Policy:frame-ancestors 'none' 'self'"),
        ("same-origin", "Content-Security-Policy:frame-ancestors 'none'"),
        # A keyword that names no url ('unsafe-inline', a nonce) allows no framer either.
        ("same-origin", "Content-Security-Policy:frame-ancestors 'none' 'unsafe-inline'"),
        ("same-origin", "Content-Security-Policy:frame-ancestors 'nonce-x'"),
        # Two policies (a "," joins them): each is enforced.
        (
            "cross-site",
            "Content-Security-Policy:frame-ancestors https://example.test, frame-ancestors 'none'",
        ),
    ],
)
def test_a_frame_the_browser_refuses_records_nothing(site: str, header: str) -> None:
    client = edge_app().test_client()
    headers = {**NAVIGATION, "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": site}
    client.get(f"/page?u=/a.css&h={quote(header)}", headers=headers)
    assert held_now(client, "/a.css") == [False]


@pytest.mark.parametrize("site", ["same-origin", "cross-site"])
def test_a_policy_without_frame_ancestors_leaves_x_frame_options_to_refuse(site: str) -> None:
    """HTML ignores X-Frame-Options only where a policy has ``frame-ancestors``."""
    client = edge_app().test_client()
    sent = {**NAVIGATION, "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": site}
    policy = quote("Content-Security-Policy:default-src 'self'; img-src *")
    client.get(f"/page?u=/a.css&h={policy}&h={quote('X-Frame-Options:DENY')}", headers=sent)
    assert held_now(client, "/a.css") == [False]


@pytest.mark.parametrize(
    ("site", "headers"),
    [
        # A frame-ancestors present decides alone: HTML ignores X-Frame-Options then.
        ("cross-site", ["Content-Security-Policy:frame-ancestors *", "X-Frame-Options:DENY"]),
        ("same-origin", ["X-Frame-Options:SAMEORIGIN"]),
        ("cross-site", ["Content-Security-Policy:frame-ancestors https://example.test"]),
        # A policy without frame-ancestors leaves X-Frame-Options to decide.
        ("cross-site", ["Content-Security-Policy:default-src 'self'"]),
        (
            "same-origin",
            ["Content-Security-Policy:default-src 'self'", "X-Frame-Options:SAMEORIGIN"],
        ),
        # CSP3 ("does url match source list"): 'none' has no effect beside another
        # source expression.
        ("cross-site", ["Content-Security-Policy:frame-ancestors 'none' https://example.test"]),
        ("same-origin", ["Content-Security-Policy:frame-ancestors 'none' 'self'"]),
        # CSP3's parser ignores a directive repeated within one policy: the first decides.
        (
            "cross-site",
            [
                "Content-Security-Policy:frame-ancestors https://example.test; "
                "frame-ancestors 'none'"
            ],
        ),
    ],
)
def test_a_frame_the_browser_shows_is_recorded(site: str, headers: list[str]) -> None:
    """The other side of :func:`test_a_frame_the_browser_refuses_records_nothing`."""
    client = edge_app().test_client()
    sent = {**NAVIGATION, "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": site}
    query = "&".join(f"h={quote(header)}" for header in headers)
    client.get(f"/page?u=/a.css&{query}", headers=sent)
    assert held_now(client, "/a.css") == [True]


@pytest.mark.usefixtures("clients_ask_for_pages")
@pytest.mark.parametrize("connector", ["gcs", "session"])
def test_a_304_after_a_103_links_nothing_either(connector: str) -> None:
    """No 103 goes to a revalidation (If-None-Match, If-Modified-Since), but an app may
    answer 304 by a rule of its own: after a 103, that 304 carried the 200's ``Link``
    (``nopush``) without its ``Vary``, for a shared cache to merge into the stored 200."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="edges", FIREHOSE_EARLY_HINTS=True)
    status = {"code": 200}

    @app.route("/page")
    def page() -> tuple[str, int]:
        push("/a.css", as_="style")
        return "<p>page</p>", status["code"]

    Firehose(app, SessionConnector() if connector == "session" else None)
    sent: list[Any] = []
    environ = {"wsgi.early_hints": sent.append}
    stored = app.test_client().get("/page", environ_base=environ)  # learns the page
    assert (stored.status_code, links(stored)) == (200, [link("/a.css")])
    status["code"] = 304
    client = app.test_client()
    revalidated = client.get("/page", environ_base=environ)
    assert len(sent) == 1  # the 103 went out before the view
    assert revalidated.status_code == 304
    assert "Link" not in revalidated.headers
    assert revalidated.headers.getlist("Vary") == stored.headers.getlist("Vary")
    assert "Set-Cookie" not in revalidated.headers  # nothing recorded


def test_a_nameless_cookie_joined_over_http2_stays_with_the_value_before_it() -> None:
    """rejoined's docstring: a "," before a nameless cookie or an empty field cannot be
    told from a value's own (``x=1,2``, kept whole), so what follows it reads, and the
    cookie before it keeps the "," and what it joined (found by a fuzz run: a page
    script's ``document.cookie = "lone"`` beside Flask's session over HTTP/2)."""
    read = cookie_fields.rejoined("session=V1.x, lone, a=b")
    assert read == "session=V1.x, lone; a=b"
    cookies = parse_cookie(read)
    assert cookies["a"] == "b"
    # The session's value does not read as the one it was: Werkzeug 3.1.9 drops a value
    # holding a space, 3.1.0 to 3.1.8 read it whole, whose signature then fails.
    assert cookies.getlist("session") in ([], ["V1.x, lone"])
    assert dict(parse_cookie(cookie_fields.rejoined("session=V1.x, , a=b"))) == {
        "session": "V1.x,",
        "a": "b",
    }
    assert dict(parse_cookie(cookie_fields.rejoined("x=1,2, a=b"))) == {"x": "1,2", "a": "b"}


# --- the types a template hands push() ---------------------------------------------------


def test_a_number_as_version_is_its_str() -> None:
    """``{{ push(url, version=asset_version) }}`` with ``ASSET_VERSION = 3`` in the config:
    a number is read as its str, as every other keyword's number is, and is the same
    version as the str. It raised "a resource's version must be a str", a 500 for the
    page."""
    app = edge_app()

    @app.route("/number")
    def number() -> str:
        return render_template_string("{{ push('/a.css', as='style', version=v) }}", v=3)

    @app.route("/text")
    def text() -> str:
        return push("/a.css", as_="style", version="3")

    client = app.test_client()
    first = client.get("/number")
    assert first.status_code == 200
    assert links(first) == [link("/a.css")]
    assert links(client.get("/text")) == [nopush("/a.css")]
    assert make_resource("/a.css", (), "style", 2.5, ()).key == "/a.css\n2.5"


def test_versions_alike_to_python_are_cached_apart_when_written_apart() -> None:
    """0.0 == -0.0 and 1 == 1.0 as dict keys; as versions they are each their str, so
    push()'s cache hands none of them another's resource."""
    keys = [
        resource_of("/a.css", (), "style", version, True, {}).key
        for version in (0.0, -0.0, 1, 1.0)
    ]
    assert keys == ["/a.css\n0.0", "/a.css\n-0.0", "/a.css\n1", "/a.css\n1.0"]


@pytest.mark.parametrize("first", [1, 1.0, "1"])
def test_a_bool_as_version_is_refused_whatever_was_pushed_before(first: object) -> None:
    """``True`` equals 1 and 1.0: push()'s cache must not hand it the resource of
    ``version=1``. A bool has no reading as a version (``False`` is not "none": that is
    None), so it is refused, naming the argument."""
    push("/a.css", as_="style", version=first)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="version must be a str, an int or a float, got True"):
        push("/a.css", as_="style", version=True)
    assert make_resource("/a.css", (), "style", 1.0, ()).key == "/a.css\n1.0"


#: The urls and ``as`` values of push()'s common calls, plain str: push() looks them up in
#: its cache itself.
_PLAIN_URLS = ["/a.css", "/a.css?v=1&amp;w=2", "/a.css?v=1&w=2", "/a\r\nX-Evil: 1", ""]
_PLAIN_AS = [None, "style", "font", "css", "st&#121;le", "1"]
#: push()'s other arguments in a plain call: none.
_PLAIN_CALL: dict[str, Any] = {"flags": (), "version": None, "learn": True, "params": {}}


def _given(call: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """A plain call with ``changes``: a url or ``as`` given as HTML (``Markup``), each
    other argument given as a value."""
    call = {**_PLAIN_CALL, **call}
    for change in changes:
        for name, value in change.items():
            html = name.endswith(" as HTML")
            name = name.removesuffix(" as HTML")
            call[name] = Markup(call[name]) if html and call[name] is not None else value
    return call


#: push()'s arguments as templates and views give them: a plain call, one or two of them
#: given otherwise, each then often equal as a key to a plain one's (``Markup`` equals its
#: text, ``1`` equals ``True``): a url given as HTML, or one that would inject a header; an
#: ``as`` given as markup, or as no str; flags; a version of each type; ``learn`` not a
#: bool; a nonce; a legacy bundle; a template variable never set.
_PUSH_CALLS = st.builds(
    _given,
    st.fixed_dictionaries(
        {"url": st.sampled_from(_PLAIN_URLS), "as_": st.sampled_from(_PLAIN_AS)}
    ),
    st.lists(
        st.one_of(
            st.just({"url as HTML": True}),
            st.just({"as_ as HTML": True}),
            st.fixed_dictionaries({"url": st.just(Undefined(name="u"))}),
            st.fixed_dictionaries(
                {"as_": st.sampled_from([1, True, b"style", Undefined(name="a")])}
            ),
            st.fixed_dictionaries(
                {
                    "flags": st.sampled_from(
                        [("crossorigin",), ("nomodule",), (Markup("rel=prefetch"),), ("a b",)]
                    )
                }
            ),
            st.fixed_dictionaries({"version": st.sampled_from(["3", 3, 3.0, True])}),
            st.fixed_dictionaries({"learn": st.sampled_from([False, 1, 0, None])}),
            st.fixed_dictionaries(
                {
                    "params": st.sampled_from(
                        [
                            *({"nonce": "n0nce"}, {"nomodule": True}, {"media": "print"}),
                            *({"as": "style"}, {"crossorigin": None}),
                        ]
                    )
                }
            ),
        ),
        max_size=2,
    ),
)


def _pushed(
    push_one: Callable[[dict[str, Any]], object], calls: list[dict[str, Any]]
) -> list[Any]:
    """What ``push_one`` returned, or raised, for each of ``calls`` in turn, outside a
    request and in one of its own, with the resources it recorded there; and last, the
    resources they recorded in one request, by url."""

    def outcome(call: dict[str, Any], record: RequestPushes | None) -> object:
        token = current_record.set(record)
        try:
            return push_one(call)
        except Exception as e:
            return type(e), str(e)
        finally:
            current_record.reset(token)

    each = []
    for call in calls:
        alone = RequestPushes()
        each.append((outcome(call, None), outcome(call, alone), list(alone.resources.items())))
    shared = RequestPushes()
    for call in calls:
        outcome(call, shared)
    return [*each, list(shared.resources.items())]


def _as_made(pushed: list[Any]) -> list[Any]:
    """What was pushed, each resource as what it says (one made for one response, with a
    nonce, is never the same object twice)."""

    def said(recorded: list[tuple[str, Resource]]) -> list[tuple[str, tuple[Any, ...]]]:
        return [(url, astuple(resource)) for url, resource in recorded]

    return [
        *((out, inside, said(recorded)) for out, inside, recorded in pushed[:-1]),
        said(pushed[-1]),
    ]


def _push(call: dict[str, Any]) -> object:
    return push(
        call["url"],
        *call["flags"],
        as_=call["as_"],
        version=call["version"],
        learn=call["learn"],
        **call["params"],
    )


def _push_by_parts(call: dict[str, Any]) -> object:
    arguments = ("flags", "as_", "version", "learn", "params")
    record_push(resource_of(call["url"], *(call[name] for name in arguments)))
    return call["url"]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(_PUSH_CALLS, min_size=1, max_size=4), st.booleans())
# Calls one argument away from a plain call whose resource the cache holds: push()'s own
# lookup must not hand them that resource.
@example(calls=[{**_PLAIN_CALL, "url": "/a.css", "as_": "style", "learn": 1}], small=False)
@example(calls=[{**_PLAIN_CALL, "url": "/a.css", "as_": "style", "version": "3"}], small=False)
@example(
    calls=[{**_PLAIN_CALL, "url": "/a.css", "as_": "style", "flags": ("nopush",)}], small=False
)
@example(
    calls=[{**_PLAIN_CALL, "url": "/a.css", "as_": "style", "params": {"media": "print"}}],
    small=False,
)
@example(calls=[{**_PLAIN_CALL, "url": "/a.css", "as_": Markup("st&#121;le")}], small=False)
@example(calls=[{**_PLAIN_CALL, "url": Markup("/a.css?v=1&amp;w=2"), "as_": None}], small=False)
def test_push_gives_what_resource_of_and_record_push_give(
    calls: list[dict[str, Any]], small: bool
) -> None:
    """push() looks its common call up in its cache itself: whatever the calls, each
    returns, raises and records what resource_of() and record_push() make of it, with the
    cache holding every plain call a call may be taken for, and the call's own, the very
    resource kept (the calls made twice); or with a cache a few entries fill, emptied as
    they are pushed."""
    plain = [{**_PLAIN_CALL, "url": url, "as_": as_} for url in _PLAIN_URLS for as_ in _PLAIN_AS]
    bound = 4096 if small else collect.MAX_RESOURCES_BYTES
    with (
        mock.patch.object(collect, "_resources", {}),
        mock.patch.object(collect, "_resources_bytes", 0),
        mock.patch.object(collect, "MAX_RESOURCES_BYTES", bound),
    ):
        _pushed(_push_by_parts, plain)  # what a call may be taken for
        by_parts = _pushed(_push_by_parts, calls * 2)
        collect._resources.clear()
        collect._resources_bytes = 0
        _pushed(_push_by_parts, plain)
        pushed = _pushed(_push, calls * 2)
        kept = _pushed(_push_by_parts, calls * 2)  # push()'s cache as it is
    assert _as_made(pushed) == _as_made(by_parts)
    for call, (outside, inside, _) in zip(calls * 2, pushed[:-1], strict=True):
        for returned in (outside, inside):
            assert returned is call["url"] or isinstance(returned, tuple)  # (error, message)
    if not small and not any("nonce" in call["params"] for call in calls):
        assert pushed == kept  # a nonce's resource is made anew, as one a full cache dropped


#: A call in a template, the argument ``missing`` (a variable never set) fills, named so.
UNDEFINED_ARGUMENTS = {
    "url": "push(missing, as='style')",
    "flag": "push('/a.css', missing, as='style')",
    "as": "push('/a.css', as=missing)",
    "version": "push('/a.css', as='style', version=missing)",
    "learn": "push('/a.css', as='style', learn=missing)",
    "media": "push('/a.css', as='style', media=screens.narrow)",
    "nonce": "push('/a.css', as='style', nonce=missing)",
    "crossorigin": "push_static('site.css', crossorigin=missing)",
    "integrity": "static_tag('site.css', integrity=missing)",
    "filename": "push_static(missing)",
    "endpoint": "static_tag('site.css', endpoint=missing)",
    "_external": "push_static('site.css', _external=missing)",
    "_scheme": "push_static('site.css', _scheme=missing)",
    "_anchor": "static_tag('site.css', _anchor=missing)",
    "_method": "push_static('site.css', _method=missing)",
}


UNDEFINED_KINDS = [Undefined, ChainableUndefined, DebugUndefined, StrictUndefined]


@pytest.mark.parametrize("undefined", UNDEFINED_KINDS)
@pytest.mark.parametrize("argument", UNDEFINED_ARGUMENTS)
def test_an_undefined_template_variable_is_refused_naming_the_argument(
    tmp_path: Path, undefined: type[Undefined], argument: str
) -> None:
    """``{{ push(url, version=asset_version) }}`` where ``asset_version`` was never set is
    a mistake in the template, never a value: it is refused with a ValueError naming the
    argument and the variable, whatever the app's ``undefined``. ChainableUndefined
    reads as markup whose text is "": its preload was written ``as=""``, ``media=""``,
    ``nonce=""`` (and the element ``integrity=""``), a link the page never meant, and its
    url was "a pushed url must not be empty"; the others said "must be a string, got
    Undefined", or raised a TypeError from ``os.path`` (a file name) or an
    AttributeError (an endpoint)."""
    (tmp_path / "site.css").write_text("body {}")
    app = Flask(__name__, static_folder=str(tmp_path))
    app.config["SECRET_KEY"] = "edges"
    app.jinja_options = {**app.jinja_options, "undefined": undefined}
    Firehose(app)
    variable = "missing" if argument != "media" else "narrow"
    with app.test_request_context(), pytest.raises(ValueError) as raised:
        render_template_string("{{ " + UNDEFINED_ARGUMENTS[argument] + " }}", screens={})
    message = str(raised.value)
    assert f"{argument!r} is undefined" in message
    assert variable in message
