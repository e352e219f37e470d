"""Cookie size vs the number of resources a client is remembered to hold.

For n fingerprinted urls (``/static/assets/r{i}.<10 hex>.css``) and a target false-positive
rate p, the cookie value each scheme sends, in characters:

- Flask-Firehose 0.2.3: a real Flask app with ``flask_firehose.Firehose``; its session
  cookie holds ``','.join(urls)``, serialized by Flask (zlib when it helps, signed).
- ``SessionConnector``: a real app; the exact JSON list in Flask's session
  (``max_items=n``): all n where the cookie fits a 4093-byte cookie (Werkzeug's most), else
  the size the whole list would take, signed as Flask signs the session (marked).
- Our GCS and Bloom digests, signed as sent (:class:`~firehose_digest.DigestCodec`), with
  ``capacity = n``: one generation holding the n urls; and the most the cookie grows to
  once the client has seen 2n urls (both generations full). Where ``DigestConnector``
  accepts the configuration (its full cookie fits 4093 bytes), a real app's cookie is
  checked to carry the same payload.
- h2o's CASPER (``bench.casper``): its unsigned ``h2o_casper`` cookie, 13-bit keys.
- The information limit, n log2(1/p) bits, written as base64 characters (6 bits each).

Each cookie written is decoded back and must answer "held" for every url (no false
negatives).

Run: ``python -m bench.cookie_size``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from flask import Flask, request
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from itsdangerous.encoding import base64_decode
from werkzeug.http import dump_cookie

from firehose_digest import AgingDigest, BloomDigest, DigestCodec, GCSDigest, push
from firehose_digest.codec import salt_for
from firehose_digest.connectors import DigestConnector, SessionConnector
from firehose_digest.extension import Firehose
from firehose_digest.settings import DEFAULTS, MAX_COOKIE_SIZE

from . import casper
from .report import GENERATED, markdown_table, new_figure, save_figure, write
from .request_cost import asset_url

__all__ = ["FP_RATES", "N_VALUES", "Row", "run"]

N_VALUES = (10, 20, 50, 100, 200, 300, 500, 1000, 1500, 2000)
FP_RATES = (0.01, 1 / 128, 0.001)
#: A browser drops a cookie whose name and value pass this many bytes (RFC 6265bis §5.6).
BROWSER_LIMIT = 4096
#: nginx's default proxy_buffer_size: all of the backend's response headers must fit.
NGINX_BUFFER = 4096
SECRET = "cookie-size secret"
KINDS: dict[str, type[BloomDigest] | type[GCSDigest]] = {"gcs": GCSDigest, "bloom": BloomDigest}


@dataclass(frozen=True)
class DigestCookie:
    """One encoding at one (n, p): cookie value lengths, in characters."""

    #: One generation holding the n urls (capacity n): what a client that saw n urls sends.
    one_generation: int
    #: Both generations full: the most the cookie ever grows to at this capacity.
    most: int
    #: The digest rotated before its n-th url (both encodings count exactly: never).
    rotated_early: bool
    #: ``DigestConnector`` accepts capacity n at rate p (its full cookie fits a browser's).
    accepted: bool


@dataclass(frozen=True)
class Row:
    n: int
    fp_rate: float
    #: n log2(1/p) bits, in base64 characters.
    limit: int
    gcs: DigestCookie
    bloom: DigestCookie
    casper: int
    flask_firehose: int | None
    session: int
    #: Whether SessionConnector kept all n: not past a cookie browsers keep.
    session_kept: bool


def urls(n: int) -> list[str]:
    return [asset_url(i) for i in range(n)]


def _set_cookie_value(response: object, name: str) -> str:
    """The value of the ``name`` cookie a response sets."""
    value = _set_cookie_value_or_none(response, name)
    if value is None:
        raise AssertionError(f"no {name} cookie was set")
    return value


def _set_cookie_value_or_none(response: object, name: str) -> str | None:
    """The value of the ``name`` cookie a response sets, None if it sets none."""
    for header in response.headers.getlist("Set-Cookie"):  # type: ignore[attr-defined]
        if header.startswith(f"{name}="):
            return str(header.split(";", 1)[0][len(name) + 1 :])
    return None


def _pushing_client(install: Callable[[Flask], Callable[[str], object]]) -> FlaskClient:
    """An app whose ``/push?n=`` pushes the first n urls, with ``install``'s push."""
    app = Flask("cookie-size")
    app.config["SECRET_KEY"] = SECRET
    push_one = install(app)
    all_urls = urls(2 * max(N_VALUES))

    @app.route("/push")
    def push_view() -> str:
        for url in all_urls[: int(request.args["n"])]:
            push_one(url)
        return "pushed"

    return app.test_client(use_cookies=False)  # each measurement starts afresh


