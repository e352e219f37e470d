"""Request cost server-side: the app's WSGI callable, against the same headers written by hand.

The test client's cookie jar and response wrapping cost about as much as the extension, so
here each app is called as a server calls it: ``app(environ, start_response)`` with a copy
of one prebuilt environ, its body consumed and closed. The request is a return visit: the
``Cookie`` header holds a digest of 300 resources (made by 30 first visits of 10 pushes),
and the page pushes 10 of them, all held, so every link comes back ``nopush`` and no cookie
is set. The apps share their routes and ``SECRET_KEY``:

- *bare*: no extension, no ``Link``;
- *by hand*: the floor any ``push()`` API pays, the bare app adding the very ``Link`` value
  the extension writes and ``Vary: Cookie`` in an ``after_request`` hook; one per encoding,
  each sent that encoding's cookie (Bloom's is longer, and every app parses the header);
- *GCS*: the extension with the default ``DigestConnector``;
- *Bloom*: the same with ``FIREHOSE_ENCODING = "bloom"``;
- *GCS, rotated*: GCS for a client that has been sent more resources than a generation
  holds (450 first-visit urls, capacity 300), as any long-lived client has: its digest
  keeps two generations, so each return visit checks that the page's keys are in the
  current one; its floor is sent the same, longer, cookie;
- two reference rows that split GCS's cost: *a set as connector* (the
  extension's own work with the cheapest holder there is: ``open()`` returns a frozenset),
  and *GCS, holder found once* (``DigestConnector`` whose first answer is kept: the
  digest's membership answers, without finding the holder from the cookie each request;
  valid here only because the cookie never changes);
- a reference row for the floor of any design: *the least an extension does*, not
  this library but the fewest steps an extension that decides ``nopush`` from a cookie
  can take (:class:`_LeastExtension`): a WSGI wrapper that opens a record per request,
  ``push()`` appending to it, one ``after_request`` hook that finds the client's set of
  urls by its cookie value in a dict and writes each link, cached, as the response
  starts. No digest, no edge rules (HEAD, error statuses, static files, nested
  requests, the header budget, failing connectors), nothing saved: what the target
  leaves for all of those is 1.05 less its ratio;
- a reference row for the opt-in 103: *GCS, Early Hints on*, the same return visit as a
  navigation (``Sec-Fetch-Mode: navigate``) to a server offering ``wsgi.early_hints``:
  the page's links are learned, the client holds them all, so no 103 is sent (checked),
  but each request looks the page up and plans its 103.

The cookie is the one a client holds in the steady state: the return visit is repeated
until it sets no cookie (Bloom's first return visit at exactly 300 urls starts a new
generation, and so rewrites the cookie, once).

Rounds interleave the apps (each round starts one app further along, so each opens as many
rounds as any other); each round times ``calls`` requests per app with ``perf_counter_ns``,
the garbage collector off. The result is the median of the per-round ratios against *by
hand* (and against *bare*, for reference), so machine noise common to a round cancels.
Every response is checked right after its app's turn in the round (:func:`timed_calls`):
one for each request, status 200, exactly the expected ``Link`` values (the page's urls,
each ``nopush``), ``Vary: Cookie``, and no ``Set-Cookie``.

Only the public API is used (``Firehose``, ``push``, ``DigestConnector``, ``FIREHOSE_*``),
so the measure holds across rewrites of the internals.

Run: ``python -m bench.server_cost [--quick] [--rounds N] [--calls N]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Container, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, request
from werkzeug.test import EnvironBuilder

from firehose_digest import DigestConnector, Firehose, push

from .report import GENERATED, machine, markdown_table, write
from .request_cost import SECRET, asset_url, page_body

__all__ = [
    "APPS",
    "TARGET",
    "Cost",
    "WSGIApp",
    "main",
    "markdown",
    "measure",
    "return_visit",
    "run",
    "serve",
    "timed_calls",
]

REMEMBERED = 300
PUSHES = 10
#: Pages of the first visits that fill the digest, ``PUSHES`` urls each.
PRIME_PAGES = REMEMBERED // PUSHES
#: First-visit urls of the rotated client: past the default capacity (300), so its
#: digest has rotated once and holds two generations.
ROTATED_URLS = 450
#: Within 5% of the by-hand floor (docs/performance.md: past that, clarity wins).
TARGET = 1.05
APPS = (
    "bare",
    "by-hand",
    "gcs",
    "by-hand-bloom",
    "bloom",
    "by-hand-rotated",
    "gcs-rotated",
    "set",
    "gcs-found",
    "gcs-hints",
    "least",
)
LABELS = {
    "bare": "bare Flask app (no Link)",
    "by-hand": "Link and Vary by hand (GCS's cookie)",
    "gcs": "firehose_digest, GCS (default)",
    "by-hand-bloom": "Link and Vary by hand (Bloom's cookie)",
    "bloom": "firehose_digest, Bloom",
    "by-hand-rotated": "Link and Vary by hand (rotated cookie)",
    "gcs-rotated": "firehose_digest, GCS, rotated digest",
    "set": "reference: a set as connector",
    "gcs-found": "reference: GCS, holder found once",
    "gcs-hints": "reference: GCS, Early Hints on",
    "least": "reference: the least an extension does",
}
#: The extension's variants and their ``FIREHOSE_ENCODING``.
ENCODINGS = {"gcs": "gcs", "bloom": "bloom", "gcs-rotated": "gcs"}
#: The reference rows that run the extension ("least" runs none of it).
EXTENSION_REFERENCES = ("set", "gcs-found", "gcs-hints")
#: The reference rows, sent GCS's cookie and compared with its floor.
REFERENCES = (*EXTENSION_REFERENCES, "least")
#: The by-hand floor each app is compared with: the one sent the same cookie.
FLOOR = {
    "bare": "by-hand",
    "by-hand": "by-hand",
    "gcs": "by-hand",
    "by-hand-bloom": "by-hand-bloom",
    "bloom": "by-hand-bloom",
    "by-hand-rotated": "by-hand-rotated",
    "gcs-rotated": "by-hand-rotated",
    "set": "by-hand",
    "gcs-found": "by-hand",
    "gcs-hints": "by-hand",
    "least": "by-hand",
}
#: Return visits allowed to settle the cookie before it must stay as it is.
SETTLE = 3

Headers = list[tuple[str, str]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _urls(count: int = REMEMBERED) -> list[str]:
    return [asset_url(i) for i in range(count)]


class _InMemorySet:
    """A connector holding every url in a frozenset: what any holder costs at least."""

    def __init__(self, held: Iterable[str]) -> None:
        self.held = frozenset(held)

    def open(self, app: Flask, request: Request) -> frozenset[str]:
        return self.held

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: Sequence[str],
        reused: Sequence[str],
    ) -> None:
        """Nothing to write: every url is held already."""


class _FoundOnce(DigestConnector):
    """``DigestConnector``, its first answer kept for every later request.

    The bench's cookie never changes, so this is the digest's cost without finding the
    holder each request (reading the cookie, comparing the keys, looking the value up
    among the decoded digests, checking its expiry).
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: Container[str] | None = None

    def open(self, app: Flask, request: Request) -> Container[str] | None:
        if self.found is None:
            self.found = super().open(app, request)
        return self.found


