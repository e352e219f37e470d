"""The digest contract, its exact bytes, and every way a decoder must refuse input.

One suite runs over both encodings (and AgingDigest where the contract is the same). Malformed
inputs are built with a reference Golomb encoder written here from the format description,
independently of the module's own encoder.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import mmh3
import pytest

from firehose_digest.digests import (
    IN_CURRENT,
    IN_PREVIOUS,
    MAX_CAPACITY,
    NOT_HELD,
    AgingDigest,
    BloomDigest,
    Digest,
    DigestError,
    GCSDigest,
    encoded_size_bound,
    load_digest,
)
from tests.helpers import bytes_freed, work_of

Kind = type[BloomDigest] | type[GCSDigest]
Factory = Callable[[int, float], Digest]

SEED = 0x66697265  # format versions 1 and 2 hash with mmh3.hash64(key, SEED, signed=False)
BLOOM_HEADER = 9
GCS_HEADER = 8


@pytest.fixture(params=[BloomDigest, GCSDigest], ids=["bloom", "gcs"])
def kind(request: pytest.FixtureRequest) -> Kind:
    kind: Kind = request.param
    return kind


@pytest.fixture(
    params=["bloom", "gcs", "aging-bloom", "aging-gcs"],
)
def make(request: pytest.FixtureRequest) -> Factory:
    """A digest factory ``(capacity, fp_rate) -> digest`` for every class of the contract."""
    factories: dict[str, Factory] = {
        "bloom": BloomDigest,
        "gcs": GCSDigest,
        "aging-bloom": lambda c, p: AgingDigest(BloomDigest, c, p),
        "aging-gcs": lambda c, p: AgingDigest(GCSDigest, c, p),
    }
    return factories[request.param]


def fill(digest: Digest, prefix: str = "/static/r", limit: int | None = None) -> list[str]:
    """Add distinct keys until the digest is full (or ``limit`` keys); return them."""
    keys: list[str] = []
    while not digest.is_full and (limit is None or len(keys) < limit):
        key = f"{prefix}{len(keys)}.css"
        digest.add(key)
        keys.append(key)
    return keys


def fpr(digest: Digest, probes: int, prefix: str = "/fresh/") -> float:
    return sum(f"{prefix}{i}" in digest for i in range(probes)) / probes


# A reference encoder, straight from the format description in GCSDigest's docstring.
def golomb_parameter(n: int, r: int) -> int:
    return max(1, round(math.log(2) * (r - n) / n))


def golomb_bits(values: list[int], m: int) -> str:
    b = math.ceil(math.log2(m)) if m > 1 else 0
    cut = 2**b - m
    out = []
    previous = -1
    for value in values:
        q, rem = divmod(value - previous - 1, m)
        previous = value
        out.append("1" * q + "0")
        if rem < cut:
            out.append(format(rem, "b").zfill(b - 1))
        elif b:
            out.append(format(rem + cut, "b").zfill(b))
    return "".join(out)


def pack(bits: str) -> bytes:
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


def gcs_bytes(capacity: int, r: int, n: int, body: bytes) -> bytes:
    return (
        b"\x21" + capacity.to_bytes(2, "big") + r.to_bytes(3, "big") + n.to_bytes(2, "big") + body
    )


def bloom_bytes(capacity: int, count: int, k: int, m: int, body: bytes) -> bytes:
    return (
        b"\x24"
        + capacity.to_bytes(2, "big")
        + count.to_bytes(2, "big")
        + bytes([k])
        + m.to_bytes(3, "big")
        + body
    )


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capacity",
    [0, -1, MAX_CAPACITY + 1, 2**70, 1.0, 300.5, True, False, "300", None],
)
def test_bad_capacity(make: Factory, capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        make(capacity, 0.01)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fp_rate",
    [
        0,
        1,
        0.0,
        1.0,
        -0.01,
        1.5,
        math.nan,
        math.inf,
        -math.inf,
        True,
        False,
        "0.01",
        None,
        10**400,
        Fraction(3, 2),
    ],
)
def test_bad_fp_rate(make: Factory, fp_rate: object) -> None:
    with pytest.raises(ValueError, match="fp_rate"):
        make(300, fp_rate)  # type: ignore[arg-type]


def test_parameters_that_do_not_fit_the_format() -> None:
    # R = round(capacity / p) must fit u24 and exceed the capacity.
    with pytest.raises(ValueError, match="capacity / fp_rate"):
        GCSDigest(MAX_CAPACITY, 0.0004)  # R = 20.5 million
    with pytest.raises(ValueError, match="capacity / fp_rate"):
        GCSDigest(1, 0.7)  # R = round(1.43) = 1
    for tiny in (1e-307, 5e-324):  # capacity / p is inf: a ValueError, not an OverflowError
        with pytest.raises(ValueError, match="capacity / fp_rate"):
            GCSDigest(300, tiny)
        with pytest.raises(ValueError, match="hashes"):
            BloomDigest(300, tiny)
        with pytest.raises(ValueError):
            encoded_size_bound(GCSDigest, 300, tiny)
    # Bloom: at most 32 hashes.
    with pytest.raises(ValueError, match="hashes"):
        BloomDigest(1, 1e-12)  # 58 bits, 40 hashes
    with pytest.raises(ValueError, match="hashes"):
        BloomDigest(MAX_CAPACITY, 1e-17)


@pytest.mark.parametrize(
    ("capacity", "fp_rate", "said"),
    [
        (
            300,
            Decimal("0.01"),
            "fp_rate must be a number in (0, 1), got Decimal('0.01'); a "
            "Decimal: convert it, float(value)",
        ),
        (
            300,
            Fraction(1, 100),
            "fp_rate must be a number in (0, 1), got Fraction(1, 100); a "
            "Fraction: convert it, float(value)",
        ),
        (
            300,
            "0.01",
            "fp_rate must be a number in (0, 1), got '0.01'; a number given as a "
            "str: convert it, float(value)",
        ),
        (300, "1%", "fp_rate must be a number in (0, 1), got '1%'"),  # float() raises too
        (300, True, "fp_rate must be a number in (0, 1), got True"),
        (
            Decimal(300),
            0.01,
            "capacity must be an int, got Decimal('300'); a Decimal: convert it, int(value)",
        ),
        (
            "300",
            0.01,
            "capacity must be an int, got '300'; a number given as a str: convert it, int(value)",
        ),
        (Decimal("300.5"), 0.01, "capacity must be an int, got Decimal('300.5')"),
        (True, 0.01, "capacity must be an int, got True"),
    ],
)
def test_a_number_of_another_type_is_refused_as_the_settings_refuse_it(
    make: Factory, capacity: object, fp_rate: object, said: str
) -> None:
    """A Decimal rate was refused as "not a real number", a Fraction taken: each digest
    takes what FIREHOSE_CAPACITY and FIREHOSE_FP_RATE take, an int and an int or a float,
    and says the conversion of another number, or of a str, as the settings do."""
    with pytest.raises(ValueError) as refused:
        make(capacity, fp_rate)  # type: ignore[arg-type]
    assert str(refused.value) == said
    with pytest.raises(ValueError) as refused:
        encoded_size_bound(GCSDigest, capacity, fp_rate)  # type: ignore[arg-type]
    assert str(refused.value) == said


def test_extreme_valid_parameters(kind: Kind) -> None:
    for capacity, fp_rate in [(1, 0.5), (MAX_CAPACITY, 0.01), (2, 0.999), (5, 0.125)]:
        if kind is GCSDigest and capacity == 2:
            continue  # R = round(2 / 0.999) = 2, not above capacity
        digest = kind(capacity, fp_rate)
        assert digest.capacity == capacity
        assert 0 < digest.fp_rate < 1
        assert len(digest) == 0
        assert not digest.is_full


def test_made_like_is_same_kind_and_parameters() -> None:
    """What DigestConnector reads a decoded cookie by: another kind, capacity or rate is
    another digest, a copy or a decoded one of the same settings is not."""
    bloom = AgingDigest(BloomDigest, 300, 0.01)
    bloom.add("/a.css")
    assert bloom.made_like(AgingDigest(BloomDigest, 300, 0.01))
    assert bloom.made_like(AgingDigest.from_bytes(bloom.to_bytes()))
    assert AgingDigest(GCSDigest, 300, 0.01).made_like(AgingDigest(GCSDigest, 300, 0.01))
    for other in (
        AgingDigest(GCSDigest, 300, 0.01),
        AgingDigest(BloomDigest, 301, 0.01),
        AgingDigest(BloomDigest, 300, 0.011),
    ):
        assert not bloom.made_like(other)
        assert not other.made_like(bloom)
    assert not AgingDigest(GCSDigest, 300, 0.01).made_like(AgingDigest(GCSDigest, 300, 0.02))


def test_aging_kind_must_be_a_generation_kind() -> None:
    for bad in (AgingDigest, dict, "gcs", None):
        with pytest.raises(ValueError, match="kind"):
            AgingDigest(bad, 300, 0.01)  # type: ignore[arg-type]


def test_fp_rate_is_the_rate_the_stored_parameters_give() -> None:
    assert GCSDigest(300, 0.01).fp_rate == 300 / 30000
    assert GCSDigest(7, 0.3).fp_rate == 7 / 23  # R = round(23.3)
    bloom = BloomDigest(300, 0.01)
    # k = 7: rho = 0.01^(1/7), m = ceil(7 * 300 / sum(rho^j / j, j = 1..7)) = 2883 bits
    rho = 0.01 ** (1 / 7)
    assert (bloom._k, bloom._m) == (7, math.ceil(2100 / sum(rho**j / j for j in range(1, 8))))
    assert bloom._m == 2883
    # rho solves sum(rho^j / j) = 7 * 300 / m: the rate at capacity is rho^7, at most p.
    full = bloom.fp_rate ** (1 / 7)
    assert sum(full**j / j for j in range(1, 8)) == pytest.approx(2100 / 2883, rel=1e-12)
    assert 0.0099 < bloom.fp_rate <= 0.01
    assert AgingDigest(BloomDigest, 300, 0.01).fp_rate == bloom.fp_rate


def test_a_loose_rate_takes_one_hash_and_capacity_over_p_bits() -> None:
    """With one hash a full filter has set exactly n / m of its bits, so m = n / p holds
    rate p: at p = 0.5, 600 bits for 300 keys, where two hashes would take
    ceil(600 / (0.5^(1/2) + 0.5 / 2)) = 627. The fewest bits are searched from k = 1."""
    bloom = BloomDigest(300, 0.5)
    assert (bloom._k, bloom._m) == (1, 600)
    assert bloom.fp_rate == 0.5
    data = bloom.to_bytes()
    assert (data[5], int.from_bytes(data[6:9], "big")) == (1, 600)
    assert len(data) == BLOOM_HEADER + 600 // 8


@pytest.mark.parametrize(
    ("capacity", "k", "m"),
    [
        (300, 7, 2883),  # what BloomDigest(300, 0.01) writes
        (10, 1, 2),  # one hash, fewer bits than keys
        (3, 2, 2),  # k n / m = 3: past sum(1 / j) = 1.5, below sum(2^j / j) = 4
        (MAX_CAPACITY, 32, 2),
        (1, 8, 8 * 65526),  # the sparsest filters a reader takes
        (1, 32, 8 * 65526),
    ],
)
def test_fp_rate_of_any_filter_a_reader_takes_is_the_models(capacity: int, k: int, m: int) -> None:
    """from_bytes takes parameters no constructor makes; fp_rate is still a probability:
    rho^k, rho solving sum(rho^j / j, j <= k) = k n / m, or 1.0 where no rho below 1
    does (the model fills every bit before n keys are counted)."""
    digest = BloomDigest.from_bytes(bloom_bytes(capacity, 0, k, m, bytes((m + 7) // 8)))
    target = k * capacity / m
    if target >= sum(1 / j for j in range(1, k + 1)):
        assert digest.fp_rate == 1.0
    else:
        rho = digest.fp_rate ** (1 / k)
        assert 0 < rho < 1
        assert sum(rho**j / j for j in range(1, k + 1)) == pytest.approx(target, rel=1e-9)


def test_the_tightest_rate_takes_32_hashes_and_reads_back() -> None:
    """round(-log2 p) <= 32 accepts p = 2^-32.5 (round(32.5) is 32). There 33 hashes would
    take one bit fewer (1,000 keys: 46,891 bits against 46,892), but a reader refuses
    k = 33, so m is the fewest over k = 1..32, and 32 hashes beat 31 or fewer."""
    p = 2**-32.5
    for capacity in (1000, MAX_CAPACITY):
        digest = BloomDigest(capacity, p)
        digest.add("/a.css")
        data = digest.to_bytes()
        assert data[5] == 32  # k
        assert BloomDigest.from_bytes(data).to_bytes() == data
        assert "/a.css" in BloomDigest.from_bytes(data)


@pytest.mark.parametrize("fp_rate", [0.1, 0.2, 0.3, 0.35, 0.36, 0.5, 0.7, 0.9, 0.99])
def test_a_full_bloom_filter_keeps_its_rate_and_a_full_one_rotates(fp_rate: float) -> None:
    """A Bloom filter counts only keys that set a new bit, so a full one holds more keys
    than it counts and is denser than the textbook size assumes. Sized by the textbook,
    it measured 0.110 full at 0.1, 0.224 at 0.2, 0.366 at 0.3, 0.47 at 0.36, and above
    p = 0.62 it had fewer bits than its capacity: it never filled, so an aging digest
    never rotated and came to answer yes for every key. Sized for the count
    (_full_density), it measures its rate full. Measured on 20,000 urls never added."""
    bloom = BloomDigest(300, fp_rate)
    assert bloom.fp_rate <= fp_rate
    assert bloom.fp_rate == pytest.approx(fp_rate, rel=0.01)
    added = 0
    while not bloom.is_full and added < 100_000:
        bloom.add(f"/static/held-{added}.css")
        added += 1
    assert bloom.is_full
    measured = sum(f"/static/other-{i}.css" in bloom for i in range(20_000)) / 20_000
    assert measured == pytest.approx(fp_rate, rel=0.08)  # the textbook size: 10% to 90% over
    aging = AgingDigest(BloomDigest, 300, fp_rate)
    added = 0
    while not aging.previous and added < 100_000:
        aging.add(f"/static/held-{added}.css")
        added += 1
    assert aging.previous.is_full  # rotated: the first generation filled


@pytest.mark.parametrize(("capacity", "fp_rate"), [(12, 0.362), (100, 0.354), (10, 0.01)])
def test_small_bloom_filters_keep_their_rate_on_average(capacity: int, fp_rate: float) -> None:
    """A small filter's rate varies with its keys: the mean over 100 full filters is the
    rate. Sized by the textbook, 12 keys at 0.362 took two hashes and measured 0.477, 100
    at 0.354 measured 0.475 (a stranger's configuration hunt)."""
    rates = []
    for filter_index in range(100):
        bloom = BloomDigest(capacity, fp_rate)
        added = 0
        while not bloom.is_full:
            bloom.add(f"/static/{filter_index}/held-{added}.css")
            added += 1
        probes = [f"/static/{filter_index}/other-{i}.css" for i in range(1000)]
        rates.append(sum(url in bloom for url in probes) / len(probes))
    assert sum(rates) / len(rates) == pytest.approx(fp_rate, rel=0.1)


# --- pinned bytes ---------------------------------------------------------------------------


def test_hash_is_pinned() -> None:
    # Changing the hash or the seed silently forgets every client's digest.
    assert mmh3.hash64("a", SEED, signed=False) == (11214878697931934376, 17095031609427805896)
    assert mmh3.hash64("b", SEED, signed=False) == (3611251447349369501, 6154029649298314923)


def test_gcs_bytes_are_pinned() -> None:
    digest = GCSDigest(4, 0.25)
    digest.add("a")
    digest.add("b")
    # R = round(4 / 0.25) = 16; "a" -> h1 mod 16 = 8, "b" -> 13. n = 2, so
    # M = round(ln 2 * (16 - 2) / 2) = round(4.85) = 5, b = 3, cut = 2^3 - 5 = 3.
    # gap 8 = 1 * 5 + 3: "1" "0", remainder 3 >= cut -> 3 + 3 = 6 in 3 bits "110"
    # gap 13 - 8 - 1 = 4 = 0 * 5 + 4: "0", remainder 4 -> 4 + 3 = 7 in 3 bits "111"
    # body "10110" "0111" + 7 zero bits = 1011 0011 1000 0000 = b3 80
    assert digest.to_bytes() == bytes.fromhex("2100040000100002b380")
    assert GCSDigest(4, 0.25).to_bytes() == bytes.fromhex("2100040000100000")


def test_bloom_bytes_are_pinned() -> None:
    digest = BloomDigest(4, 0.25)
    digest.add("a")
    digest.add("b")
    # k = 2: rho = 0.25^(1/2) = 0.5, m = ceil(2 * 4 / (0.5 + 0.5^2 / 2)) = ceil(12.8) = 13,
    # fewer than k = 1 (4 / 0.25 = 16) or k = 3 (14) take.
    # Probe i is MurmurHash3's fmix32 of h1 + i * h2 (low 32 bits), mod 13: "a" -> bits
    # 5, 12; "b" -> bits 4, 4 (bit 4 is new, so "b" is no false positive, and counts).
    # bits 4, 5, 12 of 13, most significant first: 0000 1100 0000 1 + 3 zero bits = 0c 08
    # Header: tag 24, capacity 0004, count 0002, k 02, m 00000d.
    assert digest.to_bytes() == bytes.fromhex("24000400020200000d0c08")
    assert BloomDigest(4, 0.25).to_bytes() == bytes.fromhex("24000400000200000d0000")


def test_a_bloom_digest_of_the_old_probes_is_refused() -> None:
    """Kind 2 was the filter probed by plain double hashing: its bits stand for other keys
    now, so its cookie is an unknown digest, as any foreign one."""
    with pytest.raises(DigestError, match="unknown digest tag 0x22"):
        load_digest(bytes.fromhex("22000400020200000cc600"))


def test_aging_bytes_are_pinned() -> None:
    digest = AgingDigest(GCSDigest, 4, 0.25)
    digest.add("a")
    # current: one value 8 below R = 16; M = round(ln 2 * 15) = 10, b = 4, cut = 6;
    # gap 8: "0", remainder 8 -> 8 + 6 = 14 "1110" -> 0111 0000 = 70. The empty previous
    # generation is omitted.
    current = bytes.fromhex("210004000010000170")
    assert digest.to_bytes() == bytes.fromhex("230009") + current
    for key in ("b", "c", "d", "e"):
        digest.add(key)
    # "e" (12) found current full with a, b, c, d (8, 13, 7, 10): that became previous and
    # "e" starts a new current. current: gap 12 = 1 * 10 + 2, "10" + 2 < cut in 3 bits
    # "010" -> 1001 0000 = 90. previous: n = 4, M = round(ln 2 * 12 / 4) = 2, b = 1, cut = 0;
    # gaps 7, 0, 1, 2 -> "1110" "1", "0" "0", "0" "1", "10" "0" -> 1110 1000 1100 0000 = e8 c0
    current = bytes.fromhex("210004000010000190")
    previous = bytes.fromhex("2100040000100004e8c0")
    assert digest.to_bytes() == bytes.fromhex("230009") + current + previous


def test_gcs_encoder_matches_the_reference() -> None:
    for capacity, fp_rate in [
        (4, 0.25),
        (300, 0.01),
        (300, 1 / 128),
        (100, 0.26),
        (100, 0.19),
        (50, 0.6),
        # One value below R = 721,933: M = round(721,932 ln 2) = 500,405, where ln 2 one
        # part per million off (or parts of another size) moves M by 0.7, to 500,404 or
        # 500,406: the integer ln 2 the encoder and decoder share is pinned.
        (1, 1 / 721_933),
    ]:
        digest = GCSDigest(capacity, fp_rate)
        keys = fill(digest)
        r = round(capacity / fp_rate)
        values = sorted({mmh3.hash64(key, SEED, signed=False)[0] % r for key in keys})
        assert len(values) == len(digest) == capacity
        body = pack(golomb_bits(values, golomb_parameter(capacity, r)))
        assert digest.to_bytes() == gcs_bytes(capacity, r, capacity, body)


# --- contract -------------------------------------------------------------------------------


def test_no_false_negatives_and_round_trip(make: Factory) -> None:
    digest = make(300, 0.01)
    keys = [f"/static/r{i}.css" for i in range(250)]
    for key in keys:
        digest.add(key)
    data = digest.to_bytes()
    decoded = type(digest).from_bytes(data)
    assert type(decoded) is type(digest)
    assert decoded.to_bytes() == data
    assert all(key in digest and key in decoded for key in keys)
    probes = [f"/other/{i}" for i in range(2000)]
    assert [p in decoded for p in probes] == [p in digest for p in probes]
    assert load_digest(data).to_bytes() == data
    assert (decoded.capacity, decoded.fp_rate, len(decoded)) == (300, digest.fp_rate, len(digest))


def test_empty_digest_round_trips(make: Factory) -> None:
    digest = make(10, 0.1)
    decoded = type(digest).from_bytes(digest.to_bytes())
    assert len(decoded) == 0
    assert "/a" not in decoded
    assert decoded.to_bytes() == digest.to_bytes()


def test_str_and_utf8_bytes_are_the_same_key(make: Factory) -> None:
    digest = make(100, 0.001)
    digest.add("/static/caf\u00e9.css")
    digest.add(b"/static/\xe2\x82\xac.js")
    assert "/static/caf\u00e9.css".encode() in digest
    assert "/static/\u20ac.js" in digest
    assert len(digest) == 2
    digest.add("/static/\u20ac.js")  # already there, as bytes
    assert len(digest) == 2


def test_a_lone_surrogate_is_a_key_too(make: Factory) -> None:
    # os.fsdecode(b"\xff") == "\udcff"; mmh3 itself segfaults on such a str.
    digest = make(100, 0.001)
    digest.add("/static/\udcff.css")
    assert "/static/\udcff.css" in digest
    assert "/static/\udcff.css".encode("utf-8", "surrogatepass") in digest
    assert "/static/\udcfe.css" not in digest


def test_adding_again_changes_nothing(make: Factory) -> None:
    digest = make(100, 0.01)
    keys = [f"/k{i}" for i in range(20)]
    for key in keys:
        digest.add(key)
    once = digest.to_bytes()
    for key in keys * 2:
        digest.add(key)
    assert digest.to_bytes() == once
    assert len(digest) == 20


def test_copy_is_independent(make: Factory) -> None:
    digest = make(100, 0.01)
    digest.add("/a")
    before = digest.to_bytes()
    copied = digest.copy()
    assert type(copied) is type(digest)
    assert copied.to_bytes() == before
    for i in range(50):
        copied.add(f"/b{i}")
    assert digest.to_bytes() == before
    assert "/a" in copied


def test_full_digest_refuses_new_keys(kind: Kind) -> None:
    digest = kind(50, 0.01)
    keys = fill(digest)
    assert digest.is_full
    digest.add(keys[0])  # known keys are fine
    new = next(f"/new/{i}" for i in range(10**6) if f"/new/{i}" not in digest)
    before = digest.to_bytes()
    with pytest.raises(OverflowError, match="full"):
        digest.add(new)
    assert digest.to_bytes() == before


def test_gcs_len_is_exact() -> None:
    digest = GCSDigest(1000, 0.01)
    keys = [f"/static/r{i}.css" for i in range(999)]
    for key in keys + keys[:100]:
        digest.add(key)
    r = 100_000
    assert len(digest) == len({mmh3.hash64(key, SEED, signed=False)[0] % r for key in keys})
    assert not digest.is_full


@pytest.mark.parametrize("capacity", [1, 100, 300, 1000])
@pytest.mark.parametrize("fp_rate", [0.01, 1 / 128, 0.001])
def test_bloom_len_counts_keys_added(capacity: int, fp_rate: float) -> None:
    digest = BloomDigest(capacity, fp_rate)
    false_positives = 0
    for i in range(capacity):
        key = f"/static/r{i}.css"
        false_positives += key in digest  # answered already: not added, not counted
        digest.add(key)
        assert len(digest) == i + 1 - false_positives
    assert len(BloomDigest.from_bytes(digest.to_bytes())) == len(digest)
    fill(digest)  # the keys that false positives left room for
    assert len(digest) == capacity
    assert digest.is_full


@pytest.mark.parametrize("capacity", [100, 300, 1000])
@pytest.mark.parametrize("fp_rate", [0.01, 1 / 128, 0.001])
def test_bits_per_entry_at_capacity(capacity: int, fp_rate: float) -> None:
    gcs = GCSDigest(capacity, fp_rate)
    fill(gcs)
    assert len(gcs) == capacity
    encoded = gcs.to_bytes()
    assert int.from_bytes(encoded[6:8], "big") == capacity
    # Bits of the body (headers: GCS 8 bytes, Bloom 7) per entry at capacity.
    # A GCS needs about log2(1/p) + 1.443 bits per entry, the entropy of its gaps.
    gcs_bits = 8 * (len(encoded) - GCS_HEADER) / capacity
    assert gcs_bits <= 1.05 * (math.log2(1 / fp_rate) + 1.443)
    # An optimal Bloom filter needs log2(1/p) / ln 2 = 1.443 log2(1/p).
    bloom = BloomDigest(capacity, fp_rate)
    fill(bloom)
    bloom_bits = 8 * (len(bloom.to_bytes()) - BLOOM_HEADER) / capacity
    assert bloom_bits <= 1.5 * math.log2(1 / fp_rate)


def test_fpr_at_capacity(kind: Kind) -> None:
    digest = kind(300, 0.01)
    fill(digest)
    # 20,000 probes: the binomial standard deviation at p = 0.01 is 0.0007; 1.25 p + 4 sigma
    # covers the design slack (Bloom rounds k and m) and chance.
    assert fpr(digest, 20_000) <= 1.25 * 0.01 + 4 * math.sqrt(0.01 / 20_000)


# --- memory --------------------------------------------------------------------------------


def test_getsizeof_counts_what_a_digest_holds(kind: Kind) -> None:
    digest = kind(300, 0.01)
    fill(digest)
    size = sys.getsizeof(digest)
    # GCS: 2 bytes per value (R = 30,000), not an int object in a set. Bloom: m = 2883
    # bits, packed.
    held = 2 * 300 if kind is GCSDigest else 2883 // 8
    assert held <= size < held + 800
    assert size < 2048
    assert held <= sys.getsizeof(kind.from_bytes(digest.to_bytes())) <= size


def test_digests_keep_no_uncounted_dict(make: Factory) -> None:
    """A digest's __sizeof__ counts its slots and their buffers, which the cache budget is
    measured by; a __dict__ per instance would be memory it does not count."""
    digest = make(300, 0.01)
    held = [digest, digest.current] if isinstance(digest, AgingDigest) else [digest]
    for obj in held:
        assert not hasattr(obj, "__dict__")


@pytest.mark.parametrize(("r", "itemsize"), [(65_536, 2), (65_537, 4)])
def test_gcs_values_take_2_bytes_while_r_is_at_most_2_to_the_16(r: int, itemsize: int) -> None:
    """The largest value, R - 1, is kept exactly on either side of the boundary."""
    digest = GCSDigest(256, 256 / r)
    assert digest.to_bytes()[3:6] == r.to_bytes(3, "big")
    largest = r - 1
    digest._add_hash(largest, 0)
    digest._add_hash(7, 0)
    assert digest._values.itemsize == itemsize
    decoded = GCSDigest.from_bytes(digest.to_bytes())
    assert list(decoded._values) == [7, largest]
    assert decoded._values.itemsize == itemsize
    copy = decoded.copy()
    copy._add_hash(largest - 1, 0)
    assert list(copy._values) == [7, largest - 1, largest]
    # A new generation, and the empty older one a decoded AgingDigest starts with.
    assert digest._empty_like()._values.itemsize == itemsize
    aging = AgingDigest.from_bytes(AgingDigest(GCSDigest, 256, 256 / r).to_bytes())
    assert isinstance(aging.previous, GCSDigest)
    assert aging.previous._values.itemsize == itemsize


def test_getsizeof_of_an_aging_digest_fits_the_cache_budget(kind: Kind) -> None:
    digest = AgingDigest(kind, 300, 0.01)
    keys = (f"/static/r{i}.css" for i in itertools.count())
    while len(digest.previous) < 300 or len(digest.current) < 300:
        digest.add(next(keys))  # until both generations are full: the largest it gets
    decoded = AgingDigest.from_bytes(digest.to_bytes())
    for aging in (digest, decoded):
        size = sys.getsizeof(aging)
        assert size > sys.getsizeof(aging.current) + sys.getsizeof(aging.previous)
        # The adapter keeps decoded digests per client: 1,500 clients within 4 MiB.
        assert 1500 * sys.getsizeof(decoded) <= 4 * 2**20


@pytest.mark.parametrize("rotated", [False, True], ids=["one generation", "rotated"])
def test_getsizeof_counts_all_a_decoded_digest_keeps_alive(kind: Kind, rotated: bool) -> None:
    """The decoded-digest cache is bounded by ``sys.getsizeof`` of each digest: what
    dropping a decoded one frees (tracemalloc) is within it, nor much less. A decoded
    generation's parameters (capacity 300, R = 30,000, m = 2,883, a count) are ints of its
    own, read from the bytes."""
    digest = AgingDigest(kind, 300, 0.01)
    for i in range(300 * (2 if rotated else 1)):
        digest.add(f"/static/r{i}.css")
    assert len(digest.previous) == (300 if rotated else 0)
    data = digest.to_bytes()
    size = sys.getsizeof(AgingDigest.from_bytes(data))  # counted untraced: nothing kept
    freed = bytes_freed(lambda i: AgingDigest.from_bytes(data))
    # 89 to 100% measured; less by the ints an empty previous generation shares with the
    # current one.
    assert 0.85 * 40 * size < freed <= 40 * size


# --- refusing bad input ---------------------------------------------------------------------


def encodings() -> list[bytes]:
    """One valid encoding of each shape: empty, filled, aging with and without previous."""
    out = []
    for kind in (GCSDigest, BloomDigest):
        out.append(kind(4, 0.25).to_bytes())
        digest = kind(40, 0.05)
        fill(digest, limit=30)
        out.append(digest.to_bytes())
        aging = AgingDigest(kind, 20, 0.1)
        fill(aging, limit=5)
        out.append(aging.to_bytes())
        fill(aging, limit=50)
        out.append(aging.to_bytes())
    return out


READERS: list[Callable[[bytes], object]] = [
    load_digest,
    BloomDigest.from_bytes,
    GCSDigest.from_bytes,
    AgingDigest.from_bytes,
]


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x20",
        b"\x24",
        b"\x2f",
        b"\xff" * 8,
        b"\x01" + b"\x00" * 10,
        b"\x11" + b"\x00" * 10,
        b"\x12" + b"\x00" * 10,
        b"\x13\x00\x00",
        b"\x31" + b"\x00" * 10,
        b"\x02" * 9,
    ],
    ids=lambda d: d[:3].hex() or "empty",
)
def test_unknown_tag_or_version(read: Callable[[bytes], object], data: bytes) -> None:
    with pytest.raises(DigestError):
        read(data)


