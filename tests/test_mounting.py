"""An app under a prefix, or with its cookies scoped to part of the site: a page the
browser sends no cookie to can record nothing, and must write nothing over what it holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from firehose_digest import DigestConnector, Firehose, SessionConnector, push

COOKIE = "h2-digest"


def link(url: str) -> str:
    return f"<{url}>; rel=preload; as=style"


def nopush(url: str) -> str:
    return f"{link(url)}; nopush"


def scoped_app(connector: Any = None, **config: Any) -> Flask:
    """A public page at ``/`` and an admin area at ``/admin/``, each pushing its files."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="mounting", **config)

    @app.route("/")
    def home() -> str:
        push("/static/site.css", as_="style")
        return "<p>home"

    @app.route("/admin/login")
    def login() -> str:
        session["user"] = "alice"
        return "<p>signed in"

    @app.route("/admin/")
    def admin() -> str:
        push("/static/site.css", as_="style")
        push("/static/admin.css", as_="style")
        return f"<p>{session.get('user')}"

    Firehose(app, connector=connector)
    return app


def visit(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    return response.headers["Link"].split(", ") if "Link" in response.headers else []


def flask_firehose_connector() -> Any:
    import flask_firehose  # type: ignore[import-untyped]  # in the test extras

    return flask_firehose.Connector


@pytest.mark.parametrize(
    "connector", [DigestConnector, SessionConnector, flask_firehose_connector]
)
def test_a_page_outside_the_cookie_path_pushes_nothing_and_keeps_what_is_held(
    connector: Any,
) -> None:
    """``SESSION_COOKIE_PATH = "/admin"`` (the session kept to the admin area; or an
    ``APPLICATION_ROOT`` that does not cover every url the app serves): the browser sends
    the cookie to ``/admin/...`` alone (RFC 6265 §5.1.4), so ``/`` was pushed
    ``site.css`` on every visit, and its ``Set-Cookie`` (``Path=/admin``) replaced the
    admin area's digest with one of ``/`` alone: ``admin.css`` was pushed again. With
    ``SessionConnector`` or Flask-Firehose's own connector, Flask's session written from
    ``/`` signed the user out of the admin area. A page whose cookie the browser does not
    send can record nothing: it pushes nothing, and writes no cookie."""
    client = scoped_app(connector(), SESSION_COOKIE_PATH="/admin").test_client()
    client.get("/admin/login")
    assert visit(client, "/admin/") == [link("/static/site.css"), link("/static/admin.css")]
    for _ in range(2):
        response = client.get("/")
        assert response.headers["Link"] == nopush("/static/site.css")
        assert "Set-Cookie" not in response.headers
    again = client.get("/admin/")
    assert again.headers["Link"].split(", ") == [
        nopush("/static/site.css"),
        nopush("/static/admin.css"),
    ]
    assert again.get_data(as_text=True) == "<p>alice"


def test_a_path_read_as_the_browser_sends_it() -> None:
    """A ``Path`` of non-ASCII characters is written percent-encoded (Werkzeug's
    ``dump_cookie``), as the browser sends the page's path: pages under it are in it."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="mounting", APPLICATION_ROOT="/café")

    @app.route("/")
    def home() -> str:
        push("/static/site.css", as_="style")
        return "<p>home"

    Firehose(app)
    client = app.test_client(use_cookies=False)  # its jar compares the path decoded
    first = client.get("/")
    assert first.headers["Link"] == link("/static/site.css")
    written = first.headers["Set-Cookie"]
    assert "Path=/caf%C3%A9" in written
    again = client.get("/", headers={"Cookie": written.split(";", 1)[0]})
    assert again.headers["Link"] == nopush("/static/site.css")
