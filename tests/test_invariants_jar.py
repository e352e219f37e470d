"""The digest cookie as a client's jar holds it: random requests from a client that keeps,
drops, replays or is planted copies of the cookie, across deploys of the digest settings,
checked after every response against a model of what each cookie value holds.

tests/test_invariants.py drives one well-behaved client, whose jar is the test client's.
This machine keeps the jar itself, so it can send what a browser may: the cookie it was
given, one it was given earlier (a client restoring a backup, a second tab's late
response), none (a crawler that drops ``Set-Cookie``), and copies of the name beside its
own, at longer paths (sent first) or shorter (sent after, RFC 6265 §5.4): planted by a
sibling subdomain, left by a deploy, a genuine digest or garbage
(docs/security.md, "Of several copies that verify"). Between requests the app may be
deployed with another ``FIREHOSE_DIGEST_VERSION``, capacity or encoding (``init_app``
again; a rollback makes the earlier cookies good again), and each request's view pushes
what the step chose: a page whose links and versions change between visits.

The model: every digest value the app ever signed, with the settings it was signed
under, its signing time (read from the value, as itsdangerous writes it) and what it
holds (:class:`tests.test_invariants.TwoGenerations`, the same rules that file checks). Of
the copies a request sends, the one read is the one security.md names: of the last four
different values sent, the valid one signed last, of equals the one sent last; none if
more were sent and none of those four verifies. After each response:

- nothing the read copy holds is offered for push, in the ``Link`` or in a 103; the
  ``Link`` is exactly the one the rules write for it (``plan``);
- everything offered for push is held by the cookie the response sets, which verifies and
  holds exactly what the model says (read back alone, through the connector);
- a ``Set-Cookie`` of the digest comes with ``Vary: Cookie``, and is set exactly when the
  digest changed;
- a 304 carries no ``Link`` of ours; a HEAD pushes nothing and varies as its GET does for
  the same cookie (security.md, "A HEAD, pushed nothing, varies as its GET does"), and
  links the same urls: here, where they fit the link budget each marked ``nopush`` (a
  tight ``FIREHOSE_LINK_BUDGET`` fits fewer such links on a HEAD than pushing ones on its
  GET);
- no 5xx but the view's own; Flask's session, written beside, counts every visit whose
  cookie the client kept.
"""

from __future__ import annotations

import copy
import logging
import types
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, NamedTuple

import itsdangerous.timed
from flask import Flask, abort, make_response, redirect, request, session
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from itsdangerous.encoding import base64_decode

from firehose_digest import (
    BloomDigest,
    DigestConnector,
    Firehose,
    GCSDigest,
    codec,
    held_digests,
    push,
)
from firehose_digest.extension import EXTENSION_KEY
from tests.test_invariants import (
    FP_RATE,
    Linked,
    Plan,
    TwoGenerations,
    may_offer_push,
    no_false_positives,
    plan,
)

COOKIE = "h2-digest"
CDN = "https://cdn.example"
#: The urls a view may push; "a" and "b" with a version too.
LOCAL = tuple(f"/r/{name}.css" for name in "abcde")
VERSIONED = LOCAL[:2]
VERSIONS = (None, "1", "2")
POOL = (*LOCAL, f"{CDN}/x.css")
ETAG = "e1"
#: FIREHOSE_MAX_AGE: the clock steps over a cookie's renewal (half of it) and expiry.
MAX_AGE = 1000
#: The modules whose clock the machine sets: the digest's, and itsdangerous', which dates
#: what it signs (the digest and Flask's session).
CLOCKED = (codec, held_digests, itsdangerous.timed)
LAST_MODIFIED = datetime(2025, 1, 1, tzinfo=timezone.utc)
#: A view's status: 599 stands for an exception it raises.
STATUSES = (200, 200, 200, 204, 302, 404, 500, 599)
PAGES = ("x", "y")
KINDS: dict[str, dict[str, str]] = {
    "navigate": {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "none",
        "Accept": "text/html",
    },
    "plain": {"Accept": "text/html"},
    "bare": {},
}
VALIDATORS = {
    "none": {},
    "etag": {"If-None-Match": f'"{ETAG}"'},
    "since": {"If-Modified-Since": format_datetime(LAST_MODIFIED, usegmt=True)},
    "stale": {"If-None-Match": '"old"'},
}
ENCODINGS: dict[str, type[BloomDigest] | type[GCSDigest]] = {
    "gcs": GCSDigest,
    "bloom": BloomDigest,
}