@pytest.mark.parametrize("data", encodings(), ids=lambda d: d[:1].hex() + f"-{len(d)}")
def test_every_truncation_and_extension_is_refused(data: bytes) -> None:
    assert load_digest(data).to_bytes() == data
    # An aging digest cut right after its current generation is a valid digest whose
    # previous generation is empty; every other prefix is malformed.
    current_end = 3 + int.from_bytes(data[1:3], "big") if data[0] == 0x23 else None
    for size in range(len(data)):
        if size == current_end:
            assert len(load_digest(data[:size]).previous) == 0  # type: ignore[union-attr]
            continue
        with pytest.raises(DigestError):
            load_digest(data[:size])
    for extra in (b"\x00", b"\x80", data):
        with pytest.raises(DigestError):
            load_digest(data + extra)


def test_version_1_is_refused() -> None:
    """Version 1 encodings (before the Bloom count) are refused, so a client's old cookie
    is read as an empty digest."""
    for data in [
        bytes.fromhex("1100040000100002b380"),  # GCS {"a", "b"}
        bytes.fromhex("1200040200000cc600"),  # Bloom {"a", "b"}, without a count
        bytes.fromhex("130009110004000010000170"),  # aging GCS {"a"}
    ]:
        for read in READERS:
            with pytest.raises(DigestError, match="version 1"):
                read(data)


