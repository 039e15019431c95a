"""Exceptions raised while building the quality report, with messages a user can act on."""

from __future__ import annotations


class QualityReportError(ValueError):
    """A run folder the report cannot be built from: the message names the file and problem."""


class RedactionError(RuntimeError):
    """A redacted report would still hold an identifier; nothing is written."""
