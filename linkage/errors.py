"""Exceptions raised by the linkage, with messages a user can act on."""

from __future__ import annotations


class LinkageInputError(ValueError):
    """An input table that cannot be linked: the message names the file, column and rule."""

    def __init__(self, file: str, column: str | None, problem: str) -> None:
        self.file = file
        self.column = column
        self.problem = problem
        where = f"{file}, column '{column}'" if column else file
        super().__init__(f"{where}: {problem}")


class ConvergenceError(RuntimeError):
    """Expectation maximisation stopped at its iteration limit before converging."""
