"""Build RFC 8288 ``Link`` header values, refusing anything that could break a header.

Pure: no Flask, no Werkzeug. The grammar (RFC 8288 §3, RFC 9110 §5.6)::

    Link       = #link-value
    link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
    link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
    token      = 1*tchar
    tchar      = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
                 "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

__all__ = ["format_link", "is_token"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters (CR and LF above all) and the brackets that delimit the URI.
_BAD_IN_URL = re.compile(r"[\x00-\x1f\x7f<>]")
# A quoted-string may hold any visible ASCII and spaces; `"` and `\` are escaped.
_BAD_IN_VALUE = re.compile(r"[^\x20-\x7e]")
# Everything printable in ASCII stays as written; only non-ASCII is percent-encoded,
# as a browser does before it sends an IRI.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def is_token(text: object) -> bool:
    """Whether ``text`` is an RFC 9110 token (also RFC 6265's cookie-name)."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


def _check_token(what: str, text: str) -> str:
    if not is_token(text):
        raise ValueError(f"Link {what} must be an RFC 8288 token, got {text!r}")
    return text


def _format_value(name: str, value: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Link parameter {name!r} must be a string, got {value!r}")
    if _TOKEN.fullmatch(value):
        return value
    if _BAD_IN_VALUE.search(value):
        raise ValueError(f"Link parameter {name!r} holds a character a header cannot: {value!r}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _format_url(url: str) -> str:
    if not isinstance(url, str) or not url:
        raise ValueError(f"a pushed url must be a non-empty string, got {url!r}")
    if _BAD_IN_URL.search(url):
        raise ValueError(f"a pushed url may not hold control characters, '<' or '>': {url!r}")
    if " " in url:
        raise ValueError(f"a pushed url may not hold spaces (percent-encode them): {url!r}")
    return url if url.isascii() else quote(url, safe=_URL_SAFE)


@lru_cache(maxsize=4096)
def format_link(
    url: str,
    params: tuple[tuple[str, str], ...] = (),
    flags: tuple[str, ...] = (),
) -> str:
    """Return one link-value: ``<url>; name=value...; flag...``.

    Parameters keep their order; values that are not tokens are quoted and escaped.
    Raises :class:`ValueError` for anything that could end or split the header.
    Cached: pages push the same resources on every request.
    """
    parts = [f"<{_format_url(url)}>"]
    parts.extend(
        f"{_check_token('parameter name', name)}={_format_value(name, value)}"
        for name, value in params
    )
    parts.extend(_check_token("flag", flag) for flag in flags)
    return "; ".join(parts)
