"""Small helpers for the expectations tests."""

from __future__ import annotations

from expectations.runner import SuiteResult


def failed(result: SuiteResult, severity: str | None = None) -> set[str]:
    """Names of the checks that failed (optionally of one severity)."""
    return {
        o.check
        for o in result.outcomes
        if not o.success and (severity is None or o.severity == severity)
    }
