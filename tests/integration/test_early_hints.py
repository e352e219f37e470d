"""103 Early Hints from a real gunicorn, seen by curl: learned, replayed, filtered, bounded.

Each server runs ``hints_app:create_app()`` with one sync worker, so the per-process cache
is the one every request meets. Each test uses paths of its own. A client is a curl with a
cookie jar of its own: a fresh client holds nothing, a returning one sends its digest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.rig import NAVIGATION_ACCEPT, Server, site_env

from .hints_app import SLOW_SECONDS
from .launcher import LIVE_SERVERS, TEST_EXTRA, require, require_tools

pytestmark = pytest.mark.integration

#: The gunicorn of this interpreter's environment (``.venv/bin/gunicorn``).
GUNICORN = Path(sys.executable).with_name("gunicorn")
HERE = Path(__file__).resolve().parent

CSS = "</static/site.css>; rel=preload; as=style"
JS = "</static/app.js>; rel=preload; as=script"
FONT = '</static/inter.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin'


class HintsGunicorn(Server):
    """``.venv/bin/gunicorn`` serving ``hints_app`` on a free loopback port, one sync worker."""

    name = "gunicorn-hints"

    def __init__(self, workdir: Path, settings: dict[str, object]) -> None:
        super().__init__(workdir)
        self.settings = settings

    def argv(self) -> list[str]:
        return [
            str(GUNICORN),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1",
            "--chdir", str(HERE),
            "--access-logfile", "-",
            "--graceful-timeout", "3",
            # Else every gunicorn shares one socket under ~/.gunicorn.
            "--no-control-socket",
            "hints_app:create_app()",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, **site_env(**self.settings)}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass(frozen=True)
class Reply:
    """One response head curl received: a 103 or the final one, and when (curl's clock)."""

    status: int
    headers: list[tuple[str, str]]
    at: float

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


class Client:
    """A curl user agent with its own cookie jar; ``get`` returns every response head."""

    def __init__(self, jar: Path) -> None:
        self.jar = jar

    @staticmethod
    def accept(options: Sequence[str]) -> list[str]:
        """A browser navigation's ``Accept``, unless ``options`` name one: without Fetch
        Metadata, a request is hinted only if it asks for HTML (curl's is ``*/*``)."""
        named = any(option.lower().startswith("accept:") for option in options)
        return [] if named else ["-H", f"Accept: {NAVIGATION_ACCEPT}"]

    def get(self, url: str, *options: str) -> list[Reply]:
        # -v prints each head received ("< " lines, 1xx included); --trace-time stamps them.
        done = subprocess.run(
            ["curl", "-sv", "--trace-time", "--max-time", "10", "-o", "/dev/null",
             "-b", str(self.jar), "-c", str(self.jar), *self.accept(options), *options, url],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"curl {url} failed ({done.returncode}):\n{done.stderr}"
        return parse_heads(done.stderr)


def parse_heads(verbose: str) -> list[Reply]:
    """The response heads in ``curl -v --trace-time`` output, in the order received."""
    # curl prints no blank line after a 1xx head: a status line is what starts a head.
    replies: list[Reply] = []
    for line in verbose.splitlines():
        stamp, _, rest = line.partition(" ")
        if not rest.startswith("< "):
            continue
        text = rest[2:].strip()
        if text.startswith("HTTP/"):
            hours, minutes, seconds = stamp.split(":")
            at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            replies.append(Reply(int(text.split()[1]), [], at))
        elif text and replies:
            name, _, value = text.partition(":")
            replies[-1].headers.append((name, value.strip()))
    return replies


def statuses(replies: list[Reply]) -> list[int]:
    return [reply.status for reply in replies]


@pytest.fixture(scope="module")
def tools() -> None:
    require(f"gunicorn ({GUNICORN})", GUNICORN.exists(), TEST_EXTRA)
    require_tools("curl")


def _serve(
    request: pytest.FixtureRequest, tmp: pytest.TempPathFactory, **settings: object
) -> Iterator[HintsGunicorn]:
    server = HintsGunicorn(tmp.mktemp("gunicorn-hints"), settings)
    live = request.config.stash.setdefault(LIVE_SERVERS, [])
    with server:
        live.append(server)  # its log is attached to a failing test's report
        try:
            yield server
        finally:
            live.remove(server)


@pytest.fixture(scope="module")
def hinting(
    tools: None, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HintsGunicorn]:
    yield from _serve(request, tmp_path_factory, FIREHOSE_EARLY_HINTS=True)


@pytest.fixture(scope="module")
def not_hinting(
    tools: None, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HintsGunicorn]:
    yield from _serve(request, tmp_path_factory)


@pytest.fixture(scope="module")
def two_paths(
    tools: None, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HintsGunicorn]:
    """Early Hints on, with room for two learned paths."""
    yield from _serve(
        request, tmp_path_factory, FIREHOSE_EARLY_HINTS=True, FIREHOSE_EARLY_HINTS_CACHE=2
    )


def test_first_request_learns_and_sends_no_103(hinting: HintsGunicorn, tmp_path: Path) -> None:
    replies = Client(tmp_path / "first").get(hinting.url("/page/first"))

    assert statuses(replies) == [200]
    assert replies[0].header("Link") == [f"{CSS}, {JS}"]


def test_a_fresh_client_then_gets_one_103_with_exactly_the_pages_links(
    hinting: HintsGunicorn, tmp_path: Path
) -> None:
    Client(tmp_path / "learner").get(hinting.url("/page/replayed"))

    replies = Client(tmp_path / "fresh").get(hinting.url("/page/replayed"))

    assert statuses(replies) == [103, 200]
    assert replies[0].headers == [("Link", f"{CSS}, {JS}")]
    assert replies[1].header("Link") == [f"{CSS}, {JS}"]


def test_a_client_whose_digest_holds_them_gets_no_103(
    hinting: HintsGunicorn, tmp_path: Path
) -> None:
    client = Client(tmp_path / "returning")
    first = client.get(hinting.url("/page/held"))

    again = client.get(hinting.url("/page/held"))

    assert statuses(first) == [200]
    assert statuses(again) == [200]
    assert again[0].header("Link") == [f"{CSS}; nopush, {JS}; nopush"]


def test_cookie_fields_gunicorn_joins_with_commas_are_read(
    hinting: HintsGunicorn, tmp_path: Path
) -> None:
    """gunicorn joins repeated ``Cookie`` lines with "," (``http/wsgi.py``), as ASGI
    wrappers join an HTTP/2 browser's cookie fields: the digest is read all the same, for
    the 103 and the response alike."""
    first = Client(tmp_path / "learner").get(hinting.url("/page/joined"))
    [digest] = [v for v in first[-1].header("Set-Cookie") if v.startswith("h2-digest=")]
    crumb = digest.partition(";")[0]

    fields = ["-H", "Cookie: theme=dark", "-H", f"Cookie: {crumb}", "-H", "Cookie: b=2"]
    replies = Client(tmp_path / "split").get(hinting.url("/page/joined"), *fields)

    assert statuses(replies) == [200]  # all held: no 103
    assert replies[0].header("Link") == [f"{CSS}; nopush, {JS}; nopush"]


def test_a_client_holding_some_is_hinted_only_the_rest(
    hinting: HintsGunicorn, tmp_path: Path
) -> None:
    Client(tmp_path / "learner").get(hinting.url("/page/partly?r=css&r=js&r=font"))
    client = Client(tmp_path / "holds-the-css")
    client.get(hinting.url("/page/css-only?r=css"))

    replies = client.get(hinting.url("/page/partly?r=css&r=js&r=font"))

    assert statuses(replies) == [103, 200]
    assert replies[0].headers == [("Link", f"{JS}, {FONT}")]
    assert replies[1].header("Link") == [f"{CSS}; nopush, {JS}, {FONT}"]


def test_declared_links_are_hinted_from_the_first_request(
    hinting: HintsGunicorn, tmp_path: Path
) -> None:
    replies = Client(tmp_path / "first").get(hinting.url("/declared/first"))

    assert statuses(replies) == [103, 200]
    assert replies[0].headers == [("Link", FONT)]
    assert replies[1].header("Link") == [f"{FONT}, {CSS}"]
    # Then the path is learned: the next fresh client is hinted the whole page.
    later = Client(tmp_path / "later").get(hinting.url("/declared/first"))
    assert later[0].headers == [("Link", f"{FONT}, {CSS}")]


def test_an_http10_client_gets_no_103_and_the_page(hinting: HintsGunicorn, tmp_path: Path) -> None:
    Client(tmp_path / "learner").get(hinting.url("/page/old-client"))

    replies = Client(tmp_path / "http10").get(hinting.url("/page/old-client"), "--http1.0")

    assert statuses(replies) == [200]
    assert replies[0].header("Link") == [f"{CSS}, {JS}"]


def test_the_103_arrives_while_a_slow_view_works(hinting: HintsGunicorn, tmp_path: Path) -> None:
    Client(tmp_path / "learner").get(hinting.url("/slow/gap"))

    hint, page = Client(tmp_path / "fresh").get(hinting.url("/slow/gap"))

    assert (hint.status, page.status) == (103, 200)
    # The browser may fetch the hinted files for as long as the view works. (Stamps are
    # times of day: a run across midnight wraps.)
    assert (page.at - hint.at) % 86400 >= SLOW_SECONDS * 0.9


def test_with_the_setting_off_nothing_is_hinted(
    not_hinting: HintsGunicorn, tmp_path: Path
) -> None:
    for client in ("learner", "fresh", "another"):
        replies = Client(tmp_path / client).get(not_hinting.url("/page/off"))

        assert statuses(replies) == [200]
        assert replies[0].header("Link") == [f"{CSS}, {JS}"]
    declared = Client(tmp_path / "declared").get(not_hinting.url("/declared/off"))
    assert statuses(declared) == [200]
    assert declared[0].header("Link") == [f"{FONT}, {CSS}"]


def test_the_cache_keeps_only_the_most_recently_used_paths(
    two_paths: HintsGunicorn, tmp_path: Path
) -> None:
    learner = Client(tmp_path / "learner")
    for path in ("/page/1", "/page/2", "/page/3"):
        learner.get(two_paths.url(path))

    # Fresh clients each, so no digest hides a hint.
    assert statuses(Client(tmp_path / "a").get(two_paths.url("/page/3"))) == [103, 200]
    assert statuses(Client(tmp_path / "b").get(two_paths.url("/page/2"))) == [103, 200]
    # /page/1, the least recently used of three, was dropped: not hinted, learned afresh.
    assert statuses(Client(tmp_path / "c").get(two_paths.url("/page/1"))) == [200]
    assert statuses(Client(tmp_path / "d").get(two_paths.url("/page/1"))) == [103, 200]
