"""Suite for the linkage outputs: the person spine and what it implies.

Three parts, each on a frame the stage pre-computes in polars from ``linkage/spine.parquet``
and the source extracts (see ``expectations.prepare``):

``spine``
    The spine file itself: schema, probabilities in [0, 1], one row per source record, at
    most one census record per spine person.
``rates``
    One row for all census records (``breakdown == "all"``) and one per ethnic group, with
    the share linked to each source and its 99% Wilson upper limit. A floor is tested on
    the upper limit, so it fails only when the rate is below the floor beyond sampling noise
    at the run's size (the bound tightens as the world grows).
``benefit_timing``
    One row per benefit spell of a linked person, with birth and death months taken from
    the person's census and GP records.
"""

from __future__ import annotations

import great_expectations as gx
from great_expectations.expectations.row_conditions import Column

from expectations.config import ExpectationsConfig
from expectations.suites.base import Check, Part, SuiteDefinition, not_null_checks, schema_checks

E = gx.expectations

SPINE_COLUMNS = {
    "source": "str",
    "record_id": "str",
    "person_id": "str",
    "match_probability": "Float64",
}
SOURCES = ["census", "gp", "dwp"]


def spine_checks(*, records: int | None = None) -> list[Check]:
    """Checks of the spine file alone (usable on a user's own spine file)."""
    checks = [
        *schema_checks("spine", SPINE_COLUMNS),
        *not_null_checks(list(SPINE_COLUMNS)),
        Check(
            "source_code",
            "code_list",
            "critical",
            E.ExpectColumnValuesToBeInSet(column="source", value_set=SOURCES),
        ),
        Check(
            "match_probability_in_0_1",
            "range",
            "critical",
            E.ExpectColumnValuesToBeBetween(column="match_probability", min_value=0, max_value=1),
        ),
        Check(
            "source_record_unique",
            "uniqueness",
            "critical",
            E.ExpectCompoundColumnsToBeUnique(column_list=["source", "record_id"]),
        ),
        Check(
            "one_census_record_per_person",
            "uniqueness",
            "critical",
            E.ExpectColumnValuesToBeUnique(
                column="person_id", row_condition=Column("source") == "census"
            ),
        ),
    ]
    if records is not None:
        checks.append(
            Check(
                "spine_row_per_source_record",
                "row_count",
                "critical",
                E.ExpectTableRowCountToEqual(value=records),
            )
        )
    return checks


def linkage_suite(config: ExpectationsConfig, *, records: int | None = None) -> SuiteDefinition:
    """The linkage outputs.

    Parameters
    ----------
    config
        Thresholds (minimum linkage rates, implausible-link tolerance).
    records
        Source records in the run (the spine holds one row per record); ``None`` skips it.
    """
    relations = (
        Check(
            "spine_record_in_source",
            "referential_integrity",
            "critical",
            E.ExpectColumnValuesToBeInSet(column="in_source", value_set=[True]),
        ),
    )
    return SuiteDefinition(
        "linkage",
        "Linkage outputs (linkage/spine.parquet joined to the source extracts)",
        (
            Part("spine", "spine", tuple(spine_checks(records=records)), ("source", "record_id")),
            Part("spine_relations", "spine_relations", relations, ("source", "record_id")),
            Part("rates", "linkage_rates", linkage_rate_checks(config), ("breakdown", "group")),
            Part(
                "benefit_timing",
                "benefit_timing",
                benefit_timing_checks(config),
                ("dwp_master_key",),
            ),
        ),
        single_file_parts=("spine",),
    )


def linkage_rate_checks(config: ExpectationsConfig) -> tuple[Check, ...]:
    """Per target source, the census linkage rate's upper limit against its floor: over all
    census records, and in each ethnic group with enough records."""
    rates: list[Check] = []
    for source in sorted(
        set(config.min_linkage_rate) | set(config.min_linkage_rate_by_ethnic_group)
    ):
        rates.append(
            Check(
                f"linkage_rate_census_{source}",
                "linkage_rate",
                "critical",
                E.ExpectColumnValuesToBeBetween(
                    column=f"linked_{source}_upper",
                    min_value=config.min_linkage_rate.get(source, 0.0),
                    max_value=1,
                    row_condition=Column("breakdown") == "all",
                ),
            )
        )
        rates.append(
            Check(
                f"linkage_rate_census_{source}_by_ethnic_group",
                "linkage_rate",
                "critical",
                E.ExpectColumnValuesToBeBetween(
                    column=f"linked_{source}_upper",
                    min_value=config.min_linkage_rate_by_ethnic_group.get(source, 0.0),
                    max_value=1,
                    row_condition=(Column("breakdown") == "ethnic_group")
                    & (Column("records") >= config.min_group_records),
                ),
            )
        )
    return tuple(rates)


def benefit_timing_checks(config: ExpectationsConfig) -> tuple[Check, ...]:
    """No benefit before birth or after death, beyond the tolerated share of implausible
    links."""
    mostly = round(1.0 - config.max_implausible_link_share, 9)
    return (
        Check(
            "no_benefit_before_birth",
            "plausibility",
            "critical",
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="first_benefit_month",
                column_B="birth_month",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                mostly=mostly,
            ),
        ),
        Check(
            "no_benefit_after_death",
            "plausibility",
            "critical",
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="death_month",
                column_B="last_benefit_month",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                mostly=mostly,
            ),
        ),
    )
