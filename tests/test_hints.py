"""103 Early Hints: the pure cache and filter, then the Flask glue with a recording server.

A server that offers Early Hints is played by a real function put in the WSGI environ under
``wsgi.early_hints`` (as gunicorn does); it records every list of headers it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import encodings.idna
import errno
import functools
import gc
import logging
import sqlite3
import ssl
import sys
import threading
import tracemalloc
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest
from flask import (
    Flask,
    Request,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask.testing import FlaskClient
from flask.views import MethodView, View
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from firehose_digest import DigestConnector, Firehose, SessionConnector, push
from firehose_digest import hints as hints_module
from firehose_digest.browser import prefers_html
from firehose_digest.collect import make_resource
from firehose_digest.early_hints import scheme_and_host
from firehose_digest.hints import (
    MAX_PAGE_LENGTH,
    EarlyHint,
    HintCache,
    origin_of,
    plan_early_hints,
)
from firehose_digest.links import for_log, plan_links
from firehose_digest.settings import MAX_BUDGET, MAX_LINK_BUDGET, load
from tests.helpers import CountingConnector, run_in_threads, tag_responses_with_a_request_id

# Their clients navigate as browsers do: a 103 goes to a request that asks for a page.
pytestmark = pytest.mark.usefixtures("clients_ask_for_pages")

CSS = "</static/site.css>; rel=preload; as=style"
JS = "</static/app.js>; rel=preload; as=script"
FONT = '</static/inter.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin'
CDN = "<https://cdn.example>; rel=preconnect"
CSS_APP = "</static/app.css>; rel=preload; as=style"
A_JS = "</static/a.js>; rel=preload; as=script"
B_JS = "</static/b.js>; rel=preload; as=script"
LAZY = "</static/lazy.js>; rel=preload; as=script; nopush"

Headers = list[tuple[str, str]]


# -- the pure core -------------------------------------------------------------------------


def hint(
    key: str,
    link: str,
    tracked: bool = True,
    origin: str | None = None,
    connects: bool = False,
    pushable: bool = True,
) -> EarlyHint:
    """A learned link, the final response writing it as hinted (no nonce)."""
    return EarlyHint(key, link, tracked, origin, connects, pushable, final_length=len(link))


A = hint("/a.css", "</a.css>; rel=preload; as=style")
B = hint("/b.js", "</b.js>; rel=preload; as=script")
C = hint(
    "https://cdn.example",
    "<https://cdn.example>; rel=preconnect",
    tracked=False,
    origin="https://cdn.example",
    connects=True,
    pushable=False,
)
V = hint("/v.css\nabc123", "</v.css>; rel=preload; as=style")


def early_hints_headers(*arguments: Any, **keywords: Any) -> list[tuple[str, str]]:
    """The headers of :func:`plan_early_hints`' 103."""
    return plan_early_hints(*arguments, **keywords).headers


#: The origin of the pages these unit tests hint.
ORIGIN = "https://shop.example"
#: What a browser sends with a navigation (Fetch Metadata).
BROWSER_NAVIGATION = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}

#: Room for every link these unit tests learn.
BUDGET = 4096

HEADER_CASES = [
    pytest.param([A, B], set(), [("Link", f"{A.link}, {B.link}")], id="nothing held"),
    pytest.param([A, B], {"/a.css"}, [("Link", B.link)], id="one held"),
    pytest.param([A, B], {"/a.css", "/b.js"}, [], id="all held: no 103"),
    pytest.param([C, A], {"/a.css", C.key}, [("Link", C.link)], id="untracked always kept"),
    pytest.param([V], {"/v.css"}, [("Link", V.link)], id="held key has another version"),
    pytest.param([V], {V.key}, [], id="held key has this version"),
    pytest.param([], set(), [], id="no links"),
]


@pytest.mark.parametrize(("hints", "held", "expected"), HEADER_CASES)
def test_early_hints_headers(hints: list[EarlyHint], held: set[str], expected: Headers) -> None:
    assert early_hints_headers(hints, held, 4096, max_pushes=10) == expected


def test_a_103_writes_a_url_h2o_cuts_the_link_value_at_after_every_other_link() -> None:
    """h2o pushes what a 103 links, and reads no link from a "," or ";" in a url on: an
    untracked one (a prefetch), hinted, comes last, so ``/b.js``, offered, is pushed."""
    prefetch = make_resource("/img/w_1,h_1/a.png", ("rel=prefetch",), None, None, ()).hint
    tracked = make_resource("/c;v=1.css", (), "style", None, ()).hint
    assert prefetch.written_last and tracked.written_last and not tracked.pushable
    planned = plan_early_hints([A, prefetch, tracked, B], set(), BUDGET, max_pushes=10)
    assert planned.headers == [("Link", f"{A.link}, {B.link}, {prefetch.link}")]
    assert planned.offered == (A.key, B.key)


def test_a_path_learns_only_the_links_within_the_budget() -> None:
    cache: HintCache = HintCache(4)
    cache.learn("/", [A, B], len(f"{A.link}, {B.link}"))
    assert cache.get("/") == (A, B)
    cache.learn("/", [A, B], len(f"{A.link}, {B.link}") - 1)
    assert cache.get("/") == (A,)


class _SwitchingLock:
    """A lock that, the first time the main thread releases it, lets ``switch`` run to its
    end in another thread: a thread switch where a first section ends."""

    def __init__(self, lock: Any, switch: Callable[[], None]) -> None:
        self.lock, self.switch, self.switched = lock, switch, False

    def __enter__(self) -> Any:
        return self.lock.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        released = self.lock.__exit__(*exc_info)
        if not self.switched and threading.current_thread() is threading.main_thread():
            self.switched = True
            worker = threading.Thread(target=self.switch)
            worker.start()
            worker.join(timeout=10)
            assert not worker.is_alive(), "the other thread waits for a lock never released"
        return released


def test_learn_gone_asks_and_writes_under_one_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another page learned in a switch after the first section of ``learn_gone`` (in a
    cache of one page, dropping the gone one): a check and a write under two sections
    would put the gone page's empty entry back in its place."""
    cache: HintCache = HintCache(1)
    cache.learn("/gone", [A], 1800)
    monkeypatch.setattr(
        cache, "_lock", _SwitchingLock(cache._lock, lambda: cache.learn("/", [B], 1800))
    )

    cache.learn_gone("/gone")
    monkeypatch.undo()

    assert "/gone" not in cache
    assert cache.get("/") == (B,)


def test_a_path_learns_nothing_past_the_first_link_out_of_the_budget() -> None:
    """The response's ``Link`` value ends at the first link past the budget
    (:func:`~firehose_digest.links.plan_links`), so a shorter link after it, which would
    fit, is not learned either: a 103 hints nothing the final response does not link."""
    long = hint("/long.css", f"</{'l' * 200}.css>; rel=preload; as=style")
    cache: HintCache = HintCache(4)
    cache.learn("/", [A, long, B], len(f"{A.link}, {B.link}"))
    assert cache.get("/") == (A,)


def test_a_stand_in_is_learned_as_long_as_the_link_it_stands_for() -> None:
    """A ``learn=False`` link is learned as an empty stand-in: counted at its empty length,
    a page pushing 880 avatars kept 880 of them in each entry (93 KB a page, 93 MB for
    1000 query strings), where its response could write 36."""
    avatar = "</avatars/user-0001.png>; rel=preload; as=image"
    stand_in = EarlyHint("", "", True, None, False, True, final_length=len(avatar), stand_in=True)
    cache: HintCache = HintCache(4)
    cache.learn("/users", [A, *[stand_in] * 1000], BUDGET)
    # A's link, then ", " and an avatar's link for each stand-in, within the budget.
    assert cache.get("/users") == (A, *[stand_in] * ((BUDGET - len(A.link)) // (len(avatar) + 2)))


def test_a_path_longer_than_the_limit_is_not_learned() -> None:
    cache: HintCache = HintCache(4)
    longest = "/" + "p" * (MAX_PAGE_LENGTH - 1)
    cache.learn(longest, [A], BUDGET)
    cache.learn(longest + "p", [A], BUDGET)
    assert longest in cache
    assert longest + "p" not in cache


def test_a_url_longer_than_the_limit_is_not_kept_as_no_page() -> None:
    """learn_no_page() keeps a url of MAX_PAGE_LENGTH exactly, and not one past it, as
    learn() does: made-up urls answered with a file cannot fill the cache with long keys."""
    cache: HintCache = HintCache(4)
    longest = "/" + "f" * (MAX_PAGE_LENGTH - 1)
    cache.learn_no_page(longest, over_links=True)
    cache.learn_no_page(longest + "f", over_links=True)
    assert cache.get(longest) == ()
    assert longest + "f" not in cache


def test_a_103_hints_only_what_the_final_response_would_push_and_record() -> None:
    """h2o and Apache push what a 103 links, and Chromium drops a 103 link with nopush.

    Behind a proxy the app's Host is the proxy's upstream, so it cannot tell its own
    absolute urls from another origin's: only path-absolute tracked links are hinted.
    """
    relative = hint("rel/r.css", "<rel/r.css>; rel=preload; as=style", pushable=False)
    own = hint(
        "https://shop.example/o.css",
        "<https://shop.example/o.css>; rel=preload; as=style",
        origin="https://shop.example",
        pushable=False,
    )
    own_scheme_relative = hint(
        "//shop.example/s.css",
        "<//shop.example/s.css>; rel=preload; as=style",
        origin="//shop.example",
        pushable=False,
    )
    cdn = hint(
        "https://cdn.example/c.css",
        "<https://cdn.example/c.css>; rel=preload; as=style",
        origin="https://cdn.example",
        pushable=False,
    )
    hints = [relative, own, own_scheme_relative, cdn, A, B, C]
    headers = early_hints_headers(hints, set(), 4096, max_pushes=10)
    assert headers == [("Link", f"{A.link}, {B.link}, {C.link}")]
    # Served over the app's own HTTP/2, no proxy can push: every link.
    direct = early_hints_headers(hints, set(), 4096, max_pushes=10, front_may_push=False)
    assert direct == [("Link", ", ".join(hint.link for hint in hints))]


_HELD_CDN = hint(
    "https://cdn.example/c.css",
    "<https://cdn.example/c.css>; rel=preload; as=style",
    origin="https://cdn.example",
    pushable=False,
)


@pytest.mark.parametrize(
    ("omit_held", "room", "hinted"),
    [
        # As the final Link writes it, nopush: it fits exactly, and one byte less it does not.
        (False, len(f"{_HELD_CDN.link}; nopush"), [("Link", _HELD_CDN.link)]),
        (False, len(f"{_HELD_CDN.link}; nopush") - 1, []),
        # Room for both: the held same-origin link is still not hinted.
        (False, BUDGET, [("Link", _HELD_CDN.link)]),
        # Left out of the final response, it is left out of the 103 at any budget.
        (True, BUDGET, []),
    ],
    ids=["fits", "one byte short", "room for both", "omit"],
)
def test_over_the_app_s_own_http2_a_held_link_to_another_origin_is_hinted_too(
    omit_held: bool, room: int, hinted: list[tuple[str, str]]
) -> None:
    """docs/early-hints.md: over the app's own HTTP/2 no front pushes from the 103, so a
    link to another origin is hinted held or not (a CDN url is held only by a false
    positive, or by a connector's say), as the final response preloads it, unless held
    links are omitted there too. A held same-origin link is not hinted (its own
    connection is busy with the page)."""
    headers = early_hints_headers(
        [_HELD_CDN, A],
        {_HELD_CDN.key, A.key},
        room,
        max_pushes=10,
        omit_held=omit_held,
        front_may_push=False,
        own_origin=ORIGIN,
    )
    assert headers == hinted


@pytest.mark.parametrize(
    ("own_origin", "url", "hinted"),
    [
        (ORIGIN, "https://shop.example:443/a.css", False),
        (ORIGIN, "//shop.example:443/a.css", False),
        (ORIGIN, "//SHOP.example:443/a.css", False),
        (ORIGIN, "//shop.example:8443/a.css", True),
        ("http://shop.example", "//shop.example:80/a.css", False),
        ("http://shop.example", "//shop.example:443/a.css", True),
        ("https://shop.example:8443", "//shop.example:8443/a.css", False),
        ("https://[::1]", "//[::1]:443/a.css", False),
        ("https://[::1]:8443", "//[::1]:8443/a.css", False),
        # A scheme with no default port (X-Forwarded-Proto through ProxyFix takes any):
        # its scheme-relative url is the page's own origin, and no port is added to it.
        ("wss://shop.example", "//shop.example/a.css", False),
        ("wss://shop.example", "//shop.example:443/a.css", True),
    ],
)
def test_over_the_app_s_own_http2_a_url_with_the_page_s_default_port_is_its_own_origin(
    own_origin: str, url: str, hinted: bool
) -> None:
    """A scheme's default port is no part of an origin (RFC 6454 §4), and a scheme-relative
    url takes the page's scheme: ``//shop.example:443/a.css`` on an https page is the
    page's own origin, left out of the 103 as any same-origin preload is (its stylesheet
    would be requested twice, the page served late: docs/early-hints.md)."""
    link = make_resource(url, (), "style", None, ()).hint
    headers = early_hints_headers(
        [link, C], set(), BUDGET, max_pushes=10, front_may_push=False, own_origin=own_origin
    )
    expected = [link.link, C.link] if hinted else [C.link]
    assert headers == [("Link", ", ".join(expected))]


def test_a_103_stops_where_the_final_link_value_runs_out_of_room() -> None:
    """Held links are written nopush in the final response: they take its room too."""
    final = len(f"{A.link}; nopush, {B.link}")
    assert early_hints_headers([A, B], {A.key}, final, max_pushes=10) == [("Link", B.link)]
    assert early_hints_headers([A, B], {A.key}, final - 1, max_pushes=10) == []
    # With FIREHOSE_ALREADY_PUSHED = "omit", held links take no room.
    omitted = early_hints_headers([A, B], {A.key}, len(B.link), max_pushes=10, omit_held=True)
    assert omitted == [("Link", B.link)]


@pytest.mark.parametrize("max_pushes", [0, 1, 2])
def test_a_103_offers_at_most_max_pushes_new_path_absolute_links(max_pushes: int) -> None:
    held_one = {A.key}
    hints = [A, B, hint("/c.css", "</c.css>; rel=preload; as=style"), C]
    headers = early_hints_headers(hints, held_one, 4096, max_pushes=max_pushes)
    new = [B.link, "</c.css>; rel=preload; as=style"][:max_pushes]
    assert headers == [("Link", ", ".join([*new, C.link]))]


def test_early_hints_stay_within_the_link_budget() -> None:
    both = len(f"{A.link}, {B.link}")
    assert early_hints_headers([A, B], set(), both, max_pushes=10) == [
        ("Link", f"{A.link}, {B.link}")
    ]
    # One byte short: the second link is left out, in order.
    assert early_hints_headers([A, B], set(), both - 1, max_pushes=10) == [("Link", A.link)]
    assert early_hints_headers([A, B], set(), len(A.link) - 1, max_pushes=10) == []


FAR = hint(
    "https://cdn.example/me.png",
    "<https://cdn.example/me.png>; rel=preload; as=image",
    origin="https://cdn.example",
    pushable=False,
)
NARROW_LINK = '</narrow.png>; rel=preload; as=image; media="(max-width: 600px)"'
NARROW = EarlyHint(
    "/narrow.png", NARROW_LINK, True, None, False, True, len(NARROW_LINK), screen_dependent=True
)
STAND_IN = EarlyHint("", "", True, None, False, True, len(A.link), stand_in=True)
FONTS = hint(
    "https://fonts.example",
    "<https://fonts.example>; rel=preconnect",
    tracked=False,
    origin="https://fonts.example",
    connects=True,
    pushable=False,
)


@pytest.mark.parametrize(
    ("first", "held", "keywords", "written"),
    [
        pytest.param(A, {A.key}, {}, f"{A.link}; nopush", id="held"),
        pytest.param(A, set(), {}, A.link, id="new, pushed"),
        pytest.param(A, set(), {"max_pushes": 0}, f"{A.link}; nopush", id="no push slot"),
        pytest.param(FAR, set(), {}, f"{FAR.link}; nopush", id="another origin"),
        pytest.param(STAND_IN, set(), {}, f"{A.link}; nopush", id="learn=False"),
        pytest.param(FONTS, set(), {}, FONTS.link, id="untracked"),
        pytest.param(NARROW, set(), {"browser": True}, f"{NARROW_LINK}; nopush", id="screen"),
        pytest.param(A, set(), {"front_may_push": False}, A.link, id="own HTTP/2"),
        pytest.param(
            A,
            set(),
            {"front_may_push": False, "max_pushes": 0},
            f"{A.link}; nopush",
            id="own HTTP/2, no push slot",
        ),
    ],
)
def test_a_103_counts_each_link_as_long_as_the_final_link_value_writes_it(
    first: EarlyHint, held: set[str], keywords: dict[str, Any], written: str
) -> None:
    """The link after ``first`` is hinted when the final value, ``first`` written as it
    writes it, has room for both, exactly, and not one byte short of that."""
    room = len(f"{written}, {C.link}")

    def hinted(budget: int) -> list[str]:
        sent = early_hints_headers([first, C], held, budget, **{"max_pushes": 10, **keywords})
        return [link for _, value in sent for link in value.split(", ")]

    assert C.link in hinted(room)
    assert C.link not in hinted(room - 1)


def test_the_cache_returns_what_was_learned_and_none_for_the_rest() -> None:
    cache: HintCache = HintCache(4)
    cache.learn("/", [A, B], BUDGET)

    assert cache.get("/") == (A, B)
    assert cache.get("/other") is None


def test_learning_a_path_again_replaces_its_links() -> None:
    cache: HintCache = HintCache(4)
    cache.learn("/", [A, B], BUDGET)
    cache.learn("/", [B], BUDGET)

    assert cache.get("/") == (B,)
    assert len(cache) == 1


def test_a_page_that_links_nothing_is_forgotten() -> None:
    cache: HintCache = HintCache(4)
    cache.learn("/", [A], BUDGET)
    cache.learn("/", [], BUDGET)

    assert cache.get("/") is None
    assert "/" not in cache


def test_a_url_with_no_page_is_kept_empty_until_a_page_teaches_it() -> None:
    cache = HintCache(2)
    cache.learn_no_page("/file", over_links=False)
    assert cache.get("/file") == ()  # known: hinted nothing, not what is declared
    cache.learn("/file", [A], BUDGET)
    assert cache.get("/file") == (A,)
    cache.learn_no_page("/file", over_links=False)  # links learned are kept
    assert cache.get("/file") == (A,)
    cache.learn_no_page("/file", over_links=True)
    assert cache.get("/file") == ()
    cache.learn_no_page("/" + "f" * MAX_PAGE_LENGTH, over_links=True)  # past the limit
    assert len(cache) == 1
    cache.learn_no_page("/g", over_links=False)
    cache.learn_no_page("/h", over_links=False)  # past the bound: the least recently used goes
    assert "/file" not in cache and cache.get("/h") == ()


def test_the_least_recently_used_path_is_dropped_past_the_bound() -> None:
    cache: HintCache = HintCache(2)
    cache.learn("/1", [A], BUDGET)
    cache.learn("/2", [A], BUDGET)
    cache.get("/1")  # now /2 is the least recently used
    cache.learn("/3", [A], BUDGET)

    assert len(cache) == 2
    assert "/1" in cache
    assert "/2" not in cache
    assert "/3" in cache


def test_a_page_learned_again_as_it_was_is_the_most_recently_used() -> None:
    """A return visit learns the page's links again, the very ones it holds: kept as they
    are, and marked used as any other learn(), so the page the cache drops next is the
    other one. Dropped instead, a site's busiest page lost its 103 to a url asked once."""
    cache: HintCache = HintCache(2)
    cache.learn("/1", [A], BUDGET)
    cache.learn("/2", [B], BUDGET)
    cache.learn("/1", [A], BUDGET)  # as it was: now /2 is the least recently used
    cache.learn("/3", [A], BUDGET)
    assert (cache.get("/1"), "/2" in cache, cache.get("/3")) == ((A,), False, (A,))


def test_a_url_with_no_page_told_so_again_is_the_most_recently_used() -> None:
    """learn_no_page() on a url kept empty keeps it, marked used: the file fetched on each
    visit stays known (hinted nothing) over a page learned before it."""
    cache: HintCache = HintCache(2)
    cache.learn_no_page("/file", over_links=False)
    cache.learn("/1", [A], BUDGET)
    cache.learn_no_page("/file", over_links=False)  # now /1 is the least recently used
    cache.learn("/2", [B], BUDGET)
    assert (cache.get("/file"), "/1" in cache, cache.get("/2")) == ((), False, (B,))


def churn_a_search_page(cache: HintCache, budget: int) -> Generator[int, None, None]:
    """A search page asked with 20,000 queries (``/p?q=<n>``), each a url of its own: each
    learns the site's 90 shortest links (``</0>; rel=preload`` to ``</89>``, shared as
    push()'s cache shares them) and four of its own, its results' images. Yields what
    memory grew by since the first, after every 1,000."""
    site = [make_resource(f"/{n}", (), None, None, ()).hint for n in range(90)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for query in range(20_000):
            images = [f"/img/{query}/{n}.jpg" for n in range(4)]
            own = [hint(image, f"<{image}>; rel=preload; as=image") for image in images]
            page = f"https://shop.example/p?q={query}&utm_source=newsletter&utm_medium=email"
            cache.learn(page, site + own, budget)
            if query % 1000 == 999:
                yield tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_query_string_churn_at_the_largest_settings_stays_within_32_mib() -> None:
    """At the most pages and the longest Link budget ``init_app`` accepts. Bounded in pages
    alone, the cache kept every query and grew by 41 MB; at 21 KiB a page of links it
    could reach 21 GiB."""
    largest = load(
        {
            "FIREHOSE_EARLY_HINTS_CACHE": 1 << 20,
            "FIREHOSE_HEADER_BUDGET": MAX_BUDGET,
            "FIREHOSE_LINK_BUDGET": MAX_LINK_BUDGET,
        }
    )
    assert (largest.early_hints_cache, largest.link_budget) == (1 << 20, MAX_LINK_BUDGET)
    cache = HintCache(largest.early_hints_cache)
    grown = list(churn_a_search_page(cache, largest.link_budget))[-1]
    assert grown <= 32 * 1024 * 1024 + 64 * 1024, f"grew by {grown:,} bytes"
    assert 0 < len(cache) < 20_000
    assert "https://shop.example/p?q=19999&utm_source=newsletter&utm_medium=email" in cache


def test_a_long_churn_stays_within_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages come and go for long: a dict whose keys come and go keeps a table of up to six
    times its live entries, which a count of its entries alone missed (34.6 MB grown for
    33.6 counted after 60,000 queries at 32 MiB). A 2 MiB bound turns over 20 to 40 times
    in 20,000 queries."""
    monkeypatch.setattr(hints_module, "HINTS_BYTES", 2 * 1024 * 1024)
    cache = HintCache(1 << 20)
    with contextlib.closing(churn_a_search_page(cache, MAX_BUDGET)) as churn:
        for grown in churn:
            assert grown <= cache._bytes <= 2 * 1024 * 1024, f"grew by {grown:,} bytes"
    assert 500 < len(cache) < 1_000, len(cache)  # turned over 20 to 40 times


def test_a_learned_page_counts_at_least_the_memory_it_keeps_alive() -> None:
    """Links made for each page (per-user images, versioned, on another origin, long enough
    that their length is an int object of its own, written with a nonce), held by the
    cache alone once learned: what it grows by, measured, is within what it counts."""
    cache = HintCache(1 << 20)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for page in range(300):
            learned = []
            for n in range(4):
                url = f"https://img.example/u/{page}/{n}/{'x' * 300}.png"
                link = f"<{url}>; rel=preload; as=image"
                origin = url[: len("https://img.example")]
                written = len(link) + len('; nonce="abc"')
                learned.append(
                    EarlyHint(f"{url}\nv{page}", link, True, origin, False, False, written)
                )
            cache.learn(f"/users/{page}?sort=name", learned, MAX_BUDGET)
            del learned
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) == 300
    assert grown <= cache._bytes


def learned_bytes(page: str, links: list[EarlyHint]) -> int:
    """What a cache counts for ``page`` having learned ``links``."""
    alone = HintCache(1)
    alone.learn(page, links, BUDGET)
    return alone._bytes


def test_past_its_bytes_the_least_recently_used_pages_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages that fill ``hints.HINTS_BYTES`` exactly are all kept; one byte more and the
    least recently used page goes, not an older one read since."""
    assert hints_module.HINTS_BYTES == 32 * 1024 * 1024
    longer = hint(V.key + "x", V.link)  # a key one character longer: one byte more
    assert learned_bytes("/p", [longer]) == learned_bytes("/p", [V]) + 1
    # Three pages of a link each stand for the 32 MiB of pages that fill the bound.
    full = learned_bytes("/o", [A]) + learned_bytes("/r", [B]) + learned_bytes("/p", [V])
    monkeypatch.setattr(hints_module, "HINTS_BYTES", full)
    cache = HintCache(8)
    cache.learn("/o", [A], BUDGET)
    cache.learn("/r", [B], BUDGET)
    cache.learn("/p", [V], BUDGET)
    assert cache._bytes == full
    assert len(cache) == 3  # exactly at the bound: none goes
    cache.get("/o")  # read: "/r" is now the least recently used
    cache.learn("/p", [longer], BUDGET)  # one byte past the bound
    assert "/r" not in cache
    assert cache.get("/o") == (A,) and cache.get("/p") == (longer,)
    assert cache._bytes == full + 1 - learned_bytes("/r", [B])


def test_a_link_whose_string_grows_once_learned_is_uncounted_as_counted() -> None:
    """A str that is not ASCII grows by its UTF-8 once C code asks for it (sqlite3 does):
    a link's size worked out again when its last page went left the count at -19."""
    key = "".join(["/é", "x" * 20])  # made at run time: no constant another test shares
    link = hint(key, f"<{key}>; rel=preload; as=image")
    cache = HintCache(8)
    cache.learn("/p", [link], BUDGET)
    before = sys.getsizeof(key)
    # Closed: Python 3.13 warns of a connection collected open (ResourceWarning), and the
    # suite's warnings are errors, in whichever later test collects it.
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.execute("select ?", (key,)).close()
    assert sys.getsizeof(key) > before  # the string grew while learned
    cache.forget("/p")
    assert cache._bytes == 0 and not cache._links


def test_a_links_origin_and_long_length_are_counted_in_its_bytes() -> None:
    """A link of another origin keeps its origin's string alive, and a final length past
    256 an int of its own (CPython shares the small ones): both count toward
    ``hints.HINTS_BYTES``, a character of the origin one byte, as a key's does."""
    link = "<https://cdn.example/a.css>; rel=preload; as=style"
    shorter = hint("https://cdn.example/a.css", link, origin="https://cdn.exampl")
    longer = hint("https://cdn.example/a.css", link, origin="https://cdn.example")
    assert learned_bytes("/p", [longer]) == learned_bytes("/p", [shorter]) + 1
    same_origin = hint("https://cdn.example/a.css", link)
    assert learned_bytes("/p", [longer]) > learned_bytes("/p", [same_origin])
    # Links (and keys) of 256 and 257 characters: a character each, and the int, more.
    short, long_ = (hint("/" + "a" * (n - 1), "<" + "a" * (n - 1)) for n in (256, 257))
    assert short.final_length <= 256 < long_.final_length
    assert learned_bytes("/p", [long_]) == (
        learned_bytes("/p", [short]) + 2 + sys.getsizeof(long_.final_length)
    )


def test_a_link_pages_share_is_counted_once_until_the_last_goes() -> None:
    """push()'s cache hands every page that pushes a file one object: counted per page,
    20,000 product pages of the same 60 stylesheets filled the 32 MiB with 1,824 of them
    while the process grew by 1.5 MB. An equal link made anew is another object, and
    counted as one."""
    one = learned_bytes("/o", [A])
    link = hints_module._link_size(A)  # what A adds beside a page's own bytes
    assert 0 < link < one
    cache = HintCache(8)
    cache.learn("/o", [A], BUDGET)
    cache.learn("/p", [A], BUDGET)
    assert cache._bytes == one + learned_bytes("/p", [A]) - link
    copy = hint(A.key, A.link)
    assert copy == A and copy is not A
    cache.learn("/q", [copy], BUDGET)
    assert cache._bytes == one + learned_bytes("/p", [A]) - link + learned_bytes("/q", [A])
    cache.forget("/o")  # "/p" still holds A: only the page's own bytes go
    assert cache._bytes == learned_bytes("/p", [A]) + learned_bytes("/q", [A])
    cache.learn("/p", [B], BUDGET)  # relearned without A: A goes with its last page
    cache.forget("/q")
    assert cache._bytes == learned_bytes("/p", [B])
    cache.forget("/p")
    assert cache._bytes == 0 and not cache._links


def test_pages_of_the_same_links_are_kept_to_the_page_bound() -> None:
    """20,000 product pages pushing the same 60 stylesheets, as push()'s cache hands them
    (one object a file): every page is kept, and what is counted is within what the cache
    keeps alive, measured, and at least it."""
    shared = [make_resource(f"/css/{n}.css", (), "style", None, ()).hint for n in range(60)]
    cache = HintCache(20_000)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for page in range(20_000):
            cache.learn(f"/products/{page}", shared, MAX_BUDGET)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) == 20_000
    assert grown <= cache._bytes <= 2 * grown, (grown, cache._bytes)


def test_a_page_larger_than_the_bytes_alone_is_not_learned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page whose links take the whole bound on its own is kept, every other going; one
    byte more and it is not learned, what it learned before forgotten, the others kept."""
    many = [A, B, C, V]
    whole = learned_bytes("/p", many)
    monkeypatch.setattr(hints_module, "HINTS_BYTES", whole)
    cache = HintCache(8)
    cache.learn("/o", [B], BUDGET)
    cache.learn("/p", many, BUDGET)
    assert "/o" not in cache and cache.get("/p") == tuple(many)
    assert cache._bytes == whole

    monkeypatch.setattr(hints_module, "HINTS_BYTES", whole - 1)
    cache = HintCache(8)
    cache.learn("/o", [B], BUDGET)
    cache.learn("/p", [A], BUDGET)
    assert len(cache) == 2
    cache.learn("/p", many, BUDGET)
    assert "/p" not in cache
    assert cache.get("/o") == (B,)
    assert cache._bytes == learned_bytes("/o", [B])


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10", None])
def test_a_cache_needs_a_positive_int_bound(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        HintCache(bad)


@given(
    st.integers(min_value=1, max_value=4),
    st.lists(
        st.tuples(
            st.sampled_from(["learn", "get"]),
            st.sampled_from(["/1", "/2", "/3", "/4", "/5"]),
            st.sampled_from([(), (A,), (A, B), (C,)]),
        ),
        max_size=40,
    ),
)
def test_the_cache_behaves_like_a_reference_lru(
    bound: int, operations: list[tuple[str, str, tuple[EarlyHint, ...]]]
) -> None:
    """Compared with the obvious model: a list, most recently used last."""
    cache: HintCache = HintCache(bound)
    model: list[tuple[str, tuple[EarlyHint, ...]]] = []
    for operation, path, links in operations:
        found = next((entry for entry in model if entry[0] == path), None)
        if operation == "get":
            assert cache.get(path) == (found[1] if found else None)
            if found:
                model.remove(found)
                model.append(found)
        else:
            cache.learn(path, links, BUDGET)
            if found:
                model.remove(found)
            if links:
                model.append((path, links))
            del model[:-bound]
        assert len(cache) == len(model) <= bound
    assert all(cache.get(path) == links for path, links in model)


def test_the_cache_is_safe_to_share_between_threads() -> None:
    """Many threads learning and reading: never over the bound, never a torn entry."""
    cache: HintCache = HintCache(8)
    entries = {f"/{n}": (hint(f"/{n}.css", f"</{n}.css>"),) * (n % 3 + 1) for n in range(32)}
    errors: list[str] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        start.wait()
        for round_ in range(2000):
            path = f"/{(seed * 7 + round_) % 32}"
            if round_ % 2:
                cache.learn(path, entries[path], BUDGET)
            else:
                try:
                    got = cache.get(path)
                except Exception as e:  # a race inside the cache
                    errors.append(repr(e))
                    continue
                if got is not None and got != entries[path]:
                    errors.append(f"{path}: {got!r}")
            if len(cache) > 8:
                errors.append(f"{len(cache)} entries")

    run_in_threads(*(functools.partial(work, seed) for seed in range(8)))

    assert errors == []
    assert len(cache) == 8


# -- the Flask glue ------------------------------------------------------------------------


class Recorder:
    """What gunicorn puts at ``environ['wsgi.early_hints']``, recording instead of sending."""

    def __init__(self, timeline: list[str] | None = None) -> None:
        self.sent: list[Headers] = []
        self.timeline = timeline

    def __call__(self, headers: Headers) -> None:
        self.sent.append(list(headers))
        if self.timeline is not None:
            self.timeline.append("103")


def logged_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator like Flask-Login's: ``functools.wraps`` around the view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "*/*"},  # curl, a load balancer's health check
        {"Accept": "application/json"},  # an API client
    ],
    ids=["curl", "an API client"],
)
def test_a_server_without_early_hints_is_named_at_the_first_request_a_103_is_for(
    caplog: pytest.LogCaptureFixture, headers: dict[str, str]
) -> None:
    """docs/early-hints.md: "the first navigation logs a warning". A GET with no Fetch
    Metadata that names no HTML gets no 103 from any server, and said it first: a health
    check at start-up, or an API-only app's every client, was told of 103s it would never
    get. The first request that a server offering them would hint says it."""
    client = make_app().test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        assert client.get("/page/home", headers=headers).status_code == 200
        assert caplog.records == []
        client.get("/page/home")
    told = [r for r in caplog.records if "no wsgi.early_hints" in r.getMessage()]
    assert len(told) == 1


def make_app(connector: Any = None, firehose: Firehose | None = None, **config: Any) -> Flask:
    """A site whose pages push what their query string says; Early Hints on unless told."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="hints secret", FIREHOSE_EARLY_HINTS=True)
    app.config.update(config)
    firehose = firehose or Firehose()
    firehose.connector = connector
    firehose.init_app(app)
    app.extensions["timeline"] = []

    @app.route("/page/<name>", methods=["GET", "POST"])
    def page(name: str) -> str:
        """Pushes each ``?u=`` as a style; by default the stylesheet and the script."""
        app.extensions["timeline"].append("view")
        if "u" in request.args:
            for url in filter(None, request.args.getlist("u")):
                push(url, as_="style")
        else:
            push("/static/site.css", as_="style")
            push("/static/app.js", as_="script")
        return f"page {name}"

    @app.route("/mixed")
    def mixed() -> str:
        push("https://cdn.example", rel="preconnect")
        push("/static/lazy.js", "nopush", as_="script")
        push("/static/site.css", as_="style")
        return "mixed"

    @app.route("/moved")
    def moved() -> WerkzeugResponse:
        push("/static/site.css", as_="style")
        return redirect("/page/home")

    @app.route("/declared")
    @Firehose.hints("/static/inter.woff2", "crossorigin", as_="font", type="font/woff2")
    @Firehose.hints("/static/site.css", as_="style")
    def declared() -> str:
        push("/static/app.js", as_="script")
        push("/static/site.css", as_="style")  # declared already: written once
        return "declared"

    @Firehose.hints("/static/site.css", as_="style")
    @app.route("/declared-above-route")
    def declared_above_route() -> str:
        return "declared above @app.route"

    @app.route("/declared-wrapped")
    @logged_in
    @Firehose.hints("/static/app.js", as_="script")
    def declared_wrapped() -> str:
        return "declared under another decorator"

    return app


def hinted_get(client: FlaskClient, path: str, recorder: Recorder, **kwargs: Any) -> TestResponse:
    return client.get(path, environ_base={"wsgi.early_hints": recorder}, **kwargs)


@pytest.fixture
def app() -> Flask:
    return make_app()


def test_the_first_request_for_a_path_learns_and_sends_nothing(app: Flask) -> None:
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/page/home", recorder)

    assert response.status_code == 200
    assert recorder.sent == []
    assert response.headers.getlist("Link") == [f"{CSS}, {JS}"]


def test_a_fresh_client_then_gets_one_103_with_exactly_the_pages_links(app: Flask) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder())
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/page/home", recorder)

    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]
    assert response.headers.getlist("Link") == [f"{CSS}, {JS}"]


