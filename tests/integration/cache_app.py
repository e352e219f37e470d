"""The site the shared-cache tests serve: ``gunicorn cache_app:create_app()``.

Configured with ``FLASK_*`` environment variables holding JSON; ``FLASK_CACHE_CONNECTOR=
"session"`` keeps what each client holds in Flask's session (SessionConnector). Every view
takes a ``<name>`` so each test has paths of its own, cached by no other test.
"""

from __future__ import annotations

from flask import Flask, Response, request

from firehose_digest import Firehose, SessionConnector, push


def _push() -> None:
    push("/static/site.css", as_="style")
    push("/static/app.js", as_="script")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "shared-cache-integration"
    app.config["CACHE_CONNECTOR"] = "digest"
    app.config.from_prefixed_env()
    connector = SessionConnector() if app.config["CACHE_CONNECTOR"] == "session" else None
    Firehose(app, connector)

    @app.route("/plain/<name>")
    def plain(name: str) -> str:
        """Flask's default headers: no Cache-Control."""
        _push()
        return f"plain page {name}\n"

    @app.route("/public/<name>")
    def public(name: str) -> tuple[str, dict[str, str]]:
        """A page the app wants cached by anyone for a minute."""
        _push()
        return f"public page {name}\n", {"Cache-Control": "public, max-age=60"}

    @app.route("/etag/<name>")
    def etag(name: str) -> Response:
        """A page revalidated by its ETag on every use (``no-cache``; a name starting
        ``default``: Flask's default, no Cache-Control): 304 when unchanged."""
        _push()
        response = app.make_response(f"etag page {name}\n")
        if not name.startswith("default"):
            response.headers["Cache-Control"] = "public, no-cache"
        response.add_etag()
        response.make_conditional(request)  # in place
        return response

    @app.route("/compressed/<name>")
    def compressed(name: str) -> tuple[str, dict[str, str]]:
        """A page whose body depends on Accept-Encoding, as Flask-Compress marks it
        (``?merged=1``: its Vary names Cookie too; ``?links=0``: it pushes nothing)."""
        if request.args.get("links") != "0":
            _push()
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        body = f"{'GZIP' if gz else 'IDENTITY'} page {name}\n"
        vary = "Accept-Encoding, Cookie" if request.args.get("merged") else "Accept-Encoding"
        return body, {"Cache-Control": "public, max-age=60", "Vary": vary}

    @app.route("/two-vary-lines/<name>")
    def two_vary_lines(name: str) -> Response:
        """A public page whose ``Vary`` comes on two lines, ``Cookie`` first (the view's
        own ``headers.add``, then a hook's, as a CORS extension adds ``Origin``)."""
        _push()
        response = app.make_response(f"two lines page {name}\n")
        response.headers["Cache-Control"] = "public, max-age=60"
        response.headers.add("Vary", "Cookie")
        response.headers.add("Vary", "Origin")
        return response

    return app
