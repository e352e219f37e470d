"""Run the example site behind real HTTP/2 push proxies on loopback, and browse it.

- :class:`Gunicorn`, :class:`Nginx`, :class:`H2O` and :class:`Apache` are context managers
  that start one server as a child process on a free ``127.0.0.1`` port, wait until it
  answers and stop it by its pid (its process group) on exit, even on error; ``log()``
  returns what it wrote.
- :func:`make_certificate` makes a throwaway self-signed certificate with ``openssl``.
- :class:`Browser` drives ``nghttp`` one page view at a time, like a browser: it carries
  cookies, notes every PUSH_PROMISE and what it already holds, and sums a browse up in
  :class:`BrowseFigures`.

Used by ``tests/integration``, ``examples/demo.py`` and ``bench/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar

__all__ = [
    "H2O",
    "REPO_ROOT",
    "SITE_APP",
    "Apache",
    "BrowseFigures",
    "Browser",
    "Gunicorn",
    "Link",
    "Nginx",
    "ServerError",
    "View",
    "executable",
    "fill_template",
    "free_port",
    "home_env",
    "make_certificate",
    "parse_links",
    "site_env",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The example site as gunicorn loads it (from REPO_ROOT).
SITE_APP = "examples.site:create_app()"
#: Server configurations the docs show and the rig runs, with ``@NAME@`` placeholders.
DEPLOY_DIR = REPO_ROOT / "docs" / "deploy"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


#: Where Debian puts nginx, apache2, haproxy and varnishd: on root's PATH, not on a user's.
SBIN_DIRS = ("/usr/sbin", "/sbin")


def executable(name: str) -> str | None:
    """The command ``name``'s path: on PATH, else in :data:`SBIN_DIRS`; None if in neither."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN_DIRS])
    return shutil.which(name, path=path)


def home_env(home: Path) -> dict[str, str]:
    """This process's environment with ``HOME`` and the XDG base directories in ``home``
    (made): what a browser keeps beside its profile (crash reports, dconf's settings,
    caches) goes there, not into the user's home."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }


class ServerError(RuntimeError):
    """A server did not start, or a client could not talk to it; the message has its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def _shakes_hands(port: int) -> bool:
    """Whether a TLS handshake on ``port`` completes (the certificate is not checked)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as raw:
        raw.settimeout(2)
        with contextlib.suppress(OSError), context.wrap_socket(raw):
            return True
    return False


def _group_runs(group: int) -> bool:
    """Whether a process of the process group ``group`` still runs (a zombie left for init
    to reap does not); False where there is no ``/proc``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            # proc_pid_stat(5): after the command's closing parenthesis come the state,
            # the parent's pid and the process group.
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
            if int(pgrp) == group and state != "Z":
                return True
    return False


_ServerT = TypeVar("_ServerT", bound="Server")


