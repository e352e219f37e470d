"""The site a real Chromium loads behind Apache: ``gunicorn browser_app:create_app()``.

Configured with ``FLASK_*`` environment variables holding JSON (``FLASK_FIREHOSE_EARLY_HINTS=
true``) and ``BROWSER_STATIC_DIR``, the folder holding ``a.css``..``d.css``. Apache serves that
folder at ``/static/`` itself; Flask serves it at ``/assets/`` (through Apache's proxy).

- ``/edge/<name>`` hints ``/static/a.css`` and ``/static/b.css`` with ``push()``: files the
  front serves.
- ``/app/<name>`` hints ``/assets/c.css?v=..`` and ``/assets/d.css?v=..`` with ``static_tag``:
  versioned files Flask serves ``immutable``.
- ``/declared/<name>`` and ``/declared-unversioned/<name>`` write ``static_tag("c.css")``
  too, and declare that file, so it is hinted before anything was learned: by name with
  ``@firehose.hints_static("c.css")`` (its versioned url), or with
  ``@firehose.hints("/assets/c.css", as_="style")`` (its unversioned url).
- Requests that are not a plain navigation of such a page, each from a page that uses
  neither ``a.css`` nor ``b.css``: ``/fetcher`` fetches ``/fragment`` (an htmx-style HTML
  fragment whose view pushes ``a.css`` and ``b.css``) with a synchronous XMLHttpRequest;
  ``/prefetcher?url=/edge/<name>&how=link|speculation`` prefetches that page with
  ``<link rel=prefetch>`` or Speculation Rules (its ``load`` held back by ``/slow``, an
  image served after 2 s); ``/bounce/<name>`` pushes both and redirects (302) to
  ``/edge/<name>``; ``/once/<name>`` pushes both and answers 200 the first time it is asked
  for in the process, 404 after (a page learned, then gone).
- Pages that link ``a.css`` and ``b.css`` but are not shown: ``/attachment/<name>`` answers
  ``Content-Disposition: attachment`` (``/exported/<name>`` too, but for its first
  request, which it answers as a page), ``/unframed/<name>`` ``X-Frame-Options: DENY``
  (``/prefetcher?url=...&how=frame`` puts either in an iframe). ``/installer?kind=offline``
  installs a service worker for ``/sw/offline/`` (and says ``data-preload="enabled"`` on
  its ``<html>`` once the worker is active with it): it enables Navigation Preload, then
  answers every navigation with a page of its own; ``/sw/offline/<name>`` is the page the
  preload asks for. ``kind=preload`` installs one for ``/sw/preload/`` that answers with
  the preload's response. ``how=prerender`` makes ``/prefetcher`` prerender its url.
- A 103 the extension would not send there, sent by the view itself (not learned):
  ``/sw/<kind>/hinted/<name>`` sends one of ``a.css`` and ``b.css``, then the page;
  ``/hinted/<status>/<name>`` sends it, then a 204 or a redirect (``status``) to
  ``/edge/<name>``.

Each view thinks :data:`THINK_SECONDS`, the time a 103 gives the browser (``/hinted/``:
:data:`NO_PAGE_THINK_SECONDS`). Every page reports,
on ``load``, its navigation entry and its Resource Timing entries as JSON in
``<pre id="timing">``, which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, abort, redirect, render_template_string, request
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from firehose_digest import Firehose, push

#: How long a view works before answering.
THINK_SECONDS = 0.4
#: How long ``/hinted/<status>/`` works: its 204 ends the navigation, and what its 103 names
#: is fetched only if requested before then, with no page to fetch it later. At 0.4 s the
#: 204 case failed twice in full runs on a loaded 2-core machine (no request for either
#: file logged), and passed alone.
NO_PAGE_THINK_SECONDS = 1.5
#: How long every request to the app waits before it is handled, standing in for a network
#: round trip (Apache's own ``/static/`` files have none). For a navigation it matters
#: twice: on loopback a 103 can reach Chromium before it has finished sending its own
#: request, and Chromium then drops it (a race of 1-3 ms).
ROUND_TRIP_SECONDS = 0.03

PAGE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>{{ name }}</title>
{{ styles }}
</head>
<body>
<p class="done">{{ name }}</p>
<pre id="timing"></pre>
<script>
addEventListener("load", () => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const report = {
    navigation: {
      firstInterimResponseStart: navigation.firstInterimResponseStart || 0,
      finalResponseHeadersStart: navigation.finalResponseHeadersStart || 0,
      responseStart: navigation.responseStart,
      loadEventStart: navigation.loadEventStart,
      nextHopProtocol: navigation.nextHopProtocol,
    },
    resources: performance.getEntriesByType("resource").map((entry) => ({
      name: entry.name,
      initiatorType: entry.initiatorType,
      startTime: entry.startTime,
      responseEnd: entry.responseEnd,
      transferSize: entry.transferSize,
    })),
  };
  document.getElementById("timing").textContent = JSON.stringify(report);
});
</script>
</body>
</html>
"""


