"""What ``push()`` collects: each request's resources, by url, in the order first pushed.

A layer under the Flask adapter: :mod:`.request_record` opens a record per request (a
:class:`RequestPushes`) and :mod:`.extension` writes it out after the view; :mod:`.static`
pushes versioned static files through :func:`record_push`. This module imports none of them.
"""

from __future__ import annotations

import logging
import re
import string
import sys
from collections.abc import Mapping
from contextlib import suppress
from contextvars import ContextVar
from html import unescape
from html.entities import html5
from typing import Any

from .hints import (
    PER_REQUEST_PARAMETERS,
    READ_FROM_A_103,
    TYPES_EVERY_BROWSER_USES,
    EarlyHint,
    origin_of,
)
from .links import (
    MAX_LOGGED_CHARS,
    Resource,
    cut_by_proxies,
    for_log,
    format_link,
    format_url,
    kept_alive_by,
    other_number,
    pushed_as_requested,
)
from .locks import fork_safe_lock
from .sizes import DICT_SLOT, unique_size

__all__ = [
    "CORS_MODE",
    "MODULE_PRELOAD_DESTINATIONS",
    "PRELOAD_DESTINATIONS",
    "RequestPushes",
    "as_written",
    "ascii_lower",
    "bare_per_request",
    "current_record",
    "key_url",
    "key_version",
    "make_resource",
    "names_crossorigin",
    "push",
    "read_as",
    "record_push",
    "refuse_undefined",
    "resource_key",
    "resource_of",
    "tell_unfetched_as",
]

log = logging.getLogger("firehose_digest")


class RequestPushes:
    """One request's pushed resources, by url; the extension's record extends it."""

    __slots__ = ("resources",)

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}


#: The record of the request being served, set and reset around each by
#: :class:`~.request_record.PushScope` (and around each step of a lazy app's body).
current_record: ContextVar[RequestPushes | None] = ContextVar("firehose_record", default=None)


def resource_key(url: str, version: str | None) -> str:
    """The connector key of a resource; a newline can never be part of a pushed url."""
    return url if version is None else f"{url}\n{version}"


def key_url(key: str) -> str:
    """The url of a :func:`resource_key`."""
    return key.partition("\n")[0]


def key_version(key: str) -> str | None:
    """The version of a :func:`resource_key`; None for an unversioned one."""
    _, versioned, version = key.partition("\n")
    return version if versioned else None


def push(
    url: str,
    *flags: str,
    as_: str | None = None,
    version: str | float | None = None,
    learn: bool = True,
    **params: str | float | None,
) -> str:
    """Preload (and let a push proxy push) ``url`` with this response; return ``url``.

    docs/how-it-works.md, ``push()``, has the everyday rules with examples. In short:

    - ``flags`` are written bare (``crossorigin``, ``nopush``), but a ``"name=value"`` one
      (Flask-Firehose's spelling) is a parameter.
    - ``as_`` (``as`` in a Jinja template, in any case; ``as_`` first when both are
      given) and other keywords become parameters (:func:`as_written`): a number as its
      str, ``True`` a bare flag, ``None`` and ``False`` left out.
    - ``rel`` defaults to ``preload``; one of no relations (``""``, whitespace: a
      template variable's default) is none.
    - A font's or a fetch's preload gets ``crossorigin`` unless one is named
      (``crossorigin=None``: none), as the browser fetches them in CORS mode.
    - ``version`` (an ETag, a content hash; a number as its str) makes a changed file
      behind the same url new again.
    - A url given as HTML (``Markup``, from a macro) is linked as the page reads it:
      ``&amp;`` is ``&``; so is a value or a flag, its name too (``&#116;itle=a``).
    - ``learn=False`` keeps the link out of what ``FIREHOSE_EARLY_HINTS`` learns for the
      page, so no other visitor is hinted it (a per-user resource).
    - A bare ``nonce``, an empty one no CSP policy allows, is a :class:`ValueError` (give
      the response's), and one no policy can name (``nonce=""``, ``nonce=" "``) is none.
      A link with a ``nonce`` parameter is never hinted either, only written on this
      response, and made for it alone: a nonce is new on every response, so neither
      push()'s cache nor the page's kept plans hold it (docs/performance.md).
    - A link naming ``nomodule`` (a legacy bundle, which every browser that runs modules
      skips; ``nomodule=False`` names none) is recorded nowhere: no ``Link``, push or
      hint. A ``DEBUG`` log line says so each time ``push()`` makes a link of those
      arguments (once, while its cache keeps them; on every call with a ``nonce``, which
      is never kept).
    - An ``as`` no browser fetches the link as (``as_="css"``: :func:`tell_unfetched_as`)
      is linked as written, and a WARNING names it, once for each value (up to
      :data:`MAX_TOLD_AS` values a process, then none).

    Outside a request, with the extension off, or once the response's links are decided
    (in a streamed body, a teardown function, a ``request_finished`` receiver), it
    returns ``url``, which is not linked or saved.

    Its arguments are checked all the same, wherever it runs, so a bad argument shows in
    development too:

    - :class:`ValueError` for a url or value that could inject a header, or a value or
      name a push proxy misreads: a value holding a ``,``, ``;``, ``"`` or a non-ASCII
      character; a name or flag holding ``'``, ``*`` or ``%`` (docs/how-it-works.md). A
      value made of request or database text (a ``title``) is the app's to clean first.
    - An argument from a template variable never set (Jinja's ``Undefined``, of any
      kind) is a :class:`ValueError` naming it, never a link with an empty value.
    """
    # The common call, push(url) or push(url, as_="style"), is looked up here, under the
    # key resource_of() gives plain arguments (themselves): a page's pushes are then one
    # call each.
    common = type(url) is str and (as_ is None or type(as_) is str) and not (flags or params)
    resource = (
        _resources.get((url, (), as_, None, True))
        if common and version is None and learn is True
        else None
    )
    if resource is None:
        resource = resource_of(url, flags, as_, version, learn, params)
    # record_push()'s body, written out: push() runs for every link of every page, and
    # the call it saves is part of the return visit's cost (docs/performance.md).
    record = current_record.get()
    if record is not None and not resource.legacy_only:
        record.resources.setdefault(resource.url, resource)  # the first push of a url wins
    return url


