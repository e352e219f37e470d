"""Connectors: where what each client holds is kept between its requests.

The protocol is shaped like Flask's ``SessionInterface``: the extension hands a connector
everything it needs, and the connector touches nothing of the extension's.

- ``open(app, request)`` returns what the client holds: a container answering
  ``key in held``. Asking changes no answer (the digest's holder keeps the answers it
  gave: its ``len()`` counts those, not the keys held). None means nothing can be
  remembered for this client now (no ``SECRET_KEY``, a cookie scope ``init_app`` would
  refuse): the response then pushes nothing.
- ``save(app, response, held, pushed, reused)`` is called after the view with the keys
  this response pushed (now held) and the held keys it used again (linked ``nopush``, or
  left out under ``FIREHOSE_ALREADY_PUSHED = "omit"``); it writes what
  changed (:class:`DigestConnector` also signs an unchanged digest again once half its
  lifetime is gone). It is not called when both are empty.

A connector raising in either is logged and costs nothing but the tracking (see
:mod:`.extension`); ``save()`` raising :class:`NotRecorded`, for a reason the connector
has told the log itself, is logged at debug level only. Connectors written for
Flask-Firehose, with ``get_pushed()`` and ``set_pushed(items)``, are wrapped in
:class:`PushedSetConnector`.

The classes come in this order: the protocol (:class:`Connector`), the wrapper of a
Flask-Firehose connector (:class:`PushedSetConnector`), :class:`SessionConnector`, then
the default, :class:`DigestConnector`, last: start there to follow the digest cookie, its
per-app state in :mod:`.held_digests`.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections import UserString
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any, Protocol, cast

from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.http import dump_cookie

from .app_session import (
    Room,
    SessionCopy,
    changed_in_store,
    least_session_line,
    null_session_problem,
    put_back,
    sent_session_fits,
    session_cookie_sent,
    session_cookie_set_by_app,
    session_cookie_unread,
    session_cookie_withheld,
    session_copy,
    session_fits,
    session_fits_with,
    session_key_problem,
    tracks_changes,
)
from .codec import copies_to_try
from .cookie_scope import (
    cookie_path_matches,
    cookie_values,
    digest_cookie_attributes,
    named_as_the_session,
    scope_read,
)
from .held_digests import DigestState, HeldDigest
from .links import for_log
from .secret_key import fallbacks_problem, key_problem, warn_no_secret_key
from .settings import Settings, check_digest_fits, number_hint

__all__ = [
    "Connector",
    "DigestConnector",
    "NotRecorded",
    "PushedSetConnector",
    "SessionConnector",
]

log = logging.getLogger("firehose_digest")


class NotRecorded(RuntimeError):
    """Raised by ``save()`` when it does not record this response's keys, for a reason it
    has already told the log or that is no failure (a session the request emptied). The
    extension logs this at debug level, not as an error with its traceback on every such
    response (a session a client's data has grown past the header budget fails on each of
    its pages), and asks ``save()`` once more for the first of the keys that it can take:
    what the response's 103 offered, then as many new ones as
    :meth:`SessionConnector.recordable` says fit (none for another connector). Refused
    again, the response pushes nothing."""


class Connector(Protocol):
    """Where what each client holds is kept; see the module docstring.

    ``open()`` may return an iterator of keys (a generator), which the extension reads
    into a frozenset and hands ``save()``; ``save()`` is handed tuples. Both are called
    positionally: the parameters are positional-only, so a type checker takes a connector
    that names its own otherwise (pyright refuses a name that differs from a protocol's).
    """

    def open(self, app: Flask, request: Request, /) -> Container[str] | Iterable[str] | None: ...

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
        /,
    ) -> None: ...


def refuse_awaitable(result: object, connector: object, method: str) -> None:
    """A TypeError if a connector's method returned an awaitable: an ``async def`` behind a
    wrapper that ``init_app`` could not tell from a plain method. Its coroutine, called as
    a plain function and never awaited, did nothing: it is closed, and the error logged."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # no "never awaited" warning: this error says it
        raise TypeError(
            f"{connector!r}.{method}() returned {type(result).__name__!r}, an awaitable: "
            "it is called as a plain function, never awaited, so it did nothing: make it "
            "a plain function (run an async store's call to completion in it)"
        )


#: What a store's reply most often is, whose keys :func:`refuse_keys_not_str` looks at.
_KEY_COLLECTIONS = frozenset({set, frozenset, list, tuple, dict})


def refuse_keys_not_str(held: object, connector: object, method: str) -> None:
    """A TypeError if ``held``, a set, list, tuple or dict, holds bytes or rows (tuples)
    and no str: no key would ever be found in it, so every file would be pushed again on
    every visit, and nothing said. redis-py answers bytes unless made with
    ``decode_responses=True``; a database answers rows. Its first key is asked; only if
    that is no str, the rest. Other values (a stray ``None``, a NULL row's) are left: they
    cost nothing but themselves."""
    if type(held) not in _KEY_COLLECTIONS or not held:
        return
    keys = cast("Iterable[object]", held)
    key = next(iter(keys))
    if isinstance(key, str) or not isinstance(key, (bytes, bytearray, Sequence)):
        return
    # A UserString is a Sequence, but no row: equal to, and hashed as, the str it holds.
    if any(isinstance(other, (str, UserString)) for other in keys):
        return
    if isinstance(key, (bytes, bytearray)):
        what = "make the Redis client with decode_responses=True, or decode them"
    else:
        what = "return the keys themselves (urls), not the rows that hold them"
    raise TypeError(
        f"{connector!r}.{method}() returned a {type(held).__name__} of "
        f"{type(key).__name__} ({key!r:.40}), which holds no key: keys are str: {what}"
    )


def refuse_unrun(result: object, connector: object, method: str) -> None:
    """:func:`refuse_awaitable`, and a TypeError if the method, called for what it does
    (``save()``, ``set_pushed()``, ``init_app()``), returned a generator: a generator
    function behind a wrapper that ``init_app`` could not tell from a plain method, which
    runs none of its body until iterated, and the extension never iterates it."""
    refuse_awaitable(result, connector, method)
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        raise TypeError(
            f"{connector!r}.{method}() returned {type(result).__name__!r}, which runs none "
            "of its body until iterated: its body never ran (remove its yield)"
        )


class PushedSetConnector:
    """Flask-Firehose's protocol, adapted: ``get_pushed()`` and ``set_pushed(items)``.

    ``set_pushed`` receives what ``get_pushed`` returned with the pushed keys added (in
    place when the container has ``add``, else as a new set; one that can neither add nor
    be iterated gives the pushed keys alone), and is called only when something was pushed.
    ``get_pushed`` should return a set; an iterator is read into a frozenset first (so
    ``set_pushed`` receives a new set), a str is read as Flask-Firehose stored its
    keys, comma-joined, and None, bytes, what holds no keys, or a set or list of bytes or
    rows (:func:`refuse_keys_not_str`) is an error, as if it had raised.

    Flask-Firehose's own connector keeps the keys in Flask's session, which cannot be
    written without ``SECRET_KEY``, nor signed with one no HMAC takes (an int). A
    ``set_pushed`` that fails that way, or writes such a session, is reported once, as a
    warning; after it, while the app has no ``SECRET_KEY`` that signs, nothing is asked of
    the connector and nothing is pushed (as with :class:`SessionConnector`).
    """

    def __init__(self, connector: Any) -> None:
        for method in ("get_pushed", "set_pushed"):
            if not callable(getattr(connector, method, None)):
                raise ValueError(
                    f"Firehose connector {connector!r} has neither open() and save() nor a "
                    f"callable {method}(): see firehose_digest.Connector"
                )
        self.connector = connector
        #: The apps where ``set_pushed`` failed for want of a session to write, or wrote
        #: one Flask cannot sign (:func:`~.app_session.session_key_problem`).
        self._needs_session: weakref.WeakSet[Flask] = weakref.WeakSet()
        #: The apps where ``set_pushed`` wrote Flask's session (Flask-Firehose's own does):
        #: there :meth:`open` offers nothing on a page whose session cannot be written.
        self._writes_session: weakref.WeakSet[Flask] = weakref.WeakSet()
        #: Per app, the bytes left for a session cookie's line.
        self._rooms: weakref.WeakKeyDictionary[Flask, Room] = weakref.WeakKeyDictionary()
        #: The apps told that a session grown by ``set_pushed`` no longer fits.
        self._told: weakref.WeakSet[Flask] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connector!r})"

    def init_app(self, app: Flask, settings: Settings) -> None:
        """Note the room left for Flask's session cookie. (The wrapped
        connector's own ``init_app``, which Flask-Firehose never called, is not called.)
        The extension calls it for a subclass whose own ``init_app`` does not."""
        self._rooms[app] = Room.of(settings)

    def open(self, app: Flask, request: Request) -> Container[str] | None:
        if app in self._needs_session and (
            app.session_interface.is_null_session(session) or session_key_problem(app)
        ):
            return None  # set_pushed() cannot write: reported once, by save()
        if app in self._writes_session and (
            session_cookie_withheld(app, request) or session_cookie_unread(app, request, session)
        ):
            # save() would refuse to write the session here (below): known to write it, the
            # connector is not asked, so a 103 offers nothing for push that goes unrecorded.
            return None
        held: Container[str] | None = self.connector.get_pushed()
        if held is None:
            # Flask-Firehose's protocol has no "nothing can be remembered" (its push()
            # failed on None): passed on as open()'s None, it silently recorded nothing,
            # ever, for a store read as dict.get() reads it, None for a new client.
            raise TypeError(
                f"{self!r}.get_pushed() returned None: return a set (an empty one for a "
                "client holding nothing)"
            )
        if type(held) is str:  # a subclass may answer ``in`` its own way
            # Flask-Firehose's own store is ",".join(urls): its urls, not its substrings
            # (``set_pushed`` would otherwise receive a set of its characters).
            return frozenset(held.split(",")) if held else frozenset()
        if type(held) is not set:
            # An async get_pushed() behind a plain wrapper: named, not the open() calling it.
            refuse_awaitable(held, self, "get_pushed")
            if isinstance(held, bytes) or not isinstance(held, (Container, Iterable)):
                # Named too, not as an open() told to return "a container, or None".
                raise TypeError(
                    f"{self!r}.get_pushed() returned {type(held).__name__!r} {held!r:.40}: "
                    "return a set of keys (an empty one for a client holding nothing)"
                )
            if isinstance(held, Iterator):
                # Read here, as the extension reads any open()'s (the first `in` would use
                # it up): a reply of no key in it is then named get_pushed()'s, not open()'s.
                held = frozenset(held)
        refuse_keys_not_str(held, self, "get_pushed")
        return held

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: Sequence[str],
        reused: Sequence[str],
    ) -> None:
        if not pushed:
            return
        room = self._rooms.get(app)
        before = session_copy(app)
        try:
            refuse_unrun(self.connector.set_pushed(_with_keys(held, pushed)), self, "set_pushed")
        except Exception as e:
            if before is not None and dict(session) != before.items:
                put_back(before)  # nothing is recorded: not what it wrote before failing
            # Flask's null session refuses writes when SECRET_KEY is unset: said once, and
            # open() stops asking after it. Any other error is logged by the extension: the
            # next request asks again.
            null = app.session_interface.is_null_session(session)
            current = session._get_current_object()  # type: ignore[attr-defined]
            if isinstance(e, RuntimeError) and null and _raised_by(e, current):
                self._needs_session.add(app)
                why = null_session_problem(app)
                warn_no_secret_key(app, repr(self), why)
                raise NotRecorded(f"{why}: the session cannot be written") from e
            raise
        if before is not None and dict(session) != before.items:
            self._writes_session.add(app)
            try:
                problem = session_key_problem(app)
            except Exception:
                # A get_signing_serializer() that raises: Flask's save would too, on it.
                put_back(before)
                raise
            if problem:
                # Flask's save would fail on it (a 500), and so would measuring the
                # session here (_put_back_unless_fits).
                put_back(before)
                self._needs_session.add(app)
                warn_no_secret_key(app, repr(self), problem)
                raise NotRecorded(problem)
            # A page the browser sends no session cookie with (outside SESSION_COOKIE_PATH,
            # or a Strict one withheld from another site's navigation) must write none: it
            # would replace the one the browser keeps, signed-in user and all, whichever
            # interface writes it. Asked only now: a connector keeping its keys elsewhere
            # records there, and is not told that such pages record nothing.
            if session_cookie_withheld(app, request):
                put_back(before)
                raise NotRecorded("the session cookie is not sent here: it is not written")
            if session_cookie_unread(app, request, before.items):
                put_back(before)
                raise NotRecorded("a session cookie sent was not read: it is not written over")
            if session_cookie_set_by_app(app, response):
                put_back(before)
                raise NotRecorded("the response sets the session cookie itself: not written over")
            if room is not None:
                self._put_back_unless_fits(app, before, room)

    def _put_back_unless_fits(self, app: Flask, before: SessionCopy, room: Room) -> None:
        """If the session ``set_pushed`` changed no longer fits ``room``, put it back as it
        was and raise :class:`NotRecorded`: a connector that keeps its keys in Flask's
        cookie session (Flask-Firehose's own, without bound) would otherwise grow it until
        nginx answers 502 on every page. Said once per app and process. A session that
        cannot be measured, as it cannot be serialized (a set stored as it is: JSON has
        none), is put back too, and the error raised: Flask's own save would fail the same
        way, and the page with it."""
        try:
            fits = session_fits(app, room)
        except Exception:
            put_back(before)
            raise
        if fits:
            return
        put_back(before)
        if app not in self._told:
            self._told.add(app)
            log.warning(
                "firehose: %r.set_pushed() grew the session cookie's Set-Cookie line past "
                "%d bytes (%s): nothing more is recorded for such clients "
                "(SessionConnector() keeps a bounded list); said once per app and process",
                self,
                room.size,
                room.set_by,
            )
        raise NotRecorded(f"the session's Set-Cookie line does not fit its {room.size} bytes")


