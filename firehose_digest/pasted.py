"""What an operator pastes into ``firehose-digest inspect``, read for its digest cookie.

A ``Cookie`` or ``Set-Cookie`` line, a whole request or response (``curl -v``, ``nghttp
-v``, a browser's headers view), a cookie jar's line (``curl -c``), or a request copied as
a command by developer tools ("Copy as cURL" for bash or cmd, "Copy as fetch", "Copy as
PowerShell"): :func:`read_pasted` finds the values it holds of the cookie named, or the
``Set-Cookie`` line that deletes it, and what scope that line gives the cookie. Nothing
here verifies a value: :mod:`.__main__` does, with the app's key.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple
from urllib.parse import unquote

from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_cookie, parse_date

from .har import Exchange, JsonPasted, json_error, read_json

__all__ = ["AskedScope", "Pasted", "SetCookie", "cut_jar_line", "read_pasted"]


class SetCookie(NamedTuple):
    """The attributes of a ``Set-Cookie`` line that the signature covers, and its age."""

    #: As written; None for a host-only cookie.
    domain: str | None
    #: Percent-decoded, as the app configures it (Werkzeug writes ``APPLICATION_ROOT =
    #: "/my shop"`` as ``Path=/my%20shop``); None if the line gives none.
    path: str | None
    #: Whether the line has the ``Partitioned`` attribute (CHIPS).
    partitioned: bool
    #: Its ``Max-Age`` if positive: not part of the signature, but what the server writes
    #: there is ``FIREHOSE_MAX_AGE``, the seconds its signature is good for. None if the
    #: line gives none (a cookie jar's line), or one of 0 or less (a deletion).
    max_age: int | None = None


class AskedScope(NamedTuple):
    """The Domain, Path and Partitioned of the cookie asked for, each None if not given
    (``inspect``'s ``--cookie-domain``, ``--cookie-path`` and ``--cookie-partitioned``)."""

    domain: str | None = None
    path: str | None = None
    partitioned: bool | None = None


class Pasted(NamedTuple):
    """What :func:`read_pasted` found."""

    #: The values of the cookie asked for, in the order sent.
    values: list[str]
    #: The name of every cookie found, in the order found.
    names: list[str]
    #: The ``Set-Cookie`` line read, if one was: the value's, or the one that deletes it.
    set_cookie: SetCookie | None
    #: How the paste was read, where ``inspect`` says so first: which of several
    #: lines (a Cookie and a Set-Cookie line, or several Set-Cookie lines), or that a
    #: cookie jar's lines were read as the Set-Cookie lines that stored them.
    note: str | None
    #: Why the ``Set-Cookie`` line read leaves the client no digest (:func:`_deletion`),
    #: if it does; ``values`` are then those the request sent.
    deleted: str | None = None


#: A header line as a tool prints it: curl -v marks a request's with "> " and a
#: response's with "< ", nghttp -v a response's with its time and stream. Neither a
#: cookie pair nor a signed value is one: "=" ends a token, and a value holds no ":".
_HEADER_LINE = re.compile(
    r"(?:[<>] ?|\[ *\d+\.\d+\] recv \(stream_id=\d+\) )?"
    r"(?P<name>[!#$%&'*+.^_`|~0-9A-Za-z-]+):(?P<value>.*)",
    re.S,
)


#: No Domain, Path or Partitioned asked for.
ANY_SCOPE = AskedScope()


def read_pasted(text: str, name: str, now: float, asked: AskedScope = ANY_SCOPE) -> Pasted:
    """The values of cookie ``name`` in ``text``: a bare value, ``name=value``, a
    ``Cookie`` header's value, a ``Set-Cookie`` line's value (:func:`_set_cookie_value`),
    header lines as pasted from a terminal or developer tools (:data:`_HEADER_LINE`),
    of which ``Cookie`` and ``Set-Cookie`` lines are read and any other skipped, or a
    request copied as a command (:func:`_copied_cookie_headers`), read as its ``Cookie``.

    ``Cookie`` lines are one header, joined with "; " as HTTP/2 joins its ``cookie``
    crumbs (RFC 9113 §8.2.3); an empty one sent none. A ``Set-Cookie`` line of ``name`` is
    read before them: it is what the client holds once the response is in; of several, the
    last, which replaces the others of its Domain and Path, or the last of the scope
    ``asked`` for (a jar holds one of each path an app is mounted at, none replacing
    another; :func:`_of_scope`), if one is of it; if none is, and the request sent the
    cookie, what it sent. One that deletes the cookie
    (an ``Expires`` not after ``now``, among others: :func:`_deletion`) leaves the client
    none: the values the request sent are read then.
    """
    from_json = read_json(text)
    if from_json is not None:
        return _read_json(from_json, name, now, asked)
    text_lines = _lines(text)
    jar = _jar(text_lines, name)
    if any(jar) or (jar and any(map(_JAR_FILE.fullmatch, text_lines))):
        stored = "\n".join(map(_jar_set_cookie, filter(None, jar)))
        pasted = read_pasted(stored, name, now, asked)
        if pasted.set_cookie is None:
            return pasted
        return pasted._replace(note="\n".join(filter(None, [_JAR_NOTE, pasted.note])))
    headers = [_HEADER_LINE.fullmatch(line) for line in _continued(text_lines)]
    if not any(headers):
        copied = _copied_cookie_headers(text)
        if copied is not None:
            lines = (f"Cookie: {' '.join(value.splitlines())}" for value in copied.cookies)
            pasted = read_pasted("\n".join(lines), name, now, asked)
            if pasted.values or not copied.files:
                return pasted
            # The README's `curl -b jar`: the digest is likely in the file.
            return pasted._replace(
                note="\n".join(map(_FILE_NOTE.format, map(shlex.quote, copied.files)))
            )
        unwrapped = _unwrapped(_lines(text))
        if _set_cookie_value(unwrapped, name):
            return read_pasted(f"Set-Cookie: {unwrapped.strip()}", name, now, asked)
        broken = json_error(text)
        if broken is not None:
            # A HAR cut short is no Cookie header: its header names and attributes are no
            # cookies to name, nor its words (which Werkzeug before 3.1.9 reads, quotes and
            # all) values, nor is the first request's Cookie what the client holds at its end.
            return Pasted([], [], None, broken)
        values = _cookie_values(unwrapped, name)
        return Pasted(values, list(_parse_cookie_header(unwrapped)), None, None)
    cookie_lines: list[str] = []
    set_cookies: list[tuple[str, list[str]]] = []
    names: list[str] = []
    for header in filter(None, headers):
        field, value = header["name"].lower(), header["value"].strip()
        if field == "cookie" and value:
            cookie_lines.append(value)
            names.extend(_parse_cookie_header(value) if "=" in value else ())
        elif field == "set-cookie":
            pair, *attributes = value.split(";")
            cookies = _parse_cookie_header(pair)
            names.extend(cookies)
            if name in cookies:
                set_cookies.append((cookies[name], attributes))
    sent = _cookie_values("; ".join(cookie_lines), name) if cookie_lines else []
    if not set_cookies:
        return Pasted(sent, list(dict.fromkeys(names)), None, None)
    scopes = [_scope_of(attributes) for _, attributes in set_cookies]
    of_asked = [i for i, scope in enumerate(scopes) if _of_scope(scope, asked)]
    if asked != ANY_SCOPE and not of_asked and sent:
        # As of a HAR (:func:`_read_json`): the digest the request sent, which the app of
        # the scope asked reads, before a line setting another scope's.
        said = (
            f"no Set-Cookie line of {name} is of {_flags_said(asked)}: reading the Cookie header"
        )
        return Pasted(sent, list(dict.fromkeys(names)), None, said)
    chosen = of_asked[-1] if of_asked and asked != ANY_SCOPE else -1
    value, attributes = set_cookies[chosen]
    found, scope = list(dict.fromkeys(names)), scopes[chosen]
    note = None
    if len(set_cookies) > 1:
        note = f"{len(set_cookies)} Set-Cookie lines of {name}: reading the last"
        paths = len({(_domain_key(each.domain), each.path or "/") for each in scopes})
        if asked != ANY_SCOPE:
            flags = _flags_said(asked)
            note += f" of {flags}" if of_asked else f" (none is of {flags})"
        elif paths > 1:
            note += (
                f" (of {paths} Domains and Paths: --cookie-domain and --cookie-path pick another)"
            )
    deleted = _deletion(value, attributes, now)
    if deleted is not None:
        return Pasted(sent, found, scope, note, deleted)
    if note is None and sent:
        note = f"{name} in a Cookie header and a Set-Cookie line: reading the Set-Cookie line"
    return Pasted([value], found, scope, note)


#: Said of JSON :func:`.har.read_json` reads as neither a HAR nor Firefox's headers.
_JSON_NOT_READ = (
    "JSON that is neither a HAR (log.entries, or one entry) nor Firefox's headers copied "
    "as JSON: paste the Cookie header or the Set-Cookie line instead"
)
#: Said of a HAR of which no request or response has a cookie header: Chrome's default
#: export, "Save all as HAR (sanitized)", leaves out Cookie, Set-Cookie and Authorization.
_SANITIZED = (
    'a HAR of {}: Chrome leaves them out of "Save all as HAR (sanitized)"; allow "HAR '
    'with sensitive data" in its Network settings and save it with them'
)
#: Said of a HAR of no request: developer tools save an empty one when the page loaded
#: before they were opened, which saving it "with sensitive data" does not change.
_NO_REQUESTS = (
    "a HAR of no requests: developer tools record only while they are open; open the "
    "Network panel, reload the page, then save it again"
)
#: How much of a request's url a note says: a HAR's may be a data: url of megabytes.
MAX_URL_SAID = 200


def _read_json(found: JsonPasted, name: str, now: float, asked: AskedScope) -> Pasted:
    """Cookie ``name`` in a HAR or Firefox's headers copied as JSON (:func:`.har.read_json`),
    each exchange read as its header lines are. What the client holds at the end: of the
    exchange whose response set it last (of the scope ``asked``, if one did: a browser
    holds one of each Domain and Path), else of the last that sent it (with no scope,
    which ``asked`` then gives), else of the last that set it of another scope. A note
    says which of several, and a request after it that sent another value."""
    if found.form is None:
        return Pasted([], [], None, _JSON_NOT_READ)
    reads = [read_pasted("\n".join(each.lines), name, now, asked) for each in found.exchanges]
    names = list(dict.fromkeys(found for read in reads for found in read.names))
    if found.form == "HAR" and not found.exchanges:
        return Pasted([], [], None, _NO_REQUESTS)
    if found.form == "HAR" and not any(each.lines for each in found.exchanges):
        how_many = (
            "1 request, with no Cookie or Set-Cookie header"
            if len(reads) == 1
            else f"{len(reads)} requests, none with a Cookie or Set-Cookie header"
        )
        return Pasted([], names, None, _SANITIZED.format(how_many))
    # What each request sent: of one whose response sets the digest, its read holds the
    # value set, not the one sent.
    sent = [
        read if read.set_cookie is None else read_pasted(_request_lines(each), name, now, asked)
        for each, read in zip(found.exchanges, reads, strict=True)
    ]
    sets = [i for i, read in enumerate(reads) if read.set_cookie is not None]
    of_asked = [
        i
        for i, read in enumerate(reads)
        if read.set_cookie is not None and _of_scope(read.set_cookie, asked)
    ]
    sends = [i for i, read in enumerate(sent) if read.values]
    if of_asked:
        chosen = of_asked[-1]
        read = reads[chosen]
    elif sends:
        chosen = sends[-1]
        read = sent[chosen]
    elif sets:
        chosen = sets[-1]
        read = reads[chosen]
    else:
        return Pasted([], names, None, None)
    notes = []
    if len(reads) > 1:
        how = "whose response sets" if read.set_cookie is not None else "that sends"
        notes.append(
            f"a HAR of {len(reads)} requests: reading the last {how} {name}, "
            f"{_request_said(chosen, found.exchanges[chosen].request)}"
        )
    if read.set_cookie is not None and read.deleted is None:
        # A browser refuses a cookie past its size limit, or a Secure one over http.
        later = next(
            (i for i in sends if i > chosen and read.values[0] not in sent[i].values), None
        )
        if later is not None:
            notes.append(
                f"{_request_said(later, found.exchanges[later].request)}, after it, sent "
                f"{name} without the value it set: the browser did not keep it, or holds one "
                "of another Domain or Path"
            )
    return read._replace(names=names, note="\n".join(filter(None, [*notes, read.note])) or None)


def _request_lines(exchange: Exchange) -> str:
    """The ``Cookie`` lines of ``exchange``, its request's, without its response's."""
    return "\n".join(
        line for line in exchange.lines if line.partition(":")[0].strip().lower() == "cookie"
    )


def _request_said(index: int, request: str) -> str:
    """The ``index``-th exchange of a HAR as a note says it: "#3 GET https://..."."""
    if len(request) > MAX_URL_SAID:
        request = f"{request[:MAX_URL_SAID]}..."
    shown = request if request.isprintable() else repr(request)
    return f"#{index + 1} {shown}".rstrip()


#: A cookie of a jar in the Netscape format (curl -c, wget --save-cookies), tab-separated:
#: its domain, whether it is a Domain cookie (TRUE) or host-only, its path, Secure, its
#: expiry, name and value; curl writes an HttpOnly one's domain after "#HttpOnly_".
_JAR_LINE = re.compile(
    r"(?:#HttpOnly_)?(?P<domain>[^\t#][^\t]*)\t(?P<tailmatch>TRUE|FALSE)\t(?P<path>[^\t]*)"
    r"\t(?:TRUE|FALSE)\t-?[0-9]+\t(?P<name>[^\t]*)\t(?P<value>[^\t]*)"
)
#: The same line copied from a terminal (``cat jar``), which shows each tab as spaces: no
#: field of the digest's line holds one (a cookie's name and value hold no white space).
_JAR_LINE_SHOWN = re.compile(
    r"(?:#HttpOnly_)?(?P<domain>[^\s#]\S*) +(?P<tailmatch>TRUE|FALSE) +(?P<path>\S+)"
    r" +(?:TRUE|FALSE) +-?[0-9]+ +(?P<name>\S+) +(?P<value>\S+)"
)


def _jar(lines: Sequence[str], name: str) -> list[re.Match[str] | None]:
    """Each of ``lines`` read as a cookie jar's (:data:`_JAR_LINE`, or as a terminal shows
    it, :data:`_JAR_LINE_SHOWN`), if the paste is a jar: one of them stores cookie
    ``name``, or none of the paste's lines is a header line. A jar's copy may hold a
    prompt, a command and its output around it; a paste of headers that holds no such
    line of ``name`` is read by its headers (a page's body in a ``curl -v`` trace may
    hold any line)."""
    jar = [_JAR_LINE.fullmatch(line) or _JAR_LINE_SHOWN.fullmatch(line) for line in lines]
    if any(match and match["name"] == name for match in jar):
        return jar
    if any(_HEADER_LINE.fullmatch(line) for line in lines):
        return []
    return jar


#: The first line of a cookie jar's file, as curl (``-c``) and Python's
#: ``MozillaCookieJar`` write it (the Netscape format's older spelling, which wget
#: writes, has no "Netscape"). curl writes it, and its other comments, when it stores no
#: cookie too: a jar then, not a cookie's value (Werkzeug before 3.1.9 reads such text as
#: one), after a prompt too, as a copy of ``cat jar`` holds it, in a paste of no header
#: line (one with a header line is read by its headers: :func:`_jar`).
_JAR_FILE = re.compile(r"# (?:Netscape )?HTTP Cookie File", re.IGNORECASE)
_JAR_NOTE = (
    "a cookie jar's line (curl -c, the Netscape format): read as the Set-Cookie line that "
    "stored it"
)
#: Said of each file a copied curl command's ``-b`` names, when none of its cookies is
#: the digest: the digest is likely in that file, a jar (``curl -c``), to read from stdin.
_FILE_NOTE = (
    "curl's -b {0} sends the cookies of a file, which the command does not hold: give the "
    "file on stdin, firehose-digest inspect - < {0}"
)


#: What may be the rest of a digest's jar line on the line after it: its value, a signed
#: value being base64url and "." (itsdangerous), after the rest of the fields before it
#: when the break fell there (in the name or the expiry, as 80 columns break the line of
#: most hosts; before the path or the domain match of a longer one), each with the white
#: space after it; no prompt after the value. Not the host's: a line that holds one is a
#: jar line of its own, read as one; joined to the line before it (the empty line after
#: curl's header, a prompt's command), a whole line would look cut.
_REST_OF_A_VALUE = re.compile(r"(?:\S*[\t ]+){0,5}[A-Za-z0-9_.-]+")
#: A digest's value or its start: payload, timestamp and an HMAC-SHA1 signature, which is
#: 27 characters of base64url whatever the key (:class:`~.codec.DigestCodec`). A line
#: broken in three holds no signature in its first two; a whole value and the word on
#: the line after it (a prompt's, "exit") make a longer one: no cut.
_SIGNED_VALUE_START = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]{0,27})?)?")
#: A whole signed value: a break's last line ends it.
_SIGNED_VALUE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{27}")
#: The columns a tab may leave a terminal's full row short of its width once the white
#: space at its ends is stripped: before the row's end, or at the next row's start.
_TAB_STOP = 8


