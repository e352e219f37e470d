"""Every ``FIREHOSE_*`` key: its default, its type and range, checked once at ``init_app``.

:func:`load` fills the defaults into ``app.config`` (with ``setdefault``, as flask-caching
does) and returns a frozen :class:`Settings`; a value that cannot work raises
:class:`ValueError` naming its key. Nothing else in the package reads ``FIREHOSE_*`` keys.

The header budget (`FIREHOSE_HEADER_BUDGET`, `FIREHOSE_LINK_BUDGET`): nginx reads all of an
upstream response's headers into one ``proxy_buffer_size`` buffer (``uwsgi_buffer_size``
behind ``uwsgi_pass``), 4 KB by default, and answers 502 when they do not fit. Our headers
(``Link``, the digest's ``Set-Cookie``, ``Vary``) are kept within
``FIREHOSE_HEADER_BUDGET`` bytes, 1 KB under that buffer so the app's own headers fit
beside them. ``FIREHOSE_LINK_BUDGET``'s 1800 bytes leave room, at the default capacity, for
the largest cookie either encoding makes with every attribute Flask can set (``Secure``,
``HttpOnly``, ``SameSite=None``, ``Partitioned``) and a ``Domain`` of 81 characters (102
with GCS).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

from werkzeug.http import dump_cookie

from .codec import DEFAULT_SALT, MAX_COOKIE_AGE, DigestCodec, salt_for, signable
from .digests import MAX_CAPACITY, BloomDigest, GCSDigest, encoded_size_bound
from .links import is_token, other_number, str_number

__all__ = [
    "DEFAULTS",
    "ENCODINGS",
    "MAX_COOKIE_AGE",
    "CookieAttributes",
    "Settings",
    "check_cookie_attributes",
    "check_digest_fits",
    "check_scope_fits",
    "domain_breaks_attribute",
    "domain_cut_short",
    "largest_capacity",
    "largest_digest_value",
    "load",
    "number_hint",
    "refused_by_browsers",
    "set_cookie_line",
    "set_cookie_room",
    "set_cookie_room_said",
]

ENCODINGS: dict[str, type[BloomDigest] | type[GCSDigest]] = {
    "gcs": GCSDigest,
    "bloom": BloomDigest,
}
#: Browsers keep a cookie of 4096 bytes of name and value (RFC 6265bis §5.6); Werkzeug
#: warns above this many bytes for a whole Set-Cookie (name, value, attributes), Flask's
#: default ``MAX_COOKIE_SIZE``.
MAX_COOKIE_SIZE = 4093
#: The largest FIREHOSE_HEADER_BUDGET accepted, in bytes.
MAX_BUDGET = 1 << 20
#: The most pages FIREHOSE_EARLY_HINTS_CACHE accepts; the cache's bytes are bounded apart
#: (:data:`~.hints.HINTS_BYTES`), whatever the pages.
MAX_EARLY_HINTS_CACHE = 1 << 20
#: Browsers ignore a cookie attribute whose value is longer (RFC 6265bis §5.6): a Path or
#: Domain past it is dropped, and the cookie scoped as if it had none.
MAX_ATTRIBUTE_VALUE = 1024
#: How errors name the cookie's Path: Flask's session interface reads it from
#: APPLICATION_ROOT when SESSION_COOKIE_PATH is unset.
_PATH_KEY = "SESSION_COOKIE_PATH (or APPLICATION_ROOT, where it is unset)"
#: One header line's framing: ``Name: `` and ``CRLF``.
_LINE = len(": \r\n")
#: The ``Vary: Cookie`` line we may add (at most: ``Cookie`` may join a line of the view's
#: own, for 8 bytes, ``, Cookie``).
_VARY_LINE = len("Vary") + _LINE + len("Cookie")
#: What the header budget holds beside FIREHOSE_LINK_BUDGET even with no cookie: the
#: ``Link`` line's framing and ``Vary: Cookie``.
_LINK_AND_VARY = len("Link") + _LINE + _VARY_LINE
#: The largest FIREHOSE_LINK_BUDGET accepted: a full Link and Vary in the largest budget.
MAX_LINK_BUDGET = MAX_BUDGET - _LINK_AND_VARY

DEFAULTS: dict[str, Any] = {
    "FIREHOSE_ENABLED": True,
    "FIREHOSE_ALREADY_PUSHED": "nopush",
    "FIREHOSE_MAX_PUSHES": 10,
    "FIREHOSE_LINK_BUDGET": 1800,
    "FIREHOSE_HEADER_BUDGET": 3072,
    "FIREHOSE_CAPACITY": 300,
    "FIREHOSE_FP_RATE": 0.01,
    "FIREHOSE_ENCODING": "gcs",
    "FIREHOSE_COOKIE_NAME": "h2-digest",
    "FIREHOSE_MAX_AGE": 30 * 24 * 3600,
    "FIREHOSE_DIGEST_VERSION": "",
    # Off by default: nginx < 1.29 in front breaks pages that get a 103 (docs).
    "FIREHOSE_EARLY_HINTS": False,
    "FIREHOSE_EARLY_HINTS_CACHE": 1000,
}


@dataclass(frozen=True)
class CookieAttributes:
    """The attributes of the digest cookie: Flask's session cookie attributes, named as
    Werkzeug's ``set_cookie`` and ``dump_cookie`` take them."""

    path: str
    domain: str | None
    secure: bool
    httponly: bool
    samesite: str | None
    partitioned: bool