def test_cross_loading_is_refused() -> None:
    gcs, bloom = GCSDigest(10, 0.1), BloomDigest(10, 0.1)
    aging = AgingDigest(GCSDigest, 10, 0.1)
    for reader, data in [
        (BloomDigest.from_bytes, gcs.to_bytes()),
        (BloomDigest.from_bytes, aging.to_bytes()),
        (GCSDigest.from_bytes, bloom.to_bytes()),
        (GCSDigest.from_bytes, aging.to_bytes()),
        (AgingDigest.from_bytes, gcs.to_bytes()),
        (AgingDigest.from_bytes, bloom.to_bytes()),
    ]:
        with pytest.raises(DigestError, match="is not a"):
            reader(data)


# (description, bytes) of GCS encodings wrong in exactly one way.
TWO_VALUES = pack(golomb_bits([8, 13], golomb_parameter(2, 16)))
assert gcs_bytes(4, 16, 2, TWO_VALUES).hex() == "2100040000100002b380"
BAD_GCS = [
    ("capacity 0", gcs_bytes(0, 16, 0, b"")),
    ("capacity above MAX_CAPACITY", gcs_bytes(MAX_CAPACITY + 1, 2**20, 0, b"")),
    ("capacity 65535", gcs_bytes(65535, 2**20, 0, b"")),
    ("n above capacity", gcs_bytes(1, 16, 2, TWO_VALUES)),
    ("R 0", gcs_bytes(4, 0, 0, b"")),
    ("R equal to capacity", gcs_bytes(4, 4, 0, b"")),
    ("too few values", gcs_bytes(4, 16, 3, TWO_VALUES)),
    ("too many values", gcs_bytes(4, 16, 1, TWO_VALUES)),
    ("no body", gcs_bytes(4, 16, 2, b"")),
    ("body for zero values", gcs_bytes(4, 16, 0, b"\x00")),
    ("value equal to R", gcs_bytes(4, 16, 2, pack(golomb_bits([8, 16], 5)))),
    ("value above R", gcs_bytes(4, 16, 2, pack(golomb_bits([8, 300], 5)))),
    ("first value above R", gcs_bytes(4, 16, 1, pack(golomb_bits([16], 10)))),
    ("padding bit set", gcs_bytes(4, 16, 2, b"\xb3\x81")),
    ("padding byte", gcs_bytes(4, 16, 2, TWO_VALUES + b"\x00")),
    ("all ones", gcs_bytes(4, 16, 2, b"\xff\xff")),
    ("ends inside a remainder", gcs_bytes(4, 2**20, 1, b"\x00")),  # M = 726817: 19+ bits
    ("huge body", gcs_bytes(300, 30000, 300, bytes(4000))),
]
BAD_BLOOM = [
    ("capacity 0", bloom_bytes(0, 0, 2, 12, b"\x00\x00")),
    ("capacity above MAX_CAPACITY", bloom_bytes(MAX_CAPACITY + 1, 0, 2, 12, b"\x00\x00")),
    ("k 0", bloom_bytes(4, 0, 0, 12, b"\x00\x00")),
    ("k 33", bloom_bytes(4, 0, 33, 12, b"\x00\x00")),
    ("m 0", bloom_bytes(4, 0, 2, 0, b"")),
    ("m 1", bloom_bytes(4, 0, 2, 1, b"\x00")),
    ("m above the bound", bloom_bytes(4, 0, 2, 8 * 65526 + 1, bytes(65527))),
    ("body one byte short", bloom_bytes(4, 0, 2, 12, b"\x00")),
    ("body one byte long", bloom_bytes(4, 0, 2, 12, b"\x00\x00\x00")),
    ("body for m = 17", bloom_bytes(4, 0, 2, 17, b"\x00\x00")),
    ("padding bit set", bloom_bytes(4, 1, 2, 12, b"\x00\x01")),
    ("padding bit set, m = 9", bloom_bytes(4, 1, 2, 9, b"\x00\x40")),
    # The count must agree with the bits: each counted key set 1 to k of them.
    ("count above capacity", bloom_bytes(4, 5, 2, 12, b"\xf0\x00")),
    ("count without bits", bloom_bytes(4, 1, 2, 12, b"\x00\x00")),
    ("bits without count", bloom_bytes(4, 0, 2, 12, b"\x80\x00")),
    ("more keys than bits", bloom_bytes(4, 3, 2, 12, b"\xc0\x00")),
    ("more bits than k per key", bloom_bytes(4, 1, 2, 12, b"\xe0\x00")),
]


