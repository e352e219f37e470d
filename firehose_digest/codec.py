"""Bytes <-> a signed, timestamped cookie value.

Pure: no Flask. The value is ``base64url(payload) "." base64url(timestamp) "." signature``,
made by itsdangerous' :class:`~itsdangerous.TimestampSigner` (HMAC-SHA1, like Flask's
session). Keys are given oldest to newest, as Flask's ``SECRET_KEY_FALLBACKS + [SECRET_KEY]``:
the last one signs, every one verifies, so keys rotate without dropping a client's digest.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from itsdangerous import BadData, SignatureExpired, TimestampSigner
from itsdangerous.encoding import base64_decode, base64_encode

from .digests import DigestError
from .links import other_number, str_number

__all__ = [
    "DEFAULT_SALT",
    "MAX_CLOCK_SKEW",
    "MAX_COOKIE_AGE",
    "MAX_COOKIE_COPIES",
    "MAX_COOKIE_VALUE",
    "DigestCodec",
    "SignedPayload",
    "copies_to_try",
    "keys_in_force",
    "newest_first",
    "renewal_at",
    "salt_for",
    "scoped_salt",
    "signable",
]

DEFAULT_SALT = "firehose-digest"
#: Browsers cap a cookie's lifetime at 400 days (RFC 6265bis §5.6.2): no signature of a
#: cookie value need be good for longer (``FIREHOSE_MAX_AGE``).
MAX_COOKIE_AGE = 400 * 24 * 3600
#: Browsers drop a cookie whose name and value pass 4096 bytes together (RFC 6265bis
#: §5.6, as :data:`~.settings.MAX_COOKIE_SIZE` says): no longer value can be one of ours,
#: so it is refused before any HMAC or base64 work.
MAX_COOKIE_VALUE = 4096
#: Values of a cookie tried when a request sends it several times: a browser sends one per
#: domain and path it holds one for, and each that fails to verify costs an HMAC.
MAX_COOKIE_COPIES = 4
#: Seconds a value may seem signed in the future: servers sharing a key sign with their own
#: clocks, and a cookie one signs may reach another whose clock is behind. Ages are whole
#: seconds, and itsdangerous alone refuses any negative one: with clocks 10 ms apart, a
#: value signed in the last 10 ms of a second and read by the other server within them
#: seems signed a second ahead, and without the skew it would be refused, everything
#: pushed again (tests/test_codec.py).
MAX_CLOCK_SKEW = 60


def signable(text: str) -> bool:
    """Whether ``text`` can key or salt a signature: itsdangerous signs its UTF-8 bytes, so
    a lone surrogate (what ``os.environ`` and argv give for an undecodable byte) cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def salt_for(digest_version: str) -> str:
    """The signing salt: a new ``FIREHOSE_DIGEST_VERSION`` makes every old cookie foreign,
    so every resource is new again (and the old digest's bytes are dropped, not carried)."""
    return f"{DEFAULT_SALT}:{digest_version}" if digest_version else DEFAULT_SALT


def scoped_salt(salt: str, domain: str | None, path: str, *, partitioned: bool = False) -> str:
    """``salt`` for a cookie of this ``Domain``, ``Path`` and ``Partitioned``: a digest
    verifies only where it was written. An app at "/" and one mounted at "/shop"
    (``APPLICATION_ROOT``) that share ``SECRET_KEY`` and the cookie's name both get their
    cookies sent to "/shop"; if each verified the other's, every visit that crossed
    between them would push everything again. A partitioned cookie and an unpartitioned
    one of the same name are distinct cookies (CHIPS): after a deploy toggles
    ``Partitioned``, the browser sends the old one beside the new until it expires, and a
    deletion of the new one (a "forget me" page) leaves it, so it must not verify.

    A host-only, unpartitioned cookie at "/", the default, keeps ``salt`` as it is, and
    every unpartitioned scope the salt it had before ``Partitioned`` was signed, so an
    upgrade drops no client's digest."""
    # As Werkzeug writes the attribute (``dump_cookie``): no port, no leading dot, IDNA;
    # a browser compares it in lower case (RFC 6265 §5.2.3, §5.1.3).
    if domain:
        domain = domain.partition(":")[0].lstrip(".").encode("idna").decode("ascii").lower()
    if not partitioned and not domain and path == "/":
        return salt
    # The flag goes before the path, which is free text: no Path can make an
    # unpartitioned scope's salt equal a partitioned one's.
    flag = ";partitioned" if partitioned else ""
    return f"{salt}{flag};domain={domain};path={path}"