@dataclass(frozen=True)
class Settings:
    """One app's validated configuration."""

    enabled: bool
    #: ``FIREHOSE_ALREADY_PUSHED == "omit"``: leave held resources out of ``Link``.
    omit_held: bool
    #: New resources offered for push per response (nginx's ``http2_max_concurrent_pushes``).
    max_pushes: int
    #: Bytes of our ``Link`` value, on a response and in a 103.
    link_budget: int
    #: Bytes of all our header lines together (Link, Set-Cookie, Vary).
    header_budget: int
    kind: type[BloomDigest] | type[GCSDigest]
    capacity: int
    fp_rate: float
    cookie_name: str
    max_age: int
    #: The signing salt, from ``FIREHOSE_DIGEST_VERSION``.
    salt: str
    early_hints: bool
    early_hints_cache: int
    #: The most bytes of one Set-Cookie of ours, name, value and attributes: Flask's
    #: ``MAX_COOKIE_SIZE`` (:func:`_cookie_size`).
    max_cookie_size: int
    #: ``MAX_COOKIE_SIZE`` as the app wrote it, which errors name (:func:`_cookie_size_said`).
    #: Not compared: two values read as the same bound (2000.5 and 2000.7, 8000 and 9000)
    #: are the same settings.
    max_cookie_size_written: float = field(compare=False)

    def with_digest(
        self, capacity: int | None, fp_rate: float | None, encoding: str | None
    ) -> Settings:
        """These settings with a connector's own digest arguments, checked like the keys."""
        changed: dict[str, Any] = {}
        if capacity is not None:
            changed["capacity"] = _int(
                "FIREHOSE_CAPACITY", capacity, 1, MAX_CAPACITY, from_argument=True
            )
        if fp_rate is not None:
            changed["fp_rate"] = _rate("FIREHOSE_FP_RATE", fp_rate, from_argument=True)
        if encoding is not None:
            changed["kind"] = _choice("FIREHOSE_ENCODING", encoding, ENCODINGS)
        return replace(self, **changed) if changed else self


def load(config: MutableMapping[str, Any]) -> Settings:
    """Fill the defaults into ``config``, validate every key, return the settings."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    c = config
    header_budget = _int(
        "FIREHOSE_HEADER_BUDGET", c["FIREHOSE_HEADER_BUDGET"], _LINK_AND_VARY, MAX_BUDGET
    )
    return Settings(
        enabled=_bool("FIREHOSE_ENABLED", c["FIREHOSE_ENABLED"]),
        omit_held=_choice(
            "FIREHOSE_ALREADY_PUSHED",
            c["FIREHOSE_ALREADY_PUSHED"],
            {"nopush": False, "omit": True},
        ),
        max_pushes=_int("FIREHOSE_MAX_PUSHES", c["FIREHOSE_MAX_PUSHES"], 0, MAX_CAPACITY),
        link_budget=_link_budget(c["FIREHOSE_LINK_BUDGET"], header_budget),
        header_budget=header_budget,
        kind=_choice("FIREHOSE_ENCODING", c["FIREHOSE_ENCODING"], ENCODINGS),
        capacity=_int("FIREHOSE_CAPACITY", c["FIREHOSE_CAPACITY"], 1, MAX_CAPACITY),
        fp_rate=_rate("FIREHOSE_FP_RATE", c["FIREHOSE_FP_RATE"]),
        cookie_name=_cookie_name(c["FIREHOSE_COOKIE_NAME"]),
        max_age=_seconds("FIREHOSE_MAX_AGE", c["FIREHOSE_MAX_AGE"], 1, MAX_COOKIE_AGE),
        salt=salt_for(_digest_version(c["FIREHOSE_DIGEST_VERSION"])),
        early_hints=_bool("FIREHOSE_EARLY_HINTS", c["FIREHOSE_EARLY_HINTS"]),
        early_hints_cache=_int(
            "FIREHOSE_EARLY_HINTS_CACHE", c["FIREHOSE_EARLY_HINTS_CACHE"], 1, MAX_EARLY_HINTS_CACHE
        ),
        max_cookie_size=_cookie_size(c.get("MAX_COOKIE_SIZE", MAX_COOKIE_SIZE)),
        max_cookie_size_written=c.get("MAX_COOKIE_SIZE") or MAX_COOKIE_SIZE,
    )


def _cookie_size(value: object) -> int:
    """Flask's ``MAX_COOKIE_SIZE`` as the bound of our cookies, read as Werkzeug reads it:
    it warns at each Set-Cookie past it (as an error under ``-W error``, which records
    nothing), and not at all for 0, None or False; but no value raises the bound past
    :data:`MAX_COOKIE_SIZE`, Werkzeug's default, just under the 4096 bytes of name and
    value past which a browser drops a cookie whole."""
    if value is None or value is False or value == 0:
        return MAX_COOKIE_SIZE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        # Also nan. Werkzeug fails at every Set-Cookie on a str, and warns at every one
        # under a negative size, or True (1).
        raise ValueError(
            "MAX_COOKIE_SIZE must be a number of bytes, 0 or more (0 or None: Werkzeug "
            f"never warns of a cookie's size), got {value!r}{other_number(value, int)}"
        )
    return MAX_COOKIE_SIZE if value >= MAX_COOKIE_SIZE else int(value)  # a length's whole bytes


def _cookie_size_said(settings: Settings) -> str:
    """``MAX_COOKIE_SIZE`` as the app wrote it, and a float as read: the whole bytes under
    it. Under 1 that is 0 bytes, which every cookie is longer than, where a 0 written turns
    Werkzeug's warning off."""
    written, read = settings.max_cookie_size_written, settings.max_cookie_size
    said = f"MAX_COOKIE_SIZE={written!r}"
    if written == read:
        return said
    off = (
        ", which every cookie is longer than; 0 itself turns Werkzeug's warning off"
        if read == 0
        else ""
    )
    return f"{said} (read as {read} whole byte{'' if read == 1 else 's'}{off})"


