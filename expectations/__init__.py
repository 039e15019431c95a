"""Great Expectations gates for every stage, with validation reports that work offline.

One suite per data contract (``docs/data_contracts.md``), built in code; critical failures
stop the pipeline with ``ValidationFailed``, warnings are reported and the run goes on.

The stage entry points import Great Expectations (several seconds), so they are loaded on
first use: reading the run configuration (which includes ``ExpectationsConfig``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from expectations.config import ExpectationsConfig
from expectations.errors import (
    ExpectationsError,
    InputFileError,
    UnknownSuiteError,
    ValidationFailed,
)

if TYPE_CHECKING:
    from expectations.stages import (
        validate_file,
        validate_linkage,
        validate_published,
        validate_sources,
    )
    from expectations.suites import suite_names

_LAZY = {
    "validate_file": "expectations.stages",
    "validate_linkage": "expectations.stages",
    "validate_published": "expectations.stages",
    "validate_sources": "expectations.stages",
    "suite_names": "expectations.suites",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")


__all__ = [
    "ExpectationsConfig",
    "ExpectationsError",
    "InputFileError",
    "UnknownSuiteError",
    "ValidationFailed",
    "suite_names",
    "validate_file",
    "validate_linkage",
    "validate_published",
    "validate_sources",
]
