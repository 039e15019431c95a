"""Sections 7-10: headline metrics, true against operational, validation, rates by group."""

from __future__ import annotations

import polars as pl

from evaluation import spine as spine_metrics
from evaluation.groups import BREAKDOWNS, order_of
from quality_report import charts, operational, validation
from quality_report.context import TARGETS, ReportContext
from quality_report.document import Section, card, escape, figure, figure_table, pct
from quality_report.world_realism import world_part

RATE_FORMATS = {
    c: pct
    for c in (
        "precision",
        "precision_lower",
        "precision_upper",
        "recall",
        "recall_lower",
        "recall_upper",
        "f1",
        "linkage_rate",
        "linkage_rate_lower",
        "linkage_rate_upper",
        "false_link_rate",
        "false_link_rate_lower",
        "false_link_rate_upper",
        "reviewed_match_rate",
        "reviewed_match_rate_lower",
        "reviewed_match_rate_upper",
        "mean_probability",
    )
}


def pairwise_table(ctx: ReportContext) -> tuple[pl.DataFrame | None, str]:
    """Pairwise metrics as the evaluation stage wrote them (the report computes none)."""
    table = ctx.evaluation("pairwise")
    return table, ("linkage/evaluation/pairwise.parquet" if table is not None else "")


def target_verdicts(everyone: pl.DataFrame) -> list[dict]:
    """Per census pair and target metric: the value, its interval, the target and the verdict.

    A target is met only when the whole 95% interval clears it; a point estimate above the
    target with an interval reaching below it is ``not shown`` rather than a pass.
    """
    rows = []
    for pair in ("census-gp", "census-dwp"):
        hit = everyone.filter(pl.col("source_pair") == pair)
        if not hit.height:
            continue
        row = hit.row(0, named=True)
        for metric in ("precision", "recall"):
            value, lower = row[metric], row[f"{metric}_lower"]
            target = TARGETS[metric]
            verdict = _verdict(value, lower, target)
            rows.append(
                {
                    "pair": pair,
                    "metric": metric,
                    "value": value,
                    "lower": lower,
                    "upper": row[f"{metric}_upper"],
                    "target": target,
                    "verdict": verdict,
                }
            )
    return rows


def _verdict(value: float | None, lower: float | None, target: float) -> str:
    if value is None or lower is None:
        return "not measured"
    if lower >= target:
        return "met"
    return "not met" if value < target else "not shown (interval reaches below)"


def _badge(verdict: str) -> str:
    kind = "pass" if verdict == "met" else "fail"
    return f'<span class="badge {kind}">{escape(verdict)}</span>'


def _pairwise_cards(table: pl.DataFrame, scoped: bool, origin: str) -> list[str]:
    everyone = table.filter(pl.col("scope") == "all") if scoped else table
    verdicts = target_verdicts(everyone)
    cards = [
        card(
            f"{v['pair']} {v['metric']}",
            f"headline/{v['pair']}/{v['metric']}",
            v["value"],
            pct,
            note=f"95% CI {pct(v['lower'])} to {pct(v['upper'])}; target {pct(v['target'])}",
        )
        for v in verdicts
    ]
    badges = "".join(
        f"<li>{escape(v['pair'])} {escape(v['metric'])}: {_badge(v['verdict'])}</li>"
        for v in verdicts
    )
    scope_note = (
        " Scope <code>all</code> counts every true pair; <code>linkable</code> leaves "
        "out records the linkage excludes by design (wholly imputed census records)."
        if scoped
        else ""
    )
    return [
        f'<div class="summary">{"".join(cards)}</div>',
        f"<ul>{badges}</ul>" if badges else "",
        f'<p class="note">Source: {escape(origin)}. Pairwise counts: two records linked '
        "when they share a spine cluster, truly matched when they share a true person. "
        "Rows <code>gp-gp</code> and <code>dwp-dwp</code> are deduplication. Wilson 95% "
        f"intervals.{scope_note}</p>",
        figure_table(
            table,
            key="pairwise",
            row_key=["scope", "source_pair"] if scoped else ["source_pair"],
            formats=RATE_FORMATS,
        ),
        _dedupe_list(everyone),
    ]


