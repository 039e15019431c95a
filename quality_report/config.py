"""The ``report`` section of the run configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportConfig(BaseModel):
    """Options of the linkage quality report (documented in ``config/default.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redact: bool = Field(
        False,
        description=(
            "Leave every identifier (names, dates of birth, postcodes, NHS numbers, NINOs) out "
            "of the report; Splink's dashboards, which show records, are then not written."
        ),
    )
    clerical_per_band: int = Field(
        25, gt=0, le=1000, description="Pairs drawn per match-weight band for clerical review."
    )
