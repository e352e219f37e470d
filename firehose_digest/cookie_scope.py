"""The digest cookie's scope, read through Flask's session interface on each request: its
attributes (the session cookie's, ``SameSite=Lax`` for ``Strict``), the cookies of its name a
request sent, whether the browser sends the app's cookies with a request (their ``Path``, a
``Strict`` session cookie withheld from another site), and whether the scope the interface
gives a request is one a digest can be recorded under, as ``init_app`` checks it (a refused
one logged once per app).

A module of its own: the session cookie and the digest's share one scope, which Flask reads
through its ``SessionInterface`` getters on every request (``flask/sessions.py`` reads each
attribute in one place), so a getter or a ``SESSION_COOKIE_*`` set after ``init_app`` may
change it. The connectors, the app's session (:mod:`.app_session`) and the decoded digests
(:mod:`.held_digests`, which keeps the scopes found recordable) ask it; it imports none of
them.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import fields, replace
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from flask import Flask, Request
from flask.sessions import SessionInterface
from werkzeug.sansio.http import parse_cookie

from .links import for_log
from .settings import (
    CookieAttributes,
    Settings,
    check_cookie_attributes,
    check_digest_fits,
    check_scope_fits,
    refused_by_browsers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = [
    "cookie_attributes",
    "cookie_domain",
    "cookie_path_matches",
    "cookie_values",
    "digest_cookie_attributes",
    "named_as_the_session",
    "scope_read",
    "unrecordable",
    "warn_named_as_the_session",
    "withheld_from_another_site",
]

log = logging.getLogger("firehose_digest")


def cookie_attributes(app: Flask) -> CookieAttributes:
    """The app's session cookie attributes, read through Flask's own session interface."""
    interface = app.session_interface
    return CookieAttributes(
        path=interface.get_cookie_path(app),
        domain=cookie_domain(app),
        secure=interface.get_cookie_secure(app),
        httponly=interface.get_cookie_httponly(app),
        samesite=interface.get_cookie_samesite(app),
        partitioned=interface.get_cookie_partitioned(app),
    )


def cookie_domain(app: Flask) -> str | None:
    """The session cookie's domain; a false one (``False``, how Flask before 2.3 turned
    off its ``SERVER_NAME`` fallback, or ``""``) is none, as Werkzeug writes it: a
    host-only cookie, written and signed alike."""
    return app.session_interface.get_cookie_domain(app) or None


def digest_cookie_attributes(app: Flask) -> CookieAttributes:
    """The digest cookie's attributes: the session cookie's, but ``SameSite=Lax`` for
    ``Strict``.

    A browser sends no ``Strict`` cookie on a navigation from another site, yet keeps the
    one that navigation's response sets (RFC 6265bis §5.7: a top-level navigation may set a
    cookie of any ``SameSite``). The digest written then, holding that page alone, would
    replace everything the client held. ``Lax`` is sent on those navigations, and the
    digest grants no authority a cross-site request could misuse.
    """
    attributes = cookie_attributes(app)
    if isinstance(attributes.samesite, str) and attributes.samesite.lower() == "strict":
        return replace(attributes, samesite="Lax")
    return attributes


def cookie_values(request: Request, name: str) -> list[str]:
    """The values of the cookies named ``name`` the request sent, in order.

    gunicorn joins repeated ``Cookie`` lines with "," (``http/wsgi.py``, 27.0.1: lines an
    HTTP/1.1 client sent; a browser's HTTP/2 cookie fields, RFC 9113 §8.2.3, are joined
    with "; " by a front or by ``h2``): Werkzeug then reads ``a=1,h2-digest=...`` as one
    cookie, ``a``. No value of ours holds a ",", nor may any cookie's (RFC 6265 §4.1.1),
    so where the header holds one it is read as a ";". This reads our cookie alone, over
    any protocol; the app's own cookies are read as sent, except over HTTP/2 and HTTP/3,
    where the extension joins the fields again for the whole app
    (:func:`~.cookie_fields.rejoined`).
    """
    # The header ``request.cookies`` parses (a WSGI environ holds one): read from the
    # environ, since ``headers.getlist`` walks the whole environ on every request.
    header = request.environ.get("HTTP_COOKIE", "")
    if "," not in header:
        return request.cookies.getlist(name)
    return parse_cookie(header.replace(",", ";")).getlist(name)


#: What Werkzeug's ``dump_cookie`` leaves unquoted in a cookie's ``Path``.
_PATH_SAFE = "%!$&'()*+,/:=@"


def cookie_path_matches(app: Flask, req: Request) -> bool:
    """Whether the browser sends the app's cookies (session and digest: one ``Path``) with
    this request: its path is the cookie's ``Path`` or under it (RFC 6265 §5.1.4). Not on
    a page outside ``SESSION_COOKIE_PATH`` (or ``APPLICATION_ROOT``), whose response would
    find nothing held and write a cookie of that ``Path`` over the one the browser keeps.
    Said once per app, as a warning: a front that strips the prefix without ``SCRIPT_NAME``
    looks so."""
    cookie_path = app.session_interface.get_cookie_path(app)
    if cookie_path == "/":
        return True  # Flask's default: every page
    # Percent-encoded as Werkzeug writes the attribute (``dump_cookie``).
    cookie_path = quote(cookie_path, safe=_PATH_SAFE)
    seen = _path_seen(req.environ)
    path = _path_as_sent(req.environ, seen)
    if _path_matches(path, cookie_path):
        return True
    # Not told when the path the app sees is in it: the client spelled it another way
    # (``/%61pp/`` for ``/app/``), which says nothing of a front, and would spend the
    # warning a front that strips the prefix needs.
    if app not in _told_outside and not _path_matches(_encoded(seen), cookie_path):
        _told_outside.add(app)
        app.logger.warning(
            "firehose: %s is outside the cookie's Path %s (SESSION_COOKIE_PATH, else "
            "APPLICATION_ROOT): the browser sends no cookie there, so such pages push and "
            "record nothing. If a front strips that prefix, set SCRIPT_NAME (ProxyFix's "
            "x_prefix) so that the app sees it",
            for_log(path),  # raw from the request line: a control character as it came
            cookie_path,
        )
    return False


def _path_matches(path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4's path-match of two paths percent-encoded alike."""
    return path == cookie_path or (
        path.startswith(cookie_path)
        and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")
    )