@pytest.mark.parametrize(
    ("why", "data"), BAD_GCS + BAD_BLOOM, ids=[w for w, _ in BAD_GCS + BAD_BLOOM]
)
def test_malformed_parameters_and_bodies(why: str, data: bytes) -> None:
    with pytest.raises(DigestError):
        load_digest(data)
    reader = GCSDigest.from_bytes if data[0] == 0x21 else BloomDigest.from_bytes
    with pytest.raises(DigestError):
        reader(data)
    if len(data) <= 0xFFFF:
        with pytest.raises(DigestError):
            AgingDigest.from_bytes(_aging(data))


def test_the_edges_of_those_ranges_are_accepted() -> None:
    for data in [
        gcs_bytes(1, 2, 0, b""),
        gcs_bytes(MAX_CAPACITY, 2**24 - 1, 0, b""),
        gcs_bytes(4, 16, 2, TWO_VALUES),
        gcs_bytes(2, 3, 2, pack(golomb_bits([0, 1], 1))),  # M = 1: unary only
        gcs_bytes(4, 16, 1, pack(golomb_bits([15], 10))),
        bloom_bytes(1, 1, 2, 2, b"\xc0"),
        bloom_bytes(MAX_CAPACITY, 0, 32, 8 * 65526, bytes(65526)),
        bloom_bytes(5, 5, 2, 9, b"\xff\x80"),  # 9 bits: at most k = 2 each
        bloom_bytes(4, 2, 2, 12, b"\xc0\x00"),  # 2 bits: at least 1 each
        bloom_bytes(4, 2, 2, 12, b"\xf0\x00"),
    ]:
        assert load_digest(data).to_bytes() == data


