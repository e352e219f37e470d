"""Tuning tools: ``firehose-digest plan`` and ``firehose-digest inspect``.

``plan`` fills a digest of each encoding to capacity and prints what a configuration costs:
bits per entry, the signed cookie, the information limit, and the false-positive rate
measured on fresh keys. ``inspect`` verifies a cookie with the app's secret key, says what
it holds and, with ``--url``, whether it holds a url. See docs/cli.md.

Exit status: 0 done (``inspect``: the cookie is a valid digest), 1 the cookie is not a
valid digest, 2 usage error or output not written, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import itertools
import json
import math
import os
import re
import secrets
import shlex
import string
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import parse_qs, urlsplit

from itsdangerous import BadData, SignatureExpired
from itsdangerous.encoding import base64_decode, bytes_to_int

from . import __version__
from .codec import (
    DEFAULT_SALT,
    MAX_COOKIE_VALUE,
    DigestCodec,
    copies_to_try,
    keys_in_force,
    newest_first,
    renewal_at,
    salt_for,
    scoped_salt,
    signable,
)
from .collect import resource_key
from .digests import MAX_CAPACITY, AgingDigest, DigestError, load_digest
from .links import format_url, is_token, pushed_as_requested
from .pasted import AskedScope, SetCookie, cut_jar_line, read_pasted
from .settings import (
    DEFAULTS,
    ENCODINGS,
    MAX_COOKIE_AGE,
    domain_breaks_attribute,
    domain_cut_short,
    largest_capacity,
)

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["build_parser", "inspect", "main", "plan"]

PROG = "firehose-digest"
DEFAULT_CAPACITY: int = DEFAULTS["FIREHOSE_CAPACITY"]
DEFAULT_FP_RATE: float = DEFAULTS["FIREHOSE_FP_RATE"]
DEFAULT_COOKIE_NAME: str = DEFAULTS["FIREHOSE_COOKIE_NAME"]
DEFAULT_MAX_AGE: int = DEFAULTS["FIREHOSE_MAX_AGE"]
DEFAULT_PROBES = 100_000
#: About a minute of lookups for the two encodings: more adds digits to the measured
#: rate, not insight.
MAX_PROBES = 10_000_000

EXIT_VALID = 0
EXIT_NOT_VALID = 1
#: argparse's status for a usage error; ours too when the output could not be written.
EXIT_TROUBLE = 2
#: A shell's status for a command SIGINT (Ctrl-C) stopped: 128 + 2.
EXIT_INTERRUPTED = 130

NO_SECRET_KEY = "no secret key given: pass --secret-key or set FLASK_SECRET_KEY"
#: What the server does with a value that does not verify, said after the verdict.
IGNORED = "the server ignores this cookie: to it, every url is new"
#: ... when no key was given: that is for the server's own key to say.
KEY_NOT_GIVEN = "the server reads it only if it verifies with the app's SECRET_KEY"
#: ... when it is one of more copies than the server tries, none of which verifies: it
#: reads none, as one not tried may be the client's (``DigestConnector.open()``), and a
#: request it reads no digest for pushes nothing.
NONE_READ = (
    "the server reads none of these copies: it pushes nothing (every link nopush), and "
    "records nothing"
)


def plan(capacity: int, fp_rate: float, probes: int) -> list[str]:
    """Measure each encoding at ``capacity`` keys and ``fp_rate``.

    Deterministic: the keys are fixed and hashed with a fixed seed, and a signature's
    length does not depend on its key. An encoding that cannot be built with these
    parameters gets a row saying why; if neither can, :class:`ValueError` names both
    reasons.
    """
    digests = {}
    refused: dict[str, Exception] = {}
    for name, kind in ENCODINGS.items():
        try:
            digests[name] = (
                AgingDigest(kind, capacity, fp_rate),
                AgingDigest(kind, capacity, fp_rate),
            )
        except (ValueError, ArithmeticError) as e:  # a GCS range past 24 bits, say
            refused[name] = e
    if not digests:
        raise ValueError("; ".join(f"{name}: {e}" for name, e in refused.items()))
    limit_bits = -math.log2(fp_rate)
    out = [
        f"capacity {capacity}, target false-positive rate {fp_rate!r}: information limit "
        f"{limit_bits:.2f} bits/entry = {math.ceil(capacity * limit_bits / 8)} bytes",
        f"{'encoding':9}{'bits/entry':>11}{'digest B':>10}{'cookie B':>10}{'x limit':>9}"
        f"{'2-gen cookie B':>16}{'measured FPR':>14}",
    ]
    codec = DigestCodec([secrets.token_bytes(16)], DEFAULT_SALT, DEFAULT_MAX_AGE)
    for name in ENCODINGS:
        if name in refused:
            out.append(f"{name:9}cannot be built at this capacity and rate: {refused[name]}")
            continue
        one, two = digests[name]
        # Filled until full: a key a digest answers for already is not counted, so more
        # than `capacity` urls fill a generation, and more at looser rates.
        urls = (f"/static/r{i}.css" for i in itertools.count())
        while not one.current.is_full:
            one.add(next(urls))
        urls = (f"/static/r{i}.css" for i in itertools.count())
        while not (two.previous and two.current.is_full):
            two.add(next(urls))
        # One full generation: the cookie just before its first rotation (the previous
        # generation, still empty, is not written).
        single = len(one.to_bytes())
        bits = 8 * len(one.current.to_bytes()) / capacity
        false_positives = sum(f"/fresh/{i}" in one for i in range(probes))
        out.append(
            f"{name:9}{bits:>11.2f}{single:>10}"
            f"{len(codec.dumps(bytes(single))):>10}{_ratio(bits / limit_bits):>9}"
            f"{len(codec.dumps(two.to_bytes())):>16}{false_positives / probes:>14.4%}"
        )
    out.append(
        "bits/entry: one generation, header included; digest B: with headers; cookie B: "
        "signed, as sent; 2-gen: both generations full, the most the cookie grows to "
        "(other urls, a few bytes more or less)"
    )
    largest = {name: largest_capacity(name, fp_rate) for name in ENCODINGS}
    accepted = " or ".join(f"{top} ({name})" for name, top in largest.items() if top)
    none = " or ".join(name for name, top in largest.items() if not top)
    if not accepted:
        what = "no FIREHOSE_CAPACITY"
    elif none:
        what = f"FIREHOSE_CAPACITY up to {accepted}, and none for {none},"
    else:
        what = f"FIREHOSE_CAPACITY up to {accepted}"
    out.append(
        f"init_app accepts {what} at this rate, other settings and Flask's session cookie "
        f"attributes at their defaults (FIREHOSE_HEADER_BUDGET="
        f"{DEFAULTS['FIREHOSE_HEADER_BUDGET']}; Secure and SameSite take a few bytes more)"
    )
    return out


def _ratio(value: float) -> str:
    """``value`` to two decimals, or three digits and an exponent past 10,000: near p = 1
    the information limit nears 0 bits/entry and the ratio to it passes 10^17 (a Bloom
    filter of capacity 1 at 1 - 2^-53), which would push the columns after it right."""
    return f"{value:.2f}" if value < 10_000 else f"{value:.2e}"


def inspect(
    cookie: str,
    secret_keys: Sequence[str | bytes],
    *,
    cookie_name: str = DEFAULT_COOKIE_NAME,
    salt: str = DEFAULT_SALT,
    cookie_domain: str | None = None,
    cookie_path: str | None = None,
    cookie_partitioned: bool | None = None,
    max_age: int | None = None,
    urls: Sequence[str] = (),
    resource_version: str | None = None,
) -> tuple[bool, list[str]]:
    """Whether ``cookie`` is a valid digest, and what it holds, as lines to print.

    ``cookie`` is a bare value, ``name=value``, a whole ``Cookie`` header, or header lines
    as an operator pastes them (:func:`.pasted.read_pasted`). ``salt`` is the digest version's
    (:func:`~.codec.salt_for`), scoped here to the cookie's Domain, Path and Partitioned as
    the server scopes it (:func:`~.codec.scoped_salt`): ``cookie_domain``, ``cookie_path``
    and ``cookie_partitioned`` where given (not None), else those of the ``Set-Cookie`` line
    read, else a host-only, unpartitioned cookie at "/". ``max_age`` is the seconds a
    signature is good for (``FIREHOSE_MAX_AGE``); where None, the ``Max-Age`` of the
    ``Set-Cookie`` line read, which the server writes so, else its default.
    ``urls`` are looked up as ``push(url, version=resource_version)`` records them, an
    absolute url by its path. A cookie that does not verify is still described, from its
    unverified payload, to help find out why. A ``Set-Cookie`` line that deletes the cookie
    is said to, and is not valid: the client holds no digest of its scope after it; the
    value the request sent, if pasted with it, is then described, for the line's scope.
    Raises :class:`ValueError` for a url of ``urls`` that ``urlsplit`` refuses.

    ``secret_keys`` are the server's, as the app's config lists them and itsdangerous
    takes them, oldest to newest: ``SECRET_KEY_FALLBACKS + [SECRET_KEY]``. As on the server,
    an empty fallback is ignored and an empty ``SECRET_KEY`` verifies nothing. Given more
    than one non-empty key, a valid cookie is said to be signed with ``SECRET_KEY`` or
    with which of the fallbacks (its index in ``SECRET_KEY_FALLBACKS``).
    """
    if isinstance(secret_keys, (str, bytes, bytearray)):  # a Sequence[str] to a type checker
        raise TypeError(
            "secret_keys: a list of keys, SECRET_KEY_FALLBACKS + [SECRET_KEY], not one "
            f"{type(secret_keys).__name__}: each character would be taken as a key"
        )
    if isinstance(urls, (str, bytes)):
        raise TypeError(f"urls: a list of urls, not one {type(urls).__name__}")
    asked = []
    for url in urls:
        try:
            asked.append((url, _request_target(url)))
        except ValueError as e:  # "http://[::1": urlsplit's message names no argument
            raise ValueError(f"urls: not a url: {url!r}") from e
    now = time.time()  # one instant: a cookie is not valid, then expired, in one report
    # A byte order mark, which Windows tools write at the start of a UTF-8 file (Notepad's
    # "UTF-8 with BOM", Windows PowerShell 5.1's Out-File -Encoding utf8), is not pasted.
    asked_scope = AskedScope(cookie_domain, cookie_path, cookie_partitioned)
    pasted = read_pasted(cookie.removeprefix("\ufeff"), cookie_name, now, asked_scope)
    if not pasted.values and pasted.deleted is None:
        said = f"NOT valid: no {cookie_name} cookie here ({_names_said(pasted.names)})"
        return False, [said, *filter(None, [cut_jar_line(cookie, cookie_name), pasted.note])]
    notes = [pasted.note] if pasted.note else []
    if pasted.deleted is not None:
        # Said whatever the line's Domain and Path: what the response means to do.
        notes.append(
            f"NOT valid: the Set-Cookie line deletes {cookie_name} ({pasted.deleted}): the "
            "client holds none of its Domain and Path after this response"
        )
    # How the value is read: the scope it is verified for, and which copy.
    reading: list[str] = []
    domain, path, partitioned = cookie_domain, cookie_path, bool(cookie_partitioned)
    if pasted.set_cookie is not None:
        domain = pasted.set_cookie.domain if cookie_domain is None else cookie_domain
        path = pasted.set_cookie.path if cookie_path is None else cookie_path
        if cookie_partitioned is None:
            partitioned = pasted.set_cookie.partitioned
        reading.append(
            _scope_said(pasted.set_cookie, cookie_domain, cookie_path, cookie_partitioned)
        )
    if max_age is None:
        max_age = DEFAULT_MAX_AGE
        line_age = None if pasted.set_cookie is None else pasted.set_cookie.max_age
        # Not that of a line that deletes the digest: its value is the request's, of the
        # app's FIREHOSE_MAX_AGE, which the line no longer says.
        if line_age is not None and line_age <= MAX_COOKIE_AGE and pasted.deleted is None:
            max_age = line_age
            if line_age != DEFAULT_MAX_AGE:  # said where the default would be wrong
                reading.append(
                    f"its Max-Age {line_age} is read as --max-age: the server writes "
                    "FIREHOSE_MAX_AGE there"
                )
    try:
        scoped: str | None = scoped_salt(
            salt, domain, "/" if path is None else path, partitioned=partitioned
        )
    except UnicodeError:  # IDNA refuses the domain
        scoped = None
    if scoped is None or not signable(scoped):
        where = "the Set-Cookie line's " if pasted.set_cookie is not None else ""
        return False, [
            *notes,
            f"NOT valid: {where}Domain or Path is not one a cookie can have "
            f"(Domain {domain!r}, Path {path or '/'!r})",
        ]
    if pasted.deleted is not None:
        if not pasted.values:
            return False, notes
        # What the response's links were written for; the line's scope is the one it
        # deletes, so a digest that does not verify for it may be another cookie, left.
        notes.append(f"the {cookie_name} the request sent, which the line deletes:")
    codec = _server_codec(secret_keys, scoped, max_age)
    value, which, none_read = _read_as_the_server_does(pasted.values, codec, now)
    server = _ServerRead(
        codec,
        secret_keys,
        now,
        set_cookie_pasted=pasted.set_cookie is not None,
        unread=NONE_READ if none_read else IGNORED,
    )
    valid, out = _describe(value, server, _Asked(asked, resource_version))
    cut = None if valid else cut_jar_line(cookie, cookie_name)
    if cut is not None:
        out.insert(1, cut)  # after the verdict: why the value read is none
    if len(pasted.values) > 1:
        reading.append(f"{len(pasted.values)} {cookie_name} cookies sent: reading {which}")
    return valid and pasted.deleted is None, [*notes, *reading, *out]


def _inflates(text: str) -> bool:
    """Whether ``text`` is base64url of zlib data: its first byte inflated, no more (a
    pasted value may be made to inflate to gigabytes)."""
    try:
        return bool(zlib.decompressobj().decompress(base64_decode(text), 1))
    except (BadData, zlib.error):
        return False


#: How many of the cookies pasted, and how much of each name, :func:`_names_said` shows:
#: a header of thousands, or a page pasted whole, would make a line no one reads.
MAX_NAMES_SAID = 20
MAX_NAME_SAID = 64


def _names_said(names: Sequence[str]) -> str:
    """The cookies pasted, as :func:`inspect` says them when none is the digest."""
    if not names:
        return "cookies: none"
    said = [
        _shown(name) if len(name) <= MAX_NAME_SAID else f"{_shown(name[:MAX_NAME_SAID])}..."
        for name in names[:MAX_NAMES_SAID]
    ]
    if len(names) <= MAX_NAMES_SAID:
        return f"cookies: {', '.join(said)}"
    return f"{len(names)} cookies: {', '.join(said)} and {len(names) - MAX_NAMES_SAID} more"


def _scope_said(
    line: SetCookie,
    cookie_domain: str | None,
    cookie_path: str | None,
    cookie_partitioned: bool | None,
) -> str:
    """Which Domain, Path and Partitioned :func:`inspect` verified a ``Set-Cookie`` line's
    cookie for."""
    domain = _said("--cookie-domain", cookie_domain, "its Domain", line.domain)
    domain = domain or "no Domain (host-only)"
    path = _said("--cookie-path", cookie_path, "its Path", line.path) or "Path /"
    if cookie_partitioned is not None:
        path += ", --cookie-partitioned" if cookie_partitioned else ", --no-cookie-partitioned"
    elif line.partitioned:
        path += ", Partitioned"
    return f"a Set-Cookie line: {domain} and {path} are part of the signature"


def _said(option: str, given: str | None, attribute: str, read: str | None) -> str:
    """An attribute of the signature as :func:`_scope_said` tells it: the ``option`` given,
    else the ``Set-Cookie`` line's; "" for neither (the default)."""
    if given is not None:
        return f"{option} {_shown(given)}"
    if read is not None:
        return f"{attribute} {_shown(read)}"
    return ""


