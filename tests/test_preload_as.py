"""A preload's ``as`` that no browser fetches is said in a WARNING, and linked as written.

The HTML Standard (2026-07 review draft) fetches a ``rel=preload`` only when its ``as`` is a
*preload destination* (``fetch``, ``font``, ``image``, ``script``, ``style``, ``track``;
"translate a preload destination" returns null for any other, from a ``<link>`` and from a
``Link`` header alike), and a ``rel=modulepreload`` only when it is a *module preload
destination* (``json``, ``style``, ``text`` or a script-like destination; none is
``script``). A typo (``as_="css"``) was linked silently: no browser fetched it, a push proxy
pushed it, and the digest recorded it as held. The lists grew in 2024 and 2026 (Fetch's
``text`` destination), so a value past them is told, not refused: the page is served as
before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string, request

from firehose_digest import Firehose, collect, push, push_static, static_tag

PRELOAD = ("fetch", "font", "image", "script", "style", "track")
MODULE_PRELOAD = (
    "json",
    "style",
    "text",
    "audioworklet",
    "paintworklet",
    "script",
    "serviceworker",
    "sharedworker",
    "worker",
)
#: Near misses of a preload's: CSS and JavaScript by other names, plurals, the empty
#: string, and potential destinations (Fetch) a preload does not take.
NOT_PRELOAD = (
    "css",
    "stylesheet",
    "styles",
    "js",
    "javascript",
    "scripts",
    "img",
    "fonts",
    "woff2",
    "",
    "json",
    "audio",
    "video",
    "document",
    "worker",
    "text",
)
NOT_MODULE_PRELOAD = ("module", "js", "javascript", "font", "image", "fetch", "track", "")


@pytest.fixture(autouse=True)
def nothing_told_or_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no value told and nothing push() kept, as a new process."""
    monkeypatch.setattr(collect, "_told_as", set(), raising=False)
    monkeypatch.setattr(collect, "_resources", {})
    monkeypatch.setattr(collect, "_resources_bytes", 0)
    yield


def told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "no browser fetches" in r.getMessage()
    ]


def page(*args: Any, **kwargs: Any) -> str:
    """The ``Link`` a page pushing ``push(*args, **kwargs)`` gets."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push(*args, **kwargs)

    link: str = app.test_client().get("/").headers["Link"]
    return link


def crossorigin(value: str) -> str:
    return "; crossorigin" if value.lower() in ("font", "fetch") else ""


@pytest.mark.parametrize("value", [*PRELOAD, *(v.upper() for v in PRELOAD), "Style"])
def test_every_preload_destination_is_linked_as_now_and_told_nothing(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An enumerated attribute's keywords are ASCII case-insensitive (HTML Standard)."""
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        link = page("/a", as_=value)
    assert link == f"</a>; rel=preload; as={value}{crossorigin(value)}"
    assert told(caplog) == []


