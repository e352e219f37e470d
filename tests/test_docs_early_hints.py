"""Every Python block in docs/early-hints.md runs as written, in order, as one session.

The blocks assert what they show, so a page that drifts from the code fails here. Its
```apache block is an excerpt of the files the integration tests run (docs/deploy/), each
directive as written there, with the rig's placeholders filled in as the page shows them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).parent.parent / "docs"
DOC = DOCS / "early-hints.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
APACHE = re.compile(r"^```apache\n(.*?)^```$", re.M | re.S)
#: The rig's placeholders (tests/integration/rig.py), as the page fills them in.
SHOWN_AS = {"@STATIC_DIR@": "/srv/app/static", "@BACKEND_PORT@": "8000"}


def python_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def test_the_page_has_its_examples() -> None:
    assert len(python_blocks(DOC.read_text())) >= 4


def test_every_python_block_runs(samples_tempdir: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_early_hints"}
    for number, block in enumerate(python_blocks(DOC.read_text()), 1):
        code = compile(block, f"{DOC.name} block {number}", "exec")
        exec(code, namespace)


def test_a_failing_block_is_noticed() -> None:
    [block] = python_blocks("```python\nassert 1 == 2\n```\n")
    try:
        exec(compile(block, "block", "exec"), {})
    except AssertionError:
        return
    raise AssertionError("a false assertion in a block went unnoticed")


def directives(config: str) -> list[str]:
    """A configuration's lines without comments, blank lines or indentation."""
    lines = (line.strip() for line in config.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_apache_excerpt_is_what_the_integration_tests_run() -> None:
    run = "\n".join(
        (DOCS / "deploy" / name).read_text() for name in ("apache.conf", "apache-static.conf")
    )
    for placeholder, shown in SHOWN_AS.items():
        run = run.replace(placeholder, shown)
    [excerpt] = APACHE.findall(DOC.read_text())
    assert len(directives(excerpt)) >= 8
    for directive in directives(excerpt):
        assert directive in directives(run), f"early-hints.md shows {directive!r}, never run"


def section(title: str) -> str:
    """The text of the page's ``## title`` section."""
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_page_names_the_request_without_fetch_metadata_that_is_hinted_nothing() -> None:
    """The section "What is sent when" says which requests with no ``Sec-Fetch-*`` header
    are hinted: one whose ``Accept`` names HTML, as a browser's navigation does; "Why no
    103?" lists the rest (curl's ``*/*``). Both must say so, or a curl check reads as a
    bug."""
    from flask import Flask

    from firehose_digest import Firehose, push

    app = Flask("accept")
    app.config.update(SECRET_KEY="change me", FIREHOSE_EARLY_HINTS=True)
    Firehose(app)

    @app.route("/")
    def home() -> str:
        push("/static/site.css", as_="style")
        return "home"

    sent: list[list[tuple[str, str]]] = []
    server = {"wsgi.early_hints": sent.append}
    page = {"Accept": "text/html"}
    app.test_client().get("/", headers=page, environ_base=server)  # learns "/"
    for curl in ({"Accept": "*/*"}, {"Referer": "http://127.0.0.1:8000/", "Accept": "*/*"}):
        app.test_client().get("/", headers=curl, environ_base=server)
    assert sent == [], "the code hints such a request after all: the test's premise is gone"
    app.test_client().get("/", headers=page, environ_base=server)
    assert len(sent) == 1

    for title in ("What is sent when", "Why no 103?"):
        assert "-H 'Accept: text/html'" in section(title), f"{title!r} omits curl's Accept"


def _table(text: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """The rows of every Markdown table in ``text``, by their first two cells."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 2 and not set(cells[0]) <= {"-"}:
            rows[cells[0], cells[1]] = tuple(cells[2:])
    return rows


def test_what_it_bought_quotes_the_medians_browser_md_measured() -> None:
    """The section "What it bought" copies the medians of the run that wrote
    ``bench/results/browser.md`` (``WRITE_BENCH_RESULTS=1 pytest
    tests/integration/test_browser.py``): after a new run, the page must say its figures,
    not the last run's, row for row, and name the rows as the file does."""
    bought = section("Deployments").partition("### What it bought")[2]
    shown = _table(bought)
    measured = _table((DOCS.parent / "bench" / "results" / "browser.md").read_text())
    header = ("stylesheets served by", "Early Hints")
    assert shown.keys() - {header} == measured.keys() - {header}
    for row, (median, to_load) in shown.items():
        if row != header:
            *_visits, measured_median, measured_to_load = measured[row]
            assert (median, to_load) == (measured_median, measured_to_load), row
