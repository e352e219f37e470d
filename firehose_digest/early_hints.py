"""Sending a 103 Early Hints through the server: the key a page's links are learned and
hinted under (:func:`hint_page_of`), whether the app itself speaks HTTP/2 to the client
(:func:`serves_http2`), and the write of the 103, a client gone before it being routine
(:func:`sent`).

What a 103 holds is planned by the pure core (:mod:`.hints`). Which request is sent one,
and the ``before_request`` hook that sends it, are the request path's
(:func:`~.extension._send_early_hints`): they read the request's record and the app's
state. A module of its own: what it reads of the server (its environ, the errors its
``wsgi.early_hints`` raises, gunicorn's and ``h2``'s) is read nowhere else on the request
path.
"""

from __future__ import annotations

import errno
import logging
import ssl
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Request

from .hints import DEFAULT_PORTS
from .links import for_log

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["hint_page_of", "scheme_and_host", "sent", "serves_http2", "url_of"]

log = logging.getLogger("firehose_digest")


def hint_page_of(req: Request) -> str:
    """The page as the client asked for it, one string per url: a 103 carries only what
    this very url's last response linked, so no request can choose what another url, or
    another host, is hinted.

    Scheme, host, script root and path are kept apart (:func:`_kept_apart`), so none can
    pass for another: a path's own "?" (sent as %3F) is not the query's, and a script root
    (``SCRIPT_NAME``, which ``url_for`` writes into the learned links and a front may let a
    client set) is not part of the path. The script root is read as the server gave it:
    Werkzeug's ``root_path`` drops its trailing slashes, which ``url_for`` keeps. So is
    an empty path, which Werkzeug's ``path`` reads as "/": a mount point asked without
    its slash (``/shop``), which Flask answers with a 308 to ``/shop/``, is not that page.
    The scheme is there because ``url_for(_external=True)`` writes it. The query is as
    sent. Scheme and host are the page's origin's (:func:`scheme_and_host`).
    """
    scheme, host = scheme_and_host(req)
    scheme, host = _kept_apart(scheme, "|"), _kept_apart(host, "|")
    root = _kept_apart(req.environ.get("SCRIPT_NAME", ""), "|")
    # A path Werkzeug reads is never empty: "" is no other path's key.
    path = _kept_apart(req.path, "?") if req.environ.get("PATH_INFO") else ""
    return f"{scheme}|{host}|{root}|{path}?{req.query_string.decode('latin-1')}"


def scheme_and_host(req: Request) -> tuple[str, str]:
    """The scheme and ``host[:port]`` of the page's origin, as the client named them.

    Both lowercased (RFC 3986 §6.2.2.1: case-insensitive; Werkzeug's routing lowercases
    the host too), the scheme's default port left out (RFC 6454 §4), as a browser writes
    them: a ``Host: Shop.EXAMPLE``, or ``X-Forwarded-Proto: HTTPS`` through ProxyFix, is
    the page a browser asks for. The host is Werkzeug's, or the ``Host`` as sent where
    Werkzeug reads none: since 3.1.8 it reads one it finds invalid (an underscore, a
    space, UTF-8) as ``""``, and any such host would name any other's pages. No host
    Werkzeug reads is one it finds invalid, so none is taken for another; a non-ASCII one
    keeps its case, as its bytes do ("Ã" and "ã" are C3 and E3), and a trailing dot is
    another origin to a browser, and another host to Flask's host matching.
    """
    scheme, host = req.scheme, req.host
    if host and scheme in DEFAULT_PORTS and host.isascii():
        return scheme, host.lower()  # Werkzeug's, its scheme's default port left out
    scheme = scheme.lower()
    host = host or req.environ.get("HTTP_HOST", "")
    if host.isascii():
        host = host.lower()
    default = DEFAULT_PORTS.get(scheme)
    return scheme, host if default is None else host.removesuffix(default)


def _kept_apart(text: str, separator: str) -> str:
    """``text`` as it is, or percent-encoded if it holds ``separator`` or a "%": either
    way the result holds no ``separator``, and no two texts give the same result (an
    encoded one holds a "%", a text kept as it is none)."""
    return quote(text, safe="/") if separator in text or "%" in text else text