def _path_seen(environ: WSGIEnvironment) -> str:
    """The path the app sees: ``SCRIPT_NAME`` and ``PATH_INFO``, decoded."""
    return f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}" or "/"


def _encoded(seen: str) -> str:
    """A path the app sees, encoded as a browser sends it (the WSGI strings are the
    request's bytes, decoded)."""
    return quote(seen.encode("latin-1", "replace"), safe=_PATH_SAFE)


def _path_as_sent(environ: WSGIEnvironment, seen: str) -> str:
    """The request's path as the client sent it, which a browser matches a cookie's
    ``Path`` against: the raw request-uri's (``RAW_URI``, gunicorn; ``REQUEST_URI``,
    Werkzeug, waitress, uWSGI, mod_wsgi), if it decodes to the path the app sees, ``seen``
    (``/%61dmin/`` is not under ``/admin``), or does once its leading slashes are made
    one, as waitress 3.0 makes them in ``PATH_INFO`` (``//admin/`` is ``/admin/`` there,
    and not under ``/admin`` to a browser); else ``seen`` (a front stripped a prefix that
    ``SCRIPT_NAME`` puts back), encoded as a browser sends it."""
    raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").partition("?")[0]
    if raw.startswith("/"):
        sent = unquote(raw, encoding="latin-1")
        if sent == seen or "/" + sent.lstrip("/") == seen:
            return str(raw)
    return _encoded(seen)


#: The apps told that a request reached them outside the cookie's ``Path``.
_told_outside: weakref.WeakSet[Flask] = weakref.WeakSet()


def withheld_from_another_site(app: Flask, req: Request) -> bool:
    """Whether a browser sent no ``Strict`` session cookie with ``req``, though it
    keeps the one the response sets: one from another site (Fetch Metadata's
    ``Sec-Fetch-Site: cross-site``). RFC 6265bis: a top-level navigation may set a cookie
    of any ``SameSite``. (A ``Lax`` one is withheld only from requests that push nothing,
    by other methods than GET, and from frames, whose responses set no ``Lax`` cookie.)"""
    samesite = app.session_interface.get_cookie_samesite(app)
    return (
        isinstance(samesite, str)
        and samesite.lower() == "strict"
        and req.headers.get("Sec-Fetch-Site") == "cross-site"
    )


#: The getters of a session interface the digest cookie's attributes are read through
#: (:func:`cookie_attributes`).
_ATTRIBUTE_GETTERS = tuple(f"get_cookie_{field.name}" for field in fields(CookieAttributes))


def scope_read(app: Flask) -> tuple[object, ...]:
    """What the session interface's getters of the session cookie's name and of the
    cookie's attributes give now, as they give it: compared on each request with a scope
    known to be recordable, without making the attributes of it."""
    interface = app.session_interface
    return (
        interface.get_cookie_name(app),
        interface.get_cookie_path(app),
        interface.get_cookie_domain(app),
        interface.get_cookie_secure(app),
        interface.get_cookie_httponly(app),
        interface.get_cookie_samesite(app),
        interface.get_cookie_partitioned(app),
    )


def named_as_the_session(name: str) -> str:
    """Why the digest cookie cannot be named ``name``, the session cookie's name."""
    return (
        f"FIREHOSE_COOKIE_NAME={name!r} is the session cookie's name (SESSION_COOKIE_NAME): "
        "the digest would replace the session"
    )


#: The apps already warned that their session interface named the session cookie of a
#: request as the digest cookie is named.
_told_named_as_the_session: weakref.WeakSet[Flask] = weakref.WeakSet()


