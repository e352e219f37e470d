"""A real Firefox (Debian 12's ``firefox-esr``, 153 ESR, headless) behind Apache.

Apache 2.4 speaks HTTP/2 to the browser (``H2EarlyHints on``) and HTTP/1.1 to gunicorn,
which serves ``firefox_app`` (``browser_app`` and a ``<picture>`` page). Each visit is one
``firefox-esr --headless --screenshot`` run, which loads the page to its ``load`` event and
exits (about 2 s); the profile trusts the test certificate (``certutil``, Debian's
libnss3-tools), so Firefox caches as for a valid one. What reached the server, and when, is
read from Apache's access log.

What Firefox 153 showed, by hand (a Marionette session, the same rig):

- it sends ``SETTINGS_ENABLE_PUSH`` 0, acts on a 103 over HTTP/2 (and over HTTP/1.1,
  gunicorn alone), and fetches what it hints once, marking those requests
  ``X-Moz: early hint``; a ``<link rel=prefetch>`` sends ``Sec-Purpose: prefetch``;
- from a page's final ``Link`` header it skips a preload whose ``type`` it cannot use
  (``image/jxl``, ``font/x-unknown``, ``as=style; type="text/plain"``), as the preload
  spec says; from a 103 it fetches the same links all the same;
- from a page's final ``Link`` header it skips a preload whose ``media`` its window does not
  match (``(max-width: 600px)``), and of one with an ``imagesrcset`` it fetches the
  candidate its screen needs, not the link's url.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import (
    Apache,
    Gunicorn,
    home_env,
    learn_page,
    make_certificate,
    site_env,
)

from .launcher import LIVE_SERVERS, require_tools

pytestmark = pytest.mark.integration

APP = "tests.integration.firefox_app:create_app()"
#: What ``/static/n.js`` asks for when it ran: Firefox runs it, or CSP blocked it.
RAN_URL = "/static/hero.png?ran"
FIREFOX_TIMEOUT = 60
#: Quiet, reproducible runs: no first-run pages, no update or telemetry traffic.
PREFS = {
    "browser.shell.checkDefaultBrowser": "false",
    "browser.startup.homepage_override.mstone": '"ignore"',
    "datareporting.policy.dataSubmissionEnabled": "false",
    "toolkit.telemetry.reportingpolicy.firstRun": "false",
    "app.update.disabledForTesting": "true",
    "network.captive-portal-service.enabled": "false",
    "network.connectivity-service.enabled": "false",
}


class Firefox:
    """``firefox-esr`` headless with a profile of its own that trusts ``certificate``."""

    def __init__(self, profile: Path, certificate: Path) -> None:
        self.profile = profile
        profile.mkdir(parents=True)
        (profile / "user.js").write_text(
            "".join(f'user_pref("{name}", {value});\n' for name, value in PREFS.items())
        )
        database = f"sql:{profile}"
        subprocess.run(["certutil", "-N", "-d", database, "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-A", "-d", database, "-n", "test", "-t", "C,,", "-i", str(certificate)],
            check=True,
        )

    def load(self, url: str) -> None:
        """Load ``url`` to its ``load`` event (the screenshot is taken then, and dropped)."""
        argv = [
            "firefox-esr", "--headless", "--no-remote", "--profile", str(self.profile),
            "--screenshot", str(self.profile / "shot.png"), url,
        ]  # fmt: skip
        # Its crash reports and dconf's settings would go into ~/.config and ~/.cache.
        env = home_env(self.profile / "home")
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True,
        ) as process:  # fmt: skip
            try:
                output, _ = process.communicate(timeout=FIREFOX_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = process.communicate()
                pytest.fail(f"firefox-esr did not finish {url} in {FIREFOX_TIMEOUT} s:\n{output}")
        assert (self.profile / "shot.png").exists(), output


@pytest.fixture(scope="module")
def static_dir() -> Iterator[Path]:
    """Files Apache serves at ``/static/``, readable by its ``www-data``."""
    directory = Path(tempfile.mkdtemp(prefix="firehose-firefox-"))
    directory.chmod(0o755)
    (directory / "a.css").write_text("p.done { color: green }\n" + "/* pad */\n" * 2000)
    # Once it ran, the script asks for RAN_URL: an image in the page holds its load event
    # back, so the request is in Apache's log when Firefox exits.
    (directory / "n.js").write_text(
        'const ran = document.getElementById("ran");\n'
        'ran.textContent = "ran";\n'
        f'ran.append(Object.assign(new Image(), {{ src: "{RAN_URL}" }}));\n'
    )
    (directory / "hero.jxl").write_bytes(b"\xff\x0a" + bytes(50_000))  # ~50 KB, never shown
    (directory / "hero.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4b40000000049454e44ae426082"
        )
    )
    shutil.copy(directory / "hero.png", directory / "narrow.png")
    for path in directory.iterdir():
        path.chmod(0o644)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_tools("firefox-esr", "certutil", "openssl")
    require_tools("apache2")
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def apache(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    static_dir: Path,
    certificate: tuple[Path, Path],
) -> Iterator[Apache]:
    env = {**site_env(FIREHOSE_EARLY_HINTS=True), "BROWSER_STATIC_DIR": str(static_dir)}
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with (
        Gunicorn(APP, tmp_path_factory.mktemp("gunicorn"), env, threads=4) as gunicorn,
        Apache(
            gunicorn.port, certificate, tmp_path_factory.mktemp("apache"), static_dir=static_dir
        ) as front,
    ):
        live += [gunicorn, front]  # their logs go into a failing test's report
        try:
            yield front
        finally:
            live.remove(gunicorn)
            live.remove(front)


def learn(front: Apache, path: str, certificate: Path) -> None:
    """One GET of ``path`` as a navigation (:func:`~.rig.learn_page`): it is learned."""
    learn_page(front.origin + path, certificate)


def asked(front: Apache, since: int) -> list[str]:
    """The path and query of each request Apache answered since ``since`` (µs)."""
    return [line.split()[3] for line in front.access_log() if int(line.split()[0]) >= since]


def visit(front: Apache, path: str, certificate: Path, profile: Path) -> list[str]:
    """A fresh Firefox's first visit to ``path``: what it asked Apache for."""
    started = time.time_ns() // 1000  # Apache logs in µs since the epoch
    Firefox(profile, certificate).load(front.origin + path)
    return asked(front, started)


