"""The Flask adapter: ``push()`` collects; after the view, ``Link`` is decided and recorded.

Read first: docs/how-it-works.md, "One request, in order", which names the function each
step below runs. This file holds, top to bottom: :class:`Firehose` and ``init_app``; what
runs before the view (:func:`_open_early`, the 103 path :func:`_send_early_hints`) and the
views' declarations (:func:`_declared`); :func:`_after_request` and :func:`_decide`, then
the helpers ``_decide`` calls, in about the order it calls them (:func:`_links_for`,
:func:`_save`); last, the path of an app with push off (:class:`_StaticScope`,
:func:`_cache_static`). The WSGI wrapper and the record it makes, whose
``start_response`` writes what was decided, and the claim of the record, are in
:mod:`.request_record`, which this file imports; its docstring says which of the record's
fields this file writes, and the order of the hooks ``init_app`` adds.

Once per request:

1. A WSGI wrapper around ``app.wsgi_app`` (:class:`~.request_record.PushScope`) joins
   again an HTTP/2 ``Cookie`` an ASGI wrapper joined with "," (:mod:`.cookie_fields`), then
   opens the request's record (:class:`~.request_record.RequestRecord`), in a
   ``ContextVar`` so ``push()`` finds it from a view or a template.
2. ``push(url, ...)`` (:func:`~.collect.push`) validates and formats the link (with
   :mod:`.links`) and adds it to the record, the first push of a url winning.
3. After the view and every other ``after_request`` hook, the links are decided. Ours is
   registered to run last, so the status is final. A file Flask's static view serves is
   first cached for good at its current ``v`` (:func:`~.static.cache_versioned_static`),
   and gets no links.

   - The connector's ``open()`` says what the client holds. It is asked once per
     request: before the view when a 103 is planned (whether or not one is sent), or
     for a Flask-Firehose connector (as Flask-Firehose asked it); else here.
   - :func:`~.links.plan_links` decides each link, all within ``FIREHOSE_LINK_BUDGET``.
     Held ones are ``nopush``. New ones are pushed when every supported proxy would
     push them and, for a browser, the browser preloads them (:func:`~.browser.links_reach`).
     The rest are ``nopush``.
   - The app's :class:`~.links.LinkPlanner` keeps each page's plans under the client's
     answers, so a page planned once is looked up after.
4. The connector's ``save()`` records what was pushed, and the held keys used again. If
   it raises, those links are made ``nopush`` too: a link is offered for push only if it
   is recorded.
5. As the response starts, the record's ``start_response``, which the wrapper handed the
   app, *adds* what was decided:

   - that ``Link`` header, before any the view set;
   - ``Cookie`` on the last ``Vary`` line (or a line of its own), when what another
     client holds would change the ``Link``, or when step 4 ran: the digest's
     ``Set-Cookie`` is made from the client's cookie.

   A 304 gets no ``Link``, only that ``Vary``. Its ``save()`` is given the held keys its
   200 would use again, and nothing pushed. A HEAD gets the ``Vary`` of its GET.

   No ``after_request`` hook of the app sees these headers. Nor does one see the digest's
   ``Set-Cookie``: step 4 sets it after every such hook. Also as the response starts, a
   static file served public is made private if the final headers set a cookie
   (:func:`~.static.private_if_cookie`).

With ``FIREHOSE_EARLY_HINTS`` on and a server that offers ``wsgi.early_hints``, a GET
navigation's links are also learned per page (:func:`~.early_hints.hint_page_of`: the url
as asked, query included) after a 200 and replayed as one ``103 Early Hints`` before the
view of the next GET navigation of that page (see :mod:`.hints` and docs/early-hints.md).
``push()`` itself lives in :mod:`.collect`, the static helpers and the immutable caching
of versioned static files in :mod:`.static`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask, Request, Response, request
from flask.views import MethodView, http_method_funcs
from werkzeug.exceptions import SecurityError

from .browser import (
    downloaded,
    from_browser,
    is_page,
    is_top_level_navigation,
    links_reach,
    prefers_html,
    takes_html,
)
from .collect import (
    as_written,
    bare_per_request,
    current_record,
    key_url,
    make_resource,
    push,
)
from .connectors import (
    Connector,
    NotRecorded,
    PushedSetConnector,
    SessionConnector,
    refuse_unrun,
)
from .early_hints import hint_page_of, scheme_and_host, sent, serves_http2, url_of
from .hints import HintCache, plan_early_hints
from .init_checks import as_connector, init_connector, warn_taken_over, warn_unknown_keys
from .links import LinkPlan, LinkPlanner, Resource, for_log
from .request_record import PushScope, RequestRecord, claim, claim_first, immutable_mark
from .settings import DEFAULTS, Settings, load
from .static import (
    StaticHint,
    asks_static_file,
    cache_versioned_static,
    named_static,
    note_static_file,
    private_if_cookie,
    push_static,
    static_hint,
    static_hint_resource,
    static_tag,
    versions_current,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Firehose", "push"]

log = logging.getLogger("firehose_digest")

_ResponseT = TypeVar("_ResponseT", bound=Response)
_ViewT = TypeVar("_ViewT", bound=Callable[..., Any])

EXTENSION_KEY = "firehose"

#: What a view declared, in order: ``(url, resource)`` with :meth:`Firehose.hints`, a
#: :class:`~.static.StaticHint` with :meth:`Firehose.hints_static`.
_Declaration = tuple[str, Resource] | StaticHint
_Declared = tuple[_Declaration, ...]


class Firehose:
    """Flask extension: ``Firehose(app)`` or ``Firehose()`` then ``init_app(app)``.

    ``connector`` keeps what each client holds; with none given, each app gets a
    :class:`~firehose_digest.DigestConnector` (a signed cookie digest). A connector with
    Flask-Firehose's ``get_pushed()`` / ``set_pushed(items)`` works as it is.
    One instance may serve several apps; per-app state lives in ``app.extensions``: the
    connector an app uses is ``app.extensions["firehose"].connector``.
    """

    def __init__(self, app: Flask | None = None, connector: Any = None) -> None:
        #: The ``connector`` argument as given (None when none was), which each
        #: ``init_app`` reads: not the connector in use, which its app's state keeps.
        self.connector = connector
        if app is not None:
            self.init_app(app)

    @staticmethod
    def hints(
        url: str,
        *flags: str,
        as_: str | None = None,
        version: str | float | None = None,
        learn: bool = True,
        **params: str | float | None,
    ) -> Callable[[_ViewT], _ViewT]:
        """Declare a resource linked on each of a view's responses (and, with
        ``FIREHOSE_EARLY_HINTS``, in its 103), as ``push(url, ...)`` links it (same arguments).

        The view's responses carry it as if the view had called ``push()`` first, and with
        ``FIREHOSE_EARLY_HINTS`` it is hinted in a 103 from the page's very first request,
        before anything was learned (not one declared with ``learn=False``, which is
        written on each response alone, as ``push(..., learn=False)``). Stack several; they
        keep the order they are read in. The view is returned as it is, so the decorator
        may sit above or below ``@app.route``, and it is valid for every app the view is
        registered on. On a class-based view, decorate the class (or list it in its
        ``decorators``) for every method (a subclass inherits it), or a ``MethodView``'s
        ``get`` (which also answers HEAD when there is no ``head``) or other method.
        Raises :class:`ValueError` at once for arguments ``push()`` would refuse, and for
        a ``nonce``, of a value or bare (``nonce=True``), which a declaration made once
        cannot carry.
        """
        named = tuple(params.items())
        # A bare nonce first: make_resource() refuses it as push()'s, saying to give the
        # response's, which a declaration cannot.
        _refuse_per_request(bare_per_request(as_written(flags, named)[0]))
        resource = make_resource(url, flags, as_, version, named, learn)
        _refuse_per_request(resource.per_request)
        # A legacy bundle is declared as push() records it: not at all.
        return _declaring(None if resource.legacy_only else (resource.url, resource))

    @staticmethod
    def hints_static(
        filename: str,
        *flags: str,
        endpoint: str = "static",
        as_: str | None = None,
        learn: bool = True,
        _external: bool | None = None,
        _scheme: str | None = None,
        _anchor: str | None = None,
        _method: str | None = None,
        **params: str | float | None,
    ) -> Callable[[_ViewT], _ViewT]:
        """Declare the static file ``filename`` as :meth:`hints` declares a url, by the
        versioned url ``push_static(filename, ...)`` pushes (same arguments), which
        ``static_tag`` writes on the page.

        The version and url are made in each request, as ``push_static`` makes them (the
        request's script root; a changed file gets its new version). Raises
        :class:`ValueError` (:class:`TypeError` for ``version=``) at once for arguments
        ``push_static`` would refuse. One of an endpoint that is not a static one, or of
        a missing file, or a url ``url_for`` cannot build, leaves the link out of the
        view's responses, and an ERROR log line, once for each app, names the view and
        the reason.
        """
        declaration = static_hint(
            filename, flags, endpoint, as_, learn, params, _external, _scheme, _anchor, _method
        )
        return _declaring(declaration)

    def init_app(self, app: Flask) -> None:
        """Fill and check the ``FIREHOSE_*`` config, set up the connector, add the hooks.

        Raises :class:`ValueError`, naming the key, for configuration that cannot work.
        Adds ``push``, ``push_static`` and ``static_tag`` to ``app.jinja_env``, which makes
        the app's Jinja environment: set ``app.jinja_options`` and
        ``TEMPLATES_AUTO_RELOAD`` before.
        """
        settings = load(app.config)
        warn_unknown_keys(app)
        connector = as_connector(self.connector)
        init_connector(connector, app, settings)
        previous = app.extensions.get(EXTENSION_KEY)
        if isinstance(previous, _AppState) and previous.owner is not self:
            warn_taken_over(app, previous.connector, connector)
        state = app.extensions[EXTENSION_KEY] = _AppState(
            settings=settings,
            connector=connector,
            planner=LinkPlanner(
                max_pushes=settings.max_pushes,
                budget=settings.link_budget,
                omit_held=settings.omit_held,
            ),
            hint_cache=(
                HintCache(settings.early_hints_cache)
                if settings.enabled and settings.early_hints
                else None
            ),
            hooks=previous.hooks if isinstance(previous, _AppState) else set(),
            settings_read=tuple((key, app.config.get(key)) for key in _READ_KEYS),
            owner=self,
            recordable=connector.recordable if isinstance(connector, SessionConnector) else None,
        )
        app.jinja_env.globals.update(push=push, push_static=push_static, static_tag=static_tag)
        # Closures over the app: no current_app lookup on the per-request path. The hooks
        # read the app's state when they run, so a second init_app's settings apply.
        if not settings.enabled:
            if not state.hooks:
                # Versioned urls stay valid with push off: so does caching them for good.
                state.hooks.add("static")
                # The session's cookie is written after every after_request step, ours
                # included: whether a file sets a cookie is seen as its response starts.
                app.wsgi_app = _StaticScope(app.wsgi_app)  # type: ignore[method-assign]
                # Run last, as the step it stands for does (see below), and added to the
                # list as that one is, which init_app may do after the first request.
                app.after_request_funcs.setdefault(None, []).insert(0, partial(_cache_static, app))
                # What claim_first does with push on: note a versioned file's stamp
                # before the static view opens it (cache_versioned_static asks it).
                app.url_value_preprocessors.setdefault(None, []).append(note_static_file)
            # No wrapper opens a record, so push() only returns the url; one an earlier
            # init_app put around app.wsgi_app still does, and _decide writes none of it.
            return
        if "links" not in state.hooks:
            state.hooks.add("links")
            app.wsgi_app = PushScope(app.wsgi_app)  # type: ignore[method-assign]
            # Flask runs an app's after_request functions last registered first: registered
            # first, ours runs after every hook that could still change the status (a
            # make_conditional 304), so what is pushed and recorded matches what is sent.
            app.after_request_funcs.setdefault(None, []).insert(0, partial(_after_request, app))
            # First of the app's url value preprocessors, which Flask runs before any
            # before_request function: the request claims its record before its hooks
            # could dispatch another request under it (see claim for what runs earlier).
            # Not a request_started receiver: blinker's dispatch to one is paid by every
            # request of every app in the process.
            app.url_value_preprocessors.setdefault(None, []).insert(0, claim_first)
        if isinstance(connector, PushedSetConnector) and "legacy" not in state.hooks:
            state.hooks.add("legacy")
            app.before_request_funcs.setdefault(None, []).append(lambda: _open_early(app))
        if state.hint_cache is not None and "hints" not in state.hooks:
            state.hooks.add("hints")
            # Added to the list as ours above is, not through app.before_request: a
            # second init_app after the first request (which Flask's setup methods refuse)
            # must not leave 103s on in the settings with no hook to send them.
            app.before_request_funcs.setdefault(None, []).append(lambda: _send_early_hints(app))


#: Where :meth:`Firehose.hints` leaves its resources on a view function; ``functools.wraps``
#: copies it to the wrappers of other decorators.
_DECLARED_ATTRIBUTE = "_firehose_hints"


def _refuse_per_request(nonce: bool) -> None:
    """Raise :class:`ValueError` for a declaration with a ``nonce``, of a value or bare: a
    CSP nonce is new for each response, and a declaration made once would write the same
    one on every response."""
    if nonce:
        raise ValueError(
            "hints(): a nonce is made for each response, and a declaration once: "
            "declare the file without it, and push it from the view with the response's "
            "nonce (docs/how-it-works.md, Beside a Content-Security-Policy)"
        )


def _declaring(declaration: _Declaration | None) -> Callable[[_ViewT], _ViewT]:
    """A decorator adding ``declaration`` (None: nothing) to a view's, ahead of those below."""

    def declare(view: _ViewT) -> _ViewT:
        if declaration is None:
            return view
        declared = getattr(view, _DECLARED_ATTRIBUTE, ())
        # Decorators apply bottom-up: put this one first so the top one comes first.
        setattr(view, _DECLARED_ATTRIBUTE, (declaration, *declared))
        return view

    return declare


@dataclass
class _AppState:
    """Everything the extension keeps for one app, in ``app.extensions["firehose"]``."""

    settings: Settings
    #: The connector this app uses: :attr:`Firehose.connector` as ``init_app`` made it fit
    #: (:func:`~.init_checks.as_connector`), a new DigestConnector for None, a
    #: Flask-Firehose one wrapped.
    connector: Connector
    #: Decides each response's links, keeping each page's plans.
    planner: LinkPlanner
    #: The pages' learned links when ``FIREHOSE_EARLY_HINTS`` is on, else None.
    hint_cache: HintCache | None
    #: ``{(endpoint, HTTP method or None for any): (declaration, ...)}`` for the views
    #: that declared resources with :meth:`Firehose.hints` or :meth:`Firehose.hints_static`;
    #: read at the first request (see :func:`_declared`).
    declared: dict[tuple[str, str | None], _Declared] | None = None
    #: Which hooks this app has, so a second ``init_app`` adds none twice. An app set up
    #: with push off, then on, has both after_request steps: "static" then does nothing.
    hooks: set[str] = field(default_factory=set)
    #: Whether the app was told that its server sends no 103 (once per ``init_app``).
    told_no_early_hints: bool = False
    #: The values ``init_app`` read (:data:`_READ_KEYS`), and whether the first request has
    #: compared ``app.config`` with them (:func:`_warn_settings_changed`).
    settings_read: tuple[tuple[str, object], ...] = ()
    settings_compared: bool = False
    #: The :class:`Firehose` whose ``init_app`` made this state
    #: (:func:`~.init_checks.warn_taken_over`).
    owner: Firehose | None = None
    #: How many of a response's new keys its connector could record beside the held ones
    #: it links again (:meth:`~.connectors.SessionConnector.recordable`), for a connector
    #: that can say; None for one that records all of them or none (the digest holds
    #: every key it is given). Resolved by ``init_app``, with the connector.
    recordable: Callable[[Flask, Sequence[str], Iterable[str]], int] | None = None


#: The keys ``init_app`` reads: every ``FIREHOSE_*`` setting, and Flask's
#: ``MAX_COOKIE_SIZE`` (:func:`~.settings.load`).
_READ_KEYS = (*DEFAULTS, "MAX_COOKIE_SIZE")


def _open_early(app: Flask) -> None:
    """Ask a Flask-Firehose connector's ``get_pushed()`` before the view, as
    Flask-Firehose did (from its ``before_request`` hook): what it sets up for the response
    then takes effect, as an ``after_this_request`` callback setting a cookie of its own,
    which Flask has run by the time our ``after_request`` step asks. Not for what no view
    answers (a 404 before any, an ``OPTIONS``, a static file): those link nothing."""
    state: _AppState = app.extensions[EXTENSION_KEY]
    record = cast("RequestRecord | None", current_record.get())
    if record is None or not state.settings.enabled:
        return  # outside app.wsgi_app, or push turned off by a later init_app
    if not isinstance(state.connector, PushedSetConnector):
        return  # another connector since a later init_app
    req = request._get_current_object()  # type: ignore[attr-defined]
    if req.routing_exception is not None or req.method == "OPTIONS":
        return
    if claim(record, req) and not asks_static_file(app, req):
        record.open_once(state.connector, app, req)


def _send_early_hints(app: Flask) -> None:
    """Send one 103 with the page's learned (else declared) links the client lacks (over
    the app's own HTTP/2, links to other origins held or not).

    Runs before the view, so before the response can have started; what the 103 offered
    for push is recorded with the final response (:attr:`RequestRecord.offered`).
    Where the app itself serves HTTP/2 (:func:`~.early_hints.serves_http2`), the 103 keeps
    only preconnects and links to other origins: a same-origin preload would wait on the
    connection busy with this very page (:func:`~.hints.plan_early_hints`).
    """
    record = cast("RequestRecord | None", current_record.get())
    state: _AppState = app.extensions[EXTENSION_KEY]
    cache = state.hint_cache
    if record is None or cache is None or record.nested:
        # A request a view makes sends no 103: one sent through the environ's
        # wsgi.early_hints would reach the client as the view's own, with links its page
        # does not record; one made by a test client has none to send through.
        return
    req = request._get_current_object()  # type: ignore[attr-defined]
    if not claim(record, req) or asks_static_file(app, req):
        return  # under the record of the request whose view dispatched it, or a file
    send = _early_hints_sender(req, state)
    if send is None:
        return
    try:
        record.hint_page = hint_page_of(req)
    except SecurityError:
        # A Host outside TRUSTED_HOSTS, which Werkzeug refuses to read: Flask answers it
        # 400 once every before_request hook has run, and ours must not answer it before
        # the app's later ones (what they set for its after_request hooks). Nothing is
        # learned for it, nor hinted.
        return
    learned = cache.get(record.hint_page)
    if learned is not None and not versions_current(app, (hint.key for hint in learned)):
        learned = None  # a static file changed since: hinted as a page not learned yet
    hints = learned
    if hints is None:
        # A page not learned yet: its view's declared resources, and any an earlier
        # before_request hook pushed, copied, as in _decide: a thread such a hook started
        # with a copy of its context may push meanwhile.
        resources = _with_declared(
            _declared(app, state), req.endpoint, req.method, dict(record.resources)
        )
        hints = tuple(resource.hint for resource in resources.values())
    record.hinted_unlearned = learned is not None or bool(hints)
    if not hints:
        # Nothing to plan: the connector is not asked. Asked, SessionConnector reads Flask's
        # session, and Flask puts Vary: Cookie on a page that pushes nothing, or JSON.
        return
    direct_http2 = serves_http2(req.environ)
    held = record.open_once(state.connector, app, req)
    if held is not None:
        try:
            # Asked here, so that a holder that fails is told from a 103 that fails: the
            # page is then planned as for a client of whom nothing is known.
            held = frozenset(
                hint.key
                for hint in hints
                if hint.tracked and not hint.stand_in and hint.key in held
            )
        except Exception:
            record.holder_failed(state.connector)
            held = None
    try:
        plan = partial(
            plan_early_hints,
            hints,
            held if held is not None else frozenset(),
            state.settings.link_budget,
            omit_held=state.settings.omit_held,
            front_may_push=not direct_http2,
            own_origin="://".join(scheme_and_host(req)) if direct_http2 else None,
            browser=from_browser(req.environ),
        )
        # Nothing can be recorded for this client: hint nothing a proxy would push.
        early = plan(max_pushes=state.settings.max_pushes if held is not None else 0)
        if early.offered and state.recordable is not None:
            # A session with no room for them would leave them unrecorded, to be offered
            # again on each visit: only the first that it can take beside the page's held
            # keys are offered (the same links, planned with fewer push slots, offer those
            # first ones).
            # The page's held keys in the order its Link lists them, as save() writes
            # them: another order may compress to another length.
            linked_again = dict.fromkeys(hint.key for hint in hints if held and hint.key in held)
            room_for = _room_for(app, state, early.offered, linked_again)
            if room_for < len(early.offered):
                early = plan(max_pushes=room_for)
        if early.headers and sent(send, early.headers, req):
            record.offered = early.offered
    except Exception:
        # A hint is an optimisation: the page is served whatever the planner or the
        # server thought of it (the holder was asked above).
        log.exception("firehose: sending 103 Early Hints for %s failed", url_of(req))


def _early_hints_sender(req: Request, state: _AppState) -> Callable[[Any], Any] | None:
    """The server's ``wsgi.early_hints``, if this request is to get a 103; else None.

    Only a GET navigation learns and is hinted (:func:`~.browser.is_top_level_navigation`), not a
    service worker's Navigation Preload, and without Fetch Metadata only one that names
    HTML (:func:`~.browser.takes_html`): Chrome acts on a 103 for navigations only, a HEAD or a
    ``fetch()`` has no page to preload for, and Python's ``http.client`` reads a 103 as
    the final response. So this decides, too, which requests teach the hint cache
    (:attr:`RequestRecord.hint_page`).
    Servers without ``wsgi.early_hints`` (Werkzeug's, waitress) are left alone: nothing
    learned, nothing sent, and a warning once, at the first navigation, says so.
    """
    environ = req.environ
    if req.method != "GET" or not is_top_level_navigation(environ):
        return None
    if "HTTP_SERVICE_WORKER_NAVIGATION_PRELOAD" in environ:
        # A service worker's Navigation Preload: Chromium 156 received its 103 and fetched
        # nothing it named, whether the worker answered with the preload's response (the
        # page then fetched its files itself) or with a page of its own (measured,
        # tests/integration/test_browser.py; Firefox 153 too, by hand). Nor is its
        # response recorded (:func:`~.browser.links_reach`): the same 103 went out on every visit,
        # for nothing.
        return None
    if not from_browser(environ) and not takes_html(environ):
        # Not a browser's navigation: every browser's names text/html. Python's
        # http.client (under urllib and requests, which send "Accept: */*") skips a 100
        # alone and reads a 103 as the final response: an empty page. Asked before the
        # server is: a health check or an API client would get no 103 from any server.
        return None
    send: Callable[[Any], Any] | None = environ.get("wsgi.early_hints")
    if send is None:
        if not state.told_no_early_hints:
            state.told_no_early_hints = True
            log.warning(
                "firehose: FIREHOSE_EARLY_HINTS is on, but this server offers no "
                "wsgi.early_hints, so no 103 is sent (gunicorn >= 25 offers it; "
                "docs/early-hints.md)"
            )
        return None
    if environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
        # RFC 9110 §15.2: no 1xx to an HTTP/1.0 client (nginx's default upstream before
        # 1.29.7), so none is sent (gunicorn would drop it) and nothing is recorded as
        # pushed from it.
        return None
    if "HTTP_X_VARNISH" in environ:
        # Varnish (7.1, measured) reads a backend's 103 as the final response and answers
        # 503 "Backend fetch failed" in place of the page; it adds X-Varnish to every
        # request it forwards.
        return None
    if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
        # A revalidation: the answer is likely a 304, which Apache pushes nothing for and
        # records nothing from, and the page's files are likely cached anyway.
        return None
    return send


def _declared(app: Flask, state: _AppState) -> dict[tuple[str, str | None], _Declared]:
    """The resources each view declared with :meth:`Firehose.hints` or
    :meth:`Firehose.hints_static`, by endpoint and HTTP method (None: any method).

    Read from ``app.view_functions`` once, at the first request: Flask refuses new routes
    after it. ``View.as_view()`` makes a function that keeps the class as ``view_class``:
    what the class and its ``dispatch_request`` declared holds for any method, what a
    ``MethodView``'s ``get`` or ``post`` declared for that method (``get`` answers HEAD
    when there is no ``head``, as ``MethodView`` dispatches it).
    """
    if state.declared is None:
        declared: dict[tuple[str, str | None], _Declared] = {}
        for endpoint, view in app.view_functions.items():
            view_class = getattr(view, "view_class", None)
            for_any = (
                *getattr(view_class, _DECLARED_ATTRIBUTE, ()),
                *getattr(getattr(view_class, "dispatch_request", None), _DECLARED_ATTRIBUTE, ()),
                *getattr(view, _DECLARED_ATTRIBUTE, ()),  # its own, or its ``decorators``'
            )
            if for_any:
                declared[endpoint, None] = for_any
            if isinstance(view_class, type) and issubclass(view_class, MethodView):
                # Every method MethodView would dispatch to, whatever its ``methods`` says:
                # the url rule decides which methods reach it.
                for name in http_method_funcs:
                    function = getattr(view_class, name, None)
                    if function is None and name == "head":
                        function = getattr(view_class, "get", None)
                    if own := getattr(function, _DECLARED_ATTRIBUTE, ()):
                        declared[endpoint, name.upper()] = own
        state.declared = declared
    return state.declared


def _with_declared(
    declared: dict[tuple[str, str | None], _Declared],
    endpoint: str | None,
    method: str,
    resources: dict[str, Resource],
) -> dict[str, Resource]:
    """``resources`` after those the view of ``endpoint`` declared for ``method``, with
    :meth:`Firehose.hints` or :meth:`Firehose.hints_static`: as if the view had pushed the
    declared ones first, so a url's first declaration wins, unless the view pushed that url
    with this response's nonce."""
    if endpoint is None:
        return resources
    # A method's own first: of a url declared on the class and on its ``get``, the more
    # specific declaration wins, as a subclass's does over its parent's.
    own = (*declared.get((endpoint, method), ()), *declared.get((endpoint, None), ()))
    if not own:
        return resources
    # As if the view had called push() before anything else: the first push of a url wins
    # (dict() would keep the last of a url declared twice).
    merged: dict[str, Resource] = {}
    for declaration in own:
        if isinstance(declaration, StaticHint):
            # Made in this request, as push_static() makes it: its file's current version,
            # at the url under the request's script root.
            resource = static_hint_resource(declaration, endpoint)
            if resource is not None:
                merged.setdefault(resource.url, resource)
        else:
            merged.setdefault(*declaration)
    for url, resource in resources.items():
        if resource.per_request and url in merged:
            # The view's push with this response's nonce: the declaration has none, and a
            # policy that allows the file by its nonce alone would block its preload.
            merged[url] = resource
        else:
            merged.setdefault(url, resource)
    return merged


def _after_request(app: Flask, response: _ResponseT) -> _ResponseT:
    """The ``after_request`` step of an app with push on: the response's links decided
    (:func:`_decide`), then its ``Vary`` lines made one, should Flask's session save
    rewrite them. Once added, it stays, and does the static caching of
    :func:`_cache_static` in its place (an app with push off, then on, has both)."""
    response = _decide(app, response)
    vary = response.headers.getlist("Vary")
    if len(vary) > 1:
        # Flask saves a session that was read (by a connector: SessionConnector's open()
        # reads it) with response.vary.add("Cookie"), which rewrites Vary from its first
        # line alone: the view's "Vary: Origin" on a line of its own would be lost. The
        # lines are one field (RFC 9110 §5.3): joined, each is kept. (Whether the session
        # was read cannot be asked: Flask 3.1 marks it read as it is looked up.)
        response.headers["Vary"] = ", ".join(line.strip() for line in vary if line.strip())
    return response


def _decide(app: Flask, response: _ResponseT) -> _ResponseT:
    """Decide the response's ``Link`` value and ``Vary: Cookie``, and record what it
    pushes; the record keeps them for :meth:`RequestRecord.start_response` to add.

    In order:

    1. static caching, for a file of a static view;
    2. whether this request decides anything: it runs under ``app.wsgi_app`` with push
       on, owns its record (:func:`claim`), may be linked at all (:func:`_may_link`),
       and is no 1xx;
    3. a response that is not a page gets nothing (:func:`_learn_not_a_page`);
    4. its resources, declared then pushed (:func:`_resources_for`);
    5. what the client holds (``open()``, once a request: :meth:`RequestRecord.open_once`);
    6. a 304: the ``Vary`` its 200 would have, what it reuses saved, no ``Link``
       (:func:`_decide_not_modified`);
    7. else (:func:`_decide_links`): its links planned (:func:`_links_for`), what its 103
       offered counted as pushed (:func:`_pushed_with_offered`), what it pushes and reuses
       saved (:func:`_save`; if the connector cannot take them all, planned again pushing
       what it can take, :func:`_save_what_fits`; pushing nothing if it fails), and a
       HEAD's ``Vary``.

    Steps 1 to 3 are :func:`_record_to_decide`, which gives the record only when the rest
    runs. The blocks that ask ``cache`` and ``hint_page``, and :func:`_forget_if_stale`,
    only teach the 103 cache (``cache`` is None unless ``FIREHOSE_EARLY_HINTS``,
    ``hint_page`` unless this request may get a 103): none changes this response.
    """
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    state: _AppState = app.extensions[EXTENSION_KEY]
    # 1-3: static caching; whether this request decides this response, and it is a page.
    record = _record_to_decide(app, state, req, response)
    if record is None:
        return response
    # The hint cache, and the key of the page this request teaches it (hint_page_of;
    # None when it teaches nothing). Not whether the response is a page: is_page.
    cache, hint_page = state.hint_cache, record.hint_page
    status = response.status_code
    # 4: its resources; a page's 200 teaches them to the hint cache.
    resources = _resources_for(app, state, req, record)
    if cache is not None and hint_page is not None and status == 200:
        _learn(cache, hint_page, response, resources, state.settings.link_budget, record)
    if not resources and not record.offered:
        return response  # nothing to link, push or save
    # 5: what the client holds, asked once; whether it is a browser; what its 103 offered.
    held = record.open_once(state.connector, app, req)
    # A browser is offered no push of a link its screen chooses (a media query, an
    # imagesrcset): Resource.screen_dependent, and docs/how-it-works.md for what was measured.
    browser = from_browser(req.environ)
    # What the 103 offered, each key as this response versions its url.
    offered_now = _as_linked(record.offered, resources) if record.offered else ()
    _forget_if_stale(cache, hint_page, status, record.offered, offered_now)
    # 6: a 304, which links nothing; 7: else, its links planned, saved and set.
    if status == 304:
        _decide_not_modified(app, state, req, response, resources, held, record, browser=browser)
    else:
        _decide_links(
            app, state, req, response, resources, held, record, offered_now, browser=browser
        )
    return response


def _record_to_decide(
    app: Flask, state: _AppState, req: Request, response: Response
) -> RequestRecord | None:
    """Steps 1 to 3 of :func:`_decide`: the request's record, its ``link`` and ``vary``
    cleared, if this request decides this response's links and the response is a page;
    else None, and nothing more is decided. On the way, a static file asked for by its
    current version is served immutable (:func:`~.static.cache_versioned_static`), and the
    hint cache learns what a url without a page, or a response that is not a page, teaches
    it."""
    # Only a view named as Flask's static one serves a file: its rules (this caching, and
    # no links: _may_link) are asked of no other request.
    static = named_static(req.endpoint)
    if static:
        cache_versioned_static(app, req, response)
    record = current_record.get()
    if not state.settings_compared:
        _warn_settings_changed(app, state)
    if not isinstance(record, RequestRecord) or not state.settings.enabled:
        return None  # outside app.wsgi_app, or push turned off by a later init_app
    if not claim(record, req):
        return None  # dispatched inside a view: the view's own request decides
    # Decided anew for each response: one that fails after this step (a session store
    # that cannot save) is replaced by an error page, which runs every hook again, and
    # must not go out with what was decided for the response it replaces.
    record.link = None
    record.vary = False
    if not _may_link(app, req, static):
        return None
    status = response.status_code
    if status < 200:
        # A 1xx a view returned (``return "", 103``) is no page: Werkzeug's server and
        # gunicorn send it as it is, the client reads it as interim (RFC 9110 §15.2) and
        # waits for a page that never comes (or, a 101, speaks another protocol), and a
        # browser keeps no cookie of it but a WebSocket's 101 (Fetch). Nothing it links
        # reaches the client: no Link, Vary or Set-Cookie.
        return None
    cache, hint_page = state.hint_cache, record.hint_page  # as in _decide
    if status in _URL_HAS_NO_PAGE and cache is not None and hint_page is not None:
        # Whether this response is a page or not, the url has no such page now. Yet what
        # it learned went out in a 103 before each view, and browsers fetch what a 103
        # names whatever the status. So its entry is made empty (learn_gone), not dropped
        # (forget()): a url with no entry is hinted what its hooks and declarations push,
        # for nothing too. A 200 learns it again.
        cache.learn_gone(hint_page)
    if not is_page(response):
        # Not a page: a file a view serves (a generated stylesheet, an image, JSON), or
        # one a proxy fetches, with no Cookie, to push it. As on a static file, our Link,
        # Vary: Cookie and digest Set-Cookie would only harm it: it gets none of them.
        #
        # What a 103 offered before the view (the url was a page once) was pushed. It
        # goes unrecorded: no save() runs here.
        if cache is not None and hint_page is not None and status == 200:
            _learn_not_a_page(cache, hint_page, req, response, record)
        return None
    return record


def _decide_links(
    app: Flask,
    state: _AppState,
    req: Request,
    response: Response,
    resources: dict[str, Resource],
    held: Container[str] | None,
    record: RequestRecord,
    offered_now: tuple[str, ...],
    *,
    browser: bool,
) -> None:
    """Step 7 of :func:`_decide`, for a response other than a 304: its links planned,
    what they push (with what its 103 offered, ``offered_now``) and reuse saved, and its
    ``Link`` value and ``Vary: Cookie`` set on the ``record``."""
    status = response.status_code
    # Whether what this response offers for push reaches the client (a front pushes it, a
    # browser preloads it): only then do its links offer any (may_push), and only then is
    # what a browser's 103 offered counted as pushed (_pushed_with_offered).
    reach = links_reach(req, response, status, browser)
    links = _links_for(
        state, record, resources, held, may_push=reach, offered=offered_now, browser=browser
    )
    # Not a second open(): open_once() gives the answer it kept, now None if the holder
    # raised when _links_for asked it `in` (RequestRecord.holder_failed).
    held = record.open_once(state.connector, app, req)
    pushed = _pushed_with_offered(links, offered_now, reach, browser=browser)
    varies = links.varies
    if held is not None and (pushed or links.reused):
        # Whatever save() writes (the digest's Set-Cookie) is made from the client's cookie.
        varies = True
        failed = _save(app, state, response, held, pushed, links.reused)
        if isinstance(failed, NotRecorded):
            # Refused for these keys (a session without room for them all, or more than
            # max_items): the first that it can take are pushed and recorded.
            links = _save_what_fits(
                app,
                state,
                record,
                response,
                resources,
                held,
                links,
                pushed,
                offered_now,
                browser=browser,
            )
        elif failed is not None:
            # A store that failed is not asked twice. Planned again from the answers
            # already given, not by asking the holder: a failed save() may have added the
            # pushed keys to it (Flask-Firehose's set_pushed() is handed them added in
            # place), and a store that failed its write may fail its lookups too. Nothing
            # is pushed.
            links = _links_for(state, record, resources, frozenset(links.reused), may_push=False)
    if req.method == "HEAD" and not varies:
        # A HEAD's fields are its GET's (RFC 9110 §9.3.2), and a cache that makes a HEAD
        # request writes them over each GET it stored for this Cookie (RFC 9111 §4.3.5,
        # §3.2): a Vary without Cookie there would let the stored page, and the digest
        # cookie it sets, answer every client. Its Link stays its own, pushing nothing:
        # h2o would push it unrecorded.
        plan = _plan_as(state, record, req, response, resources, held, status, browser=browser)
        varies = _varies(plan, held)
    record.link = links.value
    record.vary = varies


def _warn_settings_changed(app: Flask, state: _AppState) -> None:
    """A warning, at the app's first request, for each key ``init_app`` read whose value in
    ``app.config`` is no longer the one it read, if the settings it would make of them now
    differ (or it would refuse them): set after ``Firehose(app)`` (a factory that loads its
    configuration after it, a test fixture's ``app.config.update``), such a value has no
    effect, and would otherwise have none without a word."""
    state.settings_compared = True
    # By type too: 1 == True, but init_app refuses 1 where it takes True.
    changed = [
        (key, now, read)
        for key, read in state.settings_read
        if type(now := app.config.get(key)) is not type(read) or now != read
    ]
    if not changed:
        return
    try:
        # Another spelling of what is in force (42 and "42" for a version) changes nothing.
        in_force = load(dict(app.config)) == state.settings
    except ValueError:
        in_force = False  # a value init_app would refuse: named all the same
    if in_force:
        return
    for key, now, read in changed:
        log.warning(
            "firehose: %s is %r in app.config, but init_app read %r, which firehose_digest "
            "keeps: set it before Firehose(app), or call init_app(app) again",
            key,
            now,
            read,
        )


def _may_link(app: Flask, req: Request, static: bool) -> bool:
    """Whether the response to ``req`` may carry links: not a static file, nor an answer
    to ``OPTIONS``. ``static``: whether its endpoint is named as a static view's
    (:func:`~.static.named_static`)."""
    if static and asks_static_file(app, req):
        # A file, not a page: a before_request hook's pushes would put a Link, Vary:
        # Cookie (a preloaded file fetched twice) and a digest Set-Cookie on it.
        return False
    # OPTIONS is no page either (Flask's automatic answer, a CORS preflight): no browser
    # preloads from it and no proxy pushes for it, so it links nothing.
    return req.method != "OPTIONS"


#: Statuses that say what the url is, more than how this request went: no content to
#: show (RFC 9110 §15.3.5; a 205 has none either, §15.3.6, and a browser's navigation
#: stays where it was on both, HTML's "navigate"), moved for good (§15.4.2, §15.4.9), no
#: page here (§15.5.5, which may also be a page hidden from this client:
#: docs/early-hints.md), for good (§15.5.11). Any other (a sign-in's 302, 303 or 307; a
#: 401, 403, 429 or 5xx) keeps what the page learned, unless its 103 offered a url under
#: a version the url no longer has.
_URL_HAS_NO_PAGE = frozenset({204, 205, 301, 308, 404, 410})


def _learn_not_a_page(
    cache: HintCache, page: str, req: Request, response: Response, record: RequestRecord
) -> None:
    """What the 200 of a response that is not a page (:func:`~.browser.is_page`) teaches the hint
    cache (:meth:`~.hints.HintCache.learn_no_page`):

    - a url that taught no page is left hinted nothing;
    - a url that taught a page keeps its links, unless a browser's document navigation got
      the file (``over_links``).

    Only such a navigation takes a page's links away:

    - a proxy's push request sends no Sec-Fetch-*, and curl's navigation sends none
      either: a JSON variant such a client asked for must not take them away;
    - nor must one asked for by a client that sends Fetch Metadata yet ranks the type it
      got as high as text/html: no browser's navigation ranks JSON so
      (:func:`~.browser.prefers_html`).
    """
    document = req.environ.get("HTTP_SEC_FETCH_DEST", "").strip() == "document"
    cache.learn_no_page(
        page,
        over_links=document and prefers_html(req.environ, response.mimetype or ""),
        hinted=record.hinted_unlearned,
    )


def _resources_for(
    app: Flask, state: _AppState, req: Request, record: RequestRecord
) -> dict[str, Resource]:
    """The resources this response links, in header order: what its view declared
    (:func:`_with_declared`), as if pushed before the view ran, then what was pushed for it.

    What was pushed when this step began, copied: a thread the view started with a copy
    of its context (each thread, on a free-threaded Python 3.14) may push meanwhile, and a
    dict iterated as it grows raises RuntimeError.
    """
    resources = dict(record.resources)
    declared = _declared(app, state)
    if declared:
        resources = _with_declared(declared, req.endpoint, req.method, resources)
    return resources


def _learn(
    cache: HintCache,
    page: str,
    response: Response,
    resources: dict[str, Resource],
    budget: int,
    record: RequestRecord,
) -> None:
    """What a page's 200 teaches the hint cache: its links, replacing what was known (a
    page that changed is learned again), within ``budget``; a download, nothing."""
    if downloaded(response):
        # Whoever fetched it, a browser downloads it: it preloads none of its links, but
        # Chromium 156 fetched a 103's files before one (measured,
        # tests/integration/test_browser.py), and Firefox 153 too (by hand), for nothing
        # on each visit. Hinted nothing, as a file is.
        cache.learn_no_page(page, over_links=True, hinted=record.hinted_unlearned)
        return
    cache.learn(page, [resource.hint for resource in resources.values()], budget)


def _as_linked(offered: tuple[str, ...], resources: dict[str, Resource]) -> tuple[str, ...]:
    """The keys a 103 offered, each under the key this response gives its url.

    The front fetched what it pushed from the 103 as the url serves it now: when the page
    was learned before the url's ``version`` changed, the current version is what the
    client holds, not the learned one.
    """
    keys = []
    for key in offered:
        resource = resources.get(key_url(key))
        keys.append(resource.key if resource is not None and resource.tracked else key)
    return tuple(dict.fromkeys(keys))


def _forget_if_stale(
    cache: HintCache | None,
    page: str | None,
    status: int,
    offered: tuple[str, ...],
    offered_now: tuple[str, ...],
) -> None:
    """Drop what ``page`` taught the hint cache if its 103 offered a url under a version
    it no longer has (``offered_now``, :func:`_as_linked`, differs from ``offered``): what
    the page learned is stale, and a response that does not learn it again (a redirect)
    drops it, or the next 103 would push the url again to a client holding its new
    version.
    """
    if (
        offered_now != offered
        and status != 200  # learned again
        and status not in _URL_HAS_NO_PAGE  # emptied already: learn_gone()
        # Both set whenever the 103 offered something, as it was sent only with them;
        # asked for the types, and for an init_app since then that turned 103s off.
        and cache is not None
        and page is not None
    ):
        cache.forget(page)


def _decide_not_modified(
    app: Flask,
    state: _AppState,
    req: Request,
    response: Response,
    resources: dict[str, Resource],
    held: Container[str] | None,
    record: RequestRecord,
    *,
    browser: bool,
) -> None:
    """A 304's step: no ``Link``, only the ``Vary`` its 200 would have (RFC 9110
    §15.4.5), and the held keys its 200 would use again saved. It pushes nothing, so it
    records nothing new.

    Why no ``Link``: a shared cache merges a 304's fields into the 200 it stored, and
    serves that to every client sending the same ``Cookie`` (RFC 9111 §4.3.4; Apache's
    ``mod_cache``). A ``Link`` made for this client would go out with another's digest
    cookie.

    No 103 goes to a revalidation. The app may still give a 304 to a request without a
    validator: what a 103 before it offered goes unrecorded, and is pushed again at worst.

    The plan is made as the 200's, with this response's own headers, as
    ``make_conditional`` and ``send_file`` keep them on a 304. So a download, or a frame
    the browser refuses, pushes nothing, whatever the client holds. A 304 a view builds
    without those headers is planned as a page the browser shows.
    """
    plan = _plan_as(state, record, req, response, resources, held, 200, browser=browser)
    # Not a second open(): the answer kept, None if the holder raised when asked `in`.
    held = record.open_once(state.connector, app, req)
    record.vary = _varies(plan, held)
    if held is not None and plan.reused:
        # The client's cached page uses its held keys again: saved as the 200 would save
        # them, they are written back from the older generation, and a digest past half
        # its lifetime is signed again; else a page that only ever answers 304 let them
        # rotate away, or the cookie expire. That Set-Cookie is made from the request's
        # Cookie alone, which a cache merging it keys the stored 200 by: it goes only to
        # clients sending that Cookie, which hold that digest.
        _save(app, state, response, held, (), plan.reused)


def _plan_as(
    state: _AppState,
    record: RequestRecord,
    req: Request,
    response: Response,
    resources: dict[str, Resource],
    held: Container[str] | None,
    status: int,
    *,
    browser: bool,
) -> LinkPlan:
    """The links a response of ``status`` to ``req``, a HEAD taken for its GET, would
    have, planned with this response's own headers (:func:`~.browser._browser_shows`)."""
    method = "GET" if req.method == "HEAD" else None
    reach = links_reach(req, response, status, browser, method)
    return _links_for(state, record, resources, held, may_push=reach, browser=browser)


def _varies(plan: LinkPlan, held: Container[str] | None) -> bool:
    """Whether a response planned so varies on ``Cookie``: its links depend on what the
    client holds, or it would save what the client holds, which the digest's
    ``Set-Cookie`` is made from."""
    return plan.varies or (held is not None and bool(plan.pushed or plan.reused))


def _links_for(
    state: _AppState,
    record: RequestRecord,
    resources: dict[str, Resource],
    held: Container[str] | None,
    may_push: bool,
    offered: tuple[str, ...] = (),
    *,
    browser: bool = False,
) -> LinkPlan:
    """The planner's links, the keys this request's 103 offered taking their push slots
    first, for a ``browser``'s request or another's; if what ``open()`` returned fails to
    answer ``in``, the links for a client of whom nothing is known (no key to save), as if
    ``open()`` had failed, for the rest of the ``record``'s request
    (:meth:`RequestRecord.holder_failed`)."""
    planner = state.planner
    try:
        if offered:  # the 103 took push slots of its own: planned for this client alone
            return planner.plan_uncached(
                resources.values(), held, may_push, offered, browser=browser
            )
        return planner.plan(resources.values(), held, may_push, browser=browser)
    except Exception:
        record.holder_failed(state.connector)
        return planner.plan(resources.values(), None, may_push, browser=browser)


def _pushed_with_offered(
    links: LinkPlan, offered: tuple[str, ...], reach: bool, *, browser: bool
) -> tuple[str, ...]:
    """The keys this response records as pushed: those its ``links`` push, then those its
    103 ``offered`` (each key as this response versions its url), for a browser only if
    the response's links reach it (``reach``: :func:`~.browser.links_reach`).

    What the 103 offered is recorded as pushed, even what this response does not push
    (its status changed, or its links differ from those the page's 103 was made of): the
    front pushed it.

    - A client that is not a browser: recorded.
    - A browser refuses pushes but fetches what a 103 names (Chromium 156, Firefox 153).
      It holds that only from a response whose own links it preloads: a 2xx page it shows
      (:func:`~.browser.links_reach`), not an error page or a redirect. So it is recorded
      only then.
    - WebKitGTK 2.50 fetched nothing from a 103 (measured): it holds only what this page's
      Link names. A key offered and not linked is recorded for it all the same. That
      costs it a preload only under "omit": it reads no 103, and it preloads a link
      marked nopush as any other.

    A key the client held already is used again, not new: nothing to write. (The 103
    offered its url under a version the url no longer has.)
    """
    pushed = links.pushed
    if offered and (reach or not browser):
        pushed += tuple(key for key in offered if key not in pushed and key not in links.reused)
    return pushed


def _save(
    app: Flask,
    state: _AppState,
    response: Response,
    held: Container[str],
    pushed: tuple[str, ...],
    reused: tuple[str, ...],
) -> Exception | None:
    """The connector's ``save()`` of what this response pushed and reused: None if it
    recorded them, else what it raised. A connector that raises is logged, and costs the
    page nothing."""
    try:
        # An async save() behind a wrapper returns a coroutine, whatever it is typed.
        saved = state.connector.save(app, response, held, pushed, reused)  # type: ignore[func-returns-value]
        if saved is not None:
            refuse_unrun(saved, state.connector, "save")
    except Exception as e:
        if isinstance(e, NotRecorded):  # the connector has told the log why
            # A connector's own reason, which may say the client's text.
            log.debug("firehose: %r.save() recorded nothing: %s", state.connector, for_log(str(e)))
        else:
            log.exception("firehose: %r.save() failed; nothing is recorded", state.connector)
        return e
    return None


def _save_what_fits(
    app: Flask,
    state: _AppState,
    record: RequestRecord,
    response: Response,
    resources: dict[str, Resource],
    held: Container[str],
    links: LinkPlan,
    pushed: tuple[str, ...],
    offered: tuple[str, ...],
    *,
    browser: bool,
) -> LinkPlan:
    """The links a response goes out with once its connector's ``save()`` of all the keys
    it ``pushed`` (its ``links``' and what its 103 ``offered``) raised
    :class:`~.connectors.NotRecorded` (a session without room for them all, or with more
    than ``max_items`` beside the page's held ones). It pushes, and records, the first of
    them that the connector can take, in the order its ``Link`` offers them:

    1. what the 103 offered: the front pushed those already, and unrecorded they would be
       offered again on each visit;
    2. then as many of the new ones as the connector says fit beside the page's held keys
       and those (:func:`_room_for`; none for a connector that cannot say).

    Planned again with that many push slots, then saved once more; if that save fails
    too, nothing is pushed, and what the 103 offered goes unrecorded. No save is asked
    for the same keys again (refused for another reason than room).

    Planned from the answers already given (``links``), not by asking ``held`` again: a
    failed save() may have added the pushed keys to it (Flask-Firehose's ``set_pushed()``
    is handed them added in place). What the 103 offered is linked ``nopush`` then, as any
    held key.
    """
    reused = links.reused
    alone = tuple(key for key in pushed if key in offered)
    new = [key for key in pushed if key not in offered]
    fits = _room_for(app, state, new, (*reused, *alone)) if new else 0
    answers = frozenset((*reused, *alone))
    if fits > 0:
        # New keys were pushed, so the response may push (``links_reach``). The same
        # links, with push slots for the first ``fits`` new keys: up to the last of them
        # each link is written as before (an offered one ``nopush`` now), so what the
        # budget cuts is pushed by neither plan, nor saved.
        replanned = state.planner.plan_uncached(
            resources.values(), answers, True, browser=browser, max_pushes=fits
        )
        keys = (*alone, *replanned.pushed)
    else:
        replanned, keys = None, alone
    if (
        keys
        and len(keys) < len(pushed)
        and _save(app, state, response, held, keys, reused) is None
    ):
        if replanned is not None:
            return replanned
        return _links_for(state, record, resources, answers, may_push=False)
    return _links_for(state, record, resources, frozenset(reused), may_push=False)


def _room_for(app: Flask, state: _AppState, keys: Sequence[str], kept: Iterable[str]) -> int:
    """How many of ``keys``, first first, the connector could record beside the held keys
    the page links again (``kept``): ``state.recordable``'s answer, from 0 to
    ``len(keys)``, for the 103 and for :func:`_save_what_fits` alike; 0 for a connector
    that cannot say. A subclass's measure that raises, or answers no int (None), is
    logged and taken as none: it costs the page nothing (its 103 goes out, offering
    nothing for push), and nothing is offered for push that it may not record."""
    if state.recordable is None:
        return 0
    try:
        fits = state.recordable(app, keys, kept)
        if isinstance(fits, bool) or not isinstance(fits, int):
            raise TypeError(f"recordable() returned {fits!r}, not an int")
    except Exception:
        log.exception("firehose: %r.recordable() failed", state.connector)
        return 0
    return min(max(fits, 0), len(keys))


class _StaticScope:
    """Wraps ``app.wsgi_app`` of an app with push off, for static caching alone: a static
    file served public is made private if the response, as it starts, sets a cookie
    (:func:`~.static.private_if_cookie`; :class:`PushScope` does it with push on)."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        immutable_written = immutable_mark(environ)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if immutable_written:
                private_if_cookie(headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _cache_static(app: Flask, response: _ResponseT) -> _ResponseT:
    """The ``after_request`` step of an app with push off: static caching alone. Nothing
    once a later ``init_app`` added the push step (:func:`_after_request`), which caches
    static files whether push is on or off."""
    state: _AppState = app.extensions[EXTENSION_KEY]
    if "links" in state.hooks:
        return response
    if not state.settings_compared:
        _warn_settings_changed(app, state)
    cache_versioned_static(app, request._get_current_object(), response)  # type: ignore[attr-defined]
    return response
