"""Request cost: the same Flask app with and without the extension, as a ratio.

Flask test client, interleaved rounds (bare, then the variant, then bare again...), the
median of the per-round ratios, so machine noise cancels. Each variant is measured alone
with its bare twin (:func:`measure_each`): other apps resident in the process would make
each request's memory colder, which costs the app that touches more (ours) more. Every
variant is checked as it is measured: the page's resources must come back as ``nopush``
(no false negative) on a return visit.

Run: ``python -m bench.request_cost_report [--quick]`` (it also writes the suite's files).
"""

from __future__ import annotations

import gc
import hashlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request
from flask.testing import FlaskClient

from firehose_digest import DigestConnector, Firehose, SessionConnector, push

SECRET = "bench secret"


def asset_url(i: int) -> str:
    return f"/static/assets/r{i}.{hashlib.sha1(str(i).encode()).hexdigest()[:10]}.css"


def page_body(urls: list[str]) -> str:
    return "".join(f'<link rel=stylesheet href="{url}">' for url in urls)


#: Variants that take apart the cost of ``gcs`` (see :func:`ladder`), not products.
LADDER = ("by-hand", "switched-off", "in-memory")


class InMemoryConnector:
    """Tracking with nothing to store: a set in this process (one client, never pruned)."""

    def __init__(self) -> None:
        self.pushed: set[str] = set()

    def get_pushed(self) -> set[str]:
        return self.pushed

    def set_pushed(self, items: set[str]) -> None:
        self.pushed = items


def build(
    variant: str, remembered: int, pushes: int, headers: list[tuple[str, str]] | None = None
) -> Flask:
    """An app whose ``/page`` references ``pushes`` assets and whose ``/prime`` pushes them all.

    ``by-hand`` is the bare app writing ``headers`` (the ``gcs`` variant's Link) from an
    ``after_request`` hook, without the extension.
    """
    app = Flask(f"bench-{variant}")
    app.config["SECRET_KEY"] = SECRET
    urls = [asset_url(i) for i in range(max(remembered, pushes))]
    page = urls[:pushes]

    if variant in ("bare", "by-hand"):
        # The bare twin is sent the variant's cookies, so the test client's work on them
        # cancels out; but Flask opens the session on every request, and a bare app's
        # client would never hold the extension's session: it must not decode it.
        app.config["SESSION_COOKIE_NAME"] = "bare-session"

        @app.route("/page")
        def bare_page() -> str:
            return page_body(page)

        if variant == "by-hand":

            @app.after_request
            def add_headers(response: Response) -> Response:
                for name, value in headers or ():
                    response.headers.add(name, value)
                return response

        return app

    if variant == "flask-firehose":
        import flask_firehose  # type: ignore[import-untyped]

        flask_firehose.Firehose(app)

        @app.route("/page")
        def flask_firehose_page() -> str:
            for url in page:
                flask_firehose.push(url, **{"as": "style"})
            return page_body(page)

        @app.route("/prime")
        def flask_firehose_prime() -> str:
            for url in urls[: int(request.args["n"])]:
                flask_firehose.push(url, **{"as": "style"})
            return "primed"

        return app

    # InMemoryConnector speaks Flask-Firehose's protocol (get_pushed / set_pushed).
    connectors: dict[str, Callable[[], object]] = {
        # Sized, like the digests, to hold every remembered url (its default keeps 100).
        "session": lambda: SessionConnector(max_items=max(remembered, 100)),
        "bloom": lambda: DigestConnector(encoding="bloom", capacity=max(remembered, 300)),
        "gcs": lambda: DigestConnector(encoding="gcs", capacity=max(remembered, 300)),
        "in-memory": InMemoryConnector,
        "switched-off": DigestConnector,
    }
    # Its hooks return at once, and push() only returns the url: no header, no cookie.
    app.config["FIREHOSE_ENABLED"] = variant != "switched-off"
    # /prime pushes every remembered url in one response, and capacities reach 1000: the
    # limits a response keeps to behind a proxy (ten pushes, a 4 KB header buffer) are
    # lifted. /page's ten links are written the same either way.
    app.config.update(
        FIREHOSE_MAX_PUSHES=max(remembered, 10),
        FIREHOSE_LINK_BUDGET=1 << 19,
        FIREHOSE_HEADER_BUDGET=1 << 20,
    )
    Firehose(app, connector=connectors[variant]())

    # Each view calls push() itself, as an app does: a wrapper would be charged to us.
    @app.route("/page")
    def page_view() -> str:
        for url in page:
            push(url, as_="style")
        return page_body(page)

    @app.route("/prime")
    def prime() -> str:
        for url in urls[: int(request.args["n"])]:
            push(url, as_="style")
        return "primed"

    return app