def _dedupe_list(everyone: pl.DataFrame) -> str:
    dedupe = everyone.filter(pl.col("source_pair").is_in(["gp-gp", "dwp-dwp"]))
    if not dedupe.height:
        return ""
    items = "".join(
        f"<li>{escape(r['source_pair'])}: precision "
        f"{figure('dedupe/' + r['source_pair'] + '/precision', r['precision'], pct)}, "
        f"recall {figure('dedupe/' + r['source_pair'] + '/recall', r['recall'], pct)}</li>"
        for r in dedupe.iter_rows(named=True)
    )
    return f"<h3>Deduplication</h3><ul>{items}</ul>"


def _linkage_rate_part(ctx: ReportContext) -> list[str]:
    if ctx.rates is None:
        return []
    overall = ctx.rates.filter(pl.col("breakdown") == "all").select(
        "target",
        "census_records",
        "linked",
        "linkage_rate",
        "linkage_rate_lower",
        "linkage_rate_upper",
    )
    return [
        "<h3>Linkage rate per source pair</h3>",
        "<p>Share of census records whose spine cluster holds a record of the target source.</p>",
        figure_table(overall, key="linkage_rate", row_key=["target"], formats=RATE_FORMATS),
    ]


def _cluster_part(ctx: ReportContext, section: Section) -> list[str]:
    parts = []
    if ctx.members is not None:
        sizes = spine_metrics.cluster_sizes(ctx.members)
        parts += [
            "<h3>Cluster sizes</h3>",
            charts.cluster_size_chart(sizes, "cluster-sizes"),
            figure_table(sizes, key="cluster_sizes", row_key=["size"]),
        ]
    clusters = ctx.evaluation("clusters")
    if clusters is not None:
        parts += [
            "<h3>Cluster-level metrics</h3>",
            figure_table(clusters, key="clusters", row_key=["metric"]),
        ]
    elif ctx.spine is not None:
        section.missing("linkage/evaluation/clusters.parquet", "cluster-level metrics are absent.")
    return parts


def headline_section(ctx: ReportContext) -> Section:
    """Checklist item 7: linkage rates, precision and recall with CIs, deduplication
    precision, cluster sizes."""
    section = Section("headline", "7. Headline metrics", (7,))
    table, origin = pairwise_table(ctx)
    if table is None:
        section.missing(
            "linkage/evaluation/pairwise.parquet",
            "precision and recall cannot be shown (no spine or no truth).",
        )
    else:
        section.add(*_pairwise_cards(table, "scope" in table.columns, origin))
    section.add(*_linkage_rate_part(ctx), *_cluster_part(ctx, section))
    return section


