"""The analysis stage's published tables: linked, truth, bias-corrected and threshold series."""

from __future__ import annotations

from datetime import date

import polars as pl

from quality_report.artefacts import RunArtefacts

TIDY_COLUMNS: tuple[str, ...] = (
    "table",
    "breakdown",
    "group",
    "month",
    "estimate",
    "asr_pct",
    "asr_lower",
    "asr_upper",
)
"""Columns of the tidy monthly rate tables (``docs/data_contracts.md``)."""

BEFORE = date(2020, 2, 1)
"""The last month before the pandemic, the study's comparison point."""


def load_series(run: RunArtefacts) -> pl.DataFrame | None:
    """Every tidy monthly rate table under ``analysis/published/``, stacked."""
    parts = []
    for path in run.glob("analysis/published/*.parquet"):
        schema = pl.read_parquet_schema(path)
        if all(c in schema for c in TIDY_COLUMNS):
            parts.append(
                pl.read_parquet(
                    path,
                    columns=[*TIDY_COLUMNS, "status"] if "status" in schema else list(TIDY_COLUMNS),
                )
            )
    if not parts:
        return None
    frame = pl.concat(parts, how="diagonal_relaxed")
    return frame.with_columns(pl.col("month").cast(pl.Date), pl.col("group").cast(pl.Utf8))


def latest_month(series: pl.DataFrame) -> date:
    """The last month of the series."""
    return series.get_column("month").max()


def estimates(series: pl.DataFrame) -> list[str]:
    """Estimate kinds present, linked and truth first."""
    kinds = series.get_column("estimate").unique().to_list()
    order = {"linked": 0, "truth": 1, "ipw": 2}
    return sorted(kinds, key=lambda k: (order.get(k, 3), k))


def compare_at(series: pl.DataFrame, month: date, estimate: str = "linked") -> pl.DataFrame:
    """Per table and group at ``month``: the estimate, the truth, their difference in
    percentage points and whether the estimate's interval holds the truth."""
    at = series.filter(pl.col("month") == month)
    est = at.filter(pl.col("estimate") == estimate).select(
        "table", "breakdown", "group", "asr_pct", "asr_lower", "asr_upper"
    )
    truth = at.filter(pl.col("estimate") == "truth").select(
        "table", "group", pl.col("asr_pct").alias("truth_pct")
    )
    return (
        est.join(truth, on=["table", "group"], how="inner")
        .drop_nulls(["asr_pct", "truth_pct"])
        .with_columns(
            (pl.col("asr_pct") - pl.col("truth_pct")).alias("bias_pp"),
            pl.col("truth_pct")
            .is_between(pl.col("asr_lower"), pl.col("asr_upper"))
            .alias("interval_holds_truth"),
        )
    )


def change_bias(series: pl.DataFrame, estimate: str = "linked") -> pl.DataFrame:
    """Change from February 2020 to the last month, estimated and true, per table and group."""
    last = latest_month(series)

    def change(kind: str, name: str) -> pl.DataFrame:
        part = series.filter(pl.col("estimate") == kind)
        before = part.filter(pl.col("month") == BEFORE).select(
            "table", "group", pl.col("asr_pct").alias("b")
        )
        after = part.filter(pl.col("month") == last).select(
            "table", "group", pl.col("asr_pct").alias("a")
        )
        return before.join(after, on=["table", "group"]).select(
            "table", "group", (pl.col("a") - pl.col("b")).alias(name)
        )

    return (
        change(estimate, "estimated_change_pp")
        .join(change("truth", "true_change_pp"), on=["table", "group"])
        .drop_nulls()
        .with_columns((pl.col("estimated_change_pp") - pl.col("true_change_pp")).alias("bias_pp"))
    )


BIAS_COLUMNS: tuple[str, ...] = (
    "table",
    "group",
    "truth_pct",
    "linked_pct",
    "linked_bias_pp",
    "linked_ci_holds_truth",
    "ipw_pct",
    "ipw_bias_pp",
    "ipw_ci_holds_truth",
)