class Server(ABC):
    """One server process: started in its own process group, stopped by that id.

    Subclasses set ``name`` and provide ``argv()``; they may write config files first.
    """

    name = "server"
    #: SIGTERM the leader alone, and give the helpers it leaves until ``STOP_TIMEOUT`` to
    #: exit on their own before the group's SIGKILL: for a helper that cleans up after
    #: itself once the leader is gone, and that a signal of its own would cut short.
    term_leader_alone = False

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port if port is not None else free_port()
        self.log_path = workdir / f"{self.name}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        #: Whether :meth:`stop` had to SIGKILL a process of the group it had asked to exit.
        self.killed = False

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line; a subclass may write its config files here."""

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        """Whether the server serves: by default, its port answers."""
        return _answers(self.port)

    def start(self) -> None:
        """Start the process and wait until it is :meth:`ready`; raise :class:`ServerError`."""
        if _answers(self.port):
            raise ServerError(f"{self.name}: port {self.port} is already taken")
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = self.argv()
        self._log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"{self.name} did not start on port {self.port}: {' '.join(argv)}\n"
                    + self.log()
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM the process group (its leader alone: ``term_leader_alone``), wait up to
        ``STOP_TIMEOUT``, then SIGKILL what is left."""
        process, self._process = self._process, None
        if process is not None:
            deadline = time.monotonic() + STOP_TIMEOUT
            with contextlib.suppress(ProcessLookupError):
                if self.term_leader_alone:
                    os.kill(process.pid, signal.SIGTERM)
                else:
                    os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
            while (
                self.term_leader_alone and _group_runs(process.pid) and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            # A leader that ignored SIGTERM, or helpers that outlived it, are still in the
            # group that bears its pid (a zombie counts for killpg, not for ``killed``).
            self.killed = _group_runs(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log(self) -> str:
        """Everything the server wrote so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self: _ServerT) -> _ServerT:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class Gunicorn(Server):
    """``gunicorn`` from this interpreter's environment, serving ``app_spec`` from the repo."""

    name = "gunicorn"

    def __init__(
        self,
        app_spec: str,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        workers: int = 1,
        threads: int = 1,
        port: int | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.app_spec = app_spec
        self.extra_env = dict(env or {})
        self.workers = workers
        self.threads = threads

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--graceful-timeout", "3",
            "--access-logfile", "-",
            # Else every gunicorn shares one socket under ~/.gunicorn.
            "--no-control-socket",
            self.app_spec,
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.extra_env}

    def requests_served(self, expected: int = 0, timeout: float = 5.0) -> int:
        """How many requests its access log shows, waiting up to ``timeout`` for ``expected``.

        gunicorn logs a request only after answering it, so a client can be faster.
        """
        deadline = time.monotonic() + timeout
        while True:
            served = sum(1 for line in self.log().splitlines() if '"GET ' in line)
            if served >= expected or time.monotonic() > deadline:
                return served
            time.sleep(0.05)


def site_env(**settings: object) -> dict[str, str]:
    """``FLASK_*`` variables for the example site, each written as JSON.

    Flask's ``from_prefixed_env`` reads a value as JSON when it can, so a bare string that
    looks like JSON (a key ``"1234"``) would change type; JSON-quoted strings never do.
    Paths become strings.
    """
    return {
        f"FLASK_{name}": json.dumps(str(value) if isinstance(value, Path) else value)
        for name, value in settings.items()
    }


def fill_template(template: Path, **values: object) -> str:
    """``template``'s text with each ``@NAME@`` replaced by ``values[NAME]``; all must be given."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    if left := sorted(set(re.findall(r"@([A-Z_]+)@", text))):
        raise ValueError(f"{template.name}: no value for {', '.join(left)}")
    return text


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1: ``(cert.pem, key.pem)``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServerError("openssl is not on PATH: cannot make a test certificate")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            # A leaf, not a CA: Apache warns about a CA certificate serving a site.
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Front(Server):
    """A server in front of the app, speaking HTTP/2 over TLS on its port."""

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"


class Nginx(Front):
    """nginx with ``http2_push_preload on`` in front of an upstream of gunicorn ports.

    ``/static/`` is served from disk; everything else is proxied round-robin. Proxy
    buffers stay at their defaults (4 KB for all the upstream's headers), as in production.
    """

    name = "nginx"
    template = DEPLOY_DIR / "nginx.conf"

    def __init__(
        self,
        backends: Sequence[int],
        static_dir: Path,
        certificate: tuple[Path, Path],
        workdir: Path,
        port: int | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.backends = list(backends)
        self.static_dir = static_dir
        self.certificate = certificate

    def config(self) -> str:
        """``docs/deploy/nginx.conf`` filled in: one process, every path it writes in workdir."""
        cert, key = self.certificate
        return fill_template(
            self.template,
            WORKDIR=self.workdir,
            PORT=self.port,
            UPSTREAM_SERVERS="\n".join(f"    server 127.0.0.1:{port};" for port in self.backends),
            STATIC_DIR=self.static_dir,
            CERT=cert,
            KEY=key,
        )

    @staticmethod
    def conf_dir() -> Path:
        """The folder of nginx's own files (``uwsgi_params``, ``mime.types``), as nginx finds
        it: that of the ``--conf-path`` it was built with (``/etc/nginx/nginx.conf`` on
        Debian), under its ``--prefix`` when relative; by default ``conf/nginx.conf`` under
        ``/usr/local/nginx``."""
        nginx = executable("nginx") or "nginx"
        built = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
        prefix = re.search(r"--prefix=(\S+)", built)
        conf_path = re.search(r"--conf-path=(\S+)", built)
        return (
            Path(prefix.group(1) if prefix else "/usr/local/nginx")
            / (conf_path.group(1) if conf_path else "conf/nginx.conf")
        ).parent

    def argv(self) -> list[str]:
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config())
        nginx = executable("nginx") or "nginx"
        # -e: log start-up errors here too, never to the system's /var/log/nginx.
        return [nginx, "-p", str(self.workdir), "-e", str(self.workdir / "error.log"),
                "-c", str(conf)]  # fmt: skip

    def log(self) -> str:
        error_log = self.workdir / "error.log"
        text = error_log.read_text(errors="replace") if error_log.exists() else ""
        return super().log() + text


class H2O(Front):
    """h2o (Debian 12's 2.2.5, or a build of its master: :meth:`version`; it pushes preload
    links by default, honours ``nopush``) in front of one port.

    Its configuration is ``docs/deploy/h2o.conf``, filled in.

    h2o pushes nothing for a request that carries ``X-Forwarded-For``; :class:`Browser`
    sends none.

    ``casper=True`` turns on ``http2-casper``: h2o then keeps its own ``h2o_casper``
    cookie of what it pushed, the baseline for an app that tracks nothing.

    h2o keeps its TLS keys in a helper process (neverbleed) that listens on a socket in a
    ``/tmp/openssl-privsep.*`` directory it makes (always under ``/tmp``: ``TMPDIR`` is
    not read), and removes once h2o has exited. h2o 2.2.5's helper dies of a SIGTERM of
    its own, the directory left behind: so h2o alone is sent one. It died too, of a
    SIGPIPE (signal 13, measured), when h2o was stopped before it had finished starting,
    so h2o is :meth:`ready` only once it serves TLS, not when its port first answers.
    """

    name = "h2o"
    template = DEPLOY_DIR / "h2o.conf"
    term_leader_alone = True

    @staticmethod
    def version() -> tuple[int, int]:
        """The installed h2o's major and minor version, from ``h2o --version`` (``h2o
        version 2.2.5``; a build of its master says ``2.3.0-DEV``)."""
        h2o = executable("h2o") or "h2o"
        said = subprocess.run([h2o, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"h2o version (\d+)\.(\d+)", said)
        if found is None:
            raise AssertionError(f"{h2o} --version said no version: {said!r}")
        return int(found.group(1)), int(found.group(2))

    def __init__(
        self,
        backend: int,
        static_dir: Path,
        certificate: tuple[Path, Path],
        workdir: Path,
        casper: bool = False,
        port: int | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.backend = backend
        self.static_dir = static_dir
        self.certificate = certificate
        self.casper = casper

    def ready(self) -> bool:
        """Whether h2o completes a TLS handshake. Its port answers as soon as h2o has read
        the ``listen`` block, before it has made its key process and loaded the key into
        it: a SIGTERM then, under load, left the key process's folder (9 runs of 100 here
        stopped the moment the folder appeared; 0 of 100 once a handshake had completed)."""
        return _shakes_hands(self.port)

    def config(self) -> str:
        """``docs/deploy/h2o.conf`` filled in; as root, ``user: root`` first (h2o's default
        user, nobody, cannot read workdir)."""
        cert, key = self.certificate
        user = "user: root\n" if os.geteuid() == 0 else ""
        return user + fill_template(
            self.template,
            PORT=self.port,
            CERT=cert,
            KEY=key,
            CASPER="ON" if self.casper else "OFF",
            STATIC_DIR=self.static_dir,
            BACKEND_PORT=self.backend,
        )

    def argv(self) -> list[str]:
        conf = self.workdir / "h2o.conf"
        conf.write_text(self.config())
        return [shutil.which("h2o") or "h2o", "-c", str(conf)]


class Apache(Front):
    """Apache 2.4 with ``mod_http2`` (``H2Push on``) and ``mod_proxy_http`` in front of one port.

    Its configuration is ``docs/deploy/apache.conf``, filled in, plus
    ``docs/deploy/apache-static.conf`` when ``static_dir`` is given. It forwards a backend's
    103 Early Hints (``H2EarlyHints on``). It runs in the foreground
    (``-DFOREGROUND``): a parent and one child in the process group we started. As root the
    child serves as ``www-data``; the parent has read the certificate and opened the logs.
    """

    name = "apache"
    template = DEPLOY_DIR / "apache.conf"
    #: Included when ``static_dir`` is given: Apache serves it at ``/static/``.
    static_template = DEPLOY_DIR / "apache-static.conf"

    def __init__(
        self,
        backend: int,
        certificate: tuple[Path, Path],
        workdir: Path,
        port: int | None = None,
        static_dir: Path | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.backend = backend
        self.certificate = certificate
        self.static_dir = static_dir

    @staticmethod
    def executable() -> str | None:
        """Debian's ``apache2``, in ``/usr/sbin`` (on root's PATH, not always on a user's)."""
        return executable("apache2")

    def config(self) -> str:
        cert, key = self.certificate
        return fill_template(
            self.template,
            WORKDIR=self.workdir,
            PORT=self.port,
            BACKEND_PORT=self.backend,
            CERT=cert,
            KEY=key,
        )

    def argv(self) -> list[str]:
        conf = self.workdir / "apache.conf"
        conf.write_text(self.config())
        if self.static_dir is not None:
            site = self.workdir / "site"
            site.mkdir(exist_ok=True)
            (site / "static.conf").write_text(
                fill_template(self.static_template, STATIC_DIR=self.static_dir)
            )
        return [self.executable() or "apache2", "-f", str(conf), "-DFOREGROUND"]

    def access_log(self) -> list[str]:
        """One line per request answered: began and ended (µs since the epoch), method, path
        and query, status."""
        access_log = self.workdir / "access.log"
        return access_log.read_text().splitlines() if access_log.exists() else []

    def log(self) -> str:
        error_log = self.workdir / "error.log"
        text = error_log.read_text(errors="replace") if error_log.exists() else ""
        return super().log() + text


@dataclass(frozen=True)
class Link:
    """One link-value of a ``Link`` header: its text, its url, whether it says ``nopush``."""

    text: str
    url: str
    nopush: bool


_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")


def parse_links(header: str) -> list[Link]:
    """The link-values of a ``Link`` header, enough for a test client.

    Assumes no ``<`` inside a quoted parameter value, which this site never writes.
    """
    links = []
    for match in _LINK_VALUE.finditer(header):
        text = match.group(0).strip(" ,")
        params = [part.strip().lower() for part in match.group(2).strip(" ,").split(";")]
        links.append(Link(text, match.group(1), "nopush" in params))
    return links


@dataclass
class View:
    """What one page view received."""

    path: str
    status: int
    #: Whether the response ended (END_STREAM): not when the stream was reset after the
    #: head (nginx's answer to a backend head of exactly 4,096 bytes), nor when its body
    #: fell short of its Content-Length (nghttp2 then resets the stream itself). A browser
    #: shows no page for such a response, whatever its status.
    complete: bool
    links: list[Link]
    #: Paths of the PUSH_PROMISEs, in the order they came.
    pushed: list[str]
    pushed_bytes: int
    #: Cookies the response set (name -> value; an empty value deletes it).
    set_cookies: dict[str, str]
    #: The Cookie header the request carried ("" for none).
    cookie_sent: str
    #: The links of the informational responses (103 Early Hints) before the final one.
    hints: list[Link] = field(default_factory=list)
    #: Each pushed response's header fields (lower-case names), by its promised path.
    pushed_headers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: The links of the 103s a front sent on each push stream, by its promised path.
    pushed_hints: dict[str, list[Link]] = field(default_factory=dict)
    #: Each frame of the page's stream and of the connection (stream 0), and each
    #: RST_STREAM, sent or received, with nghttp's lines under it (and, under a frame
    #: nghttp refused, its fields).
    frames: list[str] = field(default_factory=list)
    #: What nghttp wrote to stderr.
    stderr: str = ""
    #: The ``:path`` of each PUSH_PROMISE nghttp refused (and reset), not in ``pushed``:
    #: Apache promises a relative url as it is written, and no ``:path`` but "*" may
    #: lack the leading "/" (RFC 9113 §8.3.1).
    refused: list[str] = field(default_factory=list)
    #: The fields of the GOAWAY the server sent, as nghttp printed them (its last stream,
    #: error code and debug data); empty when none came.
    goaway: str = ""

    def ending(self) -> str:
        """How the page's stream ended as nghttp saw it, for a failure message: a server's
        RST_STREAM or GOAWAY, or nghttp's own timeout (on stderr), and what came before."""
        stderr = self.stderr.strip() or "(nothing)"
        return f"nghttp's stderr: {stderr}\n" + "\n".join(self.frames)

    @property
    def declared(self) -> list[str]:
        return [link.url for link in self.links]

    @property
    def nopush(self) -> list[str]:
        return [link.url for link in self.links if link.nopush]


@dataclass
class BrowseFigures:
    """A browse summed up: what was pushed, pushed again, not pushed, and what it cost."""

    views: int = 0
    pushes: int = 0
    #: Pushes of a path the client already held (pushed or fetched before).
    redundant: int = 0
    #: Declared resources the client did not hold and that were not pushed.
    missed: int = 0
    #: Distinct resources declared over the whole browse.
    distinct: int = 0
    bytes_pushed: int = 0
    #: The largest Cookie header sent, in characters.
    max_cookie_header: int = 0
    #: The largest value of the tracking cookie (``h2-digest`` by default), in characters.
    max_digest_cookie: int = 0
    #: Answers other than a complete 200, and the 1-based number of the first view that got one.
    errors: int = 0
    first_error_view: int | None = None
    statuses: dict[int, int] = field(default_factory=dict)


_FRAME = re.compile(
    r"^\[\s*[\d.]+\] recv (\w+) frame <length=(\d+), flags=(\w+), stream_id=(\d+)>"
)
#: Any frame line, sent or received; nghttp2 marks one it refused "[INVALID; error=...]"
#: (and resets the stream, or ends the connection).
_ANY_FRAME = re.compile(
    r"^\[\s*[\d.]+\] (\[INVALID[^\]]*\] )?(?:send|recv) (\w+) frame <[^>]*stream_id=(\d+)>"
)
#: What nghttp writes to stderr when nothing came or went for its ``-t``: an idle timeout,
#: restarted by every read and write. It then drops the connection and still exits 0
#: (nghttp2 1.52, src/nghttp.cc: ``timeoutcb``).
_TIMED_OUT = "[ERROR] Timeout"
#: nghttp's ``-t``: how long it waits for a byte before giving up.
NGHTTP_TIMEOUT = "10s"
#: The flag of a HEADERS or DATA frame that ends its stream (RFC 9113 §6.1, §6.2).
_END_STREAM = 0x1
_HEADER = re.compile(r"^\[\s*[\d.]+\] recv \(stream_id=\d+\) (:?[^:]+): (.*)$")
_PROMISED = re.compile(r"promised_stream_id=(\d+)")


#: Chromium 156's ``Accept`` on a navigation. Without Fetch Metadata a request is hinted
#: (103) only if it names HTML, as a browser's navigation does: nghttp's own is ``*/*``.
NAVIGATION_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8"
)


