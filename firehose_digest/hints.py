"""103 Early Hints: remember each page's preload links, replay them before the next response.

Pure: no Flask, no Werkzeug. A view's ``push()`` calls are known only once it has run, so, as
Cloudflare does, the links a page's last response carried are kept in a per-process LRU and
sent as a ``103 Early Hints`` (RFC 8297) on the next request for that page, before the view
runs, minus the resources the client's digest says it already holds (over the app's own
HTTP/2, where no front pushes, links to other origins are sent all the same). A page is the
url as the client asked for it (the extension's key: scheme, host, script root, path and
query), so no request can choose what another url or another host is hinted.

RFC 8297 §2: a server MAY send a 103 with the header fields it expects the final response
to carry; the client MUST NOT treat them as the final response's. So a 103 may only hint
what the page itself links to, and a stale entry costs at worst one wasted preload. Behind
h2o or Apache, which push what a 103 links, the final response also records what its 103
offered for push (:attr:`EarlyHints.offered`), even where it does not push it itself: the
page's status changed since it was learned, or this visitor's links differ from the
learner's (a ``learn=False`` link of another length, or only for some visitors).

What is learned is shared by every client of the page, so it holds no value made for one
response: a link's ``nonce`` is left out of its :class:`EarlyHint` (the final response keeps
it), and such a link is not sendable, as a 103 cannot carry the nonce the page's policy
names; a link pushed with ``learn=False`` is only a stand-in: never sent, it keeps the
place, push slot and bytes the link takes in the final response, so that what the 103
offers for push is still what the final response pushes and records.
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from collections.abc import Container, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from .locks import fork_safe_lock
from .sizes import CHURNED_DICT_SLOT

__all__ = [
    "DEFAULT_PORTS",
    "HINTS_BYTES",
    "MAX_PAGE_LENGTH",
    "PER_REQUEST_PARAMETERS",
    "READ_FROM_A_103",
    "TYPES_EVERY_BROWSER_USES",
    "EarlyHint",
    "EarlyHints",
    "HintCache",
    "origin_of",
    "plan_early_hints",
]

#: The longest page key (scheme, host, script root, path and query) learned: with the
#: Link budget, it bounds an entry in bytes (made-up urls answered 200 cannot fill the cache
#: with long keys).
MAX_PAGE_LENGTH = 512
#: The bytes a :class:`HintCache` keeps, counted as each page's key and all its links keep
#: alive: past ``FIREHOSE_EARLY_HINTS_CACHE`` pages or these bytes, the least recently used
#: go. The pages bound alone let urls made up by clients (query strings) take 21 KiB each
#: at the default budget, up to 21 GiB at the most pages the setting takes
#: (``settings.MAX_EARLY_HINTS_CACHE``).
HINTS_BYTES = 32 * 1024 * 1024

#: Link parameters whose value belongs to one response. CSP Level 3: a server "must
#: generate a unique [nonce] value each time it transmits a policy"; hinting one visitor's
#: nonce to the next would hand out a value valid for another page's policy.
PER_REQUEST_PARAMETERS = frozenset({"nonce"})
#: What Chromium reads of a link in a 103: it drops a link with any other parameter or
#: flag (``services/network/public/cpp/link_header_parser.cc``), ``nopush`` included.
#: Measured in Chromium 156 (a stranger's run, 2026-12-02): ``integrity`` and
#: ``fetchpriority`` used from a 103; ``media``, ``referrerpolicy`` and ``defer`` not. A
#: link with any other is not hinted (:attr:`EarlyHint.sendable`), only planned. Firefox
#: 153 (by hand) fetched a 103's ``media`` link whatever its query, ``(max-width: 10px)``
#: in a wider window too, and nothing of a link with an ``imagesrcset``.
READ_FROM_A_103 = frozenset({"rel", "as", "crossorigin", "type", "integrity", "fetchpriority"})
#: The ``type`` values a 103's link may carry: ones every current browser uses (Firefox 153
#: and WebKitGTK 2.50 preloaded each from a page's ``Link``, by hand: ``image/*`` as
#: ``as=image``, ``font/*`` as ``as=font``, ``application/json`` as ``as=fetch``, the rest
#: as a style or a script). From a page's ``Link`` a browser skips a preload whose ``type``
#: it cannot use (HTML Standard, "preload"); from a 103 Firefox 153 fetches it all the same
#: (measured: a ~50 KB ``image/jxl`` meant for a ``<picture>`` source, on every first
#: visit, never used). A link with another ``type`` is left to the final ``Link``, where
#: each browser picks.
TYPES_EVERY_BROWSER_USES = frozenset(
    {
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "font/woff2",
        "font/woff",
        "font/ttf",
        "font/otf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
)


@dataclass(frozen=True, slots=True)
class EarlyHint:
    """What a 103 may carry of a pushed link, for any client of the page."""

    key: str
    #: The link-value without :data:`PER_REQUEST_PARAMETERS`.
    link: str
    tracked: bool
    #: The origin an absolute or scheme-relative url names (:func:`origin_of`); None for a
    #: url on the page's own origin.
    origin: str | None
    #: ``rel=preconnect`` or ``dns-prefetch``: a connection to open, nothing to fetch.
    connects: bool
    #: Every push proxy pushes it at the very path a browser requests
    #: (:func:`~.links.pushed_as_requested`: a ``/path`` the browser does not rewrite).
    pushable: bool
    #: The length of the link-value the final response writes (its ``nonce`` included).
    final_length: int
    #: A link pushed with ``learn=False``: never hinted, its ``key`` and ``link`` empty;
    #: :func:`plan_early_hints` counts it as the final response may write it.
    stand_in: bool = False
    #: h2o would read no link after it (:func:`~.links.cut_by_proxies`): a 103 writes it
    #: last.
    written_last: bool = False
    #: False when Chromium would drop it from a 103 (:data:`READ_FROM_A_103`), its
    #: ``type`` is one some browser cannot use (:data:`TYPES_EVERY_BROWSER_USES`), or it
    #: has a ``nonce`` (:data:`PER_REQUEST_PARAMETERS`), which a 103 cannot carry: then
    #: it is planned as any other link, for what the final response writes and pushes,
    #: and never sent in a 103.
    sendable: bool = True
    #: :attr:`~.links.Resource.screen_dependent`: for a browser, the final response
    #: offers it no push slot and writes it ``nopush``, and so does a 103's plan.
    screen_dependent: bool = False


#: The port an origin leaves out for each scheme (RFC 6454 §4), as Werkzeug's
#: ``request.host`` leaves it out of a ``Host``.
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute url (``//host`` of a scheme-relative one),
    as a browser reads it (:func:`_host`), without userinfo or the scheme's default port;
    None for a path or a relative url. A backslash is a "/" to a browser, at a url's start
    and in an http(s) one (``/\\cdn.example/a.css`` names another host,
    ``https://cdn.example\\@shop.example/`` the CDN), and it skips any more of them before
    the host (URL Standard, special authority ignore slashes state: ``https:///cdn.example``
    is the CDN)."""
    if url[:2] in ("//", "/\\", "\\/", "\\\\"):
        return "//" + _host(_split("//" + url[2:].replace("\\", "/").lstrip("/"))[1])
    if url.startswith("/"):  # a path (and so kept out of urlsplit's own cache)
        return None
    if "\\" in url or ":///" in url:
        scheme, colon, rest = url.partition(":")
        if colon and scheme.lower() in _SPECIAL_SCHEMES:
            rest = rest.replace("\\", "/")
            if rest.startswith("//") and scheme.lower() != "file":  # file: has its own states
                rest = "//" + rest.lstrip("/")
            url = scheme + ":" + rest
    scheme, netloc = _split(url)
    if not (scheme and netloc):
        return None
    scheme, netloc = scheme.lower(), _host(netloc)
    default = DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return f"{scheme}://{netloc}"


