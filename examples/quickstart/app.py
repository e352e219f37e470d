"""The smallest app that uses firehose_digest: a page that preloads its stylesheet and script.

Run it with ``gunicorn --chdir examples/quickstart app:app`` and load ``/`` twice: the
first response's ``Link`` header preloads (and lets a push proxy push) both files, the
second marks them ``nopush``, as the signed ``h2-digest`` cookie says the client has them.
The README shows this file and its template; tests/test_docs.py keeps them equal.
"""

from __future__ import annotations

from flask import Flask, render_template, url_for

from firehose_digest import Firehose, push

app = Flask(__name__)
# The digest cookie is signed with SECRET_KEY: set FLASK_SECRET_KEY outside development.
app.config["SECRET_KEY"] = "dev-only-secret"
# Every FLASK_* environment variable sets a key: FLASK_FIREHOSE_EARLY_HINTS=true sends 103s.
app.config.from_prefixed_env()
Firehose(app)


@app.route("/")
def index() -> str:
    # A view pushes with push(url, as_=...); its template pushes the stylesheet itself.
    push(url_for("static", filename="app.js"), as_="script")
    return render_template("index.html")
