"""Every example in docs/cli.md and docs/security.md's runs, and prints exactly what the
page says it prints.

An example is a ```console block: lines starting with ``$ `` are commands, the lines after
each, up to the next command, its output (stdout, or stderr for a usage error). A command
is ``firehose-digest ARGS``, optionally after ``NAME=value`` environment assignments and
with ``< FILE`` (a file of the repository) on stdin, or ``echo $?``, which prints the
previous command's exit status. Its words are a POSIX shell's, and bash's ``$'...'``
(``\\xNN`` a byte). There is no wildcard: the examples are
deterministic because the clock is fixed at NOW (cli.md says so) and the cookies are the
ones the extension sets at SIGNED_AT (regenerated below, so a change in the cookie's bytes
shows up here too).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pytest
from flask import Flask
from itsdangerous.encoding import base64_decode

from firehose_digest import Firehose, push
from firehose_digest.__main__ import build_parser, main
from tests.helpers import har_missing

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "cli.md"
#: Pages whose ```console blocks are firehose-digest examples, cli.md's cookie and clock.
PAGES = [DOC, ROOT / "docs" / "security.md"]
SIGNED_AT = 1_735_689_600  # 2025-01-01 00:00:00 UTC
NOW = SIGNED_AT + 3600
DOC_SECRET_KEY = "docs secret"
#: A bytes key as Flask's quickstart shows one: its example of a bytes SECRET_KEY.
DOC_BYTES_KEY = b'_5#y2L"F4Q8z\n\xec]/'
#: The app of the examples mounted at /shop, its session cookie for the whole domain.
DOC_SHOP = {"SESSION_COOKIE_DOMAIN": "example.com", "APPLICATION_ROOT": "/shop"}

#: A block, indented as a list item's may be.
FENCE = re.compile(r"^( *)```console\n(.*?)^\1```$", re.M | re.S)
#: bash's ANSI-C quoting, ``$'...'``: ``\xNN`` is a byte, ``\n`` a newline, ``\'`` a quote.
ANSI_C_QUOTED = re.compile(r"\$'((?:[^'\\]|\\.)*)'")


def shell_words(command: str) -> list[str]:
    """``command``'s words, as bash hands them to a Python program: each ``$'...'`` word
    is its bytes, decoded as Python decodes argv (UTF-8, surrogateescape)."""

    def requoted(word: re.Match[str]) -> str:
        raw = word[1].encode().decode("unicode_escape").encode("latin-1")
        return shlex.quote(os.fsdecode(raw))

    return shlex.split(ANSI_C_QUOTED.sub(requoted, command))


def examples(text: str) -> list[list[tuple[str, str]]]:
    """Each console block as (command, expected output) pairs."""
    blocks = []
    for indent, body in FENCE.findall(text):
        pairs: list[tuple[str, list[str]]] = []
        for indented in body.splitlines():
            assert indented.startswith(indent), f"a line outside its block: {indented!r}"
            line = indented[len(indent) :]
            if line.startswith("$ "):
                pairs.append((line[2:], []))
            else:
                assert pairs, f"output before any command: {line!r}"
                pairs[-1][1].append(line)
        blocks.append([(command, "\n".join(output)) for command, output in pairs])
    return blocks


def run(command: str, last_status: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run one documented command line; return its exit status and its output."""
    words = shell_words(command)
    if words == ["echo", "$?"]:
        return last_status, str(last_status)
    environment = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        environment[name] = value
    assert words[:1] == ["firehose-digest"], f"not a firehose-digest command: {command}"
    stdin = b""
    if words[-2:-1] == ["<"]:  # `< docs/shop.har`: a file of the repository on stdin
        stdin = (ROOT / words.pop()).read_bytes()
        words.pop()
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
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


