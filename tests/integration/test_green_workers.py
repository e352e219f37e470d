"""Many clients at once, each with a digest of its own, against gunicorn's worker models.

gevent (``-k gevent``: one thread, monkey-patched, requests interleaved as greenlets at every
``time.sleep``), gthread (``--threads 8``) and gevent with ``--preload`` (the extension's
locks made before the patching). With ``FIREHOSE_EARLY_HINTS`` on, every client first gets a
random subset of the shared stylesheets, then asks for the page linking all of them: its 103
must hint exactly the ones it does not hold, its ``Link`` mark exactly the ones it holds
``nopush``, and its cookie hold its own urls and no other client's. (gunicorn 27 has no
eventlet worker any more: ``-k eventlet`` is refused at start.)
"""

from __future__ import annotations

import functools
import importlib.util
import random
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from firehose_digest import AgingDigest
from firehose_digest.codec import DigestCodec, salt_for
from tests.integration.rig import Gunicorn, site_env

from .green_app import SHARED, own_urls
from .launcher import TEST_EXTRA, Launcher, require
from .test_concurrency import run_threads

pytestmark = pytest.mark.integration

SECRET = "green-workers"
CODEC = DigestCodec([SECRET], salt_for(""), 3600)
CLIENTS = 40
ROUNDS = 4
TIMEOUT = 20.0


class WorkerGunicorn(Gunicorn):
    """``green_app`` under gunicorn with the worker options given."""

    def __init__(self, options: list[str], workdir: Path) -> None:
        env = site_env(SECRET_KEY=SECRET, FIREHOSE_EARLY_HINTS=True)
        super().__init__("tests.integration.green_app:create_app()", workdir, env)
        self.options = options

    def argv(self) -> list[str]:
        argv = super().argv()
        # gevent's worker closes, unanswered and unlogged, a connection whose first request
        # has not arrived --keep-alive seconds (2) after accept: our 40 client threads, busy
        # decoding digests, are sometimes that slow to send (gthread waits).
        return [*argv[:-1], *self.options, "--keep-alive", "30", argv[-1]]


@dataclass(frozen=True)
class Head:
    status: int
    headers: list[tuple[str, str]]

    def links(self) -> list[tuple[str, bool]]:
        values = [value for name, value in self.headers if name.lower() == "link"]
        links = []
        for value in values:
            for link in value.split(", "):
                url, _, params = link.partition(">")
                links.append((url.removeprefix("<"), "nopush" in params.split("; ")))
        return links

    def cookie(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "set-cookie" and value.startswith("h2-digest="):
                return value.split(";", 1)[0].partition("=")[2]
        return None


def get(port: int, path: str, cookie: str | None) -> list[Head]:
    """Every response head, 103s included, of one HTTP/1.1 GET on its own connection."""
    # Asked for as a page (a 103 goes to a request that names HTML), as a browser does.
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAccept: text/html\r\n"
    )
    if cookie:
        request += f"Cookie: h2-digest={cookie}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        connection.sendall(f"{request}\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    heads = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        heads.append(Head(status, [tuple(line.split(": ", 1)) for line in lines]))  # type: ignore[misc]
        if status >= 200:
            break
    assert heads and heads[-1].status == 200, f"{path}: {heads}"
    return heads


def holds(cookie: str | None, url: str) -> bool:
    return cookie is not None and url in AgingDigest.from_bytes(CODEC.loads(cookie).payload)


@dataclass
class Client:
    number: int
    port: int
    hints: int = 0

    def run(self, start: threading.Barrier, problems: list[str]) -> None:
        rng = random.Random(self.number)
        start.wait(TIMEOUT)
        try:
            for _ in range(ROUNDS):
                self.visit(rng.randrange(1, 1 << len(SHARED)), problems)
        except Exception as e:  # reported by the test, with the client's number
            problems.append(f"client {self.number}: {type(e).__name__}: {e}")

    def visit(self, mask: int, problems: list[str]) -> None:
        where = f"client {self.number}, subset {mask}"
        held = [url for number, url in enumerate(SHARED) if mask >> number & 1]
        cookie = get(self.port, f"/subset/{mask}", None)[-1].cookie()
        if [url for url in SHARED if holds(cookie, url)] != held:
            problems.append(f"{where}: its first cookie is not its own")
        *hints, page = get(self.port, "/common", cookie)
        for hint in hints:
            self.hints += 1
            if [url for url, _ in hint.links()] != [u for u in SHARED if u not in held]:
                problems.append(f"{where}: 103 hinted {hint.links()}")
        if page.links() != [(url, url in held) for url in SHARED]:
            problems.append(f"{where}: /common linked {page.links()}")
        cookie = page.cookie() or cookie
        own = get(self.port, f"/own/{self.number}", cookie)[-1]
        if own.links() != [(url, False) for url in own_urls(self.number)]:
            problems.append(f"{where}: /own linked {own.links()}")
        mine = own.cookie()
        others = [
            url for other in range(CLIENTS) if other != self.number for url in own_urls(other)
        ]
        if not all(holds(mine, url) for url in [*SHARED, *own_urls(self.number)]):
            problems.append(f"{where}: its cookie lost what it was pushed")
        if any(holds(mine, url) for url in others):
            problems.append(f"{where}: its cookie holds another client's urls")


@pytest.mark.parametrize(
    "options",
    [
        ["--worker-class", "gevent", "--worker-connections", "200"],
        ["--worker-class", "gevent", "--preload"],
        ["--worker-class", "gthread", "--threads", "8"],
    ],
    ids=["gevent", "gevent-preload", "gthread-8"],
)
def test_each_client_is_hinted_linked_and_recorded_its_own(
    own_servers: Launcher, tmp_path: Path, options: list[str]
) -> None:
    if "gevent" in options:
        require(
            "gevent (the test extra)", importlib.util.find_spec("gevent") is not None, TEST_EXTRA
        )
    site = own_servers.start(WorkerGunicorn(options, tmp_path / "gunicorn"))
    clients = [Client(number, site.port) for number in range(CLIENTS)]
    problems: list[str] = []
    start = threading.Barrier(CLIENTS)

    run_threads([functools.partial(client.run, start, problems) for client in clients])

    print(f"\n{' '.join(options)}: {sum(c.hints for c in clients)} 103s", file=sys.stderr)
    assert problems == []
    assert sum(client.hints for client in clients) > 0  # the page was hinted to many
    assert site.requests_served(CLIENTS * ROUNDS * 3) == CLIENTS * ROUNDS * 3
    assert "Traceback" not in site.log()
