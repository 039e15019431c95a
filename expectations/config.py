"""The ``expectations`` section of the run configuration: thresholds of the quality gates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

LinkedSource = Literal["gp", "dwp"]
Rate = Annotated[float, Field(ge=0, le=1)]


class _Section(BaseModel):
    # Same rules as every configuration section: unknown keys are errors, values frozen.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowsPerPerson(_Section):
    """Expected rows of each source extract per person of the synthetic England.

    The row-count expectation of a source accepts ``people * ratio`` within the configured
    relative tolerance (plus sampling slack for small worlds).
    """

    census: float = Field(0.81, gt=0, description="Census responses per person.")
    gp_registrations: float = Field(0.81, gt=0, description="GP registration rows per person.")
    gp_conditions: float = Field(0.38, gt=0, description="GP condition rows per person.")
    dwp_customers: float = Field(0.82, gt=0, description="DWP customer keys per person.")
    dwp_benefit_spells: float = Field(0.26, gt=0, description="Benefit spells per person.")


class ExpectationsConfig(_Section):
    """Thresholds for the Great Expectations gates run after each stage."""

    quarantine: bool = Field(
        False, description="Write failing rows of source extracts to validation/quarantine/."
    )
    rows_per_person: RowsPerPerson = RowsPerPerson()
    row_count_tolerance: float = Field(
        0.25, ge=0, le=1, description="Relative tolerance around the expected row counts."
    )
    max_missing_identifier_share: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Warn when more than this share of an identifying column is blank.",
    )
    max_recording_error_share: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Share of births after the extract date tolerated as recording errors.",
    )
    earliest_date_of_birth: dt.date = Field(
        dt.date(1900, 1, 1), description="Dates of birth before this are out of range."
    )
    # Defaults sit below what perfect linkage achieves on the default world (census to GP
    # about 0.79 overall, 0.68-0.86 by ethnic group; census to DWP about 0.90 and 0.82-0.94):
    # deaths, emigration, unregistered people and GP practices outside the extract cap them.
    min_linkage_rate: dict[LinkedSource, Rate] = Field(
        {"gp": 0.70, "dwp": 0.80},
        description="Minimum share of census records linked to each source, overall.",
    )
    min_linkage_rate_by_ethnic_group: dict[LinkedSource, Rate] = Field(
        {"gp": 0.55, "dwp": 0.65},
        description="Minimum share of census records linked to each source, per ethnic group.",
    )
    min_group_records: int = Field(
        100, ge=1, description="Ethnic groups with fewer census records are not rate-tested."
    )
    max_implausible_link_share: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Share of linked benefit spells allowed before birth or after death.",
    )
    disclosure_min_count: int = Field(10, ge=1, description="Smallest publishable count.")
    small_base_people: int = Field(
        1000,
        ge=1,
        description="Rates on fewer people are checked against their crude rate.",
    )
    max_asr_crude_gap_pp: float = Field(
        5.0,
        ge=0,
        description=(
            "Warn when a standardised rate on a small base departs from its crude rate by "
            "more than this many percentage points (a sign that a few people carry the "
            "weight of a band)."
        ),
    )
    max_jump_standard_errors: float = Field(
        4.0,
        gt=0,
        description=(
            "Warn when a month-on-month change on a small base exceeds this many standard "
            "errors (from the published intervals, months treated as independent: a "
            "conservative bound)."
        ),
    )
    rounding_base: int = Field(5, ge=1, description="Published counts are multiples of this.")
    sample_size: int = Field(
        5, ge=1, le=50, description="Offending record ids shown per failing expectation."
    )
