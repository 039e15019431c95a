"""Compare a run's census linkage shares by group with ONS's published figures.

Reads a run folder (``truth/``, ``sources/census.parquet``, ``linkage/spine.parquet``) and
prints what the evaluation stage writes to ``linkage/evaluation/world_shares.parquet``, with
the same functions (:mod:`evaluation.world`): for census-to-GP and census-to-DWP, the share
of census records linked and the share whose person the source holds at all, overall and by
the groups ONS name (STUDY.md s3), beside ONS's figure, the gap and the verdict. With
``--perfect`` the truth's record map stands in for the spine, so only coverage counts.

    .venv/bin/python benchmarks/world_realism.py outputs/latest
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import polars as pl

from evaluation.world import (
    MINORITY,
    REST_OF_ENGLAND,
    census_record_outcomes,
    world_comparison,
    world_shares,
)

logger = logging.getLogger("world_realism")

ROWS: tuple[tuple[str, str], ...] = (
    ("all", "all"),
    ("age_band", "20-29"),
    ("age_band", "45-54"),
    ("sex", "Male"),
    ("sex", "Female"),
    ("minority", MINORITY),
    ("minority", "White British"),
    ("london", "London"),
    ("london", REST_OF_ENGLAND),
)


def measure(run: Path, *, perfect: bool = False) -> pl.DataFrame:
    """The evaluation stage's table (:func:`evaluation.world.world_comparison`) of a run."""
    record_map = pl.read_parquet(run / "truth" / "record_map.parquet")
    spine = record_map if perfect else pl.read_parquet(run / "linkage" / "spine.parquet")
    # The census extract's own flag, so that --perfect works on a run not yet linked; the
    # stage reads the same flag from linkage/records.parquet (census_flags).
    outcomes = census_record_outcomes(
        pl.read_parquet(run / "truth" / "people.parquet"),
        record_map,
        spine,
        pl.read_parquet(run / "sources" / "census.parquet"),
    )
    return world_comparison(world_shares(outcomes))


def summary_table(shares: pl.DataFrame) -> pl.DataFrame:
    """One row per ONS group, one column per measure (percentages, one decimal)."""
    wanted = pl.DataFrame(ROWS, schema=["breakdown", "group"], orient="row")
    wide = shares.pivot(on="measure", index=["breakdown", "group"], values="share")
    table = wanted.join(wide, on=["breakdown", "group"], how="left")
    return table.with_columns((pl.col(pl.Float64) * 100).round(1))


def against_ons(shares: pl.DataFrame) -> pl.DataFrame:
    """The shares ONS publish a figure for: share, reference and gap (points), verdict."""
    in_points = [
        (pl.col(c) * 100).round(1) for c in ("share", "reference", "gap", "gap_lower", "gap_upper")
    ]
    return shares.filter(pl.col("ons_kind").is_not_null() & (pl.col("ons_kind") != "floor")).select(
        "measure", "group", "records", *in_points, "verdict"
    )


def lowest_ethnic_groups(shares: pl.DataFrame, min_records: int = 100) -> pl.DataFrame:
    """The ethnic group with the lowest share per measure, among groups of ``min_records``+."""
    return (
        shares.filter((pl.col("breakdown") == "ethnic_group") & (pl.col("records") >= min_records))
        .sort("share")
        .group_by("measure", maintain_order=True)
        .first()
        .select("measure", "group", "records", (pl.col("share") * 100).round(1), "verdict")
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder")
    parser.add_argument("--perfect", action="store_true", help="score the truth, not the spine")
    args = parser.parse_args()
    shares = measure(args.run, perfect=args.perfect)
    with pl.Config(tbl_rows=50, tbl_width_chars=160, fmt_str_lengths=40):
        logger.info("%s", summary_table(shares))
        logger.info("%s", against_ons(shares))
        logger.info("%s", lowest_ethnic_groups(shares))


if __name__ == "__main__":
    main()