def test_a_body_cut_inside_a_remainder_is_refused_saying_so() -> None:
    """``python -m firehose_digest inspect`` prints why a payload is not a digest: a body
    that ends within its last value's remainder is cut short, not one with bits left over
    (M = 726817: a remainder of 19 or 20 bits after the quotient's one)."""
    with pytest.raises(DigestError, match=r"^GCSDigest: body ends inside a remainder$"):
        load_digest(gcs_bytes(4, 2**20, 1, b"\x00"))


def _aging(current: bytes, previous: bytes = b"") -> bytes:
    return b"\x23" + len(current).to_bytes(2, "big") + current + previous


def test_malformed_aging() -> None:
    gcs = GCSDigest(4, 0.25)
    gcs.add("a")
    other_gcs = GCSDigest(5, 0.25)
    other_gcs.add("a")
    bloom = BloomDigest(4, 0.25)
    bloom.add("a")
    valid = _aging(gcs.to_bytes(), gcs.to_bytes())
    assert AgingDigest.from_bytes(valid).to_bytes() == valid
    for data in [
        b"\x23",
        b"\x23\x00",
        _aging(b""),  # no current generation
        _aging(b"", gcs.to_bytes()),
        _aging(gcs.to_bytes(), bloom.to_bytes()),  # generations of two kinds
        _aging(bloom.to_bytes(), gcs.to_bytes()),
        _aging(gcs.to_bytes(), other_gcs.to_bytes()),  # two capacities
        _aging(gcs.to_bytes(), GCSDigest(4, 0.25).to_bytes()),  # empty previous, not omitted
        _aging(bloom.to_bytes(), BloomDigest(4, 0.25).to_bytes()),
        _aging(_aging(gcs.to_bytes())),  # nested
        b"\x23\xff\xff" + gcs.to_bytes(),  # length beyond the data
        b"\x23\x00\x01" + gcs.to_bytes(),  # length inside the current generation
    ]:
        with pytest.raises(DigestError):
            AgingDigest.from_bytes(data)
        with pytest.raises(DigestError):
            load_digest(data)