def record_push(resource: Resource) -> None:
    """Record ``resource`` as pushed by the request being served, if any, as :func:`push`
    does: not a legacy bundle, which is linked nowhere."""
    record = current_record.get()
    if record is not None and not resource.legacy_only:
        record.resources.setdefault(resource.url, resource)  # the first push of a url wins


def resource_of(
    url: str,
    flags: tuple[str, ...],
    as_: str | None,
    version: str | float | None,
    learn: bool,
    params: Mapping[str, str | float | None],
) -> Resource:
    """The :class:`Resource` :func:`push` makes of its arguments (:func:`make_resource`),
    kept in :data:`_resources` for the next call with the same arguments (but a link with
    a ``nonce``, made for one response). Plain arguments (a str url, flags and ``as_``,
    ``version`` a str or None, no other keyword) are their own key: :func:`push` looks
    its common call up under it itself. Not added to the request's record: that is
    :func:`record_push`'s."""
    if type(url) is not str:
        refuse_undefined("url", url)  # ChainableUndefined reads as markup: ""
        url = _url_as_read_from_the_page(url)
    # Markup equals its text and False 0, but read_as() reads each apart: keyed by type.
    keyed_as = as_ if type(as_) is str or as_ is None else (type(as_), as_)
    # A number is its str as a version: 1, 1.0 and True are equal keys, not one version.
    keyed_version = (
        version
        if version is None or type(version) is str
        else (type(version), repr(version) if isinstance(version, float) else version)
    )
    keyed_flags: tuple[Any, ...] = flags
    if flags:
        for flag in flags:
            if type(flag) is not str:  # Markup equals its text, but its "name=value" is HTML
                keyed_flags = tuple((type(flag), flag) for flag in flags)
                break
    named: tuple[tuple[str, Any], ...] = ()
    if params:  # a template's as= among them: make_resource() reads it
        named = tuple(params.items())
        arguments: tuple[Any, ...] = (url, keyed_flags, keyed_as, keyed_version, learn, named)
        for name, value in named:
            # True == 1 == 1.0 and 0.0 == -0.0 as keys, not links; a name given as Markup
            # equals its text, but is read as HTML.
            if type(value) is not str or type(name) is not str:
                typed = tuple(
                    (
                        name if type(name) is str else (type(name), name),
                        type(value),
                        repr(value) if isinstance(value, float) else value,
                    )
                    for name, value in named
                )
                arguments = (url, keyed_flags, keyed_as, keyed_version, learn, typed)
                break
    else:
        arguments = (url, keyed_flags, keyed_as, keyed_version, learn)
    try:
        # Only a real bool is looked up: learn=1 equals True, and would skip the check.
        resource = _resources.get(arguments) if learn is True or learn is False else None
    except Exception:  # unhashable (a list; a StrictUndefined raises): make_resource() says why
        resource = None
    if resource is None:
        resource = make_resource(url, flags, as_, version, named, learn)
        if not resource.per_request:  # a nonce is new on every response: never asked again
            with suppress(TypeError):  # a str whose class refuses hashing: made every time
                _remember_resource(arguments, resource)
    return resource


