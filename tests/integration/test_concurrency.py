"""Concurrent clients against gunicorn: no errors, no cross-talk; and last write wins.

Ten clients (threads, each with its own cookie) browse disjoint sets of pages of the
example site at once, straight against gunicorn (threads: gthread; processes: a sync pool).
After every response the client's digest cookie must be byte for byte the digest of what
*that* client was pushed, replayed locally: another client's resource, or a lost one,
cannot hide.

Then the limit every cookie digest shares: a browser that sends N requests in parallel
sends the same cookie with each, each response signs that cookie plus its own new
resources, and the browser keeps the last ``Set-Cookie`` it reads. Measured here, and
printed; see "Parallel requests" in docs/security.md.
"""

from __future__ import annotations

import functools
import http.client
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from examples.site import browse_indices, site_files, write_assets
from firehose_digest import AgingDigest, BloomDigest, GCSDigest
from firehose_digest.codec import DigestCodec, salt_for
from tests.integration.rig import SITE_APP, Gunicorn, Link, parse_links, site_env

from .launcher import DIGEST_SETTINGS, SECRET_KEY, Launcher

pytestmark = pytest.mark.integration

COOKIE = "h2-digest"
CLIENTS = 10
PAGES_PER_CLIENT = 15
#: Client c browses pages 20c .. 20c + 14, so assets 60c .. 60c + 51: disjoint sets.
PAGE_SPACING = 20
SITE_ASSETS = 3 * PAGE_SPACING * CLIENTS
#: Parallel requests of one browser, each to a page with 10 resources of its own.
BURST = 8
TIMEOUT = 15.0
KINDS: dict[str, type[GCSDigest] | type[BloomDigest]] = {"gcs": GCSDigest, "bloom": BloomDigest}
CAPACITY = int(str(DIGEST_SETTINGS["FIREHOSE_CAPACITY"]))
FP_RATE = float(str(DIGEST_SETTINGS["FIREHOSE_FP_RATE"]))
CODEC = DigestCodec([SECRET_KEY], salt_for(""), 3600)

_ASSET_URLS = ["/static/" + name for name in list(site_files(SITE_ASSETS))[3:]]


def page_urls(page: int) -> list[str]:
    """The resources ``/browse/<page>`` declares, in order."""
    return [_ASSET_URLS[i] for i in browse_indices(page, SITE_ASSETS)]


@dataclass(frozen=True)
class Reply:
    status: int
    links: list[Link]
    #: The digest cookie the response set, or None.
    cookie: str | None