def _push(client: FlaskClient, n: int, cookie: str) -> str:
    value = _push_or_none(client, n, cookie)
    if value is None:
        raise AssertionError(f"no {cookie} cookie was set")
    return value


def _push_or_none(client: FlaskClient, n: int, cookie: str) -> str | None:
    """The ``cookie`` a page pushing the first n urls sets, None if it sets none."""
    with warnings.catch_warnings():
        # Werkzeug warns about cookies over 4093 bytes: that is what is measured here.
        warnings.filterwarnings("ignore", message=".*cookie is too large", category=UserWarning)
        response = client.get(f"/push?n={n}")
    return _set_cookie_value_or_none(response, cookie)


@cache
def _flask_firehose_client() -> FlaskClient | None:
    try:
        import flask_firehose  # type: ignore[import-untyped]
    except ImportError:
        return None

    def install(app: Flask) -> Callable[[str], object]:
        flask_firehose.Firehose(app)
        return lambda url: flask_firehose.push(url, **{"as": "style"})

    return _pushing_client(install)


def flask_firehose_cookie(n: int) -> int | None:
    """Flask-Firehose's session cookie after pushing n urls; None if it is not installed."""
    client = _flask_firehose_client()
    if client is None:
        return None
    value = _push(client, n, "session")
    app = client.application
    stored = app.session_interface.get_signing_serializer(app).loads(value)  # type: ignore[attr-defined]
    if set(stored["h2-pushed"].split(",")) != set(urls(n)):
        raise AssertionError("Flask-Firehose's session lost urls")
    return len(value)


def _one_response_pushes(app: Flask, n: int) -> None:
    """Let one response push and record all n urls: what is measured is the cookie, so the
    limits a response keeps to behind a proxy (ten pushes, a 4 KB header buffer) are lifted."""
    app.config.update(
        FIREHOSE_MAX_PUSHES=n, FIREHOSE_LINK_BUDGET=1 << 19, FIREHOSE_HEADER_BUDGET=1 << 20
    )


def _session_connector_client(max_items: int) -> FlaskClient:
    def install(app: Flask) -> Callable[[str], object]:
        _one_response_pushes(app, max_items)
        Firehose(app, connector=SessionConnector(max_items=max_items))
        return lambda url: push(url, as_="style")

    return _pushing_client(install)


@cache
def session_connector_cookie(n: int) -> tuple[int, bool]:
    """``SessionConnector(max_items=n)``'s session cookie after pushing n urls, and whether
    it kept them all. Past a 4093-byte cookie (Werkzeug's most) it keeps fewer: here, where
    one response pushes all n, the first of them that fit (a response pushes, and records,
    the first of its new keys that fit, in its Link's order): the size is then that of the
    whole list, signed as Flask signs the session."""
    client = _session_connector_client(n)
    app = client.application
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = _push_or_none(client, n, "session")
    if value is not None:
        kept = serializer.loads(value)[SessionConnector.session_key]
        if kept == urls(n):
            return len(value), True
        if kept != urls(n)[: len(kept)] or len(_session_cookie(value)) > MAX_COOKIE_SIZE:
            raise AssertionError("SessionConnector's session kept the wrong urls")
    whole = serializer.dumps({SessionConnector.session_key: urls(n)})
    if len(_session_cookie(whole)) <= MAX_COOKIE_SIZE:
        raise AssertionError("SessionConnector dropped urls a cookie could hold")
    return len(whole), False


