"""No sample in README.md or docs/ can rot: every Python block runs, every file shown is real.

The conventions the pages follow (each page that has Python blocks says so at its top):

- A page's ```python blocks run in order, as one session: a later block may use what an
  earlier one defined. Blocks assert what they claim, so a page that drifts fails here.
- A block that is a whole file of the repository (the README's quickstart app) is that
  file, byte for byte, and is run as that file: imported from its path, so Flask finds its
  templates.
- A configuration block (```nginx, ```apache, ```yaml) is a whole file the integration
  tests run (``tests/integration/rig.py`` fills in its ``@NAME@`` placeholders), byte for
  byte. docs/early-hints.md is left to its own test: its Apache block is an excerpt of
  docs/deploy's two Apache files, checked directive by directive there.

The ```console examples of docs/cli.md and docs/security.md are run by
tests/test_cli_docs.py.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from werkzeug.serving import make_server

from firehose_digest import Firehose, codec, collect, hints, push, settings, static
from firehose_digest import __main__ as cli
from firehose_digest.collect import make_resource
from firehose_digest.hints import HintCache
from firehose_digest.settings import DEFAULTS, load
from tests.integration import launcher
from tests.integration.rig import H2O, Apache, Nginx

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
QUICKSTART = ROOT / "examples" / "quickstart"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
#: The most bytes the README may take: a front door, not the manual.
README_MAX_BYTES = 10 * 1024
CONFIG_LANGUAGES = frozenset({"nginx", "apache", "yaml", "conf"})
#: Pages whose configuration blocks another test owns (see the module docstring).
CONFIG_EXEMPT = frozenset({"early-hints.md"})

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```$", re.M | re.S)


def blocks(page: Path, *languages: str) -> list[str]:
    """The bodies of ``page``'s fenced blocks in ``languages``, in order."""
    return [body for info, body in FENCE.findall(page.read_text()) if info.strip() in languages]


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _repository_file(block: str) -> Path | None:
    """The example file this block shows whole, if it is one."""
    for path in sorted((ROOT / "examples").rglob("*.py")):
        if path.read_text() == block:
            return path
    return None