def test_bloom_generations_of_different_parameters_are_refused() -> None:
    """As for GCS: both generations are asked with the probes of one (m, k), so a previous
    generation of another capacity or rate cannot be read beside the current one."""
    current = BloomDigest(4, 0.25)
    current.add("a")
    for capacity, fp_rate in [(5, 0.25), (4, 0.01)]:
        previous = BloomDigest(capacity, fp_rate)
        previous.add("a")
        data = _aging(current.to_bytes(), previous.to_bytes())
        with pytest.raises(DigestError, match="different parameters"):
            AgingDigest.from_bytes(data)
    same = _aging(current.to_bytes(), current.to_bytes())
    assert AgingDigest.from_bytes(same).to_bytes() == same


def test_a_previous_generation_of_one_key_is_written_and_read_back(kind: Kind) -> None:
    """At capacity 1 every rotation leaves one key in the previous generation: it is kept
    in the bytes (only an empty generation is left out), so the client still holds it."""
    digest = AgingDigest(kind, 1, 0.01)
    digest.add("/a.css")
    digest.add("/b.css")
    assert len(digest.previous) == 1
    read = AgingDigest.from_bytes(digest.to_bytes())
    assert read.generation_of("/a.css") == IN_PREVIOUS
    assert read.generation_of("/b.css") == IN_CURRENT


