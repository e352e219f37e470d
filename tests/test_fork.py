"""A process forked while another thread changes a per-process cache: its child serves.

A prefork server copies the process it forks with one thread, the forking one: gunicorn
with ``--preload`` forks its workers from the master that imported the app (one that
warms its pages in a thread meanwhile), multiprocessing's ``fork`` start method from any
thread of a threaded server. A lock another thread held at that moment stays held in the
child, with no thread to release it; the child's first request that takes it waits
forever. Here a thread holds each cache's lock as the test forks: the child must answer,
and find the cache as the parent left it, whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from firehose_digest import Firehose, collect, push, static
from tests.integration.rig import NAVIGATION_ACCEPT
from tests.test_threads import (
    assert_caches_count_what_they_hold,
    assert_push_cache_counts_what_it_holds,
)

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform"),
    # Python 3.12+ warns of a fork with other threads alive: that fork is what is tested.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

#: How long the holding thread keeps a lock when no fork returns meanwhile: a fork that
#: waits for the locks waits this long; one that does not returns at once, the lock held.
HOLD = 0.5
#: The child's bound: polled this many times, this many seconds apart (a request takes
#: milliseconds; a child that waits on a lock never ends).
POLLS, POLL = 200, 0.05

#: Each per-process lock a request may take, as found from the app.
LOCKS: dict[str, Callable[[Flask], Any]] = {
    "push()'s resources": lambda app: collect._resources_lock,
    "pushed static files": lambda app: static._pushed_files_lock,
    "decoded digests": lambda app: app.extensions["firehose"].connector._state(app)._lock,
    "link plans": lambda app: app.extensions["firehose"].planner._lock,
    "learned 103s": lambda app: app.extensions["firehose"].hint_cache._lock,
}


def make_app(static_folder: Path) -> Flask:
    """A page pushing the url and the static file its query names, learning its 103."""
    app = Flask(__name__, static_folder=str(static_folder))
    app.config.update(SECRET_KEY="fork secret", FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    def page() -> str:
        push(request.args["u"], as_="style")
        static.push_static(request.args["f"], as_="style")
        return "<p>page"

    Firehose(app)
    return app


def ask(app: Flask, query: str, cookie: str | None) -> tuple[list[Any], str]:
    """Ask ``/page?<query>`` as a browser navigating, with the digest ``cookie``: the
    103s sent, and the digest cookie the response sets."""
    sent: list[Any] = []
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("h2-digest", cookie)
    response = client.get(
        f"/page?{query}",
        headers={"Accept": NAVIGATION_ACCEPT},
        environ_overrides={"wsgi.early_hints": sent.append},
    )
    assert response.status_code == 200, response.status
    digest = client.get_cookie("h2-digest")
    assert digest is not None
    return sent, digest.value


def serve_in_child(app: Flask, cookie: str, learned: list[Any]) -> None:
    """In the forked child: ask the page the parent learned (its 103 is the parent's),
    then one pushing what no request pushed (each cache's lock taken), and check what
    each cache holds against what it counts. Exits 0 if all held."""
    code = 1
    try:
        assert ask(app, "u=/a.css&f=one.css", None)[0] == learned
        ask(app, "u=/b.css&f=two.css", cookie)
        assert_caches_count_what_they_hold(app)
        assert_push_cache_counts_what_it_holds()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def exit_code_within_bound(pid: int) -> int | None:
    """The child's exit code, or None (the child killed) if it did not end in time."""
    for _ in range(POLLS):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(POLL)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


@pytest.mark.parametrize("lock_of", LOCKS.values(), ids=LOCKS.keys())
def test_a_child_forked_while_a_thread_holds_a_cache_s_lock_serves(
    tmp_path: Path, lock_of: Callable[[Flask], Any]
) -> None:
    """It fails if the child's copy of a lock stays held: its request never ends."""
    for name in ("one.css", "two.css"):
        (tmp_path / name).write_text(f"/* {name} */")
    app = make_app(tmp_path)
    ask(app, "u=/a.css&f=one.css", None)  # learned, and the digest state made
    learned, cookie = ask(app, "u=/a.css&f=one.css", None)
    assert learned  # the 103 the child must be sent too
    lock = lock_of(app)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(HOLD)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    pid = os.fork()
    if pid == 0:
        serve_in_child(app, cookie, learned)
    release.set()
    holder.join()
    assert exit_code_within_bound(pid) == 0
    ask(app, "u=/c.css&f=two.css", cookie)  # the parent's locks are free too


def test_a_fork_made_by_the_thread_holding_a_lock_goes_on() -> None:
    """A signal handler that forks runs in the thread it interrupted, which may hold a
    cache's lock: the fork cannot wait for that thread, which runs on only after it. It
    goes on past the lock (:data:`~firehose_digest.locks.FORK_WAIT`), left held in both
    processes by the thread that releases it in each. Run apart, so that a fork that
    waited forever fails the test rather than stopping the suite."""
    script = (
        "import os\n"
        "from firehose_digest.locks import _registry_lock, fork_safe_lock\n"
        "lock = fork_safe_lock()\n"
        "with lock, _registry_lock:\n"  # amid making a lock, too
        "    pid = os.fork()\n"
        "if pid == 0:\n"
        "    with lock:\n"  # released by the child's own thread: free to take again
        "        os._exit(0)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n"
        "with lock:\n"
        "    print('both went on')\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the fork waited for the lock its own thread holds")
    assert (done.returncode, done.stdout) == (0, "both went on\n"), done.stderr