def refuse_undefined(argument: str, value: object) -> None:
    """Raise :class:`ValueError` naming ``argument`` if ``value`` is a template variable
    never set (Jinja's ``Undefined``, of any kind: ``version=asset_version`` where
    ``asset_version`` is not set), a mistake in the template rather than a value. Read as
    a value it is "" (ChainableUndefined's as markup too): the preload said ``as=""`` or
    ``media=""``, one the page never meant."""
    jinja2 = sys.modules.get("jinja2")  # no template rendered, no Undefined made
    if jinja2 is not None and isinstance(value, jinja2.Undefined):
        raise ValueError(
            f"argument {argument!r} is undefined in the template: {value._undefined_message}"
        )


def _as_read_from_the_page(url: Any) -> Any:
    """A url given as HTML (``Markup``: a Jinja macro's output, a ``{% set %}`` block), as
    the browser reads it from the page's attribute (``href``, ``src``): ``&amp;`` is ``&``.
    Anything else as it is.

    Linked as it was written, the preload would name a url the page never asks for, and
    the same text pushed as HTML and as a plain str would be one resource.
    """
    html = getattr(url, "__html__", None)  # markupsafe's protocol for markup
    text = html() if callable(html) else None
    return _CHAR_REFERENCE.sub(_read_in_an_attribute, text) if isinstance(text, str) else url


def _url_as_read_from_the_page(url: Any) -> Any:
    """A url given as HTML as the browser requests it from the page's attribute: read as
    :func:`_as_read_from_the_page` reads it, its tabs and newlines then dropped, as the URL
    parser drops them wherever they are (WHATWG URL, "basic URL parser"): a macro or a
    ``{% set %}`` block written over lines names a url on one. Anything else as it is."""
    read = _as_read_from_the_page(url)
    return read.translate(_TAB_OR_NEWLINE) if read is not url else url


#: What the URL parser removes from anywhere in a url: ASCII tab, LF and CR.
_TAB_OR_NEWLINE = dict.fromkeys(map(ord, "\t\n\r"))


def _value_as_read_from_the_page(value: Any) -> Any:
    """A parameter value given as HTML as :func:`_as_read_from_the_page` reads it, then as
    Infra's "strip and collapse ASCII whitespace" makes it: a ``{% set %}`` block written
    over lines names, on one, what the page's attribute names. The attributes a preload
    reads with whitespace in them (``media``, ``imagesrcset``, ``integrity``, ``type``)
    take a run of it as one space; a header cannot hold a newline. Anything else as it is.
    """
    read = _as_read_from_the_page(value)
    return value if read is value else _collapsed(read)


def _collapsed(text: str) -> str:
    """``text`` with each run of ASCII whitespace one space, none at either end."""
    return _ASCII_WHITESPACE.sub(" ", text).strip(" ")


#: ASCII whitespace (Infra): tab, LF, FF, CR and space.
_ASCII_WHITESPACE_CHARS = "\t\n\f\r "
_ASCII_WHITESPACE = re.compile(f"[{_ASCII_WHITESPACE_CHARS}]+")


#: A character reference as :func:`html.unescape` finds one (its own pattern).
_CHAR_REFERENCE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def _read_in_an_attribute(match: re.Match[str]) -> str:
    """A character reference as an attribute value reads it: as :func:`html.unescape`
    reads text, but for a named one without its ";" followed by "=" or an ASCII letter or
    digit, which stays as written (the HTML Standard's "named character reference state",
    "for historical reasons"): ``href="/a?v=3&region=eu"`` asks for ``&region``, not
    ``®ion``, as Chromium reads it; and for a numeric one to a control or a
    noncharacter, which is that code point (``&#1;`` is ``"\x01"``), not nothing."""
    reference = match.group(1)
    if reference[0] != "#" and reference not in html5:
        # The longest name the table holds, as html.unescape looks for it.
        for length in range(len(reference) - 1, 1, -1):
            if reference[:length] in html5:
                after = reference[length]
                if after == "=" or (after.isascii() and after.isalnum()):
                    return match.group()
                break
    if reference[0] != "#":
        return unescape(match.group())
    # Read from its digits past any leading zeros: html.unescape's int() raises ValueError
    # past 4,300 of them, where the HTML Standard reads any number of zeros as none, and
    # any number past 0x10FFFF (more than 7 digits in either base) as U+FFFD.
    hexadecimal = reference[1] in "xX"
    digits = reference[1 + hexadecimal :].rstrip(";").lstrip("0") or "0"
    if len(digits) > 7:
        return "\ufffd"
    read = unescape(f"&#{'x' if hexadecimal else ''}{digits};")
    if read:
        return read
    # html.unescape drops a numeric reference to a control that is not whitespace (&#1;,
    # &#11;, &#127;) or to a noncharacter (&#xFDD0;), and to nothing else; the HTML
    # Standard ("numeric character reference end state") calls it a parse error and
    # keeps its code point, which is what the page reads. (0x00, a surrogate and one past
    # 0x10FFFF are U+FFFD, 0x80 to 0x9F read through windows-1252: html.unescape's own.)
    return chr(int(digits, 16 if hexadecimal else 10))