def key_of(url: str, version: str | None) -> str:
    return f"{url}\n{version}" if version is not None else url


def every_key() -> list[str]:
    keys = [url for url in POOL]
    keys += [key_of(url, version) for url in VERSIONED for version in VERSIONS[1:]]
    return keys


class Generations(TwoGenerations):
    """tests/test_invariants.py's model of a digest, asked about this file's keys."""

    #: When the value it was read from was signed (None: no value, the empty digest).
    issued_at: int | None = None

    def held(self) -> set[str]:
        return {key for key in every_key() if self.holds(key)}


class Config(NamedTuple):
    """The digest settings a value is signed and read under."""

    version: str
    capacity: int
    encoding: str


class Signed(NamedTuple):
    """A digest value the app signed: under what, when, holding what."""

    config: Config
    #: The ``SECRET_KEY`` it was signed with.
    secret: str
    issued_at: int
    model: Generations


def issued_at(value: str) -> int:
    """The signing time itsdangerous wrote into ``value`` (``payload.time.signature``)."""
    timestamp = value.rsplit(".", 2)[1]
    return int.from_bytes(base64_decode(timestamp), "big")


def copies_tried(values: Sequence[str]) -> list[str]:
    """security.md: "At most four different values are tried [...]: the last four sent"."""
    return list(dict.fromkeys(reversed(values)))[:4][::-1]


class Site:
    """What the next request's view pushes, and how it answers."""

    def __init__(self) -> None:
        self.pushes: tuple[tuple[str, str | None], ...] = ()


def make_site(site: Site, config: dict[str, Any]) -> tuple[Flask, Firehose]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="jar", **config)
    firehose = Firehose(app, connector=DigestConnector())

    @app.route("/p/<name>/<int:code>", methods=["GET", "HEAD"])
    def page(name: str, code: int) -> Any:
        for url, version in site.pushes:
            push(url, as_="style", version=version)
        if request.args.get("session"):
            session["visits"] = session.get("visits", 0) + 1
        body = f"{name} {session.get('visits', 0)}"
        if code == 599:
            raise RuntimeError("the view fails")
        if code in (404, 500):
            abort(code)
        if code == 302:
            return redirect("/p/x/200")
        if code == 204:
            return "", 204
        response = make_response(body)
        response.set_etag(ETAG)
        response.last_modified = LAST_MODIFIED
        return response.make_conditional(request)

    return app, firehose


class Jar:
    """The client's copies of the digest cookie, in the order it sends them: planted at
    longer paths, its own (the one the app's ``Set-Cookie`` replaces), then copies at
    shorter paths or parent domains."""

    def __init__(self) -> None:
        self.before: list[str] = []
        self.own: str | None = None
        self.after: list[str] = []
        self.session: str | None = None

    def values(self) -> list[str]:
        own = [self.own] if self.own is not None else []
        return [*self.before, *own, *self.after]

    def header(self) -> str:
        cookies = [f"{COOKIE}={value}" for value in self.values()]
        if self.session is not None:
            cookies.append(f"session={self.session}")
        return "; ".join(cookies)


class Answer(NamedTuple):
    status: int
    ours: str | None
    vary: set[str]
    digest: str | None
    session: str | None
    hints: list[list[tuple[str, str]]]
    body: str


