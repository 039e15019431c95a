"""List the project's functions longer than the style guide allows (80 lines by default).

    .venv/bin/python tools/long_functions.py [--limit 80] [PATH ...]

Lines are counted from the ``def`` (decorators excluded) to the function's last line, as a
reader scrolls them; tests, the virtual environment and hidden folders are skipped. Exits 1
when any function is over the limit, so it can gate a commit.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {"tests", ".venv", "build", "node_modules"}


def python_files(roots: list[Path]) -> Iterator[Path]:
    """Every ``.py`` file under ``roots`` outside tests, virtual environments and hidden folders."""
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in paths:
            parts = path.relative_to(root).parts if root.is_dir() else ()
            if not any(part in SKIPPED or part.startswith(".") for part in parts):
                yield path


def function_lengths(path: Path) -> Iterator[tuple[str, int, int]]:
    """Qualified name, first line and length in lines of every function in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    yield name, child.lineno, child.end_lineno - child.lineno + 1
                stack.append((child, f"{name}."))
            else:
                stack.append((child, prefix))


def long_functions(roots: list[Path], limit: int) -> list[tuple[int, str]]:
    """``(length, "path:line name")`` of every function over ``limit`` lines, longest first."""
    found = []
    for path in python_files(roots):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for name, line, length in function_lengths(path):
            if length > limit:
                found.append((length, f"{shown}:{line} {name}"))
    return sorted(found, key=lambda item: (-item[0], item[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT])
    parser.add_argument("--limit", type=int, default=80)
    args = parser.parse_args(argv)
    found = long_functions([p.resolve() for p in args.paths], args.limit)
    for length, where in found:
        sys.stdout.write(f"{length:4d}  {where}\n")
    sys.stdout.write(f"{len(found)} function(s) over {args.limit} lines\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
