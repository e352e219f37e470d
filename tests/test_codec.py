"""The signed cookie value: exact bytes, rotation, and every way a value can be bad."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from itsdangerous import SignatureExpired, TimestampSigner

from firehose_digest.codec import (
    DEFAULT_SALT,
    MAX_CLOCK_SKEW,
    MAX_COOKIE_AGE,
    DigestCodec,
    keys_in_force,
    scoped_salt,
    signable,
)
from firehose_digest.digests import DigestError

NOW = 1_800_000_000
DAY = 24 * 3600


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: float(NOW))


def codec(*keys: str, max_age: int = DAY) -> DigestCodec:
    return DigestCodec(list(keys), DEFAULT_SALT, max_age)


def test_exact_value() -> None:
    assert codec("secret").dumps(b"\x11digest") == "EWRpZ2VzdA.a0nSAA.fduGa1jIdiGg9IlRI1yO_trvio4"


def test_round_trip_with_time() -> None:
    value = codec("secret").dumps(b"\x00\xffpayload")
    assert codec("secret").loads(value) == (b"\x00\xffpayload", NOW)


def test_plain_itsdangerous_verifies_our_values() -> None:
    value = codec("old", "new").dumps(b"payload")
    signer = TimestampSigner(["old", "new"], salt=DEFAULT_SALT, key_derivation="hmac")
    assert signer.unsign(value, max_age=DAY) == b"cGF5bG9hZA"


def test_keys_rotate_oldest_to_newest() -> None:
    issued_with_old = codec("old").dumps(b"payload")
    rotated = codec("old", "new")
    assert rotated.loads(issued_with_old).payload == b"payload"
    assert codec("new").loads(rotated.dumps(b"payload")).payload == b"payload"
    with pytest.raises(DigestError, match="signature"):
        codec("new").loads(issued_with_old)


@pytest.mark.parametrize(
    "signed_at", [NOW - 10 * DAY, NOW + MAX_CLOCK_SKEW + 1], ids=["expired", "too far ahead"]
)
def test_a_signature_is_told_apart_from_its_age(
    monkeypatch: pytest.MonkeyPatch, signed_at: int
) -> None:
    """Which key signed a value, for a value loads() refuses for its age alone."""
    monkeypatch.setattr(time, "time", lambda: float(signed_at))
    value = codec("old").dumps(b"payload")
    monkeypatch.setattr(time, "time", lambda: float(NOW))
    with pytest.raises(DigestError, match="expired"):
        codec("old").loads(value)
    assert codec("old").carries_signature(value)
    assert codec("new", "old").carries_signature(value)
    assert not codec("new").carries_signature(value)
    signed, signature = value.rsplit(".", 1)  # its first character: 6 bits of the HMAC's
    other = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert not codec("old").carries_signature(f"{signed}.{other}")
    assert not codec("old").carries_signature(value + "\xe9")


def test_other_salt_is_another_key() -> None:
    value = codec("secret").dumps(b"payload")
    with pytest.raises(DigestError):
        DigestCodec(["secret"], DEFAULT_SALT + ":v2", DAY).loads(value)


@pytest.mark.parametrize(
    ("domain", "path", "salt"),
    [
        (None, "/", DEFAULT_SALT),
        ("", "/", DEFAULT_SALT),
        (".Shop.test:8000", "/a", f"{DEFAULT_SALT};domain=shop.test;path=/a"),
        (None, "/a", f"{DEFAULT_SALT};domain=None;path=/a"),
    ],
)
def test_an_unpartitioned_scope_keeps_the_salt_it_had(
    domain: str | None, path: str, salt: str
) -> None:
    """The salts of before ``Partitioned`` was signed, literally: a client's cookie from
    then still verifies after the upgrade."""
    assert scoped_salt(DEFAULT_SALT, domain, path) == salt
    assert scoped_salt(DEFAULT_SALT, domain, path, partitioned=False) == salt


def test_a_partitioned_scope_is_another_salt() -> None:
    """A partitioned cookie and an unpartitioned one of the same scope are distinct
    cookies (CHIPS), so neither verifies as the other."""
    scopes = [(None, "/"), ("shop.test", "/"), (None, "/a"), ("shop.test", "/a")]
    salts = {
        scoped_salt(DEFAULT_SALT, domain, path, partitioned=partitioned)
        for domain, path in scopes
        for partitioned in (False, True)
    }
    assert len(salts) == 2 * len(scopes)
    assert scoped_salt(DEFAULT_SALT, None, "/", partitioned=True) == (
        f"{DEFAULT_SALT};partitioned;domain=None;path=/"
    )


def test_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    value = codec("secret").dumps(b"payload")
    monkeypatch.setattr(time, "time", lambda: float(NOW + DAY + 1))
    with pytest.raises(DigestError, match="expired"):
        codec("secret").loads(value)


def test_expires_at_agrees_with_itsdangerous(monkeypatch: pytest.MonkeyPatch) -> None:
    """Good while ``now < expires_at``: itsdangerous compares whole seconds."""
    value = codec("secret").dumps(b"payload")
    expires_at = codec("secret").expires_at(NOW)
    assert expires_at == NOW + DAY + 1
    monkeypatch.setattr(time, "time", lambda: expires_at - 0.001)
    assert codec("secret").loads(value).payload == b"payload"
    monkeypatch.setattr(time, "time", lambda: float(expires_at))
    with pytest.raises(DigestError, match="expired"):
        codec("secret").loads(value)


@pytest.mark.parametrize("now", [NOW, NOW + 0.999, 2**31 + 0.5])
def test_issued_at_is_the_timestamp_the_value_carries(
    monkeypatch: pytest.MonkeyPatch, now: float
) -> None:
    monkeypatch.setattr(time, "time", lambda: now)
    value = codec("secret").dumps(b"payload")
    assert codec("secret").loads(value).issued_at == int(now)


GOOD = "EWRpZ2VzdA.a0nSAA.fduGa1jIdiGg9IlRI1yO_trvio4"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        GOOD[:-1],
        GOOD[1:],
        GOOD.replace("EWRp", "EWRq"),
        GOOD + "A",
        "EWRpZ2VzdA.5uBzsSwFqnq6YUY4rsw13nffEvY",
        "....",
        "é" + GOOD,
        "A" * 5000,
    ],
)
def test_bad_values_raise_digest_error(value: str) -> None:
    with pytest.raises(DigestError):
        codec("secret").loads(value)


def test_no_key_is_refused() -> None:
    with pytest.raises(ValueError, match="secret key"):
        DigestCodec([], DEFAULT_SALT, DAY)
    with pytest.raises(ValueError, match="secret key"):
        DigestCodec([""], DEFAULT_SALT, DAY)


def test_one_key_given_bare_rather_than_in_a_list_is_refused() -> None:
    """A str is a Sequence[str], so mypy took DigestCodec("a-long-secret-key", ...): each
    character became a key and the last, "y", signed, so anyone could forge a value by
    trying the hundred printable characters (bytes failed inside hmac, naming an int)."""
    with pytest.raises(TypeError, match="a list of secret keys, oldest to newest, not one str"):
        DigestCodec("a-long-secret-key", DEFAULT_SALT, DAY)
    with pytest.raises(TypeError, match="a list of secret keys, oldest to newest, not one bytes"):
        DigestCodec(b"a-long-secret-key", DEFAULT_SALT, DAY)  # type: ignore[arg-type]
    # A bytearray, a key as bytes is (Flask's session signs with one), failed inside hmac.
    with pytest.raises(TypeError, match="a list of secret keys, oldest to newest, not one bytea"):
        DigestCodec(bytearray(b"a-long-secret-key"), DEFAULT_SALT, DAY)  # type: ignore[arg-type]


_AGE_TAKEN = f"DigestCodec's max_age must be an int in [1, {MAX_COOKIE_AGE}] (seconds), got"


@pytest.mark.parametrize(
    ("max_age", "said"),
    [
        (True, "True"),
        ("60", "'60'; a number given as a str: convert it, int(value)"),
        ("1e3", "'1e3'"),  # int() of it raises too: no advice
        (Decimal("60"), "Decimal('60'); a Decimal: convert it, int(value)"),
        (Decimal("NaN"), "Decimal('NaN')"),  # int() of it raises: no advice
        (60.0, "60.0"),
        (None, "None"),
    ],
)
def test_a_max_age_of_another_type_is_refused_naming_it(max_age: object, said: str) -> None:
    """It was kept as given: True signed values good for a second, "60" or None failed
    on each cookie loads() read (``'>' not supported``), in a request, not here."""
    with pytest.raises(TypeError) as refused:
        DigestCodec(["secret"], DEFAULT_SALT, max_age)  # type: ignore[arg-type]
    assert str(refused.value) == f"{_AGE_TAKEN} {said}"


@pytest.mark.parametrize(
    "max_age", [0, -1, MAX_COOKIE_AGE + 1, 10**400], ids=["0", "-1", "past", "10**400"]
)
def test_a_max_age_out_of_range_is_refused_naming_it(max_age: int) -> None:
    """As ``FIREHOSE_MAX_AGE`` is: a negative one made every value expired, said "age 0
    < -60 seconds"; one past a float's range failed renewal_at(); browsers keep a
    cookie 400 days at most."""
    with pytest.raises(ValueError) as refused:
        DigestCodec(["secret"], DEFAULT_SALT, max_age)
    assert str(refused.value) == f"{_AGE_TAKEN} {max_age!r}"


def test_a_max_age_at_either_end_of_its_range_is_taken() -> None:
    for max_age in (1, MAX_COOKIE_AGE):
        assert DigestCodec(["secret"], DEFAULT_SALT, max_age).max_age == max_age


def test_a_salt_or_key_no_signature_takes_is_refused_naming_it() -> None:
    """A salt not a str failed on ``'int' object has no attribute 'encode'``; a key not a
    str or bytes inside hmac; either with a lone surrogate on a UnicodeEncodeError that
    showed the secret's character. A key is named by its place, never its value."""
    with pytest.raises(TypeError, match=r"^DigestCodec's salt must be a str, got 1$"):
        DigestCodec(["secret"], 1, DAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^DigestCodec's salt holds a character UTF-8 cannot"):
        DigestCodec(["secret"], "v\udc80", DAY)
    with pytest.raises(
        TypeError, match=r"^DigestCodec's secret keys must be str or bytes, got int at index 1$"
    ):
        DigestCodec(["secret", 1234], DEFAULT_SALT, DAY)  # type: ignore[list-item]
    with pytest.raises(ValueError) as refused:
        DigestCodec(["old", "s\udc80cret"], DEFAULT_SALT, DAY)
    assert str(refused.value) == (
        "DigestCodec's secret keys must be str (UTF-8) or bytes, got a str with a lone "
        "surrogate at index 1"
    )
    # A bytearray signs as bytes do (Flask's session signs with one).
    assert DigestCodec([bytearray(b"secret")], DEFAULT_SALT, DAY).dumps(b"x")  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("signed_at", "trusted"),
    [
        (NOW + 1.0, True),  # read 10 ms before the signer's second turned here
        (NOW + MAX_CLOCK_SKEW + 0.99, True),
        (NOW + MAX_CLOCK_SKEW + 1, False),
    ],
)
def test_a_value_signed_by_a_clock_ahead_is_trusted_within_the_skew(
    monkeypatch: pytest.MonkeyPatch, signed_at: float, trusted: bool
) -> None:
    """Another server sharing the key signed it, its clock ahead of ours: itsdangerous
    refuses any negative age, so 10 ms of skew across a second's turn dropped the digest.
    Whole seconds are compared, as itsdangerous compares them."""
    monkeypatch.setattr(time, "time", lambda: signed_at)
    value = codec("secret").dumps(b"payload")
    monkeypatch.setattr(time, "time", lambda: NOW + 0.99)
    if trusted:
        assert codec("secret").loads(value) == (b"payload", int(signed_at))
    else:
        with pytest.raises(DigestError, match="expired") as refused:
            codec("secret").loads(value)
        assert isinstance(refused.value.__cause__, SignatureExpired)


