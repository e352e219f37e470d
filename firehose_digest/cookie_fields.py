"""Re-joining an HTTP/2 or HTTP/3 ``Cookie`` header an ASGI wrapper joined with ",".

A browser sends each cookie as a field of its own over HTTP/2 and HTTP/3, for the server
to join with "; "; ASGI wrappers join them with ",", which Werkzeug reads as one cookie.
:class:`~.request_record.PushScope` joins such a header again, with "; ", before the app
reads it (:func:`may_join_cookie_fields`, :func:`rejoined`).

A module of its own: it reads one header's text, nothing of the request path, and what it
must tell apart (a "," that joined two fields from one inside a value) takes a scanner
whose cases would bury the extension's request path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["may_join_cookie_fields", "rejoined"]


def may_join_cookie_fields(environ: WSGIEnvironment) -> bool:
    """Whether a "," in this request's ``Cookie`` may join a browser's cookie fields.

    Over HTTP/2 and HTTP/3 a browser sends each cookie as a field of its own (Chromium 156
    and Firefox 153, measured), for the server to join with "; " (RFC 9113 §8.2.3, RFC 9114
    §4.2.1). ASGI wrappers under an HTTP/2 server join them with "," (a2wsgi's
    ``build_environ``, asgiref's ``WsgiToAsgi``; measured under granian and uvicorn),
    which Werkzeug reads as one cookie: Flask's session would be lost on every request
    once the browser holds our cookie beside it. Such a ``Cookie`` is joined again
    (:func:`rejoined`) before the app reads it. Over HTTP/1.1 a "," may be a value's
    own (a cookie a page's script wrote), so the header is left as sent; the digest
    connector reads its own cookie across a "," on any protocol
    (:func:`~.cookie_scope.cookie_values`), as no value of ours holds one.
    """
    protocol = str(environ.get("SERVER_PROTOCOL", ""))
    return protocol.startswith(("HTTP/2", "HTTP/3"))


#: What begins a cookie in a ``Cookie`` header: a name, then "=".
#:
#: - Spaces or tabs may come first. They are not part of the name.
#: - The name's first character is not a space or tab. Later ones may be: browsers keep
#:   a space inside a name (``my pref``).
#: - The name holds no ";", "=", ",", quote or control character (a tab aside).
#:
#: A split before a name that holds a space loses no value Werkzeug 3.1.9 reads. Had the
#: text after the "," belonged to the value before it, that value would hold a space, and
#: Werkzeug 3.1.9 reads no unquoted value that holds one. (3.1.0 to 3.1.8 read such a
#: value whole: for them, this split is the first case :func:`rejoined` cannot tell.)
_NAME_AND_EQUALS = r'[ \t]*[^\x00-\x20\x7f;=,"][^\x00-\x08\x0a-\x1f\x7f;=,"]*='
#: One field of a ``Cookie`` whose fields were joined with ",": from the field's start to
#: the separator after it. The separator (group ``end``) is a ";", a "," or the end.
#:
#: A value is read as quoted where Werkzeug reads a quoted one (``_cookie_re``):
#:
#: - its quote comes right after the field's first "=" (spaces or tabs around it allowed);
#: - it runs to its next unescaped quote;
#: - only spaces or tabs follow it, then the end, or a "," before what begins a cookie
#:   (:data:`_NAME_AND_EQUALS`).
#:
#: A "," inside a quoted value stays. After a name that holds a space, a quoted value
#: holds no "," before what begins a cookie: Werkzeug 3.1.9 reads no value for such a
#: name (3.1.0 to 3.1.8 do).
#:
#: Any other value is read unquoted. It runs to a ";", or to a "," before what begins a
#: cookie. A quote inside it is a character of it (``size=24"``, ``tag="new``).
#:
#: The scan is linear in the header's length. A quoted value is tried only from the quote
#: after a field's first "=", and gives up at its next unescaped quote at the latest. The
#: field is then read again, unquoted, from its start. So no character is read more than
#: a few times. Trying a quoted string again from each later quote would cost time
#: quadratic in the header's length (``b="\"\"...``: ``tests/test_hostile.py``,
#: ``bench/hostile.py``).
_FIELD_SCAN = re.compile(
    rf'(?:(?:[ \t]*[^\x00-\x20\x7f;=,"]+[ \t]*=[ \t]*"(?:[^"\\]|\\.)*"'
    rf'|{_NAME_AND_EQUALS}[ \t]*"(?:[^"\\,]|\\.|,(?!{_NAME_AND_EQUALS}))*")'
    rf"[ \t]*(?=,{_NAME_AND_EQUALS}|\Z)"
    rf"|(?:[^,;]|,(?!{_NAME_AND_EQUALS}))*)(?P<end>[,;]|\Z)"
)


def rejoined(cookie: str) -> str:
    """``cookie`` with each "," that joined two of its fields made "; ". A quoted value's
    own "," stays.

    A ``cookie`` that holds a ";" (outside quoted values) is returned as it is: its server
    joined the fields with "; " itself, so any "," is in a value, and the app reads it as
    it was sent.

    Three cases cannot be told apart from the header alone:

    1. A lone cookie whose value holds "," and then a name and "=" (``a=b=1,c=2``,
       written by a page's script) looks like two joined cookies. It is split.
    2. A nameless cookie (``document.cookie = "lone"``), or an empty field, joined after
       another cookie looks like a "," in that cookie's value. It stays with that cookie.
       That cookie's value then does not read (a session's signature fails), as it did
       not before this rejoin either. The cookies after it read.
    3. A value's unclosed quote whose next quote closes a later field's value (``q="a``
       then ``t=b"``) looks like a quoted value holding ",t=b". It is read as that.
       Werkzeug reads the same fields joined with "; " the same way: there that value
       holds "; t=b".
    """
    pieces = []
    start = 0
    while True:
        match = _FIELD_SCAN.match(cookie, start)
        assert match is not None  # an empty field matches anywhere
        separator = match.group("end")
        if separator == ";":
            return cookie
        pieces.append(cookie[start : match.start("end")].strip())
        if not separator:
            break
        start = match.end()
    if len(pieces) == 1:
        return cookie
    return "; ".join(pieces)
