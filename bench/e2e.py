"""End to end: the example site behind real push proxies, browsed by an HTTP/2 client.

Drives ``tests/integration/rig.py`` (gunicorn, nginx 1.22 with ``http2_push_preload on``, h2o 2.2,
``nghttp`` as the browser): 100 page views of ``/browse/<page>``, 10 preloads each over 300
fingerprinted resources, neighbours sharing 7. For each scheme: pushes, redundant pushes
(of something the client held), missed ones (declared, not held, not pushed), bytes pushed,
the largest tracking cookie, errors. Checked as it is measured:

- firehose_digest: no errors and no redundant push (a false negative would re-push);
- CASPER: h2o's pushes, misses and final ``h2o_casper`` cookie are exactly those
  ``bench/casper.py`` predicts for the same pages (its model of h2o is right);
- no tracking: every declared resource is pushed on every view.

Needs nginx, h2o, nghttp and openssl on PATH or in /usr/sbin (``make servers``); a browse
whose tools are missing is skipped and the table says so.

Run: ``python -m bench.e2e``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import casper
from .report import GENERATED, markdown_table, write

__all__ = ["BROWSES", "Browse", "Outcome", "rig_available", "run"]

PAGES = 100
ASSETS = 300
SECRET_KEY = "bench-e2e-secret"
#: What the integration tests use too: 300 entries at 1% false positives.
DIGEST_SETTINGS: dict[str, object] = {"FIREHOSE_CAPACITY": ASSETS, "FIREHOSE_FP_RATE": 0.01}


@dataclass(frozen=True)
class Browse:
    name: str
    proxy: str  # "nginx" or "h2o"
    tracking: str  # examples.site's SITE_TRACKING
    cookie: str  # the tracking cookie to report
    backends: int = 1
    casper: bool = False
    settings: dict[str, object] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


BROWSES = (
    Browse("firehose_digest (GCS), nginx, 2 backends", "nginx", "digest", "h2-digest", 2),
    Browse("firehose_digest (GCS), h2o", "h2o", "digest", "h2-digest"),
    Browse(
        "firehose_digest (Bloom), nginx",
        "nginx",
        "digest",
        "h2-digest",
        settings={"FIREHOSE_ENCODING": "bloom"},
    ),
    Browse("SessionConnector (default 100 urls), nginx", "nginx", "session", "session"),
    # Its cookie lists urls in a Python set's order, so its compressed size follows the hash
    # seed: pinned, as tests/integration does, so the row reads the same every run.
    Browse(
        "Flask-Firehose 0.2.3, nginx",
        "nginx",
        "flask-firehose",
        "session",
        env={"PYTHONHASHSEED": "0"},
    ),
    Browse("CASPER (h2o), no tracking in the app", "h2o", "none", "h2o_casper", casper=True),
    Browse("no tracking, nginx", "nginx", "none", "h2-digest"),
)


@dataclass
class Outcome:
    browse: Browse
    figures: Any = None  # tests.integration.rig.BrowseFigures
    skipped: str = ""
    checked: str = ""
    seconds: float = 0.0


def rig_available() -> str:
    """Why the rig cannot run here, or "" when it can."""
    if importlib.util.find_spec("tests.integration.rig") is None:
        return "tests/integration/rig.py is not there"
    rig = importlib.import_module("tests.integration.rig")
    needed = (
        "Browser",
        "BrowseFigures",
        "Gunicorn",
        "Nginx",
        "H2O",
        "make_certificate",
        "executable",
    )
    missing = [name for name in (*needed, "SITE_APP", "site_env") if not hasattr(rig, name)]
    if missing:
        return f"tests/integration/rig.py lacks {', '.join(missing)}"
    if importlib.util.find_spec("gunicorn") is None:
        return "gunicorn is not installed"
    return ""


def _missing_tools(browse: Browse) -> str:
    from tests.integration.rig import executable

    tools = [browse.proxy, "nghttp", "openssl"]
    missing = [tool for tool in tools if executable(tool) is None]
    if browse.tracking == "flask-firehose" and importlib.util.find_spec("flask_firehose") is None:
        missing.append("flask-firehose")
    return ", ".join(missing)


@contextmanager
def _front(
    browse: Browse, workdir: Path, static: Path, certificate: Any
) -> Iterator[tuple[Any, list[Any]]]:
    """Start the browse's backends and proxy; yield them; stop them all."""
    from tests.integration.rig import H2O, SITE_APP, Gunicorn, Nginx, site_env

    settings = {
        "SECRET_KEY": SECRET_KEY,
        "SITE_ASSETS": ASSETS,
        "SITE_STATIC_DIR": static,
        "SITE_TRACKING": browse.tracking,
        **DIGEST_SETTINGS,
        **browse.settings,
    }
    env = {**site_env(**settings), **browse.env}
    with ExitStack() as stack:
        backends = [
            stack.enter_context(Gunicorn(SITE_APP, workdir / f"gunicorn-{i}", env))
            for i in range(browse.backends)
        ]
        front: Any
        if browse.proxy == "nginx":
            ports = [backend.port for backend in backends]
            front = Nginx(ports, static, certificate, workdir / "nginx")
        else:
            front = H2O(backends[0].port, static, certificate, workdir / "h2o", browse.casper)
        yield stack.enter_context(front), backends


def _expected_casper(paths: list[list[str]]) -> tuple[int, int, str]:
    """Pushes, misses and the final cookie h2o's CASPER should produce for these pages."""
    held = casper.CasperSet()
    pushes = misses = 0
    seen: set[str] = set()
    for page in paths:
        for path in page:
            if path in seen:
                continue
            seen.add(path)
            if held.add(path):
                misses += 1  # its key collided with one held: CASPER thinks it is cached
            else:
                pushes += 1
    return pushes, misses, held.cookie_value()