class SignedPayload(NamedTuple):
    payload: bytes
    #: Unix time at which the value was signed.
    issued_at: int


class DigestCodec:
    """Sign payloads into cookie values and verify them back.

    The HMAC key for each secret is derived once here (itsdangerous would derive it again
    on every call); the result verifies with a plain
    ``TimestampSigner(keys, salt=salt, key_derivation="hmac")``.
    """

    def __init__(self, secret_keys: Sequence[str | bytes], salt: str, max_age: int) -> None:
        # A str is a Sequence[str] to a type checker: taken as the list, each character
        # would be a key and the last one would sign (each byte of bytes, a bytearray too,
        # an int hmac refuses).
        if isinstance(secret_keys, (str, bytes, bytearray)):
            raise TypeError(
                "DigestCodec takes a list of secret keys, oldest to newest, not one "
                f"{type(secret_keys).__name__}"
            )
        if not secret_keys or not all(secret_keys):
            raise ValueError("DigestCodec needs at least one non-empty secret key")
        _check_keys(secret_keys)
        if not isinstance(salt, str):
            raise TypeError(f"DigestCodec's salt must be a str, got {salt!r}")
        if not signable(salt):
            raise ValueError(
                "DigestCodec's salt holds a character UTF-8 cannot encode (a lone "
                f"surrogate), got {salt!r}"
            )
        # Checked here, as FIREHOSE_MAX_AGE is: taken as given, a str or None failed on
        # each value loads() read, in a request.
        taken = f"DigestCodec's max_age must be an int in [1, {MAX_COOKIE_AGE}] (seconds)"
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            hint = str_number(max_age, int) or other_number(max_age, int)
            raise TypeError(f"{taken}, got {max_age!r}{hint}")
        if not 1 <= max_age <= MAX_COOKIE_AGE:
            raise ValueError(f"{taken}, got {max_age!r}")
        salt_bytes = salt.encode()
        derived = [
            hmac.new(_as_bytes(key), salt_bytes, hashlib.sha1).digest() for key in secret_keys
        ]
        self._signer = TimestampSigner(
            derived, salt=salt, key_derivation="none", digest_method=hashlib.sha1
        )
        self.salt = salt
        self.max_age = max_age

    def dumps(self, payload: bytes) -> str:
        """Return the signed cookie value for ``payload``."""
        return self._signer.sign(base64_encode(payload)).decode("ascii")

    def loads(self, value: str, now: float | None = None) -> SignedPayload:
        """Verify ``value`` and return its payload with the Unix time it was signed at, a
        :class:`SignedPayload`; :class:`DigestError` says why not. Its age is judged at
        ``now`` (Unix time), by default the clock's."""
        if len(value) > MAX_COOKIE_VALUE:
            raise DigestError(f"cookie value of {len(value)} characters is too long")
        try:
            signed, when = self._signer.unsign(value.encode("ascii"), return_timestamp=True)
            payload = base64_decode(signed)
            issued_at = int(when.timestamp())
        except (BadData, ValueError, OverflowError, OSError) as e:  # a far-future date too
            raise DigestError(f"bad signature or encoding: {e}") from e
        # Whole seconds, as itsdangerous counts a signature's age; refused with its
        # exception as the cause, as unsign(max_age=...) would raise it.
        age = int(time.time() if now is None else now) - issued_at
        if age > self.max_age or age < -MAX_CLOCK_SKEW:
            bound = f"> {self.max_age}" if age > 0 else f"< -{MAX_CLOCK_SKEW}"
            expired = SignatureExpired(
                f"Signature age {age} {bound} seconds", payload=signed, date_signed=when
            )
            raise DigestError(f"signature expired: {expired}") from expired
        return SignedPayload(payload, issued_at)

    def carries_signature(self, value: str) -> bool:
        """Whether ``value`` is signed with one of the keys, whatever its age and the clock
        (which :meth:`loads` judges too)."""
        try:
            return self._signer.validate(value.encode("ascii"))
        except UnicodeEncodeError:
            return False

    def expires_at(self, issued_at: int) -> int:
        """The Unix time from which a value signed at ``issued_at`` is refused as expired.

        itsdangerous compares whole seconds (``int(now) - issued_at > max_age``), so a value
        is good while ``now < expires_at(issued_at)``: its verdict and this one agree.
        """
        return issued_at + self.max_age + 1


