"""The Flask adapter: ``push()`` collects; after the view, ``Link`` is written, the connector told.

The data path, once per request:

1. A thin WSGI wrapper around ``app.wsgi_app`` opens this request's record.
2. ``push(url, ...)`` (from a view or a template) validates and formats the link-value
   (cached) and adds it to the record, by url.
3. After the view (``after_request``), the connector's ``get_pushed()`` says which keys the
   client already holds. Held resources become ``nopush`` links (or are left out,
   ``FIREHOSE_ALREADY_PUSHED="omit"``), new ones plain preloads, all in one ``Link`` value.
4. New keys go back to the connector through ``set_pushed(items)``; a connector with a
   ``process_response(response)`` method (the digest cookie) then writes its state.
5. As the response starts, the wrapper *adds* that ``Link`` header beside any the view set,
   and ``Vary: Cookie`` when the connector was asked, since what a client holds comes from
   its cookies. Written there, the value is not scanned and copied by Werkzeug's response
   headers twice more: for ten links that was a third of the extension's cost.

With ``FIREHOSE_EARLY_HINTS`` on and a server that offers ``wsgi.early_hints``, a GET's
links are also learned per path after a 200, and replayed before the view of the next GET
for that path as one ``103 Early Hints`` (see :mod:`.hints`); ``get_pushed()`` is then asked
before the view, once, and its answer reused in step 2.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from flask import Flask, Response, request

from .hints import DEFAULT_CACHE_ENTRIES, HintCache, early_hints_headers
from .links import format_link

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Connector", "Firehose", "push"]

log = logging.getLogger("firehose_digest")

_ResponseT = TypeVar("_ResponseT", bound=Response)
_ViewT = TypeVar("_ViewT", bound=Callable[..., Any])

EXTENSION_KEY = "firehose"
#: Set in ``app.extensions`` once the early-hints hook is registered on the app.
_HINTS_HOOK_KEY = "firehose_early_hints_hook"
_ALREADY_PUSHED_CHOICES = ("nopush", "omit")


class Connector(Protocol):
    """Flask-Firehose's connector protocol: any object, or a class with static methods."""

    def get_pushed(self) -> Container[str]: ...

    def set_pushed(self, items: Any) -> None: ...


@dataclass(frozen=True)
class _AppState:
    connector: Connector
    enabled: bool
    omit_pushed: bool
    #: The connector's optional ``process_response(response)``, looked up once.
    process_response: Callable[[Response], None] | None = None
    #: The paths' learned links when ``FIREHOSE_EARLY_HINTS`` is on, else None.
    hint_cache: HintCache[_Resource] | None = None
    declared: _Declared = field(default_factory=lambda: _Declared())


@dataclass(frozen=True, slots=True)
class _Resource:
    #: What the connector remembers: the url, or ``url "\n" version`` when versioned.
    key: str
    link: str
    #: Only plain preloads are remembered and may get ``nopush``.
    tracked: bool
    #: ``link`` as written for a client that holds the resource (built once, as it is cached).
    held_link: str
    #: The ``as`` it was pushed with, which push()'s cache by url checks.
    as_: str | None


class _RequestRecord:
    """One request: the resources pushed, by url in first-push order, and its headers to add.

    It also hands this package's connectors the app and the WSGI environ, and keeps their
    state for the request: in a real request every ``request`` or ``current_app`` lookup and
    every ``ContextVar.set`` costs a microsecond or more, which the digest's return visit
    paid four times.
    """

    __slots__ = (
        "_asked",
        "_pushed",
        "_start_response",
        "app",
        "connector_state",
        "environ",
        "hint_path",
        "link",
        "resources",
        "vary",
    )

    def __init__(
        self, app: Flask, environ: WSGIEnvironment, start_response: StartResponse
    ) -> None:
        self.app = app
        self.environ = environ
        self._start_response = start_response
        #: What the connector keeps from get_pushed() to process_response().
        self.connector_state: Any = None
        self.resources: dict[str, _Resource] = {}
        #: The path whose links a 200 teaches the hint cache; None when not learning.
        self.hint_path: str | None = None
        #: What the response gets as it starts: our ``Link`` value, and whether the
        #: connector's answer shaped it (``Vary: Cookie``).
        self.link: str | None = None
        self.vary = False
        self._asked = False
        self._pushed: Container[str] | None = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        """The server's ``start_response``, with this request's headers appended."""
        if self.link is not None:
            headers.append(("Link", self.link))  # beside any Link the view wrote
        if self.vary and not _varies_on_cookie(headers):
            headers.append(("Vary", "Cookie"))  # a second Vary header lists more fields
        return self._start_response(status, headers, exc_info)

    def pushed(self, connector: Connector) -> Container[str] | None:
        """``connector.get_pushed()``, asked at most once per request; None if it raised."""
        if not self._asked:
            self._asked = True
            try:
                self._pushed = connector.get_pushed()
            except Exception:
                # Push is an optimisation: a failing connector must never cost the page.
                log.exception("firehose: %r.get_pushed() failed; pushing everything", connector)
        return self._pushed


