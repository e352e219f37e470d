"""A shared HTTP cache in front of the app: nginx ``proxy_cache``, Apache ``mod_cache_disk``.

Each front is ``docs/deploy``'s configuration with a cache added, as a site that
micro-caches its pages adds one, in front of one gunicorn serving ``cache_app``
(``cache_app:create_app()``, the digest cookie or, parametrized, Flask's session). Clients
are :class:`~tests.integration.rig.Browser` instances (``nghttp``, each its own cookies) or
curl over HTTP/2, so that one client's response can be stored and served to another. Each
test uses paths of its own, stored by no other test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import Apache, Browser, Nginx, Server, make_certificate, site_env

from .launcher import LIVE_SERVERS, require_tools

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
PAGE_FILES = ["/static/site.css", "/static/app.js"]


class CacheGunicorn(Server):
    """gunicorn serving ``cache_app`` on a free loopback port, one sync worker."""

    name = "gunicorn-cache"

    def __init__(self, workdir: Path, settings: dict[str, object]) -> None:
        super().__init__(workdir)
        self.settings = settings

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1",
            "--chdir", str(HERE),
            "--access-logfile", "-",
            "--graceful-timeout", "3",
            # Else every gunicorn shares one socket under ~/.gunicorn.
            "--no-control-socket",
            "cache_app:create_app()",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, **site_env(**self.settings)}


class CachingNginx(Nginx):
    """``docs/deploy/nginx.conf`` with ``proxy_cache`` on ``/`` (nginx's defaults
    otherwise: it honours ``Vary`` and stores no response that sets a cookie)."""

    def config(self) -> str:
        zone = (
            f"  proxy_cache_path {self.workdir}/cache levels=1:2 keys_zone=pages:1m "
            "max_size=10m inactive=10m;\n  upstream backends {"
        )
        text = super().config().replace("  upstream backends {", zone, 1)
        return text.replace(
            "      http2_push_preload on;",
            "      http2_push_preload on;\n"
            "      proxy_cache pages;\n"
            "      proxy_cache_revalidate on;\n"
            "      add_header X-Cache $upstream_cache_status always;",
            1,
        )


class CachingApache(Apache):
    """``docs/deploy/apache.conf`` with ``mod_cache`` and ``mod_cache_disk`` on ``/``
    (Apache's defaults otherwise: it honours ``Vary``). The cache lives in a directory of
    its own that the child, serving as www-data, can reach (pytest's are root's alone)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cache = Path(tempfile.mkdtemp(prefix="apache-cache-"))
        self.cache.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.cache, "www-data")

    def config(self) -> str:
        modules = "/usr/lib/apache2/modules"
        directives = (
            f"LoadModule cache_module {modules}/mod_cache.so\n"
            f"LoadModule cache_disk_module {modules}/mod_cache_disk.so\n"
            f'CacheRoot "{self.cache}"\n'
            "CacheEnable disk /\n"
            "CacheHeader on\n"
        )
        return super().config().replace("ProxyPass /", directives + "ProxyPass /", 1)

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.cache, ignore_errors=True)


def _start(request: pytest.FixtureRequest, server: Server) -> Iterator[None]:
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)  # its log is attached to a failing test's report
        try:
            yield
        finally:
            live.remove(server)


@pytest.fixture(scope="module", params=["digest", "session"])
def cached_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CacheGunicorn]:
    require_tools("nghttp", "curl", "openssl")
    settings: dict[str, object] = {"CACHE_CONNECTOR": request.param}
    server = CacheGunicorn(tmp_path_factory.mktemp("gunicorn-cache"), settings)
    for _ in _start(request, server):
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_tools("openssl")
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def static_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cache-static")
    (directory / "site.css").write_text("body { margin: 0 }\n")
    (directory / "app.js").write_text("console.log(1);\n")
    return directory


@pytest.fixture(scope="module")
def caching_nginx(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    cached_site: CacheGunicorn,
    certificate: tuple[Path, Path],
    static_files: Path,
) -> Iterator[CachingNginx]:
    require_tools("nginx")
    workdir = tmp_path_factory.mktemp("caching-nginx")
    server = CachingNginx([cached_site.port], static_files, certificate, workdir)
    for _ in _start(request, server):
        yield server


@pytest.fixture(scope="module")
def caching_apache(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    cached_site: CacheGunicorn,
    certificate: tuple[Path, Path],
) -> Iterator[CachingApache]:
    require_tools("apache2")
    workdir = tmp_path_factory.mktemp("caching-apache")
    server = CachingApache(cached_site.port, certificate, workdir)
    for _ in _start(request, server):
        yield server