def cut_jar_line(text: str, name: str) -> str | None:
    """What to say of a paste whose jar line of cookie ``name`` a terminal broke in two or
    more (a copy of ``cat jar`` as wide as 80 columns): the line after it looks like the rest
    of it, its value, which it ends (tabs shown as spaces) or follows (the value's first
    characters on the line), or the rest of its name or expiry and the value, as the line
    of most hosts breaks. None if there is no such line. The lines are read as they
    are, never joined: an operator may have pasted them so; this only says why the
    value read is no digest."""
    lines = _lines(text)
    for line, after in pairwise(lines):
        if not _REST_OF_A_VALUE.fullmatch(after):
            continue
        # The break took the white space between the name and the value, or none.
        for separator in ("", "\t", " "):
            joined = f"{line}{separator}{after}"
            match = _JAR_LINE.fullmatch(joined) or _JAR_LINE_SHOWN.fullmatch(joined)
            # A value holds no white space: a whole line and a line of words is no cut.
            if match and match["name"] == name and _broken_value(match["value"], line, after):
                return (
                    f"the cookie jar's {name} line looks cut: the line after it looks like "
                    "the rest of it, as a terminal breaks a long line; join them, "
                    "or give the file on stdin: firehose-digest inspect - < jar"
                )
    return None