def _server_codec(
    secret_keys: Sequence[str | bytes], salt: str, max_age: int
) -> DigestCodec | None:
    """The codec the server verifies with (:func:`~.codec.keys_in_force`), given its keys
    as :func:`inspect` takes them; None for no key."""
    keys = keys_in_force(secret_keys[-1], secret_keys[:-1]) if secret_keys else []
    return DigestCodec(keys, salt, max_age) if keys else None


@dataclass(frozen=True)
class _ServerRead:
    """How the server reads a cookie value, which :func:`_describe` tells."""

    #: The codec it verifies with; None for no key given.
    codec: DigestCodec | None
    #: Its keys, ``SECRET_KEY_FALLBACKS + [SECRET_KEY]``: which signed a valid value.
    secret_keys: Sequence[str | bytes]
    #: The one instant of the report.
    now: float
    #: Whether the response's Set-Cookie line was pasted: the server signs nothing again
    #: on that response (the line wrote the value, or deletes it).
    set_cookie_pasted: bool
    #: What the server does with a value that does not verify.
    unread: str = IGNORED


@dataclass(frozen=True)
class _Asked:
    """The urls ``--url`` asks for, as ``push(url, version=resource_version)`` records them."""

    #: Each url as typed, and the path it is looked up by (:func:`_request_target`).
    urls: Sequence[tuple[str, str]]
    resource_version: str | None


