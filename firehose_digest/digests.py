"""Compact, versioned digests of the resources a client already received.

Two encodings share one contract, :class:`Digest`:

- :class:`BloomDigest`, a Bloom filter: its body is its bits, loaded by a copy; about
  1.44 x the information limit of log2(1/p) bits per entry;
- :class:`GCSDigest`, a Golomb-coded set: about log2(1/p) + 1.44 bits per entry (the entropy
  of its gaps), slower to load because its body is decoded in Python.

:class:`AgingDigest` keeps two generations of either, so it can take keys forever with a
bounded size and false-positive rate. :func:`load_digest` reads any of the three.

Every encoding starts with a tag byte, format version in the high nibble and kind in the low
nibble, followed by fixed-width big-endian parameters and the body. Readers check all of it
before use and raise :class:`DigestError`, and only that, for malformed input. Every accepted
input is the canonical encoding of its value: ``from_bytes(data).to_bytes() == data``.

This module is the pure core: it imports neither Flask nor Werkzeug.
"""

from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import mmh3

from .links import other_number, str_number

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "IN_CURRENT",
    "IN_PREVIOUS",
    "MAX_CAPACITY",
    "NOT_HELD",
    "AgingDigest",
    "BloomDigest",
    "Digest",
    "DigestError",
    "GCSDigest",
    "encoded_size_bound",
    "load_digest",
]

#: Largest capacity of one digest. Two generations of this many keys fill a 4 KB cookie, after
#: base64, at 1.44 bits per key (what a Golomb-coded set takes above log2(1 / p)). It also
#: bounds the work of decoding: one step per value.
MAX_CAPACITY = 8192

# Part of the format since version 1: every process must hash a key to the same bits, so the
# seed is fixed (and Python's salted hash() is never used).
_HASH_SEED = 0x66697265  # b"fire"

# Version 2 added the Bloom filter's count of keys. One version for the whole family, so a
# version 1 digest of any kind is refused (a client's old cookie becomes an empty digest).
_VERSION = 2
_KIND_GCS = 1
# Kind 2 was the Bloom filter probed by plain double hashing: the same bits stand for other
# keys under the mixed probes of kind 4 (_probes), so a kind 2 digest is refused.
_KIND_BLOOM = 4
_KIND_AGING = 3

_U16_MAX = 0xFFFF
_U24_MAX = 0xFFFFFF

# tag u8, capacity u16, count u16, k u8, m u24
_BLOOM_HEADER_SIZE = 9
# tag u8, capacity u16, R u24, n u16
_GCS_HEADER_SIZE = 8
# tag u8, length of the current generation u16
_AGING_HEADER_SIZE = 3

_MAX_HASHES = 32
# Largest m a reader accepts: a Bloom generation within AgingDigest's u16 length prefix.
# A GCS generation always fits: with n <= MAX_CAPACITY and R < 2^24 its body is at most
# n * (24 + 1) remainder and stop bits plus 2.17 * n quotient bits, under 28 KB.
_MAX_BLOOM_BITS = 8 * (_U16_MAX - _BLOOM_HEADER_SIZE)

# The mask of bit j % 8 in its byte, counted from the most significant as the encoding is.
_BIT_MASKS = (0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01)

# A GCS value is below R < 2^24: 4 bytes each in an array past R = 2^16 (see _value_array).
# C guarantees an unsigned int only 2 bytes and an unsigned long 4; CPython's platforms all
# have a 4-byte unsigned int.
_VALUE_TYPECODE: Literal["I", "L"] = "I" if array("I").itemsize >= 3 else "L"


def _value_array(r: int, values: Iterable[int] = ()) -> array[int]:
    """An array for values below ``r``: 2 bytes each (an unsigned short, at least 16 bits in
    C) when R <= 2^16, as at the defaults (R = 30,000), else 4."""
    return array("H" if r <= _U16_MAX + 1 else _VALUE_TYPECODE, values)


# ln 2 in parts per million, so the Golomb parameter is computed in integers and the encoder
# and decoder agree on it on every platform.
_LN2_PPM = 693_147
_PPM = 1_000_000


class DigestError(ValueError):
    """Not a valid digest: bytes truncated, corrupted, or of another kind or version, or
    (from :meth:`~.codec.DigestCodec.loads`) a cookie value longer than
    :data:`~.codec.MAX_COOKIE_VALUE`, or whose signature does not verify, or that has
    expired."""