def _raised_by(error: BaseException, owner: object) -> bool:
    """Whether ``error`` was raised in a method of ``owner`` (its innermost frame's
    ``self``): Flask's ``NullSession`` raises from ``_fail``."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_locals.get("self") is owner


def _with_keys(held: Container[str], keys: Sequence[str]) -> Any:
    """``held`` with ``keys`` added: in place if it can ``add``, else as a new set."""
    add = getattr(held, "add", None)
    if add is None:
        return set(held).union(keys) if isinstance(held, Iterable) else set(keys)
    for key in keys:
        add(key)
    return held


class SessionConnector:
    """The exact set of held keys in ``session['h2-held']``, as a JSON list.

    Flask-Firehose stored ``','.join(urls)`` in ``session['h2-pushed']``, so a key with a comma
    (a url then, a ``version`` now) was split and pushed forever; a list survives any key. Its
    value is still read, and moved here (pruned, the old key dropped) at the first response
    that records something (a key it pushes, or a held one it uses again): under its own key,
    Flask-Firehose's ``split(',')`` on a list would fail every request of a worker not yet
    updated, or rolled back to. Only the ``max_items`` most recently pushed keys are kept (a
    response that pushes something also moves the held keys it links again to the end). A
    response whose held keys and new ones are more than that is refused
    (:class:`NotRecorded`): cut, the list would drop the held ones, pushed again on the
    page's next visit. It then pushes, and records, only the first new ones that fit
    beside them (:meth:`recordable`).

    Each key costs 3 to 30 bytes of Flask's compressed session cookie, the fewer the more
    alike the urls are (a versioned key is long). Two limits bound the cookie:

    - What ``FIREHOSE_HEADER_BUDGET`` leaves beside a full ``Link``. A session cookie past
      it would overflow nginx's 4 KB upstream header buffer: a 502, on every page after it.
    - ``MAX_COOKIE_SIZE``, read as at most Werkzeug's default: 4093 bytes of Set-Cookie,
      just under the 4096 bytes of name and value past which a browser drops a cookie
      whole. Past it, Werkzeug warns each time it writes the cookie.

    When the cookie would pass either, fewer keys are kept, the oldest dropped first, until
    it fits (:func:`~.settings.set_cookie_room`).
    """

    session_key = "h2-held"

    def __init__(self, max_items: int = 100) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
            hint = number_hint("max_items", max_items, int, from_argument=True)
            raise ValueError(
                f"SessionConnector max_items must be an int >= 1, got {max_items!r}{hint}"
            )
        self.max_items = max_items
        #: Per app: the bytes left for the session's Set-Cookie line.
        self._rooms: weakref.WeakKeyDictionary[Flask, Room] = weakref.WeakKeyDictionary()
        #: The apps whose log was told that a session did not fit.
        self._told: weakref.WeakSet[Flask] = weakref.WeakSet()
        #: The apps whose log was told that a page linked more than ``max_items`` keeps.
        self._told_items: weakref.WeakSet[Flask] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_items={self.max_items})"

    def get_pushed(self) -> list[str]:
        """The held keys in the current request's session, oldest first: Flask-Firehose's
        (older), then ours."""
        old = session.get(FLASK_FIREHOSE_SESSION_KEY)
        held = _stored_keys(old.split(",") if isinstance(old, str) and old else old)
        return list(dict.fromkeys([*held, *_stored_keys(session.get(self.session_key))]))

    def set_pushed(self, items: Iterable[str]) -> None:
        """Store ``items`` (oldest first) in the current request's session: the last
        ``max_items``. Without ``SECRET_KEY``, Flask's null session raises RuntimeError, as
        Flask-Firehose's ``set_pushed`` did; :meth:`open` returns None then, and the
        extension calls no :meth:`save` after it."""
        session[self.session_key] = list(items)[-self.max_items :]
        session.pop(FLASK_FIREHOSE_SESSION_KEY, None)

    def _trim(self, app: Flask, reused: Sequence[str]) -> None:
        """If the session Flask is about to write does not fit its room, keep the most
        recent keys that fit, the ones this page used again last (none, if the app's own
        data leaves no room: that is the app's to mind, and no response pushes here)."""
        room = self._rooms.get(app)
        if room is None or self.session_key not in session:
            return
        if not session.modified and sent_session_fits(app, room):
            return  # written again as the client sent it, which fits
        if session_fits(app, room):
            return
        keys = dict.fromkeys(self.get_pushed())
        for key in reused:
            keys.pop(key, None)
            keys[key] = None
        self._keep_what_fits(app, room, list(keys)[-self.max_items :], 0)

    def recordable(self, app: Flask, keys: Sequence[str], kept: Iterable[str] = ()) -> int:
        """How many of ``keys``, first first, a :meth:`save` could record now: the most
        that, beside the held keys the page links again (``kept``), are at most
        ``max_items``, and whose list, beside those and the app's own session data (the
        older keys are dropped first), fits the session's room. Asked
        before a 103 offers ``keys`` for push: what it offers is pushed at once, and one
        that the session cannot take would go unrecorded, and be offered again on each
        visit. The session is left as it is; one that cannot be measured (Flask's save
        would fail on it too) takes none."""
        linked_again = list(kept)
        # The list keeps the page's held keys first: what does not fit beside them in
        # ``max_items`` would drop them, to be pushed again on the page's next visit.
        items_for = max(self.max_items - len(linked_again), 0)
        if linked_again and items_for < len(keys):
            self._tell_too_many(app)
            keys = keys[:items_for]
        room = self._rooms.get(app)
        if room is None or not keys:
            return len(keys)

        def fits(count: int) -> bool:
            items = {self.session_key: [*linked_again, *keys[:count]]}
            return session_fits_with(app, room, items, FLASK_FIREHOSE_SESSION_KEY)

        try:
            if fits(len(keys)):
                return len(keys)
            low, high = 0, len(keys)  # `low` fits (or none does), `high` does not
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if fits(middle) else (low, middle)
        except Exception:
            return 0  # save() fails on it too, and says why
        if low < len(keys):
            self._tell_no_room(app, room)
        return low

    def _tell_no_room(self, app: Flask, room: Room) -> None:
        """Warn, once per app and process, that a client's session has no room for the
        keys a page pushes: the cause, and what makes room."""
        if app in self._told:
            return
        self._told.add(app)
        log.warning(
            "firehose: a session cookie's Set-Cookie line does not fit %d bytes (%s) "
            "with a response's new keys: what does not fit is not pushed to that client, "
            "only preloaded (a smaller session or a server-side one makes room); said "
            "once per app and process",
            room.size,
            room.set_by,
        )

    def _tell_too_many(self, app: Flask) -> None:
        """Warn, once per app and process, that a page links more urls than the list
        keeps: what does not fit beside its held ones is not pushed."""
        if app in self._told_items:
            return
        self._told_items.add(app)
        log.warning(
            "firehose: a page links more urls than %r keeps: the ones its client holds are "
            "kept, and what does not fit beside them is not pushed, only preloaded (a "
            "larger max_items makes room); said once per app and process",
            self,
        )

    def _fit_or_raise(self, app: Flask, keep: int, new: int) -> None:
        """Drop the oldest keys until the session cookie fits its room, keeping the last
        ``keep`` (what this response pushes, and the held keys it links again); raise
        :class:`NotRecorded` if even those do not fit.

        Before raising, it keeps what fits of the keys but the ``new`` last ones, and tells
        the log (once per app): the extension then asks once more for the first of the new
        keys that fit (:meth:`recordable`), and pushes those alone. (:meth:`_trim` fits a
        session written on a page that records nothing.)"""
        room = self._rooms.get(app)
        if room is None:
            return
        keys: list[str] = session[self.session_key]
        if self._keep_what_fits(app, room, keys, min(keep, len(keys))):  # max_items kept
            return
        self._keep_what_fits(app, room, keys[: max(len(keys) - new, 0)], 0)
        self._tell_no_room(app, room)
        raise NotRecorded(f"the session's Set-Cookie line does not fit its {room.size} bytes")

    def _keep_what_fits(self, app: Flask, room: Room, keys: list[str], keep: int) -> bool:
        """Store the most recent of ``keys`` whose session cookie fits, at least the last
        ``keep``; False, and none stored, if even those do not fit."""
        session[self.session_key] = keys
        if session_fits(app, room):
            return True
        session[self.session_key] = keys[len(keys) - keep :]
        if not session_fits(app, room):
            session[self.session_key] = []
            return False
        # The most recent keys that fit: a binary search on how many are kept.
        low, high = keep, len(keys)  # `low` fits, `high` does not
        while high - low > 1:
            middle = (low + high) // 2
            session[self.session_key] = keys[len(keys) - middle :]
            low, high = (middle, high) if session_fits(app, room) else (low, middle)
        session[self.session_key] = keys[len(keys) - low :]
        return True

    def init_app(self, app: Flask, settings: Settings) -> None:
        """Refuse to keep fewer keys than a response may push: the ones cut would be
        pushed again on every visit. Refuse budgets that leave Flask's cookie session no
        room for a session of one short key: every :meth:`save` would raise
        :class:`NotRecorded`, and a front pushing what a 103 offers (h2o, Apache) would
        push it again on every visit. Note the room left for the session's cookie."""
        if self.max_items < settings.max_pushes:
            raise ValueError(
                f"SessionConnector(max_items={self.max_items}) keeps fewer keys than "
                f"FIREHOSE_MAX_PUSHES={settings.max_pushes} pushes in one response"
            )
        room = Room.of(settings)
        # The session interface as it is now: one set up after Firehose(app) is not seen.
        least = least_session_line(app, {self.session_key: ["/"]})
        if least is not None and least > room.size:
            raise ValueError(
                # room.set_by names the limit: the budgets, or MAX_COOKIE_SIZE.
                f"The session cookie's Set-Cookie line has room for {room.size} bytes "
                f"({room.set_by}) at FIREHOSE_LINK_BUDGET={settings.link_budget} and "
                f"FIREHOSE_HEADER_BUDGET={settings.header_budget}, less than the {least} "
                "bytes of Flask's cookie session holding one short key: SessionConnector "
                "could keep no key, and a front pushing what a 103 offers would push it on "
                "every visit. Make room, or keep the session server-side (Flask-Session's "
                "cookie holds an id); a server-side session set up after Firehose(app) is "
                "set up too late to be seen: set it up first"
            )
        self._rooms[app] = room

    def open(self, app: Flask, request: Request) -> frozenset[str] | None:
        """The held keys. None, so that the response pushes nothing:

        - where Flask's session has no ``SECRET_KEY``, or one it cannot sign with: nothing
          could be written (one warning per app);
        - where the client sent no session cookie and the browser may hold one it did not
          send: a ``Strict`` one withheld from another site's request, or a page outside
          the cookie's ``Path`` (:func:`~.cookie_scope.cookie_path_matches`, which warns once);
        - where it sent one Flask did not read, and the session is empty
          (:func:`~.app_session.session_cookie_unread`: a copy that does not verify ahead of
          the client's own).
        """
        if app.session_interface.is_null_session(session):
            warn_no_secret_key(app, "SessionConnector", null_session_problem(app))
            return None
        problem = session_key_problem(app)
        if problem:
            warn_no_secret_key(app, "SessionConnector", problem)
            return None
        if session_cookie_withheld(app, request) or session_cookie_unread(app, request, session):
            # The browser may hold a session it did not send, or one Flask did not read,
            # and would keep one written here in its place (a signed-in user signed out):
            # nothing is remembered.
            return None
        return frozenset(self.get_pushed())

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: Sequence[str],
        reused: Sequence[str],
    ) -> None:
        opened = session._get_current_object()  # type: ignore[attr-defined]
        if not pushed and FLASK_FIREHOSE_SESSION_KEY not in session:
            # A new order alone is not worth a new session cookie; but one Flask writes
            # anyway (a permanent one, on every response) must fit the room the settings
            # leave now: a deploy may have left less than its list was trimmed to.
            if app.session_interface.should_set_cookie(app, opened):
                self._trim(app, reused)
            return
        if session_cookie_set_by_app(app, response):
            # The app deleted (or wrote) the session cookie on this response itself (a
            # logout leaving `session` as it was): a session written after it would be the
            # line the browser keeps, its user signed in again.
            raise NotRecorded("the response sets the session cookie itself: not written over")
        if not opened and opened.modified and tracks_changes(opened) and session_cookie_sent(app):
            # The request emptied the session the client sent (a logout's clear()): it
            # stays empty, so Flask deletes its cookie, and a server-side store its entry.
            raise NotRecorded("the session was emptied by this request")
        if changed_in_store(app, opened):
            raise NotRecorded("the session changed in its store since this request read it")
        # Most recently used last: the keys this page used again, then the new ones.
        keys = dict.fromkeys(self.get_pushed())
        for key in (*reused, *pushed):
            keys.pop(key, None)
            keys[key] = None
        left_alone = not opened.modified
        stored = {
            name: session[name]
            for name in (self.session_key, FLASK_FIREHOSE_SESSION_KEY)
            if name in session
        }
        # A page's held keys are kept beside what it pushes: dropped to make room for them,
        # they would be pushed again on its next visit, dropping these.
        keep = len(dict.fromkeys((*reused, *pushed))) if pushed else 0
        try:
            if reused and keep > self.max_items:
                # Cut to its last max_items, the list would drop held keys the page links
                # again, pushed on its next visit, dropping others: nothing is recorded,
                # as where the session has no room (the extension then asks for the first
                # new keys that fit beside the held ones alone).
                self._tell_too_many(app)
                raise NotRecorded(
                    f"{keep} keys, the page's held and pushed ones, are more than {self!r} keeps"
                )
            self.set_pushed(keys)  # not a null session: open() returned None for one
            self._fit_or_raise(app, keep, len(pushed))
        except Exception as e:
            if left_alone or not isinstance(e, NotRecorded):
                # Nothing is recorded, so our keys are put back as the request found them:
                # - On a page that left the session alone, whatever was raised. The app
                #   writes its session only as it changes it; written here, one too large
                #   for the new keys would go out on each of its pages beside the Link,
                #   and pass the header buffer the room stands for (nginx's 502).
                # - On any page, for an error other than NotRecorded. A list that could
                #   not be measured (a SECRET_KEY set after init_app to what no HMAC
                #   takes) would fail Flask's own save, and the page with it. A list a
                #   failing set_pushed() wrote holds keys never pushed.
                # A page that changed the session itself, told NotRecorded, keeps what
                # _fit_or_raise() left: the older keys that fit.
                for name in (self.session_key, FLASK_FIREHOSE_SESSION_KEY):
                    if name in stored:
                        session[name] = stored[name]
                    else:
                        session.pop(name, None)
            if left_alone:
                session.modified = False
                if app.session_interface.should_set_cookie(app, opened):
                    self._trim(app, reused)  # written anyway (a permanent one): made to fit
            raise