def _describe(value: str, server: _ServerRead, asked: _Asked) -> tuple[bool, list[str]]:
    """:func:`inspect` of one cookie value: whether it is valid as ``server`` reads it, and
    what it holds, verified or not, the urls ``asked`` for included."""
    if len(value) > MAX_COOKIE_VALUE:
        return False, [
            f"NOT valid: {len(value)} characters, longer than any cookie a browser keeps"
        ]
    if value.count(".") < 2:
        return False, ["NOT valid: not a signed cookie value (payload.timestamp.signature)"]
    payload, out = _verdict(value, server)
    verified = payload is not None
    if payload is None:
        out.append(KEY_NOT_GIVEN if server.codec is None else server.unread)
        if value.startswith(".") and _inflates(value[1:].split(".", 1)[0]):
            # itsdangerous's URLSafeSerializer marks a zlib-compressed payload so, as Flask's
            # session cookie has one when compressing helps; DigestCodec never compresses.
            out.append(
                "unverified payload: compressed (the '.' before it), as itsdangerous "
                "compresses Flask's session cookie, and never a digest: not a digest cookie"
            )
            return False, out
        try:
            payload = base64_decode(value.split(".", 1)[0])
        except BadData:
            out.append("unverified payload: not base64url")
            return False, out
    unverified = "" if verified else "unverified "
    try:
        digest = load_digest(payload)
        if not isinstance(digest, AgingDigest):
            raise DigestError(
                f"a single {type(digest).__name__}, not the two generations the extension writes"
            )
    except DigestError as e:
        problem = f"payload of {len(payload)} bytes is not a digest: {e}"
        if verified:
            return False, [f"NOT valid: signed with this key, but its {problem}"]
        return False, [*out, f"unverified {problem}"]

    out.append(f"{unverified}payload: {len(payload)} bytes")
    for label, generation in (("current", digest.current), ("previous", digest.previous)):
        out.append(
            f"{label}: {type(generation).__name__}, capacity {generation.capacity}, "
            f"false-positive rate {generation.fp_rate:.4g} at capacity, "
            f"{len(generation)} {'entry' if len(generation) == 1 else 'entries'}"
        )
    out.extend(_answers(digest, asked, verified))
    return verified, out


