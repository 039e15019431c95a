"""The ``world`` section of the run configuration: validated, layered, with ``NO_NOISE``.

Defaults live in ``world_defaults.yaml`` beside this module; a run configuration's ``world``
mapping overrides them key by key. Every section forbids unknown keys, so a typo is an error
that names the key and lists the valid ones.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from common.mappings import merge_mappings
from synthetic_data.noise.registry import column_noise_types, row_noise_types
from synthetic_data.noise.types import HISTORY_SOURCES, SOURCE_COLUMNS, SOURCES

DEFAULTS_PATH = Path(__file__).resolve().parent / "world_defaults.yaml"

#: The named setting that switches every recording error off: ``world: {noise: no_noise}``.
NO_NOISE = "no_noise"

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(ge=0.0)]
EthnicCode = Literal[
    "01", "02", "03", "04", "05", "06", "07", "08", "09",
    "10", "11", "12", "13", "14", "15", "16", "17", "18",
]  # fmt: skip
Cluster = Literal["AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"]
AgeBand = Literal["16-24", "25-34", "35-49", "50-64"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupMultipliers(_Strict):
    """Rate multipliers for groups that real records treat worse (before renormalising).

    ``young_men`` applies to men aged 20-39, ``men`` to all men and ``young_adults`` to
    everyone aged 20-29 (ONS's under-represented age band), so the three combine for men
    in their twenties. ``men`` and ``young_adults`` default to 1 (no effect).
    """

    young_men: Positive
    men: Positive = 1.0
    young_adults: Positive = 1.0
    minority: Positive
    movers: Positive
    london: Positive
    deprived: Positive
    minority_groups: tuple[EthnicCode, ...]


class PopulationSection(_Strict):
    """Life-course parameters of the truth population."""

    people_per_lsoa: Annotated[int, Field(ge=1)]
    births_share: Probability
    immigrant_share: Probability
    emigration_rate: Probability
    mortality_scale: Positive
    move_rate: Probability
    leave_home_share: Probability
    local_move_share: Probability
    marriage_rate: Probability
    double_barrel_share: Probability
    keep_surname_share: Probability
    twin_share: Probability
    father_son_same_name: Probability
    shared_dob_postcode: Probability
    spelling_change_rate: Probability

    @model_validator(mode="after")
    def _shares_fit(self) -> PopulationSection:
        if self.births_share + self.immigrant_share >= 0.9:
            raise ValueError("births_share + immigrant_share must be below 0.9")
        return self


class CensusSection(_Strict):
    """How the 2011 Census enumerated the population."""

    non_response: Probability
    household_clustering: Probability
    wholly_imputed_share: Probability
    not_usual_resident: Probability
    multipliers: GroupMultipliers


class GPSection(_Strict):
    """How GP registrations cover the population."""

    practice_coverage: Probability
    opt_out: Probability
    unregistered: Probability
    ghost_share: Probability
    patients_per_practice: Annotated[int, Field(gt=0)]
    multipliers: GroupMultipliers


class DWPSection(_Strict):
    """How DWP customer records cover the population."""

    nino_coverage: Probability
    multipliers: GroupMultipliers


class BenefitsSection(_Strict):
    """The planted benefit patterns (STUDY.md section 4)."""

    pre_pandemic_prevalence: Probability
    pandemic_step: Probability
    step_start: dt.date
    step_end: dt.date
    plateau_churn: Probability
    deprivation_factors: Annotated[list[Positive], Field(min_length=10, max_length=10)]
    step_deprivation_factors: Annotated[list[Positive], Field(min_length=10, max_length=10)]
    ethnic_factors: dict[EthnicCode, Positive]
    ethnic_step_factors: dict[EthnicCode, Positive]
    age_factors: dict[AgeBand, Positive]
    age_step_factors: dict[AgeBand, Positive]
    sex_factors: dict[Literal["M", "F"], Positive]
    condition_factors: dict[Literal["SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"], Positive]
    disability_factors: dict[Literal["1", "2", "3"], Positive]
    autism_ld_prevalence: Probability
    excluded_bereavement: Probability

    @model_validator(mode="after")
    def _complete(self) -> BenefitsSection:
        for name, expected in (
            ("ethnic_factors", 18),
            ("ethnic_step_factors", 18),
            ("age_factors", 4),
            ("age_step_factors", 4),
            ("sex_factors", 2),
            ("disability_factors", 3),
        ):
            if len(getattr(self, name)) != expected:
                raise ValueError(f"{name} needs all {expected} keys")
        if self.step_end <= self.step_start:
            raise ValueError("step_end must be after step_start")
        return self


class HealthSection(_Strict):
    """Scales on the prevalence of each long-term condition cluster."""

    prevalence_scale: dict[Cluster, Positive]


class QualitySection(_Strict):
    """The per-record quality factor that correlates errors within a record."""

    sigma: Positive
    multipliers: GroupMultipliers


def _camel(name: str) -> str:
    return name.title().replace("_", "")


def _noise_models() -> type[BaseModel]:
    """Build the noise section: source -> column -> noise type -> probability."""
    sources: dict[str, Any] = {}
    for source in SOURCES + HISTORY_SOURCES:
        fields: dict[str, Any] = {}
        row_types = row_noise_types(source)
        row_model = create_model(
            f"{_camel(source)}RowNoise",
            __base__=_Strict,
            **{t: (Probability, 0.0) for t in row_types},
        )
        fields["row"] = (row_model, row_model())
        for column in SOURCE_COLUMNS[source]:
            types = column_noise_types(source, column)
            model = create_model(
                f"{_camel(source)}{_camel(column)}Noise",
                __base__=_Strict,
                **{t: (Probability, 0.0) for t in types},
            )
            fields[column] = (model, model())
        source_model = create_model(f"{_camel(source)}Noise", __base__=_Strict, **fields)
        sources[source] = (source_model, source_model())
    return create_model("NoiseSection", __base__=_Strict, **sources)


NoiseSection = _noise_models()


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    return yaml.safe_load(DEFAULTS_PATH.read_text(encoding="utf-8"))


class WorldConfig(_Strict):
    """Everything that shapes the synthetic England and its three extracts.

    Missing keys take the packaged defaults (``world_defaults.yaml``). ``noise`` may be a
    mapping of overrides, ``"default"``, or ``NO_NOISE`` (every recording error off).
    """

    block_size: Annotated[int, Field(ge=100)]
    workers: Annotated[int, Field(ge=1, le=64)]
    population: PopulationSection
    census: CensusSection
    gp: GPSection
    dwp: DWPSection
    benefits: BenefitsSection
    health: HealthSection
    quality: QualitySection
    noise: NoiseSection  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _layer_defaults(cls, data: Any) -> Any:
        if isinstance(data, BaseModel):
            return data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValueError("the world section must be a mapping")
        defaults = _defaults()
        noise = data.get("noise", "default")
        data = merge_mappings(
            {k: v for k, v in defaults.items() if k != "noise"},
            {k: v for k, v in data.items() if k != "noise"},
        )
        if noise == NO_NOISE:
            data["noise"] = {}
        elif noise == "default" or noise is None:
            data["noise"] = defaults["noise"]
        elif isinstance(noise, dict):
            data["noise"] = merge_mappings(defaults["noise"], noise)
        else:
            raise ValueError(f"noise must be 'default', '{NO_NOISE}' or a mapping, not {noise!r}")
        return data

    def probability(self, source: str, column: str, noise_type: str) -> float:
        """The configured probability of one noise type on one column (``row`` for rows)."""
        node = getattr(getattr(self.noise, source), column)
        return float(getattr(node, noise_type))