def _broken_value(value: str, line: str, after: str) -> bool:
    """Whether ``value``, read from ``line`` and the ``after`` line joined, may be a digest
    a terminal's break split: a terminal fills each row but the last, so ``after`` ends the
    value, whole and signed, or fills a row as ``line`` does (within a tab stop: a tab
    at the break, stripped, leaves either row short of it) with a start of one. A short
    value and the word of a prompt after it ("exit") are neither."""
    if _SIGNED_VALUE.fullmatch(value):
        return True
    filled = len(after.expandtabs()) + _TAB_STOP >= len(line.expandtabs())
    return filled and _SIGNED_VALUE_START.fullmatch(value) is not None


def _jar_set_cookie(line: re.Match[str]) -> str:
    """The ``Set-Cookie`` line that stored a cookie jar's ``line`` (:data:`_JAR_LINE`)."""
    domain = f"; Domain={line['domain'].lstrip('.')}" if line["tailmatch"] == "TRUE" else ""
    return f"Set-Cookie: {line['name']}={line['value']}{domain}; Path={line['path']}"


def _lines(text: str) -> list[str]:
    """The lines of ``text``, stripped, the empty ones kept."""
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text)]


#: An HTTP/1 request line or a status line (RFC 9112 §3, §4), or curl's "HTTP/2 200".
_START_LINE = re.compile(r"HTTP/\d(?:\.\d)? +\d{3}(?: .*)?|[A-Z]+ +\S+ +HTTP/\d(?:\.\d)?")


