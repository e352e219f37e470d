"""What the unit tests share: a small site and the Link values it writes."""

from __future__ import annotations

import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar, NamedTuple, TypeVar

from flask import Flask, Request, Response, g, render_template_string, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

import firehose_digest
from firehose_digest import DigestConnector, Firehose, push
from firehose_digest.codec import DigestCodec
from tests.integration.rig import NAVIGATION_ACCEPT

PAGE = """<!doctype html>
<link rel=stylesheet href="{{ push('/static/site.css', as='style') }}">
<script src="{{ push('/static/app.js', as='script') }}"></script>
<link rel=preload href="{{
  push('/static/inter.woff2', 'crossorigin', as='font', type='font/woff2') }}">
"""

EXPECTED_FIRST = (
    "</static/site.css>; rel=preload; as=style, "
    "</static/app.js>; rel=preload; as=script, "
    '</static/inter.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin'
)
EXPECTED_RETURN = (
    "</static/site.css>; rel=preload; as=style; nopush, "
    "</static/app.js>; rel=preload; as=script; nopush, "
    '</static/inter.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin; nopush'
)

#: The keys of the per-host session interfaces the tests use: one host known.
PER_HOST_KEYS = {"known.test": "the known host's key"}


class RaisingPerHostSessions(SecureCookieSessionInterface):
    """Flask's cookie session signed with a key per host, whose ``get_signing_serializer``
    raises (a KeyError) on a host it holds no key for, where it opens an empty session
    without asking it. Here, not in test_extension.py, whose async views need asgiref,
    which the lowest-versions run (tests/integration/test_wheel.py) does not install."""

    keys: ClassVar[dict[str, str]] = PER_HOST_KEYS

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = self.keys[request.host]
        signer = {"key_derivation": self.key_derivation, "digest_method": self.digest_method}
        return URLSafeTimedSerializer(
            key, salt=self.salt, serializer=self.serializer, signer_kwargs=signer
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.host not in self.keys:
            return self.session_class()
        return super().open_session(app, request)


AppFactory = Callable[..., Flask]


def build_app(connector: Any = None, **config: Any) -> Flask:
    """A small site: a template page, a view that pushes its query args, a quiet page."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test secret"
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        return render_template_string(PAGE)

    @app.route("/push")
    def push_urls() -> str:
        from flask import request

        for url in request.args.getlist("u"):
            push(url, as_="style")
        return "ok"

    @app.route("/own-link")
    def own_link() -> Response:
        push("/static/site.css", as_="style")
        return Response("ok", headers={"Link": "</next>; rel=next"})

    @app.route("/quiet")
    def quiet() -> str:
        return "nothing pushed"

    Firehose(app, connector=connector)
    return app


def revalidated_page(headers: dict[str, str] | None = None) -> Response:
    """A page with the ETag ``"v1"``, made conditional on the request being served: a 304
    when its ``If-None-Match`` names that ETag, with this response's own headers."""
    response = Response("page", headers=headers)
    response.set_etag("v1")
    response.make_conditional(request)  # in place
    return response


def run_in_threads(*targets: Callable[[], object], interleave: bool = True) -> None:
    """Run each target in a thread of its own and wait for all. ``interleave`` switches
    threads every microsecond rather than every 5 ms, so that they interleave inside the
    code under test, where a missing lock would show."""
    threads = [threading.Thread(target=target) for target in targets]
    interval = sys.getswitchinterval()
    if interleave:
        sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)


def error_pages(wsgi_app: Any) -> Any:
    """A middleware that answers a ``RuntimeError`` raised while the app's body streams
    with a 500 page of its own, started over the response with ``exc_info`` (PEP 3333)."""

    def middleware(environ: Any, start_response: Any) -> list[bytes]:
        try:
            return list(wsgi_app(environ, start_response))
        except RuntimeError:
            start_response(
                "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")], sys.exc_info()
            )
            return [b"error"]

    return middleware


def count_verified(monkeypatch: Any) -> list[str]:
    """The cookie values ``DigestCodec.loads`` is asked to verify from now on, in order."""
    verified: list[str] = []
    loads = DigestCodec.loads

    def counting_loads(codec: DigestCodec, value: str) -> Any:
        verified.append(value)
        return loads(codec, value)

    monkeypatch.setattr(DigestCodec, "loads", counting_loads)
    return verified


class CountingConnector(DigestConnector):
    """The digest connector, counting how often it is asked what the client holds."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def open(self, app: Flask, request: Request) -> Any:
        self.asked += 1
        return super().open(app, request)


class ListInSession:
    """docs/connectors.md's ``PushedInSession``: a Flask-Firehose style connector keeping a
    list in Flask's session, without bound."""

    @staticmethod
    def get_pushed() -> set[str]:
        return set(session.get("pushed", []))

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        session["pushed"] = sorted(items)


class ListInSessionInPlace(ListInSession):
    """The same list, extended in place."""

    @staticmethod
    def set_pushed(items: set[str]) -> None:
        stored = session.setdefault("pushed", [])
        stored.extend(sorted(set(items) - set(stored)))
        session.modified = True


