"""Hostile cookies and hostile settings: whatever arrives, the page is served, whole.

A digest cookie is attacker-controlled input parsed on every request. For any ``Cookie``
header a client can send, the page answers 200 with every ``Link``; nothing escapes and
nothing is logged at WARNING or above; a bad value costs about what a good one does; and a value is
trusted (its resources written ``nopush``) only if it verifies under the app's key and salt,
within ``max_age``, and holds a digest made with the app's settings. Hostile values never
enter the decoded-cookie cache.

The verdict "genuinely valid" comes from :func:`genuinely_held`, an oracle built on
itsdangerous' own ``TimestampSigner``, not on :class:`~firehose_digest.DigestCodec`.
The corpus is generated from ``FIREHOSE_FUZZ_SEED`` (fixed by default, so a failure
reproduces); hypothesis strategies explore beyond it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import BadData, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from itsdangerous.signer import HMACAlgorithm
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from firehose_digest import (
    AgingDigest,
    BloomDigest,
    DigestConnector,
    Firehose,
    GCSDigest,
    cookie_fields,
    push,
)
from firehose_digest.codec import (
    DEFAULT_SALT,
    MAX_CLOCK_SKEW,
    MAX_COOKIE_VALUE,
    DigestCodec,
    salt_for,
)
from firehose_digest.digests import MAX_CAPACITY
from tests.helpers import EXPECTED_FIRST, EXPECTED_RETURN, Work, work_of

COOKIE = "h2-digest"
SECRET = "hostile test secret"
SALT = salt_for("")
MAX_AGE = 30 * 24 * 3600
CAPACITY = 300
FP_RATE = 0.01
KINDS: dict[str, type[BloomDigest] | type[GCSDigest]] = {"gcs": GCSDigest, "bloom": BloomDigest}
ENCODINGS = sorted(KINDS)

#: The keys the page pushes, in the order of its links (conftest's EXPECTED_FIRST).
PAGE_KEYS = ("/static/site.css", "/static/app.js", "/static/inter.woff2")
PAGE_LINKS = tuple(EXPECTED_FIRST.split(", "))
#: A key that forged digests carry: it must never reach a cookie the server signs.
FORGED = "/forged/marker.css"

CORPUS_MINIMUM = 1500
#: What a hostile request may cost beyond four genuine visits (a rejected value is logged,
#: its exception kept, a fresh digest signed), per byte of its header: lines of the
#: package (a signed payload is decoded in at most a step per bit, and checked again as it
#: is read) and bytes held at once (Werkzeug keeps each cookie of the header as strings in
#: a dict, about a hundred bytes for each byte of a header of many short cookies). A
#: quadratic path on the corpus's 5 KB headers would run millions of lines; a buffer sized
#: from a forged field (an R of 2**24), megabytes.
LINES_PER_HEADER_BYTE = 8
PEAK_PER_HEADER_BYTE = 128
SEED = int(os.environ.get("FIREHOSE_FUZZ_SEED", "20260407"))

_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def page_app(encoding: str = "gcs", **config: Any) -> Flask:
    """``/`` pushes conftest's three resources, ``/push`` its ``u`` query args."""
    app = Flask("hostile")
    app.config["SECRET_KEY"] = SECRET
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        push("/static/site.css", as_="style")
        push("/static/app.js", as_="script")
        push("/static/inter.woff2", "crossorigin", as_="font", type="font/woff2")
        return "page"

    @app.route("/push")
    def push_urls() -> str:
        for url in request.args.getlist("u"):
            push(url, as_="style")
        return "ok"

    Firehose(app, connector=DigestConnector(encoding=encoding))
    return app


def expected_links(held: frozenset[str]) -> str:
    return ", ".join(
        f"{link}; nopush" if key in held else link
        for key, link in zip(PAGE_KEYS, PAGE_LINKS, strict=True)
    )


def value_read(header: str, kind: type[BloomDigest] | type[GCSDigest]) -> str | None:
    """Our cookie's value as the app reads it: of the values Werkzeug's ``request.cookies``
    reads for its name, the genuine one signed last (of equals, the one sent last), else
    the first."""
    environ = EnvironBuilder(headers=[("Cookie", header)]).get_environ()
    values = Request(environ).cookies.getlist(COOKIE)
    genuine = [value for value in values if genuinely_held(value, kind) is not None]
    if not genuine:
        return values[0] if values else None
    verifier = TimestampSigner(SECRET, salt=SALT, key_derivation="hmac")
    return max(
        reversed(genuine), key=lambda value: verifier.unsign(value, return_timestamp=True)[1]
    )


def genuinely_held(
    value: str | None, kind: type[BloomDigest] | type[GCSDigest]
) -> frozenset[str] | None:
    """The page keys a cookie value proves held, or None if it proves nothing.

    A value proves something only when it is one a browser can store (ASCII, at most 4 KB),
    verifies under SECRET with our salt, was signed at most MAX_AGE seconds ago and at most
    MAX_CLOCK_SKEW ahead (another server's clock), and holds an AgingDigest of the app's
    kind, capacity and false-positive rate.
    """
    if value is None or not value.isascii() or len(value) > MAX_COOKIE_VALUE:
        return None
    verifier = TimestampSigner(SECRET, salt=SALT, key_derivation="hmac")
    try:
        payload, signed = verifier.unsign(value, return_timestamp=True)
        age = int(time.time()) - int(signed.timestamp())
        digest = AgingDigest.from_bytes(base64_decode(payload))
    except Exception:  # however itsdangerous or the reader refuses it
        return None
    if not -MAX_CLOCK_SKEW <= age <= MAX_AGE:
        return None
    reference = AgingDigest(kind, CAPACITY, FP_RATE)
    if (
        digest.kind is not kind
        or digest.capacity != CAPACITY
        or not math.isclose(digest.fp_rate, reference.fp_rate)
    ):
        return None
    return frozenset(key for key in PAGE_KEYS if key in digest)