def _session_cookie(value: str) -> str:
    """Flask's session cookie of ``value`` as this app writes it, attributes and all: what
    ``settings.MAX_COOKIE_SIZE`` bounds."""
    with warnings.catch_warnings():  # past 4093 bytes Werkzeug warns: measured here
        warnings.simplefilter("ignore", UserWarning)
        return dump_cookie("session", value, httponly=True, path="/")


def _codec() -> DigestCodec:
    return DigestCodec([SECRET], salt_for(""), DEFAULTS["FIREHOSE_MAX_AGE"])


def _check_holds(value: str, keys: list[str]) -> None:
    """Verify and decode a signed digest cookie: every key must be held (no false negatives).

    Verified with a plain itsdangerous signer, as the codec promises, because the codec
    itself refuses values over 4096 characters before looking at them.
    """
    signer = TimestampSigner(SECRET, salt=salt_for(""), key_derivation="hmac")
    digest = AgingDigest.from_bytes(base64_decode(signer.unsign(value)))
    missing = [key for key in keys if key not in digest]
    if missing:
        raise AssertionError(f"false negatives: {missing[:3]}...")


def adding(digest: AgingDigest, keys: list[str]) -> Iterator[tuple[int, int]]:
    """Add distinct ``keys`` in order; after each, yield its index and the first one still held.

    That is where the previous generation began: every key from there on must be found.
    """
    previous_from = current_from = 0
    previous = digest.previous
    for index, key in enumerate(keys):
        digest.add(key)
        if digest.previous is not previous:  # rotated: this key began the current generation
            previous_from, current_from, previous = current_from, index, digest.previous
        yield index, previous_from


def fill(digest: AgingDigest, keys: list[str]) -> int:
    """Add distinct ``keys`` in order; return the index of the first one still held."""
    # The last of what adding() yields (a deque of length 1 keeps only it).
    last = deque(adding(digest, keys), maxlen=1)
    return last[0][1] if last else 0


def _connector_cookie(encoding: str, n: int, p: float) -> str | None:
    """The cookie a real ``DigestConnector`` app sets after n pushes; None if it refuses."""
    connector = DigestConnector(capacity=n, fp_rate=p, encoding=encoding)

    def install(app: Flask) -> Callable[[str], object]:
        _one_response_pushes(app, n)
        Firehose(app, connector=connector)
        return lambda url: push(url, as_="style")

    try:
        client = _pushing_client(install)
    except ValueError as e:
        if "FIREHOSE_CAPACITY" not in str(e):
            raise
        return None
    return _push(client, n, DEFAULTS["FIREHOSE_COOKIE_NAME"])


def digest_cookie(encoding: str, n: int, p: float) -> DigestCookie:
    """Our cookie for n urls at rate p, capacity n, signed as sent; checked as it is measured."""
    kind, codec, keys = KINDS[encoding], _codec(), urls(n)
    digest = AgingDigest(kind, n, p)
    fill(digest, keys)
    value = codec.dumps(digest.to_bytes())
    _check_holds(value, keys)
    real = _connector_cookie(encoding, n, p)
    if real is not None:
        if real.split(".")[0] != value.split(".")[0]:
            raise AssertionError(f"{encoding} n={n} p={p}: the app's digest differs")
        _check_holds(real, keys)
    # A generation's encoding is the same whichever of the two slots it is in: measure the
    # generation that holds most of the urls (the current one, unless it rotated early).
    generation = max(digest.current, digest.previous, key=len)
    one_generation = len(codec.dumps(bytes(3 + len(generation.to_bytes()))))
    full = AgingDigest(kind, n, p)
    held_from = fill(full, urls(2 * n))
    if not full.previous:
        raise AssertionError("2n urls must fill both generations")
    most = codec.dumps(full.to_bytes())
    _check_holds(most, urls(2 * n)[held_from:])
    return DigestCookie(one_generation, len(most), bool(digest.previous), real is not None)


