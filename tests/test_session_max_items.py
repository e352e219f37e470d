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
from flask import Flask, session
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
    urls = [offered]
    app = Flask(__name__)
    app.config.update(SECRET_KEY="items", FIREHOSE_MAX_PUSHES=4, FIREHOSE_EARLY_HINTS=True)
    Firehose(app, connector=SessionConnector(max_items=max_items))

    @app.route("/")
    def page() -> str:
        for url in urls:
            push(url, as_="style")
        return "page"

    @app.route("/held")
    def held_page() -> str:
        for url in held_urls:
            push(url, as_="style")
        return "held"

    pushed_on_visit(app.test_client())  # another client's visit teaches the 103 the page
    urls[:] = [*held_urls, offered, *new]
    client = app.test_client()
    client.get("/held")
    assert held(client) == held_urls

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
