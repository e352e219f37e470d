"""The site the uWSGI tests serve: ``tests.integration.uwsgi_app:app``.

A page pushes a file by url and a static file by its version, and counts its visits in a
permanent Flask session, so a test sees whether the digest was read (``nopush``), whether
the session survived, and a versioned file served beside the session's cookie. The static
folder is ``UWSGI_APP_STATIC``.
"""

from __future__ import annotations

import os

from flask import Flask, session

from firehose_digest import Firehose, push
from firehose_digest.static import push_static

SECRET_KEY = "uwsgi-integration"


def create_app(static_folder: str) -> Flask:
    app = Flask(__name__, static_folder=static_folder)
    app.config["SECRET_KEY"] = SECRET_KEY
    Firehose(app)

    @app.route("/page/<name>")
    def page(name: str) -> str:
        push("/static/app.js", as_="script")
        push_static("site.css")
        session.permanent = True  # its cookie is written on every response, static ones too
        session["visits"] = session.get("visits", 0) + 1
        return f"page {name} visits={session['visits']}\n"

    return app


# Made as uWSGI imports the module (the test sets the folder), not as the test does.
if "UWSGI_APP_STATIC" in os.environ:
    app = create_app(os.environ["UWSGI_APP_STATIC"])