def test_early_hints_turned_on_by_a_second_init_app_after_the_first_request_are_sent() -> None:
    # Flask's setup methods refuse a hook after the first request: init_app raised, with
    # the new settings (103s on) already in force and no hook to send them.
    firehose = Firehose()
    app = make_app(firehose=firehose, FIREHOSE_EARLY_HINTS=False)
    hinted_get(app.test_client(), "/page/home", Recorder())
    app.config["FIREHOSE_EARLY_HINTS"] = True
    firehose.init_app(app)
    hinted_get(app.test_client(), "/page/home", Recorder())  # learns
    recorder = Recorder()
    hinted_get(app.test_client(), "/page/home", recorder)
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_init_app_called_twice_sends_one_103_and_one_link() -> None:
    """A factory that configures the extension twice (a test's fixture, then the app's
    own call) keeps one set of hooks: a second would send a second 103 per page."""
    firehose = Firehose()
    app = make_app(firehose=firehose)
    firehose.init_app(app)
    hinted_get(app.test_client(), "/page/home", Recorder())  # learns
    recorder = Recorder()
    response = hinted_get(app.test_client(), "/page/home", recorder)
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]
    assert response.headers.getlist("Link") == [f"{CSS}, {JS}"]


def _a_page_of_a_versioned_file(connector: Any = None) -> tuple[Flask, list[str], list[int]]:
    """An app whose ``/`` pushes /static/app.css at ``version[0]``, answered ``status[0]``."""
    version, status = ["A"], [200]
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", FIREHOSE_EARLY_HINTS=True)
    Firehose(app, connector=connector)

    @app.route("/")
    def index() -> Response:
        push("/static/app.css", as_="style", version=version[0])
        return Response("page", status=status[0])

    return app, version, status


def test_a_page_learned_before_a_version_changed_is_not_hinted_again_after_a_redirect() -> None:
    # The 103 offers the learned (old) key; the client then holds the new one. A response
    # that does not learn the page again must drop it, or the next 103 pushes the url again.
    app, version, status = _a_page_of_a_versioned_file()
    hinted_get(app.test_client(), "/", Recorder())  # learned at version A
    version[0], status[0] = "B", 302  # a 204 drops what the page learned in any case
    client = app.test_client()
    first = Recorder()
    hinted_get(client, "/", first)
    assert first.sent == [[("Link", "</static/app.css>; rel=preload; as=style")]]
    status[0] = 200
    again = Recorder()
    response = hinted_get(client, "/", again)
    assert again.sent == []
    assert response.headers["Link"] == "</static/app.css>; rel=preload; as=style; nopush"


@pytest.mark.parametrize(
    ("connector", "cookie"),
    [(DigestConnector, "h2-digest"), (SessionConnector, "session")],
)
def test_a_103_of_an_older_version_to_a_client_holding_the_new_one_writes_nothing(
    connector: Callable[[], Any], cookie: str
) -> None:
    """The 103 offers the learned (old) key, which the client lacks; the front pushes what
    the url serves now, the new version, which the client holds already: that key is used
    again, not pushed anew, and nothing changed is written (connectors.md: save() "writes
    what changed")."""
    app, version, _ = _a_page_of_a_versioned_file(connector())
    hinted_get(app.test_client(), "/", Recorder())  # learned at version A
    version[0] = "B"
    client = app.test_client()
    client.get("/")  # no 103 possible, nothing learned: pushed and recorded at B
    recorder = Recorder()

    response = hinted_get(client, "/", recorder)

    assert recorder.sent == [[("Link", CSS_APP)]]
    assert response.headers["Link"] == f"{CSS_APP}; nopush"
    assert [
        line for line in response.headers.getlist("Set-Cookie") if line.startswith(cookie)
    ] == []


def test_a_redirect_returned_before_the_view_pushes_anything_drops_nothing() -> None:
    """docs/early-hints.md: a redirect "returned before the view pushes anything cannot
    tell, and drops nothing": after a sign-in hook's redirect the page is still hinted."""
    app, version, _ = _a_page_of_a_versioned_file()

    @app.before_request
    def sign_in() -> WerkzeugResponse | None:
        return redirect("/sign-in") if "X-Signed-Out" in request.headers else None

    hinted_get(app.test_client(), "/", Recorder())  # learned at version A
    version[0] = "B"
    stranger = Recorder()
    hinted_get(app.test_client(), "/", stranger, headers={"X-Signed-Out": "1"})
    assert stranger.sent == [[("Link", "</static/app.css>; rel=preload; as=style")]]
    recorder = Recorder()
    hinted_get(app.test_client(), "/", recorder)
    assert recorder.sent == stranger.sent


def test_a_page_learned_before_a_version_changed_is_learned_again_by_a_200() -> None:
    """The 103 offered the learned (old) key; the 200 learns the page again, at the new
    version: a redirect that follows offers that version, finds nothing stale and keeps
    the page, so the next client is still hinted. (Not learned again, the redirect would
    find the old version and drop the page; dropped by the 200, there would be nothing to
    hint.)"""
    app, version, status = _a_page_of_a_versioned_file()
    hinted_get(app.test_client(), "/", Recorder())  # learned at version A
    version[0] = "B"
    hinted_get(app.test_client(), "/", Recorder())  # hinted at A, learned again at B
    status[0] = 302
    hinted_get(app.test_client(), "/", Recorder())  # offers B: nothing stale to drop
    status[0] = 200
    again = Recorder()
    hinted_get(app.test_client(), "/", again)
    assert again.sent == [[("Link", "</static/app.css>; rel=preload; as=style")]]


def test_the_103_is_sent_before_the_view_runs(app: Flask) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder())
    timeline: list[str] = app.extensions["timeline"]
    timeline.clear()

    hinted_get(app.test_client(), "/page/home", Recorder(timeline))

    assert timeline == ["103", "view"]


def test_a_client_whose_digest_holds_every_link_gets_no_103(app: Flask) -> None:
    client = app.test_client()
    hinted_get(client, "/page/home", Recorder())
    recorder = Recorder()

    response = hinted_get(client, "/page/home", recorder)

    assert recorder.sent == []
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}; nopush"]


def test_a_client_holding_some_links_is_hinted_only_the_rest(app: Flask) -> None:
    page = "/page/full?u=/a.css&u=/b.css&u=/c.css"
    hinted_get(app.test_client(), page, Recorder())
    client = app.test_client()
    hinted_get(client, "/page/other?u=/b.css", Recorder())
    recorder = Recorder()

    hinted_get(client, page, recorder)

    assert recorder.sent == [
        [("Link", "</a.css>; rel=preload; as=style, </c.css>; rel=preload; as=style")]
    ]


def test_links_the_digest_does_not_track_are_always_hinted(app: Flask) -> None:
    """But for one marked nopush, which Chromium drops from a 103."""
    client = app.test_client()
    hinted_get(client, "/mixed", Recorder())
    recorder = Recorder()

    hinted_get(client, "/mixed", recorder)

    assert recorder.sent == [[("Link", CDN)]]


@pytest.mark.parametrize("secret_key", ["hints secret", None])
def test_a_modulepreload_and_a_prefetch_are_hinted_to_every_client(
    secret_key: str | None,
) -> None:
    """docs/early-hints.md, "Why no 103?": untracked links ("preconnect, modulepreload,
    prefetch") "are hinted to every client, as nothing records them": to one that holds
    the page's preload, and when nothing can be recorded (no SECRET_KEY)."""
    app = make_app(SECRET_KEY=secret_key)

    @app.route("/untracked")
    def untracked() -> str:
        push("/static/app.mjs", rel="modulepreload")
        push("/next", rel="prefetch")
        push("/static/site.css", as_="style")
        return "untracked"

    client = app.test_client()
    hinted_get(client, "/untracked", Recorder())
    recorder = Recorder()

    response = hinted_get(client, "/untracked", recorder)

    assert response.headers["Link"].endswith("</static/site.css>; rel=preload; as=style; nopush")
    hinted = "</static/app.mjs>; rel=modulepreload, </next>; rel=prefetch"
    assert recorder.sent == [[("Link", hinted)]]


@pytest.mark.parametrize(
    ("params", "flags", "hinted"),
    [
        ((), (), True),
        ((("integrity", "sha384-abc"), ("fetchpriority", "low")), (), True),
        ((("type", "font/woff2"),), ("crossorigin",), True),
        ((("nonce", "r4nd0m"),), (), False),  # a 103 cannot carry this response's nonce
        ((("media", "print"),), (), False),
        ((("referrerpolicy", "no-referrer"),), (), False),
        ((), ("defer",), False),
        ((), ("nopush",), False),
    ],
)
def test_a_link_chromium_drops_from_a_103_is_counted_not_hinted(
    params: tuple[tuple[str, str], ...], flags: tuple[str, ...], hinted: bool
) -> None:
    """Chromium 156 used a 103's link with integrity or fetchpriority, and fetched the
    file only after the page for one with media, referrerpolicy or defer (a stranger's
    run): such a link is planned, never sent; so is one with a nonce, which a 103 cannot
    carry."""
    hint = make_resource("/a.js", flags, "script", None, params).hint
    assert hint.sendable is hinted
    assert plan_early_hints([hint], set(), BUDGET, max_pushes=10).headers == (
        [("Link", hint.link)] if hinted else []
    )