#: What push() made of its arguments: pages push the same resources on every request, and
#: validating and formatting a link is most of a push's work (docs/performance.md). Emptied
#: when an entry would take it past MAX_RESOURCES_BYTES, so urls made per user cannot grow
#: it without bound.
_resources: dict[tuple[Any, ...], Resource] = {}
_resources_bytes = 0
MAX_RESOURCES_BYTES = 1 << 20
#: Held while the count changes: threads adding at once would lose updates to it. Reads
#: (``push()``'s lookup) take no lock.
_resources_lock = fork_safe_lock()


def _remember_resource(arguments: tuple[Any, ...], resource: Resource) -> None:
    global _resources_bytes
    size = _entry_size(arguments, resource)
    if size > MAX_RESOURCES_BYTES:
        return  # larger than the bound on its own (request data pushed): made every time
    with _resources_lock:
        if arguments in _resources:  # another thread made it meanwhile: counted once
            return
        if _resources_bytes + size > MAX_RESOURCES_BYTES:
            _resources.clear()
            _resources_bytes = 0
        _resources[arguments] = resource
        _resources_bytes += size


def _entry_size(arguments: tuple[Any, ...], resource: Resource) -> int:
    """The bytes an entry keeps alive: the arguments (their tuples, strings and numbers),
    the Resource and all it holds, each object once however many hold it, and the dict's
    slot for it. A string or number the app keeps too (an interned "style", a small int)
    is counted as if the entry alone held it."""
    return unique_size([*_tuples_and_values(arguments), *kept_alive_by(resource)]) + DICT_SLOT


def _tuples_and_values(value: object) -> list[object]:
    """``value`` and every tuple, str and int inside it (the flags, the parameters' pairs,
    a number given as a parameter: of up to 4,300 digits, an object of up to 1.9 KB)."""
    if isinstance(value, tuple):
        return [value, *(inner for item in value for inner in _tuples_and_values(item))]
    return [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else []


#: Link relations that open a connection rather than fetch a resource.
_CONNECTING_RELS = frozenset({"preconnect", "dns-prefetch"})


def as_written(
    flags: tuple[Any, ...], params: tuple[tuple[str, Any], ...]
) -> tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]:
    """``push()``'s flags and keyword parameters in the forms a link writes.

    As Flask-Firehose wrote them: a positional ``"name=value"`` is that parameter (its
    value's quotes dropped) and a number is its ``str``; corrected: ``True`` is a bare flag
    (``crossorigin=True`` is ``crossorigin``; not for ``rel`` or ``as``, which need a
    value), ``None`` and ``False`` leave the parameter out, a value given as HTML
    (``Markup``) is read as the page reads it, as a url is (its whitespace stripped and
    collapsed: a block written over lines), a flag given so its name too, and a keyword,
    whatever its value, stands for
    its name: a positional spelling of it, flag or ``"name=value"``, is dropped; a
    ``nonce`` no policy can name (:func:`_no_nonce`: an empty one, a space) is none.
    A name given twice, in any case, is written once, as first given.
    Anything else is left for :func:`make_resource` to refuse.
    """
    bare: list[Any] = []
    named: dict[str, Any] = {}
    # rel and as are read in any case, as RFC 8288 §3 reads parameter names (REL=prefetch
    # is not a preload); a name given as HTML as the page reads it, as a flag's is.
    params = tuple((_read_name(_name_as_read(name)), value) for name, value in params)
    # Parameter names are case-insensitive (RFC 8288 §3): a name given twice is one
    # parameter, written once, as first given, the one a reader keeps of rel, media, title
    # and type (RFC 8288 §3.3, §3.4.1: occurrences after the first are ignored).
    given: set[str] = set()
    for name, value in params:
        if isinstance(name, str):
            if ascii_lower(name) in given:
                continue
            given.add(ascii_lower(name))
        if value is True and name not in ("rel", "as"):
            bare.append(name)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # then read as that str is: nonce=1.5 is nonce="1.5", none
            if not _no_nonce(name, value):
                named[name] = value
        elif value is not None and value is not False:
            refuse_undefined(name, value)
            value = _value_as_read_from_the_page(value)
            if not _no_nonce(name, value):
                named[name] = value
    for flag in flags:
        if not isinstance(flag, str):
            refuse_undefined("flag", flag)
            bare.append(flag)
            continue
        given_as_html = hasattr(flag, "__html__")
        name, equals, read = _flag_read(flag)
        if ascii_lower(name) in given:
            continue
        if not name:
            # Whitespace alone, or "=value": refused naming what the app wrote, as read,
            # not '': a Markup one's source (&#32;) is a name static_tag() would write on
            # the element.
            bare.append(str(_as_read_from_the_page(flag)))
            continue
        if not equals:
            bare.append(name)  # as written, but for the whitespace around it
            given.add(ascii_lower(name))
            continue
        name = _read_name(name)
        if len(read) >= 2 and read[0] == read[-1] == '"':
            read = read[1:-1]  # the quotes first: what they hold is the attribute's value
        read = _collapsed(read) if given_as_html else read
        if not _no_nonce(name, read):
            named[name] = read
            given.add(ascii_lower(name))
    return tuple(bare), tuple(named.items())


