"""The ``linkage`` section of the run configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_THRESHOLD: Literal["auto"] = "auto"
"""By default the threshold is chosen by a stated rule from the model's own probabilities,
never from a truth: the lowest candidate at which the model-expected precision of the links
clustering accepts reaches the 99.9% target (``linkage.prediction.THRESHOLD_RULE``, which
says why). A number in the configuration overrides it. (Until December 2026 the default was
0.2, read off the truth of two synthetic worlds; the rule replaced it because real data
has no truth to read.)"""


class LinkageConfig(BaseModel):
    """Options of the linkage stage (documented in ``config/default.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float | Literal["auto"] = Field(
        DEFAULT_THRESHOLD,
        description=(
            "Match probability at or above which two records are linked, or 'auto': the "
            "lowest candidate whose model-expected precision over the links clustering "
            "accepts reaches 0.999 (else the highest expected F1); the rule, the value and "
            "the expected figures are recorded in linkage_summary.json."
        ),
    )
    prediction_floor: float = Field(
        0.01,
        ge=0.0,
        lt=1.0,
        description="Pairs scored below this probability are not saved (bounds re-clustering).",
    )
    max_records_per_source: int = Field(
        2,
        ge=1,
        description=(
            "Most records one person may hold in a source with duplicates (GP, DWP); "
            "clustering refuses links beyond it."
        ),
    )
    household_evidence: bool = Field(
        True,
        description=(
            "Weigh whether a census record's household members are linked at the candidate's "
            "postcode (linkage/household.py)."
        ),
    )
    max_invalid_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Unreadable dates, postcodes and numbers become missing and are counted; an input "
            "column with a larger share of its recorded values unreadable is refused."
        ),
    )
    memory_limit: str = Field(
        "8GB",
        description=(
            "DuckDB memory limit, e.g. '8GB'; beyond it DuckDB spills to temp_directory, so a "
            "link larger than memory completes, more slowly."
        ),
    )
    threads: int = Field(2, gt=0, description="DuckDB worker threads.")
    temp_directory: Path | None = Field(
        None,
        description=(
            "Where DuckDB spills to disk; null uses a folder inside the linkage stage's "
            "working folder (on the run's disk), removed when the stage ends."
        ),
    )
    model_path: Path | None = Field(
        None, description="A saved model.json to reuse; null trains a new model."
    )
    min_records_to_train: int = Field(
        2000,
        ge=0,
        description=(
            "Below this many records the packaged model (trained on a synthetic world) is "
            "used instead of training, which needs thousands of records to be reliable."
        ),
    )
    deterministic_pass: bool = Field(
        True,
        description="Join records agreeing exactly on every standardised identifier first.",
    )
    u_max_pairs: float = Field(1e6, gt=0, description="Pairs sampled to estimate u.")
    em_max_pairs: float = Field(
        2e6, gt=0, description="Upper bound on pairs per expectation-maximisation session."
    )
    em_max_iterations: int = Field(25, gt=0, description="Iteration limit per EM session.")
    on_no_convergence: Literal["raise", "warn"] = Field(
        "warn", description="What to do when an EM session hits its iteration limit."
    )
    seed: int = Field(42, ge=0, description="Seed for Splink's random sampling.")
    charts: bool = Field(True, description="Write Splink's diagnostic charts as offline HTML.")
    predict_chunks: int | Literal["auto"] = Field(
        "auto",
        description=(
            "Split prediction into this many chunks of records, scored one after another to "
            "bound memory; 'auto' uses one chunk per 4 million records left for Splink."
        ),
    )
    # Backend and Spark resources (linkage/backends.py; docs/scaling.md).
    backend: Literal["duckdb", "spark"] = Field(
        "duckdb", description="Engine Splink runs on: DuckDB (one machine) or Spark."
    )
    spark_master: str = Field(
        "local[2]", description="Spark master: 'local[N]' or a cluster URL (spark://, yarn)."
    )
    spark_remote: str | None = Field(
        None,
        description=(
            "Spark Connect: the URL of a remote Spark Connect server (sc://host:15002), or "
            "'local[N]' for a local one; null uses a classic session on spark_master. With a "
            "remote server, spark_master and spark_driver_memory are the server's own."
        ),
    )
    spark_driver_memory: str = Field("4g", description="Spark driver memory, e.g. '4g'.")
    spark_shuffle_partitions: int = Field(
        8,
        gt=0,
        description="spark.sql.shuffle.partitions: small locally, 2-4 per cluster core.",
    )
    spark_checkpoint_dir: str | None = Field(
        None,
        description=(
            "Where Spark writes Splink's intermediate tables (shared storage on a cluster); "
            "null uses a folder in the system temp."
        ),
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description="Further Spark settings, e.g. spark.executor.memory for a cluster.",
    )