def test_firefox_is_not_hinted_a_preload_whose_type_it_skips(
    apache: Apache, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """``/picture/x`` preloads a JPEG XL image type-gated, the pattern for a ``<picture>``
    source only some browsers decode. From the page's ``Link`` header Firefox skips it,
    as the type says; from the 103 of the same page, learned, it fetched the ~50 KB file
    while the view worked, and never used it: wasted on every first visit of a Firefox
    user. A 103 should carry no link whose ``type`` a browser may be unable to use: it is
    then left to the final ``Link``, where each browser picks."""
    # The page not learned yet: no 103, only the final Link. Firefox skips the JPEG XL.
    unhinted = visit(apache, "/picture/unlearned", certificate[0], tmp_path / "unhinted")
    assert "/picture/unlearned" in unhinted
    assert "/static/hero.png" in unhinted
    assert "/static/hero.jxl" not in unhinted

    learn(apache, "/picture/learned", certificate[0])
    hinted = visit(apache, "/picture/learned", certificate[0], tmp_path / "hinted")

    assert hinted.count("/static/a.css") == 1  # the 103 came, and was acted on
    assert "/static/hero.jxl" not in hinted, hinted


def test_firefox_fetches_a_nonced_file_once_on_a_hinted_page(
    apache: Apache, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """``/nonce/x`` runs ``/static/n.js`` under a CSP that allows only its response's nonce,
    and pushes it with that nonce, after its stylesheet. A 103 cannot carry the nonce (it is
    made for the final response, and a learned 103 serves every visitor): hinted without it,
    Firefox fetched the script from the 103, then again for the ``<script nonce>`` after a
    ~10 s stall (11.4 s for the page). The link is left to the final ``Link``, where its
    nonce matches: one fetch, while the 103 still hints the stylesheet, and the script runs
    (a script CSP blocked is fetched all the same, by its preload)."""
    learn(apache, "/nonce/learned", certificate[0])
    started = time.time_ns() // 1000  # Apache logs in µs since the epoch
    Firefox(tmp_path / "hinted", certificate[0]).load(apache.origin + "/nonce/learned")
    seconds = (time.time_ns() // 1000 - started) / 1e6
    # Each request since: when Apache began and ended it, and its path.
    lines = (line.split() for line in apache.access_log())
    served = [(int(began), int(ended), path) for began, ended, _, path, *_ in lines]
    served = [request for request in served if request[0] >= started]
    page_ended = next(ended for _, ended, path in served if path == "/nonce/learned")
    stylesheets = [began for began, _, path in served if path == "/static/a.css"]
    scripts = [path for _, _, path in served if path == "/static/n.js"]

    # The 103 came, and was acted on: the stylesheet was asked for before the page ended.
    assert len(stylesheets) == 1 and stylesheets[0] < page_ended, served
    assert len(scripts) == 1, (served, seconds)
    assert RAN_URL in (path for _, _, path in served), served  # the nonce let it run


def test_a_preload_for_other_screens_leaves_the_file_to_the_next_103(
    apache: Apache, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """``/narrow/x`` preloads ``/static/narrow.png`` with ``media="(max-width: 600px)"``,
    for its ``<picture>`` source on narrow screens. Firefox's window is wider: it fetched
    neither the preload nor the source (nor from the 103, which leaves the link out: with
    it, Firefox fetched the file from there), yet the digest recorded the file as held,
    and ``/everywhere/y``, which shows it on every screen, then got no 103 for it: Firefox
    asked for it only once that page had arrived (67-217 ms after it, 3 runs). A
    browser's page records no ``media`` preload: the 103 names it, and Firefox asked for
    it 368-412 ms before the page ended."""
    # Learned: its 103 leaves the media link out, as Firefox would fetch it from there
    # whatever the query (by hand: a 103's "(max-width: 10px)" stylesheet was fetched).
    learn(apache, "/narrow/x", certificate[0])
    firefox = Firefox(tmp_path / "profile", certificate[0])
    started = time.time_ns() // 1000  # Apache logs in µs since the epoch
    firefox.load(apache.origin + "/narrow/x")
    narrow = asked(apache, started)
    assert "/static/hero.png" in narrow
    assert "/static/narrow.png" not in narrow, narrow

    assert hinted_first(apache, "/everywhere/y", "/static/narrow.png", certificate[0], firefox)


def test_an_image_preload_of_candidates_leaves_its_url_to_the_next_103(
    apache: Apache, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """``/sized/x`` preloads ``/static/hero.png`` with ``imagesrcset="/static/narrow.png
    400w"``, as its ``<img srcset>`` says. Firefox fetched the candidate alone, yet the
    digest recorded ``/static/hero.png`` as held, and ``/picture/y``, which shows it, then
    got no 103 for it: Firefox asked for it only once that page had arrived (106-132 ms
    after it, 2 runs). A browser's page records no preload with image candidates: the 103
    names it, and Firefox asked for it 377-406 ms before the page ended."""
    firefox = Firefox(tmp_path / "profile", certificate[0])
    started = time.time_ns() // 1000  # Apache logs in µs since the epoch
    firefox.load(apache.origin + "/sized/x")
    sized = asked(apache, started)
    assert "/static/narrow.png" in sized
    assert "/static/hero.png" not in sized, sized

    assert hinted_first(apache, "/picture/y", "/static/hero.png", certificate[0], firefox)


def test_firefox_writes_nothing_into_its_users_home(
    certificate: tuple[Path, Path], tmp_path: Path, users_home: Path
) -> None:
    """Beside its profile, Firefox 153 made ``~/Downloads``, wrote a crash helper's log
    into ``~/.config/mozilla`` and dconf's settings into ``~/.cache``, on every run of the
    suite: it is given a home in its profile."""
    Firefox(tmp_path / "profile", certificate[0]).load("data:text/html,<p>loaded")

    assert not list(users_home.iterdir())


def hinted_first(
    front: Apache, page: str, image: str, certificate: Path, firefox: Firefox
) -> bool:
    """Whether ``firefox``, visiting ``page`` once it is learned, asked for ``image`` once
    and before the page ended: from the 103."""
    learn(front, page, certificate)
    started = time.time_ns() // 1000
    firefox.load(front.origin + page)
    lines = (line.split() for line in front.access_log())
    served = [(int(began), int(ended), path) for began, ended, _, path, *_ in lines]
    served = [request for request in served if request[0] >= started]
    page_ended = next(ended for _, ended, path in served if path == page)
    images = [began for began, _, path in served if path == image]
    assert len(images) == 1, served
    return images[0] < page_ended
