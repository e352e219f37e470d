"""``make demo``: a first and a return visit to the example site, then through nginx.

Serves the site with gunicorn on a free loopback port and visits ``/`` twice with a real
HTTP client that keeps cookies, beside the same site with no tracking (``SITE_TRACKING``
``"none"``: the same ``Link`` headers written by hand, as an app without the extension
would). When nginx, nghttp and openssl are installed, it also goes through nginx with
``http2_push_preload on``, shows the HTTP/2 PUSH_PROMISEs of both, and browses 100 pages to
show what the digest cookie weighs for a realistic site. It ends with what to try next.
Every server is stopped before it exits.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import textwrap
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from examples.site import write_assets
from tests.integration.rig import (
    SITE_APP,
    Browser,
    Gunicorn,
    Link,
    Nginx,
    executable,
    make_certificate,
    parse_links,
    site_env,
)

COOKIE_NAME = "h2-digest"
#: Longer lines of prose are wrapped at word boundaries, never cut; link-values are
#: printed one a line, whole.
WIDTH = 100


def say(text: str, indent: int = 0) -> None:
    """Print ``text`` indented, wrapped at spaces past ``WIDTH``, continuations indented more."""
    print(
        textwrap.fill(
            text,
            WIDTH,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 4),
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def show_links(links: list[Link], indent: int) -> None:
    for link in links:
        print(f"{' ' * indent}Link: {link.text}")


def visit_directly(origin: str) -> None:
    """Two visits over HTTP/1.1, the cookie carried by a cookie jar as a browser would."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    links: list[Link] = []
    for visit in ("first visit", "return visit"):
        with opener.open(origin + "/") as response:
            digest = [
                cookie.split(";", 1)[0].partition("=")[2]
                for cookie in response.headers.get_all("Set-Cookie") or []
                if cookie.startswith(f"{COOKIE_NAME}=")
            ]
            if digest:
                cookie = f"{len(digest[0])} characters"
            elif any(held.name == COOKIE_NAME for held in jar):
                cookie = "unchanged, not sent"
            else:
                cookie = "none"
            say(f"GET / ({visit}): {response.status}, Set-Cookie {COOKIE_NAME}: {cookie}", 4)
            links = parse_links(", ".join(response.headers.get_all("Link") or []))
            show_links(links, 6)
    held = sum(link.nopush for link in links)
    consequence = (
        "nothing is offered for push twice"
        if held == len(links)
        else f"a push proxy pushes {len(links) - held} of them again"
    )
    say(f"return visit: {held} of {len(links)} links marked nopush: {consequence}", 4)


def visit_through_nginx(
    site: Gunicorn, baseline: Gunicorn, static_dir: Path, workdir: Path
) -> None:
    """Two HTTP/2 visits through nginx: pushes on the first, none on the return."""
    certificate = make_certificate(workdir / "cert")
    with (
        Nginx([site.port], static_dir, certificate, workdir / "nginx") as nginx,
        Nginx([baseline.port], static_dir, certificate, workdir / "nginx-baseline") as plain,
    ):
        print()
        say(
            f"Through nginx (HTTP/2, http2_push_preload on) at {nginx.origin}, "
            f"and without tracking at {plain.origin}"
        )
        say("with firehose_digest:", 2)
        browser = Browser(nginx.origin)
        first, again = browser.view("/"), browser.view("/")
        say(f"first visit: {len(first.pushed)} PUSH_PROMISEs", 4)
        for path in first.pushed:
            say(f"pushed  {path}", 6)
        say(
            f"return visit: {len(again.pushed)} PUSH_PROMISEs; "
            f"{len(again.nopush)} of {len(again.declared)} links marked nopush",
            4,
        )
        say("without tracking:", 2)
        plain_browser = Browser(plain.origin)
        plain_first, plain_again = plain_browser.view("/"), plain_browser.view("/")
        redundant = len(set(plain_again.pushed) & set(plain_first.pushed))
        say(f"first visit: {len(plain_first.pushed)} PUSH_PROMISEs", 4)
        say(
            f"return visit: {len(plain_again.pushed)} PUSH_PROMISEs, {redundant} of them "
            "for files the browser already holds",
            4,
        )
        figures = Browser(nginx.origin).browse(f"/browse/{page}" for page in range(100))
        say(
            "with firehose_digest, a realistic browse, 100 pages x 10 of 300 fingerprinted "
            f"assets: "
            f"{figures.pushes} pushes, {figures.redundant} redundant, {figures.missed} missed "
            f"(false positives), {figures.errors} errors; the {COOKIE_NAME} cookie ends at "
            f"{figures.max_digest_cookie} characters",
            2,
        )


