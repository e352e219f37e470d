"""The package and the benchmarks import in layers: no module imports itself back.

Read with ``ast``, nothing is imported (so neither matplotlib nor Flask is loaded). Every
import counts, at module level or inside a function, since a deferred import only hides a
cycle; those under ``if TYPE_CHECKING:`` do not run and are left out.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("firehose_digest", "bench")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of PACKAGES."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            found.extend(_imports(ast.Module(body=node.orelse, type_ignores=[])))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        found.extend(_imports(node))
    return found


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules among ``known`` that module ``name`` (at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        # ``from package import module`` imports the module; ``from module import name``
        # only the module.
        submodules = {f"{source}.{alias.name}" for alias in node.names} & known
        targets.update(submodules or {source})
    return {target for target in targets if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path whose last module is its first, or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target in on_stack:
                return [*stack[stack.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_packages_imports() -> None:
    graph = import_graph()
    assert "firehose_digest.extension" in graph["firehose_digest"]
    assert "bench.report" in graph["bench.summary"]
    assert "bench.request_cost" in graph["bench.request_cost_report"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package: str) -> None:
    graph = import_graph()
    inside = {name for name in graph if name == package or name.startswith(f"{package}.")}
    cycle = find_cycle({name: graph[name] & inside for name in inside})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_package_never_imports_the_benchmarks() -> None:
    graph = import_graph()
    for name, targets in graph.items():
        if name.split(".")[0] == "firehose_digest":
            assert not {t for t in targets if t.split(".")[0] == "bench"}, name


#: The pure core (the package docstring's map): tested with plain values, so it may import
#: neither Flask nor Werkzeug, not even through another module of the package.
CORE = ("codec", "digests", "hints", "links", "collect", "sizes", "locks")


def external_imports(path: Path) -> set[str]:
    """The top-level names of what the module at ``path`` imports from outside the package."""
    names: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_neither_flask_nor_werkzeug(module: str) -> None:
    graph, files = import_graph(), module_files()
    reached: set[str] = set()
    todo = [f"firehose_digest.{module}"]
    while todo:  # the package's own __init__ aside: importing a module runs it, not needs it
        name = todo.pop()
        if name not in reached and name != "firehose_digest":
            reached.add(name)
            todo.extend(graph[name])
    pulled = {name: external_imports(files[name]) & {"flask", "werkzeug"} for name in reached}
    assert {name: found for name, found in pulled.items() if found} == {}


def test_a_deferred_import_closes_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_exports_what_the_readme_names() -> None:
    """``__all__`` is the README's list: every name in it is written there, and
    ``import *`` brings no submodule."""
    import firehose_digest

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [n for n in firehose_digest.__all__ if not re.search(rf"\b{n}\b", readme)]
    assert missing == []
    namespace: dict[str, object] = {}
    exec("from firehose_digest import *", namespace)
    assert sorted(set(namespace) - {"__builtins__"}) == sorted(firehose_digest.__all__)


def test_the_package_docstring_maps_every_module_and_the_core_as_checked_here() -> None:
    import firehose_digest

    doc = firehose_digest.__doc__ or ""
    named = re.findall(r":mod:`\.(\w+)`", doc)
    modules = {path.stem for path in (ROOT / "firehose_digest").glob("*.py")}
    assert set(named) == modules - {"__init__"}
    [core] = [item for item in doc.split("\n- ") if item.startswith("The pure core")]
    assert set(re.findall(r":mod:`\.(\w+)`", core)) == set(CORE)


def test_mypy_and_ruff_check_against_the_lowest_python_the_package_claims() -> None:
    """mypy checks as the Python running it unless told: on 3.11, a branch for 3.10 was
    never type-checked, and an API newer than 3.10 passed unseen. (Read with a pattern,
    not tomllib, which 3.10 lacks.)"""
    pyproject = (ROOT / "pyproject.toml").read_text()
    claimed = re.search(r'^requires-python = ">=3\.(\d+)"$', pyproject, re.M)
    mypy = re.search(r'^python_version = "3\.(\d+)"$', pyproject, re.M)
    ruff = re.search(r'^target-version = "py3(\d+)"$', pyproject, re.M)
    assert claimed and mypy and ruff
    assert mypy[1] == ruff[1] == claimed[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
def test_make_test_pythons_runs_every_python_the_classifiers_claim_but_ci_s() -> None:
    """CI's Debian 12 runs 3.11 alone; ``make test-pythons`` runs the unit suite on each
    other Python the classifiers name (3.10 and 3.13 each showed a failure 3.11 did not):
    a classifier added is a Python it runs."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    claimed = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    listed = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "--eval", "shown:\n\t@echo $(PYTHONS)", "shown"],
        capture_output=True,
        text=True,
        check=True,
        env=_without_make_variables(),
    ).stdout.split()
    assert sorted(listed) == sorted(set(claimed) - {"3.11"}), (listed, claimed)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="the sdist carries no Makefile")
def test_make_test_pythons_says_which_python_it_did_not_find(tmp_path: Path) -> None:
    """A Python that is not there is named and skipped, not a failure: a developer has
    the ones they have."""
    ran = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT),
            f"VENV={tmp_path / 'venv'}",
            "PYTHONS=0.1",
            "test-pythons",
        ],
        capture_output=True,
        text=True,
        env=_without_make_variables(),
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["python0.1: not found, skipped"]
    assert not list(tmp_path.iterdir())


def _without_make_variables() -> dict[str, str]:
    """The environment, less what a make running this suite hands its sub-makes (``make
    test-pythons PYTHONS=3.10`` would set ``PYTHONS`` in the one asked here)."""
    passed = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHONS", "VENV")
    return {name: value for name, value in os.environ.items() if name not in passed}