def renewal_at(expires_at: float, max_age: int) -> float:
    """The Unix time from which ``DigestConnector.save()`` signs a cookie expiring at
    ``expires_at`` again, whatever it pushes: half its lifetime gone, so a client that
    keeps coming back to pages it holds keeps its digest."""
    return expires_at - max_age / 2


def keys_in_force(
    secret_key: str | bytes | None, fallbacks: Sequence[str | bytes] | None
) -> list[str | bytes]:
    """The keys a server verifies with, oldest first, the last signing: the non-empty
    ``SECRET_KEY_FALLBACKS``, then ``SECRET_KEY``; none without ``SECRET_KEY``, which
    signs. An empty key is one anyone can sign with: Flask's session verifies with it,
    the digest does not."""
    if isinstance(fallbacks, (str, bytes, bytearray)):  # a Sequence to a type checker, one key
        raise TypeError(
            "SECRET_KEY_FALLBACKS: a list of keys, not one "
            f"{type(fallbacks).__name__}: each character would be taken as a key"
        )
    if not secret_key:
        return []
    return [*(key for key in fallbacks or () if key), secret_key]


def _check_keys(secret_keys: Sequence[object]) -> None:
    """Refuse a key no HMAC takes, named by its place, never its value (a secret): one
    not a str or bytes, or a str UTF-8 cannot encode (:func:`signable`)."""
    for index, key in enumerate(secret_keys):
        if not isinstance(key, (str, bytes, bytearray)):
            raise TypeError(
                "DigestCodec's secret keys must be str or bytes, got "
                f"{type(key).__name__} at index {index}"
            )
        if isinstance(key, str) and not signable(key):
            raise ValueError(
                "DigestCodec's secret keys must be str (UTF-8) or bytes, got a str with a "
                f"lone surrogate at index {index}"
            )


def _as_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


_Copy = TypeVar("_Copy")


def copies_to_try(values: Sequence[str]) -> list[str]:
    """Of the values a request sent one cookie name, those worth verifying: the last
    :data:`MAX_COOKIE_COPIES` different ones, in the order sent. A browser sends the
    longer paths first (RFC 6265 §5.4), and a sibling subdomain can plant any number of
    copies of longer paths, so the client's own copy, at the app's path, comes after
    them; after it come only copies of its path or a shorter one, a few at most."""
    last_first = list(dict.fromkeys(reversed(values)))[:MAX_COOKIE_COPIES]
    return last_first[::-1]  # each value where it was last sent


def newest_first(valid: Sequence[_Copy], signed_at: Callable[[_Copy], float]) -> list[_Copy]:
    """The copies of a cookie that verified, the one signed last first; of equals, the one
    sent last first. A browser keeps an old copy beside the new after a deploy changes the
    cookie's domain or path, and sends of equal paths the older first (RFC 6265 §5.4)."""
    return sorted(reversed(valid), key=signed_at, reverse=True)  # a stable sort
