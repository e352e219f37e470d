"""``make demo``: a first and a return visit to the example site, then through nginx.

Serves the site with gunicorn on a free loopback port and visits ``/`` twice with a real
HTTP client that keeps cookies; when nginx, nghttp and openssl are installed, it also goes
through nginx with ``http2_push_preload on``, shows the HTTP/2 PUSH_PROMISEs, and browses
100 pages to show what the digest cookie weighs for a realistic site.
Every server is stopped before it exits.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from examples.site import write_assets
from tests.integration.rig import (
    SITE_APP,
    Browser,
    Gunicorn,
    Nginx,
    make_certificate,
    parse_links,
    site_env,
)

COOKIE_NAME = "h2-digest"


def visit_directly(origin: str) -> None:
    """Two visits over HTTP/1.1, the cookie carried by a cookie jar as a browser would."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    for visit in ("first visit", "return visit"):
        with opener.open(origin + "/") as response:
            digest = [
                cookie.split(";", 1)[0].partition("=")[2]
                for cookie in response.headers.get_all("Set-Cookie") or []
                if cookie.startswith(f"{COOKIE_NAME}=")
            ]
            cookie = f"{len(digest[0])} characters" if digest else "unchanged, not sent"
            print(f"  GET / ({visit}): {response.status}, Set-Cookie {COOKIE_NAME}: {cookie}")
            for link in parse_links(", ".join(response.headers.get_all("Link") or [])):
                print(f"    Link: {link.text}")


def visit_through_nginx(site: Gunicorn, static_dir: Path, workdir: Path) -> None:
    """Two HTTP/2 visits through nginx: pushes on the first, none on the return."""
    certificate = make_certificate(workdir / "cert")
    with Nginx([site.port], static_dir, certificate, workdir / "nginx") as nginx:
        print(f"\nThrough nginx (HTTP/2, http2_push_preload on) at {nginx.origin}")
        browser = Browser(nginx.origin)
        first, again = browser.view("/"), browser.view("/")
        print(f"  first visit: {len(first.pushed)} PUSH_PROMISEs")
        for path in first.pushed:
            print(f"    pushed  {path}")
        print(
            f"  return visit: {len(again.pushed)} PUSH_PROMISEs; "
            f"{len(again.nopush)} of {len(again.declared)} links marked nopush"
        )
        figures = Browser(nginx.origin).browse(f"/browse/{page}" for page in range(100))
        print(
            f"  a realistic browse, 100 pages x 10 of 300 fingerprinted assets: "
            f"{figures.pushes} pushes, {figures.redundant} redundant, {figures.missed} missed "
            f"(false positives), {figures.errors} errors; the {COOKIE_NAME} cookie ends at "
            f"{figures.max_digest_cookie} characters"
        )


def show_early_hints(static_dir: Path, workdir: Path, secret: str) -> None:
    """A second gunicorn with FIREHOSE_EARLY_HINTS on: the second fresh visitor gets a 103.

    curl shows informational responses; urllib would take the 103 for the response.
    """
    curl = shutil.which("curl")
    if curl is None:
        print("\n(install curl to see 103 Early Hints)")
        return
    env = site_env(SECRET_KEY=secret, SITE_STATIC_DIR=static_dir, FIREHOSE_EARLY_HINTS=True)
    with Gunicorn(SITE_APP, workdir / "hints", env) as site:
        origin = f"http://127.0.0.1:{site.port}"
        print(f"\nWith FIREHOSE_EARLY_HINTS on, gunicorn at {origin}")
        for visitor in ("first visitor (the path is learned)", "second visitor"):
            head = subprocess.run(
                [curl, "-si", "-o", "/dev/null", "-D", "-", origin + "/"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            lines = [line for line in head.splitlines() if line.startswith(("HTTP/", "Link"))]
            print(f"  {visitor}:")
            for line in lines:
                print(f"    {line[:110]}{'...' if len(line) > 110 else ''}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="firehose-demo-") as tmp:
        workdir = Path(tmp)
        static_dir = workdir / "static"
        write_assets(static_dir, 300)
        secret = secrets.token_urlsafe(16)
        env = site_env(SECRET_KEY=secret, SITE_STATIC_DIR=static_dir)
        with Gunicorn(SITE_APP, workdir, env) as site:
            origin = f"http://127.0.0.1:{site.port}"
            print(f"The example site on gunicorn at {origin}")
            visit_directly(origin)
            tools = ("nginx", "nghttp", "openssl")
            if all(shutil.which(tool) for tool in tools):
                visit_through_nginx(site, static_dir, workdir)
            else:
                print(f"\n(install {', '.join(tools)} to see HTTP/2 push through nginx)")
        show_early_hints(static_dir, workdir, secret)


if __name__ == "__main__":
    main()
