"""The app of the logging test (``tests/integration/test_wsgi_servers.py``): a page that
pushes, through a connector whose store is down, so each request logs its failure; and a
misspelt setting, which ``init_app`` warns of as the module is imported."""

from __future__ import annotations

from collections.abc import Container

from flask import Flask, Request, Response

from firehose_digest import Firehose, push


class StoreDown:
    """A connector whose store cannot be reached: ``open()`` raises on every request."""

    def open(self, app: Flask, request: Request) -> Container[str] | None:
        raise ConnectionError("the push store at 127.0.0.1:1 refused the connection")

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        raise AssertionError("save() is never reached: open() failed")


app = Flask(__name__)
app.config["SECRET_KEY"] = "logs-integration"
# FIREHOSE_MAX_PUSHES, misspelt: init_app's warning comes before any request.
app.config["FIREHOSE_MAX_PUSH"] = 10
Firehose(app, connector=StoreDown())


@app.route("/")
def index() -> str:
    push("/static/site.css", as_="style")
    return "<!doctype html><title>logs</title>"
