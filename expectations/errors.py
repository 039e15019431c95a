"""Errors raised by the quality gates, with messages an analyst can act on."""

from __future__ import annotations


class ExpectationsError(Exception):
    """Base class of every error raised by the ``expectations`` package."""


class ValidationFailed(ExpectationsError):
    """Critical expectations failed: the pipeline must stop.

    Parameters
    ----------
    suite
        The suite that failed.
    failures
        One line per failing critical expectation (name, rule, counts, a few record ids;
        never names, dates of birth, postcodes, NHS numbers or NINOs).
    report
        The HTML report that shows every result of the run.
    """

    def __init__(self, suite: str, failures: list[str], report: str | None = None) -> None:
        self.suite = suite
        self.failures = list(failures)
        self.report = report
        lines = [f"Suite '{suite}': {len(failures)} critical expectation(s) failed:"]
        lines += [f"  - {line}" for line in failures]
        if report:
            lines.append(f"Report: {report}")
        super().__init__("\n".join(lines))


class InputFileError(ExpectationsError):
    """A file to validate is missing or unreadable; the message names the file."""


class UnknownSuiteError(ExpectationsError):
    """A suite name that does not exist; the message lists the valid names."""