def set_cookie_value(response: TestResponse) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    return None


def digest_of(kind: type[BloomDigest] | type[GCSDigest], *keys: str) -> AgingDigest:
    digest = AgingDigest(kind, CAPACITY, FP_RATE)
    for key in keys:
        digest.add(key)
    return digest


def sign_at(
    payload: bytes,
    timestamp: int,
    key: str = SECRET,
    salt: str = SALT,
    digest_method: Any = hashlib.sha1,
    key_derivation: str = "hmac",
) -> str:
    """A TimestampSigner value for any timestamp, even one no ``int_to_bytes`` can hold."""
    stamp = timestamp.to_bytes(max(1, (timestamp.bit_length() + 7) // 8), "big")
    signer = Signer(key, salt=salt, key_derivation=key_derivation, digest_method=digest_method)
    return signer.sign(base64_encode(payload) + b"." + base64_encode(stamp)).decode("ascii")


# Hand-built encodings, any field value (masked to its width), any body.
def bloom_bytes(capacity: int, count: int, k: int, m: int, body: bytes) -> bytes:
    return (
        b"\x24" + (capacity & 0xFFFF).to_bytes(2, "big") + (count & 0xFFFF).to_bytes(2, "big")
        + bytes((k & 0xFF,)) + (m & 0xFFFFFF).to_bytes(3, "big") + body
    )  # fmt: skip


def gcs_bytes(capacity: int, r: int, n: int, body: bytes) -> bytes:
    return (
        b"\x21" + (capacity & 0xFFFF).to_bytes(2, "big") + (r & 0xFFFFFF).to_bytes(3, "big")
        + (n & 0xFFFF).to_bytes(2, "big") + body
    )  # fmt: skip


def aging_bytes(current: bytes, previous: bytes = b"", length: int | None = None) -> bytes:
    size = (len(current) if length is None else length) & 0xFFFF
    return b"\x23" + size.to_bytes(2, "big") + current + previous


class Hostile(NamedTuple):
    category: str
    header: str


class Corpus:
    """Hostile ``Cookie`` headers for one encoding, built from the app's own cookies."""

    def __init__(self, app: Flask, encoding: str, rng: random.Random) -> None:
        self.kind = KINDS[encoding]
        self.rng = rng
        self.codec = DigestCodec([SECRET], SALT, MAX_AGE)
        client = app.test_client()
        client.get("/")
        self.small = _jar_value(client)
        query = "&".join(f"u=/static/assets/r{i}.{i:010x}.css" for i in range(60))
        client.get(f"/push?{query}")
        #: A genuine cookie holding the page's keys and 60 others: what mutations start from.
        self.rich = _jar_value(client)
        self.forged = digest_of(self.kind, *PAGE_KEYS, FORGED).to_bytes()
        self.items: list[Hostile] = []

    def add(self, category: str, value: str) -> None:
        self.items.append(Hostile(category, f"{COOKIE}={value}"))

    def add_header(self, category: str, header: str) -> None:
        self.items.append(Hostile(category, header))

    def build(self) -> list[Hostile]:
        for make in (
            self.random_bytes,
            self.random_text,
            self.base64_shaped,
            self.bit_flips,
            self.char_edits,
            self.truncations,
            self.oversize,
            self.signed_garbage,
            self.extreme_parameters,
            self.foreign_settings,
            self.wrong_keys,
            self.timestamps,
            self.framing,
        ):
            make()
        return self.items

    def _length(self) -> int:
        rng = self.rng
        return rng.choice(
            (rng.randrange(16), rng.randrange(16, 128), rng.randrange(128, 1024),
             rng.randrange(3000, 5200))
        )  # fmt: skip

    def random_bytes(self) -> None:
        for _ in range(250):
            raw = self.rng.randbytes(self._length()).translate(None, b"\r\n")
            self.add("random bytes", raw.decode("latin-1"))

    def random_text(self) -> None:
        ranges = (
            (0x20, 0x7E),
            (0x80, 0xFF),
            (0x100, 0xD7FF),
            (0xD800, 0xDFFF),
            (0x10000, 0x10FFFF),
        )
        for _ in range(150):
            chars = []
            for _ in range(self.rng.randrange(1, 300)):
                low, high = self.rng.choice(ranges)
                chars.append(chr(self.rng.randint(low, high)))
            self.add("random text", "".join(chars).replace("\r", "").replace("\n", ""))

    def _b64(self, size: int) -> str:
        return "".join(self.rng.choice(_BASE64URL) for _ in range(size))

    def base64_shaped(self) -> None:
        payload, stamp, signature = self.rich.split(".")
        for _ in range(50):
            self.add("base64 shaped", f"{self._b64(len(payload))}.{stamp}.{signature}")
            self.add("base64 shaped", f"{payload}.{stamp}.{self._b64(len(signature))}")
            self.add("base64 shaped", ".".join(self._b64(self.rng.randrange(40)) for _ in "abc"))

    def bit_flips(self) -> None:
        value = self.rich
        for _ in range(200):
            at = self.rng.randrange(len(value))
            flipped = chr(ord(value[at]) ^ 1 << self.rng.randrange(7))
            if flipped not in "\r\n":
                self.add("bit flip", value[:at] + flipped + value[at + 1 :])
        payload, rest = value.split(".", 1)
        raw = bytearray(base64_decode(payload))
        for _ in range(60):
            at = self.rng.randrange(len(raw))
            raw[at] ^= 1 << self.rng.randrange(8)
            self.add("payload bit flip", f"{base64_encode(bytes(raw)).decode()}.{rest}")
            raw[at] ^= 1 << self.rng.randrange(8)

    def char_edits(self) -> None:
        value = self.rich
        for _ in range(40):
            at = self.rng.randrange(len(value))
            self.add("char edit", value[:at] + self.rng.choice(_BASE64URL + ".") + value[at + 1 :])
            self.add("char edit", value[:at] + value[at + 1 :])
            self.add("char edit", value[:at] + self.rng.choice(_BASE64URL + ".") + value[at:])
            self.add(
                "char edit", value[:at] + value[at + 1 : at + 2] + value[at] + value[at + 2 :]
            )
        self.add("char edit", value.replace(".", ".."))
        self.add("char edit", value.upper())
        self.add("char edit", value[::-1])

    def truncations(self) -> None:
        for value in (self.small, self.rich):
            for end in range(len(value)):
                if end < 40 or self.rng.random() < 0.25:
                    self.add("truncation", value[:end])
            for start in range(1, 30):
                self.add("truncation", value[start:])

    def oversize(self) -> None:
        rich = self.rich
        for size in (MAX_COOKIE_VALUE - 1, MAX_COOKIE_VALUE, MAX_COOKIE_VALUE + 1, 5000, 5120):
            self.add("oversize", "A" * size)
            self.add("oversize", (rich + "A" * size)[:size])
            self.add("oversize", ((rich + ".") * (size // len(rich) + 1))[:size])
            self.add("oversize", self._b64(size))
        payload, stamp, signature = rich.split(".")
        self.add("oversize", f"{payload}{'A' * 5000}.{stamp}.{signature}")
        self.add("oversize", f"{payload}.{stamp}.{signature}{'=' * 5000}")

    def signed_garbage(self) -> None:
        dumps = self.codec.dumps
        for _ in range(120):
            self.add("signed garbage", dumps(self.rng.randbytes(self.rng.randrange(2500))))
        self.add("signed garbage", dumps(b""))
        genuine = base64_decode(self.rich.split(".")[0])
        for _ in range(80):
            mutated = bytearray(genuine)
            for _ in range(self.rng.randrange(1, 4)):
                mutated[self.rng.randrange(len(mutated))] ^= 1 << self.rng.randrange(8)
            self.add("signed garbage", dumps(bytes(mutated)))
        for end in range(0, len(genuine), 7):
            self.add("signed garbage", dumps(genuine[:end]))
        self.add("signed garbage", dumps(genuine + b"\x00"))
        self.add("signed garbage", dumps(genuine + genuine))
        # A signed value whose payload is not base64, or has no timestamp at all.
        signer = Signer(SECRET, salt=SALT, key_derivation="hmac")
        for text in ("!!!!", "a", "%%%.AAAA", "EwA.", ".."):
            self.add("signed garbage", signer.sign(text).decode())
            self.add("signed garbage", signer.sign(f"{text}.awbz").decode())

    def extreme_parameters(self) -> None:
        """Hand-built headers signed with the app's key: the reader's checks alone stand."""
        dumps, rng = self.codec.dumps, self.rng
        edges16 = (0, 1, 2, 299, 300, 301, MAX_CAPACITY, MAX_CAPACITY + 1, 0xFFFF)
        edges24 = (0, 1, 2, 300, 301, 2883, 30000, 8 * 0xFFF6, 8 * 0xFFF6 + 1, 0xFFFFFF)
        generations: list[bytes] = []
        for _ in range(120):
            capacity, count, k, m = (
                rng.choice(edges16),
                rng.choice(edges16),
                rng.choice((0, 1, 7, 32, 33, 255)),
                rng.choice(edges24),
            )
            exact = (m + 7) // 8
            size = rng.choice(
                (0, 1, min(exact, 1500), min(exact, 1500) + 1, min(max(exact - 1, 0), 1500))
            )
            body = rng.choice((b"\xff", b"\x00")) * size
            generations.append(bloom_bytes(capacity, count, k, m, body))
        for _ in range(120):
            capacity, r, n = rng.choice(edges16), rng.choice(edges24), rng.choice(edges16)
            size = rng.choice((0, 1, 100, 1024, 1500))
            body = rng.choice((b"\x00" * size, b"\xff" * size, rng.randbytes(size)))
            generations.append(gcs_bytes(capacity, r, n, body))
        for generation in generations:
            self.add("extreme parameters", dumps(generation))
            self.add("extreme parameters", dumps(aging_bytes(generation)))
        # The largest GCS a cookie can carry: 8192 values in 1 KB, twice. Valid bytes,
        # decoded before its settings are refused: the most work a signed value can ask.
        dense = gcs_bytes(MAX_CAPACITY, MAX_CAPACITY + 1, MAX_CAPACITY, bytes(1024))
        self.add("extreme parameters", dumps(aging_bytes(dense, dense)))
        saturated = bloom_bytes(MAX_CAPACITY, MAX_CAPACITY, 32, 8 * 1500, b"\xff" * 1500)
        self.add("extreme parameters", dumps(aging_bytes(saturated, saturated)))
        current = digest_of(self.kind, *PAGE_KEYS).current.to_bytes()
        other_kind = digest_of(
            GCSDigest if self.kind is BloomDigest else BloomDigest, *PAGE_KEYS
        ).current.to_bytes()
        other_size = AgingDigest(self.kind, CAPACITY - 1, FP_RATE)
        other_size.add(PAGE_KEYS[0])
        empty = AgingDigest(self.kind, CAPACITY, FP_RATE).current.to_bytes()
        for payload in (
            aging_bytes(current, other_kind),  # generations of two kinds
            aging_bytes(current, other_size.current.to_bytes()),  # of two parameter sets
            aging_bytes(current, empty),  # an empty previous generation, not omitted
            aging_bytes(current, current + b"\x00"),  # trailing garbage
            aging_bytes(current, current[:-1]),
            aging_bytes(aging_bytes(current)),  # nested
            aging_bytes(b""),
            aging_bytes(current, length=0),
            aging_bytes(current, length=0xFFFF),
            aging_bytes(current, length=len(current) + 1),
            aging_bytes(current, length=len(current) - 1),
            current,  # a bare generation, not an AgingDigest
            *(bytes((tag,)) + current[1:] for tag in (0x00, 0x01, 0x03, 0x11, 0x13, 0x24, 0xF3)),
        ):
            self.add("extreme parameters", dumps(payload))

    def foreign_settings(self) -> None:
        """Genuine digests holding the page's keys, signed by us, made with other settings."""
        other = GCSDigest if self.kind is BloomDigest else BloomDigest
        for kind, capacity, fp_rate in (
            (other, CAPACITY, FP_RATE),
            (self.kind, CAPACITY - 1, FP_RATE),
            (self.kind, CAPACITY + 1, FP_RATE),
            (self.kind, CAPACITY, FP_RATE * 2),
            (self.kind, CAPACITY, FP_RATE / 2),
            (self.kind, 1, 0.5),
            (self.kind, MAX_CAPACITY, 0.5),
        ):
            digest = AgingDigest(kind, capacity, fp_rate)
            generation = kind(capacity, fp_rate)  # and a bare generation of the same
            for key in (*PAGE_KEYS, FORGED):
                digest.add(key)
                with suppress(OverflowError):
                    generation.add(key)
            self.add("foreign settings", self.codec.dumps(digest.to_bytes()))
            self.add("foreign settings", self.codec.dumps(generation.to_bytes()))

    def wrong_keys(self) -> None:
        """The page's keys in a digest of the right settings, signed any way but ours."""
        now = int(time.time())
        forged = self.forged
        for key in ("", "x", SECRET + " ", SECRET.upper(), SECRET[:-1], "test secret",
                    self.rng.randbytes(16).hex()):  # fmt: skip
            self.add("wrong key", sign_at(forged, now, key=key))
            self.add("wrong key", DigestCodec([key or "-"], SALT, MAX_AGE).dumps(forged))
        for salt in (DEFAULT_SALT + ":v2", "cookie-session", "", "itsdangerous", SALT + " "):
            self.add("wrong salt", sign_at(forged, now, salt=salt))
        for derivation in ("concat", "django-concat", "none"):
            self.add("wrong derivation", sign_at(forged, now, key_derivation=derivation))
        self.add("wrong digest", sign_at(forged, now, digest_method=hashlib.sha256))
        self.add("wrong digest", sign_at(forged, now, digest_method=hashlib.md5))
        # The client's own Flask session cookie, same SECRET_KEY, moved into ours.
        session = URLSafeTimedSerializer(SECRET, salt="cookie-session").dumps({"h2": "x"})
        self.add("wrong salt", session)
        for _ in range(30):
            key = self.rng.randbytes(self.rng.randrange(1, 40)).hex()
            self.add("wrong key", sign_at(forged, now - self.rng.randrange(MAX_AGE), key=key))

    def timestamps(self) -> None:
        """The page's keys, signed with our key, at times outside [now - max_age, now]."""
        now = int(time.time())
        for stamp in (
            0, 1, now - MAX_AGE - 2, now - MAX_AGE - 86_400, now + 3600, now + 86_400,
            10**11, 10**12, 2**40, 2**62, 2**63 - 1, 2**64 - 1, 2**64, 2**80, 2**400,
        ):  # fmt: skip
            self.add("timestamp", sign_at(self.forged, stamp))
        for _ in range(20):
            self.add("timestamp", sign_at(self.forged, self.rng.randrange(now - MAX_AGE - 1)))
            self.add("timestamp", sign_at(self.forged, now + self.rng.randrange(600, 2**48)))

    def framing(self) -> None:
        """Where the value sits in the header: only the first ``h2-digest`` counts."""
        rich = self.rich
        for garbage in ("", "x", "garbage", rich[:-1], '"' + rich + '"', rich + "\\"):
            self.add_header("framing", f"{COOKIE}={garbage}; {COOKIE}={rich}")
        self.add_header("framing", f"x{COOKIE}={rich}")
        self.add_header("framing", f"{COOKIE}x={rich}")
        self.add_header("framing", f"{COOKIE} ={rich}")
        self.add_header("framing", COOKIE)
        self.add_header("framing", "; ".join(f"c{i}={i}" for i in range(400)) + f"; {COOKIE}=x")
        self.add_header("framing", f"{COOKIE}=" * 500)
        self.add_header("framing", f"x{COOKIE}=" * 500 + rich)
        self.add_header("framing", ";" * 5000)


def _jar_value(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


@contextmanager
def records_at_or_above(level: int) -> Iterator[list[logging.LogRecord]]:
    """Every log record of ``level`` or more, from any logger, while the block runs."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


def get_with_work(client: FlaskClient, header: str) -> tuple[TestResponse, Work]:
    return work_of(lambda: client.get("/", headers={"Cookie": header}))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_hostile_corpus_is_served_in_full_cheaply_and_never_trusted(
    encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every hostile header is served the page, trusted for nothing, and costs at most a
    bounded multiple of a genuine visit's plus a few lines and bytes per byte of the header:
    counted (:func:`~tests.helpers.work_of`), not timed, so a loaded machine cannot fail it
    and a quadratic loop of Python lines cannot pass it. Work inside one C call (a regular
    expression, ``str.count``) is not counted: ``make bench`` times the same corpus
    (``bench/hostile.py``)."""
    kind = KINDS[encoding]
    app = page_app(encoding)
    builder = Corpus(app, encoding, random.Random(SEED))
    corpus = builder.build()
    client = app.test_client(use_cookies=False)
    state = app.extensions["firehose"].connector._state(app)
    fresh_payload = digest_of(kind, *PAGE_KEYS).to_bytes()

    # A genuine cookie must be honoured, or "never nopush" below would prove nothing.
    genuine = builder.small
    baseline = []
    issued: set[str] = set()  # what the server signs, and so may keep decoded
    for header in (f"{COOKIE}={genuine}", "") * 100:
        response, work = get_with_work(client, header)
        assert response.headers["Link"] == (EXPECTED_RETURN if header else EXPECTED_FIRST)
        baseline.append(work)
        issued.add(set_cookie_value(response) or genuine)
    # The last visits of each kind: the first ones also fill the process's own caches.
    lines = max(work.lines for work in baseline[-2:])
    peak = max(work.peak for work in baseline[-2:])

    caplog.set_level(logging.DEBUG)
    genuine_values = {builder.small, builder.rich}  # signed by the app, so cached
    hostile_values: set[str] = set()
    hostile_work = []
    for category, header in corpus:
        value = value_read(header, kind)
        held = genuinely_held(value, kind)
        response, work = get_with_work(client, header)
        resent = None
        if work.peak > 4 * peak + PEAK_PER_HEADER_BYTE * len(header):
            # Sent again: what the process allocates once for a path (a regular expression
            # compiled, a codec looked up, a logger's first record) is on the first only.
            resent = set_cookie_value(response)
            response, work = get_with_work(client, header)
        where = f"{category}: {header[:120]!r}... ({len(header)} chars)"
        assert response.status_code == 200, where
        assert response.headers["Link"] == expected_links(held or frozenset()), where
        new_value = set_cookie_value(response)
        if held is None:
            hostile_work.append(work)
            assert work.lines <= 4 * lines + LINES_PER_HEADER_BYTE * len(header), (where, work)
            assert work.peak <= 4 * peak + PEAK_PER_HEADER_BYTE * len(header), (where, work)
            if value is not None:
                hostile_values.add(value)
            # Nothing of the hostile value is carried over: the server signs a fresh digest
            # of exactly the page's keys.
            assert new_value is not None, where
            if new_value not in issued:
                assert genuinely_held(new_value, kind) == frozenset(PAGE_KEYS), where
                assert base64_decode(new_value.split(".")[0]) == fresh_payload, where
        else:
            genuine_values.add(value or "")
        # The first answer to a header sent again is signed too, so may be kept decoded.
        issued.update(filter(None, (new_value, resent)))

    print(
        f"\n{encoding}: {len(hostile_work)} hostile of {len(corpus)} values (seed {SEED}); "
        f"most work {max(w.lines for w in hostile_work)} lines, "
        f"{max(w.peak for w in hostile_work)} bytes held at once; a genuine visit "
        f"{lines} lines, {peak} bytes"
    )
    assert len(hostile_work) >= CORPUS_MINIMUM
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]
    assert any(r.name == "firehose_digest" for r in caplog.records), "rejections log at debug"
    cached = set(state._decoded)
    assert not cached & hostile_values
    assert cached <= issued | genuine_values


def test_hostile_values_do_not_grow_the_decoded_cache() -> None:
    """Only verified values, or values we signed ourselves, are cached."""
    app = page_app()
    client = app.test_client(use_cookies=False)
    state = app.extensions["firehose"].connector._state(app)
    codec = DigestCodec([SECRET], SALT, MAX_AGE)
    rng = random.Random(SEED)
    forged = digest_of(GCSDigest, *PAGE_KEYS).to_bytes()
    issued = set()
    start = time.monotonic()
    for i in range(1500):
        value = (
            sign_at(forged, int(time.time()), key=f"other key {i}")
            if i % 3 == 0
            else codec.dumps(rng.randbytes(40))
            if i % 3 == 1
            else rng.randbytes(60).hex()
        )
        response = client.get("/", headers={"Cookie": f"{COOKIE}={value}"})
        assert response.headers["Link"] == EXPECTED_FIRST
        issued.add(set_cookie_value(response))
    # The same fresh digest each time: one new value per second of signing, no more.
    assert set(state._decoded) == issued
    assert len(issued) <= time.monotonic() - start + 2


@pytest.mark.parametrize("fallbacks", [[], ["older", "old"]], ids=["one key", "fallbacks"])
def test_a_hostile_value_costs_one_hmac_per_signing_key_and_none_past_4096(
    fallbacks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/security.md, "Cost of a hostile cookie": a value over 4096 characters is
    refused before any HMAC; up to that, one that does not verify costs one HMAC per
    signing key (``SECRET_KEY`` and each of ``SECRET_KEY_FALLBACKS``), no more."""
    hashed: list[bytes] = []
    get_signature = HMACAlgorithm.get_signature

    def counting(algorithm: HMACAlgorithm, key: bytes, value: bytes) -> bytes:
        hashed.append(value)
        return get_signature(algorithm, key, value)

    monkeypatch.setattr(HMACAlgorithm, "get_signature", counting)
    client = page_app(SECRET_KEY_FALLBACKS=fallbacks).test_client(use_cookies=False)
    timestamp, signature = "AAAAAA", "B" * 27  # as itsdangerous writes them
    for size, hmacs in [(MAX_COOKIE_VALUE, 1 + len(fallbacks)), (MAX_COOKIE_VALUE + 1, 0)]:
        payload = "A" * (size - len(f"..{timestamp}{signature}"))
        signed = f"{payload}.{timestamp}"  # what the HMAC is over
        value = f"{signed}.{signature}"
        assert len(value) == size
        hashed.clear()
        response = client.get("/", headers={"Cookie": f"{COOKIE}={value}"})
        assert response.headers["Link"] == EXPECTED_FIRST
        assert hashed.count(signed.encode()) == hmacs, size


# --- hypothesis: beyond the corpus -------------------------------------------------------

_APPS: dict[str, Flask] = {}


def shared_client(encoding: str) -> FlaskClient:
    if encoding not in _APPS:
        _APPS[encoding] = page_app(encoding)
    return _APPS[encoding].test_client(use_cookies=False)


def check_served(encoding: str, header: str) -> None:
    """200, every link, ``nopush`` only for what a genuine digest holds, nothing logged.

    The oracle is asked before and after the request: a value at the edge of max_age may
    expire in between.
    """
    kind = KINDS[encoding]
    value = value_read(header, kind)
    before = genuinely_held(value, kind) or frozenset()
    with records_at_or_above(logging.WARNING) as loud:
        response = shared_client(encoding).get("/", headers={"Cookie": header})
    after = genuinely_held(value, kind) or frozenset()
    assert response.status_code == 200
    assert response.headers["Link"] in {expected_links(before), expected_links(after)}
    assert [r.getMessage() for r in loud] == []


fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_text = st.text(st.characters(exclude_characters="\r\n"), max_size=400)
u16 = st.one_of(
    st.sampled_from([0, 1, 300, MAX_CAPACITY, MAX_CAPACITY + 1, 0xFFFF]), st.integers(0, 0xFFFF)
)
u24 = st.one_of(
    st.sampled_from([0, 1, 300, 30000, 8 * 0xFFF6, 0xFFFFFF]), st.integers(0, 0xFFFFFF)
)
bodies = st.one_of(st.binary(max_size=1500), st.builds(bytes, st.integers(0, 1500)))
generations = st.one_of(
    st.builds(bloom_bytes, u16, u16, st.integers(0, 255), u24, bodies),
    st.builds(gcs_bytes, u16, u24, u16, bodies),
)
payloads = st.one_of(
    generations,
    st.builds(aging_bytes, generations, st.one_of(st.just(b""), generations)),
    st.builds(aging_bytes, generations, st.just(b""), u16),
)


@pytest.mark.parametrize("encoding", ENCODINGS)
@fuzz
@given(text=header_text)
def test_any_text_in_the_cookie(encoding: str, text: str) -> None:
    check_served(encoding, f"{COOKIE}={text}")
    check_served(encoding, text)


@pytest.mark.parametrize("encoding", ENCODINGS)
@fuzz
@given(payload=st.one_of(st.binary(max_size=2500), payloads))
def test_any_payload_signed_with_our_key(encoding: str, payload: bytes) -> None:
    check_served(encoding, f"{COOKIE}={DigestCodec([SECRET], SALT, MAX_AGE).dumps(payload)}")


@pytest.mark.parametrize("encoding", ENCODINGS)
@fuzz
@given(data=st.data())
def test_any_bit_flip_of_a_genuine_digest(encoding: str, data: st.DataObject) -> None:
    genuine = bytearray(digest_of(KINDS[encoding], *PAGE_KEYS, FORGED).to_bytes())
    for at in data.draw(st.lists(st.integers(0, 8 * len(genuine) - 1), min_size=1, max_size=4)):
        genuine[at // 8] ^= 0x80 >> at % 8
    check_served(
        encoding, f"{COOKIE}={DigestCodec([SECRET], SALT, MAX_AGE).dumps(bytes(genuine))}"
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
@fuzz
@given(
    age=st.one_of(
        st.integers(-(2**80), 2**80),
        st.integers(-5, MAX_AGE + 5),
        st.integers(-MAX_CLOCK_SKEW - 5, 5),
        st.sampled_from([-MAX_CLOCK_SKEW - 2, -MAX_CLOCK_SKEW - 1, -MAX_CLOCK_SKEW]),
        st.sampled_from([-MAX_CLOCK_SKEW + 1, -1, 0, 1, MAX_AGE - 1, MAX_AGE, MAX_AGE + 1]),
        st.just(MAX_AGE + 2),
    )
)
def test_any_signing_time(encoding: str, age: int) -> None:
    """Trusted only when signed from MAX_CLOCK_SKEW seconds ahead (another server's clock)
    to max_age seconds ago, give or take the clock's tick."""
    value = sign_at(
        digest_of(KINDS[encoding], *PAGE_KEYS).to_bytes(), max(0, int(time.time()) - age)
    )
    held = genuinely_held(value, KINDS[encoding])
    if age <= -MAX_CLOCK_SKEW - 2 or age >= MAX_AGE + 2:
        assert held is None
    elif -MAX_CLOCK_SKEW + 1 <= age <= MAX_AGE - 1:
        assert held == frozenset(PAGE_KEYS)
    check_served(encoding, f"{COOKIE}={value}")


def rejected_values() -> dict[str, str]:
    """One value of each kind docs/security.md names as read as an empty digest."""
    now = int(time.time())
    genuine = sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), now)
    # The signature's first character: each of its 6 bits is the HMAC's. (Its last
    # character carries 4, the rest padding that base64 decoding drops: 'A' for a 'B'
    # there is the same signature, and was 1 run in 16.)
    signed, signature = genuine.rsplit(".", 1)
    tampered = f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    return {
        "tampered": tampered,
        "truncated": genuine[: len(genuine) // 2],
        "expired": sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), now - MAX_AGE - 10),
        "another key": sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), now, key="other"),
        "another salt": sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), now, salt="x"),
        "over 4096 characters": genuine + "A" * (MAX_COOKIE_VALUE + 1 - len(genuine)),
        "not a digest": sign_at(b"not a digest", now),
        "other parameters": sign_at(digest_of(BloomDigest, *PAGE_KEYS).to_bytes(), now),
        "version 1": sign_at(bytes.fromhex("130009110004000010000170"), now),
    }