def _verdict(value: str, server: _ServerRead) -> tuple[bytes | None, list[str]]:
    """The payload of ``value`` if it verifies (None if not), and the lines that say so:
    when it was signed and expires, and with which key; else why not."""
    if server.codec is None:
        return None, [f"NOT valid: {NO_SECRET_KEY}"]
    codec, now = server.codec, server.now
    try:
        payload, issued_at = codec.loads(value, now)
    except DigestError as e:
        return None, [f"NOT valid: {_why_not_valid(e, value, codec.max_age, now)}"]
    age = int(now) - issued_at
    # Up to codec.MAX_CLOCK_SKEW ahead is trusted: servers sign with their own clocks.
    when = f"{age} s ago" if age >= 0 else f"{-age} s ahead of this clock"
    out = [
        f"valid: signed {_utc(issued_at)} ({when}), expires {_utc(codec.expires_at(issued_at))}"
    ]
    if sum(map(bool, server.secret_keys)) > 1:
        out.append(
            _signing_key_said(
                value, server.secret_keys, codec, issued_at, server.set_cookie_pasted, now
            )
        )
    return payload, out


def _answers(digest: AgingDigest, asked: _Asked, verified: bool) -> list[str]:
    """Whether ``digest`` holds each url ``asked`` for, and why the server would write one
    ``nopush`` whatever it holds; "(unverified)" after "held" unless ``verified``."""
    out = []
    version = asked.resource_version
    for url, target in asked.urls:
        held = resource_key(target, version) in digest
        path_of = "" if target == url else f" (the path of {_shown(url)})"
        version_said = "" if version is None else f" (version {_shown(version)})"
        answer = "not held" if not held else "held" if verified else "held (unverified)"
        out.append(f"{answer}: {_shown(target)}{path_of}{version_said}")
        if not pushed_as_requested(target):
            # Neither pushed nor recorded (collect.py): a proxy would push it at a path
            # the browser never requests, or not at all; the operator asking why it got
            # nopush would read "not held" as "it should have been pushed".
            out.append(
                f"  {_shown(target)} is never pushed (no push proxy would push it at the path "
                "a browser requests): the server writes it nopush, whatever the digest holds"
            )
        elif target != url and not held:
            # Asked by its path, as a network panel shows what the page pushed as /path;
            # but a page that pushes it as written gets it nopush on every visit.
            out.append(
                f"  pushed as written, {_shown(url)} is never pushed (nginx pushes no "
                "absolute url, so none is offered): the server writes it nopush, whatever "
                "the digest holds"
            )
        static_version = _version_in_query(target) if version is None else None
        if not held and static_version is not None:
            # push_static() records its url with the file's version, the url's v, as the
            # key's: asked by the url the Link header shows, such a file is not found.
            out.append(
                f"  {_shown(target)} names v={_shown(static_version)}: a push_static() file "
                f"is held under its v, ask again with --resource-version {_shown(static_version)}"
            )
    if asked.urls:
        # Either generation may answer falsely: at capacity each does at rate p, for
        # largely different urls (a url the digest holds is not pushed, so not added).
        p = digest.fp_rate
        out.append(
            f'"held" is wrong for about {100 * p:.3g}% of urls never sent (up to '
            f'{100 * min(1.0, 2 * p):.3g}% with both generations full); "not held" is '
            "always right"
        )
    return out


def _version_in_query(target: str) -> str | None:
    """The one ``v`` in ``target``'s query, as :func:`~.static.push_static` writes a file's
    version there; None for none, an empty one or several."""
    versions = parse_qs(urlsplit(target).query).get("v", [])
    return versions[0] if len(versions) == 1 else None


def _signing_key_said(
    value: str,
    secret_keys: Sequence[str | bytes],
    codec: DigestCodec,
    issued_at: int,
    set_cookie_pasted: bool,
    now: float,
) -> str:
    """Which of ``secret_keys`` (``SECRET_KEY_FALLBACKS + [SECRET_KEY]``) signed
    ``value``, which ``codec`` verified with them; for a fallback, unless the response's
    Set-Cookie line was pasted (``set_cookie_pasted``), when the server replaces it:
    ``DigestConnector.save()`` signs with ``SECRET_KEY`` whenever it writes the cookie,
    which is when the digest changes or from :func:`~.codec.renewal_at`."""
    *fallbacks, secret_key = secret_keys

    def signed_with(key: str | bytes) -> bool:
        # Its signature alone: loads() judged the age.
        return DigestCodec([key], codec.salt, codec.max_age).carries_signature(value)

    if signed_with(secret_key):
        return "signed with SECRET_KEY"
    # The newest that verifies, as itsdangerous tries them.
    index = next(
        i for i in reversed(range(len(fallbacks))) if fallbacks[i] and signed_with(fallbacks[i])
    )
    said = f"signed with a fallback key, SECRET_KEY_FALLBACKS[{index}]"
    if set_cookie_pasted:
        return said
    # The first whole second it is due at (half an odd max age is not one).
    renewal = math.ceil(renewal_at(codec.expires_at(issued_at), codec.max_age))
    if renewal <= now:
        return f"{said}: the server signs it again with SECRET_KEY when it next writes it"
    return (
        f"{said}: the server signs it again with SECRET_KEY when the digest changes, or "
        f"from {_utc(renewal)} (half of --max-age)"
    )


def _read_as_the_server_does(
    values: Sequence[str], codec: DigestCodec | None, now: float
) -> tuple[str, str, bool]:
    """Of the values a header sent, the one ``DigestConnector.open()`` reads, the rule
    that chose it, and whether the server reads none: of the last ``MAX_COOKIE_COPIES``
    different ones, the valid one signed last (of equals, the last sent), else the first
    of them, which the server reads (as no digest) only if it tried every value sent."""
    tried = copies_to_try(values)
    signed = {}
    if codec is not None:
        for value in tried:
            try:
                signed[value] = codec.loads(value, now).issued_at
            except DigestError:
                continue
    if not signed:
        if codec is None:
            return tried[0], "the first", False
        if len(tried) < len(set(values)):
            # DigestConnector.open(): one not tried may hold the digest, so none is read.
            return (
                tried[0],
                f"the first of the last {len(tried)} different values (none of them verifies, "
                "and the server tries no more)",
                True,
            )
        return tried[0], "the first (none verifies)", False
    latest = newest_first(list(signed), signed.__getitem__)[0]
    return latest, "the valid one signed last, as the server does", False


#: What a value :class:`DigestCodec` signs is made of: base64url, in parts joined by ".".
SIGNED_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.")
#: How many of the characters no signed value holds :func:`_why_not_valid` names.
MAX_FOREIGN_SAID = 5
#: The length of every signature :class:`DigestCodec` makes, whatever the key: HMAC-SHA1's
#: 20 bytes in base64url, unpadded.
SIGNATURE_LENGTH = 27


