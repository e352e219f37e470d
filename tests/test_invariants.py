"""One client, random sequences of requests, and after every response the rules of
docs/how-it-works.md ("What is pushed, and what is recorded") and docs/early-hints.md
("What is sent when") checked against a model of what the client holds.

The model is this file's own: it records what each response offered for push (and each
103), by the documented rules, in a plain two-generation set for the digest (how-it-works.md,
"How the digest works"), a bounded list for :class:`SessionConnector` and a set for a
Flask-Firehose connector. After each response it must equal what the connector reads from
the client's cookies, key for key, and the response's ``Link`` must be the one the rules
write for what the model says the client held. The digest's false positives cannot get in
the way: :func:`no_false_positives` checks, with the digest itself, that no key of the test
is one for a digest of the others.

Where a rule is in the docs, the model follows it and says where, quoting the sentence
where the wording decides. Three parts are the code's own rules restated, with no
sentence in docs/ to check them against, so this file does not check them independently
(it only finds the code departing from them):

- which of a response's keys the digest takes, and when its generation rotates
  (:class:`TwoGenerations`): at most a generation's worth, the pushed ones last
  (``DigestConnector.save``'s docstring), and a full generation rotating as the next key
  comes. Checked beside them, from how-it-works.md alone: the client always holds the
  ``capacity`` keys it used last and at most two generations' worth, and the cookie is set
  exactly when the digest changed (connectors.md, "it writes what changed");
- what a page learns (:meth:`ClientMachine.learn`): its links within
  ``FIREHOSE_LINK_BUDGET``, each counted as its link without ``nopush``
  (``HintCache.learn``'s docstring);
- that any status but 200 drops what a page learned under a version it no longer links,
  where early-hints.md names a 302, 303 or 307 among others (the machine's is a 302; its
  301 and 204 drop what was learned in any case, as a 404 does).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask, Response, abort, jsonify, make_response, redirect, request, session
from flask.testing import FlaskClient
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from firehose_digest import (
    AgingDigest,
    BloomDigest,
    DigestConnector,
    Firehose,
    GCSDigest,
    SessionConnector,
    push,
)
from firehose_digest.extension import EXTENSION_KEY

# --- the site ------------------------------------------------------------------------------

#: A rate small enough that :func:`no_false_positives` holds for the keys below.
FP_RATE = 1e-6
CDN = "https://cdn.example"
#: name -> url; "v" is pushed with ``version=`` the machine's current version.
URLS = {name: f"/u/{name}.css" for name in ("a", "b", "c", "d", "e", "err", "v")}
URLS["cdn"] = f"{CDN}/x.css"  # tracked, never pushed: nginx pushes no absolute url
#: What each page pushes, in order; "pre" is a preconnect (not tracked).
PAGES = {
    "p1": ("a", "b", "c"),
    "p2": ("b", "c", "d", "cdn"),
    "p3": ("pre", "d", "e", "a", "v"),
    "p4": ("v", "a"),
    "own": ("a", "e"),
    "quiet": (),
}
STATUS_PUSHES = ("c", "e")
COND_PUSHES = ("a", "b")
FLAKY_PUSHES = ("a", "d")
#: What /moved/<code> pushes: a page that answers 200 under the first version and
#: ``code`` (a redirect, temporary or for good, or a 204) under the others.
MOVED_PUSHES = ("v", "a")
#: What the app's before_request hook pushes for the JSON view and static files.
HOOK_PUSHES = ("a",)
OWN_LINK = "</next>; rel=next"
ETAG = "e1"
MAX_VERSION = 3
STATIC_FILE = f"/static/{Path(__file__).name}"

PATHS = (
    *(f"/page/{name}" for name in PAGES),
    *(f"/status/{code}" for code in (200, 204, 301, 404, 500)),
    "/cond",
    "/flaky",
    *(f"/moved/{code}" for code in (301, 302, 204)),
    "/json",
    STATIC_FILE,
)

#: The statuses after which a page learned from its 200 is hinted nothing
#: (docs/early-hints.md, "What is sent when").
NO_PAGE_STATUSES = (204, 301, 308, 404, 410)

#: What the app served before the machine's first request (:meth:`ClientMachine.start`).
PASTS = ("new", "browsed", "deployed")
#: The paths whose pages link "v".
VERSIONED_PATHS = ("/page/p3", "/page/p4", "/moved/301", "/moved/302", "/moved/204")

#: The request headers of each kind of client request.
REQUEST_HEADERS: dict[str, dict[str, str]] = {
    # A browser's navigation to a page (over HTTP/2 to the app itself: "navigate-h2").
    "navigate": {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "none",
        "Accept": "text/html",
    },
    "navigate-h2": {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "none",
        "Accept": "text/html",
    },
    # A page's fetch() (htmx): a browser preloads nothing it links.
    "fetch": {
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "Sec-Fetch-Site": "same-origin",
        "Accept": "*/*",
    },
    # curl asking as a browser does, or a browser from before Fetch Metadata.
    "plain": {"Accept": "text/html"},
    # A client that says nothing: pushed to, never hinted.
    "bare": {},
}


class Site:
    """What the machine's pages depend on: the version "v" is pushed with, the requests
    /flaky answered (every other one a 404), and whether the connector's next write
    fails."""

    def __init__(self) -> None:
        self.version = 1
        self.flaky_requests = 0
        self.fail_next_save = False


def fail_if_asked(site: Site) -> None:
    """The store is down for the one write the machine asked to fail."""
    if site.fail_next_save:
        site.fail_next_save = False
        raise RuntimeError("the store is down")


class FailingDigest(DigestConnector):
    def __init__(self, site: Site, **arguments: Any) -> None:
        super().__init__(**arguments)
        self.site = site

    def save(self, *arguments: Any) -> None:
        fail_if_asked(self.site)
        super().save(*arguments)


class FailingSession(SessionConnector):
    def __init__(self, site: Site, max_items: int) -> None:
        super().__init__(max_items)
        self.site = site

    def save(self, *arguments: Any) -> None:
        fail_if_asked(self.site)
        super().save(*arguments)


class FailingList:
    """docs/connectors.md's Flask-Firehose style connector: a list in Flask's session."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def get_pushed(self) -> set[str]:
        return set(session.get("pushed", []))

    def set_pushed(self, items: set[str]) -> None:
        fail_if_asked(self.site)
        session["pushed"] = sorted(items)


