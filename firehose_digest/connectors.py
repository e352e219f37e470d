"""Connectors: where a client's "already pushed" state lives between requests.

The protocol is Flask-Firehose's: ``get_pushed()`` returns a container that answers ``in``;
``set_pushed(items)`` receives it with the new keys added. Both run inside a request.
:class:`DigestConnector` reads the request through the extension's own record of it (the
app, the WSGI environ, and a slot for its state until ``process_response``), which costs
less than Flask's ``request`` and ``current_app`` proxies and a ``ContextVar`` of its own.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from flask import Flask, Response, current_app, session
from werkzeug.http import dump_cookie

from .codec import DEFAULT_SALT, DigestCodec, salt_for
from .digests import AgingDigest, BloomDigest, DigestError, GCSDigest, encoded_size_bound
from .extension import _request_record
from .links import is_token

__all__ = ["DigestConnector", "SessionConnector"]

log = logging.getLogger("firehose_digest")

ENCODINGS: dict[str, type[BloomDigest] | type[GCSDigest]] = {
    "gcs": GCSDigest,
    "bloom": BloomDigest,
}
#: Werkzeug warns above this many bytes for a whole Set-Cookie (name, value, attributes).
MAX_COOKIE_SIZE = 4093
#: Browsers cap a cookie's lifetime at 400 days (RFC 6265bis).
MAX_COOKIE_AGE = 400 * 24 * 3600
#: Decoded digests kept per process, keyed by the exact signed cookie value, and as many
#: ``Cookie`` headers that carried one.
DECODED_CACHE_SIZE = 1024
#: The longest ``Cookie`` header kept as a key: ours and a few others (so at most ~2 MB).
MAX_CACHED_HEADER = 2048
#: Seconds between two reads of ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``: a key set after
#: ``init_app``, or a rotation, takes effect within this.
KEYS_READ_INTERVAL = 1.0
DIGEST_EXTENSION_KEY = "firehose_digest"

DEFAULTS: dict[str, Any] = {
    "FIREHOSE_CAPACITY": 300,
    "FIREHOSE_FP_RATE": 0.01,
    "FIREHOSE_ENCODING": "gcs",
    "FIREHOSE_COOKIE_NAME": "h2-digest",
    "FIREHOSE_MAX_AGE": 30 * 24 * 3600,
    "FIREHOSE_DIGEST_VERSION": "",
}


class SessionConnector:
    """The exact set of pushed keys in ``session['h2-pushed']``, as a JSON list.

    Flask-Firehose stored ``','.join(urls)``, so a url with a comma was split and pushed
    forever; a list survives any url. Old comma-joined values are still read. Only the
    ``max_items`` most recently pushed keys are kept: each costs ~13 bytes of session cookie,
    and past ~250 of them nginx's 4 KB upstream header buffer overflows (a 502).
    """

    session_key = "h2-pushed"

    def __init__(self, max_items: int = 100) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
            raise ValueError(f"SessionConnector max_items must be an int >= 1, got {max_items!r}")
        self.max_items = max_items

    def get_pushed(self) -> _RecentKeys:
        stored = session.get(self.session_key)
        if isinstance(stored, str):
            stored = stored.split(",") if stored else []
        if not isinstance(stored, list):
            stored = []
        return _RecentKeys(key for key in stored if isinstance(key, str))

    def set_pushed(self, items: Iterable[str]) -> None:
        if current_app.session_interface.is_null_session(session):
            _warn_no_secret_key(current_app, "SessionConnector")
            return
        session[self.session_key] = list(items)[-self.max_items :]


class _RecentKeys:
    """A set of keys ordered by last use: ``in``, ``add`` and iteration, oldest first.

    A key found by ``in`` counts as used, so a resource on every page is not the first to go
    when ``set_pushed`` next stores the set.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._keys = dict.fromkeys(keys)

    def __contains__(self, key: object) -> bool:
        if key not in self._keys:
            return False
        self._keys[key] = self._keys.pop(key)
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        self._keys.pop(key, None)
        self._keys[key] = None


@dataclass(frozen=True)
class DigestSettings:
    """A validated digest configuration (``FIREHOSE_*`` keys, overridden by arguments)."""

    kind: type[BloomDigest] | type[GCSDigest]
    capacity: int
    fp_rate: float
    cookie_name: str
    max_age: int
    salt: str

    def new_digest(self) -> AgingDigest:
        return AgingDigest(self.kind, self.capacity, self.fp_rate)

    @cached_property
    def _effective_fp_rate(self) -> float:
        # What a digest reports is the rate its stored parameters imply (R = C/p is
        # rounded, a Bloom filter's k too), not the configured value.
        return self.new_digest().fp_rate

    def accepts(self, digest: object) -> bool:
        """Whether a decoded digest was made with these settings (else start afresh)."""
        return (
            isinstance(digest, AgingDigest)
            and digest.kind is self.kind
            and digest.capacity == self.capacity
            and math.isclose(digest.fp_rate, self._effective_fp_rate)
        )


