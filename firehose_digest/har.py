"""A HAR file, or Firefox's headers copied as JSON, as the header lines they hold.

Developer tools save a page's requests as an HTTP Archive ("Save all as HAR"): JSON whose
``log.entries`` each hold a ``request`` and its ``response``, each with its ``headers`` as
``{"name": ..., "value": ...}`` objects, in the order sent (HAR 1.2). Firefox's headers
panel copies a section as JSON too ("Copy All": ``{"responseHeaders": {"headers":
[...]}}``, or ``{"responseHeaders": {"RAW_HEADERS_ID": "HTTP/2 200 ..."}}`` in its raw
view). :func:`read_json` gives the ``Cookie`` and ``Set-Cookie`` header lines of each
exchange, for :mod:`.pasted` to read as it reads header lines pasted from a terminal.
A HAR's ``cookies`` arrays are not read: a parsed cookie no longer says whether its
``Domain`` was given, which the digest's signature covers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, NamedTuple

__all__ = ["Exchange", "JsonPasted", "json_error", "read_json"]


class Exchange(NamedTuple):
    """One request and its response, of a HAR entry or a copy of Firefox's headers."""

    #: Its method and url ("GET https://shop.example/"), "" where not known.
    request: str
    #: Its ``Cookie`` and ``Set-Cookie`` header lines, "Name: value" each, in order: the
    #: request's, then the response's.
    lines: list[str]


class JsonPasted(NamedTuple):
    """What :func:`read_json` found."""

    #: "HAR", or "Firefox" for its headers copied; None for JSON that is neither.
    form: str | None
    #: The exchanges, a HAR's in the order they started.
    exchanges: list[Exchange]


#: The header fields read; any other says nothing of the digest.
_COOKIE_FIELDS = ("cookie", "set-cookie")


def read_json(text: str) -> JsonPasted | None:
    """What ``text`` holds if it is a JSON object or array: a HAR (``{"log": {"entries":
    [...]}}``), one of its entries (``{"request": ..., "response": ...}``, as "Copy as HAR"
    of one request may copy it) or a list of them, or Firefox's headers copied as JSON;
    None for text that is no JSON object or array (a header, a value, curl's output)."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        return None
    if not isinstance(document, (dict, list)):
        return None
    entries = _entries(document)
    if entries is not None:
        return JsonPasted("HAR", [_exchange(entry) for entry in _in_order(entries)])
    if isinstance(document, dict):
        sections = [value for value in document.values() if isinstance(value, dict)]
        lines = [line for section in sections for line in _firefox_section(section)]
        if lines or any(_header_list(section.get("headers")) for section in sections):
            return JsonPasted("Firefox", [Exchange("", lines)])
    return JsonPasted(None, [])


#: Text that opens a JSON object, or an array of them: a HAR, one of its entries, a list of
#: them, Firefox's headers. A "[" alone opens nghttp -v's lines too ("[  0.012] recv ...").
_OPENS_OBJECT = re.compile(r"\s*(?:\{|\[\s*\{)")


def json_error(text: str) -> str | None:
    """Why ``text``, which opens as a JSON object or an array of them, is no JSON (a HAR
    cut short, a download stopped or a clipboard's limit reached), in the user's terms;
    None for text that parses, or that opens otherwise."""
    if not _OPENS_OBJECT.match(text):
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        why = f"{e.msg}: line {e.lineno} column {e.colno}"
    except RecursionError:
        why = "nested deeper than Python reads"
    except ValueError:  # an integer past Python's 4,300 digits
        why = "a number too long to read"
    else:
        return None
    return (
        f"JSON that does not parse ({why}): a HAR or Firefox's headers cut short or edited? "
        "Save or copy it again"
    )


def _entries(document: dict[str, Any] | list[Any]) -> list[dict[str, Any]] | None:
    """A HAR's entries, one entry's, or a list of entries'; None for none of them."""
    if isinstance(document, dict):
        log = document.get("log")
        if isinstance(log, dict) and isinstance(log.get("entries"), list):
            return [entry for entry in log["entries"] if isinstance(entry, dict)]
        document = [document]
    entries = [entry for entry in document if isinstance(entry, dict)]
    if entries and all(_is_entry(entry) for entry in entries):
        return entries
    return None


def _is_entry(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("request"), dict) or isinstance(entry.get("response"), dict)


def _in_order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` in the order they started: HAR 1.2 prefers them written so, and asks a
    reader to sort them. Kept as written if any ``startedDateTime`` does not parse."""
    started = []
    for index, entry in enumerate(entries):
        when = _started(entry.get("startedDateTime"))
        if when is None:
            return entries
        started.append((when, index))
    return [entries[index] for _, index in sorted(started)]


def _started(text: object) -> datetime | None:
    """An ISO 8601 ``startedDateTime``, "Z" included (which Python 3.10 does not read);
    one without an offset taken as UTC, to compare with the others."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", text))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _exchange(entry: dict[str, Any]) -> Exchange:
    request = entry.get("request")
    response = entry.get("response")
    request = request if isinstance(request, dict) else {}
    response = response if isinstance(response, dict) else {}
    method, url = request.get("method"), request.get("url")
    said = " ".join(part for part in (method, url) if isinstance(part, str) and part)
    headers = [*_header_list(request.get("headers")), *_header_list(response.get("headers"))]
    return Exchange(said, _cookie_lines(headers))


def _header_list(headers: object) -> list[tuple[str, str]]:
    """The ``{"name", "value"}`` objects of a ``headers`` array, as pairs."""
    if not isinstance(headers, list):
        return []
    return [
        (header["name"], header["value"])
        for header in headers
        if isinstance(header, dict)
        and isinstance(header.get("name"), str)
        and isinstance(header.get("value"), str)
    ]


def _cookie_lines(headers: list[tuple[str, str]]) -> list[str]:
    """The ``Cookie`` and ``Set-Cookie`` header lines of ``headers``. Chrome's protocol joins
    a response's ``Set-Cookie`` fields with a line break in one value, which a HAR may keep:
    each line is a field of its own, a cookie holding no line break (RFC 6265 §4.1.1)."""
    return [
        f"{name}: {value}"
        for name, values in headers
        if name.strip().lower() in _COOKIE_FIELDS
        for value in re.split(r"\r\n|\r|\n", values)
    ]


def _firefox_section(section: dict[str, Any]) -> list[str]:
    """The cookie lines of a section of Firefox's headers copied as JSON: of its headers,
    or of its raw view's text."""
    raw = section.get("RAW_HEADERS_ID")
    if isinstance(raw, str):
        fields = [line.partition(":") for line in re.split(r"\r\n|\r|\n", raw)]
        return _cookie_lines([(name, value.strip()) for name, colon, value in fields if colon])
    return _cookie_lines(_header_list(section.get("headers")))