def push_named(names: Iterable[str], site: Site) -> None:
    for name in names:
        if name == "pre":
            push(CDN, rel="preconnect")
        elif name == "v":
            push(URLS["v"], as_="style", version=str(site.version))
        else:
            push(URLS[name], as_="style")


def make_site(config: dict[str, Any], connector: Any, site: Site) -> Flask:
    app = Flask(__name__, static_folder=str(Path(__file__).parent), static_url_path="/static")
    app.config.update(SECRET_KEY="invariants", **config)

    @app.before_request
    def layout() -> None:
        if request.path == "/json" or request.path.startswith("/static/"):
            push_named(HOOK_PUSHES, site)

    Firehose(app, connector=connector)

    methods = ["GET", "HEAD", "POST"]

    @app.route("/page/<name>", methods=methods)
    def page(name: str) -> Response | str:
        push_named(PAGES[name], site)
        if name == "own":
            return Response("own", headers={"Link": OWN_LINK})
        return name

    @app.route("/status/<int:code>", methods=methods)
    def status(code: int) -> Any:
        push_named(STATUS_PUSHES, site)
        if code == 301:
            return redirect("/page/p1", 301)
        if code in (404, 500):
            abort(code)
        return ("", code) if code == 204 else "status"

    @app.route("/cond", methods=methods)
    def conditional() -> Any:
        push_named(COND_PUSHES, site)
        response = make_response("cond")
        response.set_etag(ETAG)
        return response.make_conditional(request)

    @app.route("/flaky", methods=methods)
    def flaky() -> str:
        push_named(FLAKY_PUSHES, site)
        site.flaky_requests += 1
        if site.flaky_requests % 2 == 0:
            abort(404)  # a page learned from its 200 now answers 404, and then 200 again
        return "flaky"

    @app.route("/moved/<int:code>", methods=methods)
    def moved(code: int) -> Any:
        # A deploy that changes "v"'s version turns this page, learned from its 200, into
        # a redirect or a 204 that links "v" under the new version (early-hints.md).
        push_named(MOVED_PUSHES, site)
        if site.version == 1:
            return "moved"
        if code in (301, 302):
            return redirect("/page/p1", code)
        return "", 204

    @app.route("/json", methods=methods)
    def data() -> Response:
        push_named(("b",), site)
        return jsonify(ok=True)

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        push_named(("err",), site)
        return "<p>not found</p>", 404

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        return "<p>error</p>", 500

    return app


# --- the model -----------------------------------------------------------------------------


class Linked(NamedTuple):
    """One resource as a response links it."""

    url: str
    key: str | None  # None: not tracked (a preconnect)
    pushable: bool
    link: str

    @property
    def nopush(self) -> str:
        return f"{self.link}; nopush"


def linked(name: str, version: int) -> Linked:
    if name == "pre":
        return Linked(CDN, None, False, f"<{CDN}>; rel=preconnect")
    url = URLS[name]
    key = f"{url}\n{version}" if name == "v" else url
    return Linked(url, key, url.startswith("/"), f"<{url}>; rel=preload; as=style")


def every_key() -> list[str]:
    keys = [URLS[name] for name in URLS if name != "v"]
    return keys + [f"{URLS['v']}\n{version}" for version in range(1, MAX_VERSION + 1)]


class Plan(NamedTuple):
    value: str | None
    pushed: tuple[str, ...]
    reused: tuple[str, ...]
    #: The resources the value writes, in order.
    written: tuple[Linked, ...]


def plan(
    resources: Sequence[Linked],
    held: Collection[str],
    *,
    may_push: bool,
    max_pushes: int,
    budget: int,
    omit: bool,
    offered: Collection[str] = (),
) -> Plan:
    """The ``Link`` how-it-works.md describes: held keys ``nopush`` (or left out), new
    ones pushed when the response may push, the first ``max_pushes`` (those a 103 offered
    first), links past ``budget`` bytes left out and not recorded."""
    links: list[str] = []
    written: list[Linked] = []
    pushed: list[str] = []
    reused: list[str] = []
    slots = max_pushes - len(offered)
    size = -2
    for resource in resources:
        recorded: list[str] | None = None
        if resource.key is None:
            link = resource.link
        elif resource.key in held:
            if omit:
                reused.append(resource.key)
                continue
            link, recorded = resource.nopush, reused
        elif may_push and resource.pushable and resource.key in offered:
            link, recorded = resource.link, pushed
        elif may_push and resource.pushable and slots > 0:
            link, recorded = resource.link, pushed
            slots -= 1
        else:
            link = resource.nopush
        size += 2 + len(link)
        if size > budget:
            break
        links.append(link)
        written.append(resource)
        if recorded is not None:
            recorded.append(resource.key)  # type: ignore[arg-type]
    return Plan(", ".join(links) or None, tuple(pushed), tuple(reused), tuple(written))