@pytest.mark.parametrize(
    ("as_", "type_", "hinted"),
    [
        ("font", "font/woff2", True),
        ("image", "IMAGE/PNG ", True),
        ("image", "image/avif", True),
        ("style", "text/css", True),
        ("image", "image/jxl", False),  # Safari's alone
        ("font", "font/x-unknown", False),
        ("style", "text/plain", False),
        ("script", "module", False),  # no MIME type: a browser skips such a preload
    ],
)
def test_a_103_carries_no_link_whose_type_some_browser_cannot_use(
    as_: str, type_: str, hinted: bool
) -> None:
    """From a page's ``Link`` a browser skips a preload whose ``type`` it cannot use; from
    a 103 Firefox 153 fetched it all the same (a ~50 KB JPEG XL for a ``<picture>``
    source, on every first visit: tests/integration/test_firefox.py). Such a link is
    left to the final ``Link``."""
    resource = make_resource("/a", (), as_, None, (("type", type_),))
    assert resource.hint.sendable is hinted
    planned = plan_early_hints([resource.hint], set(), BUDGET, max_pushes=10)
    assert planned.headers == ([("Link", resource.hint.link)] if hinted else [])
    assert "type=" in resource.link  # the final Link keeps it, for each browser to pick


@pytest.mark.parametrize(
    ("flags", "params"),
    [((), (("type", ""),)), (("type",), ()), (("Type",), ()), ((), (("TYPE", True),))],
    ids=["type=''", "a type flag", "a Type flag", "TYPE=True"],
)
def test_an_empty_type_is_not_hinted_however_it_is_spelled(
    flags: tuple[str, ...], params: tuple[tuple[str, Any], ...]
) -> None:
    """A bare ``type`` is the empty type ``type=""`` is, which is none of the types a 103
    sends: given as a flag (or ``True``), it was sent, ``type=""`` was not."""
    resource = make_resource("/a.css", flags, "style", None, params)
    assert "type" in resource.link.lower()  # the final Link keeps it
    assert resource.hint.sendable is False
    assert plan_early_hints([resource.hint], set(), BUDGET, max_pushes=10).headers == []


@pytest.mark.parametrize(("flag", "as_"), [("rel", "style"), ("REL", "style"), ("as", None)])
def test_a_flag_repeating_rel_or_as_is_refused_before_any_hint_is_made(
    flag: str, as_: str | None
) -> None:
    """A stray bare ``rel`` after ``rel=preload; as=style`` was linked and hinted (Chromium
    keeps the first of each parameter), and so was a lone bare ``as``; each is refused now,
    as ``rel=True`` is (a second ``rel`` is one RFC 8288 §3 forbids, a lone bare ``as`` an
    empty one no browser fetches), so no link or hint is made of it. (Beside ``as_``, a
    bare ``as`` is dropped, as a keyword drops any positional spelling of its name.)"""
    with pytest.raises(ValueError, match="takes a value"):
        make_resource("/a.css", (flag,), as_, None, ())


def test_a_held_link_chromium_drops_takes_no_push_slot_from_a_103() -> None:
    """Ten held print stylesheets, then a new one: the final response pushes the new one,
    so the 103 offers it. As stand-ins without their keys, the held ten counted as new,
    took all ten push slots, and no 103 was sent (a stranger's review)."""
    printed = [
        make_resource(f"/p{n}.css", (), "style", None, (("media", "print"),)).hint
        for n in range(10)
    ]
    new = make_resource("/new.css", (), "style", None, ()).hint
    held = {hint.key for hint in printed}
    planned = plan_early_hints([*printed, new], held, BUDGET, max_pushes=10)
    assert planned == ([("Link", new.link)], (new.key,))
    # Not held, the ten take the slots: the final response pushes them, and the 103 nothing.
    assert plan_early_hints([*printed, new], set(), BUDGET, max_pushes=10) == ([], ())


def test_the_connector_is_asked_once_per_request() -> None:
    connector = CountingConnector()
    app = make_app(connector)
    client = app.test_client()
    hinted_get(app.test_client(), "/page/home", Recorder())
    hinted_get(client, "/page/other?u=/static/site.css", Recorder())
    connector.asked = 0
    recorder = Recorder()

    response = hinted_get(client, "/page/home", recorder)

    assert connector.asked == 1
    assert recorder.sent == [[("Link", JS)]]
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}"]
    # The answer it gave before the view still takes in what this page pushed.
    recorder = Recorder()
    hinted_get(client, "/page/home", recorder)
    assert recorder.sent == []


@pytest.mark.parametrize(
    ("early_hints", "order"),
    [(True, ["open for ada", "view"]), (False, ["view", "open for ada"])],
    ids=["103", "no 103"],
)
def test_open_is_asked_after_the_view_or_for_a_103_after_the_hooks_before_firehose(
    early_hints: bool, order: list[str]
) -> None:
    """docs/connectors.md: ``open()`` is asked after the view, or with Early Hints on before
    it, from a ``before_request`` hook ``Firehose(app)`` registers, so that a hook
    registered before it (one setting ``g.user``) has run by then."""
    asked: list[str] = []

    class PerUser(DigestConnector):
        def open(self, app: Flask, request: Request) -> Any:
            asked.append(f"open for {g.get('user')}")
            return super().open(app, request)

    app = Flask(__name__)
    app.config.update(SECRET_KEY="hints secret", FIREHOSE_EARLY_HINTS=early_hints)

    @app.before_request
    def load_user() -> None:
        g.user = "ada"

    Firehose(app, connector=PerUser())

    @app.route("/")
    @Firehose.hints("/static/site.css", as_="style")
    def index() -> str:
        asked.append("view")
        return "index"

    recorder = Recorder()
    hinted_get(app.test_client(), "/", recorder)
    assert recorder.sent == ([[("Link", CSS)]] if early_hints else [])
    assert asked == order


def test_an_async_view_and_hook_push_as_sync_ones_do() -> None:
    """docs/how-it-works.md: Flask runs an ``async def`` view or hook (``flask[async]``)
    through asgiref, in a copy of the request's context, where ``push()`` finds the page:
    its links are written and recorded, and learned for the next client's 103."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="hints secret", FIREHOSE_EARLY_HINTS=True)
    Firehose(app)

    @app.before_request
    async def site_css() -> None:
        push("/static/site.css", as_="style")

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return render_template_string("{{ push('/static/app.js', as='script') }}")

    client = app.test_client()
    assert hinted_get(client, "/", Recorder()).headers.get("Link") == f"{CSS}, {JS}"
    again = hinted_get(client, "/", Recorder()).headers.get("Link")
    assert again == f"{CSS}; nopush, {JS}; nopush"
    recorder = Recorder()
    hinted_get(app.test_client(), "/", recorder)
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_a_connector_that_can_remember_nothing_is_still_asked_once() -> None:
    """``open()`` answering None (no store for this client) is an answer, not "not asked":
    the 103 and the ``Link`` header share it."""

    class Forgetful:
        asked = 0

        def open(self, app: Flask, request: Request) -> None:
            Forgetful.asked += 1
            return None

        def save(self, *arguments: Any) -> None:
            raise AssertionError("nothing is saved for a client open() gave no holder for")

    app = make_app(Forgetful())
    client = app.test_client()
    hinted_get(client, "/page/home", Recorder())
    Forgetful.asked = 0
    recorder = Recorder()

    response = hinted_get(client, "/page/home", recorder)

    assert Forgetful.asked == 1
    assert recorder.sent == []  # nothing can be recorded: nothing a proxy would push
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}; nopush"]
    assert response.headers["Vary"] == "Cookie"  # another client's open() may differ


def test_a_404_that_records_what_its_103_offered_varies_on_cookie() -> None:
    """A page learned as a 200, then gone: its 103 offered a push, so the 404 records it,
    signing the client's whole digest (what it was pushed elsewhere, too) into its
    ``Set-Cookie``. A 404 no client is pushed on does not vary by its links, but that
    cookie does: without ``Vary: Cookie`` a shared cache may store the 404 (RFC 9111
    §4.2.2) and hand one client's history to the next (a stranger's hunt)."""
    app = make_app()
    items = {"42"}

    @app.route("/item/<item>")
    def item(item: str) -> str:
        if item not in items:
            abort(404)
        push("/static/item.css", as_="style")
        return "item"

    hinted_get(app.test_client(), "/item/42", Recorder())  # another client: learned
    client = app.test_client()
    hinted_get(client, "/page/other?u=/static/other.css", Recorder())
    items.clear()
    recorder = Recorder()

    response = hinted_get(client, "/item/42", recorder)

    assert response.status_code == 404
    assert recorder.sent == [[("Link", "</static/item.css>; rel=preload; as=style")]]
    assert "Link" not in response.headers
    assert "h2-digest=" in response.headers["Set-Cookie"]
    assert response.headers["Vary"] == "Cookie"


#: WebKitGTK 2.50.6's navigation (Safari's engine): it refuses HTTP/2 push and fetches
#: nothing a 103 links (tests/integration/test_webkit.py).
WEBKIT_NAVIGATION = {
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/60.5 Safari/605.1.15",
}


def test_a_browser_404_does_not_record_what_its_103_offered() -> None:
    """Behind Apache, WebKitGTK navigated to a page learned as a 200, now a 404: the 103
    reached it (``responseStart`` 39 ms), Apache pushed nothing (WebKit refuses push) and
    WebKit fetched neither file, yet the 404 recorded both, so the next learned page
    linking them got no 103 (``responseStart`` 436 ms, 34 ms in a fresh profile) and, with
    "omit", loses their preloads. A browser's request is recorded only where the browser
    preloads (how-it-works.md): a 404 it shows is not such a page."""
    app = make_app()
    items = {"42"}

    @app.route("/item/<item>")
    def item(item: str) -> str:
        if item not in items:
            abort(404)
        push("/static/item.css", as_="style")
        return "item"

    hinted_get(app.test_client(), "/item/42", Recorder())  # another client: learned
    client = app.test_client()
    items.clear()
    recorder = Recorder()

    response = hinted_get(client, "/item/42", recorder, headers=WEBKIT_NAVIGATION)

    assert response.status_code == 404
    assert recorder.sent == [[("Link", "</static/item.css>; rel=preload; as=style")]]
    items.add("42")
    assert client.get("/item/42", headers=WEBKIT_NAVIGATION).headers["Link"] == (
        "</static/item.css>; rel=preload; as=style"
    )


def test_a_strict_session_withheld_from_another_site_is_offered_no_push_in_a_103() -> None:
    """Nothing can be recorded for it (SessionConnector would write over the session the
    browser did not send), so nothing is offered for push before the view either."""
    app = make_app(SessionConnector(), SESSION_COOKIE_SAMESITE="Strict")
    hinted_get(app.test_client(), "/page/home", Recorder())  # learned
    arrival = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    recorder = Recorder()
    response = hinted_get(app.test_client(), "/page/home", recorder, headers=arrival)
    assert recorder.sent == []  # every link is one a proxy would push
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}; nopush"]
    assert "Set-Cookie" not in response.headers


class SessionFirehose:
    """Flask-Firehose 0.2.3's own connector: its comma-joined list in Flask's session."""

    @staticmethod
    def get_pushed() -> set[str]:
        return set(filter(None, session.get("h2-pushed", "").split(",")))

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        session["h2-pushed"] = ",".join(items)


@pytest.mark.parametrize(
    ("cookie", "headers"),
    [
        (None, {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}),  # withheld
        ("session=junk; session={own}", {}),  # a copy Flask did not read
        ("theme=dark,session={own}", {}),  # one Werkzeug reads inside theme's value
    ],
    ids=["strict-withheld", "junk-copy-first", "comma-joined"],
)
def test_a_flask_firehose_session_that_cannot_be_written_is_offered_no_push_in_a_103(
    cookie: str | None, headers: dict[str, str]
) -> None:
    """Where a Flask-Firehose connector's session would replace one the client did not
    send, or Flask did not read, save() writes nothing; the 103 had offered the page's
    links for push all the same, which a front pushed unrecorded on
    every such visit. Once its set_pushed() is seen writing the session, it is not asked
    there, as SessionConnector is not."""
    app = make_app(SessionFirehose, SESSION_COOKIE_SAMESITE="Strict")
    first = hinted_get(app.test_client(), "/page/home", Recorder())  # learned, and recorded
    assert first.headers["Link"] == f"{CSS}, {JS}"
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    if cookie is not None:
        headers = {"Cookie": cookie.format(own=serializer.dumps({"user": "alice"}))}
    recorder = Recorder()

    response = hinted_get(
        app.test_client(use_cookies=False), "/page/home", recorder, headers=headers
    )

    assert offered(recorder.sent) == []
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}; nopush"]
    assert "Set-Cookie" not in response.headers


def test_a_save_that_fails_after_a_103_costs_no_page(caplog: pytest.LogCaptureFixture) -> None:
    """The 103 offered pushes; the connector then fails to record them: the page is served,
    its links all nopush, the failure logged once."""

    class FailsToSave(DigestConnector):
        def save(self, *arguments: Any) -> None:
            raise RuntimeError("the store is down")

    app = make_app(FailsToSave())
    hinted_get(app.test_client(), "/page/home", Recorder())  # learns (and fails to save)
    recorder = Recorder()
    caplog.clear()

    with caplog.at_level(logging.ERROR):
        response = hinted_get(app.test_client(), "/page/home", recorder)

    assert offered(recorder.sent) == [CSS, JS]
    assert response.status_code == 200
    assert response.headers["Link"] == f"{CSS}; nopush, {JS}; nopush"
    assert len([r for r in caplog.records if "save() failed" in r.getMessage()]) == 1


def test_a_failing_connector_costs_no_page(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        @staticmethod
        def get_pushed() -> set[str]:
            raise RuntimeError("store is down")

        @staticmethod
        def set_pushed(items: set[str]) -> None:
            raise AssertionError("never told anything after get_pushed failed")

    app = make_app(Broken)
    hinted_get(app.test_client(), "/page/home", Recorder())
    caplog.clear()
    recorder = Recorder()

    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        response = hinted_get(app.test_client(), "/page/home", recorder)

    assert response.status_code == 200
    # Nothing can be recorded, so nothing a proxy would push is hinted (h2o and Apache push
    # what a 103 links); the final response keeps every preload, nopush.
    assert recorder.sent == []
    assert response.headers.getlist("Link") == [f"{CSS}; nopush, {JS}; nopush"]
    # Asked once for the 103 and the Link header both: one failure, logged once.
    failures = [r for r in caplog.records if "open() failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


@pytest.mark.parametrize(
    ("error", "level", "message"),
    [
        # The client went away before the 103 was written: routine (gunicorn logs it at
        # debug), not an error with a traceback on every reset a client sends.
        (
            ConnectionResetError(104, "Connection reset by peer"),
            logging.DEBUG,
            "firehose: the 103 Early Hints for http://localhost/page/home were not sent: "
            "ConnectionResetError(104, 'Connection reset by peer')",
        ),
        (
            BrokenPipeError(32, "Broken pipe"),
            logging.DEBUG,
            "firehose: the 103 Early Hints for http://localhost/page/home were not sent: "
            "BrokenPipeError(32, 'Broken pipe')",
        ),
        # Anything else is the server's or our bug: logged with its traceback.
        (
            OSError(errno.EBADF, "Bad file descriptor"),
            logging.ERROR,
            "firehose: sending 103 Early Hints for http://localhost/page/home failed",
        ),
        (
            TypeError("send() takes 2 positional arguments"),
            logging.ERROR,
            "firehose: sending 103 Early Hints for http://localhost/page/home failed",
        ),
    ],
)
def test_a_failing_early_hints_callable_still_serves_the_page(
    app: Flask, caplog: pytest.LogCaptureFixture, error: Exception, level: int, message: str
) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder())
    caplog.clear()
    calls: list[Headers] = []

    def refuses(headers: Headers) -> None:
        calls.append(headers)
        raise error

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = app.test_client().get("/page/home", environ_base={"wsgi.early_hints": refuses})

    assert calls == [[("Link", f"{CSS}, {JS}")]]
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "page home"
    assert response.headers.getlist("Link") == [f"{CSS}, {JS}"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(level, message)]
    # An error is logged with the server's own traceback, not one of telling it apart.
    logged = caplog.records[0].exc_info
    assert (logged[1] if logged else None) is (error if level == logging.ERROR else None)


def _served_after_a_103_failed(
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    host: str,
    path: str,
    environ_set: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """A browser's navigation to ``path`` on ``host``, called as a server calls the app
    (not through the test client, which reads ``request.url`` itself): once to learn the
    page, then again with a ``wsgi.early_hints`` that raises ``error``, logged from DEBUG
    on into ``caplog`` (cleared first). ``environ_set`` is set over the built environ.
    Returns the second response's status and body."""

    def get(send: Callable[[Headers], None]) -> tuple[str, bytes]:
        environ = EnvironBuilder(
            path,
            headers=[("Host", host), ("Accept", "text/html")],
            environ_base={"wsgi.early_hints": send},
        ).get_environ()
        environ.update(environ_set or {})
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)

        body = b"".join(app(environ, start_response))
        return statuses[-1], body

    def refuses(headers: Headers) -> None:
        raise error

    get(Recorder())  # learns the page
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        return get(refuses)


@pytest.mark.parametrize(
    ("error", "level", "message"),
    [
        (BrokenPipeError(32, "Broken pipe"), logging.DEBUG, "were not sent"),
        (OSError(errno.EBADF, "Bad file descriptor"), logging.ERROR, "failed"),
    ],
)
def test_a_failing_103_to_a_host_urlsplit_refuses_still_serves_the_page(
    app: Flask, caplog: pytest.LogCaptureFixture, error: Exception, level: int, message: str
) -> None:
    """Werkzeug serves ``Host: [1:2]``, brackets that hold no IP address, but cannot write
    its ``request.url``: ``urlsplit`` raises ValueError for it (Python 3.11.4 and later).
    The log line of a 103 that failed named the page by that url, so a client gone before
    its 103 (or a server failing to send it) got a 500 in place of the page, which the
    same app without 103s serves. (Werkzeug's test client reads that url too: the app is
    called as a server calls it.)"""

    served = _served_after_a_103_failed(app, caplog, error, "[1:2]", "/page/home")

    assert served == ("200 OK", b"page home")
    assert [(r.levelno, message in r.getMessage()) for r in caplog.records] == [(level, True)]
    assert "for http://[1:2]/page/home " in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("error", "level", "said"),
    [
        (BrokenPipeError(32, "Broken pipe"), logging.DEBUG, "the 103 Early Hints for {} were"),
        (
            OSError(errno.EBADF, "Bad file descriptor"),
            logging.ERROR,
            "sending 103 Early Hints for {} failed",
        ),
    ],
    ids=["client gone", "server failed"],
)
@pytest.mark.parametrize(
    ("host", "path", "query", "shown", "host_refused"),
    [
        pytest.param(
            "[1:2]",
            "/page/x\nERROR forged\x1b[2J",
            "q=\x1b[8m",
            r"'http://[1:2]/page/x\nERROR forged\x1b[2J?q=\x1b[8m'",
            True,  # by urlsplit, from Python 3.11.4 on
            id="controls in the url's parts",
        ),
        pytest.param(
            "[1:2]",
            "/declared",  # its view reads no request.args, which Werkzeug reads as UTF-8
            "q=\xe9",  # a query's bytes are not UTF-8: read as latin-1, as the server gave them
            "http://[1:2]/declared?q=\xe9",
            True,
            id="a byte of no UTF-8 in the query",
        ),
        pytest.param(
            "localhost",
            "/declared",  # hinted unlearned: no page longer than MAX_PAGE_LENGTH is learned
            "q=" + "a" * 4000,
            "http://localhost/declared?q=" + "a" * 172 + "...",
            False,
            id="a url of 4000 characters",
        ),
    ],
)
def test_a_failing_103_names_the_page_as_a_log_line_can_show_it(
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    level: int,
    said: str,
    host: str,
    path: str,
    query: str,
    shown: str,
    host_refused: bool,
) -> None:
    """The line of a 103 that failed names the page by its url, the client's Host, path
    and query. For a Host ``request.url`` cannot write (``[1:2]``) they were written as
    sent, the path decoded: ``/page/x%0AERROR...`` put a newline and a line of the
    client's making into an ERROR, logged on every such request while the server fails,
    and a query's raw ESC went to whoever tails the log. A url of kilobytes made each
    line as long. The url is quoted with its escapes when it holds a control character,
    and cut to 200 characters."""

    served = _served_after_a_103_failed(
        app, caplog, error, host, "/", {"PATH_INFO": path, "QUERY_STRING": query}
    )
    try:
        urlsplit(f"http://{host}/")
    except ValueError:  # Python 3.11.4 on: request.url cannot be written, its parts are
        pass
    else:
        if host_refused:  # before it, Werkzeug writes request.url for it, percent-encoded
            environ = EnvironBuilder("/", headers=[("Host", host)]).get_environ()
            environ.update({"PATH_INFO": path, "QUERY_STRING": query})
            shown = for_log(WerkzeugRequest(environ).url)

    assert served[0] == "200 OK"
    [told] = caplog.records
    assert told.levelno == level
    assert told.getMessage().isprintable(), told.getMessage()
    assert told.getMessage().startswith(f"firehose: {said.format(shown)}"), told.getMessage()


class HTTP2ConnectionError(Exception):
    """gunicorn's own (``gunicorn/http2/errors.py``), raised for a failed socket write."""


def sent_to_a_client_gone_over_tls(headers: Headers) -> None:
    """What gunicorn 27.0.1 serving TLS (``--certfile``) raised from ``wsgi.early_hints``
    for a client that reset its connection while a hook before ours ran (measured)."""
    raise ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")


def sent_to_a_client_gone_over_http2(headers: Headers) -> None:
    """The same over gunicorn's HTTP/2: ``_send_pending_data`` (``http2/connection.py``)
    raises its own error while handling the socket's (measured)."""
    try:
        sent_to_a_client_gone_over_tls(headers)
    except OSError as e:
        raise HTTP2ConnectionError(f"Socket write error: {e}")  # noqa: B904  as gunicorn does