def casper_cookie(n: int) -> int:
    """h2o's ``h2o_casper`` cookie value for n urls, decoded back and checked."""
    keys = urls(n)
    value = casper.CasperSet(keys).cookie_value()
    held = casper.CasperSet.from_cookie_value(value)
    if not all(key in held for key in keys):
        raise AssertionError("CASPER cookie lost keys")
    return len(value)


def information_limit(n: int, p: float) -> int:
    """n log2(1/p) bits as base64 characters."""
    return math.ceil(n * math.log2(1 / p) / 6)


def nginx_budget() -> int:
    """What nginx's 4 KB buffer leaves for the cookie value after a page's other headers.

    Measured on the response Flask-Firehose's app writes for a page of 10 new preloads:
    status line, Content-Type, Content-Length, Link, Vary and the Set-Cookie attributes.
    The server's own headers (Date, Server) take a little more.
    """
    client = _flask_firehose_client() or _session_connector_client(10)
    response = client.get("/push?n=10")
    value = _set_cookie_value(response, "session")
    headers = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.headers)
    return NGINX_BUFFER - (len(headers) + 2 - len(value))


def measure(n_values: tuple[int, ...] = N_VALUES) -> list[Row]:
    rows = []
    for p in FP_RATES:
        for n in n_values:
            rows.append(
                Row(
                    n=n,
                    fp_rate=p,
                    limit=information_limit(n, p),
                    gcs=digest_cookie("gcs", n, p),
                    bloom=digest_cookie("bloom", n, p),
                    casper=casper_cookie(n),
                    flask_firehose=_cached_flask_firehose(n),
                    session=session_connector_cookie(n)[0],
                    session_kept=session_connector_cookie(n)[1],
                )
            )
    return rows


@cache
def _cached_flask_firehose(n: int) -> int | None:
    return flask_firehose_cookie(n)


def _rate(p: float) -> str:
    return "1/128" if math.isclose(p, 1 / 128) else f"{p:.1%}"


def _digest_cell(cookie: DigestCookie) -> str:
    return f"{cookie.one_generation}" + ("" if cookie.accepted else " †")


