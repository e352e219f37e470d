"""The built wheel, installed alone into a fresh venv, serves the quickstart app.

What a user gets from ``pip install firehose_digest``: the wheel is built from this tree,
installed with its runtime dependencies and gunicorn (the ``demo`` extra) into a venv that
sees neither this repository nor the test environment's packages, and gunicorn from that
venv serves ``examples/quickstart``. A file missing from the wheel, a dependency missing
from its metadata or a broken console script fails here, not on a user's machine.

It is done twice: with the newest dependencies pip finds, and with the lowest each bound
in the wheel's metadata allows (and the lowest Werkzeug that Flask allows), so a bound
that is too low fails here too. The unit tests of what the package reads from its
dependencies run again on the lowest (:data:`LOWEST_UNIT_TESTS`): the rest of the unit
suite runs on the newest alone.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from packaging.version import Version

from tests.integration.rig import REPO_ROOT, Server

from .launcher import require

pytestmark = pytest.mark.integration
QUICKSTART = REPO_ROOT / "examples" / "quickstart"
INSTALL_TIMEOUT = 300


#: Werkzeug's lowest version for the lowest Flask (Flask 3.1.1 requires Werkzeug >= 3.1):
#: raise it with the Flask bound.
LOWEST_WERKZEUG = "werkzeug==3.1.0"


def requirements(wheel: Path) -> list[tuple[str, str]]:
    """Each ``Requires-Dist`` of the wheel's metadata: the requirement and its marker."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    found = []
    for line in lines:
        if line.startswith("Requires-Dist: "):
            requirement, _, marker = line.removeprefix("Requires-Dist: ").partition(" ; ")
            found.append((requirement, marker))
    return found


def lowest_pins(wheel: Path) -> list[str]:
    """``name==version`` for the lower bound of each runtime dependency and of the demo
    extra's, read from the wheel's metadata as pip reads them."""
    pins = []
    for requirement, marker in requirements(wheel):
        if marker not in ("", 'extra == "demo"'):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement)
        assert match, f"{requirement!r}: every dependency needs a lower bound, and only that"
        pins.append(f"{match[1]}=={match[2]}")
    return [*pins, LOWEST_WERKZEUG]


#: The unit tests run again on the lowest versions: those of what the package reads from
#: its dependencies, a ``Cookie`` header as Werkzeug parses it (the app's, and one pasted
#: into ``inspect``), Flask's session, itsdangerous's signature, mmh3's hash. Werkzeug
#: 3.1.9 parses a cookie that 3.1.0 to 3.1.8 read otherwise; the newest alone hid that.
#: They run on two workers, as ``make test`` runs the suite: serially they took 166 s on
#: 2 cores, and CI's slower machine hit the test's 300 s timeout.
LOWEST_UNIT_TESTS = [
    "tests/test_cli.py",
    "tests/test_edges.py",
    "tests/test_digest_connector.py",
    "tests/test_codec.py",
    "tests/test_digests.py",
]
#: What they need of the test extra (not its servers, nor their clients).
UNIT_TEST_TOOLS = ("pytest", "hypothesis", "pytest-timeout", "pytest-xdist")


def unit_test_tools(wheel: Path) -> list[str]:
    """The test extra's requirements of :data:`UNIT_TEST_TOOLS`, as the wheel gives them."""
    tools = [
        requirement
        for requirement, marker in requirements(wheel)
        if marker == 'extra == "test"'
        and re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower() in UNIT_TEST_TOOLS
    ]
    assert len(tools) == len(UNIT_TEST_TOOLS), f"{tools}: the test extra names each once"
    return tools


@dataclass(frozen=True)
class Installed:
    """The wheel that was built and the venv it was installed into."""

    wheel: Path
    venv: Path
    #: The versions asked for, ``name==version``; none for the newest.
    pins: tuple[str, ...]

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def _clean_env() -> dict[str, str]:
    """This environment minus what would let the venv's Python see other packages."""
    # PYTEST_ADDOPTS: the options given this run (a --junitxml path) are not the venv's.
    hidden = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTEST_ADDOPTS")
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
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel (pip runs flit_core in an isolated build env)."""
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, REPO_ROOT])
    (built,) = dist.glob("firehose_digest-*.whl")
    return built


@pytest.fixture(scope="module", params=["newest", "lowest"])
def installed(
    request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Installed:
    """The wheel installed into a fresh venv, with the newest or the lowest dependencies."""
    require(
        "the venv module with ensurepip",
        importlib.util.find_spec("ensurepip") is not None,
        "apt-get install python3-venv",
    )
    venv = tmp_path_factory.mktemp("venv")
    pins = tuple(lowest_pins(wheel)) if request.param == "lowest" else ()
    _run([sys.executable, "-m", "venv", venv])  # no --system-site-packages
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[demo]", *pins])
    return Installed(wheel, venv, pins)


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
        gunicorn = str(self.installed.bin("gunicorn"))
        # gunicorn >= 26 opens a control socket unless told not to; 25 has no such option.
        help_text = _run([gunicorn, "--help"])
        no_socket = ["--no-control-socket"] if "--no-control-socket" in help_text else []
        # gunicorn puts the folder it starts in on sys.path whatever --chdir says, and
        # Server starts it in this repository, whose firehose_digest would then shadow the
        # installed one: env -C starts it in the app's folder instead.
        return [
            "env", "-C", str(self.app_dir),
            gunicorn,
            "--config", str(config),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1",
            "--access-logfile", "-",
            *no_socket,
            "app:app",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return _clean_env()


def test_wheel_holds_the_package_its_types_marker_and_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "firehose_digest/__init__.py" in names
    assert "firehose_digest/py.typed" in names
    dist_info = wheel.name.split("-py3")[0] + ".dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert f"{dist_info}/entry_points.txt" in names


def test_the_venv_holds_the_versions_asked_for(installed: Installed) -> None:
    """The lowest case really runs on the lowest versions (pip could have picked others)."""
    script = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    for pin in installed.pins:
        name, version = pin.split("==")
        got = _run([installed.bin("python"), "-c", script, name]).strip()
        assert Version(got) == Version(version), f"{pin}: {got} installed"


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


@pytest.mark.parametrize("installed", ["lowest"], indirect=True)
def test_the_unit_tests_of_what_dependencies_read_pass_on_the_lowest(installed: Installed) -> None:
    """:data:`LOWEST_UNIT_TESTS` in the lowest venv, with the test tools added (the
    versions asked for kept). They import this tree's package, as the unit suite does
    (pytest puts the repository first on sys.path): the same code as the wheel's."""
    python = installed.bin("python")
    tools = unit_test_tools(installed.wheel)
    _run([python, "-m", "pip", "install", "-q", *tools, *installed.pins])
    _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *LOWEST_UNIT_TESTS])