@pytest.mark.parametrize(("ahead", "trusted"), [(60, True), (61, False)])
def test_a_value_signed_up_to_a_minute_ahead_is_trusted(
    monkeypatch: pytest.MonkeyPatch, ahead: int, trusted: bool
) -> None:
    """docs/security.md and CHANGES.md promise a minute of skew between servers: the test
    above moves with MAX_CLOCK_SKEW, this one names the number."""
    monkeypatch.setattr(time, "time", lambda: float(NOW + ahead))
    value = codec("secret").dumps(b"payload")
    monkeypatch.setattr(time, "time", lambda: float(NOW))
    if trusted:
        assert codec("secret").loads(value) == (b"payload", NOW + ahead)
    else:
        with pytest.raises(DigestError, match="expired"):
            codec("secret").loads(value)


#: A clock in 1970 signs a timestamp of 4 characters (3 bytes), so that a payload signs to a
#: value of any length; at NOW's 6 characters none is 4096 long.
EARLY = 10_000_000


def signed_of_length(length: int) -> tuple[bytes, str]:
    """A payload and the value ``codec("secret")`` signs for it, ``length`` characters long."""
    for size in range(length):
        payload = bytes(size)
        value = codec("secret").dumps(payload)
        if len(value) >= length:
            break
    assert len(value) == length
    return payload, value