def get(port: int, path: str, cookie: str | None) -> Reply:
    """One GET straight to gunicorn on its own connection, as HTTP/1.1."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
        response = connection.getresponse()
        response.read()
        set_cookie = None
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name == COOKIE:
                set_cookie = rest.split(";", 1)[0]
        links = parse_links(", ".join(response.headers.get_all("Link") or []))
        return Reply(response.status, links, set_cookie)
    finally:
        connection.close()


def decode(cookie: str) -> AgingDigest:
    return AgingDigest.from_bytes(CODEC.loads(cookie).payload)


@dataclass
class Client:
    """One browser: its own cookie, its own pages, and a local replay of its digest."""

    number: int
    port: int
    kind: type[BloomDigest] | type[GCSDigest]
    cookie: str | None = None
    requests: int = 0
    pushed: set[str] = field(default_factory=set)
    false_positives: int = 0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.model = AgingDigest(self.kind, CAPACITY, FP_RATE)
        first = self.number * PAGE_SPACING
        self.pages = list(range(first, first + PAGES_PER_CLIENT))

    @property
    def assets(self) -> set[str]:
        return {url for page in self.pages for url in page_urls(page)}

    def browse(self, start: threading.Barrier) -> None:
        rng = random.Random(self.number)
        first_pass, second_pass = rng.sample(self.pages, len(self.pages)), list(self.pages)
        rng.shuffle(second_pass)
        start.wait(TIMEOUT)
        try:
            for page in first_pass:
                self.view(page)
            for page in second_pass:
                if self.view(page):
                    self.problems.append(f"page {page} pushed something on the second pass")
        except Exception as e:  # reported by the test, with the client's number
            self.problems.append(f"{type(e).__name__}: {e}")

    def view(self, page: int) -> list[str]:
        """View a page, check it against the replayed digest; return what it pushed."""
        reply = get(self.port, f"/browse/{page}", self.cookie)
        self.requests += 1
        where = f"client {self.number}, page {page}"
        if reply.status != 200:
            self.problems.append(f"{where}: status {reply.status}")
            return []
        declared = [link.url for link in reply.links]
        nopush = [link.url for link in reply.links if link.nopush]
        new = [link.url for link in reply.links if not link.nopush]
        if declared != page_urls(page):
            self.problems.append(f"{where}: declared {declared}")
        if nopush != [url for url in declared if url in self.model]:
            self.problems.append(f"{where}: nopush {nopush} is not what this client holds")
        if set(new) & self.pushed:
            self.problems.append(f"{where}: pushed again {sorted(set(new) & self.pushed)}")
        self.false_positives += len(set(nopush) - self.pushed)
        for url in new:
            self.model.add(url)
        self.pushed.update(new)
        if not new and reply.cookie is not None:
            self.problems.append(f"{where}: an unchanged digest was signed again")
        if new:
            if reply.cookie is None:
                self.problems.append(f"{where}: new pushes but no cookie")
            elif decode(reply.cookie).to_bytes() != self.model.to_bytes():
                self.problems.append(f"{where}: the cookie is not this client's digest")
            self.cookie = reply.cookie or self.cookie
        return new


@pytest.fixture
def static_assets(tmp_path: Path) -> Path:
    directory = tmp_path / "static"
    write_assets(directory, SITE_ASSETS)
    return directory


ServerFactory = Callable[[int, int, str], Gunicorn]


@pytest.fixture
def start_site(own_servers: Launcher, static_assets: Path, tmp_path: Path) -> ServerFactory:
    """Start the example site under gunicorn with ``workers`` and ``threads``."""

    def start(workers: int, threads: int, encoding: str) -> Gunicorn:
        env = site_env(
            SECRET_KEY=SECRET_KEY,
            SITE_ASSETS=SITE_ASSETS,
            SITE_STATIC_DIR=static_assets,
            FIREHOSE_ENCODING=encoding,
            **DIGEST_SETTINGS,
        )
        workdir = tmp_path / f"gunicorn-{workers}x{threads}"
        server = Gunicorn(SITE_APP, workdir, env, workers=workers, threads=threads)
        return own_servers.start(server)

    return start


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(4 * TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client hung"


@pytest.mark.parametrize(
    ("workers", "threads", "encoding", "worker_class"),
    [(1, 8, "gcs", "gthread"), (4, 1, "bloom", "sync")],
    ids=["gthread-8-threads-gcs", "sync-4-workers-bloom"],
)
def test_concurrent_clients_see_only_their_own_digest(
    start_site: ServerFactory, workers: int, threads: int, encoding: str, worker_class: str
) -> None:
    site = start_site(workers, threads, encoding)
    assert f"Using worker: {worker_class}" in site.log()
    clients = [Client(number, site.port, KINDS[encoding]) for number in range(CLIENTS)]
    assert all(a.assets.isdisjoint(b.assets) for a in clients for b in clients if a is not b)
    start = threading.Barrier(CLIENTS)

    run_threads([functools.partial(client.browse, start) for client in clients])

    problems = [problem for client in clients for problem in client.problems]
    requests = sum(client.requests for client in clients)
    false_positives = sum(client.false_positives for client in clients)
    foreign = 0
    for client in clients:
        digest = decode(client.cookie or "")
        others = set().union(*(other.assets for other in clients if other is not client))
        foreign += sum(url in digest for url in others)
        assert client.pushed | {u for u in client.assets if u in digest} == client.assets
    print(
        f"\n{worker_class} ({workers} x {threads}), {encoding}: {CLIENTS} clients, {requests} "
        f"requests, {len(problems)} problems; false positives at push time "
        f"{false_positives}; other clients' urls matching a final digest (false positives "
        f"only) {foreign} of {CLIENTS * (CLIENTS - 1) * len(clients[0].assets)}"
    )
    assert problems == []
    assert requests == CLIENTS * PAGES_PER_CLIENT * 2
    assert site.requests_served(requests) == requests
    assert "Traceback" not in site.log()


@dataclass(frozen=True)
class Burst:
    """N requests sent at once with one cookie; the replies in the order they were read."""

    replies: list[tuple[str, Reply]]

    @property
    def last_cookie(self) -> str | None:
        """What the browser keeps: the last ``Set-Cookie`` it read."""
        cookies = [reply.cookie for _, reply in self.replies if reply.cookie is not None]
        return cookies[-1] if cookies else None


def burst(port: int, paths: list[str], cookie: str | None) -> Burst:
    start = threading.Barrier(len(paths))
    lock = threading.Lock()
    replies: list[tuple[str, Reply]] = []

    def one(path: str) -> None:
        start.wait(TIMEOUT)
        reply = get(port, path, cookie)
        with lock:
            replies.append((path, reply))

    run_threads([functools.partial(one, path) for path in paths])
    assert len(replies) == len(paths)
    assert all(reply.status == 200 for _, reply in replies)
    return Burst(replies)


def visit(port: int, paths: list[str], cookie: str | None) -> tuple[int, str | None]:
    """View ``paths`` one after another like a browser; return the pushes and the cookie."""
    pushes = 0
    for path in paths:
        reply = get(port, path, cookie)
        assert reply.status == 200
        pushes += sum(not link.nopush for link in reply.links)
        cookie = reply.cookie or cookie
    return pushes, cookie


def digest_of(cookie: str | None, paths: list[str]) -> bytes:
    """The digest a cookie holds once the pages' resources are added, as bytes."""
    digest = decode(cookie) if cookie else AgingDigest(GCSDigest, CAPACITY, FP_RATE)
    for path in paths:
        for url in page_urls(int(path.rsplit("/", 1)[1])):
            digest.add(url)
    return digest.to_bytes()


