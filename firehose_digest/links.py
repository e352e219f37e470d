"""Build RFC 8288 ``Link`` header values, refusing anything that could break a header, and
plan each response's links: which every push proxy would push (:func:`pushed_as_requested`,
:func:`proxies_push`), which are offered for push, marked ``nopush`` or left out for the
client's digest, within the byte budget (:func:`plan_links`; :class:`LinkPlanner` keeps
each page's plans). A url, or any client's text, goes into a log line through
:func:`for_log`.

Pure: no Flask, no Werkzeug. The grammar (RFC 8288 §3, RFC 9110 §5.6)::

    Link       = #link-value
    link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
    link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
    token      = 1*tchar
    tchar      = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
                 "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
"""

from __future__ import annotations

import numbers
import re
import sys
from collections.abc import Collection, Container, Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import contains
from typing import Any, NamedTuple
from urllib.parse import quote

from .hints import EarlyHint
from .locks import fork_safe_lock
from .sizes import DICT_SLOT, unique_size

__all__ = [
    "MAX_LOGGED_CHARS",
    "LinkPlan",
    "LinkPlanner",
    "Resource",
    "check_value",
    "cut_by_proxies",
    "for_log",
    "format_link",
    "format_url",
    "is_token",
    "kept_alive_by",
    "other_number",
    "plan_links",
    "proxies_push",
    "pushed_as_requested",
    "scheme_without_slashes",
    "split_by_proxies",
    "str_number",
]

#: How much of a client's text (a path, a url, a Host) a log line shows: one of
#: kilobytes would make each line that names it as long.
MAX_LOGGED_CHARS = 200


def for_log(text: str) -> str:
    """A client's ``text`` as a log line names it: as sent, or quoted with its escapes
    (``repr``) if it holds a character a terminal would not show (a newline starts a
    line that seems the app's own, an ESC recolours or clears the screen of whoever tails
    the log); cut to :data:`MAX_LOGGED_CHARS` characters, then "..."."""
    cut = text if len(text) <= MAX_LOGGED_CHARS else f"{text[:MAX_LOGGED_CHARS]}..."
    return cut if cut.isprintable() else repr(cut)


def other_number(value: object, convert: type[Any]) -> str:
    """For a number of a type other than int and float (a ``Decimal``, a ``Fraction``),
    which no setting, connector argument or ``push()`` keyword takes (an int or a float is
    what each calls a number): how to convert it, with ``convert`` (int, float or str), if
    that works and keeps its value (``int(Decimal("1.5"))`` is 1); else ""."""
    if isinstance(value, (bool, int, float)) or not isinstance(value, numbers.Number):
        return ""
    try:
        converted = convert(value)
    except (ArithmeticError, TypeError, ValueError):  # int() of a nan, of a complex
        return ""
    if convert is int and converted != value:
        return ""
    return f"; a {type(value).__name__}: convert it, {convert.__name__}(value)"


