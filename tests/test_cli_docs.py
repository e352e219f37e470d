"""Every example in docs/cli.md runs, and prints exactly what the page says it prints.

An example is a ```console block: lines starting with ``$ `` are commands, the lines after
each, up to the next command, its output (stdout, or stderr for a usage error). A command
is ``firehose-digest ARGS``, optionally after ``NAME=value`` environment assignments, or
``echo $?``, which prints the previous command's exit status. There is no wildcard: the
examples are deterministic because the clock is fixed at NOW (the page says so) and the
cookie is the one the extension sets at SIGNED_AT (regenerated below, so a change in the
cookie's bytes shows up here too).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path
from unittest import mock

import pytest
from flask import Flask

from firehose_digest import Firehose, push
from firehose_digest.__main__ import build_parser, main

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "cli.md"
SIGNED_AT = 1_735_689_600  # 2025-01-01 00:00:00 UTC
NOW = SIGNED_AT + 3600
DOC_SECRET_KEY = "docs secret"

FENCE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)


def examples(text: str) -> list[list[tuple[str, str]]]:
    """Each console block as (command, expected output) pairs."""
    blocks = []
    for body in FENCE.findall(text):
        pairs: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                pairs.append((line[2:], []))
            else:
                assert pairs, f"output before any command: {line!r}"
                pairs[-1][1].append(line)
        blocks.append([(command, "\n".join(output)) for command, output in pairs])
    return blocks


def run(command: str, last_status: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run one documented command line; return its exit status and its output."""
    words = shlex.split(command)
    if words == ["echo", "$?"]:
        return last_status, str(last_status)
    environment = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        environment[name] = value
    assert words[:1] == ["firehose-digest"], f"not a firehose-digest command: {command}"
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(words[1:])
            except SystemExit as e:
                assert isinstance(e.code, int)
                status = e.code
    assert not (out.getvalue() and err.getvalue()), "an example prints to one stream"
    return status, (out.getvalue() + err.getvalue()).rstrip("\n")


def doc_cookie() -> str:
    """The cookie the page inspects: a first visit to a page pushing three resources."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = DOC_SECRET_KEY

    @app.route("/")
    def index() -> str:
        push("/static/site.css", as_="style")
        push("/static/app.js", as_="script")
        push("/static/inter.woff2", "crossorigin", as_="font", version="v2")
        return "ok"

    Firehose(app)
    with mock.patch("time.time", return_value=float(SIGNED_AT)):
        client = app.test_client()
        client.get("/")
    cookie = client.get_cookie("h2-digest")
    assert cookie is not None
    return cookie.value


@pytest.fixture
def fixed_world(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr("time.time", lambda: float(NOW))
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage lines to the terminal
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    return monkeypatch


def test_every_example_prints_what_the_page_says(fixed_world: pytest.MonkeyPatch) -> None:
    blocks = examples(DOC.read_text())
    assert sum(len(block) for block in blocks) >= 10
    for block in blocks:
        status = 0
        for command, expected in block:
            status, output = run(command, status, fixed_world)
            assert output == expected, f"$ {command}"


def test_the_page_states_the_clock_and_the_cookie_its_examples_use() -> None:
    text = DOC.read_text()
    assert "2025-01-01 00:00:00 UTC" in text and "2025-01-01 01:00:00 UTC" in text
    assert f"SECRET_KEY = {DOC_SECRET_KEY!r}" in text
    assert doc_cookie() in text


def test_the_page_documents_every_option() -> None:
    text = DOC.read_text()
    commands = next(
        action for action in build_parser()._actions if isinstance(action.choices, dict)
    )
    assert isinstance(commands.choices, dict)
    for name, parser in commands.choices.items():
        assert f"## `firehose-digest {name}`" in text
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in text, option


def test_the_console_script_is_main() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'firehose-digest = "firehose_digest.__main__:main"' in pyproject


def test_the_runner_notices_a_drift(fixed_world: pytest.MonkeyPatch) -> None:
    [[(command, expected)]] = examples(
        "```console\n$ firehose-digest plan --probes 0\nwrong\n```\n"
    )
    assert run(command, 0, fixed_world)[1] != expected
