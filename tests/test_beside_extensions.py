"""The extension beside the Flask extensions real apps use with it: Flask-Session."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cachelib import SimpleCache
from flask import Flask, redirect, session
from flask_session import Session  # type: ignore[import-untyped]  # in the test extras
from werkzeug.wrappers import Response as WerkzeugResponse

from firehose_digest import DigestConnector, Firehose, SessionConnector, push


@pytest.mark.parametrize("logout_by", ["clear", "pop"])
@pytest.mark.parametrize("connector", [DigestConnector(), SessionConnector()], ids=repr)
def test_a_logout_beside_a_page_load_holds_with_a_server_side_session(
    connector: Any, logout_by: str
) -> None:
    """docs/security.md: ``SessionConnector`` with Flask's cookie session lets a page that
    only read the session, whose response reaches the browser after a logout's, sign the
    user in again; "with ``SessionConnector``, prefer a server-side session". Flask-Session
    (its ``SESSION_REFRESH_EACH_REQUEST`` off, so that it writes only a changed session)
    saves the whole session the page opened, ``user_id`` included, under the id the logout
    deleted (or popped the user from), and sets that id's cookie again: the browser,
    keeping the ``Set-Cookie`` it reads last, is signed in again."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s",
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    Session(app)
    Firehose(app, connector=connector)
    opened, logged_out = threading.Event(), threading.Event()

    @app.route("/login")
    def login() -> str:
        session.clear()  # the Flask tutorial's login (flaskr/auth.py)
        session["user_id"] = 7
        session["theme"] = "dark"
        return "signed in"

    @app.route("/logout")
    def logout() -> WerkzeugResponse:
        if logout_by == "clear":
            session.clear()  # the Flask tutorial's logout
        else:
            session.pop("user_id")  # as Flask-Login's logout_user() pops its keys
        return redirect("/whoami")

    @app.route("/whoami")
    def whoami() -> str:
        return str(session.get("user_id"))

    @app.route("/report")
    def report() -> str:
        user = session.get("user_id")  # a page that only reads the session
        opened.set()
        assert logged_out.wait(5)
        push("/static/chart.js", as_="script")  # new to this client: recorded
        return f"<p>report for {user}</p>"

    browser = app.test_client()
    browser.get("/login")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    # A second tab of the same browser loads a report while the first signs out.
    tab = app.test_client()
    tab.set_cookie("session", cookie.value)
    reports: list[str] = []
    loading = threading.Thread(target=lambda: reports.append(tab.get("/report").text))
    loading.start()
    assert opened.wait(5)
    assert browser.get("/logout", follow_redirects=True).text == "None"
    logged_out.set()
    loading.join(5)
    assert reports == ["<p>report for 7</p>"]
    # The report's response comes last: what its cookie opens now is what the browser has.
    assert tab.get("/whoami").text == "None"