def test_an_empty_bloom_filter_at_a_loose_rate_holds_nothing() -> None:
    """At fp_rate 0.9 the formula gives k = 0 hashes; at least one is probed, or an empty
    filter would hold every key and nothing would ever be pushed."""
    digest = BloomDigest(300, 0.9)
    assert not any(f"/static/{i}.css" in digest for i in range(20))
    digest.add("/a.css")
    assert "/a.css" in BloomDigest.from_bytes(digest.to_bytes())


def test_the_smallest_bloom_filter_is_two_bits_and_reads_back() -> None:
    """One key at a loose rate: the formula gives under one bit; two are the least a
    reader takes, so the filter written is the one read."""
    digest = BloomDigest(1, 0.9)
    digest.add("/a.css")
    data = digest.to_bytes()
    assert int.from_bytes(data[6:9], "big") == 2  # m
    assert len(data) == BLOOM_HEADER + 1
    assert BloomDigest.from_bytes(data).to_bytes() == data


def test_a_bloom_digests_size_bound_is_its_size_once_both_generations_hold_keys() -> None:
    """A Bloom generation's bytes do not depend on its keys, so the bound init_app checks
    the cookie with is exact, whatever m is modulo 8 (a last byte of one bit included)."""
    for capacity in range(1, 120):
        digest = AgingDigest(BloomDigest, capacity, 0.01)
        keys = (f"/static/{i}.css" for i in itertools.count())
        while not digest.previous:
            digest.add(next(keys))
        bound = encoded_size_bound(BloomDigest, capacity, 0.01)
        assert len(digest.to_bytes()) == bound, capacity