@pytest.mark.parametrize(
    "send",
    [sent_to_a_client_gone_over_tls, sent_to_a_client_gone_over_http2],
    ids=["TLS", "HTTP/2"],
)
def test_a_client_gone_before_its_103_over_tls_is_routine_too(
    app: Flask, caplog: pytest.LogCaptureFixture, send: Callable[[Headers], None]
) -> None:
    """Over TLS, the only way Chromium takes a 103 from gunicorn itself (HTTP/2), a
    client gone before its 103 was written raised ``ssl.SSLEOFError``, or gunicorn's
    HTTP/2 error from it, not EPIPE: logged as an error with its traceback on every
    navigation left during a slow hook, where gunicorn logs the same at debug."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    caplog.clear()

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = app.test_client().get("/page/home", environ_base={"wsgi.early_hints": send})

    assert response.status_code == 200
    assert [(r.levelno, r.getMessage().split(": ")[1]) for r in caplog.records] == [
        (logging.DEBUG, "the 103 Early Hints for http://localhost/page/home were not sent")
    ]


class H2Stream:
    """One request stream of a real ``h2`` server connection, its client's frames received,
    with gunicorn 27.0.1's ``wsgi.early_hints`` over HTTP/2: ``send_informational``
    (``http2/connection.py``) hands the 103 to ``h2`` as it is, and lets what ``h2`` raises
    go through."""

    def __init__(self, client_left: str) -> None:
        client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        client.initiate_connection()
        self.server.initiate_connection()
        self.server.receive_data(client.data_to_send())
        client.receive_data(self.server.data_to_send())
        client.send_headers(1, navigation(":path", "/page/home"), end_stream=True)
        if client_left == "stream reset":  # a navigation cancelled (RST_STREAM CANCEL)
            client.reset_stream(1, error_code=h2.errors.ErrorCodes.CANCEL)
        elif client_left == "stream reset, next one opened":  # another link clicked
            client.reset_stream(1, error_code=h2.errors.ErrorCodes.CANCEL)
            client.send_headers(3, navigation(":path", "/page/other"), end_stream=True)
        self.server.receive_data(client.data_to_send())
        self.client = client

    def early_hints(self, headers: Headers) -> None:
        response = [(":status", "103"), *((name.lower(), str(value)) for name, value in headers)]
        self.server.send_headers(1, response, end_stream=False)

    def hints_received(self) -> list[Headers]:
        events = self.client.receive_data(self.server.data_to_send())
        return [
            [(name.decode(), value.decode()) for name, value in event.headers]
            for event in events
            if isinstance(event, h2.events.InformationalResponseReceived)
        ]


def navigation(*pseudo: str) -> list[tuple[str, str]]:
    """A GET's pseudo-header fields, ``pseudo`` (name, value) last."""
    fields = [(":method", "GET"), (":scheme", "https"), (":authority", "example.test")]
    return [*fields, (pseudo[0], pseudo[1])]


@pytest.mark.parametrize("client_left", ["stream reset", "stream reset, next one opened"])
def test_a_client_that_reset_its_http2_stream_before_its_103_is_routine(
    app: Flask, caplog: pytest.LogCaptureFixture, client_left: str
) -> None:
    """gunicorn's HTTP/2 serves a stream whose reset arrived while an earlier stream of
    the connection waited for flow-control credit (its ``HTTP2ServerConnection`` over a
    socketpair, 27.0.1: the reset set aside, the stream served as OPEN); ``h2``, which
    read the reset, refuses the 103 with its ``ProtocolError`` (a ``StreamIDTooLowError``
    once the client opened the next stream, as a second click does). A client gone, as a
    failed write is: gunicorn drops the final response with nothing logged. It was logged
    as an error with its traceback, for a navigation the user cancelled."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    stream = H2Stream(client_left)
    caplog.clear()

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = app.test_client().get(
            "/page/home", environ_base={"wsgi.early_hints": stream.early_hints}
        )

    assert response.status_code == 200
    assert response.headers.getlist("Link") == [f"{CSS}, {JS}"]
    assert [(r.levelno, r.getMessage().split(": ")[1]) for r in caplog.records] == [
        (logging.DEBUG, "the 103 Early Hints for http://localhost/page/home were not sent")
    ]


def test_an_http2_stream_the_client_keeps_gets_its_103(app: Flask) -> None:
    """The stream above, not reset: its client receives the 103 (what the test above
    refuses is the reset, not the way the 103 is handed to ``h2``)."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    stream = H2Stream("stayed")

    app.test_client().get("/page/home", environ_base={"wsgi.early_hints": stream.early_hints})

    assert stream.hints_received() == [[(":status", "103"), ("link", f"{CSS}, {JS}")]]


def test_a_holder_failing_with_an_os_error_is_an_error_not_a_gone_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only the 103's own write going wrong is read as the client gone: a store that lost
    its connection while the 103 is planned is logged as an error, the holder's, once."""

    class Unreachable:
        def __contains__(self, key: object) -> bool:
            raise ConnectionRefusedError(111, "Connection refused")

    class StoreConnector:
        def open(self, app: Flask, request: Request) -> Unreachable:
            return Unreachable()

        def save(self, *args: Any) -> None:
            raise AssertionError("nothing to save: the holder never answered")

        def __repr__(self) -> str:
            return "StoreConnector()"

    app = make_app(StoreConnector())
    hinted_get(app.test_client(), "/page/home", Recorder())  # learned
    recorder = Recorder()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        response = hinted_get(app.test_client(), "/page/home", recorder)

    assert response.status_code == 200
    assert recorder.sent == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["firehose: StoreConnector()'s holder failed; nothing is pushed"]


def test_without_wsgi_early_hints_nothing_changes() -> None:
    """Werkzeug's server, waitress...: the same responses as with the feature off."""
    paths = ["/page/home", "/page/home", "/mixed", "/declared", "/mixed", "/page/x?u=/a.css"]

    def digest_cookies(response: TestResponse) -> list[str]:
        """The digest each Set-Cookie carries: its value up to the signing time, which
        differs between the two runs when a second ticks, as does Expires."""
        return [value.split(".", 1)[0] for value in response.headers.getlist("Set-Cookie")]

    seen = {}
    for early_hints in (True, False):
        client = make_app(FIREHOSE_EARLY_HINTS=early_hints).test_client()
        seen[early_hints] = [
            (r.status_code, r.headers.getlist("Link"), digest_cookies(r))
            for r in map(client.get, paths)
        ]

    assert seen[True] == seen[False]
    assert seen[True][0][1] == [f"{CSS}, {JS}"]


def test_nothing_is_learned_without_wsgi_early_hints(app: Flask) -> None:
    app.test_client().get("/page/home")
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder)

    assert recorder.sent == []


def test_off_by_default() -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "hints secret"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        push("/static/site.css", as_="style")
        return "index"

    recorder = Recorder()
    responses = [hinted_get(app.test_client(), "/", recorder) for _ in range(3)]

    assert app.config["FIREHOSE_EARLY_HINTS"] is False
    assert recorder.sent == []
    assert [r.headers.getlist("Link") for r in responses] == [[CSS]] * 3


def test_firehose_enabled_false_turns_early_hints_off_too() -> None:
    app = make_app(FIREHOSE_ENABLED=False)
    recorder = Recorder()

    responses = [hinted_get(app.test_client(), "/declared", recorder) for _ in range(2)]

    assert recorder.sent == []
    assert [r.headers.getlist("Link") for r in responses] == [[], []]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/page/home"), ("HEAD", "/page/home")],
)
def test_only_get_requests_learn_and_are_hinted(app: Flask, method: str, path: str) -> None:
    client = app.test_client()
    recorder = Recorder()

    for _ in range(2):
        client.open(path, method=method, environ_base={"wsgi.early_hints": recorder})
    hinted_get(app.test_client(), path, recorder)

    assert recorder.sent == []


def test_a_response_other_than_200_is_not_learned(app: Flask) -> None:
    hinted_get(app.test_client(), "/moved", Recorder())
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/moved", recorder)

    assert response.status_code == 302
    assert recorder.sent == []


#: RFC 9110: the url has no content to send (204, or 205, which says so too, §15.3.6, and
#: to which a browser's navigation stays where it was as to a 204, HTML's "navigate"), or
#: no page here, for good (301, 308, 410), or none here (404, which may also hide a page
#: from this client).
STATUSES_OF_THE_URL = [204, 205, 301, 308, 404, 410]
#: Statuses about this request or this moment: a sign-in's redirect (302, 303, 307), a
#: refusal, a rate limit, a failure.
STATUSES_OF_THE_REQUEST = [302, 303, 307, 401, 403, 429, 500, 503]


def _a_page_that_answers(status: list[int], **config: Any) -> Flask:
    """An app whose ``/item`` pushes the stylesheet and answers ``status[0]``: the page, a
    204 or 205, a redirect to ``/page/home``, or Flask's error page."""
    app = make_app(**config)

    @app.route("/item")
    def item() -> str | tuple[str, int] | WerkzeugResponse:
        push("/static/site.css", as_="style")
        code = status[0]
        if code == 200:
            return "item"
        if code in (204, 205):
            return "", code
        if 300 <= code < 400:
            return redirect("/page/home", code)
        abort(code)

    return app


@pytest.mark.parametrize(
    ("status", "hinted_after"),
    [
        (200, True),
        *((code, False) for code in STATUSES_OF_THE_URL),
        *((code, True) for code in STATUSES_OF_THE_REQUEST),
    ],
)
def test_a_status_that_says_what_the_url_now_is_drops_what_its_page_learned(
    status: int, hinted_after: bool
) -> None:
    """A page learned from its 200, then deleted in a deploy (404, 410), moved for good
    (301, 308), or an action url answering 204, kept its 103: it went out before the view
    to every visitor, whose browser fetched files for a page the url no longer has
    (Chromium 156, Firefox 153: docs/early-hints.md). Such a status says what the url is
    for everyone; a sign-in's redirect, a refusal, a rate limit or a failure says
    something of this request or this moment, and the page keeps its 103."""
    answer = [200]
    app = _a_page_that_answers(answer)
    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    answer[0] = status
    first, then = Recorder(), Recorder()

    response = hinted_get(app.test_client(), "/item", first)
    hinted_get(app.test_client(), "/item", then)

    assert response.status_code == status
    assert first.sent == [[("Link", CSS)]]  # sent before the view, as to any page learned
    assert then.sent == ([[("Link", CSS)]] if hinted_after else [])


@pytest.mark.parametrize("method", ["HEAD", "POST"])
def test_a_gone_status_to_a_request_that_learns_nothing_keeps_what_the_page_learned(
    method: str,
) -> None:
    """Only a request that may learn (a GET navigation) may drop what a page learned: a
    HEAD or a POST is never hinted, and its 404 says nothing of what a GET is answered
    (a form's POST to the page's own url that the view refuses, a HEAD a monitor sends)."""
    answer = [200]
    app = _a_page_that_answers(answer)
    app.add_url_rule("/item", "item", app.view_functions["item"], methods=["POST"])
    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    answer[0] = 404
    response = app.test_client().open(
        "/item", method=method, environ_base={"wsgi.early_hints": Recorder()}
    )
    answer[0] = 200
    recorder = Recorder()

    hinted_get(app.test_client(), "/item", recorder)

    assert response.status_code == 404
    assert recorder.sent == [[("Link", CSS)]]


def test_a_page_gone_then_back_is_hinted_again_once_its_200_teaches_it() -> None:
    answer = [200]
    app = _a_page_that_answers(answer)
    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    answer[0] = 404
    hinted_get(app.test_client(), "/item", Recorder())  # gone: what it learned is dropped
    answer[0] = 200
    back, again = Recorder(), Recorder()

    hinted_get(app.test_client(), "/item", back)  # hinted nothing, learned again
    hinted_get(app.test_client(), "/item", again)

    assert back.sent == []
    assert again.sent == [[("Link", CSS)]]


def _a_layout_hinted_to_any_url() -> Flask:
    """An app whose ``before_request`` hook, registered before the extension's and so run
    before the 103, pushes the layout's stylesheet: a url never learned is hinted it."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="hints secret", FIREHOSE_EARLY_HINTS=True)

    @app.before_request
    def layout() -> None:
        push("/static/site.css", as_="style")

    Firehose(app)
    return app


def test_a_page_gone_is_hinted_nothing_not_even_what_a_hook_pushes() -> None:
    """What the gone page learned gives way to nothing, as for a url that answered with
    no page, not to what a ``before_request`` hook pushes (a layout's stylesheet, which
    a url never learned is hinted): each visitor's browser would fetch it for a 404."""
    app = _a_layout_hinted_to_any_url()
    gone = [False]

    @app.route("/item")
    def item() -> str:
        push("/static/app.js", as_="script")
        if gone[0]:
            abort(410)
        return "item"

    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    gone[0] = True
    first, then = Recorder(), Recorder()

    hinted_get(app.test_client(), "/item", first)
    hinted_get(app.test_client(), "/item", then)

    assert first.sent == [[("Link", f"{CSS}, {JS}")]]
    assert then.sent == []


def test_a_url_never_learned_that_answers_404_is_hinted_a_hook_s_push_on_each_request() -> None:
    """A url never learned keeps no entry when it answers with no page, so that made-up
    urls' 404s push no learned page out of the cache: each of its requests is hinted what
    a ``before_request`` hook pushed, as docs/early-hints.md says."""
    app = _a_layout_hinted_to_any_url()
    first, then = Recorder(), Recorder()

    hinted_get(app.test_client(), "/no-such-page", first)
    hinted_get(app.test_client(), "/no-such-page", then)

    assert first.sent == then.sent == [[("Link", CSS)]]


def test_a_declared_url_never_learned_is_hinted_its_declaration_on_each_404() -> None:
    """So too what the view declares: an item a declared view answers 404 for keeps no
    entry, and each of its navigations is hinted the declaration, as docs/early-hints.md
    says; once a 200 taught the url, its 404 leaves it hinted nothing."""
    app = make_app()
    missing = {99}

    @app.route("/item/<int:number>")
    @Firehose.hints("/static/site.css", as_="style")
    def item(number: int) -> str:
        if number in missing:
            abort(404)
        return "item"

    first, then, learned, gone = Recorder(), Recorder(), Recorder(), Recorder()

    hinted_get(app.test_client(), "/item/99", first)
    hinted_get(app.test_client(), "/item/99", then)
    hinted_get(app.test_client(), "/item/1", Recorder())  # learned from its 200
    missing.add(1)
    hinted_get(app.test_client(), "/item/1", learned)  # hinted what it learned, then 404
    hinted_get(app.test_client(), "/item/1", gone)

    assert first.sent == then.sent == learned.sent == [[("Link", CSS)]]
    assert gone.sent == []


@pytest.mark.parametrize(
    ("headers", "environ"),
    [
        pytest.param({}, {"SERVER_PROTOCOL": "HTTP/1.0"}, id="HTTP/1.0"),
        pytest.param({"X-Varnish": "32771"}, {}, id="forwarded by Varnish"),
        pytest.param({"If-None-Match": '"v1"'}, {}, id="a revalidation"),
    ],
)
def test_a_navigation_that_gets_no_103_changes_nothing_its_page_learned(
    headers: dict[str, str], environ: dict[str, str]
) -> None:
    """docs/early-hints.md, "Requests that change nothing": an HTTP/1.0 request, one
    Varnish forwards and a revalidation get no 103, and neither their 404 nor their 200 of
    other links changes what the page learned."""
    answer: dict[str, Any] = {"status": 200, "url": "/static/site.css"}
    app = make_app()

    @app.route("/item")
    def item() -> str:
        push(answer["url"], as_="style")
        if answer["status"] != 200:
            abort(answer["status"])
        return "item"

    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    recorders = [Recorder(), Recorder()]
    answer["status"] = 404
    gone = hinted_get(
        app.test_client(), "/item", recorders[0], headers=headers, environ_overrides=environ
    )
    answer.update(status=200, url="/static/other.css")
    other = hinted_get(
        app.test_client(), "/item", recorders[1], headers=headers, environ_overrides=environ
    )
    recorder = Recorder()

    hinted_get(app.test_client(), "/item", recorder)

    assert (gone.status_code, other.status_code) == (404, 200)
    assert [r.sent for r in recorders] == [[], []]
    assert recorder.sent == [[("Link", CSS)]]


@pytest.mark.parametrize("status", [404, 410])
def test_a_page_whose_url_now_answers_json_that_it_is_gone_is_hinted_no_more(
    status: int,
) -> None:
    """No page (JSON, an API's answer in the page's place): the status is still about
    the url."""
    app = make_app()
    gone = [False]

    @app.route("/item")
    def item() -> Response | str:
        push("/static/site.css", as_="style")
        if gone[0]:
            return Response('{"error": "gone"}', status=status, content_type="application/json")
        return "item"

    hinted_get(app.test_client(), "/item", Recorder())  # learned from its 200
    gone[0] = True
    hinted_get(app.test_client(), "/item", Recorder(), headers=BROWSER_NAVIGATION)
    recorder = Recorder()

    hinted_get(app.test_client(), "/item", recorder, headers=BROWSER_NAVIGATION)

    assert recorder.sent == []


def test_a_404_of_a_url_never_learned_takes_no_learned_page_s_place() -> None:
    """Only what a page learned is dropped: a url that never answered 200 keeps no entry
    of its own, or each 404 a scanner asks for would push a learned page out of the cache
    (an empty entry takes a place as a page does)."""
    app = _a_page_that_answers([404], FIREHOSE_EARLY_HINTS_CACHE=1)
    hinted_get(app.test_client(), "/page/home", Recorder())  # learned from its 200
    hinted_get(app.test_client(), "/item", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder)

    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


@pytest.mark.parametrize("download", [False, True], ids=["a file", "an HTML download"])
def test_a_file_a_url_never_learned_answers_takes_no_learned_page_s_place(download: bool) -> None:
    """A url never learned that answers with no page (an invoice a visitor opens in a tab,
    an export it downloads, each of its own url) keeps no entry when nothing would hint it
    anyway (no declaration, no hook's push): its empty entry changed no 103, and each one
    pushed a learned page out of the cache."""
    app = make_app(FIREHOSE_EARLY_HINTS_CACHE=1)

    @app.route("/invoice/<number>")
    def invoice(number: str) -> Response:
        push("/static/site.css", as_="style")
        if download:
            response = Response("<!doctype html><p>invoice", content_type="text/html")
            response.headers["Content-Disposition"] = "attachment"
            return response
        return Response(b"%PDF-1.7", content_type="application/pdf")

    hinted_get(app.test_client(), "/page/home", Recorder())  # learned from its 200
    opened = Recorder()
    hinted_get(app.test_client(), "/invoice/17", opened, headers=BROWSER_NAVIGATION)
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder)

    assert opened.sent == []
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


@pytest.mark.parametrize("status", STATUSES_OF_THE_URL)
def test_a_gone_page_whose_103_offered_an_old_version_stays_hinted_nothing(status: int) -> None:
    """A 103 that offered a url under a version it no longer has makes a response other
    than a 200 forget what the page learned; for a gone page that would remove the empty
    entry its status just left, and the url would be hinted what a ``before_request``
    hook pushes, as one never learned is (a review: no test stood on this)."""
    version, answer = ["A"], [200]
    app = _a_layout_hinted_to_any_url()

    @app.route("/")
    def index() -> Response:
        push("/static/app.css", as_="style", version=version[0])
        return Response("page", status=answer[0])

    hinted_get(app.test_client(), "/", Recorder())  # learned at version A
    version[0], answer[0] = "B", status
    first, then = Recorder(), Recorder()

    hinted_get(app.test_client(), "/", first)  # its 103 offers app.css at A
    hinted_get(app.test_client(), "/", then)

    assert first.sent == [[("Link", f"{CSS}, {CSS_APP}")]]
    assert then.sent == []


def test_a_gone_page_racing_another_page_s_200_puts_no_entry_back_in_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 404 that found its page learned, then, before writing the empty entry, lost it
    to another thread's 200 (a cache of one page: the other page's learning drops it),
    put the entry back, in the place of the page the other thread had just learned: that
    page was hinted nothing on its next visit, an end no order of the two requests has
    (a review, with a thread switch made where the cache is asked). Asked and written
    under one lock, the gone page, no longer learned, gets no entry. The other request
    runs where the 404's step first reads the cache's sizes, as a switch would."""
    answer = [200]
    app = _a_page_that_answers(answer, FIREHOSE_EARLY_HINTS_CACHE=1)
    hinted_get(app.test_client(), "/item", Recorder())  # learned: the cache's one page
    page_size = hints_module._page_size
    switched: list[str] = []

    def other_request_first(page: str, hints: tuple[Any, ...]) -> int:
        if not switched and not hints and "/item" in page:
            switched.append(page)  # the 404's step: the other thread's 200 lands now
            worker = threading.Thread(
                target=hinted_get, args=(app.test_client(), "/page/home", Recorder())
            )
            worker.start()
            worker.join(timeout=10)  # it waits in vain if the size is read under the lock
            assert not worker.is_alive(), "the other request waits for the cache's lock"
        return page_size(page, hints)

    monkeypatch.setattr(hints_module, "_page_size", other_request_first)
    answer[0] = 404
    hinted_get(app.test_client(), "/item", Recorder())
    monkeypatch.setattr(hints_module, "_page_size", page_size)
    home = Recorder()

    hinted_get(app.test_client(), "/page/home", home)

    assert switched
    assert home.sent == [[("Link", f"{CSS}, {JS}")]]


@pytest.mark.parametrize(("content_type", "learned"), [("text/css", False), ("text/html", True)])
def test_only_a_page_is_learned(content_type: str, learned: bool) -> None:
    """A proxy asks for a push with no Sec-Fetch-* header, as a navigation does: the file
    it fetches (a view's, pushed by a before_request hook too) is no page to hint."""
    app = make_app()

    @app.route("/theme.css")
    def theme() -> Response:
        push("/static/site.css", as_="style")
        return Response("body {}", content_type=content_type)

    hinted_get(app.test_client(), "/theme.css", Recorder())
    recorder = Recorder()
    hinted_get(app.test_client(), "/theme.css", recorder)
    assert recorder.sent == ([[("Link", CSS)]] if learned else [])


def test_a_learned_url_that_answers_with_a_file_is_hinted_no_more() -> None:
    """A 200 that is no page is not learned, and its url's entry is not left as it was:
    the page it was is no longer behind it (a review)."""
    app = make_app()
    kind = ["html"]

    @app.route("/report")
    def report() -> Response | str:
        push("/static/site.css", as_="style")
        if kind[0] == "html":
            return "report"
        return Response(b"%PDF-1.7", content_type="application/pdf")

    hinted_get(app.test_client(), "/report", Recorder())  # learned as a page
    kind[0] = "pdf"
    first = Recorder()
    hinted_get(app.test_client(), "/report", first, headers=BROWSER_NAVIGATION)
    recorder = Recorder()
    hinted_get(app.test_client(), "/report", recorder)
    assert first.sent == [[("Link", CSS)]]  # sent before the view: it was a page
    assert recorder.sent == []


@pytest.mark.parametrize("learned_first", [False, True], ids=["new", "learned as a page first"])
@pytest.mark.parametrize(
    "downloader",
    [BROWSER_NAVIGATION, {"Accept": "text/html"}],
    ids=["by a browser", "without Fetch Metadata"],
)
def test_a_page_a_browser_downloads_teaches_no_103(
    learned_first: bool, downloader: dict[str, str]
) -> None:
    """An HTML page served as a download (``Content-Disposition: attachment``, an export)
    is not shown, so the browser preloads nothing it links and nothing is recorded: a 103
    learned from it would be fetched for nothing on every visit. Whoever fetched it (curl,
    a browser from before Fetch Metadata), such a url is hinted nothing from then on, as a
    file is."""
    app = make_app()
    download = [not learned_first]

    @app.route("/export")
    def export() -> Response:
        push("/static/site.css", as_="style")
        response = Response("<!doctype html><p>export", content_type="text/html")
        if download[0]:
            response.headers["Content-Disposition"] = 'attachment; filename="export.html"'
        return response

    if learned_first:
        hinted_get(app.test_client(), "/export", Recorder(), headers=BROWSER_NAVIGATION)
        download[0] = True
    hinted_get(app.test_client(), "/export", Recorder(), headers=downloader)
    recorder = Recorder()
    hinted_get(app.test_client(), "/export", recorder, headers=BROWSER_NAVIGATION)
    assert recorder.sent == []


@pytest.mark.parametrize("status", [200, 404])
def test_a_json_answer_without_fetch_metadata_leaves_the_pages_hints(status: int) -> None:
    """curl or requests asking for a page's JSON variant (no Sec-Fetch-*, so taken for a
    navigation), or a made-up url's JSON 404: the page keeps its 103 (a review)."""
    app = make_app(FIREHOSE_EARLY_HINTS_CACHE=1)

    @app.route("/items")
    def items() -> Response | str:
        push("/static/site.css", as_="style")
        if request.headers.get("Accept") == "application/json":
            return Response("[]", status=status, content_type="application/json")
        return "items"

    hinted_get(app.test_client(), "/items", Recorder())  # learned as a page
    json = {"Accept": "application/json"}
    hinted_get(
        app.test_client(), "/items" if status == 200 else "/items?x=1", Recorder(), headers=json
    )
    recorder = Recorder()
    hinted_get(app.test_client(), "/items", recorder, headers=BROWSER_NAVIGATION)
    assert recorder.sent == [[("Link", CSS)]]


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/json, text/html;q=0.5",
        "*/*",
        "text/html;q=0.5, */*",
        "application/xhtml+xml, application/json;q=0.9",
    ],
    ids=[
        "json alone",
        "json over html",
        "anything",
        "anything over html",
        "xhtml, which the url does not serve",
    ],
)
def test_a_json_answer_a_forged_navigation_chose_leaves_the_pages_hints(accept: str) -> None:
    """A client that sends a browser's Fetch Metadata with an Accept that ranks JSON at
    least as high as ``text/html``, at a url that answers such a request with JSON (and a
    browser's navigation, which ranks ``text/html`` first, with the page): the JSON was
    chosen by that request, so the page keeps its 103. Else one such request per visit
    kept the page from being hinted to anyone. JSON ranked by ``*/*`` alone has that
    range's quality (RFC 9110 §12.5.1). XHTML ranked above JSON is no page this url
    serves: Werkzeug's ``best_match`` chooses JSON for it."""
    app = make_app()

    @app.route("/items")
    def items() -> Response | str:
        push("/static/site.css", as_="style")
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == (
            "application/json"
        ):
            return jsonify([])
        return "items"

    hinted_get(app.test_client(), "/items", Recorder(), headers=BROWSER_NAVIGATION)
    forged = {**BROWSER_NAVIGATION, "Accept": accept}
    json = hinted_get(app.test_client(), "/items", Recorder(), headers=forged)
    recorder = Recorder()
    hinted_get(app.test_client(), "/items", recorder, headers=BROWSER_NAVIGATION)
    assert json.mimetype == "application/json"
    assert recorder.sent == [[("Link", CSS)]]


