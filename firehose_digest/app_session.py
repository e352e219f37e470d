"""The app's Flask session, as :class:`~.connectors.SessionConnector` and
:class:`~.connectors.PushedSetConnector` keep their keys in it: whether it can be signed
with ``SECRET_KEY``, whether the client sent its cookie, a copy of it to put back when a
connector's write fails or does not fit, whether its ``Set-Cookie`` line fits the room the
settings leave it (:class:`Room`), how long that line is for a new session holding given
items (measured at ``init_app``), and whether a server-side session changed in its store
since the request read it.

A module of its own: these are questions about the app's session and its interface
(Flask's cookie session, a subclass of it, Flask-Session's), whatever connector asks them;
the connectors decide what to keep in it.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, cast

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer
from werkzeug.http import dump_cookie

from .cookie_scope import (
    cookie_attributes,
    cookie_path_matches,
    cookie_values,
    withheld_from_another_site,
)
from .secret_key import false_key_problem, key_problem
from .settings import Settings, set_cookie_line, set_cookie_room, set_cookie_room_said

__all__ = [
    "Room",
    "SessionCopy",
    "changed_in_store",
    "least_session_line",
    "null_session_problem",
    "put_back",
    "sent_session_fits",
    "session_cookie_sent",
    "session_cookie_set_by_app",
    "session_cookie_unread",
    "session_cookie_withheld",
    "session_copy",
    "session_fits",
    "session_fits_with",
    "session_key_problem",
    "tracks_changes",
]


def null_session_problem(app: Flask) -> str:
    """Why the request has Flask's null session: no ``SECRET_KEY`` (Flask's session
    needs one) or, with one set, a session interface whose ``open_session`` gave none."""
    if not app.secret_key:
        return false_key_problem(app.secret_key)
    return f"{type(app.session_interface).__name__}.open_session() gave no session"


def session_key_problem(app: Flask) -> str | None:
    """Why the session cannot be signed with ``SECRET_KEY``, or None.

    A key set to what no HMAC takes (an int, as ``from_prefixed_env`` reads
    ``FLASK_SECRET_KEY=123``) is a problem under an interface that signs with it as
    Flask's does. Flask's save would fail on it on each page that writes the session (a
    500), and so would measuring the session each time a list is kept there.

    These interfaces sign with the key:

    - Flask's, and a subclass that keeps its ``get_signing_serializer`` and Flask's
      ``open_session`` or ``save_session``;
    - Flask-Session's with its (deprecated) ``SESSION_USE_SIGNER``, which signs the
      session id with it.

    Any other server-side session (Flask-Session's, or a subclass of Flask's whose cookie
    holds an id) never signs with the key, and takes any.

    An interface of Flask's kind with no serializer for the request is a problem too:
    Flask's own ``get_signing_serializer`` without ``SECRET_KEY`` (or with any false one),
    or a subclass's that gives None (for a host it holds no key for). Flask then makes its
    null session, which the caller tells apart. But a subclass may open a session all the
    same: Flask's save cannot sign that one, nor can a save that wraps Flask's, which
    cannot be told from one that replaces it. So such a session is not written, whatever
    saves it."""
    interface = app.session_interface
    # Flask-Session signs on any true value: FLASK_SESSION_USE_SIGNER=1 is an int.
    if getattr(interface, "use_signer", False):
        consequence = " (Flask-Session's SESSION_USE_SIGNER cannot sign the session id with it)"
        problem = key_problem(app.secret_key, consequence)
        if problem is None and not app.secret_key:
            # Unset or empty: Flask-Session opens a session all the same, and its save of
            # one written raises ("SECRET_KEY must be set when SESSION_USE_SIGNER=True").
            why = " (Flask-Session's SESSION_USE_SIGNER cannot sign the session id without it)"
            problem = false_key_problem(app.secret_key) + why
        return problem
    flask_s = SecureCookieSessionInterface
    if not isinstance(interface, flask_s):
        return None
    kind = type(interface)
    if kind.get_signing_serializer is not flask_s.get_signing_serializer:
        if interface.get_signing_serializer(app) is None:
            return f"{kind.__name__}.get_signing_serializer() gave no serializer"
        return None  # its own keys: not SECRET_KEY's to refuse
    if not app.secret_key:  # as Flask's get_signing_serializer reads it
        return false_key_problem(app.secret_key)
    if (
        kind.open_session is not flask_s.open_session
        and kind.save_session is not flask_s.save_session
    ):
        return None
    return key_problem(app.secret_key, " (Flask's session cannot be signed with it)")


def session_cookie_sent(app: Flask) -> bool:
    """Whether the client sent the app's session cookie."""
    return app.session_interface.get_cookie_name(app) in request.cookies


