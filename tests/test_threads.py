"""Many clients at once against one app: each gets what it would get alone.

Servers call the app from many threads at once (gunicorn's gthread worker, waitress,
Werkzeug's threaded server), or from greenlets (gevent), and every client shares the
per-process caches: push()'s resources, each app's decoded digests, link plans, learned
103s and pushed static files. Here each client browses in a thread (or greenlet) of its
own, all at once, with those caches shrunk so that they empty and evict while others read
them; the same browse, replayed alone against a fresh app, must give every response the
same status, headers, 103 and digest, and each cache must hold what it counts.

A count updated twice or lost by a race is seen here only by chance: the caches' own
deterministic two-thread tests stand on those (in test_planner.py, test_extension.py,
test_static.py).
"""

from __future__ import annotations

import functools
import gc
import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]  # in the test extras
import pytest
from flask import Flask, make_response, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from firehose_digest import DigestConnector, Firehose, collect, held_digests, links, push, static
from firehose_digest.hints import HintCache
from firehose_digest.hints import _page_size as _hinted_page_size
from firehose_digest.links import LinkPlanner, _plan_size, _planned_page_size
from firehose_digest.static import file_version
from tests.helpers import run_in_threads
from tests.integration.rig import NAVIGATION_ACCEPT

CLIENTS = 16
STEPS = 32
PAGES = 5
HINTED = 4

#: A step of a browse: what is asked, and how.
Step = tuple[str, str, dict[str, str]]
#: What a client saw of a response: its status, headers (the digest as its bytes) and 103s.
Seen = tuple[Any, ...]


def make_site(static_folder: Path, secret: str, *, hints_everywhere: bool) -> Flask:
    """Pages pushing resources that overlap (every page's script, a third of the pages'
    image), their own, a static file by its content, and the client's own (never
    learned); views that declare their links (the whole 103 of their page, learned or
    not); a conditional page, a 404 page that pushes."""
    app = Flask(__name__, static_folder=str(static_folder), static_url_path="/static")
    app.config.update(
        SECRET_KEY=secret,
        FIREHOSE_EARLY_HINTS=True,
        # Evicted while others read them, unless every page's 103 is learned first.
        FIREHOSE_EARLY_HINTS_CACHE=1000 if hints_everywhere else 2,
        # Rotations, a digest's generation full every few pages.
        FIREHOSE_CAPACITY=12,
        FIREHOSE_MAX_PUSHES=4,
    )

    @app.route("/p/<int:n>")
    def page(n: int) -> str:
        push("/s/common.js", as_="script", version="v1")
        push(f"/s/page{n}.css", as_="style")
        push(f"/s/shared{n % 3}.png", as_="image")
        static.push_static("site.css")
        push(f"/u/{request.headers['X-Client']}.png", as_="image", learn=False)
        return "<p>page"

    @app.route("/c/<int:n>")
    def conditional(n: int) -> Any:
        push(f"/s/page{n}.css", as_="style")
        push("/s/common.js", as_="script", version="v1")
        response = make_response("<p>same")
        response.set_etag(f"c{n}")
        return response.make_conditional(request)

    @app.errorhandler(404)
    def missing(error: Exception) -> tuple[str, int]:
        push("/s/missing.css", as_="style")
        return "<p>missing", 404

    for n in range(HINTED):

        def hinted() -> str:
            return "<p>hinted"

        # One page declares another version of the script every page pushes.
        declare = [
            Firehose.hints(f"/s/hint{n}.css", as_="style"),
            Firehose.hints("/s/common.js", as_="script", version=f"v{1 + n // 3}"),
            Firehose.hints(f"/s/shared{n % 3}.png", as_="image"),
        ]
        app.add_url_rule(
            f"/h/{n}", f"hinted{n}", functools.reduce(lambda v, d: d(v), declare, hinted)
        )

    Firehose(app)
    return app