class _LeastRecord:
    """One request of :class:`_LeastExtension`: the urls pushed, then the ``Link`` value."""

    __slots__ = ("link", "urls")

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.link: str | None = None


class _LeastExtension:
    """The fewest steps a cookie-keyed ``push()`` extension takes (the *least* row).

    Per request: a record opened by a WSGI wrapper (a context variable, as a ``push()``
    called from a template has no other way to reach it), ``push()`` appending to it, and
    one ``after_request`` hook that looks the client's holder up by its cookie value (as
    a cache of decoded digests would) and makes the ``Link`` value, added first, with
    ``Vary``, as the response starts. Every client is taken to hold ``held``.
    """

    def __init__(self, app: Flask, held: Iterable[str]) -> None:
        self.record: ContextVar[_LeastRecord | None] = ContextVar("least", default=None)
        self.held = frozenset(held)
        self.holders: dict[str | None, frozenset[str]] = {}
        self.links: dict[tuple[str, bool], str] = {}
        self.wsgi_app = app.wsgi_app
        app.wsgi_app = self  # type: ignore[method-assign]
        app.after_request(self.after_request)

    def push(self, url: str) -> str:
        record = self.record.get()
        if record is not None:
            record.urls.append(url)
        return url

    def after_request(self, response: Response) -> Response:
        record = self.record.get()
        if record is not None and record.urls:
            value = request.cookies.get("h2-digest")
            holder = self.holders.get(value)
            if holder is None:
                holder = self.holders[value] = self.held
            record.link = ", ".join([self._link(url, url in holder) for url in record.urls])
        return response

    def _link(self, url: str, held: bool) -> str:
        link = self.links.get((url, held))
        if link is None:
            link = self.links[url, held] = f"<{url}>; rel=preload; as=style" + (
                "; nopush" if held else ""
            )
        return link

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        record = _LeastRecord()

        def start(status: str, headers: Headers, exc_info: Any = None) -> Any:
            if record.link is not None:
                headers.insert(0, ("Link", record.link))
                headers.append(("Vary", "Cookie"))
            return start_response(status, headers, exc_info)

        token = self.record.set(record)
        try:
            return self.wsgi_app(environ, start)
        finally:
            self.record.reset(token)


