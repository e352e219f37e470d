"""``python -m firehose_digest plan`` and ``inspect``, run as a user would."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from firehose_digest.__main__ import main
from tests.helpers import build_app


def run(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "firehose_digest", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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


def test_plan_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--capacity", "0"])
    assert "capacity" in capsys.readouterr().err


def issued_cookie(secret: str) -> str:
    client = build_app(SECRET_KEY=secret).test_client()
    client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    return cookie.value


def test_inspect_a_valid_cookie() -> None:
    out = run("inspect", issued_cookie("s3cret"), "--secret-key", "s3cret")
    assert re.search(r"^valid: signed \d+ s ago$", out, re.M)
    assert (
        "current: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 3 entries" in out
    )
    assert (
        "previous: GCSDigest, capacity 300, false-positive rate 0.01 at capacity, 0 entries" in out
    )


def test_inspect_takes_the_key_from_the_environment() -> None:
    out = run("inspect", issued_cookie("env key"), env={"FLASK_SECRET_KEY": "env key"})
    assert out.startswith("valid:")


def test_inspect_says_why_a_cookie_is_not_valid() -> None:
    out = run("inspect", issued_cookie("s3cret"), "--secret-key", "other")
    assert out.startswith("NOT valid: bad signature")
    assert "(showing the unverified payload)" in out and "3 entries" in out
    assert "payload of 0 bytes is not a digest" in run("inspect", "!!!", "--secret-key", "k")
    assert "not a digest" in run("inspect", "AAAA.x.y", "--secret-key", "k")