def bias_cells(run: RunArtefacts, series: pl.DataFrame, month: date) -> tuple[pl.DataFrame, str]:
    """Naive and weighted estimates against the truth per published cell at ``month``.

    The analysis stage's own ``bias`` table is used when it was published (its bias comes
    from unrounded estimates); otherwise the bias is computed here from the published,
    rounded series.

    Returns
    -------
    tuple
        The frame (:data:`BIAS_COLUMNS`, ipw columns null without weighted estimates) and
        where it came from.
    """
    published = run.table("analysis/published/bias.parquet")
    if published is not None and "bias_pp" in published.columns:
        frame = published.filter((pl.col("month") == month) & pl.col("bias_pp").is_not_null())
        has_ipw = "ipw_bias_pp" in frame.columns
        out = frame.select(
            "table",
            pl.col("group").cast(pl.Utf8),
            pl.col("truth_asr").alias("truth_pct"),
            pl.col("linked_asr").alias("linked_pct"),
            pl.col("bias_pp").alias("linked_bias_pp"),
            (~pl.col("truth_outside_ci")).alias("linked_ci_holds_truth"),
            (pl.col("ipw_asr") if has_ipw else pl.lit(None, dtype=pl.Float64)).alias("ipw_pct"),
            (pl.col("ipw_bias_pp") if has_ipw else pl.lit(None, dtype=pl.Float64)).alias(
                "ipw_bias_pp"
            ),
            (
                ~pl.col("ipw_truth_outside_ci")
                if "ipw_truth_outside_ci" in frame.columns
                else pl.lit(None, dtype=pl.Boolean)
            ).alias("ipw_ci_holds_truth"),
        )
        return out.sort("table", "group"), "analysis/published/bias.parquet"
    naive = compare_at(series, month, "linked").select(
        "table",
        "group",
        "truth_pct",
        pl.col("asr_pct").alias("linked_pct"),
        pl.col("bias_pp").alias("linked_bias_pp"),
        pl.col("interval_holds_truth").alias("linked_ci_holds_truth"),
    )
    if "ipw" in estimates(series):
        ipw = compare_at(series, month, "ipw").select(
            "table",
            "group",
            pl.col("asr_pct").alias("ipw_pct"),
            pl.col("bias_pp").alias("ipw_bias_pp"),
            pl.col("interval_holds_truth").alias("ipw_ci_holds_truth"),
        )
        naive = naive.join(ipw, on=["table", "group"], how="left")
    else:
        naive = naive.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("ipw_pct"),
            pl.lit(None, dtype=pl.Float64).alias("ipw_bias_pp"),
            pl.lit(None, dtype=pl.Boolean).alias("ipw_ci_holds_truth"),
        )
    return naive.select(BIAS_COLUMNS).sort("table", "group"), "computed from the published series"


def change_cells(run: RunArtefacts, series: pl.DataFrame) -> pl.DataFrame:
    """The pandemic change (February 2020 to the last month), estimated and true.

    Uses the analysis stage's ``change`` table when published, else the series.
    """
    published = run.table("analysis/published/change.parquet")
    if published is not None and "abs_change" in published.columns:
        usable = (
            published.filter(~pl.col("hidden").fill_null(True))
            if "hidden" in published.columns
            else published
        )
        linked = usable.filter(pl.col("estimate") == "linked").select(
            "table", "group", pl.col("abs_change").alias("estimated_change_pp")
        )
        truth = usable.filter(pl.col("estimate") == "truth").select(
            "table", "group", pl.col("abs_change").alias("true_change_pp")
        )
        return (
            linked.join(truth, on=["table", "group"])
            .drop_nulls()
            .with_columns(
                (pl.col("estimated_change_pp") - pl.col("true_change_pp")).alias("bias_pp")
            )
            .sort("table", "group")
        )
    return change_bias(series).sort("table", "group")