def test_a_browsers_navigation_answered_with_json_leaves_the_url_hinted_nothing() -> None:
    """A browser's navigation (HTML ranked above everything else) answered with JSON: the
    url serves browsers a file now, and is hinted nothing until a page teaches it again."""
    app = make_app()
    page = [True]

    @app.route("/items")
    def items() -> Response | str:
        push("/static/site.css", as_="style")
        return "items" if page[0] else jsonify([])

    hinted_get(app.test_client(), "/items", Recorder(), headers=BROWSER_NAVIGATION)
    page[0] = False
    hinted_get(app.test_client(), "/items", Recorder(), headers=BROWSER_NAVIGATION)
    recorder = Recorder()
    hinted_get(app.test_client(), "/items", recorder, headers=BROWSER_NAVIGATION)
    assert recorder.sent == []


#: Each browser's navigation ``Accept``, as sent to a page (measured 2026-12-05: Chromium
#: 156 and Firefox 153.8esr headless, Safari from MDN's "List of default Accept values").
NAVIGATION_ACCEPT = {
    "Chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/jxl,"
    "image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
#: What Chromium's navigation ranks as high as HTML.
CHROMIUM_IMAGES = ("image/jxl", "image/avif", "image/webp", "image/apng")


@pytest.mark.parametrize("browser", sorted(NAVIGATION_ACCEPT))
@pytest.mark.parametrize(
    "served",
    ["application/json", "application/pdf", "text/plain", "image/png", *CHROMIUM_IMAGES],
)
def test_which_files_a_browsers_navigation_unlearns_a_page_by(browser: str, served: str) -> None:
    """docs/early-hints.md: every browser's navigation ranks HTML above JSON or a PDF, and
    Chromium's ranks ``image/jxl``, ``image/avif``, ``image/webp`` and ``image/apng`` as
    high as HTML (Firefox's and Safari's none), so such an image answering its navigation
    leaves the page's links."""
    ranked_as_html = browser == "Chromium" and served in CHROMIUM_IMAGES
    environ = {"HTTP_ACCEPT": NAVIGATION_ACCEPT[browser]}
    assert prefers_html(environ, served) is not ranked_as_html


@pytest.mark.parametrize("content_type", ["bogus", "*/json"])
def test_a_content_type_no_accept_can_name_answers_a_navigation(content_type: str) -> None:
    """A view's Content-Type that is no media type (which Werkzeug's Accept refuses to
    match) answers a browser's navigation, and leaves the url hinted nothing, as a file
    does."""
    app = make_app()
    page = [True]

    @app.route("/feed")
    def feed() -> Response | str:
        push("/static/site.css", as_="style")
        return "feed" if page[0] else Response("x", content_type=content_type)

    hinted_get(app.test_client(), "/feed", Recorder(), headers=BROWSER_NAVIGATION)
    page[0] = False
    answer = hinted_get(app.test_client(), "/feed", Recorder(), headers=BROWSER_NAVIGATION)
    recorder = Recorder()
    hinted_get(app.test_client(), "/feed", recorder, headers=BROWSER_NAVIGATION)
    assert (answer.status_code, answer.data) == (200, b"x")
    assert recorder.sent == []


def _a_page_each_client_can_vary() -> Flask:
    """``/items``, a page that pushes the stylesheet, and answers some requests otherwise,
    as sites do, from what the client sends."""
    app = make_app()

    @app.route("/items", methods=["GET", "POST"])
    def items() -> Response | str:
        if request.headers.get("HX-Request"):
            return "<li>a fragment"  # htmx's: no layout, nothing pushed
        push("/static/site.css", as_="style")
        if request.cookies.get("private"):
            abort(404)  # a private page, hidden from a stranger
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            return jsonify([])
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == (
            "application/json"
        ):
            return jsonify([])
        if request.headers.get("X-Theme"):
            push("/static/theme.css", as_="style")
        return "items"

    return app


NAVIGATION_AS_CHROME = {
    **BROWSER_NAVIGATION,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
THEME = "</static/theme.css>; rel=preload; as=style"


@pytest.mark.parametrize(
    ("method", "path", "headers", "next_103"),
    [
        pytest.param(
            "GET",
            "/items",
            {"X-Theme": "dark"},
            [[("Link", f"{CSS}, {THEME}")]],
            id="a link the view chose for it",
        ),
        pytest.param("GET", "/items", {"HX-Request": "true"}, [], id="a fragment"),
        pytest.param(
            "GET",
            "/items",
            {"X-Requested-With": "XMLHttpRequest"},
            [],
            id="JSON chosen by another header than Accept",
        ),
        pytest.param("GET", "/items", {"Cookie": "private=1"}, [], id="a 404 for it"),
        pytest.param(
            "GET",
            "/items",
            {"Accept": "application/json"},
            [[("Link", CSS)]],
            id="JSON its Accept chose",
        ),
        pytest.param(
            "GET", "/items", {"Accept": "*/*"}, [[("Link", CSS)]], id="JSON for any type"
        ),
        pytest.param("HEAD", "/items", {"HX-Request": "true"}, [[("Link", CSS)]], id="HEAD"),
        pytest.param("POST", "/items", {"HX-Request": "true"}, [[("Link", CSS)]], id="POST"),
        pytest.param("OPTIONS", "/items", {}, [[("Link", CSS)]], id="OPTIONS"),
        pytest.param(
            "GET",
            "/items",
            {"HX-Request": "1", "If-None-Match": '"x"'},
            [[("Link", CSS)]],
            id="a revalidation",
        ),
        pytest.param(
            "GET",
            "/items",
            {"HX-Request": "1", "Sec-Purpose": "prefetch"},
            [[("Link", CSS)]],
            id="a prefetch",
        ),
        pytest.param(
            "GET",
            "/items",
            {"HX-Request": "1", "Sec-Fetch-Dest": "iframe"},
            [[("Link", CSS)]],
            id="an iframe",
        ),
        pytest.param(
            "GET",
            "/items",
            {"Sec-Fetch-Mode": "", "Sec-Fetch-Dest": "", "Accept": "*/*", "HX-Request": "1"},
            [[("Link", CSS)]],
            id="no HTML named, no Fetch Metadata",
        ),
        pytest.param("GET", "/items/", {}, [[("Link", CSS)]], id="a trailing slash"),
        pytest.param("GET", "/Items", {}, [[("Link", CSS)]], id="another case"),
        pytest.param(
            "GET", "/items?x", {"HX-Request": "1"}, [[("Link", CSS)]], id="another query"
        ),
        pytest.param("GET", "/%69tems", {"HX-Request": "1"}, [], id="the path encoded"),
    ],
)
def test_what_one_clients_request_does_to_the_next_visitors_103(
    method: str, path: str, headers: dict[str, str], next_103: list[Headers]
) -> None:
    """docs/early-hints.md, "What one client can do to it": any client can teach the url
    it asks for what the view pushes for it, or leave it hinted less or nothing for the
    next visitor (one 103 for one request: that visitor's 200 teaches it again), and
    nothing else changes what the page is hinted."""
    app = _a_page_each_client_can_vary()
    hinted_get(app.test_client(), "/items", Recorder(), headers=NAVIGATION_AS_CHROME)
    sent = {**NAVIGATION_AS_CHROME, **headers}
    forged = {name: value for name, value in sent.items() if value}
    client = app.test_client()
    if "Cookie" in forged:  # the test client sends its own jar's in place of the header
        client.set_cookie(*forged.pop("Cookie").split("="))
    client.open(path, method=method, headers=forged, environ_base={"wsgi.early_hints": Recorder()})
    next_visitor, the_one_after = Recorder(), Recorder()
    hinted_get(app.test_client(), "/items", next_visitor, headers=NAVIGATION_AS_CHROME)
    hinted_get(app.test_client(), "/items", the_one_after, headers=NAVIGATION_AS_CHROME)
    assert next_visitor.sent == next_103
    assert the_one_after.sent == [[("Link", CSS)]]


def test_as_many_made_up_urls_as_the_cache_holds_drop_a_pages_103() -> None:
    """A client asking for FIREHOSE_EARLY_HINTS_CACHE made-up urls (query strings) a view
    answers 200 between two visits of a page drops its 103; one fewer does not."""
    app = make_app()
    hinted_get(app.test_client(), "/page/home", Recorder())
    client = app.test_client()
    for flood in (999, 1000):
        hinted_get(app.test_client(), "/page/home", Recorder())  # used last
        for n in range(flood):
            hinted_get(client, f"/page/news?made-up={flood}-{n}", Recorder())
        recorder = Recorder()
        hinted_get(app.test_client(), "/page/home", recorder)
        assert bool(recorder.sent) == (flood == 999)


def test_a_file_a_view_serves_is_hinted_a_hooks_pushes_once_at_most() -> None:
    """A url not learned yet is hinted what a before_request hook pushed; once it answered
    with no page (a proxy's push request looks like a navigation), nothing."""
    app = _a_layout_hinted_to_any_url()

    @app.route("/theme.css")
    def theme() -> Response:
        return Response("body {}", content_type="text/css")

    first, second = Recorder(), Recorder()
    hinted_get(app.test_client(), "/theme.css", first)
    hinted_get(app.test_client(), "/theme.css", second)
    assert first.sent == [[("Link", CSS)]]
    assert second.sent == []


def test_a_changed_page_is_learned_again(app: Flask) -> None:
    hinted_get(app.test_client(), "/page/news?u=/old.css", Recorder())
    hinted_get(app.test_client(), "/page/news?u=/new.css", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/news?u=/new.css", recorder)

    assert recorder.sent == [[("Link", "</new.css>; rel=preload; as=style")]]


def test_a_page_that_stops_pushing_stops_being_hinted() -> None:
    app = make_app()
    pushing = [True]

    @app.route("/news")
    def news() -> str:
        if pushing[0]:
            push("/old.css", as_="style")
        return "news"

    hinted_get(app.test_client(), "/news", Recorder())
    pushing[0] = False
    hinted_get(app.test_client(), "/news", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/news", recorder)

    assert recorder.sent == []


def test_a_page_is_its_whole_url_so_a_query_cannot_choose_another_urls_hints() -> None:
    app = make_app()
    hinted_get(app.test_client(), "/page/news?u=/chosen.css", Recorder())
    hinted_get(app.test_client(), "/page/news?u=/own.css", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/news?u=/own.css", recorder)
    hinted_get(app.test_client(), "/page/news", recorder)  # never learned: no 103

    assert recorder.sent == [[("Link", "</own.css>; rel=preload; as=style")]]


def test_one_host_is_never_hinted_another_hosts_links() -> None:
    app = make_app()
    hinted_get(app.test_client(), "/page/home", Recorder(), base_url="http://tenant-a.test")
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder, base_url="http://tenant-b.test")

    assert recorder.sent == []


@pytest.mark.parametrize(
    ("teacher", "asker", "hinted"),
    [
        ("https://shop.example:443", "https://shop.example", True),
        ("https://shop.example", "https://shop.example:443", True),
        ("http://shop.example:80", "http://shop.example", True),
        ("http://shop.example:443", "http://shop.example", False),
        ("https://shop.example:80", "https://shop.example", False),
        # A Host Werkzeug reads as none (an underscore), keyed as sent: the same origin.
        ("https://shop_a.test:443", "https://shop_a.test", True),
        ("http://shop_a.test", "http://shop_a.test:80", True),
        ("http://shop_a.test:443", "http://shop_a.test", False),
    ],
)
def test_a_host_with_its_scheme_s_default_port_is_the_same_page(
    teacher: str, asker: str, hinted: bool
) -> None:
    """``Host: shop.example:443`` over https is the origin ``https://shop.example`` (RFC
    6454 §4 leaves a scheme's default port out; Werkzeug's ``request.host`` drops it):
    what either form taught is hinted to the other. Another scheme's port is a port."""
    app = make_app()
    hinted_get(app.test_client(), "/page/home", Recorder(), base_url=teacher)
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder, base_url=asker)

    assert recorder.sent == ([[("Link", f"{CSS}, {JS}")]] if hinted else [])


@pytest.mark.parametrize(
    ("teacher", "asker", "hinted"),
    [
        # RFC 3986 §6.2.2.1: a scheme and a host are case-insensitive, and Werkzeug's
        # routing lowercases the host (Map.bind_to_environ): one page.
        (("http", "Shop.EXAMPLE"), ("http", "shop.example"), True),
        (("http", "shop.example"), ("http", "SHOP.example"), True),
        (("http", "Shop_A.test"), ("http", "shop_a.test"), True),  # a Host Werkzeug reads as none
        # A scheme in another case (X-Forwarded-Proto: HTTPS through ProxyFix), with its
        # default port, which Werkzeug then leaves in its host.
        (("HTTPS", "shop.example:443"), ("https", "shop.example"), True),
        (("HTTPS", "Shop_A.test:443"), ("https", "shop_a.test"), True),
        # Another origin to a browser, and a 404 to Flask's host matching: another page.
        (("http", "shop.example."), ("http", "shop.example"), False),
        # Bytes no browser sends (it sends an IDN as punycode), kept as sent: a non-ASCII
        # character's case is not folded, as "Ã" and "ã" are the bytes C3 and E3.
        (("http", "b\xc3\xbccher.test"), ("http", "b\xe3\xbccher.test"), False),
        (("http", "b\xc3\xbccher.test"), ("http", "xn--bcher-kva.test"), False),
    ],
)
def test_a_host_or_scheme_in_another_case_is_the_same_page(
    teacher: tuple[str, str], asker: tuple[str, str], hinted: bool
) -> None:
    """A page learned under ``Host: Shop.EXAMPLE`` is hinted to ``Host: shop.example``: it
    was kept apart, one url learned twice and hinted to neither spelling's first visit.
    Only ASCII letters are folded, so no two hosts differing beyond ASCII case are one
    page."""
    app = make_app()
    (teacher_scheme, teacher_host), (asker_scheme, asker_host) = teacher, asker
    hinted_get(
        app.test_client(),
        "/page/home",
        Recorder(),
        headers={"Host": teacher_host},
        environ_overrides={"wsgi.url_scheme": teacher_scheme},
    )
    recorder = Recorder()

    hinted_get(
        app.test_client(),
        "/page/home",
        recorder,
        headers={"Host": asker_host},
        environ_overrides={"wsgi.url_scheme": asker_scheme},
    )

    assert recorder.sent == ([[("Link", f"{CSS}, {JS}")]] if hinted else [])


@pytest.mark.parametrize("teacher", ["evil_x.test", "evil host", "", "b\xc3\xbccher.test"])
def test_a_host_werkzeug_cannot_read_is_never_hinted_another_such_hosts_links(
    teacher: str,
) -> None:
    """Werkzeug (3.1.8) reads a ``Host`` it finds invalid (an underscore, a space,
    UTF-8, or none) as no host, ``""``: keyed by that, every such host's pages were one,
    and a client sending ``Host: evil_x.test`` chose what a site on ``shop_a.test``
    (underscores are served by browsers) was hinted. The page is keyed by the ``Host``
    as sent then."""
    app = make_app()

    @app.route("/site")
    def site() -> str:
        push(f"/static/{request.headers.get('Host')}.css", as_="style")  # a multi-host app
        return "site"

    hinted_get(app.test_client(), "/site", Recorder(), headers={"Host": teacher})
    recorder = Recorder()

    hinted_get(app.test_client(), "/site", recorder, headers={"Host": "shop_a.test"})
    hinted_get(app.test_client(), "/site", recorder, headers={"Host": "shop_a.test"})

    assert recorder.sent == [[("Link", "</static/shop_a.test.css>; rel=preload; as=style")]]


def test_a_host_the_app_does_not_trust_gets_flask_s_400_and_no_103() -> None:
    """Flask answers a ``Host`` outside ``TRUSTED_HOSTS`` 400, after the app's
    ``before_request`` hooks, which may read the host no more. Our 103 hook read it to name
    the page, raising Flask's error before the app's later hooks ran: an ``after_request``
    hook reading what one of them set (a request id) failed, and the client got a 500."""
    app = make_app(TRUSTED_HOSTS=["shop.example"])

    tag_responses_with_a_request_id(app)

    hinted_get(app.test_client(), "/page/home", Recorder(), base_url="http://shop.example")
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/page/home", recorder, base_url="http://evil.test")

    assert (response.status_code, response.headers.get("X-Request-Id")) == (400, "r1")
    assert recorder.sent == []
    trusted = hinted_get(app.test_client(), "/page/home", recorder, base_url="http://shop.example")
    assert trusted.status_code == 200
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_the_cache_keeps_only_the_most_recently_used_paths() -> None:
    app = make_app(FIREHOSE_EARLY_HINTS_CACHE=2)
    for name in ("1", "2", "3"):
        hinted_get(app.test_client(), f"/page/{name}", Recorder())
    recorder = Recorder()

    for name in ("3", "2", "1"):
        hinted_get(app.test_client(), f"/page/{name}", recorder)

    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]] * 2


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("FIREHOSE_EARLY_HINTS", "yes"),
        ("FIREHOSE_EARLY_HINTS", 1),
        ("FIREHOSE_EARLY_HINTS_CACHE", 0),
        ("FIREHOSE_EARLY_HINTS_CACHE", -5),
        ("FIREHOSE_EARLY_HINTS_CACHE", True),
        ("FIREHOSE_EARLY_HINTS_CACHE", "1000"),
        ("FIREHOSE_EARLY_HINTS_CACHE", 10.0),
    ],
)
def test_a_bad_setting_is_refused_at_init_app(key: str, bad: Any) -> None:
    with pytest.raises(ValueError, match=key):
        make_app(**{key: bad})


def test_with_held_links_omitted_the_103_has_the_room_they_leave() -> None:
    """FIREHOSE_ALREADY_PUSHED=omit: a held link is not written in the final value, so it
    takes none of the budget the 103 counts, and the new script fits in it as it does in
    the final response (counted as nopush, it would not, and the 103 would be lost)."""
    app = make_app(FIREHOSE_ALREADY_PUSHED="omit", FIREHOSE_LINK_BUDGET=len(f"{CSS}, {JS}"))
    hinted_get(app.test_client(), "/page/home", Recorder())  # learned: CSS, JS
    client = app.test_client()
    client.get("/page/x?u=/static/site.css")  # this client holds the stylesheet
    recorder = Recorder()

    response = hinted_get(client, "/page/home", recorder)

    assert recorder.sent == [[("Link", JS)]]
    assert response.headers["Link"] == JS


def _a_page_that_stopped_linking_its_stylesheet() -> tuple[Flask, dict[str, bool]]:
    """An app whose ``/changing`` was learned linking the stylesheet and now links nothing;
    ``pushes["css"] = True`` links it again."""
    app = make_app()
    pushes = {"css": True}

    @app.route("/changing")
    def changing() -> str:
        if pushes["css"]:
            push("/static/site.css", as_="style")
        return "changing"

    hinted_get(app.test_client(), "/changing", Recorder())  # learned: the stylesheet
    pushes["css"] = False
    return app, pushes


def test_what_a_103_offered_is_recorded_when_the_page_no_longer_links_it() -> None:
    """The page changed since it was learned: its view pushes nothing now. The front
    pushed what the 103 offered all the same, so the response, with no links of its own,
    is served and records it, and the client is not pushed it again."""
    app, pushes = _a_page_that_stopped_linking_its_stylesheet()
    client, recorder = app.test_client(), Recorder()

    response = hinted_get(client, "/changing", recorder)

    assert recorder.sent == [[("Link", CSS)]]
    assert response.status_code == 200
    assert "Link" not in response.headers
    pushes["css"] = True
    assert client.get("/changing").headers["Link"] == f"{CSS}; nopush"


def test_declared_links_are_hinted_from_the_first_request(app: Flask) -> None:
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/declared", recorder)

    assert recorder.sent == [[("Link", f"{FONT}, {CSS}")]]
    assert response.headers.getlist("Link") == [f"{FONT}, {CSS}, {JS}"]


