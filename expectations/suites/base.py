"""Building blocks of every suite: a named check with a severity and a family.

A suite is built in code, so it is versioned with the data contract it enforces
(``docs/data_contracts.md``). Each suite has one or more parts; a part is one Great
Expectations ``ExpectationSuite`` run on one frame (the extract itself, or a frame of
pre-computed cross-table facts such as "this key exists in the customers table").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import great_expectations as gx
from great_expectations.expectations.expectation import Expectation

Severity = Literal["critical", "warning"]
Family = Literal[
    "schema",
    "nulls",
    "format",
    "code_list",
    "uniqueness",
    "referential_integrity",
    "row_count",
    "range",
    "linkage_rate",
    "plausibility",
    "disclosure",
    "substance",
]

# Contract types (docs/data_contracts.md) as they arrive in pandas (see expectations.frames):
# strings, integers, floats and booleans stay Arrow-backed; Date becomes datetime64.
GX_TYPES: Mapping[str, str] = {
    "str": "str",
    "Date": "datetime64",
    "bool": "bool",
    "Int64": "int",
    "Float64": "float",
}

# Columns whose values are personal identifiers: never shown in messages or reports.
IDENTIFYING_COLUMNS = frozenset(
    {
        "forename",
        "middle_names",
        "surname",
        "date_of_birth",
        "postcode",
        "nhs_number",
        "nino",
    }
)


@dataclass(frozen=True)
class Check:
    """One expectation with what the gates need to know about it.

    Parameters
    ----------
    name
        A stable, readable name such as ``census_person_id_unique``.
    family
        The kind of rule (schema, nulls, format, ...), used in reports and tests.
    severity
        ``critical`` stops the pipeline; ``warning`` is reported and the run goes on.
    expectation
        The Great Expectations expectation object.
    """

    name: str
    family: Family
    severity: Severity
    expectation: Expectation

    @property
    def column(self) -> str | None:
        """The column the expectation looks at, if it has one."""
        return getattr(self.expectation, "column", None)


@dataclass(frozen=True)
class Part:
    """One GX suite run on one frame: ``frame`` names the frame the stage prepares."""

    name: str
    frame: str
    checks: tuple[Check, ...]
    id_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteDefinition:
    """A named suite: the parts that check one data contract."""

    name: str
    description: str
    parts: tuple[Part, ...]
    single_file_parts: tuple[str, ...] = field(default=())

    def gx_suite(self, part: Part) -> gx.ExpectationSuite:
        """A fresh GX ``ExpectationSuite`` for one part, each check tagged in ``meta``."""
        expectations = []
        for check in part.checks:
            expectation = check.expectation.copy(deep=True)
            expectation.meta = {
                **(expectation.meta or {}),
                "check": check.name,
                "family": check.family,
                "severity": check.severity,
            }
            expectations.append(expectation)
        return gx.ExpectationSuite(name=f"{self.name}.{part.name}", expectations=expectations)


def schema_checks(prefix: str, columns: Mapping[str, str]) -> list[Check]:
    """Exact column set plus one type expectation per column (all critical).

    Parameters
    ----------
    prefix
        Name prefix of the checks (the suite name).
    columns
        Column name to contract type (``str``, ``Date``, ``bool``, ``Int64``, ``Float64``).
    """
    E = gx.expectations
    checks = [
        Check(
            f"{prefix}_columns",
            "schema",
            "critical",
            E.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True),
        )
    ]
    checks += [
        Check(
            f"{column}_type",
            "schema",
            "critical",
            E.ExpectColumnValuesToBeOfType(column=column, type_=GX_TYPES[kind]),
        )
        for column, kind in columns.items()
    ]
    # An empty file passes every column rule vacuously: it must fail on its own.
    checks.append(
        Check(
            f"{prefix}_not_empty",
            "row_count",
            "critical",
            E.ExpectTableRowCountToBeBetween(min_value=1),
        )
    )
    return checks


def not_null_checks(columns: Sequence[str]) -> list[Check]:
    """Required columns: no missing value at all (critical)."""
    return [
        Check(
            f"{column}_not_null",
            "nulls",
            "critical",
            gx.expectations.ExpectColumnValuesToNotBeNull(column=column),
        )
        for column in columns
    ]


def completeness_checks(columns: Sequence[str], max_missing: float) -> list[Check]:
    """Identifying columns that noise may blank: warn when too many are missing, and stop
    when one is missing altogether (a column left empty by a broken export, not noise)."""
    checks = []
    for column in columns:
        checks.append(
            Check(
                f"{column}_mostly_present",
                "nulls",
                "warning",
                gx.expectations.ExpectColumnValuesToNotBeNull(
                    column=column, mostly=round(1.0 - max_missing, 6)
                ),
            )
        )
        checks.append(
            Check(
                f"{column}_not_all_missing",
                "nulls",
                "critical",
                gx.expectations.ExpectColumnValuesToNotBeNull(column=column, mostly=1e-9),
            )
        )
    return checks


def row_count_bounds(people: int, ratio: float, tolerance: float) -> tuple[int, int]:
    """Rows expected from ``people * ratio``, widened by the tolerance and sampling noise.

    Three binomial-like standard deviations (``3 * sqrt(n)``) keep tiny test worlds from
    failing by chance; at a million people the relative tolerance dominates.
    """
    expected = people * ratio
    slack = 3.0 * math.sqrt(max(expected, 1.0))
    low = max(0, math.floor(expected * (1.0 - tolerance) - slack))
    high = math.ceil(expected * (1.0 + tolerance) + slack)
    return low, high
