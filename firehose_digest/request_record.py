"""The request's record and the WSGI scope that makes it: Flask glue for :mod:`.extension`.

Read first: docs/how-it-works.md, "One request, in order": its steps 1 (the WSGI call)
and 8 (the headers) are here. This file holds, top to bottom: the WSGI wrapper
:class:`PushScope`, which joins an HTTP/2 ``Cookie`` again and opens the request's record;
the record, :class:`RequestRecord` (what ``push()`` collected, what ``open()`` said once,
what the 103 offered, and its :meth:`~RequestRecord.start_response`, which adds the
``Link`` and ``Vary`` that :func:`~.extension._decide` chose); the static step's mark it
shares with the push-off wrapper (:func:`immutable_mark`); how what ``open()`` returned
is made fit to be asked ``in`` (:func:`_as_holder`); the body of a lazy app
(:class:`_InScope`); the claim of the record (:func:`claim_first`, :func:`claim`); last,
the ``Vary: Cookie`` the record writes (:func:`_vary_on_cookie`).

What runs with the record (the 103, ``_decide``, ``save()``) is in :mod:`.extension`,
which imports this module; this one imports nothing back. So most of a record's fields are
written there, and this docstring says where.

A *record* is one request's: :class:`PushScope` makes it as the WSGI call begins and keeps
it in :data:`~.collect.current_record` while the app runs (and while a lazy app's body is
read). Its fields, and who writes each:

- ``resources`` (of :class:`~.collect.RequestPushes`): ``push()`` and ``push_static()``
  (:func:`~.collect.push`, :func:`~.collect.record_push`), the first push of a url winning.
- ``nested``: :class:`PushScope`, as it makes the record. ``started``: its
  :meth:`~RequestRecord.start_response`. ``owner``: :func:`claim`.
- ``hint_page``, ``hinted_unlearned`` and ``offered``: ``_send_early_hints`` in
  :mod:`.extension`, before the view, for a request that may get a 103.
- ``link`` and ``vary``: ``_decide`` in :mod:`.extension`, after the view, made anew for
  each response it decides (``vary`` of a 304 in ``_decide_not_modified``);
  :meth:`~RequestRecord.start_response` adds them.
- what ``open()`` said: :meth:`~RequestRecord.open_once` and
  :meth:`~RequestRecord.holder_failed`, which :mod:`.extension` calls. ``open_once`` asks
  ``open()`` on its first call, from whichever of these runs first: ``_open_early`` (a
  ``before_request`` hook, for a Flask-Firehose connector), ``_send_early_hints`` (when the
  103 has links to plan), ``_decide``; each later call gets the answer kept.
  ``holder_failed`` is called from the ``except`` around asking that answer ``key in held``
  (``_send_early_hints``; ``_links_for``, for ``_decide``): ``open_once`` then gives None for
  the rest of the request.

The order :func:`claim` relies on, which ``init_app`` sets up (push on):

1. :class:`PushScope` wraps ``app.wsgi_app``: the record is current before Flask runs.
2. :func:`claim_first` is put first among the app's url value preprocessors, which Flask
   runs before any ``before_request`` function: the request owns its record before its
   hooks can dispatch another request under it.
3. ``_open_early`` and ``_send_early_hints`` are appended to the ``before_request``
   functions: they run after the app's own ``before_request`` functions registered before
   ``init_app``. Each claims too, for a request step 2 did not claim.
4. ``_after_request`` (which calls ``_decide``) is put first among the ``after_request``
   functions, which Flask runs last registered first: it runs last, and sees the final
   status. ``_decide`` claims too.
5. As the response starts, after every ``after_request`` function and Flask's session
   save, :meth:`RequestRecord.start_response` adds ``Link`` and ``Vary``.
"""

from __future__ import annotations

import logging
from collections import UserString
from collections.abc import Container, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from flask import Flask, Request, has_request_context, request

from .collect import RequestPushes, current_record
from .connectors import Connector, refuse_awaitable, refuse_keys_not_str
from .cookie_fields import may_join_cookie_fields, rejoined
from .held_digests import HeldDigest
from .static import IMMUTABLE_WRITTEN, note_static_file, private_if_cookie

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["PushScope", "RequestRecord", "claim", "claim_first", "immutable_mark"]