#: The URL Standard's special schemes: in their urls a "\\" is a "/", so it ends the host.
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})

#: An absolute or scheme-relative url's scheme and authority (RFC 3986 §3), as far as
#: ``urlsplit`` reads them.
_AUTHORITY = re.compile(r"(?:([A-Za-z][A-Za-z0-9+.-]*):)?//([^/?#]*)")


def _split(url: str) -> tuple[str, str]:
    """``urlsplit``'s scheme and netloc; read by hand where it refuses the host, brackets
    it cannot read as IPv6 (``url_for(_external=True)`` under a ``Host: [1:2]`` Werkzeug
    accepts, or a prefix a client sent through ProxyFix: ``//[/static/app.css``).

    Only the scheme and authority are split, and not through ``urlsplit``'s own cache,
    which keeps the 128 urls it split last (Python 3.11+): per-user urls of another origin
    (a CDN's signed ones, request data) stayed there beside push()'s bounded cache."""
    match = _AUTHORITY.match(url)
    if match is None:
        return "", ""  # no "//" after a scheme, or at the start: no authority
    try:
        parts = _urlsplit_uncached(match.group())
    except ValueError:
        return match.group(1) or "", match.group(2)
    return parts.scheme, parts.netloc


#: ``urlsplit`` without its ``lru_cache`` where it has one.
_urlsplit_uncached = getattr(urlsplit, "__wrapped__", urlsplit)


