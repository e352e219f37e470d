"""The site of the edge-case browse: ``gunicorn 'tests.integration.edge_app:create_app()'``.

The real extension (``Firehose(app)``, the default ``DigestConnector``) on pages that push
in every way a proxy may treat differently: each view calls ``push()`` for the urls
:func:`page_links` names, then answers with its case's status. Any other path is a small
stylesheet, what a proxy fetches for a push (``/static/…`` too, for Apache, which proxies
it; nginx and h2o serve it from their static folder).

Configured with ``FLASK_*`` environment variables holding JSON (``FLASK_SECRET_KEY``,
``FLASK_FIREHOSE_EARLY_HINTS``).
"""

from __future__ import annotations

from flask import Flask, Response, abort, make_response, redirect, request
from flask.typing import ResponseReturnValue

from firehose_digest import Firehose, push

#: The entity tag of ``/etag/<name>``: a request with ``If-None-Match`` holding it gets 304.
ETAG = "edge-v1"
#: How many fingerprinted stylesheets ``/assets`` preloads: about 85 used to make nginx
#: answer 502 on a return visit (each ``; nopush`` adds 8 bytes to a 4 KB header buffer).
FINGERPRINTED = 85
#: How many new resources ``/fifteen`` pushes: more than ``FIREHOSE_MAX_PUSHES`` (10).
MANY = 15
#: The other origin ``/forms`` links to: no proxy may push it.
OTHER_ORIGIN = "https://cdn.example"
#: What a layout pushes on every request with ``FLASK_EDGE_LAYOUT=true``, from a
#: ``before_request`` hook: Flask runs it for the view serving ``/res/...`` too.
LAYOUT = "/res/layout.css"
#: What ``/own-link/<name>`` preloads in a ``Link`` header of its own, not with push().
OWN_PRELOAD = "/res/own-hero.css"
#: How many new resources ``/own-link/own`` pushes: ``FIREHOSE_MAX_PUSHES``, nginx's 10.
OWN_PUSHES = 10


#: What ``/cuts/<name>`` pushes, in order, with its ``as``: plain preloads
#: around urls no proxy may be offered (docs/proxies.md): never pushed, and those h2o cuts
#: a ``Link`` value at written last.
CUT_PAGE: list[tuple[str, str]] = [
    ("/res/cut-first.css", "style"),
    ("/res/w_100,h_100/cut.css", "style"),  # h2o reads no link from a "," in a url
    ("/res/cut;v=1.css", "style"),  # nor from a ";"
    ("/res/50%off.css", "style"),  # nginx resets the page for a stray "%"
    ("/res/%2F..%2F..%2Fcut.css", "style"),  # and for "%2F.." above the root
    ("/res/cut-after.css", "style"),
    ("/res/cut-last.js", "script"),
]
#: Of ``CUT_PAGE``, what every proxy pushes.
CUT_PAGE_PUSHED = ["/res/cut-first.css", "/res/cut-after.css", "/res/cut-last.js"]


def fingerprinted(number: int) -> str:
    """The ``number``-th fingerprinted asset, as the proxies' static folder holds it."""
    return f"/static/assets/r{number:03}.0123456789.css"


def page_links(name: str, authority: str = "") -> list[str]:
    """The urls a page pushes, in push order.

    ``/page/<name>``, ``/missing/<name>``, ``/broken/<name>``, ``/status/<code>/<name>`` and
    ``/etag/<name>`` and ``/gone/<name>`` all push ``page_links(name)``: a site's error pages
    carry its layout too. ``forms`` links the four url forms of this origin and one url of
    another; ``authority`` is the proxy's ``host:port`` (the backend cannot learn it: nginx
    forwards ``$host`` without the port, h2o and Apache the backend's own).
    """
    if name == "forms":
        return [
            f"https://{authority}/res/forms-absolute.css",
            f"//{authority}/res/forms-scheme-relative.css",
            "rel/forms-relative.css",
            "/res/forms-path-absolute.css",
            f"{OTHER_ORIGIN}/res/forms-other-origin.css",
        ]
    if name == "fifteen":
        return [f"/res/many-{number:02}.css" for number in range(MANY)]
    if name == "own":
        return [f"/res/own-{number:02}.css" for number in range(OWN_PUSHES)]
    if name == "assets":
        return [fingerprinted(number) for number in range(FINGERPRINTED)]
    return ["/res/site.css", f"/res/{name}.css", f"/res/{name}.js"]


def _push_page(name: str) -> None:
    for url in page_links(name, request.args.get("authority", "")):
        push(url, as_="script" if url.endswith(".js") else "style")


def create_app() -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_prefixed_env()
    Firehose(app)
    # The urls of /gone/<name> asked for so far (path and query).
    asked: set[str] = set()

    if app.config.get("EDGE_LAYOUT"):

        @app.before_request
        def layout() -> None:
            push(LAYOUT, as_="style")

    @app.route("/page/<name>")  # HEAD too: Flask answers it with the GET view
    def page(name: str) -> str:
        _push_page(name)
        return f"page {name}\n"

    @app.route("/missing/<name>")
    def missing(name: str) -> str:
        _push_page(name)
        abort(404)

    @app.route("/broken/<name>")
    def broken(name: str) -> str:
        _push_page(name)
        raise RuntimeError(f"/broken/{name} fails on purpose")

    @app.route("/status/<int:code>/<name>")
    def status(code: int, name: str) -> ResponseReturnValue:
        _push_page(name)
        if code in (301, 302, 303, 307, 308):
            return redirect("/page/home", code)
        return make_response("" if code == 204 else f"status {code}\n", code)

    @app.route("/etag/<name>")
    def etag(name: str) -> ResponseReturnValue:
        _push_page(name)
        response = make_response(f"etag {name}\n")
        response.set_etag(ETAG)
        return response.make_conditional(request)

    @app.route("/gone/<name>")
    def gone(name: str) -> str:
        """A page removed once it was seen: 200 the first time its url is asked, then 404."""
        _push_page(name)
        if request.full_path in asked:
            abort(404)
        asked.add(request.full_path)
        return f"gone {name}\n"

    @app.route("/own-link/<name>")
    def own_link(name: str) -> ResponseReturnValue:
        """A page that also writes a preload ``Link`` header of its own."""
        _push_page(name)
        return f"own link {name}\n", {"Link": f"<{OWN_PRELOAD}>; rel=preload; as=style"}

    @app.route("/cuts/<name>")
    def cuts(name: str) -> str:
        for url, as_ in CUT_PAGE:
            push(url, as_=as_)
        return f"cuts {name}\n"

    @app.route("/<path:resource>")
    def resource(resource: str) -> Response:
        """A file a view serves: what a proxy asks for to push it, with no ``Cookie``."""
        return Response(f"/* {resource} */\n", content_type="text/css")

    return app