def curl_body(url: str, cookies: dict[str, str], *headers: str) -> tuple[str, list[str]]:
    """The body curl got over HTTP/2, and the response's header lines."""
    argv = ["curl", "-sk", "--http2", "--max-time", "10", "-D", "-"]
    if cookies:
        argv += ["-H", "cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    for header in headers:
        argv += ["-H", header]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    head, _, body = done.stdout.partition("\n\n")  # text mode reads CRLF as LF
    return body, head.splitlines()


@pytest.mark.parametrize("front", ["nginx", "apache"])
def test_each_cache_stores_a_public_page(
    front: str, caching_nginx: CachingNginx, caching_apache: CachingApache
) -> None:
    """The rig's caches work (so no test below passes for want of one): a returning
    client's public page is stored, then served from the cache."""
    server = caching_nginx if front == "nginx" else caching_apache
    path = f"/public/stored-{front}"
    browser = Browser(server.origin)
    browser.view(path)  # gets its digest (a response that sets a cookie)
    caches: list[str] = []
    for _ in range(20):  # Apache may still be writing what it stored: up to 4 s
        _, head = curl_body(server.origin + path, browser.cookies)
        caches += [line.split(":")[1].split()[0] for line in head if line.startswith("x-cache:")]
        if "HIT" in caches:
            break
        time.sleep(0.2)
    assert caches[0] == "MISS"
    assert "HIT" in caches


def test_the_apps_own_vary_still_keys_nginxs_cache(caching_nginx: CachingNginx) -> None:
    """A page whose body depends on ``Accept-Encoding`` says so (``Vary: Accept-Encoding``,
    as Flask-Compress writes it). Our ``Vary: Cookie`` must not make a cache forget it:
    nginx 1.22 keys its cache on the last ``Vary`` line alone, so ours, added as a second
    line, had a client that asked for no encoding served the gzip client's body. (Flask's
    session adds ``Cookie`` to the app's own ``Vary`` line: the session case passes.
    Apache's cache reads every line.)"""
    url = caching_nginx.origin + "/compressed/vary"
    browser = Browser(caching_nginx.origin)
    browser.view("/compressed/vary", headers=[("accept-encoding", "gzip")])  # its cookie
    # The same client's next two views (cookie unchanged): stored, then asked for plainly.
    gzip_body, _ = curl_body(url, browser.cookies, "accept-encoding: gzip")
    plain_body, head = curl_body(url, browser.cookies, "accept-encoding: identity")
    assert gzip_body.startswith("GZIP")
    assert plain_body.startswith("IDENTITY"), head


def test_cookie_on_an_earlier_vary_line_still_keys_nginxs_cache(
    caching_nginx: CachingNginx,
) -> None:
    """nginx 1.22 keys its cache on the last ``Vary`` line alone, which is why ``Cookie``
    now joins that line (security.md: "Cookie joins the response's last Vary line").
    Where a view's ``Vary: Cookie`` comes on an earlier line (``Vary: Cookie``, then a
    hook's ``Vary: Origin``), nothing is added, and nginx keys the page on ``Origin``
    alone: a returning client's page (every link held, ``nopush``, no ``Set-Cookie``) is
    stored and served to a new client, who is pushed nothing and gets no digest."""
    path = "/two-vary-lines/stored"
    returning = Browser(caching_nginx.origin)
    returning.view(path)  # its digest: a response that sets a cookie, not stored
    again = returning.view(path)  # all held: no Set-Cookie, stored under Origin alone
    assert sorted(again.nopush) == sorted(PAGE_FILES), (again.links, again.set_cookies)
    fresh = Browser(caching_nginx.origin).view(path)
    assert fresh.status == 200
    assert fresh.nopush == [], (fresh.links, fresh.set_cookies)
    assert sorted(fresh.pushed) == sorted(PAGE_FILES)


def test_a_revalidated_page_pushes_each_new_client_what_its_cookie_records(
    caching_apache: CachingApache,
) -> None:
    """Apache's cache stores a fresh client's page (``public, no-cache`` with an ETag),
    pushes and digest cookie included, and revalidates it for the next fresh client (same
    ``Cookie``: none); the app answers 304. What Apache then serves that client must be
    truthful: its stored ``Link`` pushed again (with the stored cookie recording it), not
    the 304's ``Link`` with every link ``nopush`` merged over it beside the first client's
    digest, which tells the new client it holds files it was never sent, for good."""
    first = Browser(caching_apache.origin).view("/etag/revalidated")
    assert sorted(first.pushed) == sorted(PAGE_FILES)
    for _ in range(2):  # the stored page stays right for each later fresh client
        fresh = Browser(caching_apache.origin)
        view = fresh.view("/etag/revalidated")
        assert view.status == 200
        assert view.nopush == [], (view.links, view.set_cookies)
        assert sorted(view.pushed) == sorted(PAGE_FILES)
