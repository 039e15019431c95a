"""The ``analysis`` section of the run configuration."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AnalysisConfig(BaseModel):
    """Options of the published tables: the standard population, the sensitivity thresholds
    and the disclosure-control rules.

    Unknown keys are errors (``extra="forbid"``), like every section of the run configuration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    standard_population: Literal["esp2013", "study"] = Field(
        "esp2013",
        description=(
            "Standard for age standardisation: the 2013 European Standard Population, or the "
            "age distribution of the linked study population over all months."
        ),
    )
    confidence_level: float = Field(0.95, gt=0.5, lt=1.0, description="Level of the intervals.")
    thresholds: tuple[float, ...] = Field(
        (0.5, 0.9, 0.99),
        description="Match probabilities at which the headline tables are recomputed.",
    )
    require_dwp_link: bool = Field(
        False,
        description=(
            "Keep only people linked to a DWP record. When false, people with no linked DWP "
            "record count as not receiving a benefit."
        ),
    )
    conditions_recorded_by: dt.date = Field(
        dt.date(2021, 3, 31),
        description="A long-term condition counts when first recorded on or before this date.",
    )
    inverse_probability_weighting: bool = Field(
        True, description="Publish inverse-probability-weighted estimates beside the naive ones."
    )
    people_per_part: int = Field(
        1_000_000,
        ge=1,
        description=(
            "Census records per part of the study population: the population is built and "
            "counted one part of whole people at a time, so memory follows the part, not "
            "the population (the estimates are the same)."
        ),
    )
    min_count: int = Field(
        10, ge=1, description="Counts of people below this are suppressed as [c]."
    )
    rounding_base: int = Field(5, ge=1, description="Published counts are rounded to this base.")
    rate_decimals: int = Field(1, ge=0, le=2, description="Decimal places of published rates.")

    @field_validator("thresholds")
    @classmethod
    def _thresholds_are_probabilities(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for threshold in value:
            if not 0.0 < threshold < 1.0:
                raise ValueError(f"threshold {threshold} is not a probability in (0, 1)")
        return tuple(sorted(set(value)))