#: ASCII upper case to lower case, and nothing else: what HTML lowers in an attribute's
#: name (HTML syntax, "attribute name state"), where ``str.lower`` also lowers ``Ä``.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(name: str) -> str:
    """``name`` with its ASCII letters in lower case, as HTML reads an attribute's name
    and RFC 8288 compares a parameter's (``str.lower`` makes ``\u212a``, KELVIN SIGN,
    ``k``)."""
    return name.translate(_ASCII_LOWER)


def _name_as_read(name: Any) -> Any:
    """A keyword's name given as HTML (``Markup``: a template's ``**`` of macro output)
    as the page reads it, a str (``ti&#116;le`` is ``title``); any other as it is."""
    read = _as_read_from_the_page(name)
    return name if read is name else str(read)


def _made_per_request(name: Any) -> bool:
    """Whether ``name`` is one of :data:`~.hints.PER_REQUEST_PARAMETERS`, in any case
    (RFC 8288 §3): a parameter made for one response (a CSP nonce)."""
    return isinstance(name, str) and name.lower() in PER_REQUEST_PARAMETERS


#: CSP3's nonce-source is ``"'nonce-' base64-value"``, where ``base64-value = 1*( ALPHA /
#: DIGIT / "+" / "/" / "-" / "_" ) *2"="``: no policy names a nonce of anything else.
_BASE64_VALUE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def _no_nonce(name: Any, value: Any) -> bool:
    """Whether ``value``, given for ``name``, is a nonce no CSP policy can name, which
    :func:`as_written` leaves out: an empty one (Flask-Talisman's ``csp_nonce()`` where
    it made none), whitespace, or one holding any character a nonce-source cannot (a
    space, a quote, a newline). A browser matches it to no policy, written or not:
    refused, it would cost the page (a 500) for nothing it changes, and kept, the link
    would be taken for one made for this response alone, never hinted."""
    return (
        _made_per_request(name)
        and isinstance(value, str)
        and _BASE64_VALUE.fullmatch(value) is None
    )


def read_as(as_: Any) -> Any:
    """``as_`` as :func:`as_written` reads an ``as=`` among the parameters: given as HTML,
    as the page reads it; a number, its str; ``None`` and ``False``, no value (None)."""
    return dict(as_written((), (("as", as_),))[1]).get("as")


def _read_name(name: Any) -> Any:
    """``rel`` and ``as`` in lower case, however spelled; any other name as it is."""
    return name.lower() if isinstance(name, str) and name.lower() in ("rel", "as") else name


#: Fonts and fetches are requested in CORS mode: their preload must say so too, or the
#: browser cannot use it and fetches the file again (the Fetch standard's "potentially
#: CORS" requests). A font always; a ``fetch()`` unless it says ``mode: "no-cors"``.
CORS_MODE = frozenset({"font", "fetch"})