def _continued(lines: Sequence[str]) -> list[str]:
    """``lines`` with each ``Cookie`` or ``Set-Cookie`` header line and the lines a terminal
    or a mail broke it into joined up (:func:`_unwrapped`): a line that follows it and is
    no header line, neither empty nor marked as a tool marks its own (curl -v's "*", "<"
    or ">", nghttp -v's "[", a data line's "{" or "}"), nor the start line of another
    message (headers pasted with no blank line before the next)."""
    groups: list[list[str]] = []
    cookie_line = False  # whether the last group is a Cookie or Set-Cookie line's
    for line in lines:
        header = _HEADER_LINE.fullmatch(line)
        if (
            cookie_line
            and header is None
            and line
            and line[0] not in "*<>[{}"
            and not _START_LINE.fullmatch(line)
        ):
            groups[-1].append(line)
            continue
        groups.append([line])
        cookie_line = header is not None and header["name"].lower() in ("cookie", "set-cookie")
    return [_unwrapped(group) for group in groups]


def _unwrapped(lines: Sequence[str]) -> str:
    """The cookies of ``lines`` on one line, the breaks a terminal or a mail made in them
    undone. A cookie value holds no white space (RFC 6265 §4.1.1): a break in a value or a
    name is joined up, as one in place of the space after a ";" may be. Lines that each
    hold a pair, or each a whole signed value (two "."), are several cookies: "; " joins
    them, never one into another."""
    parts: list[str] = []
    # Of the cookie after the last ";" so far: whether it holds a "=", and the "." of its
    # value (after its last "=").
    equals, dots = False, 0
    for line in filter(None, lines):
        first = line.partition(";")[0]
        pairs = equals and "=" in first
        values = dots >= 2 and first.count(".") >= 2 and "=" not in first
        if parts and (pairs or values):
            parts.append("; ")
            equals, dots = False, 0
        parts.append(line)
        last = line.rpartition(";")[2]
        if last != line:
            equals, dots = False, 0
        if "=" in last:
            equals, dots = True, last.rpartition("=")[2].count(".")
        else:
            dots += last.count(".")
    return "".join(parts)