log = logging.getLogger("firehose_digest")


class PushScope:
    """Wraps ``app.wsgi_app``: a record per request, its headers added as the response starts.

    Its first act is on the environ: an HTTP/2 or HTTP/3 ``Cookie`` whose fields an ASGI
    wrapper joined with "," is joined again with "; " before the app reads it
    (:func:`~.cookie_fields.may_join_cookie_fields`).

    A request dispatched without going through ``app.wsgi_app`` (``app.full_dispatch_request()``
    in a ``test_request_context``) collects nothing on its own: its ``push()`` calls only
    return the url. Dispatched inside a request being served (from its view), they add to
    that request's record, which the outer request owns (:func:`claim`). One made through
    ``app.wsgi_app`` while a request is served, in its thread or with a copy of its environ
    in another, is nested (:attr:`RequestRecord.nested`).
    """

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        cookie = environ.get("HTTP_COOKIE")
        if cookie is not None and "," in cookie and may_join_cookie_fields(environ):
            environ["HTTP_COOKIE"] = rejoined(cookie)
        outer = current_record.get()
        # The record of the request whose environ this one copied: a view that makes a
        # request from a worker thread (a ThreadPoolExecutor copies no context) finds no
        # record around it, only the one its copy of the environ names.
        copied = environ.get(_SERVED_RECORD)
        record = RequestRecord(environ, start_response)
        # Nested if a record it finds is claimed: a request being served made this one (its
        # view called a test client, or app.wsgi_app with a copy of its environ). An app
        # mounted inside another's wsgi_app (DispatcherMiddleware) finds the outer app's
        # record unclaimed, as the outer Flask app never runs for that request: not nested.
        # A request the client sent finds no record at all.
        if outer is not None or copied is not None:
            record.nested = _claimed(outer) or _claimed(copied)
        environ[_SERVED_RECORD] = record
        token = current_record.set(record)
        try:
            body = self.wsgi_app(environ, record.start_response)
        except BaseException:
            environ.pop(_SERVED_RECORD, None)
            raise
        finally:
            # A nested request (a view calling the app) gives the outer one back its own.
            current_record.reset(token)
        if not record.started:
            # A lazy app: a generator middleware inside ours (Werkzeug's
            # DebuggedApplication wrapped before init_app) runs the Flask app only as its
            # body is iterated, after the call returned; its view may make requests until
            # the body is closed.
            return _InScope(body, record, environ)
        # The view has run: no request is made from it now.
        environ.pop(_SERVED_RECORD, None)
        return body


#: The WSGI environ key :class:`PushScope` keeps the request's record under while its app
#: runs, so a request made with a copy of that environ is known for one a view made.
_SERVED_RECORD = "firehose_digest.record"


def _claimed(record: object) -> TypeGuard[RequestRecord]:
    """Whether ``record`` is a request's that has claimed it (:func:`claim`): a request
    made under it is one its hooks or view made."""
    return isinstance(record, RequestRecord) and record.owner is not None