@pytest.fixture
def import_file() -> Iterator[Any]:
    """Import a file by its path under a name of its own; forget it afterwards."""
    imported: list[str] = []

    def load(path: Path, name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Flask finds the app's folder through it
        imported.append(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in imported:
        sys.modules.pop(name, None)


def test_the_readme_is_a_front_door() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes: move detail into docs/"


@pytest.mark.parametrize(
    "shown",
    [QUICKSTART / "app.py", QUICKSTART / "templates" / "index.html"],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_the_readme_shows_the_quickstart_files_whole(shown: Path) -> None:
    assert shown.read_text() in blocks(README, "python", "html+jinja"), (
        f"README.md must show {shown.relative_to(ROOT)} exactly as it is"
    )


def test_the_readme_s_documentation_list_names_every_page() -> None:
    """A reader looks for a page in the README's list of them: configuration.md, linked
    only from the Configuration section, was missing from it."""
    listed = README.read_text().partition("\n## Documentation\n")[2].partition("\n## ")[0]
    linked = set(re.findall(r"^- \[[^]]+\]\(docs/([^)#]+)\)", listed, re.M))
    assert linked == {page.name for page in DOCS.glob("*.md")}


def _readme_table() -> list[tuple[str, object]]:
    """(key, default) of each row of the README's configuration table."""
    rows = []
    for line in README.read_text().splitlines():
        row = re.match(r"^\| `(FIREHOSE_[A-Z_]+)` \| `([^`]*)`", line)
        if row:
            rows.append((row.group(1), ast.literal_eval(row.group(2))))
    return rows


def test_the_readme_table_lists_every_setting_with_its_default() -> None:
    assert _readme_table() == list(DEFAULTS.items())


CONFIGURATION = DOCS / "configuration.md"


def _configuration_table() -> list[tuple[str, object, str]]:
    """(key, default, what it accepts) of each row of configuration.md's table."""
    rows = []
    for line in CONFIGURATION.read_text().splitlines():
        row = re.match(r"^\| `(FIREHOSE_[A-Z_]+)` \| `([^`]*)` \| ([^|]*) \|", line)
        if row:
            rows.append((row.group(1), ast.literal_eval(row.group(2)), row.group(3)))
    return rows


def test_the_configuration_page_lists_every_setting_with_its_default() -> None:
    assert [(key, default) for key, default, _ in _configuration_table()] == list(DEFAULTS.items())


#: Beside the key tried: budgets that leave any Link budget or header budget its range.
_ROOMY = {"FIREHOSE_HEADER_BUDGET": 1 << 20, "FIREHOSE_LINK_BUDGET": 0}


@pytest.mark.parametrize("row", _configuration_table(), ids=lambda row: row[0])
def test_the_configuration_page_says_what_each_setting_takes(
    row: tuple[str, object, str],
) -> None:
    """Each end of an int's range is taken and one past it refused, naming the key; each
    value of a choice is taken, and None refused."""
    key, _, accepted = row
    span = re.match(r"an int, `(\d+)` to `(\d+)`", accepted)
    taken: list[object]
    refused: list[object]
    if span:
        low, high = int(span.group(1)), int(span.group(2))
        taken, refused = [low, high], [low - 1, high + 1, float(low), True]
    else:
        choices = re.fullmatch(r"`([^`]*)` or `([^`]*)`", accepted)
        if choices is None:
            pytest.skip("described in words, checked in test_bounds.py and test_edges.py")
        taken, refused = [ast.literal_eval(choice) for choice in choices.groups()], [None]
    for value in taken:
        load({**_ROOMY, key: value})
    for value in refused:
        with pytest.raises(ValueError, match=f"^{key} "):
            load({**_ROOMY, key: value})


#: A default quoted beside its key in prose: "`FIREHOSE_MAX_PUSHES` (10)", "`FIREHOSE_MAX_AGE`
#: (30 days)", "`FIREHOSE_EARLY_HINTS_CACHE` pages (1000)", "keep `FIREHOSE_LINK_BUDGET`
#: under 8 KB (the default is 1,800)".
_QUOTED_DEFAULT = re.compile(
    r"`(FIREHOSE_[A-Z_]+)`(?: \w+)?(?: \(| [^`.;()]*\(the default is )([0-9][0-9,.]*)( days)?\)"
)


def _quoted_defaults(page: Path) -> list[tuple[str, float]]:
    """(key, value) of each default ``page`` quotes beside its key, days in seconds."""
    return [
        (key, float(number.replace(",", "")) * (24 * 3600 if days else 1))
        for key, number, days in _QUOTED_DEFAULT.findall(re.sub(r"\s+", " ", page.read_text()))
    ]


@pytest.mark.parametrize("page", [*PAGES, ROOT / "CHANGES.md"], ids=_page_id)
def test_every_default_quoted_in_prose_is_the_setting_s(page: Path) -> None:
    """The README's table is checked above; the pages and CHANGES.md quote defaults in
    their prose too (performance.md's caches, CHANGES.md's list of keys)."""
    for key, value in _quoted_defaults(page):
        assert value == DEFAULTS[key], f"{page.name} says {key} is {value:g} by default"


def test_the_defaults_quoted_in_prose_are_found() -> None:
    quoted = {key for page in [*PAGES, ROOT / "CHANGES.md"] for key, _ in _quoted_defaults(page)}
    assert {"FIREHOSE_MAX_PUSHES", "FIREHOSE_MAX_AGE", "FIREHOSE_LINK_BUDGET"} <= quoted


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_python_block_runs(page: Path, import_file: Any, samples_tempdir: Path) -> None:
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for number, block in enumerate(blocks(page, "python"), 1):
        shown = _repository_file(block)
        if shown is not None:
            import_file(shown, f"docs_shown_{number}")
            continue
        # dont_inherit: a block runs as written, without this module's __future__ imports.
        code = compile(block, f"{page.name} block {number}", "exec", dont_inherit=True)
        exec(code, namespace)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_a_page_whose_python_blocks_run_says_so_at_its_top(page: Path) -> None:
    """The convention this module's docstring states: a reader who copies a block learns
    from the page's opening that it runs, and with which blocks before it."""
    run = [block for block in blocks(page, "python") if _repository_file(block) is None]
    opening = page.read_text().partition("\n## ")[0]
    assert not run or "Python block" in opening, (
        f"{page.name} has Python blocks its opening does not say run"
    )


def _readme_console_lines(prefix: str) -> list[str]:
    return [
        line.removeprefix(prefix)
        for block in blocks(README, "console")
        for line in block.splitlines()
        if line.startswith(prefix)
    ]


def test_the_readme_quickstart_answers_as_shown(import_file: Any) -> None:
    """The curl transcript: a first visit's links, then the same links ``nopush``."""
    first_shown, return_shown, *_ = _readme_console_lines("Link: ")
    app = import_file(QUICKSTART / "app.py", "docs_quickstart").app
    client = app.test_client()

    first = client.get("/")
    again = client.get("/")

    assert first.headers["Link"] == first_shown
    assert first.headers["Set-Cookie"].startswith("h2-digest=")
    assert again.headers["Link"] == return_shown
    assert "Set-Cookie" not in again.headers


def test_the_readme_early_hints_come_as_shown(
    import_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first visit teaches; a fresh client gets the 103; a client holding all, none."""
    (shown,) = [block for block in blocks(README, "console") if "103 Early Hints" in block]
    lines = shown.splitlines()
    hint_shown = lines[lines.index("HTTP/1.1 103 Early Hints") + 1].removeprefix("Link: ")
    monkeypatch.setenv("FLASK_FIREHOSE_EARLY_HINTS", "true")
    app = import_file(QUICKSTART / "app.py", "docs_quickstart_hints").app
    sent: list[list[tuple[str, str]]] = []
    # The README's curl names HTML, as a browser's navigation does: only then a 103.
    hinted = [line for line in lines if line.startswith("$ curl")]
    assert len(hinted) == 2
    assert all("-H 'Accept: text/html'" in line for line in hinted)
    assert lines.count("HTTP/1.1 200 OK") == 3
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}

    app.test_client().get("/", environ_base=server)
    assert sent == []
    fresh = app.test_client()
    fresh.get("/", environ_base=server)
    assert sent == [[("Link", hint_shown)]]
    fresh.get("/", environ_base=server)
    assert len(sent) == 1, "a client that holds everything is hinted nothing"


@contextlib.contextmanager
def quickstart_served(import_file: Any, name: str) -> Iterator[tuple[Flask, int]]:
    """The quickstart app and its port, served over HTTP in a thread on a port of its own
    (the docs' 8000 may be taken), for a sample run as written against it."""
    app = import_file(QUICKSTART / "app.py", name).app
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, server.server_port
    finally:
        server.shutdown()
        thread.join()


def with_the_cli(tmp_path: Path) -> dict[str, str]:
    """The environment, with ``firehose-digest`` on its PATH as the package installs it,
    run from this tree."""
    (tmp_path / "bin").mkdir()
    command = tmp_path / "bin" / "firehose-digest"
    command.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m firehose_digest "$@"\n')
    command.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ.get('PATH', '')}"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "grep", "cut")),
    reason="needs bash, curl, grep and cut",
)
def test_cli_s_recipe_for_a_valid_cookie_reads_the_quickstart_s(
    import_file: Any, tmp_path: Path
) -> None:
    """cli.md, "To see a valid one": ``inspect`` of the value ``grep h2-digest | cut -f7``
    takes from the jar ``curl -c -`` writes to stdout, the quickstart app's. Run as the page
    writes it, with curl, grep and cut, against the app served over HTTP (on a port of its
    own, for the page's 8000), in an empty folder: a reader's is left as it was."""
    text = " ".join((DOCS / "cli.md").read_text().split())
    found = re.search(r"To see a valid one.*?`(firehose-digest inspect [^`]*)`", text)
    assert found is not None, "cli.md's recipe for a valid cookie moved"
    folder = tmp_path / "reader"
    folder.mkdir()
    env = with_the_cli(tmp_path)
    env.pop("FLASK_SECRET_KEY", None)
    with quickstart_served(import_file, "docs_quickstart_recipe") as (_, port):
        recipe = found.group(1).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(
            ["bash", "-c", recipe],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("valid: signed "), done.stdout
    assert "held: /static/app.js" in lines
    assert not list(folder.iterdir())


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "grep")),
    reason="needs bash, curl and grep",
)
def test_the_readme_curl_answers_as_shown_and_leaves_no_file(
    import_file: Any, tmp_path: Path
) -> None:
    """The README's first curl, run as written against the quickstart app served over HTTP
    (on a port of its own, for the README's 8000) in an empty folder: the lines shown, the
    cookie's value and dates aside, and no cookie jar left in the reader's folder."""
    (shown,) = [block for block in blocks(README, "console") if "set-cookie" in block]
    command, *expected = shown.splitlines()
    with quickstart_served(import_file, "docs_quickstart_curl") as (_, port):
        command = command.removeprefix("$ ").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    def cookie_aside(line: str) -> str:
        return line.partition("=")[0] if line.startswith("Set-Cookie: ") else line

    assert [cookie_aside(line) for line in done.stdout.splitlines()] == [
        cookie_aside(line) for line in expected
    ], done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "grep", "cut")),
    reason="needs bash, curl, grep and cut",
)
def test_deployment_s_troubleshooting_commands_run_as_shown(
    import_file: Any, tmp_path: Path
) -> None:
    """deployment.md, "Why pushed again, or never?": its curl, then its ``inspect`` of a
    cookie the site just wrote, run as the page writes them against the quickstart app
    (served over HTTP on a port of its own, for the page's nginx on 8443; ``-k`` is then
    idle), with the app's key in ``FLASK_SECRET_KEY``, as the page says: the first visit
    pushes and sets the digest, the return visit's links are ``nopush``, and the cookie
    verifies."""
    section = (DOCS / "deployment.md").read_text().partition("## Why pushed again, or never?")[2]
    commands = [
        line.strip().removeprefix("$ ")
        for info, body in FENCE.findall(section.replace("\n   ", "\n"))
        if info.strip() == "console"
        for line in body.splitlines()
        if line.strip().startswith("$ ")
    ]
    assert [command.split()[0] for command in commands] == ["curl", "firehose-digest"]
    env = with_the_cli(tmp_path)
    with quickstart_served(import_file, "docs_quickstart_troubleshooting") as (app, port):
        env["FLASK_SECRET_KEY"] = app.config["SECRET_KEY"]
        site = f"http://127.0.0.1:{port}/"
        done = [
            subprocess.run(
                ["bash", "-c", shown.replace("https://127.0.0.1:8443/", site)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            for shown in commands
        ]
    first_link, set_cookie, again_link = done[0].stdout.splitlines()
    assert "nopush" not in first_link and set_cookie.startswith("Set-Cookie: h2-digest=")
    assert again_link.removeprefix("Link: ").split(", ") == [
        f"{link}; nopush" for link in first_link.removeprefix("Link: ").split(", ")
    ]
    assert done[1].returncode == 0, done[1].stdout + done[1].stderr
    assert done[1].stdout.startswith("valid: signed "), done[1].stdout


def _troubleshooting_items() -> dict[int, str]:
    """deployment.md, "Why pushed again, or never?": its numbered causes, each one line."""
    section = (DOCS / "deployment.md").read_text().partition("## Why pushed again, or never?")[2]
    items = re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", section, re.M | re.S)
    return {int(number): " ".join(text.split()) for number, text in items}


def test_deployment_s_troubleshooting_blames_no_proxy_for_links_the_app_writes_nopush() -> None:
    """deployment.md, "Why pushed again, or never?": "the proxy does not push" is for links
    the app offered, which a front then left unpushed. A HEAD, a status of 400 or more and
    a url that is not path-absolute are never offered (proxies.md: a digest counts only what
    every front pushes): their links are ``nopush`` and no cookie is set, behind nginx and
    h2o too. The page named them among the proxies' cases ("Apache for a status of 400 or
    more", "nginx nothing for HEAD"), sending a user with a 404 page to the proxy; they are
    told where ``nopush`` on a first visit is."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    Firehose(app)

    @app.route("/")
    def page() -> str:
        push("/a.css", as_="style")
        push("https://cdn.example/b.js", as_="script")
        return "page"

    @app.route("/missing")
    def missing() -> tuple[str, int]:
        push("/a.css", as_="style")
        return "missing", 404

    answers = [
        app.test_client().open(path, method=method)
        for method, path in (("GET", "/"), ("HEAD", "/"), ("GET", "/missing"))
    ]
    offered = [
        [link for link in r.headers["Link"].split(", ") if not link.endswith("; nopush")]
        for r in answers
    ]
    assert offered == [["</a.css>; rel=preload; as=style"], [], []]
    assert ["Set-Cookie" in r.headers for r in answers] == [True, False, False]
    items = _troubleshooting_items()
    assert items[5].startswith("**The proxy does not push**")
    for case in ("HEAD", "400 or more", "path-absolute"):
        assert case not in items[5], items[5]
        assert case in items[6], items[6]


def test_the_rig_runs_the_files_in_docs_deploy() -> None:
    assert Nginx.template == DOCS / "deploy" / "nginx.conf"
    assert H2O.template == DOCS / "deploy" / "h2o.conf"
    assert Apache.template == DOCS / "deploy" / "apache.conf"


@pytest.mark.parametrize(
    "page", [page for page in PAGES if page.name not in CONFIG_EXEMPT], ids=_page_id
)
def test_every_configuration_shown_is_one_the_integration_tests_run(page: Path) -> None:
    run = {template.read_text() for template in (Nginx.template, H2O.template, Apache.template)}
    for block in blocks(page, *CONFIG_LANGUAGES):
        assert block in run, f"{page.name} shows a configuration the integration tests never run"


def test_deployment_shows_the_nginx_and_h2o_files_whole() -> None:
    shown = blocks(DOCS / "deployment.md", *CONFIG_LANGUAGES)
    assert Nginx.template.read_text() in shown
    assert H2O.template.read_text() in shown


_LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    for target, _anchor in _LINK.findall(page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


#: A link to a section: ``[text](page.md#anchor)``, or ``(#anchor)`` on the same page.
_SECTION_LINK = re.compile(r"\]\(([^)#\s]*)#([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of ``page``'s headings: lowercased, punctuation dropped
    but ``-`` and ``_``, spaces made ``-``, a repeated one numbered ``-1``, ``-2``..."""
    anchors: set[str] = set()
    text = FENCE.sub("", page.read_text())
    for heading in re.findall(r"^#+ +(.+?) *$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        numbered, count = slug, 0
        while numbered in anchors:
            count += 1
            numbered = f"{slug}-{count}"
        anchors.add(numbered)
    return anchors


@pytest.mark.parametrize("page", [*PAGES, ROOT / "CHANGES.md"], ids=_page_id)
def test_every_link_to_a_section_finds_it(page: Path) -> None:
    for target, anchor in _SECTION_LINK.findall(page.read_text()):
        if "://" in target or not (target or page.name).endswith(".md"):
            continue
        linked = page.parent / target if target else page
        assert linked.exists(), f"{page.name} links to missing {target}"
        assert anchor in _anchors(linked), (
            f"{page.name} links to {target}#{anchor}: no such section"
        )


def test_sections_are_named_as_github_names_them() -> None:
    anchors = _anchors(DOCS / "how-it-works.md")
    assert "declaring-a-views-links-firehosehints" in anchors  # "`@firehose.hints`"
    assert "push" in anchors  # "`push()`"
    assert "what-is-pushed-and-what-is-recorded" in anchors


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "openssl")), reason="needs bash and openssl"
)
def test_deployment_s_throwaway_certificate_command_runs_as_shown(tmp_path: Path) -> None:
    """deployment.md's ``openssl req`` for a local try, run as the page writes it (its
    continuation lines and all): a key and a leaf certificate for ``127.0.0.1``, as the
    rig's ``make_certificate`` makes for the nginx the tests run."""
    (shown,) = [
        block.removeprefix("$ ")
        for block in blocks(DOCS / "deployment.md", "console")
        if block.startswith("$ openssl req ")
    ]
    subprocess.run(["bash", "-c", shown], cwd=tmp_path, capture_output=True, check=True)
    described = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "cert.pem"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Subject: CN = 127.0.0.1" in described
    assert "IP Address:127.0.0.1" in described
    assert "CA:FALSE" in described
    assert (tmp_path / "key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_deployment_says_nginxs_proxy_cache_asks_the_app_with_get_for_a_head() -> None:
    """deployment.md: nginx pushes nothing for HEAD, and the app records nothing for one.
    With ``proxy_cache`` on, nginx asks the app with GET (``proxy_cache_convert_head``, on
    by default): measured behind nginx 1.22.1 with ``proxy_cache``, a client's HEAD was
    pushed nothing but got a digest recording the page's two files, and its next GET was
    pushed neither. The app cannot tell; the page on nginx must say so, and how to avoid it
    (``proxy_cache_convert_head off`` with ``$request_method`` in ``proxy_cache_key``)."""
    text = (DOCS / "deployment.md").read_text()
    assert "proxy_cache_convert_head" in text


def test_security_says_what_a_page_cache_behind_varnish_s_built_in_vcl_stores() -> None:
    """Every page that pushes sets the digest cookie on a client's first response, and the
    client sends it from then on. Varnish's built-in VCL (varnish-cache's ``builtin.vcl``:
    ``vcl_req_cookie`` passes a request that sends a ``Cookie``, ``vcl_beresp_cookie``
    makes a response that sets one a hit-for-miss object for 120 s) then serves such a
    page from its cache to no one: a site that put its anonymous pages behind it must be
    told, and told how to keep a page stored (links all ``nopush``), which the page's
    Python block checks."""
    text = " ".join((DOCS / "security.md").read_text().split())
    assert "`vcl_req_cookie`" in text
    assert "hit-for-miss" in text


@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
def test_the_readme_says_what_make_demo_installs_as_root_and_how_long_make_test_takes() -> None:
    """The Quickstart's ``make demo`` and ``make test``, run as root, ``apt-get install``
    what they drive: a newcomer must know that before running them, so the README names
    each Debian package of the Makefile's ``DEMO_SERVERS`` and points at ``SERVERS`` for
    the rest, and says how long ``make test`` takes, and the unit tests alone."""
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r"^DEMO_SERVERS := (.+)$", makefile, re.M)
    assert demo, "the Makefile no longer lists DEMO_SERVERS"
    quickstart = README.read_text().partition("## Quickstart")[2].partition("\n## ")[0]
    assert "apt-get install" in quickstart
    for package in {pair.partition("=")[2] for pair in demo[1].split()}:
        assert f"`{package}`" in quickstart, (
            f"the README does not say make demo installs {package}"
        )
    assert "`SERVERS`" in quickstart
    assert re.search(r"make test +#.*\d+ minutes", quickstart), "how long make test takes"
    assert re.search(
        r"unit tests alone, [^:]*\d+ minutes?: `[^`]*--ignore=tests/integration`",
        README.read_text(),
    )