def test_what_a_103_never_written_offered_is_not_recorded() -> None:
    """The client went away before its 103 was written: nothing was pushed from it, so a
    response that links nothing now records nothing, and the stylesheet is pushed later."""
    app, pushes = _a_page_that_stopped_linking_its_stylesheet()
    client = app.test_client()

    def gone(headers: Headers) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    response = client.get("/changing", environ_base={"wsgi.early_hints": gone})

    assert response.status_code == 200
    assert "Link" not in response.headers
    assert "Set-Cookie" not in response.headers
    pushes["css"] = True
    assert client.get("/changing").headers["Link"] == CSS


@pytest.mark.parametrize("early_hints", [True, False], ids=["early hints", "no early hints"])
def test_a_url_no_view_serves_gets_what_its_error_handler_pushed(early_hints: bool) -> None:
    """No endpoint, so no view's declaration applies: the 404 is answered, with no 103, and
    links what its error handler pushed."""
    app = make_app(FIREHOSE_EARLY_HINTS=early_hints)

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        push("/static/site.css", as_="style")
        return "not found", 404

    recorder = Recorder()

    response = hinted_get(app.test_client(), "/nowhere", recorder)

    assert response.status_code == 404
    assert recorder.sent == []
    assert response.headers.getlist("Link") == [f"{CSS}; nopush"]


def test_a_declared_url_is_written_as_given_under_a_script_root(app: Flask) -> None:
    """Declared when the module loads, with no request for ``url_for``: an app mounted
    under a prefix (``SCRIPT_NAME``) declares the url with it (how-it-works.md)."""
    recorder = Recorder()

    response = hinted_get(
        app.test_client(), "/declared", recorder, environ_overrides={"SCRIPT_NAME": "/shop"}
    )

    assert response.request.root_path == "/shop"
    assert recorder.sent == [[("Link", f"{FONT}, {CSS}")]]
    assert response.headers.getlist("Link") == [f"{FONT}, {CSS}, {JS}"]


def test_declared_links_then_give_way_to_what_was_learned(app: Flask) -> None:
    hinted_get(app.test_client(), "/declared", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/declared", recorder)

    assert recorder.sent == [[("Link", f"{FONT}, {CSS}, {JS}")]]


def test_declared_links_are_pushed_with_early_hints_off() -> None:
    app = make_app(FIREHOSE_EARLY_HINTS=False)
    client = app.test_client()

    first = client.get("/declared")
    again = client.get("/declared")

    assert first.headers.getlist("Link") == [f"{FONT}, {CSS}, {JS}"]
    assert again.headers.getlist("Link") == [f"{FONT}; nopush, {CSS}; nopush, {JS}; nopush"]


def test_a_link_declared_with_learn_false_is_not_hinted_from_the_first_request() -> None:
    """A page not learned yet is hinted what its view declares: not a declaration with
    ``learn=False`` (a per-user resource), which would otherwise reach every visitor's 103
    as ``push(..., learn=False)`` never does; its response still links it."""
    app = make_app()

    @app.route("/own")
    @Firehose.hints("/mine.css", as_="style", learn=False)
    @Firehose.hints("/static/site.css", as_="style")
    def own() -> str:
        return "own"

    recorder = Recorder()

    response = hinted_get(app.test_client(), "/own", recorder)

    assert recorder.sent == [[("Link", CSS)]]
    assert response.headers["Link"] == f"</mine.css>; rel=preload; as=style, {CSS}"


def test_a_link_header_the_view_writes_itself_is_never_learned() -> None:
    """docs/early-hints.md: a page's links are what it pushed, "not a ``Link`` header the
    view wrote itself"; how-it-works.md: that header is the view's alone, never hinted."""
    app = make_app()

    @app.route("/own-link")
    def own_link() -> Response:
        push("/static/site.css", as_="style")
        return Response("own", headers={"Link": "</mine.css>; rel=preload; as=style"})

    hinted_get(app.test_client(), "/own-link", Recorder())
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/own-link", recorder)

    assert recorder.sent == [[("Link", CSS)]]
    assert response.headers.getlist("Link") == [CSS, "</mine.css>; rel=preload; as=style"]


def test_of_a_url_declared_twice_the_first_declaration_wins() -> None:
    """As push() twice: the top decorator, a subclass's over its parent's and a method's
    over its class's come first. The last one read won, in the Link header and the 103
    (a stranger's model run): a nopush declared over a plain one was pushed."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", FIREHOSE_EARLY_HINTS=True)
    firehose = Firehose(app)

    @app.route("/")
    @firehose.hints("/big.js", "nopush", as_="script")
    @firehose.hints("/big.js", as_="script")
    def index() -> str:
        return "index"

    @firehose.hints("/app.css", as_="style")
    class Parent(View):
        def dispatch_request(self) -> str:
            return "parent"

    @firehose.hints("/app.css", "nopush", as_="style")
    class Child(Parent):
        pass

    app.add_url_rule("/child", view_func=Child.as_view("child"))

    @firehose.hints("/app.css", as_="style")
    class Page(MethodView):
        @firehose.hints("/app.css", "nopush", as_="style")
        def get(self) -> str:
            return "page"

    app.add_url_rule("/method", view_func=Page.as_view("method"))
    page = app.test_client().get("/method")  # a method's own over its class's
    assert page.headers["Link"] == "</app.css>; rel=preload; as=style; nopush"
    sent: list[Any] = []
    client = app.test_client()
    for _ in range(2):  # the second view of each is hinted what the first one learned
        response = client.get("/", environ_base={"wsgi.early_hints": sent.append})
        assert response.headers["Link"] == "</big.js>; rel=preload; as=script; nopush"
        child = client.get("/child", environ_base={"wsgi.early_hints": sent.append})
        assert child.headers["Link"] == "</app.css>; rel=preload; as=style; nopush"
    assert sent == []  # a nopush link is never in a 103


@pytest.mark.parametrize(
    ("path", "expected"), [("/declared-above-route", CSS), ("/declared-wrapped", JS)]
)
def test_declaring_works_above_the_route_and_under_other_decorators(
    app: Flask, path: str, expected: str
) -> None:
    recorder = Recorder()

    response = hinted_get(app.test_client(), path, recorder)

    assert recorder.sent == [[("Link", expected)]]
    assert response.headers.getlist("Link") == [expected]


def class_based_app() -> Flask:
    """Class-based views declaring on the class, in ``decorators``, and on a method."""
    app = make_app()

    @Firehose.hints("/static/site.css", as_="style")
    class OnTheClass(MethodView):
        def get(self) -> str:
            return "class"

    class InDecorators(View):
        decorators: ClassVar[list[Callable[..., Any]]] = [
            Firehose.hints("/static/app.js", as_="script")
        ]

        def dispatch_request(self) -> str:
            return "decorators"

    class OnAMethod(MethodView):
        @Firehose.hints("/static/app.js", as_="script")
        def get(self) -> str:
            return "get"

        def post(self) -> str:
            return "post"

    class OnDispatch(View):
        @Firehose.hints("/static/site.css", as_="style")
        def dispatch_request(self) -> str:
            return "dispatch"

    class WithHead(MethodView):
        @Firehose.hints("/static/app.js", as_="script")
        def get(self) -> str:
            return "get"

        @Firehose.hints("/static/site.css", as_="style")
        def head(self) -> str:
            return ""

    class LowerCaseMethods(MethodView):
        methods: ClassVar[list[str]] = ["get", "post"]  # Flask upper-cases them for the rule

        @Firehose.hints("/static/app.js", as_="script")
        def get(self) -> str:
            return "get"

    class FewerMethods(MethodView):
        methods: ClassVar[list[str]] = ["GET"]  # the url rule below adds POST

        def get(self) -> str:
            return "get"

        @Firehose.hints("/static/app.js", as_="script")
        def post(self) -> str:
            return "post"

    app.add_url_rule("/on-the-class", view_func=OnTheClass.as_view("on_the_class"))
    app.add_url_rule("/in-decorators", view_func=InDecorators.as_view("in_decorators"))
    app.add_url_rule("/on-a-method", view_func=OnAMethod.as_view("on_a_method"))
    app.add_url_rule("/on-dispatch", view_func=OnDispatch.as_view("on_dispatch"))
    app.add_url_rule("/with-head", view_func=WithHead.as_view("with_head"))
    app.add_url_rule("/lower-case", view_func=LowerCaseMethods.as_view("lower_case"))
    app.add_url_rule("/fewer", view_func=FewerMethods.as_view("fewer"), methods=["GET", "POST"])
    return app


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/on-the-class", CSS),
        ("GET", "/in-decorators", JS),
        ("GET", "/on-a-method", JS),
        ("HEAD", "/on-a-method", f"{JS}; nopush"),  # get() answers HEAD, never pushed
        ("POST", "/on-a-method", None),
        ("GET", "/on-dispatch", CSS),
        ("GET", "/with-head", JS),
        ("HEAD", "/with-head", f"{CSS}; nopush"),  # its own head(), not get()
        ("GET", "/lower-case", JS),
        ("POST", "/fewer", f"{JS}; nopush"),  # only a GET is pushed
    ],
)
def test_a_class_based_view_declares_on_its_class_or_its_methods(
    method: str, path: str, expected: str | None
) -> None:
    """Decorating the class or a method was silently ignored: only ``decorators`` worked."""
    recorder = Recorder()
    client = class_based_app().test_client()
    response = client.open(path, method=method, environ_base={"wsgi.early_hints": recorder})
    assert response.headers.getlist("Link") == ([expected] if expected else [])
    if method == "GET":  # a 103 only for a GET navigation, from the first request on
        assert recorder.sent == [[("Link", expected)]]


def page_per_url_app() -> Flask:
    """``/search`` links its stylesheet; any other ``/<word>`` a script named after it, so
    a request's url chooses what its page links (and so what is learned for it)."""
    app = make_app()

    @app.route("/search")
    def search() -> str:
        push("/static/search.css", as_="style")
        return "search"

    @app.route("/<path:word>")
    def word(word: str) -> str:
        push(url_for("static", filename=f"w/{word}.js"), as_="script")
        return word

    return app


@pytest.mark.parametrize(
    ("asked", "environ", "other", "other_environ"),
    [
        # Its path, decoded, is "/search?q=shoes": it was learned as /search?q=shoes.
        ("/search%3Fq=shoes", {}, "/search?q=shoes", {}),
        # SCRIPT_NAME set by the client (gunicorn takes it from a trusted front's request
        # header): its path is /home, and the links url_for writes start /evil.example.
        ("/home", {"SCRIPT_NAME": "/evil.example"}, "/home", {}),
        # Werkzeug's root_path drops the trailing slashes url_for keeps.
        ("/home", {"SCRIPT_NAME": "/app//"}, "/home", {"SCRIPT_NAME": "/app"}),
        # url_for(_external=True) writes the scheme.
        ("http://localhost/home", {}, "https://localhost/home", {}),
    ],
)
def test_no_request_chooses_what_another_url_is_hinted(
    asked: str, environ: dict[str, str], other: str, other_environ: dict[str, str]
) -> None:
    app = page_per_url_app()
    learned = hinted_get(app.test_client(), asked, Recorder(), environ_overrides=environ)
    assert learned.status_code == 200  # its links are learned, for its own url
    recorder = Recorder()

    response = hinted_get(app.test_client(), other, recorder, environ_overrides=other_environ)

    assert recorder.sent == []  # the other url was never learned
    assert response.status_code == 200


# Few characters, the separators and what percent-encoding writes among them, and a
# letter in both cases, so that near misses are common.
url_parts = st.text(alphabet="a/|?%37CFc", max_size=6)


@given(st.tuples(*[url_parts] * 5), st.tuples(*[url_parts] * 5))
@example(("s", "h", "", "/a?b", ""), ("s", "h", "", "/a", "b"))  # a path's own "?" (%3F)
@example(("s", "h", "", "/a?b", ""), ("s", "h", "", "/a%3Fb", ""))  # its encoding (%253F)
@example(("s", "h", "", "/a?b", ""), ("s", "h", "", "/a", "b?"))  # a query after the "?"
@example(("s", "h", "/r", "/p", ""), ("s", "h", "", "/r/p", ""))  # a client's script root
@example(("s", "h|", "r", "/p", ""), ("s", "h", "|r", "/p", ""))  # a Host holding "|"
# A scheme holding "|" (X-Forwarded-Proto through ProxyFix), the path taking the rest.
@example(("s|h", "h", "/r", "/p", ""), ("s", "h", "h", "/r|/p", ""))
@example(("S", "C", "", "/p", ""), ("s", "c", "", "/p", ""))  # a scheme's and a host's case
@example(("s", "c", "", "/C", "C"), ("s", "c", "", "/c", "c"))  # not a path's, nor a query's
def test_two_urls_never_share_a_page_key(
    one: tuple[str, str, str, str, str], other: tuple[str, str, str, str, str]
) -> None:
    """(scheme, host, script root, path, query as sent): equal keys only for equal urls,
    a scheme and a host compared without their case (RFC 3986 §6.2.2.1)."""
    assert (page_key(*one) == page_key(*other)) == (case_folded(one) == case_folded(other))


def case_folded(url: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    scheme, host, root, path, query = url
    return scheme.lower(), host.lower(), root, path, query


def page_key(scheme: str, host: str, root: str, path: str, query: str) -> str:
    from firehose_digest.early_hints import hint_page_of

    request = SimpleNamespace(
        scheme=scheme,
        host=host,
        environ={"SCRIPT_NAME": root, "PATH_INFO": path},
        path=path,
        query_string=query.encode("latin-1"),
    )
    return hint_page_of(cast(Request, request))


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (
            ("http", "localhost:5000", "/my app", "/a b/c", "q=1"),
            "http|localhost:5000|/my app|/a b/c?q=1",
        ),
        (("https", "h", "", "/a?b/c", "d?"), "https|h||/a%3Fb/c?d?"),
        (("https", "h|x", "/r|/s", "/%/t", ""), "https|h%7Cx|/r%7C/s|/%25/t?"),
        # A scheme and a host in their case as a browser writes them; the rest as sent.
        (("HTTPS", "Shop.Example:443", "/R", "/P", "Q"), "https|shop.example|/R|/P?Q"),
    ],
)
def test_a_page_key_is_the_url_as_asked_encoded_only_where_it_must_be(
    url: tuple[str, str, str, str, str], key: str
) -> None:
    """A part is percent-encoded, its slashes kept, only if it holds a separator ("|",
    or "?" in the path) or a "%": the key of a url that needs no encoding is its parts
    joined by the separators, no longer (a page whose key is longer than MAX_PAGE_LENGTH
    is not learned)."""
    assert page_key(*url) == key


def test_a_server_that_leaves_out_an_empty_script_name_learns_and_hints(app: Flask) -> None:
    """PEP 3333 lets a server leave out ``SCRIPT_NAME`` when it is empty: the page is
    learned and hinted as with ``SCRIPT_NAME=""``, not failed for a root it cannot read."""

    def get(recorder: Recorder) -> str:
        environ = EnvironBuilder(
            "/page/home",
            headers=[("Accept", "text/html")],
            environ_base={"wsgi.early_hints": recorder},
        ).get_environ()
        del environ["SCRIPT_NAME"]
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)

        b"".join(app(environ, start_response))
        return statuses[-1]

    assert get(Recorder()) == "200 OK"  # learns
    recorder = Recorder()
    assert get(recorder) == "200 OK"
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_a_103_of_an_older_version_records_the_version_the_front_pushed() -> None:
    """Learned while the stylesheet was version 1, hinted after it became 2: the front
    pushed what the url serves now, version 2, which alone is recorded, and the response
    pushes it without a second push slot."""
    version = {"v": "1"}
    app = make_app(FIREHOSE_MAX_PUSHES=2)

    @app.route("/versioned")
    def versioned() -> str:
        push("/static/app.css", as_="style", version=version["v"])
        push("/static/a.js", as_="script")
        push("/static/b.js", as_="script")
        return "versioned"

    hinted_get(app.test_client(), "/versioned", Recorder())  # learned with version 1
    version["v"] = "2"
    client = app.test_client()
    recorder = Recorder()

    first = hinted_get(client, "/versioned", recorder)

    assert recorder.sent == [[("Link", f"{CSS_APP}, {A_JS}")]]
    assert first.headers["Link"] == f"{CSS_APP}, {A_JS}, {B_JS}; nopush"
    again = client.get("/versioned")
    assert again.headers["Link"] == f"{CSS_APP}; nopush, {A_JS}; nopush, {B_JS}"
    version["v"] = "1"  # rolled back: version 1 was never pushed to this client
    assert client.get("/versioned").headers["Link"].startswith(f"{CSS_APP}, ")


def test_a_bad_declaration_is_refused_when_the_module_loads() -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        Firehose.hints("/a.css\r\nSet-Cookie: x=1", as_="style")


def test_one_extension_serves_several_apps_with_a_cache_each() -> None:
    firehose = Firehose()
    first, second = make_app(firehose=firehose), make_app(firehose=firehose)
    hinted_get(first.test_client(), "/page/home", Recorder())
    recorder = Recorder()

    hinted_get(second.test_client(), "/page/home", recorder)
    hinted_get(second.test_client(), "/declared", recorder)

    assert recorder.sent == [[("Link", f"{FONT}, {CSS}")]]


# -- only navigations, and on HTTP/2 only what another connection serves --------------------


@pytest.mark.parametrize(
    "condition",
    [{"If-None-Match": '"v1"'}, {"If-Modified-Since": "Tue, 01 Dec 2026 00:00:00 GMT"}],
)
def test_a_revalidation_gets_no_103(app: Flask, condition: dict[str, str]) -> None:
    """Likely a 304, for which Apache pushes nothing and nothing is recorded."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder, headers=condition)

    assert recorder.sent == []


@pytest.mark.parametrize(
    ("headers", "hinted", "pushed"),
    [
        pytest.param(
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
            True,
            True,
            id="navigate",
        ),
        pytest.param({}, True, True, id="no Sec-Fetch header, asks for HTML (an old browser)"),
        # curl, and Python's http.client (urllib, requests), which reads a 103 as the
        # final response: an empty page.
        pytest.param({"Accept": "*/*"}, False, True, id="no Sec-Fetch header, */* (curl)"),
        pytest.param({"Accept": ""}, False, True, id="no Sec-Fetch header, no Accept"),
        pytest.param({"Accept": "application/json"}, False, True, id="no Sec-Fetch header, JSON"),
        pytest.param(
            {"Accept": "application/json, text/html;q=0"},
            False,
            True,
            id="no Sec-Fetch header, HTML refused",
        ),
        pytest.param(
            {"Accept": "text/html;q=0.000, application/xhtml+xml; q=0.5"},
            True,
            True,
            id="no Sec-Fetch header, XHTML taken",
        ),
        # A media type's parameters do not change which type it names, alone or listed.
        pytest.param(
            {"Accept": "text/html;level=1"}, True, True, id="no Sec-Fetch header, HTML;level=1"
        ),
        pytest.param(
            {"Accept": "text/html;level=1, */*;q=0.8"},
            True,
            True,
            id="no Sec-Fetch header, HTML;level=1 and */*",
        ),
        pytest.param(
            {"Accept": "application/json;q=0.9, application/xhtml+xml; charset=utf-8"},
            True,
            True,
            id="no Sec-Fetch header, XHTML;charset after JSON",
        ),
        pytest.param(
            {"Accept": "text/html;level=1;q=0, */*;q=0.8"},
            False,
            True,
            id="no Sec-Fetch header, HTML;level=1 refused",
        ),
        pytest.param({"Sec-Fetch-Mode": "navigate"}, True, True, id="navigate, no Sec-Fetch-Dest"),
        # Chromium preloads an iframe's Link, but acts on no 103 for it.
        pytest.param(
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, False, True, id="iframe"
        ),
        # A browser's fetch() or subresource: it preloads nothing its response links.
        pytest.param(
            {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, False, False, id="cors"
        ),
        pytest.param(
            {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, False, False, id="no-cors"
        ),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, False, True, id="Sec-Fetch-Site alone"),
        # jQuery's .load() (pjax too) with no Sec-Fetch-*: it names HTML, but is no
        # navigation (X-Requested-With), and its page preloads nothing it links.
        pytest.param(
            {"Accept": "text/html, */*; q=0.01", "X-Requested-With": "XMLHttpRequest"},
            False,
            False,
            id="jQuery's load(), no Sec-Fetch header",
        ),
        pytest.param(
            {
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "document",
                "Sec-Purpose": "prefetch",
            },
            False,
            False,
            id="prefetch",
        ),
        # A service worker's Navigation Preload: Chromium 156 fetched nothing its 103
        # named, whether the worker answered with the preload's page or with its own.
        pytest.param(
            {
                "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "document",
                "Service-Worker-Navigation-Preload": "true",
            },
            False,
            False,
            id="service worker navigation preload",
        ),
    ],
)
def test_only_navigations_are_hinted(
    app: Flask, headers: dict[str, str], hinted: bool, pushed: bool
) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder())
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/page/home", recorder, headers=headers)

    assert recorder.sent == ([[("Link", f"{CSS}, {JS}")]] if hinted else [])
    final = f"{CSS}, {JS}" if pushed else f"{CSS}; nopush, {JS}; nopush"
    assert response.headers.getlist("Link") == [final]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Mode": "cors"},
        {"Accept": "*/*"},
        {"Sec-Fetch-Mode": "navigate", "Service-Worker-Navigation-Preload": "true"},
    ],
    ids=["fetch()", "no Sec-Fetch header, */*", "service worker navigation preload"],
)
def test_a_request_that_is_not_a_navigation_teaches_nothing(
    app: Flask, headers: dict[str, str]
) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder(), headers=headers)
    recorder = Recorder()

    hinted_get(app.test_client(), "/page/home", recorder)

    assert recorder.sent == []


CROSS_ORIGIN_PAGE = [
    "/static/site.css",
    "https://cdn.example/lib.css",
    "//cdn.example/theme.css",
    "http://localhost/same.css",
    "http://LOCALHOST:80/same-port.css",
    "//localhost/same-scheme-relative.css",
    "//localhost:80/same-port-scheme-relative.css",
    "relative.css",
]


def cross_origin_app() -> Flask:
    app = make_app()

    @app.route("/origins")
    def origins() -> str:
        push("https://fonts.example", rel="preconnect")
        for url in CROSS_ORIGIN_PAGE:
            push(url, as_="style")
        return "origins"

    return app


def style(url: str) -> str:
    return f"<{url}>; rel=preload; as=style"


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({"SERVER_PROTOCOL": "HTTP/2.0"}, id="gunicorn h2: SERVER_PROTOCOL"),
        pytest.param({"SERVER_PROTOCOL": "HTTP/2"}, id="SERVER_PROTOCOL HTTP/2"),
        pytest.param({"HTTP_VERSION": "2"}, id="HTTP_VERSION 2"),
        pytest.param({"HTTP_VERSION": "2.0"}, id="HTTP_VERSION 2.0"),
    ],
)
def test_on_http2_only_preconnects_and_other_origins_are_hinted(environ: dict[str, str]) -> None:
    app = cross_origin_app()
    hinted_get(app.test_client(), "/origins", Recorder())
    recorder = Recorder()

    response = app.test_client().get(
        "/origins", environ_overrides={"wsgi.early_hints": recorder, **environ}
    )

    expected = [
        "<https://fonts.example>; rel=preconnect",
        style("https://cdn.example/lib.css"),
        style("//cdn.example/theme.css"),
    ]
    assert recorder.sent == [[("Link", ", ".join(expected))]]
    # The final response still links everything.
    assert response.headers["Link"].count("rel=preload") == len(CROSS_ORIGIN_PAGE)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, ["<https://fonts.example>; rel=preconnect"], id="behind a front"),
        pytest.param(
            {"SERVER_PROTOCOL": "HTTP/2.0"},
            [
                "<https://fonts.example>; rel=preconnect",
                style("https://cdn.example/lib.css"),
                style("//cdn.example/theme.css"),
            ],
            id="gunicorn h2",
        ),
    ],
)
def test_with_nothing_recorded_only_a_front_s_103_leaves_tracked_links_out(
    environ: dict[str, str], expected: list[str]
) -> None:
    """Without ``SECRET_KEY`` nothing is recorded, so a front must push nothing from the
    103: behind one, only untracked links are hinted. Served over HTTP/2 by the app
    itself no front pushes, and other origins are hinted as for any client."""
    app = cross_origin_app()
    app.config["SECRET_KEY"] = None
    hinted_get(app.test_client(), "/origins", Recorder())
    recorder = Recorder()

    app.test_client().get("/origins", environ_overrides={"wsgi.early_hints": recorder, **environ})

    assert recorder.sent == [[("Link", ", ".join(expected))]]


@pytest.mark.parametrize("host", ["localhost:80", "LocalHost"])
def test_on_http2_the_pages_own_origin_is_normalised_like_the_links(host: str) -> None:
    """``Host: localhost:80`` is the origin ``http://localhost`` (Werkzeug drops the default
    port; the origin is lowercased): its links stay out of the 103."""
    app = cross_origin_app()
    hinted_get(app.test_client(), "/origins", Recorder(), headers={"Host": host})
    recorder = Recorder()

    app.test_client().get(
        "/origins",
        headers={"Host": host},
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/2.0"},
    )

    expected = [
        "<https://fonts.example>; rel=preconnect",
        style("https://cdn.example/lib.css"),
        style("//cdn.example/theme.css"),
    ]
    assert recorder.sent == [[("Link", ", ".join(expected))]]


def hinted_over_own_http2(app: Flask, path: str, host: str, scheme: str) -> list[Headers]:
    """What a fresh client is sent as 103s for ``path`` over the app's own HTTP/2, on
    ``host`` and ``scheme``, once a first request has taught the page's links."""
    environ = {"wsgi.url_scheme": scheme}
    learn = app.test_client()
    hinted_get(learn, path, Recorder(), headers={"Host": host}, environ_overrides=environ)
    recorder = Recorder()
    overrides = {"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/2.0", **environ}
    app.test_client().get(path, headers={"Host": host}, environ_overrides=overrides)
    return recorder.sent


