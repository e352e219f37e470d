"""The decoded digests a process keeps for :class:`~.connectors.DigestConnector`: per app,
its settings, the codec of its keys in force for each cookie scope, and a cache of the
cookies it decoded, bounded in bytes (:class:`DigestState`); each a :class:`HeldDigest`,
which keeps its answers. Whether ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` can sign is
:mod:`.secret_key`'s to say.

A module of its own: this is the server state the digest costs, with the bounds
docs/performance.md measures and names here (:data:`DECODED_CACHE_BYTES`,
:data:`MAX_ANSWERS`, :data:`ANSWER_KEY_LENGTH`, :data:`MAX_COOKIE_SCOPES`): the connector
reads the cookie through it, and signs what it writes with its codec.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from flask import Flask

from .codec import DigestCodec, keys_in_force, newest_first, renewal_at, scoped_salt
from .cookie_scope import (
    cookie_domain,
    digest_cookie_attributes,
    named_as_the_session,
    scope_read,
    unrecordable,
    warn_named_as_the_session,
)
from .digests import IN_CURRENT, NOT_HELD, AgingDigest, DigestError
from .links import for_log
from .locks import fork_safe_lock
from .secret_key import fallbacks_problem, false_key_problem, key_problem, warn_no_secret_key
from .settings import CookieAttributes, Settings, largest_digest_value
from .sizes import CHURNED_DICT_SLOT

__all__ = [
    "ANSWER_KEY_LENGTH",
    "DECODED_CACHE_BYTES",
    "MAX_ANSWERS",
    "MAX_COOKIE_SCOPES",
    "DigestState",
    "HeldDigest",
]

log = logging.getLogger("firehose_digest")


#: Decoded digests kept per app and process, by the exact signed cookie value, counted in
#: bytes (the value, the digest's buffers and its kept answers at their most, keys
#: included, and its place in the cache): about 250 clients holding 300 resources (220 if
#: their digests have rotated: two generations each).
DECODED_CACHE_BYTES = 2 << 20


#: Answers a cached digest keeps: more than a typical page's tracked links.
MAX_ANSWERS = 32
#: Keys longer than this, or not ASCII (a version may hold any character; a url is
#: percent-encoded), are answered, not kept: a kept answer keeps its key alive, and a
#: per-user url (a signed one) can be any length. Site urls, even versioned, are shorter.
ANSWER_KEY_LENGTH = 128


class HeldDigest(dict[str, int]):
    """What a client's digest holds, as ``open()`` returns it: ``key in held``.

    One per decoded cookie, shared by every request that sends that cookie. Its answers
    are kept, up to :data:`MAX_ANSWERS` ASCII keys of at most :data:`ANSWER_KEY_LENGTH`
    characters: a client asks about the same page's keys on
    every visit, and a kept answer is one dict lookup where the digest hashes the key and
    searches both generations (docs/performance.md). Each answer is the generation that
    holds the key (:meth:`~firehose_digest.AgingDigest.generation_of`), so ``save()`` knows
    without asking the digest again whether a page's keys need refreshing. Asking never
    changes an answer; the digest itself is never changed (``save()`` writes a copy).
    """

    __slots__ = ("digest", "expires_at", "salt")
    # ``in`` takes an answer's truth: NOT_HELD (0) is the one false one.
    __contains__ = dict.__getitem__  # type: ignore[assignment]

    def __init__(
        self, digest: AgingDigest, expires_at: float = math.inf, salt: str | None = None
    ) -> None:
        super().__init__()
        self.digest = digest
        #: Unix time from which the cookie it came from is expired (whole seconds); never
        #: (infinity) for the shared empty holder, which no cookie dates.
        self.expires_at = expires_at
        #: The salt its cookie verified with (:func:`~.codec.scoped_salt`), so that a
        #: request of another cookie scope verifies it again; None for the empty holder.
        self.salt = salt

    def __missing__(self, key: object) -> int:
        if not isinstance(key, str):
            return NOT_HELD
        answer = self.digest.generation_of(key)
        if len(self) < MAX_ANSWERS and len(key) <= ANSWER_KEY_LENGTH and key.isascii():
            self[key] = answer
            if len(self) > MAX_ANSWERS:
                # Another request of this cookie kept one in the same place meanwhile:
                # each that went past takes its own out, so the bound holds.
                self.pop(key, None)
        return answer

    def renewal_due(self, max_age: int) -> bool:
        """Whether half the cookie's lifetime is gone: ``save()`` signs it again then, so a
        client that keeps coming back to pages it holds keeps its digest (the browser drops
        the cookie, and the server refuses it, ``max_age`` seconds after it was signed)."""
        return time.time() >= renewal_at(self.expires_at, max_age)

    def current_holds(self, keys: Iterable[str]) -> bool:
        """Whether the current generation holds every one of ``keys``."""
        return all(self[key] == IN_CURRENT for key in keys)

    def __sizeof__(self) -> int:
        """As large as it may grow: the cache of decoded cookies is bounded in bytes. With
        its salt: its codec's, but once that codec is dropped (past ``MAX_COOKIE_SCOPES``
        hosts, where a session interface scopes the cookie per host) it keeps it alone."""
        return _HOLDER_SIZE + sys.getsizeof(self.digest) + sys.getsizeof(self.salt)


#: A holder at its most, less its digest: the dict with this class's slots, its kept answers'
#: keys, each as long as a kept key may be, and its expiry, an int of its own (Unix seconds,
#: below 2^60 for ages).
_HOLDER_SIZE = (
    sys.getsizeof(dict.fromkeys(range(MAX_ANSWERS), IN_CURRENT))
    + HeldDigest.__basicsize__
    - dict.__basicsize__
    + MAX_ANSWERS * sys.getsizeof("x" * ANSWER_KEY_LENGTH)
    + sys.getsizeof(2**60 - 1)
)


class DigestState:
    """One app's digest: settings, the codec for its current keys, decoded cookies.

    The decoded-cookie cache maps a signed value to its digest, so a client sending back
    the cookie we wrote skips the HMAC and the decoding. Values enter it only once verified,
    or because we signed them ourselves, and it is bounded in bytes.
    """

    def __init__(
        self, settings: Settings, checked: CookieAttributes, init_scope: tuple[object, ...]
    ) -> None:
        self.settings = settings
        #: The cookie's attributes as init_app checked its largest cookie with them.
        self.checked = checked
        #: The scopes requests found a digest can be recorded under, as the session
        #: interface's getters gave them (:func:`~.cookie_scope.scope_read`): ``init_scope``,
        #: what they gave at ``init_app``, which made ``checked``; and one per host where the
        #: session interface scopes the cookie per host. A scope refused is never kept.
        self._recordable: set[tuple[object, ...]] = set()
        #: The largest value the digest can make, signed, which a scope a session interface
        #: gives a request is measured with (:func:`~.cookie_scope.unrecordable`): its
        #: length is the settings' alone.
        self.largest_value = largest_digest_value(settings)
        #: What a client without a valid digest holds: nothing (shared; its digest is never
        #: changed, its kept answers grow as for any holder).
        self.empty = HeldDigest(AgingDigest(settings.kind, settings.capacity, settings.fp_rate))
        #: The signing inputs last read (:func:`_signing_inputs`) and the codec made of
        #: them: swapped as one tuple, so threads never mix the one's with the other's.
        self._inputs_and_codec: tuple[tuple[Any, ...], DigestCodec | None] = ((object(),), None)
        #: salt -> its codec, for the keys in force: a session interface may scope the
        #: cookie per request (its domain per host), and each scope is signed apart.
        self._scoped: dict[str, DigestCodec] = {}
        #: value -> what it holds, with its expiry; oldest first.
        self._decoded: dict[str, HeldDigest] = {}
        self._decoded_bytes = 0
        self._lock = fork_safe_lock()
        self.keep_recordable(init_scope)

    def codec(self, app: Flask) -> DigestCodec | None:
        """The codec for the app's keys as configured now; None without ``SECRET_KEY``.

        The keys are compared on every call, so a key removed from the config stops
        verifying at once; a change of keys also empties the cache of decoded values (a
        change of the cookie's domain, path or partitioning, per request or by config,
        keeps it: each value is kept with the salt it verified with).
        """
        seen, codec = self._inputs_and_codec
        configured = _signing_inputs(app)
        if configured == seen:
            return codec
        if codec is not None and configured[3:] == seen[3:]:
            # The same keys, another scope (a session interface's domain per host): the
            # scope's codec, if kept, as the lock's path below would find it.
            scoped = self._scoped.get(_salt_of(self.settings.salt, *configured[:3]))
            if scoped is not None:
                return scoped
        with self._lock:
            # Read again under the lock: of two threads that saw a change, the later reads
            # the newer config, so a removed key is never put back by one that read before.
            configured = _signing_inputs(app)
            seen, codec = self._inputs_and_codec
            if configured == seen:
                return codec
            domain, path, partitioned, secret_key, fallbacks = configured[:5]
            problem = key_problem(secret_key) or fallbacks_problem(fallbacks)
            if problem:
                # Set after init_app to something no HMAC takes (an int read from the
                # environment, a bare str of fallbacks): as if unset, with one warning
                # naming it, rather than an error per request or a key per character.
                secret_key = fallbacks = None
            keys = keys_in_force(secret_key, fallbacks)
            # configured[3:] is SECRET_KEY and its fallbacks. Under other secret keys (or
            # none), a value kept may have verified with a key no longer in force, so none
            # is kept. A new scope alone keeps them: each was kept with its salt.
            if configured[3:] != seen[3:] or not keys:
                self._scoped = {}
                self._decoded.clear()
                self._decoded_bytes = 0
            if keys:
                # Signed for the cookie's Domain, Path and Partitioned, as written now:
                # another app's, or the copy a deploy left, sent beside it, is foreign.
                salt = _salt_of(self.settings.salt, domain, path, partitioned)
                codec = self._scoped.get(salt)
                if codec is None:
                    if len(self._scoped) >= MAX_COOKIE_SCOPES:
                        self._scoped.clear()  # rebuilt on use; the values stay cached
                    codec = DigestCodec(keys, salt, self.settings.max_age)
                    self._scoped[salt] = codec
            else:
                codec = None
            self._inputs_and_codec = (configured, codec)
        if codec is None:  # outside the lock: a log handler may serve a request of this app
            warn_no_secret_key(app, "DigestConnector", problem or false_key_problem(secret_key))
        return codec

    def scope_refused(self, app: Flask) -> str:
        """Why no digest can be recorded under the cookie's scope on this request
        (:func:`~.cookie_scope.unrecordable`); "" if one can.

        The scope is read through the session interface on each request, as Flask reads it
        for the session cookie: a getter its class overrides or one set on the instance may
        give each host its own ``Domain``, and Flask's own read ``app.config``, where a
        ``SESSION_COOKIE_*`` may be set after ``init_app`` checked it. Checked only when it
        is not one found recordable already (``init_app``'s, and each host's:
        :meth:`found_recordable`).

        A session cookie named as the digest's (a ``SESSION_COOKIE_NAME`` set so after
        ``init_app``, which refuses it) is refused first, whatever the attributes: the digest
        written would replace the app's session, and sign its user out.
        """
        scope = scope_read(app)
        if self.found_recordable(scope):
            return ""
        session_cookie_name = scope[0]
        if session_cookie_name == self.settings.cookie_name:
            refused = named_as_the_session(self.settings.cookie_name)
            warn_named_as_the_session(app, session_cookie_name, refused)
            return refused
        attributes = digest_cookie_attributes(app)
        refused = (
            ""
            if attributes == self.checked
            else unrecordable(app, self.settings, self.largest_value, attributes)
        )
        if not refused:
            self.keep_recordable(scope)
        return refused

    def found_recordable(self, scope: tuple[object, ...]) -> bool:
        """Whether a request found a digest can be recorded under ``scope``
        (:meth:`keep_recordable`)."""
        try:
            return scope in self._recordable
        except TypeError:  # a getter gave a value no set holds (a list): checked each time
            return False

    def keep_recordable(self, scope: tuple[object, ...]) -> None:
        """Keep ``scope`` as one a digest can be recorded under: at most
        :data:`MAX_COOKIE_SCOPES` of them, emptied when full."""
        try:
            hash(scope)
        except TypeError:  # a getter gave a value no set holds: not kept, nor room made
            return
        with self._lock:
            if len(self._recordable) >= MAX_COOKIE_SCOPES:
                self._recordable.clear()
            self._recordable.add(scope)

    def read_here(self, held: HeldDigest, codec: DigestCodec) -> bool:
        """Whether ``held`` was read under these settings: this state's empty holder, or a
        digest of this encoding, capacity and rate whose cookie verified with ``codec``'s
        salt (the digest version and the cookie's scope). One read from a cookie before
        ``init_app`` ran again is not, and must not be written back, nor cached, as this
        state's."""
        if held is self.empty:
            return True
        return held.salt == codec.salt and self.empty.digest.made_like(held.digest)

    def load(self, app: Flask, value: str | None) -> HeldDigest | None:
        """The digest the cookie ``value`` carries, or the empty one if it is not valid now;
        None without ``SECRET_KEY``."""
        codec = self.codec(app)
        if codec is None:
            return None
        if not value:
            return self.empty
        held = self._decoded.get(value)
        if held is None or held.salt != codec.salt:
            held = self._verify(codec, value)
            if held is None:
                return self.empty
        # expires_at is whole seconds (DigestCodec.expires_at): comparing the float clock
        # with it agrees with the whole-second age DigestCodec.loads() judges.
        if time.time() < held.expires_at:
            return held
        log.debug("firehose: ignoring the digest cookie: it has expired")  # kept decoded
        return self.empty

    def load_newest(self, app: Flask, values: Sequence[str]) -> HeldDigest | None:
        """Of several copies of the cookie, the digest of the valid one signed last
        (:func:`~.codec.newest_first`), else the empty one; None without ``SECRET_KEY``.

        Each copy is verified (an HMAC), and those that verify are decoded newest first
        until one is a digest of this app's settings: a client cannot make one request
        decode a digest for each copy it sends, only the server's own signed values can.
        """
        codec = self.codec(app)
        if codec is None:
            return None
        signed: list[tuple[str, float, HeldDigest | bytes]] = []  # value, expiry, either
        for value in values:
            held = self._decoded.get(value)
            if held is not None and held.salt == codec.salt:
                signed.append((value, held.expires_at, held))
                continue
            try:
                payload, issued_at = codec.loads(value)
            except DigestError as e:
                log.debug("firehose: ignoring the digest cookie: %s", for_log(str(e)))
                continue
            signed.append((value, codec.expires_at(issued_at), payload))
        # Ordered by expiry, as by the time signed: each was signed with this codec's max_age.
        for value, expires_at, found in newest_first(signed, itemgetter(1)):
            if time.time() >= expires_at:
                # Expired: every copy after this one was signed before it, so has expired
                # too, and none is read. A copy codec.loads() verified above had its age
                # judged there (an expired one refused and logged): only a cached one is
                # logged here.
                if isinstance(found, HeldDigest):
                    log.debug("firehose: ignoring the digest cookie: it has expired")
                break
            if isinstance(found, HeldDigest):
                return found
            held = self._decode(codec, value, found, int(expires_at))
            if held is not None:
                return held
        return self.empty

    def _verify(self, codec: DigestCodec, value: str) -> HeldDigest | None:
        try:
            payload, issued_at = codec.loads(value)
        except DigestError as e:  # which may repeat the signature the client sent
            log.debug("firehose: ignoring the digest cookie: %s", for_log(str(e)))
            return None
        return self._decode(codec, value, payload, codec.expires_at(issued_at))

    def _decode(
        self, codec: DigestCodec, value: str, payload: bytes, expires_at: int
    ) -> HeldDigest | None:
        """The digest a verified ``value`` carries, cached; None if it is not one of ours
        now (another encoding, capacity or false-positive rate), told from its header
        before anything else of it is decoded."""
        if not self.empty.digest.made_like_encoded(payload):
            log.debug("firehose: ignoring the digest cookie: not one made with these settings")
            return None
        try:
            digest = AgingDigest.from_bytes(payload)
        except DigestError as e:
            log.debug("firehose: ignoring the digest cookie: %s", for_log(str(e)))
            return None
        return self._store(codec, value, expires_at, digest)

    def remember(self, codec: DigestCodec, value: str, digest: AgingDigest) -> None:
        """Cache a value we just signed: the client sends it back on its next request."""
        # The time signed into the value: a clock read after it may be a second later.
        self._store(codec, value, codec.expires_at(codec.loads(value).issued_at), digest)

    def _store(
        self, codec: DigestCodec, value: str, expires_at: int, digest: AgingDigest
    ) -> HeldDigest:
        held = HeldDigest(digest, expires_at, codec.salt)
        size = _entry_size(value, held)
        if size > DECODED_CACHE_BYTES:
            return held
        with self._lock:
            if self._scoped.get(codec.salt) is not codec:
                # Its codec was dropped meanwhile: the keys changed, or past
                # MAX_COOKIE_SCOPES scopes the codecs were emptied.
                return held
            old = self._decoded.pop(value, None)
            if old is not None:
                self._decoded_bytes -= _entry_size(value, old)
            self._decoded[value] = held
            self._decoded_bytes += size
            while self._decoded_bytes > DECODED_CACHE_BYTES:
                oldest = next(iter(self._decoded))
                self._decoded_bytes -= _entry_size(oldest, self._decoded.pop(oldest))
        return held


#: Codecs kept, one per salt (the cookie's domain, path and partitioning), and scopes
#: found recordable (the session cookie's name and six attributes:
#: :func:`~.cookie_scope.scope_read`), each up to this many: a session interface that
#: scopes the cookie per host serves a few hosts from one app. Past it, codecs are made,
#: and scopes checked, again.
MAX_COOKIE_SCOPES = 16


def _salt_of(salt: str, domain: object, path: object, partitioned: object) -> str:
    """:func:`~.codec.scoped_salt`, a domain it cannot read (set after ``init_app``) named.
    Any true ``partitioned`` is the flag, as Werkzeug writes it."""
    try:
        return scoped_salt(salt, domain, path, partitioned=bool(partitioned))  # type: ignore[arg-type]
    except (UnicodeError, AttributeError, TypeError) as e:
        raise ValueError(
            f"SESSION_COOKIE_DOMAIN={domain!r} or SESSION_COOKIE_PATH={path!r} is not one a "
            f"cookie can have: {e}"
        ) from e


def _signing_inputs(app: Flask) -> tuple[Any, ...]:
    """The cookie's domain, path and partitioning, ``SECRET_KEY`` and
    ``SECRET_KEY_FALLBACKS`` as configured now, a list's items too: a key removed from the
    list in place is seen as well."""
    interface = app.session_interface
    scope = (
        cookie_domain(app),
        interface.get_cookie_path(app),
        interface.get_cookie_partitioned(app),
    )
    secret_key = app.config.get("SECRET_KEY")
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS")
    if isinstance(fallbacks, list):
        return (*scope, secret_key, fallbacks, *fallbacks)
    return (*scope, secret_key, fallbacks)


def _entry_size(value: str, held: HeldDigest) -> int:
    """What a decoded digest keeps alive: its value, the digest, and its place in a dict
    whose keys come and go (oldest dropped first)."""
    return sys.getsizeof(value) + sys.getsizeof(held) + CHURNED_DICT_SLOT