def set_cookie_value(response: Any, name: str, path: str = "/") -> str | None:
    lines: list[str] = [
        line for line in response.headers.getlist("Set-Cookie") if line.startswith(f"{name}=")
    ]
    assert len(lines) <= 1, f"{len(lines)} Set-Cookie lines for {name}"
    if not lines:
        return None
    assert f"Path={path}" in lines[0].split("; "), lines[0]
    return lines[0].split(";", 1)[0].removeprefix(f"{name}=")


def offered_urls(value: str | None) -> list[str]:
    """The urls a ``Link`` value offers for push: plain preloads of path-absolute urls."""
    urls = []
    for link in (value or "").split(", ") if value else ():
        url = link[1 : link.index(">")]
        if "nopush" not in link and "rel=preload" in link and url.startswith("/"):
            urls.append(url)
    return urls


def linked_urls(value: str | None) -> list[str]:
    return [link[1 : link.index(">")] for link in value.split(", ")] if value else []


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    max_pushes = draw(st.sampled_from((1, 2, 3)))
    return {
        "FIREHOSE_MAX_PUSHES": max_pushes,
        "FIREHOSE_ALREADY_PUSHED": draw(st.sampled_from(("nopush", "omit"))),
        "FIREHOSE_EARLY_HINTS": draw(st.booleans()),
        "FIREHOSE_FP_RATE": FP_RATE,
        "FIREHOSE_MAX_AGE": MAX_AGE,
    }


configs = st.builds(
    Config,
    st.sampled_from(("", "2")),
    st.sampled_from((3, 4)),
    st.sampled_from(tuple(ENCODINGS)),
)
pushes = st.lists(
    st.tuples(st.sampled_from(POOL), st.sampled_from(VERSIONS)),
    max_size=5,
    unique_by=lambda pushed: pushed[0],
).map(lambda drawn: tuple((url, version if url in VERSIONED else None) for url, version in drawn))