def _why_not_valid(error: DigestError, value: str, max_age: int, now: float) -> str:
    """Why :meth:`DigestCodec.loads` refused ``value``, of the right shape, in user terms.
    One holding a character no signed value holds (quotes a Python repr or a shell left
    around it) is none the server signed: not "bad signature", which asks for the key."""
    foreign = sorted(set(value) - SIGNED_CHARACTERS)
    if foreign:
        said = ", ".join(map(repr, foreign[:MAX_FOREIGN_SAID]))
        more = ", ..." if len(foreign) > MAX_FOREIGN_SAID else ""
        return (
            f"not a signed cookie value: it holds {said}{more}, which none does "
            "(base64url's letters, digits, '-' and '_', in parts joined by '.')"
        )
    cause = error.__cause__
    if isinstance(cause, SignatureExpired) and cause.date_signed is not None:
        issued_at = int(cause.date_signed.timestamp())
        if issued_at > now:
            return f"signed {_utc(issued_at)}, in the future: is a clock wrong?"
        return f"expired: signed {_utc(issued_at)}, more than --max-age {max_age} s ago"
    parts = value.split(".")
    if isinstance(cause, BadData) and len(parts) > 3:
        # Payload, timestamp and signature hold no '.': one more came after the value (a
        # sentence's period), and what follows it is no signature cut short; or before
        # it, if the value still ends in a whole signature. With none, the value was cut
        # short too, and no side is known.
        if len(parts[-1]) == SIGNATURE_LENGTH:
            why = "did text before the value run into it?"
        elif any(len(part) == SIGNATURE_LENGTH for part in parts[2:-1]):
            why = "did text after the value run into it?"
        else:
            why = (
                "no part is a whole signature: was the value cut short, and did text run into it?"
            )
        return (
            f"not a signed cookie value: it has {len(parts)} parts joined by '.', where every "
            f"one has 3 (payload.timestamp.signature): {why}"
        )
    signature = value.rpartition(".")[2]
    if isinstance(cause, BadData) and len(signature) != SIGNATURE_LENGTH:
        # No key verifies it: a copy from a narrow terminal or a log cut it, or a prompt's
        # word ran into it; "bad signature" would send the user after the key.
        why = (
            "was the value cut short?"
            if len(signature) < SIGNATURE_LENGTH
            else "did text after the value run into it?"
        )
        return (
            f"not a signed cookie value: its signature, after the last '.', is "
            f"{len(signature)} character{'' if len(signature) == 1 else 's'}, where every "
            f"signature is {SIGNATURE_LENGTH}: {why}"
        )
    if isinstance(cause, BadData):
        return (
            "bad signature: was it signed with this SECRET_KEY (and this "
            "FIREHOSE_DIGEST_VERSION, --digest-version, cookie Domain, Path and "
            "Partitioned, --cookie-domain, --cookie-path and --cookie-partitioned)?"
        )
    if cause is not None:
        # Not BadData: itsdangerous verified the signature, then could not read its time as
        # a date (ValueError past year 9999), which no clock has reached.
        issued_at = bytes_to_int(base64_decode(value.rsplit(".", 2)[-2]))
        return f"signed {_utc(issued_at)}, in the future: is a clock wrong?"
    return f"not a signed cookie value: {error}"


def _utc(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError, OSError):
        return f"at Unix time {timestamp}"


def _shown(text: str) -> str:
    """``text`` as typed, or quoted when it is empty or holds characters a terminal would
    not show."""
    return text if text.isprintable() and text else repr(text)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be a rate between 0 and 1, excluded, got {text}")
    return value


def _as_typed(text: str) -> str:
    """``text`` as it was typed. Under a locale that is not UTF-8 (``LC_ALL=C`` without
    UTF-8 mode), Python decodes the command line and the environment as ASCII with
    surrogateescape: text typed in UTF-8 is read back from the bytes the shell passed.
    Bytes that are not UTF-8 stay as they came: refused where a value must be UTF-8 (a
    key, a salt), kept in a ``--resource-version``, as ``push()`` keeps such a version."""
    if not signable(text):
        with contextlib.suppress(UnicodeError):
            return os.fsencode(text).decode("utf-8")
    return text


def _utf8(text: str) -> str:
    """``text`` as typed (:func:`_as_typed`) if it can key or salt a signature
    (:func:`~.codec.signable`)."""
    text = _as_typed(text)
    if not signable(text):
        raise argparse.ArgumentTypeError(f"holds a byte that is not UTF-8: {text!r}")
    return text


def _cookie_domain(text: str) -> str:
    """A domain the server could write (Werkzeug encodes it as IDNA)."""
    domain = _utf8(text)
    try:
        scoped_salt("", domain, "/")
    except UnicodeError:
        raise argparse.ArgumentTypeError(f"is not a domain name: {domain!r}") from None
    if domain_breaks_attribute(domain):
        raise argparse.ArgumentTypeError(
            "is written with a control character or a ';', as init_app refuses "
            f"SESSION_COOKIE_DOMAIN: {domain!r}"
        )
    cut = domain_cut_short(domain)
    if cut:
        raise argparse.ArgumentTypeError(
            f"is an IPv6 address, which Werkzeug writes as Domain={cut}, as init_app "
            f"refuses SESSION_COOKIE_DOMAIN: {domain!r}"
        )
    return domain


def _cookie_path(text: str) -> str:
    """A Path the server could sign for: ``init_app`` refuses one that does not start with
    "/", which a browser would scope to the folder of the page that set the cookie."""
    path = _utf8(text)
    if not path.startswith("/"):
        raise argparse.ArgumentTypeError(
            "must start with '/', as init_app requires of SESSION_COOKIE_PATH (or "
            f"APPLICATION_ROOT), got {path!r}"
        )
    return path