def learn_page(url: str, cafile: Path) -> None:
    """One GET of ``url`` with no ``Sec-Fetch-*`` and an ``Accept`` naming HTML, as a
    navigation of a browser before Fetch Metadata: the page's links are learned for 103s."""
    context = ssl.create_default_context(cafile=str(cafile))
    request = urllib.request.Request(url, headers={"Accept": NAVIGATION_ACCEPT})
    with urllib.request.urlopen(request, context=context) as response:
        assert response.status == 200
        response.read()


class Browser:
    """A browser made of ``nghttp``: one page view per call, cookies carried between views.

    It holds what it was pushed and, after each view, every resource the page declared
    (pushed or not, a browser fetches or preloads it), so it can tell redundant pushes
    from missed ones. Pushed requests are made by the proxy and carry no cookie.
    """

    def __init__(self, origin: str, tracking_cookie: str = "h2-digest") -> None:
        nghttp = shutil.which("nghttp")
        if nghttp is None:
            raise ServerError("nghttp is not on PATH (Debian: nghttp2-client)")
        self.nghttp = nghttp
        self.origin = origin
        self.tracking_cookie = tracking_cookie
        self.cookies: dict[str, str] = {}
        self.held: set[str] = set()

    def view(
        self, path: str, method: str = "GET", headers: Iterable[tuple[str, str]] = ()
    ) -> View:
        """Ask for ``path`` over HTTP/2 with the cookies held; accept pushes; store cookies.

        ``headers`` are added to the request (lower-case names, as HTTP/2 wants them);
        without an ``accept`` of theirs, it asks for a page as a browser navigating does.
        """
        crumbs = [f"{name}={value}" for name, value in self.cookies.items()]
        # One cookie header per cookie, as browsers send them over HTTP/2 (RFC 9113
        # §8.2.3); h2o's CASPER only finds its cookie at the start of a header.
        argv = [self.nghttp, "-nv", "-y", "-t", NGHTTP_TIMEOUT]
        if method != "GET":
            argv += ["-H", f":method: {method}"]
        for crumb in crumbs:
            argv += ["-H", f"cookie: {crumb}"]
        headers = list(headers)
        if all(name.lower() != "accept" for name, _ in headers):
            headers.append(("accept", NAVIGATION_ACCEPT))
        for name, value in headers:
            argv += ["-H", f"{name}: {value}"]
        done = subprocess.run(
            [*argv, self.origin + path],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
        )
        # What an HTTP/1.1 backend receives: the crumbs joined by "; ".
        view = _parse_view(path, "; ".join(crumbs), done.stdout, done.stderr)
        if _TIMED_OUT in done.stderr and (view is None or not view.complete):
            # Not the server's answer: nghttp stopped waiting for it.
            seen = view.ending() if view else done.stdout + done.stderr
            raise ServerError(
                f"nghttp heard nothing for {NGHTTP_TIMEOUT} before the end of {path} and "
                f"gave up:\n{seen}"
            )
        if view is None or done.returncode != 0:
            raise ServerError(
                f"nghttp got no response for {path} (exit status {done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        for name, value in view.set_cookies.items():
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return view

    def browse(self, paths: Iterable[str]) -> BrowseFigures:
        """View each path in turn and count pushes, redundant and missed ones, cookie sizes."""
        figures = BrowseFigures()
        declared: set[str] = set()
        for number, path in enumerate(paths, start=1):
            view = self.view(path)
            figures.views += 1
            figures.statuses[view.status] = figures.statuses.get(view.status, 0) + 1
            if view.status != 200 or not view.complete:
                figures.errors += 1
                if figures.first_error_view is None:
                    figures.first_error_view = number
            figures.max_cookie_header = max(figures.max_cookie_header, len(view.cookie_sent))
            tracked = self.cookies.get(self.tracking_cookie, "")
            figures.max_digest_cookie = max(figures.max_digest_cookie, len(tracked))
            figures.pushes += len(view.pushed)
            figures.bytes_pushed += view.pushed_bytes
            for pushed in view.pushed:
                figures.redundant += pushed in self.held
                self.held.add(pushed)
            figures.missed += len(set(view.declared) - self.held)
            declared.update(view.declared)
            self.held.update(view.declared)
        figures.distinct = len(declared)
        return figures


def _parse_view(path: str, cookie_sent: str, verbose: str, stderr: str = "") -> View | None:
    """Read ``nghttp -v`` output: the response headers, the promises, the DATA per stream."""
    # Each frame's stream, type and lines.
    frames: list[tuple[int, str, list[str]]] = []
    refused: list[str] = []
    block: list[tuple[str, str]] = []
    promise_pending = False
    promised: dict[int, str] = {}
    responses: dict[int, list[tuple[str, str]]] = {}
    # The Link values of each stream's 1xx heads (103 Early Hints).
    hint_links: dict[int, list[str]] = {}
    data: dict[int, int] = {}
    ended: set[int] = set()
    for line in verbose.splitlines():
        if any_frame := _ANY_FRAME.match(line):
            frames.append((int(any_frame.group(3)), any_frame.group(2), [line]))
            if any_frame.group(1):
                # Its fields, printed before it, go with it, not with the next frame's (a
                # PUSH_PROMISE of a relative :path, which Apache sends).
                frames[-1][2].extend(f"          {name}: {value}" for name, value in block)
                if any_frame.group(2) == "PUSH_PROMISE":
                    refused.append(dict(block).get(":path", ""))
                block = []
                continue
        elif frames and line.startswith(" "):
            frames[-1][2].append(line)
        if header := _HEADER.match(line):
            block.append((header.group(1).lower(), header.group(2)))
        elif frame := _FRAME.match(line):
            kind, length, stream = frame.group(1), int(frame.group(2)), int(frame.group(4))
            if kind in ("HEADERS", "DATA") and int(frame.group(3), 16) & _END_STREAM:
                ended.add(stream)
            if kind == "PUSH_PROMISE":
                promise_pending = True
                continue
            if kind == "HEADERS":
                if dict(block).get(":status", "").startswith("1"):
                    links = [value for name, value in block if name == "link"]
                    hint_links.setdefault(stream, []).extend(links)
                else:
                    responses.setdefault(stream, []).extend(block)
                block = []
            elif kind == "DATA":
                data[stream] = data.get(stream, 0) + length
        elif promise_pending and (promise := _PROMISED.search(line)):
            promised[int(promise.group(1))] = dict(block).get(":path", "")
            block = []
            promise_pending = False
    main = next((stream for stream in sorted(responses) if stream % 2), None)
    if main is None:
        return None
    headers = responses[main]
    status = int(dict(headers).get(":status", "0"))
    link_header = ", ".join(value for name, value in headers if name == "link")
    set_cookies = dict(_parse_set_cookie(value) for name, value in headers if name == "set-cookie")
    return View(
        path=path,
        status=status,
        complete=main in ended,
        links=parse_links(link_header),
        pushed=list(promised.values()),
        pushed_bytes=sum(data.get(stream, 0) for stream in promised),
        set_cookies=set_cookies,
        cookie_sent=cookie_sent,
        hints=parse_links(", ".join(hint_links.get(main, []))),
        pushed_headers={path: responses.get(stream, []) for stream, path in promised.items()},
        pushed_hints={
            path: parse_links(", ".join(hint_links[stream]))
            for stream, path in promised.items()
            if stream in hint_links
        },
        frames=[
            "\n".join(lines)
            for stream, kind, lines in frames
            if stream in (main, 0) or kind == "RST_STREAM"
        ],
        stderr=stderr,
        refused=refused,
        goaway=next(
            (
                " ".join(line.strip() for line in lines[1:])
                for _, kind, lines in frames
                if kind == "GOAWAY" and " recv " in lines[0]
            ),
            "",
        ),
    )


def _parse_set_cookie(header: str) -> tuple[str, str]:
    """``(name, value)`` of a Set-Cookie header; an expired cookie's value is ``""``."""
    pair, *attributes = header.split(";")
    name, _, value = pair.strip().partition("=")
    for attribute in attributes:
        key, _, setting = attribute.strip().partition("=")
        if key.lower() == "max-age" and setting.strip() == "0":
            return name, ""
        if key.lower() == "expires" and "1970" in setting:
            return name, ""
    return name, value.strip()
