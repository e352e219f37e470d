"""Server memory: how much a process grows serving many distinct returning clients.

Each client holds its own digest: the page's 10 urls and others drawn from a pool, in its
own order, so no two cookies are alike (the run stops if two are: the clients would share
an entry of the decoded-digest cache). The cookies are made first, in this process, by
first visits (pages pushing the client's urls, as many a page as a response may push, then
return visits until the cookie settles); a sample of clients is checked to hold what it was
sent. Each case is then measured in a fresh subprocess, so no case (and no cookie-making)
leaves memory behind for another: a warm-up of a few clients, then every client's return
visit, twice over, through the app's WSGI callable (a copy of the client's prebuilt environ
per request, the body consumed and closed). Every response is checked: the page's 10 links
``nopush``, no ``Set-Cookie``. Growth is taken after the warm-up, after a ``gc.collect()``:

- RSS, from ``/proc/self/statm``, in a process that does not trace;
- tracemalloc, in another: the blocks allocated after the warm-up and still alive.

Most of the growth is ``DigestConnector``'s cache of decoded digests, which keeps the last
clients seen up to its bound in bytes, and so stops growing: how many it kept is read from
its private state at the end (a measurement, not an API). Past that many clients, the
growth does not depend on how many there were.

Cases: GCS (the default configuration), Bloom, and the adversarial one: every header
budget raised, so the largest ``FIREHOSE_CAPACITY`` that ``init_app`` accepts (found by
bisection on its ValueError) is bounded only by the 4 KB cookie, every client's cookie
filled to it.

Run: ``python -m bench.memory [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.test import EnvironBuilder

from firehose_digest import DigestConnector, Firehose, push

from .report import GENERATED, machine, markdown_table, write
from .request_cost import SECRET, asset_url, page_body
from .server_cost import WSGIApp, parse_links, serve

__all__ = ["TARGET_MIB", "Case", "Growth", "largest_capacity", "main", "run"]

CLIENTS = 1500
QUICK_CLIENTS = 300
WARM_UP_CLIENTS = 20
VISITS = 2
PAGE_URLS = 10
#: The pool each client's other urls are drawn from, as a multiple of what it holds.
POOL_FACTOR = 10
#: Every CHECK_EVERY-th client is checked to hold urls beyond the page's.
CHECK_EVERY = 25
#: Return visits allowed to settle a cookie (Bloom's first, when full, starts a generation).
SETTLE = 3
#: GCS at the default configuration, 1,500 clients (issue: server state needs a bound).
TARGET_MIB = 4.0
#: Where the bisection for the largest capacity stops looking.
CAPACITY_CEILING = 1 << 24
#: The most urls an adversarial client is made to hold, should capacity be unbounded.
MAX_HELD = 4096
ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """A configuration, and how many urls each client holds."""

    name: str
    encoding: str
    capacity: int
    held: int
    #: Other ``FIREHOSE_*`` keys.
    extra: tuple[tuple[str, Any], ...] = ()

    def config(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": SECRET,
            "FIREHOSE_ENCODING": self.encoding,
            "FIREHOSE_CAPACITY": self.capacity,
            **dict(self.extra),
        }


@dataclass(frozen=True)
class Growth:
    """A case's growth over its clients' return visits, in bytes."""

    case: Case
    clients: int
    #: The clients whose decoded digest the connector's cache held at the end.
    decoded_kept: int
    cookie_chars: int
    rss_first_pass: int
    rss: int
    traced: int
    traced_peak: int
    seconds: float


def page_urls() -> list[str]:
    return [asset_url(i) for i in range(PAGE_URLS)]


def client_urls(client: int, held: int) -> list[str]:
    """Client ``client``'s urls: the page's, and ``held - 10`` others, shuffled."""
    rng = random.Random(client)
    others = rng.sample(range(PAGE_URLS, PAGE_URLS + POOL_FACTOR * held), held - PAGE_URLS)
    urls = page_urls() + [asset_url(i) for i in others]
    rng.shuffle(urls)
    return urls


def build(case: Case) -> Flask:
    """``/page`` pushes the page's urls; ``/prime?c=N&n=H&s=S&k=K`` pushes client N's H urls
    from the S-th, K of them (a response pushes at most ``FIREHOSE_MAX_PUSHES``)."""
    app = Flask(f"memory-{case.name}")
    app.config.update(case.config())
    Firehose(app, connector=DigestConnector())
    page = page_urls()

    @app.route("/page")
    def page_view() -> str:
        for url in page:
            push(url, as_="style")
        return page_body(page)

    @app.route("/prime")
    def prime() -> str:
        urls = client_urls(int(request.args["c"]), int(request.args["n"]))
        start = int(request.args.get("s", 0))
        for url in urls[start : start + int(request.args.get("k", len(urls)))]:
            push(url, as_="style")
        return "primed"

    return app


def _nopush(links: Iterable[str], urls: Sequence[str]) -> bool:
    return parse_links(links) == [
        (f"<{url}>", frozenset({"rel=preload", "as=style", "nopush"})) for url in urls
    ]


def make_cookies(case: Case, clients: int) -> list[str]:
    """Each client's ``Cookie`` header once it has visited and its cookie has settled."""
    app = build(case)
    cookie_name = app.config["FIREHOSE_COOKIE_NAME"]
    cookies = []
    for c in range(clients):
        client = app.test_client()
        per_response = dict(case.config()).get("FIREHOSE_MAX_PUSHES", PAGE_URLS)
        for start in range(0, case.held, per_response):
            client.get(f"/prime?c={c}&n={case.held}&s={start}&k={per_response}")
        for _ in range(SETTLE):
            response = client.get("/page")
            if not _nopush(response.headers.getlist("Link"), page_urls()):
                raise AssertionError(f"{case.name}: client {c} lost a page url")
            if "Set-Cookie" not in response.headers:
                break
        else:
            raise AssertionError(f"{case.name}: client {c}'s cookie never settled")
        cookie = client.get_cookie(cookie_name)
        assert cookie is not None
        cookies.append(f"{cookie_name}={cookie.value}")
        if c % CHECK_EVERY == 0:
            # What it holds beyond the page: the same urls pushed again are all nopush.
            urls = client_urls(c, case.held)
            response = client.get(f"/prime?c={c}&n={case.held}&k={PAGE_URLS * 2}")
            if not _nopush(response.headers.getlist("Link"), urls[: PAGE_URLS * 2]):
                raise AssertionError(f"{case.name}: client {c} lost urls it was sent")
    return cookies


