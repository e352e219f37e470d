"""Debian's ``chromium``, headless: load a page as a browser does, its profile kept.

As root it needs ``--no-sandbox``; dbus errors on stderr are harmless. It runs with a
``HOME`` in its profile (:func:`~tests.integration.rig.home_env`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.rig import home_env

CHROMIUM_TIMEOUT = 60
#: Seconds a page stays open once what :meth:`Browser.stay` waits for has come: for the
#: browser to take in the last response (its cookies) before it is told to quit.
SETTLE_SECONDS = 1


class Browser:
    """Debian's ``chromium``, headless, with a profile of its own kept between visits."""

    def __init__(
        self, profile: Path, trusted_key: str | None = None, other_site: str | None = None
    ) -> None:
        self.profile = profile
        #: The test certificate's key (:func:`spki_hash`), for https pages.
        self.trusted_key = trusted_key
        #: A host name the browser resolves to 127.0.0.1: another site than ``127.0.0.1``.
        self.other_site = other_site

    def load(self, url: str) -> subprocess.CompletedProcess[str]:
        """Load ``url`` until its ``load`` event; stdout is the DOM, stderr says what failed."""
        argv = self._argv("--dump-dom", url)
        # Its own process group: Debian's `chromium` is a shell script that does not exec
        # the browser, so on a timeout only the whole group can be stopped.
        with subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._env(),
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=CHROMIUM_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                pytest.fail(f"chromium did not finish {url} in {CHROMIUM_TIMEOUT} s:\n{stderr}")
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)

    def stay(self, url: str, until: Callable[[], bool]) -> None:
        """Open ``url`` and leave it open until ``until()`` is true, then
        :data:`SETTLE_SECONDS` more, and quit as a user does (its cookies written out). A
        condition, not a number of seconds: a fixed 3 s failed on a slow CI machine, the
        browser still starting. Fails if ``until()`` stays false :data:`CHROMIUM_TIMEOUT`
        seconds. Without ``--dump-dom``: with it, Chromium 156 prerendered nothing
        (measured), as with DevTools attached (``PrerenderingDisabledByDevTools``)."""
        with subprocess.Popen(
            self._argv(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._env(),
            start_new_session=True,
        ) as process:
            # The browser quits even if until() raises (a log line read as it is written):
            # else Popen's exit would wait for a browser nobody told to quit.
            try:
                deadline = time.monotonic() + CHROMIUM_TIMEOUT
                while not until() and time.monotonic() < deadline:
                    time.sleep(0.1)
                reached = until()
                if reached:
                    time.sleep(SETTLE_SECONDS)
            finally:
                # SIGINT, to the browser alone: Chromium 156 wrote its cookies out then, and
                # not on a SIGTERM (measured).
                os.kill(process.pid, signal.SIGINT)
                try:
                    process.wait(CHROMIUM_TIMEOUT)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if not reached:
            pytest.fail(f"{url} open {CHROMIUM_TIMEOUT} s and what it waited for never came")

    def _env(self) -> dict[str, str]:
        # Its crash reports and dconf's settings would go into ~/.config and ~/.cache.
        return home_env(self.profile / "home")

    def _argv(self, *args: str) -> list[str]:
        argv = [
            "chromium", "--headless=new",
            # Chromium refuses to start as root with its sandbox.
            "--no-sandbox",
            f"--user-data-dir={self.profile}",
        ]  # fmt: skip
        if self.trusted_key is not None:
            # Not --ignore-certificate-errors: nothing would be kept in the HTTP cache.
            argv.append(f"--ignore-certificate-errors-spki-list={self.trusted_key}")
        if self.other_site is not None:
            argv.append(f"--host-resolver-rules=MAP {self.other_site} 127.0.0.1")
        return [*argv, *args]


def spki_hash(certificate: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)): ``--ignore-certificate-errors-spki-list``."""
    pem = subprocess.run(
        ["openssl", "x509", "-in", str(certificate), "-pubkey", "-noout"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=pem, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