class _Declared:
    """The resources views declared with :meth:`Firehose.hints`, by endpoint.

    Read from ``app.view_functions`` once, at the first request: Flask refuses new routes
    after it, and an app that declares nothing then pays one truth test per request.
    """

    __slots__ = ("_by_endpoint",)

    def __init__(self) -> None:
        self._by_endpoint: dict[str, tuple[tuple[str, _Resource], ...]] | None = None

    def by_endpoint(self, app: Flask) -> dict[str, tuple[tuple[str, _Resource], ...]]:
        """``{endpoint: ((url, resource), ...)}`` for the views that declared any."""
        if self._by_endpoint is None:
            self._by_endpoint = {
                endpoint: resources
                for endpoint, view in app.view_functions.items()
                if (resources := getattr(view, _DECLARED_ATTRIBUTE, ()))
            }
        return self._by_endpoint


#: Where :meth:`Firehose.hints` leaves its resources on a view function; ``functools.wraps``
#: copies it to the wrappers of other decorators.
_DECLARED_ATTRIBUTE = "_firehose_hints"


# A ContextVar rather than ``g``: push() runs many times per page, and a ContextVar read
# costs a fraction of a LocalProxy lookup. Set and reset around each request by _PushScope.
_request_record: ContextVar[_RequestRecord | None] = ContextVar("firehose_request", default=None)


class _PushScope:
    """Wraps ``app.wsgi_app``: a record per request, its headers added as the response starts.

    A request dispatched without going through ``app.wsgi_app`` (``app.full_dispatch_request()``
    in a ``test_request_context``) collects nothing: its ``push()`` calls only return the url.
    """

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        state: _AppState = self.app.extensions[EXTENSION_KEY]
        if not state.enabled:
            return self.wsgi_app(environ, start_response)
        record = _RequestRecord(self.app, environ, start_response)
        token = _request_record.set(record)
        try:
            return self.wsgi_app(environ, record.start_response)
        finally:
            # A nested request (a view calling the app) gives the outer one back its own.
            _request_record.reset(token)


def _varies_on_cookie(headers: list[tuple[str, str]]) -> bool:
    for name, value in headers:
        # The length first: most names are not four letters, and lower() makes a string.
        if (
            len(name) == 4
            and name.lower() == "vary"
            and ("cookie" in value.lower() or value.strip() == "*")
        ):
            return True
    return False


def resource_key(url: str, version: str | None) -> str:
    """The connector key of a resource; a newline can never be part of a pushed url."""
    return url if version is None else f"{url}\n{version}"


def push(
    url: str,
    *flags: str,
    as_: str | None = None,
    version: str | None = None,
    **params: str,
) -> str:
    """Preload (and let a push proxy push) ``url`` with this response; return ``url``.

    ``flags`` are written bare (``crossorigin``, ``nopush``); ``as_`` (``as`` in a Jinja
    template) and other keywords become parameters; ``rel`` defaults to ``preload``.
    ``version`` (an ETag, a content hash) makes a changed file behind the same url new again.
    Outside a request, or with the extension off, it only returns ``url``.
    Raises :class:`ValueError` for a url or value that could inject a header.
    """
    if params:
        as_ = params.pop("as", as_)  # a template's spelling of as_
    # Looked up, or made (which may raise) even outside a request.
    if flags or params or version is not None:
        arguments = (url, flags, as_, version, tuple(params.items()))
        resource = _RESOURCES.get(arguments) or _resource(*arguments)
    else:
        plain = _PRELOADS.get(url)
        resource = (
            plain if plain is not None and plain.as_ == as_ else _resource(url, (), as_, None, ())
        )
    record = _request_record.get()
    if record is not None:
        record.resources.setdefault(url, resource)  # the first push of a url wins
    return url


_PushArguments = tuple[str, tuple[str, ...], str | None, str | None, tuple[tuple[str, str], ...]]
#: What push() made of its arguments, since pages push the same resources on every request:
#: plain preloads (only ``as_``) by url, the rest by all their arguments. Plain dicts,
#: emptied when full: in a real request every object push() touches is cold (ten pushes
#: cost 3x what they do in a tight loop), and a hit by url touches only its entry where an
#: LRU cache also relinks its neighbours. Urls made per user cannot grow them without bound.
_PRELOADS: dict[str, _Resource] = {}
_RESOURCES: dict[_PushArguments, _Resource] = {}
MAX_RESOURCES = 4096


