"""Stateless scale-out: the digest cookie is the only state, so any backend can read it."""

from __future__ import annotations

import pytest

from tests.integration.rig import Browser

from .launcher import Launcher

pytestmark = pytest.mark.integration


def test_a_digest_issued_by_one_backend_is_honoured_by_the_other(own_servers: Launcher) -> None:
    backends = [own_servers.site() for _ in range(2)]
    front = own_servers.nginx(backends)
    browser = Browser(front.origin)

    first = browser.view("/")
    returns = [browser.view("/") for _ in range(4)]
    figures = browser.browse(f"/browse/{page}" for page in range(20))

    assert len(first.pushed) == 3
    assert [view.pushed for view in returns] == [[]] * 4
    assert figures.errors == 0
    assert figures.redundant == 0
    assert all(backend.requests_served(10) >= 10 for backend in backends), "round-robin"


def test_key_rotation_does_not_re_push(own_servers: Launcher) -> None:
    """Each backend in turn restarts with a new key, the old one kept as a fallback."""
    old_key, new_key = "rotation-old-key", "rotation-new-key"
    backends = [own_servers.site(SECRET_KEY=old_key) for _ in range(2)]
    front = own_servers.nginx(backends)
    browser = Browser(front.origin)
    before = browser.browse(["/", "/browse/0"])

    during = []
    for i, backend in enumerate(backends):
        backend.stop()
        backends[i] = own_servers.site(
            port=backend.port, SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]
        )
        during.append(browser.browse(["/", "/", "/browse/0", "/browse/0"]))
        assert backends[i].requests_served(2) == 2
    after = browser.browse(["/browse/1", *["/", "/browse/0", "/browse/1"] * 2])
    for i, backend in enumerate(backends):  # the old key retired: page 1 re-signed the digest
        backend.stop()
        backends[i] = own_servers.site(port=backend.port, SECRET_KEY=new_key)
    retired = browser.browse(["/", "/browse/0", "/browse/1"] * 2)

    assert before.pushes == 13
    assert [figures.pushes for figures in during] == [0, 0]
    assert after.pushes == 3, "only page 1's three new assets"
    assert after.redundant == 0
    assert retired.pushes == 0
    assert all(backend.requests_served(3) == 3 for backend in backends)
    assert sum(figures.errors for figures in (before, *during, after, retired)) == 0


def test_a_digest_signed_with_an_unknown_key_is_ignored(own_servers: Launcher) -> None:
    """The control for the rotation test: without the fallback, everything is pushed again."""
    site = own_servers.site(SECRET_KEY="first-key")
    front = own_servers.nginx([site])
    browser = Browser(front.origin)
    first = browser.view("/")

    site.stop()
    own_servers.site(port=site.port, SECRET_KEY="unrelated-key")
    again = browser.view("/")

    assert again.status == 200
    assert again.pushed == first.pushed
    assert "h2-digest" in again.set_cookies, "a fresh digest replaces the unreadable one"