class RequestRecord(RequestPushes):
    """One request's record, which :class:`PushScope` makes and ``push()`` finds through
    :data:`~.collect.current_record`: its resources (by url, in first-push order), what
    ``open()`` said the client holds (asked once: :meth:`open_once`), what its 103
    offered, which request owns it (:func:`claim`), and the ``Link`` and ``Vary`` that
    :func:`~.extension._decide` chose, which its :meth:`start_response` adds.

    A *record* is this request's; what is *recorded* is what the connector's ``save()``
    keeps as held by the client. Who writes each field: the module's docstring.
    """

    __slots__ = (
        "_held",
        "_immutable_written",
        "_opened",
        "_start_response",
        "hint_page",
        "hinted_unlearned",
        "link",
        "nested",
        "offered",
        "owner",
        "started",
        "vary",
    )

    def __init__(self, environ: WSGIEnvironment, start_response: StartResponse) -> None:
        super().__init__()
        self._start_response = start_response
        #: Marked by the static step when it wrote a file's ``Cache-Control``, read as the
        #: response starts (:func:`immutable_mark`).
        self._immutable_written = immutable_mark(environ)
        #: The page (:func:`~.early_hints.hint_page_of`) whose links a 200 teaches the hint
        #: cache; None when not learning. Set by :func:`~.extension._send_early_hints`
        #: alone, once :func:`~.extension._early_hints_sender` gave it a sender: only a
        #: request that may get a 103 teaches (not one over HTTP/1.0, through Varnish, or a
        #: revalidation).
        self.hint_page: str | None = None
        #: Whether its url, had it learned nothing, would be hinted something (what its
        #: view declares, or a hook pushed): only then does a url that answers with no page
        #: need an empty entry to be hinted nothing (:meth:`~.hints.HintCache.learn_no_page`).
        #: Set by :func:`~.extension._send_early_hints` with ``hint_page`` (True when the
        #: page had learned links: it has an entry already), and read only with it.
        self.hinted_unlearned = True
        #: The keys this request's 103 offered for push: a front that pushes from a 103
        #: pushed them, so they are recorded whatever the final response pushes, unless it
        #: is a 304, no page, a browser's response whose own links the browser would not
        #: preload (an error page, a redirect, a download: :func:`~.browser.links_reach`,
        #: :func:`~.browser._browser_shows`), or its ``save()`` failed
        #: (:func:`~.extension._decide`).
        self.offered: tuple[str, ...] = ()
        #: Added as the response starts: our ``Link`` value, and ``Vary: Cookie``.
        self.link: str | None = None
        self.vary = False
        #: The request this record is for (:func:`claim`).
        self.owner: Request | None = None
        #: Whether a request already being served made this one through ``app.wsgi_app``
        #: (a test client its view calls, :class:`PushScope`): it has a record of its own
        #: and decides its own links, but sends no 103. One dispatched without
        #: ``app.wsgi_app`` has none: it runs under the outer request's, which it does not
        #: own, and decides nothing (:func:`claim`).
        self.nested = False
        #: Whether the app has started its response (called ``start_response``).
        self.started = False
        self._opened = False
        self._held: Container[str] | None = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        """The server's ``start_response``, with this request's ``Link`` first and its
        ``Vary`` appended; a response started again over it with ``exc_info`` (an error
        page a middleware inside ours made) has neither: they were decided for another.
        A static file served public is made private if it sets a cookie."""
        self.started = True
        if self._immutable_written:
            private_if_cookie(headers)
        if exc_info is not None:
            return self._start_response(status, headers, exc_info)
        if self.link is not None:
            # Before any Link the view wrote: a proxy pushes in header order, up to its
            # limit (nginx: 10), so what is recorded as pushed must come first.
            headers.insert(0, ("Link", self.link))
        if self.vary:
            _vary_on_cookie(headers)
        return self._start_response(status, headers, exc_info)

    def open_once(self, connector: Connector, app: Flask, req: Request) -> Container[str] | None:
        """What ``connector.open()`` returned, asked at most once per request and made fit
        to be asked ``in`` (:func:`_as_holder`); None if it returned None (nothing can be
        recorded for this client) or raised, or what it returned failed to answer ``in``
        (logged: :meth:`holder_failed`)."""
        if not self._opened:
            self._opened = True
            try:
                held = connector.open(app, req)
                if held is not None and type(held) not in _PLAIN_HOLDERS:
                    refuse_awaitable(held, connector, "open")
                    held = _as_holder(held)
                refuse_keys_not_str(held, connector, "open")
                # None, one of _PLAIN_HOLDERS, or what _as_holder made of it.
                self._held = cast("Container[str] | None", held)
            except Exception:
                # Push is an optimisation: a failing connector must never cost the page.
                log.exception("firehose: %r.open() failed; nothing is pushed", connector)
        return self._held

    def holder_failed(self, connector: Connector) -> None:
        """Log (from an ``except`` block) that what ``open()`` returned failed to answer
        ``in``, once a request: the rest of the request treats the client as one of whom
        nothing is known, as if ``open()`` had failed, and asks the holder nothing more (a
        store gone down would hold the page up again at each ask, the 103's, the page's, a
        HEAD's GET plan, each with a traceback)."""
        if self._held is not None:
            self._held = None
            log.exception("firehose: %r's holder failed; nothing is pushed", connector)


