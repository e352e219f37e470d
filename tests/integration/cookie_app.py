"""The site the WSGI-server tests serve: ``tests.integration.cookie_app:create_app()``.

A page pushes two files and counts its visits in Flask's (permanent) session, so a test
sees both whether the digest was read (``nopush``) and whether Flask's session survived
the way the server handed the app the ``Cookie`` header.
"""

from __future__ import annotations

from flask import Flask, session

from firehose_digest import Firehose, push

SECRET_KEY = "cookie-integration"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY
    app.config.from_prefixed_env()
    Firehose(app)

    @app.route("/page/<name>")
    def page(name: str) -> str:
        push("/static/site.css", as_="style")
        push("/static/app.js", as_="script")
        session.permanent = True  # kept past a browser run, as the digest is
        session["visits"] = session.get("visits", 0) + 1
        return f"page {name} visits={session['visits']}\n"

    return app