@pytest.mark.parametrize(
    ("scheme", "host", "own_url"),
    [
        # A Host Werkzeug reads as none (an underscore): its request.host is "".
        ("https", "shop_a.test", "https://shop_a.test/same.css"),
        ("https", "Shop_A.test:443", "https://shop_a.test/same.css"),
        # X-Forwarded-Proto: HTTPS through ProxyFix: Werkzeug keeps the ":443".
        ("HTTPS", "shop.example:443", "https://shop.example/same.css"),
    ],
)
def test_on_http2_the_pages_own_origin_is_the_one_its_page_is_keyed_by(
    scheme: str, host: str, own_url: str
) -> None:
    """The page's own origin was ``request.scheme://request.host``: ``https://`` where
    Werkzeug reads no host, ``https://shop.example:443`` under a scheme in another case, so
    every absolute url of the page's own origin was taken for another's and sent in the
    103, requested on the connection busy with the page. It is the origin the page is
    keyed by: the host as sent, lowercased, without its scheme's default port."""
    app = make_app()

    @app.route("/own")
    def own() -> str:
        push("https://fonts.example", rel="preconnect")
        push(own_url, as_="style")
        push("https://cdn.example/lib.css", as_="style")
        return "own"

    sent = hinted_over_own_http2(app, "/own", host, scheme)

    expected = ["<https://fonts.example>; rel=preconnect", style("https://cdn.example/lib.css")]
    assert sent == [[("Link", ", ".join(expected))]]


@pytest.mark.parametrize(
    ("host", "own_urls"),
    [
        (
            "shop.example",
            [
                "https://shop.example:0443/a.css",
                "https://shop.example:/b.css",
                "//shop.example:0443/c.css",
                "https://shop.example\\d.css",
            ],
        ),
        ("[::1]", ["https://[::1]:0443/a.css"]),
        (
            "xn--bcher-kva.example",
            ["https://b\u00fccher.example/a.css", "//B\u00dcCHER.example/b.css"],
        ),
    ],
)
def test_on_http2_a_url_of_the_pages_origin_in_any_spelling_is_left_out(
    host: str, own_urls: list[str]
) -> None:
    """A browser reads ``:0443`` as the default port and ``b\u00fccher`` as the
    ``xn--bcher-kva`` its Host names: these urls were taken for another origin's and sent
    in the 103, requested on the connection busy with the page."""
    app = make_app()

    @app.route("/own")
    def own() -> str:
        push("https://fonts.example", rel="preconnect")
        for url in own_urls:
            push(url, as_="style")
        return "own"

    sent = hinted_over_own_http2(app, "/own", host, "https")

    assert sent == [[("Link", "<https://fonts.example>; rel=preconnect")]]


def test_an_http10_request_gets_no_103(app: Flask) -> None:
    """No 1xx to an HTTP/1.0 client (RFC 9110 §15.2; nginx's default upstream before
    1.29.7): none is sent (gunicorn would drop it), so none is recorded as pushed."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    client, recorder = app.test_client(), Recorder()

    response = client.get(
        "/page/home",
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/1.0"},
    )

    assert recorder.sent == []
    assert response.status_code == 200


def test_a_request_varnish_forwards_gets_no_103(app: Flask) -> None:
    """Varnish 7.1 reads a backend's 103 as the final response and answers 503 in place of
    the page (tests/integration/test_fronts.py); it adds ``X-Varnish`` to each request it
    forwards. None is sent, and the final response still pushes and records the page."""
    hinted_get(app.test_client(), "/page/home", Recorder())
    client, recorder = app.test_client(), Recorder()

    response = client.get(
        "/page/home",
        headers={"X-Varnish": "32771"},
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/1.1"},
    )

    assert recorder.sent == []
    assert response.status_code == 200
    assert response.headers["Link"] and "nopush" not in response.headers["Link"]
    assert "h2-digest=" in response.headers["Set-Cookie"]


def test_on_http11_only_path_absolute_preloads_and_preconnects_are_hinted() -> None:
    """Behind a front, any other url may be one the front pushes from the 103 (its own
    origin, which the app cannot tell from its upstream Host), and no response records
    such a push: it is left to the final response."""
    app = cross_origin_app()
    hinted_get(app.test_client(), "/origins", Recorder())
    recorder = Recorder()

    app.test_client().get(
        "/origins",
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/1.1"},
    )

    links = ["<https://fonts.example>; rel=preconnect", style(CROSS_ORIGIN_PAGE[0])]
    assert recorder.sent == [[("Link", ", ".join(links))]]


def test_on_http2_a_page_with_only_same_origin_links_gets_no_103(app: Flask) -> None:
    hinted_get(app.test_client(), "/page/home", Recorder())
    recorder = Recorder()

    app.test_client().get(
        "/page/home",
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/2.0"},
    )

    assert recorder.sent == []


def test_on_http2_a_url_of_many_slashes_is_hinted_as_the_origin_a_browser_reads() -> None:
    """``https:///host/x`` and ``///host/x`` name ``host`` to a browser, however many slashes
    come before it: another origin's is hinted in the 103, the page's own is left to the
    final ``Link`` as any same-origin link is."""
    app = make_app()
    urls = ["http:///cdn.example/a.css", "///cdn.example/b.css", "///localhost/c.css"]
    hinted_get(app.test_client(), "/page/home", Recorder(), query_string={"u": urls})
    recorder = Recorder()

    app.test_client().get(
        "/page/home",
        query_string={"u": urls},
        environ_overrides={"wsgi.early_hints": recorder, "SERVER_PROTOCOL": "HTTP/2.0"},
    )

    assert recorder.sent == [[("Link", ", ".join(style(url) for url in urls[:2]))]]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("/a.css", None),
        ("a.css", None),
        ("../a.css", None),
        ("https://CDN.example/a.css", "https://cdn.example"),
        ("https://cdn.example:443/a.css", "https://cdn.example"),
        ("https://cdn.example:8443/a.css", "https://cdn.example:8443"),
        ("http://cdn.example:80/a.css", "http://cdn.example"),
        ("//cdn.example/a.css", "//cdn.example"),
        # Userinfo is no part of the origin: this is the page's own host.
        ("https://user:pw@Example.com/a.css", "https://example.com"),
        # A backslash is a "/" to a browser: another host, not a path of this one.
        ("/\\cdn.example/a.css", "//cdn.example"),
        ("\\\\cdn.example\\a.css", "//cdn.example"),
        ("\\/cdn.example/a.css", "//cdn.example"),
        # In an http(s) url too (URL Standard: a special scheme's "\\" is a "/"): the host
        # ends at it, and what follows is no userinfo.
        ("https://cdn.example\\a.css", "https://cdn.example"),
        ("https://cdn.example\\@shop.example/a.css", "https://cdn.example"),
        ("HTTPS:\\\\cdn.example:0443\\a.css", "https://cdn.example"),
        ("mailto:\\\\team@example.com", None),  # not a special scheme: no host
        # Any more slashes or backslashes before an http(s) host, on any page: a browser
        # skips them (URL Standard, special authority ignore slashes state).
        ("http:///cdn.example/a.css", "http://cdn.example"),
        ("https:////cdn.example/a.css", "https://cdn.example"),
        ("https:/\\/cdn.example/a.css", "https://cdn.example"),
        ("///cdn.example/a.css", "//cdn.example"),
        ("/\\\\cdn.example/a.css", "//cdn.example"),
        # One slash or none: on a page of that scheme (an https page, the only kind a
        # browser asks for over HTTP/2), a path of the page's own origin (URL Standard,
        # special relative or authority state).
        ("https:/cdn.example/a.css", None),
        ("https:cdn.example/a.css", None),
        ("https:\\cdn.example/a.css", None),
        # Not for a file url, whose host is none after "///" (URL Standard, file states).
        ("file:////cdn.example/a.css", None),
        # An absolute url that names no host has no origin, and is never "scheme://".
        ("mailto:team@example.com", None),
        ("data:text/css,a{}", None),
        # Hosts urlsplit refuses, read by hand: a Host header Werkzeug accepts, or a
        # prefix a client sent through ProxyFix, as url_for writes them.
        ("http://[1:2]/static/app.css", "http://[1:2]"),
        ("HTTP://[1::2::3]:80/a.css", "http://[1::2::3]"),
        ("http://localhost[/static/app.css", "http://localhost["),
        ("//[/static/app.css", "//["),
        ("/\\a]b/static/app.css", "//a]b"),
        ("https://[::1]:443/a.css", "https://[::1]"),  # one it reads, for comparison
        # A port as a browser reads it (URL Standard, port state): a number, its leading
        # zeros no part of it, an empty one none at all.
        ("https://cdn.example:0443/a.css", "https://cdn.example"),
        ("https://cdn.example:08443/a.css", "https://cdn.example:8443"),
        ("https://cdn.example:/a.css", "https://cdn.example"),
        ("https://[::1]:0443/a.css", "https://[::1]"),
        ("//cdn.example:0443/a.css", "//cdn.example:443"),
        ("https://cdn.example:x/a.css", "https://cdn.example:x"),  # no port: kept as written
        # More digits than int() reads (4300): read all the same, not a ValueError, a 500.
        (f"https://cdn.example:{'0' * 4400}8443/a.css", "https://cdn.example:8443"),
        # A host as a browser reads it: percent-decoded (as push() writes a non-ASCII
        # one), then in its IDNA form, as the browser sends it in Host.
        ("https://b%C3%BCcher.example/a.css", "https://xn--bcher-kva.example"),
        ("https://B\u00dcCHER.example/a.css", "https://xn--bcher-kva.example"),
        ("https://sh%6Fp.example/a.css", "https://shop.example"),
        ("//b%C3%BCcher.example:0443/a.css", "//xn--bcher-kva.example:443"),
        ("https://%FF.example/a.css", "https://%ff.example"),  # no host: kept as written
        # A label of 63 characters, the most RFC 1035 allows, is a host all the same.
        (f"https://%73{'s' * 62}.example/a.css", f"https://{'s' * 63}.example"),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


@given(host=st.from_regex(r"\A\[[a-f0-9]*:[a-f0-9.:]+\](:[1-9][0-9]{0,4})?\Z"))
def test_origin_of_reads_any_bracketed_host_werkzeug_accepts(host: str) -> None:
    """Werkzeug takes any hex digits, dots and colons in brackets for a ``Host``, with a
    port of no leading zero (``werkzeug.sansio.utils._host_re``), and
    ``url_for(_external=True)`` writes it: never a ValueError, a 500."""
    assert origin_of(f"http://{host}/static/app.css") == "http://" + host.removesuffix(":80")
    assert origin_of(f"//{host}/static/app.css") == "//" + host


# -- what is learned is good for any visitor -----------------------------------------------


def per_visitor_app() -> Flask:
    app = make_app()

    @app.route("/account")
    def account() -> str:
        visitor = request.headers["X-Visitor"]
        push("/static/app.js", as_="script", nonce=f"nonce-of-{visitor}")
        push(f"/avatars/{visitor}.png", as_="image", learn=False)
        push("/static/site.css", as_="style")
        return f"hello {visitor}"

    return app


def test_the_next_visitor_is_never_hinted_the_previous_ones_nonce_or_own_links() -> None:
    app = per_visitor_app()
    first = hinted_get(app.test_client(), "/account", Recorder(), headers={"X-Visitor": "ann"})
    recorder = Recorder()

    second = hinted_get(app.test_client(), "/account", recorder, headers={"X-Visitor": "bob"})

    assert recorder.sent == [[("Link", CSS)]]  # nothing of ann's, nor her nonce'd script
    # Each final response keeps its own nonce and its own per-user link.
    assert first.headers["Link"] == (
        f"{JS}; nonce=nonce-of-ann, </avatars/ann.png>; rel=preload; as=image, {CSS}"
    )
    assert second.headers["Link"] == (
        f"{JS}; nonce=nonce-of-bob, </avatars/bob.png>; rel=preload; as=image, {CSS}"
    )


@pytest.mark.parametrize("learn", [True, False])
def test_a_variant_a_request_header_chooses_is_hinted_to_the_next_visitor_unless_not_learned(
    learn: bool,
) -> None:
    """docs/early-hints.md: a script chosen per ``Accept-Language``, learned, is named in
    the next visitor's 103 as the last visitor's variant; pushed ``learn=False``, only
    its own visitor's response names it."""
    app = make_app()

    @app.route("/welcome")
    def welcome() -> str:
        language = request.accept_languages.best_match(["en", "fr"], default="en")
        push(f"/static/{language}.js", as_="script", learn=learn)
        push("/static/site.css", as_="style")
        return language

    hinted_get(app.test_client(), "/welcome", Recorder(), headers={"Accept-Language": "fr"})
    recorder = Recorder()

    response = hinted_get(
        app.test_client(), "/welcome", recorder, headers={"Accept-Language": "en"}
    )

    french = "</static/fr.js>; rel=preload; as=script"
    assert recorder.sent == [[("Link", f"{french}, {CSS}" if learn else CSS)]]
    assert response.headers["Link"] == f"</static/en.js>; rel=preload; as=script, {CSS}"


def test_a_link_with_a_nonce_is_left_to_the_final_response() -> None:
    """A 103 cannot carry the nonce of the page's policy (a new one every response), and
    Firefox 153 fetched a script hinted without it, then again for its ``<script nonce>``,
    after a ~10 s stall (tests/integration/test_firefox.py): the link is not hinted, and
    the final response writes it with its own nonce."""
    app = make_app()

    @app.route("/policed")
    def policed() -> str:
        push("/static/app.js", as_="script", nonce=request.headers["X-Nonce"])
        push("/static/site.css", as_="style")
        return "page"

    hinted_get(app.test_client(), "/policed", Recorder(), headers={"X-Nonce": "n0nce1"})
    recorder = Recorder()

    final = hinted_get(app.test_client(), "/policed", recorder, headers={"X-Nonce": "n0nce2"})

    assert recorder.sent == [[("Link", CSS)]]
    assert final.headers["Link"] == f"{JS}; nonce=n0nce2, {CSS}"


@pytest.mark.parametrize("spelled", [("nonce", "n0nce1"), ("NONCE", "n0nce1")])
def test_what_is_learned_of_a_nonce_d_link_holds_no_visitor_s_nonce(
    spelled: tuple[str, str],
) -> None:
    """A parameter name is read in any case (RFC 8288 §3): a ``NONCE`` too is left out of
    the link learned for every visitor of the page, and the link is never sent in a 103."""
    resource = make_resource("/static/app.js", (), "script", None, (spelled,))
    assert resource.link == f"{JS}; {spelled[0]}=n0nce1"
    assert (resource.hint.link, resource.hint.sendable) == (JS, False)


@pytest.mark.parametrize(("room", "hinted"), [(0, [("Link", CSS)]), (-1, [])])
def test_a_link_with_a_nonce_counts_in_the_103s_room_as_the_final_response_writes_it(
    room: int, hinted: list[tuple[str, str]]
) -> None:
    """Not hinted, the nonce'd link still takes its place, nonce included, in the final
    ``Link`` value: one byte short of the room for both, the stylesheet after it is not
    hinted, as the final response would write it nopush or not at all."""
    nonced = make_resource("/static/app.js", (), "script", None, (("nonce", "n0nce1"),)).hint
    css = make_resource("/static/site.css", (), "style", None, ()).hint
    budget = len(f"{JS}; nonce=n0nce1, {CSS}") + room

    assert early_hints_headers([nonced, css], set(), budget, max_pushes=10) == hinted


def test_a_page_whose_every_link_is_kept_from_learning_is_not_hinted() -> None:
    app = make_app()

    @app.route("/private")
    def private() -> str:
        push("/me.css", as_="style", learn=False)
        return "private"

    hinted_get(app.test_client(), "/private", Recorder())
    recorder = Recorder()

    hinted_get(app.test_client(), "/private", recorder)

    assert recorder.sent == []


def offered(headers: list[Headers]) -> list[str]:
    """The links a 103 offers for push: every one it carries, none being nopush."""
    return [link for sent in headers for _, value in sent for link in value.split(", ")]


def pushed(response: TestResponse) -> list[str]:
    """The links a final response offers for push (no nopush)."""
    links = response.headers.get("Link", "").split(", ")
    return [link for link in links if link and not link.endswith("nopush")]


@pytest.mark.parametrize("max_pushes", [1, 2])
def test_a_learn_false_link_keeps_its_push_slot_in_the_103(max_pushes: int) -> None:
    """With one push per response, the visitor's own avatar takes it: the 103 must not
    offer the stylesheet after it, which the final response writes nopush and does not
    record. With two, both are pushed, and the 103 offers the stylesheet."""
    app = make_app(FIREHOSE_MAX_PUSHES=max_pushes)

    @app.route("/me")
    def me() -> str:
        visitor = request.headers["X-Visitor"]
        push(f"/avatars/{visitor}.png", as_="image", learn=False)
        push("/static/site.css", as_="style")
        return visitor

    hinted_get(app.test_client(), "/me", Recorder(), headers={"X-Visitor": "ann"})
    recorder = Recorder()

    final = hinted_get(app.test_client(), "/me", recorder, headers={"X-Visitor": "bob"})

    assert set(offered(recorder.sent)) <= set(pushed(final))
    assert offered(recorder.sent) == ([CSS] if max_pushes == 2 else [])
    assert pushed(final) == ["</avatars/bob.png>; rel=preload; as=image", CSS][:max_pushes]


def test_a_learn_false_link_no_proxy_pushes_leaves_the_103_its_push_slot() -> None:
    """With one push per response, a visitor's own image on a CDN (an absolute url: no
    proxy pushes it, so the final response gives it no slot) leaves the slot to the
    stylesheet after it, which the final response pushes: the 103 offers it too."""
    app = make_app(FIREHOSE_MAX_PUSHES=1)

    @app.route("/me")
    def me() -> str:
        visitor = request.headers["X-Visitor"]
        push(f"https://cdn.example/avatars/{visitor}.png", as_="image", learn=False)
        push("/static/site.css", as_="style")
        return visitor

    hinted_get(app.test_client(), "/me", Recorder(), headers={"X-Visitor": "ann"})
    recorder = Recorder()

    final = hinted_get(app.test_client(), "/me", recorder, headers={"X-Visitor": "bob"})

    assert pushed(final) == [CSS]
    assert offered(recorder.sent) == [CSS]


@pytest.mark.parametrize(("max_pushes", "expected"), [(2, []), (3, [("Link", CSS)])])
def test_each_learn_false_link_takes_a_push_slot_of_its_own_in_the_103(
    max_pushes: int, expected: list[tuple[str, str]]
) -> None:
    """Two visitors' own resources before the stylesheet take two slots: with two pushes a
    response the 103 must not offer the stylesheet, which the final response writes
    nopush (the front would push three); with three it offers it."""
    avatar = "</avatars/ann.png>; rel=preload; as=image"
    stand_in = EarlyHint("", "", True, None, False, True, len(avatar), stand_in=True)
    css = hint("/static/site.css", CSS)

    sent = early_hints_headers([stand_in, stand_in, css], set(), 1800, max_pushes=max_pushes)

    assert sent == expected


def test_a_learn_false_link_counts_in_the_103s_room_at_its_longest() -> None:
    """The final value's budget is counted with the stand-in written nopush: a hinted link
    that might not fit after it in the final response is not offered."""
    avatar = "</avatars/ann.png>; rel=preload; as=image"
    stand_in = EarlyHint("", "", True, None, False, True, len(avatar), stand_in=True)
    room = len(avatar) + len("; nopush") + 2 + len(CSS)
    css = hint("/static/site.css", CSS)

    at_the_limit = early_hints_headers([stand_in, css], set(), room, max_pushes=10)
    one_short = early_hints_headers([stand_in, css], set(), room - 1, max_pushes=10)

    assert at_the_limit == [("Link", CSS)]
    assert one_short == []


