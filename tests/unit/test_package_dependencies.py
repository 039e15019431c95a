"""Imports between the packages point one way (CONTRIBUTING.md, "How the packages depend").

Read from the source with ``ast``, so an import inside a function counts as much as one at
the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN: dict[str, set[str]] = {
    # Evaluation reads linkage outputs (and linkage.model's settings); linkage never
    # imports evaluation, so linking works without the measurement layer.
    "linkage": {"evaluation", "quality_report", "analysis", "flows", "runcore", "triangulate"},
    # The measurement layer does not import the stages that render or gate its tables.
    "evaluation": {"quality_report", "expectations", "flows", "runcore", "triangulate"},
    "synthetic_data": {"linkage", "evaluation", "analysis", "quality_report", "flows"},
}


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level package of every import in ``package``, per module path."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_reader_sees_a_lazy_import():
    # The check itself: linkage/files.py once imported evaluation inside a function.
    tree = ast.parse("def f():\n    from evaluation.linkage import x\n")
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert modules == ["evaluation.linkage"]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offending = {
        module: sorted(names & FORBIDDEN[package])
        for module, names in imported_packages(package).items()
        if names & FORBIDDEN[package]
    }
    assert offending == {}
