"""Which preload links each push proxy really pushes, case by case: the table in docs/proxies.md.

One backend (``matrix_app``) answers every case with its status and ``Link`` header; nginx
1.22 (``http2_push_preload on``), h2o 2.2 and Apache 2.4 (``mod_http2``, ``H2Push on``) each
front it, started once for this module. A case is one request by ``nghttp``, which reports
the PUSH_PROMISEs. ``PUSHED`` is both what the tests expect and what docs/proxies.md shows;
a test renders it and compares, so the page cannot drift from what was measured.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.integration import rig
from tests.integration.rig import H2O, REPO_ROOT, Apache, Browser, Gunicorn, Nginx, View
from tests.mod_http2 import pushed_by_apache

from .launcher import Launcher
from .matrix_app import CASES, Case
from .test_rig import APACHE_STDERR, APACHE_STDOUT

pytestmark = pytest.mark.integration

Front = Nginx | H2O | Apache

DOC = REPO_ROOT / "docs" / "proxies.md"
TABLE_START = "<!-- table: tests/integration/test_proxy_matrix.py -->"
TABLE_END = "<!-- end of table -->"

#: The proxies by ``Server.name``, with the versions measured (``nginx -v``,
#: ``h2o --version``, ``apache2 -v`` on Debian 12).
PROXIES = {
    "nginx": "nginx 1.22.1",
    "h2o": "h2o 2.2.5",
    "apache": "Apache 2.4.71",
}

#: What each proxy pushed of each case's links, as measured: "yes" or "no" for a single
#: link; for many, how many and whether they were the first in header order. Columns in
#: the order of ``PROXIES``; flattened into ``PUSHED`` below.
_MEASURED: dict[str, tuple[str, str, str]] = {
    #                  nginx               h2o                Apache
    "get-200":        ("yes",              "yes",             "yes"),
    "head-200":       ("no",               "yes",             "no"),
    "get-201":        ("yes",              "yes",             "yes"),
    "get-204":        ("yes",              "yes",             "yes"),
    "get-301":        ("yes",              "yes",             "yes"),
    "get-302":        ("yes",              "yes",             "yes"),
    "get-304":        ("yes",              "yes",             "no"),
    "get-404":        ("yes",              "yes",             "no"),
    "get-500":        ("yes",              "yes",             "no"),
    "absolute":       ("no",               "yes",             "yes"),
    "scheme-relative": ("no",              "yes",             "yes"),
    "relative":       ("no",               "yes",             "no; `rel/c.css` promised, refused"),
    "query":          ("yes",              "yes",             "yes"),
    "links-15":       ("first 10 of 15",   "all 15",          "all 15"),
    "links-120":      ("first 10 of 120",  "first 99 of 120", "all 120"),
    "links-120-long": ("answers 502; none of 120", "first 99 of 120", "all 120"),
    "links-150-long": ("answers 502; none of 150", "first 99 of 150", "all 150"),
    "links-152-long": ("answers 502; none of 152", "first 99 of 152", "answers 502; none of 152"),
    "nopush":         ("no",               "no",              "no"),
    "missing":        ("yes",              "yes",             "yes"),
    "missing-static": ("yes",              "no",              "yes"),
    "forwarded":      ("yes",              "no",              "yes"),
    "rel-capitalized": ("yes",             "yes",             "no"),
    "rel-spaced":     ("yes",              "no",              "yes"),
    "nopush-parameter": ("yes",            "no",              "no"),
    "quoted-comma":   ("first 1 of 2",     "first 1 of 2",    "all 2"),
    "quoted-semicolon": ("yes",            "yes",             "no"),
    "quoted-quote":   ("all 2",            "all 2",           "first 1 of 2"),
    "name-quote":     ("no",               "no",              "yes"),
    "percent-value":  ("all 2",            "all 2",           "first 1 of 2"),
    "ext-value":      ("all 2",            "all 2",           "first 1 of 2"),
    "fragment":       ("yes",              "yes",             "yes"),
}  # fmt: skip

#: Cells whose page the proxy loses at times. Apache promises a relative url as written,
#: a ``:path`` the client refuses and resets (RFC 9113 §8.3.1: it begins with "/"), and
#: answers that request 400 itself: when the reset comes in as it sends the 400, mod_http2
#: ends the connection with a GOAWAY ("The user callback function failed") and the page's
#: body never comes (docs/proxies.md).
LOST_AT_TIMES = {("apache", "relative")}
#: The GOAWAY's debug data when mod_http2 ends the connection over the 400 it could not
#: send: nghttp2's words for the error its frame-not-sent callback returns
#: (NGHTTP2_ERR_CALLBACK_FAILURE, which it also sends as the error code, 0xfffffc7a).
_CALLBACK_FAILED = "[The user callback function failed]"

#: (proxy, case name) -> what it pushed: the tests' expectation and docs/proxies.md's table.
PUSHED: dict[tuple[str, str], str] = {
    (proxy, name): cell
    for name, row in _MEASURED.items()
    for proxy, cell in zip(PROXIES, row, strict=True)
}


def target(page: str, url: str) -> str:
    """The path and query a link ``url`` on ``page`` points to, as a PUSH_PROMISE names it."""
    parts = urlsplit(urljoin(page, url))
    query = f"?{parts.query}" if parts.query else ""
    return parts.path + query + (f"#{parts.fragment}" if parts.fragment else "")


def verdict(
    case: Case, page: str, status: int, pushed: list[str], refused: Sequence[str] = ()
) -> str:
    """What a proxy did with a case's links, in the words of ``PUSHED``.

    Prefixed with the status the client got when it is not the backend's; followed by the
    paths of the promises the client refused.
    """
    if status != case.status:
        return f"answers {status}; " + verdict(case, page, case.status, pushed, refused)
    if refused:
        paths = ", ".join(f"`{path}`" for path in refused)
        return verdict(case, page, status, pushed) + f"; {paths} promised, refused"
    wanted = [target(page, url) for url in case.links]
    count = len(pushed)
    if len(wanted) == 1 and pushed in ([], wanted):
        return "yes" if pushed else "no"
    if pushed != wanted[:count]:
        return f"{count} of {len(wanted)}, not the first: {pushed}"
    if count == 0:
        return f"none of {len(wanted)}"
    return f"all {count}" if count == len(wanted) else f"first {count} of {len(wanted)}"


def render_table(pushed: dict[tuple[str, str], str]) -> str:
    """The markdown table of docs/proxies.md: a row per case, a column per proxy."""
    lines = [
        "| case | " + " | ".join(PROXIES.values()) + " |",
        "|---" * (len(PROXIES) + 1) + "|",
    ]
    for name, case in CASES.items():
        cells = [pushed.get((proxy, name), "?") for proxy in PROXIES]
        lines.append(f"| {case.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def launcher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, static_dir: Path
) -> Iterator[Launcher]:
    launcher = Launcher(request.config, tmp_path_factory.mktemp("matrix"), static_dir)
    with launcher.stack:
        yield launcher


@pytest.fixture(scope="module")
def backend(launcher: Launcher) -> Gunicorn:
    app = "tests.integration.matrix_app:app"
    return launcher.start(Gunicorn(app, launcher.workdir / "backend", threads=8))


@pytest.fixture(scope="module", params=list(PROXIES))
def front(request: pytest.FixtureRequest, launcher: Launcher, backend: Gunicorn) -> Front:
    if request.param == "nginx":
        return launcher.nginx([backend])
    if request.param == "h2o":
        return launcher.h2o(backend)
    return launcher.apache(backend)


@pytest.mark.parametrize("name", list(CASES))
def test_what_the_proxy_pushes(front: Front, name: str) -> None:
    case = CASES[name]
    path = f"/case/{name}?authority=127.0.0.1:{front.port}"

    view = Browser(front.origin).view(path, case.method, case.request_headers)

    pushed = verdict(case, front.origin + path, view.status, view.pushed, view.refused)
    assert pushed == PUSHED[front.name, name]
    assert view.complete or lost_as_documented(front.name, name, view), (
        f"{front.name} cut the {view.status} short:\n{view.ending()}"
    )


def lost_as_documented(proxy: str, name: str, view: View) -> bool:
    """Whether ``view`` is the loss ``LOST_AT_TIMES`` allows, and no other: on its cell,
    a page ended by mod_http2's GOAWAY after the client refused a promise."""
    return (
        (proxy, name) in LOST_AT_TIMES and bool(view.refused) and _CALLBACK_FAILED in view.goaway
    )