def build(app_name: str, link_values: Sequence[str] = ()) -> Flask:
    """The site: ``/prime/<k>`` pushes the k-th ten urls, ``/page`` the first ten.

    ``by-hand`` adds ``link_values`` and ``Vary: Cookie`` itself; ``bare`` adds nothing.
    """
    app = Flask(f"server-cost-{app_name}")
    app.config["SECRET_KEY"] = SECRET
    urls = _urls(ROTATED_URLS)
    page = urls[:PUSHES]
    extension = app_name in ENCODINGS or app_name in EXTENSION_REFERENCES
    least = _LeastExtension(app, _urls()) if app_name == "least" else None
    if app_name in ENCODINGS:
        app.config["FIREHOSE_ENCODING"] = ENCODINGS[app_name]
        Firehose(app, connector=DigestConnector())
    elif app_name == "set":
        Firehose(app, connector=_InMemorySet(_urls()))
    elif app_name == "gcs-found":
        Firehose(app, connector=_FoundOnce())
    elif app_name == "gcs-hints":
        app.config["FIREHOSE_EARLY_HINTS"] = True
        Firehose(app, connector=DigestConnector())

    @app.route("/prime/<int:k>")
    def prime(k: int) -> str:
        chunk = urls[k * PUSHES : (k + 1) * PUSHES]
        if extension:
            for url in chunk:
                push(url, as_="style")
        return page_body(chunk)

    # Each view calls push() itself, as an app does: a wrapper would be charged to us.
    @app.route("/page")
    def page_view() -> str:
        if extension:
            for url in page:
                push(url, as_="style")
        elif least is not None:
            for url in page:
                least.push(url)
        return page_body(page)

    if app_name.startswith("by-hand"):

        @app.after_request
        def add_headers(response: Response) -> Response:
            for value in link_values:
                response.headers.add("Link", value)
            response.headers.add("Vary", "Cookie")
            return response

    return app


def expected_links() -> list[tuple[str, frozenset[str]]]:
    """The page's links on a return visit: each url, a preload, already held (nopush)."""
    params = frozenset({"rel=preload", "as=style", "nopush"})
    return [(f"<{url}>", params) for url in _urls()[:PUSHES]]


def parse_links(values: Iterable[str]) -> list[tuple[str, frozenset[str]]]:
    """``Link`` field values as (target, parameters), in order; our urls hold no ',' or ';'."""
    links = []
    for value in values:
        for link in value.split(","):
            target, *params = (part.strip() for part in link.split(";"))
            links.append((target, frozenset(params)))
    return links


def return_visit(app_name: str) -> tuple[str, list[str]]:
    """First visits fill a client's digest; return its ``Cookie`` header and the return
    visit's ``Link`` values, checked: exactly the page's urls, each ``nopush``."""
    app = build(app_name)
    client = app.test_client()
    rotated = app_name == "gcs-rotated"
    pages = (ROTATED_URLS if rotated else REMEMBERED) // PUSHES
    for k in range(pages):
        client.get(f"/prime/{k}")
    cookie_name = app.config["FIREHOSE_COOKIE_NAME"]
    cookie = client.get_cookie(cookie_name)
    if cookie is None:
        raise AssertionError(f"{app_name}: no {cookie_name} cookie after {pages} visits")
    for visit in range(SETTLE):
        response = client.get("/page")
        links = response.headers.getlist("Link")
        if parse_links(links) != expected_links():
            raise AssertionError(f"{app_name}: a held resource was not nopush: {links!r}")
        if rotated and visit == 0 and "Set-Cookie" not in response.headers:
            # The page's keys are in the older generation alone, so they are written back.
            raise AssertionError(f"{app_name}: the digest did not rotate")
        if "Set-Cookie" not in response.headers:
            cookie = client.get_cookie(cookie_name)
            assert cookie is not None
            return f"{cookie_name}={cookie.value}", links
    raise AssertionError(f"{app_name}: {SETTLE} return visits in a row set a cookie")