@pytest.mark.parametrize("kind", sorted(rejected_values()))
def test_a_rejected_value_logs_one_debug_line_and_a_fresh_digest_is_signed(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/security.md: such a value "is an empty digest: every resource is pushed, one
    DEBUG line is logged on the firehose_digest logger, nothing is raised, and a fresh
    digest of exactly what was pushed is signed"."""
    value = rejected_values()[kind]
    caplog.set_level(logging.DEBUG, logger="firehose_digest")
    client = page_app().test_client(use_cookies=False)
    response = client.get("/", headers={"Cookie": f"{COOKIE}={value}"})
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_FIRST
    ours = [(r.name, r.levelno) for r in caplog.records if r.name.startswith("firehose_digest")]
    assert ours == [("firehose_digest", logging.DEBUG)], [r.getMessage() for r in caplog.records]
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert genuinely_held(set_cookie_value(response), GCSDigest) == frozenset(PAGE_KEYS)


@pytest.mark.parametrize("copies", [1, 2], ids=["one cookie", "two copies"])
def test_an_expired_value_the_worker_decoded_while_valid_logs_one_debug_line(
    copies: int, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value the worker verified while it was valid is kept decoded: sent again once it
    expired, it is an empty digest as any expired value is, and says so in one DEBUG line
    too (the debug log is where to look for why a returning client was pushed everything).
    """
    value = sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), int(time.time()))
    cookie = "; ".join([f"{COOKIE}={value}"] * copies)
    client = page_app().test_client(use_cookies=False)
    held = client.get("/", headers={"Cookie": cookie})
    assert held.headers["Link"] != EXPECTED_FIRST  # decoded, and held: nopush
    later = time.time() + MAX_AGE + 10
    monkeypatch.setattr(time, "time", lambda: later)
    caplog.set_level(logging.DEBUG, logger="firehose_digest")
    response = client.get("/", headers={"Cookie": cookie})
    assert response.headers["Link"] == EXPECTED_FIRST
    ours = [(r.name, r.levelno) for r in caplog.records if r.name.startswith("firehose_digest")]
    assert ours == [("firehose_digest", logging.DEBUG)], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    "timestamp", [10**12, 2**62, 2**64 - 1], ids=["year-33658", "2^62", "2^64-1"]
)
def test_a_genuine_signature_from_the_far_future_is_ignored_quietly(timestamp: int) -> None:
    """Only a key holder can make one; itsdangerous 2.2 then raises, formatting its date
    for SignatureExpired, a ValueError, OverflowError or OSError that is not BadData."""
    value = sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), timestamp)
    with pytest.raises((ValueError, OverflowError, OSError)) as raised:
        TimestampSigner(SECRET, salt=SALT, key_derivation="hmac").unsign(value, max_age=MAX_AGE)
    assert not isinstance(raised.value, BadData)
    app = page_app()
    with records_at_or_above(logging.WARNING) as loud:
        response = app.test_client(use_cookies=False).get(
            "/", headers={"Cookie": f"{COOKIE}={value}"}
        )
    assert response.headers["Link"] == EXPECTED_FIRST
    assert [r.getMessage() for r in loud] == []
    assert set_cookie_value(response) is not None, "tracking goes on with a fresh digest"


# --- without SECRET_KEY ------------------------------------------------------------------
# tests/test_extension.py checks 200, every link and one warning naming SECRET_KEY; here:
# an empty key too, no cookie written, a cookie from a keyed deployment not trusted,
# the warning's level and logger, and no error.


@pytest.mark.parametrize("missing", [None, ""], ids=["None", "empty"])
def test_without_secret_key_nothing_is_tracked_or_trusted(missing: str | None) -> None:
    keyed = page_app().test_client()
    keyed.get("/")
    held_elsewhere = _jar_value(keyed)
    app = page_app(SECRET_KEY=missing)
    client = app.test_client(use_cookies=False)
    with records_at_or_above(logging.DEBUG) as records:
        for header in ("", f"{COOKIE}={held_elsewhere}", f"{COOKIE}=garbage") * 2:
            response = client.get("/", headers={"Cookie": header})
            assert response.status_code == 200
            assert response.headers["Link"] == EXPECTED_RETURN  # nothing offered for push
            assert "Set-Cookie" not in response.headers
    loud = [r for r in records if r.levelno >= logging.WARNING]
    assert [(r.levelno, r.name) for r in loud] == [(logging.WARNING, app.logger.name)]
    assert "SECRET_KEY" in loud[0].getMessage()


def test_an_empty_fallback_key_is_ignored_not_an_error_per_request() -> None:
    """SECRET_KEY_FALLBACKS = [""]: anyone can sign with an empty key, so it must verify
    nothing; and it must not make every request log an error and lose tracking."""
    app = page_app(SECRET_KEY_FALLBACKS=[""])
    client = app.test_client()
    with records_at_or_above(logging.ERROR) as errors:
        assert client.get("/").headers["Link"] == EXPECTED_FIRST
        assert client.get("/").headers["Link"] == EXPECTED_RETURN
        forged = sign_at(digest_of(GCSDigest, *PAGE_KEYS).to_bytes(), int(time.time()), key="")
        anonymous = app.test_client(use_cookies=False)
        assert (
            anonymous.get("/", headers={"Cookie": f"{COOKIE}={forged}"}).headers["Link"]
            == EXPECTED_FIRST
        )
    assert [r.getMessage() for r in errors] == []


# --- bad configuration -------------------------------------------------------------------
# tests/test_extension.py and test_digest_connector.py cover capacity 0, fp_rate 0 and 1,
# an unknown encoding, a capacity too big for 4 KB, and a connector without the protocol.


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("FIREHOSE_FP_RATE", "0.01"),
        ("FIREHOSE_FP_RATE", math.nan),
        ("FIREHOSE_FP_RATE", math.inf),
        ("FIREHOSE_FP_RATE", -0.0),
        ("FIREHOSE_FP_RATE", True),
        ("FIREHOSE_FP_RATE", 1.5),
        ("FIREHOSE_FP_RATE", 1e-300),
        ("FIREHOSE_FP_RATE", None),
        ("FIREHOSE_CAPACITY", 300.0),
        ("FIREHOSE_CAPACITY", True),
        ("FIREHOSE_CAPACITY", -1),
        ("FIREHOSE_CAPACITY", MAX_CAPACITY + 1),
        ("FIREHOSE_CAPACITY", None),
        ("FIREHOSE_ENCODING", "GCS"),
        ("FIREHOSE_ENCODING", None),
        ("FIREHOSE_MAX_AGE", 3600.0),
        ("FIREHOSE_MAX_AGE", "3600"),
        ("FIREHOSE_COOKIE_NAME", None),
        ("FIREHOSE_COOKIE_NAME", "h2-dígest"),
    ],
)
def test_bad_setting_fails_at_init_app_naming_its_key(key: str, value: object) -> None:
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ValueError, match=key):
        Firehose(app)


@pytest.mark.parametrize("name", ["h2 digest", "h2;digest", "h2=digest", "h2-digest\x00", "h2,d"])
def test_cookie_name_that_is_not_a_token_fails_at_init_app(name: str) -> None:
    app = Flask(__name__)
    app.config["FIREHOSE_COOKIE_NAME"] = name
    with pytest.raises(ValueError, match="FIREHOSE_COOKIE_NAME"):
        Firehose(app)


@pytest.mark.parametrize(
    "domain",
    [
        "example.test\r",
        "example.test\x0b",
        "exa\x00mple.test",
        "exa\tmple.test",  # a header may hold a tab; no domain does
        "exa\x1fmple.test",  # the last C0 control
        "exa\x7fmple.test",  # DEL
        "example.test;x",
        "a\uff1bb",
    ],
)
def test_a_cookie_domain_that_breaks_the_set_cookie_line_fails_at_init_app(domain: str) -> None:
    """Werkzeug writes a Domain as IDNA makes it, controls and ";" included (a fullwidth
    ";" too, which IDNA maps to ";"): init_app took them, then every digest cookie failed
    to be written ("\r", from an env file with CRLF lines: nothing recorded, a traceback a
    request), or was a header gunicorn refuses (a 500), or scoped to another domain."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", SESSION_COOKIE_DOMAIN=domain)
    with pytest.raises(ValueError, match="SESSION_COOKIE_DOMAIN"):
        Firehose(app)


@pytest.mark.parametrize("max_age", [10**12, 10**20])
def test_max_age_beyond_any_date_fails_at_init_app_naming_it(max_age: int) -> None:
    app = Flask(__name__)
    app.config["FIREHOSE_MAX_AGE"] = max_age
    with pytest.raises(ValueError, match="FIREHOSE_MAX_AGE"):
        Firehose(app)


class NotCallableGetPushed:
    get_pushed = frozenset({"/a.css"})

    def set_pushed(self, items: object) -> None: ...


class NoSetPushed:
    def get_pushed(self) -> frozenset[str]:
        return frozenset()


class NotCallableSetPushed:
    set_pushed = None

    def get_pushed(self) -> frozenset[str]:
        return frozenset()


@pytest.mark.parametrize(
    ("connector", "method"),
    [
        (NotCallableGetPushed(), "get_pushed"),
        (NoSetPushed(), "set_pushed"),
        (NotCallableSetPushed(), "set_pushed"),
        ("DigestConnector", "get_pushed"),
    ],
)
def test_connector_whose_methods_are_not_callable_fails_at_init_app(
    connector: object, method: str
) -> None:
    with pytest.raises(ValueError, match=method):
        Firehose(Flask(__name__), connector=connector)


def test_connector_class_given_for_an_instance_fails_at_init_app() -> None:
    """``connector=DigestConnector`` (the class) fails at startup, not on a request, and
    says what to pass."""
    with pytest.raises(ValueError, match=r"pass an instance, connector=DigestConnector\(\)"):
        Firehose(Flask(__name__), connector=DigestConnector)


def test_an_http2_cookie_of_escaped_quotes_is_served_its_page() -> None:
    """Over HTTP/2 a ``Cookie`` holding a "," is scanned for the fields an ASGI wrapper
    joined with "," (``cookie_fields.rejoined``). A value's quote never closed, then escaped
    quotes (``b="\\"\\"...``), made that scan start again at each of them: 8,000 characters
    (gunicorn's HTTP/2 takes a field of up to 8 KB) cost 0.28 s of CPU a request
    in-process, a thousand times a random cookie of the same length, and 0.33 s to 0.40 s
    a request against gunicorn ``--http-protocols h2`` (12 ms for an ordinary 8 KB one).
    That work is a regular expression's, inside one line, so no count sees it:
    ``bench/hostile.py`` times this cookie (``make bench``); here it is served, and
    :func:`test_an_unclosed_quote_is_given_up_at_the_end_in_one_match` holds the rule that
    keeps the scan linear."""
    app = page_app()
    client = app.test_client(use_cookies=False)
    response = client.get(
        "/",
        headers={"Cookie": 'theme=1,b="' + '\\"' * 4000},
        environ_overrides={"SERVER_PROTOCOL": "HTTP/2"},
    )
    assert response.status_code == 200
    assert response.headers["Link"] == EXPECTED_FIRST


def test_an_unclosed_quote_is_given_up_at_the_end_in_one_match() -> None:
    """What keeps ``cookie_fields.rejoined`` linear: a field's quoted value, tried once,
    fails at its next unescaped quote (here none: the end), and the field is read again
    unquoted from its start, to its separator. A scan that tried a quoted string again
    from each later quote made a pass over the rest each time (0.28 s a request for
    8,000 characters of ``\\"``); ``bench/hostile.py`` times that."""
    cookie = 'a=1,b="' + '\\"' * 4000 + ",c=2"
    field = cookie_fields._FIELD_SCAN.match(cookie, len("a=1,"))
    assert field is not None
    assert (field.group(), field.group("end")) == ('b="' + '\\"' * 4000 + ",", ",")
    assert cookie_fields.rejoined(cookie) == 'a=1; b="' + '\\"' * 4000 + "; c=2"