def str_number(value: object, convert: type[Any]) -> str:
    """For a number given as a str to an argument, which no environment variable gives:
    how to convert it, with ``convert`` (int or float), if that works (``int("1e3")``
    raises a ValueError of its own); else ""."""
    if not isinstance(value, str):
        return ""
    try:
        convert(value)
    except ValueError:
        return ""
    return f"; a number given as a str: convert it, {convert.__name__}(value)"


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Apache's mod_http2 reads a Link value by an older grammar (RFC 5988, 5987; its
# modules/http2/h2_push.c): a parameter name or flag as attr-chars, which lack the
# token's "'", "*" and "%"; an unquoted value as a ptoken, lacking "%" too; a quoted one
# up to the next '"', with no "\" escape. At anything else it stops reading the value:
# the link loses what follows (its nopush: pushed every visit) and no later link is read
# (never pushed, though recorded). Such a name or flag is refused, such a value quoted.
_NOT_APACHE_NAME = re.compile(r"['*%]")
_APACHE_TOKEN = re.compile(r"[!#$&'*+\-.^_`|~0-9A-Za-z]+")
# CR and LF would end the header (a url is written as it is after the "<").
_ENDS_HEADER = re.compile(r"[\r\n]")
# What the URL parser strips from both ends of a url: C0 controls and space; and a tab
# anywhere, which it removes (WHATWG URL, "basic URL parser", before any state).
_STRIPPED_AT_ENDS = "".join(map(chr, range(0x21)))
# A quoted-string may hold any visible ASCII and spaces; `\` is escaped, and `"` refused
# (Apache knows no escape).
_BAD_IN_VALUE = re.compile(r"[^\x20-\x7e]")
# What a browser's URL parser percent-encodes in each part of a url, beyond C0 controls,
# DEL and non-ASCII (as UTF-8) (WHATWG URL, "percent-encode sets": path, special-query and
# fragment); the rest of printable ASCII, "%" included, stays. "<" and ">" in each, so no
# url can close the link's "<...>".
_ENCODED_IN_PATH = ' "<>^`{}'
_ENCODED_IN_QUERY = " \"<>'"
_ENCODED_IN_FRAGMENT = ' "<>`'
_PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
_SAFE_IN_PATH = "".join(c for c in _PRINTABLE if c not in _ENCODED_IN_PATH)
_SAFE_IN_QUERY = "".join(c for c in _PRINTABLE if c not in _ENCODED_IN_QUERY)
_SAFE_IN_FRAGMENT = "".join(c for c in _PRINTABLE if c not in _ENCODED_IN_FRAGMENT)
_MAY_NEED_ENCODING = re.compile(r"[\x00-\x20\"<>^`{}'\x7f-\U0010ffff]")
# A special scheme (but file:, which has its own states) not followed by "//" ("\\" is a
# "/" in its url): the URL Standard reads what follows by the page's own scheme
# ("special relative or authority state"), as a path of the page's where they are the
# same (http:cdn.example/x on an http page) and as a host where not. In ASCII: a scheme
# is, and Unicode case folding matches "\u017f" (long s) to "s", where "http\u017f:x" is
# a relative path.
_SPECIAL_WITHOUT_SLASHES = re.compile(r"(https?|wss?|ftp):(?![/\\]{2})", re.IGNORECASE | re.ASCII)
# A "." or ".." path segment, also spelled with %2e.
_DOT_SEGMENT = re.compile(r"(?:^|/)(?:\.|%2e){1,2}(?:/|$)", re.IGNORECASE)
# nginx 1.22 answers 400 to the request it makes to push a path holding a "%" not followed
# by two hex digits, or %00, and then resets the page's own stream: the page is lost.
_NGINX_REFUSES = re.compile(r"%(?![0-9A-Fa-f]{2})|%00")
# nginx reads %2F as "/" before it resolves dot segments: "/%2F..%2Fx.css" climbs above the
# root, which nginx refuses as above. Any ".." spelled with %2F is kept from push.
_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)


