"""Everything the sections share: the run's artefacts and the measures computed from them.

Each measure is computed once, on first use, and is ``None`` when an artefact it needs is
absent, so a section can say what is missing instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from evaluation import spine as spine_metrics
from evaluation.groups import person_groups
from evaluation.spine import pair_counts
from linkage.prediction import PREDICTION_COLUMNS
from quality_report import validation
from quality_report.artefacts import RECORD_ID, RunArtefacts

TARGETS: dict[str, float] = {"precision": 0.999, "recall": 0.9975}
"""Census 2021 linkage quality targets set in advance (STUDY.md section 3)."""

SPINE = "linkage/spine.parquet"
PREDICTIONS = "linkage/predictions.parquet"
RECORDS = "linkage/records.parquet"
MODEL = "linkage/model.json"
SUMMARY = "linkage/linkage_summary.json"
EVALUATION = "linkage/evaluation"
RECORD_MAP = "truth/record_map.parquet"
PEOPLE = "truth/people.parquet"


def weight_of(probability: float) -> float:
    """Match weight (log2 Bayes factor odds) of a match probability."""
    if probability >= 1.0:
        return math.inf
    if probability <= 0.0:
        return -math.inf
    return math.log2(probability / (1 - probability))


@dataclass
class ReportContext:
    """Shared state of one report build.

    Parameters
    ----------
    run
        The run folder's artefacts.
    redact
        Leave every identifier out of the report.
    seed
        Seed for the clerical-review sample and any other draw the report makes.
    clerical_per_band
        Pairs drawn per match-weight band for the clerical-review sample.
    """

    run: RunArtefacts
    redact: bool = False
    seed: int = 20110327
    clerical_per_band: int = 25
    notes: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def summary(self) -> dict[str, Any] | None:
        """``linkage/linkage_summary.json``."""
        return self.run.json(SUMMARY)

    @cached_property
    def model(self) -> dict[str, Any] | None:
        """The saved Splink model (``linkage/model.json``)."""
        return self.run.json(MODEL)

    @cached_property
    def threshold(self) -> float | None:
        """The match-probability threshold the run's spine was built at."""
        if self.summary and self.summary.get("threshold") is not None:
            return float(self.summary["threshold"])
        return None

    @cached_property
    def people(self) -> pl.DataFrame | None:
        return self.run.table(PEOPLE)

    @cached_property
    def groups(self) -> pl.DataFrame | None:
        """Breakdown attributes per true person."""
        return None if self.people is None else person_groups(self.people)

    @cached_property
    def record_map(self) -> pl.DataFrame | None:
        return self.run.table(RECORD_MAP)

    def record_groups(self, source: str) -> pl.DataFrame | None:
        """``record_id`` of a source's records with their true person's breakdowns."""
        if self.groups is None or self.record_map is None:
            return None
        return (
            self.record_map.filter(pl.col("source") == source)
            .join(self.groups, on="person_id", how="inner")
            .drop("source", "person_id")
        )

    def source_records(self, source: str) -> pl.DataFrame | None:
        """A linked source's extract with its record id as ``record_id``."""
        frame = self.run.source(source)
        if frame is None:
            return None
        return frame.rename({RECORD_ID[source]: "record_id"})

    @cached_property
    def spine(self) -> pl.DataFrame | None:
        frame = self.run.table(SPINE)
        if frame is not None:
            self.run.require_columns(SPINE, frame, ["source", "record_id", "person_id"])
        return frame

    @cached_property
    def members(self) -> pl.DataFrame | None:
        """Spine records with their cluster and (when truth is present) true person."""
        if self.spine is None:
            return None
        return spine_metrics.members(self.spine, self.record_map).sort("source", "record_id")

    @cached_property
    def has_truth(self) -> bool:
        return self.record_map is not None

    @cached_property
    def composition(self) -> pl.DataFrame | None:
        return None if self.members is None else spine_metrics.cluster_composition(self.members)

    @cached_property
    def rates(self) -> pl.DataFrame | None:
        """Linkage, recall and false-link rates by subgroup, as the evaluation stage wrote them."""
        return self.evaluation("rates_by_group")

    @cached_property
    def record_attributes(self) -> pl.DataFrame:
        """Sex, date of birth and date of death as each source record gives them."""
        return validation.record_attributes(
            self.run.source("census"), self.run.source("gp"), self.run.source("dwp")
        )

    @cached_property
    def checks(self) -> pl.DataFrame | None:
        """Post-linkage validation flags per cluster."""
        if self.members is None:
            return None
        return validation.cluster_checks(
            self.members.select("source", "record_id", "cluster_id"),
            self.record_attributes,
            self.run.source("dwp_spells"),
        )

    @cached_property
    def predictions(self) -> pl.DataFrame | None:
        """Scored pairs (without Splink's gamma columns)."""
        path = self.run.path(PREDICTIONS)
        if not path.is_file():
            return None
        wanted = PREDICTION_COLUMNS
        available = list(pl.read_parquet_schema(path))
        return pl.read_parquet(path, columns=[c for c in wanted if c in available])

    @cached_property
    def labelled_predictions(self) -> pl.DataFrame | None:
        """Predictions with ``is_match`` from the truth (null when truth is absent)."""
        pred = self.predictions
        if pred is None or self.record_map is None:
            return None
        truth = self.record_map.select("source", "record_id", "person_id")
        return (
            pred.join(
                truth.rename(
                    {"source": "source_l", "record_id": "record_id_l", "person_id": "_pl"}
                ),
                on=["source_l", "record_id_l"],
                how="left",
            )
            .join(
                truth.rename(
                    {"source": "source_r", "record_id": "record_id_r", "person_id": "_pr"}
                ),
                on=["source_r", "record_id_r"],
                how="left",
            )
            .with_columns((pl.col("_pl") == pl.col("_pr")).alias("is_match"))
            .drop("_pl", "_pr")
            # Joins do not keep row order; sums of probabilities must not depend on it.
            .sort("source_l", "record_id_l", "source_r", "record_id_r")
        )

    @cached_property
    def stage1(self) -> pl.DataFrame | None:
        """Every spine record with ``stage1``, its group after the deterministic pass alone.

        Each deterministic group is a star from its representative (the left record of its
        links), so a record's group is its representative, or itself.
        """
        pred = self.predictions
        if pred is None or self.members is None or "match_key" not in pred.columns:
            return None
        exact = pred.filter(pl.col("match_key") == "exact")
        member_of = exact.select(
            pl.col("source_r").alias("source"),
            pl.col("record_id_r").alias("record_id"),
            (pl.col("source_l") + ":" + pl.col("record_id_l")).alias("stage1"),
        )
        base = self.members.select("source", "record_id", "true_person")
        return base.join(member_of, on=["source", "record_id"], how="left").with_columns(
            pl.coalesce(pl.col("stage1"), pl.col("source") + ":" + pl.col("record_id")).alias(
                "stage1"
            )
        )

    def evaluation(self, name: str) -> pl.DataFrame | None:
        """An evaluation table written by the linkage stage (``evaluation/<name>.parquet``)."""
        return self.run.table(f"{EVALUATION}/{name}.parquet")

    @cached_property
    def true_pair_total(self) -> pl.DataFrame | None:
        """True pairs per source pair, from the truth (pairs never scored included)."""
        if self.members is None or not self.has_truth:
            return None
        return pair_counts(self.members.drop_nulls("true_person"), "true_person")