@dataclass
class Result:
    variant: str
    remembered: int
    pushes: int
    ratio: float
    bare_us: float
    variant_us: float


def client_for(variant: str, remembered: int, pushes: int) -> FlaskClient:
    if variant == "by-hand":
        # The Link header gcs writes on this page, and the cookie its client sends.
        reference = client_for("gcs", remembered, pushes)
        response = reference.get("/page")
        headers = [("Link", response.headers["Link"])]
        client = build(variant, remembered, pushes, headers).test_client()
        _copy_cookies(reference, client)
        return client
    client = build(variant, remembered, pushes).test_client()
    if variant in ("in-memory", "switched-off"):
        # Sent the gcs client's cookie, which it ignores: the test client's work is the same.
        _copy_cookies(client_for("gcs", remembered, pushes), client)
    if variant == "switched-off":
        return client
    if variant != "bare":
        client.get(f"/prime?n={remembered}")
        response = client.get("/page")
        links = response.headers.get("Link", "")
        # Correctness as we measure: what the client holds must come back as nopush.
        if remembered and pushes:
            held = f"<{asset_url(0)}>"
            # Flask-Firehose leaves a held resource out; we mark it nopush.
            ok = (
                held not in links
                if variant == "flask-firehose"
                else f"{held}; rel=preload; as=style; nopush" in links
            )
            if not ok:
                raise AssertionError(f"{variant}: a held resource came back as {links!r}")
    return client


def _copy_cookies(source: FlaskClient, target: FlaskClient) -> None:
    for cookie in (source._cookies or {}).values():
        target.set_cookie(cookie.key, cookie.value)


def per_request_us(client: FlaskClient, requests: int) -> float:
    """CPU time of this process per request: other processes on the machine don't count."""
    start = time.process_time()
    for _ in range(requests):
        client.get("/page")
    return (time.process_time() - start) / requests * 1e6


def paired_us(bare: FlaskClient, client: FlaskClient, requests: int) -> tuple[float, float]:
    """Median time of a bare and a variant request, alternated one by one.

    Alternating single requests exposes both to the same machine state; the median
    discards the requests a busy machine preempted.
    """
    bare_ns: list[int] = []
    variant_ns: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(requests):
        start = clock()
        bare.get("/page")
        middle = clock()
        client.get("/page")
        variant_ns.append(clock() - middle)
        bare_ns.append(middle - start)
    return statistics.median(bare_ns) / 1e3, statistics.median(variant_ns) / 1e3


def measure(
    variants: list[str], remembered: int, pushes: int, rounds: int, requests: int
) -> list[Result]:
    clients = {v: client_for(v, remembered, pushes) for v in variants}
    # Each variant's bare twin sends the same cookies: only the server's work may differ.
    bares = {v: client_for("bare", remembered, pushes) for v in variants}
    for variant, client in clients.items():
        _copy_cookies(client, bares[variant])
    for client in (*bares.values(), *clients.values()):
        per_request_us(client, requests // 4)  # warm up
    ratios: dict[str, list[float]] = {v: [] for v in variants}
    times: dict[str, list[float]] = {v: [] for v in ["bare", *variants]}
    for _ in range(rounds):
        for variant, client in clients.items():
            bare_us, spent = paired_us(bares[variant], client, requests)
            ratios[variant].append(spent / bare_us)
            times["bare"].append(bare_us)
            times[variant].append(spent)
    bare_us = statistics.median(times["bare"])
    return [
        Result(
            v,
            remembered,
            pushes,
            statistics.median(ratios[v]),
            bare_us,
            statistics.median(times[v]),
        )
        for v in variants
    ]


def measure_each(
    variants: list[str], remembered: int, pushes: int, rounds: int, requests: int
) -> list[Result]:
    """:func:`measure` for each variant alone with its bare twin, one after the other.

    With every variant's apps alive at once, more of each request's memory is cold: at 300
    remembered and 10 pushes our ratios rose by about 0.01 (``request_cost.md`` shows both).
    """
    results = []
    for variant in variants:
        results.extend(measure([variant], remembered, pushes, rounds, requests))
        gc.collect()  # Flask apps hold reference cycles: free this pair before the next
    return results
