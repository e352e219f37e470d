"""h2o's CASPER cookie (``http2-casper: ON``), rebuilt from its source to compare with.

h2o keeps, per client, the set of paths it pushed (and CSS/JS it served) as a Golomb-coded
set in an unsigned ``h2o_casper`` cookie. From h2o's ``lib/http2/casper.c`` and
``deps/golombset/golombset.h``:

- key: ``calc_key`` reads the first 4 bytes of SHA-1(path) through a union with ``unsigned``,
  so in the machine's byte order (little-endian on x86-64 and arm64, where h2o runs), and
  keeps the low ``capacity_bits`` (13 as configured by ``http2-casper: ON``). The path is
  ``:path``, query included. h2o's unit test pins ``/index.html`` -> bytes ``14 fe 45 59``.
- the sorted, distinct keys are delta-coded, each delta being ``key - (previous key + 1)``
  (the first: ``key``), as a Golomb-Rice code with ``remainder_bits`` = 6: the quotient
  ``delta >> 6`` in unary as that many 0 bits then a 1, then the 6 low bits, most
  significant first, packed from the high bit of each byte; the last byte padded with 0.
  No header, no count: the decoder reads values until the bits run out.
- the cookie value is that binary in base64url without padding; no signature, no expiry
  of entries, no HttpOnly. Its false-positive rate is about n / 2^13.

Checked against a live h2o 2.2.5 by ``bench/e2e.py`` (the cookie it sets after a browse
is the one :func:`encode` makes of the pushed paths) and pinned in
``tests/test_bench_casper.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable

__all__ = [
    "CAPACITY_BITS",
    "COOKIE_NAME",
    "REMAINDER_BITS",
    "CasperError",
    "CasperSet",
    "decode",
    "encode",
    "key",
]

COOKIE_NAME = "h2o_casper"
#: ``http2-casper: ON`` means ``capacity-bits: 13``.
CAPACITY_BITS = 13
#: Fixed in h2o (``h2o_http2_conn_init_casper``): ``h2o_http2_casper_create(bits, 6)``.
REMAINDER_BITS = 6
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class CasperError(ValueError):
    """Not a CASPER cookie value: not base64url, or keys out of range."""


def key(path: str | bytes, capacity_bits: int = CAPACITY_BITS) -> int:
    """h2o's ``calc_key``: the low ``capacity_bits`` of SHA-1(path)[:4], little-endian."""
    data = path.encode("utf-8") if isinstance(path, str) else path
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little") & ((1 << capacity_bits) - 1)


def encode(keys: Iterable[int], remainder_bits: int = REMAINDER_BITS) -> str:
    """The cookie value for a set of keys: Golomb-Rice-coded gaps, base64url, unpadded."""
    parts = []
    next_min = 0
    for value in sorted(set(keys)):
        if value < 0:
            raise ValueError(f"CASPER keys are unsigned, got {value}")
        delta = value - next_min
        next_min = value + 1
        # bin(x | 1 << w)[3:] is the low w bits of x, zero-filled.
        remainder = bin(delta & ((1 << remainder_bits) - 1) | 1 << remainder_bits)[3:]
        parts.append("0" * (delta >> remainder_bits) + "1" + remainder)
    bits = "".join(parts)
    if not bits:
        return ""
    bits += "0" * (-len(bits) % 8)
    binary = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return base64.urlsafe_b64encode(binary).rstrip(b"=").decode("ascii")


def decode(
    value: str, remainder_bits: int = REMAINDER_BITS, capacity_bits: int = CAPACITY_BITS
) -> list[int]:
    """The sorted keys in a cookie value, read as h2o's ``golombset_decode`` reads them.

    Values are read until the bits run out, so trailing zero padding ends the set; a key
    outside ``capacity_bits`` raises :class:`CasperError` (h2o would keep it but never
    match it).
    """
    if not _BASE64URL.fullmatch(value):
        raise CasperError(f"not unpadded base64url: {value[:20]!r}")
    try:
        binary = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as e:
        raise CasperError(f"not base64url: {e}") from e
    bits = format(int.from_bytes(binary, "big"), f"0{8 * len(binary)}b") if binary else ""
    keys = []
    pos = 0
    next_min = 0
    while True:
        stop = bits.find("1", pos)
        if stop < 0 or stop + 1 + remainder_bits > len(bits):
            break
        quotient = stop - pos
        remainder = int(bits[stop + 1 : stop + 1 + remainder_bits] or "0", 2)
        pos = stop + 1 + remainder_bits
        found = next_min + (quotient << remainder_bits) + remainder
        if found >= 1 << capacity_bits:
            raise CasperError(f"key {found} does not fit {capacity_bits} bits")
        keys.append(found)
        next_min = found + 1
    return keys


class CasperSet:
    """What h2o remembers for one client: the set of keys of the paths it pushed."""

    __slots__ = ("_keys",)

    def __init__(self, paths: Iterable[str | bytes] = ()) -> None:
        self._keys: set[int] = {key(path) for path in paths}

    @classmethod
    def from_cookie_value(cls, value: str) -> CasperSet:
        """Read a cookie value as h2o's ``consume_cookie`` does; :class:`CasperError` if bad."""
        casper = cls()
        casper._keys = set(decode(value))
        return casper

    def add(self, path: str | bytes) -> bool:
        """Remember ``path``; return whether it was already held (h2o then skips the push)."""
        k = key(path)
        if k in self._keys:
            return True
        self._keys.add(k)
        return False

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, bytes)) and key(path) in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[int]:
        """The distinct keys, sorted."""
        return sorted(self._keys)

    @property
    def fp_rate(self) -> float:
        """The chance a fresh path's key is one of these: occupied keys / 2^13."""
        return len(self._keys) / (1 << CAPACITY_BITS)

    def cookie_value(self) -> str:
        """The ``h2o_casper`` cookie value h2o sends for this set."""
        return encode(self._keys)
