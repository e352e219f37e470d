"""The site the WSGI-server tests serve: ``tests.integration.cookie_app:create_app()``.

A page pushes two files and counts its visits in Flask's (permanent) session, so a test
sees both whether the digest was read (``nopush``) and whether Flask's session survived
the way the server handed the app the ``Cookie`` header.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask, request, session

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

    @app.route("/seen/<name>")
    def seen(name: str) -> Any:
        """What the app read of cookie ``name``, hex-encoded in a ``seen`` cookie (so the
        test's client reads it back unquoted); ``-`` if it read none."""
        value = request.cookies.get(name)
        response = app.make_response(f"seen {name}\n")
        response.set_cookie("seen", "-" if value is None else value.encode().hex())
        return response

    return app


def create_asgi_app() -> Any:
    """``create_app()`` as an ASGI app, through ``a2wsgi.WSGIMiddleware``: how a Flask app is
    served by an ASGI server (uvicorn, granian's ``asgi`` interface) or mounted beside an
    ASGI app (FastAPI's advice)."""
    # Imported by name: a2wsgi is no dependency of the project, only of this test.
    wsgi_middleware: Any = importlib.import_module("a2wsgi").WSGIMiddleware
    return wsgi_middleware(create_app())
