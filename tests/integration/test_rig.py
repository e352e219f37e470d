"""What the rig's :class:`~tests.integration.rig.Browser` makes of what ``nghttp`` received.

A browse's figures stand for what a browser got: a page whose head came but whose body
did not is no page to a browser, so the rig counts it failed, whatever its status. And a
server the rig stopped leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

import pytest

from tests.integration import rig
from tests.integration.rig import (
    H2O,
    STOP_TIMEOUT,
    Browser,
    Gunicorn,
    Nginx,
    ServerError,
    make_certificate,
)

from .launcher import Launcher

pytestmark = pytest.mark.integration

#: ``uwsgi_app``'s ``/headers/<size>``: header lines of ``size`` bytes. gunicorn adds 93 to
#: them (its status line, ``Server``, ``Date``, ``Connection`` and the blank line).
WHOLE, CUT = "/headers/4002", "/headers/4003"


def test_a_page_cut_after_its_head_is_a_failed_view(own_servers: Launcher) -> None:
    """nginx 1.22 reads a backend's head into ``proxy_buffer_size`` (4 KB): of a head of
    exactly 4,096 bytes it sends the status and headers, then RST_STREAM (docs/deployment.md);
    one byte fewer comes whole."""
    env = {"UWSGI_APP_STATIC": str(own_servers.static_dir)}
    app = "tests.integration.uwsgi_app:app"
    backend = own_servers.start(Gunicorn(app, own_servers.workdir / "backend", env))
    front = own_servers.nginx([backend])
    browser = Browser(front.origin)

    figures = browser.browse([WHOLE, CUT, WHOLE])

    assert (figures.errors, figures.first_error_view) == (1, 2)
    assert "upstream prematurely closed connection" in front.log()
    cut = browser.view(CUT)
    assert (cut.status, cut.complete) == (200, False)
    assert "recv RST_STREAM frame <length=4, flags=0x00, stream_id=13>" in cut.ending()
    assert browser.view(WHOLE).complete


def test_a_server_gone_quiet_is_told_from_a_page_cut_short(
    own_servers: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nghttp gives up on a connection that stays quiet for its ``-t``, with "[ERROR]
    Timeout" on stderr and exit status 0: the page then has no end, as one a server cut,
    and the rig says which it was. Apache sends the head as it comes (nginx held it)."""
    env = {"UWSGI_APP_STATIC": str(own_servers.static_dir)}
    app = "tests.integration.uwsgi_app:app"
    backend = own_servers.start(Gunicorn(app, own_servers.workdir / "backend", env))
    front = own_servers.apache(backend)
    monkeypatch.setattr(rig, "NGHTTP_TIMEOUT", "1s")

    quiet = r"(?s)heard nothing for 1s.*\[ERROR\] Timeout"
    with pytest.raises(ServerError, match=quiet) as raised:
        Browser(front.origin).view("/stall/3")

    assert "recv HEADERS frame" in str(raised.value)


#: What ``nghttp -nv`` printed (its stdout, from the server's SETTINGS ACK on, then its
#: stderr) of ``/case/relative`` behind Apache 2.4.71 on a loaded machine: Apache promised
#: ``rel/c.css`` as it stands in the ``Link`` header, nghttp2 refused that promise (a
#: ``:path`` must begin with "/") and reset it, and Apache answered the reset with a
#: GOAWAY before the page's body (test_proxy_matrix.py, once in some hundreds of runs).
APACHE_STDOUT = "\n".join(
    [
        "[  0.325] recv SETTINGS frame <length=0, flags=0x01, stream_id=0>",
        "          ; ACK",
        "          (niv=0)",
        "[  0.325] recv (stream_id=13) :scheme: https",
        "[  0.325] recv (stream_id=13) :authority: 127.0.0.1:54871",
        "[  0.325] recv (stream_id=13) :path: rel/c.css",
        "[  0.326] recv (stream_id=13) :method: GET",
        "[  0.326] recv (stream_id=13) host: 127.0.0.1:54871",
        "[  0.326] [INVALID; error=Violation in HTTP messaging rule] recv PUSH_PROMISE frame"
        " <length=128, flags=0x04, stream_id=13>",
        "          ; END_HEADERS",
        "          (padlen=0, promised_stream_id=2)",
        "[  0.326] recv (stream_id=13) :status: 200",
        "[  0.326] recv (stream_id=13) link: <rel/c.css>; rel=preload; as=style",
        "[  0.326] recv (stream_id=13) content-length: 5",
        "[  0.326] recv HEADERS frame <length=103, flags=0x04, stream_id=13>",
        "          ; END_HEADERS",
        "          (padlen=0)",
        "          ; First response header",
        "[  0.326] send RST_STREAM frame <length=4, flags=0x00, stream_id=2>",
        "          (error_code=PROTOCOL_ERROR(0x01))",
        "[  0.326] recv GOAWAY frame <length=41, flags=0x00, stream_id=0>",
        "          (last_stream_id=13, error_code=unknown(0xfffffc7a),"
        " opaque_data(33)=[The user callback function failed])",
    ]
)
APACHE_STDERR = "Some requests were not processed. total=2, processed=0\n"


