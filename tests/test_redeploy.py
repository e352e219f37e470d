"""A client's cookie across a deploy that changes the settings: what it meets on return.

Users change settings over a site's life, and clients keep their cookies for
``FIREHOSE_MAX_AGE``. Each case builds a client under one app (a generation exactly at
capacity, or one key past it, so that the digest rotated), then sends its cookies to an
app of other settings. What the docs promise for each change:

- a change that keeps the digest (security.md's key rotation, a shorter
  ``FIREHOSE_MAX_AGE`` for a cookie younger than it, settings the digest is not made of):
  nothing the client held is pushed again, and no cookie is written for a page it holds;
- a change that makes it foreign (``FIREHOSE_ENCODING``, ``FIREHOSE_CAPACITY``,
  ``FIREHOSE_FP_RATE``, ``FIREHOSE_DIGEST_VERSION``, ``FIREHOSE_COOKIE_NAME``, a key
  dropped, a cookie older than the new ``FIREHOSE_MAX_AGE``, another connector): what it
  held is pushed once, and a cookie of the new settings written; never a 500, nothing
  logged above DEBUG, no cookie past the largest the settings make.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from firehose_digest import AgingDigest, DigestConnector, SessionConnector
from firehose_digest.settings import largest_digest_value

from .helpers import build_app

CAPACITY = 12
MAX_PUSHES = 4
BEFORE = {"FIREHOSE_CAPACITY": CAPACITY, "FIREHOSE_MAX_PUSHES": MAX_PUSHES}
NOW = 1_900_000_000
#: Seconds between the client's last visit under the old settings and its return.
AWAY = 600

#: (name, the new settings over the old, the connector: None for the digest)
KEPT = [
    ("nothing changed", {}, None),
    ("key rotation, step 1", {"SECRET_KEY_FALLBACKS": ["new secret"]}, None),
    (
        "key rotation, step 2",
        {"SECRET_KEY": "new secret", "SECRET_KEY_FALLBACKS": ["test secret"]},
        None,
    ),
    (
        "key rotation, bytes keys",
        {"SECRET_KEY": b"new secret", "SECRET_KEY_FALLBACKS": [b"test secret"]},
        None,
    ),
    ("FIREHOSE_MAX_AGE shorter, not than the cookie's age", {"FIREHOSE_MAX_AGE": 4 * AWAY}, None),
    ("FIREHOSE_MAX_AGE longer", {"FIREHOSE_MAX_AGE": 90 * 86400}, None),
    (
        "FIREHOSE_FP_RATE that builds the same filter",
        {"FIREHOSE_FP_RATE": 0.01 * (1 + 1e-9)},
        None,
    ),
    ("FIREHOSE_MAX_PUSHES", {"FIREHOSE_MAX_PUSHES": 2}, None),
    ("FIREHOSE_ALREADY_PUSHED", {"FIREHOSE_ALREADY_PUSHED": "omit"}, None),
    ("FIREHOSE_EARLY_HINTS", {"FIREHOSE_EARLY_HINTS": True}, None),
]
#: Stands for the encoding the client's digest was not made with.
OTHER_ENCODING = "the other"
LOST = [
    ("FIREHOSE_ENCODING", {"FIREHOSE_ENCODING": OTHER_ENCODING}, None),
    ("FIREHOSE_CAPACITY up", {"FIREHOSE_CAPACITY": 2 * CAPACITY}, None),
    ("FIREHOSE_CAPACITY down", {"FIREHOSE_CAPACITY": MAX_PUSHES + 2}, None),
    ("FIREHOSE_FP_RATE", {"FIREHOSE_FP_RATE": 0.001}, None),
    ("FIREHOSE_DIGEST_VERSION", {"FIREHOSE_DIGEST_VERSION": "2026-12"}, None),
    ("FIREHOSE_DIGEST_VERSION 0", {"FIREHOSE_DIGEST_VERSION": 0}, None),
    ("FIREHOSE_COOKIE_NAME", {"FIREHOSE_COOKIE_NAME": "h2-digest-2"}, None),
    ("SECRET_KEY without a fallback", {"SECRET_KEY": "new secret"}, None),
    ("FIREHOSE_MAX_AGE shorter than the cookie's age", {"FIREHOSE_MAX_AGE": AWAY - 60}, None),
    ("SessionConnector", {}, "session"),
]


def make_app(connector: str | None, config: dict[str, Any]) -> Flask:
    return build_app(SessionConnector() if connector == "session" else DigestConnector(), **config)


def digest_of(value: str) -> AgingDigest:
    """The digest a cookie value carries, read without its signature."""
    payload = value.split(".")[0]
    return AgingDigest.from_bytes(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def pushed(response: TestResponse) -> list[str]:
    values = [value.strip() for value in response.headers.get("Link", "").split(",") if value]
    return [value[1 : value.index(">")] for value in values if not value.endswith("; nopush")]


def page(urls: list[str]) -> str:
    return "/push?" + "&".join(f"u={url}" for url in urls)


def client_at(encoding: str, past: int, clock: list[float]) -> tuple[FlaskClient, list[str]]:
    """A client whose digest's current generation holds exactly ``CAPACITY`` keys
    (``past=0``), or rotated ``past`` keys ago; and the urls it was pushed, in order."""
    app = make_app(None, {**BEFORE, "FIREHOSE_ENCODING": encoding})
    client = app.test_client()
    urls: list[str] = []
    while True:
        cookie = client.get_cookie("h2-digest")
        digest = digest_of(cookie.value) if cookie else None
        count = len(digest.current) if digest else 0
        if digest is not None and digest.previous:
            if count == past:
                break
            assert count < past, (count, past)
            room = past - count
        else:
            # A key that sets no new bit (Bloom) or shares a value (GCS) is not counted:
            # never more keys than the room left, so the count lands on the capacity.
            room = CAPACITY - count + (past > 0)
        if room == 0:
            break
        new = [f"/static/r{len(urls) + i}.css" for i in range(min(room, MAX_PUSHES))]
        response = client.get(page(new))
        urls += pushed(response)
        clock[0] += 1
    assert digest is not None
    assert (len(digest.current), len(digest.previous)) == (
        (CAPACITY, 0) if past == 0 else (past, CAPACITY)
    )
    return client, urls


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [float(NOW)]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def return_visit(client: FlaskClient, app: Flask, clock: list[float]) -> FlaskClient:
    """The client, with every cookie it holds, at the new app ``AWAY`` seconds later."""
    returning = app.test_client()
    for name in ("h2-digest", "session"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            returning.set_cookie(name, cookie.value)
    clock[0] += AWAY
    return returning


STATES = [("gcs", 0), ("gcs", 1), ("bloom", 0), ("bloom", 1)]
STATE_IDS = ["gcs at capacity", "gcs one past", "bloom at capacity", "bloom one past"]


@pytest.mark.parametrize(("encoding", "past"), STATES, ids=STATE_IDS)
@pytest.mark.parametrize(("change", "config", "connector"), KEPT, ids=[c[0] for c in KEPT])
def test_a_deploy_that_keeps_the_digest_pushes_nothing_the_client_held(
    encoding: str,
    past: int,
    change: str,
    config: dict[str, Any],
    connector: str | None,
    clock: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, urls = client_at(encoding, past, clock)
    after = {**BEFORE, "FIREHOSE_ENCODING": encoding, **config}
    held = urls[-MAX_PUSHES:]  # one held by the previous generation alone, past it
    returning = return_visit(client, make_app(connector, after), clock)
    with caplog.at_level(logging.DEBUG):
        first = returning.get(page(held))
        second = returning.get(page(held))
    assert (first.status_code, second.status_code) == (200, 200)
    assert pushed(first) == pushed(second) == []
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
    # Written again only to copy into the current generation what the previous one alone
    # held (the key pushed before the rotation), and never for the page after.
    first_written = any(
        line.startswith("h2-digest=") for line in first.headers.getlist("Set-Cookie")
    )
    assert first_written == (past > 0)
    assert second.headers.getlist("Set-Cookie") == []


@pytest.mark.parametrize(("encoding", "past"), STATES, ids=STATE_IDS)
@pytest.mark.parametrize(("change", "config", "connector"), LOST, ids=[c[0] for c in LOST])
def test_a_deploy_that_makes_the_digest_foreign_pushes_what_was_held_once(
    encoding: str,
    past: int,
    change: str,
    config: dict[str, Any],
    connector: str | None,
    clock: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, urls = client_at(encoding, past, clock)
    after = {**BEFORE, "FIREHOSE_ENCODING": encoding, **config}
    if after["FIREHOSE_ENCODING"] == OTHER_ENCODING:
        after["FIREHOSE_ENCODING"] = "bloom" if encoding == "gcs" else "gcs"
    app = make_app(connector, after)
    held = urls[-MAX_PUSHES:]
    returning = return_visit(client, app, clock)
    with caplog.at_level(logging.DEBUG):
        first = returning.get(page(held))
        second = returning.get(page(held))
    assert (first.status_code, second.status_code) == (200, 200)
    assert pushed(first) == held
    assert pushed(second) == []
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
    if connector is None:
        name = after.get("FIREHOSE_COOKIE_NAME", "h2-digest")
        written = [
            line.split(";")[0].split("=", 1)[1]
            for line in first.headers.getlist("Set-Cookie")
            if line.startswith(f"{name}=")
        ]
        assert len(written) == 1
        settings = app.extensions["firehose"].settings
        assert len(written[0]) <= len(largest_digest_value(settings))
        digest = digest_of(written[0])
        assert (digest.kind, digest.capacity) == (settings.kind, settings.capacity)
        assert all(url in digest for url in held)


@pytest.mark.parametrize(("encoding", "past"), STATES, ids=STATE_IDS)
def test_a_deploy_that_turns_the_extension_off_and_on_again_keeps_the_digest(
    encoding: str, past: int, clock: list[float]
) -> None:
    """README: FIREHOSE_ENABLED = False writes no links, pushes or cookie; the browser keeps
    the digest meanwhile, and the app turned on again reads it."""
    client, urls = client_at(encoding, past, clock)
    before = {**BEFORE, "FIREHOSE_ENCODING": encoding}
    held = urls[-MAX_PUSHES:]
    off = return_visit(client, make_app(None, {**before, "FIREHOSE_ENABLED": False}), clock)
    response = off.get(page(held))
    assert (response.status_code, "Link" in response.headers) == (200, False)
    assert response.headers.getlist("Set-Cookie") == []
    on = return_visit(off, make_app(None, before), clock)
    assert pushed(on.get(page(held))) == []


@pytest.mark.parametrize(
    ("config", "connector", "kept"),
    [
        ({"SECRET_KEY": "new secret", "SECRET_KEY_FALLBACKS": ["test secret"]}, "session", True),
        ({"SECRET_KEY": "new secret"}, "session", False),
        ({}, None, False),
    ],
    ids=["key rotation", "SECRET_KEY without a fallback", "DigestConnector"],
)
def test_a_session_connector_s_client_after_a_deploy(
    config: dict[str, Any],
    connector: str | None,
    kept: bool,
    clock: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """connectors.md: Flask's session verifies with SECRET_KEY_FALLBACKS too, so its list
    outlives a key rotation; a moved connector starts empty, and pushes what was held once."""
    client = make_app("session", BEFORE).test_client()
    urls = [f"/static/r{i}.css" for i in range(CAPACITY)]
    for start in range(0, CAPACITY, MAX_PUSHES):
        assert pushed(client.get(page(urls[start : start + MAX_PUSHES]))) != []
    held = urls[-MAX_PUSHES:]
    returning = return_visit(client, make_app(connector, {**BEFORE, **config}), clock)
    with caplog.at_level(logging.DEBUG):
        first = returning.get(page(held))
        second = returning.get(page(held))
    assert (first.status_code, second.status_code) == (200, 200)
    assert pushed(first) == ([] if kept else held)
    assert pushed(second) == []
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