def warn_named_as_the_session(app: Flask, name: object, refused: str) -> None:
    """Warn once per app: a request's session cookie was named ``name``, the digest
    cookie's name, as ``init_app`` refuses it."""
    if app in _told_named_as_the_session:
        return
    _told_named_as_the_session.add(app)
    log.warning(
        "firehose: the session interface (%s) names the session cookie of a request %r: "
        "%s%s; such responses push nothing and write no digest (said once per app and "
        "process)",
        type(app.session_interface).__name__,
        name,
        refused,
        _read_through_getters(app.session_interface, refused),
    )


def unrecordable(
    app: Flask, settings: Settings, largest_value: str, attributes: CookieAttributes
) -> str:
    """Why no digest can be recorded under ``attributes``, a scope the session interface
    gave on a request, not the one ``init_app`` checked; "" if one can.

    ``init_app``'s rule (:func:`~.settings.check_digest_fits`): no cookie can be written
    with an attribute of the scope (:func:`~.settings.check_cookie_attributes`: a Path not
    from the root, a Domain that breaks the attribute), browsers refuse the scope (a
    ``Domain`` on a ``__Host-`` cookie), or the largest cookie the digest can make does
    not fit, scoped so (a long host's ``Domain``), within ``MAX_COOKIE_SIZE`` and what
    ``FIREHOSE_HEADER_BUDGET`` leaves it. A cookie written then would be dropped, or warned
    of by Werkzeug, and every visit would push everything again. Asked of the largest
    value the digest can make, signed once (:func:`~.settings.check_scope_fits`), for a
    scope not yet found recordable (:meth:`~.held_digests.DigestState.scope_refused`): once
    for each one that is, on each request for one refused. Each is logged once per app.
    """
    try:
        check_scope_fits(settings, attributes, largest_value)
    except ValueError as e:
        refused = str(e)
        _warn_refused_scope(app, settings, attributes, refused, _told_of(settings, attributes))
        return refused
    return ""


#: The apps already warned that their session interface scoped the digest cookie, on a
#: request, with an attribute no cookie can be written with; as browsers refuse it; and
#: so that its largest cookie does not fit. Told apart, so that one (a client's Host past
#: the bytes a Domain may hold) does not silence another (a tenant's host too long).
_told_unwritable: weakref.WeakSet[Flask] = weakref.WeakSet()
_told_refused: weakref.WeakSet[Flask] = weakref.WeakSet()
_told_too_long: weakref.WeakSet[Flask] = weakref.WeakSet()


def _told_of(settings: Settings, attributes: CookieAttributes) -> weakref.WeakSet[Flask]:
    """The apps already told of a scope refused as ``attributes`` is, in the order
    ``init_app`` checks (:func:`~.settings.check_digest_fits`)."""
    try:
        check_cookie_attributes(attributes)
    except ValueError:
        return _told_unwritable
    if refused_by_browsers(settings.cookie_name, attributes):
        return _told_refused
    return _told_too_long


def _warn_refused_scope(
    app: Flask,
    settings: Settings,
    attributes: CookieAttributes,
    refused: str,
    told: weakref.WeakSet[Flask],
) -> None:
    """Warn once per app (and per ``told``): a request's digest cookie was scoped as
    ``init_app`` would refuse it (:func:`_told_of`), and why, as ``init_app`` says it."""
    if app in told:
        return
    told.add(app)
    try:
        # For a cookie too large, init_app's reason says which capacity would fit, which
        # check_scope_fits does not search for on each request.
        check_digest_fits(settings, attributes)
    except ValueError as e:
        refused = str(e)
    log.warning(
        "firehose: the session interface (%s) scopes the digest cookie of a request as "
        "Domain=%s, Path=%s, Secure=%r%s: %s; such responses push "
        "nothing and write no digest (said once per app and process)",
        type(app.session_interface).__name__,
        # Scoped per request, maybe by the client's Host, of any length.
        for_log(repr(attributes.domain)),
        for_log(repr(attributes.path)),
        attributes.secure,
        _read_through_getters(app.session_interface, refused),
        refused.rstrip("."),  # init_app's advice ends a sentence; this one goes on
    )


def _read_through_getters(interface: SessionInterface, refused: str) -> str:
    """Which ``SESSION_COOKIE_*`` keys ``init_app``'s advice ``refused`` names stand for
    what the session interface's own getter gave (a ``Domain`` per host), not the config:
    " (SESSION_COOKIE_DOMAIN here: what its get_cookie_domain() gave)", or ""."""
    said = [
        f"{key} here: what its {getter}() gave"
        for getter in ("get_cookie_name", *_ATTRIBUTE_GETTERS)
        if (key := f"SESSION_COOKIE_{getter.removeprefix('get_cookie_').upper()}") in refused
        # Set on the instance too: a bound method of another class, or a plain function.
        and getattr(getattr(interface, getter), "__func__", None)
        is not getattr(SessionInterface, getter)
    ]
    return f" ({'; '.join(said)})" if said else ""