def _host(netloc: str) -> str:
    """``host[:port]`` of a netloc as a browser reads it, and names it in ``Host``: without
    ``user:password@``, lowercased, a host percent-encoded (as push() writes a non-ASCII
    one) or not ASCII in its IDNA form, a port without its leading zeros, an empty one left
    out (URL Standard, host and port states). Python's codec is IDNA 2003, which maps
    four characters a browser keeps (``ß`` becomes ``ss``): a url on such a host is read
    as another host's. What a browser cannot read is kept as written."""
    host = netloc.rpartition("@")[2]
    if ":" not in host and "%" not in host and host.isascii():
        return host.lower()  # most hosts: no port to read, nothing to decode
    name, colon, port = host.rpartition(":")
    if not colon or "]" in port:  # no port, or the last of an IPv6 address's groups
        name, colon, port = host, "", ""
    elif port.isascii() and port.isdigit():
        port = port.lstrip("0") or "0"  # not int(): it refuses a str of 4301 digits
    elif not port:
        colon = ""
    if ("%" in name or not name.isascii()) and not name.startswith("["):
        with suppress(UnicodeError):  # else no host to a browser: the url fetches nothing
            text = unquote(name, errors="strict")
            # A label's IDNA form is no shorter than it, and one over 63 characters is none
            # (RFC 1035 §2.3.4), which the codec says only once it has encoded it, in time
            # growing with its length times its distinct characters.
            if all(len(label) <= 63 for label in _IDNA_DOTS.split(text)):
                name = text.encode("idna").decode("ascii")
    return f"{name}{colon}{port}".lower()


#: Where Python's IDNA codec (IDNA 2003) splits a name into labels.
_IDNA_DOTS = re.compile("[.\u3002\uff0e\uff61]")


class EarlyHints(NamedTuple):
    """A 103's headers (``[]``: send none), and the tracked keys it offers for push."""

    headers: list[tuple[str, str]]
    #: What a front that pushes from a 103 pushes: the final response records these too.
    offered: tuple[str, ...]


