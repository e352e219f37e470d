"""The site the Early Hints tests serve with gunicorn: ``gunicorn hints_app:create_app()``.

Configured with ``FLASK_*`` environment variables holding JSON (``FLASK_FIREHOSE_EARLY_HINTS=
true``, ``FLASK_FIREHOSE_EARLY_HINTS_CACHE=2``). Every view takes a ``<name>`` so each test
has paths of its own, learned by no other test.
"""

from __future__ import annotations

import time

from flask import Flask, request

from firehose_digest import Firehose, push

#: How long ``/slow/<name>`` works before answering: the time a 103 lets a browser win.
SLOW_SECONDS = 0.2


def _push(which: str) -> None:
    if which == "css":
        push("/static/site.css", as_="style")
    elif which == "js":
        push("/static/app.js", as_="script")
    elif which == "font":
        push("/static/inter.woff2", "crossorigin", as_="font", type="font/woff2")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "early-hints-integration"
    app.config.from_prefixed_env()
    firehose = Firehose(app)

    @app.route("/page/<name>")
    def page(name: str) -> str:
        """Pushes what ``?r=`` names (css, js, font), by default the stylesheet and script."""
        for which in request.args.getlist("r") or ["css", "js"]:
            _push(which)
        return f"page {name}\n"

    @app.route("/nopush/<name>")
    def nopush(name: str) -> str:
        """Links the stylesheet and script, each ``nopush``: nothing to record."""
        push("/static/site.css", "nopush", as_="style")
        push("/static/app.js", "nopush", as_="script")
        return f"nopush page {name}\n"

    @app.route("/slow/<name>")
    def slow(name: str) -> str:
        time.sleep(SLOW_SECONDS)
        _push("css")
        _push("js")
        return f"slow page {name}\n"

    @app.route("/declared/<name>")
    @firehose.hints("/static/inter.woff2", "crossorigin", as_="font", type="font/woff2")
    def declared(name: str) -> str:
        _push("css")
        return f"declared page {name}\n"

    return app