def _stored_keys(stored: object) -> list[str]:
    """The str keys of a stored list; none from anything else."""
    return [key for key in stored if isinstance(key, str)] if isinstance(stored, list) else []


#: Where Flask-Firehose kept ``','.join(urls)`` in the session.
FLASK_FIREHOSE_SESSION_KEY = "h2-pushed"


class DigestConnector:
    """Keep what each client holds in a signed cookie holding a Bloom or GCS digest.

    Nothing kept per client on the server: the cookie (``FIREHOSE_COOKIE_NAME``) carries
    an :class:`~firehose_digest.AgingDigest` of the held keys, signed with
    ``SECRET_KEY_FALLBACKS + [SECRET_KEY]``. Arguments override the app's config. A bad,
    expired or foreign cookie is an empty digest, never an error. One instance may serve
    several apps: each is read by its own settings and keys, with a cache of its own.
    """

    def __init__(
        self,
        capacity: int | None = None,
        fp_rate: float | None = None,
        encoding: str | None = None,
    ) -> None:
        self._arguments = (capacity, fp_rate, encoding)
        self._apps: weakref.WeakKeyDictionary[Flask, DigestState] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        capacity, fp_rate, encoding = self._arguments
        return f"{type(self).__name__}({capacity=}, {fp_rate=}, {encoding=})"

    def init_app(self, app: Flask, settings: Settings) -> None:
        """Refuse a digest that cannot work in this app's cookie and header budget."""
        attributes = digest_cookie_attributes(app)
        try:
            settings = settings.with_digest(*self._arguments)
            check_digest_fits(settings, attributes)
        except ValueError as e:
            keys = ("FIREHOSE_CAPACITY", "FIREHOSE_FP_RATE", "FIREHOSE_ENCODING")
            if any(argument is not None for argument in self._arguments) and any(
                key in str(e) for key in keys
            ):
                # The app's config may not name these at all: say where the value came from.
                raise ValueError(
                    f"{self!r} (its arguments stand for {', '.join(keys)}): {e}"
                ) from e
            raise
        if settings.cookie_name == app.session_interface.get_cookie_name(app):
            raise ValueError(named_as_the_session(settings.cookie_name))
        problem = key_problem(app.config.get("SECRET_KEY")) or fallbacks_problem(
            app.config.get("SECRET_KEY_FALLBACKS")
        )
        if problem:
            raise ValueError(problem)
        self._apps[app] = DigestState(settings, attributes, scope_read(app))

    def settings(self, app: Flask) -> Settings:
        """The digest settings in force for ``app``."""
        return self._state(app).settings

    def _state(self, app: Flask) -> DigestState:
        try:
            return self._apps[app]
        except KeyError:
            raise RuntimeError(
                f"{self!r} was not set up for app {app.name!r}: use Firehose(app, connector)"
            ) from None

    def open(self, app: Flask, request: Request) -> Container[str] | None:
        """The digest in the client's cookie (read as Werkzeug reads cookies, a "," as a
        ";": :func:`~.cookie_scope.cookie_values`), else empty; None without
        ``SECRET_KEY``, which signs the cookie, or on a page outside the cookie's ``Path``,
        where the browser sends none (:func:`~.cookie_scope.cookie_path_matches`).

        A request may send several cookies of this name: a browser sends each one whose
        domain and path match, the longer path first (RFC 6265 §5.4), another app's or one
        a deploy left behind among them.

        - A digest is signed for its cookie's domain and path, so only this app's copies
          verify. Of several that do, the one signed last is read.
        - A copy that does not verify costs an HMAC on every request, so at most
          :data:`~.codec.MAX_COOKIE_COPIES` different values are tried: the last sent
          (:func:`~.codec.copies_to_try`). Copies planted with longer paths come before the
          client's own, so its own is among the last.
        - If more were sent and none of those tried gives a digest, one not tried may hold
          the client's. None then, so that nothing is written over it.

        None, too, where the cookie is scoped, on this request, as ``init_app`` would
        refuse it (:meth:`~.held_digests.DigestState.scope_refused`: a session interface's
        getter giving each host's domain, or a ``SESSION_COOKIE_*`` set in ``app.config``
        after ``init_app``, which Flask's own interface reads on each request): with an
        attribute no cookie can be written with, as browsers refuse it, so that the largest
        cookie does not fit, or beside a session cookie of the digest's name, which it would
        replace (logged once per app). ``save()`` refuses to write there, so the 103 and the
        ``Link`` offer nothing for push.
        """
        state = self._state(app)
        if not cookie_path_matches(app, request):
            return None  # the browser sends no digest here, and keeps one written here
        if state.scope_refused(app):
            return None
        values = cookie_values(request, state.settings.cookie_name)
        if len(values) < 2:
            return state.load(app, values[0] if values else None)
        tried = copies_to_try(values)
        held = state.load_newest(app, tried)
        if held is state.empty and len(tried) < len(set(values)):
            # One not tried may hold the client's digest (more copies of its path or a
            # shorter one were planted): then nothing is recorded, nor written over it.
            return None
        return held

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: Sequence[str],
        reused: Sequence[str],
    ) -> None:
        """Record what this response pushed and reused in the cookie. It is written only
        when something was pushed, when a key used again is held by the older generation
        alone, or when half its lifetime is gone (:func:`_write_due`).

        In three cases a write that is due is not made: :class:`NotRecorded` is raised, and
        the response pushes nothing, as it does for any other error raised here: a
        :class:`RuntimeError` when no ``SECRET_KEY`` can sign now (removed since
        ``open()``), a :class:`TypeError` for a ``held`` that ``open()`` did not return
        (nor an empty set).

        - The app's response sets the cookie itself (deletes it, on a "forget me" page).
        - ``init_app`` ran again since the digest was read, and replaced the settings it
          was read under.
        - The cookie is scoped, on this request, as ``init_app`` would refuse it
          (:meth:`~.held_digests.DigestState.scope_refused`, logged once per app):
          ``open()`` returned None for such a scope, but the view may have changed it since
          (a getter reading what it set).

        The page's keys go into the current generation, so a resource on every page
        survives rotations instead of being pushed again every two generations. At most a
        generation's worth of them, the pushed ones last: then adding them rotates at most
        once, and the older generation, which holds what was added before the rotation,
        is kept. Every pushed key is held afterwards (``init_app`` refuses a capacity below
        ``FIREHOSE_MAX_PUSHES``).

        The list an app that used Flask-Firehose (``h2-pushed``) or :class:`SessionConnector`
        (``h2-held``) left in the session is dropped when something is pushed: a client's
        first response after the move, since no digest holds anything yet.
        """
        state = self._state(app)
        if pushed:
            _drop_lists_left_in_session(app, response)
        if not isinstance(held, HeldDigest):
            if isinstance(held, (set, frozenset)) and not held:  # a client holding nothing
                held = state.empty
            else:
                # Starting from empty would write a cookie holding this page alone.
                raise TypeError(
                    f"{self!r}.save() was given a {type(held).__name__}, not what its open() "
                    "returned (or an empty set): a subclass that wraps open()'s answer must "
                    "hand save() the original"
                )
        elif held.salt is None:
            # The empty holder (no cookie verified it), maybe of settings init_app has
            # since replaced: the client holds nothing under any.
            held = state.empty
        digest = held.digest
        page_keys = [*reused, *pushed][-digest.capacity :]
        if not _write_due(held, page_keys, pushed, state.settings.max_age):
            return
        codec = state.codec(app)
        if codec is None:  # SECRET_KEY removed since open(): nothing can be written
            raise RuntimeError("SECRET_KEY is not set: the digest cookie cannot be signed")
        if not state.read_here(held, codec):
            # init_app ran again since open() read it: written back, it would be cached,
            # and believed, as a digest of the new settings.
            raise NotRecorded("the digest settings changed since this request read the cookie")
        name = state.settings.cookie_name
        if any(line.startswith(f"{name}=") for line in response.headers.getlist("Set-Cookie")):
            # The app wrote or deleted the cookie itself (a "forget me" page): its say.
            raise NotRecorded(f"the response sets the {name} cookie itself")
        # Asked again: the view may have scoped the cookie since open() asked (a getter
        # reading what it set, one it set on the interface, the config).
        refused = state.scope_refused(app)
        if refused:
            raise NotRecorded(f"the {name} cookie cannot be scoped so: {refused}")
        attributes = digest_cookie_attributes(app)
        digest = digest.copy()  # the cached one is shared by every request that sends it
        # Twice: a rotation midway leaves the keys added before it in the older generation;
        # the second pass adds them again, within the new generation's room.
        for _ in range(2):
            for key in [key for key in page_keys if key not in digest.current]:
                digest.add(key)
        value = codec.dumps(digest.to_bytes())
        # Measured against the MAX_COOKIE_SIZE init_app sized the digest by, which its
        # largest cookie fits: Flask's Response reads the config live, and Werkzeug would
        # warn of one lowered since (an error under -W error) at each write.
        set_cookie = dump_cookie(
            name,
            value,
            max_age=state.settings.max_age,
            max_size=state.settings.max_cookie_size,
            **asdict(attributes),
        )
        response.headers.add("Set-Cookie", set_cookie)
        state.remember(codec, value, digest)  # only once the cookie is written


