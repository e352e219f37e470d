"""The site of the worker-model test: ``gunicorn 'tests.integration.green_app:create_app()'``.

Its views sleep between pushes (``time.sleep``, which gevent's monkey-patching turns into a
switch to another request), so the requests of many clients interleave inside one worker.
Configured with ``FLASK_*`` environment variables holding JSON (``FLASK_SECRET_KEY``,
``FLASK_FIREHOSE_EARLY_HINTS``).
"""

from __future__ import annotations

import time

from flask import Flask

from firehose_digest import Firehose, push

#: What ``/common`` pushes, in order; ``/subset/<mask>`` pushes those whose bit is set.
SHARED = [f"/static/shared-{number}.css" for number in range(8)]
#: Between two pushes: long enough for gevent to run another request's view meanwhile.
PAUSE = 0.001


def own_urls(client: int) -> list[str]:
    """What ``/own/<client>`` pushes: urls no other client's page names."""
    return [f"/static/c{client}-{number}.js" for number in range(4)]


def create_app() -> Flask:
    app = Flask(__name__, static_folder=None)
    # A lower false-positive rate than the default, so a client's digest holding another
    # client's url would be cross-talk, not chance (the capacity keeps the cookie in budget).
    app.config.update(FIREHOSE_FP_RATE=0.0001, FIREHOSE_CAPACITY=200)
    app.config.from_prefixed_env()
    Firehose(app)

    @app.route("/subset/<int:mask>")
    def subset(mask: int) -> str:
        for number, url in enumerate(SHARED):
            if mask >> number & 1:
                push(url, as_="style")
                time.sleep(PAUSE)
        return "<!doctype html><title>subset</title>\n"

    @app.route("/common")
    def common() -> str:
        time.sleep(5 * PAUSE)
        for url in SHARED:
            push(url, as_="style")
            time.sleep(PAUSE)
        return "<!doctype html><title>common</title>\n"

    @app.route("/own/<int:client>")
    def own(client: int) -> str:
        for url in own_urls(client):
            push(url, as_="script")
            time.sleep(PAUSE)
        return "<!doctype html><title>own</title>\n"

    return app