def operational_section(ctx: ReportContext) -> Section:
    """Checklist item 8: true metrics beside operational estimates; clerical review."""
    section = Section("operational", "8. True metrics beside operational estimates", (8,))
    labelled, totals = ctx.labelled_predictions, ctx.true_pair_total
    if ctx.predictions is None:
        section.missing("linkage/predictions.parquet", "operational estimates cannot be made.")
        return section
    if labelled is None or totals is None or ctx.threshold is None:
        section.missing(
            "truth/record_map.parquet or linkage/linkage_summary.json",
            "the true figures (and the threshold) needed beside the estimates are absent.",
        )
        return section
    thresholds = sorted(
        {ctx.threshold, *[c["threshold"] for c in ctx.summary.get("threshold_candidates", [])]}
    )
    table = operational.expected_vs_true(labelled, thresholds)
    chosen = table.filter(pl.col("threshold") == ctx.threshold).row(0, named=True)
    # Every true pair, all source pairs together, from the same spine and truth as above.
    pairwise, _ = pairwise_table(ctx)
    if pairwise is None:
        section.missing("linkage/evaluation/pairwise.parquet", "missed pairs cannot be counted.")
        return section
    if "scope" in pairwise.columns:
        pairwise = pairwise.filter(pl.col("scope") == "all")
    row = pairwise.filter(pl.col("source_pair") == "all").row(0, named=True)
    missed = int(row["true_pairs"] - row["true_positive"])
    unscored = operational.missed_unscored(labelled, ctx.members, missed)
    section.add(
        "<p>At the threshold, the model expects "
        f"{figure('operational/expected_false_above', chosen['expected_false_above'])} false "
        f"matches among the {figure('operational/pairs_above', chosen['pairs_above'])} scored "
        "pairs it accepts; the truth shows "
        f"{figure('operational/true_false_above', chosen['true_false_above'])}. It expects "
        f"{figure('operational/expected_missed_below', chosen['expected_missed_below'])} "
        "missed matches among the scored pairs below the threshold; the truth shows "
        f"{figure('operational/true_missed_below', chosen['true_missed_below'])}. Reading "
        "(rule: a count departs from the model only beyond two standard deviations of the sum "
        "of the pairs' Bernoulli variances): false links "
        f"{escape(chosen['false_above_verdict'])}; missed links "
        f"{escape(chosen['missed_below_verdict'])}. After "
        f"clustering, {figure('operational/missed_pairs', missed)} true pairs sit in different "
        f"clusters, of which {figure('operational/missed_unscored', unscored)} were never scored "
        "(no blocking rule brought them together, or they fell below the saved-prediction "
        "floor): no model-based estimate can see those.</p>",
        '<p class="note">Pairwise, before clustering: clustering can add links by '
        "transitivity and refuse links that would join two census records.</p>",
        figure_table(table, key="operational", row_key=["threshold"]),
    )
    sample = operational.clerical_sample(labelled, per_band=ctx.clerical_per_band, seed=ctx.seed)
    summary = operational.clerical_summary(sample, labelled)
    section.add(
        "<h3>Clerical-review sample, stratified by match-weight band</h3>",
        f"<p>Up to {ctx.clerical_per_band} pairs per band, drawn with seed {ctx.seed}; the "
        "synthetic "
        "truth gives each pair's verdict. Size rule: a band decides only when the Wilson "
        "95% interval of its reviewed match rate is at most 20 points wide "
        "(<code>pairs_needed</code> gives the pairs that takes at the model's rate; about 96 "
        "at 50%). A decided band whose interval excludes the model's mean probability shows "
        "the model's probabilities are off there; an undecided band shows nothing either "
        "way, however far apart the two rates look.</p>",
        charts.clerical_chart(summary, "clerical-review"),
        figure_table(summary, key="clerical", row_key=["band"], formats=RATE_FORMATS),
    )
    section.add(_sample_pairs(ctx, sample))
    return section


def _sample_pairs(ctx: ReportContext, sample: pl.DataFrame) -> str:
    """The reviewed pairs; identifiers side by side unless the report is redacted."""
    shown = sample.select(
        "band",
        "source_l",
        "record_id_l",
        "source_r",
        "record_id_r",
        "match_weight",
        "match_probability",
        "is_match",
    ).head(60)
    if ctx.redact:
        note = (
            '<p class="note">Redacted: identifiers of the reviewed pairs are not shown; '
            "record ids only.</p>"
        )
        return (
            "<details><summary>Reviewed pairs</summary>"
            + note
            + figure_table(shown, key="clerical/pairs", row_key=["record_id_l", "record_id_r"])
            + "</details>"
        )
    records = ctx.run.table("linkage/records.parquet")
    if records is not None:
        cols = [
            c for c in ("forename", "surname", "date_of_birth", "postcode") if c in records.columns
        ]
        side = records.select("source", "record_id", *cols).with_columns(
            [pl.col(c).cast(pl.Utf8) for c in cols]
        )
        for s in ("l", "r"):
            shown = shown.join(
                side.rename(
                    {
                        "source": f"source_{s}",
                        "record_id": f"record_id_{s}",
                        **{c: f"{c}_{s}" for c in cols},
                    }
                ),
                on=[f"source_{s}", f"record_id_{s}"],
                how="left",
            )
    return (
        "<details><summary>Reviewed pairs with their standardised identifiers</summary>"
        + figure_table(shown, key="clerical/pairs", row_key=["record_id_l", "record_id_r"])
        + "</details>"
    )


def validation_section(ctx: ReportContext) -> Section:
    """Checklist item 9: implausible links found without the truth."""
    section = Section("validation", "9. Post-linkage validation", (9,))
    if ctx.checks is None:
        section.missing("linkage/spine.parquet", "post-linkage checks need the spine.")
        return section
    counts = validation.validation_counts(ctx.checks, ctx.composition if ctx.has_truth else None)
    section.add(
        "<p>Checks an analyst can run on real data, counted in spine clusters. "
        + (
            "<code>truly_wrong</code> counts the flagged clusters that really hold more than "
            "one person (from the synthetic truth); the rest are recording errors within one "
            "person's records."
            if ctx.has_truth
            else ""
        )
        + "</p>",
        figure_table(counts, key="validation", row_key=["rule"]),
    )
    if ctx.run.source("dwp_spells") is None:
        section.missing("sources/dwp_benefit_spells.parquet", "benefit timing checks were not run.")
    return section


