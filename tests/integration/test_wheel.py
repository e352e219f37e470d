"""The built wheel, installed alone into a fresh venv, serves the quickstart app.

What a user gets from ``pip install firehose_digest``: the wheel is built from this tree,
installed with its runtime dependencies and gunicorn (the ``demo`` extra) into a venv that
sees neither this repository nor the test environment's packages, and gunicorn from that
venv serves ``examples/quickstart``. A file missing from the wheel, a dependency missing
from its metadata or a broken console script fails here, not on a user's machine.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.integration.rig import REPO_ROOT, Server

from .launcher import require

pytestmark = pytest.mark.integration
QUICKSTART = REPO_ROOT / "examples" / "quickstart"
INSTALL_TIMEOUT = 300


@dataclass(frozen=True)
class Installed:
    """The wheel that was built and the venv it was installed into."""

    wheel: Path
    venv: Path

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def _clean_env() -> dict[str, str]:
    """This environment minus what would let the venv's Python see other packages."""
    hidden = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    env = {name: value for name, value in os.environ.items() if name not in hidden}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(argv: list[str | Path], cwd: Path = REPO_ROOT) -> str:
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, argv))}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel (pip runs flit_core in an isolated build env) and install it."""
    require("the venv module with ensurepip", importlib.util.find_spec("ensurepip") is not None)
    workdir = tmp_path_factory.mktemp("wheel")
    dist, venv = workdir / "dist", workdir / "venv"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, REPO_ROOT])
    (wheel,) = dist.glob("firehose_digest-*.whl")
    _run([sys.executable, "-m", "venv", venv])  # no --system-site-packages
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[demo]"])
    return Installed(wheel, venv)


class VenvGunicorn(Server):
    """The venv's gunicorn serving ``app:app`` from ``app_dir``.

    Its config file records which ``firehose_digest`` the worker imported: the one module
    that answered the requests, wherever sys.path led.
    """

    name = "gunicorn"

    def __init__(self, installed: Installed, app_dir: Path, workdir: Path) -> None:
        super().__init__(workdir)
        self.installed = installed
        self.app_dir = app_dir
        self.imported_from = workdir / "firehose_digest_file.txt"

    def argv(self) -> list[str]:
        config = self.workdir / "gunicorn_conf.py"
        config.write_text(
            "import pathlib, sys\n\n\n"
            "def post_worker_init(worker):\n"
            f"    pathlib.Path({str(self.imported_from)!r}).write_text(\n"
            "        sys.modules['firehose_digest'].__file__\n"
            "    )\n"
        )
        # gunicorn puts the folder it starts in on sys.path whatever --chdir says, and
        # Server starts it in this repository, whose firehose_digest would then shadow the
        # installed one: env -C starts it in the app's folder instead.
        return [
            "env", "-C", str(self.app_dir),
            str(self.installed.bin("gunicorn")),
            "--config", str(config),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1",
            "--access-logfile", "-",
            "--no-control-socket",
            "app:app",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return _clean_env()


def test_wheel_holds_the_package_its_types_marker_and_license(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert "firehose_digest/__init__.py" in names
    assert "firehose_digest/py.typed" in names
    dist_info = installed.wheel.name.split("-py3")[0] + ".dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert f"{dist_info}/entry_points.txt" in names


def test_installed_wheel_serves_the_quickstart_app(installed: Installed, tmp_path: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with VenvGunicorn(installed, QUICKSTART, tmp_path) as server:
        origin = f"http://127.0.0.1:{server.port}"
        links = []
        for _visit in ("first", "return"):
            with opener.open(origin + "/", timeout=10) as response:
                assert response.status == 200
                links.append(response.headers.get_all("Link"))
        with opener.open(origin + "/static/app.css", timeout=10) as response:
            assert response.read().startswith(b"body {")
        imported_from = Path(server.imported_from.read_text())
    assert links == [
        ["</static/app.js>; rel=preload; as=script, </static/app.css>; rel=preload; as=style"],
        [
            "</static/app.js>; rel=preload; as=script; nopush, "
            "</static/app.css>; rel=preload; as=style; nopush"
        ],
    ]
    assert imported_from.resolve().is_relative_to(installed.venv.resolve())
    assert not imported_from.resolve().is_relative_to(REPO_ROOT)


def test_installed_console_script_plans(installed: Installed) -> None:
    out = _run([installed.bin("firehose-digest"), "plan", "--capacity", "100"], cwd=QUICKSTART)
    assert out.startswith("capacity 100, target false-positive rate 0.01")
