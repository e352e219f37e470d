"""``firehose-digest plan`` and ``inspect``: outputs, exit codes, and no traceback for any input.

Exit codes: 0 done (``inspect``: a valid digest), 1 ``inspect``: not a valid digest, 2 usage.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import flask
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import http_date

import firehose_digest
from firehose_digest import Firehose, push, push_static
from firehose_digest import __main__ as cli
from firehose_digest.__main__ import main
from firehose_digest.codec import MAX_CLOCK_SKEW, DigestCodec, salt_for
from firehose_digest.digests import AgingDigest, BloomDigest, GCSDigest
from firehose_digest.pasted import MAX_URL_SAID
from tests.helpers import build_app, har_missing

SECRET = "s3cret"
MAX_AGE = 30 * 24 * 3600


def run(*args: str, env: dict[str, str] | None = None, status: int = 0) -> str:
    """Run the CLI as a user would, in a new process; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "firehose_digest", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "FLASK_SECRET_KEY": "",
            "FLASK_SECRET_KEY_FALLBACKS": "",
            **(env or {}),
        },
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def inspect_stdin(data: bytes) -> subprocess.CompletedProcess[bytes]:
    """``firehose-digest inspect -`` in a new process, given ``data`` on stdin, as a user
    pipes a paste or a file in: its exit code, stdout and stderr, as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "firehose_digest", "inspect", "-", "--secret-key", SECRET],
        input=data,
        capture_output=True,
        check=False,
    )


def call(*args: str) -> tuple[int, str, str]:
    """Run ``main`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:
            assert isinstance(e.code, int)
            code = e.code
    return code, out.getvalue(), err.getvalue()


def issued_cookie(secret: str | bytes) -> str:
    """The cookie an app sends on a first visit to a page pushing three resources."""
    client = build_app(SECRET_KEY=secret).test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    return cookie.value


def expires_in_a_month() -> str:
    """The ``Expires`` of a Set-Cookie line an app writes now, MAX_AGE ahead of the clock:
    a date written into a test passes one day, and the line then deletes the cookie."""
    return http_date(datetime.now().timestamp() + MAX_AGE)


def signed(payload: bytes, secret: str = SECRET, digest_version: str = "") -> str:
    return DigestCodec([secret], salt_for(digest_version), MAX_AGE).dumps(payload)


def digest_of(*keys: str, kind: type[BloomDigest] | type[GCSDigest] = GCSDigest) -> bytes:
    digest = AgingDigest(kind, 300, 0.01)
    for key in keys:
        digest.add(key)
    return digest.to_bytes()


# -- plan -------------------------------------------------------------------------------


def test_plan_reports_both_encodings_against_the_limit() -> None:
    out = run("plan", "--capacity", "300", "--fp-rate", "0.01", "--probes", "20000")
    assert "information limit 6.64 bits/entry = 250 bytes" in out
    for name in ("gcs", "bloom"):
        row = next(line for line in out.splitlines() if line.startswith(name))
        bits, _, cookie, ratio, _, fpr = row.split()[1:]
        assert 6.64 < float(bits) < 10.5
        assert int(cookie) < 600
        assert 1.0 < float(ratio) < 1.5
        assert 0.0 < float(fpr.rstrip("%")) < 1.6


@pytest.mark.parametrize(
    ("encoding", "fp_rate"),
    [
        ("gcs", 0.01),
        ("bloom", 0.01),
        ("gcs", 0.0001),
        ("gcs", 0.99),
        ("bloom", 0.99),
        ("bloom", 0.35365),
    ],
    ids=[
        "gcs",
        "bloom",
        "gcs where 8192 keys cannot be built",
        "gcs loose",
        "bloom loose",
        "bloom where the number of hashes changed with the capacity",
    ],
)
def test_plan_says_the_largest_capacity_init_app_accepts(encoding: str, fp_rate: float) -> None:
    """It recommended 1000 at 0.001, which init_app refuses: its last line says the
    ceiling, and init_app takes that capacity and refuses one more, and every larger one
    (sampled). At 1e-4 a GCS digest of 8192 keys cannot be built at all (its values pass
    24 bits): that capacity does not fit, and plan still says the largest that does. At
    the loosest rates, a bit or so per key, two generations of 8192 keys still take more
    than the header budget. Near p = 2^-1.5 a Bloom filter sized by the textbook took one
    hash at some capacities and two at others, so what fit did not shrink with the
    capacity: plan said 1408, init_app took 1505 (a stranger's configuration hunt)."""
    line = cli.plan(300, fp_rate, 100)[-1]
    largest = int(re.search(rf"(\d+) \({encoding}\)", line).group(1))  # type: ignore[union-attr]
    assert largest < 8192
    # Each of the next 20, then a sample up to twice as many.
    larger = [
        *range(largest + 1, largest + 21),
        *range(largest + 21, min(8193, 2 * largest), max(7, largest // 20)),
    ]
    _init_app(encoding, fp_rate, largest)
    for capacity in larger:
        with pytest.raises(ValueError, match="FIREHOSE_CAPACITY"):
            _init_app(encoding, fp_rate, capacity)


def _init_app(encoding: str, fp_rate: float, capacity: int) -> None:
    """``Firehose(app)`` at this encoding, rate and capacity, every other setting default."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="k",
        FIREHOSE_ENCODING=encoding,
        FIREHOSE_FP_RATE=fp_rate,
        FIREHOSE_CAPACITY=capacity,
    )
    Firehose(app)


def test_plan_is_deterministic() -> None:
    assert call("plan", "--probes", "1000") == call("plan", "--probes", "1000")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--probes", "0"], "argument --probes: must be in [1, 10000000], got 0"),
        (["--probes", "-5"], "argument --probes: must be in [1, 10000000], got -5"),
        (["--probes", "1e3"], "argument --probes: not an integer: '1e3'"),
        (["--capacity", "0"], "argument --capacity: must be in [1, 8192], got 0"),
        (["--capacity", "9" * 30], "argument --capacity: must be in [1, 8192], got 999"),
        (["--capacity", "9" * 5000], "argument --capacity: not an integer"),
        (["--fp-rate", "0"], "argument --fp-rate: must be a rate between 0 and 1, excluded"),
        (["--fp-rate", "1"], "argument --fp-rate: must be a rate between 0 and 1, excluded"),
        (["--fp-rate", "-0.1"], "argument --fp-rate: must be a rate between 0 and 1"),
        (["--fp-rate", "nan"], "argument --fp-rate: must be a rate between 0 and 1"),
        (["--fp-rate", "inf"], "argument --fp-rate: must be a rate between 0 and 1"),
        (["--fp-rate", "1e-400"], "argument --fp-rate: must be a rate between 0 and 1"),
        (["--fp-rate", "one"], "argument --fp-rate: not a number: 'one'"),
        # In range one by one, but no digest has these parameters together.
        (["--fp-rate", "1e-307"], "--capacity 300 with --fp-rate 1e-307: gcs: capacity / fp_rate"),
        (
            ["--capacity", "8192", "--fp-rate", "1e-10"],
            "--capacity 8192 with --fp-rate 1e-10: gcs: capacity / fp_rate = 8.192e+13 must "
            "round into (8192, 16777215]; bloom: fp_rate 1e-10 needs 33 hashes",
        ),
    ],
)
def test_plan_refuses_bad_arguments_as_usage_errors(args: list[str], message: str) -> None:
    code, out, err = call("plan", *args)
    assert (code, out) == (2, "")
    assert err.startswith("usage: firehose-digest plan ")
    assert f"firehose-digest plan: error: {message}" in err


def test_plan_and_inspect_take_the_smallest_value_of_each_range() -> None:
    code, out, err = call("plan", "--capacity", "1", "--probes", "1")
    assert code == 0, err
    assert out.startswith("capacity 1, target false-positive rate 0.01: ")
    with mock.patch("time.time", return_value=1_735_689_600.0):
        value = signed(digest_of("/app.css"))
        assert call("inspect", value, "--secret-key", SECRET, "--max-age", "1")[0] == 0


@pytest.mark.parametrize("argv", [["--vers"], ["plan", "--prob", "10"]])
def test_an_abbreviated_option_is_a_usage_error(argv: list[str]) -> None:
    """As ``inspect --u`` is: an abbreviation may come to mean another option later."""
    code, out, err = call(*argv)
    assert (code, out) == (2, "")
    assert "error: " in err


def test_the_defaults_are_the_ones_the_page_states(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each option's default, in the page's tables and in its --help, is the parser's."""
    page = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    documented = dict(re.findall(r"^\| `(--[a-z-]+)[ A-Z]*` \| `?([^|`]*?)`? \|", page, re.M))
    parser = cli.build_parser()
    defaults = {**vars(parser.parse_args(["plan"])), **vars(parser.parse_args(["inspect", "v"]))}
    monkeypatch.setenv("COLUMNS", "200")
    helps = ""
    for command in ("plan", "inspect"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps += " ".join(capsys.readouterr().out.split())
    # An option left unset, or a flag left off, has no default to state.
    literal = {
        option: text
        for option, text in documented.items()
        if (default := defaults[option[2:].replace("-", "_")]) not in (None, "", [])
        and default is not False
    }
    assert set(literal) == {
        "--capacity",
        "--fp-rate",
        "--probes",
        "--cookie-name",
    }  # --cookie-path's is a Set-Cookie line's Path, else "/" (the Set-Cookie tests)
    for option, text in literal.items():
        assert str(defaults[option[2:].replace("-", "_")]) == text, option
        assert f"default {text})" in helps or f"default: {text})" in helps, option
    # --max-age's is a Set-Cookie line's Max-Age, else the server's default.
    row = f"| `--max-age S` | a `Set-Cookie` line's `Max-Age`, else {cli.DEFAULT_MAX_AGE} |"
    assert row in page
    assert f"default: a Set-Cookie line's Max-Age, else {cli.DEFAULT_MAX_AGE})" in helps


def test_the_ranges_are_the_ones_the_page_states() -> None:
    """docs/cli.md's option tables: "1 to 8192", "1 to 10000000", "1 to 34560000". Each
    end is parsed (nothing is run: plan at 10000000 probes takes about a minute), one past it is
    a usage error."""
    page = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    ranges = re.findall(r"^\| `(--[a-z-]+) \w+` \|.*, (\d+) to (\d+) \|$", page, re.M)
    assert [option for option, _, _ in ranges] == ["--capacity", "--probes", "--max-age"]
    parser = cli.build_parser()
    for option, low, high in ranges:
        command = ["inspect", "v"] if option == "--max-age" else ["plan"]
        for value in (low, high):
            parsed = parser.parse_args([*command, option, value])
            assert getattr(parsed, option[2:].replace("-", "_")) == int(value)
        for value in (int(low) - 1, int(high) + 1):
            code, _, err = call(*command, option, str(value))
            assert code == 2
            assert f"argument {option}: must be in [{low}, {high}], got {value}" in err


@pytest.mark.parametrize("command", [[], ["plan"], ["inspect"]])
def test_help_fits_80_columns(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps the options' help to it
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert [line for line in capsys.readouterr().out.splitlines() if len(line) > 80] == []


def test_every_option_has_help() -> None:
    parsers = [cli.build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            assert action.help, action
            if action.choices and isinstance(action.choices, dict):
                parsers.extend(action.choices.values())


# -- inspect: validity and exit codes ---------------------------------------------------


def test_inspect_a_valid_cookie() -> None:
    out = run("inspect", issued_cookie(SECRET), "--secret-key", SECRET)
    assert re.fullmatch(
        r"valid: signed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\), "
        r"expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n"
        r"payload: \d+ bytes\n"
        r"current: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 3 entries\n"
        r"previous: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 0 entries\n",
        out,
    )


def test_inspect_counts_one_entry_as_one_entry() -> None:
    """A first visit that pushed one file: "1 entry", not "1 entries"."""
    out = run("inspect", signed(digest_of("/static/app.css")), "--secret-key", SECRET)
    assert "false-positive rate 0.01 at capacity, 1 entry\n" in out
    assert "false-positive rate 0.01 at capacity, 0 entries\n" in out


def test_inspect_takes_the_key_from_the_environment() -> None:
    out = run("inspect", issued_cookie("env key"), env={"FLASK_SECRET_KEY": "env key"})
    assert out.startswith("valid:")


@pytest.mark.parametrize(
    "env_value", ['"20261202"', "20261202x", '"env key"', "[" * 100_000], ids=str.__len__
)
def test_inspect_reads_the_environment_key_as_flask_from_prefixed_env_does(
    env_value: str,
) -> None:
    """A key of digits is quoted for ``from_prefixed_env`` (which reads JSON), and the
    app's key is then the string inside the quotes: so is inspect's."""
    app = Flask(__name__)
    with mock.patch.dict(os.environ, {"FLASK_SECRET_KEY": env_value}):
        app.config.from_prefixed_env()
    key = app.config["SECRET_KEY"]
    assert isinstance(key, str)
    out = run("inspect", issued_cookie(key), env={"FLASK_SECRET_KEY": env_value})
    assert out.startswith("valid:")


def test_inspect_takes_the_fallback_keys_from_the_environment_as_flask_does() -> None:
    """Midway through a key rotation the server still verifies the old key's cookies."""
    env = {"FLASK_SECRET_KEY": "new key", "FLASK_SECRET_KEY_FALLBACKS": '["old key"]'}
    app = Flask(__name__)
    with mock.patch.dict(os.environ, env):
        app.config.from_prefixed_env()
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old key"]
    out = run("inspect", issued_cookie("old key"), env=env).splitlines()
    assert out[0].startswith("valid:")
    assert out[1].startswith("signed with a fallback key, SECRET_KEY_FALLBACKS[0]: ")
    run("inspect", issued_cookie("old key"), env={"FLASK_SECRET_KEY": "new key"}, status=1)


def test_fallback_keys_without_a_secret_key_verify_nothing_as_to_the_server() -> None:
    """An app without SECRET_KEY reads no digest, whatever its SECRET_KEY_FALLBACKS: the
    command verified the cookie with them, and the last would have been named SECRET_KEY."""
    out = run(
        "inspect",
        issued_cookie("old key"),
        env={"FLASK_SECRET_KEY_FALLBACKS": '["old key"]'},
        status=1,
    )
    assert out.startswith(f"NOT valid: {cli.NO_SECRET_KEY}\n")


@pytest.mark.parametrize("fallbacks", ["[1]", '{"k": "v"}', "[null]", "old key", '"old key"'])
def test_fallback_keys_that_are_not_strings_are_a_usage_error(fallbacks: str) -> None:
    env = {"FLASK_SECRET_KEY": SECRET, "FLASK_SECRET_KEY_FALLBACKS": fallbacks}
    run("inspect", issued_cookie(SECRET), env=env, status=2)


def test_inspect_verifies_a_cookie_of_another_domain_and_path_given_them() -> None:
    """The server signs a digest for its cookie's Domain and Path (codec.scoped_salt)."""
    app = build_app(SECRET_KEY=SECRET, SESSION_COOKIE_DOMAIN=".Shop.test", APPLICATION_ROOT="/a")
    header = app.test_client().get("/", base_url="http://shop.test/a").headers["Set-Cookie"]
    value = header.split(";", 1)[0]
    run("inspect", value, "--secret-key", SECRET, status=1)
    run("inspect", value, "--secret-key", SECRET, "--cookie-path", "/a", status=1)
    both = ("--cookie-domain", "shop.test", "--cookie-path", "/a")
    assert run("inspect", value, "--secret-key", SECRET, *both).startswith("valid:")


def test_inspect_verifies_a_partitioned_cookie_given_cookie_partitioned() -> None:
    """The server signs a digest for its cookie's Partitioned attribute too: a partitioned
    copy and an unpartitioned one are distinct cookies a browser may both send."""
    app = build_app(SECRET_KEY=SECRET, SESSION_COOKIE_PARTITIONED=True, APPLICATION_ROOT="/a")
    header = app.test_client().get("/", base_url="https://shop.test/a").headers["Set-Cookie"]
    value = header.split(";", 1)[0]
    out = run("inspect", value, "--secret-key", SECRET, "--cookie-path", "/a", status=1)
    assert "--cookie-partitioned" in out.splitlines()[0]  # the hint names the option
    given = ("--cookie-path", "/a", "--cookie-partitioned")
    assert run("inspect", value, "--secret-key", SECRET, *given).startswith("valid:")
    unpartitioned = issued_cookie(SECRET)
    run("inspect", unpartitioned, "--secret-key", SECRET, "--cookie-partitioned", status=1)


def test_inspect_verifies_a_partitioned_set_cookie_line_as_its_attributes_say() -> None:
    """Pasted as the response sent it, the line's Partitioned is part of the signature as
    its Domain and Path are: no flag needed."""
    app = build_app(SECRET_KEY=SECRET, SESSION_COOKIE_PARTITIONED=True, APPLICATION_ROOT="/a")
    header = app.test_client().get("/", base_url="https://shop.test/a").headers["Set-Cookie"]
    assert "; Partitioned" in header
    code, out, _ = call("inspect", f"< Set-Cookie: {header}", "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a Set-Cookie line: no Domain (host-only) and its Path /a, Partitioned are part of "
        "the signature"
    )
    # The line without the attribute is another cookie's scope: it does not verify.
    plain = header.replace("; Partitioned", "")
    assert call("inspect", f"Set-Cookie: {plain}", "--secret-key", SECRET)[0] == 1
    # The flag adds Partitioned to a line that lacks it.
    flagged = call(
        "inspect", f"Set-Cookie: {plain}", "--secret-key", SECRET, "--cookie-partitioned"
    )
    assert flagged[0] == 0, flagged[1]
    assert "its Path /a, --cookie-partitioned are part" in flagged[1].splitlines()[0]
    # And --no-cookie-partitioned takes it from a line that has it, as --cookie-domain and
    # --cookie-path win over the line's: the cookie is then not the one the app signed.
    unflagged = call(
        "inspect", f"< Set-Cookie: {header}", "--secret-key", SECRET, "--no-cookie-partitioned"
    )
    assert unflagged[0] == 1, unflagged[1]
    assert "its Path /a, --no-cookie-partitioned are part" in unflagged[1].splitlines()[0]


def test_no_cookie_partitioned_wins_over_a_set_cookie_lines_partitioned() -> None:
    """A front may add ``Partitioned`` on the way (as nginx's ``proxy_cookie_flags`` adds
    others) to a cookie the app signed unpartitioned: the line then says Partitioned, and
    --no-cookie-partitioned says the app's. It could only add Partitioned, never take it
    away: the cookie was "bad signature" whatever the flags said."""
    app = build_app(SECRET_KEY=SECRET, APPLICATION_ROOT="/a")
    header = app.test_client().get("/", base_url="https://shop.test/a").headers["Set-Cookie"]
    assert "Partitioned" not in header
    added = f"< Set-Cookie: {header}; Partitioned"
    assert call("inspect", added, "--secret-key", SECRET)[0] == 1
    code, out, _ = call("inspect", added, "--secret-key", SECRET, "--no-cookie-partitioned")
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a Set-Cookie line: no Domain (host-only) and its Path /a, --no-cookie-partitioned "
        "are part of the signature"
    )
    # Given at the line's own value, the flag is still said.
    plain = f"< Set-Cookie: {header}"
    code, out, _ = call("inspect", plain, "--secret-key", SECRET, "--no-cookie-partitioned")
    assert code == 0, out
    assert ", --no-cookie-partitioned are part" in out.splitlines()[0]
    # inspect() itself: None is the line's, else unpartitioned; False and True win over it.
    assert not cli.inspect(added, [SECRET])[0]
    assert cli.inspect(added, [SECRET], cookie_partitioned=False)[0]
    assert cli.inspect(plain, [SECRET], cookie_partitioned=None)[0]
    assert not cli.inspect(plain, [SECRET], cookie_partitioned=True)[0]
    assert cli.inspect(header.partition(";")[0], [SECRET], cookie_path="/a")[0]


@pytest.mark.parametrize("domain", ["a..b", "-" * 64 + ".example"])
def test_a_cookie_domain_no_cookie_can_have_is_a_usage_error(domain: str) -> None:
    out = run("inspect", "x", "--secret-key", SECRET, "--cookie-domain", domain, status=2)
    assert out == ""


@pytest.mark.parametrize("key", ["20261202", "1.5", "true", "null"])
def test_a_secret_key_the_app_reads_as_no_string_is_a_usage_error(key: str) -> None:
    """from_prefixed_env() reads JSON: the app gets a number (or a bool, or None) and its
    init_app refuses it, so inspect must not verify with the digits as a key."""
    app = Flask(__name__)
    with mock.patch.dict(os.environ, {"FLASK_SECRET_KEY": key}):
        app.config.from_prefixed_env()
    assert not isinstance(app.config["SECRET_KEY"], str)
    cookie = issued_cookie(key)
    assert run("inspect", cookie, env={"FLASK_SECRET_KEY": f'"{key}"'}).startswith("valid:")
    run("inspect", cookie, env={"FLASK_SECRET_KEY": key}, status=2)


@pytest.mark.parametrize("order", ["foreign first", "ours first"])
def test_inspect_reads_the_copy_of_the_cookie_the_server_reads(order: str) -> None:
    """A browser may send the digest cookie twice (an old Domain or Path beside the new):
    the server reads the valid one, so inspect does too, and says so."""
    ours, foreign = issued_cookie(SECRET), issued_cookie("another app's key")
    pair = [foreign, ours] if order == "foreign first" else [ours, foreign]
    header = f"Cookie: h2-digest={pair[0]}; h2-digest={pair[1]}"
    app = build_app(SECRET_KEY=SECRET)
    client = app.test_client(use_cookies=False)
    links = client.get("/", headers={"Cookie": header[len("Cookie: ") :]})
    assert "nopush" in links.headers["Link"]  # the server read ours: all held
    out = run("inspect", header, "--secret-key", SECRET, "--url", "/static/site.css")
    assert out.splitlines()[0] == (
        "2 h2-digest cookies sent: reading the valid one signed last, as the server does"
    )
    assert out.splitlines()[1].startswith("valid:")


def test_inspect_says_it_read_the_first_copy_when_none_verifies() -> None:
    one, other = issued_cookie("another key"), issued_cookie("a third key")
    header = f"Cookie: h2-digest={one}; h2-digest={other}"
    out = run("inspect", header, "--secret-key", SECRET, status=1)
    assert out.splitlines()[0] == "2 h2-digest cookies sent: reading the first (none verifies)"
    assert out.splitlines()[1].startswith("NOT valid:")
    # Also when the first is not even a signed value.
    out = run("inspect", "Cookie: h2-digest=abc; h2-digest=def", "--secret-key", SECRET, status=1)
    assert out.splitlines() == [
        "2 h2-digest cookies sent: reading the first (none verifies)",
        "NOT valid: not a signed cookie value (payload.timestamp.signature)",
    ]


def test_inspect_reads_the_first_copy_sent_when_none_verifies_or_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY_FALLBACKS", raising=False)
    header = f"h2-digest=abc; h2-digest={issued_cookie('another key')}"
    first = "NOT valid: not a signed cookie value (payload.timestamp.signature)"
    out = call("inspect", header, "--secret-key", SECRET)[1]
    assert out.splitlines()[:2] == [
        "2 h2-digest cookies sent: reading the first (none verifies)",
        first,
    ]
    assert call("inspect", header)[1].splitlines()[:2] == [
        "2 h2-digest cookies sent: reading the first",
        first,
    ]


def test_inspect_reads_the_valid_copy_signed_last_of_several() -> None:
    with mock.patch("time.time", return_value=1_735_689_600.0):
        old = signed(digest_of("/old.css"))
    with mock.patch("time.time", return_value=1_735_689_600.0 + 10):
        new = signed(digest_of("/new.css"))
    for pair in ((old, new), (new, old)):
        header = f"h2-digest={pair[0]}; h2-digest={pair[1]}"
        with mock.patch("time.time", return_value=1_735_689_600.0 + 20):
            code, out, _ = call("inspect", header, "--secret-key", SECRET, "--url", "/new.css")
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == (
            "2 h2-digest cookies sent: reading the valid one signed last, as the server does"
        )
        assert lines[1].startswith("valid: signed 2025-01-01 00:00:10 UTC (10 s ago)")
        assert "held: /new.css" in lines


def test_inspect_reads_the_copy_signed_last_even_of_settings_the_server_ignores() -> None:
    """docs/cli.md: "a copy made with other digest settings, which the server ignores, may
    still be the one read": inspect does not know FIREHOSE_CAPACITY, the server does."""
    with mock.patch("time.time", return_value=1_735_689_600.0):
        ours = signed(digest_of("/a.css"))
    other_settings = AgingDigest(GCSDigest, 100, 0.01)
    with mock.patch("time.time", return_value=1_735_689_600.0 + 10):
        theirs = signed(other_settings.to_bytes())
    header = f"h2-digest={ours}; h2-digest={theirs}"
    with mock.patch("time.time", return_value=1_735_689_600.0 + 20):
        code, out, _ = call("inspect", header, "--secret-key", SECRET, "--url", "/a.css")
        served = build_app(SECRET_KEY=SECRET).test_client(use_cookies=False)
        links = served.get("/push?u=/a.css", headers={"Cookie": header}).headers["Link"]
    assert code == 0
    assert "current: GCSDigest, capacity 100, false-positive rate 0.01" in out
    assert "not held: /a.css" in out.splitlines()
    assert links == "</a.css>; rel=preload; as=style; nopush"  # the server read ours


def test_inspect_asks_for_a_url_as_push_records_it() -> None:
    """However ``push()`` was given the url, ``--url`` finds it in the same spelling."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    Firehose(app)

    @app.route("/")
    def index() -> str:
        for url in ("/é.css", "/my photo.jpg", " /sp.css", "/<x>.js"):
            push(url, as_="style")
        return "ok"

    client = app.test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    spellings = ["/é.css", "/%C3%A9.css", "/my photo.jpg", " /sp.css", "/<x>.js", "/%3Cx%3E.js"]
    code, out, _ = call(
        "inspect", cookie.value, "--secret-key", SECRET, *(f"--url={url}" for url in spellings)
    )
    assert code == 0
    held = [line for line in out.splitlines() if line.startswith("held: ")]
    assert held == [
        "held: /%C3%A9.css",
        "held: /%C3%A9.css",
        "held: /my%20photo.jpg",
        "held: /sp.css",
        "held: /%3Cx%3E.js",
        "held: /%3Cx%3E.js",
    ]


def test_a_url_typed_under_an_ascii_locale_is_asked_as_typed() -> None:
    """Under a C locale without UTF-8 mode, Python decodes the command line as ASCII with
    surrogateescape: "/é.css", typed in a UTF-8 terminal, arrived as two lone surrogates
    and was refused. The bytes the shell passed are the UTF-8 the url was typed in."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    Firehose(app)
    app.add_url_rule("/", "page", lambda: push("/é.css", as_="style"))
    client = app.test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    ascii_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    args = ("inspect", cookie.value, "--secret-key", SECRET, "--url", "/é.css")
    out = run(*args, env=ascii_locale)
    assert "held: /%C3%A9.css" in out.splitlines()
    # Bytes that are not UTF-8 (a Latin-1 terminal's "é") name no url push() records.
    latin1 = os.fsdecode("/\xe9.css".encode("latin-1"))
    refused = subprocess.run(
        [sys.executable, "-m", "firehose_digest", *args[:-1], latin1],
        capture_output=True,
        text=True,
        env={**os.environ, **ascii_locale},
        check=False,
    )
    assert refused.returncode == 2, refused.stdout
    assert "lone surrogate" in refused.stderr


def test_every_text_typed_under_an_ascii_locale_is_read_as_typed() -> None:
    """As a url is: a digest version, a cookie Domain or Path, a resource version and the
    keys of the environment, typed in UTF-8 under a C locale without UTF-8 mode, arrived
    as lone surrogates. They were refused as "not UTF-8", and a resource version was
    asked in that spelling: "not held"."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="ké",
        FIREHOSE_DIGEST_VERSION="é",
        SESSION_COOKIE_DOMAIN="bücher.example",
        APPLICATION_ROOT="/é",
    )
    Firehose(app)
    app.add_url_rule("/", "page", lambda: push("/app.js", as_="script", version="é"))
    response = app.test_client().get("/", base_url="http://www.xn--bcher-kva.example/%C3%A9")
    value = response.headers["Set-Cookie"].partition("=")[2].partition(";")[0]
    ascii_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    scope = ("--digest-version", "é", "--cookie-domain", "bücher.example", "--cookie-path", "/é")
    asked = ("--url", "/app.js", "--resource-version", "é")
    typed = run("inspect", value, "--secret-key", "ké", *scope, *asked, env=ascii_locale)
    environment = {**ascii_locale, "FLASK_SECRET_KEY": "ké"}
    from_environment = run("inspect", value, *scope, *asked, env=environment)
    fallbacks = {**ascii_locale, "FLASK_SECRET_KEY": "new", "FLASK_SECRET_KEY_FALLBACKS": '["ké"]'}
    from_fallbacks = run("inspect", value, *scope, env=fallbacks)
    for out in (typed, from_environment, from_fallbacks):
        assert out.startswith("valid: signed "), out
    for out in (typed, from_environment):
        # stdout is ASCII there: "é" is written escaped.
        assert "held: /app.js (version \\xe9)" in out.splitlines(), out


def test_a_cookie_typed_under_an_ascii_locale_is_read_as_typed() -> None:
    """COOKIE too, as every option is: under a C locale without UTF-8 mode, a Set-Cookie
    line whose Domain was typed in UTF-8 arrived as lone surrogates, "the Set-Cookie
    line's Domain or Path is not one a cookie can have", exit 1; the other cookies of a
    header were named in that spelling, "th??me" for "thème"."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, SESSION_COOKIE_DOMAIN="bücher.example")
    Firehose(app)
    app.add_url_rule("/", "page", lambda: push("/app.js", as_="script"))
    response = app.test_client().get("/", base_url="http://www.xn--bcher-kva.example/")
    value = response.headers["Set-Cookie"].partition("=")[2].partition(";")[0]
    ascii_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    line = f"Set-Cookie: h2-digest={value}; Domain=bücher.example; Path=/"
    out = run("inspect", line, "--secret-key", SECRET, "--url", "/app.js", env=ascii_locale)
    # stdout is ASCII there: "ü" is written escaped.
    assert out.splitlines()[0] == (
        "a Set-Cookie line: its Domain b\\xfccher.example and its Path / are part of the signature"
    )
    assert "held: /app.js" in out.splitlines()
    out = run("inspect", "thème=sombre; ñ=2", "--secret-key", SECRET, env=ascii_locale, status=1)
    assert out.startswith("NOT valid: no h2-digest cookie here (cookies: th\\xe8me, \\xf1)\n")


def test_a_key_that_starts_with_a_dash_is_given_with_an_equals_sign() -> None:
    """One key in 64 that ``secrets.token_urlsafe`` makes starts with "-": argparse takes
    ``--secret-key -Ab3`` for a missing key and another option, a usage error; docs/cli.md
    says to write ``--secret-key=-Ab3``, which verifies."""
    key = "-Ab3"
    value = issued_cookie(key)
    assert call("inspect", value, "--secret-key", key)[0] == 2
    code, out, _ = call("inspect", value, f"--secret-key={key}")
    assert code == 0, out
    assert out.startswith("valid: signed ")


def test_inspect_refuses_a_url_push_would_refuse() -> None:
    code, _, err = call("inspect", issued_cookie(SECRET), "--secret-key", SECRET, "--url", "/a\nb")
    assert code == 2
    assert "--url: a pushed url may not hold CR or LF" in err


def test_inspect_tries_every_key_given() -> None:
    cookie = issued_cookie("old key")
    assert call("inspect", cookie, "--secret-key", "old key", "--secret-key", "new key")[0] == 0
    assert call("inspect", cookie, "--secret-key", "new key", "--secret-key", "old key")[0] == 0


#: SECRET_KEY, then SECRET_KEY_FALLBACKS: ["other key", "old key"].
ROTATED = ["--secret-key", "new key", "--secret-key", "other key", "--secret-key", "old key"]


def test_inspect_says_which_key_signed_a_digest_and_when_a_fallback_one_is_replaced() -> None:
    """Midway through a key rotation an operator asks whether clients' digests still hang
    on the old key, and until when (security.md, key rotation): it said only "valid". The
    server signs a digest again with SECRET_KEY when it changes, or from half its
    lifetime on (HeldDigest.renewal_due): 15 days and a second, at the default max age."""
    now = 1_735_689_600  # 2025-01-01 00:00:00 UTC
    with mock.patch("time.time", return_value=float(now)):
        cookie = signed(digest_of("/app.css"), secret="old key")
        code, out, _ = call("inspect", cookie, *ROTATED)
        assert code == 0
        assert out.splitlines()[1] == (
            "signed with a fallback key, SECRET_KEY_FALLBACKS[1]: the server signs it again "
            "with SECRET_KEY when the digest changes, or from 2025-01-16 00:00:01 UTC (half "
            "of --max-age)"
        )
        cookie = signed(digest_of("/app.css"), secret="new key")
        assert call("inspect", cookie, *ROTATED)[1].splitlines()[1] == "signed with SECRET_KEY"
        # One key: nothing to tell apart.
        out = call("inspect", cookie, "--secret-key", "new key")[1]
        assert out.startswith("valid: ") and "signed with" not in out


def test_a_digest_signed_with_a_fallback_key_is_signed_again_as_inspect_says() -> None:
    """The server behind the line above: a response that changes nothing leaves the
    old key's signature; one that pushes signs the digest with SECRET_KEY."""
    old = issued_cookie("old key")
    app = build_app(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["other key", "old key"])
    client = app.test_client()
    client.set_cookie("h2-digest", old)
    assert "Set-Cookie" not in client.get("/").headers  # every link held: nothing new
    assert "SECRET_KEY_FALLBACKS[1]" in call("inspect", old, *ROTATED)[1]
    client.get("/push?u=/new.css")
    new = client.get_cookie("h2-digest")
    assert new is not None and new.value != old
    assert call("inspect", new.value, *ROTATED)[1].splitlines()[1] == "signed with SECRET_KEY"


@pytest.mark.parametrize("max_age", [MAX_AGE, MAX_AGE + 1])
def test_the_second_inspect_gives_is_the_one_the_server_signs_a_fallback_digest_again(
    max_age: int,
) -> None:
    """A client that pushes nothing new keeps the fallback key's signature until the
    second inspect names, and from that second on gets a digest signed with SECRET_KEY
    (for an odd max age, the server's half-second rounded up); past it, inspect says so."""
    start = 1_735_689_600  # 2025-01-01 00:00:00 UTC
    app = build_app(
        SECRET_KEY="new key",
        SECRET_KEY_FALLBACKS=["other key", "old key"],
        FIREHOSE_MAX_AGE=max_age,
    )
    with mock.patch("time.time", return_value=float(start)):
        old = issued_cookie("old key")
        said = call("inspect", old, *ROTATED, "--max-age", str(max_age))[1].splitlines()[1]
    stamp = re.search(r"from (\S+ \S+) UTC", said)
    assert stamp is not None
    renewal = int(datetime.fromisoformat(stamp[1] + "+00:00").timestamp())
    for now, signs_again in ((renewal - 1, False), (renewal, True)):
        client = app.test_client()
        client.set_cookie("h2-digest", old)
        with mock.patch("time.time", return_value=float(now)):
            written = client.get("/").headers.get("Set-Cookie")
        assert (written is not None) is signs_again, now - start
    with mock.patch("time.time", return_value=float(renewal)):
        said = call("inspect", old, *ROTATED, "--max-age", str(max_age))[1].splitlines()[1]
    assert said == (
        "signed with a fallback key, SECRET_KEY_FALLBACKS[1]: the server signs it again "
        "with SECRET_KEY when it next writes it"
    )


@pytest.mark.parametrize("valid_calls", range(8))
@pytest.mark.parametrize(
    ("read_at", "then", "why"),
    [(100, 101, "NOT valid: expired: "), (-MAX_CLOCK_SKEW, -MAX_CLOCK_SKEW - 1, "NOT valid: ")],
    ids=["its last second, then expired", "as far ahead as trusted, then the clock back"],
)
def test_a_cookie_whose_age_changes_while_inspected_is_told_one_way_never_a_traceback(
    valid_calls: int, read_at: int, then: int, why: str
) -> None:
    """Which key signed is told by the signature alone: verified again with each key and
    its age, a cookie valid at the first reading and not a second later (expired, or
    signed too far ahead of a clock set back) named no key, and the search for one
    raised StopIteration."""
    start = 1_735_689_600
    with mock.patch("time.time", return_value=float(start)):
        cookie = DigestCodec(["old"], salt_for(""), 100).dumps(digest_of("/app.css"))
    clock = itertools.chain(
        itertools.repeat(float(start + read_at), valid_calls),
        itertools.repeat(float(start + then)),
    )
    with mock.patch("time.time", side_effect=lambda: next(clock)):
        valid, out = cli.inspect(cookie, ["old", "new"], max_age=100)
    if valid:
        assert out[1].startswith("signed with a fallback key, SECRET_KEY_FALLBACKS[0]")
    else:
        assert out[0].startswith(why)


def test_a_fallback_is_named_by_its_place_in_the_list_empty_ones_included() -> None:
    """The server ignores an empty fallback but the app's list keeps it: the key after
    it is SECRET_KEY_FALLBACKS[1] in the config an operator reads."""
    out = run(
        "inspect",
        issued_cookie("old key"),
        env={"FLASK_SECRET_KEY": "new key", "FLASK_SECRET_KEY_FALLBACKS": '["", "old key"]'},
    )
    assert out.splitlines()[1].startswith("signed with a fallback key, SECRET_KEY_FALLBACKS[1]: ")
    # inspect() takes the keys as the app lists them, an empty fallback too.
    valid, lines = cli.inspect(issued_cookie("new key"), ["", "new key"])
    assert valid and lines[0].startswith("valid: ")
    assert not any(line.startswith("signed with") for line in lines)  # one key verifies


@pytest.mark.parametrize(
    "pasted",
    [
        "> Cookie: h2-digest={value}\n< Set-Cookie: h2-digest=; Max-Age=0; Path=/",
        "< Set-Cookie: h2-digest={value}; Path=/",
    ],
    ids=["a deletion line after the request's cookie", "a Set-Cookie line's own value"],
)
def test_a_set_cookie_line_is_told_its_key_but_no_renewal(pasted: str) -> None:
    """The server signs again only a cookie a request sends it: one a response deletes,
    or one it has just written, is not signed again on that response."""
    value = issued_cookie("old key")
    _, out, _ = call("inspect", pasted.format(value=value), *ROTATED)
    named = [line for line in out.splitlines() if line.startswith("signed with")]
    assert named == ["signed with a fallback key, SECRET_KEY_FALLBACKS[1]"]


@pytest.mark.parametrize(
    "form",
    [
        "{value}",
        "  {value}\n",
        "h2-digest={value}",
        "a=1; h2-digest={value}; b=2",
        "Cookie: a=1; h2-digest={value}; b=2",
        "cookie:h2-digest={value}",
        'h2-digest="{value}"',
        "other-digest=x; h2-digest={value}",
    ],
)
def test_inspect_reads_a_value_a_pair_or_a_cookie_header(form: str) -> None:
    cookie = form.format(value=issued_cookie(SECRET))
    code, out, _ = call("inspect", cookie, "--secret-key", SECRET)
    assert code == 0, out
    assert out.startswith("valid:")


def test_inspect_picks_the_cookie_named() -> None:
    value = issued_cookie(SECRET)
    header = f"h2-digest=garbage; mine={value}"
    assert call("inspect", header, "--secret-key", SECRET)[0] == 1
    assert call("inspect", header, "--secret-key", SECRET, "--cookie-name", "mine")[0] == 0


#: What the server does with the cookie, said after the verdict.
IGNORED = "the server ignores this cookie: to it, every url is new"
#: ... unless no key was given: then that is for its own key to say.
KEY_NOT_GIVEN = "the server reads it only if it verifies with the app's SECRET_KEY"
#: ... or when it reads none of more copies than it tries.
NONE_READ = (
    "the server reads none of these copies: it pushes nothing (every link nopush), and "
    "records nothing"
)


@pytest.mark.parametrize(
    ("args", "first_line", "second_line"),
    [
        (
            ["--secret-key", "other"],
            "NOT valid: bad signature: was it signed with this SECRET_KEY "
            "(and this FIREHOSE_DIGEST_VERSION, --digest-version, cookie Domain, Path and "
            "Partitioned, --cookie-domain, --cookie-path and --cookie-partitioned)?",
            IGNORED,
        ),
        (
            ["--secret-key", SECRET, "--digest-version", "2"],
            "NOT valid: bad signature: was it signed with this SECRET_KEY "
            "(and this FIREHOSE_DIGEST_VERSION, --digest-version, cookie Domain, Path and "
            "Partitioned, --cookie-domain, --cookie-path and --cookie-partitioned)?",
            IGNORED,
        ),
        (
            [],
            "NOT valid: no secret key given: pass --secret-key or set FLASK_SECRET_KEY",
            KEY_NOT_GIVEN,
        ),
    ],
)
def test_inspect_says_why_a_cookie_is_not_valid_and_shows_its_payload(
    args: list[str], first_line: str, second_line: str
) -> None:
    out = run("inspect", issued_cookie(SECRET), *args, status=1)
    assert out.splitlines()[:2] == [first_line, second_line]
    assert (
        "current: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 3 entries" in out
    )


@pytest.mark.parametrize("form", ["{}", "session={}"])
def test_a_compressed_flask_session_cookie_is_said_to_be_one_not_an_empty_payload(
    form: str,
) -> None:
    """Flask's session serializer zlib-compresses a payload when that is shorter, and marks
    it with a "." before it; SessionConnector keeps its list there. Read as a digest's, the
    payload was the empty text before that "." ("unverified payload of 0 bytes")."""
    app = Flask(__name__)
    app.secret_key = SECRET

    @app.route("/")
    def index() -> str:
        flask.session["h2-held"] = [f"/static/r{i}.css" for i in range(50)]
        return ""

    client = app.test_client()
    client.get("/")
    session = client.get_cookie("session")
    assert session is not None and session.value.startswith(".")
    pasted = form.format(session.value)
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET, "--cookie-name", "session")
    assert code == 1
    assert out.splitlines()[1:] == [
        "the server ignores this cookie: to it, every url is new",
        "unverified payload: compressed (the '.' before it), as itsdangerous compresses "
        "Flask's session cookie, and never a digest: not a digest cookie",
    ]


def test_a_digest_cut_before_its_payload_is_not_said_to_be_compressed() -> None:
    """A value that lost its payload while copied starts with "." too: its empty payload
    is said, not a compression no text after the "." has."""
    cut = "." + issued_cookie(SECRET).partition(".")[2]
    code, out, _ = call("inspect", cut, "--secret-key", SECRET)
    assert code == 1
    assert "compressed" not in out
    assert "unverified payload of 0 bytes" in out, out


def test_a_paste_of_thousands_of_cookies_names_a_few_of_them() -> None:
    """Without the digest among them, the names said stay a line to read, however many
    cookies or however long a name (a page pasted whole): the first 20, each cut at 64
    characters, and how many more."""
    header = "; ".join(f"c{i}=1" for i in range(5000))
    code, out, _ = call("inspect", f"{'n' * 10_000}=1; {header}", "--secret-key", SECRET)
    names = ", ".join(f"c{i}" for i in range(19))
    assert (code, out) == (
        1,
        f"NOT valid: no h2-digest cookie here (5001 cookies: {'n' * 64}..., {names} and "
        "4981 more)\n",
    )


def test_inspect_says_when_a_cookie_expired() -> None:
    with mock.patch("time.time", return_value=1_735_689_600.0):  # 2025-01-01 00:00:00 UTC
        value = signed(digest_of("/app.css"))
    with mock.patch("time.time", return_value=1_735_689_600.0 + 61):
        assert call("inspect", value, "--secret-key", SECRET, "--max-age", "61")[0] == 0
        code, out, _ = call("inspect", value, "--secret-key", SECRET, "--max-age", "60")
    assert code == 1
    assert out.startswith(
        "NOT valid: expired: signed 2025-01-01 00:00:00 UTC, more than --max-age 60 s ago\n"
    )


def test_inspect_says_when_a_cookie_comes_from_the_future() -> None:
    with mock.patch("time.time", return_value=1_735_689_600.0):
        value = signed(digest_of("/app.css"))
    with mock.patch("time.time", return_value=1_735_689_600.0 - MAX_CLOCK_SKEW):
        assert call("inspect", value, "--secret-key", SECRET)[0] == 0  # another server's clock
    with mock.patch("time.time", return_value=1_735_689_600.0 - MAX_CLOCK_SKEW - 1):
        code, out, _ = call("inspect", value, "--secret-key", SECRET)
    assert code == 1
    assert out.startswith("NOT valid: signed 2025-01-01 00:00:00 UTC, in the future")


def test_inspect_gives_a_date_past_year_9999_as_a_unix_time() -> None:
    now = 253_402_300_799 - 10  # 9999-12-31 23:59:49 UTC
    with mock.patch("time.time", return_value=float(now)):
        value = signed(digest_of("/app.css"))
        code, out, _ = call("inspect", value, "--secret-key", SECRET)
    assert code == 0
    assert out.splitlines()[0] == (
        f"valid: signed 9999-12-31 23:59:49 UTC (0 s ago), "
        f"expires at Unix time {now + MAX_AGE + 1}"
    )


def test_a_cookie_signed_past_year_9999_is_said_signed_in_the_future() -> None:
    """A value the key signed at a time past year 9999, a clock set wrong, was said "not a
    signed cookie value: bad signature or encoding: year 10000 is out of range": it
    verifies, and itsdangerous then fails to read its time as a date. The server ignores
    it, as one signed ahead of its clock."""
    later = 253_402_300_800  # 10000-01-01 00:00:00 UTC
    with mock.patch("time.time", return_value=float(later)):
        value = signed(digest_of("/app.css"))
    code, out, _ = call("inspect", value, "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[:2] == [
        f"NOT valid: signed at Unix time {later}, in the future: is a clock wrong?",
        "the server ignores this cookie: to it, every url is new",
    ]


@pytest.mark.parametrize(
    ("cookie", "out"),
    [
        # An empty COOKIE is a usage error (test_an_empty_cookie_argument_is_a_usage_error...).
        ("!!!", "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"),
        ("a=1; b=2", "NOT valid: no h2-digest cookie here (cookies: a, b)\n"),
        ("Cookie:", "NOT valid: no h2-digest cookie here (cookies: none)\n"),
        # The shortest value that is one: read, and refused for what it is.
        (".", "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"),
        ("Cookie: .", "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"),
        ("x" * 5000, "NOT valid: 5000 characters, longer than any cookie a browser keeps\n"),
        # The longest value a browser keeps is read, not refused for its length.
        ("x" * 4096, "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"),
        ("a.b", "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"),
        ("=", "NOT valid: no h2-digest cookie here (cookies: none)\n"),
        ("a\x01=1; b=2", "NOT valid: no h2-digest cookie here (cookies: 'a\\x01', b)\n"),
        # An undecodable byte of argv (a lone surrogate) is read as "?", as no browser sends one.
        (
            b"k\xff=1".decode("utf-8", "surrogateescape"),
            "NOT valid: no h2-digest cookie here (cookies: k?)\n",
        ),
        (
            "A.x.y",
            "NOT valid: not a signed cookie value: its signature, after the last '.', is 1 "
            "character, where every signature is 27: was the value cut short?\n"
            "the server ignores this cookie: to it, every url is new\n"
            "unverified payload: not base64url\n",
        ),
        (
            "\xe9.x.y",
            "NOT valid: not a signed cookie value: it holds '\xe9', which none does "
            "(base64url's letters, digits, '-' and '_', in parts joined by '.')\n"
            "the server ignores this cookie: to it, every url is new\n"
            "unverified payload of 0 bytes is not a digest: empty digest\n",
        ),
        (
            "AAAA.x.y",
            "NOT valid: not a signed cookie value: its signature, after the last '.', is 1 "
            "character, where every signature is 27: was the value cut short?\n"
            "the server ignores this cookie: to it, every url is new\n"
            "unverified payload of 3 bytes is not a digest: unsupported digest format version 0\n",
        ),
        # Named: a signed value holds the time it was signed, and pytest-xdist's workers
        # collect at different seconds; ids that differ between them stop the run.
        pytest.param(
            signed(b"\x23"),
            "NOT valid: signed with this key, but its payload of 1 bytes is not a digest: "
            "AgingDigest: 1 bytes, shorter than its 3-byte header\n",
            id="one byte signed",
        ),
        pytest.param(
            signed(GCSDigest(300, 0.01).to_bytes()),
            "NOT valid: signed with this key, but its payload of 8 bytes is not a digest: "
            "a single GCSDigest, not the two generations the extension writes\n",
            id="a single GCSDigest signed",
        ),
    ],
)
def test_inspect_refuses_what_is_not_a_digest(cookie: str, out: str) -> None:
    assert call("inspect", cookie, "--secret-key", SECRET) == (1, out, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COOKIE"),
        (["v", "--secret-key", ""], "argument --secret-key: must not be empty"),
        (["v", "--cookie-name", "a b"], "argument --cookie-name: not a cookie name"),
        (["v", "--max-age", "0"], "argument --max-age: must be in [1, 34560000], got 0"),
        (["v", "--url"], "argument --url: expected one argument"),
        (["v", "--u", "/x"], "unrecognized arguments: --u; inspect was given a second"),
    ],
)
def test_inspect_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out, err = call("inspect", *args)
    assert (code, out) == (2, "")
    assert message in err


def test_inspect_help_explains_the_accepted_forms() -> None:
    code, out, _ = call("inspect", "--help")
    assert code == 0
    text = " ".join(out.split())
    for form in ['"h2-digest=VALUE"', '"a=1; h2-digest=VALUE; b=2"', '"Cookie:"', "Exit status"]:
        assert form in text


@pytest.mark.parametrize("command", [(), ("inspect",), ("plan",)])
def test_help_names_every_exit_status_the_docs_do(command: tuple[str, ...]) -> None:
    """docs/cli.md: 2 also when the output could not be written, 130 when stopped by
    Ctrl-C. ``--help`` named neither, and a script's author reads it first."""
    code, out, _ = call(*command, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "2 usage error, or the output could not be written" in text
    assert "130 stopped by Ctrl-C" in text


# -- inspect --url ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rate", "both_full"), [(GCSDigest, "1", "2"), (BloomDigest, "0.999", "2")]
)
def test_inspect_answers_whether_urls_are_held(
    kind: type[BloomDigest] | type[GCSDigest], rate: str, both_full: str
) -> None:
    value = signed(digest_of("/app.css", "/app.js", "/font.woff2\nv2", kind=kind))
    code, out, _ = call(
        "inspect", value, "--secret-key", SECRET, "--url", "/app.js", "--url", "/missing.css"
    )
    assert code == 0
    assert out.splitlines()[-3:] == [
        "held: /app.js",
        "not held: /missing.css",
        f'"held" is wrong for about {rate}% of urls never sent (up to {both_full}% with both '
        'generations full); "not held" is always right',
    ]


def test_inspect_asks_for_a_versioned_resource() -> None:
    value = signed(digest_of("/font.woff2\nv2"))
    ask = ("inspect", value, "--secret-key", SECRET, "--url", "/font.woff2")
    assert "not held: /font.woff2\n" in call(*ask)[1]
    assert "held: /font.woff2 (version v2)\n" in call(*ask, "--resource-version", "v2")[1]
    assert "not held: /font.woff2 (version v1)\n" in call(*ask, "--resource-version", "v1")[1]


def test_inspect_asks_for_a_push_static_file_with_its_v_as_the_version(tmp_path: Path) -> None:
    """push_static() records its versioned url with the file's version as the key's version
    (so a 103 can tell the file changed): asked by the url alone, as the ``Link`` header
    shows it, the file is not held; with its ``v`` as ``--resource-version``, it is. Found
    adopting the extension in Flask's tutorial app: every push_static file read "not held"
    while the server wrote it ``nopush``. docs/cli.md says to give the ``v``."""
    (tmp_path / "site.css").write_text("body { color: red }\n")
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    app.config["SECRET_KEY"] = SECRET
    Firehose(app)

    @app.route("/")
    def page() -> str:
        return push_static("site.css")

    client = app.test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == (
        "</static/site.css?v=43c0e95b06>; rel=preload; as=style; nopush"
    )
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    url = "/static/site.css?v=43c0e95b06"
    ask = ("inspect", cookie.value, "--secret-key", SECRET, "--url", url)
    not_held = call(*ask)[1]
    assert f"not held: {url}\n" in not_held
    # The answer says how to ask for the file as push_static() recorded it.
    assert f"{url} names v=43c0e95b06: a push_static() file is held under its v, " in not_held
    assert "ask again with --resource-version 43c0e95b06\n" in not_held
    held = call(*ask, "--resource-version", "43c0e95b06")[1]
    assert f"held: {url} (version 43c0e95b06)\n" in held
    assert "ask again" not in held
    # A url without one single v has nothing to add.
    for other in ("/static/site.css", "/static/site.css?v=1&v=2", "/static/site.css?v="):
        assert (
            "ask again"
            not in call("inspect", cookie.value, "--secret-key", SECRET, "--url", other)[1]
        )


def test_inspect_asked_with_a_version_does_not_point_to_the_urls_v() -> None:
    """Asked with ``--resource-version``, a url naming another ``v`` is not held for that
    version: the answer is the version asked for, with no advice to ask with the url's v,
    which the user chose not to."""
    url = "/static/site.css?v=43c0e95b06"
    value = signed(digest_of(f"{url}\n43c0e95b06"))
    ask = ("inspect", value, "--secret-key", SECRET, "--url", url)
    code, out, _ = call(*ask, "--resource-version", "1a2b3c4d5e")
    assert code == 0
    assert out.splitlines()[-2:] == [
        f"not held: {url} (version 1a2b3c4d5e)",
        '"held" is wrong for about 1% of urls never sent (up to 2% with both generations '
        'full); "not held" is always right',
    ]


def test_inspect_says_a_url_no_proxy_pushes_as_requested_is_nopush_whatever_it_holds() -> None:
    """A url no push proxy would push at the path a browser asks for (a #fragment, a dot
    segment, a relative or scheme-relative url) is never pushed nor recorded: the server
    writes it ``nopush`` from the first visit. Asked why it got ``nopush``, inspect said
    "not held" and no more, as if it should have been pushed."""
    unpushable = ["/static/app.js#top", "/static/../x.css", "static/rel.js", "//cdn.test/y.js"]
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    Firehose(app)

    @app.route("/")
    def page() -> str:
        push("/static/site.css", as_="style")
        for url in unpushable:
            push(url, as_="script")
        return "ok"

    client = app.test_client()
    first = client.get("/").headers["Link"]
    assert first == ", ".join(
        [
            "</static/site.css>; rel=preload; as=style",
            *(f"<{url}>; rel=preload; as=script; nopush" for url in unpushable),
        ]
    )
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    asked = [arg for url in ["/static/site.css", *unpushable] for arg in ("--url", url)]
    code, out, _ = call("inspect", cookie.value, "--secret-key", SECRET, *asked)
    assert code == 0
    assert "held: /static/site.css\n" in out
    for url in unpushable:
        assert (
            f"not held: {url}\n  {url} is never pushed (no push proxy would push it at the "
            "path a browser requests): the server writes it nopush, whatever the digest "
            "holds\n"
        ) in out
    assert out.count("is never pushed") == len(unpushable)


def test_inspect_says_an_absolute_url_pushed_as_written_is_never_pushed() -> None:
    """An absolute url is asked by its path, as an address bar or a network panel shows
    what the page pushed as ``/path``; but a page that pushes it as written, absolute,
    gets it ``nopush`` on every visit, and "not held" alone sent the operator looking for
    why it was not recorded (a review)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    Firehose(app)

    @app.route("/")
    def page() -> str:
        push("/static/site.css", as_="style")
        push("https://cdn.test/z.js", as_="script")
        return "ok"

    client = app.test_client()
    assert (
        client.get("/")
        .headers["Link"]
        .endswith("<https://cdn.test/z.js>; rel=preload; as=script; nopush")
    )
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    asked = ["--url", "https://cdn.test/z.js", "--url", "https://shop.test/static/site.css"]
    code, out, _ = call("inspect", cookie.value, "--secret-key", SECRET, *asked)
    assert code == 0
    assert (
        "not held: /z.js (the path of https://cdn.test/z.js)\n"
        "  pushed as written, https://cdn.test/z.js is never pushed (nginx pushes no absolute "
        "url, so none is offered): the server writes it nopush, whatever the digest holds\n"
    ) in out
    assert "held: /static/site.css (the path of https://shop.test/static/site.css)\n" in out
    assert out.count("is never pushed") == 1


def test_inspect_help_says_how_an_absolute_url_is_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--url``'s help said "as push(URL) records it (an absolute url, its path)":
    ``push()`` records no absolute url (it is never pushed, above), and its query is asked
    too. It says what the tool does, as docs/cli.md does."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["inspect", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--url URL say whether the digest holds URL, as push(URL) records it; an absolute "
        "http or https url is asked by its path and query (a digest holds paths, whatever "
        'the host); repeat for more. "held" may be a false positive'
    ) in text


@pytest.mark.parametrize("pasted", ["'{}'", "{}'", "{}!", "`{}`"])
def test_a_value_with_a_character_no_signed_value_holds_is_not_said_bad_signature(
    pasted: str,
) -> None:
    """The app's own value in single quotes (a Python repr, a shell quoted twice) said
    "bad signature: was it signed with this SECRET_KEY (and this ...)?", sending the user
    after the key, the digest version and the cookie's scope; the value is none the
    server signed, whatever its key."""
    value = issued_cookie(SECRET)
    code, out, _ = call("inspect", pasted.format(value), "--secret-key", SECRET)
    assert code == 1
    foreign = sorted(set(pasted.format("")))
    assert out.splitlines()[0] == (
        f"NOT valid: not a signed cookie value: it holds {', '.join(map(repr, foreign))}, "
        "which none does (base64url's letters, digits, '-' and '_', in parts joined by '.')"
    )
    assert "bad signature" not in out


def test_a_value_with_many_characters_no_signed_value_holds_says_there_are_more() -> None:
    """Of the characters no signed value holds, five are named, and "..." says there are
    more."""
    code, out, _ = call("inspect", f"'{issued_cookie(SECRET)}'!?#%^", "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[0] == (
        "NOT valid: not a signed cookie value: it holds '!', '#', '%', \"'\", '?', ..., which "
        "none does (base64url's letters, digits, '-' and '_', in parts joined by '.')"
    )


@pytest.mark.parametrize(
    ("kept", "after", "said"),
    [
        (-1, "", "26 characters, where every signature is 27: was the value cut short?"),
        (-20, "", "7 characters, where every signature is 27: was the value cut short?"),
        (
            0,
            "exit",
            "31 characters, where every signature is 27: did text after the value run into it?",
        ),
    ],
    ids=["a character short", "in the signature's middle", "a word after it"],
)
@pytest.mark.parametrize("key", [SECRET, "another key"], ids=["its key", "another key"])
def test_a_value_whose_signature_is_cut_is_not_said_bad_signature(
    kept: int, after: str, said: str, key: str
) -> None:
    """The app's value cut in its signature, as a copy from a narrow terminal or a
    truncated log line leaves it, or with a prompt's word run into it, said "bad
    signature: was it signed with this SECRET_KEY (and this ...)?", sending the user after
    the key, the digest version and the cookie's scope: no key verifies a signature of
    another length than HMAC-SHA1's 27 characters. Its payload is still described."""
    value = issued_cookie(SECRET)
    pasted = (value[:kept] if kept else value) + after
    code, out, _ = call("inspect", pasted, "--secret-key", key)
    assert code == 1
    assert out.splitlines()[:4] == [
        f"NOT valid: not a signed cookie value: its signature, after the last '.', is {said}",
        IGNORED,
        "unverified payload: 17 bytes",
        "current: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 3 entries",
    ]
    assert call("inspect", value, "--secret-key", key)[0] == (0 if key == SECRET else 1)


@pytest.mark.parametrize("after", [".", ".txt", ".."], ids=["a period", "an extension", "two"])
def test_a_whole_value_with_a_dot_run_into_it_is_not_said_cut_short(after: str) -> None:
    """The app's whole value with a sentence's period after it (copied from a message or a
    log line), or a '.' and more: the last '.' was taken for the signature's, and the text
    after it, shorter, for the signature cut: "was the value cut short?" of a value that
    was not. Every value the server signs has three parts."""
    value = issued_cookie(SECRET)
    parts = len((value + after).split("."))
    code, out, _ = call("inspect", value + after, "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[:3] == [
        f"NOT valid: not a signed cookie value: it has {parts} parts joined by '.', where "
        "every one has 3 (payload.timestamp.signature): did text after the value run into it?",
        IGNORED,
        "unverified payload: 17 bytes",
    ]


@pytest.mark.parametrize("before", [".", "see."], ids=["a dot", "a word and a dot"])
def test_a_whole_value_with_text_run_into_it_before_is_said_so(before: str) -> None:
    """Text run into the app's whole value before it, with a '.': the value's signature is
    whole, at its end, and the text is before it, not after ("did text after the value
    run into it?" sent the user to the wrong end of the paste)."""
    value = issued_cookie(SECRET)
    code, out, _ = call("inspect", before + value, "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[:2] == [
        "NOT valid: not a signed cookie value: it has 4 parts joined by '.', where every "
        "one has 3 (payload.timestamp.signature): did text before the value run into it?",
        IGNORED,
    ]


@pytest.mark.parametrize(
    ("before", "after"), [("see.", ""), ("", ".")], ids=["text before", "a period after"]
)
def test_a_value_cut_short_with_text_run_into_it_is_told_no_side(before: str, after: str) -> None:
    """A value cut short has no whole signature, at its end or before text after it: which
    side of it a '.' of text came from is not known. "did text after the value run into
    it?" was said of text before it, which sent the user to the wrong end."""
    pasted = before + issued_cookie(SECRET)[:-3] + after
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[:2] == [
        "NOT valid: not a signed cookie value: it has 4 parts joined by '.', where "
        "every one has 3 (payload.timestamp.signature): no part is a whole signature: was "
        "the value cut short, and did text run into it?",
        IGNORED,
    ]


def test_inspect_url_answers_from_an_invalid_cookie_are_marked_and_exit_1() -> None:
    value = signed(digest_of("/app.css"))
    code, out, _ = call("inspect", value, "--secret-key", "other", "--url", "/app.css")
    assert code == 1
    assert "held (unverified): /app.css\n" in out


def test_inspect_refuses_a_url_a_terminal_cannot_show_as_push_refuses_it() -> None:
    value = signed(digest_of("/app.css"))
    # An undecodable byte in argv arrives as a lone surrogate; a strict stdout cannot print it.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "firehose_digest",
            "inspect",
            value,
            "--url",
            b"/\xff".decode("utf-8", "surrogateescape"),
        ],
        capture_output=True,
        env={**os.environ, "FLASK_SECRET_KEY": SECRET, "PYTHONIOENCODING": "utf-8:strict"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert b"--url: a pushed url holds a lone surrogate" in done.stderr
    assert b"Traceback" not in done.stderr


# An undecodable byte in argv or the environment, as Python hands it over.
NOT_UTF8 = b"k\xff".decode("utf-8", "surrogateescape")


def test_a_digest_version_that_is_not_utf8_is_a_usage_error() -> None:
    """No app can sign with one: exit 2 naming it, not a traceback and 1 ("not valid").
    (A --secret-key that is not UTF-8 is a bytes key: see the tests of bytes keys.)"""
    argv = ["--secret-key", SECRET, "--digest-version", NOT_UTF8]
    code, _, err = call("inspect", signed(digest_of("/app.css")), *argv)
    assert code == 2
    assert "--digest-version" in err and "not UTF-8" in err
    assert "Traceback" not in err


def test_a_flask_secret_key_that_is_not_utf8_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", NOT_UTF8)
    code, _, err = call("inspect", signed(digest_of("/app.css")))
    assert code == 2
    assert "FLASK_SECRET_KEY" in err and "not UTF-8" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cookie-domain", "a..b"], "argument --cookie-domain: is not a domain name: 'a..b'"),
        # init_app refuses a Domain written with a ';' (a fullwidth one is IDNA's ';') or a
        # control character: "bad signature", exit 1, sent the user after the key.
        *(
            (
                ["--cookie-domain", domain],
                "argument --cookie-domain: is written with a control character or a ';', "
                f"as init_app refuses SESSION_COOKIE_DOMAIN: {domain!r}",
            )
            for domain in ["a;b", "a\x01b", "a\tb", "\x7f", "a\uff1bb"]
        ),
        # init_app refuses an IPv6 address, which Werkzeug writes cut at its first ':'.
        (
            ["--cookie-domain", "[::1]"],
            "argument --cookie-domain: is an IPv6 address, which Werkzeug writes as "
            "Domain=[, as init_app refuses SESSION_COOKIE_DOMAIN: '[::1]'",
        ),
        # init_app refuses a cookie Path that does not start with "/": no app signs for one
        # ("bad signature" sent the user after the key).
        (
            ["--cookie-path", "shop"],
            "argument --cookie-path: must start with '/', as init_app requires of "
            "SESSION_COOKIE_PATH (or APPLICATION_ROOT), got 'shop'",
        ),
        (
            ["--cookie-path", ""],
            "argument --cookie-path: must start with '/', as init_app requires of "
            "SESSION_COOKIE_PATH (or APPLICATION_ROOT), got ''",
        ),
        (
            ["--secret-key", "k\ud800"],
            "argument --secret-key: holds a character that is neither UTF-8 nor a byte of "
            "the command line",
        ),
    ],
)
def test_an_argument_no_app_could_have_is_refused_saying_why(
    argv: list[str], message: str
) -> None:
    code, out, err = call("inspect", "x", "--secret-key", SECRET, *argv)
    assert (code, out) == (2, "")
    assert err.endswith(f"firehose-digest inspect: error: {message}\n")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FLASK_SECRET_KEY_FALLBACKS": '["old key", 1]'},
            "FLASK_SECRET_KEY_FALLBACKS must be a JSON list of strings, as from_prefixed_env() "
            "reads it (e.g. '[\"old key\"]'), got int at index 1",
        ),
        (
            {"FLASK_SECRET_KEY_FALLBACKS": '"old key"'},
            "FLASK_SECRET_KEY_FALLBACKS must be a JSON list of strings, as from_prefixed_env() "
            "reads it (e.g. '[\"old key\"]'), got str",
        ),
        (
            {"FLASK_SECRET_KEY_FALLBACKS": "old key"},
            "FLASK_SECRET_KEY_FALLBACKS must be a JSON list of strings, as from_prefixed_env() "
            "reads it (e.g. '[\"old key\"]'), got text that is not JSON",
        ),
        (
            {"FLASK_SECRET_KEY": "20261202"},
            "FLASK_SECRET_KEY is no string to from_prefixed_env(), which reads it as JSON "
            "(got int), so the app signs with no such key: quote it as a JSON string, "
            "FLASK_SECRET_KEY='\"123\"' for the key 123",
        ),
        (
            {"FLASK_SECRET_KEY": NOT_UTF8},
            "FLASK_SECRET_KEY holds a byte that is not UTF-8",
        ),
        (
            {
                "FLASK_SECRET_KEY": "new key",
                "FLASK_SECRET_KEY_FALLBACKS": f'["old", "{NOT_UTF8}"]',
            },
            "FLASK_SECRET_KEY_FALLBACKS[1] holds a byte that is not UTF-8",
        ),
    ],
)
def test_an_environment_key_the_app_cannot_have_is_refused_saying_why(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY_FALLBACKS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = call("inspect", "x")
    assert (code, out) == (2, "")
    assert err.endswith(f"firehose-digest inspect: error: {message}\n")


def test_an_empty_fallback_key_is_no_key_as_to_the_server() -> None:
    """The server drops empty SECRET_KEY_FALLBACKS: nothing signed with one verifies."""
    out = run(
        "inspect",
        issued_cookie(SECRET),
        env={"FLASK_SECRET_KEY_FALLBACKS": '[""]'},
        status=1,
    )
    assert out.startswith(f"NOT valid: {cli.NO_SECRET_KEY}\n")


def test_what_the_output_encoding_cannot_carry_is_escaped() -> None:
    out = run("inspect", "\xe9=1", env={"PYTHONIOENCODING": "ascii"}, status=1)
    assert out == "NOT valid: no h2-digest cookie here (cookies: \\xe9)\n"


def buffered_environ() -> dict[str, str]:
    """The environment less PYTHONUNBUFFERED: stdout block-buffered, as a user's is, so that a
    write fails at the flush (or at exit, after ``main`` returned), not in ``print``."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``firehose-digest plan | head -1``: plan prints once its figures are measured, by
    which time the pipe is closed."""
    with subprocess.Popen(
        [sys.executable, "-m", "firehose_digest", "plan", "--probes", "20000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered_environ(),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # before anything is written: plan measures first
        err = process.stderr.read()
        process.wait(timeout=60)
    assert (process.returncode, err.decode()) == (0, "")


def test_a_reader_that_stopped_reading_an_unbuffered_output_leaves_the_verdict_s_status() -> None:
    """With PYTHONUNBUFFERED, ``print`` itself meets the pipe its reader closed (``| head
    -0``): the reader got what it wanted, so the status is still the verdict's."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "firehose_digest", "inspect", issued_cookie(SECRET)],
            stdout=write,
            stderr=subprocess.PIPE,
            check=False,
            env={**buffered_environ(), "PYTHONUNBUFFERED": "1", "FLASK_SECRET_KEY": SECRET},
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.parametrize("command", ["plan", "inspect"])
@pytest.mark.parametrize("target", ["closed", "/dev/full"])
def test_an_output_that_cannot_be_written_gets_no_traceback_and_status_2(
    target: str, command: str
) -> None:
    """Started with stdout closed (``>&-``), or writing to a full device: said on stderr,
    and status 2, not the status of an answer nobody got (0, or inspect's 0 or 1)."""
    if command == "plan":
        argv = [sys.executable, "-m", "firehose_digest", "plan", "--probes", "100"]
    else:
        argv = [
            sys.executable,
            "-m",
            "firehose_digest",
            "inspect",
            "h2-digest=x",
            "--secret-key",
            "k",
        ]
    if target == "closed":
        done = subprocess.run(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(),
            close_fds=True,
            check=False,
            preexec_fn=lambda: os.close(1),
            env=buffered_environ(),
        )
    else:
        with open(target, "w") as full:
            done = subprocess.run(
                argv, stdout=full, stderr=subprocess.PIPE, check=False, env=buffered_environ()
            )
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.stderr.startswith(b"firehose-digest: cannot write the output: ")
    assert done.returncode == 2


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files in /proc")
def test_an_output_that_cannot_be_written_leaves_no_file_open() -> None:
    """main() called from code (a test suite, a notebook) with an output it cannot write:
    status 2, and no file descriptor left behind. Each such call left /dev/null open, the
    descriptor it points stdout at so that Python's flush at exit cannot fail too."""
    with open("/dev/full", "w") as full, mock.patch.object(sys, "stdout", full):
        before = sorted(os.listdir("/proc/self/fd"))
        code = main(["inspect", "h2-digest=x", "--secret-key", "k"])
        after = sorted(os.listdir("/proc/self/fd"))
    assert code == 2
    assert after == before


# -- no traceback, whatever the input --------------------------------------------------

OPTIONS = [
    "plan",
    "inspect",
    "--capacity",
    "--fp-rate",
    "--probes",
    "--secret-key",
    "--cookie-name",
    "--digest-version",
    "--max-age",
    "--url",
    "--resource-version",
    "--",
    "-",
    "1",
    "0",
    "-1",
    "0.5",
    "nan",
    SECRET,
]


@given(st.text())
def test_inspect_any_text_is_valid_or_not(text: str) -> None:
    # "-" is read from stdin: the same text there, as `printf %s TEXT | inspect -` gives.
    # Text of nothing but white space, there or as COOKIE, is a usage error saying so.
    usage = not text.strip()
    with mock.patch.object(sys, "stdin", io.StringIO(text)):
        code, _, err = call("inspect", "--secret-key", SECRET, "--", text)
        assert code == 2 if usage else code in (0, 1), err
        code, _, err = call("inspect", text, "--secret-key", SECRET)
    # A COOKIE that starts with "-" is an option to argparse, unless it is "-" (stdin).
    assert code == 2 if usage else code in (0, 1) or (code == 2 and text.startswith("-")), err


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_inspect_any_tampered_cookie_is_valid_or_not(tail: str) -> None:
    value = signed(digest_of("/app.css"))
    for text in (value[: len(value) // 2] + tail, tail + value, f"h2-digest={value}{tail}"):
        assert call("inspect", "--secret-key", SECRET, "--", text)[0] in (0, 1)


@given(st.lists(st.one_of(st.sampled_from(OPTIONS), st.text())))
def test_any_argv_exits_0_1_or_2(argv: list[str]) -> None:
    with mock.patch.object(cli, "DEFAULT_PROBES", 10):
        code, out, _ = call(*argv)
    assert code in (0, 1, 2)
    if code == 0 and argv[:1] == ["inspect"]:
        assert out.startswith(("valid:", "usage:"))


def test_version_is_the_packages() -> None:
    """A stranger's first question of a command; it answered with a usage error."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert out.getvalue() == f"firehose-digest {firehose_digest.__version__}\n"


def test_version_works_from_a_clone_that_is_not_installed(tmp_path: Path) -> None:
    """``python -m firehose_digest --version`` in a git clone, its dependencies installed
    but not it: the version was read from the installed distribution's metadata, so it
    was a traceback (PackageNotFoundError). The dependencies are this venv's site-packages
    less our distribution, the clone is this tree, imported from the working directory."""
    site_packages = Path(flask.__file__).parent.parent
    for entry in site_packages.iterdir():
        if not entry.name.lower().startswith("firehose_digest"):  # its dist-info and .pth
            (tmp_path / entry.name).symlink_to(entry)
    done = subprocess.run(
        [sys.executable, "-S", "-m", "firehose_digest", "--version"],  # -S: no .pth read
        capture_output=True,
        text=True,
        cwd=Path(firehose_digest.__file__).parent.parent,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"firehose-digest {firehose_digest.__version__}\n"
    checked = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import importlib.metadata as m; m.version('firehose-digest')",
        ],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert b"PackageNotFoundError" in checked.stderr  # the clone is not installed


# -- what a stranger pastes, and plan's numbers against init_app (a stranger's CLI hunt) ----


@pytest.mark.parametrize(
    "pasted",
    [
        "Cookie: {value}",  # the space after the colon was kept: "bad signature"
        '"{value}"',  # quoted, as in the pair h2-digest="..."
        "{value};",  # the ; copied from a header
        "Set-Cookie: h2-digest={value}; Expires={expires}; Path=/",
        "Cookie: a=1,h2-digest={value}",  # as gunicorn joins repeated Cookie lines
    ],
)
def test_inspect_reads_what_a_user_pastes(pasted: str) -> None:
    """Each was "bad signature" or "no h2-digest cookie here" (the README's "See it work"
    prints a Set-Cookie line), though the pair h2-digest=VALUE was valid."""
    value = issued_cookie(SECRET)
    text = pasted.format(value=value, expires=expires_in_a_month())
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out


#: A value broken by line breaks as a terminal or a mail wraps a long line: anywhere in a
#: value or a name (hard wrap), or in place of the space after a ";" (soft wrap).
WRAPPED = {
    "a bare value, in its payload": "{head}\n{tail}",
    "a bare value, CRLF and indented": "  {head}\r\n  {tail}\r\n",
    "a pair": "h2-digest={head}\n{tail}",
    "a Cookie header": "a=1; h2-digest={head}\n{tail}; b=2",
    "a Cookie header, after a ;": "a=1;\nh2-digest={value}; b=2",
    "a Cookie header, in the name": "a=1; h2-di\ngest={value}",
    "a Cookie line": "Cookie: a=1; h2-digest={head}\n{tail}; b=2\nUser-Agent: curl/8.5.0",
    "curl -v's Set-Cookie line": "< Set-Cookie: h2-digest={head}\n{tail}; Path=/\n< Vary: Cookie",
    "a Cookie line broken twice": "> Cookie: a=1; h2-digest={head}\n{middle}\n{end}\n> A: b",
    "a Cookie line broken in a value, then in the name": "> Cookie: a=1\n2; h2-di\ngest={value}",
    "pairs one a line, the digest's broken": "a=1\nh2-digest={head}\n{tail}\nb=2",
}


@pytest.mark.parametrize("pasted", WRAPPED.values(), ids=WRAPPED)
def test_a_value_broken_by_a_line_break_is_read_whole(pasted: str) -> None:
    """A cookie value holds no white space: a break in one was kept in it ("bad
    signature"), or ended it, or made a name of "\\nh2-digest"."""
    value = issued_cookie(SECRET)
    head, tail = value[:30], value[30:]
    text = pasted.format(value=value, head=head, tail=tail, middle=tail[:15], end=tail[15:])
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out
    assert out.startswith("valid: ") or out.startswith("a Set-Cookie line: "), out


@pytest.mark.parametrize(
    "pasted", ["{old}\n{new}", "h2-digest={old}\nh2-digest={new}", " {old} \n {new} "]
)
def test_values_one_a_line_are_two_cookies_not_one(pasted: str) -> None:
    """Whole values, or pairs, one a line, are not joined into one: each is a copy sent."""
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    code, out, _ = call("inspect", pasted.format(old=old, new=new), "--secret-key", SECRET)
    assert code == 0, out
    assert out.startswith("2 h2-digest cookies sent: reading the valid one signed last")


def test_a_whole_value_after_a_pair_is_not_joined_to_it() -> None:
    value, other = issued_cookie(SECRET), issued_cookie("another key")
    code, out, _ = call("inspect", f"h2-digest={value}\n{other}", "--secret-key", SECRET)
    assert code == 0, out
    assert out.startswith("valid: ")


def test_a_cookie_signed_by_a_clock_ahead_is_said_so_not_minus_seconds_ago() -> None:
    now = 1_735_689_600.0
    with mock.patch("time.time", return_value=now + MAX_CLOCK_SKEW // 2):
        value = signed(digest_of("/app.css"))
    with mock.patch("time.time", return_value=now):
        code, out, _ = call("inspect", value, "--secret-key", SECRET)
    assert code == 0
    assert f"({MAX_CLOCK_SKEW // 2} s ahead of this clock)" in out.splitlines()[0]


def test_past_the_copies_tried_inspect_says_the_server_reads_none() -> None:
    """The fifth copy from the end is valid, but the server tries only the last
    MAX_COOKIE_COPIES: it said "none verifies", which was false and hid why."""
    value = issued_cookie(SECRET)
    header = "; ".join([f"h2-digest={value}", *(f"h2-digest=a{i}.b.c" for i in range(4))])
    code, out, _ = call("inspect", header, "--secret-key", SECRET)
    assert code == 1
    first = out.splitlines()[0]
    assert "the last 4 different values (none of them verifies" in first
    assert "the server tries no more" in first


def test_without_a_key_inspect_does_not_say_the_server_ignores_the_cookie() -> None:
    """Not verified for want of a key is not refused: the server, which has its key,
    reads this cookie (its links come back ``nopush``). The line after the verdict said
    "the server ignores this cookie: to it, every url is new" (docs/cli.md's own example)."""
    from tests.helpers import EXPECTED_RETURN

    app = build_app(SECRET_KEY=SECRET)
    client = app.test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    assert client.get("/").headers["Link"] == EXPECTED_RETURN  # the server reads it
    code, out, _ = call("inspect", cookie.value)
    assert code == 1
    assert "the server ignores" not in out
    assert out.splitlines()[:2] == [f"NOT valid: {cli.NO_SECRET_KEY}", KEY_NOT_GIVEN]


def test_past_the_copies_tried_inspect_does_not_say_every_url_is_new() -> None:
    """The server that reads none of the copies pushes nothing: every link ``nopush``,
    nothing recorded. The line after the verdict said "to it, every url is new", the
    opposite, under a first line that said it reads none."""
    from tests.helpers import EXPECTED_RETURN

    app = build_app(SECRET_KEY=SECRET)
    client = app.test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    header = "; ".join([f"h2-digest={cookie.value}", *(f"h2-digest=a{i}.b.c" for i in range(4))])
    response = app.test_client(use_cookies=False).get("/", headers={"Cookie": header})
    assert response.headers["Link"] == EXPECTED_RETURN  # read none: pushes nothing
    assert "Set-Cookie" not in response.headers  # and records nothing
    code, out, _ = call("inspect", header, "--secret-key", SECRET)
    assert code == 1
    assert "every url is new" not in out
    assert out.splitlines()[2] == NONE_READ


def test_the_quoting_advice_for_a_secret_key_of_digits_works_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The advice, run by a shell, gives from_prefixed_env() the key it names."""
    monkeypatch.setenv("FLASK_SECRET_KEY", "42")
    monkeypatch.setenv("FLASK_SECRET_KEY_FALLBACKS", "")
    code, _, err = call("inspect", "x")
    assert code == 2
    advice = err.strip().rpartition("quote it as a JSON string, ")[2]
    words = shlex.split(advice)  # FLASK_SECRET_KEY='"123"' for the key 123
    assignment, key = words[0], words[-1]
    name, _, value = assignment.partition("=")
    assert name == "FLASK_SECRET_KEY"
    monkeypatch.setenv("FLASK_SECRET_KEY", value)
    app = Flask(__name__)
    app.config.from_prefixed_env()
    assert app.config["SECRET_KEY"] == key


#: A key as an operator might mistype it: what a terminal or CI log must never show.
LEAKED = "Hunter2-0xDEADBEEF"


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        # from_prefixed_env() reads JSON: neither is a str key to the app.
        ([], {"FLASK_SECRET_KEY": "20261202"}),
        ([], {"FLASK_SECRET_KEY": f'["{LEAKED}"]'}),
        ([], {"FLASK_SECRET_KEY": f'{{"k": "{LEAKED}"}}'}),
        ([], {"FLASK_SECRET_KEY": f"{LEAKED}\udcff"}),
        ([], {"FLASK_SECRET_KEY_FALLBACKS": f'"{LEAKED}"'}),
        ([], {"FLASK_SECRET_KEY_FALLBACKS": f"{LEAKED},old"}),
        ([], {"FLASK_SECRET_KEY_FALLBACKS": f'["{LEAKED}", 5]'}),
        ([], {"FLASK_SECRET_KEY_FALLBACKS": f'["{LEAKED}\udcff"]'}),
        (["--secret-key", f"{LEAKED}\ud800"], {}),
    ],
    ids=[
        "key-int",
        "key-list",
        "key-dict",
        "key-not-utf8",
        "fallbacks-str",
        "fallbacks-not-json",
        "fallbacks-int-item",
        "fallbacks-not-utf8",
        "argument-surrogate",
    ],
)
def test_a_bad_secret_key_is_refused_without_its_value(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terminals are logged and CI output is public: a usage error names the setting and
    what is wrong with it, never the key (each message repeated it, quoted)."""
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY_FALLBACKS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = call("inspect", "x", *argv)
    assert (code, out) == (2, "")
    said = err.strip().splitlines()[-1]
    assert (next(iter(env)) if env else "--secret-key") in said
    secret = LEAKED if LEAKED in [*argv, *env.values()][-1] else "20261202"
    assert secret not in err
    assert secret.lower() not in err.lower()


@pytest.mark.parametrize(
    ("argv", "left_over"),
    [
        # --secret-key taken for an option of several keys, as SECRET_KEY_FALLBACKS is a list.
        (["inspect", "x", "--secret-key", "new key", LEAKED], 1),
        (["inspect", "x", "--secret-keys", LEAKED], 2),  # a typo argparse does not know
        (["inspect", "x", f"--secret_key={LEAKED}"], 1),
        (["plan", "--secret-key", LEAKED], 2),  # inspect's option given to plan
    ],
    ids=["second-key", "typo", "typo-with-equals", "plan"],
)
def test_an_argument_left_over_beside_a_key_is_not_repeated(
    argv: list[str], left_over: int
) -> None:
    """argparse repeats every argument it cannot place ("unrecognized arguments: ..."): on a
    command line that gives a key, the one left over may be a key, which went to the
    terminal and a CI job's log whole. It is counted, and --secret-key's use said."""
    code, out, err = call(*argv)
    assert (code, out) == (2, "")
    said = err.strip().splitlines()[-1]
    assert said.endswith(
        f"unrecognized arguments ({left_over}), not repeated as one may be a key: "
        "--secret-key takes one KEY, repeat --secret-key for each"
    ), said
    assert LEAKED.lower() not in err.lower()


def test_an_argument_left_over_beside_a_key_on_the_command_line_is_not_repeated() -> None:
    """As typed in a terminal, where ``main()`` reads the arguments from ``sys.argv``: the
    key left over is counted, not repeated, and the status is a usage error's."""
    done = subprocess.run(
        [sys.executable, "-m", "firehose_digest", "inspect", "x", "--secret-key", "k", LEAKED],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "unrecognized arguments (1), not repeated as one may be a key: --secret-key takes "
            "one KEY, repeat --secret-key for each"
        )
    ), done.stderr
    assert LEAKED not in done.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        # The key given as it is to the app, its option forgotten.
        (
            ["x", LEAKED],
            "inspect was given a second argument beside COOKIE, not repeated as it may be a "
            "key: a key goes after --secret-key",
        ),
        (["-", LEAKED], "a second argument beside COOKIE"),
        (["x", "--", LEAKED], "a second argument beside COOKIE"),
        (["x", "-" + LEAKED], "a second argument beside COOKIE"),  # token_urlsafe's "-"
        (["x", LEAKED, "old key"], "2 arguments beside COOKIE, not repeated as one may be"),
        # An option argparse does not know is named, what follows it counted.
        (["x", "--u", LEAKED], "unrecognized arguments: --u; inspect was given a second"),
        (["x", f"--cookie-nmae={LEAKED}"], "a second argument beside COOKIE"),
    ],
    ids=["key", "stdin", "after-dashes", "dash-key", "two-keys", "unknown-option", "equals"],
)
def test_an_argument_left_over_beside_inspect_s_cookie_is_not_repeated(
    argv: list[str], said: str
) -> None:
    """``inspect "$COOKIE" "$KEY"``, --secret-key forgotten: argparse repeated what it could
    not place ("unrecognized arguments: KEY"), the key, onto the terminal and a CI job's
    log. Where it was is said, and what to do, never its text."""
    code, out, err = call("inspect", *argv)
    assert (code, out) == (2, "")
    last = err.strip().splitlines()[-1]
    assert said in last, last
    assert "a key goes after --secret-key" in last, last
    assert LEAKED.lower() not in err.lower()


def test_an_option_left_over_without_a_key_is_repeated() -> None:
    """Without a key on the command line, an option argparse does not know is named, as
    ever: a typo is seen."""
    code, _, err = call("inspect", "x", "--cookie-nmae", "--verbose")
    assert code == 2
    assert err.strip().splitlines()[-1].endswith("unrecognized arguments: --cookie-nmae --verbose")


def test_a_bloom_rate_prints_as_its_stored_parameters_make_it() -> None:
    """docs/cli.md: 0.0123 reads 0.01228, a digest the server reads all the same."""
    from tests.helpers import EXPECTED_RETURN

    app = build_app(SECRET_KEY=SECRET, FIREHOSE_ENCODING="bloom", FIREHOSE_FP_RATE=0.0123)
    client = app.test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == EXPECTED_RETURN
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    code, out, _ = call("inspect", cookie.value, "--secret-key", SECRET)
    assert code == 0
    assert "current: BloomDigest, capacity 300, false-positive rate 0.01228 at capacity" in out


@pytest.mark.parametrize(("fp_rate", "least"), [(0.9998, 2500), (0.99984, 3125)])
def test_plan_names_the_top_of_a_range_that_starts_above_the_least_capacity(
    fp_rate: float, least: int
) -> None:
    """At p = 0.9998 no GCS of fewer than 2500 keys can be built: plan said "up to 0";
    at 0.99984 only 3125 to 3271 can, a range its probes a tenth apart stepped over."""
    largest = int(re.findall(r"(\d+) \(gcs\)", cli.plan(3000, fp_rate, 10)[-1])[0])
    assert largest > least
    _init_app("gcs", fp_rate, largest)
    with pytest.raises(ValueError, match=f"the largest FIREHOSE_CAPACITY that fits is {largest}"):
        _init_app("gcs", fp_rate, largest + 1)
    with pytest.raises(ValueError, match="FIREHOSE_CAPACITY"):
        _init_app("gcs", fp_rate, least - 1)


@pytest.mark.parametrize("fp_rate", [1e-7, 5e-7])
def test_plan_says_init_app_accepts_no_capacity_where_it_accepts_none(fp_rate: float) -> None:
    """plan said "up to 1 (gcs)" and "up to 8": below FIREHOSE_MAX_PUSHES, refused."""
    line = cli.plan(1, fp_rate, 10)[-1]
    assert "none for gcs" in line
    assert re.search(r"up to \d+ \(bloom\)", line)
    for capacity in (10, 11, 100, 8192):
        with pytest.raises(ValueError, match="FIREHOSE_CAPACITY"):
            _init_app("gcs", fp_rate, capacity)


def test_plan_measures_an_encoding_that_can_be_built_beside_one_that_cannot() -> None:
    _init_app("bloom", 1e-6, 100)  # accepted
    code, out, err = call("plan", "--capacity", "100", "--fp-rate", "1e-6", "--probes", "10")
    assert code == 0, err
    assert re.search(r"^bloom +\d", out, re.M)
    assert re.search(
        r"^gcs +cannot be built at this capacity and rate: capacity / fp_rate", out, re.M
    )


def test_plan_error_shows_the_rate_given() -> None:
    code, _, err = call("plan", "--capacity", "8192", "--fp-rate", "1.2345678e-10")
    assert code == 2
    assert "--fp-rate 1.2345678e-10:" in err  # %g wrote 1.23457e-10 (0.9999999 as "1")


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["plan", "--help"], ["inspect", "--help"]]
)
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_help_or_version_to_a_full_disk_says_so_in_one_line_and_exits_2(
    argv: list[str], unbuffered: str
) -> None:
    """docs/cli.md: status 2 when the output could not be written. It exited 120, with
    Python's "Exception ignored in: <_io.TextIOWrapper name='<stdout>'...>", or 0 with
    PYTHONUNBUFFERED (argparse drops its write's error)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "firehose_digest", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            env=env,
        )
    assert done.returncode == 2, done.stderr.decode()
    assert done.stderr.decode().splitlines() == [
        "firehose-digest: cannot write the output: [Errno 28] No space left on device"
    ]


@pytest.mark.parametrize("fp_rate", ["0.99999", "0.999999", "0.9999999999999999"])
def test_plan_at_a_rate_close_to_one_keeps_its_columns_and_the_rate_given(fp_rate: str) -> None:
    """--fp-rate 0.9999999 is in range: the rate was printed as "1", which the option
    refuses, and the ratio to a limit of 1.4e-07 bits/entry, 6999161.61, ran into the
    cookie's bytes ("14186999161.61"), a row no one, and no script, can read. Given a
    space of its own, it still pushed the columns after it right from 0.999999 on
    ("868744.03"), by 11 at the closest rate (7.8e15): each value ends where its heading
    does."""
    out = run("plan", "--fp-rate", fp_rate, "--probes", "10").splitlines()
    assert f"target false-positive rate {fp_rate}:" in out[0]
    heading, row = out[1], next(line for line in out if line.startswith("bloom"))
    assert len(row.split()) == 7, row
    # Headings are apart by two spaces or more; the first column is left-aligned.
    ends = [m.end() for m in re.finditer(r"\S+(?: \S+)*", heading)][1:]
    assert [m.end() for m in re.finditer(r"\S+", row)][1:] == ends, f"{heading}\n{row}"


# -- a bytes SECRET_KEY -----------------------------------------------------------------

#: A bytes key as Flask's quickstart makes one (``secrets.token_bytes()``): not UTF-8.
BYTES_KEY = b'_5#y2L"F4Q8z\n\xec]/'


def test_inspect_verifies_with_a_bytes_secret_key_given_as_its_bytes() -> None:
    """Flask takes a bytes SECRET_KEY. Its bytes on the command line (``$'...\\xec...'``)
    reach Python as a str with a lone surrogate, which was refused as "not UTF-8", so no
    cookie of such an app could be inspected."""
    value = issued_cookie(BYTES_KEY)
    done = subprocess.run(
        [sys.executable, "-m", "firehose_digest", "inspect", value, "--secret-key", BYTES_KEY],
        capture_output=True,
        env={**os.environ, "FLASK_SECRET_KEY": "", "FLASK_SECRET_KEY_FALLBACKS": ""},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(b"valid: ")


def test_a_bytes_key_verifies_among_str_keys_and_is_not_its_decoding() -> None:
    value = issued_cookie(BYTES_KEY)
    as_argv = BYTES_KEY.decode("utf-8", "surrogateescape")
    assert call("inspect", value, "--secret-key", "new", "--secret-key", as_argv)[0] == 0
    # The same characters with the byte decoded as Latin-1 are another key.
    assert call("inspect", value, "--secret-key", BYTES_KEY.decode("latin-1"))[0] == 1


def test_a_bytes_key_that_is_utf8_is_its_str() -> None:
    """On the edge: bytes that are UTF-8 come as a str, and sign as its UTF-8 bytes."""
    value = issued_cookie("café".encode())
    assert call("inspect", value, "--secret-key", "café")[0] == 0


# -- the cookie in pasted header lines ------------------------------------------------

PASTED_LINES = {
    "curl -v, a response": (
        "< Set-Cookie: h2-digest={value}; Expires=Fri, 01 Jan 2027 01:25:22 GMT; "
        "Max-Age=2592000; HttpOnly; Path=/"
    ),
    "curl -v over HTTP/2": "< set-cookie: h2-digest={value}; HttpOnly; Path=/",
    "several Set-Cookie lines": (
        "Set-Cookie: session=eyJ1Ijo0Mn0; HttpOnly; Path=/\n"
        "Set-Cookie: h2-digest={value}; HttpOnly; Path=/\n"
        "Set-Cookie: theme=dark; Path=/"
    ),
    "CRLF lines": "set-cookie: a=1; Path=/\r\nset-cookie: h2-digest={value}; Path=/\r\n",
    "curl -v, a request": "> Cookie: session=eyJ1Ijo0Mn0; h2-digest={value}",
    "HTTP/2 cookie crumbs, one a line": (  # RFC 9113 §8.2.3: joined with "; "
        "cookie: session=eyJ1Ijo0Mn0\ncookie: h2-digest={value}\ncookie: theme=dark"
    ),
    "nghttp -v": "[  0.012] recv (stream_id=13) set-cookie: h2-digest={value}; Path=/",
    "a whole curl -v exchange": (
        "*   Trying 127.0.0.1:8000...\n"
        "> GET / HTTP/1.1\n"
        "> Host: 127.0.0.1:8000\n"
        "> \n"
        "< HTTP/1.1 200 OK\n"
        "< Link: </static/site.css>; rel=preload; as=style\n"
        "< Vary: Cookie\n"
        "< Set-Cookie: h2-digest={value}; HttpOnly; Path=/\n"
        "< \n"
    ),
    # A start line right after a cookie line is no part of it (no blank line between).
    "a request, then its response": (
        "GET / HTTP/1.1\nCookie: h2-digest={value}\nHTTP/1.1 200 OK\nContent-Type: text/html"
    ),
    "a request, then the next": "Cookie: h2-digest={value}\nGET /b HTTP/1.1\nHost: x",
    "a redirect, then its target": (
        "HTTP/1.1 302 Found\nSet-Cookie: h2-digest={value}; HttpOnly; Path=/\nHTTP/2 200"
    ),
}


@pytest.mark.parametrize("pasted", PASTED_LINES.values(), ids=PASTED_LINES)
def test_inspect_finds_the_cookie_in_pasted_header_lines(pasted: str) -> None:
    """What an operator has at hand, pasted as it is: each was "no h2-digest cookie here"
    or "bad signature" (the text after the first header name read as one Cookie header)."""
    code, out, _ = call(
        "inspect", pasted.format(value=issued_cookie(SECRET)), "--secret-key", SECRET
    )
    assert code == 0, out
    assert [line for line in out.splitlines() if line.startswith("valid: ")]


#: A request as browsers' developer tools copy it ("Copy as cURL", bash or cmd, and "Copy
#: as PowerShell"), the digest first among its cookies, quoted as each writes it: Chrome's
#: bash form in $'...' when a value holds a "'" or a "!" (as \u0021), its cmd form with
#: "^" before every character it is not sure of (a '"' is ^\^", a "%" ^%^).
COPIED_AS = {
    "cURL (bash), Chrome's -b": (
        "curl 'https://shop.example/' \\\n"
        "  -H 'accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' \\\n"
        "  -b 'h2-digest={value}; theme=dark' \\\n"
        "  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36'"
    ),
    "cURL (bash), a cookie header": (
        "curl 'https://shop.example/' \\\n"
        "  -H 'accept: text/html' \\\n"
        "  -H 'cookie: h2-digest={value}; theme=dark' \\\n"
        "  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64)'"
    ),
    "cURL (POSIX), Firefox's one line": (
        "curl 'https://shop.example/' --compressed -H 'User-Agent: Mozilla/5.0 (X11; Linux "
        "x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' -H 'Accept: text/html' -H "
        "'Cookie: h2-digest={value}; theme=dark' -H 'Sec-Fetch-Dest: document'"
    ),
    "cURL (POSIX), Firefox's, a ' in a cookie before it": (
        "curl 'https://shop.example/' -H 'Cookie: note=it'\\''s; h2-digest={value}'"
    ),
    "cURL (bash), ANSI-C quoted": (
        "curl 'https://shop.example/' \\\n"
        "  -b $'h2-digest={value}; note=it\\'s\\u0021' \\\n"
        "  -H 'accept: text/html'"
    ),
    "cURL (cmd), Chrome's": (
        'curl ^"https://shop.example/^" ^\n'
        '  -H ^"accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8^" ^\n'
        '  -b ^"h2-digest={value}; q=^\\^"x^\\^"; theme=dark^%^20blue^" ^\n'
        '  -H ^"user-agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)^"'
    ),
    "cURL (Windows), Firefox's curl.exe": (
        'curl.exe ^"https://shop.example/^" -H ^"User-Agent: Mozilla/5.0^" -H '
        '^"Cookie: h2-digest={value}; theme=dark^"'
    ),
    "fetch (Node.js)": (
        'fetch("https://shop.example/", {{\n'
        '  "headers": {{\n'
        '    "accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",\n'
        '    "cookie": "h2-digest={value}; q=\\"x\\"; theme=dark",\n'
        '    "Referrer-Policy": "strict-origin-when-cross-origin"\n'
        "  }},\n"
        '  "body": null,\n'
        '  "method": "GET"\n'
        "}});"
    ),
    "PowerShell": (
        "$session = New-Object Microsoft.PowerShell.Commands.WebRequestSession\n"
        '$session.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"\n'
        "$session.Cookies.Add((New-Object System.Net.Cookie("
        '"h2-digest", "{value}", "/", "shop.example")))\n'
        "$session.Cookies.Add((New-Object System.Net.Cookie("
        '"theme", "dark", "/", "shop.example")))\n'
        'Invoke-WebRequest -UseBasicParsing -Uri "https://shop.example/" `\n'
        "-WebSession $session `\n"
        "-Headers @{{\n"
        '"accept"="text/html"\n'
        "}}"
    ),
}


@pytest.mark.parametrize("pasted", COPIED_AS.values(), ids=COPIED_AS)
def test_inspect_finds_the_cookie_in_a_request_copied_as_a_command(pasted: str) -> None:
    """Developer tools copy a request as a command, its cookies in it: each was "no
    h2-digest cookie here", the command read as one Cookie header."""
    code, out, _ = call(
        "inspect", pasted.format(value=issued_cookie(SECRET)), "--secret-key", SECRET
    )
    assert code == 0, out
    assert out.startswith("valid: ")


@pytest.mark.parametrize("prompt", ["$ ", "> ", "\ufeff", "\ufeff$ ", "PS C:\\Users\\me> "])
@pytest.mark.parametrize("form", [form for form in COPIED_AS if "PowerShell" not in form])
def test_a_command_copied_with_a_prompt_before_it_is_read(prompt: str, form: str) -> None:
    """A command copied from a terminal or a page keeps its prompt, or a byte order mark:
    it was not taken for a command then (a bash copy's Accept types listed as cookies)."""
    pasted = prompt + COPIED_AS[form].format(value=issued_cookie(SECRET))
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
    assert code == 0, out
    assert out.startswith("valid: ")


def test_a_cookie_given_as_a_dash_is_read_from_stdin() -> None:
    """A copied command is full of quotes of both kinds (Chrome's sec-ch-ua header holds
    '"'): no shell takes it as one argument unedited. Given "-", COOKIE is what stdin holds
    (a paste ended with Ctrl-D, or a clipboard tool's output); it was read as the value "-".
    """
    pasted = COPIED_AS["cURL (bash), Chrome's -b"].format(value=issued_cookie(SECRET))
    pasted = pasted.replace("-H 'accept:", '-H \'sec-ch-ua: "Chromium";v="131"\' -H \'accept:')
    done = inspect_stdin(pasted.encode())
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(b"valid: ")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX's")
def test_inspect_dash_in_a_terminal_says_what_it_waits_for_and_ends_at_ctrl_d() -> None:
    """In a terminal, ``inspect -`` says on stderr that it waits for a paste ended with
    Ctrl-D, and reads up to that Ctrl-D: what is typed after it (the shell's next command)
    is no part of the paste, which a second read of the terminal would have waited for."""
    import termios  # POSIX only, as the skip says

    terminal, stdin = os.openpty()
    try:
        mode = termios.tcgetattr(stdin)
        mode[3] |= termios.ICANON  # lines, and Ctrl-D ends a read, as a shell leaves it
        mode[6][termios.VEOF] = b"\x04"
        termios.tcsetattr(stdin, termios.TCSANOW, mode)
        os.write(terminal, f"{issued_cookie(SECRET)}\n\x04ls\n\x04".encode())
        done = subprocess.run(
            [sys.executable, "-m", "firehose_digest", "inspect", "-", "--secret-key", SECRET],
            stdin=stdin,
            capture_output=True,
            env={**os.environ, "FLASK_SECRET_KEY": "", "FLASK_SECRET_KEY_FALLBACKS": ""},
            timeout=60,
            check=False,
        )
    finally:
        os.close(stdin)
        os.close(terminal)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith(b"valid: ")
    assert done.stderr == (
        b"firehose-digest: paste COOKIE, then Ctrl-D (Ctrl-Z, Enter on Windows)\n"
    )


#: Each form ``inspect`` reads, of the cookie ``issued_cookie`` makes (``{value}``).
PASTED_FORMS = {
    "bare value": "{value}",
    "pair": "h2-digest={value}",
    "Cookie header": "Cookie: theme=dark; h2-digest={value}",
    "Set-Cookie line": "Set-Cookie: h2-digest={value}; HttpOnly; Path=/",
    "Set-Cookie value": "h2-digest={value}; HttpOnly; Path=/",
    "curl -v lines": "> GET / HTTP/1.1\n> Cookie: h2-digest={value}\n",
}


@pytest.mark.parametrize("pasted", PASTED_FORMS.values(), ids=PASTED_FORMS)
@pytest.mark.parametrize("through", ["stdin", "argument"])
def test_a_byte_order_mark_before_a_pasted_cookie_is_no_part_of_it(
    pasted: str, through: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows tools start a UTF-8 file with a byte order mark (Notepad's "UTF-8 with BOM",
    Windows PowerShell 5.1's ``Out-File -Encoding utf8``): a cookie saved so and given to
    ``inspect -`` read "no h2-digest cookie here (cookies: '\\ufeffh2-digest')", or, a bare
    value, "not a signed cookie value", though a copied command with one before it was
    read."""
    text = "\ufeff" + pasted.format(value=issued_cookie(SECRET))
    if through == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        text = "-"
    code, out, _ = call("inspect", text, "--secret-key", SECRET, "--url", "/static/app.js")
    assert code == 0, out
    assert "valid: " in out and "held: /static/app.js" in out, out


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("pasted", PASTED_FORMS.values(), ids=PASTED_FORMS)
def test_a_utf_16_file_on_stdin_is_read_by_its_byte_order_mark(pasted: str, encoding: str) -> None:
    """Windows PowerShell 5.1's ``>`` and ``Out-File`` write UTF-16 with a byte order mark:
    such a file given to ``inspect -`` (``< cookie.txt`` in cmd.exe or Git Bash) was read
    as UTF-8, "no h2-digest cookie here (cookies: '\\xff\\xfeh\\x002\\x00...')". The mark
    says which UTF-16 it is, as a UTF-8 one says UTF-8."""
    text = "\ufeff" + pasted.format(value=issued_cookie(SECRET)) + "\r\n"
    done = inspect_stdin(text.encode(encoding))
    assert (done.returncode, done.stderr) == (0, b""), done.stdout
    assert b"\nvalid: signed " in b"\n" + done.stdout, done.stdout


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf_16_file_that_does_not_decode_is_read_as_far_as_it_does(encoding: str) -> None:
    """A UTF-16 file cut short at an odd byte (a download stopped), or holding a lone
    surrogate (a clipboard's half of an emoji), ended in a traceback: UnicodeDecodeError,
    "truncated data" or "illegal UTF-16 surrogate"."""
    mark = "\ufeff".encode(encoding)
    value = issued_cookie(SECRET)
    line = f"Cookie: theme=\ud83d; h2-digest={value}\r\n".encode(encoding, "surrogatepass")
    har_text = har(har_entry("https://shop.test/", f"h2-digest={value}"))
    cut = mark + har_text.encode(encoding)[:1001]
    for data, status in ((mark + line, 0), (cut, 1)):
        done = inspect_stdin(data)
        assert (done.returncode, done.stderr) == (status, b""), done.stdout
    assert b"\nJSON that does not parse (" in done.stdout, done.stdout


def test_a_stdin_that_cannot_be_read_is_a_usage_error() -> None:
    """One open for writing only (``0>/dev/null``), or pytest's captured stdin: no
    traceback, exit 2."""
    write_only = os.open(os.devnull, os.O_WRONLY)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "firehose_digest", "inspect", "-"],
            stdin=write_only,
            capture_output=True,
            check=False,
        )
    finally:
        os.close(write_only)
    assert (done.returncode, done.stdout) == (2, b"")
    assert b"firehose-digest inspect: error: COOKIE -: stdin cannot be read: " in done.stderr


def test_a_closed_stdin_is_a_usage_error() -> None:
    """``inspect - <&-``, started with no stdin at all (Python's ``sys.stdin`` is None):
    said, with no traceback, exit 2."""
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m firehose_digest inspect - <&-', sys.executable],
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.endswith(b"firehose-digest inspect: error: COOKIE -: stdin is closed\n")


def test_a_resource_version_with_no_url_to_ask_is_a_usage_error() -> None:
    """``--resource-version`` says how each ``--url`` is asked; with none it was ignored,
    and the report gave no answer the user may have taken for one."""
    code, out, err = call(
        "inspect", issued_cookie(SECRET), "--secret-key", SECRET, "--resource-version", "v2"
    )
    assert (code, out) == (2, "")
    assert "--resource-version V asks for each --url as push(URL, version=V) records it" in err
    code, out, _ = call(
        "inspect", issued_cookie(SECRET), "--secret-key", SECRET, "--resource-version", "v2",
        "--url", "/a.css",
    )  # fmt: skip
    assert code == 0 and "/a.css (version v2)" in out, out


def stdin_raising(error: BaseException) -> io.TextIOWrapper:
    """A stdin whose every read raises ``error``, as a terminal's does on Ctrl-C."""

    class Raising(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def isatty(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            raise error

    return io.TextIOWrapper(io.BufferedReader(Raising()))


def test_ctrl_c_during_plan_ends_it_with_130_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``plan --probes 10000000`` takes a minute; Ctrl-C (KeyboardInterrupt in the
    lookups) printed a traceback. The status is a shell's for a command SIGINT stopped."""

    def lookups(*args: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "plan", lookups)
    assert call("plan", "--probes", "10000000") == (130, "", "")


def test_ctrl_c_while_inspect_reads_stdin_ends_it_with_130_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``inspect -`` waits for a paste; Ctrl-C there is no error of the tool's either."""

    monkeypatch.setattr(sys, "stdin", stdin_raising(KeyboardInterrupt()))
    assert call("inspect", "-", "--secret-key", SECRET) == (130, "", "")


def test_a_stdin_that_fails_to_read_in_process_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same called in process, whatever stdin the test runner gives (``pytest -s``)."""

    monkeypatch.setattr(sys, "stdin", stdin_raising(OSError(errno.EBADF, "Bad file descriptor")))
    code, out, err = call("inspect", "-")
    assert (code, out) == (2, "")
    assert "COOKIE -: stdin cannot be read: [Errno 9] Bad file descriptor" in err


@pytest.mark.parametrize("given", [b"", b"\n", b" \r\n\t\n"], ids=["nothing", "LF", "spaces"])
def test_an_empty_stdin_is_a_usage_error_that_says_what_to_give(given: bytes) -> None:
    """``pbpaste | firehose-digest inspect -`` with an empty clipboard: "NOT valid: no
    h2-digest cookie here (cookies: none)" and exit 1, as if a cookie had been given and
    failed to verify."""
    done = inspect_stdin(given)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.endswith(
        b"firehose-digest inspect: error: COOKIE -: stdin is empty: give the cookie, its "
        b"Cookie header or Set-Cookie line, a request copied as cURL, a cookie jar "
        b"(curl -c) or a HAR (docs/cli.md)\n"
    )


@pytest.mark.parametrize("given", ["", "\n", " \t"], ids=["nothing", "LF", "spaces"])
def test_an_empty_cookie_argument_is_a_usage_error_that_says_what_to_give(given: str) -> None:
    """``firehose-digest inspect "$COOKIE"`` with the variable unset, or cli.md's
    ``"$(curl -s -c - ... | grep h2-digest | cut -f7)"`` when the server set no cookie:
    "NOT valid: no h2-digest cookie here (cookies: none)" and exit 1, as if a cookie had
    been given and failed to verify, where an empty stdin was a usage error already."""
    done = subprocess.run(
        [sys.executable, "-m", "firehose_digest", "inspect", given, "--secret-key", SECRET],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(
        "firehose-digest inspect: error: COOKIE is empty: give the cookie, its Cookie header "
        "or Set-Cookie line, a request copied as cURL, a cookie jar (curl -c) or a HAR "
        "(docs/cli.md), or - to read it from stdin\n"
    )


@pytest.mark.parametrize(
    "jar",
    [
        b"# Netscape HTTP Cookie File\n"
        b"# https://curl.se/docs/http-cookies.html\n"
        b"# This file was generated by libcurl! Edit at your own risk.\n\n",
        b"# Netscape HTTP Cookie File\n"
        b"# http://curl.haxx.se/rfc/cookie_spec.html\n"
        b"# This is a generated file!  Do not edit.\n\n",
        b"# HTTP Cookie File\n# saved by a tool=its version\n",
        b"# HTTP Cookie File\n"
        b"# Generated by Wget on 2026-12-05 22:49:10.\n"
        b"# Edit at your own risk.\n\n",
        b"$ cat jar\n"
        b"# Netscape HTTP Cookie File\n"
        b"# https://curl.se/docs/http-cookies.html\n"
        b"# This file was generated by libcurl! Edit at your own risk.\n\n"
        b"$ \n",
    ],
    ids=["curl", "MozillaCookieJar", "older, a comment with =", "wget", "cat jar, prompts"],
)
def test_a_jar_that_stores_nothing_is_read_as_a_jar_without_the_cookie(jar: bytes) -> None:
    """docs/cli.md: curl writes its jar's comment lines even when it stores no cookie
    (curl 7.88.1 ``-c``, measured), as Python's ``http.cookiejar.MozillaCookieJar`` does
    (3.11), and wget (1.21.3 ``--save-cookies``, measured): such a stdin is not empty,
    and is read as a jar that holds no digest, as one holding only other cookies is, not
    as a value, nor when a copy of ``cat jar`` holds the prompt and command around it:
    Werkzeug 3.1.0 to 3.1.8 read curl's comments as the digest's value ("not a signed
    cookie value"), and a comment holding a "=" as cookies."""
    done = inspect_stdin(jar)
    assert (done.returncode, done.stdout) == (
        1,
        b"NOT valid: no h2-digest cookie here (cookies: none)\n",
    )


@pytest.mark.parametrize(
    "given",
    [
        b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x02",  # a browser's Cookies
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"h2-digest=abc.def.ghi\x00",
        # Past MAX_STDIN, as a browser's Cookies file often is: "more than any paste of a
        # request", which listed nothing to give.
        b"SQLite format 3\x00".ljust(2 * cli.MAX_STDIN, b"\x01"),
    ],
    ids=["a cookie database", "an image", "a NUL after a cookie", "a cookie database of 2 MiB"],
)
def test_a_binary_stdin_is_a_usage_error_that_says_what_to_give(given: bytes) -> None:
    """``inspect - < ~/.config/chromium/Default/Cookies``: a browser's cookie database
    (SQLite; Chromium's values encrypted) was read as text: "NOT valid: not a signed
    cookie value", as if the digest were bad. No text holds a NUL byte."""
    done = inspect_stdin(given)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.endswith(
        b"firehose-digest inspect: error: COOKIE -: stdin holds a NUL byte, which no text "
        b"does: a binary file (a browser's cookie database) is not read; give the cookie, "
        b"its Cookie header or Set-Cookie line, a request copied as cURL, a cookie jar "
        b"(curl -c) or a HAR (docs/cli.md)\n"
    )


def test_a_cookie_read_from_stdin_is_bounded() -> None:
    """``cat /dev/zero | firehose-digest inspect -`` must not take all memory: past
    ``MAX_STDIN`` bytes, a usage error."""
    done = inspect_stdin(b"x" * (cli.MAX_STDIN + 1))
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.endswith(
        f"firehose-digest inspect: error: COOKIE -: stdin holds more than {cli.MAX_STDIN} "
        "bytes, more than any paste of a request\n".encode()
    )


@pytest.mark.parametrize(
    ("command", "cookies"),
    [
        ("curl 'https://shop.example/' -H 'accept: text/html'", "none"),
        # A browser's fetch() sends the cookies itself: "Copy as fetch" writes none.
        (
            'fetch("https://shop.example/", {\n  "headers": {\n    "accept": "text/html,'
            'application/xhtml+xml;q=0.9",\n    "accept-language": "en-GB,en;q=0.9"\n  },\n'
            '  "method": "GET",\n  "credentials": "include"\n});',
            "none",
        ),
        # A -b without "=" names a file of cookies, which the next test reads.
        ("curl 'https://shop.example/' -bsession=1 -Hcookie:theme=dark", "session, theme"),
        # An empty -b turns curl's cookie engine on, reading no file: no file to give.
        ("curl -b '' https://shop.example/", "none"),
        # Chrome's $'...' when a cookie holds a "'": its escapes read, as bash reads them.
        ("curl 'https://shop.example/' -b $'it\\'s=1'", "it's"),
    ],
)
def test_a_command_without_the_digest_says_which_cookies_it_sends(
    command: str, cookies: str
) -> None:
    code, out, _ = call("inspect", command, "--secret-key", SECRET)
    assert (code, out) == (1, f"NOT valid: no h2-digest cookie here (cookies: {cookies})\n")


@pytest.mark.parametrize(
    ("command", "cookies", "files"),
    [
        # The README's return visit, pasted as it is.
        ("curl -si -b jar http://127.0.0.1:8000/", "none", ["jar"]),
        ("curl 'https://shop.example/' -b jar.txt -H 'cookie: theme=dark'", "theme", ["jar.txt"]),
        ("curl -b 'my jar' -bsession=1 https://shop.example/", "session", ["'my jar'"]),
        ("curl --cookie a.txt -b b.txt https://shop.example/", "none", ["a.txt", "b.txt"]),
    ],
)
def test_a_command_that_reads_its_cookies_from_a_file_says_to_give_the_file(
    command: str, cookies: str, files: list[str]
) -> None:
    """curl's ``-b`` without "=" names a file of cookies: a command pasted with one said
    only "no h2-digest cookie here", though the digest is likely in that file."""
    code, out, _ = call("inspect", command, "--secret-key", SECRET)
    said = [
        f"curl's -b {file} sends the cookies of a file, which the command does not hold: "
        f"give the file on stdin, firehose-digest inspect - < {file}"
        for file in files
    ]
    assert (code, out.splitlines()) == (
        1,
        [f"NOT valid: no h2-digest cookie here (cookies: {cookies})", *said],
    )


def test_a_command_that_sends_the_digest_and_a_file_says_nothing_of_the_file() -> None:
    """The file note is for a command none of whose cookies is the digest: one that sends
    it beside a ``-b`` file is read as it is, with no line sending the user to the file."""
    value = issued_cookie(SECRET)
    command = f"curl 'https://shop.example/' -b jar.txt -b 'h2-digest={value}'"
    code, out, _ = call("inspect", command, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0].startswith("valid: "), out
    assert "jar.txt" not in out


def test_of_several_set_cookie_lines_of_the_digest_the_last_is_read() -> None:
    """A response, or a redirect's chain under ``curl -vL``, that sets it twice: the last
    Set-Cookie is the one the browser keeps."""
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    pasted = f"Set-Cookie: h2-digest={old}; Path=/\nSet-Cookie: h2-digest={new}; Path=/"
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
    assert code == 0
    assert out.splitlines()[:2] == [
        "2 Set-Cookie lines of h2-digest: reading the last",
        "a Set-Cookie line: no Domain (host-only) and its Path / are part of the signature",
    ]
    assert out.splitlines()[2].startswith("valid: ")
    code, out, _ = call("inspect", pasted.replace(new, "x.y.z"), "--secret-key", SECRET)
    assert code == 1


def test_a_set_cookie_line_is_read_before_the_cookie_the_request_sent() -> None:
    """A whole exchange: the request's digest and the one its response set; the one set
    is what the client holds now."""
    sent, set_ = issued_cookie("another key"), issued_cookie(SECRET)
    pasted = f"> Cookie: h2-digest={sent}\n< Set-Cookie: h2-digest={set_}; Path=/"
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
    assert code == 0
    assert out.splitlines()[0] == (
        "h2-digest in a Cookie header and a Set-Cookie line: reading the Set-Cookie line"
    )


# -- a Set-Cookie line that deletes the digest (a "forget me" page) ------------------------

#: A deletion as each writes it, and what inspect says deletes it.
DELETIONS = {
    "as Werkzeug's delete_cookie writes it": (
        "h2-digest=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
        "Max-Age=0",
    ),
    "Max-Age=0, a value left": ("h2-digest={value}; Max-Age=0; Path=/", "Max-Age=0"),
    "Max-Age below 0": ("h2-digest={value}; Max-Age=-1; Path=/", "Max-Age=-1"),
    "Max-Age 0 written long": ("h2-digest={value}; Max-Age=000; Path=/", "Max-Age=000"),
    # Past the 4,300 digits Python converts to an int: a traceback.
    "Max-Age of 5,000 digits below 0": (
        "h2-digest={value}; Max-Age=-" + "9" * 5000 + "; Path=/",
        "Max-Age=-" + "9" * 5000,
    ),
    "Expires in the past": (
        "h2-digest={value}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        "Expires=Thu, 01 Jan 1970 00:00:00 GMT, in the past",
    ),
    # RFC 6265 §5.2.2: a Max-Age that is no number is ignored, so Expires counts.
    "Expires in the past, a Max-Age that is no number": (
        "h2-digest={value}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=soon; Path=/",
        "Expires=Thu, 01 Jan 1970 00:00:00 GMT, in the past",
    ),
    # Kept by a browser, and sent back: a value the server reads as no digest.
    "an empty value": ("h2-digest=; Max-Age=60; Path=/", "its value is empty"),
    "an empty quoted value": ('h2-digest=""; Path=/', "its value is empty"),
}


@pytest.mark.parametrize(("line", "why"), DELETIONS.values(), ids=DELETIONS)
def test_a_set_cookie_line_that_deletes_the_digest_says_so(line: str, why: str) -> None:
    """Each was "not a signed cookie value" (or described the value a deletion leaves),
    which sent an operator looking for a broken cookie where a page deleted it."""
    pasted = "< Set-Cookie: " + line.format(value=issued_cookie(SECRET))
    assert call("inspect", pasted, "--secret-key", SECRET) == (
        1,
        f"NOT valid: the Set-Cookie line deletes h2-digest ({why}): the client holds none "
        "of its Domain and Path after this response\n",
        "",
    )


def test_a_set_cookie_line_of_a_max_age_of_5000_digits_is_read() -> None:
    """Past the 4,300 digits Python converts to an int, a Max-Age was a traceback."""
    line = f"< Set-Cookie: h2-digest={issued_cookie(SECRET)}; Max-Age={'9' * 5000}; Path=/"
    code, out, err = call("inspect", line, "--secret-key", SECRET)
    assert (code, err) == (0, ""), out
    assert out.splitlines()[1].startswith("valid: signed ")


def test_a_deletion_says_so_then_describes_the_digest_the_request_sent() -> None:
    """A "forget me" page's exchange: its request sent a digest, which its links were
    written for, and its response deletes it. The deletion was read instead of the digest
    sent, as "not a signed cookie value". Now both are said; the status is the client's
    after the response: it holds no digest."""
    sent = issued_cookie(SECRET)
    deletion = "h2-digest=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    pasted = f"> Cookie: a=1; h2-digest={sent}\n< Set-Cookie: {deletion}"
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET, "--url", "/static/site.css")
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [
        "NOT valid: the Set-Cookie line deletes h2-digest (Max-Age=0): the client holds none "
        "of its Domain and Path after this response",
        "the h2-digest the request sent, which the line deletes:",
        "a Set-Cookie line: no Domain (host-only) and its Path / are part of the signature",
    ]
    assert lines[3].startswith("valid: signed ")
    assert lines[-2:-1] == ["held: /static/site.css"]
    # Verified for the line's Domain, Path and Partitioned, the deleted cookie's: a digest
    # of another scope is another cookie, which the deletion leaves.
    scoped = pasted.replace("Path=/", "Path=/shop")
    code, out, _ = call("inspect", scoped, "--secret-key", SECRET)
    assert code == 1
    assert out.splitlines()[2] == (
        "a Set-Cookie line: no Domain (host-only) and its Path /shop are part of the signature"
    )
    assert out.splitlines()[3].startswith("NOT valid: bad signature")


@pytest.mark.parametrize("sent", [False, True], ids=["alone", "after the request's Cookie"])
def test_a_deletion_whose_domain_no_cookie_can_have_says_both(sent: bool) -> None:
    """It said only that the Domain was not one a cookie can have, not that the line
    deletes the digest: what a "forget me" page means to do, and what to check first.
    No digest the request sent is described: none can be verified for that Domain."""
    request = f"> Cookie: h2-digest={issued_cookie(SECRET)}\n" if sent else ""
    pasted = f"{request}< Set-Cookie: h2-digest=; Max-Age=0; Domain=a..b; Path=/"
    assert call("inspect", pasted, "--secret-key", SECRET) == (
        1,
        "NOT valid: the Set-Cookie line deletes h2-digest (Max-Age=0): the client holds none "
        "of its Domain and Path after this response\n"
        "NOT valid: the Set-Cookie line's Domain or Path is not one a cookie can have "
        "(Domain 'a..b', Path '/')\n",
        "",
    )


def test_a_set_cookie_line_deletes_the_digest_from_the_second_its_expires_says() -> None:
    """An Expires at the current second has passed, as a browser holds it (Chromium's
    ``CanonicalCookie::IsExpired``: now >= expiry); one a second later has not. Max-Age
    wins over Expires (RFC 6265 §5.3 step 3), and deletes at 0, not at 1."""
    now = 1_735_689_600
    with mock.patch("time.time", return_value=float(now)):
        value = signed(digest_of("/app.css"))

        def status(attributes: str) -> int:
            pasted = f"Set-Cookie: h2-digest={value}; {attributes}; Path=/"
            return call("inspect", pasted, "--secret-key", SECRET)[0]

        assert status(f"Expires={http_date(now)}") == 1
        assert status(f"Expires={http_date(now + 1)}") == 0
        assert status(f"Max-Age=1; Expires={http_date(now)}") == 0
        assert status(f"Expires={http_date(now + 1)}; Max-Age=0") == 1
        assert status("Max-Age=1") == 0
        # Of each attribute, the last one counts (RFC 6265 §5.3 steps 4-6).
        assert status("Max-Age=0; Max-Age=60") == 0
        assert status("Max-Age=60; Max-Age=0") == 1


def test_a_set_cookie_line_after_a_deletion_is_read() -> None:
    """A redirect chain under ``curl -vL``: deleted, then set again: the client holds it."""
    deletion = DELETIONS["as Werkzeug's delete_cookie writes it"][0]
    pasted = f"Set-Cookie: {deletion}\nSet-Cookie: h2-digest={issued_cookie(SECRET)}; Path=/"
    assert call("inspect", pasted, "--secret-key", SECRET)[0] == 0


@pytest.mark.parametrize(
    ("pasted", "out"),
    [
        (
            "< Set-Cookie: session=eyJ1Ijo0Mn0; Path=/\n< Set-Cookie: theme=dark",
            "NOT valid: no h2-digest cookie here (cookies: session, theme)\n",
        ),
        (
            "> Host: shop.test\n> Cookie: a=1\n< Set-Cookie: b=2; Path=/",
            "NOT valid: no h2-digest cookie here (cookies: a, b)\n",
        ),
        (
            "< HTTP/1.1 200 OK\n< Vary: Cookie",
            "NOT valid: no h2-digest cookie here (cookies: none)\n",
        ),
        # An empty Cookie line, as curl -v prints one a request sent with nothing.
        ("> Cookie: ", "NOT valid: no h2-digest cookie here (cookies: none)\n"),
        ("cookie:", "NOT valid: no h2-digest cookie here (cookies: none)\n"),
        ("> Cookie: \n> cookie:\n", "NOT valid: no h2-digest cookie here (cookies: none)\n"),
        (
            "> Cookie: \n< Set-Cookie: b=2; Path=/",
            "NOT valid: no h2-digest cookie here (cookies: b)\n",
        ),
    ],
)
def test_pasted_header_lines_without_the_digest_say_which_cookies_they_hold(
    pasted: str, out: str
) -> None:
    """An empty Cookie line was read as an empty value: "not a signed cookie value"."""
    assert call("inspect", pasted, "--secret-key", SECRET) == (1, out, "")


# -- the Domain and Path of a Set-Cookie line --------------------------------------------


def scoped_set_cookie(**config: object) -> str:
    """The Set-Cookie line of a digest signed for a Domain and Path (codec.scoped_salt)."""
    app = build_app(SECRET_KEY=SECRET, **config)
    root = config.get("APPLICATION_ROOT", "")
    response = app.test_client().get("/", base_url=f"http://shop.test{root}")
    [line] = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    return f"Set-Cookie: {line}"


def test_inspect_verifies_with_the_domain_and_path_of_a_set_cookie_line() -> None:
    """The signature covers the cookie's Domain and Path; the line says them, yet it was
    "bad signature" unless --cookie-domain and --cookie-path repeated them."""
    line = scoped_set_cookie(SESSION_COOKIE_DOMAIN=".Shop.test", APPLICATION_ROOT="/a")
    assert "; Domain=Shop.test;" in line and line.endswith("; Path=/a")
    code, out, _ = call("inspect", line, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a Set-Cookie line: its Domain Shop.test and its Path /a are part of the signature"
    )
    assert out.splitlines()[1].startswith("valid: ")
    # Its value alone, or in a Cookie header, has no attributes: the flags say them.
    value = line.partition("=")[2].partition(";")[0]
    assert call("inspect", value, "--secret-key", SECRET)[0] == 1
    both = ("--cookie-domain", "shop.test", "--cookie-path", "/a")
    assert call("inspect", f"Cookie: h2-digest={value}", "--secret-key", SECRET, *both)[0] == 0


def test_a_set_cookie_line_s_max_age_is_the_signature_s() -> None:
    """The server writes FIREHOSE_MAX_AGE as the digest's Max-Age, and a signature older
    than it is ignored. The line's Max-Age=600 was not read: its value, signed 601 s
    before (a HAR saved earlier), was said "valid", expiring in 30 days, exit 0; the
    server ignored it. ``--max-age`` wins over the line's, as the scope's flags do."""
    signed_at = 1_735_689_600
    with mock.patch("time.time", return_value=float(signed_at)):
        line = scoped_set_cookie(FIREHOSE_MAX_AGE=600)
    assert "; Max-Age=600;" in line
    with mock.patch("time.time", return_value=signed_at + 600.0):
        code, out, _ = call("inspect", line, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[1:3] == [
        "its Max-Age 600 is read as --max-age: the server writes FIREHOSE_MAX_AGE there",
        "valid: signed 2025-01-01 00:00:00 UTC (600 s ago), expires 2025-01-01 00:10:01 UTC",
    ]
    with mock.patch("time.time", return_value=signed_at + 601.0):
        code, out, _ = call("inspect", line, "--secret-key", SECRET)
        assert code == 1, out
        assert out.splitlines()[2] == (
            "NOT valid: expired: signed 2025-01-01 00:00:00 UTC, more than --max-age 600 s ago"
        )
        code, out, _ = call("inspect", line, "--secret-key", SECRET, "--max-age", "3600")
        assert code == 0, out
        assert out.splitlines()[1].startswith("valid: signed 2025-01-01 00:00:00 UTC (601 s ago)")
    # The default's line says nothing more: what it reads is what the default reads.
    default = scoped_set_cookie()
    assert "; Max-Age=2592000;" in default
    assert call("inspect", default, "--secret-key", SECRET)[1].splitlines()[1].startswith("valid")


#: The head of a cookie jar as curl -c writes it (the Netscape format).
JAR_HEAD = (
    "# Netscape HTTP Cookie File\n"
    "# https://curl.se/docs/http-cookies.html\n"
    "# This file was generated by libcurl! Edit at your own risk.\n\n"
)


@pytest.mark.parametrize("whole", [False, True], ids=["its line", "the whole jar"])
@pytest.mark.parametrize(
    ("config", "domain", "path", "scope"),
    [
        ({}, "shop.test\tFALSE", "/", "no Domain (host-only) and its Path /"),
        (
            {"SESSION_COOKIE_DOMAIN": "shop.test", "APPLICATION_ROOT": "/a"},
            ".shop.test\tTRUE",
            "/a",
            "its Domain shop.test and its Path /a",
        ),
    ],
    ids=["host-only", "a Domain and a Path"],
)
def test_inspect_reads_a_cookie_jar_as_curl_c_writes_it(
    config: dict[str, str], domain: str, path: str, scope: str, whole: bool
) -> None:
    """cli.md has the user get a cookie with ``curl -c jar``: a jar's line (tab-separated:
    domain, whether it is a Domain cookie, path, secure, expiry, name, value; an HttpOnly
    cookie's marked ``#HttpOnly_``) said "no h2-digest cookie here (cookies: none)"."""
    line = scoped_set_cookie(**config)
    value = line.partition("=")[2].partition(";")[0]
    jar_line = f"#HttpOnly_{domain}\t{path}\tFALSE\t1799006335\th2-digest\t{value}"
    other = "shop.test\tFALSE\t/\tFALSE\t0\ttheme\tdark"
    pasted = f"{JAR_HEAD}{other}\n{jar_line}\n" if whole else jar_line
    code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[:3] == [
        "a cookie jar's line (curl -c, the Netscape format): read as the Set-Cookie line "
        "that stored it",
        f"a Set-Cookie line: {scope} are part of the signature",
        out.splitlines()[2],
    ]
    assert out.splitlines()[2].startswith("valid: ")


@pytest.mark.parametrize("shown", [str.expandtabs, lambda line: line.replace("\t", " ")])
def test_a_cookie_jar_copied_from_a_terminal_is_read_as_its_tabs_were(
    shown: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cat jar`` in a terminal shows each tab as spaces, and a copy of it holds them: it
    said "no h2-digest cookie here (cookies: none)" of the jar cli.md has the user make."""
    line = scoped_set_cookie(SESSION_COOKIE_DOMAIN="shop.test", APPLICATION_ROOT="/a")
    value = line.partition("=")[2].partition(";")[0]
    jar = (
        f"{JAR_HEAD}shop.test\tFALSE\t/\tFALSE\t0\ttheme\tdark\n"
        f"#HttpOnly_.shop.test\tTRUE\t/a\tFALSE\t1799006335\th2-digest\t{value}\n"
    )
    copied = "\n".join(map(shown, jar.splitlines()))
    assert "\t" not in copied
    # With what a terminal's copy holds around it: a prompt and command (macOS's names a
    # host and directory before a ':'), a curl command's header output, a Cookie line.
    for before in (
        "$ cat jar",
        "user@host:~$ cat jar.txt",
        "MacBook-Pro:site ann$ cat jar",
        "$ curl -si -c jar https://shop.test/a/ | head -2\nHTTP/1.1 200 OK\nServer: nginx",
        "Cookie: theme=dark",
    ):
        for jar_as_shown in (jar, copied):
            pasted = f"{before}\n{jar_as_shown}"
            assert call("inspect", pasted, "--secret-key", SECRET)[0] == 0, pasted
    with mock.patch("time.time", return_value=datetime.now().timestamp()):  # one "s ago"
        as_written = call("inspect", jar, "--secret-key", SECRET)
        assert as_written[0] == 0, as_written[1]
        assert call("inspect", copied, "--secret-key", SECRET) == as_written
        monkeypatch.setattr("sys.stdin", io.StringIO(copied))
        assert call("inspect", "-", "--secret-key", SECRET) == as_written
    assert call("inspect", copied, "--secret-key", SECRET, "--cookie-name", "nope")[1] == (
        "NOT valid: no nope cookie here (cookies: theme, h2-digest)\n"
    )


#: What a jar's line is said to be when a terminal broke it over two lines.
CUT_JAR_LINE = (
    "the cookie jar's h2-digest line looks cut: the line after it looks like the rest of "
    "it, as a terminal breaks a long line; join them, or give the file on stdin: "
    "firehose-digest inspect - < jar"
)


@pytest.mark.parametrize("shown", [str, str.expandtabs], ids=["tabs", "as a terminal shows it"])
@pytest.mark.parametrize(
    "kept", [-40, -3, 0], ids=["in the value", "in the signature", "before the value"]
)
def test_a_jar_line_a_terminal_broke_is_said_to_look_cut(shown: Any, kept: int) -> None:
    """``cat jar`` in a terminal as wide as the line's first 80 columns: a copy breaks the
    digest's line in two, and inspect said "not a signed cookie value", "bad signature"
    or "no h2-digest cookie here", as if the cookie were bad. It still reads the lines as
    given, and says after the verdict that the line looks cut."""
    value = issued_cookie(SECRET)
    line = shown(f"#HttpOnly_shop.test\tFALSE\t/\tFALSE\t1799006335\th2-digest\t{value}")
    cut = len(line) - len(value) + len(value[:kept])
    for before in ("", JAR_HEAD, "$ cat jar\n"):
        pasted = f"{before}{line[:cut]}\n{line[cut:]}\n$"
        code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
        assert code == 1, out
        lines = out.splitlines()
        [at] = [i for i, said in enumerate(lines) if said.startswith("NOT valid: ")]
        assert lines[at + 1] == CUT_JAR_LINE, out
    # Whole, it is valid, and a line after it that is no part of it is not said to be.
    for after in ("", "\n$", "\nuser@host:~$", "\n\nabc"):
        code, out, _ = call("inspect", f"{line}{after}", "--secret-key", SECRET)
        assert code == 0, out
        assert CUT_JAR_LINE not in out


def test_a_jar_line_that_looks_cut_beside_the_valid_one_read_is_not_said_to_be() -> None:
    """The hint says why the value read is no digest: of the jar of cli.md's apps at / and
    at /a, the line of / broken by a terminal, the one of /a whole, --cookie-path /a reads
    a valid digest, and a hint after it would have the operator join lines it did not read."""
    lines = {}
    for root in ("/", "/a"):
        line = scoped_set_cookie(**({"APPLICATION_ROOT": root} if root != "/" else {}))
        value = line.partition("=")[2].partition(";")[0]
        lines[root] = f"#HttpOnly_shop.test\tFALSE\t{root}\tFALSE\t1799006335\th2-digest\t{value}"
    broken = lines["/"][:-40] + "\n" + lines["/"][-40:]
    jar = f"{JAR_HEAD}{broken}\n{lines['/a']}\n"
    code, out, _ = call("inspect", jar, "--secret-key", SECRET, "--cookie-path", "/a")
    assert code == 0, out
    assert CUT_JAR_LINE not in out
    code, out, _ = call("inspect", jar, "--secret-key", SECRET, "--cookie-path", "/")
    assert code == 1, out
    assert CUT_JAR_LINE in out.splitlines()


@pytest.mark.parametrize("tabs", [True, False], ids=["tabs", "as a terminal shows it"])
@pytest.mark.parametrize(
    "host",
    [
        "www.example.com",
        "www.example-shop.co.uk",
        "static.assets.example-shop.com",
        "pr-1234-checkout-redesign.preview.staging.example-shop.com",
        "pr-1234-checkout-redesign.review-apps.staging.example-shop.com",
    ],
    ids=[
        "in its name",
        "before its name",
        "in its expiry",
        "before its path",
        "before its domain match",
    ],
)
def test_a_jar_line_of_a_longer_host_a_terminal_broke_is_said_to_look_cut(
    host: str, tabs: bool
) -> None:
    """``cat jar`` in 80 columns breaks the line of most hosts before its value: in the
    cookie's name, before it or in its expiry, the rest on the next line with the white
    space in it. Only a break in the value or right before it was said to look cut, and
    then none in more than two fields before it: a review app's host of 54 to 69
    characters, whose line breaks before its path or its domain match, got "not a signed
    cookie value: it holds '#'" or "no h2-digest cookie here" alone. (Broken in its host,
    the line after it is a jar line of its own, read and verified.)"""
    value = issued_cookie(SECRET)
    line = f"#HttpOnly_{host}\tFALSE\t/\tFALSE\t1799006335\th2-digest\t{value}"
    # Where the terminal breaks it: at the 80th column it shows.
    cut = max(at for at in range(len(line)) if len(line[:at].expandtabs()) <= 80)
    first, rest = (
        (line[:cut], line[cut:]) if tabs else (line.expandtabs()[:80], line.expandtabs()[80:])
    )
    assert rest.split()[-1] == value and len(rest.split()) > 1, rest
    for before in ("", JAR_HEAD, "$ cat jar\n"):
        code, out, _ = call("inspect", f"{before}{first}\n{rest}\n$", "--secret-key", SECRET)
        assert code == 1, out
        lines = out.splitlines()
        [at] = [i for i, said in enumerate(lines) if said.startswith("NOT valid: ")]
        assert lines[at + 1] == CUT_JAR_LINE, out


def terminal_rows(shown: str) -> list[str]:
    """``shown`` cut into rows as an 80-column terminal shows them."""
    parts, start = [], 0
    while start < len(shown):
        end = max(at for at in range(len(shown) + 1) if len(shown[start:at].expandtabs()) <= 80)
        parts.append(shown[start:end])
        start = end
    return parts


def said_to_look_cut(parts: list[str]) -> None:
    """``inspect`` of the rows pasted, alone, after curl's header or after a prompt, says
    the value is not valid and the jar line looks cut."""
    for before in ("", JAR_HEAD, "$ cat jar\n"):
        pasted = before + "\n".join(parts) + "\n$"
        code, out, _ = call("inspect", pasted, "--secret-key", SECRET)
        assert code == 1, out
        lines = out.splitlines()
        [at] = [i for i, said in enumerate(lines) if said.startswith("NOT valid: ")]
        assert lines[at + 1] == CUT_JAR_LINE, out


@pytest.mark.parametrize("tabs", [True, False], ids=["tabs", "as a terminal shows it"])
def test_a_jar_line_a_terminal_broke_in_three_is_said_to_look_cut(tabs: bool) -> None:
    """The digest of a client that holds 60 resources is a value of some 150 characters:
    ``cat jar`` in 80 columns breaks its line in three, the signature on the third line.
    The first two joined are no whole signed value, only its start; they were said to
    look cut until a whole value was asked for, and then were not."""
    value = signed(digest_of(*(f"/static/r{i}.css" for i in range(60))))
    line = f"#HttpOnly_shop.test\tFALSE\t/\tFALSE\t1799006335\th2-digest\t{value}"
    assert call("inspect", line, "--secret-key", SECRET)[0] == 0
    shown = line if tabs else line.expandtabs()
    parts = terminal_rows(shown)
    assert len(parts) == 3 and value[-27:] not in "".join(parts[:2]), parts
    said_to_look_cut(parts)


@pytest.mark.parametrize("tabs", [True, False], ids=["tabs", "as a terminal shows it"])
@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("pr-1234-checkout-redesign.review-apps.staging-eu-west.example-shop.com", "/"),
        ("pr-1234-checkout.review-apps.staging.example-shop.com", "/account"),
    ],
    ids=["its host", "its path"],
)
def test_a_jar_line_a_terminal_broke_before_a_tab_is_said_to_look_cut(
    host: str, path: str, tabs: bool
) -> None:
    """A field that ends at the 80th column (a host of 70 characters, a path of 8 such as
    ``/account`` after one of 46 to 53) puts the tab after it at the start of the next
    row: stripped, that row is a whole tab stop, 8 columns, narrower than the first, and
    was taken for the last line of a value with no whole signature: "not a signed cookie
    value" or "bad signature", with no note that the line looks cut."""
    value = issued_cookie(SECRET)
    line = f"#HttpOnly_{host}\tFALSE\t{path}\tFALSE\t1799006335\th2-digest\t{value}"
    shown = line if tabs else line.expandtabs()
    parts = terminal_rows(shown)
    # The first row ends with the field, the next starts with the tab after it.
    assert len(parts) == 3 and parts[0].endswith(path if path != "/" else host), parts
    assert len(parts[0].expandtabs()) == 80 and parts[1].startswith(("\t", " " * 8)), parts
    said_to_look_cut(parts)


@pytest.mark.parametrize("shown", [str, str.expandtabs], ids=["tabs", "as a terminal shows it"])
def test_a_jar_line_of_a_bad_value_followed_by_a_word_is_not_said_to_be_cut(shown: Any) -> None:
    """Only a line that could be more of the value: one with a space, a ':' or a '$' is not,
    nor one word after a whole signed value (its signature is as long as any: an HMAC-SHA1,
    27 characters), which a paste's next line ("exit", a prompt's word) made look cut."""
    value = issued_cookie("another key")
    line = shown(f"shop.test\tFALSE\t/\tFALSE\t0\th2-digest\t{value}")
    another = "shop.test\tFALSE\t/\tFALSE\t0\ta\tb"
    for after in ("$ ls", "user@host:~$", "Set-Cookie: a=b", another, "exit", "ok", "x"):
        code, out, _ = call("inspect", f"{line}\n{after}", "--secret-key", SECRET)
        assert code == 1, out
        assert CUT_JAR_LINE not in out, after


@pytest.mark.parametrize(
    "before",
    [JAR_HEAD, "$ cat jar\n", "user@laptop:~/shop$ cat cookies.txt\n"],
    ids=["curl's header", "a prompt", "a longer prompt"],
)
def test_a_whole_jar_line_of_another_key_is_not_said_to_be_cut(
    before: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A jar's whole digest line that does not verify (signed with another key), after the
    empty line that ends curl's header or after a prompt's command, was read as the rest of
    a line broken in its host: that line (empty, or the command) joined to it made a jar
    line of the same value, and inspect said the jar line looks cut, on stdin too, where
    it said to give the file on stdin. A line after a break holds no host: a line that
    does is a jar line of its own."""
    value = issued_cookie("another key")
    for host in ("127.0.0.1", "pr-1234-checkout-redesign.preview.staging.example-shop.com"):
        jar = f"{before}#HttpOnly_{host}\tFALSE\t/\tFALSE\t1799006335\th2-digest\t{value}\n"
        monkeypatch.setattr("sys.stdin", io.StringIO(jar))
        for cookie in (jar, "-"):
            code, out, _ = call("inspect", cookie, "--secret-key", SECRET)
            assert code == 1 and "NOT valid: bad signature" in out, out
            assert CUT_JAR_LINE not in out, (host, cookie)


@pytest.mark.parametrize("shown", [str, str.expandtabs], ids=["tabs", "as a terminal shows it"])
@pytest.mark.parametrize("value", ["", "abc", "deleted", "IwAKIQ.axS"], ids=repr)
def test_a_jar_line_of_a_short_value_followed_by_a_word_is_not_said_to_be_cut(
    shown: Any, value: str
) -> None:
    """A value with no whole signature (empty, a stand-in, the start of one) and a word
    on the line after it (a prompt's, "exit") were joined into the start of a value, and
    said to look cut. A terminal's break leaves the first line as wide as it is, and each
    line but the last as wide: a line after it shorter than it ends the value, and must
    hold a whole signature for the break to be one."""
    line = shown(f"shop.test\tFALSE\t/\tFALSE\t0\th2-digest\t{value}")
    for after in ("exit", "ok", "x", "ls", "a" * 20):
        code, out, _ = call("inspect", f"{line}\n{after}", "--secret-key", SECRET)
        assert code == 1, out
        assert CUT_JAR_LINE not in out, (value, after)


@pytest.mark.parametrize("separator", ["    ", "\t"], ids=["spaces", "tabs"])
def test_a_line_shaped_as_a_jar_s_beside_headers_leaves_them_read(separator: str) -> None:
    """A paste with header lines is read by them, not as a jar: a ``curl -v`` trace whose
    body held ``shop.test    FALSE    /    FALSE    0    theme    dark`` (as a terminal
    shows a jar, or with its tabs) was read as a jar of that one cookie, "no h2-digest
    cookie here (cookies: theme)", beside the valid digest its ``Set-Cookie`` header set."""
    line = scoped_set_cookie()
    jar_shaped = separator.join(["shop.test", "FALSE", "/", "FALSE", "0", "theme", "dark"])
    trace = (
        "> GET / HTTP/1.1\n> Host: shop.test\n>\n< HTTP/1.1 200 OK\n"
        f"< {line}\n<\n<pre>\n{jar_shaped}\n</pre>\n"
    )
    without = trace.replace(jar_shaped, "shop.test FALSE!")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):  # one "s ago"
        assert call("inspect", trace, "--secret-key", SECRET) == call(
            "inspect", without, "--secret-key", SECRET
        )
    code, out, _ = call("inspect", trace, "--secret-key", SECRET)
    assert code == 0, out
    assert any(said.startswith("valid: ") for said in out.splitlines()), out


@pytest.mark.parametrize("shop_first", [True, False], ids=["/a first", "/ first"])
def test_of_a_jar_s_digests_of_two_paths_the_one_of_cookie_path_is_read(shop_first: bool) -> None:
    """cli.md's app mounted at /a beside one at /: after visiting both, the jar holds a
    digest of each, and neither replaces the other. Asked with --cookie-path, inspect read
    the jar's last line all the same, and said "bad signature" of the other app's value,
    though the jar held a valid digest for that path."""
    lines = {}
    for root in ("/", "/a"):
        line = scoped_set_cookie(**({"APPLICATION_ROOT": root} if root != "/" else {}))
        value = line.partition("=")[2].partition(";")[0]
        lines[root] = f"#HttpOnly_shop.test\tFALSE\t{root}\tFALSE\t1799006335\th2-digest\t{value}"
    order = ["/a", "/"] if shop_first else ["/", "/a"]
    jar = JAR_HEAD + "".join(f"{lines[root]}\n" for root in order)
    for root in order:
        code, out, _ = call("inspect", jar, "--secret-key", SECRET, "--cookie-path", root)
        assert code == 0, out
        said = out.splitlines()
        assert (
            said[1] == f"2 Set-Cookie lines of h2-digest: reading the last of --cookie-path {root}"
        )
        assert said[2].startswith("a Set-Cookie line: no Domain (host-only) and --cookie-path ")
        assert said[3].startswith("valid: ")
    # With no flag, the last line is read, as before, and the note says how to pick.
    code, out, _ = call("inspect", jar, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[1] == (
        "2 Set-Cookie lines of h2-digest: reading the last (of 2 Domains and Paths: "
        "--cookie-domain and --cookie-path pick another)"
    )
    assert f"its Path {order[-1]} are part" in out.splitlines()[2]
    # Asked for a path neither line is of, the last is read, and the note says none is.
    code, out, _ = call("inspect", jar, "--secret-key", SECRET, "--cookie-path", "/b")
    assert code == 1, out
    assert out.splitlines()[1] == (
        "2 Set-Cookie lines of h2-digest: reading the last (none is of --cookie-path /b)"
    )


@pytest.mark.parametrize("name", ["jar", "cookies.txt"])
def test_a_file_named_as_the_cookie_is_said_to_be_one(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cli.md has the user get a cookie with ``curl -c jar``; given that jar by its name,
    ``inspect jar`` said "not a signed cookie value" and nothing else, as for any word: the
    file is read from stdin, and the line after says so."""
    monkeypatch.chdir(tmp_path)
    value = issued_cookie(SECRET)
    (tmp_path / name).write_text(
        f"{JAR_HEAD}#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\th2-digest\t{value}\n"
    )
    code, out, _ = call("inspect", name, "--secret-key", SECRET)
    assert (code, out) == (
        1,
        "NOT valid: not a signed cookie value (payload.timestamp.signature)\n"
        f"{name} is a file: COOKIE is the cookie itself; to read the file, give it on stdin: "
        f"firehose-digest inspect - < {name}\n",
    )
    with (tmp_path / name).open() as jar:
        monkeypatch.setattr("sys.stdin", jar)
        code, out, _ = call("inspect", "-", "--secret-key", SECRET)
    assert code == 0, out


def test_a_word_that_names_no_file_gets_no_such_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jar").mkdir()  # a directory: no file to read
    for word in ("jar", "cookies.txt"):
        code, out, _ = call("inspect", word, "--secret-key", SECRET)
        assert (code, out) == (
            1,
            "NOT valid: not a signed cookie value (payload.timestamp.signature)\n",
        )


@pytest.mark.parametrize(
    "attributes",
    [
        "Domain=Shop.test; Path=/a",
        "path=/a; HttpOnly; domain=Shop.test",
        "Domain=Shop.test;Path=/a",
    ],
)
def test_a_set_cookie_value_pasted_without_its_field_name_is_read_as_its_line(
    attributes: str,
) -> None:
    """Developer tools and logs show a Set-Cookie line's value alone: it was read as a
    Cookie header of cookies named Domain and Path, so a digest scoped to them was "bad
    signature". Its attributes say it is a Set-Cookie value."""
    line = scoped_set_cookie(SESSION_COOKIE_DOMAIN=".Shop.test", APPLICATION_ROOT="/a")
    value = line.partition("=")[2].partition(";")[0]
    code, out, _ = call("inspect", f"h2-digest={value}; {attributes}", "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0].startswith("a Set-Cookie line: its Domain Shop.test and ")
    deleted = call("inspect", f"h2-digest=; Max-Age=0; {attributes}", "--secret-key", SECRET)
    assert deleted[0] == 1
    assert deleted[1].startswith("NOT valid: the Set-Cookie line deletes h2-digest (Max-Age=0)")


def test_a_set_cookie_value_pasted_with_a_flag_alone_is_read_as_its_line() -> None:
    """A flag (an attribute without a value) after the pair says a Set-Cookie value as
    Domain= or Path= does: the line's Partitioned is part of the signature, where the
    pair read as a Cookie header is "bad signature" without --cookie-partitioned."""
    app = build_app(SECRET_KEY=SECRET, SESSION_COOKIE_PARTITIONED=True)
    header = app.test_client().get("/", base_url="https://shop.test/").headers["Set-Cookie"]
    pair = header.partition(";")[0]
    assert call("inspect", pair, "--secret-key", SECRET)[0] == 1
    for flags in ("Partitioned", "Secure; Partitioned", "HttpOnly; partitioned"):
        code, out, _ = call("inspect", f"{pair}; {flags}", "--secret-key", SECRET)
        assert code == 0, out
        assert out.splitlines()[0] == (
            "a Set-Cookie line: no Domain (host-only) and Path /, Partitioned are part of the "
            "signature"
        )


def test_a_cookie_header_naming_no_attribute_stays_a_cookie_header() -> None:
    """Cookies a Set-Cookie line cannot carry after its first pair (another name=value)
    keep the text a Cookie header, however its cookies are named."""
    value = issued_cookie(SECRET)
    for header in (f"a=1; h2-digest={value}", f"h2-digest={value}; pathway=1; secure_id=2"):
        code, out, _ = call("inspect", header, "--secret-key", SECRET)
        assert code == 0, out
        assert not out.startswith("a Set-Cookie line")


def test_a_host_only_set_cookie_line_at_the_root_says_so() -> None:
    line = scoped_set_cookie()
    code, out, _ = call("inspect", line, "--secret-key", SECRET)
    assert code == 0
    assert out.splitlines()[0] == (
        "a Set-Cookie line: no Domain (host-only) and its Path / are part of the signature"
    )


def test_a_set_cookie_path_is_read_percent_decoded_as_the_app_configures_it() -> None:
    """Werkzeug writes ``APPLICATION_ROOT = "/my shop/é"`` as ``Path=/my%20shop/%C3%A9``;
    the salt has the path as configured."""
    line = scoped_set_cookie(APPLICATION_ROOT="/my shop/é")
    assert line.endswith("; Path=/my%20shop/%C3%A9")
    code, out, _ = call("inspect", line, "--secret-key", SECRET)
    assert code == 0, out
    assert "its Path /my shop/é are part of the signature" in out.splitlines()[0]


@pytest.mark.parametrize("path", ["shop", "", "%2Fshop"])
def test_a_set_cookie_path_that_does_not_start_with_a_slash_is_no_path_of_the_app(
    path: str,
) -> None:
    """A browser takes such a Path for the request's own directory (RFC 6265 §5.2.4), and
    init_app refuses one as SESSION_COOKIE_PATH: the app signed for no such Path, so the
    line is read as one without a Path, at /."""
    value = issued_cookie(SECRET)
    code, out, _ = call(
        "inspect", f"Set-Cookie: h2-digest={value}; Path={path}", "--secret-key", SECRET
    )
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a Set-Cookie line: no Domain (host-only) and Path / are part of the signature"
    )


def test_of_set_cookie_lines_of_two_domains_the_one_of_cookie_domain_is_read() -> None:
    """A browser holds a host-only cookie and one of Domain shop.test side by side (RFC 6265
    §5.3 step 11 replaces one of the same domain, host-only flag and path): --cookie-domain
    picks the line of its Domain, compared as a browser does (no leading dot, any case),
    not the last line."""
    of_domain = scoped_set_cookie(SESSION_COOKIE_DOMAIN=".Shop.test")
    host_only = scoped_set_cookie()
    assert "; Domain=Shop.test;" in of_domain and "Domain" not in host_only
    text = f"{of_domain}\n{host_only}"
    code, out, _ = call("inspect", text, "--secret-key", SECRET, "--cookie-domain", "shop.test")
    assert code == 0, out
    assert out.splitlines()[0] == (
        "2 Set-Cookie lines of h2-digest: reading the last of --cookie-domain shop.test"
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == (
        "2 Set-Cookie lines of h2-digest: reading the last (of 2 Domains and Paths: "
        "--cookie-domain and --cookie-path pick another)"
    )


def test_the_cookie_flags_win_over_a_set_cookie_line() -> None:
    """A proxy may rewrite the attributes on the way (nginx ``proxy_cookie_path /a /``,
    ``proxy_cookie_domain``): the line then says other ones than the app signed for, and
    --cookie-domain and --cookie-path say the app's. Given, even at the default, a flag
    wins; the attribute not given a flag is still the line's."""
    signed_line = scoped_set_cookie(SESSION_COOKIE_DOMAIN="shop.test", APPLICATION_ROOT="/a")
    rewritten = signed_line.replace("; Path=/a", "; Path=/").replace("shop.test", "www.shop.test")
    assert call("inspect", rewritten, "--secret-key", SECRET)[0] == 1
    both = ("--cookie-domain", "shop.test", "--cookie-path", "/a")
    code, out, _ = call("inspect", rewritten, "--secret-key", SECRET, *both)
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a Set-Cookie line: --cookie-domain shop.test and --cookie-path /a are part of the "
        "signature"
    )
    path_only = signed_line.replace("; Path=/a", "; Path=/")
    code, out, _ = call("inspect", path_only, "--secret-key", SECRET, "--cookie-path", "/a")
    assert code == 0, out
    assert out.splitlines()[0].startswith("a Set-Cookie line: its Domain shop.test and --cookie")
    assert call("inspect", signed_line, "--secret-key", SECRET, "--cookie-path", "/")[0] == 1


def test_an_empty_value_given_is_said_quoted() -> None:
    """``--cookie-domain ''`` says the app's cookie is host-only where a front added a
    Domain, and ``--resource-version ''`` asks for ``push(url, version="")``: each was
    said as nothing, "--cookie-domain  and its Path /", "(version )"."""
    rewritten = scoped_set_cookie().replace("; Path=/", "; Domain=shop.test; Path=/")
    argv = ("--cookie-domain", "", "--url", "/static/app.js", "--resource-version", "")
    code, out, _ = call("inspect", rewritten, "--secret-key", SECRET, *argv)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == (
        "a Set-Cookie line: --cookie-domain '' and its Path / are part of the signature"
    )
    assert "not held: /static/app.js (version '')" in lines


@pytest.mark.parametrize(
    "attributes",
    ["Domain=a..b; Path=/", "Domain=\udcff; Path=/", "Path=/\udcff"],
    ids=["no domain name", "an undecodable byte in Domain", "an undecodable byte in Path"],
)
def test_a_set_cookie_line_whose_attributes_no_cookie_can_have_is_not_valid(
    attributes: str,
) -> None:
    line = f"Set-Cookie: h2-digest={issued_cookie(SECRET)}; {attributes}"
    code, out, err = call("inspect", line, "--secret-key", SECRET)
    assert (code, err) == (1, "")
    assert out.startswith("NOT valid: the Set-Cookie line's Domain or Path is not one a cookie")


# -- an absolute --url -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "line"),
    [
        (
            "https://shop.test/static/app.js",
            "held: /static/app.js (the path of https://shop.test/static/app.js)",
        ),
        (
            "HTTP://other.test:8080/static/app.js#top",
            "held: /static/app.js (the path of HTTP://other.test:8080/static/app.js#top)",
        ),
        (
            "https://shop.test/static/é.css?v=2",
            "not held: /static/%C3%A9.css?v=2 (the path of "
            "https://shop.test/static/%C3%A9.css?v=2)",
        ),
        ("https://shop.test", "not held: / (the path of https://shop.test)"),
        ("/static/app.js", "held: /static/app.js"),
    ],
    ids=["https", "any host, port and fragment", "encoded, with a query", "no path", "a path"],
)
def test_inspect_judges_an_absolute_url_by_its_path(url: str, line: str) -> None:
    """A digest holds paths (only a path is ever pushed), whatever the host: the url a
    browser's address bar or DevTools shows was looked up whole and "not held"."""
    code, out, _ = call("inspect", issued_cookie(SECRET), "--secret-key", SECRET, "--url", url)
    assert code == 0
    assert line in out.splitlines()


def test_a_url_with_a_query_is_judged_with_it() -> None:
    value = signed(digest_of("/app.js?v=2"))
    out = call("inspect", value, "--secret-key", SECRET, "--url", "https://x.test/app.js?v=2")[1]
    assert "held: /app.js?v=2 (the path of https://x.test/app.js?v=2)" in out.splitlines()


def test_an_absolute_url_ending_in_an_empty_query_is_judged_with_it() -> None:
    """A browser requests "/app.js?" for it, and ``push("/app.js?")`` records that: urlsplit
    reads no query there, and "/app.js" was asked."""
    value = signed(digest_of("/app.js?"))
    out = call("inspect", value, "--secret-key", SECRET, "--url", "https://x.test/app.js?#top")[1]
    assert "held: /app.js? (the path of https://x.test/app.js?#top)" in out.splitlines()


@pytest.mark.parametrize("url", ["https://[::1/a", "http://[::1"])
def test_an_absolute_url_that_is_no_url_is_a_usage_error(url: str) -> None:
    code, out, err = call("inspect", "x", "--secret-key", SECRET, "--url", url)
    assert (code, out) == (2, "")
    assert f"argument --url: not a url: {url!r}" in err


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "not valid"])
def test_inspect_refuses_a_url_that_is_no_url_naming_the_argument(valid: bool) -> None:
    """inspect() raised urlsplit's bare "Invalid IPv6 URL", and only for a cookie it got
    as far as looking urls up in."""
    cookie = issued_cookie(SECRET) if valid else "x"
    with pytest.raises(ValueError, match=re.escape("urls: not a url: 'http://[::1'")):
        cli.inspect(cookie, [SECRET], urls=["/app.js", "http://[::1"])


@pytest.mark.parametrize("keys", [["key"], ["old", "new"]], ids=["one key", "a fallback"])
def test_one_report_is_read_at_one_instant_of_the_clock(keys: list[str]) -> None:
    """A clock that ticks on every reading, from a cookie's last valid second: the report
    is of that second alone. Read again at each step, the cookie was chosen as valid,
    then said expired (or, verified once more, signed "101 s ago" with a max age of 100)."""
    start = 1_735_689_600
    with mock.patch("time.time", return_value=float(start)):
        cookie = DigestCodec([keys[0]], salt_for(""), 100).dumps(digest_of("/app.css"))
    clock = itertools.count(float(start + 100))
    with mock.patch("time.time", side_effect=lambda: next(clock)):
        valid, out = cli.inspect(f"h2-digest={cookie}; h2-digest=x", keys, max_age=100)
    assert valid, out
    assert out[0] == (
        "2 h2-digest cookies sent: reading the valid one signed last, as the server does"
    )
    assert out[1].startswith("valid: signed 2025-01-01 00:00:00 UTC (100 s ago), ")
    if len(keys) > 1:
        assert out[2] == (
            "signed with a fallback key, SECRET_KEY_FALLBACKS[0]: the server signs it again "
            "with SECRET_KEY when it next writes it"
        )


@pytest.mark.parametrize("key", ["secret", b"secret", bytearray(b"secret")])
def test_inspect_refuses_one_key_given_bare(key: str | bytes) -> None:
    """A str is a Sequence[str]: ``inspect(cookie, "secret")`` took each character as a key,
    and said a value signed with "t" alone was "signed with this key"."""
    forged = DigestCodec(["t"], salt_for(""), 100).dumps(digest_of("/app.css"))
    with pytest.raises(TypeError, match=r"^secret_keys: a list of keys, .* not one "):
        cli.inspect(forged, key)  # type: ignore[arg-type]
    valid, out = cli.inspect(forged, [key])
    assert not valid and out[0].startswith("NOT valid: bad signature")


def test_inspect_refuses_urls_given_as_one_str() -> None:
    """``inspect(cookie, keys, urls="/app.js")`` looked up each character as a url."""
    with pytest.raises(TypeError, match=r"^urls: a list of urls, not one str"):
        cli.inspect(issued_cookie("k"), ["k"], urls="/app.js")
    valid, out = cli.inspect(issued_cookie("k"), ["k"], urls=["/app.js"])
    assert valid and sum(line.endswith(": /app.js") for line in out) == 1


def test_inspect_given_no_key_says_so() -> None:
    """``inspect(cookie, [])``, as for an app with no key set: the cookie is not valid for
    want of a key, as the command says with none, and its payload is still described."""
    valid, out = cli.inspect(issued_cookie(SECRET), [])
    assert not valid
    assert out[:3] == [
        f"NOT valid: {cli.NO_SECRET_KEY}",
        cli.KEY_NOT_GIVEN,
        "unverified payload: 17 bytes",
    ]


# -- a HAR, and Firefox's JSON copies of headers -----------------------------------------
#
# HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): ``log`` holds ``version``,
# ``creator`` and ``entries``, one a request; an entry its ``startedDateTime`` (ISO 8601),
# ``time``, ``request``, ``response``, ``cache`` and ``timings``; a request its ``method``,
# ``url``, ``httpVersion``, ``cookies``, ``headers``, ``queryString``, ``headersSize`` and
# ``bodySize``; a response its ``status``, ``statusText``, ``httpVersion``, ``cookies``,
# ``headers``, ``content``, ``redirectURL``, ``headersSize`` and ``bodySize``. A header and
# a cookie are ``{"name", "value"}`` objects (a cookie with its ``path``, ``domain``,
# ``expires``, ``httpOnly``, ``secure``).


def har_cookie(line: str) -> dict[str, Any]:
    """A HAR ``cookies`` object of a ``Set-Cookie`` line (``name=value; Path=...``), or of
    a ``name=value`` pair as a request sends it."""
    pair, *attributes = line.split("; ")
    name, _, value = pair.partition("=")
    cookie: dict[str, Any] = {"name": name, "value": value}
    for attribute in attributes:
        key, _, text = attribute.partition("=")
        if key in ("Path", "Domain", "Expires"):
            cookie[key.lower()] = text
    if attributes:
        cookie.update(httpOnly="HttpOnly" in attributes, secure="Secure" in attributes)
    return cookie


def har_entry(
    url: str,
    sent: str | None = None,
    set_cookies: tuple[str, ...] = (),
    *,
    started: str = "2025-01-01T00:00:00.000Z",
    http2: bool = False,
) -> dict[str, Any]:
    """A HAR entry as Chrome's "Save all as HAR (with sensitive data)" writes one: a GET of
    ``url`` that sent the ``Cookie`` header ``sent`` and whose response set each of
    ``set_cookies`` (``Set-Cookie`` values), HTTP/2's lower-case names if ``http2``."""
    version = "h2" if http2 else "HTTP/1.1"
    named = str.lower if http2 else str

    def headers(*pairs: tuple[str, str]) -> list[dict[str, str]]:
        return [{"name": named(name), "value": value} for name, value in pairs]

    request_headers = headers(("Accept", "text/html"), *([("Cookie", sent)] if sent else []))
    if http2:
        request_headers.insert(0, {"name": ":authority", "value": "shop.test"})
    return {
        "startedDateTime": started,
        "time": 12.5,
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": version,
            "cookies": [har_cookie(pair) for pair in (sent.split("; ") if sent else [])],
            "headers": request_headers,
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": version,
            "cookies": [har_cookie(line) for line in set_cookies],
            "headers": headers(
                ("Content-Type", "text/html; charset=utf-8"),
                *(("Set-Cookie", line) for line in set_cookies),
            ),
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": 0,
            "wait": 10,
            "receive": 2.5,
        },
    }


def har(*entries: dict[str, Any]) -> str:
    """A HAR file of ``entries``, as developer tools save one (indented JSON)."""
    log = {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}}
    document = {"log": {**log, "pages": [], "entries": list(entries)}}
    assert har_missing(document) == []
    return json.dumps(document, indent=2)


def set_cookie_of(line: str) -> str:
    """The value of a ``Set-Cookie:`` line (:func:`scoped_set_cookie`'s)."""
    return line.removeprefix("Set-Cookie: ")


def value_of(line: str) -> str:
    return line.partition("=")[2].partition(";")[0]


def test_inspect_reads_a_har_the_cookie_its_last_response_set_with_its_scope() -> None:
    """A page's requests saved as a HAR ("Save all as HAR", the file a bug report asks
    for): it said "no h2-digest cookie here (cookies: none)". The page set the digest for
    its Domain and Path; the requests after it send it back, with no scope."""
    line = set_cookie_of(
        scoped_set_cookie(SESSION_COOKIE_DOMAIN="shop.test", APPLICATION_ROOT="/a")
    )
    sent = f"theme=dark; h2-digest={value_of(line)}"
    text = har(
        har_entry("https://shop.test/a/", "theme=dark", (line,)),
        har_entry("https://shop.test/static/app.js", sent, started="2025-01-01T00:00:00.100Z"),
        har_entry("https://shop.test/static/site.css", sent, started="2025-01-01T00:00:00.110Z"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET, "--url", "/static/app.js")
    assert code == 0, out
    assert out.splitlines()[:3] == [
        "a HAR of 3 requests: reading the last whose response sets h2-digest, "
        "#1 GET https://shop.test/a/",
        "a Set-Cookie line: its Domain shop.test and its Path /a are part of the signature",
        out.splitlines()[2],
    ]
    assert out.splitlines()[2].startswith("valid: ")
    assert "held: /static/app.js" in out.splitlines()


def test_a_har_whose_responses_set_no_digest_is_read_for_the_last_one_sent() -> None:
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    text = har(
        har_entry("https://shop.test/", f"h2-digest={new}", started="2025-01-01T00:00:01Z"),
        # Entries in another order than their times: the spec asks a reader to sort them.
        har_entry("https://shop.test/old", f"h2-digest={old}", started="2025-01-01T00:00:00Z"),
        har_entry("https://shop.test/favicon.ico", "theme=dark", started="2025-01-01T00:00:02Z"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a HAR of 3 requests: reading the last that sends h2-digest, #2 GET https://shop.test/"
    )
    assert out.splitlines()[1].startswith("valid: ")


@pytest.mark.parametrize(
    ("new_started", "old_started", "read"),
    [
        # Sorted by time: the old key's entry, written second, started first.
        ("2025-01-01T00:00:01", "2025-01-01T00:00:00Z", "#2 GET https://shop.test/new"),
        ("2025-01-01T01:00:00+01:00", "2025-01-01T00:30:00Z", "#2 GET https://shop.test/old"),
        # One time does not parse: the entries are read as written.
        ("2025-01-01T00:00:01Z", "", "#2 GET https://shop.test/old"),
    ],
    ids=["no offset is UTC", "another offset", "a time missing"],
)
def test_a_har_s_entries_are_sorted_by_their_instant_or_kept_as_written(
    new_started: str, old_started: str, read: str
) -> None:
    """HAR 1.2 asks a reader to sort entries by ``startedDateTime``: compared as instants,
    a time without an offset taken as UTC (Firefox writes one with its own offset, Chrome
    in UTC); if any does not parse, the entries are read as they are written."""
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    text = har(
        har_entry("https://shop.test/new", f"h2-digest={new}", started=new_started),
        har_entry("https://shop.test/old", f"h2-digest={old}", started=old_started),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert (
        out.splitlines()[0]
        == f"a HAR of 2 requests: reading the last that sends h2-digest, {read}"
    )
    assert code == (0 if read.endswith("/new") else 1), out


@pytest.mark.parametrize("http2", [False, True], ids=["HTTP/1.1", "HTTP/2"])
def test_a_har_of_one_request_is_read_as_its_exchange(http2: bool) -> None:
    """One entry (Chrome's "Copy as HAR" of a request, or a HAR of one): nothing to choose,
    so no line says which; its request's digest and its response's, as curl -v's."""
    sent, set_ = issued_cookie("another key"), issued_cookie(SECRET)
    line = f"h2-digest={set_}; Expires={expires_in_a_month()}; HttpOnly; Path=/"
    entry = har_entry("https://shop.test/", f"h2-digest={sent}", (line,), http2=http2)
    for text in (har(entry), json.dumps(entry)):
        code, out, _ = call("inspect", text, "--secret-key", SECRET)
        assert code == 0, out
        assert out.splitlines()[:2] == [
            "h2-digest in a Cookie header and a Set-Cookie line: reading the Set-Cookie line",
            "a Set-Cookie line: no Domain (host-only) and its Path / are part of the signature",
        ]


def test_a_har_of_set_cookie_lines_joined_by_a_line_break_reads_each() -> None:
    """Chrome's protocol joins a response's Set-Cookie lines with "\\n" in one value, which
    some versions write so in a HAR: read as two lines, the last the one kept."""
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    entry = har_entry(
        "https://shop.test/", None, (f"h2-digest={old}; Path=/\nh2-digest={new}; Path=/",)
    )
    code, out, _ = call("inspect", har(entry), "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == "2 Set-Cookie lines of h2-digest: reading the last"


def test_a_har_whose_response_deletes_the_digest_says_so_then_reads_what_was_sent() -> None:
    value = issued_cookie(SECRET)
    deletion = "h2-digest=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"
    text = har(
        har_entry("https://shop.test/", f"h2-digest={value}"),
        har_entry("https://shop.test/forget", f"h2-digest={value}", (deletion,)),
        har_entry("https://shop.test/static/app.js", "theme=dark"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 1, out
    assert out.splitlines()[:4] == [
        "a HAR of 3 requests: reading the last whose response sets h2-digest, "
        "#2 GET https://shop.test/forget",
        "NOT valid: the Set-Cookie line deletes h2-digest (Max-Age=0): the client holds none "
        "of its Domain and Path after this response",
        "the h2-digest the request sent, which the line deletes:",
        "a Set-Cookie line: no Domain (host-only) and its Path / are part of the signature",
    ]
    assert out.splitlines()[4].startswith("valid: ")


def test_of_a_har_s_digests_of_two_paths_the_one_of_cookie_path_is_read() -> None:
    """As of a jar's: the app at /a and the one at / each set their own; --cookie-path
    picks the last response that sets the one of its path."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    root = set_cookie_of(scoped_set_cookie())
    text = har(
        har_entry("https://shop.test/a/", None, (shop,)),
        har_entry("https://shop.test/", None, (root,)),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET, "--cookie-path", "/a")
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a HAR of 2 requests: reading the last whose response sets h2-digest, "
        "#1 GET https://shop.test/a/"
    )


def test_of_a_har_the_digest_of_cookie_path_sent_is_read_before_one_set_of_another() -> None:
    """No response sets the digest of --cookie-path /a, a request sends it: that one is
    read, as of no flag. A later response setting the one of / was read instead, its
    value verified for /a: "bad signature" of the valid digest of /a that was sent."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    root = set_cookie_of(scoped_set_cookie())
    text = har(
        har_entry("https://shop.test/a/", f"h2-digest={value_of(shop)}"),
        har_entry("https://shop.test/", None, (root,), started="2025-01-01T00:00:01.000Z"),
    )
    flags = ("--secret-key", SECRET, "--cookie-path", "/a")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):  # one "s ago"
        code, out, _ = call("inspect", text, *flags)
        alone = call("inspect", value_of(shop), *flags)  # what the app at /a reads of it
    assert (code, out.splitlines()[1:]) == (alone[0], alone[1].splitlines()), out
    assert code == 0, out
    assert out.splitlines()[0] == (
        "a HAR of 2 requests: reading the last that sends h2-digest, #1 GET https://shop.test/a/"
    )


def test_pasted_headers_read_the_digest_of_cookie_path_sent_before_one_set_of_another() -> None:
    """As of a HAR: pasted, a ``Cookie`` header sending the digest of --cookie-path /a
    beside the one of /, and a ``Set-Cookie`` line of / alone, read the value of /a sent,
    not the line of another scope verified for /a ("bad signature" of a valid digest)."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    root = set_cookie_of(scoped_set_cookie())
    text = f"Cookie: h2-digest={value_of(shop)}; h2-digest={value_of(root)}\nSet-Cookie: {root}"
    flags = ("--secret-key", SECRET, "--cookie-path", "/a")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):  # one "s ago"
        code, out, _ = call("inspect", text, *flags)
    assert code == 0, out
    assert "no Set-Cookie line of h2-digest is of --cookie-path /a" in out, out


def test_pasted_a_deletion_of_another_scope_leaves_the_digest_of_cookie_path_sent() -> None:
    """docs/cli.md: a ``Set-Cookie`` line deleting the digest of / deletes another cookie
    than the one of --cookie-path /a, which the client still holds: what the request
    sent of /a is read, valid, exit 0."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    deletion = "h2-digest=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    text = f"Cookie: h2-digest={value_of(shop)}\nSet-Cookie: {deletion}"
    flags = ("--secret-key", SECRET, "--cookie-path", "/a")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):
        code, out, _ = call("inspect", text, *flags)
        deleted = call("inspect", text, "--secret-key", SECRET)  # of /: deleted
    assert code == 0, out
    assert "no Set-Cookie line of h2-digest is of --cookie-path /a" in out, out
    assert deleted[0] == 1, deleted[1]
    assert "deletes h2-digest" in deleted[1]


def test_a_har_entry_is_read_as_its_headers_pasted_when_its_set_cookie_is_of_another_scope() -> (
    None
):
    """One request, "Copy as HAR", that sends the digest of --cookie-path /a and whose
    response sets the one of /: read as the same lines pasted, the one sent, and the note
    that says why is kept."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    root = set_cookie_of(scoped_set_cookie())
    entry = har_entry("https://shop.test/a/", f"h2-digest={value_of(shop)}", (root,))
    flags = ("--secret-key", SECRET, "--cookie-path", "/a")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):  # one "s ago"
        code, out, _ = call("inspect", har(entry), *flags)
        pasted = call("inspect", f"Cookie: h2-digest={value_of(shop)}\nSet-Cookie: {root}", *flags)
    assert (code, out) == pasted[:2]
    assert code == 0, out
    assert out.splitlines()[0] == (
        "no Set-Cookie line of h2-digest is of --cookie-path /a: reading the Cookie header"
    )


def test_a_har_s_later_request_that_sent_the_digest_set_is_not_said_to_have_lost_it() -> None:
    """The app at / sets its digest; the request after it, to the app at /a, sends it with
    /a's, and its response sets /a's. It was said to have "sent h2-digest without the
    value it set", the value its response set taken for what its request sent."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    root = set_cookie_of(scoped_set_cookie())
    both = f"h2-digest={value_of(shop)}; h2-digest={value_of(root)}"
    text = har(
        har_entry("https://shop.test/", None, (root,)),
        har_entry("https://shop.test/a/", both, (shop,), started="2025-01-01T00:00:01.000Z"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET, "--cookie-path", "/")
    assert code == 0, out
    assert out.splitlines()[:2] == [
        "a HAR of 2 requests: reading the last whose response sets h2-digest, "
        "#1 GET https://shop.test/",
        "a Set-Cookie line: no Domain (host-only) and --cookie-path / are part of the signature",
    ]


def test_a_har_saved_sanitized_says_its_cookies_were_left_out() -> None:
    """Chrome's default, "Save all as HAR (sanitized)", leaves out every Cookie and
    Set-Cookie header (and the cookies): "no h2-digest cookie here" alone sends the user
    looking for a digest the app did set."""
    text = har(har_entry("https://shop.test/"), har_entry("https://shop.test/static/app.js"))
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert (code, out.splitlines()) == (
        1,
        [
            "NOT valid: no h2-digest cookie here (cookies: none)",
            "a HAR of 2 requests, none with a Cookie or Set-Cookie header: Chrome leaves them "
            'out of "Save all as HAR (sanitized)"; allow "HAR with sensitive data" in its '
            "Network settings and save it with them",
        ],
    )


def test_a_har_of_one_request_saved_sanitized_says_one_request() -> None:
    """A HAR of one request: it was said to be "a HAR of 1 requests"."""
    code, out, _ = call("inspect", har(har_entry("https://shop.test/")), "--secret-key", SECRET)
    assert code == 1, out
    assert out.splitlines()[1].startswith(
        "a HAR of 1 request, with no Cookie or Set-Cookie header: Chrome leaves them out"
    ), out


def test_a_har_of_no_requests_says_none_was_recorded() -> None:
    """Developer tools save a HAR of no entry when the page loaded before they were open:
    it was said to be Chrome's sanitized export, and the user sent to save it again "with
    sensitive data", which saves the same empty file."""
    code, out, _ = call("inspect", har(), "--secret-key", SECRET)
    assert (code, out.splitlines()) == (
        1,
        [
            "NOT valid: no h2-digest cookie here (cookies: none)",
            "a HAR of no requests: developer tools record only while they are open; open "
            "the Network panel, reload the page, then save it again",
        ],
    )


def test_a_har_without_the_digest_names_the_cookies_it_holds() -> None:
    text = har(har_entry("https://shop.test/", "theme=dark", ("session=abc; Path=/",)))
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert (code, out) == (1, "NOT valid: no h2-digest cookie here (cookies: theme, session)\n")


#: Firefox's headers panel, "Copy All" on a section: the section as JSON, tab-indented
#: (``HeadersPanel.getProperties``: ``{[headerKey]: new HeaderList(headers)}``).
FIREFOX_COPY_ALL = {
    "response headers": {
        "responseHeaders": {
            "headers": [
                {"name": "content-type", "value": "text/html; charset=utf-8"},
                {"name": "set-cookie", "value": "{line}"},
                {"name": "vary", "value": "Cookie"},
            ]
        }
    },
    "request headers": {
        "requestHeaders": {
            "headers": [
                {"name": "Accept", "value": "text/html"},
                {"name": "Cookie", "value": "theme=dark; h2-digest={value}"},
            ]
        }
    },
    "raw response headers": {
        "responseHeaders": {
            "RAW_HEADERS_ID": "HTTP/2 200 \r\ncontent-type: text/html\r\nset-cookie: {line}\r\n"
        }
    },
}


@pytest.mark.parametrize("copied", FIREFOX_COPY_ALL.values(), ids=FIREFOX_COPY_ALL)
def test_inspect_reads_firefox_s_headers_copied_as_json(copied: dict[str, Any]) -> None:
    """It named the attributes as cookies: "no h2-digest cookie here (cookies: Expires,
    Max-Age, HttpOnly)"."""
    line = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    text = (
        json.dumps(copied, indent="\t").replace("{line}", line).replace("{value}", value_of(line))
    )
    flags = () if "set-cookie" in text else ("--cookie-path", "/a")
    code, out, _ = call("inspect", text, "--secret-key", SECRET, *flags)
    assert code == 0, out


@pytest.mark.parametrize(
    "text",
    [
        '{"h2-digest": "x.y.z"}',
        '[{"name": "h2-digest", "value": "x.y.z", "domain": "shop.test", "hostOnly": true}]',
        '{"log": {"entries": "none"}}',
    ],
)
def test_json_that_is_no_har_nor_firefox_s_headers_says_what_is_read(text: str) -> None:
    """JSON was read as a Cookie header: its names said to be cookies (``{"h2-digest"``),
    or its value, quotes and all, said "bad signature"."""
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert (code, out.splitlines()) == (
        1,
        [
            "NOT valid: no h2-digest cookie here (cookies: none)",
            "JSON that is neither a HAR (log.entries, or one entry) nor Firefox's headers "
            "copied as JSON: paste the Cookie header or the Set-Cookie line instead",
        ],
    )


def assert_said_cut_short(cut: str) -> None:
    """``inspect`` of ``cut`` finds no cookie, and says it is JSON that does not parse,
    where ``json`` says."""
    code, out, _ = call("inspect", cut, "--secret-key", SECRET)
    with pytest.raises(json.JSONDecodeError) as raised:  # what json says of it, and where
        json.loads(cut)
    e = raised.value
    assert (code, out.splitlines()) == (
        1,
        [
            "NOT valid: no h2-digest cookie here (cookies: none)",
            f"JSON that does not parse ({e.msg}: line {e.lineno} column {e.colno}): a HAR or "
            "Firefox's headers cut short or edited? Save or copy it again",
        ],
    )


def test_a_har_cut_short_says_it_does_not_parse() -> None:
    """A HAR saved or copied only in part (a download stopped, a clipboard's limit) was read
    as a Cookie header: "no h2-digest cookie here (cookies: rel, Domain, Expires, Max-Age,
    HttpOnly)", the words of its Link and Set-Cookie headers said to be cookies."""
    line = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    text = har(har_entry("https://shop.test/a/", "theme=dark", (line,)))
    cut = text[: text.index(line) + len(line) + 20]
    assert_said_cut_short(cut)
    # nghttp -v's lines open with "[" too, and are read as they are.
    nghttp = f"[  0.012] recv (stream_id=13) cookie: h2-digest={issued_cookie(SECRET)}"
    code, out, _ = call("inspect", nghttp, "--secret-key", SECRET)
    assert code == 0, out


@pytest.mark.parametrize(
    ("sent", "cut_after"),
    [
        # In the request's cookies array, before any "=": Werkzeug 3.1.8 and before read
        # its words, quotes and all, as values, "NOT valid: not a signed cookie value".
        ("h2-digest={value}", "{value}"),
        # After the Cookie header that sends it, last or between others: it was read as
        # the cookie the HAR holds, which a HAR whole may not (it reads the last request's).
        ("theme=dark; h2-digest={value}", "theme=dark; h2-digest={value}"),
        ("theme=dark; h2-digest={value}; lang=en", "theme=dark; h2-digest={value}; lang=en"),
    ],
    ids=["in-cookies-array", "after-cookie-header", "after-cookie-between"],
)
def test_a_har_cut_short_is_said_cut_whatever_its_words(sent: str, cut_after: str) -> None:
    """A HAR cut short is said to be, on every Werkzeug the package admits: what was read
    of it as a Cookie header turned on how that Werkzeug parses words that are no cookie
    (3.1.9 drops one holding a space or a quote; 3.1.0 to 3.1.8 read it whole)."""
    value = issued_cookie(SECRET)
    text = har(har_entry("https://shop.test/", sent.format(value=value)))
    end = cut_after.format(value=value)
    cut = text[: text.index(end) + len(end)]
    assert_said_cut_short(cut)


def test_a_har_larger_than_a_paste_is_read_from_stdin() -> None:
    """A HAR holds the responses' content: a page's is megabytes, past the bound a paste is
    held to, and was refused as "more than any paste of a request"."""
    value = issued_cookie(SECRET)
    padding = har_entry("https://shop.test/big.js")
    padding["response"]["content"] = {
        "size": 2 << 20,
        "mimeType": "text/javascript",
        "text": "x" * (2 << 20),
    }
    text = har(padding, har_entry("https://shop.test/", f"h2-digest={value}"))
    assert len(text) > cli.MAX_STDIN
    done = inspect_stdin(text.encode())
    assert done.returncode == 0, (done.stdout, done.stderr)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "log",
                    "entries",
                    "request",
                    "response",
                    "headers",
                    "name",
                    "value",
                    "url",
                    "method",
                    "startedDateTime",
                    "cookies",
                    "RAW_HEADERS_ID",
                    "responseHeaders",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_inspect_any_json_is_valid_or_not(value: Any) -> None:
    for text in (json.dumps(value), json.dumps({"log": {"entries": [value]}})):
        assert call("inspect", "--secret-key", SECRET, "--", text)[0] in (0, 1)


@pytest.mark.parametrize(
    ("encoding", "mark"),
    [("utf-8", ""), ("utf-8-sig", ""), ("utf-16", ""), ("utf-16-be", "\ufeff")],
    ids=["utf-8", "utf-8-sig", "utf-16", "utf-16-be"],
)
def test_a_json_document_on_stdin_is_bounded_too(encoding: str, mark: str) -> None:
    """Past the bound of a paste, only a JSON document is read on, up to its own bound: a
    HAR, whatever its encoding (UTF-16: what Windows PowerShell 5.1's ``>`` writes; of
    either byte order, its mark first)."""
    value = issued_cookie(SECRET)
    text = har(har_entry("https://shop.test/", f"h2-digest={value}"))
    data = (mark + text).encode(encoding)

    def read(data: bytes, json_bound: int) -> tuple[int, str, str]:
        with (
            mock.patch.object(cli, "MAX_STDIN", 100),
            mock.patch.object(cli, "MAX_STDIN_JSON", json_bound),
            mock.patch.object(sys, "stdin", io.TextIOWrapper(io.BytesIO(data))),
        ):
            return call("inspect", "-", "--secret-key", SECRET)

    assert read(data, len(data))[0] == 0
    code, _, err = read(data, len(data) - 1)
    assert code == 2
    assert err.endswith(
        f"COOKIE -: stdin holds a JSON document of more than {len(data) - 1} bytes: save a "
        "HAR of fewer requests\n"
    )
    assert read(b"x" * 101, len(data))[0] == 2


def test_a_har_says_when_a_later_request_sent_another_digest_than_the_one_set() -> None:
    """A browser refuses a cookie it cannot keep (past its size limit, a Secure one over
    http): the requests after the response send the one it held before."""
    old, new = issued_cookie("another key"), issued_cookie(SECRET)
    text = har(
        har_entry("http://shop.test/", f"h2-digest={old}", (f"h2-digest={new}; Secure; Path=/",)),
        har_entry("http://shop.test/static/app.js", f"h2-digest={old}"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[:2] == [
        "a HAR of 2 requests: reading the last whose response sets h2-digest, "
        "#1 GET http://shop.test/",
        "#2 GET http://shop.test/static/app.js, after it, sent h2-digest without the value it "
        "set: the browser did not keep it, or holds one of another Domain or Path",
    ]


def test_a_har_whose_response_deletes_the_digest_a_later_request_sends_says_the_deletion() -> None:
    """A response deletes the digest its request did not send; a later request sends one
    (of another Path): what the client holds after the deletion is read, no traceback."""
    deletion = "h2-digest=; Max-Age=0; Path=/"
    text = har(
        har_entry("https://shop.test/forget", "theme=dark", (deletion,)),
        har_entry(
            "https://shop.test/a/",
            f"h2-digest={issued_cookie(SECRET)}",
            started="2025-01-01T00:00:01.000Z",
        ),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert (code, out.splitlines()) == (
        1,
        [
            "a HAR of 2 requests: reading the last whose response sets h2-digest, "
            "#1 GET https://shop.test/forget",
            "NOT valid: the Set-Cookie line deletes h2-digest (Max-Age=0): the client holds "
            "none of its Domain and Path after this response",
        ],
    )


def test_a_har_that_only_sets_the_digest_of_another_scope_reads_that_line() -> None:
    """docs/cli.md: no response sets the digest of --cookie-path /b and no request sends
    it: the last Set-Cookie of another scope is read, as that line pasted alone is."""
    shop = set_cookie_of(scoped_set_cookie(APPLICATION_ROOT="/a"))
    text = har(
        har_entry("https://shop.test/a/", "theme=dark", (shop,)),
        har_entry("https://shop.test/b", "theme=dark", started="2025-01-01T00:00:01.000Z"),
    )
    flags = ("--secret-key", SECRET, "--cookie-path", "/b")
    with mock.patch("time.time", return_value=datetime.now().timestamp()):
        code, out, _ = call("inspect", text, *flags)
        alone = call("inspect", f"Set-Cookie: {shop}", *flags)
    assert (code, out.splitlines()[1:]) == (alone[0], alone[1].splitlines()), out
    assert out.splitlines()[0] == (
        "a HAR of 2 requests: reading the last whose response sets h2-digest, "
        "#1 GET https://shop.test/a/"
    )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        # A data: url may be megabytes: its first MAX_URL_SAID characters, then "...".
        (
            "data:text/css," + "a" * 300,
            f"{'GET data:text/css,' + 'a' * 300:.{MAX_URL_SAID}}...",
        ),
        # A terminal's escape in a url is shown, never run.
        ("https://shop.test/\x1b[2J", "'GET https://shop.test/\\x1b[2J'"),
    ],
    ids=["long", "escape"],
)
def test_a_har_s_request_is_said_short_and_printable(url: str, said: str) -> None:
    text = har(
        har_entry(url, f"h2-digest={issued_cookie(SECRET)}"),
        har_entry("https://shop.test/b", "theme=dark", started="2025-01-01T00:00:01.000Z"),
    )
    code, out, _ = call("inspect", text, "--secret-key", SECRET)
    assert code == 0, out
    assert out.splitlines()[0] == (
        f"a HAR of 2 requests: reading the last that sends h2-digest, #1 {said}"
    )
