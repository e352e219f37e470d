"""A site whose session is ``SameSite=Strict``, reached from another site.

``/a`` pushes ``a.css`` and starts a lasting session; ``/go?to=URL``, loaded from the
other site, navigates there as a page's script does; ``/b`` pushes ``b.css`` and shows
which of our cookies the navigation sent; ``/held`` shows what the digest holds.
"""

from __future__ import annotations

import json

from flask import Flask, request, session
from markupsafe import escape

from firehose_digest import DigestConnector, Firehose, push

COOKIE = "h2-digest"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="samesite test", SESSION_COOKIE_SAMESITE="Strict")
    connector = DigestConnector()
    Firehose(app, connector=connector)

    @app.route("/a")
    def a() -> str:
        session.permanent = True  # kept on disk between the browser's runs
        session["seen"] = True
        push("/static/a.css", as_="style")
        return "<p>a</p>"

    @app.route("/go")
    def go() -> str:
        return f"<script>location.href = {json.dumps(request.args['to'])}</script>"

    @app.route("/b")
    def b() -> str:
        push("/static/b.css", as_="style")
        sent = {name: name in request.cookies for name in ("session", COOKIE)}
        return f'<pre id="sent">{escape(json.dumps(sent))}</pre>'

    @app.route("/held")
    def held() -> str:
        holder = connector.open(app, request)
        assert holder is not None
        answers = {name: f"/static/{name}" in holder for name in ("a.css", "b.css")}
        return f'<pre id="held">{escape(json.dumps(answers))}</pre>'

    return app