class Digest(Protocol):
    """The contract shared by :class:`BloomDigest`, :class:`GCSDigest` and :class:`AgingDigest`.

    A digest answers "was this key added?" with no false negatives, and false positives at a
    rate of about ``fp_rate`` once ``capacity`` keys were added (AgingDigest: at most twice
    that, and it forgets the oldest keys). A ``str`` key and its UTF-8 ``bytes`` are the same
    key.
    """

    @property
    def capacity(self) -> int:
        """Number of keys the digest is sized for."""
        ...

    @property
    def fp_rate(self) -> float:
        """False-positive rate at capacity implied by the stored parameters."""
        ...

    @property
    def is_full(self) -> bool:
        """Whether ``add`` of a new key would raise :class:`OverflowError`."""
        ...

    def add(self, key: str | bytes) -> None:
        """Remember ``key``; raise :class:`OverflowError` if it is new and the digest is full."""
        ...

    def __contains__(self, key: str | bytes) -> bool:
        """Whether ``key`` may have been added: true for every key added (AgingDigest: every
        one it has not forgotten), and for others at about ``fp_rate``."""
        ...

    def __len__(self) -> int:
        """The keys counted as added, which is not one per ``add``: a key the digest already
        answers for, a false positive included, is not counted. Each kind counts its own
        way: :class:`BloomDigest` the keys that set a new bit, :class:`GCSDigest` its
        distinct values, :class:`AgingDigest` its two generations' counts added."""
        ...

    def to_bytes(self) -> bytes:
        """The canonical, versioned encoding."""
        ...

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode ``to_bytes`` output; raise :class:`DigestError` for anything else."""
        ...

    def copy(self) -> Self:
        """An independent copy."""
        ...


#: Keys whose hashes are cached, and the longest such key: a site asks about the same few
#: hundred urls on every request (docs/performance.md); the bound is in bytes, so only an
#: ASCII key is cached (a url is percent-encoded; a version may hold any character, and a
#: str of 256 of them takes up to 1 KB).
HASH_CACHE_ENTRIES = 2048
HASH_CACHE_KEY_LENGTH = 256


def _hash(key: str | bytes) -> tuple[int, int]:
    """The two 64-bit hashes of ``key``; a ``str`` is hashed as its UTF-8 bytes."""
    if len(key) <= HASH_CACHE_KEY_LENGTH and key.isascii():
        return _cached_hash(key)
    return _hash_of(key)


def _hash_of(key: str | bytes) -> tuple[int, int]:
    """The two 64-bit hashes of ``key``, computed on each call: ``_cached_hash`` is this
    behind an LRU cache, which :func:`_hash` asks for short ASCII keys.

    The str is encoded here, not by mmh3: mmh3 5.3.1 crashes the interpreter (segfault)
    on a str holding a lone surrogate, which os.fsdecode() makes of an undecodable file
    name. "surrogatepass" encodes such a str instead of raising; any other str is UTF-8.
    """
    if isinstance(key, str):
        key = key.encode("utf-8", "surrogatepass")
    return mmh3.hash64(key, _HASH_SEED, signed=False)


_cached_hash = lru_cache(maxsize=HASH_CACHE_ENTRIES)(_hash_of)


def _check_parameters(capacity: object, fp_rate: object) -> tuple[int, float]:
    """Validate constructor arguments, so an invalid digest cannot exist.

    They take what ``FIREHOSE_CAPACITY`` and ``FIREHOSE_FP_RATE`` take: an int, and an int
    or a float. A number of another type (a ``Decimal``, which ``numbers.Real`` leaves
    out, a ``Fraction``, which it holds) or a str is told its conversion, as there."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        hint = str_number(capacity, int) or other_number(capacity, int)
        raise ValueError(f"capacity must be an int, got {capacity!r}{hint}")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValueError(f"capacity must be in [1, {MAX_CAPACITY}], got {capacity}")
    if isinstance(fp_rate, bool) or not isinstance(fp_rate, (int, float)):
        hint = str_number(fp_rate, float) or other_number(fp_rate, float)
        raise ValueError(f"fp_rate must be a number in (0, 1), got {fp_rate!r}{hint}")
    try:
        p = float(fp_rate)
    except OverflowError:  # an int past a float's range, out of range anyway
        p = math.inf
    if not 0 < p < 1:  # also refuses nan
        raise ValueError(f"fp_rate must be a number in (0, 1), got {fp_rate!r}")
    return capacity, p


def _tag(kind: int) -> int:
    return _VERSION << 4 | kind


def _check_header(data: bytes, kind: int, header_size: int, name: str) -> None:
    """Check the tag byte and length of an encoding before anything is sliced."""
    if not data:
        raise DigestError(f"{name}: no bytes")
    if data[0] >> 4 != _VERSION:
        raise DigestError(f"{name}: unsupported format version {data[0] >> 4}")
    if data[0] & 0xF != kind:
        raise DigestError(f"{name}: tag 0x{data[0]:02x} is not a {name}")
    if len(data) < header_size:
        raise DigestError(f"{name}: {len(data)} bytes, shorter than its {header_size}-byte header")


def _check_capacity(capacity: int, name: str) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise DigestError(f"{name}: capacity {capacity} out of [1, {MAX_CAPACITY}]")


