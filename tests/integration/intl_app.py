"""A site pushing non-ASCII urls: ``gunicorn 'tests.integration.intl_app:create_app()'``.

``/page`` pushes each of :data:`PUSHED` written raw (``/static/café.css``), as a template
would; every other path answers a small stylesheet, what a proxy fetches to push.
"""

from __future__ import annotations

from flask import Flask, Response, url_for

from firehose_digest import Firehose, push

#: What ``/page`` pushes, as the view writes it (``url_for``'s own output last).
PUSHED = ["/static/café.css", "/static/日本.js?v=ü"]
#: The same urls as a browser requests them (WHATWG URL: non-ASCII as UTF-8, percent-encoded).
REQUESTED = [
    "/static/caf%C3%A9.css",
    "/static/%E6%97%A5%E6%9C%AC.js?v=%C3%BC",
    "/res/%C3%BCn%C3%AF.css",
]
#: What ``/chars`` pushes: each printable character the URL Standard percent-encodes in a
#: path or a query (or, for "|", Chromium 156 does while Firefox 153 does not).
CHARS_PUSHED = [
    "/static/a{b}.css",
    "/static/a^b.css",
    "/static/a|b.css",
    "/static/a`b.css",
    '/static/a"b.css',
    "/static/sp ace.css",
    "/static/q.css?x='y'",
    "/static/q.css?x={y}",
]
#: The same, as linked: as Firefox 153 requests them.
CHARS_REQUESTED = [
    "/static/a%7Bb%7D.css",
    "/static/a%5Eb.css",
    "/static/a|b.css",
    "/static/a%60b.css",
    "/static/a%22b.css",
    "/static/sp%20ace.css",
    "/static/q.css?x=%27y%27",
    "/static/q.css?x={y}",
]


def create_app() -> Flask:
    app = Flask(__name__, static_folder=None)  # Apache fetches /static/ from here
    app.config.from_prefixed_env()
    Firehose(app)

    @app.route("/page")
    def page() -> str:
        push(PUSHED[0], as_="style")
        push(PUSHED[1], as_="script")
        push(url_for("resource", name="ünï.css"), as_="style")
        return "<!doctype html><title>intl</title>\n"

    @app.route("/chars")
    def chars() -> str:
        for url in CHARS_PUSHED:
            push(url, as_="style")
        return "<!doctype html><title>chars</title>\n"

    @app.route("/res/<name>")
    def resource(name: str) -> Response:
        return Response(f"/* {name} */\n", content_type="text/css")

    @app.route("/<path:anything>")
    def anything(anything: str) -> Response:
        return Response(f"/* {anything} */\n", content_type="text/css")

    return app