@pytest.mark.parametrize(("length", "verifies"), [(4096, True), (4097, False)])
def test_a_value_longer_than_a_browser_keeps_is_refused_unread(
    monkeypatch: pytest.MonkeyPatch, length: int, verifies: bool
) -> None:
    """Browsers keep a cookie of up to 4096 bytes: a signed value of exactly that many
    characters verifies, and one character more is refused before any HMAC is computed,
    though it carries a good signature."""
    monkeypatch.setattr(time, "time", lambda: float(EARLY))
    payload, value = signed_of_length(length)
    if verifies:
        assert codec("secret").loads(value) == (payload, EARLY)
    else:
        with pytest.raises(
            DigestError, match=f"^cookie value of {length} characters is too long$"
        ):
            codec("secret").loads(value)


@pytest.mark.parametrize(
    ("max_age", "signed_at", "reason"),
    [
        (DAY, NOW - DAY - 1, f"Signature age {DAY + 1} > {DAY} seconds"),
        (1, NOW - 2, "Signature age 2 > 1 seconds"),
        (
            DAY,
            NOW + MAX_CLOCK_SKEW + 1,
            f"Signature age -{MAX_CLOCK_SKEW + 1} < -{MAX_CLOCK_SKEW} seconds",
        ),
    ],
)
def test_a_refusal_by_age_names_the_bound_passed(
    monkeypatch: pytest.MonkeyPatch, max_age: int, signed_at: int, reason: str
) -> None:
    """The error (logged when a cookie is ignored) says which bound the age passed: the
    lifetime for a value signed too long ago, even two seconds ago for the shortest
    lifetime, the clock skew for one signed in the future."""
    monkeypatch.setattr(time, "time", lambda: float(signed_at))
    value = codec("secret", max_age=max_age).dumps(b"payload")
    monkeypatch.setattr(time, "time", lambda: float(NOW))
    with pytest.raises(DigestError) as refused:
        codec("secret", max_age=max_age).loads(value)
    assert str(refused.value) == f"signature expired: {reason}"