class _Generation(ABC):
    """What Bloom and GCS digests share: key hashing and the full check.

    Keys are hashed once per operation into ``(h1, h2)``; ``_add_hash`` and
    ``_contains_hash`` take those, so :class:`AgingDigest` asks two generations for the
    price of one hash.
    """

    __slots__ = ("_capacity",)

    _capacity: int
    #: The tag byte of the encoding, and the length of its header (tag and parameters).
    _TAG: ClassVar[int]
    _HEADER_SIZE: ClassVar[int]

    @property
    def capacity(self) -> int:
        """Number of keys the digest is sized for."""
        return self._capacity

    @property
    def is_full(self) -> bool:
        """``len(self) >= capacity``: a new key would raise :class:`OverflowError`."""
        return len(self) >= self._capacity

    def add(self, key: str | bytes) -> None:
        """Remember ``key``.

        Raises :class:`OverflowError` if the key is new and the digest is full: past its
        capacity a digest would exceed its false-positive rate (use :class:`AgingDigest`).
        """
        h1, h2 = _hash(key)
        if self._contains_hash(h1, h2):
            return
        if self.is_full:
            raise OverflowError(
                f"{type(self).__name__} is full ({self._capacity} keys); use AgingDigest"
            )
        self._add_hash(h1, h2)

    def __contains__(self, key: str | bytes) -> bool:
        return self._contains_hash(*_hash(key))

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _add_hash(self, h1: int, h2: int) -> None: ...

    @abstractmethod
    def _contains_hash(self, h1: int, h2: int) -> bool: ...

    @abstractmethod
    def _parameters(self) -> tuple[int, ...]:
        """The stored parameters; equal parameters mean interchangeable generations."""

    @staticmethod
    @abstractmethod
    def _encoded_parameters(header: bytes) -> tuple[int, ...]:
        """The :meth:`_parameters` an encoding's header names, read from its
        ``_HEADER_SIZE`` bytes and nothing after; unchecked."""

    @abstractmethod
    def _empty_like(self) -> Self:
        """A new empty digest with the same parameters."""

    @abstractmethod
    def _size_bound(self) -> int:
        """Upper bound of ``len(self.to_bytes())`` for any content."""


_U32 = 0xFFFF_FFFF


def _probes(h1: int, h2: int, m: int, k: int) -> Iterator[int]:
    """The k bits a key's hashes probe in a filter of m bits: probe i is
    ``fmix32(h1 + i * h2) mod m``, on the low 32 bits of each hash, ``fmix32`` being
    MurmurHash3's finalizer (Appleby), so the k probes are as good as independent hashes.

    Double hashing alone (probe i at ``(h1 + i * h2) mod m``) probes fewer distinct bits
    when the step shares a factor with m, which a small filter feels: for 10 keys at 1%,
    it measured 2.8% at the textbook m = 96, k = 7, and 1.8% at this filter's m = 97,
    k = 6; mixed, 1.1% and 1.0% (200 filters, 3,000 keys never added each;
    tests/test_digests_properties.py holds the mixed rate to 1.25%). What the mixing
    costs is in docs/performance.md.
    """
    a, b = h1 & _U32, h2 & _U32
    for i in range(k):
        z = (a + i * b) & _U32
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _U32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _U32
        yield (z ^ (z >> 16)) % m


def _density_sum(rho: float, k: int) -> float:
    """sum(rho^j / j for j = 1..k): see :func:`_full_density`."""
    return sum(rho**j / j for j in range(1, k + 1))


def _full_density(k: int, n: int, m: int) -> float:
    """The share rho of its m bits a Bloom filter of k hashes has set once it counts n keys.

    It counts a key only when the key sets a new bit (one all of whose k bits are set is
    answered for already), so it holds more keys than it counts, and is denser than the
    textbook 1 - e^(-k n / m): sized by it for a false-positive rate of 30%, a full one
    measured 36.6% (docs/how-it-works.md). With a share rho set, a key is counted with
    probability 1 - rho^k and then sets on average k (1 - rho) / (1 - rho^k) new bits, so
    m d(rho) / d(count) = k (1 - rho) / (1 - rho^k).
    Integrated from an empty filter to n counted keys:
    sum(rho^j / j for j = 1..k) = k n / m (the textbook filter has the whole series,
    -ln(1 - rho)). A continuous model: a filter of a few keys, each setting its k bits at
    once, is denser (docs/how-it-works.md). Solved by Newton's method, from the textbook
    density, below the root; with one hash it is exactly n / m. 1.0 where the model fills
    every bit before n keys are counted (no constructor makes such a filter; from_bytes may
    read one).
    """
    if k == 1:
        return min(1.0, n / m)
    target = k * n / m
    if target >= _density_sum(1.0, k):
        return 1.0
    rho = 1 - math.exp(-target)
    for _ in range(64):  # the sum is convex: past the first step, steps shrink to the root
        step = (_density_sum(rho, k) - target) / sum(rho**j for j in range(k))
        rho -= step
        if abs(step) <= 1e-15:
            break
    return rho