#: A request copied as a command by developer tools (:func:`_copied_cookie_headers`):
#: "Copy as cURL", for bash, or for cmd, whose command Firefox names curl.exe.
_CURL = re.compile(r"\s*curl(?:\.exe)?\s", re.I)
#: What may come before a command copied from a terminal or a page: a shell's "$ " or
#: "> ", PowerShell's "PS C:\\> " (``inspect`` removes a byte order mark first).
_PROMPT = re.compile(r"\A\s*(?:(?:\$|>|PS [^\n>]*>)[ \t]+)?")
#: "Copy as fetch": a browser's has no cookie (fetch() sends its own), Node.js's a
#: "cookie" header, in JSON's quoting.
_FETCH = re.compile(r"\s*(?:await\s+)?fetch\(")
_FETCH_COOKIE = re.compile(
    r'"cookie"\s*:\s*"((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"', re.I
)
#: "Copy as PowerShell" writes each cookie as ``System.Net.Cookie("name", "value", "/",
#: "domain")``, a '"' in a value as `".
_POWERSHELL_COOKIE = re.compile(
    r'System\.Net\.Cookie\(\s*"((?:[^"`]|`.)*)"\s*,\s*"((?:[^"`]|`.)*)"', re.S
)


class _Copied(NamedTuple):
    """The cookies a request copied as a command sends."""

    #: Its ``Cookie`` header values.
    cookies: list[str]
    #: The files curl's ``-b`` reads more cookies from, which the command does not hold.
    files: list[str]


