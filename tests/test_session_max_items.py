"""SessionConnector where a page links more urls than ``max_items`` keeps.

The list keeps the ``max_items`` most recently used keys. A page of more links than that
once pushed a new one each visit, cutting the list to its last ``max_items``: a held key
the page links again was dropped, so the next visit pushed it again, dropping another, and
each visit pushed a file the client had. Now a page's held keys are kept as its pushed ones
are, and what cannot be kept beside them is preloaded ``nopush``, not pushed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, make_response, request, session
from flask.testing import FlaskClient

from firehose_digest import Firehose, SessionConnector, push

#: A navigation a front passes on, whose server offers ``wsgi.early_hints``.
NAVIGATION = {"HTTP_ACCEPT": "text/html"}


def page_app(max_items: int, links: int, **config: Any) -> tuple[Flask, list[str]]:
    """An app keeping ``max_items`` keys whose page ``/`` links ``links`` stylesheets."""
    urls = [f"/s{n}.css" for n in range(links)]
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "items", "FIREHOSE_MAX_PUSHES": max_items, **config})
    Firehose(app, connector=SessionConnector(max_items=max_items))

    @app.route("/")
    def page() -> str:
        for url in urls:
            push(url, as_="style")
        return "page"

    return app, urls


def learned_page_client(
    max_items: int,
    held_urls: list[str],
    offered: list[str],
    new: list[str],
    **config: Any,
) -> FlaskClient:
    """A client of an app keeping ``max_items`` keys, with 103s on, holding ``held_urls``
    (pushed by ``/held``), whose page ``/`` was learned by another client's visit linking
    ``offered`` alone (what its 103 now offers for push) and now links the held urls, the
    offered ones, then ``new``."""
    app, urls = page_app(max_items, 0, FIREHOSE_EARLY_HINTS=True, **config)
    urls[:] = offered

    @app.route("/held")
    def held_page() -> str:
        for url in held_urls:
            push(url, as_="style")
        return "held"

    pushed_on_visit(app.test_client())  # another client's visit teaches the 103 the page
    urls[:] = [*held_urls, *offered, *new]
    client = app.test_client()
    client.get("/held")
    assert held(client) == held_urls
    return client


def pushed_on_visit(client: FlaskClient) -> list[str]:
    """The urls one navigation to ``/`` offers for push, in its 103 or its Link."""
    hints: list[list[tuple[str, str]]] = []
    environ = {**NAVIGATION, "wsgi.early_hints": lambda headers: hints.append(list(headers))}
    response = client.get("/", environ_base=environ)
    assert response.status_code == 200
    values = [value for hint in hints for name, value in hint if name == "Link"]
    values += response.headers.getlist("Link")
    links = [link for value in values for link in value.split(", ")]
    pushed = [link[1 : link.index(">")] for link in links if not link.endswith("nopush")]
    return list(dict.fromkeys(pushed))


def held(client: FlaskClient) -> list[str]:
    with client.session_transaction() as sess:
        return list(sess.get("h2-held", []))


@pytest.mark.parametrize("early_hints", [False, True], ids=["Link alone", "with a 103"])
@pytest.mark.parametrize(
    ("max_items", "max_pushes", "links", "first_visits"),
    [
        # (pushes on each visit until the client holds what it can)
        (1, 1, 1, [1]),  # exactly max_items
        (1, 1, 2, [1]),  # one more
        (1, 1, 3, [1]),
        (2, 2, 2, [2]),  # exactly max_items
        (2, 2, 3, [2]),  # one more
        (2, 1, 2, [1, 1]),  # exactly max_items, one push a response
        (2, 1, 3, [1, 1]),  # one more
    ],
)
def test_a_page_of_more_links_than_max_items_pushes_nothing_twice(
    max_items: int,
    max_pushes: int,
    links: int,
    first_visits: list[int],
    early_hints: bool,
) -> None:
    """Four visits of a page linking ``links`` urls, at ``max_items`` (and at most
    ``max_pushes`` pushes a response): it pushes a url until the client holds as many as
    the session keeps, each once, then nothing, visit after visit. The session keeps the
    page's first urls pushed; the rest are preloaded ``nopush``."""
    app, urls = page_app(
        max_items, links, FIREHOSE_MAX_PUSHES=max_pushes, FIREHOSE_EARLY_HINTS=early_hints
    )
    if early_hints:
        pushed_on_visit(app.test_client())  # another client's visit teaches the 103 the page
    client = app.test_client()

    visits = [pushed_on_visit(client) for _ in range(4)]

    assert [len(pushed) for pushed in visits] == first_visits + [0] * (4 - len(first_visits))
    every = [url for pushed in visits for url in pushed]
    assert len(every) == len(set(every)), f"pushed twice: {visits}"
    assert held(client) == urls[: min(links, max_items)]


