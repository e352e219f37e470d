"""The digest site behind nginx, h2o and Apache: what a browser is pushed, visit after visit."""

from __future__ import annotations

import pytest

from tests.integration.rig import H2O, Apache, Browser, Nginx

from .launcher import ASSETS, BROWSE, RecordBrowse

pytestmark = pytest.mark.integration


def test_first_visit_pushes_every_declared_resource(proxy: Nginx | H2O | Apache) -> None:
    view = Browser(proxy.origin).view("/")

    assert view.status == 200
    assert len(view.declared) == 3
    assert view.nopush == []
    assert sorted(view.pushed) == sorted(view.declared)
    assert "h2-digest" in view.set_cookies


def test_return_visit_pushes_none_and_still_preloads_all(proxy: Nginx | H2O | Apache) -> None:
    browser = Browser(proxy.origin)
    first = browser.view("/")

    again = browser.view("/")

    assert again.status == 200
    assert again.pushed == []
    assert again.nopush == first.declared
    assert "h2-digest" not in again.set_cookies, "an unchanged digest is not sent again"


def test_realistic_browse(proxy: Nginx | H2O | Apache, record_browse: RecordBrowse) -> None:
    """100 pages, 10 assets each, neighbours sharing 7: each asset is pushed at most once."""
    browser = Browser(proxy.origin)

    figures = browser.browse(BROWSE)
    record_browse(f"digest, {type(proxy).__name__.lower()}", figures)

    assert figures.errors == 0
    assert figures.distinct == ASSETS
    assert figures.redundant == 0
    assert figures.pushes + figures.missed == figures.distinct
    assert figures.missed <= figures.distinct // 100
    assert figures.max_digest_cookie <= 500