class DigestConnector:
    """Remember pushed resources in a signed cookie holding a Bloom or GCS digest.

    No server state: the cookie (``FIREHOSE_COOKIE_NAME``) carries an
    :class:`~firehose_digest.AgingDigest` of the pushed keys, signed with
    ``SECRET_KEY_FALLBACKS + [SECRET_KEY]``. Arguments override the app's config.
    A bad, expired or foreign cookie is an empty digest, never an error.
    """

    def __init__(
        self,
        capacity: int | None = None,
        fp_rate: float | None = None,
        encoding: str | None = None,
    ) -> None:
        self._overrides = {
            key: value
            for key, value in (
                ("FIREHOSE_CAPACITY", capacity),
                ("FIREHOSE_FP_RATE", fp_rate),
                ("FIREHOSE_ENCODING", encoding),
            )
            if value is not None
        }

    def init_app(self, app: Flask) -> None:
        """Fill the digest's config defaults and refuse settings that cannot work."""
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        settings = _settings_from({**app.config, **self._overrides})
        app.extensions[DIGEST_EXTENSION_KEY] = _DigestState(settings)

    def get_pushed(self) -> _Held | frozenset[str]:
        """What the client holds, by its cookie; empty outside a request the extension sees."""
        # The extension's request, not Flask's proxies: the same app and environ, cheaper.
        record = _request_record.get()
        if record is None:
            return frozenset()
        app = record.app
        state: _DigestState = app.extensions[DIGEST_EXTENSION_KEY]
        now = time.time()
        codec = state.codec(app, now)
        if codec is None:
            return frozenset()
        cached = state.held(codec, record.environ.get("HTTP_COOKIE"), now)
        return state.empty if cached is None else cached.held

    def set_pushed(self, items: _Held | frozenset[str]) -> None:
        """Nothing to do: each ``add`` to what get_pushed() returned is already recorded."""

    def process_response(self, response: Response) -> None:
        """Write the digest cookie if the digest changed.

        Held keys found only in the previous generation are added to the current one
        first, so a resource on every page survives rotations instead of being pushed
        again every two generations. (``Vary: Cookie`` comes from the extension.)
        """
        record = _request_record.get()
        if record is None:
            return
        changes = record.connector_state
        if not isinstance(changes, _Changes):
            return
        record.connector_state = None  # written once
        digest = changes.refreshed()
        if digest is None:
            return
        app = record.app
        state: _DigestState = app.extensions[DIGEST_EXTENSION_KEY]
        codec = state.codec(app, time.time())
        if codec is None:
            return
        value = codec.dumps(digest.to_bytes())
        state.remember(codec, value, digest)
        settings = state.settings
        config = app.config
        response.set_cookie(
            settings.cookie_name,
            value,
            max_age=settings.max_age,
            path=config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"],
            domain=config["SESSION_COOKIE_DOMAIN"] or None,
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=config["SESSION_COOKIE_HTTPONLY"],
            samesite=config["SESSION_COOKIE_SAMESITE"],
            partitioned=config.get("SESSION_COOKIE_PARTITIONED", False),
        )


#: Membership answers kept per cached digest: more than a page's worth, bounded.
MAX_ANSWERS = 512


class _Cached(NamedTuple):
    """A verified digest, as the decoded-cookie cache holds it."""

    #: Unix time from which the cookie is stale (:meth:`DigestCodec.expires_at`).
    expires_at: int
    held: _Held


class _Held(dict[str, bool]):
    """What a verified digest holds, as ``get_pushed()`` returns it: ``key in held``.

    Shared by every request that sends the same cookie, and never changed but for the
    answers it keeps: a client asks about the same page's keys on every request. ``in`` is
    ``dict.__getitem__``, so a known key is answered in C, with no Python frame (in a real
    request, ten such frames cost more than the dict lookups); an unknown one falls to
    ``__missing__``, which asks the digest. Adding a key goes to this request's
    :class:`_Changes`, made on a copy.
    """

    __slots__ = ("digest",)
    __contains__ = dict.__getitem__  # type: ignore[assignment]

    def __init__(self, digest: AgingDigest) -> None:
        super().__init__()
        self.digest = digest

    def __missing__(self, key: str) -> bool:
        if not isinstance(key, str):
            return False
        digest = self.digest
        if key in digest.current:
            held = True
        elif key in digest.previous:
            # Held, but only by the generation the next rotation drops: this request
            # refreshes it into the current one. Not kept, so each request that finds it does.
            _changes_to(digest).stale.append(key)
            return True
        else:
            held = False
        if len(self) < MAX_ANSWERS:
            self[key] = held
        return held

    def add(self, key: str) -> None:
        _changes_to(self.digest).add(key)