def test_the_readme_s_git_url_installs_are_requirements_pip_reads() -> None:
    """README, Install: a git url takes its extra before the url, as a PEP 508 direct
    reference (``'firehose_digest[demo] @ git+URL'``). It said "a clone or a git url"
    above ``pip install '/path/to/firehose_digest[demo]'``: ``[demo]`` appended to a git
    url makes pip clone a repository of that name, which fails. Each shown form parses as
    pip parses it (``packaging``, which pip vendors and pytest requires), naming this
    project, a git url and extras it has."""
    install = README.read_text().partition("\n## Install\n")[2].partition("\n## ")[0]
    shown = re.findall(r"'([^']* @ git\+URL)'", install)
    assert len(shown) == 2, "the README's Install no longer shows the git url forms"
    project = importlib.metadata.metadata("firehose_digest")
    extras = set(project.get_all("Provides-Extra") or [])
    seen = []
    for written in shown:
        requirement = Requirement(written.replace("URL", "https://example.com/fd.git"))
        assert canonicalize_name(requirement.name) == canonicalize_name(project["Name"])
        assert requirement.url == "git+https://example.com/fd.git"
        assert requirement.extras <= extras, f"{written}: no such extra"
        seen.append(requirement.extras)
    assert seen == [set(), {"demo"}]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
