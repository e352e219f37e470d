"""A Flask-Firehose 0.2.3 app as its README writes one, moved to firehose_digest by its import.

``gunicorn 'tests.integration.migration_app:create_app()'``, configured with ``FLASK_*``
environment variables holding JSON:

- ``FLASK_MIGRATION_LIBRARY``: ``"flask_firehose"`` (the app before the move) or
  ``"firehose_digest"`` (after it: only the import changed);
- ``FLASK_MIGRATION_CONNECTOR``: ``"default"`` (each library's own), ``"flask-firehose"``
  (Flask-Firehose's session ``Connector``, kept as it is), ``"in-session"``
  (docs/connectors.md's ``PushedInSession``), ``"session"`` (``SessionConnector()``).

The pages are the example site's: ``/`` (its layout pushes the stylesheet and script from
the template, ``{{ push(url, as='style', rel='preload') }}``) and ``/browse/<n>`` (the view
pushes its 10 fingerprinted assets, ``push(url, **{'as': 'style', 'rel': 'preload'})``),
over the static folder the rig's fronts serve (``FLASK_SITE_STATIC_DIR``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string, url_for

from examples.site import browse_indices, site_files
from tests.helpers import ListInSession

LAYOUT = """<!doctype html>
{% set css_url = url_for('static', filename=css) %}
{% set js_url = url_for('static', filename=js) %}
<link rel="stylesheet" href="{{ push(css_url, as='style', rel='preload') }}">
<script defer src="{{ push(js_url, as='script', rel='preload') }}"></script>
<h1>{{ title }}</h1>
{% for url in urls %}<link rel="stylesheet" href="{{ url }}">{% endfor %}
"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "migration-secret-key"
    app.config.from_prefixed_env()
    library = app.config.get("MIGRATION_LIBRARY", "firehose_digest")
    choice = app.config.get("MIGRATION_CONNECTOR", "default")
    app.static_folder = app.config["SITE_STATIC_DIR"]
    css, js, _font, *assets = site_files(app.config.get("SITE_ASSETS", 300))

    if library == "flask_firehose":
        from flask_firehose import Firehose, push  # type: ignore[import-untyped]
    else:
        from firehose_digest import Firehose, push
    connector: Any = None
    if choice == "flask-firehose":
        from flask_firehose import Connector

        connector = Connector
    elif choice == "in-session":
        connector = ListInSession
    elif choice == "session":
        from firehose_digest import SessionConnector

        connector = SessionConnector()
    firehose = Firehose(connector=connector) if connector is not None else Firehose()
    firehose.init_app(app)

    @app.route("/")
    def index() -> str:
        return render_template_string(LAYOUT, css=css, js=js, title="home", urls=[])

    @app.route("/browse/<int:page>")
    def browse(page: int) -> str:
        urls = [
            push(url_for("static", filename=assets[i]), **{"as": "style", "rel": "preload"})
            for i in browse_indices(page, len(assets))
        ]
        return render_template_string(LAYOUT, css=css, js=js, title=f"page {page}", urls=urls)

    return app