class _Changes:
    """One request's additions to a cached digest: made on a copy, written if any."""

    __slots__ = ("_base", "_copy", "stale")

    def __init__(self, base: AgingDigest) -> None:
        self._base = base
        self._copy: AgingDigest | None = None
        #: Held keys only the previous generation has.
        self.stale: list[str] = []

    def add(self, key: str) -> None:
        if self._copy is None:
            self._copy = self._base.copy()
        self._copy.add(key)

    def refreshed(self) -> AgingDigest | None:
        """The digest to write, stale keys refreshed into it; None when nothing changed."""
        for key in self.stale:
            self.add(key)
        return self._copy


def _changes_to(digest: AgingDigest) -> _Changes:
    """This request's changes to ``digest``, kept in the extension's record of the request."""
    record = _request_record.get()
    if record is None:  # asked outside a request: nothing can be written
        return _Changes(digest)
    changes = record.connector_state
    if not isinstance(changes, _Changes) or changes._base is not digest:
        changes = record.connector_state = _Changes(digest)
    return changes


class _DigestState:
    """Per-app: settings, the codec for the current keys, and the decoded-cookie cache.

    The cache maps a signed cookie value to its digest, so the common request (a client
    sending back the cookie we wrote, in this process) skips HMAC, base64 and decoding.
    Values enter it only once verified, or because we signed them ourselves. A second map
    from whole ``Cookie`` headers to the same entries skips finding our cookie in the header
    when a client sends the same header again: on a return visit, that search and the
    slice it makes were a third of the digest's cost per request.
    """

    def __init__(self, settings: DigestSettings) -> None:
        self.settings = settings
        #: What a client without a valid digest holds: nothing (shared, like any other).
        self.empty = _Held(settings.new_digest())
        # Our values are base64url and dots, never quoted: a search of the raw header finds
        # one without parsing every cookie the client sends.
        self._cookie_prefix = settings.cookie_name + "="
        # (configured keys, codec, when to read the keys again) in one attribute, so threads
        # never see a codec with other keys. The keys are read again at most once every
        # KEYS_READ_INTERVAL: SECRET_KEY may be set after init_app, and a rotation must take
        # effect, but reading the config on every request was a fifth of a return visit's
        # cost in the digest.
        self._current: tuple[tuple[Any, ...], DigestCodec | None, float] = ((), None, 0.0)
        # Insertion-ordered: the oldest entry is evicted first. Reads take no lock (a dict
        # read is atomic); writers serialise on the lock.
        self._decoded: dict[str, _Cached] = {}
        self._by_header: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def codec(self, app: Flask, now: float) -> DigestCodec | None:
        """The codec for the app's current keys; None (and one warning) without SECRET_KEY."""
        current_keys, codec, read_again_at = self._current
        if now < read_again_at:
            return codec
        config = app.config
        configured = (config.get("SECRET_KEY"), *(config.get("SECRET_KEY_FALLBACKS") or ()))
        if configured == current_keys:
            self._current = (current_keys, codec, now + KEYS_READ_INTERVAL)
            return codec
        secret_key, *fallbacks = configured
        if secret_key:
            # Oldest to newest: the last key signs.
            keys = (*filter(None, fallbacks), secret_key)
            codec = DigestCodec(keys, self.settings.salt, self.settings.max_age)
        else:
            _warn_no_secret_key(app, "DigestConnector")
            codec = None
        with self._lock:
            self._current = (configured, codec, now + KEYS_READ_INTERVAL)
            self._decoded.clear()
            self._by_header.clear()
        return codec

    def held(self, codec: DigestCodec, cookie_header: str | None, now: float) -> _Cached | None:
        """The digest in our cookie, or None when absent, not ours, not valid or stale."""
        if not cookie_header:
            return None
        cached = self._by_header.get(cookie_header)
        if cached is None:
            value = self._cookie_value(cookie_header)
            if not value:
                return None
            cached = self._decoded.get(value) or self._verify(codec, value)
            if cached is None:
                return None
            if len(cookie_header) <= MAX_CACHED_HEADER:
                self._store(self._by_header, cookie_header, cached)
        return cached if now < cached.expires_at else None

    def _verify(self, codec: DigestCodec, value: str) -> _Cached | None:
        """Check and decode a value this process has not seen; cache it if it is ours."""
        try:
            payload, issued_at = codec.loads(value)
            digest = AgingDigest.from_bytes(payload)
        except DigestError as e:
            log.debug("firehose: ignoring the digest cookie: %s", e)
            return None
        if not self.settings.accepts(digest):
            log.debug("firehose: ignoring a digest made with other settings")
            return None
        cached = _Cached(codec.expires_at(issued_at), _Held(digest))
        return self._store(self._decoded, value, cached)

    def _cookie_value(self, header: str) -> str | None:
        """Our cookie's value in a raw ``Cookie`` header (the first, as Werkzeug reads it)."""
        prefix = self._cookie_prefix
        start = header.find(prefix)
        while start > 0 and header[start - 1] not in " \t;,":
            start = header.find(prefix, start + 1)  # a longer name ending in ours
        if start < 0:
            return None
        start += len(prefix)
        end = header.find(";", start)
        return header[start : end if end >= 0 else len(header)].strip(" \t,")

    def remember(self, codec: DigestCodec, value: str, digest: AgingDigest) -> None:
        """Cache a value we just signed: the client sends it back on its next request."""
        expires_at = codec.expires_at(int(time.time()))  # signed now, in whole seconds
        self._store(self._decoded, value, _Cached(expires_at, _Held(digest)))

    def _store(self, cache: dict[str, _Cached], key: str, cached: _Cached) -> _Cached:
        with self._lock:
            cache[key] = cached
            if len(cache) > DECODED_CACHE_SIZE:
                del cache[next(iter(cache))]
        return cached


