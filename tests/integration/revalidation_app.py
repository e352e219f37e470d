"""The site of ``tests/integration/test_revalidation.py``: a page a browser revalidates.

``/page`` pushes ``/style.css`` and answers with an ``ETag`` and ``Cache-Control:
no-cache``: a browser holding it asks again on each visit (``If-None-Match``) and gets a
304. ``/style.css`` is fresh for an hour, so it is fetched once. Configured with
``FLASK_*`` environment variables holding JSON (``FLASK_FIREHOSE_MAX_AGE``).

Each response, as it leaves the app with the digest's ``Set-Cookie`` in it, is written as
one JSON line (:class:`Logged`) to the file ``REVALIDATION_LOG`` names: an
``after_request`` hook sees no digest cookie, which is set after every hook.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

from firehose_digest import Firehose, push

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

LOG_VARIABLE = "REVALIDATION_LOG"
#: The page's entity tag: a request with ``If-None-Match`` holding it gets the 304.
ETAG = "page-v1"


@dataclass(frozen=True)
class Logged:
    """One request and its answer, as the server saw them."""

    #: Unix time the response started, its headers final.
    time: float
    path: str
    status: int
    #: The request's ``Cookie`` and ``If-None-Match`` headers, "" when absent.
    cookie: str
    if_none_match: str
    #: The response's ``Set-Cookie`` lines.
    set_cookie: list[str]


class ResponseLog:
    """WSGI middleware writing each response's :class:`Logged` line to ``path``."""

    def __init__(self, wsgi_app: WSGIApplication, path: Path) -> None:
        self.wsgi_app = wsgi_app
        self.path = path
        self.lock = threading.Lock()  # gunicorn's threads share the file

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def logging_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            logged = Logged(
                time=time.time(),
                path=str(environ.get("PATH_INFO", "")),
                status=int(status.split()[0]),
                cookie=str(environ.get("HTTP_COOKIE", "")),
                if_none_match=str(environ.get("HTTP_IF_NONE_MATCH", "")),
                set_cookie=[value for name, value in headers if name.lower() == "set-cookie"],
            )
            with self.lock, self.path.open("a") as log:
                log.write(json.dumps(asdict(logged)) + "\n")
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, logging_start_response)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "revalidation-integration"
    app.config.from_prefixed_env()
    Firehose(app)
    # Outside the extension's own wrapper, so the digest's Set-Cookie is in the headers.
    app.wsgi_app = ResponseLog(app.wsgi_app, Path(os.environ[LOG_VARIABLE]))  # type: ignore[method-assign]

    @app.route("/page")
    def page() -> ResponseReturnValue:
        push("/style.css", as_="style")
        response = app.make_response('<link rel="stylesheet" href="/style.css"><p>page</p>')
        response.headers["Cache-Control"] = "no-cache"
        response.set_etag(ETAG)
        return response.make_conditional(request)

    @app.route("/style.css")
    def style() -> tuple[str, dict[str, str]]:
        return "p { color: green }\n", {
            "Content-Type": "text/css",
            "Cache-Control": "max-age=3600",
        }

    return app