def session_cookie_withheld(app: Flask, req: Request) -> bool:
    """Whether the browser may hold a session cookie it did not send with ``req``: none
    was sent, and the page is outside the cookie's ``Path``
    (:func:`~.cookie_scope.cookie_path_matches`, which warns once) or a ``Strict`` one was
    withheld from another site's navigation
    (:func:`~.cookie_scope.withheld_from_another_site`). A session written there would
    replace the one the browser keeps, signed-in user and all."""
    return not session_cookie_sent(app) and (
        withheld_from_another_site(app, req) or not cookie_path_matches(app, req)
    )


def session_cookie_set_by_app(app: Flask, response: Response) -> bool:
    """Whether ``response`` sets the session cookie itself, at the ``Path`` and ``Domain``
    Flask writes it with: a logout that deletes the cookie on its response and leaves
    ``session`` as it was. A session written after it, by a connector keeping its keys
    there, goes out on a later line, which the browser keeps: the signed-in session it
    read, user and all. A line of another ``Path`` or ``Domain`` (an old deploy's copy
    deleted) is another cookie, and is left to the browser."""
    name = app.session_interface.get_cookie_name(app)
    lines = [
        line for line in response.headers.getlist("Set-Cookie") if line.startswith(f"{name}=")
    ]
    if not lines:
        return False
    attributes = cookie_attributes(app)
    own_domain = (attributes.domain or "").lstrip(".").lower()
    for line in lines:
        path: str | None = None
        domain = ""
        for part in line.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "path":
                path = value
            elif key.lower() == "domain":
                domain = value.lstrip(".").lower()
        # No Path is the page's own directory, which the app chose: taken as the cookie's.
        if (path is None or path == attributes.path) and domain == own_domain:
            return True
    return False


def session_cookie_unread(app: Flask, req: Request, opened: Mapping[str, Any]) -> bool:
    """Whether the client sent a session cookie Flask did not read, and the session it
    opened, ``opened``, holds nothing.

    Flask reads the first of several copies (``request.cookies.get``). A browser sends
    several when they differ in ``Path`` or ``Domain``, the longer path first: one a sibling
    subdomain planted, or left by an older deploy, ahead of the client's own. Where that
    first one does not verify, Flask opens an empty session, and one written here, at the
    cookie's own ``Path``, would replace the client's, signed-in user and all, where the
    page alone would have written nothing. So too for a copy Werkzeug reads as part of
    another cookie's value (``a=1,session=...``: repeated ``Cookie`` lines a server
    joined with ","). A session the request filled (a sign-in) is Flask's to write."""
    if opened:
        return False
    name = app.session_interface.get_cookie_name(app)
    read = req.cookies.get(name)
    return any(value != read for value in cookie_values(req, name))


class SessionCopy(NamedTuple):
    """The request's session as it was, and whether it was ``modified`` then."""

    items: dict[str, Any]
    modified: bool


def put_back(before: SessionCopy) -> None:
    """The request's session as :func:`session_copy` copied it, ``modified`` as it
    was: a session put back as the request found it is not written again (a client's
    session cookie deleted, or a permanent one's expiry moved, by a page that failed)."""
    session.clear()
    session.update(before.items)
    session.modified = before.modified


