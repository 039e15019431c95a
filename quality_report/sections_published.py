"""Sections 11, 12 and 15: threshold sensitivity, bias correction, the impact statement."""

from __future__ import annotations

import polars as pl

from quality_report import charts
from quality_report.context import ReportContext
from quality_report.document import Section, escape, figure, figure_table, pct, points
from quality_report.published import (
    BEFORE,
    bias_cells,
    change_cells,
    estimates,
    latest_month,
    load_series,
)

SERIES_TABLES: tuple[str, ...] = ("by_imd_quintile", "by_ethnic_group")
"""Published tables drawn as series, linked against truth."""

MATERIAL_PP = 0.5
"""A bias of at least this many percentage points is called material in the statement."""


TABLE_LABELS: dict[str, str] = {
    "overall": "All people",
    "by_imd_quintile": "IMD quintile",
    "by_imd_decile": "IMD decile",
    "by_ethnic_group": "Ethnic group",
    "by_ethnic_group_5": "Ethnic group (five groups)",
    "by_age_band": "Age band",
    "by_sex": "Sex",
    "by_region": "Region",
    "by_disability": "Disability",
    "by_condition": "Long-term condition",
    "by_benefit": "Benefit",
}
BREAKDOWN_LABELS: dict[str, str] = {"imd_quintile": "IMD quintile", "age_band": "age band"}


def table_label(table: str) -> str:
    """A published table's name as a reader would say it."""
    return TABLE_LABELS.get(table, table.removeprefix("by_").replace("_", " ").capitalize())


def _cell(table: str, group: str) -> str:
    if table == "overall":
        return "All people"
    return f"{escape(table_label(table))}: {escape(group)}"


def _series(ctx: ReportContext) -> pl.DataFrame | None:
    if "series" not in ctx.notes:
        ctx.notes["series"] = load_series(ctx.run)
    return ctx.notes["series"]


def _headline_table(series: pl.DataFrame) -> str:
    tables = series.get_column("table").unique().to_list()
    for preferred in ("overall", "all", "by_sex"):
        if preferred in tables:
            return preferred
    overall = series.filter(pl.col("breakdown") == "all")
    return overall.get_column("table").first() if overall.height else sorted(tables)[0]


def sensitivity_section(ctx: ReportContext) -> Section:
    """Checklist item 11: published statistics recomputed at three or more thresholds."""
    section = Section(
        "sensitivity", "11. Sensitivity of the published statistics to the threshold", (11,)
    )
    series = _series(ctx)
    if series is None:
        section.missing("analysis/published/*.parquet", "threshold sensitivity cannot be shown.")
        return section
    kinds = [k for k in estimates(series) if k.startswith("threshold_") or k == "linked"]
    thresholds = [k for k in kinds if k.startswith("threshold_")]
    if not thresholds:
        section.missing(
            "analysis/published/* estimate threshold_<p>",
            "the analysis did not publish estimates at other thresholds.",
        )
        return section
    last = latest_month(series)
    table = _headline_table(series)
    part = series.filter(pl.col("estimate").is_in([*kinds, "truth"]))
    wide = (
        part.filter(pl.col("month").is_in([BEFORE, last]))
        .select("table", "group", "month", "estimate", "asr_pct")
        .with_columns(pl.col("month").cast(pl.Utf8))
        .pivot(on="estimate", index=["table", "group", "month"], values="asr_pct")
        .sort("table", "group", "month")
    )
    spread = wide.with_columns(
        pl.max_horizontal(kinds).sub(pl.min_horizontal(kinds)).alias("spread_pp")
    )
    worst = spread.sort(
        ["spread_pp", "table", "group", "month"],
        descending=[True, False, False, False],
        nulls_last=True,
    ).row(0, named=True)
    section.add(
        f"<p>Estimates at {len(thresholds)} alternative thresholds beside the run's own "
        f"(<code>linked</code>). The largest spread across thresholds is "
        f"{figure('sensitivity/max_spread_pp', worst['spread_pp'])} percentage points "
        f"({escape(worst['table'])}, {escape(worst['group'])}, {escape(worst['month'])}).</p>",
        charts.series_chart(
            part.filter(pl.col("table") == table),
            title=f"{table}: estimates at each threshold",
            element_id="sensitivity-series",
        ),
        "<details><summary>February 2020 and the last month, every table</summary>"
        + figure_table(
            spread, key="sensitivity", row_key=["table", "group", "month"], max_rows=2000
        )
        + "</details>",
    )
    return section