def _digest_version(value: object) -> str:
    """``FIREHOSE_DIGEST_VERSION`` as the salt takes it: a str UTF-8 can encode (it is
    signed as bytes), or an int, as ``from_prefixed_env`` reads a numeric deploy id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and signable(value):
        return value
    hint = other_number(value, str)
    if isinstance(value, float):
        # JSON reads a short git hash such as 31e4072 as a float (inf): two such deploy
        # ids would be one version, so none is taken.
        hint = (
            ": from_prefixed_env reads an id such as 31e4072 as a number; quote it as JSON, "
            """FLASK_FIREHOSE_DIGEST_VERSION='"31e4072"', or set it in code"""
        )
    raise ValueError(
        "FIREHOSE_DIGEST_VERSION must be a str that UTF-8 can encode, or an int, "
        f"got {value!r}{hint}"
    )


def check_digest_fits(settings: Settings, cookie: CookieAttributes) -> None:
    """Refuse a digest whose cookie, beside a full ``Link``, breaks the header budget.

    The check is on the largest cookie the digest can ever make: both generations full
    (:func:`~firehose_digest.digests.encoded_size_bound`), signed, with every attribute.
    It must also be within ``max_cookie_size`` (Flask's ``MAX_COOKIE_SIZE``, at most
    Werkzeug's default, under the 4 KB browsers keep), and hold what one response pushes. In
    order: the capacity against ``FIREHOSE_MAX_PUSHES``, the session cookie's attributes
    (:func:`check_cookie_attributes`), a name and attributes browsers refuse together,
    then the size, refused with what to change (:func:`_too_large`).
    """
    if settings.capacity < settings.max_pushes:
        raise ValueError(
            f"FIREHOSE_CAPACITY={settings.capacity} is less than FIREHOSE_MAX_PUSHES="
            f"{settings.max_pushes}: one response would push more than a digest generation "
            "holds, and forget its own first pushes"
        )
    _check_scope(settings, cookie)
    try:
        size = _headers_size(settings, cookie, settings.capacity)
    except ValueError as e:  # the digest refuses these parameters (too many hashes, ...)
        raise ValueError(_unbuildable(settings, e)) from e
    if size > settings.header_budget:
        raise ValueError(_too_large(settings, cookie, size))


def check_scope_fits(settings: Settings, cookie: CookieAttributes, largest_value: str) -> None:
    """:func:`check_digest_fits` of ``cookie``, a scope of the digest cookie other than the
    one ``settings`` passed it with (a session interface's, per request), measuring one
    cookie: ``largest_value`` is :func:`largest_digest_value` of ``settings``, made once.

    The same checks of the scope, in the same order, refused with the same words, but for
    a cookie too large: that one is said by its size alone, where :func:`check_digest_fits`
    searches for the capacity that would fit.
    """
    _check_scope(settings, cookie)
    set_cookie = _digest_set_cookie(settings, cookie, largest_value)
    if _headers_size_with(settings, set_cookie) > settings.header_budget:
        raise ValueError(
            f"the largest digest cookie's Set-Cookie line would be "
            f"{set_cookie_line(set_cookie)} bytes, more than the {set_cookie_room(settings)} "
            f"left for it ({set_cookie_room_said(settings)})"
        )


def _check_scope(settings: Settings, cookie: CookieAttributes) -> None:
    """Refuse a scope no cookie can be written with (:func:`check_cookie_attributes`),
    then one browsers refuse for the digest cookie's name (:func:`refused_by_browsers`):
    what :func:`check_digest_fits` and :func:`check_scope_fits` check alike, before the
    size."""
    check_cookie_attributes(cookie)
    refused = refused_by_browsers(settings.cookie_name, cookie)
    if refused:
        raise ValueError(refused)


def _unbuildable(settings: Settings, error: ValueError) -> str:
    """Why no digest is built at the settings' rate, and which way to move it. A rate
    below 0.5 is too small (a Bloom digest's hashes past 32, a GCS range past 24 bits,
    which a lower capacity narrows); only a GCS refuses one near 1, whose range
    ``capacity / fp_rate`` must round above the capacity."""
    encoding, rate = _encoding_name(settings), settings.fp_rate
    at_capacity = f" at FIREHOSE_CAPACITY={settings.capacity}" if encoding == "gcs" else ""
    if rate < 0.5:
        lower = ", or lower FIREHOSE_CAPACITY" if encoding == "gcs" else ""
        return (
            f"FIREHOSE_FP_RATE={rate!r} is too small for FIREHOSE_ENCODING={encoding!r}"
            f"{at_capacity}: {error}. Raise FIREHOSE_FP_RATE{lower}."
        )
    return (
        f"FIREHOSE_FP_RATE={rate!r} is too close to 1 for FIREHOSE_ENCODING={encoding!r}"
        f"{at_capacity}: {error}. Lower FIREHOSE_FP_RATE."
    )


def check_cookie_attributes(cookie: CookieAttributes) -> None:
    """Refuse session cookie attributes no cookie can be written or kept with, naming
    the ``SESSION_COOKIE_*`` key: a type Werkzeug would write wrong, a lone surrogate, a
    value browsers ignore, a Path not from the root, a Domain that breaks the attribute or
    that Werkzeug cuts short."""
    for key, value in (
        (_PATH_KEY, cookie.path),
        ("SESSION_COOKIE_DOMAIN", cookie.domain),
        ("SESSION_COOKIE_SAMESITE", cookie.samesite),
    ):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be a str, got {value!r}")
        if value is not None and not signable(value):
            raise ValueError(
                f"{key} holds a character UTF-8 cannot encode (a lone surrogate: an "
                "undecodable byte in the environment), which no cookie can be written with, "
                f"got {value!r}"
            )
    for key, value in (
        # As Werkzeug writes it: percent-encoded, "é" is 6 bytes.
        (_PATH_KEY, cookie.path and _written_path(cookie.path)),
        ("SESSION_COOKIE_DOMAIN", cookie.domain),
    ):
        if value is not None and len(value.encode()) > MAX_ATTRIBUTE_VALUE:
            raise ValueError(
                f"{key} is {len(value.encode())} bytes long as written: browsers ignore a "
                f"cookie attribute value over {MAX_ATTRIBUTE_VALUE} bytes (RFC 6265bis §5.6)"
            )
    if not isinstance(cookie.path, str) or not cookie.path.startswith("/"):
        raise ValueError(
            f"SESSION_COOKIE_PATH={cookie.path!r} (Flask uses APPLICATION_ROOT when it is "
            "unset) must start with '/': a browser scopes any other Path to the folder of "
            "the page that set the cookie, and sends the digest to no other page"
        )
    # Werkzeug writes the flag for any true value: "false" would make a Secure cookie.
    _bool("SESSION_COOKIE_SECURE", cookie.secure)
    _bool("SESSION_COOKIE_HTTPONLY", cookie.httponly)
    _bool("SESSION_COOKIE_PARTITIONED", cookie.partitioned)
    try:
        dump_cookie("c", samesite=cookie.samesite)
    except ValueError as e:
        raise ValueError(f"SESSION_COOKIE_SAMESITE={cookie.samesite!r}: {e}") from e
    try:
        broken = cookie.domain is not None and domain_breaks_attribute(cookie.domain)
    except ValueError as e:  # a label IDNA refuses: empty, or too long
        raise ValueError(f"SESSION_COOKIE_DOMAIN={cookie.domain!r}: {e}") from e
    if broken:
        raise ValueError(
            f"SESSION_COOKIE_DOMAIN={cookie.domain!r} is written with a control character "
            "or a ';': no domain holds a control (and no header one but a tab: Werkzeug "
            "refuses CR and LF, gunicorn the others), and a ';' ends the Domain attribute"
        )
    cut = cookie.domain is not None and domain_cut_short(cookie.domain)
    if cut:
        raise ValueError(
            f"SESSION_COOKIE_DOMAIN={cookie.domain!r} is an IPv6 address, which Werkzeug "
            f"writes as Domain={cut} (it drops a port: all from the first ':'), a Domain no "
            "host matches: browsers would drop every cookie. Leave it unset: a host-only "
            "cookie"
        )


def _too_large(settings: Settings, cookie: CookieAttributes, size: int) -> str:
    """Why a digest whose headers reach ``size`` bytes, over the header budget, is
    refused, and what to change: the largest capacity that fits, and which bound binds,
    the cookie's own (``MAX_COOKIE_SIZE``) or the header budget."""
    largest = _largest_capacity(settings, cookie, settings.capacity)
    if largest:
        fits, smaller = f"the largest FIREHOSE_CAPACITY that fits is {largest}", ""
    else:
        fits, smaller = _none_fits(settings, cookie)
    digest = (
        f"FIREHOSE_CAPACITY={settings.capacity} ({_encoding_name(settings)} at "
        f"FIREHOSE_FP_RATE={settings.fp_rate:g})"
    )
    cookie_size = len(_largest_set_cookie(settings, cookie, settings.capacity))
    unbudgeted = replace(settings, header_budget=MAX_BUDGET)
    if cookie_size > settings.max_cookie_size and largest == _largest_capacity(
        unbudgeted, cookie, settings.capacity
    ):
        # No header budget could help: the cookie's own bound binds, not ours.
        if settings.max_cookie_size == MAX_COOKIE_SIZE:
            bound = (
                f"{MAX_COOKIE_SIZE} bytes, the most a cookie of ours takes whatever "
                "MAX_COOKIE_SIZE says (Werkzeug's default, just under the 4096 bytes of name "
                "and value past which a browser drops a cookie)"
            )
            advice = (
                " Lower FIREHOSE_CAPACITY, or raise FIREHOSE_FP_RATE."
                if largest
                else f" Lower {smaller}."
                if smaller
                else ""
            )
        else:
            bound = f"{_cookie_size_said(settings)}, past which Werkzeug warns at each Set-Cookie"
            advice = (
                " Lower FIREHOSE_CAPACITY, or raise FIREHOSE_FP_RATE or MAX_COOKIE_SIZE."
                if largest
                else f" Lower {smaller}, or raise MAX_COOKIE_SIZE."
                if smaller
                else " Raise MAX_COOKIE_SIZE."
            )
        return (
            f"{digest} can make a digest cookie of {cookie_size} bytes (both generations "
            f"full, with its name and attributes), more than {bound}; {fits}.{advice}"
        )
    lower = (
        "FIREHOSE_CAPACITY or FIREHOSE_LINK_BUDGET"
        if largest
        else f"{smaller}, or FIREHOSE_LINK_BUDGET"
        if smaller
        else "FIREHOSE_LINK_BUDGET"
    )
    return (
        f"{digest} can make our headers {size} bytes long (a full two-generation cookie, "
        f"FIREHOSE_LINK_BUDGET={settings.link_budget} bytes of links, Vary), over "
        f"FIREHOSE_HEADER_BUDGET={settings.header_budget}; {fits}. Lower {lower}, or raise "
        "FIREHOSE_HEADER_BUDGET behind a larger proxy_buffer_size (uwsgi_buffer_size)."
    )


def _none_fits(settings: Settings, cookie: CookieAttributes) -> tuple[str, str]:
    """Why no capacity fits, with the true figures, and the keys to lower ("" if none
    helps): ``FIREHOSE_MAX_PUSHES``, the least capacity taken, where a smaller one would
    fit; else a rate near 1, where a GCS is built only of many keys, if a lower rate would
    let a capacity of 1 fit; else the cookie itself, at a capacity of 1."""
    fits_below = _largest_capacity(replace(settings, max_pushes=0), cookie, settings.max_pushes)
    if fits_below:
        return (
            f"no FIREHOSE_CAPACITY of FIREHOSE_MAX_PUSHES={settings.max_pushes} or more fits "
            "(a digest generation holds what one response pushes), the largest that fits is "
            f"{fits_below}",
            "FIREHOSE_CAPACITY and FIREHOSE_MAX_PUSHES",
        )
    least = _least_buildable(settings, 1, settings.capacity)
    # Where a capacity of 1 cannot be built (a GCS near 1), the smallest digest is a GCS of
    # one key at a rate of 0.5, in its fewest bytes: if even its cookie does not fit, no
    # lower rate helps.
    smallest, at_rate = (
        (settings, "")
        if least == 1
        else (replace(settings, fp_rate=0.5), " at FIREHOSE_FP_RATE=0.5")
    )
    if least > 1 and _fits(smallest, cookie, 1):
        return (
            f"no FIREHOSE_CAPACITY fits (at FIREHOSE_FP_RATE={settings.fp_rate:g} a "
            f"{_encoding_name(settings)} digest is built of no fewer than {least} keys, whose "
            f"cookie takes {len(_largest_set_cookie(settings, cookie, least))} bytes)",
            "FIREHOSE_CAPACITY and FIREHOSE_FP_RATE",
        )
    return (
        "no FIREHOSE_CAPACITY fits (the cookie's name and attributes alone take "
        f"{_bare_cookie_size(settings, cookie)} bytes: FIREHOSE_COOKIE_NAME, "
        f"SESSION_COOKIE_PATH, SESSION_COOKIE_DOMAIN; with a digest of FIREHOSE_CAPACITY=1"
        f"{at_rate}, {len(_largest_set_cookie(smallest, cookie, 1))})",
        "",
    )


#: What a Set-Cookie's Domain cannot hold as Werkzeug writes it (IDNA-encoded, which maps a
#: fullwidth ";" to ";"): a control, which no header carries but HTAB (RFC 9110 §5.5) and
#: no domain holds at all, or the ";" that ends the attribute.
_BREAKS_DOMAIN = re.compile(r"[\x00-\x1f\x7f;]")


def domain_breaks_attribute(domain: str) -> bool:
    """Whether ``domain``, as Werkzeug writes the ``Domain`` attribute, holds what
    :data:`_BREAKS_DOMAIN` says no domain can; ValueError for a label IDNA refuses."""
    # "c=; Domain=<domain>; Path=/": the Domain as written.
    written = dump_cookie("c", domain=domain)
    return bool(_BREAKS_DOMAIN.search(written.partition("; Domain=")[2].rpartition("; Path=")[0]))


def domain_cut_short(domain: str) -> str:
    """The Domain Werkzeug writes for ``domain`` if it is an IPv6 address, cut short at its
    first ':' as if a port followed ("[::1]" as "[", "2001:db8::1" as "2001"): a Domain the
    browser's host does not match, so the cookie is dropped (RFC 6265 §5.3, step 6). Else
    "": a host name, an IPv4 address, with a port or not, and an address cut to nothing
    ("::1"), which is no Domain (browsers ignore an empty one)."""
    host, _, rest = domain.partition(":")
    written = host.lstrip(".")
    return written if written and (":" in rest or written.startswith("[")) else ""


def _written_path(path: str) -> str:
    """``path`` as Werkzeug writes it in ``Set-Cookie``: percent-encoded."""
    line = dump_cookie("c", path=path, max_size=0)
    return next(part[len("Path=") :] for part in line.split("; ") if part.startswith("Path="))


def refused_by_browsers(name: str, cookie: CookieAttributes) -> str | None:
    """Why browsers would refuse the digest cookie, or None. Refused, it never comes back,
    and every page pushes everything on every visit.

    RFC 6265bis §4.1.3: a ``__Secure-`` cookie must be Secure; a ``__Host-`` one Secure,
    with no Domain and a Path of "/". Chrome and Firefox refuse ``SameSite=None`` without
    Secure. Werkzeug adds Secure to a Partitioned cookie.
    """
    secure = cookie.secure or cookie.partitioned
    lowered = name.lower()
    if lowered.startswith("__secure-") and not secure:
        return f"FIREHOSE_COOKIE_NAME={name!r} needs SESSION_COOKIE_SECURE: browsers refuse it"
    if lowered.startswith("__host-") and (not secure or cookie.domain or cookie.path != "/"):
        return (
            f"FIREHOSE_COOKIE_NAME={name!r} needs SESSION_COOKIE_SECURE, no "
            "SESSION_COOKIE_DOMAIN and a SESSION_COOKIE_PATH of '/': browsers refuse it"
        )
    if (cookie.samesite or "").lower() == "none" and not secure:
        return (
            f"SESSION_COOKIE_SAMESITE={cookie.samesite!r} needs SESSION_COOKIE_SECURE: "
            "browsers refuse a SameSite=None cookie that is not Secure"
        )
    return None


def _digest_set_cookie(settings: Settings, cookie: CookieAttributes, value: str) -> str:
    """The digest's ``Set-Cookie`` value for ``value``, with every attribute (measured, so
    Werkzeug's size warning is off)."""
    return dump_cookie(
        settings.cookie_name, value, max_age=settings.max_age, max_size=0, **asdict(cookie)
    )


def largest_digest_value(settings: Settings) -> str:
    """The longest value the digest's cookie can hold: both generations full
    (:func:`~firehose_digest.digests.encoded_size_bound`), signed. Its length is the
    settings' alone (encoding, capacity, rate): neither the key that signs it (an HMAC-SHA1
    of 20 bytes) nor the attributes that scope the cookie change it. Its timestamp takes
    4 bytes until February 2106, 5 after."""
    return _largest_value(settings, settings.capacity)


def _largest_value(settings: Settings, capacity: int) -> str:
    payload = encoded_size_bound(settings.kind, capacity, settings.fp_rate)
    return DigestCodec(["k"], DEFAULT_SALT, settings.max_age).dumps(bytes(payload))


def _largest_set_cookie(settings: Settings, cookie: CookieAttributes, capacity: int) -> str:
    """The longest ``Set-Cookie`` value the digest can make: both generations full, signed,
    with every attribute."""
    return _digest_set_cookie(settings, cookie, _largest_value(settings, capacity))


def _headers_size(settings: Settings, cookie: CookieAttributes, capacity: int) -> int:
    """The most bytes our header lines reach: a full Set-Cookie, a full Link, Vary."""
    return _headers_size_with(settings, _largest_set_cookie(settings, cookie, capacity))


def _headers_size_with(settings: Settings, set_cookie: str) -> int:
    """The most bytes our header lines reach with ``set_cookie``, the largest of ours: it,
    a full Link, Vary.

    A cookie past ``max_cookie_size`` (Flask's ``MAX_COOKIE_SIZE``, at most Werkzeug's
    default, :data:`MAX_COOKIE_SIZE`) counts as not fitting any budget.
    """
    lines = set_cookie_line(set_cookie) + len("Link") + _LINE + settings.link_budget + _VARY_LINE
    fits = len(set_cookie) <= settings.max_cookie_size
    return lines if fits else max(lines, settings.header_budget + 1)


def _bare_cookie_size(settings: Settings, cookie: CookieAttributes) -> int:
    """The digest cookie's bytes without its value: the name and attributes."""
    return len(_digest_set_cookie(settings, cookie, ""))


def set_cookie_line(set_cookie: str) -> int:
    """The bytes of the header line ``Set-Cookie: <set_cookie>``, framing included."""
    return len("Set-Cookie") + _LINE + len(set_cookie)


def set_cookie_room(settings: Settings) -> int:
    """The bytes left for one ``Set-Cookie`` line of ours: what the header budget leaves
    beside a ``Link`` as long as ``FIREHOSE_LINK_BUDGET`` allows and ``Vary: Cookie``, and
    at most the line of a cookie of ``max_cookie_size`` (a header budget raised behind a
    larger proxy buffer does not raise that)."""
    left = settings.header_budget - (len("Link") + _LINE + settings.link_budget) - _VARY_LINE
    return min(left, _cookie_line(settings))


def set_cookie_room_said(settings: Settings) -> str:
    """Which limit sets :func:`set_cookie_room`, as a log line says it."""
    if set_cookie_room(settings) < _cookie_line(settings):
        return (
            "what FIREHOSE_HEADER_BUDGET leaves beside a full Link; a smaller "
            "FIREHOSE_LINK_BUDGET makes room too"
        )
    if settings.max_cookie_size < MAX_COOKIE_SIZE:
        said = _cookie_size_said(settings)
        whole = settings.max_cookie_size_written == settings.max_cookie_size
        return f"the line of a cookie of {said}{' bytes' if whole else ''}"
    return (
        f"the line of a {MAX_COOKIE_SIZE}-byte cookie, the most a cookie of ours takes "
        "whatever MAX_COOKIE_SIZE says"
    )


def _cookie_line(settings: Settings) -> int:
    """The ``Set-Cookie`` line of a cookie of ``max_cookie_size`` bytes, ``Set-Cookie: ``
    and CRLF counted as :func:`set_cookie_line` counts them."""
    return len("Set-Cookie") + _LINE + settings.max_cookie_size


def largest_capacity(encoding: str, fp_rate: float) -> int:
    """The largest ``FIREHOSE_CAPACITY`` ``init_app`` accepts for ``encoding`` at ``fp_rate``,
    every other setting at its default and Flask's session cookie attributes at theirs
    (``firehose-digest plan`` says it); 0 if none."""
    config = {"FIREHOSE_ENCODING": encoding, "FIREHOSE_FP_RATE": fp_rate}
    settings = load({**config, "FIREHOSE_CAPACITY": MAX_CAPACITY})
    cookie = CookieAttributes(
        "/", None, secure=False, httponly=True, samesite=None, partitioned=False
    )
    return _largest_capacity(settings, cookie, MAX_CAPACITY + 1)


def _largest_capacity(settings: Settings, cookie: CookieAttributes, below: int) -> int:
    """The largest capacity below ``below`` that ``init_app`` accepts, 0 if none.

    Those it accepts are one range: from ``FIREHOSE_MAX_PUSHES``, or from the least a
    digest can be built with at a loose rate (a GCS near p = 1: 2,500 at 0.9998), up to
    where the headers stop fitting, or no digest can be built at a tight rate. Its start
    is found first (a binary search for the least capacity a digest can be built with,
    where one of ``FIREHOSE_MAX_PUSHES`` cannot), then its top (``below`` does not fit).
    """
    low, high = max(1, settings.max_pushes), below
    if low >= below:
        return 0
    if not _buildable(settings, low) and _buildable(settings, below - 1):
        low = _least_buildable(settings, low, below - 1)
    if not _fits(settings, cookie, low):
        return 0
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _fits(settings, cookie, middle) else (low, middle)
    return low


def _least_buildable(settings: Settings, low: int, high: int) -> int:
    """The least capacity from ``low`` that a digest can be built with at the settings'
    rate, where one of ``high`` can (a binary search: below it, none can)."""
    if _buildable(settings, low):
        return low
    while high - low > 1:  # low cannot be built; high can
        middle = (low + high) // 2
        low, high = (low, middle) if _buildable(settings, middle) else (middle, high)
    return high


def _buildable(settings: Settings, capacity: int) -> bool:
    """Whether a digest of ``capacity`` keys can be built at the settings' rate."""
    try:
        encoded_size_bound(settings.kind, capacity, settings.fp_rate)
    except ValueError:
        return False
    return True


def _fits(settings: Settings, cookie: CookieAttributes, capacity: int) -> bool:
    """Whether our headers fit the budget at ``capacity``; not if the digest refuses it
    (too many hashes, values past 24 bits), where a smaller capacity may still fit."""
    try:
        return _headers_size(settings, cookie, capacity) <= settings.header_budget
    except ValueError:
        return False


def _link_budget(value: object, header_budget: int) -> int:
    """``FIREHOSE_LINK_BUDGET``, if a full ``Link`` line and ``Vary: Cookie`` fit the header
    budget (a connector that writes no cookie adds nothing to them)."""
    link_budget = _int("FIREHOSE_LINK_BUDGET", value, 0, MAX_LINK_BUDGET)
    if link_budget > header_budget - _LINK_AND_VARY:
        raise ValueError(
            f"FIREHOSE_LINK_BUDGET={link_budget} is more than the "
            f"{header_budget - _LINK_AND_VARY} bytes FIREHOSE_HEADER_BUDGET={header_budget}"
            " (the bytes all our headers may take) leaves a Link value beside the "
            f"{_LINK_AND_VARY} of its line's 'Link: ' and CRLF and a 'Vary: Cookie' line"
        )
    return link_budget


def _encoding_name(settings: Settings) -> str:
    return next(name for name, kind in ENCODINGS.items() if kind is settings.kind)


# A str may come from a Config class that reads os.environ itself (the Flask
# Mega-Tutorial's), which never reads the FLASK_ variable the hint names.
_BY_HAND = (
    ", read by app.config.from_prefixed_env(); a value read from os.environ by hand is a str: "
)


#: A switch's refused values that mean off, and those that mean on (compared
#: lowercased): those of ``distutils.util.strtobool``; off also "" and "None", as Python
#: writes its None.
_MEANS_OFF = frozenset({"false", "f", "no", "n", "off", "0", "", "none"})
_MEANS_ON = frozenset({"true", "t", "yes", "y", "on", "1"})


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        # from_prefixed_env reads JSON: "true" is True, "True" or "1" stays a str or an int.
        hint = ""
        if value is None or isinstance(value, (str, int, float, list, dict)):
            # Any value JSON reads (null, 1.0, [], {}), or a str it could not read. The
            # example writes what the value meant: one copied for "False", 0 or null must
            # not turn the switch on. A word that says neither ("disabled") is shown both.
            word = str(value).strip().lower()
            meant = "false" if word in _MEANS_OFF else "true" if word in _MEANS_ON else None
            shown = f"={meant}" if meant else f"=true or FLASK_{key}=false"
            hint = f"; in the environment write true or false: FLASK_{key}{shown}"
        if isinstance(value, str):
            # bool() would make "false" True, as any str but "".
            hint += f'{_BY_HAND}compare it, == "true"'
        raise ValueError(f"{key} must be True or False, got {value!r}{hint}")
    return value


def _int(key: str, value: object, low: int, high: int, *, from_argument: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        hint = number_hint(key, value, int, from_argument=from_argument)
        raise ValueError(f"{key} must be an int in [{low}, {high}], got {value!r}{hint}")
    return value


def _seconds(key: str, value: object, low: int, high: int) -> int:
    """A time in whole seconds: an int, or a ``timedelta`` as Flask reads one of its own
    (``SEND_FILE_MAX_AGE_DEFAULT``, ``PERMANENT_SESSION_LIFETIME``), its fraction of a
    second dropped."""
    seconds = int(value.total_seconds()) if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
        # A timedelta is told what it was read as (timedelta(milliseconds=999) is 0), not
        # that it must be a timedelta.
        hint = (
            f": {seconds} whole seconds"
            if isinstance(value, timedelta)
            else number_hint(key, value, int, from_argument=False)
        )
        raise ValueError(
            f"{key} must be an int in [{low}, {high}] seconds, or a timedelta within them, "
            f"got {value!r}{hint}"
        )
    return seconds


def number_hint(key: str, value: object, convert: type[float], *, from_argument: bool) -> str:
    """How to give ``key`` a number, for a ``value`` that is one of another type: a str
    (:func:`_json`), a ``Decimal`` or a ``Fraction`` (:func:`~.links.other_number`)."""
    return _json(key, value, convert, from_argument) or other_number(value, convert)


def _json(key: str, value: object, convert: type[float], from_argument: bool) -> str:
    """For a number given as a str: how the environment must spell it, as
    ``from_prefixed_env`` reads JSON (``.01`` is not JSON, and stays a str); or, for a
    connector's argument, which no variable gives, how to convert it, if that works."""
    if not isinstance(value, str):
        return ""
    if from_argument:
        return str_number(value, convert)
    # The number written (".05", "+500"), as JSON spells it: the default, copied, would
    # replace it with no error. A str that holds no number is shown the default, said so.
    try:
        number = convert(value)
    except ValueError:  # no number; an int of more digits than int() reads
        number = math.nan
    finite = isinstance(number, int) or math.isfinite(number)  # "nan" is no JSON number
    meant = repr(number) if finite else f"{DEFAULTS[key]!r} (the default)"
    written = f"FLASK_{key}={meant}"
    return f"; in the environment write a JSON number: {written}{_BY_HAND}convert it"


def _rate(key: str, value: object, *, from_argument: bool = False) -> float:
    """A false-positive rate: a real number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = number_hint(key, value, float, from_argument=from_argument)
        raise ValueError(f"{key} must be a number in (0, 1), got {value!r}{hint}")
    try:
        rate = float(value)
    except OverflowError:  # an int past a float's range: far above 1
        rate = math.inf
    if not 0 < rate < 1:  # also refuses nan
        raise ValueError(f"{key} must be a number in (0, 1), got {value!r}")
    return rate


def _choice(key: str, value: object, choices: Mapping[str, Any]) -> Any:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{key} must be one of {sorted(choices)}, got {value!r}")
    return choices[value]


def _cookie_name(value: object) -> str:
    if isinstance(value, str) and is_token(value):
        return value
    hint = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = (
            "; from_prefixed_env reads a name of digits as a number: quote it as JSON, "
            f"""FLASK_FIREHOSE_COOKIE_NAME='"{value}"'"""
        )
    raise ValueError(
        f"FIREHOSE_COOKIE_NAME must be a cookie-name token (RFC 6265), got {value!r}{hint}"
    )