def doc_set_cookie(secret_key: str | bytes = DOC_SECRET_KEY, **config: str) -> str:
    """The digest's Set-Cookie line that the page's app sends, signed with ``secret_key``
    and ``config`` its settings, on a first visit to a page pushing three resources."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        push("/static/site.css", as_="style")
        push("/static/app.js", as_="script")
        push("/static/inter.woff2", "crossorigin", as_="font", version="v2")
        return "ok"

    Firehose(app)
    with mock.patch("time.time", return_value=float(SIGNED_AT)):
        root = config.get("APPLICATION_ROOT", "")
        response = app.test_client().get("/", base_url=f"http://www.example.com{root}")
    [line] = response.headers.getlist("Set-Cookie")
    # Werkzeug dates Expires by the wall clock: as it reads at SIGNED_AT.
    return re.sub(r"Expires=[^;]*", "Expires=Fri, 31 Jan 2025 00:00:00 GMT", line)


def doc_cookie(secret_key: str | bytes = DOC_SECRET_KEY) -> str:
    """The value of :func:`doc_set_cookie`, the cookie the page inspects."""
    return doc_set_cookie(secret_key).partition("=")[2].partition(";")[0]


@pytest.fixture
def fixed_world(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr("time.time", lambda: float(NOW))
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage lines to the terminal
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    return monkeypatch


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_example_prints_what_the_page_says(
    page: Path, fixed_world: pytest.MonkeyPatch
) -> None:
    blocks = examples(page.read_text())
    assert sum(len(block) for block in blocks) >= (10 if page == DOC else 1)
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
    assert f"SECRET_KEY = {DOC_BYTES_KEY!r}" in text
    assert doc_cookie(DOC_BYTES_KEY) in text
    for name, value in DOC_SHOP.items():
        assert f"{name} = {value!r}" in text
    assert doc_set_cookie(**DOC_SHOP) in text


def test_the_page_s_har_is_of_the_page_s_app_in_the_shape_browsers_save() -> None:
    """docs/shop.har, given on stdin in cli.md: the first request gets the digest the shop
    app sets, the second sends it back; the members HAR 1.2 requires are all there."""
    har = json.loads((ROOT / "docs" / "shop.har").read_text())
    assert har_missing(har) == []
    line = doc_set_cookie(**DOC_SHOP)
    page, script = har["log"]["entries"]
    assert {"name": "Set-Cookie", "value": line} in page["response"]["headers"]
    value = line.partition("=")[2].partition(";")[0]
    assert {"name": "Cookie", "value": f"h2-digest={value}"} in script["request"]["headers"]
    assert "< docs/shop.har" in DOC.read_text()


def test_the_runner_passes_ansi_c_quoted_words_as_bash_does() -> None:
    """bash hands ``$'a\\xecb'`` over as the bytes a, 0xec, b; Python's argv holds them
    as "a\\udcecb". The rest of the line is split as before."""
    assert shell_words("""x $'_5#y2L"F4Q8z\\n\\xec]/' 'y z' $'it\\'s'""") == [
        "x",
        '_5#y2L"F4Q8z\n\udcec]/',
        "y z",
        "it's",
    ]


def test_the_page_documents_every_option() -> None:
    text = DOC.read_text()
    parser = build_parser()
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--"):
                assert f"`firehose-digest {option}`" in text, option
    commands = next(action for action in parser._actions if isinstance(action.choices, dict))
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


def test_security_reads_the_time_in_the_cookie_value_right() -> None:
    """docs/security.md: "`Z3SFgA` is 1735689600, 2025-01-01 00:00:00 UTC", the middle
    part of the cookie its example inspects."""
    text = (ROOT / "docs" / "security.md").read_text()
    part, seconds, when = re.findall(r"`([\w-]+)` is (\d+), ([\d-]+ [\d:]+) UTC", text)[0]
    assert doc_cookie().split(".")[1] == part
    assert int.from_bytes(base64_decode(part), "big") == int(seconds) == SIGNED_AT
    assert datetime.fromtimestamp(SIGNED_AT, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") == when


#: A row of an option table: its option and metavar, its default, its meaning.
OPTION_ROW = re.compile(r"^\| `(--[a-z-]+)(?: ([A-Z]+))?` \|([^|]*)\|([^|]*)\|$", re.M)


def _option_rows() -> list[tuple[str, str, str, str, str]]:
    """(command, option, metavar, default, meaning) of each one-option row of cli.md's
    option tables, the command being the section's, ``plan`` or ``inspect``."""
    rows = []
    for section in re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]:
        command = re.match(r"`firehose-digest (\w+)`", section)
        if command:
            rows += [(command[1], *row) for row in OPTION_ROW.findall(section)]
    return rows


def _parses(command: str, option: str, value: str) -> bool:
    """Whether ``firehose-digest COMMAND OPTION VALUE`` gets past argparse."""
    arguments = [command, option, value] + (["cookie"] if command == "inspect" else [])
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(arguments)
        except SystemExit:
            return False
    return True


@pytest.mark.parametrize(
    ("command", "option", "metavar", "default", "meaning"),
    [pytest.param(*row, id=f"{row[0]} {row[1]}") for row in _option_rows()],
)
def test_the_option_tables_give_the_parser_s_defaults_and_ranges(
    command: str, option: str, metavar: str, default: str, meaning: str
) -> None:
    """cli.md's tables: the option as its usage line writes it, the default the parser
    falls back to (where it has one of its own, not one read from the environment or a
    Set-Cookie line), and the range ``N to M`` it accepts, whose ends it takes and whose
    neighbours it refuses."""
    commands = next(action for action in build_parser()._actions if action.dest == "command")
    assert isinstance(commands.choices, dict)
    [action] = [
        action for action in commands.choices[command]._actions if option in action.option_strings
    ]
    assert (action.metavar or "") == metavar
    if isinstance(action.default, (int, float)) or action.default:
        assert default.strip().strip("`") == str(action.default), option
    for low, high in re.findall(r"\b(\d+) to (\d+)\b", meaning):
        assert _parses(command, option, low) and _parses(command, option, high)
        assert not _parses(command, option, str(int(low) - 1))
        assert not _parses(command, option, str(int(high) + 1))


def test_the_option_table_rows_are_found() -> None:
    """The test above reads every row: a change of the tables' layout fails here, not
    silently."""
    rows = {(command, option) for command, option, *_ in _option_rows()}
    assert {("plan", "--capacity"), ("plan", "--probes"), ("inspect", "--max-age")} <= rows
    assert len(rows) >= 10
