"""The ``expectations`` section of the run configuration: thresholds of the quality gates."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    # Same rules as every configuration section: unknown keys are errors, values frozen.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowsPerPerson(_Section):
    """Expected rows of each source extract per person of the synthetic England.

    The row-count expectation of a source accepts ``people * ratio`` within the configured
    relative tolerance (plus sampling slack for small worlds).
    """

    census: float = Field(0.80, gt=0, description="Census responses per person.")
    gp_registrations: float = Field(0.95, gt=0, description="GP registration rows per person.")
    gp_conditions: float = Field(0.40, gt=0, description="GP condition rows per person.")
    dwp_customers: float = Field(0.85, gt=0, description="DWP customer keys per person.")
    dwp_benefit_spells: float = Field(0.25, gt=0, description="Benefit spells per person.")


class ExpectationsConfig(_Section):
    """Thresholds for the Great Expectations gates run after each stage."""

    quarantine: bool = Field(
        False, description="Write failing rows of source extracts to validation/quarantine/."
    )
    rows_per_person: RowsPerPerson = RowsPerPerson()
    row_count_tolerance: float = Field(
        0.5, ge=0, le=1, description="Relative tolerance around the expected row counts."
    )
    max_missing_identifier_share: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Warn when more than this share of an identifying column is blank.",
    )
    earliest_date_of_birth: dt.date = Field(
        dt.date(1900, 1, 1), description="Dates of birth before this are out of range."
    )
    min_linkage_rate: float = Field(
        0.80, ge=0, le=1, description="Minimum share of census records linked to each source."
    )
    min_linkage_rate_by_ethnic_group: float = Field(
        0.70, ge=0, le=1, description="The same minimum, for every ethnic group."
    )
    min_group_records: int = Field(
        100, ge=1, description="Ethnic groups with fewer census records are not rate-tested."
    )
    linkage_rate_sources: tuple[Literal["gp", "dwp"], ...] = Field(
        ("gp", "dwp"), description="Sources whose linkage rate from the census is gated."
    )
    max_implausible_link_share: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Share of linked benefit spells allowed before birth or after death.",
    )
    disclosure_min_count: int = Field(10, ge=1, description="Smallest publishable count.")
    rounding_base: int = Field(5, ge=1, description="Published counts are multiples of this.")
    sample_size: int = Field(
        5, ge=1, le=50, description="Offending record ids shown per failing expectation."
    )