def _warn_no_secret_key(app: Flask, who: str) -> None:
    """Warn once per app: the page is served, only the tracking is lost."""
    if app.extensions.get("firehose_warned_no_secret_key"):
        return
    app.extensions["firehose_warned_no_secret_key"] = True
    app.logger.warning(
        "firehose: SECRET_KEY is not set, so %s cannot remember what was pushed; "
        "pages keep their Link headers but every resource is pushed every time",
        who,
    )


def _settings_from(config: dict[str, Any]) -> DigestSettings:
    """Validate the digest keys; a bad value raises ValueError naming its key."""
    capacity = config["FIREHOSE_CAPACITY"]
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"FIREHOSE_CAPACITY must be an int >= 1, got {capacity!r}")
    fp_rate = config["FIREHOSE_FP_RATE"]
    if isinstance(fp_rate, bool) or not isinstance(fp_rate, (int, float)) or not 0 < fp_rate < 1:
        raise ValueError(f"FIREHOSE_FP_RATE must be a number in (0, 1), got {fp_rate!r}")
    encoding = config["FIREHOSE_ENCODING"]
    if encoding not in ENCODINGS:
        raise ValueError(f"FIREHOSE_ENCODING must be one of {sorted(ENCODINGS)}, got {encoding!r}")
    cookie_name = config["FIREHOSE_COOKIE_NAME"]
    if not is_token(cookie_name):  # RFC 6265: cookie-name = token
        raise ValueError(
            f"FIREHOSE_COOKIE_NAME must be a cookie-name token (RFC 6265), got {cookie_name!r}"
        )
    max_age = config["FIREHOSE_MAX_AGE"]
    if (
        isinstance(max_age, bool)
        or not isinstance(max_age, int)
        or not 1 <= max_age <= MAX_COOKIE_AGE
    ):
        raise ValueError(
            f"FIREHOSE_MAX_AGE must be an int of seconds in [1, {MAX_COOKIE_AGE}] "
            f"(browsers keep a cookie 400 days at most), got {max_age!r}"
        )
    version = config["FIREHOSE_DIGEST_VERSION"]
    if not isinstance(version, str):
        raise ValueError(f"FIREHOSE_DIGEST_VERSION must be a str, got {version!r}")
    kind = ENCODINGS[encoding]
    try:
        kind(capacity, float(fp_rate))
    except ValueError as e:
        raise ValueError(f"FIREHOSE_CAPACITY / FIREHOSE_FP_RATE: {e}") from e

    # A full digest, signed, with every cookie attribute, must fit in one browser cookie.
    payload = encoded_size_bound(kind, capacity, float(fp_rate))
    signed = DigestCodec(["k"], DEFAULT_SALT, max_age).dumps(bytes(payload))
    set_cookie = dump_cookie(
        cookie_name,
        signed,
        max_age=max_age,
        path=config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/",
        domain=config.get("SESSION_COOKIE_DOMAIN") or None,
        secure=bool(config.get("SESSION_COOKIE_SECURE")),
        httponly=bool(config.get("SESSION_COOKIE_HTTPONLY")),
        samesite=config.get("SESSION_COOKIE_SAMESITE"),
        partitioned=bool(config.get("SESSION_COOKIE_PARTITIONED")),
        max_size=0,
    )
    if len(set_cookie) > MAX_COOKIE_SIZE:
        raise ValueError(
            f"FIREHOSE_CAPACITY={capacity} at FIREHOSE_FP_RATE={fp_rate} ({encoding}) makes a "
            f"cookie of up to {len(set_cookie)} bytes, over the {MAX_COOKIE_SIZE} a browser "
            "keeps: lower the capacity or raise the false-positive rate"
        )
    return DigestSettings(kind, capacity, float(fp_rate), cookie_name, max_age, salt_for(version))