def plan_early_hints(
    hints: Iterable[EarlyHint],
    held: Container[str],
    budget: int,
    *,
    max_pushes: int,
    omit_held: bool = False,
    front_may_push: bool = True,
    own_origin: str | None = None,
    browser: bool = False,
) -> EarlyHints:
    """The 103 for ``hints``, sent through a front that may push them
    (``front_may_push``; False when the app itself speaks HTTP/2 to the browser).

    Over the app's own HTTP/2, to ``own_origin`` (``scheme://host``), only connections
    (preconnect, dns-prefetch) and links to other origins are sent, held or not, as no front
    pushes them (with ``omit_held`` a held one is left out, as the final response leaves it
    out). A same-origin preload would be requested on the very connection whose page is still
    being computed, and gunicorn serves one connection's streams in turn, so it could not start
    sooner than the final response's own ``Link`` lets it. A same-origin link is still counted
    where the final ``Link`` writes it, so no link is hinted that the budget then leaves out.

    h2o and Apache push what a 103 links, and Chromium drops a 103 link with a parameter it
    does not know, ``nopush`` included (``services/network/public/cpp/
    link_header_parser.cc``: "Returns true only when all attributes ... are pre-defined"),
    so a tracked link cannot be hinted and kept from being pushed. Behind a front, a 103
    therefore carries what the final response will push and record: a tracked link the
    client lacks only when it is pushable (a ``/path`` a browser requests as written), among
    the first ``max_pushes``, and within the room the final ``Link`` value has for it (held
    links, written there ``nopush``, count as they will be written: ``budget`` bytes, as
    :func:`~.links.plan_links` counts them). Any other tracked link is left to the final
    response: behind a proxy the app cannot tell its own origin from another (its ``Host``
    is the proxy's upstream), so an absolute url may be one the proxy would push. Untracked
    links (preconnects) are kept. A stand-in (``learn=False``) is never sent; it is counted
    at the learner's length, ``nopush`` included, and as taking a push slot whenever it
    could: this client's own resource there may be new to it. Where this visitor's links
    still differ (longer, or more), the final response records what the 103 offered all the
    same (:attr:`EarlyHints.offered`). For a ``browser``'s request, a link its screen
    chooses is counted as :func:`~.links.plan_links` writes it for one: ``nopush``, taking
    no slot. No headers when nothing is left, so the caller sends no 103 at all.
    """
    links: list[str] = []
    last: list[str] = []  # the links a proxy would read no link after: written after all
    offered: list[str] = []
    own = None if own_origin is None else _own_origins(own_origin)
    slots = 0  # the final response's push slots taken so far
    final = -2  # the final Link value's length so far, with no ", " before its first link
    for hint in hints:
        in_103 = pushed = False
        screen_chosen = browser and hint.screen_dependent  # offered no slot, written nopush
        if hint.stand_in:
            final += 2 + hint.final_length + len("; nopush")
            if hint.tracked and front_may_push and hint.pushable and not screen_chosen:
                slots += 1
        elif not hint.tracked:
            final += 2 + hint.final_length
            in_103 = True
        elif hint.key in held:
            if omit_held:
                continue
            final += 2 + hint.final_length + len("; nopush")
            # Sent only where no front pushes from this 103: a front would push it again,
            # as a 103's link cannot say nopush. The final Link preloads it, nopush.
            in_103 = not front_may_push
        elif screen_chosen:
            final += 2 + hint.final_length + len("; nopush")  # never sendable: not in a 103
        elif not front_may_push:  # no front pushes from this 103: sent
            in_103 = True
            if hint.pushable and slots < max_pushes:  # as plan_links writes it
                final += 2 + hint.final_length
                slots += 1
            else:
                final += 2 + hint.final_length + len("; nopush")
        elif hint.pushable and slots < max_pushes:
            final += 2 + hint.final_length
            slots += 1
            in_103 = pushed = True
        else:
            final += 2 + hint.final_length + len("; nopush")
        if final > budget:
            break
        if not hint.sendable:
            continue  # counted above as the final response writes it, and pushed by it
        if own is not None and not hint.connects and (hint.origin or own_origin) in own:
            continue  # counted above, and left to the final response (see above)
        if in_103:
            (last if hint.written_last else links).append(hint.link)
        if pushed:
            offered.append(hint.key)
    links += last
    return EarlyHints([("Link", ", ".join(links))] if links else [], tuple(offered))


def _own_origins(own_origin: str) -> set[str]:
    """What :func:`origin_of` gives a url on ``own_origin`` (``scheme://host[:port]``, the
    scheme's default port left out): that, and ``//host[:port]`` for a scheme-relative
    url, which takes the page's scheme, so names the page's origin with its default port
    too (``//shop.example:443`` on an https page: RFC 6454 §4 leaves the default port out
    of an origin)."""
    scheme, _, authority = own_origin.partition("://")
    own = {own_origin, "//" + authority}
    default = DEFAULT_PORTS.get(scheme)
    if default and ":" not in authority.rpartition("]")[2]:  # no port, past an IPv6's "]"
        own.add("//" + authority + default)
    return own