def browse(client: int, version: str, hints_everywhere: bool) -> list[Step]:
    """One client's random browse, the same on every run."""
    rng = random.Random(client)
    steps: list[Step] = []
    for _ in range(STEPS):
        n = rng.randrange(PAGES)
        kind = rng.choice(
            ["page", "page", "hinted", "hinted", "head", "conditional", "404", "fetch", "file"]
        )
        if kind == "page":
            steps.append(("GET", f"/p/{n}", {"hints": "yes" if hints_everywhere else ""}))
        elif kind == "hinted":
            steps.append(("GET", f"/h/{n % HINTED}", {"hints": "yes"}))
        elif kind == "head":
            steps.append(("HEAD", f"/p/{n}", {}))
        elif kind == "conditional":
            steps.append(
                ("GET", f"/c/{n}", {"If-None-Match": f'"c{n}"'} if rng.random() < 0.5 else {})
            )
        elif kind == "404":
            steps.append(("GET", f"/nothing/{n}", {}))
        elif kind == "fetch":  # not a navigation: a browser preloads nothing of it
            steps.append(("GET", f"/p/{n}", {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}))
        else:
            steps.append(("GET", f"/static/site.css?v={version}", {}))
    return steps


def ask(app: Flask, client: FlaskClient, me: str, step: Step, hint: Callable[[], None]) -> Seen:
    """What the client sees of one step: the digest cookie read back as its bytes (its
    signature dates it)."""
    method, path, headers = step
    sent: list[list[tuple[str, str]]] = []

    def early_hints(hints: list[tuple[str, str]]) -> None:
        sent.append(list(hints))
        hint()  # a server writes the 103 to its socket here: another greenlet may run

    wanted = {"X-Client": me, "Accept": NAVIGATION_ACCEPT}
    wanted.update((name, value) for name, value in headers.items() if name != "hints")
    environ = {"wsgi.early_hints": early_hints} if headers.get("hints") else {}
    response: TestResponse = client.open(
        path, method=method, headers=wanted, environ_overrides=environ
    )
    response.close()
    return (
        response.status_code,
        response.headers.getlist("Link"),
        response.headers.getlist("Vary"),
        response.headers.get("Cache-Control"),
        [_read_back(app, line) for line in response.headers.getlist("Set-Cookie")],
        sent,
    )


def _read_back(app: Flask, line: str) -> tuple[str, ...]:
    """A Set-Cookie line with the digest's signed value as the digest's bytes, and
    without its ``Expires`` (a date the clock writes; ``Max-Age`` says the same)."""
    name_value, *attributes = line.split("; ")
    name, _, value = name_value.partition("=")
    connector = app.extensions["firehose"].connector
    assert isinstance(connector, DigestConnector)
    codec = connector._state(app).codec(app)
    assert codec is not None
    kept = [attribute for attribute in attributes if not attribute.startswith("Expires=")]
    return (name, codec.loads(value).payload.hex(), *kept)