def _copied_cookie_headers(text: str) -> _Copied | None:
    """The ``Cookie`` header values of a request copied as a command by developer tools,
    and the files its ``-b`` names, or None if ``text`` is none: curl's ``-H 'Cookie: ...'``
    and ``-b``/``--cookie`` (Chrome writes the cookies as ``-b`` since 2023; :data:`_CURL`),
    fetch's ``"cookie"`` header (:data:`_FETCH`), PowerShell's cookies
    (:data:`_POWERSHELL_COOKIE`)."""
    text = _PROMPT.sub("", text, count=1)
    command = _CURL.match(text)
    if command is not None:
        windows = command[0].strip().lower() == "curl.exe" or re.search(r'\^"|\^\r?\n', text)
        return _curl_cookies(_cmd_words(text) if windows else _posix_words(text))
    if _FETCH.match(text):
        return _Copied([json.loads(f'"{value}"') for value in _FETCH_COOKIE.findall(text)], [])
    if "System.Net.Cookie(" not in text:
        return None
    pairs = _POWERSHELL_COOKIE.findall(text)
    return _Copied(
        ["; ".join(f"{_powershell(name)}={_powershell(value)}" for name, value in pairs)], []
    )


def _curl_cookies(words: Sequence[str]) -> _Copied:
    """The cookies a curl command's ``words`` send: each ``Cookie`` header and each
    ``-b``/``--cookie`` given cookies; one without "=" names a file curl reads them from."""
    cookies, files = [], []
    rest = iter(words[1:])
    for word in rest:
        if word in ("-H", "--header", "-b", "--cookie"):
            option, argument = word, next(rest, "")
        elif word[:2] in ("-H", "-b"):  # curl takes a short option's value joined to it
            option, argument = word[:2], word[2:]
        else:
            continue
        if option in ("-H", "--header"):
            field, colon, value = argument.partition(":")
            if colon and field.strip().lower() == "cookie":
                cookies.append(value.strip())
        elif "=" in argument:
            cookies.append(argument)
        elif argument:
            files.append(argument)
    return _Copied(cookies, files)


#: A POSIX shell's quoting as developer tools write a command: '...', $'...' (ANSI-C:
#: Chrome's for a "'" or a "!", \u0021, or a control), "..." and \ (a line break after
#: it continues the line).
_POSIX_TOKEN = re.compile(
    r"""\$'(?P<ansi_c>(?:[^'\\]|\\.)*)'|'(?P<single>[^']*)'"""
    r"""|"(?P<double>(?:[^"\\]|\\.)*)"|\\(?P<escaped>.)|(?P<space>\s+)|(?P<plain>[^\s'"\\$]+|.)""",
    re.S,
)
_ANSI_C_ESCAPE = re.compile(
    r"\\(?:x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})|([0-7]{1,3})|(.))", re.S
)
_ANSI_C_CHARS = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n"}
_ANSI_C_CHARS.update({"r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"})