def bias_section(ctx: ReportContext) -> Section:
    """Checklist item 12 and the linked-against-truth series: naive, corrected, true."""
    section = Section(
        "bias", "12. Bias correction and the published series against the truth", (12,)
    )
    series = _series(ctx)
    if series is None:
        section.missing("analysis/published/*.parquet", "the published series are absent.")
        return section
    kinds = estimates(series)
    shown = [k for k in ("linked", "truth", "ipw") if k in kinds]
    for table in SERIES_TABLES:
        part = series.filter((pl.col("table") == table) & pl.col("estimate").is_in(shown))
        if part.height:
            section.add(
                charts.series_chart(
                    part, title=f"{table}: {', '.join(shown)}", element_id=f"series-{table}"
                )
            )
    if "ipw" not in kinds:
        section.missing(
            "analysis/published/* estimate ipw", "no bias-corrected estimate was published."
        )
    last = latest_month(series)
    naive, origin = bias_cells(ctx.run, series, last)
    if "ipw" not in kinds:
        naive = naive.drop("ipw_pct", "ipw_bias_pp", "ipw_ci_holds_truth")
    section.add(
        f"<h3>Naive, corrected and true estimates, {last:%B %Y}</h3>",
        f'<p class="note">Source: {escape(origin)}. Bias in percentage points (estimate '
        "minus truth).</p>",
        figure_table(
            naive.sort("table", "group"), key="bias", row_key=["table", "group"], max_rows=2000
        ),
    )
    if "ipw" in kinds and naive.height:
        summary = naive.select(
            pl.col("linked_bias_pp").abs().mean().alias("linked"),
            pl.col("ipw_bias_pp").abs().mean().alias("ipw"),
        ).row(0, named=True)
        section.add(
            "<p>Mean absolute bias across every published cell: naive linked estimate "
            f"{figure('bias/mean_abs_linked_pp', summary['linked'])} percentage points; "
            f"inverse-probability weighted {figure('bias/mean_abs_ipw_pp', summary['ipw'])}.</p>"
        )
    return section


def _rate_sentences(ctx: ReportContext) -> list[str]:
    if ctx.rates is None:
        return []
    sentences = []
    for target in ("gp", "dwp"):
        part = ctx.rates.filter(
            (pl.col("target") == target)
            & (pl.col("breakdown") != "all")
            & (pl.col("true_links") >= 20)
        ).drop_nulls("recall")
        overall = ctx.rates.filter((pl.col("target") == target) & (pl.col("breakdown") == "all"))
        if not part.height or not overall.height:
            continue
        low = part.sort("recall", "breakdown", "group").row(0, named=True)
        total = overall.row(0, named=True)["recall"]
        sentences.append(
            f"Census records were linked to their {target.upper()} records least often for "
            f"{escape(BREAKDOWN_LABELS.get(low['breakdown'], low['breakdown'].replace('_', ' ')))}"
            f" {escape(low['group'])}: recall "
            f"{figure(f'impact/lowest_recall/{target}', low['recall'], pct)} against "
            f"{figure(f'impact/overall_recall/{target}', total, pct)} "
            "overall. Where missed links fall on people whose benefit receipt differs, the "
            "linked figures for that group are biased towards the people who link easily."
        )
    return sentences