def test_a_page_cut_short_says_what_ended_it() -> None:
    """The frames that ended the page are kept for the failure message: a promise nghttp2
    refused, with its fields, the reset it sent, the server's GOAWAY; the promise is
    counted refused, not pushed."""
    view = rig._parse_view("/case/relative", "", APACHE_STDOUT, APACHE_STDERR)

    assert view is not None
    assert (view.status, view.complete, view.pushed) == (200, False, [])
    assert view.refused == ["rel/c.css"]
    assert view.goaway == (
        "(last_stream_id=13, error_code=unknown(0xfffffc7a),"
        " opaque_data(33)=[The user callback function failed])"
    )
    ending = view.ending().splitlines()
    assert ending[0] == f"nghttp's stderr: {APACHE_STDERR.strip()}"
    assert "          :path: rel/c.css" in ending
    assert ending[-4:] == APACHE_STDOUT.splitlines()[-4:]


#: What ``nghttp -nv`` printed (its stdout, from the server's SETTINGS ACK on) of
#: ``/case/relative`` behind Apache 2.4.71 as it goes nearly every time: the page whole,
#: and nghttp's own GOAWAY (NO_ERROR) once it is done, as after every view.
APACHE_WHOLE_STDOUT = "\n".join(
    [
        "[  0.034] recv SETTINGS frame <length=0, flags=0x01, stream_id=0>",
        "          ; ACK",
        "          (niv=0)",
        "[  0.034] recv (stream_id=13) :scheme: https",
        "[  0.034] recv (stream_id=13) :authority: 127.0.0.1:58223",
        "[  0.034] recv (stream_id=13) :path: rel/c.css",
        "[  0.034] recv (stream_id=13) :method: GET",
        "[  0.034] recv (stream_id=13) host: 127.0.0.1:58223",
        "[  0.034] [INVALID; error=Violation in HTTP messaging rule] recv PUSH_PROMISE frame"
        " <length=59, flags=0x04, stream_id=13>",
        "          ; END_HEADERS",
        "          (padlen=0, promised_stream_id=2)",
        "[  0.034] recv (stream_id=13) :status: 200",
        "[  0.034] recv (stream_id=13) link: <rel/c.css>; rel=preload; as=style",
        "[  0.034] recv (stream_id=13) content-length: 5",
        "[  0.034] recv HEADERS frame <length=103, flags=0x04, stream_id=13>",
        "          ; END_HEADERS",
        "          (padlen=0)",
        "          ; First response header",
        "[  0.034] recv DATA frame <length=5, flags=0x01, stream_id=13>",
        "          ; END_STREAM",
        "[  0.034] send RST_STREAM frame <length=4, flags=0x00, stream_id=2>",
        "          (error_code=PROTOCOL_ERROR(0x01))",
        "[  0.034] send GOAWAY frame <length=8, flags=0x00, stream_id=0>",
        "          (last_stream_id=2, error_code=NO_ERROR(0x00), opaque_data(0)=[])",
    ]
)


def test_the_goaway_nghttp_sends_itself_is_not_the_server_s() -> None:
    """nghttp ends every connection with a GOAWAY of its own: only one it received says
    the server ended the connection (the proxy matrix allows a loss on that alone)."""
    view = rig._parse_view("/case/relative", "", APACHE_WHOLE_STDOUT, APACHE_STDERR)

    assert view is not None
    assert (view.complete, view.refused, view.goaway) == (True, ["rel/c.css"], "")
    assert "send GOAWAY frame" in view.ending()