@pytest.fixture
def threaded_site(start_site: ServerFactory) -> Gunicorn:
    return start_site(1, 8, "gcs")


def test_parallel_requests_of_one_browser_last_write_wins(threaded_site: Gunicorn) -> None:
    """N parallel page views each pushing 10 new resources: N - 1 pages' pushes are lost."""
    port = threaded_site.port
    _, start_cookie = visit(port, ["/"], None)
    # Pages 4 apart share no resource.
    pages = [f"/browse/{100 + 4 * i}" for i in range(BURST)]

    parallel = burst(port, pages, start_cookie)
    final = parallel.last_cookie

    assert all(reply.cookie is not None for _, reply in parallel.replies)
    # Each response signed the starting digest plus its own page, and nothing else: the
    # browser keeps exactly one page's worth.
    assert final is not None
    assert decode(final).to_bytes() in {digest_of(start_cookie, [page]) for page in pages}
    repeated, _ = visit(port, pages, final)
    pushed = sum(not link.nopush for _, reply in parallel.replies for link in reply.links)
    assert pushed >= BURST * 10 - 2  # but for false positives, every resource was new
    print(
        f"\nlast write wins: {BURST} parallel page views pushed {pushed} resources; the next "
        f"visit pushed {repeated} of them again ({repeated / pushed:.0%}; "
        f"(N - 1) / N = {(BURST - 1) / BURST:.0%})"
    )
    assert pushed - 10 - 2 <= repeated <= pushed - 10


def test_parallel_requests_that_push_nothing_new_lose_nothing(threaded_site: Gunicorn) -> None:
    """A digest is signed only when it changed: one new page among pages already held."""
    port = threaded_site.port
    held = [f"/browse/{140 + 4 * i}" for i in range(BURST - 1)]
    _, start_cookie = visit(port, held, None)
    new_page = "/browse/180"

    parallel = burst(port, [*held, new_page], start_cookie)

    setters = [path for path, reply in parallel.replies if reply.cookie is not None]
    assert setters == [new_page]
    assert decode(parallel.last_cookie or "").to_bytes() == digest_of(start_cookie, [new_page])
    repeated, _ = visit(port, [new_page, *held], parallel.last_cookie)
    print(f"\nparallel requests with one new page: {repeated} pushes repeated")
    assert repeated == 0