def write_results(rows: list[Row]) -> str:
    """Write ``cookie_size.md`` and ``cookie_size.png``; return the markdown."""
    budget = nginx_budget()
    parts = [
        GENERATED,
        "# Cookie size vs remembered resources\n\n",
        "Cookie **value** length in characters (what the browser stores and sends back), for "
        "n fingerprinted urls `/static/assets/r{i}.<10 hex>.css`. Ours: `capacity = n`, "
        "signed as sent (`DigestCodec`, HMAC-SHA1 with a timestamp, about 35 characters); "
        "*one gen.* is a client that saw n urls, *both full* the most the cookie ever grows "
        "to (after 2n urls). † `DigestConnector` refuses this configuration at `init_app`: "
        "its full cookie could exceed 4093 bytes. Flask-Firehose 0.2.3 and "
        "`SessionConnector(max_items=n)`: Flask's session cookie from a real app (zlib "
        "when it helps); ‡ past a 4093-byte cookie (Werkzeug's most, under what a browser "
        "keeps), which `SessionConnector` does not grow the session to (it keeps fewer, the "
        "oldest dropped; here, where one response pushes all n, the first that fit): the "
        "size is the whole list's, signed as Flask signs the session. CASPER: h2o's "
        "`h2o_casper` value for the "
        "same urls (`bench/casper.py`, 13-bit keys, false-positive rate about n/8192 whatever "
        "p). Limit: n·log2(1/p) bits in base64 characters. Every cookie written was decoded "
        "back and holds every url.\n\n",
        f"A browser keeps {BROWSER_LIMIT} bytes of a cookie's name and value; "
        f"nginx's default `proxy_buffer_size` ({NGINX_BUFFER} bytes) holds *all* the "
        f"backend's response headers, which leaves about {budget} characters for the cookie "
        "on a page with 10 new preloads (measured on the Flask-Firehose app's response).\n\n",
    ]
    headers = [
        "n",
        "limit",
        "GCS one gen.",
        "GCS both full",
        "Bloom one gen.",
        "Bloom both full",
        "CASPER (its p)",
        "Flask-Firehose",
        "SessionConnector",
    ]
    early = [row for row in rows if row.bloom.rotated_early]
    for p in FP_RATES:
        table = [
            [
                row.n,
                row.limit,
                _digest_cell(row.gcs),
                row.gcs.most,
                _digest_cell(row.bloom),
                row.bloom.most,
                f"{row.casper} ({row.n / 2**casper.CAPACITY_BITS:.1%})",
                "n/a" if row.flask_firehose is None else row.flask_firehose,
                row.session if row.session_kept else f"{row.session} ‡",
            ]
            for row in rows
            if row.fp_rate == p
        ]
        parts += [f"## p = {_rate(p)}\n\n", markdown_table(headers, table), "\n"]
    parts.append(
        f"Both encodings count their keys exactly: at exactly n urls the digest had rotated "
        f"early in {len(early)} of the {len(rows)} cases above (a digest that had would send "
        "both generations, the *both full* size); *one gen.* is the generation's own size.\n"
    )
    text = "".join(parts)
    write("cookie_size.md", text)
    _plot(rows, budget)
    return text


def _plot(rows: list[Row], budget: int) -> None:
    figure = new_figure(columns=len(FP_RATES), width=5.2, height=5.2)
    for axes, p in zip(figure.axes, FP_RATES, strict=True):
        sub = [row for row in rows if row.fp_rate == p]
        n = [row.n for row in sub]
        series = [
            ("GCS (ours), one generation", [r.gcs.one_generation for r in sub], "C0", "-"),
            ("GCS (ours), both full", [r.gcs.most for r in sub], "C0", ":"),
            ("Bloom (ours), one generation", [r.bloom.one_generation for r in sub], "C1", "-"),
            ("CASPER (h2o), p = n/8192", [r.casper for r in sub], "C2", "-"),
            ("SessionConnector", [r.session for r in sub], "C4", "-"),
            ("information limit", [r.limit for r in sub], "k", "--"),
        ]
        if all(r.flask_firehose is not None for r in sub):
            ff = [r.flask_firehose for r in sub if r.flask_firehose is not None]
            series.insert(4, ("Flask-Firehose 0.2.3", ff, "C3", "--"))
        for label, values, color, style in series:
            axes.plot(n, values, color=color, linestyle=style, marker=".", label=label)
        axes.axhline(BROWSER_LIMIT, color="grey", linewidth=1)
        axes.axhline(budget, color="grey", linewidth=1, linestyle="-.")
        axes.text(n[0], BROWSER_LIMIT * 1.05, "browser: 4096 B per cookie", fontsize=7)
        axes.text(n[0], budget * 0.8, "nginx 4 KB buffer, after other headers", fontsize=7)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("remembered resources n")
        axes.set_title(f"p = {_rate(p)}")
    figure.axes[0].set_ylabel("cookie value (characters)")
    figure.legend(*figure.axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4)
    save_figure(figure, "cookie_size.png")


def run(quick: bool = False) -> list[Row]:
    """Measure, check and write the suite's files (the same grid when ``quick``)."""
    rows = measure()
    write_results(rows)
    return rows


def main() -> None:
    print(re.sub(r"<!--.*?-->\n", "", write_results(measure())))


if __name__ == "__main__":
    main()
