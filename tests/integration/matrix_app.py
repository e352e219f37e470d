"""The backend of the proxy matrix: each page answers as its case says, with its ``Link`` header.

``gunicorn tests.integration.matrix_app:app``. ``/case/<name>?authority=127.0.0.1:PORT``
answers with the status of ``CASES[name]`` and one ``Link`` header holding its links, each
``<url>; rel=preload; as=style`` (``; nopush`` added when the case says so), ``{authority}``
in a url replaced by the proxy's authority (the backend cannot learn it: nginx forwards
``$host`` without the port, h2o and Apache their upstream's). Any other path is a stylesheet,
what a proxy fetches for a push,
except ``/missing...``, which is not found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

#: The entity tag of every page: a request with ``If-None-Match`` holding it gets the 304.
ETAG = '"matrix-v1"'


@dataclass(frozen=True)
class Case:
    """A page: the status it answers, the links it declares, how the client asks for it."""

    #: How docs/proxies.md names it.
    label: str
    links: tuple[str, ...] = ("/d.css",)
    status: int = 200
    method: str = "GET"
    nopush: bool = False
    #: Extra request headers (nghttp ``-H`` form, lower-case names).
    request_headers: tuple[tuple[str, str], ...] = ()
    #: The ``Link`` value as written, when it is not ``links`` written the usual way.
    header: str | None = None

    def link_header(self, authority: str) -> str:
        if self.header is not None:
            return self.header
        suffix = "; nopush" if self.nopush else ""
        return ", ".join(
            f"<{url.format(authority=authority)}>; rel=preload; as=style{suffix}"
            for url in self.links
        )


def _many(count: int, url: str = "/{}") -> tuple[str, ...]:
    """``count`` path-absolute urls, numbered from 0 in ``url``."""
    return tuple(url.format(number) for number in range(count))


#: Fingerprinted like the example site's assets (but served by the backend, not from
#: ``/static``): 120 such links make a 6.5 KB ``Link`` header.
FINGERPRINTED = "/assets/r{:03}.0123456789.css"

#: Every case by the name in its path; the rows of docs/proxies.md, in this order.
CASES: dict[str, Case] = {
    "get-200": Case("GET, 200"),
    "head-200": Case("HEAD, 200", method="HEAD"),
    "get-201": Case("GET, 201", status=201),
    "get-204": Case("GET, 204", status=204),
    "get-301": Case("GET, 301", status=301),
    "get-302": Case("GET, 302", status=302),
    "get-304": Case(
        "GET, 304 (If-None-Match)", status=304, request_headers=(("if-none-match", ETAG),)
    ),
    "get-404": Case("GET, 404", status=404),
    "get-500": Case("GET, 500", status=500),
    "absolute": Case(
        "absolute: `https://127.0.0.1:PORT/a.css`", links=("https://{authority}/a.css",)
    ),
    "scheme-relative": Case(
        "scheme-relative: `//127.0.0.1:PORT/b.css`", links=("//{authority}/b.css",)
    ),
    "relative": Case("relative: `rel/c.css` on `/case/relative`", links=("rel/c.css",)),
    "query": Case("with a query: `/q.css?v=1`", links=("/q.css?v=1",)),
    # Short urls (/0, /1, ...): 120 of them still fit in nginx's 4 KB buffer for headers.
    "links-15": Case("15 links: `/0`..`/14`", links=_many(15)),
    "links-120": Case("120 links: `/0`..`/119` (3.6 KB header)", links=_many(120)),
    "links-120-long": Case(
        "120 links: `/assets/r000.0123456789.css`.. (6.5 KB)",
        links=_many(120, FINGERPRINTED),
    ),
    # Apache's mod_proxy_http refuses a header line past 8192 bytes (ResponseFieldSize):
    # 54 bytes a link, so 150 links make a line of 8,104 bytes with "Link: ", 152 one of
    # 8,212.
    "links-150-long": Case(
        "150 links: `/assets/r000.0123456789.css`.. (8,098-byte value)",
        links=_many(150, FINGERPRINTED),
    ),
    "links-152-long": Case(
        "152 links: `/assets/r000.0123456789.css`.. (8,206-byte value)",
        links=_many(152, FINGERPRINTED),
    ),
    "nopush": Case("`</d.css>; rel=preload; as=style; nopush`", nopush=True),
    "missing": Case("`/missing.css`, which the backend answers 404", links=("/missing.css",)),
    # nginx and h2o serve /static/ from disk (Apache proxies it): a file that is not there.
    "missing-static": Case(
        "`/static/missing.css`, not on the proxy's disk", links=("/static/missing.css",)
    ),
    "forwarded": Case(
        "request with `X-Forwarded-For`", request_headers=(("x-forwarded-for", "192.0.2.1"),)
    ),
    # Valid RFC 8288 that proxies read otherwise: what push() writes around them.
    "rel-capitalized": Case("`rel=Preload`", header="</d.css>; rel=Preload; as=style"),
    "rel-spaced": Case('`rel=" preload "`', header='</d.css>; rel=" preload "; as=style'),
    "nopush-parameter": Case(
        "a `nopush=1` parameter", header="</d.css>; rel=preload; as=style; nopush=1"
    ),
    "quoted-comma": Case(
        '`title="a, b"` on `/d.css`, then `/e.css`',
        links=("/d.css", "/e.css"),
        header='</d.css>; rel=preload; as=style; title="a, b", </e.css>; rel=preload; as=style',
    ),
    "quoted-semicolon": Case(
        '`rel=stylesheet; title="a;rel=preload;b"`',
        header='</d.css>; rel=stylesheet; as=style; title="a;rel=preload;b"',
    ),
    # What Apache's mod_http2 reads otherwise (tests/mod_http2.py, from h2_push.c): what
    # push() refuses, or quotes.
    "quoted-quote": Case(
        '`title="a\\"b"` on `/d.css`, then `/e.css`',
        links=("/d.css", "/e.css"),
        header='</d.css>; rel=preload; as=style; title="a\\"b", </e.css>; rel=preload; as=style',
    ),
    "name-quote": Case(
        "`ti'tle=a; nopush`", header="</d.css>; rel=preload; as=style; ti'tle=a; nopush"
    ),
    "percent-value": Case(
        "`title=a%20b` on `/d.css`, then `/e.css`",
        links=("/d.css", "/e.css"),
        header="</d.css>; rel=preload; as=style; title=a%20b, </e.css>; rel=preload; as=style",
    ),
    "ext-value": Case(
        "`title*=UTF-8''a` (RFC 8187) on `/d.css`, then `/e.css`",
        links=("/d.css", "/e.css"),
        header="</d.css>; rel=preload; as=style; title*=UTF-8''a, </e.css>; rel=preload; as=style",
    ),
    "fragment": Case(
        "with a fragment: `/d.css#x`",
        links=("/d.css#x",),
        header="</d.css#x>; rel=preload; as=style",
    ),
}

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def app(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    path = str(environ.get("PATH_INFO", ""))
    if path.startswith("/missing"):
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    if not path.startswith("/case/"):
        start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", "0")])
        return [b""]
    case = CASES[path.removeprefix("/case/")]
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    status = case.status
    if status == 304 and environ.get("HTTP_IF_NONE_MATCH") != ETAG:
        status = 200  # a 304 answers a conditional request, as a real backend's does
    body = b"" if status in (204, 304) else b"page\n"
    headers = [("ETag", ETAG), ("Link", case.link_header(query["authority"][0]))]
    if status in (301, 302):
        headers.append(("Location", "/"))
    if status not in (204, 304):
        headers += [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]