def test_an_nghttp_that_failed_is_no_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever it printed before, an nghttp that exits other than 0 (or dies of a signal)
    did not finish its work: the rig says so, with what it printed, rather than read it.
    An nghttp that prints a whole page and fails stands in for one."""
    page = [
        "[  0.010] recv (stream_id=13) :status: 200",
        "[  0.010] recv HEADERS frame <length=10, flags=0x04, stream_id=13>",
        "[  0.011] recv DATA frame <length=5, flags=0x01, stream_id=13>",
    ]
    (tmp_path / "nghttp").write_text("#!/bin/sh\necho '" + "\n".join(page) + "'\nexit 1\n")
    (tmp_path / "nghttp").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ServerError, match=r"exit status 1\):\n\[  0.010\] recv"):
        Browser("https://127.0.0.1:9").view("/")


def _unix_socket_folders(group: int) -> set[Path]:
    """The folders of the unix sockets that the processes of ``group`` hold (proc(5))."""
    inodes: set[str] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[2]) != group:
                continue
            links = [fd.readlink().name for fd in (stat.parent / "fd").iterdir()]
        except PermissionError:
            # h2o's key process (neverbleed) makes itself not dumpable, so its /proc/PID/fd
            # is root's, even to the user it runs as: not root, this test failed every run.
            pytest.skip(
                "as root only: h2o's key process is not dumpable, so its own user cannot "
                "list its open files (proc(5), PR_SET_DUMPABLE)"
            )
        except OSError:
            continue  # gone meanwhile
        inodes.update(link[8:-1] for link in links if link.startswith("socket:["))
    # /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path]
    rows = [line.split() for line in Path("/proc/net/unix").read_text().splitlines()[1:]]
    return {Path(row[7]).parent for row in rows if len(row) > 7 and row[6] in inodes}


def test_h2o_stopped_leaves_no_folder_of_its_key_process(own_servers: Launcher) -> None:
    """h2o keeps its TLS key in a process of its own (neverbleed) that listens in a
    ``/tmp/openssl-privsep.*`` folder: one per h2o run, 400 of them left in ``/tmp`` after
    a few runs of the suite, until the rig let h2o stop that process itself."""
    front = own_servers.h2o(own_servers.site())
    assert front._process is not None
    # Ready, h2o has served TLS: its key process is there, listening in its folder.
    folders = _unix_socket_folders(front._process.pid)
    assert [folder.name.startswith("openssl-privsep.") for folder in folders] == [True]

    front.stop()

    # Its helper removes the folder once h2o has exited; a SIGKILL at stop's deadline
    # leaves it, and so did a SIGTERM while h2o was still loading its key (H2O.ready).
    assert not front.killed, f"h2o's group outlived {STOP_TIMEOUT} s after its SIGTERM"
    assert not [folder for folder in folders if folder.exists()]


def test_h2o_is_ready_when_it_serves_tls_not_when_its_port_first_answers(
    tmp_path: Path,
) -> None:
    """h2o's port answers before h2o has loaded its key: stopped then, it left its key
    process's folder (rig.H2O.ready). A port that answers but speaks no TLS is not ready;
    one that completes a handshake is."""
    cert, key = make_certificate(tmp_path / "cert")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)  # a ready() that never connects fails, not hangs
        front = H2O(0, tmp_path, (cert, key), tmp_path, port=listener.getsockname()[1])

        def serve(tls: bool) -> None:
            connection, _ = listener.accept()
            with contextlib.suppress(OSError):
                if tls:
                    connection = context.wrap_socket(connection, server_side=True)
                connection.recv(1)  # until the client is done
            connection.close()

        for tls in (False, True):
            server = threading.Thread(target=serve, args=(tls,))
            server.start()
            assert front.ready() is tls
            server.join()


@pytest.mark.parametrize(
    ("configured", "conf_dir"),
    [
        ("--prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf", "/etc/nginx"),  # Debian
        ("--prefix=/opt/nginx", "/opt/nginx/conf"),
        ("--prefix=/opt/nginx --conf-path=etc/main.conf", "/opt/nginx/etc"),
        ("--with-http_v2_module", "/usr/local/nginx/conf"),  # nginx's own defaults
    ],
)
def test_nginx_s_own_files_are_looked_for_where_it_was_built_to_read_them(
    configured: str, conf_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``uwsgi_params`` is included from the folder of the nginx on PATH, from what
    ``nginx -V`` says it was built with: not from ``/etc/nginx``, Debian's, whatever nginx
    runs. An nginx that prints its build on stderr, as nginx does, stands in for one built
    elsewhere."""
    (tmp_path / "nginx").write_text(
        f"#!/bin/sh\necho 'nginx version: nginx/1.29.0\nconfigure arguments: {configured}' >&2\n"
    )
    (tmp_path / "nginx").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert Nginx.conf_dir() == Path(conf_dir)
