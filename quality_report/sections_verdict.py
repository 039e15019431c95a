"""The report's first section: the verdict a methodologist signs.

It restates nothing the later sections compute differently: verdicts come from the
evaluation stage's pairwise table (``linkage/evaluation/pairwise.parquet``) and the risks
from its comparison with the target-population truth (``evaluation/target_comparison``).
"""

from __future__ import annotations

import polars as pl

from quality_report.context import TARGETS, ReportContext
from quality_report.document import Section, escape, figure, figure_table, pct, points
from quality_report.sections_quality import pairwise_table, target_verdicts

VERDICT_SCOPE = "linkable"
"""The targets are judged on linkable records: wholly imputed census records carry no
identifiers, so no method could link them; the ``all`` scope is shown beside, so the cost of
leaving them out stays visible."""

RISK_CELLS = 8
"""Published cells listed among the biggest risks."""


def _verdict_table(ctx: ReportContext) -> pl.DataFrame | None:
    table, _ = pairwise_table(ctx)
    if table is None:
        return None
    scopes = table["scope"].unique().to_list() if "scope" in table.columns else ["all"]
    rows = []
    for scope in [s for s in (VERDICT_SCOPE, "all") if s in scopes]:
        part = table.filter(pl.col("scope") == scope) if "scope" in table.columns else table
        rows += [{"scope": scope, **v} for v in target_verdicts(part)]
    return pl.DataFrame(rows) if rows else None


def _targets_part(ctx: ReportContext, verdicts: pl.DataFrame | None) -> list[str]:
    reason = (ctx.summary or {}).get("threshold_reasoning") or "no reason was recorded."
    threshold = ctx.threshold
    parts = [
        "<h3>Targets and the records they apply to</h3>",
        f"<p>Precision of at least {pct(TARGETS['precision'])} and recall of at least "
        f"{pct(TARGETS['recall'])} (the Census 2021 targets, set in advance) for census-GP and "
        "census-DWP record pairs. They are judged on <strong>linkable</strong> records: "
        "wholly imputed census records carry no identifiers and are left unlinked by design; "
        "the scope <code>all</code> shows what that exclusion costs. A target is met only when "
        "the whole 95% Wilson interval clears it.</p>",
        "<h3>Threshold decision</h3>",
        "<p>Match probability threshold "
        f"{figure('verdict/threshold', threshold)}. Reason: {escape(reason)}</p>",
    ]
    if verdicts is None:
        parts.append("<p>No pass or fail can be given: the evaluation tables are absent.</p>")
        return parts
    parts += [
        "<h3>Pass or fail per target</h3>",
        figure_table(
            verdicts,
            key="verdict/targets",
            row_key=["scope", "pair", "metric"],
            formats={c: pct for c in ("value", "lower", "upper", "target")},
        ),
    ]
    return parts


def _correction_line(name: str, helped: int, cells: int, error: float, unweighted: float) -> str:
    verdict = (
        "it does <strong>not</strong> correct the selection: no better than chance"
        if helped <= cells / 2
        else "it moves toward the target more often than not"
    )
    return (
        f"{name} moves the estimate toward the target truth in {helped:,} of {cells:,} cells "
        f"({pct(helped / cells, 0)}): {verdict}; its mean absolute error is {points(error)} "
        f"points against {points(unweighted)} unweighted."
    )


def _risk_lines(summary: dict) -> list[str]:
    lines = [
        "Selection by design: the study population's truth differs from the target "
        f"population's by {points(summary['mean_abs_selection_pp'])} percentage points on "
        "average per cell, against "
        f"{points(summary['mean_abs_linkage_pp'])} for linkage error and a sampling "
        f"half-width of {points(summary['mean_sampling_pp'])}.",
        f"The target truth lies outside the linked 95% interval in "
        f"{summary['target_outside_ci']:,} of {summary['cells']:,} published cells.",
    ]
    for name, key in (
        ("Inverse-probability weighting (model of being in the linked population)", "ipw"),
        ("Calibration to the census margins (raking)", "calibrated"),
    ):
        cells = summary.get(f"{key}_cells") or 0
        if not cells:
            lines.append(f"{name}: not computed for this run.")
            continue
        lines.append(
            _correction_line(
                name,
                summary[f"{key}_moves_toward_target"],
                cells,
                summary[f"mean_abs_{key}_pp"],
                summary["mean_abs_total_pp"],
            )
        )
    return lines


def _risks_part(ctx: ReportContext) -> list[str]:
    summary = ctx.run.json("evaluation/target_summary.json")
    comparison = ctx.run.table("evaluation/target_comparison.parquet")
    if not summary or comparison is None or not summary.get("cells"):
        return [
            "<h3>Biggest risks to the published estimates</h3>",
            "<p>Not measured: the run has no target-population comparison "
            "(<code>evaluation/target_comparison.parquet</code> needs the truth and the "
            "published bias table).</p>",
        ]
    worst = (
        comparison.filter(pl.col("target_outside_ci"))
        .sort(pl.col("total_pp").abs(), descending=True)
        .select(
            "table",
            "group",
            "month",
            "target_asr",
            "study_asr",
            "linked_asr",
            "ipw_asr",
            "calibrated_asr",
            "selection_pp",
            "linkage_pp",
            "sampling_pp",
        )
        .head(RISK_CELLS)
    )
    items = "".join(f"<li>{line}</li>" for line in _risk_lines(summary))
    return [
        "<h3>Biggest risks to the published estimates</h3>",
        "<p>Against the truth of the target population (all usual residents aged 16-64 in "
        "England in each month, including people who never appear in a source or never "
        f"link):</p><ul>{items}</ul>",
        figure_table(
            worst,
            key="verdict/risks",
            row_key=["table", "group", "month"],
            formats={c: points for c in worst.columns if c.endswith(("_asr", "_pp"))},
            caption="Cells whose linked interval excludes the target truth, largest error first "
            "(percentages and percentage points)",
        ),
    ]