def _gap_sentence(ctx: ReportContext) -> str | None:
    """How linkage changes the widening of ethnic gaps, the study's headline finding."""
    gaps = ctx.run.table("analysis/published/ethnic_gaps.parquet")
    if gaps is None or not {"estimate", "group", "gap_widening"} <= set(gaps.columns):
        return None
    usable = gaps.filter(pl.col("gap_widening").is_not_null())
    linked = usable.filter(pl.col("estimate") == "linked").select(
        "group", pl.col("gap_widening").alias("linked")
    )
    truth = usable.filter(pl.col("estimate") == "truth").select(
        "group", pl.col("gap_widening").alias("truth")
    )
    both = linked.join(truth, on="group").with_columns(
        (pl.col("linked") - pl.col("truth")).alias("difference")
    )
    if not both.height:
        return None
    row = both.sort([pl.col("difference").abs(), pl.col("group")], descending=[True, False]).row(
        0, named=True
    )
    way = "overstates" if row["difference"] > 0 else "understates"
    return (
        f"Ethnic gaps to White British: the change in the {escape(row['group'])} gap between "
        f"February 2020 and March 2021 is {figure('impact/gap/linked', row['linked'], points)} "
        f"points in the linked figures against {figure('impact/gap/truth', row['truth'], points)} "
        f"in the truth, so linkage {way} the widening by "
        f"{figure('impact/gap/difference', abs(row['difference']), points)} points (the largest "
        f"such distortion among the {both.height} groups with published gaps)."
    )


def impact_section(ctx: ReportContext) -> Section:
    """Checklist item 15: which published figures could be biased, which way, by how much."""
    section = Section("impact", "15. Impact on the published figures (plain English)", (15,))
    sentences = _rate_sentences(ctx)
    series = _series(ctx)
    if series is None:
        section.missing(
            "analysis/published/*.parquet",
            "the statement below rests on linkage rates only; the size of the bias in the "
            "published figures cannot be stated.",
        )
    else:
        last = latest_month(series)
        cells, _ = bias_cells(ctx.run, series, last)
        cells = cells.rename({"linked_pct": "asr_pct", "linked_bias_pp": "bias_pp"}).with_columns(
            pl.col("linked_ci_holds_truth").alias("interval_holds_truth")
        )
        material = cells.filter(pl.col("bias_pp").abs() >= MATERIAL_PP).sort(
            [pl.col("bias_pp").abs(), pl.col("table"), pl.col("group")],
            descending=[True, False, False],
        )
        outside = cells.filter(~pl.col("interval_holds_truth"))
        sentences.append(
            f"Of the {figure('impact/cells', cells.height)} published cells for {last:%B %Y}, "
            f"{figure('impact/material_cells', material.height)} differ from the truth by "
            f"{MATERIAL_PP} percentage points or more, and in "
            f"{figure('impact/outside_ci', outside.height)} the truth lies outside the published "
            "95% confidence interval."
        )
        items = []
        for row in material.head(5).iter_rows(named=True):
            way = "overstates" if row["bias_pp"] > 0 else "understates"
            key = f"impact/bias/{row['table']}|{row['group']}"
            items.append(
                f"<li>{_cell(row['table'], row['group'])}: the linked "
                f"estimate {way} the truth by {figure(key, abs(row['bias_pp']), points)} "
                f"percentage points ({row['asr_pct']:.2f}% against {row['truth_pct']:.2f}%)."
                "</li>"
            )
        if items:
            sentences.append("The largest differences:</p><ul>" + "".join(items) + "</ul><p>")
        change = change_cells(ctx.run, series)
        if change.height:
            worst = change.sort(
                [pl.col("bias_pp").abs(), pl.col("table"), pl.col("group")],
                descending=[True, False, False],
            ).row(0, named=True)
            way = "overstates" if worst["bias_pp"] > 0 else "understates"
            sentences.append(
                f"The pandemic rise (February 2020 to {last:%B %Y}) is most distorted for "
                f"{_cell(worst['table'], worst['group'])}: the "
                f"linked series {way} the true change of {worst['true_change_pp']:.2f} points by "
                f"{figure('impact/change_bias', abs(worst['bias_pp']), points)} points."
            )
        gap = _gap_sentence(ctx)
        if gap is not None:
            sentences.append(gap)
        if "ipw" in estimates(series):
            fixed = cells.drop_nulls(["ipw_bias_pp", "bias_pp"])
            better = fixed.filter(pl.col("ipw_bias_pp").abs() < pl.col("bias_pp").abs()).height
            sentences.append(
                f"Inverse-probability weighting moves {figure('impact/ipw_better', better)} of "
                f"{fixed.height} cells closer to the truth."
            )
    if not sentences:
        section.missing("linkage/spine.parquet", "there is nothing yet to base a statement on.")
        return section
    section.add('<div class="impact">' + "".join(f"<p>{s}</p>" for s in sentences) + "</div>")
    return section