def _check(browse: Browse, figures: Any, browser: Any) -> str:
    """Assert what must hold for this scheme; return what was checked."""
    if browse.tracking == "digest":
        if figures.errors or figures.redundant:
            raise AssertionError(
                f"{browse.name}: {figures.errors} errors, {figures.redundant} redundant pushes"
            )
        if figures.pushes + figures.missed != figures.distinct:
            raise AssertionError(f"{browse.name}: pushes + missed != distinct")
        return "no error, no redundant push"
    if browse.casper:
        from examples.site import browse_indices, site_files

        assets = list(site_files(ASSETS))[3:]
        pages = [
            [f"/static/{assets[i]}" for i in browse_indices(page, ASSETS)] for page in range(PAGES)
        ]
        pushes, misses, cookie = _expected_casper(pages)
        real = browser.cookies.get(casper.COOKIE_NAME, "")
        if (figures.pushes, figures.missed, real) != (pushes, misses, cookie):
            raise AssertionError(
                f"CASPER: h2o pushed {figures.pushes}, missed {figures.missed}, cookie "
                f"{real[:20]}...; bench/casper.py predicts {pushes}, {misses}, {cookie[:20]}..."
            )
        return "pushes, misses and cookie as bench/casper.py predicts, byte for byte"
    if browse.tracking == "none":
        if figures.pushes != 10 * figures.views:
            raise AssertionError(f"{browse.name}: {figures.pushes} pushes")
        return "every declared resource pushed every time"
    return "reported as measured"


def measure(browses: tuple[Browse, ...] = BROWSES) -> list[Outcome]:
    """Run each browse that can run here; a missing tool skips it."""
    why = rig_available()
    if why:
        return [Outcome(browse, skipped=why) for browse in browses]
    from examples.site import write_assets
    from tests.integration.rig import Browser, make_certificate

    outcomes = []
    with tempfile.TemporaryDirectory(prefix="firehose-bench-e2e-") as tmp:
        root = Path(tmp)
        static = root / "static"
        write_assets(static, ASSETS)
        certificate = None
        for index, browse in enumerate(browses):
            missing = _missing_tools(browse)
            if missing:
                outcomes.append(Outcome(browse, skipped=f"not installed: {missing}"))
                continue
            if certificate is None:
                certificate = make_certificate(root / "cert")
            started = time.monotonic()
            workdir = root / f"browse-{index}"
            with _front(browse, workdir, static, certificate) as (front, backends):
                browser = Browser(front.origin, tracking_cookie=browse.cookie)
                figures = browser.browse(f"/browse/{page}" for page in range(PAGES))
                served = [backend.requests_served(PAGES // 4) for backend in backends]
            checked = _check(browse, figures, browser)
            if len(backends) > 1:
                if min(served) < PAGES // 4:
                    raise AssertionError(f"{browse.name}: requests per backend {served}")
                checked += f"; requests per backend {served}"
            outcomes.append(Outcome(browse, figures, "", checked, time.monotonic() - started))
    return outcomes


def write_results(outcomes: list[Outcome]) -> str:
    """Write ``e2e.md``; return the markdown."""
    headers = [
        "browse",
        "pushes",
        "redundant",
        "missed",
        "distinct",
        "bytes pushed",
        "max tracking cookie",
        "max Cookie header",
        "errors",
        "first error at view",
    ]
    rows = []
    notes = []
    for outcome in outcomes:
        f = outcome.figures
        if f is None:
            rows.append([outcome.browse.name, *["—"] * (len(headers) - 1)])
            notes.append(f"- {outcome.browse.name}: skipped ({outcome.skipped})\n")
            continue
        rows.append(
            [
                outcome.browse.name,
                f.pushes,
                f.redundant,
                f.missed,
                f.distinct,
                f.bytes_pushed,
                f.max_digest_cookie,
                f.max_cookie_header,
                f.errors,
                f.first_error_view or "",
            ]
        )
        statuses = ", ".join(f"{n} views {status}" for status, n in sorted(f.statuses.items()))
        notes.append(
            f"- {outcome.browse.name}: {statuses}; checked: {outcome.checked or 'nothing'} "
            f"({outcome.seconds:.0f} s)\n"
        )
    text = (
        GENERATED + "# End to end: real proxies, an HTTP/2 browser\n\n"
        f"`bench/e2e.py` via `tests/integration/rig.py`: {PAGES} page views (`/browse/0`..), 10 "
        f"preloads each over {ASSETS} fingerprinted resources, neighbours sharing 7; "
        "gunicorn behind nginx 1.22 (`http2_push_preload on`, default 4 KB proxy buffers) "
        "or h2o 2.2 (push of preload links, `nopush` honoured); `nghttp` as the browser, "
        "carrying cookies. firehose_digest: capacity 300, p = 1%. *redundant*: pushes of "
        "something the client held; *missed*: declared, not held, not pushed (a false "
        "positive, or a proxy that stopped answering). Cookies in characters.\n\n"
        + markdown_table(headers, rows)
        + "\n"
        + "".join(notes)
    )
    write("e2e.md", text)
    return text


def run(quick: bool = False) -> list[Outcome]:
    """Browse, check and write ``e2e.md`` (the same browses when ``quick``: they are the point)."""
    outcomes = measure()
    write_results(outcomes)
    return outcomes


def main() -> None:
    print(re.sub(r"<!--.*?-->\n", "", write_results(measure())))


if __name__ == "__main__":
    main()