#: What a preload's ``as`` says for a browser to fetch it (HTML Standard, "preload
#: destination", in the 2026-07 review draft): for any other "translate a preload
#: destination" returns null, and neither a ``<link>`` nor a ``Link`` header is fetched.
PRELOAD_DESTINATIONS = frozenset({"fetch", "font", "image", "script", "style", "track"})
#: What a modulepreload's ``as`` may say (HTML Standard, "module preload destination":
#: ``json``, ``style``, ``text`` or a script-like destination, Fetch); any other fires
#: ``error`` and fetches nothing. Without one, it is ``script``.
MODULE_PRELOAD_DESTINATIONS = frozenset(
    {
        "json",
        "style",
        "text",
        *("audioworklet", "paintworklet", "script", "serviceworker", "sharedworker", "worker"),
    }
)
#: Each relation whose ``as`` :func:`tell_unfetched_as` checks, with what it accepts and
#: what the message adds for a link without one.
_FETCHED_AS = (
    ("preload", "preload destination", PRELOAD_DESTINATIONS, ""),
    (
        "modulepreload",
        "module preload destination",
        MODULE_PRELOAD_DESTINATIONS,
        ", or none (script)",
    ),
)
#: The (relation, value) pairs :func:`tell_unfetched_as` told, each once per process, not
#: on every request; a value as the line names it, in MAX_LOGGED_CHARS. Once it holds
#: MAX_TOLD_AS, no other value is told: that many are made of request data (a template
#: variable), and a request must not write a line of its own each time. No lock: threads
#: telling one value at once may each say it, a line twice, never a wrong one.
_told_as: set[tuple[str, str]] = set()
MAX_TOLD_AS = 256


def tell_unfetched_as(subject: str, as_: Any, rel: Any) -> None:
    """Log a WARNING naming ``subject`` (a url, a static file's call) if ``as_`` is a value
    no browser fetches a ``rel`` link as (:data:`PRELOAD_DESTINATIONS`,
    :data:`MODULE_PRELOAD_DESTINATIONS`; ASCII case-insensitive, as an enumerated
    attribute's keywords): a typo (``as_="css"``) no browser fetches and a push proxy
    pushes. Only told: the lists changed in 2024 and 2026 (``text``), and a value past this
    list must not cost the page. Nothing for a link without ``as`` or of another relation
    (a ``prefetch``, whose ``as`` browsers read as they choose)."""
    if not isinstance(as_, str) or not isinstance(rel, str):
        return
    relations = split_rel(rel)
    value = as_.lower() if as_.isascii() else as_
    for relation, destination, accepted, none in _FETCHED_AS:
        if relation not in relations or value in accepted:
            continue
        told = (relation, value[:MAX_LOGGED_CHARS])
        if told in _told_as or len(_told_as) >= MAX_TOLD_AS:
            continue
        _told_as.add(told)
        log.warning(
            "firehose: %s is linked rel=%s as=%s, which no browser fetches (HTML Standard, "
            "%s): a %s's as is one of %s%s",
            for_log(subject),  # a url, a file name, maybe made of a request's text
            relation,
            for_log(repr(as_)),  # quoted, as="" is seen; a template variable's, maybe
            destination,
            relation,
            ", ".join(sorted(accepted)),
            none,
        )


def split_rel(rel: str) -> list[str]:
    """The relation types ``rel`` names, in lower case, as HTML reads the attribute: a set
    of tokens split on ASCII whitespace alone (``str.split()`` also splits on ``\x1f``,
    ``\x85`` and Unicode's spaces, which a browser reads as part of a token)."""
    return [token for token in _ASCII_WHITESPACE.split(rel.lower()) if token]


def _flag_read(flag: str) -> tuple[str, str, str]:
    """A positional flag's name, ``"="`` (or ``""``: a bare flag) and value, as
    :func:`as_written` reads them.

    A flag given as HTML (``Markup``: a macro's output, a ``{% set %}`` block) is read as
    the page reads it, once and as a whole, before it is split: ``title&#61;a`` is
    ``title=a``, and ``&amp;#61;`` stays the text ``&#61;``. Its ASCII whitespace around
    the name and the value goes (a block written over lines), and only the spaces and tabs
    of a plain str, a bare flag's too (Flask-Firehose wrote ``"crossorigin "`` as given,
    whitespace a header reader drops): a control (CR, LF) or a non-ASCII space stays,
    refused as in the keyword's value.
    """
    read = _as_read_from_the_page(flag)
    around = " \t" if read is flag else _ASCII_WHITESPACE_CHARS
    name, equals, value = (part.strip(around) for part in str(read).partition("="))
    return name, equals, value


def names_crossorigin(names: tuple[Any, ...]) -> bool:
    """Whether a flag, a ``"name=value"`` flag (read as :func:`as_written` reads it) or a
    keyword names ``crossorigin``."""
    return any(
        isinstance(name, str) and _flag_read(name)[0].lower() == "crossorigin" for name in names
    )


