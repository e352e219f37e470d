"""A real Chromium keeps the digest a 304 signs again.

A page with an ``ETag`` and ``Cache-Control: no-cache`` answers a returning browser 304 on
each visit. Past half of ``FIREHOSE_MAX_AGE`` the 304 carries the digest, signed again, in
a ``Set-Cookie`` (``_decide`` in ``firehose_digest/extension.py``); that keeps a client
coming back to such pages from losing its digest at ``FIREHOSE_MAX_AGE`` only if the
browser stores a cookie set on a 304. Chromium 156 did: the 304's value was sent with the
next request, the favicon's a moment later.

Three visits with one profile, each a ``chromium --headless=new --dump-dom`` run (a new
process, its cookies and HTTP cache kept on disk): a 200 setting the digest; past half its
lifetime, a 304 signing it again; past the first cookie's own expiry, a visit that must
still send a digest, the 304's. The app writes down each response as it leaves, with the
digest's ``Set-Cookie`` (``revalidation_app``).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from firehose_digest.codec import renewal_at
from tests.integration.rig import Gunicorn, site_env

from .chromium import Browser
from .launcher import LIVE_SERVERS, require_tools
from .revalidation_app import ETAG, LOG_VARIABLE, Logged

pytestmark = pytest.mark.integration

APP = "tests.integration.revalidation_app:create_app()"
COOKIE = "h2-digest"
#: Seconds. The second visit must reach the app after half of it (the renewal) and before
#: the first cookie expires: a window of ``MAX_AGE / 2 - 1`` seconds at least (a value is
#: dated in whole seconds), which a browser's start must fit in. Chromium took 1 to 1.7 s
#: from its launch to the request on this 2-core machine at a load of 3.7 (measured); so
#: 10, not less: the test waits about 16 s in all.
MAX_AGE = 10
#: Past the first cookie's expiry by this much: the browser dates it from the 200's
#: arrival, a moment after the app logged it.
MARGIN = 1.0


def digest_of(cookie_header: str) -> str | None:
    """The digest's value in a request's ``Cookie`` header, as the browser sent it."""
    for pair in cookie_header.split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def digests_set(logged: Logged) -> list[str]:
    """The digest values a response's ``Set-Cookie`` lines set."""
    values = []
    for line in logged.set_cookie:
        name, _, rest = line.partition("=")
        if name == COOKIE:
            values.append(rest.partition(";")[0])
    return values


def read_log(path: Path) -> list[Logged]:
    return [Logged(**json.loads(line)) for line in path.read_text().splitlines()]


def sleep_until(when: float) -> None:
    time.sleep(max(0.0, when - time.time()))


def test_chromium_keeps_the_digest_a_304_signs_again(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require_tools("chromium")
    log_path = tmp_path / "responses.jsonl"
    env = {**site_env(FIREHOSE_MAX_AGE=MAX_AGE), LOG_VARIABLE: str(log_path)}
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    # Threads: Chromium opens a spare connection it may never use, which holds a sync
    # worker until gunicorn's 30 s timeout.
    with Gunicorn(APP, tmp_path / "gunicorn", env, threads=4) as app:
        live.append(app)
        try:
            browser = Browser(tmp_path / "profile")
            url = f"http://127.0.0.1:{app.port}/page"

            def visit() -> Logged:
                done = browser.load(url)
                assert "<p>page</p>" in done.stdout, done.stderr
                return [logged for logged in read_log(log_path) if logged.path == "/page"][-1]

            first = visit()
            # Signed at the whole second before the 200 was logged, or earlier.
            signed_by = math.floor(first.time)
            sleep_until(renewal_at(signed_by + MAX_AGE + 1, MAX_AGE))
            second = visit()
            first_expires = first.time + MAX_AGE
            sleep_until(first_expires + MARGIN)
            third = visit()
        finally:
            live.remove(app)
    everything = read_log(log_path)

    assert first.status == 200
    (first_digest,) = digests_set(first)
    # The revalidation: the first digest sent, in time for its renewal, and signed again.
    assert second.if_none_match == f'"{ETAG}"'
    assert digest_of(second.cookie) == first_digest, (
        f"the second visit reached the app {second.time - first.time:.1f} s after the "
        f"first, the first cookie lasting {MAX_AGE} s"
    )
    assert second.status == 304
    signed_again = digests_set(second)
    assert len(signed_again) == 1, f"the 304 did not sign the digest again: {second}"
    second_digest = signed_again[0]
    assert second_digest != first_digest
    # No other response set a digest between: the third visit's can only be the 304's.
    between = [logged for logged in everything if first.time < logged.time < third.time]
    assert [digests_set(logged) for logged in between if digests_set(logged)] == [[second_digest]]
    # Past the first cookie's expiry, the browser still sends a digest: the 304's.
    assert third.time > first_expires + MARGIN
    assert third.if_none_match == f'"{ETAG}"'
    assert digest_of(third.cookie) == second_digest
    assert third.status == 304