class JarMachine(RuleBasedStateMachine):
    """One client and its jar; a step is a request, or something done to the jar or app."""

    @initialize(config=configurations(), digest=configs)
    def start(self, config: dict[str, Any], digest: Config) -> None:
        logging.getLogger(__name__).disabled = True  # the 599 view's traceback
        # A clock of the machine's own, which moves only as a step says: a cookie is
        # then valid, due for renewal or expired exactly when the model says.
        self.now = 1_750_000_000.25
        clock = types.SimpleNamespace(time=lambda: self.now)
        self.clocks = [(module, module.time) for module in CLOCKED]
        for module in CLOCKED:
            module.time = clock  # type: ignore[attr-defined]
        self.site = Site()
        self.max_pushes: int = config["FIREHOSE_MAX_PUSHES"]
        self.omit = config["FIREHOSE_ALREADY_PUSHED"] == "omit"
        self.early_hints: bool = config["FIREHOSE_EARLY_HINTS"]
        self.config = digest
        self.app, self.firehose = make_site(self.site, {**config, **self.digest_settings()})
        self.client = self.app.test_client(use_cookies=False)
        #: Every digest value the app signed.
        self.signed: dict[str, Signed] = {}
        #: Values the jar may be planted with that are no digest of the app's.
        self.foreign: list[str] = []
        self.jar = Jar()
        self.visits = 0
        #: The SECRET_KEY that signed the jar's session.
        self.session_secret = "jar"
        #: page url (its query too) -> url -> key, as its last hinted 200 linked them.
        self.learned: dict[str, dict[str, str]] = {}

    def teardown(self) -> None:
        logging.getLogger(__name__).disabled = False
        for module, clock in getattr(self, "clocks", ()):
            module.time = clock

    def digest_settings(self) -> dict[str, Any]:
        assert no_false_positives(
            ENCODINGS[self.config.encoding], self.config.capacity, tuple(every_key())
        )
        return {
            "FIREHOSE_DIGEST_VERSION": self.config.version,
            "FIREHOSE_CAPACITY": self.config.capacity,
            "FIREHOSE_ENCODING": self.config.encoding,
        }

    # --- what the model reads

    def in_force(self, secret: str) -> bool:
        config = self.app.config
        return secret == config["SECRET_KEY"] or secret in config.get("SECRET_KEY_FALLBACKS", [])

    def valid(self, value: str) -> bool:
        signed = self.signed.get(value)
        return (
            signed is not None
            and signed.config == self.config
            and self.in_force(signed.secret)
            # codec.py: "age > self.max_age" is refused, in whole seconds.
            and int(self.now) - signed.issued_at <= MAX_AGE
        )

    def read(self, values: Sequence[str]) -> Generations | None:
        """What the app reads from the copies sent: None when it cannot tell."""
        empty = Generations(self.config.capacity)
        if len(values) < 2:
            return self.signed[values[0]].model if values and self.valid(values[0]) else empty
        tried = copies_tried(values)
        valid = [value for value in tried if self.valid(value)]
        if valid:
            newest = max(self.signed[value].issued_at for value in valid)
            return self.signed[[v for v in valid if self.signed[v].issued_at == newest][-1]].model
        return None if len(tried) < len(set(values)) else empty

    def session_valid(self) -> bool:
        return self.jar.session is not None and self.in_force(self.session_secret)

    # --- steps done to the jar and the app

    @rule(seconds=st.sampled_from((1, 250, 499, 500, 501, 999, 1000, 1001)))
    def wait(self, seconds: int) -> None:
        """Time passes: a cookie signed ``MAX_AGE / 2`` ago is signed again as it is saved,
        one signed more than ``MAX_AGE`` ago is refused."""
        self.now += seconds

    @rule()
    def new_visitor(self) -> None:
        self.jar = Jar()
        self.visits = 0

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """The client sends a value it was given earlier (a restored profile)."""
        if self.signed:
            self.jar.own = data.draw(st.sampled_from(sorted(self.signed)))

    @rule(data=st.data(), where=st.sampled_from(("before", "after")), what=st.integers(0, 3))
    def plant(self, data: st.DataObject, where: str, what: int) -> None:
        """A copy of the name at another path or domain: a genuine digest (given to a
        sibling subdomain), garbage, or another app's."""
        if what == 0 and self.signed:
            value = data.draw(st.sampled_from(sorted(self.signed)))
        elif what == 1 and self.foreign:
            value = data.draw(st.sampled_from(self.foreign))
        elif what == 2 and self.signed:
            genuine = data.draw(st.sampled_from(sorted(self.signed)))
            # A broken signature: its first character changed (the last one's low bits
            # are padding, which base64 decodes away).
            signed, signature = genuine.rsplit(".", 1)
            other = "A" if signature[0] != "A" else "B"
            value = f"{signed}.{other}{signature[1:]}"
        else:
            value = data.draw(st.sampled_from(("x", "e30", "a.b.c", "")))
        if len(self.jar.values()) < 10:  # past four, one more changes nothing
            getattr(self.jar, where).append(value)

    @rule()
    def planted_expire(self) -> None:
        self.jar.before.clear()
        self.jar.after.clear()

    @rule(digest=configs)
    def deploy(self, digest: Config) -> None:
        """``init_app`` again with other digest settings (or the same): a cookie of other
        settings holds nothing, until a rollback; the 103s are learned again."""
        capacity = max(digest.capacity, self.max_pushes)
        self.config = digest._replace(capacity=capacity)
        self.app.config.update(self.digest_settings())
        self.firehose.init_app(self.app)
        self.learned.clear()

    @rule(
        secret=st.sampled_from(("jar", "jar2")),
        fallbacks=st.sets(st.sampled_from(("jar", "jar2"))),
    )
    def rotate_keys(self, secret: str, fallbacks: set[str]) -> None:
        """``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` changed (security.md, "Key
        rotation"): read as each response is written, no ``init_app``."""
        self.app.config.update(
            SECRET_KEY=secret, SECRET_KEY_FALLBACKS=sorted(fallbacks - {secret})
        )

    @rule(key=st.sampled_from(("other", "jar")))
    def another_app(self, key: str) -> None:
        """A value another app on the host signed (another key, or this key and another
        cookie path), to be planted."""
        other = Flask("other")
        other.config.update(SECRET_KEY=key, SESSION_COOKIE_PATH="/other", **self.digest_settings())
        other.config["FIREHOSE_MAX_PUSHES"] = 1
        Firehose(other)

        @other.route("/other/")
        def other_page() -> str:
            push(LOCAL[0], as_="style")
            return "other"

        value = set_cookie_value(other.test_client().get("/other/"), COOKIE, "/other")
        assert value is not None
        self.foreign.append(value)

    # --- requests

    @rule(
        name=st.sampled_from(PAGES),
        code=st.sampled_from(STATUSES),
        method=st.sampled_from(("GET", "GET", "GET", "HEAD")),
        kind=st.sampled_from(tuple(KINDS)),
        validator=st.sampled_from(tuple(VALIDATORS)),
        pushed=pushes,
        keeps=st.booleans(),
        touch_session=st.booleans(),
    )
    def visit(
        self,
        name: str,
        code: int,
        method: str,
        kind: str,
        validator: str,
        pushed: tuple[tuple[str, str | None], ...],
        keeps: bool,
        touch_session: bool,
    ) -> None:
        """A request; ``keeps``: whether the client keeps the cookies set (a crawler
        drops them)."""
        self.site.pushes = pushed
        answer = self.ask(name, code, method, kind, validator, touch_session)
        if keeps:
            self.keep(answer)

    @rule(
        name=st.sampled_from(PAGES),
        code=st.sampled_from(STATUSES),
        kind=st.sampled_from(tuple(KINDS)),
        validator=st.sampled_from(tuple(VALIDATORS)),
        pushed=pushes,
    )
    def head_then_get(
        self,
        name: str,
        code: int,
        kind: str,
        validator: str,
        pushed: tuple[tuple[str, str | None], ...],
    ) -> None:
        """A HEAD, its cookie dropped, then the GET with the same cookie: the HEAD's
        ``Link`` and ``Vary`` are its GET's, pushing nothing."""
        self.site.pushes = pushed
        head = self.ask(name, code, "HEAD", kind, validator, False)
        get = self.ask(name, code, "GET", kind, validator, False)
        self.keep(get)
        assert head.status == get.status
        if get.hints:
            return  # the GET's own 103 took slots of its own
        assert offered_urls(head.ours) == [], f"a HEAD pushed: {head.ours!r}"
        assert linked_urls(head.ours) == linked_urls(get.ours), (head.ours, get.ours)
        assert ("cookie" in head.vary) == ("cookie" in get.vary), (head.vary, get.vary)

    def keep(self, answer: Answer) -> None:
        if answer.digest is not None:
            self.jar.own = answer.digest
        if answer.session is not None:
            self.visits = self.visits + 1 if self.session_valid() else 1
            self.jar.session = answer.session
            self.session_secret = self.app.config["SECRET_KEY"]

    def ask(
        self, name: str, code: int, method: str, kind: str, validator: str, touch_session: bool
    ) -> Answer:
        path = f"/p/{name}/{code}"
        headers = {**KINDS[kind], **VALIDATORS[validator]}
        cookie = self.jar.header()
        if cookie:
            headers["Cookie"] = cookie
        sent: list[list[tuple[str, str]]] = []
        held = self.read(self.jar.values())
        response = self.client.open(
            path,
            method=method,
            headers=headers,
            query_string={"session": "1"} if touch_session else {},
            environ_base={"wsgi.early_hints": sent.append},
        )
        response.close()
        links = response.headers.getlist("Link")
        answer = Answer(
            response.status_code,
            links[0] if links else None,
            {
                part.strip().lower()
                for line in response.headers.getlist("Vary")
                for part in line.split(",")
            },
            set_cookie_value(response, COOKIE),
            set_cookie_value(response, "session"),
            sent,
            response.get_data(as_text=True),
        )
        self.check(path, code, method, kind, validator, touch_session, held, answer)
        return answer

    # --- the checks

    def check(
        self,
        path: str,
        code: int,
        method: str,
        kind: str,
        validator: str,
        touch_session: bool,
        held: Generations | None,
        answer: Answer,
    ) -> None:
        conditional = code == 200 and validator in ("etag", "since")
        expected_status = {599: 500}.get(code, 304 if conditional else code)
        assert answer.status == expected_status, f"{method} {path}: {answer.status}"
        assert len(answer.hints) <= 1
        if answer.digest is not None:
            assert "cookie" in answer.vary, f"{method} {path}: Set-Cookie without Vary: Cookie"
        assert (answer.session is not None) == touch_session, "the session not written"
        if touch_session and method == "GET" and answer.status == 200:
            visits = self.visits if self.session_valid() else 0
            assert answer.body.endswith(f" {visits + 1}"), answer.body
        resources = tuple(
            Linked(
                url, key_of(url, version), url.startswith("/"), f"<{url}>; rel=preload; as=style"
            )
            for url, version in self.site.pushes
        )
        current = {url: key_of(url, version) for url, version in self.site.pushes}
        holds = held.held() if held is not None else set()
        # A revalidation, whatever its validator's answer, gets no 103 and so teaches
        # nothing (extension._early_hints_sender): not the page's links, should a stale
        # validator's 200 link others than the page learned.
        hinted = (
            self.early_hints
            and method == "GET"
            and kind in ("navigate", "plain")
            and validator == "none"
        )
        page = f"{path}?session=1" if touch_session else path
        offered: tuple[str, ...] = ()
        learned: dict[str, str] = {}
        urls: list[str] = []
        if answer.hints:
            assert hinted, f"a 103 for {method} {path} ({kind}, {validator})"
            ((field, value),) = answer.hints[0]
            assert field == "Link" and "nopush" not in value
            learned = self.learned.get(page, {})
            urls = offered_urls(value)
            assert len(urls) <= self.max_pushes
            for url in urls:
                assert learned[url] not in holds, f"the 103 offers {url}, held"
            offered = tuple(dict.fromkeys(current.get(url) or learned[url] for url in urls))
        status = answer.status
        if hinted and status == 200:
            self.learned[page] = dict(current)
        elif hinted and status in (204, 301, 308, 404, 410):
            self.learned[page] = {}
        elif offered and tuple(learned[url] for url in urls) != offered and status != 200:
            self.learned.pop(page, None)
        may_push = may_offer_push(method, status, kind)
        pushed_urls = offered_urls(answer.ours)
        for url in pushed_urls:
            assert current[url] not in holds, f"{method} {path} pushes {url}, held"
        assert not pushed_urls or may_push, f"{method} {path} ({kind}, {status}) pushed"
        if not resources and not offered:
            assert answer.ours is None and answer.digest is None
            return
        if held is None:
            # None of the copies tried verifies, and one not tried may be the client's:
            # nothing pushed, nothing written.
            assert answer.digest is None, "written over copies not tried"
            assert pushed_urls == [], "pushed to a client whose digest was not read"
            return
        if status == 304:
            assert answer.ours is None, "a Link on a 304"
            reused = self.plan(resources, holds, may_push=may_offer_push("GET", 200, kind)).reused
            self.record(held, answer, (), reused)
            return
        planned = self.plan(resources, holds, may_push=may_push, offered=offered)
        assert answer.ours == planned.value, f"{method} {path} got {answer.ours!r}"
        recorded = planned.pushed
        if offered and (may_push or kind != "navigate"):
            recorded += tuple(
                key for key in offered if key not in recorded and key not in planned.reused
            )
        self.record(held, answer, recorded, planned.reused)
        if self.varies(resources, may_push):
            assert "cookie" in answer.vary, f"no Vary: Cookie on {method} {path}"

    def record(
        self,
        held: Generations,
        answer: Answer,
        pushed: Sequence[str],
        reused: Sequence[str],
    ) -> None:
        """The model of the cookie the response sets, checked against it read back."""
        model = copy.deepcopy(held)
        if pushed or reused:
            model.record(pushed, reused)
        changed = model.generations() != held.generations()
        # codec.renewal_at: "half its lifetime gone" of one that expires at
        # issued_at + MAX_AGE + 1 (codec.expires_at).
        renews = held.issued_at is not None and self.now >= held.issued_at + MAX_AGE / 2 + 1
        written = changed or (renews and bool(pushed or reused))
        assert (answer.digest is not None) == written, (
            f"digest cookie {answer.digest is not None}, changed {changed}, renewal {renews} "
            f"(pushed {pushed}, reused {reused})"
        )
        if answer.digest is None:
            return
        model.issued_at = issued_at(answer.digest)
        assert model.issued_at == int(self.now)
        secret = self.app.config["SECRET_KEY"]
        self.signed[answer.digest] = Signed(self.config, secret, model.issued_at, model)
        actual = self.read_back(answer.digest)
        assert actual == model.held(), (
            f"cookie holds {sorted(actual)}, model {sorted(model.held())}"
        )
        assert set(pushed) <= actual

    def read_back(self, value: str) -> set[str]:
        state = self.app.extensions[EXTENSION_KEY]
        with self.app.test_request_context(headers={"Cookie": f"{COOKIE}={value}"}):
            holder = state.connector.open(self.app, request._get_current_object())  # type: ignore[attr-defined]
            assert holder is not None
            return {key for key in every_key() if key in holder}

    def plan(
        self,
        resources: Sequence[Linked],
        held: set[str],
        *,
        may_push: bool,
        offered: Sequence[str] = (),
    ) -> Plan:
        return plan(
            resources,
            held,
            may_push=may_push,
            max_pushes=self.max_pushes,
            budget=1800,
            omit=self.omit,
            offered=offered,
        )

    def varies(self, resources: Sequence[Linked], may_push: bool) -> bool:
        everything = {resource.key for resource in resources if resource.key is not None}
        none = self.plan(resources, set(), may_push=may_push)
        full = self.plan(resources, everything, may_push=may_push)
        return none.value != full.value


