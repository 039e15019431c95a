"""Suite for the published tables (``analysis/published/<table>.parquet``).

The monthly rate tables share one tidy schema and get the full suite. Other published
tables (change, inequality, sample flow) get the disclosure and range rules on whichever of
their columns are counts (integer columns), percentages (``*_pct``) or interval bounds
(``<x>_lower`` / ``<x>_upper`` beside ``<x>``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import great_expectations as gx
import polars as pl
from great_expectations.expectations.row_conditions import Column

from expectations.config import ExpectationsConfig
from expectations.custom import ExpectColumnValuesToBeMultipleOf
from expectations.suites.base import Check, Part, SuiteDefinition, not_null_checks, schema_checks

E = gx.expectations

RATE_COLUMNS = {
    "table": "str",
    "breakdown": "str",
    "group": "str",
    "month": "Date",
    "estimate": "str",
    "people": "Int64",
    "recipients": "Int64",
    "crude_pct": "Float64",
    "asr_pct": "Float64",
    "asr_lower": "Float64",
    "asr_upper": "Float64",
    "low_reliability": "bool",
    "status": "str",
}
STUDY_MONTHS = [
    dt.datetime(2019 + (10 + offset) // 12, (10 + offset) % 12 + 1, 1) for offset in range(17)
]
SUPPRESSED = "[c]"


def _count_checks(
    column: str, config: ExpectationsConfig, *, zero_allowed: bool = False
) -> list[Check]:
    # A sample flow's "nobody removed" (0) reveals nothing about anyone and is published.
    nonzero = {"row_condition": Column(column) != 0} if zero_allowed else {}
    return [
        Check(
            f"{column}_at_least_{config.disclosure_min_count}",
            "disclosure",
            "critical",
            E.ExpectColumnValuesToBeBetween(
                column=column, min_value=config.disclosure_min_count, **nonzero
            ),
        ),
        Check(
            f"{column}_multiple_of_{config.rounding_base}",
            "disclosure",
            "critical",
            ExpectColumnValuesToBeMultipleOf(column=column, base=config.rounding_base),
        ),
    ]


def _pct_check(column: str) -> Check:
    return Check(
        f"{column}_in_0_100",
        "range",
        "critical",
        E.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=100),
    )


def _ordered(low: str, high: str) -> Check:
    return Check(
        f"{low}_not_above_{high}",
        "range",
        "critical",
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=high, column_B=low, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
    )


def published_rates_suite(config: ExpectationsConfig) -> SuiteDefinition:
    """The monthly rate tables: one tidy schema (docs/data_contracts.md, analysis/)."""
    checks = [
        *schema_checks("published", RATE_COLUMNS),
        *not_null_checks(["table", "breakdown", "group", "month", "estimate", "status"]),
        Check(
            "status_code",
            "code_list",
            "critical",
            E.ExpectColumnValuesToBeInSet(column="status", value_set=["published", SUPPRESSED]),
        ),
        Check(
            "estimate_code",
            "code_list",
            "critical",
            E.ExpectColumnValuesToMatchRegex(
                column="estimate", regex=r"^(?:linked|truth|ipw|calibrated|threshold_[0-9.]+)$"
            ),
        ),
        Check(
            "month_in_study",
            "range",
            "critical",
            E.ExpectColumnValuesToBeBetween(
                column="month", min_value=STUDY_MONTHS[0], max_value=STUDY_MONTHS[-1]
            ),
        ),
        *_count_checks("people", config),
        *_count_checks("recipients", config),
        *[_pct_check(column) for column in ("crude_pct", "asr_pct", "asr_lower", "asr_upper")],
        _ordered("asr_lower", "asr_pct"),
        _ordered("asr_pct", "asr_upper"),
        _ordered("recipients", "people"),
        # A suppressed rate must not be recoverable: its numerator and rates are hidden
        # (critical). The contract also asks for the denominator to be hidden; a denominator
        # of at least 10 on its own discloses nothing, so that one only warns.
        *[
            Check(
                f"{column}_null_when_suppressed",
                "disclosure",
                "warning" if column == "people" else "critical",
                E.ExpectColumnValuesToBeNull(
                    column=column, row_condition=Column("status") == SUPPRESSED
                ),
            )
            for column in ("people", "recipients", "crude_pct", "asr_pct")
        ],
    ]
    return SuiteDefinition(
        "published",
        "Published monthly rate tables (analysis/published/*.parquet)",
        (Part("table", "published", tuple(checks), ("table", "breakdown", "group", "month")),),
        single_file_parts=("table",),
    )


def is_rate_table(schema: Mapping[str, pl.DataType]) -> bool:
    """Whether a published table has the tidy monthly-rate schema."""
    return set(schema) == set(RATE_COLUMNS)


def _is_percentage(column: str, dtype: pl.DataType) -> bool:
    return dtype.is_float() and (column.endswith(("_pct", "_asr")) or column.startswith("asr_"))


def _interval_estimate(schema: Mapping[str, pl.DataType], prefix: str) -> str | None:
    """The estimate an interval ``<prefix>lower`` / ``<prefix>upper`` belongs to."""
    stem = prefix.rstrip("_")
    candidates = [f"{stem}_pct", f"{stem}_asr", stem] if stem else ["value", "estimate"]
    for name in candidates:
        if name in schema and schema[name].is_float():
            return name
    return None


def published_other_suite(
    schema: Mapping[str, pl.DataType], config: ExpectationsConfig
) -> SuiteDefinition:
    """Disclosure and range rules for a published table with another schema.

    Counts are the ``Int64`` columns (the contract's count type; an ordinal such as a
    sample-flow step is a narrower integer). Percentages are float columns named ``*_pct``,
    ``*_asr`` or ``asr_*`` (differences in percentage points may be negative and are not
    range-checked). Intervals are ``<x>_lower`` / ``<x>_upper`` (or ``lower`` / ``upper``)
    around ``<x>_pct``, ``<x>_asr`` or ``<x>`` (or ``value``).
    """
    checks: list[Check] = []
    for column, dtype in schema.items():
        if dtype == pl.Int64:
            checks += _count_checks(column, config, zero_allowed=column == "removed")
        elif _is_percentage(column, dtype):
            checks.append(_pct_check(column))
    for column in schema:
        if column.endswith("lower") and f"{column[: -len('lower')]}upper" in schema:
            prefix = column[: -len("lower")]
            estimate = _interval_estimate(schema, prefix)
            if estimate is not None:
                checks += [_ordered(column, estimate), _ordered(estimate, f"{prefix}upper")]
    if not checks:
        checks.append(
            Check(
                "table_not_empty",
                "row_count",
                "warning",
                E.ExpectTableRowCountToBeBetween(min_value=1),
            )
        )
    ids = tuple(c for c in ("table", "breakdown", "group", "month") if c in schema)
    return SuiteDefinition(
        "published_other",
        "Other published tables: counts, percentages and intervals",
        (Part("table", "published", tuple(checks), ids),),
        single_file_parts=("table",),
    )


def published_substance_suite(config: ExpectationsConfig) -> SuiteDefinition:
    """Substance of the published rates and main points (frames from
    :mod:`expectations.substance`): on small bases, a standardised rate far from its crude
    rate or a month-on-month jump beyond its interval warns; a main point claiming an
    unsupported change fails."""
    small_base = Column("people") < config.small_base_people
    rates = (
        Check(
            f"asr_within_{config.max_asr_crude_gap_pp:g}pp_of_crude_on_small_base",
            "substance",
            "warning",
            E.ExpectColumnValuesToBeBetween(
                column="asr_crude_gap_pp",
                max_value=config.max_asr_crude_gap_pp,
                row_condition=small_base,
            ),
        ),
        Check(
            f"month_on_month_jump_within_{config.max_jump_standard_errors:g}_standard_errors",
            "substance",
            "warning",
            # On a large base a jump beyond its interval is a real change (the spring 2020
            # step); on a small base it is the mark of an artefact (a band emptying).
            E.ExpectColumnValuesToBeBetween(
                column="jump_standard_errors",
                max_value=config.max_jump_standard_errors,
                row_condition=small_base,
            ),
        ),
    )
    claims = (
        Check(
            "main_point_change_supported_by_interval",
            "substance",
            "critical",
            E.ExpectColumnValuesToBeInSet(column="supported", value_set=[True]),
        ),
    )
    return SuiteDefinition(
        "published_substance",
        "Substance of the published rates and main points",
        (
            Part("rates", "rate_substance", rates, ("table", "group", "estimate", "month")),
            Part("claims", "main_point_claims", claims, ("point", "claim")),
        ),
    )