def _resource(
    url: str,
    flags: tuple[str, ...],
    as_: str | None,
    version: str | None,
    params: tuple[tuple[str, str], ...],
) -> _Resource:
    """What ``push()`` records for these arguments, made and cached; ValueError if unsafe."""
    named = dict(params)
    link_as = named.pop("as", as_)
    rel = named.pop("rel", "preload")
    head = (("rel", rel),) if link_as is None else (("rel", rel), ("as", link_as))
    link = format_link(url, (*head, *named.items()), flags)
    # Only plain preloads are remembered, and so may later be marked nopush.
    tracked = rel == "preload" and "nopush" not in flags
    resource = _Resource(resource_key(url, version), link, tracked, link + "; nopush", link_as)
    plain = not flags and not params and version is None
    cache: dict[Any, _Resource] = _PRELOADS if plain else _RESOURCES
    if len(cache) >= MAX_RESOURCES:
        cache.clear()
    cache[url if plain else (url, flags, as_, version, params)] = resource
    return resource


class Firehose:
    """Flask extension: ``Firehose(app)`` or ``Firehose()`` then ``init_app(app)``.

    ``connector`` remembers what each client holds; it defaults to a
    :class:`~firehose_digest.DigestConnector` (a signed cookie digest).
    One instance may serve several apps; per-app state lives in ``app.extensions``.
    """

    def __init__(self, app: Flask | None = None, connector: Connector | None = None) -> None:
        self.connector = connector
        if app is not None:
            self.init_app(app)

    @staticmethod
    def hints(
        url: str,
        *flags: str,
        as_: str | None = None,
        version: str | None = None,
        **params: str,
    ) -> Callable[[_ViewT], _ViewT]:
        """Declare, on a view, a resource ``push(url, ...)`` would push (same arguments).

        The view's responses carry it as if the view had called ``push()`` first, and with
        ``FIREHOSE_EARLY_HINTS`` it is hinted in a 103 from the path's very first request,
        before anything was learned. Stack several; they keep the order they are read in.
        The view is returned as it is, so the decorator may sit above or below
        ``@app.route``, and it is valid for every app the view is registered on.
        Raises :class:`ValueError` at once for arguments ``push()`` would refuse.
        """
        declaration = (url, _resource(url, flags, as_, version, tuple(params.items())))

        def declare(view: _ViewT) -> _ViewT:
            declared = getattr(view, _DECLARED_ATTRIBUTE, ())
            # Decorators apply bottom-up: put this one first so the top one comes first.
            setattr(view, _DECLARED_ATTRIBUTE, (declaration, *declared))
            return view

        return declare

    def init_app(self, app: Flask) -> None:
        """Fill ``FIREHOSE_*`` defaults, validate them, register ``push`` and the hooks."""
        from .connectors import DigestConnector

        config = app.config
        config.setdefault("FIREHOSE_ENABLED", True)
        config.setdefault("FIREHOSE_ALREADY_PUSHED", "nopush")
        # Off by default: nginx < 1.29 in front breaks pages that get a 103 (README).
        config.setdefault("FIREHOSE_EARLY_HINTS", False)
        config.setdefault("FIREHOSE_EARLY_HINTS_CACHE", DEFAULT_CACHE_ENTRIES)
        if not isinstance(config["FIREHOSE_ENABLED"], bool):
            raise ValueError(
                f"FIREHOSE_ENABLED must be True or False, got {config['FIREHOSE_ENABLED']!r}"
            )
        if config["FIREHOSE_ALREADY_PUSHED"] not in _ALREADY_PUSHED_CHOICES:
            raise ValueError(
                f"FIREHOSE_ALREADY_PUSHED must be one of {_ALREADY_PUSHED_CHOICES}, "
                f"got {config['FIREHOSE_ALREADY_PUSHED']!r}"
            )
        if not isinstance(config["FIREHOSE_EARLY_HINTS"], bool):
            raise ValueError(
                "FIREHOSE_EARLY_HINTS must be True or False, "
                f"got {config['FIREHOSE_EARLY_HINTS']!r}"
            )
        cache_entries = config["FIREHOSE_EARLY_HINTS_CACHE"]
        if (
            isinstance(cache_entries, bool)
            or not isinstance(cache_entries, int)
            or cache_entries < 1
        ):
            raise ValueError(
                f"FIREHOSE_EARLY_HINTS_CACHE must be an int >= 1 (paths), got {cache_entries!r}"
            )
        connector = self.connector if self.connector is not None else DigestConnector()
        for method in ("get_pushed", "set_pushed"):
            if not callable(getattr(connector, method, None)):
                raise ValueError(
                    f"Firehose connector {connector!r} has no callable {method}(): "
                    "a connector needs get_pushed() and set_pushed(items)"
                )
        init_connector = getattr(connector, "init_app", None)
        if callable(init_connector):
            init_connector(app)
        first_time = EXTENSION_KEY not in app.extensions
        state = app.extensions[EXTENSION_KEY] = _AppState(
            connector=connector,
            enabled=config["FIREHOSE_ENABLED"],
            omit_pushed=config["FIREHOSE_ALREADY_PUSHED"] == "omit",
            process_response=getattr(connector, "process_response", None),
            hint_cache=(
                HintCache(cache_entries)
                if config["FIREHOSE_ENABLED"] and config["FIREHOSE_EARLY_HINTS"]
                else None
            ),
        )
        app.jinja_env.globals["push"] = push
        # Closures over the app: no current_app lookup on the per-request path.
        if first_time:
            app.wsgi_app = _PushScope(app, app.wsgi_app)  # type: ignore[method-assign]
            app.after_request(lambda response: _write_links(app, response))
        if state.hint_cache is not None and not app.extensions.get(_HINTS_HOOK_KEY):
            # Only apps that hint pay for a before_request hook.
            app.extensions[_HINTS_HOOK_KEY] = True
            app.before_request(lambda: _send_early_hints(app))


