"""Fronts that push nothing, in front of a gunicorn sending 103 Early Hints: Debian 12's
HAProxy 2.6 and Caddy 2.6 (TLS, HTTP/2 and HTTP/1.1) and Varnish 7.1 (plain HTTP/1.1).

Each front runs with its defaults but for what it needs to listen on loopback and reach
one gunicorn serving ``hints_app`` (``FIREHOSE_EARLY_HINTS`` on, one sync worker). A client
is curl with a cookie jar of its own (``test_early_hints.Client``), or nghttp for cookie
fields sent one per header. Each test uses paths of its own, learned by no other test.
"""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import Front, Server, executable, make_certificate

from .launcher import LIVE_SERVERS, TEST_EXTRA, require, require_tools
from .test_early_hints import CSS, GUNICORN, JS, Client, HintsGunicorn, statuses

pytestmark = pytest.mark.integration


class _ReverseProxy(Front):
    """A TLS front to one gunicorn backend."""

    def __init__(self, backend: int, certificate: tuple[Path, Path], workdir: Path) -> None:
        super().__init__(workdir)
        self.backend = backend
        self.certificate = certificate


class HAProxy(_ReverseProxy):
    """HAProxy 2.6, TLS with ALPN ``h2,http/1.1``, ``mode http`` to one backend."""

    name = "haproxy"

    def argv(self) -> list[str]:
        cert, key = self.certificate
        # HAProxy reads the certificate and its key from one file.
        pem = self.workdir / "haproxy.pem"
        pem.write_text(cert.read_text() + key.read_text())
        conf = self.workdir / "haproxy.cfg"
        conf.write_text(
            "defaults\n"
            "  mode http\n"
            "  timeout connect 5s\n"
            "  timeout client 30s\n"
            "  timeout server 30s\n"
            "frontend site\n"
            f"  bind 127.0.0.1:{self.port} ssl crt {pem} alpn h2,http/1.1\n"
            "  default_backend app\n"
            "backend app\n"
            f"  server gunicorn 127.0.0.1:{self.backend}\n"
        )
        # -db: in the foreground, logging to stderr.
        return [executable("haproxy") or "haproxy", "-db", "-f", str(conf)]


class Caddy(_ReverseProxy):
    """Caddy 2.6 ``reverse_proxy`` to one backend, TLS from the given certificate, HTTP/1.1
    and HTTP/2 (no HTTP/3: curl and nghttp here speak neither), no admin endpoint."""

    name = "caddy"

    def argv(self) -> list[str]:
        cert, key = self.certificate
        conf = self.workdir / "Caddyfile"
        conf.write_text(
            "{\n  admin off\n  auto_https off\n  servers {\n    protocols h1 h2\n  }\n}\n"
            f"https://127.0.0.1:{self.port} {{\n"
            "  bind 127.0.0.1\n"
            f"  tls {cert} {key}\n"
            f"  reverse_proxy 127.0.0.1:{self.backend}\n"
            "}\n"
        )
        caddy = shutil.which("caddy") or "caddy"
        return [caddy, "run", "--config", str(conf), "--adapter", "caddyfile"]

    def env(self) -> dict[str, str]:
        # Caddy keeps its state under $HOME/$XDG_*: in the workdir, not root's home.
        home = str(self.workdir)
        return {**super().env(), "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}


class Varnish(Server):
    """``varnishd -F`` with its built-in VCL (``-b``: one backend), plain HTTP/1.1."""

    name = "varnish"

    def __init__(self, backend: int, workdir: Path) -> None:
        super().__init__(workdir)
        self.backend = backend

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        varnishd = executable("varnishd") or "varnishd"
        # -n: its working directory (shared memory log) here, not /var/lib/varnish.
        return [varnishd, "-F", "-a", f"127.0.0.1:{self.port}", "-b",
                f"127.0.0.1:{self.backend}", "-n", str(self.workdir / "varnish"),
                "-s", "malloc,16m"]  # fmt: skip


def _start(request: pytest.FixtureRequest, server: Server) -> Iterator[None]:
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)  # its log is attached to a failing test's report
        try:
            yield
        finally:
            live.remove(server)


@pytest.fixture(scope="module")
def hinting(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HintsGunicorn]:
    require(f"gunicorn ({GUNICORN})", GUNICORN.exists(), TEST_EXTRA)
    require_tools("curl")
    server = HintsGunicorn(
        tmp_path_factory.mktemp("gunicorn-fronts"), {"FIREHOSE_EARLY_HINTS": True}
    )
    for _ in _start(request, server):
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_tools("openssl")
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module", params=["haproxy", "caddy"])
def front(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hinting: HintsGunicorn,
    certificate: tuple[Path, Path],
) -> Iterator[Front]:
    require_tools(request.param)
    require_tools("nghttp")
    kind = HAProxy if request.param == "haproxy" else Caddy
    server = kind(hinting.port, certificate, tmp_path_factory.mktemp(request.param))
    for _ in _start(request, server):
        yield server


@pytest.fixture(scope="module")
def varnish(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hinting: HintsGunicorn,
) -> Iterator[Varnish]:
    require_tools("varnishd")
    server = Varnish(hinting.port, tmp_path_factory.mktemp("varnish"))
    for _ in _start(request, server):
        yield server


@pytest.mark.parametrize("protocol", ["--http2", "--http1.1"])
def test_the_103_passes_through_to_a_fresh_client(
    front: Front, protocol: str, tmp_path: Path
) -> None:
    """Both fronts forward the app's 103 as it was sent, over HTTP/2 and HTTP/1.1, then the
    page with the same links and the digest that records them."""
    path = f"/page/fresh{protocol}"
    Client(tmp_path / "learner").get(front.origin + path, "-k", protocol)

    replies = Client(tmp_path / "fresh").get(front.origin + path, "-k", protocol)

    assert statuses(replies) == [103, 200]
    assert replies[0].header("Link") == [f"{CSS}, {JS}"]
    assert replies[1].header("Link") == [f"{CSS}, {JS}"]
    assert [v for v in replies[1].header("Set-Cookie") if v.startswith("h2-digest=")]