def immutable_mark(environ: WSGIEnvironment) -> list[bool]:
    """The response's list under :data:`~.static.IMMUTABLE_WRITTEN`.

    The static step marks the list when it wrote a file's ``Cache-Control``. Each of the
    extension's wrappers that the response passes reads the list as the response starts.

    Which list a wrapper gets:

    - The first wrapper leaves a new list in the environ. A middleware that hands the app
      a copy of the environ (``dict(environ)``) hands that list on too.
    - The wrapper of an app mounted inside another's ``wsgi_app`` (``DispatcherMiddleware``)
      finds the outer wrapper's list and shares it. So a cookie that a middleware between
      the two adds is seen.

    A wrapper leaves a new list, rather than share the one it finds, in two cases:

    - The list found is a page's (:func:`_is_serving_page_list`): that page's view made
      this request, and this request's response is not the page's.
    - The list found is marked already. The step marks a list only once every wrapper on
      the way in has run, so a marked list is a finished response's. A middleware copied
      that response's environ to ask the app again."""
    found: list[bool] | None = environ.get(IMMUTABLE_WRITTEN)
    if found is not None and not found and not _is_serving_page_list(found, environ):
        return found
    fresh: list[bool] = []
    environ[IMMUTABLE_WRITTEN] = fresh
    return fresh


def _is_serving_page_list(found: list[bool], environ: WSGIEnvironment) -> bool:
    """Whether ``found`` is the list of a page being served whose view (or a thread it
    started) made this request with a copy of the page's environ.

    It is that list if it is either:

    - the list of the page's claimed record, which the copy of its environ names
      (:data:`_SERVED_RECORD`). This is how it is told with push on, from another
      thread too, which has no request context;
    - the list in the environ of the request being served in this thread (its request
      context). This is how it is told with push off, which keeps no record.

    This is told by the list, not by whether a request is being served. A view may ask
    its own app for the file of an app mounted in it. That file's response passes its
    app's wrapper again, which leaves a new list. The mounted app's wrapper must share
    that new list, though a request is being served.

    One case is not told. With push off, a request made from another thread of a page
    has neither a record nor a request context, so it shares the page's list. That
    changes only a page that itself wrote :data:`~.static.IMMUTABLE` beside a cookie: it
    is made private."""
    served = environ.get(_SERVED_RECORD)
    if _claimed(served) and served._immutable_written is found:
        return True  # from a thread too, with no request context
    return has_request_context() and request.environ.get(IMMUTABLE_WRITTEN) is found


#: What ``open()`` returns most often, asked ``in`` as it is.
_PLAIN_HOLDERS = frozenset({HeldDigest, frozenset, set, dict})


#: ``in`` as a str or bytes answers it (a subclass may answer its own way).
_SUBSTRINGS = (str.__contains__, bytes.__contains__, UserString.__contains__)


def _as_holder(held: object) -> Container[str]:
    """What ``open()`` returned, made fit to be asked ``key in held``: an iterator (a
    generator, a ``map`` over a store's reply), which the first ``in`` would use up, is read
    into a frozenset, which ``save()`` is given too; any other container or iterable is
    used as it is. A str or bytes, which would answer ``in`` by substring, or anything
    else no ``in`` can ask, is a TypeError."""
    if isinstance(held, (str, bytes, UserString)) and type(held).__contains__ in _SUBSTRINGS:
        raise TypeError(
            f"open() returned a {type(held).__name__}, which answers `in` by substring: "
            "return a container of keys (a set), or None"
        )
    if isinstance(held, Container):
        return held
    if isinstance(held, Iterator):
        return frozenset(held)
    if isinstance(held, Iterable):  # which `in` iterates anew each time: kept as it is
        return cast("Container[str]", held)
    raise TypeError(
        f"open() returned {type(held).__name__!r} {held!r:.40}, which cannot be asked "
        "`key in held`: return a container of keys (a set), or None"
    )