def _actions(ctx: ReportContext, verdicts: pl.DataFrame | None) -> list[str]:
    actions = []
    if verdicts is not None:
        failed = verdicts.filter((pl.col("scope") == VERDICT_SCOPE) & (pl.col("verdict") != "met"))
        for row in failed.iter_rows(named=True):
            actions.append(
                f"{row['pair']} {row['metric']} {row['verdict']} on linkable records: the "
                "published estimates carry this linkage error (section 12 measures its effect "
                "cell by cell); the threshold is not retuned on this truth."
            )
    summary = ctx.run.json("evaluation/target_summary.json") or {}
    if summary.get("cells"):
        actions.append(
            "Publish the estimates as describing the linked study population, not all "
            "residents; state the selection by design beside every table."
        )
        for name, key in (("inverse-probability", "ipw"), ("calibrated", "calibrated")):
            cells = summary.get(f"{key}_cells") or 0
            if cells and summary[f"{key}_moves_toward_target"] <= cells / 2:
                actions.append(
                    f"Do not present the {name} estimates as a correction toward the "
                    "population: they do not move toward the target truth more often than "
                    "chance."
                )
    if not actions:
        actions.append("No action: every target is met and no risk was measured.")
    return [
        "<h3>Actions</h3>",
        "<ul>" + "".join(f"<li>{escape(a)}</li>" for a in actions) + "</ul>",
    ]


def _validation_counts(ctx: ReportContext) -> dict[str, int] | None:
    """Suites, checks and failures recorded by the run's validation stages."""
    folder = ctx.run.path("validation/results")
    if not folder.is_dir():
        return None
    counts = {"suites": 0, "evaluated": 0, "critical": 0, "warning": 0}
    for path in sorted(folder.glob("*.json")):
        outcomes = (ctx.run.json(str(path.relative_to(ctx.run.run_dir))) or {}).get("outcomes", [])
        failed = [o for o in outcomes if not o.get("success")]
        counts["suites"] += 1
        counts["evaluated"] += len(outcomes)
        counts["critical"] += sum(o.get("severity") == "critical" for o in failed)
        counts["warning"] += sum(o.get("severity") == "warning" for o in failed)
    return counts


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _validation_link(ctx: ReportContext, in_run_folder: bool) -> str:
    """A link to the run's validation page where the report sits in the run folder and the
    page exists; otherwise its place named in words (no broken link, and a report built
    elsewhere is byte for byte the same)."""
    if in_run_folder and ctx.run.path("validation/index.html").is_file():
        return '<a href="../validation/index.html">validation page</a>'
    return "validation page (<code>validation/index.html</code> in the run folder)"


def _gates_part(ctx: ReportContext, in_run_folder: bool) -> list[str]:
    """What stopped the run (the validation page) and what this report only reports."""
    counts = _validation_counts(ctx)
    recorded = (
        "No validation results were recorded in this run folder."
        if counts is None
        else f"The run's Great Expectations suites ({counts['suites']:,}) evaluated "
        f"{counts['evaluated']:,} checks: {_count(counts['critical'], 'critical failure')} and "
        f"{_count(counts['warning'], 'warning')}."
    )
    link = _validation_link(ctx, in_run_folder)
    return [
        "<h3>What stopped the run, and what is only reported</h3>",
        f'<p id="gates">{recorded} A critical failure on the {link} '
        "stops the run; a warning is reported and the run goes on. Those checks need "
        "no truth: structure and values of the files, linkage rates above a floor, "
        "implausible links, disclosure control, the wording of the main points. The precision "
        "and recall targets above are <strong>not</strong> among them: they are judged on the "
        "synthetic truth and reported here, not gated. A target failed here beside an "
        "all-green validation page is therefore no contradiction: the run was fit to publish, "
        "and this section says how far its links fall short and what that does to the "
        "estimates.</p>",
    ]


def verdict_section(ctx: ReportContext, *, in_run_folder: bool = False) -> Section:
    """The verdict: targets and scope, threshold decision, pass or fail, gates, risks, actions.

    ``in_run_folder``: the report is written to the run's own ``report/`` folder, so the
    run's validation page can be linked relatively.
    """
    section = Section("verdict", "Verdict", (6, 7, 12))
    verdicts = _verdict_table(ctx)
    section.add(
        *_targets_part(ctx, verdicts),
        *_gates_part(ctx, in_run_folder),
        *_risks_part(ctx),
        *_actions(ctx, verdicts),
    )
    return section
