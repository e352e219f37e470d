"""bench/casper.py: h2o's CASPER cookie, pinned to what h2o itself computes and sends."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import casper

# What h2o 2.2.5 (Debian 12) set as h2o_casper behind `http2-casper: ON`, measured with
# tests/integration/rig.py: the browse below, with every pushed path recorded.
H2O_AFTER_PAGE_0 = "ATg2CSAAAFDyAAA2AAAALKs1AAAABUA"
H2O_AFTER_PAGE_1 = "ATg2CSDuAAFjyAAA2AABlAOas1AABXAB8A"
H2O_AFTER_100_PAGES = (
    "t6YE6JAb5si7Fo6NKTRjd5kaPG-Xas9LiTriFP8QKEaKWZle1XgwuNGhWjxelaBU3Ikn7KjTLcyFQwZEA6QYlS5R"
    "sUmqpIq1JcLFBlSIUGpJhQUChPlZ8L1BjRakJZ3WPt2i268fmLb9w-8Oda4IKBKuzayDglwIUrJTwSImVBgR4Uat"
    "ObMthXg0oOmtDq4qEOjMQJNnDHxJUe9clscGJDkQPzBdx2tOy3EmVZViFDw3cEiKmw2bPDcoNFfrw6sqbakbqFGd"
    "V_YrEidEt_aXyJClU4PqpZzUssfnlo8dPe1OqwdGi7JuT0J6iwpW_zKgXY_bBbjxYVOFIi-b1OFZmXEA"
)


def asset(i: int) -> str:
    """The example site's fingerprinted asset path (examples/site.py)."""
    return f"/static/assets/r{i}.{hashlib.sha1(str(i).encode()).hexdigest()[:10]}.css"


def page(number: int) -> list[str]:
    """The 10 assets /browse/<number> preloads: a window sliding 3 a page over 300."""
    return [asset((number * 3 + j) % 300) for j in range(10)]


def browse(pages: int) -> tuple[casper.CasperSet, int, int]:
    """What h2o does for each preload: push unless the key is held, then hold it."""
    held = casper.CasperSet()
    pushes = misses = 0
    seen: set[str] = set()
    for number in range(pages):
        for path in page(number):
            if path in seen:
                continue
            seen.add(path)
            if held.add(path):
                misses += 1
            else:
                pushes += 1
    return held, pushes, misses


def test_key_is_h2os_calc_key() -> None:
    """h2o's t/00unit/lib/http2/casper.c: SHA-1('/index.html') starts 14 fe 45 59, read
    as a native (little-endian) unsigned and masked to 13 bits."""
    assert casper.key("/index.html") == 0x5945FE14 & 0x1FFF == 7700
    assert casper.key(b"/index.html") == 7700


@pytest.mark.parametrize(
    ("keys", "value"),
    [
        ([], ""),  # h2o sends no cookie for an empty set
        ([0], "gA"),  # 1 | 000000, padded: 0x80
        ([63], "_g"),  # 1 | 111111 | 0: 0xfe
        ([64], "QA"),  # 01 | 000000: 0x40
        ([0, 1], "gQA"),  # 1000000 1000000 00: gap to 1 is 1 - (0 + 1) = 0
        ([5, 3, 5], "hwQ"),  # sorted, distinct: 1000011, then 5 - 4: 1000001, 00
    ],
)
def test_encode_pins(keys: list[int], value: str) -> None:
    assert casper.encode(keys) == value
    assert casper.decode(value) == sorted(set(keys))


def test_first_page_is_h2os_cookie_byte_for_byte() -> None:
    assert casper.CasperSet(page(0)).cookie_value() == H2O_AFTER_PAGE_0
    held, _, _ = browse(2)
    assert held.cookie_value() == H2O_AFTER_PAGE_1


def test_a_100_page_browse_is_h2os_cookie_and_pushes() -> None:
    """REFERENCE.md: 290 pushes, 10 missed, a cookie of about 342 characters."""
    held, pushes, misses = browse(100)

    assert (pushes, misses) == (290, 10)
    assert len(held) == 290
    assert held.cookie_value() == H2O_AFTER_100_PAGES
    assert len(H2O_AFTER_100_PAGES) == 344
    assert held.fp_rate == pytest.approx(290 / 8192)


def test_h2os_cookie_decodes_to_every_pushed_path() -> None:
    held = casper.CasperSet.from_cookie_value(H2O_AFTER_100_PAGES)

    assert len(held) == 290
    assert all(path in held for number in range(100) for path in page(number))
    assert held.keys == browse(100)[0].keys


@given(st.sets(st.integers(0, 2**casper.CAPACITY_BITS - 1)))
def test_round_trip(keys: set[int]) -> None:
    assert casper.decode(casper.encode(keys)) == sorted(keys)


def test_trailing_zero_bytes_end_the_set_as_in_h2o() -> None:
    """h2o's decoder reads values until the bits run out: zero padding adds nothing."""
    assert casper.decode("gAAA") == [0]


@pytest.mark.parametrize("value", ["g", "!!!!", "ab=c"])
def test_not_base64url_is_an_error(value: str) -> None:
    with pytest.raises(casper.CasperError):
        casper.decode(value)


def test_a_key_beyond_13_bits_is_an_error() -> None:
    too_far = casper.encode([2**casper.CAPACITY_BITS])
    with pytest.raises(casper.CasperError, match="does not fit 13 bits"):
        casper.decode(too_far)


def test_add_says_whether_the_key_was_held() -> None:
    held = casper.CasperSet()

    assert held.add("/a.css") is False
    assert held.add("/a.css") is True
    assert "/a.css" in held
    assert 42 not in held