def session_copy(app: Flask) -> SessionCopy | None:
    """A copy of the request's session, whatever its interface; None for a null session.

    Without a copy, ``save`` could neither put back what a failing ``set_pushed`` wrote
    nor keep the session in its room. A server-side session keeps what a failing
    ``set_pushed`` wrote as surely as Flask's cookie does, so it is copied too.

    How deep each value is copied (:func:`_value_copy`):

    - Flask's cookie session (:func:`_saved_as_flask_cookie`) holds under 4 KB, so each
      value is copied whole. A value ``set_pushed`` changed in place, at any depth, is
      then put back too. A value ``copy.deepcopy`` cannot copy (an object a custom JSON tag holds,
      with a lock) is copied as a server-side session's values are.
    - A server-side session has no such bound. A set, list or dict is copied one level.
      So a set, list or dict of keys added to in place is put back: the one
      ``get_pushed`` returned, which the keys pushed are added to before ``set_pushed``
      runs. Any other value is kept as the app's own object: a change deeper in one is
      not put back.

    Whatever the session, what ``set_pushed`` assigns is put back (Flask-Firehose's own
    ``set_pushed`` writes its key whole)."""
    if app.session_interface.is_null_session(session):
        return None
    whole = _saved_as_flask_cookie(app)
    items = {key: _value_copy(value, whole) for key, value in session.items()}
    return SessionCopy(items, session.modified)


def _value_copy(value: object, whole: bool) -> object:
    """A session value copied whole if ``whole`` and ``copy.deepcopy`` can, else a set,
    list or dict copied one level, else the value itself."""
    if whole:
        try:
            return copy.deepcopy(value)
        except Exception:
            pass
    return copy.copy(value) if isinstance(value, (set, list, dict)) else value


class Room(NamedTuple):
    """The bytes left for a session cookie's Set-Cookie line
    (:func:`~.settings.set_cookie_room`), and the limit that sets them."""

    size: int
    #: That limit, as a log line names it (:func:`~.settings.set_cookie_room_said`).
    set_by: str

    @classmethod
    def of(cls, settings: Settings) -> Room:
        return cls(set_cookie_room(settings), set_cookie_room_said(settings))


def session_fits(app: Flask, room: Room) -> bool:
    """Whether the session's Set-Cookie line, as Flask will write it, fits ``room``
    (takes at most its bytes). Only Flask's own cookie session is measured: another interface
    (a server-side one, whose cookie holds an id) may write something else."""
    return session_fits_with(app, room, {})


def session_fits_with(
    app: Flask, room: Room, items: dict[str, Any], dropped: str | None = None
) -> bool:
    """Whether the session's Set-Cookie line would fit ``room`` with ``items`` stored in
    it and ``dropped`` popped from it, the session itself left as it is (a 103, sent
    before the view, asks what a save could write). Measured as :func:`session_fits`
    measures: only Flask's own cookie session."""
    if not _saved_as_flask_cookie(app):
        return True
    interface = cast(SecureCookieSessionInterface, app.session_interface)
    serializer = interface.get_signing_serializer(app)
    if serializer is None:
        return True
    written = {key: value for key, value in session.items() if key != dropped}
    return _line_fits(app, interface, serializer.dumps({**written, **items}), room)


def sent_session_fits(app: Flask, room: Room) -> bool:
    """Whether the session cookie the client sent fits ``room`` as Flask writes it again
    for a session the request did not modify: the same data, serialized alike, signed
    with a timestamp as long (itsdangerous' is 4 bytes until 2106). Measured without
    serializing and signing the session a second time. A change the app made in place
    without setting ``session.modified`` (which Flask's docs ask of it), or one a session
    interface made as it opened the session, is not seen: that session is the app's own,
    as on a page that links nothing, which is never measured."""
    if not _saved_as_flask_cookie(app):
        return True
    interface = cast(SecureCookieSessionInterface, app.session_interface)
    sent = request.cookies.get(interface.get_cookie_name(app))
    return sent is not None and _line_fits(app, interface, sent, room)