def test_a_returning_client_gets_no_103_through_the_front(front: Front, tmp_path: Path) -> None:
    client = Client(tmp_path / "returning")
    client.get(front.origin + "/page/returning", "-k", "--http2")

    again = client.get(front.origin + "/page/returning", "-k", "--http2")

    assert statuses(again) == [200]
    assert again[0].header("Link") == [f"{CSS}; nopush, {JS}; nopush"]


def test_cookie_fields_sent_one_per_header_over_http2_are_joined(
    front: Front, tmp_path: Path
) -> None:
    """A browser sends each cookie as a header field of its own over HTTP/2; each front
    joins them with "; " for its HTTP/1.1 upstream, so the digest beside another cookie
    is read (no 103, every link ``nopush``)."""
    first = Client(tmp_path / "learner").get(front.origin + "/page/fields", "-k", "--http2")
    [digest] = [v for v in first[-1].header("Set-Cookie") if v.startswith("h2-digest=")]
    crumb = digest.partition(";")[0]

    done = subprocess.run(
        ["nghttp", "-nv", "--timeout=10", "-H", "cookie: theme=dark", "-H", f"cookie: {crumb}",
         "-H", "cookie: b=2", front.origin + "/page/fields"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    received = [line.split(") ", 1)[1] for line in done.stdout.splitlines() if "recv (" in line]
    assert ":status: 200" in received, done.stdout
    assert f"link: {CSS}; nopush, {JS}; nopush" in received, done.stdout


def test_a_python_client_through_the_front_gets_the_page(front: Front, tmp_path: Path) -> None:
    """Python's ``http.client`` (under ``urllib`` and ``requests``; Python 3.11.2 and
    requests 2.34.2 measured) skips a ``100 Continue`` only: it reads a 103 as the final
    response, with no body. Such a client sends no ``Sec-Fetch-*`` and ``Accept: */*`` (or
    none), as a link checker, a monitor or a scraper does; both fronts pass the 103 on to
    its HTTP/1.1, so once a page is learned it got ``103 Early Hints`` and an empty page."""
    path = "/page/python-client"
    Client(tmp_path / "learner").get(front.origin + path, "-k", "-H", "Accept: text/html")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the rig's self-signed certificate
    connection = http.client.HTTPSConnection("127.0.0.1", front.port, context=context)
    try:
        connection.request("GET", path, headers={"Accept": "*/*"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert (response.status, body) == (200, b"page python-client\n")


def test_varnish_serves_a_fresh_client_the_page_of_a_learned_url(
    varnish: Varnish, tmp_path: Path
) -> None:
    """Varnish 7.1 reads a backend's 103 as the final response, finds no body after it and
    answers 503 "Backend fetch failed" (varnishlog: ``BerespStatus 103``, ``Error Body
    cannot be fetched``). So once a page is learned, every client lacking its links would
    get a 503: behind Varnish (it adds ``X-Varnish`` to what it forwards), no 103 is sent."""
    Client(tmp_path / "learner").get(varnish.origin + "/page/varnish")

    for name in ("fresh", "another"):
        replies = Client(tmp_path / name).get(varnish.origin + "/page/varnish")

        assert statuses(replies) == [200]
        assert replies[0].header("Link") == [f"{CSS}, {JS}"]
        assert [v for v in replies[0].header("Set-Cookie") if v.startswith("h2-digest=")]


@pytest.mark.parametrize(
    ("path", "stored"),
    [("/page/varnish-cache", False), ("/nopush/varnish-cache", True)],
    ids=["a page that pushes", "a page whose links are all nopush"],
)
def test_varnish_stores_for_new_clients_only_a_page_that_sets_no_cookie(
    varnish: Varnish, tmp_path: Path, path: str, stored: bool
) -> None:
    """docs/security.md, measured: behind Varnish's built-in VCL, a page that pushes sets
    the digest cookie on each new client's response, which Varnish keeps as hit-for-miss,
    so the next new client is served by the app too (``X-Varnish`` names one request, and
    it gets its own digest). A page whose links are all ``nopush`` sets no cookie and does
    not vary on ``Cookie`` for a client holding none: the next new client gets it from the
    cache (``X-Varnish`` names its request and the stored one's), its ``Link`` as the app
    wrote it. A request that sends a ``Cookie`` is passed to the app either way."""
    first = Client(tmp_path / "first").get(varnish.origin + path)
    second = Client(tmp_path / "second").get(varnish.origin + path)
    with_cookie = Client(tmp_path / "third").get(varnish.origin + path, "-H", "Cookie: a=1")

    # One request named, and a 200: the app's page, not Varnish's own 503 for a fetch.
    assert statuses(with_cookie) == [200]
    assert len(with_cookie[-1].header("X-Varnish")[0].split()) == 1, with_cookie[-1].headers
    [reply] = second
    [served_by] = reply.header("X-Varnish")
    assert (len(served_by.split()) == 2) is stored, reply.headers
    sets_digest = [v for v in reply.header("Set-Cookie") if v.startswith("h2-digest=")]
    assert bool(sets_digest) is not stored
    assert reply.header("Link") == first[-1].header("Link")
    nopush = "; nopush" if stored else ""
    assert reply.header("Link") == [f"{CSS}{nopush}, {JS}{nopush}"]