def _secret_key(text: str) -> str | bytes:
    """A key as Flask takes it: a str, or for an argument that is not UTF-8 (a bytes
    ``SECRET_KEY``, passed as ``$'\\xec...'``) the bytes the command line held, which
    Python decoded with surrogateescape."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    if signable(text):
        return text
    try:
        return os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate no command line gives: main() called from code
        # Not repeated: a key said on a terminal is in its scrollback and a CI log.
        raise argparse.ArgumentTypeError(
            "holds a character that is neither UTF-8 nor a byte of the command line"
        ) from None


def _environ_secret_keys() -> list[str]:
    """``$FLASK_SECRET_KEY_FALLBACKS`` and ``$FLASK_SECRET_KEY`` as
    ``app.config.from_prefixed_env()`` reads them: as JSON when it is JSON
    (``'"20261202"'``: a key of digits quoted to stay a str; the fallbacks a JSON list),
    else as they are; each as typed (:func:`_as_typed`). In :func:`inspect`'s order,
    fallbacks first; an unset ``$FLASK_SECRET_KEY`` is an empty ``SECRET_KEY``, with which
    the app reads no digest, whatever its fallbacks. A value no app signs with raises
    :class:`ValueError` naming the variable and what is wrong, never the value: a key
    said on a terminal is in its scrollback, and in a CI job's public log."""
    keys: list[str] = []
    secret_key = ""
    for name in ("FLASK_SECRET_KEY_FALLBACKS", "FLASK_SECRET_KEY"):
        text = os.environ.get(name)
        if not text:
            continue
        try:
            value = json.loads(text)
        except Exception:  # as from_prefixed_env: whatever JSON refuses stays a string
            value = text
            got = "text that is not JSON"
        else:
            got = "None" if value is None else type(value).__name__
        if name == "FLASK_SECRET_KEY_FALLBACKS":
            if isinstance(value, list):
                got = next(
                    (
                        f"{type(key).__name__} at index {index}"
                        for index, key in enumerate(value)
                        if not isinstance(key, str)
                    ),
                    "",
                )
            if got:  # init_app refuses it too: the app would not start with it.
                raise ValueError(
                    "FLASK_SECRET_KEY_FALLBACKS must be a JSON list of strings, as "
                    f"from_prefixed_env() reads it (e.g. '[\"old key\"]'), got {got}"
                )
            keys.extend(_environ_key(f"{name}[{index}]", key) for index, key in enumerate(value))
        elif isinstance(value, str):
            secret_key = _environ_key(name, value)
        else:
            # Any JSON but a string (a number, a bool, null, a list): no key the app signs with.
            raise ValueError(
                "FLASK_SECRET_KEY is no string to from_prefixed_env(), which reads it as "
                f"JSON (got {got}), so the app signs with no such key: quote it as a JSON "
                """string, FLASK_SECRET_KEY='"123"' for the key 123"""
            )
    return [*keys, secret_key]


def _environ_key(name: str, key: str) -> str:
    """``key`` of the environment variable ``name`` as typed (:func:`_as_typed`), if it
    can key a signature; a :class:`ValueError` naming it, without the key, if not."""
    key = _as_typed(key)
    if not signable(key):
        raise ValueError(f"{name} holds a byte that is not UTF-8")
    return key