def least_session_line(app: Flask, items: dict[str, Any]) -> int | None:
    """The bytes of the Set-Cookie line Flask writes for a new session holding ``items``
    alone, not permanent (no ``Expires``: the smallest it can be), measured outside any
    request; None for a session not written as Flask's own cookie session (a server-side
    one, whose cookie holds an id).

    Signed with a stand-in key through the interface's serializer settings, as its
    ``get_signing_serializer`` signs (a subclass's may need a request, or a key per host):
    an HMAC is as long for any key, so the line is too, with ``SECRET_KEY`` set after
    ``init_app``, or not at all."""
    if not _saved_as_flask_cookie(app):
        return None
    interface = cast(SecureCookieSessionInterface, app.session_interface)
    signer = {"key_derivation": interface.key_derivation, "digest_method": interface.digest_method}
    serializer = URLSafeTimedSerializer(
        "a stand-in key",
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs=signer,
    )
    return _line(app, interface, serializer.dumps(items), None)


def _line_fits(
    app: Flask, interface: SecureCookieSessionInterface, value: str, room: Room
) -> bool:
    """Whether the Set-Cookie line Flask writes for the session cookie ``value`` fits
    ``room``."""
    expires = interface.get_expiration_time(app, session)
    return _line(app, interface, value, expires) <= room.size


def _line(
    app: Flask, interface: SecureCookieSessionInterface, value: str, expires: datetime | None
) -> int:
    """The bytes of the Set-Cookie line Flask writes for the session cookie ``value``."""
    line = dump_cookie(
        interface.get_cookie_name(app),
        value,
        expires=expires,
        max_size=0,
        **vars(cookie_attributes(app)),  # its fields: asdict() would copy each
    )
    return set_cookie_line(line)


def _saved_as_flask_cookie(app: Flask) -> bool:
    """Whether the app's session is written as Flask's own cookie session writes it."""
    save = type(app.session_interface).save_session
    return save is SecureCookieSessionInterface.save_session


def changed_in_store(app: Flask, opened: SessionMixin) -> bool:
    """Whether a server-side session this request only read has changed in its store
    since: a logout in another tab deleted it, or popped its user, or another user signed
    in there (the same keys, another ``_user_id``). Written now, the whole session as this
    request read it would be saved again under its id (Flask-Session), signing the first
    user in again. Flask's cookie session has no store to ask: its race is the browser's."""
    if _saved_as_flask_cookie(app) or opened.modified or not tracks_changes(opened):
        return False
    try:
        stored = app.session_interface.open_session(app, request)
    except Exception:
        return False  # the store's failure is the session interface's to report
    if stored is None or set(stored) != set(opened):
        return True
    now = dict(stored)
    return any(_value_changed(now[key], value) for key, value in dict(opened).items())


def _value_changed(stored: object, opened: object) -> bool:
    """Whether a session value differs from its copy read again from the store. One that
    equals its copy has not changed; one that does not is compared by its pickle, its
    state as a store keeps it: an object without ``__eq__`` of its own (one the app
    pickled), a NaN (equal to no NaN), or a list, dict or dataclass holding either, equals
    no copy of itself, yet pickles as it does, while another user's object does not. One
    that cannot be pickled (nor then kept by a pickling store) is not compared."""
    try:
        if stored == opened:
            return False
    except Exception:  # an array's == makes no bool, a list that holds itself recurses
        pass
    try:
        return pickle.dumps(stored) != pickle.dumps(opened)
    except Exception:
        return False


def tracks_changes(current: SessionMixin) -> bool:
    """Whether a session's ``modified`` says if it changed: Flask's ``SessionMixin`` says
    True, always, for a class that does not track changes (``class S(dict, SessionMixin)``);
    one that does sets its own (Flask's ``SecureCookieSession`` as a class attribute,
    Flask-Session's ``ServerSideSession`` in ``__init__``)."""
    return "modified" in getattr(current, "__dict__", {}) or not type(current).modified
