"""Debian's WebKitGTK (Safari's engine), driven over WebDriver with the standard library.

``WebKitWebDriver`` (package ``webkit2gtk-driver``) starts ``MiniBrowser --automation`` for
each session; it needs an X display, so an ``Xvfb`` (package ``xvfb``) of our own is started
on a display it picks (``-displayfd``). Both run in process groups of their own and are
stopped by those ids; the driver and its MiniBrowsers with a ``HOME`` in the work folder
(:func:`~tests.integration.rig.home_env`). Each session is a fresh, ephemeral profile
(cookies and HTTP cache kept for the session's life). ``acceptInsecureCerts``: WebKitGTK
2.50.6 still cached the responses of the test certificate's site (a return visit fetched
nothing).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.rig import free_port, home_env

#: Debian's ``libwebkit2gtk-4.1-0`` puts it under the architecture's library folder.
MINIBROWSER = next(
    iter(sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"))),
    Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
)
START_TIMEOUT = 15.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class WebKit:
    """Xvfb and WebKitWebDriver, started on entry and stopped (by process group) on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> WebKit:
        self.workdir.mkdir(parents=True, exist_ok=True)
        read, write = os.pipe()
        with (self.workdir / "xvfb.log").open("wb") as log:  # the child keeps its copy
            # -noreset: an X server resets when its last client leaves, here each time a
            # session's MiniBrowser closes, just as the next session's starts; in one CI run
            # that MiniBrowser could not open the display, and WebKitWebDriver waited on it.
            xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-noreset",
                 "-screen", "0", "1280x1024x24"],
                pass_fds=[write],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        self._processes.append(xvfb)
        os.close(write)
        with os.fdopen(read) as displayfd:
            display = displayfd.readline().strip()
        if not display:
            self.__exit__(None, None, None)
            raise RuntimeError("Xvfb did not start: " + (self.workdir / "xvfb.log").read_text())
        with (self.workdir / "webdriver.log").open("wb") as log:
            driver = subprocess.Popen(
                ["WebKitWebDriver", f"--port={self.port}"],
                # MiniBrowser's dconf settings would go into ~/.cache.
                env={**home_env(self.workdir / "home"), "DISPLAY": f":{display}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes.append(driver)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(OSError):
                if self._call("GET", "/status")["ready"]:
                    break
            if driver.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("WebKitWebDriver did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._processes:
            _stop(self._processes.pop())

    def _call(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise AssertionError(f"WebDriver {method} {path}: {error.read().decode()}") from None
        except TimeoutError:
            # WebKitWebDriver waits on a MiniBrowser that failed to start: its log says why.
            log = (self.workdir / "webdriver.log").read_text(errors="replace")[-2000:]
            raise AssertionError(
                f"WebDriver {method} {path}: no answer in 120 s; its log ends:\n{log}"
            ) from None

    def session(self) -> Session:
        return Session(self)


class Session:
    """One WebDriver session: a fresh MiniBrowser, its profile kept until :meth:`close`."""

    def __init__(self, webkit: WebKit) -> None:
        self._call = webkit._call
        options = {"binary": str(MINIBROWSER), "args": ["--automation"]}
        capabilities = {"acceptInsecureCerts": True, "webkitgtk:browserOptions": options}
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.id = value["sessionId"]

    def go(self, url: str) -> None:
        """Navigate to ``url`` and wait for its ``load`` event."""
        self._call("POST", f"/session/{self.id}/url", {"url": url})

    def run(self, script: str, *args: object) -> Any:
        """An async script: it calls ``arguments[arguments.length - 1]`` with its result."""
        return self._call(
            "POST", f"/session/{self.id}/execute/async", {"script": script, "args": list(args)}
        )

    def close(self) -> None:
        self._call("DELETE", f"/session/{self.id}")

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