class HintCache:
    """A bounded, thread-safe LRU: page -> the links its last response carried.

    ``learn`` replaces a page's entry (a changed page is learned again) and forgets it when
    the page linked nothing; ``learn_no_page`` keeps an empty entry for a url that answered
    with no page (if anything would hint it), and ``learn_gone`` for a learned page that is
    gone; ``get`` marks the entry recently used. Past ``max_entries`` pages, or past
    :data:`HINTS_BYTES`, the least recently used pages are dropped.

    The bytes are what the entries keep alive: each page's key, tuple and place
    (:func:`_page_size`), and each link once however many pages hold it
    (:func:`_link_size`), since push()'s cache hands every page that pushes a file the same
    object: 20,000 product pages of the same 60 stylesheets are not 20,000 copies of them.
    """

    def __init__(self, max_entries: int) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"a HintCache needs max_entries >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        #: page -> (its links, the bytes of the page's own: :func:`_page_size`).
        self._entries: OrderedDict[str, tuple[tuple[EarlyHint, ...], int]] = OrderedDict()
        #: ``id()`` of each link a page holds -> (the pages' uses of it, the bytes it was
        #: counted at, which are taken off when its last use goes: a str's size grows once
        #: its UTF-8 is asked for, so it is not measured again). An id stays here only while
        #: an entry keeps its link alive, so it names no other object.
        self._links: dict[int, tuple[int, int]] = {}
        self._bytes = 0
        self._lock = fork_safe_lock()

    def get(self, page: str) -> tuple[EarlyHint, ...] | None:
        """The links learned for ``page``, or None when it was never learned (or dropped)."""
        with self._lock:
            entry = self._entries.get(page)
            if entry is None:
                return None
            self._entries.move_to_end(page)
            return entry[0]

    def learn(self, page: str, hints: Iterable[EarlyHint], budget: int) -> None:
        """Remember ``page``'s first hints within ``budget`` bytes of links, in place of
        what was known: a 103 never carries more, and an entry is bounded in bytes. Each
        counts at :attr:`EarlyHint.final_length`, its link without the ``nopush`` the
        extension adds for a held link, so a stand-in for a link never hinted (empty here)
        takes its place too; links the response wrote ``nopush`` took more room there, so
        more may be learned than it wrote: :func:`plan_early_hints` counts the ``nopush``
        each client's response adds.
        A page longer than :data:`MAX_PAGE_LENGTH` is not learned."""
        if len(page) > MAX_PAGE_LENGTH:
            return
        learned = []
        size = -2  # no ", " before the first link
        for hint in hints:
            size += 2 + hint.final_length
            if size > budget:
                break
            learned.append(hint)
        if not learned:
            self.forget(page)
            return
        links = tuple(learned)
        with self._lock:
            entry = self._entries.get(page)
            if entry is not None and entry[0] == links:
                # Learned again as it was (a return visit, its hints push()'s very own):
                # kept, and counted already.
                self._entries.move_to_end(page)
                return
        # Outside the lock: they read only their arguments.
        own, sizes = _page_size(page, links), [_link_size(hint) for hint in links]
        with self._lock:
            self._put(page, links, own, sizes)

    def learn_no_page(self, page: str, *, over_links: bool, hinted: bool = True) -> None:
        """Remember that ``page`` answered with no page (a file a view serves, fetched by a
        proxy to push it; a download): it is hinted nothing, not even what its view
        declares, until a page's response teaches it again. Links it learned are kept
        unless ``over_links`` (a JSON variant asked for by a client that says nothing of
        what it fetches must not take a page's hints away). A url never learned that
        nothing would hint unlearned (``hinted`` False: no declaration, no hook's push)
        gets no entry: it would change no 103, and take a learned page's place."""
        if len(page) > MAX_PAGE_LENGTH:
            return
        own = _page_size(page, ())
        with self._lock:
            entry = self._entries.get(page)
            if entry is None and not hinted:
                return
            if not over_links and entry is not None and entry[0]:
                return
            self._put(page, (), own, [])

    def learn_gone(self, page: str) -> None:
        """Remember that ``page``, if it was learned, is gone (its url answered a 204 or
        205, a permanent redirect, a 404 or a 410): it is hinted nothing, not even what its
        view declares, until a page's response teaches it again. A url never learned (as
        none past :data:`MAX_PAGE_LENGTH` is) gets no entry, so made-up urls' 404s push no
        learned page out. Asked and written under one lock: a page another thread's request
        drops meanwhile is not put back in the place of one it learned."""
        own = _page_size(page, ())
        with self._lock:
            if page in self._entries:
                self._put(page, (), own, [])

    def _put(self, page: str, hints: tuple[EarlyHint, ...], own: int, sizes: list[int]) -> None:
        """Keep ``hints`` for ``page`` as the most recently used, ``own`` bytes for the page
        and each link's of ``sizes`` (:func:`_link_size`) unless another page holds it
        already; past ``max_entries`` or :data:`HINTS_BYTES` the least recently used go. A
        page of more than the bytes alone (as if no other page held its links) is not
        kept, nor what it learned before. Called under the lock."""
        old = self._entries.pop(page, None)
        if old is not None:
            self._release(old)
        if own + sum(sizes) > HINTS_BYTES:
            return
        self._entries[page] = (hints, own)
        self._bytes += own
        links = self._links
        for hint, size in zip(hints, sizes, strict=True):
            uses, counted = links.get(id(hint), (0, size))
            if not uses:
                self._bytes += counted
            links[id(hint)] = (uses + 1, counted)
        while len(self._entries) > self.max_entries or self._bytes > HINTS_BYTES:
            self._release(self._entries.popitem(last=False)[1])

    def _release(self, entry: tuple[tuple[EarlyHint, ...], int]) -> None:
        """Uncount a page's entry, just taken out: its own bytes, and each link no other
        page holds. Called under the lock."""
        hints, own = entry
        self._bytes -= own
        links = self._links
        for hint in hints:
            uses, size = links[id(hint)]
            if uses > 1:
                links[id(hint)] = (uses - 1, size)
            else:
                del links[id(hint)]
                self._bytes -= size

    def forget(self, page: str) -> None:
        """Drop what ``page`` learned (nothing if it learned nothing)."""
        with self._lock:
            old = self._entries.pop(page, None)
            if old is not None:
                self._release(old)

    def __len__(self) -> int:
        with self._lock:  # never seen between learn()'s insert and its eviction
            return len(self._entries)

    def __contains__(self, page: object) -> bool:
        """Whether ``page`` is learned, without marking it used."""
        with self._lock:
            return page in self._entries


