"""Non-ASCII urls behind nginx, h2o and Apache: what is pushed is what the browser asks for.

``push("/static/café.css")`` is linked ``</static/caf%C3%A9.css>``, the request a browser
makes for ``href="/static/café.css"``: each proxy must push that very path, and the
digest must record it once, so a return visit pushes nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rig import Browser, Front, Gunicorn, site_env

from .intl_app import CHARS_REQUESTED, REQUESTED
from .launcher import SECRET_KEY, Launcher

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def static_assets() -> Iterator[Path]:
    """The proxies' static folder, holding the non-ASCII files by their UTF-8 names."""
    directory = Path(tempfile.mkdtemp(prefix="firehose-intl-static-"))
    directory.chmod(0o755)
    for name in (
        "café.css",
        "日本.js",
        "a{b}.css",
        "a^b.css",
        "a|b.css",
        "a`b.css",
        'a"b.css',
        "sp ace.css",
        "q.css",
    ):
        path = directory / name
        path.write_text(f"/* {name} */\n")
        path.chmod(0o644)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def launcher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, static_assets: Path
) -> Iterator[Launcher]:
    launcher = Launcher(request.config, tmp_path_factory.mktemp("intl"), static_assets)
    with launcher.stack:
        yield launcher


@pytest.fixture(scope="module", params=[False, True], ids=["no-103", "103"])
def backend(request: pytest.FixtureRequest, launcher: Launcher) -> Gunicorn:
    app = "tests.integration.intl_app:create_app()"
    env = site_env(SECRET_KEY=SECRET_KEY, FIREHOSE_EARLY_HINTS=request.param)
    workdir = launcher.workdir / f"backend-{request.param}"
    return launcher.start(Gunicorn(app, workdir, env, threads=4))


@pytest.fixture(scope="module", params=["nginx", "h2o", "apache"])
def front(request: pytest.FixtureRequest, launcher: Launcher, backend: Gunicorn) -> Front:
    if request.param == "nginx":
        return launcher.nginx([backend])
    if request.param == "h2o":
        return launcher.h2o(backend)
    return launcher.apache(backend)


def test_non_ascii_urls_are_pushed_as_the_browser_requests_them_and_once(front: Front) -> None:
    Browser(front.origin).view("/page")  # a learner: the page's links are known from now
    browser = Browser(front.origin)

    first = browser.view("/page")
    again = browser.view("/page")

    assert first.status == 200
    assert first.declared == REQUESTED
    assert sorted(first.pushed) == sorted(REQUESTED)
    assert [link.url for link in first.hints] in ([], REQUESTED)
    statuses = {
        path: dict(headers).get(":status") for path, headers in first.pushed_headers.items()
    }
    assert statuses == dict.fromkeys(REQUESTED, "200")
    assert again.pushed == []
    assert again.nopush == REQUESTED


def test_urls_of_characters_a_browser_encodes_are_pushed_as_linked(front: Front) -> None:
    browser = Browser(front.origin)

    first = browser.view("/chars")
    again = browser.view("/chars")

    assert first.status == 200
    assert first.declared == CHARS_REQUESTED
    statuses = {
        path: dict(headers).get(":status") for path, headers in first.pushed_headers.items()
    }
    assert statuses == dict.fromkeys(CHARS_REQUESTED, "200")
    assert again.pushed == []