def is_token(text: object) -> bool:
    """Whether ``text`` is an RFC 9110 token (also RFC 6265's cookie-name)."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


def _check_token(what: str, text: str) -> str:
    if not is_token(text):
        raise ValueError(f"Link {what} must be an RFC 8288 token, got {text!r}")
    if _NOT_APACHE_NAME.search(text):
        raise ValueError(
            f"Link {what} holds a ', * or %, at which Apache's mod_http2 stops reading "
            f"the Link header: {text!r}"
        )
    return text


def _format_value(name: str, value: str) -> str:
    if isinstance(value, str) and _APACHE_TOKEN.fullmatch(value):
        return value
    check_value(name, value)
    escaped = value.replace("\\", "\\\\")
    return f'"{escaped}"'


def check_value(name: str, value: str, *, split_ok: bool = False) -> None:
    """Raise :class:`ValueError` for a parameter value :func:`format_link` refuses: not a
    str, or holding a control or non-ASCII character, a ``,`` or ``;``
    (:func:`split_by_proxies`; not with ``split_ok``, for a value an element in the page
    carries in the link's place) or a ``"``."""
    if not isinstance(value, str):
        hint = other_number(value, str)
        raise ValueError(f"Link parameter {name!r} must be a string, got {value!r}{hint}")
    if _BAD_IN_VALUE.search(value):
        raise ValueError(f"Link parameter {name!r} holds a character a header cannot: {value!r}")
    if not split_ok and split_by_proxies(value):
        raise ValueError(
            f"Link parameter {name!r} holds a ',' or ';', which push proxies read as the "
            f"end of the link or parameter even when quoted: {value!r}; preload the file "
            'from the page, with a <link rel="preload"> element (static_tag writes one '
            "with the value), or write its Link in the view, nopush before the value "
            "(docs/how-it-works.md)"
        )
    if '"' in value:
        raise ValueError(
            f"Link parameter {name!r} holds a '\"', at which Apache's mod_http2 ends the "
            f"value, escaped or not, and stops reading the Link header: {value!r}"
        )


def split_by_proxies(value: object) -> bool:
    """Whether a parameter value holds a ``,`` or ``;``: nginx and h2o split a ``Link``
    value on them whatever the quotes, so they would push what is not recorded, and drop
    the links after it (docs/proxies.md). An element in the page carries such a value (a
    media list, image candidates): :func:`~.static.static_tag` writes its element alone."""
    return isinstance(value, str) and ("," in value or ";" in value)


def format_url(url: str) -> str:
    """``url`` as a link writes it: encoded as a browser encodes it in the request for
    ``href="<url>"``, so a push proxy pushes what the browser asks for and ``/é.css`` and
    ``/%C3%A9.css`` are one target (a host is not normalised, nor a path resolved: see
    :func:`pushed_as_requested`). As the WHATWG URL parser does: controls and spaces around
    it dropped, and tabs within it; within it, controls, non-ASCII (as UTF-8), spaces,
    ``"``, ``<`` and ``>`` percent-encoded, with ``^``, `````, ``{`` and ``}`` in the path,
    ``'`` in the query and ````` in the fragment. ValueError for CR or LF, which would end
    the header (a browser would drop them; a url holding one is a bug or an attack), and
    for a special scheme without ``//`` (``http:cdn.example/x``), which a browser reads by
    the page's own scheme: a path of an http page's, the host from an https one."""
    if not isinstance(url, str):
        raise ValueError(f"a pushed url must be a string, got {url!r}")
    # A str subclass's own methods would join the parts: Markup's "+" escapes the plain
    # str beside it, and wrote "'" as "&#39;", a "#" in the url.
    url = str(url)
    if _ENDS_HEADER.search(url):
        raise ValueError(f"a pushed url may not hold CR or LF, which end a header: {url!r}")
    original, url = url, url.strip(_STRIPPED_AT_ENDS).replace("\t", "")
    if not url:
        raise ValueError(f"a pushed url must not be empty, got {original!r}")
    scheme = scheme_without_slashes(url)
    if scheme:
        # One link for every page would name a path of an http page's and a host from an
        # https one, and no origin could be told of it for the 103's checks.
        raise ValueError(
            f"a pushed url with the scheme {scheme}: needs '//' and its host after it, got "
            f"{original!r}: without them a browser reads it by the page's own scheme, as a "
            "path on the page's origin or as another host (URL Standard, special relative "
            f"or authority state); write {scheme.lower()}://host/path for another host's "
            "file, or /path for the page's own"
        )
    if not _MAY_NEED_ENCODING.search(url):
        return url
    before_fragment, hash_mark, fragment = url.partition("#")
    path, question_mark, query = before_fragment.partition("?")
    try:
        return (
            quote(path, safe=_SAFE_IN_PATH)
            + question_mark
            + quote(query, safe=_SAFE_IN_QUERY)
            + hash_mark
            + quote(fragment, safe=_SAFE_IN_FRAGMENT)
        )
    except UnicodeEncodeError:
        raise ValueError(
            f"a pushed url holds a lone surrogate, which UTF-8 cannot encode: {url!r}"
        ) from None


def scheme_without_slashes(url: str) -> str | None:
    """The scheme of ``url`` as given if it is a special one (but ``file:``) not followed
    by ``//``, which :func:`format_url` refuses (``http:cdn.example/x``); else None."""
    special = _SPECIAL_WITHOUT_SLASHES.match(url.strip(_STRIPPED_AT_ENDS).replace("\t", ""))
    return special.group(1) if special else None


def pushed_as_requested(url: str) -> bool:
    """Whether every push proxy pushes ``url`` (as :func:`format_url` wrote it) at the very
    path a browser requests for it.

    Only "/x": nginx pushes no absolute, scheme-relative or relative url, and "//host/x"
    names another host. Not a url with a #fragment: proxies push it with the fragment in
    its path, which no browser request holds. Nor one the URL Standard rewrites before a
    browser asks: a backslash is a "/" in an http(s) url ("/\\host" is "//host", another
    host again), and "." and ".." segments (also spelled %2e) are resolved away, so a
    proxy would push ``/static/../a.css`` where the browser asks for ``/a.css``.
    Nor one a proxy cannot push: h2o 2.2 reads no link whose url holds a "," or ";" (nor
    any after it in the value: :func:`cut_by_proxies`), and nginx 1.22 resets the page
    itself when the path holds a "%" not followed by two hex digits, a %00, or a dot
    segment spelled with %2F (measured: docs/proxies.md).
    """
    path = url.partition("?")[0]
    return (
        url[:1] == "/"
        and url[1:2] != "/"
        and "#" not in url
        and not cut_by_proxies(url)
        and "\\" not in path
        and _DOT_SEGMENT.search(_ENCODED_SLASH.sub("/", path)) is None
        and _NGINX_REFUSES.search(path) is None
    )


def cut_by_proxies(url: str) -> bool:
    """Whether h2o 2.2 reads no link after this url's in a ``Link`` value: it splits the
    value at every "," and ";", inside "<...>" too (a quoted parameter value holding one
    is refused: :func:`_format_value`). Such a link is never pushed, and is written after
    every other one, so h2o reads them all (:func:`plan_links`; docs/proxies.md)."""
    return "," in url or ";" in url


def format_link(
    url: str,
    params: tuple[tuple[str, str], ...] = (),
    flags: tuple[str, ...] = (),
) -> str:
    """Return one link-value: ``<url>; name=value...; flag...``.

    ``params`` is a sequence of ``(name, value)`` pairs, ``flags`` a sequence of names
    (``("nopush",)``). Parameters keep their order; values that are not tokens are quoted
    and escaped. Raises :class:`ValueError` for anything that could end or split the
    header, and for a str, bytes or a mapping where a sequence is taken.
    """
    if isinstance(params, (str, bytes, Mapping)) or isinstance(flags, (str, bytes, Mapping)):
        # Iterated, a str is its letters and a dict its keys: ("nopush") wrote a flag a
        # letter, {"as": "style"} wrote "a=s", {"crossorigin": "use-credentials"} a bare
        # crossorigin (anonymous).
        raise ValueError(
            "Link parameters are a sequence of (name, value) pairs and flags a sequence "
            f"of names, got params={params!r}, flags={flags!r}"
        )
    parts = [f"<{format_url(url)}>"]
    parts.extend(
        f"{_check_token('parameter name', name)}={_format_value(name, value)}"
        for name, value in params
    )
    parts.extend(_check_token("flag", flag) for flag in flags)
    return "; ".join(parts)


@dataclass(frozen=True, slots=True, eq=False)
class Resource:
    """One pushed resource, as a response links it.

    Compared and hashed by identity: :class:`LinkPlanner` keys a page by its resources, and
    ``push()`` hands out the same object for the same arguments.
    """

    #: The url as the link writes it (:func:`format_url`): a response links each once.
    url: str
    #: What the connector remembers: ``url``, or ``url "\n" version`` when versioned.
    key: str
    #: The link-value as pushed.
    link: str
    #: Only plain preloads are remembered, and so may be marked ``nopush`` for a holder.
    tracked: bool
    #: ``link`` with ``; nopush``: what a client that holds it, or a proxy that must not
    #: push it, is sent.
    nopush_link: str
    #: Every supported proxy pushes it at the very path a browser requests
    #: (:func:`pushed_as_requested`: a ``/path`` the browser does not rewrite; docs/proxies.md).
    pushable: bool
    #: What ``FIREHOSE_EARLY_HINTS`` may learn and hint of it to any client of the page: no
    #: nonce, a stand-in when it was pushed with ``learn=False``, and planned but not sent
    #: when Chromium would drop it from a 103 or it had a nonce.
    hint: EarlyHint
    #: h2o would read no link after it (:func:`cut_by_proxies`): written last.
    written_last: bool
    #: It has a ``media`` query or an ``imagesrcset`` that chooses (not an empty one, nor
    #: ``media=all``): a browser preloads it only where the query matches, or preloads
    #: the image candidate its screen needs, so a browser's page neither offers it nor
    #: records it as new (:func:`plan_links`; a proxy pushes the url whatever the screen).
    screen_dependent: bool = False
    #: It names ``nomodule``: a legacy script, which every browser that runs modules
    #: skips, so ``push()`` links, pushes and records none of it.
    legacy_only: bool = False
    #: It names a value made for one response (a ``nonce``:
    #: :data:`~.hints.PER_REQUEST_PARAMETERS`), which no later request asks for again: made
    #: for its request alone, it is kept neither in ``push()``'s cache nor, with the page
    #: that links it, in a :class:`LinkPlanner`'s plans.
    per_request: bool = False


def proxies_push(method: str, status: int) -> bool:
    """Whether nginx 1.22, h2o 2.2 and Apache ``mod_http2`` all push this response's links.

    nginx pushes nothing for HEAD; ``mod_http2`` pushes only below 400, and not on a 304
    (its documentation; docs/proxies.md has the statuses measured: 200, 201, 204, 301 and
    302 pushed by all three, 304, 404 and 500 not by Apache).
    """
    return method == "GET" and status < 400 and status != 304


class LinkPlan(NamedTuple):
    """What a response links, and what that means for the client's record."""

    #: The ``Link`` value, or None when nothing is linked.
    value: str | None
    #: Keys offered for push (linked without ``nopush``), which the client holds once the
    #: response is sent: a front pushes them, or a browser, which refuses pushes,
    #: preloads them (``may_push`` is false where it would not).
    pushed: tuple[str, ...]
    #: Held keys the response used again: linked ``nopush``, or left out (``omit_held``).
    reused: tuple[str, ...]
    #: Whether the value depends on what the client holds (``Vary: Cookie``): whether
    #: some answer of ``held``, or its absence, would change it.
    varies: bool


def plan_links(
    resources: Iterable[Resource],
    held: Container[str] | None,
    *,
    may_push: bool,
    max_pushes: int,
    budget: int,
    omit_held: bool = False,
    offered: Collection[str] = (),
    browser: bool = False,
) -> LinkPlan:
    """Decide each resource's link, in push order, within ``budget`` bytes of value.

    A tracked resource the client holds gets ``nopush`` (or is left out, ``omit_held``). A
    new one is offered for push only if every supported proxy would push it (``may_push``,
    and :attr:`Resource.pushable`: a ``/path`` a browser requests as written) and it is
    among the first ``max_pushes``; any other gets ``nopush``, so no proxy pushes what the
    record will not hold. With ``held`` None nothing can be
    recorded, so nothing is offered. Links past the budget are left out and not recorded.
    The keys a 103 already offered for push (``offered``, at most ``max_pushes``) take their
    slots first: the response and its 103 push at most ``max_pushes`` between them. For a
    ``browser``'s request (it sends ``Sec-Fetch-Mode``), a link its screen chooses
    (:attr:`Resource.screen_dependent`) is not offered: the browser may not fetch it, so
    its key is never recorded as new (one the client holds is used again, as any held key
    is), and a slot it took on every visit would keep the links after it from ever being
    recorded.

    The plan varies with what the client holds when a tracked link would be written
    otherwise for another client: left out when held (``omit_held``), or offered for push
    when not held. A link no client is offered (a HEAD, a 404, another origin's url, no
    push slot) is ``nopush`` for everyone, so a page of only such links varies not; under
    ``omit_held`` it is left out for a holder, so any tracked link varies.
    """
    links: list[str] = []
    last: list[str] = []  # the links a proxy would read no link after: written after all
    pushed: list[str] = []
    reused: list[str] = []
    free = max_pushes - len(offered)  # push slots for keys the 103 did not offer
    slots = free  # of them, those not taken yet
    varies = False
    size = -2  # no ", " before the first link
    for resource in resources:
        listed_in = None  # pushed or reused: the list its key joins if its link fits
        if not resource.tracked:
            link = resource.link
        else:
            offerable = (
                may_push and resource.pushable and not (browser and resource.screen_dependent)
            )
            # Held keys take no slot, so for some client any offerable key gets one.
            varies = varies or omit_held or (offerable and (free > 0 or resource.key in offered))
            if held is None:
                link = resource.nopush_link
            elif resource.key in held:
                if omit_held:
                    reused.append(resource.key)
                    continue
                link, listed_in = resource.nopush_link, reused
            elif offerable and resource.key in offered:
                link, listed_in = resource.link, pushed
            elif offerable and slots > 0:
                link, listed_in = resource.link, pushed
                slots -= 1
            else:
                link = resource.nopush_link
        size += 2 + len(link)
        if size > budget:
            break
        (last if resource.written_last else links).append(link)
        if listed_in is not None:
            listed_in.append(resource.key)
    links += last
    return LinkPlan(", ".join(links) if links else None, tuple(pushed), tuple(reused), varies)


#: The plans a :class:`LinkPlanner` keeps, counted in bytes (their values and keys): a
#: site's pages, each for the few ways its visitors hold its resources.
PLANS_BYTES = 1 << 20


class LinkPlanner:
    """:func:`plan_links` for one app's settings, keeping the plan of each page it saw.

    A page (the same :class:`Resource` objects, in the same order) is planned alike for
    every client that holds the same of its tracked keys, on every response that may push
    alike, for a browser's request or for another's: the plan is kept under those answers,
    ``may_push`` and ``browser``, and reused, so a returning client's links cost one
    membership test each. Kept up to :data:`PLANS_BYTES`, then all dropped. A page that
    links a resource made for one response (:attr:`Resource.per_request`) is planned each
    time, and not kept.
    """

    def __init__(self, *, max_pushes: int, budget: int, omit_held: bool) -> None:
        self.max_pushes = max_pushes
        self.budget = budget
        self.omit_held = omit_held
        #: page -> (its tracked keys, {(answers, may_push, browser): plan}).
        self._pages: dict[tuple[Resource, ...], tuple[tuple[str, ...], dict[Any, LinkPlan]]] = {}
        self._bytes = 0
        self._lock = fork_safe_lock()

    def plan(
        self,
        resources: Collection[Resource],
        held: Container[str] | None,
        may_push: bool,
        *,
        browser: bool = False,
    ) -> LinkPlan:
        """What :func:`plan_links` answers for these arguments and this planner's settings."""
        page = tuple(resources)
        known = self._pages.get(page)
        if known is None and any(resource.per_request for resource in page):
            # A page of a resource made for this response alone (its nonce) is never
            # asked for again: kept, it would only push the other pages out.
            return self.plan_uncached(page, held, may_push, browser=browser)
        keys = known[0] if known is not None else _tracked_keys(page)
        # The client's answers for the page's tracked keys: all plan_links asks of held.
        answers = None if held is None else tuple(map(contains, repeat(held), keys))
        if known is not None:
            plan = known[1].get((answers, may_push, browser))
            if plan is not None:
                return plan
        # Planned from the answers themselves, so the plan is the one they are the key of,
        # even if the holder answers otherwise when asked again.
        holds = None if answers is None else {k for k, a in zip(keys, answers, strict=True) if a}
        plan = self.plan_uncached(page, holds, may_push, browser=browser)
        self._keep(page, keys, (answers, may_push, browser), plan)
        return plan

    def plan_uncached(
        self,
        resources: Iterable[Resource],
        held: Container[str] | None,
        may_push: bool,
        offered: Collection[str] = (),
        *,
        browser: bool = False,
        max_pushes: int | None = None,
    ) -> LinkPlan:
        """:func:`plan_links` with this planner's settings, nothing kept (a response whose
        103 offered the keys ``offered`` for push is planned this way, and one whose
        connector has room for fewer pushes than the settings allow, ``max_pushes``)."""
        return plan_links(
            resources,
            held,
            may_push=may_push,
            max_pushes=self.max_pushes if max_pushes is None else max_pushes,
            budget=self.budget,
            omit_held=self.omit_held,
            offered=offered,
            browser=browser,
        )

    def _keep(
        self, page: tuple[Resource, ...], keys: tuple[str, ...], plan_key: Any, plan: LinkPlan
    ) -> None:
        with self._lock:
            known = self._pages.get(page)
            if known is not None and plan_key in known[1]:  # another thread kept it meanwhile
                return
            # A page is counted with its first plan (and again with its first plan after
            # a clear, which drops its earlier ones).
            size = _plan_size(plan_key, plan)
            if known is None:
                size += _planned_page_size(page, keys)
            if self._bytes + size > PLANS_BYTES:
                if known is not None:
                    size += _planned_page_size(page, keys)
                if size > PLANS_BYTES:
                    return  # a page larger than the bound on its own is planned every time
                # Everything goes, this page's other plans too: the bound holds however
                # many ways a page's clients hold it.
                self._pages.clear()
                self._bytes = 0
                known = None
            if known is None:
                known = self._pages[page] = (keys, {})
            known[1][plan_key] = plan
            self._bytes += size


def _tracked_keys(page: tuple[Resource, ...]) -> tuple[str, ...]:
    return tuple(resource.key for resource in page if resource.tracked)


def _planned_page_size(page: tuple[Resource, ...], keys: tuple[str, ...]) -> int:
    """A kept page's bytes: its tuples, its plans' dict (with one plan) and its slot, and
    its resources with all they hold (which the page keeps alive after ``push()``'s own
    cache lets them go)."""
    resources = unique_size(held for resource in page for held in kept_alive_by(resource))
    return sys.getsizeof(page) + sys.getsizeof(keys) + _PLANS_DICT + DICT_SLOT + resources


def kept_alive_by(resource: Resource) -> tuple[object, ...]:
    """What a :class:`Resource` keeps alive: itself, its strings (a versioned key is one
    of its own), its hint and the hint's (a link without its nonce is another)."""
    hint = resource.hint
    return (
        *(resource, resource.url, resource.key, resource.link, resource.nopush_link),
        *(hint, hint.key, hint.link, hint.origin, hint.final_length),
    )


#: A page's dict of plans once it holds one (an empty dict has no table yet).
_PLANS_DICT = sys.getsizeof({None: None})


def _plan_size(plan_key: Any, plan: LinkPlan) -> int:
    """A kept plan's bytes: its value, its tuples of pushed and reused keys, and what it is
    kept under, ``plan_key`` (the answers, ``may_push``, ``browser``), with the dict slot
    that holds it."""
    answers = plan_key[0]
    value = sys.getsizeof(plan.value) if plan.value is not None else 0
    return (
        value
        + sys.getsizeof(plan)
        + sys.getsizeof(plan.pushed)
        + sys.getsizeof(plan.reused)
        + sys.getsizeof(plan_key)
        + (sys.getsizeof(answers) if answers is not None else 0)
        + DICT_SLOT
    )