@pytest.mark.parametrize(("text", "can_sign"), [("caf\u00e9", True), ("caf\udce9", False)])
def test_signable_answers_a_bool(text: str, can_sign: bool) -> None:
    """``signable`` is declared ``-> bool``: a lone surrogate (an undecodable byte of argv)
    is False itself, not merely falsy."""
    assert signable(text) is can_sign


def test_carries_signature_answers_a_bool() -> None:
    """``carries_signature`` is declared ``-> bool``, as ``signable`` is: a value with a
    character ASCII lacks, which no signature is made of, is False itself, not merely
    falsy, as one signed with another key is."""
    value = codec("secret").dumps(b"payload")
    assert codec("secret").carries_signature(value) is True
    assert codec("other").carries_signature(value) is False
    assert codec("secret").carries_signature(value + "\xe9") is False


def test_the_last_different_copies_are_counted_from_where_each_was_last_sent() -> None:
    """``copies_to_try`` says "the last MAX_COOKIE_COPIES different ones", but
    ``dict.fromkeys`` keeps each value where it was *first* sent: a copy of the client's own
    value planted at a longer path (sent first), then four junk ones, push the client's own
    (sent last) out of the tried ones, and ``open()`` records nothing, for good."""
    from firehose_digest.codec import MAX_COOKIE_COPIES, copies_to_try

    junk = [f"x{n}" for n in range(MAX_COOKIE_COPIES)]
    assert "own" in copies_to_try(["own", *junk, "own"])


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        (NOW - MAX_CLOCK_SKEW - 1, False),
        (NOW - MAX_CLOCK_SKEW, True),
        (NOW + DAY + 0.99, True),
        (NOW + DAY + 1, False),
    ],
)
def test_an_age_is_judged_at_the_instant_given_not_the_clock(now: float, valid: bool) -> None:
    """``loads(value, now)`` judges as the clock at ``now`` would (the CLI reads one
    instant for a whole report); the frozen clock alone would say valid every time."""
    value = codec("secret").dumps(b"payload")
    assert codec("secret").loads(value) == (b"payload", NOW)
    if valid:
        assert codec("secret").loads(value, now) == (b"payload", NOW)
    else:
        with pytest.raises(DigestError, match="expired"):
            codec("secret").loads(value, now)