#: A deployment that raised every budget (a huge ``proxy_buffer_size``): only the 4 KB a
#: browser keeps of a cookie bounds the capacity, and a client can fill it in one response.
UNBOUNDED = (
    ("FIREHOSE_HEADER_BUDGET", 1 << 20),
    ("FIREHOSE_LINK_BUDGET", 1 << 19),
    ("FIREHOSE_MAX_PUSHES", 1000),
)


def accepts(encoding: str, capacity: int) -> bool:
    app = Flask("capacity-probe")
    app.config.update(SECRET_KEY=SECRET, FIREHOSE_ENCODING=encoding, FIREHOSE_CAPACITY=capacity)
    app.config.update(UNBOUNDED)
    # A digest must hold what one response pushes.
    app.config["FIREHOSE_MAX_PUSHES"] = min(capacity, dict(UNBOUNDED)["FIREHOSE_MAX_PUSHES"])
    try:
        Firehose(app, connector=DigestConnector())
    except ValueError:
        return False
    return True


def largest_capacity(encoding: str) -> int:
    """The largest ``FIREHOSE_CAPACITY`` init_app accepts (at the default rate), by bisection.

    Returns CAPACITY_CEILING if that is accepted too: then there is no bound to find.
    """
    if not accepts(encoding, 1):
        raise AssertionError(f"{encoding}: capacity 1 refused")
    low, high = 1, CAPACITY_CEILING
    if accepts(encoding, high):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(encoding, middle):
            low = middle
        else:
            high = middle
    return low


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_child(case: Case, cookies: list[str], trace: bool) -> dict[str, int]:
    """In a fresh process: warm up, then every client's return visit, twice; the growth."""
    flask_app = build(case)
    app: WSGIApp = flask_app
    bases = [
        EnvironBuilder(path="/page", headers=[("Cookie", cookie)]).get_environ()
        for cookie in cookies
    ]
    links_seen: list[list[str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if status != "200 OK" or any(name.lower() == "set-cookie" for name, _ in headers):
            raise AssertionError(f"{case.name}: {status}, {headers!r}")
        links_seen.append([value for name, value in headers if name.lower() == "link"])

    page = page_urls()

    def visit(environs: Sequence[dict[str, Any]]) -> None:
        for base in environs:
            serve(app, dict(base), start_response)
            if not _nopush(links_seen.pop(), page):
                raise AssertionError(f"{case.name}: a held page url was not nopush")

    warm_up, measured = bases[:WARM_UP_CLIENTS], bases[WARM_UP_CLIENTS:]
    for _ in range(VISITS):
        visit(warm_up)
    gc.collect()
    if trace:
        tracemalloc.start()
    before = _rss()
    for number in range(VISITS):
        visit(measured)
        gc.collect()
        if number == 0:
            first_pass = _rss() - before
    growth = {"rss_first_pass": first_pass, "rss": _rss() - before}
    connector = flask_app.extensions["firehose"].connector
    growth["decoded_kept"] = len(connector._state(flask_app)._decoded)
    if trace:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        growth |= {"traced": current, "traced_peak": peak}
    return growth


def measure(case: Case, clients: int) -> Growth:
    """Make the clients' cookies, then measure RSS and tracemalloc in two fresh processes."""
    began = time.monotonic()
    cookies = make_cookies(case, clients + WARM_UP_CLIENTS)
    # Each client is an entry of its own in the decoded-digest cache only if its cookie is.
    sharing = sum(count for count in Counter(cookies).values() if count > 1)
    if sharing:
        raise AssertionError(f"{case.name}: {sharing} clients share a cookie")
    result: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cookies.json"
        path.write_text(json.dumps(cookies))
        for mode in ("rss", "trace"):
            command = [sys.executable, "-m", "bench.memory", "--child", mode, str(path)]
            command.append(json.dumps(asdict(case)))
            output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if output.returncode:
                raise RuntimeError(f"{case.name} ({mode}): {output.stderr}")
            child = json.loads(output.stdout.splitlines()[-1])
            result |= (
                child if mode == "trace" else {k: child[k] for k in ("rss", "rss_first_pass")}
            )
    return Growth(
        case=case,
        clients=clients,
        decoded_kept=result["decoded_kept"],
        cookie_chars=int(statistics.median(len(cookie) for cookie in cookies)),
        rss_first_pass=result["rss_first_pass"],
        rss=result["rss"],
        traced=result["traced"],
        traced_peak=result["traced_peak"],
        seconds=time.monotonic() - began,
    )


def cases() -> list[Case]:
    capacity = largest_capacity("gcs")
    return [
        Case("GCS (default)", "gcs", 300, 300),
        Case("Bloom", "bloom", 300, 300),
        Case(
            "adversarial: GCS, largest capacity, budgets raised",
            "gcs",
            capacity,
            min(capacity, MAX_HELD),
            UNBOUNDED,
        ),
    ]


def _mib(size: int) -> str:
    return f"{size / MIB:.2f}"


def markdown(growths: Sequence[Growth]) -> str:
    rows = [
        [
            g.case.name,
            g.case.capacity,
            g.case.held,
            g.cookie_chars,
            _mib(g.rss_first_pass),
            _mib(g.rss),
            _mib(g.traced),
            _mib(g.traced_peak),
            f"{g.decoded_kept:,}",
        ]
        for g in growths
    ]
    default = growths[0]
    meets = "meets" if default.rss <= TARGET_MIB * MIB else "misses"
    clients = default.clients
    return (
        GENERATED + "# Server memory over many returning clients\n\n"
        f"{clients:,} distinct clients, each with its own digest (the page's {PAGE_URLS} urls "
        f"and others from a pool of {POOL_FACTOR}x what it holds, in its own order), each "
        f"sending its return visit {VISITS} times, through the WSGI callable "
        "(`bench/memory.py`). Growth after a warm-up of "
        f"{WARM_UP_CLIENTS} other clients, each case in a fresh process: RSS in one, "
        "tracemalloc (blocks allocated after the warm-up and still alive; the peak, the "
        "most at any moment) in another. RSS also holds what the allocator keeps of "
        "memory freed in the run. *Decoded digests kept*: the clients whose decoded "
        "digest the connector's cache held at the end; it is bounded in bytes, so the "
        "growth stops there however many clients follow. "
        "Every response was checked: the page's links `nopush`, no `Set-Cookie`.\n\n"
        + markdown_table(
            [
                "case",
                "capacity",
                "urls per client",
                "cookie chars",
                "RSS MiB, 1st pass",
                f"RSS MiB, {VISITS} passes",
                "tracemalloc MiB",
                "tracemalloc peak MiB",
                "decoded digests kept",
            ],
            rows,
        )
        + "\nThe adversarial capacity is the largest `FIREHOSE_CAPACITY` `init_app` accepts "
        "at the default false-positive rate with every header budget raised (bisection on "
        f"its ValueError): only the 4 KB cookie bounds it. Its clients are filled to it. "
        f"{machine()}.\n\n"
        f"Target: at most {TARGET_MIB:g} MiB of RSS for {default.case.name} over {clients:,} "
        f"clients. This run: **{_mib(default.rss)} MiB** ({meets} it).\n"
    )


def run(quick: bool = False) -> list[Growth]:
    """Measure every case, write ``memory.md``, return the growths."""
    clients = QUICK_CLIENTS if quick else CLIENTS
    growths = [measure(case, clients) for case in cases()]
    write("memory.md", markdown(growths))
    return growths


def _child(mode: str, cookies_path: str, case_json: str) -> None:
    case = Case(**json.loads(case_json))
    cookies = json.loads(Path(cookies_path).read_text())
    print(json.dumps(measure_child(case, cookies, trace=mode == "trace")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CLIENTS} clients")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "COOKIES", "CASE"), help="internal")
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    began = time.monotonic()
    print(f"{'case':38}{'held':>6}{'RSS MiB':>9}{'traced MiB':>12}{'s':>6}")
    for g in run(args.quick):
        print(
            f"{g.case.name:38}{g.case.held:>6}{_mib(g.rss):>9}{_mib(g.traced):>12}"
            f"{g.seconds:>6.0f}"
        )
    print(f"({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