def test_decoding_work_is_bounded() -> None:
    """Inputs shaped for the most decoding work: one step per value, at most MAX_CAPACITY.

    The bound is linear in the values and the bits read, with room for a loop's few lines
    each (about 14 a value here, decoding and encoding again); a quadratic decoder would
    run some MAX_CAPACITY**2 / 2 lines, over thirty million."""
    worst = [
        # MAX_CAPACITY values (M = 1: one bit each; M = 2: two bits each), valid
        gcs_bytes(MAX_CAPACITY, MAX_CAPACITY + 1, MAX_CAPACITY, bytes(MAX_CAPACITY // 8)),
        gcs_bytes(MAX_CAPACITY, 4 * MAX_CAPACITY, MAX_CAPACITY, b"\x55" * (MAX_CAPACITY // 4)),
        # 4 KB bodies that fail late
        gcs_bytes(MAX_CAPACITY, 2**24 - 1, MAX_CAPACITY, bytes(4096)),
        gcs_bytes(MAX_CAPACITY, MAX_CAPACITY + 1, MAX_CAPACITY, b"\x7f" * 4096),
        bloom_bytes(MAX_CAPACITY, MAX_CAPACITY, 32, 8 * 4096, b"\xff" * 4096),
        _aging(gcs_bytes(MAX_CAPACITY, 2**24 - 1, 0, b""), b"\x21" + b"\xff" * 4096),
    ]

    def decode(data: bytes) -> None:
        with contextlib.suppress(DigestError):
            load_digest(data).to_bytes()

    for data in worst:
        _, work = work_of(functools.partial(decode, data))
        assert work.lines <= 16 * (MAX_CAPACITY + 8 * len(data)), (len(data), work)
        # The values decoded, as ints in a list, and the body as a string of bits.
        assert work.peak <= 64 * MAX_CAPACITY + 16 * 8 * len(data), (len(data), work)


# --- aging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [GCSDigest, BloomDigest], ids=["gcs", "bloom"])
def test_aging_keeps_recent_keys_and_bounded_size(kind: Kind) -> None:
    capacity, fp_rate = 300, 0.01
    digest = AgingDigest(kind, capacity, fp_rate)
    bound = encoded_size_bound(kind, capacity, fp_rate)
    # Both kinds count exactly, so the last `capacity` keys are always remembered.
    remembered = capacity
    keys = [f"/static/assets/r{i}.0123456789.css" for i in range(5000)]
    rotations = 0
    for i, key in enumerate(keys):
        before = digest.current
        digest.add(key)
        rotations += digest.current is not before
        if i % 97 == 0 or digest.current is not before:
            assert all(k in digest for k in keys[max(0, i + 1 - remembered) : i + 1])
            assert len(digest.to_bytes()) <= bound
    assert rotations >= 5000 // (2 * capacity)
    assert not digest.is_full
    assert all(key in digest for key in keys[-remembered:])
    # Each generation is at most at rate p, so the union at most 2p. The
    # count is binomial over 20,000 probes: 4 standard deviations of chance on top.
    assert fpr(digest, 20_000) <= 2 * fp_rate + 4 * math.sqrt(2 * fp_rate / 20_000)
    assert kind.from_bytes(digest.current.to_bytes()).to_bytes() == digest.current.to_bytes()


@pytest.mark.parametrize("kind", [GCSDigest, BloomDigest])
def test_two_full_generations_answer_falsely_for_up_to_2p_not_1_minus_q_squared(
    kind: Kind,
) -> None:
    """Only a url the digest does not hold is pushed, so added: the generations answer
    falsely for disjoint urls (a GCS's values are disjoint), not as two independent
    filters would, 1 - (1 - p)^2 = 0.51 at p = 0.3. inspect says up to 2p."""
    digest = AgingDigest(kind, 300, 0.3)
    added = 0
    while not (digest.previous and digest.current.is_full):
        url = f"/static/held-{added}.css"
        added += 1
        if url not in digest:
            digest.add(url)
    measured = fpr(digest, 20_000)
    assert measured <= 0.6 + 4 * math.sqrt(0.6 * 0.4 / 20_000)
    assert measured > 1 - 0.7**2 + 4 * math.sqrt(0.51 * 0.49 / 20_000)


@pytest.mark.parametrize("kind", [GCSDigest, BloomDigest], ids=["gcs", "bloom"])
def test_generation_of_gives_three_answers_only_not_held_false(kind: Kind) -> None:
    """DigestConnector tells a key to refresh (previous only) from one held in current by
    these answers, and takes NOT_HELD's falsity for "not held"."""
    digest = AgingDigest(kind, 1, 0.01)
    digest.add("/a.css")
    digest.add("/b.css")  # rotates /a.css into the previous generation
    answers = [digest.generation_of(key) for key in ("/c.css", "/b.css", "/a.css")]
    assert answers == [NOT_HELD, IN_CURRENT, IN_PREVIOUS]
    assert len(set(answers)) == 3
    assert [bool(answer) for answer in answers] == [False, True, True]


def test_aging_refreshes_keys_found_only_in_previous() -> None:
    digest = AgingDigest(GCSDigest, 4, 0.01)
    # R = 400, and these keys do not collide, so no key is taken for another.
    assert len({mmh3.hash64(k, SEED, signed=False)[0] % 400 for k in "abcdefghz"}) == 9
    for key in "abcd":
        digest.add(key)
    digest.add("e")  # rotation: previous = {a, b, c, d}, current = {e}
    assert len(digest.previous) == 4 and len(digest.current) == 1
    assert [digest.generation_of(k) for k in "bez"] == [IN_PREVIOUS, IN_CURRENT, NOT_HELD]
    digest.add("a")  # still in use: copied into current, survives the next rotation
    assert "a" in digest.current
    assert digest.generation_of("a") == IN_CURRENT
    assert len(digest) == 6  # "a" is in both generations
    digest.add("e")  # already in current: nothing changes
    assert len(digest.current) == 2
    for key in "fg":
        digest.add(key)
    full = digest.current
    digest.add("h")  # rotation: previous = {e, a, f, g}, {a, b, c, d} is dropped
    assert digest.previous is full
    assert all(k in digest.previous for k in "eafg")
    assert len(digest.current) == 1 and "h" in digest.current
    assert digest.kind is GCSDigest
    assert digest.capacity == 4
    assert not digest.is_full


def test_aging_decodes_to_the_same_state(kind: Kind) -> None:
    digest = AgingDigest(kind, 50, 0.05)
    fill(digest, limit=120)
    decoded = AgingDigest.from_bytes(digest.to_bytes())
    assert decoded.kind is kind
    assert decoded.current.to_bytes() == digest.current.to_bytes()
    assert decoded.previous.to_bytes() == digest.previous.to_bytes()
    decoded.add("/new")
    digest.add("/new")
    assert decoded.to_bytes() == digest.to_bytes()


@pytest.mark.parametrize("kind", [GCSDigest, BloomDigest], ids=["gcs", "bloom"])
@pytest.mark.parametrize(
    ("capacity", "fp_rate"), [(1, 0.5), (10, 0.3), (100, 0.01), (300, 1 / 128), (1000, 0.001)]
)
def test_encoded_size_bound_holds(kind: Kind, capacity: int, fp_rate: float) -> None:
    bound = encoded_size_bound(kind, capacity, fp_rate)
    digest = AgingDigest(kind, capacity, fp_rate)
    largest = 0
    for i in range(3 * capacity + 5):
        digest.add(f"/static/r{i}.css")
        # The size peaks when both generations are full, just before a rotation.
        if digest.current.is_full or i % 50 == 0:
            largest = max(largest, len(digest.to_bytes()))
    assert largest <= bound
    # And it is not wildly pessimistic: within 20% of the largest seen (+ bytes of slack
    # for tiny digests).
    assert bound <= 1.2 * largest + 8


@pytest.mark.parametrize(
    ("capacity", "r", "m", "bits"), [(10, 33, 2, 31), (3, 10, 2, 9), (3, 36, 8, 16)]
)
def test_a_gcs_digest_can_reach_its_size_bound(capacity: int, r: int, m: int, bits: int) -> None:
    """The bound is exact where M is a power of two: the largest n values below R put all
    the gaps in one quotient, and every remainder takes b bits. 10 values below R = 33
    (M = 2): a quotient of 11, ten stop bits and ten 1-bit remainders, 31 bits; bodies of
    8j + 1 and 8j bits round up to whole bytes exactly."""
    assert golomb_parameter(capacity, r) == m
    body = golomb_bits(list(range(r - capacity, r)), m)
    assert len(body) == bits
    generation = gcs_bytes(capacity, r, capacity, pack(body))
    assert len(generation) == GCS_HEADER + (bits + 7) // 8
    data = _aging(generation, generation)
    assert AgingDigest.from_bytes(data).to_bytes() == data
    assert encoded_size_bound(GCSDigest, capacity, capacity / r) == len(data)


def test_encoded_size_bound_fits_the_length_prefix() -> None:
    """A generation always fits the u16 length prefix, at the most extreme parameters."""
    # GCS: the largest R at the largest capacity. Bloom: the most hashes at that capacity.
    gcs = encoded_size_bound(GCSDigest, MAX_CAPACITY, MAX_CAPACITY / (2**24 - 1))
    bloom = encoded_size_bound(BloomDigest, MAX_CAPACITY, 2**-32)
    assert gcs <= 3 + 2 * 0xFFFF
    assert bloom <= 3 + 2 * 0xFFFF
    with pytest.raises(ValueError, match="fp_rate"):
        encoded_size_bound(GCSDigest, 300, 1.5)
    with pytest.raises(ValueError, match="kind"):
        encoded_size_bound(AgingDigest, 300, 0.01)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fp_rate", "error"),
    [
        (
            300 / 300.5,
            "capacity / fp_rate = 300.5 must round into (300, 16777215] (it rounds to 300)",
        ),
        (0.999, "capacity / fp_rate = 300.3 must round into (300, 16777215] (it rounds to 300)"),
        (300 / 300.51, None),  # rounds to 301
        (300 / 16777215.4, None),
        (300 / 16777215.6, "capacity / fp_rate = 1.67772e+07 must round into (300, 16777215]$"),
    ],
)
def test_a_gcs_range_is_refused_by_what_it_rounds_to_and_says_so(
    fp_rate: float, error: str | None
) -> None:
    """R = round(capacity / fp_rate) at both ends of its range. At a rate close to 1 the
    ratio is a hair above the capacity: shown to 6 digits it read "= 300 must round into
    (300, ...]", as if 300 were refused for being 300. At the top, a ratio in
    (16777215, 16777215.5) rounds to the largest R and was refused."""
    if error is None:
        assert GCSDigest(300, fp_rate).capacity == 300
    else:
        with pytest.raises(ValueError, match=re.escape(error.rstrip("$")) + "$"):
            GCSDigest(300, fp_rate)


def test_a_gcs_range_exactly_half_past_the_largest_rounds_out() -> None:
    """At its top, R = round(capacity / fp_rate) is refused from exactly 16777215.5 (half
    to even: 16777216), the ratio refused before rounding as the u24 field cannot hold it;
    16777214.5 rounds to 16777214, built."""
    assert 1 / (1 / 16777215.5) == 16777215.5  # the ratio is exact here
    with pytest.raises(ValueError, match=r"= 1\.67772e\+07 must round into \(1, 16777215\]$"):
        GCSDigest(1, 1 / 16777215.5)
    assert GCSDigest(1, 1 / 16777214.5).capacity == 1


def test_bytes_after_the_current_generation_are_named_as_its_previous_one(kind: Kind) -> None:
    """What follows the current generation is read as the previous one: bytes there that
    are none (one stray byte) are refused as a previous generation that does not decode,
    not as a digest of another format version, which would send a reader to the wrong
    cause."""
    current = AgingDigest(kind, 4, 0.25)
    current.add("/a.css")
    data = current.to_bytes() + b"\x00"
    with pytest.raises(DigestError, match=r"^AgingDigest: previous generation: "):
        AgingDigest.from_bytes(data)
