"""WebKitGTK (Safari's engine) behind Apache: is what the digest records what it fetched?

Apache 2.4 (``H2EarlyHints on``, ``/static/`` from disk) in front of gunicorn serving
``browser_app``, as in ``test_browser.py``; WebKitGTK 2.50.6 driven over WebDriver
(:mod:`.webkit`). Needs ``WebKitWebDriver`` (Debian: ``webkit2gtk-driver``, which brings
``MiniBrowser``) and ``Xvfb`` (``xvfb``); about 10 s.

What WebKitGTK 2.50.6 (libsoup 3.2.3) showed, by hand and here:

- It refuses HTTP/2 push (Apache pushed nothing to it, where it pushed to ``nghttp``), and
  a 103 reached it (``responseStart`` ~80 ms into a 440 ms page) but it fetched nothing
  from it: the hinted files were asked for after the page's response, ``initiatorType``
  ``link``, each once; a return visit (its digest cookie sent) fetched nothing. Over
  gunicorn's HTTP/1.1 alike.
- Its navigations send ``Sec-Fetch-Mode: navigate`` / ``Sec-Fetch-Dest: document`` (an
  iframe: ``iframe``), its ``fetch()`` and async XMLHttpRequest ``cors`` / ``empty``, and
  it preloads what the Link of such a response names (unlike Chromium 156). Neither a
  ``<link rel=prefetch>`` nor Speculation Rules made it fetch anything.
- A synchronous XMLHttpRequest carries no ``Sec-Fetch-*`` header at all, so it passes for
  curl or a proxy: what its response links is recorded as held, and it fetches none of it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import Apache, Gunicorn, learn_page, make_certificate, site_env

from .browser_app import THINK_SECONDS
from .launcher import DEBIAN_PACKAGES, LIVE_SERVERS, require, require_tools
from .test_browser import APP, STYLESHEETS, _asked_since
from .webkit import MINIBROWSER, Session, WebKit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tools() -> None:
    require_tools("WebKitWebDriver", "Xvfb", "openssl")
    require(
        f"MiniBrowser ({MINIBROWSER})",
        MINIBROWSER.exists(),
        f"apt-get install {DEBIAN_PACKAGES['WebKitWebDriver']} (make test does, as root)",
    )
    require_tools("apache2")


@pytest.fixture(scope="module")
def webkit(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebKit]:
    with WebKit(tmp_path_factory.mktemp("webkit")) as webkit:
        yield webkit


@pytest.fixture(scope="module")
def apache(
    request: pytest.FixtureRequest, tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Apache]:
    """Apache (``/static/`` from disk, ``a.css``..``d.css``) in front of ``browser_app``."""
    static_dir = Path(tempfile.mkdtemp(prefix="firehose-webkit-"))
    static_dir.chmod(0o755)
    for name in STYLESHEETS:
        sheet = static_dir / name
        sheet.write_text(f"/* {name} */\np.done {{ color: green }}\n" + "/* pad */\n" * 2000)
        sheet.chmod(0o644)
    certificate = make_certificate(tmp_path_factory.mktemp("cert"))
    env = {**site_env(FIREHOSE_EARLY_HINTS=True), "BROWSER_STATIC_DIR": str(static_dir)}
    tmp = tmp_path_factory
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    try:
        with (
            Gunicorn(APP, tmp.mktemp("gunicorn"), env, threads=4) as gunicorn,
            Apache(
                gunicorn.port, certificate, tmp.mktemp("apache"), static_dir=static_dir
            ) as apache,
        ):
            live += [gunicorn, apache]
            try:
                yield apache
            finally:
                live.remove(gunicorn)
                live.remove(apache)
    finally:
        shutil.rmtree(static_dir)


def learn(apache: Apache, path: str) -> None:
    """One GET of ``path`` as a navigation (:func:`~.rig.learn_page`): its 103 is learned."""
    learn_page(apache.origin + path, apache.certificate[0])


def hinted(browser: Session) -> bool:
    """Whether a 103 reached the page just loaded. WebKitGTK fetches nothing from it, but
    its ``responseStart`` is the 103's arrival (30-220 ms into the page, against 430 ms or
    more without one: the round trip and the view's think time)."""
    response_start = browser.run(
        "const done = arguments[arguments.length - 1];"
        " done(performance.getEntriesByType('navigation')[0].responseStart);"
    )
    return bool(response_start < THINK_SECONDS * 1000)


def test_what_a_webkit_synchronous_xhr_links_is_not_recorded_as_held(
    webkit: WebKit, apache: Apache
) -> None:
    """``/fetcher`` asks for ``/fragment`` (which pushes ``a.css`` and ``b.css``) with a
    synchronous XMLHttpRequest: WebKit sends no ``Sec-Fetch-*`` header, fetches neither
    file, and keeps the digest cookie that says it holds both. A learned page linking them
    then gets no 103 (and its Link marks them ``nopush``): the digest claims files the
    browser never had."""
    learn(apache, "/edge/control")
    learn(apache, "/edge/after-sync-xhr")
    with webkit.session() as browser:
        browser.go(apache.origin + "/edge/control")
        assert hinted(browser)  # a fresh profile is hinted the learned page

    started = time.time_ns() // 1000
    with webkit.session() as browser:
        browser.go(apache.origin + "/fetcher")
        time.sleep(0.5)  # for a fetch of a.css or b.css, had WebKit made one, to be logged
        asked = _asked_since(apache, started, "/fragment")  # logged once it is answered
        assert "/fragment" in asked, asked
        assert not {"/static/a.css", "/static/b.css"} & set(asked)  # never fetched

        browser.go(apache.origin + "/edge/after-sync-xhr")
        assert hinted(browser)


def test_what_a_webkit_404_s_103_offered_is_not_recorded_as_held(
    webkit: WebKit, apache: Apache
) -> None:
    """``/once/gone`` was learned as a 200 linking ``a.css`` and ``b.css`` and now answers
    404: its 103 reaches WebKit, which fetches neither file (nor does Apache push them:
    WebKit refuses push), yet the 404 records both as held, so the next learned page
    linking them gets no 103."""
    learn(apache, "/once/gone")
    learn(apache, "/edge/after-404")
    started = time.time_ns() // 1000
    with webkit.session() as browser:
        browser.go(apache.origin + "/once/gone")
        assert hinted(browser)  # the 103 arrived
        time.sleep(0.5)  # for a fetch of a.css or b.css, had WebKit made one, to be logged
        asked = _asked_since(apache, started, "/once/gone")
        assert "/once/gone" in asked, asked
        assert not {"/static/a.css", "/static/b.css"} & set(asked)  # neither fetched

        browser.go(apache.origin + "/edge/after-404")
        assert hinted(browser)


def test_webkit_writes_nothing_into_its_users_home(
    tools: None, tmp_path: Path, users_home: Path
) -> None:
    """MiniBrowser wrote dconf's settings into ``~/.cache``, on every run of the suite:
    WebKitWebDriver and it are given a home of their own."""
    with WebKit(tmp_path / "webkit") as webkit, webkit.session() as browser:
        browser.go("data:text/html,<p id=loaded>loaded</p>")
        text = browser.run("arguments[0](document.getElementById('loaded').textContent)")

    assert text == "loaded"
    assert not list(users_home.iterdir())