def bare_per_request(flags: tuple[Any, ...]) -> bool:
    """Whether one of ``flags``, bare as :func:`as_written` gives them (``nonce=True`` is
    the flag ``nonce``), names a :data:`~.hints.PER_REQUEST_PARAMETERS`: an empty nonce,
    written so on every response. :func:`make_resource` refuses it; a declaration refuses
    it first, as one with a value, the same mistake (the app meant the response's)."""
    return any(_made_per_request(flag) for flag in flags)


#: The parameters that let a browser skip a preload, or fetch another url, as its screen
#: is: ``media`` (preloaded only where it matches) and ``imagesrcset`` (a candidate picked
#: by the viewport and pixel density, the link's url only when it fits). Firefox 153,
#: measured (tests/integration/test_firefox.py): it fetched neither a ``media="(max-width:
#: 600px)"`` preload in a wider window nor the url of one whose ``imagesrcset`` named
#: ``/static/narrow.png 400w``, whose candidate it fetched; Chromium 156 and WebKitGTK 2.50
#: alike (by hand).
_CHOSEN_BY_SCREEN = frozenset({"media", "imagesrcset"})
#: What each of them says when it chooses nothing, in lower case, ASCII whitespace around
#: it dropped: a ``media`` the HTML Standard says "matches the environment" of every
#: user (empty, only whitespace) or the type that "matches all devices" (Media Queries:
#: ``all``), and an empty ``imagesrcset``, whose source set is the link's url alone.
_EVERY_SCREEN = {"media": frozenset({"", "all"}), "imagesrcset": frozenset({""})}