def test_make_test_installs_every_server_after_make_demo_in_one_run(tmp_path: Path) -> None:
    """README: ``make demo`` and ``make test`` work on a fresh Debian 12. Run as one
    ``make demo test``, the ``servers`` step is made once, with the demo's target-specific
    ``SERVERS`` (nginx, nghttp, openssl, curl), which its prerequisites inherit: ``test``
    then runs with no h2o, Apache, Chromium nor Firefox installed, and its integration
    tests skip (fail, under ``CI=true``)."""
    dry = subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={tmp_path / 'venv'}", "demo", "test"],
        capture_output=True,
        text=True,
        check=True,
    )
    for server in ("h2o=h2o", "apache2=apache2", "chromium=chromium", "firefox-esr=firefox-esr"):
        assert server in dry.stdout, f"make demo test installs no {server.partition('=')[2]}"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
@pytest.mark.parametrize(
    ("target", "consequence"),
    [
        ("demo-servers", "the demo skips what needs them"),
        ("servers", "integration tests will skip"),
    ],
)
def test_make_says_what_a_missing_server_costs_when_not_root(
    tmp_path: Path, target: str, consequence: str
) -> None:
    """Not root, ``make demo`` and ``make test`` install no server and say what is
    missing, and what that costs: ``make demo`` runs no integration test, it leaves out
    what it would show through nginx (``examples/demo.py``). Run with no server on
    ``PATH`` nor in ``SBIN``, and an ``id`` that says a user's uid, so nothing is installed."""
    (tmp_path / "id").write_text("#!/bin/sh\necho 1000\n")
    (tmp_path / "id").chmod(0o755)
    make = shutil.which("make")
    assert make is not None
    said = subprocess.run(
        [make, "-s", "-C", str(ROOT), f"SBIN={tmp_path}", target],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert said.startswith("not root, not installing: nginx-core"), said
    assert f"({consequence})" in said, said


#: A user's PATH on Debian (``ENV_PATH`` in ``/etc/login.defs``): no ``/usr/sbin``.
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
#: The servers Debian installs in ``/usr/sbin``, on root's PATH alone: command=package.
SBIN_SERVERS = {
    "nginx": "nginx-core",
    "apache2": "apache2",
    "haproxy": "haproxy",
    "varnishd": "varnish",
}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
@pytest.mark.parametrize("target", ["demo-servers", "servers"])
def test_make_finds_the_servers_debian_puts_in_sbin_when_not_root(
    tmp_path: Path, target: str
) -> None:
    """A user's PATH has no ``/usr/sbin``, where Debian puts nginx, apache2, haproxy and
    varnishd: ``make demo`` said "not root, not installing: nginx-core" of an nginx that
    was installed, and ``make test`` the same of all four. Those installed are found
    there, as the demo and the integration tests find them."""
    installed = [
        package for command, package in SBIN_SERVERS.items() if Path("/usr/sbin", command).exists()
    ]
    if not installed:
        pytest.skip("none of nginx, apache2, haproxy, varnishd is in /usr/sbin")
    (tmp_path / "id").write_text("#!/bin/sh\necho 1000\n")
    (tmp_path / "id").chmod(0o755)
    said = subprocess.run(
        ["make", "-s", "-C", str(ROOT), target],
        env={"PATH": f"{tmp_path}:{USER_PATH}"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = said.partition("not installing:")[2].partition("(")[0].split()
    assert not set(installed) & set(missing), said


def _makefile_servers() -> dict[str, str]:
    """The Makefile's ``SERVERS``: command -> the Debian package ``make test`` installs."""
    listed = re.search(r"^SERVERS := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert listed, "the Makefile no longer lists SERVERS"
    return dict(pair.split("=") for pair in listed[1].split())


@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
@pytest.mark.parametrize("ci", [False, True], ids=["user", "CI=true"])
def test_a_missing_server_s_skip_says_which_debian_package_to_install(
    monkeypatch: pytest.MonkeyPatch, ci: bool
) -> None:
    """``make test`` installs the servers as root alone: a user's integration tests skip,
    and the skip said "nghttp (on PATH or in /usr/sbin) is not installed", where the
    package is nghttp2-client (``certutil``: libnss3-tools, ``WebKitWebDriver``:
    webkit2gtk-driver). Each command of the Makefile's ``SERVERS``, missing, is skipped
    (failed, under ``CI=true``) naming the package ``make test`` installs for it."""
    monkeypatch.setattr(launcher, "executable", lambda name: None)
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    stopped = pytest.fail.Exception if ci else pytest.skip.Exception
    for command, package in _makefile_servers().items():
        with pytest.raises(stopped) as said:
            launcher.require_tools(command)
        assert f"{command} (on PATH or in /usr/sbin) is not installed: " in str(said.value)
        assert f": apt-get install {package} (make test does, as root)" in str(said.value)


@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
def test_every_command_an_integration_test_requires_is_one_make_test_installs() -> None:
    """``require_tools`` names the package of a command the Makefile's ``SERVERS`` lists: a
    command a test requires that it does not list would go uninstalled by ``make test``,
    and its skip would name no package."""
    servers = _makefile_servers()
    required = set()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "require_tools"
            ):
                required |= {
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                }
    assert "nghttp" in required and "apache2" in required
    assert required <= set(servers), sorted(required - set(servers))
    assert servers == launcher.DEBIAN_PACKAGES


BENCH_RESULTS = ROOT / "bench" / "results"


def _result_row(result: str, name: str) -> list[str]:
    """The cells of the row ``name`` of the table in ``bench/results/<result>``."""
    for line in (BENCH_RESULTS / result).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"{result} has no row {name!r}")


def test_performance_quotes_the_decoded_digest_cache_as_caches_md_measured() -> None:
    """performance.md's table of caches: "switched off, the return visit costs several
    times the floor instead of about 1.3x (caches.md: about Ax against Bx)". The figures
    are caches.md's *x by hand* of "no decoded-digest cache" and "as shipped", within the
    10% one run differs from another on one machine (3.34x to 3.56x over eight runs; on
    another, 4.02x to 4.10x over five, as shipped 1.30x to 1.33x, 2026-12-06)."""
    quoted = re.search(
        r"\(\[caches\.md\]\([^)]*\): about ([0-9.]+)x against ([0-9.]+)x\)",
        (DOCS / "performance.md").read_text(),
    )
    assert quoted, "performance.md no longer quotes caches.md's decoded-digest row"
    measured = (
        float(_result_row("caches.md", "no decoded-digest cache")[1]),
        float(_result_row("caches.md", "as shipped")[1]),
    )
    for said, got in zip((float(quoted[1]), float(quoted[2])), measured, strict=True):
        assert abs(said - got) <= 0.1 * got, f"performance.md says {said}x, caches.md {got}x"


def test_the_readme_says_what_a_return_visit_costs_as_server_cost_md_measured() -> None:
    """The README's "**The cost**": a newcomer deciding wants the request cost before the
    quickstart. The figure is server_cost.md's *x by hand* for the default (GCS), within
    the 10% one run differs from another (1.30x to 1.35x in six `--quick` runs,
    2026-12-06)."""
    quoted = re.search(
        r"\*\*The cost\*\*[^.]*?about ([0-9.]+)x ", " ".join(README.read_text().split())
    )
    assert quoted, "the README no longer says what a return visit costs"
    got = float(_result_row("server_cost.md", "firehose_digest, GCS (default)")[2])
    assert abs(float(quoted[1]) - got) <= 0.1 * got, f"README says {quoted[1]}x, measured {got}x"


def test_early_hints_says_how_many_pages_of_their_own_links_the_hints_cache_keeps() -> None:
    """early-hints.md: "the 32 MiB hold about N pages of links no other page has, fewer
    than the default 1000". A page of the 90 shortest links the default budget takes
    (performance.md's worst page) is counted alone, so as if no other page held its links;
    N is how many such pages ``hints.HINTS_BYTES`` holds, within 5%. The page said 1000
    pages took 21 MiB, and fewer were kept only past 32 MiB: the bytes are counted at more
    than the memory (about 45 KiB a page against 36), and about 720 of those pages fill
    them."""
    quoted = re.search(
        r"the 32 MiB hold about ([\d,]+) pages of links no other page has, fewer than the "
        r"default ([\d,]+)",
        " ".join((DOCS / "early-hints.md").read_text().split()),
    )
    assert quoted, "early-hints.md does not say how many pages of their own links are kept"
    links = [make_resource(f"/{n}", (), None, None, ()).hint for n in range(90)]
    one = HintCache(1)
    one.learn("https://shop.example/p?q=1", links, DEFAULTS["FIREHOSE_LINK_BUDGET"])
    assert len(one.get("https://shop.example/p?q=1") or ()) == 90  # the budget's worst page
    kept = hints.HINTS_BYTES // one._bytes
    said, default = (int(number.replace(",", "")) for number in quoted.groups())
    assert abs(said - kept) <= 0.05 * kept, f"early-hints.md says {said}, {kept} are kept"
    assert kept < default == DEFAULTS["FIREHOSE_EARLY_HINTS_CACHE"]


def test_performance_says_how_long_make_bench_took() -> None:
    """performance.md: "make bench  # every suite, N to M minutes on 2 cores". summary.md's
    last line gives the time of the run that wrote bench/results/ ("total 884 s"): the
    range a newcomer plans with must hold it."""
    said = re.search(r"every suite, (\d+) to (\d+) minutes", (DOCS / "performance.md").read_text())
    assert said, "performance.md no longer says how long make bench takes"
    total = re.search(r"total (\d+) s", (BENCH_RESULTS / "summary.md").read_text())
    assert total, "summary.md no longer gives the run's total time"
    low, high, seconds = int(said[1]) * 60, int(said[2]) * 60, int(total[1])
    assert low <= seconds <= high, (
        f"performance.md says {said[1]} to {said[2]} minutes; the run took {seconds} s"
    )


def test_how_it_works_quotes_the_cookie_sizes_cookie_size_md_measured() -> None:
    """how-it-works.md: "at 300 urls and p = 1% its signed cookie is A characters against
    Bloom's B (C against D once both generations are full, for the urls of
    bench/results/cookie_size.md; ... `firehose-digest plan`'s keys give E)": A to D are
    cookie_size.md's row for 300 at 1.0% (its first table), E the ``2-gen cookie B`` of
    gcs in cli.md's first ``plan`` example, which tests/test_cli_docs.py runs. The README
    and deployment.md round A ("~450 characters", "about 450 characters")."""
    quoted = re.search(
        r"its signed cookie is (\d+) characters against Bloom's (\d+) \((\d+) against (\d+)"
        r" once both generations are full.*?`firehose-digest plan`'s keys give (\d+)\)",
        re.sub(r"\s+", " ", (DOCS / "how-it-works.md").read_text()),
    )
    assert quoted, "how-it-works.md no longer quotes the cookie's sizes"
    row = _result_row("cookie_size.md", "300")  # n, limit, GCS one, GCS both, Bloom one, both
    gcs, bloom, gcs_full, bloom_full = (int(size) for size in quoted.groups()[:4])
    assert [gcs, gcs_full, bloom, bloom_full] == [int(cell) for cell in row[2:6]]
    plan = re.search(
        r"^gcs +[\d.]+ +\d+ +\d+ +[\d.]+ +(\d+) ", (DOCS / "cli.md").read_text(), re.M
    )
    assert plan and quoted[5] == plan[1]
    for page, said in (
        (README, r"~(\d+) characters for 300"),
        (DOCS / "deployment.md", r"about (\d+) characters at the default"),
    ):
        rounded = re.search(said, page.read_text())
        assert rounded, f"{page.name} no longer says how long the cookie is"
        assert abs(int(rounded[1]) - int(row[2])) <= 0.05 * int(row[2]), page.name


def _counted_page(links: list[Any]) -> float:
    """What the hints cache counts for one page of ``links`` held by no other page, in KiB."""
    one = HintCache(1)
    one.learn("https://shop.example/p?q=1", links, DEFAULTS["FIREHOSE_LINK_BUDGET"])
    assert len(one.get("https://shop.example/p?q=1") or ()) == len(links)  # all in the budget
    return one._bytes / 1024


def test_performance_quotes_the_hint_cache_s_counted_pages_as_it_counts_them() -> None:
    """performance.md's Early Hints row: "counted, with the dicts' worst, at A KiB, so about
    N such pages ... fill the 32 MiB; B KiB for 60 links of `as=style`": A and B are what
    ``HintCache`` counts for a page of the 90 shortest links, and of 60 such links of
    ``as=style``, to the tenth of a KiB; N is how many of the first ``hints.HINTS_BYTES``
    holds, within 5%. It said 44.6 KiB and 30.4 KiB after the count grew to 45.3 and 30.9.
    Each figure is given for Python 3.10 and 3.11, then in brackets for 3.12 and 3.13, whose
    objects ``sys.getsizeof`` counts smaller (make test-pythons failed on 3.13)."""
    text = " ".join((DOCS / "performance.md").read_text().split())
    quoted = re.search(
        r"counted, with the dicts' worst, at ([\d.]+) KiB on Python 3\.10 and 3\.11 \(([\d.]+) "
        r"on 3\.12 and 3\.13, [^)]*\), so about ([\d,]+) such pages"
        r".*?; ([\d.]+) KiB \(([\d.]+)\) for 60 links of `as=style`",
        text,
    )
    assert quoted, "performance.md no longer quotes what a page of links is counted at"
    later = sys.version_info >= (3, 12)
    shortest = _counted_page([make_resource(f"/{n}", (), None, None, ()).hint for n in range(90)])
    styles = _counted_page([make_resource(f"/{n}", (), "style", None, ()).hint for n in range(60)])
    said_shortest, said_styles = (quoted[2], quoted[5]) if later else (quoted[1], quoted[4])
    assert float(said_shortest) == round(shortest, 1), f"90 links are counted at {shortest:.1f}"
    assert float(said_styles) == round(styles, 1), f"60 links are counted at {styles:.1f}"
    kept = hints.HINTS_BYTES // (shortest * 1024)
    said = int(quoted[3].replace(",", ""))
    assert abs(said - kept) <= 0.05 * kept, f"performance.md says {said}, {kept:.0f} are kept"


#: Numbers the pages write in words.
_WORDS = {"a minute": 60, "four": 4}
#: A limit a page states beside the constant that defines it: (page, what the page says,
#: the number and its unit in a group, the unit in the constant's, the constant).
_STATED_LIMITS = [
    ("cli.md", r"stdin is read up to (\d+) MiB", 1 << 20, cli.MAX_STDIN),
    ("cli.md", r"a JSON document, a HAR, up to (\d+) MiB", 1 << 20, cli.MAX_STDIN_JSON),
    ("security.md", r"A value over (\d+) characters is refused", 1, codec.MAX_COOKIE_VALUE),
    ("security.md", r"seems signed up to (a minute) in the future", 1, codec.MAX_CLOCK_SKEW),
    ("security.md", r"request: the last (four) sent", 1, codec.MAX_COOKIE_COPIES),
    ("security.md", r"`Domain` over (\d+) bytes", 1, settings.MAX_ATTRIBUTE_VALUE),
    ("security.md", r"Werkzeug's default, (\d+) bytes", 1, settings.MAX_COOKIE_SIZE),
    ("connectors.md", r"Werkzeug's default, (\d+) bytes", 1, settings.MAX_COOKIE_SIZE),
    ("configuration.md", r"\((\d+) days, the most browsers keep", 86400, settings.MAX_COOKIE_AGE),
    ("early-hints.md", r"within (\d+) seconds of the clock", 10**9, static.SETTLED_AFTER_NS),
    ("how-it-works.md", r"up to (\d+) values a process", 1, collect.MAX_TOLD_AS),
]


@pytest.mark.parametrize(
    ("page", "said", "unit", "limit"),
    _STATED_LIMITS,
    ids=[f"{page} {said}" for page, said, _, _ in _STATED_LIMITS],
)
def test_every_limit_a_page_states_is_the_constant_s(
    page: str, said: str, unit: int, limit: int
) -> None:
    """The bounds the pages give in words (what ``inspect`` reads from stdin, the cookie
    value refused before any HMAC, the clock skew and the copies of a cookie tried, the
    attribute and cookie sizes browsers keep, a settled file's seconds) are the constants
    the code bounds with, so neither can drift from the other. Werkzeug's default is
    Flask's own too."""
    found = re.findall(said, " ".join((DOCS / page).read_text().split()))
    assert found, f"{page} no longer says {said!r}"
    for number in found:
        value = _WORDS[number] if number in _WORDS else int(number)
        assert value * unit == limit, f"{page} says {number}; the code's bound is {limit}"
    assert Flask.default_config["MAX_COOKIE_SIZE"] == settings.MAX_COOKIE_SIZE


def test_early_hints_says_what_a_page_of_its_own_links_takes_in_memory() -> None:
    """early-hints.md: "A page of links no other page has takes up to about N KiB of
    memory": N is what a process grows by, per page, learning 100 pages of the 90 shortest
    links the default budget takes, each its own (tracemalloc), within 15% (dicts grow in
    steps, and differ between Python versions). It said 21 KiB: the links alone, without
    the cache's count of each link (about 14 KiB more)."""
    quoted = re.search(
        r"A page of links no other page has takes up to about (\d+) KiB of memory",
        " ".join((DOCS / "early-hints.md").read_text().split()),
    )
    assert quoted, "early-hints.md does not say what a page of its own links takes"
    cache = HintCache(100)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for page in range(100):
            links = [make_resource(f"/{n}", (), None, None, ()).hint for n in range(90)]
            cache.learn(
                f"https://shop.example/p?q={page}", links, DEFAULTS["FIREHOSE_LINK_BUDGET"]
            )
        del links
        gc.collect()
        grown = (tracemalloc.get_traced_memory()[0] - before) / 100 / 1024
    finally:
        tracemalloc.stop()
    assert len(cache) == 100
    said = int(quoted[1])
    assert abs(said - grown) <= 0.15 * grown, (
        f"early-hints.md says {said}, a page takes {grown:.1f}"
    )
