"""Imports point one way, from the front door down (CONTRIBUTING.md): every import of a
project package, lazy ones inside functions included, read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FLOORS = {
    "triangulate": 5,
    "flows": 4,
    "runcore": 3,
    "separation": 2,
    "quality_report": 2,
    "evaluation": 2,
    "analysis": 2,
    "expectations": 2,
    "linkage": 2,
    "synthetic_data": 2,
    "reporting": 1,
    "common": 1,
}
"""As CONTRIBUTING.md draws them: the command line, the flows, the run core (which composes
the stages' configuration models), the stages, then the low-level helpers."""

SHARED_LEAVES = {"evaluation.intervals"}
"""Modules that import nothing of the project, so any package on their floor may use them."""


def project_imports(package: str) -> list[tuple[str, int, str]]:
    """``(file, line, module)`` of every import of another project package in ``package``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in FLOORS and top != package:
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, module))
    return found


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_no_package_imports_one_on_a_higher_floor(package):
    upward = [
        f"{file}:{line} imports {module}"
        for file, line, module in project_imports(package)
        if FLOORS[module.split(".")[0]] > FLOORS[package]
    ]
    assert upward == []


def test_packages_on_one_floor_do_not_import_each_other_both_ways():
    edges = {
        (package, module.split(".")[0])
        for package in FLOORS
        for _, _, module in project_imports(package)
        if module not in SHARED_LEAVES
    }
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []


def test_the_shared_leaves_import_nothing_of_the_project():
    for leaf in SHARED_LEAVES:
        package, _, name = leaf.partition(".")
        path = ROOT / package / f"{name}.py"
        imports = [
            node
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module
        ]
        assert [n.module for n in imports if n.module.split(".")[0] in FLOORS] == [], leaf


def test_the_check_sees_lazy_imports():
    # flows.tasks imports analysis.front_page inside a task: a lazy import must be found.
    modules = [module for _, _, module in project_imports("flows")]
    assert "analysis.front_page" in modules
