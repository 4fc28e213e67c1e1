"""One import root: pyproject's package list is the tree, and nothing generic is installed."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import tomllib

from tests.helpers.cli import ROOT


def declared_packages() -> set[str]:
    """The packages pyproject.toml installs."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def tree_packages() -> set[str]:
    """Every package folder of the tree, named as installed (models/ -> toolkit.models)."""
    found = set()
    for top, name in (("toolkit", "toolkit"), ("models", "toolkit.models")):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *parts)))
    return found


def test_pyproject_lists_every_package_of_the_tree():
    """A new package folder must be added to pyproject.toml, or the wheel would lack it."""
    assert declared_packages() == tree_packages()


def test_one_top_level_import_name():
    """The installed distribution puts only `toolkit` at the top of site-packages."""
    assert {p.split(".")[0] for p in declared_packages()} == {"toolkit"}
    scripts = importlib.metadata.distribution("cnnkit").entry_points
    assert [e.value for e in scripts if e.name == "cnnkit"] == ["toolkit.cli:main"]


def imported_test_modules(path: Path) -> list[str]:
    """What a file imports from test modules: `from tests.x.test_y import ...`, `from
    tests.x import test_y`, `import tests.x.test_y`, relative forms included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if not (node.level or module.startswith("tests")):
                continue
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("tests")]
        else:
            continue
        if any(part.startswith("test_") for name in names for part in name.split(".")):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_test_modules_share_code_through_tests_helpers_only():
    """Shared test code lives in tests/helpers: a test module importing another ties them
    together (and a test function imported that way is collected twice)."""
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert [hit for path in files for hit in imported_test_modules(path)] == []