def test_what_the_list_cannot_keep_beside_a_page_s_held_links_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The page's third url is not pushed: one warning says why, and what makes room."""
    app, urls = page_app(2, 3)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for _ in range(3):
            response = client.get("/")

    assert response.headers["Link"] == ", ".join(
        f"<{url}>; rel=preload; as=style; nopush" for url in urls
    )
    (said,) = [record.getMessage() for record in caplog.records]
    assert "SessionConnector(max_items=2)" in said and "said once per app and process" in said


@pytest.mark.parametrize("early_hints", [False, True], ids=["Link alone", "with a 103"])
def test_a_page_of_exactly_max_items_links_is_pushed_whole_and_warns_of_nothing(
    early_hints: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """At max_items, one push a response: the second visit pushes the last url beside
    the held one, which fills the list exactly. Nothing is cut, so nothing is said (one
    past it is said once: the test above)."""
    app, urls = page_app(2, 2, FIREHOSE_MAX_PUSHES=1, FIREHOSE_EARLY_HINTS=early_hints)
    if early_hints:
        pushed_on_visit(app.test_client())  # another client's visit teaches the 103 the page
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        visits = [pushed_on_visit(client) for _ in range(3)]
    assert visits == [urls[:1], urls[1:], []]
    assert held(client) == urls
    assert [record.getMessage() for record in caplog.records] == []


def test_held_links_past_max_items_leave_room_for_no_new_url() -> None:
    """A session written under a larger max_items (a deploy lowered it) may hold more of
    the page's links than the list keeps now: beside them, no new url can be recorded,
    so none is offered for push; at max_items exactly too."""
    connector = SessionConnector(max_items=2)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", FIREHOSE_MAX_PUSHES=1)
    Firehose(app, connector=connector)
    new = ["/n1.css", "/n2.css"]
    with app.test_request_context():
        assert connector.recordable(app, new, ["/h1.css"]) == 1
        assert connector.recordable(app, new, ["/h1.css", "/h2.css"]) == 0
        assert connector.recordable(app, new, ["/h1.css", "/h2.css", "/h3.css"]) == 0


def test_a_page_that_writes_the_session_keeps_its_data_and_the_list_it_was_sent() -> None:
    """The response that records nothing still writes what the view put in the session;
    the list is left as the client sent it, the page's first url held, nothing pushed."""
    app, urls = page_app(1, 2)

    @app.route("/counted")
    def counted() -> str:
        session["views"] = session.get("views", 0) + 1
        for url in urls:
            push(url, as_="style")
        return "counted"

    client = app.test_client()
    client.get("/counted")
    response = client.get("/counted")

    assert response.headers["Link"] == ", ".join(
        f"<{url}>; rel=preload; as=style; nopush" for url in urls
    )
    with client.session_transaction() as sess:
        assert sess["views"] == 2
        assert sess["h2-held"] == urls[:1]


@pytest.mark.parametrize(
    ("max_items", "max_pushes", "links", "visits"),
    [
        # (on visit 2, the held urls and the first new ones that fit are max_items
        # exactly; one more new one, which the page offers, would be one past)
        (3, 2, 4, [2, 1, 0, 0]),
        (4, 3, 6, [3, 1, 0, 0]),
        (5, 3, 8, [3, 2, 0, 0]),
    ],
)
def test_a_link_alone_pushes_the_new_urls_that_fit_beside_the_held_ones(
    max_items: int, max_pushes: int, links: int, visits: list[int]
) -> None:
    """No 103. The first visit pushes ``max_pushes`` urls; the second links those again
    and offers as many new ones, more than fit beside them in ``max_items``: save()
    refused them all, and that visit pushed nothing. Now it pushes the first new ones
    that fit (held and pushed, max_items exactly), and records them; later visits push
    nothing again, and the page's held urls are never dropped for new ones."""
    app, urls = page_app(max_items, links, FIREHOSE_MAX_PUSHES=max_pushes)
    client = app.test_client()

    pushed = []
    for _ in range(4):
        pushed.append(pushed_on_visit(client))
        assert held(client) == urls[: sum(len(each) for each in pushed)]

    assert [len(each) for each in pushed] == visits
    assert [url for each in pushed for url in each] == urls[:max_items]


@pytest.mark.parametrize(("max_items", "fits"), [(5, 2), (4, 1)], ids=["two fit", "one fits"])
def test_what_a_103_offered_is_recorded_first_then_the_new_urls_that_fit_in_max_items(
    max_items: int, fits: int
) -> None:
    """The client holds two urls the page links again; the page was learned linking one
    more, which its 103 offers for push, and now links three new ones besides, which its
    Link pushes: more than ``max_items`` beside the held ones, so only what the 103
    offered was recorded. Now that is recorded first, then the first new ones that fit
    (held, offered and new ones: max_items exactly)."""
    held_urls, offered = ["/h0.css", "/h1.css"], "/a.css"
    new = ["/b.css", "/c.css", "/d.css"]
    client = learned_page_client(max_items, held_urls, [offered], new, FIREHOSE_MAX_PUSHES=4)

    visits = [pushed_on_visit(client) for _ in range(3)]

    assert visits == [[offered, *new[:fits]], [], []]
    assert held(client) == [*held_urls, offered, *new[:fits]]


@pytest.mark.parametrize("order", ["session, then digest", "digest, then session"])
def test_a_later_init_app_measures_a_103_s_room_by_its_own_connector(order: str) -> None:
    """``init_app`` resolves, with the connector, how a 103 measures the room for what it
    offers: a later ``init_app`` with another connector measures by that one. The client
    holds one url the page links again, and two are new: with ``SessionConnector(
    max_items=2)`` the 103 offers one (the list keeps two); with the digest, both (it
    holds every key it is given), whichever connector the app had before."""
    app, urls = page_app(2, 3, FIREHOSE_MAX_PUSHES=2, FIREHOSE_EARLY_HINTS=True)
    session_last = order == "digest, then session"
    Firehose(app)  # the digest
    if session_last:
        Firehose(app, connector=SessionConnector(max_items=2))

    @app.route("/first")
    def first() -> str:
        push(urls[0], as_="style")
        return "first"

    pushed_on_visit(app.test_client())  # another client's visit teaches the 103 the page
    client = app.test_client()
    client.get("/first")
    hints: list[list[tuple[str, str]]] = []

    client.get("/", environ_base={**NAVIGATION, "wsgi.early_hints": hints.append})

    offered = [f"<{url}>; rel=preload; as=style" for url in urls[1:]]
    assert hints == [[("Link", ", ".join(offered[:1] if session_last else offered))]]


def style(url: str, nopush: bool = False) -> str:
    """The link ``push(url, as_="style")`` writes, ``nopush`` or not."""
    return f"<{url}>; rel=preload; as=style" + ("; nopush" if nopush else "")


@pytest.mark.parametrize(("max_items", "fits"), [(5, 2), (4, 1)], ids=["two fit", "one fits"])
def test_under_omit_the_held_and_offered_urls_are_left_out_of_the_link_that_pushes_what_fits(
    max_items: int, fits: int
) -> None:
    """As above, under ``FIREHOSE_ALREADY_PUSHED = "omit"``: the Link planned again for
    the new urls that fit leaves out the held urls and what the 103 offered (the client
    holds them all), not ``nopush``; it pushes the first ``fits`` new ones, exactly as
    many as ``max_items`` keeps beside those, and the next is ``nopush``. The session
    lists the held urls, what the 103 offered, then those."""
    held_urls, offered = ["/h0.css", "/h1.css"], "/a.css"
    new = ["/b.css", "/c.css", "/d.css"]
    client = learned_page_client(
        max_items,
        held_urls,
        [offered],
        new,
        FIREHOSE_MAX_PUSHES=4,
        FIREHOSE_ALREADY_PUSHED="omit",
    )
    hints: list[list[tuple[str, str]]] = []

    response = client.get("/", environ_base={**NAVIGATION, "wsgi.early_hints": hints.append})

    assert hints == [[("Link", style(offered))]]
    assert response.headers.getlist("Link") == [
        ", ".join([*map(style, new[:fits]), *(style(url, True) for url in new[fits:])])
    ]
    assert held(client) == [*held_urls, offered, *new[:fits]]
    response = client.get("/", environ_base=NAVIGATION)
    assert response.headers.getlist("Link") == [", ".join(style(url, True) for url in new[fits:])]
    assert held(client) == [*held_urls, offered, *new[:fits]]


def test_a_head_and_a_304_where_a_get_would_push_what_fits_push_and_record_nothing() -> None:
    """The client holds the page's first two urls; the page offers two new ones, and
    ``max_items`` keeps one beside them: a GET 200 pushes the first alone
    (:func:`test_a_link_alone_pushes_the_new_urls_that_fit_beside_the_held_ones`). A HEAD
    first is a 200 that pushes nothing (each link ``nopush``), and a 304 (the view's
    ETag) has no Link: neither records more than the held urls it uses again. Then the
    GET 200 pushes and records the first new url."""
    urls = [f"/s{n}.css" for n in range(4)]
    app = Flask(__name__)
    app.config.update(SECRET_KEY="items", FIREHOSE_MAX_PUSHES=2)
    Firehose(app, connector=SessionConnector(max_items=3))

    @app.route("/")
    def page() -> Any:
        for url in urls:
            push(url, as_="style")
        response = make_response("page")
        response.set_etag("v1")
        return response.make_conditional(request)

    client = app.test_client()
    assert pushed_on_visit(client) == urls[:2]
    assert held(client) == urls[:2]

    head = client.head("/", environ_base=NAVIGATION)
    assert head.status_code == 200
    assert head.headers.getlist("Link") == [", ".join(style(url, True) for url in urls)]
    assert held(client) == urls[:2]

    cached = client.get("/", headers={"If-None-Match": '"v1"'}, environ_base=NAVIGATION)
    assert cached.status_code == 304
    assert cached.headers.getlist("Link") == []
    assert held(client) == urls[:2]

    response = client.get("/", environ_base=NAVIGATION)
    assert response.status_code == 200
    first_new = [style(urls[0], True), style(urls[1], True), style(urls[2]), style(urls[3], True)]
    assert response.headers.getlist("Link") == [", ".join(first_new)]
    assert held(client) == urls[:3]


#: The budget test's client holds one url; the page's 103 offers five more, and it links
#: two new ones after them.
BUDGET_HELD, BUDGET_OFFERED = "/h0.css", tuple(f"/a{n}.css" for n in range(5))
BUDGET_NEW = ("/b.css", "/c.css")
#: The Link through the first new url planned again, each link before it ``nopush``.
THROUGH_NEW = len(
    ", ".join(
        [*(style(url, True) for url in (BUDGET_HELD, *BUDGET_OFFERED)), style(BUDGET_NEW[0])]
    )
)


@pytest.mark.parametrize(
    ("budget", "fits"),
    [(THROUGH_NEW - 1, 0), (THROUGH_NEW, 1)],
    ids=["a byte short: cut", "at the byte: pushed"],
)
def test_a_new_url_the_link_budget_cuts_once_offered_ones_are_nopush_is_not_recorded(
    budget: int, fits: int
) -> None:
    """The client holds one url; the page's 103 offers five more, and its Link pushes two
    new ones: ``max_items`` keeps one of them beside the six, so save() is refused. Planned
    again, the five are linked ``nopush``, 8 bytes longer each: at ``FIREHOSE_LINK_BUDGET``
    a byte short of the Link through the first new url, the budget cuts it, which
    ``recordable()`` said fits. It is then neither pushed nor recorded (a push missed,
    never one unrecorded), nor on the next visits, whose Link is the same; at the very
    byte it is pushed and recorded."""
    held_url, offered, new = BUDGET_HELD, list(BUDGET_OFFERED), list(BUDGET_NEW)
    # As first planned, the five offered ones pushed (40 bytes shorter), the second new
    # url is written too, within the budget: save() is refused for the two.
    first_plan = ", ".join([style(held_url, True), *map(style, offered), *map(style, new)])
    assert len(first_plan) <= THROUGH_NEW - 1
    client = learned_page_client(
        7, [held_url], offered, new, FIREHOSE_MAX_PUSHES=7, FIREHOSE_LINK_BUDGET=budget
    )
    hints: list[list[tuple[str, str]]] = []

    response = client.get("/", environ_base={**NAVIGATION, "wsgi.early_hints": hints.append})

    assert hints == [[("Link", ", ".join(map(style, offered)))]]
    kept = [style(url, True) for url in [held_url, *offered]]
    assert response.headers.getlist("Link") == [", ".join([*kept, *map(style, new[:fits])])]
    assert held(client) == [held_url, *offered, *new[:fits]]
    assert [pushed_on_visit(client) for _ in range(2)] == [[], []]
    assert held(client) == [held_url, *offered, *new[:fits]]