@pytest.mark.parametrize("value", [*MODULE_PRELOAD, *(v.upper() for v in MODULE_PRELOAD)])
def test_every_module_preload_destination_is_linked_as_now_and_told_nothing(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        link = page("/a.mjs", as_=value, rel="modulepreload")
    assert link == f"</a.mjs>; rel=modulepreload; as={value}{crossorigin(value)}"
    assert told(caplog) == []


@pytest.mark.parametrize("value", [*NOT_PRELOAD, "CSS", "Css"])
def test_a_preload_as_no_browser_fetches_is_linked_as_written_and_told(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        link = page("/a.css", as_=value)
    written = f'"{value}"' if value == "" else value
    assert link == f"</a.css>; rel=preload; as={written}"
    assert told(caplog) == [
        f"firehose: /a.css is linked rel=preload as={value!r}, which no browser fetches "
        "(HTML Standard, preload destination): a preload's as is one of "
        "fetch, font, image, script, style, track"
    ]


@pytest.mark.parametrize("value", [*NOT_MODULE_PRELOAD, "MODULE"])
def test_a_modulepreload_as_no_browser_fetches_is_told(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        page("/a.mjs", as_=value, rel="modulepreload")
    assert told(caplog) == [
        f"firehose: /a.mjs is linked rel=modulepreload as={value!r}, which no browser "
        "fetches (HTML Standard, module preload destination): a modulepreload's as is one "
        "of audioworklet, json, paintworklet, script, serviceworker, sharedworker, style, "
        "text, worker, or none (script)"
    ]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("/a",), {}),  # push-only, as Flask-Firehose's: left as it was
        (("/a.mjs",), {"rel": "modulepreload"}),  # a script
        (("/next",), {"rel": "prefetch", "as_": "document"}),  # not a preload's as
        (("https://cdn.example",), {"rel": "preconnect"}),
    ],
)
def test_no_as_and_other_relations_are_told_nothing(
    args: tuple[str, ...], kwargs: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        page(*args, **kwargs)
    assert told(caplog) == []


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("/a.css",), {"as_": "css"}),
        (("/a.css", "as=css"), {}),
        (("/a.css", 'as="css"'), {}),
        (("/a.css",), {"AS": "css"}),
        (("/a.css",), {"As": "CSS"}),
        (("/a.css",), {"rel": "PRELOAD", "as_": "css"}),
    ],
)
def test_each_spelling_of_as_is_told(
    args: tuple[str, ...], kwargs: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        page(*args, **kwargs)
    assert len(told(caplog)) == 1
    assert "/a.css is linked rel=preload as=" in told(caplog)[0]


@pytest.mark.parametrize("template", ["as='css'", "as='CSS'", "AS='css'"])
def test_a_template_as_is_told(template: str, caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return render_template_string(f"{{{{ push('/a.css', {template}) }}}}")

    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        assert app.test_client().get("/").status_code == 200
    assert len(told(caplog)) == 1


def test_a_value_is_told_once_not_on_every_request(caplog: pytest.LogCaptureFixture) -> None:
    """Once per value and relation: not on every request, nor for every url or nonce."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/<int:n>")
    def index(n: int) -> str:
        push(f"/{n}.css", as_="css", nonce=f"n{n}")
        return push(f"/{n}.js", as_="CSS")

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for n in range(3):
            assert client.get(f"/{n}").status_code == 200
        Firehose.hints("/declared.css", as_="css")
    assert told(caplog) == [
        "firehose: /0.css is linked rel=preload as='css', which no browser fetches "
        "(HTML Standard, preload destination): a preload's as is one of "
        "fetch, font, image, script, style, track"
    ]


def test_outside_a_request_and_in_a_declaration_it_is_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Where the arguments are checked: a declaration as the module loads, a push()
    outside a request (a unit test of a helper)."""
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        Firehose.hints("/declared.css", as_="css")
        push("/loose.js", as_="js")
    assert [message.split(" is linked")[0] for message in told(caplog)] == [
        "firehose: /declared.css",
        "firehose: /loose.js",
    ]


@pytest.fixture
def static_app(tmp_path: Path) -> Flask:
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "site.css").write_bytes(b"body{}")
    app = Flask(__name__, static_folder=str(folder))
    app.secret_key = "k"
    Firehose(app)

    @app.route("/push")
    def pushes() -> str:
        return push_static("site.css", as_="css")

    @app.route("/tag")
    def tag() -> str:
        return str(static_tag("site.css", as_="CSS"))

    @app.route("/declared")
    @Firehose.hints_static("site.css", as_="Css")
    def declared() -> str:
        return ""

    @app.route("/good")
    def good() -> str:
        return str(static_tag("site.css", as_="STYLE")) + push_static("site.css")

    return app


@pytest.mark.parametrize(
    ("url", "caller"),
    [("/push", "push_static"), ("/tag", "static_tag"), ("/declared", "hints_static")],
)
def test_static_files_are_told_by_name(
    static_app: Flask, url: str, caller: str, caplog: pytest.LogCaptureFixture
) -> None:
    """push_static, static_tag and hints_static name the file, never the stand-in url a
    declaration is checked with."""
    collect._told_as.clear()  # hints_static told at the app's making
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        if caller == "hints_static":
            Firehose.hints_static("site.css", as_="Css")
        response = static_app.test_client().get(url)
    assert response.status_code == 200
    assert "; rel=preload; as=" in response.headers["Link"]
    messages = told(caplog)
    assert len(messages) == 1
    assert messages[0].startswith(f"firehose: {caller}('site.css') is linked rel=preload as=")


def test_static_files_with_a_preload_destination_are_told_nothing(
    static_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        response = static_app.test_client().get("/good")
    assert response.status_code == 200
    assert told(caplog) == []


def test_a_request_s_url_and_as_are_logged_as_a_log_line_can_show_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A url built of a request's text, and an ``as`` of it (a template variable), are
    named in their first 200 characters, then "...", as every line naming a client's text
    (links.for_log): a 5,000-character query string made a line as long."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push(f"/{request.args['name']}.css", as_=request.args.get("as", "css"))

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        assert client.get("/", query_string={"name": "x" * 5000}).status_code == 200
        assert client.get("/", query_string={"name": "a", "as": "y" * 5000}).status_code == 200
    url_told, as_told = told(caplog)
    assert url_told.startswith(f"firehose: /{'x' * 199}... is linked rel=preload as='css', ")
    assert as_told.startswith(f"firehose: /a.css is linked rel=preload as='{'y' * 199}..., ")


def test_a_long_as_is_told_once_too(caplog: pytest.LogCaptureFixture) -> None:
    """A value longer than any keyword (a MIME type where a destination goes) was told on
    every request that made its link: each one with a nonce, each static_tag() call."""
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/<int:n>")
    def index(n: int) -> str:
        return push("/a.js", as_="application/javascript", nonce=f"n{n}")

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for n in range(3):
            assert client.get(f"/{n}").status_code == 200
    assert len(told(caplog)) == 1


def test_values_a_request_makes_are_told_up_to_a_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An ``as`` made of a request's text is a new value on each request: once
    MAX_TOLD_AS are told, no more are, or each request would write a WARNING line (the
    set was emptied when full, and told them all again)."""
    monkeypatch.setattr(collect, "MAX_TOLD_AS", 3)
    app = Flask(__name__)
    app.secret_key = "k"
    Firehose(app)

    @app.route("/")
    def index() -> str:
        return push("/a.js", as_=request.args["as"])

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        for n in range(10):
            assert client.get("/", query_string={"as": f"v{n}"}).status_code == 200
    assert [message.split("as=")[1].split(",")[0] for message in told(caplog)] == [
        "'v0'",
        "'v1'",
        "'v2'",
    ]


def test_a_told_value_is_kept_as_the_line_names_it(caplog: pytest.LogCaptureFixture) -> None:
    """What the bound holds is bounded in bytes too: a value in 200 characters."""
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        push("/a.js", as_="y" * 5000)
        push("/b.js", as_="y" * 4000)  # the same 200 characters: the same line, told once
    assert len(told(caplog)) == 1
    assert collect._told_as == {("preload", "y" * 200)}


@pytest.mark.parametrize("rel", ["ModulePreload", "modulepreload PRELOAD"])
def test_a_relation_is_read_in_any_case(rel: str, caplog: pytest.LogCaptureFixture) -> None:
    """Relation types are case-insensitive (RFC 8288 §2.1.1): push() writes a lone
    preload in lower case, but any other relation as it is given."""
    with caplog.at_level(logging.WARNING, logger="firehose_digest"):
        page("/a.mjs", as_="font", rel=rel)
    assert [message.split(" as=")[0] for message in told(caplog)] == [
        "firehose: /a.mjs is linked rel=modulepreload"
    ]
