"""The request-cost benchmarks check every response as they time it: run for a round, here,
each app and each variant must still answer what it is measured answering.

``make bench`` is not part of ``make test`` (it takes minutes); these run its two request
suites for a round or two of two requests, so a change that leaves an app or a variant
answering otherwise (a 500 when a cache is switched off as ``bench/caches.py`` does) fails
here, not at the next ``make bench``. What they time is not asserted.

The checks themselves are tested too: an app made to answer one timed response wrong (a
link without ``nopush``, no ``Vary``, a cookie set, no response at all) must stop the
suite, by name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from bench import caches, cookie_size, hostile, memory, report, request_cost_report, server_cost
from tests.test_hostile import page_app


def test_each_cache_switched_off_still_answers_as_shipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        ratios = caches.measure(rounds=1, calls=2)
    assert set(ratios) == set(caches.VARIANTS)
    # A step that failed and fell back (a holder that raised) may still answer as checked.
    assert caplog.records == []


def test_each_app_of_the_server_cost_suite_answers_as_checked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        costs = server_cost.measure(rounds=2, calls=2)  # two rounds: their quartiles
    assert [cost.app for cost in costs] == list(server_cost.APPS)
    assert caplog.records == []


# What a wrong response may get wrong, each a change to its headers; each must be refused.
def _drop_a_nopush(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (name, value.replace("; nopush", "", 1) if name == "Link" else value)
        for name, value in headers
    ]


def _drop_the_links(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name != "Link"]


def _drop_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name != "Vary"]


def _set_a_cookie(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*headers, ("Set-Cookie", "h2-digest=x; Path=/")]


def _add_a_link(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*headers, ("Link", "</static/extra.css>; rel=preload; as=style; nopush")]


Change = Callable[[list[tuple[str, str]]], list[tuple[str, str]]]


class _OneWrongPage:
    """WSGI middleware: the ``nth`` return visit to ``/page`` (counted from 1) has ``change``
    made to its headers, or is never started (``change`` None); every other passes as is.

    Return visits alone are counted: server_cost's Early Hints app is also sent a stranger,
    with no cookie, to see that it learned the page."""

    def __init__(self, app: Any, nth: int, change: Change | None) -> None:
        self.app, self.nth, self.change, self.visits = app, nth, change, 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"] != "/page" or "HTTP_COOKIE" not in environ:
            return self.app(environ, start_response)
        self.visits += 1
        if self.visits != self.nth:
            return self.app(environ, start_response)
        change = self.change
        if change is None:
            return []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, change(headers), exc_info)

        return self.app(environ, start)


def _wrong_page(
    build: Callable[..., Flask], victim: str, nth: int, change: Change | None
) -> Callable[..., Flask]:
    """``build``, the app named ``victim`` answering its ``nth`` ``/page`` wrong."""

    def build_wrong(app_name: Any, *args: Any) -> Flask:
        app = build(app_name, *args)
        # memory.build is given a Case, named by its name.
        if getattr(app_name, "name", app_name) == victim:
            app.wsgi_app = _OneWrongPage(app.wsgi_app, nth, change)  # type: ignore[method-assign]
        return app

    return build_wrong


# server_cost.measure(rounds=2, calls=2): each app is sent 10 return visits to warm up, then
# two a round; the 12th is the second timed response of the first round, after the ones
# return_visit checks (at most 3), so only the checks of the timed run can see it.
TIMED_SERVER_COST_PAGE = 12


@pytest.mark.parametrize(
    ("victim", "change", "refusal"),
    [
        ("gcs", _drop_a_nopush, "gcs: Link"),
        ("gcs", _drop_the_links, "gcs: Link"),
        ("gcs", _add_a_link, "gcs: Link"),
        ("gcs", _drop_vary, "gcs: no Vary: Cookie"),
        ("gcs", _set_a_cookie, "gcs: a return visit set a cookie"),
        ("gcs", None, "gcs: 1 responses to 2 calls"),
        ("bloom", _drop_a_nopush, "bloom: Link"),
        ("gcs-rotated", _drop_a_nopush, "gcs-rotated: Link"),
        ("by-hand", _drop_a_nopush, "by-hand: Link"),
        ("by-hand-bloom", _drop_vary, "by-hand-bloom: no Vary"),
        ("bare", _add_a_link, "bare: a Link header"),
        ("set", _drop_a_nopush, "set: Link"),
        ("gcs-found", _drop_a_nopush, "gcs-found: Link"),
        ("gcs-hints", _drop_a_nopush, "gcs-hints: Link"),
        ("least", _drop_a_nopush, "least: Link"),
    ],
)
def test_server_cost_refuses_one_wrong_response_among_those_it_times(
    monkeypatch: pytest.MonkeyPatch, victim: str, change: Change | None, refusal: str
) -> None:
    wrong = _wrong_page(server_cost.build, victim, TIMED_SERVER_COST_PAGE, change)
    monkeypatch.setattr(server_cost, "build", wrong)
    with pytest.raises(AssertionError, match=f"^{re.escape(refusal)}"):
        server_cost.measure(rounds=2, calls=2)


# caches.measure(rounds=1, calls=2): each app is sent two return visits to warm up, then two
# in the round (the floor four); the 4th is the second of the round.
TIMED_CACHES_PAGE = 4


@pytest.mark.parametrize(
    ("victim", "change", "refusal"),
    [
        ("gcs", _drop_a_nopush, "as shipped: Link"),
        ("gcs", _drop_vary, "as shipped: no Vary: Cookie"),
        ("gcs", None, "as shipped: 1 responses to 2 calls"),
        ("by-hand", _drop_a_nopush, "by-hand: Link"),
        ("by-hand", None, "by-hand: 1 responses to 2 calls"),
    ],
)
def test_caches_refuses_one_wrong_response_among_those_it_times(
    monkeypatch: pytest.MonkeyPatch, victim: str, change: Change | None, refusal: str
) -> None:
    # Every variant but by-hand is the gcs app, a cache of it switched off; the round's
    # first is the one as shipped.
    wrong = _wrong_page(server_cost.build, victim, TIMED_CACHES_PAGE, change)
    monkeypatch.setattr(caches, "build", wrong)
    with pytest.raises(AssertionError, match=f"^{re.escape(refusal)}"):
        caches.measure(rounds=1, calls=2)


# A client of few urls: its cookies are quick to make.
SMALL_CLIENTS = memory.Case("small", "gcs", 300, 20)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (_drop_a_nopush, "small: a held page url was not nopush"),
        (_drop_the_links, "small: a held page url was not nopush"),
        (_set_a_cookie, "small: 200 OK"),
    ],
)
def test_memory_refuses_one_wrong_response_among_those_it_measures(
    monkeypatch: pytest.MonkeyPatch, change: Change, refusal: str
) -> None:
    cookies = memory.make_cookies(SMALL_CLIENTS, memory.WARM_UP_CLIENTS + 2)
    # The warm-up's visits, then the second measured client's first.
    nth = memory.VISITS * memory.WARM_UP_CLIENTS + 2
    monkeypatch.setattr(memory, "build", _wrong_page(memory.build, "small", nth, change))
    with pytest.raises(AssertionError, match=f"^{re.escape(refusal)}"):
        memory.measure_child(SMALL_CLIENTS, cookies, trace=False)


def test_memory_refuses_clients_that_share_a_cookie(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two clients sending one cookie are one entry in the decoded-digest cache, not two.
    cookies = memory.make_cookies(SMALL_CLIENTS, memory.WARM_UP_CLIENTS + 2)
    cookies[-1] = cookies[-2]
    monkeypatch.setattr(memory, "make_cookies", lambda case, clients: cookies)
    with pytest.raises(AssertionError, match=r"^small: 2 clients share a cookie"):
        memory.measure(SMALL_CLIENTS, 2)


def test_memory_counts_the_decoded_digests_its_clients_left() -> None:
    # 22 small digests stay well within the cache's bound: every client is still kept.
    clients = memory.WARM_UP_CLIENTS + 2
    cookies = memory.make_cookies(SMALL_CLIENTS, clients)
    growth = memory.measure_child(SMALL_CLIENTS, cookies, trace=False)
    assert growth["decoded_kept"] == clients


def test_cookie_size_measures_the_session_connector_on_both_sides_of_the_cookie_limit() -> None:
    """Past a 4093-byte cookie ``SessionConnector`` keeps only the first of a response's
    keys that fit: the suite measures the whole list's size there (and stopped ``make
    bench`` when it found no cookie, as a page that pushes nothing writes none)."""
    fits, kept_all = cookie_size.session_connector_cookie(300)
    past, kept_past = cookie_size.session_connector_cookie(500)
    assert (kept_all, kept_past) == (True, False)
    assert fits <= 4093 < past


def test_the_hostile_suite_times_a_page_that_answers_as_checked() -> None:
    """``bench/hostile.py``'s two apps answer a hostile header and a first visit as its
    check wants them to, so what it times is the page served."""
    for app in (page_app("gcs"), hostile.by_hand()):
        for header in ("", "h2-digest=not-a-digest", hostile.ESCAPED_QUOTES):
            assert hostile.timed(app, header, http2=True, tries=1) > 0


@pytest.mark.parametrize("wrong", ["no link", "a 500"])
def test_the_hostile_suite_stops_at_a_page_answered_otherwise(wrong: str) -> None:
    app = hostile.by_hand()

    @app.after_request
    def spoil(response: Response) -> Response:
        if wrong == "no link":
            del response.headers["Link"]
        else:
            response.status_code = 500
        return response

    with pytest.raises(AssertionError, match="'h2-digest=x'"):
        hostile.timed(app, "h2-digest=x", tries=1)


def test_the_profile_finds_the_wsgi_wrapper_that_holds_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``make bench``'s profile summary measures our share against the call of our WSGI
    wrapper, which holds all of the app's time: found by its code, wherever the class lives
    (found by the file it once lived in, it was found nowhere after a move, and ``make
    bench`` stopped at a division by zero)."""
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(request_cost_report, "RESULTS_DIR", tmp_path)
    text = request_cost_report.profile_summary(requests=20)
    share = re.search(r"makes: \*\*(\d+)%\*\* of the app's time .*: (\d+) of (\d+) µs", text)
    assert share is not None, text
    percent, entered, app = map(int, share.groups())
    assert 0 < percent < 100 and 0 < entered < app
    assert (tmp_path / "request_cost_profile.md").read_text() == text