def show_early_hints(static_dir: Path, workdir: Path, secret: str) -> None:
    """A second gunicorn with FIREHOSE_EARLY_HINTS on: the second fresh visitor gets a 103.

    curl shows informational responses; urllib would take the 103 for the response.
    """
    curl = executable("curl")
    if curl is None:
        print("\n(install curl to see 103 Early Hints)")
        return
    env = site_env(SECRET_KEY=secret, SITE_STATIC_DIR=static_dir, FIREHOSE_EARLY_HINTS=True)
    with Gunicorn(SITE_APP, workdir / "hints", env) as site:
        origin = f"http://127.0.0.1:{site.port}"
        print(f"\nWith FIREHOSE_EARLY_HINTS on, gunicorn at {origin}")
        for visitor in ("first visitor (the page is learned)", "second visitor"):
            head = subprocess.run(
                # A browser's navigation names HTML: a 103 goes to nothing else.
                [
                    curl,
                    "-si",
                    "-H",
                    "Accept: text/html",
                    "-o",
                    "/dev/null",
                    "-D",
                    "-",
                    origin + "/",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            say(f"{visitor}:", 2)
            # One response's header block after another: its status line, then its links.
            for line in head.splitlines():
                name, _, value = line.partition(":")
                if line.startswith("HTTP/"):
                    say(line, 4)
                elif name.lower() == "link":
                    show_links(parse_links(value), 6)


def shown_path(path: str) -> str:
    """``path`` relative to the current folder when it is inside it, else as it is."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def suggest_next_steps() -> None:
    """What a newcomer can run after the demo, with this venv's commands."""
    python = shown_path(sys.executable)
    gunicorn = shown_path(str(Path(sys.executable).with_name("gunicorn")))
    print("\nTry next:")
    steps = [
        ("lint, type-check and run every test, these servers included", "make test"),
        (
            "what a digest of 300 resources costs, in cookie bytes (docs/cli.md)",
            f"{python} -m firehose_digest plan --capacity 300",
        ),
        (
            "the smallest app (examples/quickstart/app.py) on http://127.0.0.1:8000",
            f"{gunicorn} --chdir examples/quickstart app:app",
        ),
    ]
    for what, command in steps:
        print(f"  # {what}\n  {command}")
    print("  # then read README.md: the settings, which push proxies to use, Early Hints")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="firehose-demo-") as tmp:
        workdir = Path(tmp)
        static_dir = workdir / "static"
        write_assets(static_dir, 300)
        secret = secrets.token_urlsafe(16)
        env = site_env(SECRET_KEY=secret, SITE_STATIC_DIR=static_dir)
        baseline_env = {**env, **site_env(SITE_TRACKING="none")}
        with (
            Gunicorn(SITE_APP, workdir, env) as site,
            Gunicorn(SITE_APP, workdir, baseline_env) as baseline,
        ):
            origin = f"http://127.0.0.1:{site.port}"
            baseline_origin = f"http://127.0.0.1:{baseline.port}"
            say(
                f"The example site on gunicorn at {origin}, "
                f"and without tracking at {baseline_origin}"
            )
            say("with firehose_digest:", 2)
            visit_directly(origin)
            say('without tracking (SITE_TRACKING="none": the same Link headers, by hand):', 2)
            visit_directly(baseline_origin)
            tools = ("nginx", "nghttp", "openssl")
            if all(executable(tool) for tool in tools):
                visit_through_nginx(site, baseline, static_dir, workdir)
            else:
                print(f"\n(install {', '.join(tools)} to see HTTP/2 push through nginx)")
        show_early_hints(static_dir, workdir, secret)
    suggest_next_steps()


if __name__ == "__main__":
    main()