# About 1,800 requests, a few seconds; run it with max_examples=2000 and
# stateful_step_count=60 to hunt. No deadline: tests/conftest.py's profile.
JarMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30)
TestJarMachine = JarMachine.TestCase


def test_a_revalidation_that_links_otherwise_teaches_the_103_nothing() -> None:
    """The machine's model once took a stale ``If-None-Match`` for a navigation that is
    hinted and teaches: the page's links changed (now none), a new visitor's revalidation
    got the new page, and the model expected the next 103 to offer nothing. A revalidation
    gets no 103 and teaches nothing, so that 103 offers the links learned before, and the
    model must know them (hypothesis found this sequence)."""
    machine = JarMachine()
    machine.start(
        config={
            "FIREHOSE_MAX_PUSHES": 1,
            "FIREHOSE_ALREADY_PUSHED": "nopush",
            "FIREHOSE_EARLY_HINTS": True,
            "FIREHOSE_FP_RATE": 1e-06,
            "FIREHOSE_MAX_AGE": MAX_AGE,
        },
        digest=Config("", 3, "gcs"),
    )
    learns = dict(code=200, kind="navigate", name="x", validator="none")
    machine.head_then_get(**learns, pushed=(("/r/a.css", None),))
    machine.new_visitor()
    machine.head_then_get(code=200, kind="navigate", name="x", pushed=(), validator="stale")
    assert machine.learned["/p/x/200"] == {"/r/a.css": "/r/a.css"}

    machine.head_then_get(**learns, pushed=())

    assert machine.learned["/p/x/200"] == {}
    machine.teardown()
