"""A real Chromium, arriving from another site, at an app whose session is ``Strict``.

RFC 6265bis §5.7 lets a top-level navigation set a cookie of any ``SameSite``, though a
``Strict`` one was not sent with it. A ``Strict`` digest would then be replaced by one
holding the arrival page alone; the digest is written ``Lax`` instead, and is sent.
``other.test`` (mapped to 127.0.0.1) and ``127.0.0.1`` are two sites to the browser, one
gunicorn to us.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.rig import Gunicorn

from .chromium import Browser
from .launcher import LIVE_SERVERS, require_tools

pytestmark = pytest.mark.integration


def shown(done: Any, element: str) -> dict[str, bool]:
    found = re.search(rf'<pre id="{element}">(.+?)</pre>', done.stdout, re.S)
    assert found, f"no #{element} (rc {done.returncode}):\n{done.stdout}\n{done.stderr}"
    answers: dict[str, bool] = json.loads(html.unescape(found.group(1)))
    return answers


def test_a_navigation_from_another_site_keeps_the_digest(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require_tools("chromium")
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    # Threads: Chromium opens a spare connection it may never use, which holds a sync
    # worker until gunicorn's 30 s timeout.
    app_spec = "tests.integration.samesite_app:create_app()"
    with Gunicorn(app_spec, tmp_path / "gunicorn", threads=4) as app:
        live.append(app)
        try:
            ours = f"http://127.0.0.1:{app.port}"
            browser = Browser(tmp_path / "profile", other_site="other.test")
            assert "<p>a</p>" in browser.load(f"{ours}/a").stdout
            arrival = browser.load(f"http://other.test:{app.port}/go?to={ours}/b")
            held = shown(browser.load(f"{ours}/held"), "held")
        finally:
            live.remove(app)
    # The Strict session stayed behind, so the navigation was cross-site; the digest came.
    assert shown(arrival, "sent") == {"session": False, "h2-digest": True}
    assert held == {"a.css": True, "b.css": True}
