"""SessionConnector where a page's held links and new ones do not all fit, generated:
``max_items`` at ``FIREHOSE_MAX_PUSHES`` or one past it, beside up to as many held keys;
or a session's room exactly, or a byte less than, the line of the app's own data, the
held urls and one to three more. The response pushes, and records, the first new urls
that fit (connectors.md, "Flask's cookie session" and "A page of more links than
``max_items``"), with or without a 103 before it, and under either
``FIREHOSE_ALREADY_PUSHED``.

How many fit is measured here as connectors.md says it, not asked of the connector: the
Set-Cookie line of a session holding the app's data and the page's held urls then its
first new ones, written by a page that pushes them to a new client under budgets with
room to spare (:func:`~tests.test_session_room.session_line`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from flask import Flask, session
from hypothesis import event, given, settings
from hypothesis import strategies as st

from firehose_digest import Firehose, SessionConnector, push
from tests.test_session_room import budgets_for, held, pushed_in, session_line, visit

#: Five versioned urls, each as long as a fingerprinted asset's or longer.
URLS = tuple(
    f"/static/assets/{name}." + hashlib.sha256(name.encode()).hexdigest()[: 24 + 4 * n] + ".css"
    for n, name in enumerate(("app", "lib", "ui", "icons", "print"))
)

#: What the app's /login stores, by size: what room_app's /login stores, so that
#: :func:`line` measures the very session.
OWN = {
    size: "".join(
        hashlib.blake2b(b"%d" % n, digest_size=64).hexdigest() for n in range(size // 128)
    )
    for size in (0, 1024)
}


@cache
def line(own: int, urls: tuple[str, ...]) -> int:
    """The Set-Cookie line of a session holding ``own`` bytes of the app's data and
    ``urls``, in that order."""
    return session_line(own, urls)


def site(
    own: int,
    holds: tuple[str, ...],
    links: tuple[str, ...],
    connector: SessionConnector,
    **config: Any,
) -> Flask:
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "fits", **config})
    Firehose(app, connector=connector)

    @app.route("/login")
    def login() -> str:
        session["own"] = OWN[own]
        return "signed in"

    @app.route("/hold")
    def hold() -> str:
        for url in holds:
            push(url, as_="style")
        return "held"

    @app.route("/")
    def page() -> str:
        for url in links:
            push(url, as_="style")
        return "page"

    return app


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    max_pushes = draw(st.sampled_from((1, 2, 3, 3)))
    limit = draw(st.sampled_from(("max_items", "room")))
    own = draw(st.sampled_from(sorted(OWN)))
    # What the client holds: the page's first few urls (which it links again), or the
    # last few (which it may link or not).
    count = draw(st.integers(0, max_pushes))
    holds = URLS[:count] if draw(st.booleans()) else URLS[len(URLS) - count :]
    if limit == "max_items":
        max_items = max_pushes + draw(st.integers(0, 1))
        room = None
    else:
        max_items = 100
        # A byte either side of the line that holds the app's data, the held urls, and
        # the first one to three after them.
        first = URLS[: min(count + draw(st.integers(1, 3)), len(URLS))]
        room = line(own, (*holds, *(url for url in first if url not in holds)))
        room += draw(st.sampled_from((0, -1)))
    return {
        "max_pushes": max_pushes,
        "max_items": max_items,
        "own": own,
        "room": room,
        "holds": holds,
        "links": URLS[: draw(st.integers(2, len(URLS)))],
        "omit": draw(st.booleans()),
        "early_hints": draw(st.booleans()),
    }


@settings(max_examples=100)
@given(case=cases())
def test_a_page_pushes_and_records_the_first_new_urls_the_session_takes(
    case: dict[str, Any],
) -> None:
    """On each visit, exactly the first ``k`` of the page's new urls (its first
    ``FIREHOSE_MAX_PUSHES`` not held) are offered for push, by its 103 and Link between
    them, where ``k`` is the most that fit beside its held ones: in ``max_items``, and in
    the session's room. Each is recorded; none held is offered; the held urls the page
    links are kept, as is the app's own data; each visit is a 200
    (:func:`~tests.test_session_room.visit`). Visit after visit, as the client holds what
    each pushed."""
    own, room, links = case["own"], case["room"], case["links"]
    config: dict[str, Any] = {
        "FIREHOSE_MAX_PUSHES": case["max_pushes"],
        "FIREHOSE_ALREADY_PUSHED": "omit" if case["omit"] else "nopush",
        "FIREHOSE_EARLY_HINTS": case["early_hints"],
        # Budgets that write every link: the room alone limits what is recorded.
        **(budgets_for(room, link_budget=1000) if room is not None else {}),
    }
    app = site(own, case["holds"], links, SessionConnector(case["max_items"]), **config)
    if case["early_hints"]:
        visit(app.test_client(), [])  # another client's visit teaches the 103 the page
    client = app.test_client()
    no_hints = {"HTTP_ACCEPT": "text/html", "wsgi.early_hints": lambda headers: None}
    if own:
        client.get("/login", environ_base=no_hints)
    client.get("/hold", environ_base=no_hints)
    before = held(client)

    for _ in range(3):
        # What this visit may push, as connectors.md says, from what the client holds.
        reused = tuple(url for url in links if url in before)
        new = tuple(url for url in links if url not in before)[: case["max_pushes"]]

        def fits(count: int, reused: tuple[str, ...] = reused, new: tuple[str, ...] = new) -> bool:
            if reused and len(reused) + count > case["max_items"]:
                return False
            return room is None or line(own, (*reused, *new[:count])) <= room

        first = max(count for count in range(len(new) + 1) if count == 0 or fits(count))
        event("some but not all fit" if 0 < first < len(new) else "all or none fit")
        hints: list[list[tuple[str, str]]] = []
        response = visit(client, hints)
        after = held(client)
        offered = list(dict.fromkeys(pushed_in(response, hints)))
        assert sorted(offered) == sorted(new[:first]), (case, before, offered)
        assert set(offered) <= set(after), (case, after)
        assert not set(offered) & set(before)
        assert set(reused) <= set(after)
        with client.session_transaction() as sess:
            assert sess.get("own", "") == OWN[own]
        before = after