def _posix_words(text: str) -> list[str]:
    """The words a POSIX shell makes of ``text`` (quotes and escapes; nothing expanded)."""
    words: list[str] = []
    word: list[str] | None = None
    for token in _POSIX_TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "space" or (kind == "escaped" and token["escaped"] in "\r\n"):
            if kind == "space" and word is not None:
                words.append("".join(word))
                word = None
            continue
        if word is None:
            word = []
        if kind == "ansi_c":
            word.append(_ANSI_C_ESCAPE.sub(_ansi_c_char, token["ansi_c"]))
        elif kind == "double":
            word.append(re.sub(r'\\([\\"$`])|\\\r?\n', lambda m: m[1] or "", token["double"]))
        else:
            word.append(token[kind or "plain"])
    if word is not None:
        words.append("".join(word))
    return words


def _ansi_c_char(escape: re.Match[str]) -> str:
    code = escape[1] or escape[2] or escape[3]
    if code or escape[4]:
        number = int(code, 16) if code else int(escape[4], 8)
        return chr(number) if number <= sys.maxunicode else escape[0]
    return _ANSI_C_CHARS.get(escape[5], escape[0])


def _cmd_words(text: str) -> list[str]:
    """The words cmd.exe, then a Windows program's argument parser, make of ``text``:
    "^" escapes the character after it (a line break: the command goes on), then "..."
    quotes, "" in quotes is a '"', and backslashes escape a '"' (Chrome writes a '"' in a
    value ^\\^", its old form "")."""
    text = re.sub(r"\^\r?\n|\^(.)", lambda m: m[1] or "", text, flags=re.S)
    words: list[str] = []
    word: list[str] | None = None
    quoted = False
    pos = 0
    while pos < len(text):
        token = _CRT_TOKEN.match(text, pos)
        assert token is not None  # one of its branches matches any character
        pos = token.end()
        if token["space"] and not quoted:
            if word is not None:
                words.append("".join(word))
                word = None
            continue
        if word is None:
            word = []
        if token["quote"] is None:
            word.append(token[0])
            continue
        slashes = len(token["slashes"])
        word.append("\\" * (slashes // 2))
        if slashes % 2:
            word.append('"')
        elif quoted and not slashes and text.startswith('"', pos):
            word.append('"')
            pos += 1
        else:
            quoted = not quoted
    if word is not None:
        words.append("".join(word))
    return words


_CRT_TOKEN = re.compile(r'(?P<slashes>\\*)(?P<quote>")|(?P<space>\s+)|\\+|[^\s\\"]+')


def _powershell(text: str) -> str:
    """A PowerShell "..." string's text: `x is x, $([char]233) is "é"."""

    def char(escape: re.Match[str]) -> str:
        return escape[1] if escape[1] is not None else chr(min(int(escape[2]), sys.maxunicode))

    return re.sub(r"`(.)|\$\(\[char\](\d{1,7})\)", char, text, flags=re.S)


#: Cookie attributes (RFC 6265 §4.1.1; RFC 6265bis: SameSite, and CHIPS' Partitioned),
#: with a value and without one.
_ATTRIBUTES = frozenset({"expires", "max-age", "domain", "path", "samesite"})
_FLAGS = frozenset({"secure", "httponly", "partitioned"})


def _set_cookie_value(text: str, name: str) -> bool:
    """Whether ``text`` is a ``Set-Cookie`` line's value without its field name, as
    developer tools and logs show one: cookie ``name``'s pair, then an attribute. (A
    ``Cookie`` header sending a cookie named ``path`` after ``name`` reads as one too.)"""
    pair, *after = text.split(";")
    if pair.partition("=")[0].strip() != name:
        return False
    for attribute in after:
        key, equals, _ = attribute.partition("=")
        key = key.strip().lower()
        if key in (_ATTRIBUTES if equals else _FLAGS):
            return True
    return False


def _deletion(value: str, attributes: Sequence[str], now: float) -> str | None:
    """Why a ``Set-Cookie`` line of value ``value`` leaves the client no digest, or None:
    a ``Max-Age`` of 0 or less, else an ``Expires`` that is not after ``now`` (RFC 6265 §5.3
    step 3: Max-Age wins; a browser holds a cookie expired from its expiry's second), or
    an empty value, which a browser keeps and the server reads as no digest."""
    max_age: str | None = None
    expires: tuple[str, datetime] | None = None
    for attribute in attributes:
        key, _, text = attribute.partition("=")
        key, text = key.strip().lower(), text.strip()
        # Of each, the last one counts (§5.3); one that does not parse is ignored (§5.2.1,
        # §5.2.2: an optional "-", then digits).
        if key == "max-age" and re.fullmatch(r"-?[0-9]+", text):
            max_age = text
        elif key == "expires" and (date := parse_date(text)) is not None:
            expires = text, date
    if max_age is not None:
        # Read by its sign, not converted: Python refuses an int of over 4,300 digits.
        if max_age.startswith("-") or not max_age.strip("0"):
            return f"Max-Age={max_age}"
    elif expires is not None and expires[1].timestamp() <= now:
        return f"Expires={expires[0]}, in the past"
    if not value:
        return "its value is empty"
    return None


def _scope_of(attributes: Sequence[str]) -> SetCookie:
    """The Domain, Path, Partitioned and Max-Age that a ``Set-Cookie`` line's attributes
    give its cookie."""
    domain = path = None
    partitioned = False
    max_age: int | None = None
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        key, value = key.strip().lower(), value.strip()
        # Of each, the last one counts (RFC 6265 §5.3 steps 4-6); an empty Domain is
        # ignored (§5.2.3), a Path not starting with "/" is the request's own (§5.2.4),
        # which a server that writes one never leaves to the browser.
        if key == "domain" and value:
            domain = value
        elif key == "path":
            path = unquote(value) if value[:1] == "/" else None
        elif key == "partitioned":
            partitioned = True
        elif key == "max-age" and re.fullmatch(r"-?[0-9]+", value):  # else ignored (§5.2.2)
            # Ten digits at most: Python refuses an int of over 4,300, and no Max-Age the
            # server writes has more than 8 (MAX_COOKIE_AGE).
            digits = value.lstrip("-0")
            max_age = int(digits) if value[0] != "-" and 0 < len(digits) <= 10 else None
    return SetCookie(domain, path, partitioned, max_age)


def _of_scope(scope: SetCookie, asked: AskedScope) -> bool:
    """Whether a ``Set-Cookie`` line's ``scope`` is the one ``asked`` for, where given."""
    return (
        (asked.domain is None or _domain_key(asked.domain) == _domain_key(scope.domain))
        and (asked.path is None or asked.path == (scope.path or "/"))
        and (asked.partitioned is None or asked.partitioned == scope.partitioned)
    )


def _domain_key(domain: str | None) -> str:
    """``domain`` as a browser compares it (RFC 6265 §5.2.3: no leading dot, lower case),
    IDNA-encoded as Werkzeug writes it; "" for a host-only cookie."""
    domain = (domain or "").lstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _flags_said(asked: AskedScope) -> str:
    """The flags of ``asked`` given, as typed (quoted if a terminal would not show it)."""
    said = []
    for flag, value in (("--cookie-domain", asked.domain), ("--cookie-path", asked.path)):
        if value is not None:
            said.append(f"{flag} {value if value.isprintable() and value else repr(value)}")
    if asked.partitioned is not None:
        said.append("--cookie-partitioned" if asked.partitioned else "--no-cookie-partitioned")
    return ", ".join(said)


def _cookie_values(text: str, name: str) -> list[str]:
    """The values of cookie ``name`` in ``text``: a bare value, ``name=value`` or a
    ``Cookie`` header's value.

    A signed value has no ``=`` (base64url without padding), so text without one is a bare
    value, read as ``name=value`` would be (quoted, or with a ``;`` after it), or several,
    each after a ``;`` (whole values one a line: :func:`_unwrapped`). Otherwise Werkzeug
    parses it, as it parses the request's ``Cookie`` header. Text of nothing but white
    space holds no cookie.
    """
    if not text.strip():
        return []
    if "=" not in text:
        values = filter(None, (value.strip() for value in text.split(";")))
        return _parse_cookie_header("; ".join(f"{name}={value}" for value in values)).getlist(name)
    return _parse_cookie_header(text).getlist(name)


def _parse_cookie_header(text: str) -> MultiDict[str, str]:
    """The cookies in ``text`` as Werkzeug reads a request's ``Cookie`` header.

    Werkzeug expects the header as a WSGI server hands it: its bytes decoded as latin-1. A
    lone surrogate (an undecodable byte of argv) becomes "?", as no browser sends one. A
    "," is read as a ";", as ``DigestConnector`` reads the lines gunicorn joins with one.
    """
    header = text.strip().replace(",", ";")
    return parse_cookie(header.encode("utf-8", "replace").decode("latin1"))