class CountedListInSession:
    """:class:`ListInSession` as an instance, counting how often it is asked."""

    def __init__(self) -> None:
        self.asked = 0

    def get_pushed(self) -> set[str]:
        self.asked += 1
        return ListInSession.get_pushed()

    def set_pushed(self, items: set[str]) -> None:
        ListInSession.set_pushed(items)


class InStore:
    """A Flask-Firehose connector over a store of its own, not the session: it writes no
    cookie."""

    def __init__(self) -> None:
        self.store: set[str] = set()

    def get_pushed(self) -> set[str]:
        return set(self.store)

    def set_pushed(self, items: set[str]) -> None:
        self.store = set(items)


class PageClient(FlaskClient):
    """A test client that asks for pages as a browser navigating does: ``Accept`` names
    HTML (a request's own ``Accept`` header still wins). Flask's sends no ``Accept``, and
    a request without Fetch Metadata that names no HTML is hinted nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT"] = NAVIGATION_ACCEPT


def bytes_freed(make: Callable[[int], object], count: int = 40) -> int:
    """What ``count`` objects made by ``make(i)`` keep alive, as tracemalloc sees it: the
    bytes freed when they are dropped, so what the interpreter allocates once, on the
    first, is not counted. They are held in a list made untraced."""
    made: list[object] = [None] * count
    tracemalloc.start()
    try:
        for i in range(count):
            made[i] = make(i)
        kept = tracemalloc.get_traced_memory()[0]
        made.clear()
        return kept - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


T = TypeVar("T")

_PACKAGE = str(Path(firehose_digest.__file__).parent)


class Work(NamedTuple):
    """What one call cost, counted rather than timed, so the same on any machine however
    loaded: a quadratic path shows as lines squared, a buffer sized from its input as bytes.
    What a C function does inside one line is not counted: that is what ``make bench``
    times (``bench/hostile.py``)."""

    #: Lines of firehose_digest run (``sys.settrace`` line events in the package's files).
    lines: int
    #: The most bytes held at once beyond what was held before the call (tracemalloc).
    peak: int


def work_of(call: Callable[[], T]) -> tuple[T, Work]:
    """``call()``'s result and its :class:`Work`. A tracer already set (a debugger,
    coverage) is put back after."""
    lines = 0

    def in_package(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal lines
        lines += event == "line"
        return in_package

    def on_call(frame: FrameType, event: str, arg: object) -> Any:
        return in_package if frame.f_code.co_filename.startswith(_PACKAGE) else None

    before = sys.gettrace()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    sys.settrace(on_call)
    try:
        result = call()
    finally:
        sys.settrace(before)
        peak = tracemalloc.get_traced_memory()[1] - held
        if not tracing:
            tracemalloc.stop()
    return result, Work(lines, peak)


#: The members HAR 1.2 requires of each of its objects (its spec:
#: http://www.softwareishard.com/blog/har-12-spec/), for the HAR files the tests build and
#: docs/shop.har to have the shape developer tools write.
HAR_REQUIRED = {
    "log": {"version", "creator", "entries"},
    "creator": {"name", "version"},
    "page": {"startedDateTime", "id", "title", "pageTimings"},
    "entry": {"startedDateTime", "time", "request", "response", "cache", "timings"},
    "request": {
        *("method", "url", "httpVersion", "cookies", "headers", "queryString"),
        *("headersSize", "bodySize"),
    },
    "response": {
        *("status", "statusText", "httpVersion", "cookies", "headers", "content"),
        *("redirectURL", "headersSize", "bodySize"),
    },
    "cookie": {"name", "value"},
    "header": {"name", "value"},
    "content": {"size", "mimeType"},
    "timings": {"send", "wait", "receive"},
}


def har_missing(document: dict[str, Any]) -> list[str]:
    """The members HAR 1.2 requires that ``document`` lacks, each as "object.member"."""
    log = document["log"]
    found: list[tuple[str, dict[str, Any]]] = [("log", log), ("creator", log["creator"])]
    found += [("page", page) for page in log.get("pages", [])]
    for entry in log["entries"]:
        found += [("entry", entry), ("timings", entry["timings"])]
        found += [("request", entry["request"]), ("response", entry["response"])]
        found.append(("content", entry["response"]["content"]))
        for message in (entry["request"], entry["response"]):
            found += [("header", header) for header in message["headers"]]
            found += [("cookie", cookie) for cookie in message["cookies"]]
    return [
        f"{kind}.{member}"
        for kind, value in found
        for member in sorted(HAR_REQUIRED[kind] - set(value))
    ]


def tag_responses_with_a_request_id(app: Flask) -> None:
    """Hooks as an app writes them: a ``before_request`` one sets ``g.request_id`` to
    ``"r1"``, and an ``after_request`` one writes it as ``X-Request-Id``, which fails if a
    hook before the first one stopped the request's hooks. Flask answers a ``Host`` outside
    ``TRUSTED_HOSTS`` 400 only after every ``before_request`` hook has run: ours must not
    answer it sooner."""

    @app.before_request
    def name_the_request() -> None:
        g.request_id = "r1"

    @app.after_request
    def tag_the_response(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.request_id
        return response