#: CPython keeps one int object of each value up to 256: a longer link's length is its own.
_SHARED_INTS = 256
#: An int object of a length or a count (below 2**30).
_INT_SIZE = sys.getsizeof(HINTS_BYTES)
#: A page's place in the :class:`HintCache`: its dict slot, its node in the order (key,
#: hash and two links, 32 bytes) and the order's pointer to it (8 bytes a slot of the
#: dict's table, up to six a page), and its entry: the pair of its links and its own
#: bytes (an int past 256).
_LRU_SLOT = CHURNED_DICT_SLOT + 32 + 6 * 8 + sys.getsizeof((None, None)) + _INT_SIZE
#: A link's place in the count of its uses: its dict slot, its id (an int of its own, an
#: address: larger than a length), and the pair of its count and size (each an int of
#: its own past 256).
_LINK_SLOT = (
    CHURNED_DICT_SLOT + sys.getsizeof(id(_LRU_SLOT)) + sys.getsizeof((0, 0)) + 2 * _INT_SIZE
)
#: Every EarlyHint's own size (its slots), whatever it holds.
_HINT_SIZE = sys.getsizeof(EarlyHint("", "", False, None, False, False, 0))
#: What ``sys.getsizeof`` answers for a str (one the garbage collector does not track),
#: asked of str itself rather than looked up on each string.
_str_size = str.__sizeof__


def _page_size(page: str, hints: tuple[EarlyHint, ...]) -> int:
    """The bytes a learned page keeps alive of its own: its key, its tuple of links and
    its place in the cache."""
    return _str_size(page) + sys.getsizeof(hints) + _LRU_SLOT


def _link_size(hint: EarlyHint) -> int:
    """The bytes a learned link keeps alive, counted once for every page that holds it:
    the ``EarlyHint`` with its strings and length, as if no other object held them, and
    its place in the count."""
    size = _HINT_SIZE + _str_size(hint.key) + _str_size(hint.link) + _LINK_SLOT
    if hint.origin is not None:
        size += _str_size(hint.origin)
    if hint.final_length > _SHARED_INTS:
        size += _INT_SIZE
    return size