def _write_due(
    held: HeldDigest, page_keys: list[str], pushed: Sequence[str], max_age: int
) -> bool:
    """Whether :meth:`DigestConnector.save` writes the cookie: when something was
    ``pushed``, when a page key only the older generation holds needs writing back (none
    can, in a digest that never rotated), or when half the cookie's lifetime is gone."""
    needs_write_back = bool(held.digest.previous) and not held.current_holds(page_keys)
    return bool(pushed) or needs_write_back or held.renewal_due(max_age)


#: Session cookies of fewer characters are not looked into for a list left there: it
#: risked a 502 only once it grew to kilobytes, and decoding a session again costs an HMAC.
LEFT_LIST_LENGTH = 1024


def _drop_lists_left_in_session(app: Flask, response: Response) -> None:
    """Drop the list Flask-Firehose (``h2-pushed``) or :class:`SessionConnector`
    (``h2-held``) left in the cookie session of an app that moved to the digest: nothing
    reads it, and grown to kilobytes it keeps the session cookie large enough that, beside
    our headers on the same response, it can pass nginx's 4 KB upstream header buffer (a
    502).

    The request's session cookie is read with the app's own serializer, not through
    ``flask.session``, which would mark the session accessed, and so make Flask add
    ``Cookie`` to the view's own ``Vary`` on every response that pushes. A server-side
    session's cookie holds an id, and no list that could grow it.
    """
    interface = app.session_interface
    if not has_request_context() or not isinstance(interface, SecureCookieSessionInterface):
        return
    sent = request.cookies.get(interface.get_cookie_name(app))
    if sent is None or len(sent) < LEFT_LIST_LENGTH:
        return  # no list there worth dropping: not worth a second HMAC and decoding
    if session_cookie_set_by_app(app, response):
        # The app deleted (or wrote) the session cookie on this response (a logout): the
        # session written after it, the list dropped, would sign its user in again.
        return
    try:
        serializer = interface.get_signing_serializer(app)
    except Exception as e:
        # A subclass's that raises where it holds no key (a host): its own open_session
        # never asks there, and the digest keeps nothing in the session. Not the page's
        # error, nor an operator's: the Host and the cookie are the client's to send.
        log.debug(
            "firehose: the session cannot be looked into for a list left there: %s",
            for_log(repr(e)),  # a KeyError of the client's Host, say
        )
        return
    if serializer is None:
        return
    try:
        opened = serializer.loads(
            sent, max_age=int(app.permanent_session_lifetime.total_seconds())
        )
    except BadSignature:
        return  # Flask opened a new session for it: nothing of the old one is kept
    if isinstance(opened, dict):
        for key in (FLASK_FIREHOSE_SESSION_KEY, SessionConnector.session_key):
            if key in opened:
                session.pop(key, None)


def set_up_per_app(
    connector: PushedSetConnector | SessionConnector | DigestConnector,
) -> weakref.WeakKeyDictionary[Flask, Any]:
    """The mapping, by app, of what ``init_app`` set up for one of our connectors: the room
    of the session cookie (:class:`PushedSetConnector`, :class:`SessionConnector`) or the
    digest's signing state (:class:`DigestConnector`).

    An app missing from it was not set up: a digest's ``open()`` raises on each of its
    requests, and a session connector grows the session cookie past its room."""
    return connector._apps if isinstance(connector, DigestConnector) else connector._rooms