class BloomDigest(_Generation):
    """A Bloom filter of ``m`` bits probed at ``k`` positions per key.

    ``len`` is the count of keys added: a key the filter already answers for (a false
    positive included) sets no bit and is not counted. So the digest rotates at exactly
    ``capacity`` new keys, and, full, it is denser than ``capacity`` keys inserted would
    make it: its m and k are chosen for that density (:func:`_full_density`).

    Encoding: tag ``0x24``, capacity u16, count u16, k u8, m u24, then the m bits, bit ``j``
    being bit ``j % 8`` of byte ``j // 8`` counted from the most significant, zero-padded to
    a whole byte. A reader checks that the count agrees with the bits: each counted key set
    between 1 and k of them, so count <= ones <= k * count.
    """

    __slots__ = ("_bits", "_count", "_k", "_m")

    _TAG = _tag(_KIND_BLOOM)
    _HEADER_SIZE = _BLOOM_HEADER_SIZE

    # The m bits packed as in the encoding: bit j is _BIT_MASKS[j % 8] of byte j // 8.
    _bits: bytearray
    _count: int
    _k: int
    _m: int

    def __init__(self, capacity: int, fp_rate: float) -> None:
        capacity, p = _check_parameters(capacity, fp_rate)
        # The textbook number of hashes for rate p, log2(1 / p) (Broder & Mitzenmacher,
        # "Network Applications of Bloom Filters", 2004), bounds the size: at most 32 keeps
        # m below 47 * MAX_CAPACITY < _MAX_BLOOM_BITS.
        hashes = round(-math.log2(p))
        if hashes > _MAX_HASHES:
            raise ValueError(
                f"fp_rate {p!r} needs {hashes} hashes, more than the {_MAX_HASHES} supported"
            )
        # The fewest bits that hold p once full (_full_density), over the numbers of hashes;
        # of two equal sizes the fewer hashes. At least 2 bits, the least from_bytes reads.
        m, k = min(
            (max(2, math.ceil(k * capacity / _density_sum(p ** (1 / k), k))), k)
            for k in range(1, _MAX_HASHES + 1)
        )
        self._set(capacity, k, m, bytearray((m + 7) // 8), 0)

    def _set(self, capacity: int, k: int, m: int, bits: bytearray, count: int) -> None:
        self._capacity = capacity
        self._k = k
        self._m = m
        self._bits = bits
        self._count = count

    @classmethod
    def _make(cls, capacity: int, k: int, m: int, bits: bytearray, count: int) -> Self:
        digest = cls.__new__(cls)
        digest._set(capacity, k, m, bits, count)
        return digest

    @property
    def fp_rate(self) -> float:
        """False-positive rate at capacity of these (m, k): rho^k, rho the share of the bits
        a full filter has set (:func:`_full_density`)."""
        return _full_density(self._k, self._capacity, self._m) ** self._k

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __repr__(self) -> str:
        return (
            f"BloomDigest(capacity={self._capacity}, k={self._k}, m={self._m}, {self._count} keys)"
        )

    def _add_hash(self, h1: int, h2: int) -> None:
        # Called only for a key the filter does not hold, so at least one bit is new.
        self._count += 1
        bits, m = self._bits, self._m
        for pos in _probes(h1, h2, m, self._k):
            bits[pos >> 3] |= _BIT_MASKS[pos & 7]

    def _contains_hash(self, h1: int, h2: int) -> bool:
        bits = self._bits
        for pos in _probes(h1, h2, self._m, self._k):
            if not bits[pos >> 3] & _BIT_MASKS[pos & 7]:
                return False
        return True

    def _parameters(self) -> tuple[int, ...]:
        return (self._capacity, self._k, self._m)

    @staticmethod
    def _encoded_parameters(header: bytes) -> tuple[int, ...]:
        # Capacity u16, then count u16 (what it holds, not how it was made), k u8, m u24.
        return (int.from_bytes(header[1:3], "big"), header[5], int.from_bytes(header[6:9], "big"))

    def _empty_like(self) -> Self:
        return self._make(self._capacity, self._k, self._m, bytearray(len(self._bits)), 0)

    def _size_bound(self) -> int:
        return _BLOOM_HEADER_SIZE + (self._m + 7) // 8

    def copy(self) -> Self:
        """An independent copy."""
        return self._make(self._capacity, self._k, self._m, self._bits[:], self._count)

    def __sizeof__(self) -> int:
        # Its parameters and count too: a decoded digest's are ints of its own, read from
        # its bytes (one CPython shares, as a small k, is counted all the same).
        return (
            object.__sizeof__(self)
            + sys.getsizeof(self._bits)
            + sum(map(sys.getsizeof, (self._capacity, self._count, self._k, self._m)))
        )

    def to_bytes(self) -> bytes:
        """Tag, capacity u16, count u16, k u8, m u24, filter bits."""
        return (
            bytes((_tag(_KIND_BLOOM),))
            + self._capacity.to_bytes(2, "big")
            + self._count.to_bytes(2, "big")
            + bytes((self._k,))
            + self._m.to_bytes(3, "big")
            + self._bits
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode :meth:`to_bytes` output; :class:`DigestError` for anything else."""
        _check_header(data, _KIND_BLOOM, _BLOOM_HEADER_SIZE, "BloomDigest")
        capacity, k, m = cls._encoded_parameters(data)
        count = int.from_bytes(data[3:5], "big")
        _check_capacity(capacity, "BloomDigest")
        if count > capacity:
            raise DigestError(f"BloomDigest: count {count} exceeds capacity {capacity}")
        if not 1 <= k <= _MAX_HASHES:
            raise DigestError(f"BloomDigest: k = {k} out of [1, {_MAX_HASHES}]")
        if not 2 <= m <= _MAX_BLOOM_BITS:
            raise DigestError(f"BloomDigest: m = {m} out of [2, {_MAX_BLOOM_BITS}]")
        body = data[_BLOOM_HEADER_SIZE:]
        if len(body) != (m + 7) // 8:
            raise DigestError(f"BloomDigest: {len(body)} body bytes, m = {m} needs {(m + 7) // 8}")
        if body[-1] & (1 << -m % 8) - 1:
            raise DigestError("BloomDigest: padding bits after bit m are set")
        bits = bytearray(body)
        ones = int.from_bytes(bits, "big").bit_count()
        # Each counted key set at least one new bit and at most k.
        if not count <= ones <= k * count:
            raise DigestError(f"BloomDigest: {ones} bits set cannot be {count} keys of {k} bits")
        return cls._make(capacity, k, m, bits, count)


def _golomb_parameter(n: int, r: int) -> int:
    """Golomb parameter M for the gaps of ``n`` sorted distinct values below ``r``.

    The gaps (minus one) are close to geometric with mean mu = (r - n) / n, whose optimal
    Golomb parameter is ceil(log(1 + t) / -log t) with t = mu / (1 + mu) = 1 - n / r
    (Gallager & van Voorhis, 1975), about mu ln 2. round(mu ln 2) is within 0.01 bit per
    entry of the best M measured on random sets, and derives from the header alone.
    """
    return max(1, (2 * _LN2_PPM * (r - n) + _PPM * n) // (2 * _PPM * n))


def _gcs_bits_bound(n: int, r: int) -> int:
    """Upper bound of the GCS body in bits for ``n`` values below ``r``.

    The quotients sum to at most (r - n) // M (the gaps sum to at most r - n), plus one stop
    bit and at most b = ceil(log2 M) remainder bits per value.
    """
    if n == 0:
        return 0
    m = _golomb_parameter(n, r)
    return (r - n) // m + n * ((m - 1).bit_length() + 1)


class GCSDigest(_Generation):
    """A Golomb-coded set: each key is stored as ``h1 mod R``, R = round(capacity / fp_rate).

    A fresh key matches one of the n stored values with probability n / R, hence rate
    fp_rate at capacity. In memory the values are a sorted array, 2 bytes each while
    R <= 2^16 and 4 beyond (a ``set`` of ints takes about 56), searched with ``bisect``;
    the encoding Golomb-codes their gaps.

    Encoding: tag ``0x21``, capacity u16, R u24, n u16, then for each value in increasing
    order its gap d (the first value itself, then value - previous - 1) as
    ``q = d // M`` one bits, a zero bit, and ``d % M`` in truncated binary: the first
    ``2^b - M`` remainders in b - 1 bits, the others plus ``2^b - M`` in b bits, where
    b = ceil(log2 M) and M = max(1, round(ln 2 * (R - n) / n)). Zero bits pad the last byte.
    """

    __slots__ = ("_range", "_values")

    _TAG = _tag(_KIND_GCS)
    _HEADER_SIZE = _GCS_HEADER_SIZE

    _range: int
    _values: array[int]

    def __init__(self, capacity: int, fp_rate: float) -> None:
        capacity, p = _check_parameters(capacity, fp_rate)
        ratio = capacity / p  # inf for a tiny p: compared before round() could overflow
        r = round(ratio) if ratio < _U24_MAX + 0.5 else _U24_MAX + 1
        if not capacity < r <= _U24_MAX:
            # Shown to 6 digits, a ratio just past the capacity reads as the capacity.
            rounded = f" (it rounds to {r})" if r <= _U24_MAX else ""
            raise ValueError(
                f"capacity / fp_rate = {ratio:.6g} must round into ({capacity}, {_U24_MAX}]"
                f"{rounded}"
            )
        self._set(capacity, r, _value_array(r))

    def _set(self, capacity: int, r: int, values: array[int]) -> None:
        self._capacity = capacity
        self._range = r
        self._values = values

    @classmethod
    def _make(cls, capacity: int, r: int, values: array[int]) -> Self:
        digest = cls.__new__(cls)
        digest._set(capacity, r, values)
        return digest

    @property
    def fp_rate(self) -> float:
        """False-positive rate at capacity: capacity / R."""
        return self._capacity / self._range

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"GCSDigest(capacity={self._capacity}, R={self._range}, {len(self)} keys)"

    def _add_hash(self, h1: int, h2: int) -> None:
        # Called only for a value not yet held: insert it in order.
        value = h1 % self._range
        self._values.insert(bisect_left(self._values, value), value)

    def _contains_hash(self, h1: int, h2: int) -> bool:
        value, values = h1 % self._range, self._values
        i = bisect_left(values, value)
        return i < len(values) and values[i] == value

    def _parameters(self) -> tuple[int, ...]:
        return (self._capacity, self._range)

    @staticmethod
    def _encoded_parameters(header: bytes) -> tuple[int, ...]:
        # Capacity u16, R u24 (then n u16: what it holds, not how it was made).
        return (int.from_bytes(header[1:3], "big"), int.from_bytes(header[3:6], "big"))

    def _empty_like(self) -> Self:
        return self._make(self._capacity, self._range, _value_array(self._range))

    def _size_bound(self) -> int:
        bits = max(_gcs_bits_bound(n, self._range) for n in range(self._capacity + 1))
        return _GCS_HEADER_SIZE + (bits + 7) // 8

    def copy(self) -> Self:
        """An independent copy."""
        return self._make(self._capacity, self._range, self._values[:])

    def __sizeof__(self) -> int:
        # sys.getsizeof: an array is tracked by the garbage collector, whose header its
        # __sizeof__ leaves out. Its parameters too: a decoded digest's are ints of its own,
        # read from its bytes.
        return (
            object.__sizeof__(self)
            + sys.getsizeof(self._values)
            + sys.getsizeof(self._capacity)
            + sys.getsizeof(self._range)
        )

    def to_bytes(self) -> bytes:
        """Tag, capacity u16, R u24, n u16, Golomb-coded gaps."""
        n = len(self._values)
        header = (
            bytes((_tag(_KIND_GCS),))
            + self._capacity.to_bytes(2, "big")
            + self._range.to_bytes(3, "big")
            + n.to_bytes(2, "big")
        )
        return header + _encode_gaps(self._values, self._range)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode :meth:`to_bytes` output; :class:`DigestError` for anything else."""
        _check_header(data, _KIND_GCS, _GCS_HEADER_SIZE, "GCSDigest")
        capacity, r = cls._encoded_parameters(data)
        n = int.from_bytes(data[6:8], "big")
        _check_capacity(capacity, "GCSDigest")
        if r <= capacity:
            raise DigestError(f"GCSDigest: R = {r} must exceed capacity {capacity}")
        if n > capacity:
            raise DigestError(f"GCSDigest: {n} values exceed capacity {capacity}")
        body = data[_GCS_HEADER_SIZE:]
        if len(body) > (_gcs_bits_bound(n, r) + 7) // 8:
            raise DigestError(f"GCSDigest: {len(body)} body bytes is too long for {n} values")
        return cls._make(capacity, r, _value_array(r, _decode_gaps(body, n, r)))


def _encode_gaps(values: array[int], r: int) -> bytes:
    """Golomb-code the gaps of ``values``, sorted distinct ints below ``r`` (see GCSDigest)."""
    if not values:
        return b""
    m = _golomb_parameter(len(values), r)
    b = (m - 1).bit_length()
    cut = (1 << b) - m
    # bin(x | 1 << w)[3:] is x in exactly w bits (the leading "0b1" dropped).
    long_mark = 1 << b
    short_mark = long_mark >> 1
    parts = []
    previous = -1
    for value in values:
        q, rem = divmod(value - previous - 1, m)
        previous = value
        if rem < cut:
            parts.append("1" * q + "0" + bin(rem | short_mark)[3:])
        else:
            parts.append("1" * q + "0" + bin(rem + cut | long_mark)[3:])
    bits = "".join(parts)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _decode_gaps(body: bytes, n: int, r: int) -> list[int]:
    """The ``n`` values Golomb-coded in ``body`` (see :class:`GCSDigest`), checked.

    Work is linear in the body: each value consumes at least one bit.
    """
    if not n:
        return []
    size = 8 * len(body)
    # One conversion to a '0'/'1' string, then str.find and int(..., 2) on slices, rather
    # than a Python loop over bits. The extra "0" lets a short remainder that ends the body
    # be read as b bits like the others.
    bits = format(int.from_bytes(body, "big"), f"0{size}b") + "0"
    m = _golomb_parameter(n, r)
    b = (m - 1).bit_length()
    cut = (1 << b) - m
    find = bits.find
    values = []
    pos = 0
    previous = -1
    for _ in range(n):
        stop = find("0", pos, size)
        if stop < 0:
            raise DigestError("GCSDigest: body ends inside a quotient")
        end = stop + 1 + b
        rem = 0
        if b:
            rem = int(bits[stop + 1 : end], 2)
            if rem >> 1 < cut:  # its first b - 1 bits are a short remainder
                rem >>= 1
                end -= 1
            else:
                rem -= cut
        previous += (stop - pos) * m + rem + 1
        pos = end
        values.append(previous)
    if pos > size:
        raise DigestError("GCSDigest: body ends inside a remainder")
    if previous >= r:  # values increase, so the last is the largest
        raise DigestError(f"GCSDigest: value {previous} is not below R = {r}")
    if (pos + 7) // 8 != len(body) or "1" in bits[pos:]:
        raise DigestError("GCSDigest: bits left over after the last value")
    return values


_GENERATION_KINDS: dict[int, type[BloomDigest] | type[GCSDigest]] = {
    _tag(_KIND_BLOOM): BloomDigest,
    _tag(_KIND_GCS): GCSDigest,
}


#: :meth:`AgingDigest.generation_of`'s answers; only ``NOT_HELD`` is false.
NOT_HELD, IN_CURRENT, IN_PREVIOUS = 0, 1, 2


class AgingDigest:
    """Two generations of one kind, so keys can be added forever.

    ``add`` puts a key in ``current`` unless it is already there; a key found only in
    ``previous`` is added again to ``current``, so resources still in use survive the next
    rotation. When ``current`` is full it becomes ``previous`` (the old ``previous`` is
    dropped) and a fresh ``current`` starts. Both kinds count their keys exactly, so
    ``current`` takes exactly ``capacity`` new keys and the next one rotates. Membership is
    membership in either.

    Trade-off: it remembers at least the ``capacity`` most recently added distinct keys (the
    full ``previous`` took ``capacity`` of them, each since in ``previous`` or ``current``)
    and at most 2 x capacity; the false-positive rate is at most about 2p, both
    generations at capacity (the extension pushes, so adds, only keys the digest does not
    hold, and keys only ``previous`` holds: the generations answer falsely for largely
    different keys, where two independent filters would give 1 - (1 - p)^2); the encoding
    holds up to two filters.

    Encoding: tag ``0x23``, the length of the current generation's encoding as u16, that
    encoding, then the previous generation's encoding, omitted when it is empty.
    """

    __slots__ = ("_current", "_previous")

    _current: BloomDigest | GCSDigest
    _previous: BloomDigest | GCSDigest

    def __init__(
        self, kind: type[BloomDigest] | type[GCSDigest], capacity: int, fp_rate: float
    ) -> None:
        if kind is not BloomDigest and kind is not GCSDigest:
            raise ValueError(f"kind must be BloomDigest or GCSDigest, got {kind!r}")
        self._current = kind(capacity, fp_rate)
        self._previous = self._current._empty_like()

    @classmethod
    def _make(cls, current: BloomDigest | GCSDigest, previous: BloomDigest | GCSDigest) -> Self:
        digest = cls.__new__(cls)
        digest._current = current
        digest._previous = previous
        return digest

    @property
    def kind(self) -> type[BloomDigest] | type[GCSDigest]:
        """The class of both generations."""
        return type(self._current)

    @property
    def capacity(self) -> int:
        """Capacity of each generation."""
        return self._current.capacity

    @property
    def fp_rate(self) -> float:
        """False-positive rate of each generation at capacity; of the union at most twice it."""
        return self._current.fp_rate

    def made_like(self, other: AgingDigest) -> bool:
        """Whether ``other`` is of this digest's kind and parameters (capacity, and R, or k
        and m), as ``AgingDigest(kind, capacity, fp_rate)`` made both."""
        current = other._current
        return type(current) is type(self._current) and (
            current._parameters() == self._current._parameters()
        )

    def made_like_encoded(self, data: bytes) -> bool:
        """Whether ``data`` encodes a digest :meth:`made_like` this one, read from its tags
        and its current generation's parameters alone (not the lengths and counts that
        say what it holds): a digest of other settings is told apart before its bodies
        are decoded, which for GCS is a step per value. True says nothing of the rest:
        :meth:`from_bytes` may still refuse ``data``; what it returns is made like this."""
        kind = type(self._current)
        end = _AGING_HEADER_SIZE + kind._HEADER_SIZE
        return (
            len(data) >= end
            and data[0] == _tag(_KIND_AGING)
            and data[_AGING_HEADER_SIZE] == kind._TAG
            and kind._encoded_parameters(data[_AGING_HEADER_SIZE:end])
            == self._current._parameters()
        )

    @property
    def is_full(self) -> bool:
        """Always false: a full generation is rotated out instead."""
        return False

    @property
    def current(self) -> BloomDigest | GCSDigest:
        """The generation new keys go to."""
        return self._current

    @property
    def previous(self) -> BloomDigest | GCSDigest:
        """The generation before, empty until the first rotation."""
        return self._previous

    def add(self, key: str | bytes) -> None:
        """Remember ``key`` in the current generation, rotating first if it is full."""
        h1, h2 = _hash(key)
        current = self._current
        if current._contains_hash(h1, h2):
            return
        if current.is_full:
            self._previous = current
            current = self._current = current._empty_like()
        current._add_hash(h1, h2)

    def __contains__(self, key: str | bytes) -> bool:
        h1, h2 = _hash(key)
        return self._current._contains_hash(h1, h2) or self._previous._contains_hash(h1, h2)

    def generation_of(self, key: str | bytes) -> int:
        """Where ``key`` is held: :data:`NOT_HELD`, :data:`IN_CURRENT`, or
        :data:`IN_PREVIOUS` (the previous generation only: ``add`` would refresh it)."""
        h1, h2 = _hash(key)
        if self._current._contains_hash(h1, h2):
            return IN_CURRENT
        return IN_PREVIOUS if self._previous._contains_hash(h1, h2) else NOT_HELD

    def __len__(self) -> int:
        """The two generations' counts added, not the keys they hold in common: a key
        refreshed into ``current`` counts twice."""
        return len(self._current) + len(self._previous)

    def __repr__(self) -> str:
        return f"AgingDigest(current={self._current!r}, previous={self._previous!r})"

    def __sizeof__(self) -> int:
        return (
            object.__sizeof__(self) + sys.getsizeof(self._current) + sys.getsizeof(self._previous)
        )

    def copy(self) -> Self:
        """An independent copy."""
        return self._make(self._current.copy(), self._previous.copy())

    def to_bytes(self) -> bytes:
        """Tag, u16 length of current, current, previous (omitted when empty)."""
        current = self._current.to_bytes()
        previous = self._previous.to_bytes() if self._previous else b""
        return bytes((_tag(_KIND_AGING),)) + len(current).to_bytes(2, "big") + current + previous

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode :meth:`to_bytes` output; :class:`DigestError` for anything else."""
        _check_header(data, _KIND_AGING, _AGING_HEADER_SIZE, "AgingDigest")
        end = _AGING_HEADER_SIZE + int.from_bytes(data[1:3], "big")
        if end > len(data):
            raise DigestError("AgingDigest: current generation is truncated")
        current_bytes, previous_bytes = data[_AGING_HEADER_SIZE:end], data[end:]
        if not current_bytes or current_bytes[0] not in _GENERATION_KINDS:
            raise DigestError("AgingDigest: current generation is not a Bloom or GCS digest")
        kind = _GENERATION_KINDS[current_bytes[0]]
        current = kind.from_bytes(current_bytes)
        if not previous_bytes:
            return cls._make(current, current._empty_like())
        try:
            previous = kind.from_bytes(previous_bytes)
        except DigestError as e:
            # What follows the current generation can only be the previous one.
            raise DigestError(f"AgingDigest: previous generation: {e}") from e
        if previous._parameters() != current._parameters():
            raise DigestError("AgingDigest: the generations have different parameters")
        if not previous:
            raise DigestError("AgingDigest: an empty previous generation must be omitted")
        return cls._make(current, previous)


def load_digest(data: bytes) -> BloomDigest | GCSDigest | AgingDigest:
    """Decode any digest by its tag byte; :class:`DigestError` for anything else."""
    if not data:
        raise DigestError("empty digest")
    if data[0] >> 4 != _VERSION:
        raise DigestError(f"unsupported digest format version {data[0] >> 4}")
    if data[0] == _tag(_KIND_AGING):
        return AgingDigest.from_bytes(data)
    if data[0] in _GENERATION_KINDS:
        return _GENERATION_KINDS[data[0]].from_bytes(data)
    raise DigestError(f"unknown digest tag 0x{data[0]:02x}")


def encoded_size_bound(
    kind: type[BloomDigest] | type[GCSDigest], capacity: int, fp_rate: float
) -> int:
    """Upper bound of ``len(AgingDigest(kind, capacity, fp_rate).to_bytes())``, ever.

    For refusing, at startup, a configuration whose cookie cannot fit. Raises
    :class:`ValueError` for arguments :class:`AgingDigest` would refuse. A GCS body depends
    on its values; its bound is the largest :func:`_gcs_bits_bound` over any count up to
    ``capacity``.
    """
    generation = AgingDigest(kind, capacity, fp_rate).current
    return _AGING_HEADER_SIZE + 2 * generation._size_bound()
