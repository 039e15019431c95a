"""Great Expectations gates for every stage, with validation reports that work offline.

One suite per data contract (``docs/data_contracts.md``), built in code; critical failures
stop the pipeline with ``ValidationFailed``, warnings are reported and the run goes on.
"""

from expectations.config import ExpectationsConfig
from expectations.errors import (
    ExpectationsError,
    InputFileError,
    UnknownSuiteError,
    ValidationFailed,
)
from expectations.stages import (
    validate_file,
    validate_linkage,
    validate_published,
    validate_sources,
)
from expectations.suites import suite_names

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
