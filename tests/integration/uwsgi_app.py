"""The site the uWSGI tests serve: ``tests.integration.uwsgi_app:app`` (test_rig.py's too,
under gunicorn).

A page pushes a file by url and a static file by its version, and counts its visits in a
permanent Flask session, so a test sees whether the digest was read (``nopush``), whether
the session survived, and a versioned file served beside the session's cookie;
``/headers/<size>`` answers with header lines of ``size`` bytes, pushing nothing;
``/stall/<seconds>`` answers its head at once and its body ``seconds`` later. The static
folder is ``UWSGI_APP_STATIC``. With ``UWSGI_APP_HOLD_LOCK`` set, the import returns while
a thread holds a cache's lock (a page warmed in a thread at start-up), so that a uWSGI
master without ``--lazy-apps`` forks its workers meanwhile.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

from flask import Flask, Response, make_response, session

from firehose_digest import Firehose, push
from firehose_digest.static import push_static

SECRET_KEY = "uwsgi-integration"
#: Seconds the thread holds the lock: uWSGI forks its workers right after the import.
HOLD = 1.0


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

    @app.route("/headers/<int:size>")
    def headers(size: int) -> Response:
        """A response whose header lines, each ``Name: value`` and its CRLF, take ``size``
        bytes: the view's own and an ``X-Fill`` line to make up the rest."""
        response = make_response("whole\n")
        taken = sum(len(f"{name}: {value}\r\n") for name, value in response.headers.items())
        response.headers["X-Fill"] = "x" * (size - taken - len("X-Fill: \r\n"))
        return response

    @app.route("/stall/<int:seconds>")
    def stall(seconds: int) -> Response:
        """The head at once (gunicorn sends it at the first chunk, even an empty one), the
        body ``seconds`` later: a server gone quiet in the middle of its answer."""

        def body() -> Iterator[str]:
            yield ""
            time.sleep(seconds)
            yield "late\n"

        return Response(body())

    return app


def hold_a_lock_meanwhile(app: Flask) -> None:
    """Return once a thread holds the link plans' lock, for :data:`HOLD` seconds."""
    lock = app.extensions["firehose"].planner._lock
    held = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            time.sleep(HOLD)

    threading.Thread(target=hold, daemon=True).start()
    held.wait()


# Made as uWSGI imports the module (the test sets the folder), not as the test does.
if "UWSGI_APP_STATIC" in os.environ:
    app = create_app(os.environ["UWSGI_APP_STATIC"])
    if os.environ.get("UWSGI_APP_HOLD_LOCK"):
        hold_a_lock_meanwhile(app)
