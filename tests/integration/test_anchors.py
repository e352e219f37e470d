"""Anchors measured in the same run: the designs firehose_digest is compared with.

- Flask-Firehose 0.2.3 behind nginx: its session cookie lists every url pushed, outgrows
  nginx's 4 KB buffer for upstream headers, and nginx answers 502 from then on.
- The library's exact ``SessionConnector`` behind nginx: bounded to its 100 most recent
  urls, so it stays under the buffer (at the price of forgetting older ones).
- No tracking behind nginx: every page pushes all it declares (the firehose).
- No tracking in the app, h2o's CASPER cookie instead (the proxy-side baseline).
"""

from __future__ import annotations

import pytest

from tests.integration.rig import Browser

from .launcher import ASSETS, BROWSE, Launcher, RecordBrowse

pytestmark = pytest.mark.integration


@pytest.mark.usefixtures("flask_firehose_installed")
def test_flask_firehose_behind_nginx_fails_once_its_cookie_outgrows_the_buffer(
    own_servers: Launcher, record_browse: RecordBrowse
) -> None:
    """Its cookie lists the urls in a Python set's order, so its compressed size, and the page
    where it first fails, follow the hash seed: pinned here so the anchor reads the same
    every run. (With random seeds: views 94-95 first fail; now and then a later page fits.)
    """
    site = own_servers.site(env={"PYTHONHASHSEED": "0"}, SITE_TRACKING="flask-firehose")
    front = own_servers.nginx([site])

    figures = Browser(front.origin, tracking_cookie="session").browse(BROWSE)
    record_browse("flask-firehose 0.2.3, nginx", figures)

    assert figures.first_error_view is not None
    assert figures.statuses.keys() == {200, 502}
    assert figures.errors == figures.views - figures.first_error_view + 1, "never recovers"
    assert "upstream sent too big header" in front.log()
    assert 3000 < figures.max_digest_cookie < 4096


def test_session_connector_stays_under_nginx_header_buffer(
    own_servers: Launcher, record_browse: RecordBrowse
) -> None:
    """The exact set is bounded (max_items=100), so unlike Flask-Firehose it never 502s."""
    front = own_servers.nginx([own_servers.site(SITE_TRACKING="session")])

    figures = Browser(front.origin, tracking_cookie="session").browse(BROWSE)
    record_browse("SessionConnector (100 items), nginx", figures)

    assert figures.errors == 0
    assert figures.statuses.keys() == {200}
    assert figures.max_digest_cookie < 2048
    assert figures.pushes >= ASSETS


def test_no_tracking_pushes_everything_every_time(
    own_servers: Launcher, record_browse: RecordBrowse
) -> None:
    front = own_servers.nginx([own_servers.site(SITE_TRACKING="none")])

    figures = Browser(front.origin).browse(BROWSE)
    record_browse("no tracking, nginx", figures)

    assert figures.errors == 0
    assert figures.pushes == 10 * len(BROWSE)
    assert figures.redundant == figures.pushes - ASSETS
    assert figures.missed == 0


def test_casper_on_h2o_without_tracking_in_the_app(
    own_servers: Launcher, record_browse: RecordBrowse
) -> None:
    front = own_servers.h2o(own_servers.site(SITE_TRACKING="none"), casper=True)

    figures = Browser(front.origin, tracking_cookie="h2o_casper").browse(BROWSE)
    record_browse("no tracking, h2o CASPER", figures)

    assert figures.errors == 0
    assert figures.distinct == ASSETS
    assert figures.pushes - figures.redundant + figures.missed == ASSETS
    assert figures.max_digest_cookie > 0