def make_resource(
    url: str,
    flags: tuple[Any, ...],
    as_: Any,
    version: str | float | None,
    params: tuple[tuple[str, Any], ...],
    learn: bool = True,
) -> Resource:
    """What ``push()`` records for these arguments, whatever their types (a template's are
    unchecked); ValueError if any is unsafe."""
    # A template variable never set is refused naming its argument: read below, it would
    # be refused as an empty url or a value of the wrong type, which says less.
    for argument, value in (("url", url), ("version", version), ("learn", learn)):
        refuse_undefined(argument, value)
    url = _url_as_read_from_the_page(url)
    as_ = read_as(as_)
    # Whether the caller named crossorigin, a keyword of None or False too: that leaves
    # it out, and no crossorigin is added for a font or a fetch below.
    crossorigin_named = names_crossorigin((*flags, *(name for name, _ in params)))
    flags, params = as_written(flags, params)
    if bare_per_request(flags):
        # Written "; nonce", an empty nonce no policy allows (CSP3 nonce-source), and no
        # nonce on static_tag's element: the app meant the response's.
        raise ValueError(
            "a bare nonce (nonce=True, or the flag 'nonce') is an empty one, which no "
            "Content-Security-Policy allows: give the response's nonce, nonce=<its value> "
            "(with Flask-Talisman request.csp_nonce, csp_nonce() in a template), or none "
            "(docs/how-it-works.md, Beside a Content-Security-Policy)"
        )
    if as_ is not None:  # as_ is the keyword as: a positional spelling of it is dropped
        flags = tuple(flag for flag in flags if _read_name(flag) != "as")
    for flag in flags:
        if _read_name(flag) in ("rel", "as"):
            # A relation or a destination takes a value, as rel=True is refused: a bare one
            # was written beside the link's own (RFC 8288 §3: one rel per link), or alone,
            # an empty as no browser fetches, which a push proxy pushed all the same.
            raise ValueError(
                f"Link parameter {_read_name(flag)!r} takes a value, got the flag {flag!r}"
            )
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)  # an asset version a config holds as a number, as any keyword's
    elif version is not None and not isinstance(version, str):
        raise ValueError(
            "a resource's version must be a str, an int or a float, got "
            f"{version!r}{other_number(version, str)}"
        )
    if not isinstance(learn, bool):
        # Named alone: push(), push_static(), static_tag() and both decorators take it.
        raise ValueError(f"learn must be True or False, got {learn!r}")
    named = dict(params)
    # A legacy bundle (<script nomodule>): every browser that supports modules skips it
    # (HTML Standard, nomodule); of those that run it, only Chromium 50 to 60 preloads.
    # Linked, every current browser preloaded it and a proxy pushed it on each first
    # visit, never used.
    legacy_only = any(
        isinstance(name, str) and name.lower() == "nomodule" for name in (*flags, *named)
    )
    spelled_as = named.pop("as", None)  # as="..." among the parameters, or "as=..."
    link_as = as_ if as_ is not None else spelled_as
    rel = named.pop("rel", "preload")
    # Relation types and flags are case-insensitive (RFC 8288 §2.1.1), but not to every
    # proxy: Apache pushes no rel=Preload, h2o no rel=" preload ". A rel is read as HTML
    # reads the attribute, split on ASCII whitespace alone, and written so, one space
    # between (RFC 8288's relation-types): rel="preload\n" (an attribute over two lines)
    # is a lone preload, and "preload\x1f" or "preload\xa0" none, its character refused
    # as any value's. Only a lone preload is pushed by every proxy (h2o does not push
    # rel="preload prefetch", nginx does), so it is written rel=preload, and any other
    # preload nopush, never pushed unrecorded. A rel of no relations ("" or whitespace, a
    # template variable's default) is none, as None is, so the default: rel="" is a link
    # no browser preloads.
    if isinstance(rel, str):
        rel = _collapsed(rel) or "preload"
    relations = split_rel(rel) if isinstance(rel, str) else []
    if relations == ["preload"]:
        rel = "preload"
    head = (("rel", rel),) if link_as is None else (("rel", rel), ("as", link_as))
    if isinstance(link_as, str) and link_as.lower() in CORS_MODE and not crossorigin_named:
        flags = (*flags, "crossorigin")
    flagged = any(isinstance(flag, str) and flag.lower() == "nopush" for flag in flags)
    # A nopush parameter (nopush=1) is a nopush to h2o, not to nginx: not tracked, and
    # given the flag as well, like any other preload no proxy may push unrecorded.
    said_nopush = flagged or any(
        isinstance(name, str) and name.lower() == "nopush" for name in named
    )
    tracked = relations == ["preload"] and not said_nopush
    if "preload" in relations and not tracked and not flagged:
        flags = (*flags, "nopush")
    url = format_url(url)  # one target, however it was spelled
    link = format_link(url, (*head, *named.items()), flags)
    tell_unfetched_as(url, link_as, rel)  # once format_link() took it: a value a header carries
    if legacy_only:  # checked; said once per arguments push() keeps (none with a nonce)
        log.debug(
            "firehose: %s names nomodule, a legacy bundle every browser that runs modules skips: "
            "not linked, pushed, hinted or recorded",
            for_log(url),  # maybe made of a request's text
        )
    key = resource_key(url, version)
    pushable = pushed_as_requested(url)
    written_last = cut_by_proxies(url)
    # A nonce, given as a keyword or as a "nonce=..." flag: the link is this response's.
    per_request = any(_made_per_request(name) for name in named)
    screen_dependent = any(
        isinstance(name, str)
        and name.lower() in _CHOSEN_BY_SCREEN
        and str(value).strip(_ASCII_WHITESPACE_CHARS).lower() not in _EVERY_SCREEN[name.lower()]
        for name, value in named.items()
    )
    if not learn:  # nothing of it is learned but its place in the page's Link value
        hint = EarlyHint(
            key="",
            link="",
            tracked=tracked,
            origin=None,
            connects=False,
            pushable=pushable,
            final_length=len(link),
            stand_in=True,
            screen_dependent=screen_dependent,
        )
    else:
        kept = [(name, value) for name, value in named.items() if not _made_per_request(name)]
        shared = link if len(kept) == len(named) else format_link(url, (*head, *kept), flags)
        hint = EarlyHint(
            key=key,
            link=shared,
            tracked=tracked,
            origin=origin_of(url),
            connects=not _CONNECTING_RELS.isdisjoint(relations),
            pushable=pushable,
            final_length=len(link),
            written_last=written_last,
            screen_dependent=screen_dependent,
            # A nonce'd link is not sent without its nonce either: hinted so, Firefox 153
            # fetched the file from the 103 and again for the element, after a ~10 s stall.
            sendable=len(kept) == len(named)
            and all(
                isinstance(name, str) and name.lower() in READ_FROM_A_103
                for name in (*flags, *(name for name, _ in kept))
            )
            and all(
                str(value).strip().lower() in TYPES_EVERY_BROWSER_USES
                # A bare type (a flag, type=True) is the empty one, as type="" is.
                for name, value in (*kept, *((flag, "") for flag in flags))
                if name.lower() == "type"
            ),
        )
    return Resource(
        url=url,
        key=key,
        link=link,
        tracked=tracked,
        nopush_link=link + "; nopush",
        pushable=pushable,
        hint=hint,
        written_last=written_last,
        screen_dependent=screen_dependent,
        legacy_only=legacy_only,
        per_request=per_request,
    )