def learned_then_served(
    view: Callable[[], Any], first: dict[str, str], then: dict[str, str], **config: Any
) -> tuple[list[str], TestResponse, bool]:
    """``/v`` learned from a visitor sending ``first``'s headers, then served to a new
    visitor sending ``then``'s: what its 103 offered, its response, and whether the
    client's digest then holds ``/static/site.css``."""
    app = make_app(**config)
    app.add_url_rule("/v", "v", view)
    hinted_get(app.test_client(), "/v", Recorder(), headers=first)
    client, recorder = app.test_client(), Recorder()
    served = hinted_get(client, "/v", recorder, headers=then)
    cookie = client.get_cookie("h2-digest")
    sent = [("Cookie", f"h2-digest={cookie.value}")] if cookie else []
    with app.test_request_context(headers=sent):
        held = app.extensions["firehose"].connector.open(app, request)
    return offered(recorder.sent), served, "/static/site.css" in held


def avatar_then_css() -> str:
    if "X-Visitor" in request.headers:
        push(f"/avatars/{request.headers['X-Visitor']}.png", as_="image", learn=False)
    push("/static/site.css", as_="style")
    return "page"


AVATAR_AL = "</avatars/al.png>; rel=preload; as=image"
NONCE_1 = "</static/app.js>; rel=preload; as=script; nonce=1"


def nonce_then_css() -> str:
    push("/static/app.js", as_="script", nonce=request.headers["X-Nonce"])
    push("/static/site.css", as_="style")
    return "page"


def css_with_status() -> tuple[str, int]:
    push("/static/site.css", as_="style")
    return "page", int(request.headers["X-Status"])


@pytest.mark.parametrize(
    ("view", "first", "then", "config"),
    [
        pytest.param(
            avatar_then_css,
            {"X-Visitor": "al"},
            {"X-Visitor": "bartholomew"},
            {"FIREHOSE_LINK_BUDGET": len(AVATAR_AL) + len("; nopush") + 2 + len(CSS)},
            id="a longer learn=False link than the learner's, at the budget",
        ),
        pytest.param(
            nonce_then_css,
            {"X-Nonce": "1"},
            {"X-Nonce": "123456"},
            {"FIREHOSE_LINK_BUDGET": len(NONCE_1) + 2 + len(CSS)},
            id="a longer nonce than the learner's, at the budget",
        ),
        pytest.param(
            css_with_status,
            {"X-Status": "200"},
            {"X-Status": "500"},
            {},
            id="a page that now answers 500",
        ),
    ],
)
def test_what_a_103_offered_for_push_is_recorded(
    view: Callable[[], Any], first: dict[str, str], then: dict[str, str], config: dict[str, Any]
) -> None:
    """h2o and Apache push what a 103 links. When the final response does not push it
    itself (it has no room for it, or its status changed), it must still record it, or
    the next visit pushes it again."""
    hinted, served, holds_css = learned_then_served(view, first, then, **config)

    assert CSS in hinted
    assert CSS not in pushed(served)  # the final response did not push it itself
    assert holds_css


def test_what_a_103_offered_takes_the_push_slots_first() -> None:
    """One push per response: the 103, learned from a visitor without an avatar, offered
    the stylesheet; bob's response has his avatar first, yet pushes the stylesheet (the
    front did already) and writes the avatar nopush."""
    hinted, served, holds_css = learned_then_served(
        avatar_then_css, {}, {"X-Visitor": "bob"}, FIREHOSE_MAX_PUSHES=1
    )

    assert hinted == [CSS]
    assert served.headers["Link"] == f"</avatars/bob.png>; rel=preload; as=image; nopush, {CSS}"
    assert holds_css


@pytest.mark.parametrize(
    "connector", [None, SessionConnector(max_items=2)], ids=["digest", "session"]
)
def test_a_103_and_its_response_push_at_most_max_pushes_between_them(connector: Any) -> None:
    """Two pushes a response, two keys a digest generation or a session keeps: the 103
    offered /a.css and /b.css, this visitor's page links /c.css and /d.css instead. It
    pushes neither (the 103 spent the slots), so all four are kept: the 103's now, the
    page's on the next visit."""
    app = make_app(connector, FIREHOSE_MAX_PUSHES=2, FIREHOSE_CAPACITY=2)

    @app.route("/themed")
    def themed() -> str:
        for name in ("a", "b") if "X-Theme" not in request.headers else ("c", "d"):
            push(f"/{name}.css", as_="style")
        return "themed"

    hinted_get(app.test_client(), "/themed", Recorder())
    client, recorder = app.test_client(), Recorder()
    first = hinted_get(client, "/themed", recorder, headers={"X-Theme": "c"})
    second = client.get("/themed", headers={"X-Theme": "c"})
    third = client.get("/themed", headers={"X-Theme": "c"})

    assert offered(recorder.sent) == [
        "</a.css>; rel=preload; as=style",
        "</b.css>; rel=preload; as=style",
    ]
    assert pushed(first) == []
    assert pushed(second) == ["</c.css>; rel=preload; as=style", "</d.css>; rel=preload; as=style"]
    assert pushed(third) == []


def test_a_navigation_with_nothing_to_hint_leaves_the_session_unread() -> None:
    """A page that pushes nothing, and JSON asked for as a page, have no 103 to plan:
    SessionConnector was asked what the client holds all the same, and Flask, its session
    read, put ``Vary: Cookie`` on each (a JSON answer a cache could share, a page that
    varies on nothing), on every navigation. Found by tests/test_invariants.py."""
    app = make_app(SessionConnector())

    @app.route("/quiet")
    def quiet() -> str:
        return "nothing pushed"

    @app.route("/data")
    def data() -> Response:
        return jsonify(ok=True)

    client, recorder = app.test_client(), Recorder()
    responses = [hinted_get(client, path, recorder) for path in ("/quiet", "/data") * 2]

    assert recorder.sent == []
    assert [response.headers.get("Vary") for response in responses] == [None] * 4


@pytest.mark.parametrize("bad", ["no", 0, None, 1, 1.0])
def test_learn_must_be_a_bool(bad: Any) -> None:
    """Refused whether or not the same push was made with a real bool before (1 == True)."""
    with pytest.raises(ValueError, match="learn"):
        push("/a.css", as_="style", learn=bad)
    push("/a.css", as_="style", learn=True)
    push("/a.css", as_="style", learn=False)
    with pytest.raises(ValueError, match="learn"):
        push("/a.css", as_="style", learn=bad)


def test_a_server_without_early_hints_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    """Werkzeug's server (flask run), waitress: with FIREHOSE_EARLY_HINTS on, the first
    navigation says once per app why no 103 will come, and the page is served; nothing is learned
    from it (none could be sent), so a server offering wsgi.early_hints learns it first."""
    app = make_app()
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        client.head("/page/home")  # not a navigation a 103 is for: nothing to say
        assert caplog.records == []
        for _ in range(3):
            assert client.get("/page/home").status_code == 200
        told = [r for r in caplog.records if "no wsgi.early_hints" in r.getMessage()]
        assert len(told) == 1 and told[0].levelno == logging.WARNING
        # Once per app: another app in the process says it too, once.
        other = make_app().test_client()
        for _ in range(2):
            other.get("/page/home")
    assert len([r for r in caplog.records if "no wsgi.early_hints" in r.getMessage()]) == 2
    recorder = Recorder()
    hinted_get(app.test_client(), "/page/home", recorder)
    assert recorder.sent == []
    hinted_get(app.test_client(), "/page/home", recorder)
    assert len(recorder.sent) == 1


def test_a_request_a_view_makes_through_the_wsgi_app_sends_the_client_no_103() -> None:
    """A view serving a fragment through ``app.wsgi_app`` with a copy of its environ, which
    holds gunicorn's ``wsgi.early_hints``: the fragment's request sent the client a 103 of
    the fragment's links, which the page neither links nor records, so on every visit (a
    front that pushes from a 103 pushed them each time)."""
    app = make_app()

    @app.route("/with-fragment")
    def with_fragment() -> str:
        push("/static/page.css", as_="style")

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            return None

        environ = {**request.environ, "PATH_INFO": "/page/fragment"}
        return b"".join(app.wsgi_app(environ, start_response)).decode()

    hinted_get(app.test_client(), "/page/fragment", Recorder())
    hinted_get(app.test_client(), "/with-fragment", Recorder())
    client = app.test_client()
    first, again = Recorder(), Recorder()
    response = hinted_get(client, "/with-fragment", first)
    hinted_get(client, "/with-fragment", again)

    assert response.headers["Link"] == "</static/page.css>; rel=preload; as=style"
    assert first.sent == [[("Link", "</static/page.css>; rel=preload; as=style")]]
    assert again.sent == []


@pytest.mark.parametrize("lazy", [False, True], ids=["app", "lazy app"])
def test_a_request_a_view_makes_from_another_thread_sends_the_client_no_103(lazy: bool) -> None:
    """A view rendering a fragment in a worker thread (a ``ThreadPoolExecutor``, which
    copies no context) through ``app.wsgi_app`` with a copy of its environ: the fragment's
    request, finding no record around it, took itself for the client's, sent the client a
    second 103 of the fragment's links, which the page neither links nor records, and
    taught the fragment's url as a page. So too under a lazy app (Werkzeug's
    ``DebuggedApplication`` inside ours), whose view runs as its body is read."""
    app = make_app()
    if lazy:
        scope = app.wsgi_app
        scope.wsgi_app = DebuggedApplication(scope.wsgi_app, evalex=False)  # type: ignore[attr-defined]

    @app.route("/with-fragment")
    def with_fragment() -> str:
        push("/static/page.css", as_="style")

        def fragment() -> str:
            def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
                return None

            environ = {**request_environ, "PATH_INFO": "/page/fragment"}
            return b"".join(app.wsgi_app(environ, start_response)).decode()

        request_environ = request.environ
        with ThreadPoolExecutor(1) as executor:
            return executor.submit(fragment).result()

    hinted_get(app.test_client(), "/with-fragment", Recorder())
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/with-fragment", recorder)

    assert response.get_data(as_text=True) == "page fragment"
    assert response.headers["Link"] == "</static/page.css>; rel=preload; as=style"
    assert recorder.sent == [[("Link", "</static/page.css>; rel=preload; as=style")]]
    assert "http|localhost||/page/fragment?" not in app.extensions["firehose"].hint_cache


@pytest.mark.parametrize("first", ["served", "raised", "lazy app"])
def test_a_middleware_outside_ours_asking_again_with_the_environ_gets_the_client_s_103(
    first: str,
) -> None:
    """Once a request's response is made (its body closed, for a lazy app), or its error
    raised, its environ names its record no longer: a middleware outside ours that then
    asks the app again with a copy of that environ (another page for a 404, or for an
    error the app raised) makes the client's own request, not one a view made, and the
    page it asks for sends its 103."""
    app = make_app(PROPAGATE_EXCEPTIONS=True)
    if first == "lazy app":
        scope = app.wsgi_app
        scope.wsgi_app = DebuggedApplication(scope.wsgi_app, evalex=False)  # type: ignore[attr-defined]

    @app.route("/broken")
    def broken() -> str:
        raise RuntimeError("broken")

    ours = app.wsgi_app

    def asking_again(environ: Any, start_response: Any) -> Any:
        def held_back(status: str, headers: Any, exc_info: Any = None) -> Any:
            return None

        try:
            body: Any = ours(environ, held_back)
            b"".join(body)
            body.close()  # as a server closes it (PEP 3333)
        except RuntimeError:
            pass
        return ours({**environ, "PATH_INFO": "/page/home"}, start_response)

    app.wsgi_app = asking_again  # type: ignore[method-assign]
    hinted_get(app.test_client(), "/page/home", Recorder())  # learned
    recorder = Recorder()

    response = hinted_get(
        app.test_client(), "/broken" if first == "raised" else "/page/other", recorder
    )

    assert response.get_data(as_text=True) == "page home"
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_a_test_client_a_view_uses_does_not_say_the_server_sends_no_103(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A view calling the app through a test client, on a server that offers
    ``wsgi.early_hints``: the inner request, which has none, logged that the server sends
    no 103, which it does."""
    app = make_app()

    @app.route("/with-fragment")
    def with_fragment() -> str:
        push("/static/page.css", as_="style")
        return app.test_client().get("/page/fragment").get_data(as_text=True)

    hinted_get(app.test_client(), "/with-fragment", Recorder())
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        response = hinted_get(app.test_client(), "/with-fragment", recorder)

    assert response.get_data(as_text=True) == "page fragment"
    assert [r.getMessage() for r in caplog.records] == []
    assert recorder.sent == [[("Link", "</static/page.css>; rel=preload; as=style")]]


def test_an_app_mounted_inside_another_s_wsgi_app_sends_its_own_103() -> None:
    """An app under ``DispatcherMiddleware`` put inside another's ``wsgi_app`` runs within
    the outer app's record, before any request claimed it: its requests are the client's
    own, and get their 103."""
    shop = make_app(APPLICATION_ROOT="/shop")
    site = Flask(__name__)
    site.config.update(SECRET_KEY="site secret", FIREHOSE_EARLY_HINTS=True)
    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})  # type: ignore[method-assign]
    Firehose(site)
    hinted_get(site.test_client(), "/shop/page/home", Recorder())
    recorder = Recorder()

    response = hinted_get(site.test_client(), "/shop/page/home", recorder)

    assert response.headers["Link"] == f"{CSS}, {JS}"
    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


def test_a_mount_point_asked_without_its_slash_keeps_its_root_page_s_103() -> None:
    """Under ``DispatcherMiddleware`` (or a server's ``SCRIPT_NAME``), ``/shop`` reaches the
    app with an empty ``PATH_INFO``, which Werkzeug's ``path`` reads as "/", as it reads
    ``/shop/``'s. Flask answers ``/shop`` with a 308 to ``/shop/``, and that permanent
    redirect, taken for the root page's own answer, emptied what ``/shop/`` had learned:
    after each visitor who typed the url without its slash, the next got no 103."""
    shop = make_app()

    @shop.route("/")
    def home() -> str:
        push("/static/site.css", as_="style")
        push("/static/app.js", as_="script")
        return "shop"

    site = Flask(__name__)
    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})  # type: ignore[method-assign]
    hinted_get(site.test_client(), "/shop/", Recorder())  # learned
    redirected = hinted_get(site.test_client(), "/shop", Recorder())
    assert redirected.status_code == 308
    assert redirected.headers["Location"].endswith("/shop/")
    recorder = Recorder()

    hinted_get(site.test_client(), "/shop/", recorder)

    assert recorder.sent == [[("Link", f"{CSS}, {JS}")]]


@pytest.mark.parametrize("front_may_push", [True, False])
@pytest.mark.parametrize("slack", range(0, 30, 3))
def test_a_103_hints_no_link_the_final_response_leaves_out(
    front_may_push: bool, slack: int
) -> None:
    """Served over the app's own HTTP/2 (no front pushes from the 103), a new link to a
    CDN was counted without the "; nopush" the final response writes on it: the 103
    hinted a link the budget then left out of the final ``Link``."""
    urls = ["/a.css", "https://cdn.example/1.css", "https://cdn.example/2.css", "/b.css"]
    resources = [make_resource(url, (), "style", None, ()) for url in urls]
    budget = sum(len(resource.link) + 2 for resource in resources) - 2 + slack
    early = plan_early_hints(
        [resource.hint for resource in resources],
        frozenset(),
        budget,
        max_pushes=1,
        front_may_push=front_may_push,
    )
    final = plan_links(resources, frozenset(), may_push=True, max_pushes=1, budget=budget)
    assert final.value is not None
    hinted = [link.split(";")[0] for link in early.headers[0][1].split(", ")]
    assert set(hinted) <= {link.split(";")[0] for link in final.value.split(", ")}


#: Urls of every kind a page may link: same-origin paths, another origin's, its own absolute
#: url, one no proxy reads whole, a relative one.
_ANY_URL = [
    "/a.css",
    "/b.css",
    "/c.css",
    "https://cdn.example/1.css",
    "//cdn.example/2.css",
    "https://shop.example/o.css",
    "/x,y.css",
    "rel/r.css",
]
_ANY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "preload": (),
    "preconnect": (("rel", "preconnect"),),
    "media": (("media", "print"),),  # Chromium drops it from a 103
}


@settings(max_examples=300)
@given(
    page=st.lists(
        st.tuples(st.sampled_from(_ANY_URL), st.sampled_from([*_ANY_KIND, "learn=False"])),
        min_size=1,
        max_size=7,
        unique_by=lambda link: link[0],
    ),
    data=st.data(),
    max_pushes=st.integers(0, 3),
    omit_held=st.booleans(),
    front_may_push=st.booleans(),
    recordable=st.booleans(),
    browser=st.booleans(),
)
def test_a_103_hints_only_what_the_final_link_preloads_and_offers_no_held_key(
    page: list[tuple[str, str]],
    data: st.DataObject,
    max_pushes: int,
    omit_held: bool,
    front_may_push: bool,
    recordable: bool,
    browser: bool,
) -> None:
    """Whatever the page, what the client holds, the budget, the front and the client (a
    browser's request or another's): every link a 103 hints is one the final ``Link``
    preloads, and it offers for push at most ``max_pushes`` keys, none of them held
    (nothing when nothing can be recorded)."""
    resources = [
        make_resource(
            url,
            (),
            None if kind == "preconnect" else "style",
            None,
            _ANY_KIND.get(kind, ()),
            learn=kind != "learn=False",
        )
        for url, kind in page
    ]
    tracked = [resource.key for resource in resources if resource.tracked]
    held = frozenset(data.draw(st.sets(st.sampled_from(tracked)))) if tracked else frozenset()
    if not recordable:
        held = frozenset()
    # Near where the final Link's room runs out after some link: where miscounts show.
    written = [len(resource.nopush_link) + 2 for resource in resources]
    cut = data.draw(st.integers(0, len(written)))
    budget = max(0, sum(written[:cut]) - 2 + data.draw(st.integers(-20, 10)))
    early = plan_early_hints(
        [resource.hint for resource in resources],
        held,
        budget,
        max_pushes=max_pushes if recordable else 0,
        omit_held=omit_held,
        front_may_push=front_may_push,
        own_origin=None if front_may_push else "https://shop.example",
        browser=browser,
    )
    final = plan_links(
        resources,
        held if recordable else None,
        may_push=True,
        max_pushes=max_pushes,
        budget=budget,
        omit_held=omit_held,
        offered=early.offered,
        browser=browser,
    )
    preloaded = {link.split(";")[0] for link in (final.value or "").split(", ")}
    hinted = [link.split(";")[0] for _, value in early.headers for link in value.split(", ")]
    assert set(hinted) <= preloaded
    assert len(early.offered) <= (max_pushes if recordable else 0)
    assert held.isdisjoint(early.offered)


def test_over_the_app_s_own_http2_a_103_hints_no_link_the_final_response_leaves_out() -> None:
    """The 103 counted the final Link without its same-origin links, which it does not
    send: a CDN link after them was hinted, then left out of the final Link's budget."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="h2", FIREHOSE_EARLY_HINTS=True)
    Firehose(app)

    @app.route("/")
    def page() -> str:
        push("https://cdn.example/early.js", as_="script")
        for i in range(36):  # 10 pushed, 26 written nopush: 208 bytes the 103 missed
            push(f"/static/file{i:02}.css", as_="style")
        push("https://cdn.example/lib.js", as_="script")
        return "page"

    sent: list[Any] = []
    server = {"wsgi.early_hints": sent.append, "SERVER_PROTOCOL": "HTTP/2.0"}
    app.test_client().get("/", environ_overrides=server)  # learned
    sent.clear()
    final = app.test_client().get("/", environ_overrides=server).headers["Link"]
    hinted = [hint.split(";")[0] for _, value in sent[0] for hint in value.split(", ")]
    assert "<https://cdn.example/early.js>" in hinted
    assert all(target in final for target in hinted)
    assert "cdn.example/lib.js" not in final  # the budget left it out: so did the 103


def test_over_the_app_s_own_http2_a_103_hints_the_cdn_link_the_final_response_writes() -> None:
    """The 103 counts each same-origin link as the final ``Link`` writes it: the first
    ``FIREHOSE_MAX_PUSHES`` new ones without "; nopush", one push slot each. With the
    budget exactly the final ``Link``'s length, the CDN link it writes last is hinted."""
    urls = ["/static/a.css", "/static/b.css", "/static/c.css", "https://cdn.example/lib.css"]
    resources = [make_resource(url, (), "style", None, ()) for url in urls]
    final = plan_links(resources, frozenset(), may_push=True, max_pushes=2, budget=BUDGET)
    assert final.value is not None and final.pushed == ("/static/a.css", "/static/b.css")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="h2",
        FIREHOSE_EARLY_HINTS=True,
        FIREHOSE_MAX_PUSHES=2,
        FIREHOSE_LINK_BUDGET=len(final.value),
    )
    Firehose(app)

    @app.route("/")
    def page() -> str:
        for url in urls:
            push(url, as_="style")
        return "page"

    server = {"SERVER_PROTOCOL": "HTTP/2.0"}
    hinted_get(app.test_client(), "/", Recorder(), environ_overrides=server)  # learned
    recorder = Recorder()

    response = hinted_get(app.test_client(), "/", recorder, environ_overrides=server)

    assert response.headers["Link"] == final.value
    assert recorder.sent == [[("Link", style("https://cdn.example/lib.css"))]]


def test_a_host_label_too_long_for_dns_is_not_given_to_the_idna_codec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's IDNA codec encodes a label before it refuses one over 63 characters
    (RFC 1035 §2.3.4), in time growing with its length times its distinct characters: a
    pushed url on a host of 1,000 distinct CJK characters took 0.5 s, 2,700 took 5 s, each
    a miss of push()'s cache. A label's IDNA form is no shorter than the label, so a longer
    one is kept as written without being encoded, as the codec's refusal kept it."""
    given: list[str] = []
    to_ascii = encodings.idna.ToASCII

    def counted(label: str) -> bytes:
        given.append(label)
        return to_ascii(label)

    monkeypatch.setattr(encodings.idna, "ToASCII", counted)
    label = "".join(chr(0x4E00 + i) for i in range(64))
    assert origin_of(f"https://{label}.example/a.css") == f"https://{label}.example"
    encoded = "".join(f"%{byte:02X}" for byte in label.encode())
    assert origin_of(f"https://{encoded}.example/a.css") == f"https://{encoded.lower()}.example"
    assert origin_of("https://b%C3%BCcher.example/a.css") == "https://xn--bcher-kva.example"
    assert given and max(map(len, given)) <= 63


def test_a_non_ascii_host_werkzeug_reads_keeps_its_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug before 3.1.8 (3.1.0 is supported) reads a UTF-8 ``Host`` as sent, where
    later ones read none: its non-ASCII letters keep their case there too ("Ã" and "ã"
    are the bytes C3 and E3), so no two hosts differing beyond ASCII case are one page."""
    environ = EnvironBuilder(path="/", base_url="https://shop.example").get_environ()
    monkeypatch.setattr(Request, "host", property(lambda self: "B\xc3\xbcCHER.test"))
    assert scheme_and_host(Request(environ)) == ("https", "B\xc3\xbcCHER.test")