def _pushed_url(text: str) -> str:
    """``text`` as ``push()`` records it: encoded as a browser requests it (:func:`format_url`),
    as typed (:func:`_as_typed`); bytes that are not UTF-8 are for ``format_url`` to refuse."""
    try:
        url = format_url(_as_typed(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    try:
        _request_target(url)
    except ValueError:  # "https://[::1/a"
        raise argparse.ArgumentTypeError(f"not a url: {text!r}") from None
    return url


def _request_target(url: str) -> str:
    """The path and query a browser requests for an absolute http(s) ``url`` ("/" for
    none), and any other ``url`` as it is. A digest holds pushed urls, and only a path is
    ever pushed (:func:`~.links.pushed_as_requested`), whatever the host: the url an
    address bar shows is held if its path is. ValueError for one ``urlsplit`` refuses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    # urlsplit reads no query in "/a.js?", which a browser requests as it is.
    _, question_mark, query = url.partition("#")[0].partition("?")
    return (parts.path or "/") + question_mark + query


def _cookie_name(text: str) -> str:
    if not is_token(text):
        raise argparse.ArgumentTypeError(f"not a cookie name (an RFC 6265 token): {text!r}")
    return text


DESCRIPTION = """\
Tune and debug firehose_digest. "plan" measures what a capacity and
false-positive rate cost in each encoding; "inspect" verifies a digest cookie
and says what it holds.

Exit status: 0 done (inspect: a valid digest), 1 inspect: not a valid digest,
2 usage error, or the output could not be written, 130 stopped by Ctrl-C.
"""

INSPECT_HELP = f"""\
Verify a digest cookie with the app's secret key and describe it.

COOKIE may be the bare value (the part after "{DEFAULT_COOKIE_NAME}="), the pair
"{DEFAULT_COOKIE_NAME}=VALUE", a whole Cookie header as a browser's developer
tools show it ("a=1; {DEFAULT_COOKIE_NAME}=VALUE; b=2", with or without "Cookie:"),
or header lines as pasted, curl -v's included: its "Cookie:" and "Set-Cookie:"
lines are read, other lines skipped; a Set-Cookie line's value without
"Set-Cookie:" ("{DEFAULT_COOKIE_NAME}=VALUE; Path=/shop") is read as that line; a
request copied by developer tools as cURL (bash or cmd), fetch or PowerShell
is read for the cookies it sends, a cookie jar's lines (curl -c) as the
Set-Cookie lines that stored them, a HAR file (developer tools' "Save all as
HAR") or Firefox's headers copied as JSON for the Cookie and Set-Cookie
headers of its requests. A value a terminal or a mail broke across
lines is joined up; whole values or pairs one a line are several cookies.
A Set-Cookie line's Domain, Path and Partitioned are those the signature is
checked for, where --cookie-domain, --cookie-path and --[no-]cookie-partitioned
are not given; of several (a jar's), the last of those given is read, else the
last. A Set-Cookie line that deletes the cookie is said to; a Cookie
line pasted with it is described.
Quote COOKIE for the shell; one that starts with "-" goes last, after "--". A
COOKIE of "-" is read from stdin: a copied command, full of quotes, is pasted
there (or piped from a clipboard tool) as it is.
--cookie-name picks the cookie.

Exit status: 0 the cookie is a valid digest, 1 it is not (bad signature,
expired, not a digest, no key to verify it with, deleted by the Set-Cookie
line), 2 usage error, or the output could not be written, 130 stopped by
Ctrl-C. --url does not change it.
"""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose ``--help`` and ``--version`` say so when their text could
    not be written (a closed stdout, a full disk), as every other output does: argparse
    itself drops a write's error, and an unbuffered stdout leaves nothing to flush."""

    unwritten = False

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if not message or file is None or file is not sys.stdout:
            super()._print_message(message, file)
            return
        try:
            sys.stdout.write(message)
        except OSError as e:
            self.unwritten = not _written_or_said(e)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status == 0 and (self.unwritten or not _flushed()):
            status = EXIT_TROUBLE
        super().exit(status, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        help="plan or inspect; firehose-digest COMMAND --help tells more",
    )
    plan_cmd = commands.add_parser(
        "plan",
        help="cookie size and false-positive rate of each encoding",
        description="Fill a digest of each encoding to capacity with fixed keys; print its "
        "size, its signed cookie and its false-positive rate measured on fresh keys.",
        epilog="Exit status: 0 done, 2 usage error, or the output could not be written, "
        "130 stopped by Ctrl-C (a long --probes).",
        allow_abbrev=False,
    )
    plan_cmd.set_defaults(command_parser=plan_cmd)
    plan_cmd.add_argument(
        "--capacity",
        type=_int_in(1, MAX_CAPACITY),
        default=DEFAULT_CAPACITY,
        metavar="N",
        help="resources remembered per generation, FIREHOSE_CAPACITY "
        f"(1 to {MAX_CAPACITY}; default {DEFAULT_CAPACITY})",
    )
    plan_cmd.add_argument(
        "--fp-rate",
        type=_rate,
        default=DEFAULT_FP_RATE,
        metavar="P",
        help="target false-positive rate at capacity, FIREHOSE_FP_RATE "
        f"(between 0 and 1; default {DEFAULT_FP_RATE})",
    )
    plan_cmd.add_argument(
        "--probes",
        type=_int_in(1, MAX_PROBES),
        default=DEFAULT_PROBES,
        metavar="N",
        help=f"fresh keys tested to measure the rate (1 to {MAX_PROBES}; default "
        f"{DEFAULT_PROBES})",
    )
    inspect_cmd = commands.add_parser(
        "inspect",
        help="verify and describe a digest cookie",
        description=INSPECT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    inspect_cmd.set_defaults(command_parser=inspect_cmd)
    inspect_cmd.add_argument(
        "cookie",
        metavar="COOKIE",
        help="value, NAME=VALUE, Cookie header, Set-Cookie line or its value; - to read "
        "it from stdin",
    )
    inspect_cmd.add_argument(
        "--secret-key",
        action="append",
        type=_secret_key,
        metavar="KEY",
        help="the app's SECRET_KEY, a bytes one as its bytes ($'\\xec...' in bash); "
        "repeat for SECRET_KEY_FALLBACKS, in their order, after it "
        "(default: $FLASK_SECRET_KEY and $FLASK_SECRET_KEY_FALLBACKS)",
    )
    inspect_cmd.add_argument(
        "--cookie-name",
        type=_cookie_name,
        default=DEFAULT_COOKIE_NAME,
        metavar="NAME",
        help=f"FIREHOSE_COOKIE_NAME (default {DEFAULT_COOKIE_NAME})",
    )
    inspect_cmd.add_argument(
        "--digest-version",
        type=_utf8,
        default="",
        metavar="V",
        help="FIREHOSE_DIGEST_VERSION, part of the signature (default: none)",
    )
    inspect_cmd.add_argument(
        "--cookie-domain",
        type=_cookie_domain,
        metavar="DOMAIN",
        help="the cookie's Domain, SESSION_COOKIE_DOMAIN, part of the signature (default: "
        "a Set-Cookie line's, else none)",
    )
    inspect_cmd.add_argument(
        "--cookie-path",
        type=_cookie_path,
        metavar="PATH",
        help="the cookie's Path, SESSION_COOKIE_PATH or else APPLICATION_ROOT, part of the "
        "signature (default: a Set-Cookie line's, else /)",
    )
    inspect_cmd.add_argument(
        "--cookie-partitioned",
        action=argparse.BooleanOptionalAction,
        help="whether the cookie is Partitioned, SESSION_COOKIE_PARTITIONED, part of the "
        "signature (default: a Set-Cookie line's, else not)",
    )
    inspect_cmd.add_argument(
        "--max-age",
        type=_int_in(1, MAX_COOKIE_AGE),
        metavar="S",
        help=f"FIREHOSE_MAX_AGE: seconds a signature is good for (1 to {MAX_COOKIE_AGE}; "
        f"default: a Set-Cookie line's Max-Age, else {DEFAULT_MAX_AGE})",
    )
    inspect_cmd.add_argument(
        "--url",
        action="append",
        type=_pushed_url,
        default=[],
        metavar="URL",
        help="say whether the digest holds URL, as push(URL) records it; an absolute "
        "http or https url is asked by its path and query (a digest holds paths, "
        'whatever the host); repeat for more. "held" may be a false positive, at about '
        "the digest's rate",
    )
    inspect_cmd.add_argument(
        "--resource-version",
        type=_as_typed,
        metavar="V",
        help="ask for each --url as push(URL, version=V) records it; push_static() "
        "records its url so with the file's v as V",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``firehose-digest`` command: its exit status."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        # Ctrl-C in a long plan, or while inspect - waits for a paste: the user's wish,
        # not the tool's error, so no traceback.
        return EXIT_INTERRUPTED


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, left_over = parser.parse_known_args(argv)
    if left_over:
        parser.error(
            _left_over_said(args.command, left_over, sys.argv[1:] if argv is None else argv)
        )
    if args.command == "plan":
        try:
            out = plan(args.capacity, args.fp_rate, args.probes)
        except ValueError as e:
            # Each value is in range, but not the pair: e.g. a rate too small for the
            # capacity (a GCS range over 2^24) or needing more than 32 Bloom hashes.
            args.command_parser.error(
                f"--capacity {args.capacity} with --fp-rate {args.fp_rate!r}: {e}"
            )
        return EXIT_VALID if _print(out) else EXIT_TROUBLE
    if args.resource_version is not None and not args.url:
        args.command_parser.error(
            "--resource-version V asks for each --url as push(URL, version=V) records it: "
            "give the --url to ask for"
        )
    typed: list[str | bytes] = args.secret_key or []  # each checked by _secret_key
    # SECRET_KEY first on the command line; last, as the server signs with them.
    keys = [*typed[1:], *typed[:1]]
    if not keys:
        try:
            keys = [*_environ_secret_keys()]
        except ValueError as e:
            args.command_parser.error(str(e))
    if args.cookie == "-":
        cookie = _stdin(args.command_parser)
    else:
        # `inspect "$COOKIE"` with the variable unset, or `"$(curl ... | cut -f7)"` when
        # the server set no cookie: as an empty stdin, a usage error, not "NOT valid".
        if not args.cookie.strip():
            args.command_parser.error(
                f"COOKIE is empty: give {_WHAT_TO_GIVE}, or - to read it from stdin"
            )
        # Read as typed, as every option is (under LC_ALL=C without UTF-8 mode).
        cookie = _as_typed(args.cookie)
    valid, out = inspect(
        cookie,
        keys,
        cookie_name=args.cookie_name,
        salt=salt_for(args.digest_version),
        cookie_domain=args.cookie_domain,
        cookie_path=args.cookie_path,
        cookie_partitioned=args.cookie_partitioned,
        max_age=args.max_age,
        urls=args.url,
        resource_version=args.resource_version,
    )
    if not valid and args.cookie != "-" and os.path.isfile(args.cookie):
        # `inspect jar` after cli.md's `curl -c jar`: COOKIE is text, never a file to open.
        out.append(
            f"{args.cookie} is a file: COOKIE is the cookie itself; to read the file, give "
            f"it on stdin: firehose-digest inspect - < {shlex.quote(args.cookie)}"
        )
    if not _print(out):
        return EXIT_TROUBLE
    return EXIT_VALID if valid else EXIT_NOT_VALID


def _left_over_said(command: str, left_over: Sequence[str], argv: Sequence[str]) -> str:
    """argparse's error for arguments no option takes, which it repeats; on a command line
    that gives a key, counted instead: one may be a key (``--secret-key NEW OLD``, a typo
    of the option), and a terminal's scrollback and a CI job's log are no place for it.

    So is one beside inspect's COOKIE (``inspect "$COOKIE" "$KEY"``, the option
    forgotten): there only what is shaped as an option name is repeated, a typo to see;
    the rest is counted, a key starting with "-" (``secrets.token_urlsafe``) and an
    ``--option=VALUE`` included."""
    if any(arg.startswith("--secret") for arg in argv):
        return (
            f"unrecognized arguments ({len(left_over)}), not repeated as one may be a key: "
            "--secret-key takes one KEY, repeat --secret-key for each"
        )
    named = [arg for arg in left_over if command != "inspect" or _OPTION_NAME.fullmatch(arg)]
    if len(named) == len(left_over):
        return f"unrecognized arguments: {' '.join(left_over)}"
    unnamed = len(left_over) - len(named)
    return (
        (f"unrecognized arguments: {' '.join(named)}; " if named else "")
        + "inspect was given "
        + (
            "a second argument beside COOKIE, not repeated as it may be a key"
            if unnamed == 1
            else f"{unnamed} arguments beside COOKIE, not repeated as one may be a key"
        )
        + ": a key goes after --secret-key, repeat --secret-key for each"
    )


#: An argument shaped as a long option's name, as each of ours is: a left-over one is a
#: typo, repeated so that it is seen.
_OPTION_NAME = re.compile(r"--[a-z][a-z0-9-]*")


#: The most ``inspect -`` reads from stdin: a request copied whole is a few KB, and the
#: largest argument Linux passes 128 KiB.
MAX_STDIN = 1 << 20
#: ... of a JSON document, a HAR: one holds its responses' content, megabytes for a page.
MAX_STDIN_JSON = 64 << 20


def _stdin(parser: argparse.ArgumentParser) -> str:
    """What stdin holds, for ``inspect -``: its bytes decoded as the command line's are
    (UTF-8), or as UTF-16 if they start with its byte order mark."""
    if sys.stdin is None:
        parser.error("COOKIE -: stdin is closed")
    if sys.stdin.isatty():
        print(
            "firehose-digest: paste COOKIE, then Ctrl-D (Ctrl-Z, Enter on Windows)",
            file=sys.stderr,
        )
    stream = getattr(sys.stdin, "buffer", None) or sys.stdin
    json_document = False
    try:
        data = stream.read(MAX_STDIN + 1)
        json_document = len(data) > MAX_STDIN and _opens_json(data)
        if json_document:
            data += stream.read(MAX_STDIN_JSON + 1 - len(data))
    except OSError as e:  # one open for writing only (0>/dev/null), a terminal gone
        parser.error(f"COOKIE -: stdin cannot be read: {e}")
    if json_document and len(data) > MAX_STDIN_JSON:
        parser.error(
            f"COOKIE -: stdin holds a JSON document of more than {MAX_STDIN_JSON} bytes: save "
            "a HAR of fewer requests"
        )
    if not isinstance(data, bytes):
        text = data
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # A file Windows PowerShell 5.1 wrote (``>``, ``Out-File``): UTF-16, its mark first.
        # What does not decode (a lone surrogate, an odd last byte of a file cut short) is
        # U+FFFD: surrogateescape keeps only bytes an ASCII-based codec refuses, and raised.
        text = data.decode("utf-16", "replace")
    else:
        text = data.decode("utf-8", "surrogateescape")
    # An empty clipboard piped, or a browser's cookie database (SQLite, read as text):
    # each was said "NOT valid", as if a cookie failed to verify. (A jar that stores
    # nothing still holds curl's comment lines: read, it holds no cookie.) A NUL is looked
    # for before the size, so that a database of megabytes is said to be a binary file.
    if "\x00" in text:
        parser.error(
            "COOKIE -: stdin holds a NUL byte, which no text does: a binary file (a browser's "
            f"cookie database) is not read; give {_WHAT_TO_GIVE}"
        )
    if not json_document and len(data) > MAX_STDIN:
        parser.error(
            f"COOKIE -: stdin holds more than {MAX_STDIN} bytes, more than any paste of a request"
        )
    if not text.strip():
        parser.error(f"COOKIE -: stdin is empty: give {_WHAT_TO_GIVE}")
    return text


#: What ``inspect`` reads (docs/cli.md), said when stdin holds none of it.
_WHAT_TO_GIVE = (
    "the cookie, its Cookie header or Set-Cookie line, a request copied as cURL, a cookie "
    "jar (curl -c) or a HAR (docs/cli.md)"
)


def _opens_json(data: bytes | str) -> bool:
    """Whether ``data``, the start of stdin, opens a JSON object or array (a HAR), in UTF-8
    or in UTF-16 after its byte order mark, as :func:`_stdin` decodes it."""
    head = data[:64]
    if isinstance(head, bytes):
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        head = head.decode("utf-16" if utf16 else "utf-8", "ignore")
    return head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def _print(lines: list[str]) -> bool:
    """Print, escaping what stdout's encoding cannot carry (an undecodable argv byte).

    False, said on stderr, if the output could not be written (a closed stdout, a full
    disk), so a script does not take a status for what it never got. A reader that
    stopped reading (``| head -1``) got what it wanted: that is not a failure.
    """
    if sys.stdout is None:  # started with stdout closed (``>&-``): nowhere to write
        return _flushed()
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    text = "\n".join(lines)
    try:
        print(text.encode(encoding, "backslashreplace").decode(encoding))
    except OSError as e:
        return _written_or_said(e)
    return _flushed()


def _flushed() -> bool:
    """Whether what was printed reached stdout (see :func:`_written_or_said`)."""
    if sys.stdout is None:  # started with stdout closed (``>&-``): nowhere to write
        print("firehose-digest: cannot write the output: stdout is closed", file=sys.stderr)
        return False
    try:
        sys.stdout.flush()
    except OSError as e:
        return _written_or_said(e)
    return True


def _written_or_said(e: OSError) -> bool:
    """After a write to stdout failed with ``e``: True if the reader stopped reading
    (``| head -1``: it got what it wanted), else False, said on stderr."""
    # Python flushes stdout again at exit; pointed at devnull, that flush cannot fail too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)  # stdout's descriptor holds it now
    if isinstance(e, BrokenPipeError):
        return True
    print(f"firehose-digest: cannot write the output: {e}", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main())
