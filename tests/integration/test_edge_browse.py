"""One client browses every edge case behind nginx, h2o and Apache, and its record is checked.

gunicorn serves ``edge_app`` (``Firehose(app)``, the default ``DigestConnector``); each proxy
fronts it, started once for this module. One :class:`~tests.integration.rig.Browser` per
proxy (one cookie jar) makes the views of ``VISITS`` in order, most of them twice or more:
a HEAD of a page with links, pages answering 404, 500, 304 (``If-None-Match``), 204 and 301
with links, a page linking the four url forms and another origin, one pushing 15 new
resources, one preloading 85 fingerprinted stylesheets, and ordinary pages.

**With Early Hints** (``FIREHOSE_EARLY_HINTS=True``, gunicorn's ``wsgi.early_hints``): a
second gunicorn hints each page's learned links in a 103, over the HTTP/1.1 that h2o and
Apache speak to it; both push what a 103 links. A *learner* browses :data:`VISITS` first,
so a *client* (a second cookie jar) is hinted every page it then browses, from its first
view; each is checked as above, and for what a 103 made the proxy push:

- **pushed, not recorded**: a promised path whose urls the final digest does not hold:
  none, on any view. A page learned from a 200 that then answers 404 (``/gone/gone``, 200
  to the learner, 404 to the client) is the one case where a proxy pushes, from the 103,
  what the final response's own links do not offer (they are ``nopush``): the final
  response records it all the same. Its pushes are counted apart, as is the same path
  pushed again later (never). ``/etag/etag`` with ``If-None-Match``, which the client asks
  before it views the page, is a revalidation: it gets no 103.
- **103 links**: what the client saw in 103s. h2o 2.2 pushes what a 103 links but does not
  forward the 103 itself; Apache (``H2EarlyHints on``) forwards it.

nginx 1.22 is in this variant too, as ``docs/deploy/nginx.conf`` runs it: its upstream
speaks HTTP/1.0 (``proxy_http_version``'s default before nginx 1.29.7), to which gunicorn
sends no 103 (with an HTTP/1.1 upstream, nginx 1.22 breaks on a 103). Its figures must
equal the plain browse's.

From what the client received (each response's ``Link`` header and PUSH_PROMISEs) and what
its final ``h2-digest`` cookie holds, decoded:

- **recorded, never pushed**: a linked url the digest holds that was never promised to this
  client. Offered for push (a plain preload) but not promised is a bug of the extension or
  the proxy. Held without ever being offered can only be a digest false positive: it is
  counted apart, and the cookie must equal, byte for byte, a digest of just the urls offered.
- **pushed twice**: a path promised more than once to the one client.
- **missed**: a linked url never promised. Expected: the ones no proxy may push
  (``https://…``, ``//…``, ``rel/…``: always ``nopush``) and false positives (held before
  they were ever offered). ``/page/assets`` also declares urls that never reach a ``Link``
  header at all, past ``FIREHOSE_LINK_BUDGET``: counted apart, as "past budget"; and one
  may be linked only ``nopush`` (its view's pushes spent) before the budget leaves it out
  once the links before it are held and written ``nopush``: "missed: budget".
- **502s**, and every other status the backend did not answer.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from firehose_digest import AgingDigest, GCSDigest
from firehose_digest.codec import DigestCodec, salt_for
from tests.integration.rig import (
    H2O,
    Apache,
    Browser,
    Gunicorn,
    Nginx,
    View,
    parse_links,
    site_env,
)

from .edge_app import (
    CUT_PAGE,
    CUT_PAGE_PUSHED,
    ETAG,
    FINGERPRINTED,
    LAYOUT,
    OTHER_ORIGIN,
    OWN_PRELOAD,
    fingerprinted,
    page_links,
)
from .launcher import EDGE_BROWSES, TEST_EXTRA, Launcher, require, require_tools

pytestmark = pytest.mark.integration

Front = Nginx | H2O | Apache

SECRET_KEY = "edge-browse-secret"
COOKIE = "h2-digest"
#: The extension's defaults, which the app keeps.
CAPACITY, FP_RATE = 300, 0.01
CODEC = DigestCodec([SECRET_KEY], salt_for(""), 3600)
#: gunicorn offers ``environ["wsgi.early_hints"]`` from version 25.
GUNICORN_VERSION = version("gunicorn")
GUNICORN_HINTS = int(GUNICORN_VERSION.split(".")[0]) >= 25
#: Urls never linked, asked of the final digest to measure its false-positive rate.
CONTROLS = [f"/control/{number}.css" for number in range(2000)]


@dataclass(frozen=True)
class Visit:
    """One page view: the path (its last segment names the page's links), how it is asked."""

    path: str
    status: int = 200
    method: str = "GET"
    #: Send ``If-None-Match`` with the page's entity tag.
    conditional: bool = False

    @property
    def page(self) -> str:
        return self.path.rsplit("/", 1)[1]

    def headers(self) -> list[tuple[str, str]]:
        return [("if-none-match", f'"{ETAG}"')] if self.conditional else []

    def label(self) -> str:
        extra = " If-None-Match" if self.conditional else ""
        return f"{self.method} {self.path}{extra}"


ASSETS_VISIT = Visit("/page/assets")

#: The browse, in order: each edge case first, then return visits to all of them, the
#: pages behind 4xx/5xx/304/HEAD answers also viewed with a 200 so their links are pushed.
VISITS = [
    Visit("/page/head", method="HEAD"),
    Visit("/page/home"),
    Visit("/missing/nf", 404),
    Visit("/etag/etag", 304, conditional=True),
    Visit("/broken/err", 500),
    Visit("/status/204/empty", 204),
    Visit("/status/301/moved", 301),
    Visit("/page/forms"),
    Visit("/page/fifteen"),
    ASSETS_VISIT,
    Visit("/page/news"),
    Visit("/page/head", method="HEAD"),
    Visit("/page/head"),
    Visit("/page/head", method="HEAD"),
    Visit("/missing/nf", 404),
    Visit("/page/nf"),
    Visit("/missing/nf", 404),
    Visit("/broken/err", 500),
    Visit("/page/err"),
    Visit("/broken/err", 500),
    Visit("/etag/etag"),
    Visit("/etag/etag", 304, conditional=True),
    Visit("/status/204/empty", 204),
    Visit("/status/301/moved", 301),
    Visit("/page/forms"),
    Visit("/page/fifteen"),
    ASSETS_VISIT,
    ASSETS_VISIT,
    ASSETS_VISIT,
    Visit("/page/home"),
    Visit("/page/fifteen"),
    Visit("/page/news"),
    ASSETS_VISIT,
]

#: The early-hints browse: the learner's views, then the client's. ``/gone/gone`` answers
#: the learner 200 (its links are learned), then the client 404.
LEARNER_VISITS = [*VISITS, Visit("/gone/gone")]
CLIENT_VISITS = [*VISITS, Visit("/gone/gone", 404)]
#: The statuses of the documented mismatch: a 103 from a page learned from a 200 may make a
#: proxy push what a final 404 or 304 does not record.
UNRECORDED_STATUSES = (304, 404)


def target(page: str, url: str) -> str:
    """The path and query a link ``url`` on ``page`` points to, as a PUSH_PROMISE names it."""
    parts = urlsplit(urljoin(page, url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def path_absolute(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def decode(cookie: str) -> AgingDigest:
    return AgingDigest.from_bytes(CODEC.loads(cookie).payload)


@dataclass
class EdgeBrowse:
    """What one client received over :data:`VISITS`, and what its record says."""

    proxy: str
    views: list[tuple[Visit, View]] = field(default_factory=list)
    #: Status mismatches (a 502 among them) and responses cut short: "visit: got N".
    wrong_statuses: list[str] = field(default_factory=list)
    #: Promises per path, over the whole browse.
    promised: Counter[str] = field(default_factory=Counter)
    #: Every url the client received in a ``Link`` header -> the path it points to.
    linked: dict[str, str] = field(default_factory=dict)
    #: Urls received as a plain preload (offered for push), in order of first offer.
    offered: list[str] = field(default_factory=list)
    #: Urls the views declared with push(), whether or not they reached a header.
    declared: set[str] = field(default_factory=set)
    #: Per response: a plain preload not promised, or a promise of no plain preload.
    disagreements: list[str] = field(default_factory=list)
    #: The same on a 404 or 304, the documented mismatch.
    documented_disagreements: list[str] = field(default_factory=list)
    #: Urls received in 103 Early Hints, in order of first hint.
    hinted: list[str] = field(default_factory=list)
    max_cookie: int = 0
    cookie: str = ""

    def record(self, visit: Visit, page_url: str, authority: str, view: View) -> None:
        self.views.append((visit, view))
        if view.status != visit.status or not view.complete:
            cut = "" if view.complete else ", cut short"
            self.wrong_statuses.append(f"{visit.label()}: got {view.status}{cut}")
        self.declared.update(page_links(visit.page, authority))
        plain = []
        for link in view.hints:
            self.linked.setdefault(link.url, target(page_url, link.url))
            if link.url not in self.hinted:
                self.hinted.append(link.url)
        for link in view.links:
            self.linked.setdefault(link.url, target(page_url, link.url))
            if not link.nopush:
                plain.append(target(page_url, link.url))
                if link.url not in self.offered:
                    self.offered.append(link.url)
        self.promised.update(view.pushed)
        if sorted(plain) != sorted(view.pushed):
            header = ", ".join(link.text for link in view.links)
            hints = ", ".join(link.text for link in view.hints)
            if visit.status in UNRECORDED_STATUSES:
                disagreements = self.documented_disagreements
            else:
                disagreements = self.disagreements
            disagreements.append(
                f"{visit.label()} ({view.status}): offered {sorted(plain)}, "
                f"promised {sorted(view.pushed)}; Link: {header}; 103 Link: {hints}"
            )

    @cached_property
    def digest(self) -> AgingDigest:
        """The final cookie's digest; read once the browse is over."""
        return decode(self.cookie) if self.cookie else AgingDigest(GCSDigest, CAPACITY, FP_RATE)

    def recordable(self) -> list[str]:
        """The urls offered for push, in order: in a final response's links, or by the 103
        of a 404 after a 200 (what it made the proxy promise)."""
        documented = set(self.documented_pushes())
        from_103 = [url for url, path in self.linked.items() if path in documented]
        return list(dict.fromkeys([*self.offered, *from_103]))

    def model(self) -> AgingDigest:
        """A digest of exactly the urls offered for push, as the extension should record."""
        model = AgingDigest(GCSDigest, CAPACITY, FP_RATE)
        for url in self.recordable():
            model.add(url)
        return model

    def never_promised(self) -> list[str]:
        return [url for url, path in self.linked.items() if path not in self.promised]

    def recorded_never_pushed(self) -> list[str]:
        """Held and never promised, though offered: what the record wrongly says was sent."""
        digest = self.digest
        return [url for url in self.never_promised() if url in digest and url in self.offered]

    def false_positives(self) -> list[str]:
        """Linked urls the digest holds though they were never offered for push."""
        digest, recordable = self.digest, set(self.recordable())
        return [url for url in self.linked if url in digest and url not in recordable]

    def documented_pushes(self) -> list[str]:
        """Paths promised on a 404 or 304 view, the documented mismatch."""
        return [
            path
            for visit, view in self.views
            if visit.status in UNRECORDED_STATUSES
            for path in view.pushed
        ]

    def pushed_twice(self) -> dict[str, int]:
        """Paths promised more than once, but for the documented mismatch's: counted on
        the other views only."""
        documented = Counter(self.documented_pushes())
        again = self.promised - documented
        return {path: count for path, count in again.items() if count > 1}

    def documented_pushed_again(self) -> dict[str, int]:
        """Paths the documented mismatch pushed that a later view pushed again."""
        again = self.promised - Counter(self.documented_pushes())
        return {path: again[path] for path in self.documented_pushes() if again[path]}

    def pushed_not_recorded(self) -> dict[str, list[str]]:
        """Per view (its label), the paths promised whose urls the final digest lacks."""
        digest = self.digest
        found: dict[str, list[str]] = {}
        for visit, view in self.views:
            for path in view.pushed:
                if not any(url in digest for url, to in self.linked.items() if to == path):
                    found.setdefault(visit.label(), []).append(path)
        return found

    def missed(self) -> dict[str, list[str]]:
        """Linked urls never promised, by reason."""
        false_positives = set(self.false_positives())
        reasons: dict[str, list[str]] = {
            "not path-absolute": [],
            "false positive": [],
            "only on a 404": [],
            "budget": [],
            "?": [],
        }
        for url in self.never_promised():
            if not path_absolute(url):
                reasons["not path-absolute"].append(url)
            elif url in false_positives:
                reasons["false positive"].append(url)
            elif url not in self.offered and url in page_links("gone"):
                # Linked only by /gone/gone's 404 to the client, whose links are all nopush.
                reasons["only on a 404"].append(url)
            elif url not in self.offered and url in page_links("assets"):
                # Linked nopush while this response's pushes were spent, then past
                # FIREHOSE_LINK_BUDGET once the links before it, held, were written nopush.
                reasons["budget"].append(url)
            else:
                reasons["?"].append(url)
        return reasons

    def past_budget(self) -> list[str]:
        """Declared urls that never reached a ``Link`` header."""
        return sorted(self.declared - set(self.linked))

    def row(self) -> dict[str, str]:
        missed = self.missed()
        fp_rate = sum(url in self.digest for url in CONTROLS) / len(CONTROLS)
        assets_statuses = Counter(
            view.status for visit, view in self.views if visit == ASSETS_VISIT
        )
        return {
            "views": str(len(self.views)),
            "promises": str(sum(self.promised.values())),
            "linked": str(len(self.linked)),
            "recorded, never pushed": str(len(self.recorded_never_pushed())),
            "held by FP, never offered": str(len(self.false_positives())),
            "pushed twice": str(len(self.pushed_twice())),
            "pushed, not recorded": str(sum(map(len, self.pushed_not_recorded().values()))),
            "404/304 after a 200: pushed": str(len(self.documented_pushes())),
            "404/304 after a 200: pushed again later": str(len(self.documented_pushed_again())),
            "103 links seen": str(len(self.hinted)),
            "missed: not path-absolute": str(len(missed["not path-absolute"])),
            "missed: FP": str(len(missed["false positive"])),
            "missed: budget": str(len(missed["budget"])),
            "missed: other": str(len(missed["?"])),
            "declared, past budget": str(len(self.past_budget())),
            "502s": str(sum(view.status == 502 for _, view in self.views)),
            "/page/assets statuses": ", ".join(
                f"{count}x {status}" for status, count in sorted(assets_statuses.items())
            ),
            "cookie at end": str(len(self.cookie)),
            "max cookie": str(self.max_cookie),
            "FP rate, 2000 controls": f"{fp_rate:.2%}",
        }


def browse(front: Front, name: str, visits: list[Visit] = VISITS) -> EdgeBrowse:
    """A new client (cookie jar) views ``visits`` in order through ``front``."""
    browser = Browser(front.origin, COOKIE)
    authority = f"127.0.0.1:{front.port}"
    result = EdgeBrowse(name)
    for visit in visits:
        # Every page takes the authority; only /page/forms uses it.
        path = f"{visit.path}?authority={authority}"
        view = browser.view(path, visit.method, visit.headers())
        result.record(visit, front.origin + path, authority, view)
        result.max_cookie = max(result.max_cookie, len(browser.cookies.get(COOKIE, "")))
    result.cookie = browser.cookies.get(COOKIE, "")
    return result


@pytest.fixture(scope="module")
def static_assets() -> Iterator[Path]:
    """The proxies' static folder: the fingerprinted stylesheets ``/page/assets`` preloads.

    h2o does not push a file missing from its ``file.dir``. Readable by Apache's
    ``www-data`` (pytest's tmp dirs are 0700).
    """
    directory = Path(tempfile.mkdtemp(prefix="firehose-edge-static-"))
    directory.chmod(0o755)
    for number in range(FINGERPRINTED):
        path = directory / fingerprinted(number).removeprefix("/static/")
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.write_text(f"/* asset {number} */\n")
        path.chmod(0o644)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def launcher(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    static_assets: Path,
) -> Iterator[Launcher]:
    launcher = Launcher(request.config, tmp_path_factory.mktemp("edge"), static_assets)
    with launcher.stack:
        yield launcher


@pytest.fixture(scope="module")
def backend(launcher: Launcher) -> Gunicorn:
    app = "tests.integration.edge_app:create_app()"
    env = site_env(SECRET_KEY=SECRET_KEY)
    return launcher.start(Gunicorn(app, launcher.workdir / "backend", env, threads=8))


@pytest.fixture(scope="module")
def hinting_backend(launcher: Launcher) -> Gunicorn:
    """``edge_app`` with ``FIREHOSE_EARLY_HINTS``, on a gunicorn that offers 103s."""
    require(
        f"gunicorn >= 25 (wsgi.early_hints), found {GUNICORN_VERSION}", GUNICORN_HINTS, TEST_EXTRA
    )
    app = "tests.integration.edge_app:create_app()"
    env = site_env(SECRET_KEY=SECRET_KEY, FIREHOSE_EARLY_HINTS=True)
    workdir = launcher.workdir / "hinting-backend"
    return launcher.start(Gunicorn(app, workdir, env, threads=8))


@pytest.fixture(scope="module")
def layout_backend(launcher: Launcher) -> Gunicorn:
    """``edge_app`` whose layout pushes ``LAYOUT`` from a ``before_request`` hook, which
    Flask runs for its view serving ``/res/...`` too, with ``FIREHOSE_EARLY_HINTS``."""
    require(
        f"gunicorn >= 25 (wsgi.early_hints), found {GUNICORN_VERSION}", GUNICORN_HINTS, TEST_EXTRA
    )
    app = "tests.integration.edge_app:create_app()"
    env = site_env(SECRET_KEY=SECRET_KEY, EDGE_LAYOUT=True, FIREHOSE_EARLY_HINTS=True)
    return launcher.start(Gunicorn(app, launcher.workdir / "layout-backend", env, threads=8))


def start_front(name: str, launcher: Launcher, backend: Gunicorn) -> Front:
    if name == "nginx":
        return launcher.nginx([backend])
    if name == "h2o":
        return launcher.h2o(backend)
    return launcher.apache(backend)


@pytest.fixture(scope="module", params=["nginx", "h2o", "apache"])
def edge_browse(
    request: pytest.FixtureRequest, launcher: Launcher, backend: Gunicorn
) -> EdgeBrowse:
    """The browse behind one proxy, made once; its figures go into edge_browse.md."""
    front = start_front(request.param, launcher, backend)
    result = browse(front, front.name)
    request.config.stash.setdefault(EDGE_BROWSES, {})[front.name] = result.row()
    return result


@pytest.fixture(scope="module", params=["nginx", "h2o", "apache"])
def hinted_browses(
    request: pytest.FixtureRequest, launcher: Launcher, hinting_backend: Gunicorn
) -> tuple[EdgeBrowse, EdgeBrowse]:
    """The learner's browse, then the client's, behind one proxy in front of the hinting
    backend; their figures go into edge_browse.md."""
    front = start_front(request.param, launcher, hinting_backend)
    learner = browse(front, f"{front.name}, 103: learner", LEARNER_VISITS)
    client = browse(front, f"{front.name}, 103: client", CLIENT_VISITS)
    rows = request.config.stash.setdefault(EDGE_BROWSES, {})
    for result in (learner, client):
        rows[result.proxy] = result.row()
    return learner, client


@pytest.mark.parametrize("name", ["nginx", "h2o", "apache"])
def test_a_front_serves_its_static_folder_as_browsers_apply_it(
    name: str, launcher: Launcher, backend: Gunicorn, static_assets: Path
) -> None:
    """docs/deploy's fronts serve ``/static/`` from disk: a stylesheet as ``text/css``, a
    module as JavaScript. nginx.conf without ``mime.types`` served the stylesheet as
    ``text/plain``, and nginx's and h2o's own tables know no ``.mjs`` (served as
    ``application/octet-stream``): Chromium applied neither (strangers' runs)."""
    require_tools("curl")
    (static_assets / "module.mjs").write_text("export const x = 1;\n")
    if name == "apache":
        front: Front = launcher.apache(backend, serves_static=True)
    else:
        front = start_front(name, launcher, backend)
    for path, expected in ((fingerprinted(0), "text/css"), ("/static/module.mjs", "javascript")):
        status, content_type, _ = curl_static(f"{front.origin}{path}")
        assert status == "200"
        assert content_type.split(";")[0].strip().lower().endswith(expected), (path, content_type)


@pytest.mark.parametrize("name", ["nginx", "apache"])
def test_a_front_caches_a_versioned_static_url_for_good(
    name: str, launcher: Launcher, backend: Gunicorn
) -> None:
    """push_static's ``?v=`` url is cached for good by the fronts that serve it from disk
    (a return visit asks nothing); behind nginx without it, each was revalidated."""
    require_tools("curl")
    if name == "apache":
        front: Front = launcher.apache(backend, serves_static=True)
    else:
        front = start_front(name, launcher, backend)
    versioned = fingerprinted(0).partition("?")[0] + "?v=0123456789"
    _, _, cache_control = curl_static(f"{front.origin}{versioned}")
    assert "max-age=31536000" in cache_control
    if name == "nginx":  # Apache's docs/deploy file caches every static url a year
        _, _, plain = curl_static(f"{front.origin}{fingerprinted(0).partition('?')[0]}")
        assert "immutable" not in plain


#: Apache's log levels from ``warn`` up, as its error log writes them (``[so:warn]``).
APACHE_COMPLAINTS = (":warn]", ":error]", ":crit]", ":alert]", ":emerg]")


def test_apache_starts_with_its_static_file_without_a_warning(
    launcher: Launcher, backend: Gunicorn
) -> None:
    """docs/deploy's two Apache files start cleanly together, as proxies.md says they do:
    apache-static.conf loaded mod_headers again once apache.conf loaded it for its
    ``RequestHeader`` lines, and every start logged AH01574 "module headers_module is
    already loaded, skipping"."""
    front = launcher.apache(backend, serves_static=True)
    complaints = [
        line
        for line in front.log().splitlines()
        if any(level in line for level in APACHE_COMPLAINTS)
        # The host's, not the files': its mod_ssl was built against a newer OpenSSL than
        # the one it loads (Debian 12's packages here).
        and "AH01882" not in line
    ]
    assert complaints == []


@pytest.mark.parametrize("name", ["nginx", "h2o", "apache"])
@pytest.mark.parametrize("prefix", ["/x", "/page"])
def test_a_client_s_script_name_header_never_reaches_the_app(
    name: str, prefix: str, launcher: Launcher, backend: Gunicorn
) -> None:
    """gunicorn takes ``SCRIPT_NAME`` from a header of its front (``forwarder_headers``),
    and docs/deploy's h2o and Apache passed a client's on: any client could make every
    page a 500 (a prefix the path lacks) or move the app under its own prefix (a stranger's
    hunt). nginx drops names with ``_`` by default; the others now drop these."""
    front = start_front(name, launcher, backend)
    plain = Browser(front.origin, COOKIE).view("/page/home")
    sent = Browser(front.origin, COOKIE).view("/page/home", headers=[("script_name", prefix)])
    assert (plain.status, sent.status) == (200, 200)
    assert plain.links
    assert sent.declared == plain.declared
    assert sent.pushed == plain.pushed


@pytest.mark.parametrize("name", ["nginx", "h2o", "apache"])
def test_a_pushed_file_a_view_serves_gets_nothing_of_ours(
    name: str, launcher: Launcher, layout_backend: Gunicorn
) -> None:
    """A proxy asks for a push with no ``Cookie`` and no ``Sec-Fetch-*``, and the layout's
    hook pushes for that request too. The pushed stylesheets got our ``Set-Cookie``, a
    digest of the layout's file alone, for a client that keeps it to replace the page's;
    ``Vary: Cookie``, so a cache may never serve the client's own request from them (RFC
    9111 §4.1: the promised request had no ``Cookie``); a ``Link``; and, taken for
    navigations, they were learned as pages and hinted (Apache sent a 103 on each push
    stream; a stranger's hunt). A file is no page: it gets none of it."""
    front = start_front(name, launcher, layout_backend)
    Browser(front.origin, COOKIE).view("/page/lay")  # the learner: the page is learned
    view = Browser(front.origin, COOKIE).view("/page/lay")  # a client holding nothing
    assert view.status == 200
    assert sorted(view.pushed) == sorted([LAYOUT, *page_links("lay")])
    assert view.set_cookies.keys() == {COOKIE}
    ours = {
        path: [
            (field_name, value)
            for field_name, value in fields
            if field_name == "link"
            or (field_name == "set-cookie" and value.startswith(f"{COOKIE}="))
            or (field_name == "vary" and "cookie" in value.lower())
        ]
        for path, fields in view.pushed_headers.items()
    }
    assert all(fields for fields in view.pushed_headers.values())  # each response was read
    assert ours == {path: [] for path in view.pushed}
    assert view.pushed_hints == {}


def curl_static(url: str) -> tuple[str, str, str]:
    """``url``'s status, ``Content-Type`` and ``Cache-Control``, through curl over HTTP/2."""
    status, fields = curl_head(url)
    named = dict(fields)
    return status, named.get("content-type", ""), named.get("cache-control", "")


def curl_head(url: str, *options: str) -> tuple[str, list[tuple[str, str]]]:
    """``url``'s status and header fields (lower-case names), through curl: over HTTP/2
    unless ``options`` say otherwise (``--http1.1``)."""
    done = subprocess.run(
        ["curl", "-sk", "--http2", *options, "-o", "/dev/null", "-D", "-", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = done.stdout.splitlines()
    status = lines[0].split()[1]
    fields = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
        if name.strip()
    ]
    return status, fields


@pytest.mark.parametrize("name", ["nginx", "h2o", "apache"])
def test_an_http1_client_is_recorded_as_holding_what_it_preloads(
    name: str, launcher: Launcher, backend: Gunicorn
) -> None:
    """No front pushes over HTTP/1.1, and none tells the app the client's protocol: its
    links are offered for push and recorded all the same, the files a browser preloads
    itself, so it holds them when it comes back over HTTP/2 (docs/proxies.md)."""
    require_tools("curl")
    front = start_front(name, launcher, backend)
    status, fields = curl_head(f"{front.origin}/page/http1", "--http1.1")
    assert status == "200"
    offered = parse_links(", ".join(value for field, value in fields if field == "link"))
    assert [link.url for link in offered] == page_links("http1")
    assert not any(link.nopush for link in offered)
    [digest] = [v for f, v in fields if f == "set-cookie" and v.startswith(f"{COOKIE}=")]
    browser = Browser(front.origin, COOKIE)
    browser.cookies[COOKIE] = digest.split(";", 1)[0].partition("=")[2]
    again = browser.view("/page/http1")
    assert again.pushed == []
    assert again.nopush == page_links("http1")


def test_every_view_gets_the_backends_status(edge_browse: EdgeBrowse) -> None:
    """No 502: the return visits to the 85 fingerprinted preloads too."""
    assert edge_browse.wrong_statuses == []


def test_a_proxy_promises_exactly_the_plain_preloads(edge_browse: EdgeBrowse) -> None:
    """Per response: every link offered for push is promised, and nothing else is."""
    assert edge_browse.disagreements == []


def test_nothing_is_recorded_that_was_not_pushed(edge_browse: EdgeBrowse) -> None:
    assert edge_browse.recorded_never_pushed() == []
    # What the cookie holds beyond the offers can only be false positives.
    assert edge_browse.digest.to_bytes() == edge_browse.model().to_bytes()


def test_nothing_is_pushed_twice(edge_browse: EdgeBrowse) -> None:
    assert edge_browse.pushed_twice() == {}


def test_only_unpushable_urls_and_false_positives_are_missed(edge_browse: EdgeBrowse) -> None:
    missed = edge_browse.missed()
    assert missed["?"] == []
    assert sorted(missed["not path-absolute"]) == sorted(
        url for url in edge_browse.linked if not path_absolute(url)
    )
    # https://…, //…, rel/… and the other origin's https://… on /page/forms
    assert len(missed["not path-absolute"]) == 4


def test_only_the_fingerprinted_page_loses_links_to_the_budget(edge_browse: EdgeBrowse) -> None:
    assert set(edge_browse.past_budget()) <= set(page_links("assets"))


def test_a_views_own_preload_takes_no_recorded_push_s_place_behind_nginx(
    launcher: Launcher, backend: Gunicorn
) -> None:
    """nginx pushes the first 10 plain preloads in header order: a view's own preload
    written before ours pushed it and left our tenth, recorded as held, never promised."""
    front = launcher.nginx([backend])
    browser = Browser(front.origin, COOKIE)
    view = browser.view("/own-link/own")
    ours = page_links("own")
    assert sorted(link.url for link in view.links) == sorted([*ours, OWN_PRELOAD])
    digest = decode(browser.cookies[COOKIE])
    held = [url for url in ours if url in digest]
    assert held == ours  # all offered for push, and recorded
    assert sorted(set(held) - set(view.pushed)) == []  # and every one of them promised


def _cut_page_pushes_what_it_records(browser: Browser, view: View) -> None:
    """A view of ``/cuts/…``: served, what every proxy pushes promised and recorded, and
    the rest nopush, after it."""
    assert view.status == 200  # nginx reset the page's stream for "%of" and "%2F.."
    assert [link.url for link in view.links if not link.nopush] == CUT_PAGE_PUSHED
    assert sorted(view.pushed) == sorted(CUT_PAGE_PUSHED)
    urls = [link.url for link in view.links]
    assert sorted(urls) == sorted(url for url, _ in CUT_PAGE)
    cut = [url for url, _ in CUT_PAGE if "," in url or ";" in url]
    assert urls[-len(cut) :] == cut  # after every link h2o must read
    digest = decode(browser.cookies[COOKIE])
    assert [url for url, _ in CUT_PAGE if url in digest] == CUT_PAGE_PUSHED


@pytest.mark.parametrize("name", ["nginx", "h2o", "apache"])
def test_links_a_proxy_cuts_the_link_value_at_cost_no_page_and_no_push(
    name: str, launcher: Launcher, backend: Gunicorn
) -> None:
    """Urls with "," or ";", a stray "%" and "%2F.." among plain preloads: h2o pushed
    none from a "," or ";" url on (yet all were recorded), and nginx reset the page's own
    stream. On the return visit, no push."""
    front = start_front(name, launcher, backend)
    browser = Browser(front.origin, COOKIE)
    _cut_page_pushes_what_it_records(browser, browser.view(f"/cuts/{name}"))
    again = browser.view(f"/cuts/{name}")
    assert (again.status, again.pushed) == (200, [])
    assert all(link.nopush for link in again.links)


@pytest.mark.parametrize("name", ["h2o", "apache"])
def test_a_103_with_links_a_proxy_cuts_at_pushes_what_it_records(
    name: str, launcher: Launcher, hinting_backend: Gunicorn
) -> None:
    """h2o and Apache push what a 103 links: the 103 writes the links a proxy cuts at
    last, and offers none of them."""
    front = start_front(name, launcher, hinting_backend)
    learner = Browser(front.origin, COOKIE)
    assert learner.view(f"/cuts/103-{name}").status == 200
    client = Browser(front.origin, COOKIE)
    _cut_page_pushes_what_it_records(client, client.view(f"/cuts/103-{name}"))


#: Links of /page/forms no 103 may carry: this origin's, in a form a proxy may push and the
#: final response never records (a proxy's authority stands in for any).
UNHINTABLE_FORMS = {"https://", "//", "rel/"}


def same_origin_unrecordable(url: str) -> bool:
    return not url.startswith(OTHER_ORIGIN) and not path_absolute(url)


def test_with_early_hints_every_view_gets_the_backends_status(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    assert [result.wrong_statuses for result in hinted_browses] == [[], []]


def test_with_early_hints_a_proxy_promises_exactly_the_plain_preloads(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    """Per response, 103 included: a 103 hints no push its final response does not make,
    but on a 404 or 304 after a 200 (documented), reported apart."""
    for result in hinted_browses:
        print(f"\n{result.proxy}, 404/304 after a 200: {result.documented_disagreements}")
    assert [result.disagreements for result in hinted_browses] == [[], []]


def test_with_early_hints_nothing_is_recorded_that_was_not_pushed(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    for result in hinted_browses:
        assert result.recorded_never_pushed() == [], result.proxy
        assert result.digest.to_bytes() == result.model().to_bytes(), result.proxy


def test_with_early_hints_nothing_is_pushed_twice(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    """Not even a push a 103 asked for and the final response asked for again; what a 404
    or 304 after a 200 pushed, and a later view pushes again, is reported apart."""
    for result in hinted_browses:
        print(f"\n{result.proxy}, pushed on a 404/304, again later: ", end="")
        print(result.documented_pushed_again())
    assert [result.pushed_twice() for result in hinted_browses] == [{}, {}]


def test_with_early_hints_every_push_is_recorded(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    """A 404 after a 200 too: what its 103 made the proxy push, the final response records."""
    for result in hinted_browses:
        print(f"\n{result.proxy}, pushed on a 404/304: {result.documented_pushes()}")
    assert [result.pushed_not_recorded() for result in hinted_browses] == [{}, {}]


def test_with_early_hints_only_unpushable_urls_and_false_positives_are_missed(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    for result in hinted_browses:
        missed = result.missed()
        assert missed["?"] == [], result.proxy
        assert sorted(missed["not path-absolute"]) == sorted(
            url for url in result.linked if not path_absolute(url)
        ), result.proxy


def test_a_103_hints_the_client_all_but_what_a_proxy_may_push_unrecorded(
    hinted_browses: tuple[EdgeBrowse, EdgeBrowse],
) -> None:
    """Seen behind Apache, which forwards the 103 (h2o 2.2 pushes from it, forwards none;
    nginx's HTTP/1.0 upstream gets none): pages the learner taught are hinted to the client
    from its first view, /page/fifteen's 15 in two views of 10 and 5, and of /page/forms
    only its path-absolute url: behind a front the app cannot tell its own origin spelled
    absolute (which the front pushes) from another, so neither is hinted."""
    _, client = hinted_browses
    if not client.proxy.startswith("apache"):
        assert client.hinted == []
        return
    hinted = set(client.hinted)
    assert {f"/res/many-{number:02}.css" for number in range(15)} <= hinted
    assert f"{OTHER_ORIGIN}/res/forms-other-origin.css" not in hinted
    assert "/res/forms-path-absolute.css" in hinted
    assert [url for url in client.hinted if same_origin_unrecordable(url)] == []