class _InScope:
    """The body of a lazy app, each step of it (and its ``close()``) run with the
    request's record current, so the app it runs collects and decides into it."""

    __slots__ = ("_body", "_environ", "_iterator", "_record")

    def __init__(
        self, body: Iterable[bytes], record: RequestRecord, environ: WSGIEnvironment
    ) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._record = record
        self._environ = environ

    def __iter__(self) -> _InScope:
        return self

    def __next__(self) -> bytes:
        token = current_record.set(self._record)
        try:
            if self._iterator is None:
                self._iterator = iter(self._body)
            return next(self._iterator)
        finally:
            current_record.reset(token)

    def close(self) -> None:
        """The body's own ``close()`` (PEP 3333), if it has one; then the request's
        environ no longer names its record (:data:`_SERVED_RECORD`)."""
        close = getattr(self._body, "close", None)
        try:
            if close is not None:
                token = current_record.set(self._record)
                try:
                    close()
                finally:
                    current_record.reset(token)
        finally:
            self._environ.pop(_SERVED_RECORD, None)


def claim_first(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The first url value preprocessor of an app with push on: this request owns its
    record, and a versioned static file's stamp is noted before the static view opens it
    (:func:`~.static.note_static_file`; one preprocessor, not two: Flask reads each one's
    arguments through its request proxy, on every request)."""
    record = current_record.get()
    if isinstance(record, RequestRecord):
        claim(record, request._get_current_object())  # type: ignore[attr-defined]
    note_static_file(endpoint, values)


def claim(record: RequestRecord, req: Request) -> bool:
    """Whether ``record`` is ``req``'s: the first request to start under a record owns it.

    A request dispatched inside a view, an error handler or a hook
    (``app.full_dispatch_request()`` in a ``test_request_context``) runs our hooks under
    the outer request's record, and would decide its links from its own cookies. The outer
    request claims the record as its hooks begin (:func:`claim_first`, the app's first
    url value preprocessor: Flask runs those before any ``before_request`` function); one
    that did not (dispatched without ``full_dispatch_request``) claims it here.

    What runs before that claim can still dispatch a request that takes the record: a
    ``request_started`` receiver, a url value preprocessor put before ours after
    ``init_app``, or an error handler reached when one of those raises (Flask then skips
    every url value preprocessor). So can any request of an app that replaced
    ``url_value_preprocessors`` after ``init_app``, as one that replaced
    ``after_request_funcs`` would have no links at all. That request's page is then
    decided for the nested one: its links are pushed again on each visit.

    A middleware inside ours that calls the app again for the same request (a retry
    after an error, an error page for a 500 it replaces) runs the second call under the
    record the first claimed: that call decides nothing, and its response goes out with
    what the first decided (none, if it raised; a 500's links, each ``nopush``). Telling
    the calls apart takes a teardown function run by every request of every app, for a
    pattern that costs at most one response's pushes.
    """
    if record.owner is None:
        record.owner = req
    return record.owner is req


def _vary_on_cookie(headers: list[tuple[str, str]]) -> None:
    """Make the response vary on ``Cookie``: name it on the last ``Vary`` line, unless that
    line names it already or a line names ``*`` (RFC 9110 §12.5.5: field names, in any
    case).

    The last line, as Flask's ``response.vary.add`` would write it: nginx 1.22's
    ``proxy_cache`` keys a response on its last ``Vary`` line alone, so a line of ours
    after the view's ``Vary: Accept-Encoding`` served one client's gzip body to another
    client asking for none, and ``Cookie`` named on an earlier line only is not seen.
    """
    last = None
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if any(field_name.strip() == "*" for field_name in value.split(",")):
                return
            last = index
    if last is None:
        headers.append(("Vary", "Cookie"))
        return
    name, value = headers[last]
    if not any(field_name.strip().lower() == "cookie" for field_name in value.split(",")):
        headers[last] = (name, f"{value}, Cookie" if value.strip() else "Cookie")