def edge_page(name: str) -> str:
    """The page ``name``, pushing and linking the stylesheets Apache serves."""
    styles = Markup("\n").join(
        Markup('<link rel="stylesheet" href="{}">').format(push(url, as_="style"))
        for url in ("/static/a.css", "/static/b.css")
    )
    return render_template_string(PAGE, name=name, styles=styles)


def static_page(name: str) -> str:
    """The page ``name``, linking ``c.css`` with ``static_tag`` (its versioned url)."""
    styles = Markup(render_template_string("{{ static_tag('c.css') }}"))
    return render_template_string(PAGE, name=name, styles=styles)


def send_hints_by_hand() -> None:
    """A 103 of ``a.css`` and ``b.css``, sent by the view itself: what Chromium does with
    a 103 the extension would not send, or not there."""
    request.environ["wsgi.early_hints"](
        [("Link", f"<{url}>; rel=preload; as=style") for url in ("/static/a.css", "/static/b.css")]
    )


def create_app() -> Flask:
    app = Flask(
        __name__, static_folder=os.environ["BROWSER_STATIC_DIR"], static_url_path="/assets"
    )
    app.config["SECRET_KEY"] = "browser-integration"
    app.config.from_prefixed_env()

    # Registered before Firehose's own hook, so it runs before the 103 is sent.
    @app.before_request
    def round_trip() -> None:
        time.sleep(ROUND_TRIP_SECONDS)

    firehose = Firehose(app)

    @app.route("/edge/<name>")
    def edge(name: str) -> str:
        time.sleep(THINK_SECONDS)
        return edge_page(name)

    @app.route("/app/<name>")
    def assets(name: str) -> str:
        time.sleep(THINK_SECONDS)
        styles = Markup(
            render_template_string("{{ static_tag('c.css') }}\n{{ static_tag('d.css') }}")
        )
        return render_template_string(PAGE, name=name, styles=styles)

    @app.route("/declared/<name>")
    @firehose.hints_static("c.css")
    def declared(name: str) -> str:
        time.sleep(THINK_SECONDS)
        return static_page(name)

    @app.route("/declared-unversioned/<name>")
    @firehose.hints("/assets/c.css", as_="style")
    def declared_unversioned(name: str) -> str:
        time.sleep(THINK_SECONDS)
        return static_page(name)

    @app.route("/fragment")
    def fragment() -> str:
        return "".join(
            f'<link rel="stylesheet" href="{push(url, as_="style")}">'
            for url in ("/static/a.css", "/static/b.css")
        )

    @app.route("/fetcher")
    def fetcher() -> str:
        script = Markup(
            "<script>const x = new XMLHttpRequest(); x.open('GET', '/fragment', false);"
            " x.send();</script>"
        )
        return render_template_string(PAGE, name="fetcher", styles=script)

    @app.route("/prefetcher")
    def prefetcher() -> str:
        url = request.args["url"]
        how = request.args["how"]
        if how == "link":
            hint = Markup('<link rel="prefetch" href="{}">').format(url)
        elif how == "frame":
            hint = Markup('<iframe src="{}"></iframe>').format(url)
        else:
            action = "prerender" if how == "prerender" else "prefetch"
            rules = Markup('{"%s": [{"source": "list", "urls": ["%s"]}]}') % (action, url)
            hint = Markup('<script type="speculationrules">{}</script>').format(rules)
        return render_template_string(
            PAGE, name="prefetcher", styles=hint + Markup('<img src="/slow" alt="">')
        )

    @app.route("/slow")
    def slow() -> Response:
        time.sleep(2)
        return Response(GIF, content_type="image/gif")

    served_once: set[str] = set()

    @app.route("/once/<name>")
    def once(name: str) -> str:
        if name in served_once:
            abort(404)
        served_once.add(name)
        return edge_page(name)

    @app.route("/attachment/<name>")
    def attachment(name: str) -> Response:
        """The page, saved as a file: an HTML export a browser downloads, not shows."""
        time.sleep(THINK_SECONDS)
        page = edge_page(name)
        disposition = f'attachment; filename="{name}.html"'
        return Response(page, headers={"Content-Disposition": disposition})

    shown_once: set[str] = set()

    @app.route("/exported/<name>")
    def exported(name: str) -> Response | str:
        """The page, shown the first time it is asked for in the process (so learned as
        one), then saved as a file: a url that became an HTML export."""
        if name not in shown_once:
            shown_once.add(name)
            return edge_page(name)
        return attachment(name)

    @app.route("/unframed/<name>")
    def unframed(name: str) -> Response:
        """The page, refusing to be framed: a browser shows nothing of it in an iframe."""
        page = edge_page(name)
        return Response(page, headers={"X-Frame-Options": "DENY"})

    @app.route("/sw/<kind>/worker.js")
    def worker(kind: str) -> Response:
        """A service worker for the pages under ``/sw/<kind>/``, taking over at once."""
        return Response(
            "addEventListener('install', () => skipWaiting());\n"
            "addEventListener('activate', (event) => event.waitUntil(clients.claim()"
            ".then(() => registration.navigationPreload.enable())));\n" + WORKERS[kind],
            content_type="text/javascript",
        )

    @app.route("/sw/<kind>/<name>")
    def controlled(kind: str, name: str) -> str:
        return edge_page(name)

    @app.route("/sw/<kind>/hinted/<name>")
    def controlled_hinted(kind: str, name: str) -> str:
        send_hints_by_hand()
        time.sleep(THINK_SECONDS)
        return edge_page(name)

    @app.route("/installer")
    def installer() -> str:
        # Registers the worker, and marks <html data-preload="enabled"> once it is active
        # with Navigation Preload on: activation may outlast the page's load (/slow, 2 s)
        # on a loaded machine, and a worker without it sends no preload request.
        script = Markup(
            "<script>navigator.serviceWorker.register('/sw/%(kind)s/worker.js');"
            "(function check() { navigator.serviceWorker.getRegistration('/sw/%(kind)s/')"
            ".then((r) => r && r.active && r.navigationPreload.getState())"
            ".then((state) => { if (state && state.enabled) "
            "document.documentElement.dataset.preload = 'enabled'; "
            "else setTimeout(check, 100); }); })();</script>"
        ) % {"kind": request.args["kind"]}
        return render_template_string(
            PAGE, name="installer", styles=script + Markup('<img src="/slow" alt="">')
        )

    @app.route("/hinted/<int:status>/<name>")
    def hinted(status: int, name: str) -> WerkzeugResponse:
        """A 103 sent by hand, then a 204 or a redirect to ``/edge/<name>``."""
        send_hints_by_hand()
        time.sleep(NO_PAGE_THINK_SECONDS)
        if status == 204:
            return Response(status=204)
        return redirect(f"/edge/{name}", status)

    @app.route("/bounce/<name>")
    def bounce(name: str) -> WerkzeugResponse:
        for url in ("/static/a.css", "/static/b.css"):
            push(url, as_="style")
        return redirect(f"/edge/{name}", 302)

    return app


#: What each service worker does with a navigation: ``offline`` answers with a page of its
#: own, leaving unused the navigation preload it enabled (its request is still sent);
#: ``preload`` answers with the preload's response.
WORKERS = {
    "preload": "addEventListener('fetch', (event) => {\n"
    "  if (event.request.mode !== 'navigate') return;\n"
    # No preload, no page: a fetch() of its own would be another request than a preload.
    "  event.respondWith(event.preloadResponse.then((r) => r ||"
    " new Response('no navigation preload', {status: 500})));\n"
    "});\n",
    "offline": "addEventListener('fetch', (event) => {\n"
    "  if (event.request.mode !== 'navigate') return;\n"
    # /slow holds the page's load 2 s: the browser, quitting at load, would cancel a
    # preload request not yet sent on a loaded machine.
    "  event.respondWith(new Response('<!doctype html><p>offline</p>"
    '<img src="/slow" alt="">\','
    " {headers: {'Content-Type': 'text/html'}}));\n"
    "});\n",
}

#: A 1x1 transparent GIF.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)