def _with_declared(
    declared: dict[str, tuple[tuple[str, _Resource], ...]], resources: dict[str, _Resource]
) -> dict[str, _Resource]:
    """``resources`` behind those the request's view declared with :meth:`Firehose.hints`."""
    own = declared.get(request.endpoint)  # type: ignore[arg-type]
    if not own:
        return resources
    # As if the view had called push() before anything else: the first push of a url wins.
    merged = dict(own)
    for url, resource in resources.items():
        merged.setdefault(url, resource)
    return merged


def _send_early_hints(app: Flask) -> None:
    """Send one 103 with the path's learned (else declared) links the client lacks.

    Runs before the view, so before the response can have started. Servers without
    ``wsgi.early_hints`` (Werkzeug's, waitress) are left alone: nothing learned, nothing sent.
    """
    record = _request_record.get()
    state: _AppState = app.extensions[EXTENSION_KEY]
    cache = state.hint_cache
    if record is None or cache is None:
        return
    environ = request.environ
    send = environ.get("wsgi.early_hints")
    if send is None or environ.get("REQUEST_METHOD") != "GET":
        return
    path = request.path
    record.hint_path = path
    learned = cache.get(path)
    if learned is not None:
        hints = learned
    else:  # not learned yet: the view's declared resources (and any earlier hook's pushes)
        hints = tuple(_with_declared(state.declared.by_endpoint(app), record.resources).values())
    if not hints:
        return
    pushed = record.pushed(state.connector)
    headers = early_hints_headers(hints, pushed if pushed is not None else frozenset())
    if not headers:
        return
    try:
        send(headers)
    except Exception:
        # A hint is an optimisation: the page is served whatever the server thought of it.
        log.exception("firehose: sending 103 Early Hints for %s failed", path)


def _write_links(app: Flask, response: _ResponseT) -> _ResponseT:
    """Decide the ``Link`` value and tell the connector; the response gets it as it starts."""
    record = _request_record.get()
    if record is None:
        return response
    state: _AppState = app.extensions[EXTENSION_KEY]
    resources = record.resources
    declared = state.declared.by_endpoint(app)
    if declared:
        resources = _with_declared(declared, resources)
    cache = state.hint_cache
    if cache is not None and record.hint_path is not None and response.status_code == 200:
        # Replaces what was known: a page that changed is learned again.
        cache.learn(record.hint_path, resources.values())
    if not resources:
        return response
    pushed = record.pushed(state.connector)
    held = pushed if pushed is not None else frozenset()

    links: list[str] = []
    new_keys: list[str] = []
    for resource in resources.values():
        if not resource.tracked:
            links.append(resource.link)
        elif resource.key in held:
            if not state.omit_pushed:
                links.append(resource.held_link)
        else:
            links.append(resource.link)
            new_keys.append(resource.key)
    if links:
        record.link = ", ".join(links)
    if pushed is None:  # get_pushed() failed: nothing to tell the connector
        return response
    record.vary = True
    if new_keys:
        state.connector.set_pushed(_with_keys(pushed, new_keys))
    if state.process_response is not None:
        state.process_response(response)
    return response


def _with_keys(pushed: Container[str], keys: list[str]) -> Any:
    """``pushed`` with ``keys`` added, in place where the container allows it."""
    add = getattr(pushed, "add", None)
    if add is None:
        return set(pushed).union(keys) if isinstance(pushed, Iterable) else set(keys)
    for key in keys:
        add(key)
    return pushed
