"""The browses' figures: a table printed at the end of the session, one row per browse.

A test keeps a browse's figures in ``config.stash`` (:data:`~.launcher.BROWSES`, and
:data:`~.launcher.EDGE_BROWSES` for the edge-case browse), and any other table to print
in :data:`~.launcher.TABLES` (test_browser.py's load times). Under pytest-xdist (``make
test`` runs ``-n 2``) each worker hands its rows to the controller when it finishes
(``workeroutput``), which prints the tables as a single run does. With
``WRITE_BENCH_RESULTS=1`` they are written to ``bench/results/browse.md`` and
``edge_browse.md`` too: a plain test run leaves the checkout as it found it.

A plugin (``tests/conftest.py`` loads it), not hooks of ``tests/integration/conftest.py``:
the controller collects nothing, and reads that conftest only when given a path under
``tests/integration`` (``make test``'s plain ``pytest`` gives none).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.rig import REPO_ROOT, BrowseFigures

from .launcher import ASSETS, BROWSES, EDGE_BROWSES, PAGES, TABLES

REPORT_PATH = REPO_ROOT / "bench" / "results" / "browse.md"
EDGE_REPORT_PATH = REPO_ROOT / "bench" / "results" / "edge_browse.md"
#: Set to ``1`` to write the tables to ``bench/results`` as well as print them.
WRITE_RESULTS = "WRITE_BENCH_RESULTS"
BROWSE_PREAMBLE = (
    "# Browse figures\n\n"
    f"Written by `{WRITE_RESULTS}=1 pytest tests/integration`: {PAGES} page views "
    f"(`/browse/0`..), 10 preloads each over {ASSETS} fingerprinted resources, neighbours "
    "sharing 7.\nTracking cookie: `h2-digest`, Flask's `session` or h2o's `h2o_casper`, in "
    "characters.\n\n"
)
EDGE_PREAMBLE = (
    "# Edge-case browse\n\n"
    f"Written by `{WRITE_RESULTS}=1 pytest tests/integration/test_edge_browse.py` (its "
    "docstring says what is visited and how each figure is counted): one client per proxy, "
    "one cookie jar, the real extension behind it; rows marked 103 run it with "
    "FIREHOSE_EARLY_HINTS, a learner's browse then a client's.\n\n"
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's rows to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        browses = session.config.stash.get(BROWSES, {})
        output["browses"] = {name: dataclasses.asdict(row) for name, row in browses.items()}
        output["edge_browses"] = session.config.stash.get(EDGE_BROWSES, {})
        output["tables"] = session.config.stash.get(TABLES, {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: take in the rows a worker handed over as it finished
    (``node`` is xdist's ``WorkerController``)."""
    output = getattr(node, "workeroutput", {})
    stash = node.config.stash
    browses = stash.setdefault(BROWSES, {})
    browses.update({name: BrowseFigures(**row) for name, row in output.get("browses", {}).items()})
    stash.setdefault(EDGE_BROWSES, {}).update(output.get("edge_browses", {}))
    stash.setdefault(TABLES, {}).update(output.get("tables", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stash = terminalreporter.config.stash
    for title, table in stash.get(TABLES, {}).items():
        terminalreporter.write_sep("=", title)
        terminalreporter.write(table)
    edge_rows = stash.get(EDGE_BROWSES, {})
    if edge_rows:
        table = edge_table(edge_rows)
        _report(
            terminalreporter, "edge-case browse figures", EDGE_REPORT_PATH, EDGE_PREAMBLE, table
        )
    browses = stash.get(BROWSES, {})
    if browses:
        table = browse_table(dict(sorted(browses.items())))
        _report(terminalreporter, "browse figures", REPORT_PATH, BROWSE_PREAMBLE, table)


def _report(
    reporter: pytest.TerminalReporter, title: str, path: Path, preamble: str, table: str
) -> None:
    reporter.write_sep("=", title)
    reporter.write(table)
    where = path.relative_to(REPO_ROOT)
    if os.environ.get(WRITE_RESULTS) == "1":
        path.write_text(preamble + table)
        reporter.write_line(f"(written to {where})")
    else:
        reporter.write_line(f"({WRITE_RESULTS}=1 writes it to {where})")


_COLUMNS = (
    ("pushes", "pushes"),
    ("redundant", "redundant"),
    ("missed", "missed"),
    ("distinct", "distinct"),
    ("bytes_pushed", "bytes pushed"),
    ("max_digest_cookie", "max tracking cookie"),
    ("max_cookie_header", "max Cookie header"),
    ("errors", "errors"),
    ("first_error_view", "first error at view"),
)


def browse_table(browses: dict[str, BrowseFigures]) -> str:
    """The figures as a markdown table, one row per browse."""
    lines = [
        "| browse | " + " | ".join(title for _, title in _COLUMNS) + " |",
        "|---" * (len(_COLUMNS) + 1) + "|",
    ]
    for name, figures in browses.items():
        cells = [str(getattr(figures, attribute)) for attribute, _ in _COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def edge_table(rows: dict[str, dict[str, str]]) -> str:
    """The edge-case browse's figures as a markdown table, one row per proxy."""
    titles = list(next(iter(rows.values())))
    lines = ["| proxy | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(row[title] for title in titles) + " |")
    return "\n".join(lines) + "\n"