@pytest.fixture
def small_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cache so small that it empties or evicts every few requests."""
    monkeypatch.setattr(collect, "_resources", {})
    monkeypatch.setattr(collect, "_resources_bytes", 0)
    monkeypatch.setattr(collect, "MAX_RESOURCES_BYTES", 6000)
    monkeypatch.setattr(links, "PLANS_BYTES", 5000)
    monkeypatch.setattr(held_digests, "DECODED_CACHE_BYTES", 4 * 3000)
    monkeypatch.setattr(static, "MAX_PUSHED_FILES_BYTES", 400)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.mark.usefixtures("small_caches")
@pytest.mark.parametrize("hints_everywhere", [False, True], ids=["evicted-103s", "learned-103s"])
@pytest.mark.parametrize("runner", ["threads", "greenlets"])
def test_each_client_sees_what_it_would_alone(
    tmp_path: Path, hints_everywhere: bool, runner: str
) -> None:
    """Two apps in one process (each its own secret and its own site.css at the same url,
    sharing push()'s cache and the static versions), half the clients each; every
    client's responses, served at once, are those of its browse replayed alone, and no
    error is logged. Greenlets switch where a server writes a 103 to its socket.

    It fails if one client's state reaches another's response: the request's record
    shared by the threads (a module global) or by the greenlets of a thread (a
    ``threading.local``), or a digest other requests share written in place (tried)."""
    folders = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "site.css").write_text(f"body {{ content: '{name}' }}")
        folders.append(folder)

    def site(client: int) -> Flask:
        folder = folders[client % 2]
        return make_site(folder, f"secret of {folder.name}", hints_everywhere=hints_everywhere)

    def warmed(app: Flask) -> Flask:
        if hints_everywhere:  # every page's 103 learned, as a long-running server has it
            with app.test_client() as warm:
                for n in range(PAGES):
                    ask(app, warm, "00", ("GET", f"/p/{n}", {"hints": "yes"}), lambda: None)
        return app

    shared = [warmed(site(0)), warmed(site(1))]
    browses = [
        browse(c, file_version(str(folders[c % 2] / "site.css")), hints_everywhere)
        for c in range(CLIENTS)
    ]
    seen: list[list[Seen]] = [[] for _ in range(CLIENTS)]
    errors = _Errors()
    logging.getLogger("firehose_digest").addHandler(errors)
    start = threading.Barrier(CLIENTS, timeout=30) if runner == "threads" else None

    failed: list[str] = []

    def run(c: int) -> None:
        app = shared[c % 2]
        client = app.test_client()
        if start is not None:
            start.wait()
        switch = gevent.sleep if runner == "greenlets" else (lambda: None)
        try:
            for step in browses[c]:
                seen[c].append(ask(app, client, f"{c:02}", step, switch))
        except Exception as e:  # the test client raises what the app let through
            failed.append(f"client {c}: {e!r}")

    churned: list[int] = []

    def churn() -> None:
        """Apps made, used and collected meanwhile: each app's entries in the weak maps
        (pushed files, warnings given) go while other apps' are read and written."""
        for _ in range(6):
            app = site(0)
            with app.test_client() as client:
                churned.append(client.get("/p/0", headers={"X-Client": "99"}).status_code)
            del app, client
            gc.collect()

    try:
        if runner == "threads":
            run_in_threads(*(functools.partial(run, c) for c in range(CLIENTS)), churn)
        else:
            gevent.joinall([gevent.spawn(run, c) for c in range(CLIENTS)], raise_error=True)
    finally:
        logging.getLogger("firehose_digest").removeHandler(errors)

    assert failed == errors.seen == []
    assert churned == ([200] * 6 if runner == "threads" else [])
    for c in range(CLIENTS):
        alone = warmed(site(c))
        client = alone.test_client()
        expected = [ask(alone, client, f"{c:02}", step, lambda: None) for step in browses[c]]
        for step, got, want in zip(browses[c], seen[c], expected, strict=True):
            assert got == want, (c, step)
    for app in shared:
        assert_caches_count_what_they_hold(app)
    assert_push_cache_counts_what_it_holds()


def assert_push_cache_counts_what_it_holds() -> None:
    counted = sum(collect._entry_size(k, v) for k, v in collect._resources.items())
    assert collect._resources_bytes == counted <= collect.MAX_RESOURCES_BYTES


def assert_caches_count_what_they_hold(app: Flask) -> None:
    state = app.extensions["firehose"]
    planner: LinkPlanner = state.planner
    counted = sum(
        _planned_page_size(page, keys) + sum(_plan_size(key, plan) for key, plan in plans.items())
        for page, (keys, plans) in planner._pages.items()
    )
    assert planner._bytes == counted <= links.PLANS_BYTES

    cache: HintCache | None = state.hint_cache
    assert cache is not None
    hints = {id(hint): hint for hints, _ in cache._entries.values() for hint in hints}
    counted = sum(own for _, own in cache._entries.values())
    counted += sum(size for _, size in cache._links.values())
    assert cache._bytes == counted
    assert len(cache._entries) <= cache.max_entries
    uses = {
        key: sum(h is hint for hs, _ in cache._entries.values() for h in hs)
        for key, hint in hints.items()
    }
    assert {key: count for key, (count, _) in cache._links.items()} == uses
    assert all(own == _hinted_page_size(page, hs) for page, (hs, own) in cache._entries.items())

    digest = state.connector._state(app)
    counted = sum(held_digests._entry_size(value, held) for value, held in digest._decoded.items())
    assert digest._decoded_bytes == counted <= held_digests.DECODED_CACHE_BYTES
    assert all(len(held) <= held_digests.MAX_ANSWERS for held in digest._decoded.values())

    pushed = static._pushed_files.get(app)
    if pushed is not None:
        counted = sum(static._pushed_file_size(k, f) for k, f in pushed.files.items())
        assert pushed.size == counted <= static.MAX_PUSHED_FILES_BYTES