def _cross(ctx: ReportContext, target: str) -> pl.DataFrame | None:
    cells = ctx.evaluation("lowest_recall")
    if cells is None:
        return None
    return cells.filter(pl.col("target") == target).drop("target")


GROUPS_INTRODUCTION = (
    "<p>For census records, by the true attributes of the person: the linkage rate (share "
    "linked to any record of the target source), recall (share of linkable records whose "
    "person has a record there that were linked to it) and the false-link rate (share of "
    "linked records joined to another person's record). A group's shortfall is split in "
    "the table: <code>unlinkable_by_design</code> counts records the linkage leaves out "
    "on purpose (wholly imputed census records, whose person may well have a record in "
    "the target), <code>missed</code> the links the model failed to make among the "
    "others. Recall is over linkable records only, so it measures the model, not census "
    "imputation. Bars are Wilson 95% intervals.</p>"
)


def groups_section(ctx: ReportContext) -> Section:
    """Checklist item 10: linkage and error rates by ethnicity, IMD, age, sex and region."""
    section = Section("groups", "10. Linkage and error rates by subgroup", (10,))
    if ctx.rates is None:
        section.missing(
            "linkage/spine.parquet and truth/", "rates by subgroup need the spine and the truth."
        )
        return section
    section.add(GROUPS_INTRODUCTION)
    for breakdown in BREAKDOWNS:
        section.add(*_rates_by(ctx.rates.filter(pl.col("breakdown") == breakdown), breakdown))
    for target in ("gp", "dwp"):
        _add_lowest_recall_cells(section, _cross(ctx, target), target)
    _add_pairwise_by_group(section, ctx.evaluation("by_group"))
    world_part(section, ctx.evaluation("world_shares"))
    return section


def _rates_by(part: pl.DataFrame, breakdown: str) -> tuple[str, ...]:
    """The linkage rate and recall charts of one breakdown, with their table."""
    order = order_of(breakdown)
    label = breakdown.replace("_", " ")
    return (
        f"<h3>By {escape(label)}</h3>",
        charts.rate_by_group(
            part,
            value="linkage_rate",
            title=f"Linkage rate by {label}",
            element_id=f"rate-{breakdown}",
            order=order,
        ),
        charts.rate_by_group(
            part,
            value="recall",
            title=f"Recall by {label}",
            element_id=f"recall-{breakdown}",
            order=order,
        ),
        "<details><summary>Table</summary>"
        + figure_table(
            part.drop("breakdown"),
            key=f"rates/{breakdown}",
            row_key=["target", "group"],
            formats=RATE_FORMATS,
            max_rows=1000,
        )
        + "</details>",
    )


def _add_lowest_recall_cells(section: Section, cross: pl.DataFrame | None, target: str) -> None:
    """The ethnic group by IMD quintile cells with the lowest recall to ``target``."""
    if cross is None or not cross.height:
        return
    section.add(
        f"<h3>Lowest recall to {target.upper()}: ethnic group by IMD quintile</h3>",
        figure_table(
            cross,
            key=f"cross/{target}",
            row_key=["ethnic_group", "imd_quintile"],
            formats=RATE_FORMATS,
            caption="Cells with at least 10 true links",
        ),
    )


def _add_pairwise_by_group(section: Section, by_group: pl.DataFrame | None) -> None:
    """Pairwise precision and recall by subgroup, as the linkage stage evaluated them."""
    if by_group is None:
        section.missing(
            "linkage/evaluation/by_group.parquet",
            "pairwise precision and recall by subgroup from the linkage stage are absent.",
        )
        return
    if not by_group.height:
        return
    # Same groups and labels as the rates above (evaluation.groups): nothing to patch.
    shown = by_group.filter(pl.col("source_pair").is_in(["census-gp", "census-dwp"]))
    section.add(
        "<h3>Pairwise precision and recall by subgroup (linkage evaluation)</h3>",
        "<details><summary>Table</summary>"
        + figure_table(
            shown,
            key="by_group",
            row_key=[
                c for c in ("scope", "dimension", "group", "source_pair") if c in shown.columns
            ],
            formats=RATE_FORMATS,
            max_rows=2000,
        )
        + "</details>",
    )