@pytest.mark.parametrize(
    ("secret_key", "fallbacks", "keys"),
    [
        ("new", ["", "old", b"older", ""], ["old", b"older", "new"]),
        ("new", None, ["new"]),
        ("new", ("",), ["new"]),
        ("", ["old"], []),
        (None, ["old"], []),
        (b"", None, []),
    ],
)
def test_the_keys_in_force_leave_out_the_empty_ones_and_need_secret_key(
    secret_key: str | bytes | None, fallbacks: list[str | bytes] | None, keys: list[str]
) -> None:
    """One rule for the server and ``inspect``: an empty key is anyone's (HMAC takes it,
    and Flask's session verifies with it), and nothing verifies without the key that signs."""
    assert keys_in_force(secret_key, fallbacks) == keys
    if secret_key:  # SECRET_KEY, last, signs
        value = DigestCodec(keys, DEFAULT_SALT, DAY).dumps(b"payload")
        assert DigestCodec([secret_key], DEFAULT_SALT, DAY).loads(value).payload == b"payload"


@pytest.mark.parametrize("fallbacks", ["old", b"old", bytearray(b"old")])
def test_fallbacks_given_as_one_bare_key_are_refused(fallbacks: str | bytes) -> None:
    """``keys_in_force("new", "old")`` took each character of "old" as a key, so a value
    signed with "o" verified. (The server refuses a str SECRET_KEY_FALLBACKS at init_app.)"""
    with pytest.raises(TypeError, match=r"^SECRET_KEY_FALLBACKS: a list of keys, not one "):
        keys_in_force("new", fallbacks)  # type: ignore[arg-type]