def serves_http2(environ: WSGIEnvironment) -> bool:
    """Whether this server speaks HTTP/2 to the client (not a proxy's HTTP/1.1 behind it).

    gunicorn >= 25 with h2: its HTTP/2 request has ``version = (2, 0)``
    (``gunicorn/http2/request.py``) and ``default_environ`` writes ``SERVER_PROTOCOL`` as
    ``"HTTP/%s" % ".".join(version)``, so ``"HTTP/2.0"`` (``gunicorn/http/wsgi.py``; read at
    benoitc/gunicorn 65ac1a3, 26.1.0-22, and in 27.0.1). ``HTTP_VERSION`` is the
    ``Version`` request header some fronts set; a client that forges it changes only its
    own 103 (behind a front that pushes from it, it may be pushed an absolute url of the
    site unrecorded, as that 103 offers nothing for push).
    """
    return str(environ.get("SERVER_PROTOCOL", "")).startswith("HTTP/2") or environ.get(
        "HTTP_VERSION"
    ) in ("2", "2.0")


def sent(send: Callable[[Any], Any], headers: list[tuple[str, str]], req: Request) -> bool:
    """Send the 103's ``headers``; False if the client went away before it was written,
    which is routine, and logged as gunicorn's gthread worker logs a write that fails so
    (at debug). Any other error is raised, for the caller to log."""
    try:
        send(headers)
    except Exception as e:
        if not _client_gone(e):
            raise
        log.debug("firehose: the 103 Early Hints for %s were not sent: %r", url_of(req), e)
        return False
    return True


#: What a write to a client that went away raises: gunicorn (``workers/gthread.py``) logs
#: EPIPE, ECONNRESET and ENOTCONN at debug and any other error with its traceback; we
#: count ECONNABORTED (a connection the kernel aborted) as gone too.
_CLIENT_GONE = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ECONNABORTED})


def _client_gone(error: BaseException) -> bool:
    """Whether the 103's write failed because the client went away: an OSError of an errno
    in :data:`_CLIENT_GONE`, or over TLS ``ssl.SSLEOFError`` (gunicorn 27 with ``--certfile``,
    measured: a client that reset its connection), which gunicorn logs at debug too; also
    when the server raised its own error while handling one (gunicorn's HTTP/2 raises
    ``HTTP2ConnectionError`` from the socket's, ``http2/connection.py``), or the client
    reset its HTTP/2 stream (:func:`_stream_refused`)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if (
            isinstance(cause, ssl.SSLEOFError)
            or (isinstance(cause, OSError) and cause.errno in _CLIENT_GONE)
            or _stream_refused(cause)
        ):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _stream_refused(error: BaseException) -> bool:
    """Whether ``error`` is ``h2``'s ``ProtocolError``: the client reset the 103's stream.

    gunicorn's HTTP/2 (27.0.1) lets this error through from ``wsgi.early_hints``
    (``send_informational``). How it comes about (measured):

    1. The client resets a stream while an earlier stream of the same connection waits
       for flow-control credit.
    2. gunicorn sets the reset aside and still serves the stream, as open.
    3. ``h2`` has read the reset, so it refuses the 103. Once the client has opened its
       next stream, the error is a ``StreamIDTooLowError``.
    4. gunicorn drops that stream's final response without a word.

    A 103 whose one field is our ``Link`` (visible ASCII and spaces, none at its ends)
    ``h2`` refuses only for the state of its stream or connection: this error does not
    mean the field was bad.

    The class is looked up where the server imported it: nothing is imported for it."""
    h2_errors = sys.modules.get("h2.exceptions")
    return h2_errors is not None and isinstance(error, h2_errors.ProtocolError)


def url_of(req: Request) -> str:
    """``req.url``, for a log line (:func:`~.links.for_log`: the client's Host, path
    and query); where Werkzeug cannot write it, its parts as they are, the path decoded.

    Werkzeug serves a ``Host`` in brackets that holds no IP address (``[1:2]``), but its
    ``url`` runs the host through ``urlsplit``, which raises ValueError for it since Python
    3.11.4, which would fail the log line of a 103, and the page with it.
    """
    try:
        return for_log(req.url)
    except ValueError:
        query = req.query_string.decode("latin-1")
        url = f"{req.scheme}://{req.host}{req.root_path}{req.path}"
        return for_log(f"{url}?{query}" if query else url)