def check(app_name: str, status: str, headers: Headers, links: Sequence[str]) -> None:
    """One response of the timed run: what ``app_name`` must answer."""
    if status != "200 OK":
        raise AssertionError(f"{app_name}: {status}")
    names = [name.lower() for name, _ in headers]
    got = [value for name, value in headers if name.lower() == "link"]
    if "set-cookie" in names:
        raise AssertionError(f"{app_name}: a return visit set a cookie")
    if app_name == "bare":
        if got:
            raise AssertionError(f"bare: a Link header {got!r}")
        return
    if got != list(links):
        raise AssertionError(f"{app_name}: Link {got!r}, expected {list(links)!r}")
    vary = ",".join(value for name, value in headers if name.lower() == "vary")
    if "cookie" not in {field.strip().lower() for field in vary.split(",")}:
        raise AssertionError(f"{app_name}: no Vary: Cookie ({vary!r})")


def serve(app: WSGIApp, environ: dict[str, Any], start: Callable[..., Any]) -> None:
    """Call ``app`` as a server does: its body consumed, then closed."""
    body = app(environ, start)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def timed_calls(
    app: WSGIApp, base: dict[str, Any], calls: int, name: str, links: Sequence[str]
) -> int:
    """Nanoseconds ``app`` takes to answer ``calls`` requests; then every response is
    checked as what ``name`` must answer (:func:`check`), and one must have been started
    for each request.

    Each request has a copy of ``base`` of its own, made before the clock starts: a WSGI
    app may change its environ."""
    environs = [dict(base) for _ in range(calls)]
    responses: list[tuple[str, Headers]] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> None:
        responses.append((status, headers))

    clock = time.perf_counter_ns
    began = clock()
    for environ in environs:
        serve(app, environ, start_response)
    spent = clock() - began
    if len(responses) != calls:
        raise AssertionError(f"{name}: {len(responses)} responses to {calls} calls")
    for status, headers in responses:
        check(name, status, headers, links)
    return spent


@dataclass(frozen=True)
class Cost:
    """One app's request cost: median µs, and median per-round ratios."""

    app: str
    us: float
    per_by_hand: float
    per_bare: float
    #: The quartiles of the per-round ratios against by hand: the spread of this run.
    quartiles: tuple[float, float]


def measure(rounds: int, calls: int) -> list[Cost]:
    """Time every app in interleaved rounds; check every response; ratios per round."""
    cookies = {}
    links = {}
    for encoding in ENCODINGS:
        cookies[encoding], links[encoding] = return_visit(encoding)
    # Each floor writes the very value its encoding writes, and is sent its cookie; bare
    # is sent GCS's.
    pairs = [
        ("by-hand", "gcs"),
        ("by-hand-bloom", "bloom"),
        ("by-hand-rotated", "gcs-rotated"),
        ("bare", "gcs"),
    ]
    for floor, encoding in pairs + [(name, "gcs") for name in REFERENCES]:
        links[floor], cookies[floor] = links[encoding], cookies[encoding]
    apps: dict[str, WSGIApp] = {name: build(name, links[name]) for name in APPS}
    bases = {
        name: EnvironBuilder(path="/page", headers=[("Cookie", cookies[name])]).get_environ()
        for name in APPS
    }
    hints_sent: list[object] = []
    bases["gcs-hints"] = EnvironBuilder(
        path="/page",
        headers=[
            ("Cookie", cookies["gcs-hints"]),
            ("Sec-Fetch-Mode", "navigate"),
            ("Sec-Fetch-Dest", "document"),
        ],
    ).get_environ()
    bases["gcs-hints"]["wsgi.early_hints"] = hints_sent.append

    def timed(name: str, n: int) -> int:
        spent = timed_calls(apps[name], bases[name], n, name, links[name])
        if hints_sent:  # every link is held: nothing to hint
            raise AssertionError(f"{name}: a 103 was sent: {hints_sent!r}")
        return spent

    for name in APPS:
        timed(name, max(calls, 10))  # warm up: the first request, the caches
    # The page is learned: a client holding nothing is hinted its links.
    stranger = {k: v for k, v in bases["gcs-hints"].items() if k != "HTTP_COOKIE"}
    serve(apps["gcs-hints"], stranger, lambda status, headers, exc_info=None: None)
    if len(hints_sent) != 1:
        raise AssertionError(f"gcs-hints: the page was not learned ({hints_sent!r})")
    hints_sent.clear()
    # The apps and their caches are long-lived: leave them out of every collection, so
    # the collection before each round is short.
    gc.collect()
    gc.freeze()
    per_call: dict[str, list[float]] = {name: [] for name in APPS}
    try:
        for round_index in range(rounds):
            shift = round_index % len(APPS)
            gc.collect()
            gc.disable()
            try:
                for name in APPS[shift:] + APPS[:shift]:
                    per_call[name].append(timed(name, calls) / calls)
            finally:
                gc.enable()
    finally:
        gc.unfreeze()
    costs = []
    for name in APPS:
        floor_calls = per_call[FLOOR[name]]
        by_hand = [t / f for t, f in zip(per_call[name], floor_calls, strict=True)]
        bare = [t / f for t, f in zip(per_call[name], per_call["bare"], strict=True)]
        q1, _, q3 = statistics.quantiles(by_hand, n=4)
        costs.append(
            Cost(
                app=name,
                us=statistics.median(per_call[name]) / 1e3,
                per_by_hand=statistics.median(by_hand),
                per_bare=statistics.median(bare),
                quartiles=(q1, q3),
            )
        )
    return costs