class Holdings:
    """What the client holds, as its connector records it."""

    def holds(self, key: str) -> bool:
        raise NotImplementedError

    def record(self, pushed: Sequence[str], reused: Sequence[str]) -> None:
        raise NotImplementedError

    def takes(self, pushed: Sequence[str], reused: Sequence[str]) -> bool:
        """Whether a response that pushed and used again these keys is recorded."""
        return True

    def room_for(self, linked_again: Collection[str]) -> int | None:
        """How many new keys a 103 may offer beside the held ones its page links again
        (None: as many as it may push)."""
        return None

    def held(self) -> set[str]:
        return {key for key in every_key() if self.holds(key)}


@dataclass
class TwoGenerations(Holdings):
    """The digest as how-it-works.md ("How the digest works") describes it, its
    generations as plain sets. Which of a page's keys go in, and in what order, is the
    code's own rule (the module docstring says which)."""

    capacity: int
    current: list[str] = field(default_factory=list)
    previous: set[str] = field(default_factory=set)

    def holds(self, key: str) -> bool:
        return key in self.current or key in self.previous

    def generations(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(self.current), frozenset(self.previous)

    def add(self, key: str) -> None:
        # "The current one takes `capacity` keys, and the next new key makes it the
        # previous one (the older is dropped) and starts a new one."
        if key in self.current:
            return
        if len(self.current) == self.capacity:
            self.previous, self.current = set(self.current), []
        self.current.append(key)

    def record(self, pushed: Sequence[str], reused: Sequence[str]) -> None:
        # The code's rule (DigestConnector.save's docstring): "At most a generation's worth
        # of them, the pushed ones last".
        page = [*reused, *pushed][-self.capacity :]
        # "A held resource found only in the older generation is copied into the current
        # one, so resources in use survive": each of the page's keys is put in the current
        # generation, and put again until it holds them all (a rotation midway leaves the
        # keys put before it in the older one).
        while missing := [key for key in page if key not in self.current]:
            for key in missing:
                self.add(key)


@dataclass
class BoundedList(Holdings):
    """``SessionConnector`` as connectors.md says it: "keeping the ``max_items`` most
    recently pushed (a response that pushes something also moves the held keys it links
    again to the end)", and "a response whose held links and new ones are more than
    ``max_items`` pushes, and records, only the first new ones that fit beside the held
    ones [...] its 103 offers only what fits beside the held ones, and the final response
    records that first"."""

    max_items: int
    keys: list[str] = field(default_factory=list)

    def holds(self, key: str) -> bool:
        return key in self.keys

    def takes(self, pushed: Sequence[str], reused: Sequence[str]) -> bool:
        return not pushed or len({*reused, *pushed}) <= self.max_items

    def room_for(self, linked_again: Collection[str]) -> int | None:
        return max(self.max_items - len(set(linked_again)), 0)

    def record(self, pushed: Sequence[str], reused: Sequence[str]) -> None:
        if not pushed:
            return
        assert self.takes(pushed, reused), "recorded more than the list keeps"
        used = list(dict.fromkeys(reversed((*reused, *pushed))))[::-1]  # each at its last
        keys = [key for key in self.keys if key not in used]
        self.keys = [*keys, *used][-self.max_items :]


@dataclass
class PlainSet(Holdings):
    """A Flask-Firehose connector, as connectors.md says: "``set_pushed`` receives what it
    returned with the pushed keys added [...], only when something was pushed"."""

    keys: set[str] = field(default_factory=set)

    def holds(self, key: str) -> bool:
        return key in self.keys

    def record(self, pushed: Sequence[str], reused: Sequence[str]) -> None:
        self.keys.update(pushed)


def may_offer_push(method: str, status: int, kind: str) -> bool:
    """Whether the response may offer a push, and record it (how-it-works.md): every
    proxy pushes for it (a GET, below 400, not a 304), and a browser's request is a
    navigation (``kind`` "navigate...") to a page it shows (a 2xx other than 204, 205),
    never its ``fetch``."""
    if method != "GET" or status >= 400 or status == 304:
        return False
    if kind == "fetch":
        return False
    if kind.startswith("navigate"):
        return 200 <= status < 300 and status not in (204, 205)
    return True


@cache
def no_false_positives(
    kind: type[BloomDigest] | type[GCSDigest], capacity: int, keys: tuple[str, ...] = ()
) -> bool:
    """Whether no key of ``keys`` (:func:`every_key`'s if none) is held by a digest
    generation of ``capacity`` at :data:`FP_RATE` holding others alone (any set of them it
    can hold): then the model's sets answer as the digest does."""
    keys = keys or tuple(every_key())
    for key in keys:
        others = [other for other in keys if other != key]
        for size in range(1, capacity + 1):
            for chosen in itertools.combinations(others, size):
                digest = AgingDigest(kind, capacity, FP_RATE)
                for other in chosen:
                    digest.add(other)
                if key in digest:
                    return False
    return True


# --- the machine ---------------------------------------------------------------------------


class Answer(NamedTuple):
    """A response, as the checks read it."""

    path: str
    method: str
    kind: str
    status: int
    #: Every ``Link`` line; ``own``: the view's own, kept last; ``ours``: the extension's.
    lines: list[str]
    own: list[str]
    ours: str | None
    #: The Set-Cookie lines of the cookie that holds the keys.
    cookies: list[str]
    vary: set[str]
    #: how-it-works.md: a page is HTML, or of no declared type (a 304 has none).
    page: bool

    @classmethod
    def read(cls, path: str, method: str, kind: str, response: Any, cookie: str) -> Answer:
        """``response`` to ``method path`` from a ``kind`` of client; ``cookie``: the name
        of the cookie that holds what the client holds."""
        lines = response.headers.getlist("Link")
        own = [OWN_LINK] if path == "/page/own" and method != "OPTIONS" else []
        vary = {
            name.strip().lower()
            for line in response.headers.getlist("Vary")
            for name in line.split(",")
        }
        return cls(
            path,
            method,
            kind,
            response.status_code,
            lines,
            own,
            lines[0] if len(lines) > len(own) else None,
            [
                line
                for line in response.headers.getlist("Set-Cookie")
                if line.startswith(f"{cookie}=")
            ],
            vary,
            response.mimetype in ("text/html", "application/xhtml+xml", None),
        )

    @property
    def browser(self) -> bool:
        """Whether a browser asked (it sends ``Sec-Fetch-Mode``): it refuses pushes."""
        return "Sec-Fetch-Mode" in REQUEST_HEADERS[self.kind]

    @property
    def request(self) -> str:
        return f"{self.method} {self.path} ({self.kind}, {self.status})"


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    max_pushes = draw(st.sampled_from((1, 2, 3)))
    store = draw(st.sampled_from(("gcs", "bloom", "session", "list")))
    tight = draw(st.booleans())
    config: dict[str, Any] = {
        "store": store,
        "FIREHOSE_MAX_PUSHES": max_pushes,
        "FIREHOSE_ALREADY_PUSHED": draw(st.sampled_from(("nopush", "omit"))),
        "FIREHOSE_EARLY_HINTS": draw(st.sampled_from((True, True, False))),
        # Three links at most, so some are cut; within 110 bytes three fit only if none is
        # written nopush (33 bytes each, 41 with it), within 120 if two at most are.
        "FIREHOSE_LINK_BUDGET": draw(st.sampled_from((110, 120))) if tight else 1800,
    }
    if store in ("gcs", "bloom"):
        config.update(
            FIREHOSE_ENCODING=store,
            FIREHOSE_CAPACITY=draw(st.sampled_from(sorted({max_pushes, 3, 4}))),
            FIREHOSE_FP_RATE=FP_RATE,
            # Tight: a full two-generation cookie beside a full Link just fits.
            FIREHOSE_HEADER_BUDGET=450 if tight else 3072,
        )
    elif store == "session":
        config["max_items"] = draw(st.sampled_from(sorted({max_pushes, 3, 100})))
    return config


class ClientMachine(RuleBasedStateMachine):
    """One client; a step is a request (or a new visitor, a deploy, a failing store)."""

    @initialize(config=configurations(), past=st.sampled_from(PASTS))
    def start(self, config: dict[str, Any], past: str) -> None:
        """A new app; or one that another visitor browsed, so its pages' 103s are learned
        (each request checked as any is); or one whose pages that link "v" another
        visitor opened, then deployed, then a second visitor opening them twice: learned
        under the version before, their 103s offer it, and a 302 that links it under the
        new one drops what its page learned, as a 301 or a 204 does whatever it links,
        so that the second time none is sent
        (docs/early-hints.md)."""
        config = dict(config)
        self.store = config.pop("store")
        max_items = config.pop("max_items", None)
        # The failing connector's traceback, logged on each failure, says nothing here.
        logging.getLogger("firehose_digest").disabled = True
        self.site = Site()
        connector: Any
        if self.store in ("gcs", "bloom"):
            connector = FailingDigest(self.site)
            kind = GCSDigest if self.store == "gcs" else BloomDigest
            assert no_false_positives(kind, config["FIREHOSE_CAPACITY"])
        elif self.store == "session":
            connector = FailingSession(self.site, max_items or 100)
        else:
            connector = FailingList(self.site)
        self.app = make_site(config, connector, self.site)
        self.max_pushes: int = config["FIREHOSE_MAX_PUSHES"]
        self.omit = config["FIREHOSE_ALREADY_PUSHED"] == "omit"
        self.link_budget: int = config["FIREHOSE_LINK_BUDGET"]
        self.header_budget: int = self.app.config["FIREHOSE_HEADER_BUDGET"]
        self.early_hints: bool = config["FIREHOSE_EARLY_HINTS"]
        self.capacity = config.get("FIREHOSE_CAPACITY")
        self.max_items = max_items
        #: page path -> what it learned (None: hinted nothing, a file), as links.
        self.learned: dict[str, tuple[Linked, ...] | None] = {}
        #: Whether the connector's next write fails, as the model knows it.
        self.armed = False
        self.new_visitor()
        if past == "browsed":
            self.browse(PATHS)
        elif past == "deployed":
            self.browse(VERSIONED_PATHS)
            self.happen("deploy")
            self.new_visitor()
            self.browse(VERSIONED_PATHS * 2)
        self.new_visitor()

    def browse(self, paths: Iterable[str]) -> None:
        """The client navigates to each of ``paths`` in turn."""
        for path in paths:
            self.ask(path, "GET", "navigate", revalidate=False)

    def new_visitor(self) -> None:
        self.client: FlaskClient = self.app.test_client()
        #: The keys the client's responses recorded, the most recently used last.
        self.used: list[str] = []
        self.model: Holdings
        if self.store in ("gcs", "bloom"):
            assert self.capacity is not None
            self.model = TwoGenerations(self.capacity)
        elif self.store == "session":
            assert self.max_items is not None
            self.model = BoundedList(self.max_items)
        else:
            self.model = PlainSet()

    def teardown(self) -> None:
        logging.getLogger("firehose_digest").disabled = False

    # --- steps that are not requests

    @rule(change=st.sampled_from(("new visitor", "failing store", "deploy")))
    def happen(self, change: str) -> None:
        """Between requests (one rule, so that requests are half the steps): a new
        visitor (or one who cleared the site's cookies); the connector's next write
        raising; a deploy, after which "v" is pushed with another version (after the last,
        the first again: a rollback)."""
        if change == "new visitor":
            self.new_visitor()
        elif change == "failing store":
            self.site.fail_next_save = self.armed = True
        else:
            self.site.version = self.site.version % MAX_VERSION + 1

    # --- requests

    @rule(
        path=st.sampled_from(PATHS),
        method=st.sampled_from(("GET", "GET", "GET", "GET", "HEAD", "POST", "OPTIONS")),
        kind=st.sampled_from(
            ("navigate", "navigate", "navigate-h2", "plain", "plain", "fetch", "bare")
        ),
        revalidate=st.booleans(),
    )
    def ask(self, path: str, method: str, kind: str, revalidate: bool) -> None:
        headers = dict(REQUEST_HEADERS[kind])
        if revalidate:
            headers["If-None-Match"] = f'"{ETAG}"'
        if path == STATIC_FILE and method == "POST":
            method = "GET"  # the static view answers 405, a page of its own
        sent: list[list[tuple[str, str]]] = []
        held_before = self.model.held()
        response = self.client.open(
            path,
            method=method,
            headers=headers,
            environ_base={"wsgi.early_hints": sent.append},
            environ_overrides={"SERVER_PROTOCOL": "HTTP/2.0"} if kind == "navigate-h2" else {},
        )
        response.close()
        self.check(path, method, kind, revalidate, held_before, sent, response)

    def resources(self, path: str, status: int) -> tuple[Linked, ...]:
        """What the request's hooks and view pushed, in push order."""
        names: tuple[str, ...]
        if path.startswith("/page/"):
            names = PAGES[path.removeprefix("/page/")]
        elif path.startswith("/status/"):
            names = STATUS_PUSHES
        elif path == "/cond":
            names = COND_PUSHES
        elif path == "/flaky":
            names = FLAKY_PUSHES
        elif path.startswith("/moved/"):
            names = MOVED_PUSHES
        else:
            names = HOOK_PUSHES + (("b",) if path == "/json" else ())
        if status == 404:
            names += ("err",)
        return tuple(linked(name, self.site.version) for name in names)

    def check(
        self,
        path: str,
        method: str,
        kind: str,
        revalidate: bool,
        held_before: set[str],
        sent: list[list[tuple[str, str]]],
        response: Any,
    ) -> None:
        """The rules, family by family, for one response; then what the client holds."""
        cookie = "h2-digest" if self.store in ("gcs", "bloom") else "session"
        answer = Answer.read(path, method, kind, response, cookie)
        self.check_own_link(answer)
        hinted = self.hinted(path, method, kind, revalidate)
        hints = self.hints_for(path) if hinted else ()
        offered_103 = self.check_103(answer, hinted, hints, sent)
        resources = self.resources(path, answer.status)
        if method == "OPTIONS" or path == STATIC_FILE or not answer.page:
            # how-it-works.md: an OPTIONS answer, a static file and a response that is
            # not a page get none of our headers; what a 103 offered goes unrecorded.
            self.check_none_of_ours(answer, hints)
            self.learn(path, hinted, answer.status, None)
            self.drop_if_gone(path, hinted, answer.status)
        else:
            if hinted and answer.status == 200:
                self.learn(path, hinted, answer.status, resources)
            offered = self.offered_keys(answer, resources, offered_103)
            if not resources and not offered:
                # how-it-works.md: a page that pushes nothing gets no Link header from us.
                self.check_none_of_ours(answer, hints)
            elif answer.status == 304:
                self.check_304(answer, resources, held_before)
            else:
                self.check_pushes(answer, resources, held_before, offered_103)
                self.check_vary_and_size(answer, resources)
                self.check_link_and_record(answer, resources, held_before, offered)
            self.drop_if_gone(path, hinted, answer.status)
        self.check_held(held_before)

    def check_own_link(self, answer: Answer) -> None:
        """how-it-works.md: "a ``Link`` header the view set itself is kept, ours is added
        before it"."""
        lines = answer.lines
        assert lines[len(lines) - len(answer.own) :] == answer.own, "the view's Link, last"
        assert len(lines) <= len(answer.own) + 1, "one Link line of ours"

    def hinted(self, path: str, method: str, kind: str, revalidate: bool) -> bool:
        """early-hints.md, "What is sent when": a 103 may go to a GET that is a top-level
        navigation (or names HTML, with no ``Sec-Fetch-*``), not a revalidation; never for
        a static file."""
        return (
            self.early_hints
            and method == "GET"
            and kind in ("navigate", "navigate-h2", "plain")
            and not revalidate
            and path != STATIC_FILE
        )

    def check_103(
        self,
        answer: Answer,
        hinted: bool,
        hints: tuple[Linked, ...],
        sent: list[list[tuple[str, str]]],
    ) -> dict[str, str]:
        """The 103 (early-hints.md, "What is sent when"): at most one, only to a request
        that may be hinted, no ``nopush`` in it, exactly the one the rules plan from what
        the page learned; returns the urls it offered for push, with their learned keys."""
        assert len(sent) <= 1, "at most one 103"
        offered_urls: list[str] = []
        if sent:
            assert hinted, f"a 103 for a {answer.method} {answer.kind} request"
            ((name, value),) = sent[0]
            assert name == "Link"
            for link in value.split(", "):
                assert "nopush" not in link, "a 103 carries no nopush link"
                if "rel=preconnect" not in link:
                    url = link[1 : link.index(">")]
                    if url.startswith("/"):  # another origin's is never pushed
                        offered_urls.append(url)
        expected, learned_keys = self.planned_103(hints, answer.kind == "navigate-h2")
        assert tuple(sent[0][0][1].split(", ") if sent else ()) == expected
        assert len(offered_urls) <= self.max_pushes
        for url in offered_urls:
            assert not self.model.holds(learned_keys[url]), f"the 103 offers {url}, held"
        return {url: learned_keys[url] for url in offered_urls}

    def offered_keys(
        self, answer: Answer, resources: tuple[Linked, ...], offered_103: dict[str, str]
    ) -> tuple[str, ...]:
        """The keys the front pushed from the 103: each url under the version this
        response links it with, else the learned one (early-hints.md); forgets what the
        page learned when a response that does not learn links another version."""
        current = {resource.url: resource.key for resource in resources}
        offered = tuple(dict.fromkeys(current.get(url) or key for url, key in offered_103.items()))
        if (
            offered != tuple(offered_103.values())
            and answer.status != 200
            and answer.status not in NO_PAGE_STATUSES  # dropped all the same: drop_if_gone
        ):
            # early-hints.md: "any other response (a `302`, `303` or `307`, a `401`,
            # `403`, `429` or `5xx`) that links the url under its new version drops what
            # the page learned".
            self.learned.pop(answer.path, None)
        return offered

    def check_none_of_ours(self, answer: Answer, hints: tuple[Linked, ...]) -> None:
        """No Link or cookie of ours, and no ``Vary: Cookie`` unless Flask's session was
        read: a Flask-Firehose connector is asked before every view, as Flask-Firehose
        asked it, which makes Flask add it (how-it-works.md)."""
        assert answer.ours is None, f"a Link on {answer.method} {answer.path}"
        assert not answer.cookies, f"a cookie set on {answer.method} {answer.path}"
        read = self.session_read(answer.path, answer.method, hints)
        assert "cookie" not in answer.vary or read, f"Vary: Cookie on {answer.request}"

    def check_304(
        self, answer: Answer, resources: tuple[Linked, ...], held_before: set[str]
    ) -> None:
        """how-it-works.md: "A 304 gets no ``Link`` at all, only the ``Vary`` its 200
        would have. It records nothing new, but saves the held keys its 200 would use
        again" (connectors.md: ``save()`` "writes what changed")."""
        assert answer.lines == answer.own, "a Link on a 304"
        if self.varies(resources, may_offer_push(answer.method, 200, answer.kind)):
            assert "cookie" in answer.vary, "a 304 without the Vary its 200 has"
        generations_before = (
            self.model.generations() if isinstance(self.model, TwoGenerations) else None
        )
        # Planned as its 200 would be: a HEAD as its GET.
        method = "GET" if answer.method == "HEAD" else answer.method
        may_push = may_offer_push(method, 200, answer.kind)
        reused = self.plan(resources, held_before, may_push=may_push, offered=()).reused
        if reused and self.fails_now(()):
            self.armed = False
        elif reused:
            self.record((), reused)
        if isinstance(self.model, TwoGenerations):
            changed = self.model.generations() != generations_before
            written = self.writes_digest(answer)
            assert written == changed, f"digest cookie {written} on a 304, changed {changed}"
            if written:
                assert "cookie" in answer.vary, "a 304's digest cookie without Vary: Cookie"
        else:
            assert not answer.cookies, "a cookie set on a 304"

    def check_pushes(
        self,
        answer: Answer,
        resources: tuple[Linked, ...],
        held_before: set[str],
        offered_103: dict[str, str],
    ) -> None:
        """how-it-works.md, "What is pushed, and what is recorded", said on its own: only
        a response that may push offers anything, nothing the client holds, at most
        ``FIREHOSE_MAX_PUSHES`` with what its 103 offered, within ``FIREHOSE_LINK_BUDGET``."""
        ours = answer.ours
        offered_here = [
            link[1 : link.index(">")]
            for link in (ours or "").split(", ")
            if ours and "nopush" not in link and "rel=preconnect" not in link
        ]
        may_push = may_offer_push(answer.method, answer.status, answer.kind)
        assert not offered_here or may_push, f"pushed on {answer.request}"
        assert len({*offered_here, *offered_103}) <= self.max_pushes
        current = {resource.url: resource.key for resource in resources}
        for url in offered_here:
            assert current[url] not in held_before, f"offered {url}, which the client holds"
        assert len(ours or "") <= self.link_budget

    def check_vary_and_size(self, answer: Answer, resources: tuple[Linked, ...]) -> None:
        """``Vary: Cookie`` wherever the cookie shaped the ``Link`` or is written; and all
        of ours within ``FIREHOSE_HEADER_BUDGET`` (how-it-works.md)."""
        may_push = may_offer_push(answer.method, answer.status, answer.kind)
        if self.writes_digest(answer) or self.varies(resources, may_push):
            assert "cookie" in answer.vary or "*" in answer.vary, f"no Vary on {answer.request}"
        if self.store in ("gcs", "bloom"):
            ours_size = sum(len(f"Set-Cookie: {line}\r\n") for line in answer.cookies)
            ours_size += len(f"Link: {answer.ours}\r\n") if answer.ours is not None else 0
            assert ours_size + len("Vary: Cookie\r\n") <= self.header_budget

    def check_link_and_record(
        self,
        answer: Answer,
        resources: tuple[Linked, ...],
        held_before: set[str],
        offered: tuple[str, ...],
    ) -> None:
        """The exact ``Link`` the rules make for what the client held, and what the model
        records of it (how-it-works.md, early-hints.md, connectors.md)."""
        generations_before = (
            self.model.generations() if isinstance(self.model, TwoGenerations) else None
        )
        may_push = may_offer_push(answer.method, answer.status, answer.kind)
        expected = self.plan(resources, held_before, may_push=may_push, offered=offered)
        pushed = expected.pushed
        if offered and (may_push or not answer.browser):
            # early-hints.md: what a 103 offered was pushed by the front, and is recorded
            # even where the response pushes it not (but a browser's, from a page it shows);
            # one the client held (under the version the url has now) is used again.
            pushed += tuple(
                key for key in offered if key not in pushed and key not in expected.reused
            )
        saves = bool(pushed or expected.reused)
        if saves and self.fails_now(pushed):
            self.armed = False
            # how-it-works.md: a connector that raises costs nothing but tracking: the
            # links all nopush, nothing recorded.
            expected = self.plan(resources, set(expected.reused), may_push=False, offered=())
        elif saves and self.model.takes(pushed, expected.reused):
            self.record(pushed, expected.reused)
        elif saves:
            # connectors.md: a response whose held links and new ones are more than the
            # list keeps pushes, and records, only the first new ones that fit beside the
            # held ones, after what its 103 offered (pushed by the front already), if
            # the list takes them.
            reused = expected.reused
            alone = tuple(key for key in pushed if key in offered)
            new = [key for key in pushed if key not in offered]
            room = self.model.room_for([*reused, *alone])
            fits = min(len(new), room if room is not None else len(new))
            replanned = None
            if fits:
                replanned = self.plan(
                    resources, {*reused, *alone}, may_push=True, offered=(), max_pushes=fits
                )
            keys = (*alone, *(replanned.pushed if replanned is not None else ()))
            if keys and len(keys) < len(pushed) and self.model.takes(keys, reused):
                self.record(keys, reused)
                expected = replanned or self.plan(
                    resources, {*reused, *alone}, may_push=False, offered=()
                )
            else:
                expected = self.plan(resources, set(reused), may_push=False, offered=())
        if isinstance(self.model, TwoGenerations):
            # connectors.md: save() "writes what changed (a cookie on response [...])".
            changed = self.model.generations() != generations_before
            written = self.writes_digest(answer)
            assert written == changed, f"digest cookie {written}, digest changed {changed}"
        assert answer.ours == expected.value, f"{answer.request} got {answer.ours!r}"

    # --- helpers

    def writes_digest(self, answer: Answer) -> bool:
        """Whether ``answer`` sets the digest cookie."""
        return self.store in ("gcs", "bloom") and bool(answer.cookies)

    def fails_now(self, pushed: Sequence[str]) -> bool:
        """Whether the connector's armed failure fires on this save: a Flask-Firehose
        connector's ``set_pushed`` is called only when something was pushed."""
        return self.armed and (self.store != "list" or bool(pushed))

    def plan(
        self,
        resources: Sequence[Linked],
        held: Collection[str],
        *,
        may_push: bool,
        offered: Collection[str],
        max_pushes: int | None = None,
    ) -> Plan:
        return plan(
            resources,
            held,
            may_push=may_push,
            max_pushes=self.max_pushes if max_pushes is None else max_pushes,
            budget=self.link_budget,
            omit=self.omit,
            offered=offered,
        )

    def varies(self, resources: Sequence[Linked], may_push: bool) -> bool:
        """Whether a client holding everything is linked otherwise than one holding
        nothing: then the Link depends on the cookie."""
        everything = {resource.key for resource in resources if resource.key is not None}
        none = self.plan(resources, set(), may_push=may_push, offered=())
        full = self.plan(resources, everything, may_push=may_push, offered=())
        return none.value != full.value

    def learn(
        self, path: str, hinted: bool, status: int, resources: tuple[Linked, ...] | None
    ) -> None:
        """docs/early-hints.md: only a 200 to a request that may be hinted teaches; a
        response that is no page teaches that nothing is to be hinted."""
        if not hinted or status != 200:
            return
        if resources is None:
            self.learned[path] = None
            return
        kept: list[Linked] = []
        size = -2
        for resource in resources:
            size += 2 + len(resource.link)
            if size > self.link_budget:
                break
            kept.append(resource)
        if kept:
            self.learned[path] = tuple(kept)
        else:
            self.learned.pop(path, None)

    def drop_if_gone(self, path: str, hinted: bool, status: int) -> None:
        """docs/early-hints.md: "So is a page learned from a `200` whose url then answers
        a navigation `204`, `301`, `308`, `404` or `410`, page or not": hinted nothing, as
        a url that answered with no page is, until a 200 teaches it again (a navigation:
        a request that may be hinted, which is the one that may learn)."""
        if hinted and status in NO_PAGE_STATUSES and path in self.learned:
            self.learned[path] = None

    def hints_for(self, path: str) -> tuple[Linked, ...]:
        """What a 103 for ``path`` is made of: what it learned, else what the hooks pushed
        before the view (docs/early-hints.md)."""
        if path in self.learned:
            return self.learned[path] or ()
        if path == "/json":
            return tuple(linked(name, self.site.version) for name in HOOK_PUSHES)
        return ()

    def session_read(self, path: str, method: str, hints: tuple[Linked, ...]) -> bool:
        """Whether the request read Flask's session before its view's response, which
        makes Flask add ``Vary: Cookie``: a Flask-Firehose connector is asked before every
        view (how-it-works.md), and any connector keeping its keys in the session is asked
        before a 103 is planned from ``hints``."""
        if self.store == "list" and method != "OPTIONS" and path != STATIC_FILE:
            return True
        return self.store in ("session", "list") and bool(hints)

    def planned_103(
        self, hints: tuple[Linked, ...], direct_http2: bool
    ) -> tuple[tuple[str, ...], dict[str, str]]:
        """The 103's links, and the keys of those it offers for push (url -> key), from
        the final ``Link`` a 200 would write with ``hints`` for this client, as
        early-hints.md derives the one from the other: "It therefore hints a tracked
        resource the client lacks only when the final response will push and record it
        too: a path-absolute url, among the first ``FIREHOSE_MAX_PUSHES``, within the
        room the final ``Link`` value has for it (the held links it writes ``nopush``
        count there)"; untracked links are "hinted to every client" ("Why no 103?")."""
        held = self.model.held()
        final = self.plan(hints, held, may_push=True, offered=())
        linked_again = [hint.key for hint in hints if hint.key in held]
        room = self.model.room_for(linked_again)
        if final.pushed and room is not None and room < len(final.pushed):
            # connectors.md: "its 103 offers only what fits beside the held ones".
            final = self.plan(hints, held, may_push=True, offered=(), max_pushes=room)
        if direct_http2:
            # "So that 103 keeps only rel=preconnect links and links to other origins
            # ..., held or not": no front pushes, so it offers nothing.
            kept = [
                hint for hint in final.written if hint.key is None or not hint.url.startswith("/")
            ]
            return tuple(hint.link for hint in kept), {}
        kept = [hint for hint in final.written if hint.key is None or hint.key in final.pushed]
        offered = {hint.url: hint.key for hint in kept if hint.key is not None}
        return tuple(hint.link for hint in kept), offered

    def record(self, pushed: Sequence[str], reused: Sequence[str]) -> None:
        """The model records what a response pushed and used again; the keys are, too,
        the most recently used (in the order ``save()`` is given them, the pushed last)."""
        self.model.record(pushed, reused)
        page = [*reused, *pushed]
        self.used = [key for key in self.used if key not in page] + page

    def check_held(self, held_before: set[str]) -> None:
        """What the connector reads from the client's cookies is what the model says, and
        its failure fired when the model says it did."""
        assert self.site.fail_next_save == self.armed, "the connector wrote when unexpected"
        cookie = "; ".join(
            f"{name}={value.value}"
            for name in ("h2-digest", "session")
            if (value := self.client.get_cookie(name)) is not None
        )
        state = self.app.extensions[EXTENSION_KEY]
        with self.app.test_request_context(headers={"Cookie": cookie} if cookie else {}):
            holder = state.connector.open(self.app, request._get_current_object())  # type: ignore[attr-defined]
            actual = {key for key in every_key() if holder is not None and key in holder}
        if self.capacity is not None:
            # Independent of the model's rules: how-it-works.md, "So a client that browses
            # forever keeps a bounded cookie (at most two filters) [...] and always the
            # `capacity` most recently used resources".
            assert len(actual) <= 2 * self.capacity
            recent = set(self.used[-self.capacity :])
            assert recent <= actual, f"lost {sorted(recent - actual)}, recently used"
        expected = self.model.held()
        assert actual == expected, (
            f"held {sorted(actual)}, model {sorted(expected)} (before {sorted(held_before)})"
        )


# About 6,000 requests, a few seconds; run it with max_examples=3000 to hunt. No deadline:
# tests/conftest.py's profile, which these settings start from.
ClientMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40)
TestClientMachine = ClientMachine.TestCase
