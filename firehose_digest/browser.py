"""What a request and its response are to a browser: whose request it is (Fetch Metadata),
whether it navigates to a page the browser will show, and whether the browser shows the
response it gets (a page, not a download, nor a frame it refuses).

The request path asks these questions to decide which request is sent a 103, and which
pushes may be recorded as held: a browser refuses push and fetches only what a ``Link``
or a 103 of a document it shows names. A module of its own: each answer is a browser's
behaviour, measured (Chromium 156, Firefox 153, WebKitGTK 2.50), or a spec's rule, and
changes with browsers, not with the extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Request, Response
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .links import proxies_push

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = [
    "downloaded",
    "from_browser",
    "is_page",
    "is_top_level_navigation",
    "links_reach",
    "prefers_html",
    "takes_html",
]


def from_browser(environ: WSGIEnvironment) -> bool:
    """Whether the request is taken for a browser's: it sends ``Sec-Fetch-Mode``, as a
    browser with Fetch Metadata does. curl, a proxy fetching a file to push it and a
    browser from before Fetch Metadata send none, and neither does WebKitGTK with a
    synchronous ``XMLHttpRequest`` (:func:`_subrequest`)."""
    return "HTTP_SEC_FETCH_MODE" in environ


def is_top_level_navigation(environ: WSGIEnvironment) -> bool:
    """A top-level navigation: ``Sec-Fetch-Mode: navigate`` to a ``document`` (Chromium's
    docs/early-hints.md: a 103 on a subresource or an iframe navigation is ignored), or no
    ``Sec-Fetch-*`` header at all (a browser from before Fetch Metadata, curl), but for a
    browser's subrequest without them (:func:`_subrequest`).
    :func:`~.extension._early_hints_sender` also asks such a request to name HTML
    (:func:`takes_html`)."""
    if _speculative(environ):
        return False  # a prefetch: Chromium ignores its 103, and may never show the page
    mode = environ.get("HTTP_SEC_FETCH_MODE")
    if mode is not None:
        destination = environ.get("HTTP_SEC_FETCH_DEST", "document")
        return bool(mode.strip() == "navigate" and destination.strip() == "document")
    if _subrequest(environ):
        return False
    return not any(name.startswith("HTTP_SEC_FETCH_") for name in environ)


#: The headers a browser marks a prefetch or prerender with: ``Sec-Purpose`` (Chromium,
#: Firefox 153, measured), ``Purpose`` (Chromium before it), ``X-Moz`` (older Firefox's
#: ``rel=prefetch``; Firefox 153 marks a 103's preloads ``X-Moz: early hint``, never a
#: page's request), ``X-Purpose`` (Safari's previews). A page fetched ahead may never be
#: shown.
_SPECULATIVE_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_MOZ", "HTTP_X_PURPOSE")


def _speculative(environ: WSGIEnvironment) -> bool:
    """Whether the request fetches a page ahead of its navigation (a prefetch or a
    prerender): it gets no 103."""
    return any(name in environ for name in _SPECULATIVE_HEADERS)


def _prefetch(environ: WSGIEnvironment) -> bool:
    """Whether the request fetches a page ahead that is not rendered until it is shown. A
    prerender (``Sec-Purpose: prefetch;prerender``) is rendered at once: Chromium 156
    fetches what its ``Link`` names then, activated or not (measured)."""
    return _speculative(environ) and "prerender" not in environ.get("HTTP_SEC_PURPOSE", "")


def _subrequest(environ: WSGIEnvironment) -> bool:
    """Whether a request without ``Sec-Fetch-*`` comes from a page and wants no page: it
    names a ``Referer``, and its ``Accept`` no HTML. WebKitGTK 2.50 sends no
    ``Sec-Fetch-*`` with a synchronous ``XMLHttpRequest`` (``Accept: */*``, measured),
    and refuses push; every browser's navigation accepts ``text/html``. jQuery's requests
    for HTML (``.load()``, pjax) accept it too, but say ``X-Requested-With:
    XMLHttpRequest``, which no navigation does (Android's WebView sends its app's name)."""
    if environ.get("HTTP_X_REQUESTED_WITH", "").strip().lower() == "xmlhttprequest":
        return True
    return "HTTP_REFERER" in environ and not takes_html(environ)


def takes_html(environ: WSGIEnvironment) -> bool:
    """Whether the request's ``Accept`` names HTML, as every browser's navigation does,
    and does not refuse it (``text/html;q=0``, RFC 9110 §12.5.1). A media type's
    parameters (``text/html;level=1``) do not change the type it names."""
    accept = environ.get("HTTP_ACCEPT", "").lower()
    if "text/html" not in accept and "application/xhtml+xml" not in accept:
        return False
    if "q=0" not in accept.replace(" ", ""):
        return True
    return any(
        kind.partition(";")[0].strip() in _PAGE_TYPES and quality > 0
        for kind, quality in parse_accept_header(accept)
    )


def prefers_html(environ: WSGIEnvironment, served: str) -> bool:
    """Whether the request's ``Accept`` ranks ``text/html`` above the ``served`` media
    type, as every browser's navigation ranks it above a type it names only by
    ``*/*;q=0.8``. One that ranks the type as high (``application/json``, ``*/*``, no
    ``Accept``) may have chosen it by content negotiation: the url may still serve others
    a page. So may one that ranks only ``application/xhtml+xml`` above it: a url that
    negotiates offers ``text/html``, and Werkzeug's ``best_match`` of JSON and
    ``text/html`` is JSON for it. Each type's quality is that of its most specific range
    (RFC 9110 §12.5.1). A ``served`` value with no ``/`` or a wildcard type (``bogus``,
    ``*/json``), which Werkzeug refuses to match, is ranked below HTML."""
    served = served.lower()
    if "/" not in served or served.startswith("*"):
        return True
    accept = parse_accept_header(environ.get("HTTP_ACCEPT", ""), MIMEAccept)
    return accept.quality("text/html") > accept.quality(served)


#: The media types of a page: only a document's response has links a browser preloads.
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def is_page(response: Response) -> bool:
    """Whether ``response`` is a page: HTML, or of no declared type."""
    content_type = response.headers.get("Content-Type")
    return content_type is None or content_type.partition(";")[0].strip().lower() in _PAGE_TYPES


def links_reach(
    req: Request, response: Response, status: int, browser: bool, method: str | None = None
) -> bool:
    """Whether, by its request and status, what this response offers for push reaches
    the client, so may be recorded as held: every supported front pushes it
    (:func:`~.links.proxies_push`) and, if the request is a browser's (``browser``:
    :func:`from_browser`), the browser preloads it: a navigation to a document it shows
    (what the response's own headers say of that, a download or a frame refused, is
    :func:`_browser_shows`'s). ``method``, if given, stands for the request's (a HEAD
    asked as its GET).

    Browsers refuse push (Chromium sends ``SETTINGS_ENABLE_PUSH`` 0) and preload from the
    ``Link`` of a document they show: Chromium 156, measured, preloads nothing that a
    ``fetch()`` (htmx's requests), a prefetch (``<link rel=prefetch>``, Speculation Rules)
    or a redirect links. Recorded as held, those files would be left out of the next
    page's 103, and with ``"omit"`` out of its ``Link`` too.
    """
    if not proxies_push(method or req.method, status):
        return False
    environ = req.environ
    if not browser:
        # curl, a proxy, a browser from before Fetch Metadata: pushed to. Not a browser's
        # subrequest that sent no Sec-Fetch-* (WebKit's synchronous XMLHttpRequest).
        return not _subrequest(environ)
    return (
        environ["HTTP_SEC_FETCH_MODE"].strip() == "navigate"
        and environ.get("HTTP_SEC_FETCH_DEST", "document").strip() in _SHOWN_DESTINATIONS
        and 200 <= status < 300
        and status not in (204, 205)  # no document: the browser stays where it was
        and not _prefetch(environ)
        # A service worker's Navigation Preload: the worker may answer with a page of its
        # own and leave this response unread (Chromium 156 still keeps its Set-Cookie).
        and "HTTP_SERVICE_WORKER_NAVIGATION_PRELOAD" not in environ
        and _browser_shows(req, response)
    )


#: The ``Sec-Fetch-Dest`` of a navigation to a document the browser shows, which it
#: preloads the ``Link`` of (Chromium 156, measured, and Firefox 153, by hand: in an
#: ``<object>`` or ``<embed>`` too).
_SHOWN_DESTINATIONS = frozenset({"document", "iframe", "frame", "object", "embed"})


def _browser_shows(req: Request, response: Response) -> bool:
    """Whether a browser shows the document it navigated to, so preloads its ``Link``:
    not a download (``Content-Disposition: attachment``), nor a page in a frame that
    refuses its framer (:func:`_frame_refused`). Chromium 156, measured: it fetched
    nothing either links, and kept its Set-Cookie; Firefox 153 fetched nothing either
    (by hand). Asked only of a browser's navigation (:func:`links_reach`): another
    request is pushed to by a front, shown or not."""
    environ = req.environ
    if downloaded(response):
        return False
    if environ.get("HTTP_SEC_FETCH_DEST", "document").strip() == "document":
        return True
    return not _frame_refused(environ, response)


def downloaded(response: Response) -> bool:
    """Whether a browser saves ``response`` rather than show it: ``Content-Disposition:
    attachment`` (RFC 6266 §4.2, the type in any case), in its first such field. Fields
    that differ (``inline``, then ``attachment``) need no rule of their own: Chromium 156
    (``ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION``) and Firefox 153 refuse such a
    response whole, its ``Set-Cookie`` too, so what it records never reaches the client
    (by hand, 2026-12-06). Read with ``getlist``: Werkzeug's ``Headers.get`` raises and
    catches a KeyError for a field the response lacks, as nearly every page lacks this
    one, and each navigation asks."""
    dispositions = response.headers.getlist("Content-Disposition")
    return bool(dispositions) and dispositions[0].partition(";")[0].strip().lower() == "attachment"


def _frame_refused(environ: WSGIEnvironment, response: Response) -> bool:
    """Whether a browser refuses to show this response in the frame that asked for it,
    as HTML's "check a navigation response's adherence to ``X-Frame-Options``" and CSP's
    ``frame-ancestors`` say: ``frame-ancestors`` decides when present (``'none'``; or
    ``'self'`` alone, framed by another origin), else ``X-Frame-Options`` (``DENY``;
    several values; or ``SAMEORIGIN``, framed by another origin). The framer's origin is
    told by ``Sec-Fetch-Site``; a source list naming hosts is taken as allowing it. Of
    the keywords only ``'self'`` names a url: ``'none'`` beside another source has no
    effect (CSP3, "does url match source list"), and a nonce or ``'unsafe-inline'``
    matches no framer."""
    same_origin = environ.get("HTTP_SEC_FETCH_SITE", "").strip() == "same-origin"
    ancestors = []  # each policy's source list (a "," joins policies on one line)
    for line in response.headers.getlist("Content-Security-Policy"):
        for policy in line.lower().split(","):
            for directive in policy.split(";"):
                name, *sources = directive.split() or [""]
                if name == "frame-ancestors":
                    ancestors.append(
                        [source for source in sources if source == "'self'" or source[0] != "'"]
                    )
                    break  # CSP3's parser ignores a directive repeated within a policy
    if ancestors:
        return any(
            not sources or (sources == ["'self'"] and not same_origin) for sources in ancestors
        )
    options = {
        value.strip().lower()
        for line in response.headers.getlist("X-Frame-Options")
        for value in line.split(",")
        if value.strip()
    }
    if "deny" in options or (len(options) > 1 and options & {"sameorigin", "allowall"}):
        return True
    return options == {"sameorigin"} and not same_origin