def test_the_loss_allowed_is_mod_http2_s_alone() -> None:
    """A page Apache lost over the promise of ``rel/c.css`` (captured, tests/integration/
    test_rig.py) is allowed on that cell alone, and a page cut by a GOAWAY of another
    kind is not."""
    lost = rig._parse_view("/case/relative", "", APACHE_STDOUT, APACHE_STDERR)
    assert lost is not None and not lost.complete
    other = APACHE_STDOUT.splitlines()
    other[-1] = "          (last_stream_id=13, error_code=PROTOCOL_ERROR(0x01), opaque_data(0)=[])"
    cut = rig._parse_view("/case/relative", "", "\n".join(other), APACHE_STDERR)
    assert cut is not None and not cut.complete

    assert lost_as_documented("apache", "relative", lost)
    assert not lost_as_documented("apache", "absolute", lost)
    assert not lost_as_documented("nginx", "relative", lost)
    assert not lost_as_documented("apache", "relative", cut)


def test_the_transliteration_of_mod_http2_reads_each_case_as_apache_did() -> None:
    """tests/mod_http2.py, which the unit tests hold what ``push()`` writes to, pushes of
    each ``Link`` written by hand what the real Apache pushed of it."""
    for name, case in CASES.items():
        if case.header is not None and case.status == 200 and case.method == "GET":
            page = f"/case/{name}"
            pushed = [target(page, url) for url in pushed_by_apache(case.header)]
            assert verdict(case, page, case.status, pushed) == PUSHED["apache", name], name


def test_the_table_has_a_row_per_case() -> None:
    assert list(_MEASURED) == list(CASES)


def test_docs_show_the_measured_table() -> None:
    """docs/proxies.md shows ``render_table(PUSHED)`` between its markers, byte for byte."""
    text = DOC.read_text()
    start = text.index(TABLE_START) + len(TABLE_START)
    shown = text[start : text.index(TABLE_END)].strip() + "\n"

    assert shown == render_table(PUSHED), "paste this table into docs/proxies.md"
