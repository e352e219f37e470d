"""What the rig's :class:`~tests.integration.rig.Browser` makes of what ``nghttp`` received.

A browse's figures stand for what a browser got: a page whose head came but whose body
did not is no page to a browser, so the rig counts it failed, whatever its status.
"""

from __future__ import annotations

import pytest

from tests.integration.rig import Browser, Gunicorn

from .launcher import Launcher

pytestmark = pytest.mark.integration

#: ``uwsgi_app``'s ``/headers/<size>``: header lines of ``size`` bytes. gunicorn adds 93 to
#: them (its status line, ``Server``, ``Date``, ``Connection`` and the blank line).
WHOLE, CUT = "/headers/4002", "/headers/4003"


def test_a_page_cut_after_its_head_is_a_failed_view(own_servers: Launcher) -> None:
    """nginx 1.22 reads a backend's head into ``proxy_buffer_size`` (4 KB): of a head of
    exactly 4,096 bytes it sends the status and headers, then RST_STREAM (docs/deployment.md);
    one byte fewer comes whole."""
    env = {"UWSGI_APP_STATIC": str(own_servers.static_dir)}
    app = "tests.integration.uwsgi_app:app"
    backend = own_servers.start(Gunicorn(app, own_servers.workdir / "backend", env))
    front = own_servers.nginx([backend])
    browser = Browser(front.origin)

    figures = browser.browse([WHOLE, CUT, WHOLE])

    assert (figures.errors, figures.first_error_view) == (1, 2)
    assert "upstream prematurely closed connection" in front.log()
    cut = browser.view(CUT)
    assert (cut.status, cut.complete) == (200, False)
    assert browser.view(WHOLE).complete