def verdict(costs: Sequence[Cost]) -> str:
    parts = []
    for cost in costs:
        if cost.app in ENCODINGS:
            meets = "meets" if cost.per_by_hand <= TARGET else "misses"
            parts.append(f"{LABELS[cost.app]} **{cost.per_by_hand:.3f}** ({meets} it)")
    (least,) = (cost.per_by_hand for cost in costs if cost.app == "least")
    return (
        f"Target: at most {TARGET:.2f}x the by-hand app. This run: {', '.join(parts)}. "
        f"The least an extension does, none of the edge rules: **{least:.3f}**.\n"
    )


def markdown(costs: Sequence[Cost], rounds: int, calls: int) -> str:
    rows = [
        [
            LABELS[cost.app],
            f"{cost.us:.1f}",
            f"{cost.per_by_hand:.3f}",
            f"{cost.quartiles[0]:.3f} to {cost.quartiles[1]:.3f}",
            f"{cost.per_bare:.3f}",
        ]
        for cost in costs
    ]
    return (
        GENERATED + "# Request cost, server-side\n\n"
        f"A return visit to `/page` ({REMEMBERED} resources held, {PUSHES} pushed, all "
        "`nopush`), each app's WSGI callable called with a copy of one prebuilt environ "
        f"(`bench/server_cost.py`): {rounds} interleaved rounds of {calls} requests per app, "
        "garbage collector off while timed, the median of the per-round ratios. Every "
        "response was checked: exactly the expected `Link` values, `Vary: Cookie`, no "
        "`Set-Cookie`. *x by hand*: against the by-hand app sent the same cookie (the "
        "bare app: against GCS's); the quartiles show the spread of the rounds. *Rotated*: "
        f"a client first sent {ROTATED_URLS} urls, more than a generation holds, as any "
        "long-lived client is; its digest keeps two generations.\n\n"
        + markdown_table(
            ["app", "µs/request", "x by hand", "x by hand, quartiles", "x bare"], rows
        )
        + f"\n*µs/request*: {machine()}, on a shared machine, for scale only; the ratios "
        "are the result.\n\n" + verdict(costs)
    )


def run(quick: bool = False, rounds: int | None = None, calls: int | None = None) -> list[Cost]:
    """Measure, write ``server_cost.md``, return the costs."""
    # Short rounds, many of them: a round's apps run within milliseconds of each other, so
    # what else the machine does weighs on them alike.
    rounds = rounds or (200 if quick else 1000)
    calls = calls or 20
    costs = measure(rounds, calls)
    write("server_cost.md", markdown(costs, rounds, calls))
    return costs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.server_cost", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--calls", type=int, help="requests per app per round")
    args = parser.parse_args(argv)
    began = time.monotonic()
    costs = run(args.quick, args.rounds, args.calls)
    print(f"{'app':38}{'µs':>8}{'x by hand':>11}{'x bare':>9}")
    for cost in costs:
        print(
            f"{LABELS[cost.app]:38}{cost.us:>8.1f}{cost.per_by_hand:>11.3f}{cost.per_bare:>9.3f}"
        )
    print(f"({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
