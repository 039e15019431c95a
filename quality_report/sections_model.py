"""Sections 4-6: the method, the model's diagnostics, and the threshold."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl

from evaluation.linkage import pairwise_metrics
from quality_report import charts, operational, splink_charts
from quality_report.context import TARGETS, ReportContext, weight_of
from quality_report.document import Section, escape, figure, figure_table, number, pct
from reporting import altair_chart


def _levels(model: dict[str, Any]) -> pl.DataFrame:
    rows = []
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name", "")
        for i, level in enumerate(comparison.get("comparison_levels", [])):
            m, u = level.get("m_probability"), level.get("u_probability")
            null = bool(level.get("is_null_level", False))
            weight = math.log2(m / u) if (m and u and not null) else None
            rows.append(
                {
                    "comparison": name,
                    "level": i,
                    "label": level.get("label_for_charts", ""),
                    "condition": level.get("sql_condition", ""),
                    "tf_adjusted": level.get("tf_adjustment_column") is not None,
                    "m_probability": None if null else m,
                    "u_probability": None if null else u,
                    "match_weight": weight,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "comparison": pl.Utf8,
            "level": pl.Int64,
            "label": pl.Utf8,
            "condition": pl.Utf8,
            "tf_adjusted": pl.Boolean,
            "m_probability": pl.Float64,
            "u_probability": pl.Float64,
            "match_weight": pl.Float64,
        },
    )


def _blocking_rules(model: dict[str, Any]) -> list[str]:
    rules = []
    for rule in model.get("blocking_rules_to_generate_predictions", []):
        rules.append(rule["blocking_rule"] if isinstance(rule, dict) else str(rule))
    return rules


def method_section(ctx: ReportContext) -> Section:
    """Checklist item 4: matchkeys, comparisons and levels, term frequencies, blocking
    rules with blocking recall, and the training route."""
    section = Section("method", "4. Linkage method", (4,))
    model = ctx.model
    if model is None:
        section.missing("linkage/model.json", "the model cannot be described.")
        return section
    _add_model_overview(section, model)
    _add_matchkey(section, ctx.summary)
    _add_comparisons(section, _levels(model))
    _add_blocking_rules(section, _blocking_rules(model), ctx.evaluation("blocking_recall"))
    section.add("<h3>Training route</h3>")
    if ctx.summary is None:
        section.missing("linkage/linkage_summary.json", "the training route cannot be shown.")
        return section
    training = ctx.summary.get("training", {})
    _add_training_route(section, training, ctx.summary.get("config", {}))
    if training.get("household"):
        _add_household_evidence(section, training["household"])
    return section


def _add_model_overview(section: Section, model: dict[str, Any]) -> None:
    prior = model.get("probability_two_random_records_match")
    section.add(
        f"<p>Splink {escape(model.get('link_type', ''))} model over all records stacked "
        f"(census, GP and DWP), records of the census never compared with each other. "
        f"Prior probability that two random records match: {figure('model/prior', prior)}."
        "</p>"
    )


def _add_matchkey(section: Section, summary: dict[str, Any] | None) -> None:
    """Stage 1: the deterministic matchkey, and how many links it and Splink made."""
    try:
        from linkage import model as spec

        keys = ", ".join(spec.DETERMINISTIC_KEYS)
        section.add(
            "<h3>Matchkey (stage 1)</h3>",
            f"<p>Records whose standardised {escape(keys)} are all present and all equal "
            "are joined before Splink scores anything (unless they disagree on sex or hold "
            "two census records).</p>",
        )
    except ImportError:
        section.missing("linkage/model.py", "the deterministic matchkey cannot be listed.")
    if summary is not None:
        section.add(
            "<p>Deterministic links: "
            f"{figure('summary/deterministic_links', summary.get('deterministic_links'))}; "
            "pairs scored by Splink: "
            f"{figure('summary/scored_pairs', summary.get('scored_pairs'))}.</p>"
        )


def _add_comparisons(section: Section, levels: pl.DataFrame) -> None:
    """Every comparison's levels with their m, u and weight, and each level's SQL."""
    tf = sorted(set(levels.filter(pl.col("tf_adjusted")).get_column("comparison").to_list()))
    section.add(
        "<h3>Comparisons and levels</h3>",
        f"<p>Term-frequency adjusted comparisons: {escape(', '.join(tf) or 'none')} "
        "(frequencies from a population table of distinct people, not the stacked inputs).</p>",
        figure_table(
            levels.drop("condition"),
            key="model/levels",
            row_key=["comparison", "level"],
            formats={"m_probability": number, "u_probability": number, "match_weight": number},
            max_rows=500,
        ),
        "<details><summary>SQL condition of each level</summary>"
        + figure_table(
            levels.select("comparison", "level", "condition"),
            key="model/sql",
            row_key=["comparison", "level"],
            max_rows=500,
        )
        + "</details>",
    )


def _add_blocking_rules(section: Section, rules: list[str], recall: pl.DataFrame | None) -> None:
    """The blocking rules, with each rule's recall alone and the recall per source pair."""
    rule_rows = [{"rule": f"rule_{i + 1}", "blocking rule": r} for i, r in enumerate(rules)]
    section.add("<h3>Blocking rules</h3>")
    if recall is None:
        section.add(figure_table(pl.DataFrame(rule_rows), key="model/blocking", row_key=["rule"]))
        section.missing(
            "linkage/evaluation/blocking_recall.parquet", "blocking recall cannot be shown."
        )
        return
    section.add(
        "<p>Blocking recall is the share of true pairs that at least one rule (or the "
        "matchkey) brings together; a pair no rule brings together can never be linked.</p>",
        figure_table(
            _recall_of_each_rule(rule_rows, recall),
            key="model/blocking",
            row_key=["rule"],
            formats={"recall_alone": pct},
        ),
        figure_table(
            recall.select(
                "source_pair",
                "true_pairs",
                "blocked_pairs",
                pl.col("recall_any_rule").alias("blocking_recall"),
                "recall_lower",
                "recall_upper",
            ),
            key="blocking_recall",
            row_key=["source_pair"],
            formats={"blocking_recall": pct, "recall_lower": pct, "recall_upper": pct},
            caption="Blocking recall per source pair, with Wilson 95% limits",
        ),
    )


def _recall_of_each_rule(rule_rows: list[dict[str, str]], recall: pl.DataFrame) -> pl.DataFrame:
    """The matchkey and each blocking rule with the share of true pairs it alone brings
    together, over all source pairs."""
    overall = recall.filter(pl.col("source_pair") == "all")
    rows = []
    for row in [{"rule": "exact_keys", "blocking rule": "stage 1 matchkey"}, *rule_rows]:
        column = f"recall_{row['rule']}"
        value = overall.get_column(column).item() if column in overall.columns else None
        rows.append({**row, "recall_alone": value})
    return pl.DataFrame(
        rows, schema={"rule": pl.Utf8, "blocking rule": pl.Utf8, "recall_alone": pl.Float64}
    )


def _add_training_route(section: Section, training: dict[str, Any], config: dict[str, Any]) -> None:
    """How the m and u probabilities were estimated, or which saved model was reused."""
    if "em_sessions" not in training:
        section.add(
            f"<p>The model was not trained in this run: it was loaded from "
            f"<code>{escape(training.get('reused_model'))}</code>.</p>"
        )
        return
    section.add(
        "<ol><li>Prior estimated from deterministic rules with an assumed recall: "
        f"{figure('training/prior', training.get('prior'))}.</li>"
        "<li>u probabilities by random sampling of "
        f"{figure('training/u_max_pairs', config.get('u_max_pairs'))} pairs "
        f"(seed {figure('training/seed', config.get('seed'))}).</li>"
        "<li>m probabilities by expectation maximisation, one session per training "
        "blocking rule; each session leaves the comparisons it blocks on untrained, "
        "and convergence is checked, not only logged.</li></ol>",
        figure_table(
            pl.DataFrame(training["em_sessions"]),
            key="training/sessions",
            row_key=["blocking_rule"],
        ),
    )


def _add_household_evidence(section: Section, household: dict[str, Any]) -> None:
    """The household rescoring after prediction: its m, u and the weights it adds."""
    section.add(
        "<p>Household evidence: after prediction, each census-GP and census-DWP pair was "
        "rescored by whether the census record's household members are linked (at "
        f"{figure('training/household/anchor_probability', household['anchor_probability'])}"
        ") at the candidate's postcode; its m "
        f"({figure('training/household/m', household['m'])}) and u "
        f"({figure('training/household/u', household['u'])}) were estimated from the "
        "scored pairs, so agreement adds "
        f"{figure('training/household/agree_weight', household['agree_weight'])} to the "
        "match weight and disagreement "
        f"{figure('training/household/disagree_weight', household['disagree_weight'])} "
        f"({figure('training/household/pairs', household['pairs_with_information'])} pairs "
        "carried household information).</p>"
    )


def diagnostics_section(ctx: ReportContext, out_dir: Path) -> Section:
    """Checklist item 5: match weights chart, m/u chart, parameter stability."""
    section = Section("diagnostics", "5. Model diagnostics", (5,))
    charts_dir = ctx.run.path("linkage/charts")
    if not charts_dir.is_dir():
        section.missing("linkage/charts/", "Splink's diagnostic charts cannot be shown.")
        return section
    found = splink_charts.collect(charts_dir, out_dir / "splink", redact=ctx.redact)
    for entry in found:
        section.add(f"<h3>{escape(entry['title'])}</h3>")
        if entry["withheld"]:
            section.add(
                '<p class="note">Withheld from this redacted report: the chart may show '
                "record values.</p>"
            )
            continue
        if entry["spec"] is not None:
            section.add(altair_chart(entry["spec"], f"splink-{entry['name']}"))
        section.add(f'<p><a href="{escape(entry["file"])}">Open Splink\'s saved chart</a></p>')
    if not found:
        section.missing("linkage/charts/*.html", "no chart was saved by the linkage stage.")
    return section


def _spines_at(ctx: ReportContext, thresholds: list[float]) -> dict[float, pl.DataFrame] | None:
    """The spine at each threshold: the run's own spine at the run's threshold (rebuilding
    it could miss a rule the linkage applied), the others rebuilt from the saved
    predictions in one clustering pass."""
    spines = {}
    if ctx.threshold in thresholds and ctx.spine is not None:
        spines[ctx.threshold] = ctx.spine
    others = [t for t in thresholds if t not in spines]
    if others:
        try:
            from linkage import spines_at_thresholds
        except ImportError:
            return None
        spines |= spines_at_thresholds(ctx.run.path("linkage"), others)
    return spines


def rebuild_thresholds(ctx: ReportContext, candidates: list[float]) -> list[float]:
    """Thresholds at which the spine is rebuilt to measure its true precision and recall.

    Rebuilding costs a clustering each, so only the run's threshold and those at which the
    analysis recomputes the published tables (``analysis.thresholds`` of the run
    configuration) are rebuilt; without that setting, every candidate is.
    """
    analysis = (ctx.run.config or {}).get("analysis") or {}
    chosen = analysis.get("thresholds")
    if not chosen:
        return sorted(candidates)
    return sorted({float(t) for t in chosen} | ({ctx.threshold} if ctx.threshold else set()))


def threshold_curve(ctx: ReportContext) -> pl.DataFrame | None:
    """Pairwise precision and recall of scored pairs against a match-weight threshold.

    A pair counts as linked when its weight is at or above the threshold (deterministic
    links always are); recall is over every true pair, scored or not.
    """
    labelled = ctx.labelled_predictions
    totals = ctx.true_pair_total
    if labelled is None or totals is None:
        return None
    true_pairs = int(totals.get_column("pairs").sum())
    weights = labelled.get_column("match_weight")
    finite = weights.filter(weights.is_finite())
    if finite.len() == 0:
        return None
    low, high = math.floor(finite.min()), math.ceil(finite.max())
    rows = []
    for w in range(max(low, -10), min(high, 40) + 1):
        above = labelled.filter(pl.col("match_weight") >= w)
        tp = int(above.get_column("is_match").sum())
        rows.append(
            {
                "match_weight": float(w),
                "metric": "precision",
                "value": tp / above.height if above.height else None,
            }
        )
        rows.append(
            {
                "match_weight": float(w),
                "metric": "recall",
                "value": tp / true_pairs if true_pairs else None,
            }
        )
    return pl.DataFrame(rows).drop_nulls("value")


def threshold_section(ctx: ReportContext) -> Section:
    """Checklist item 6: threshold rationale against the targets, precision-recall trade-off."""
    section = Section("threshold", "6. Threshold and the precision-recall trade-off", (6,))
    section.add(
        f"<p>Targets set in advance (Census 2021): precision at least "
        f"{figure('targets/precision', TARGETS['precision'], pct)} and recall at least "
        f"{figure('targets/recall', TARGETS['recall'], pct)}.</p>"
    )
    if ctx.summary is None:
        section.missing(
            "linkage/linkage_summary.json", "the threshold and its reasoning are absent."
        )
        return section
    section.add(_threshold_choice(ctx))
    candidates = pl.DataFrame(ctx.summary.get("threshold_candidates", []))
    if candidates.height and ctx.has_truth and ctx.run.has("linkage/records.parquet"):
        true_table = _true_at_candidates(ctx, candidates.get_column("threshold").to_list())
        if true_table is not None:
            ctx.notes["threshold_true"] = true_table
            allrows = true_table.filter(pl.col("source_pair") == "all").drop("source_pair")
            candidates = candidates.join(allrows, on="threshold", how="left")
            section.add(
                "<h3>True precision and recall of the spine rebuilt at the run's threshold and "
                "at the thresholds of the published sensitivity analysis</h3>",
                figure_table(
                    true_table,
                    key="threshold/true",
                    row_key=["threshold", "source_pair"],
                    formats={"true_precision": pct, "true_recall": pct},
                ),
            )
    if candidates.height:
        fmt = {c: pct for c in candidates.columns if "precision" in c or "recall" in c or "f1" in c}
        section.add(
            "<h3>Candidates considered (model-expected, as if the truth were unknown)</h3>",
            figure_table(
                candidates, key="threshold/candidates", row_key=["threshold"], formats=fmt
            ),
        )
    section.add(_false_links_against_truth(ctx))
    _add_threshold_curve(section, ctx)
    return section


def _threshold_choice(ctx: ReportContext) -> str:
    """The rule that chose the threshold, the value and the model-expected figures there."""
    t = ctx.threshold
    summary = ctx.summary or {}
    expected = summary.get("threshold_expected") or {}
    html = (
        f"<p>Threshold: match probability {figure('threshold/probability', t)} "
        f"(match weight {figure('threshold/weight', weight_of(t) if t is not None else None)}),"
        f" chosen by: {escape(summary.get('threshold_rule', 'no rule was recorded'))}.</p>"
        f"<blockquote>{escape(summary.get('threshold_reasoning', ''))}</blockquote>"
    )
    if expected:
        html += (
            "<p>There the model expects, over the links clustering accepts, precision "
            f"{figure('threshold/expected/precision', expected['expected_precision'], pct)}, "
            f"recall {figure('threshold/expected/recall', expected['expected_recall'], pct)} "
            f"and F1 {figure('threshold/expected/f1', expected['expected_f1'], pct)}: "
            f"{figure('threshold/expected/false_links', expected['expected_false_links'])} "
            "false links among "
            f"{figure('threshold/expected/links', expected['links'])}. No truth enters "
            "this choice; on real data it is all there is.</p>"
        )
    return html


def _true_at_candidates(ctx: ReportContext, thresholds: list[float]) -> pl.DataFrame | None:
    """True precision and recall per source pair of the spine rebuilt at each threshold."""
    spines = _spines_at(ctx, rebuild_thresholds(ctx, thresholds))
    if spines is None:
        return None
    rows = []
    for cand, spine in sorted(spines.items()):
        true = pairwise_metrics(spine, ctx.record_map)[0]
        for pair in ("census-gp", "census-dwp", "all"):
            hit = true.filter(pl.col("source_pair") == pair)
            if hit.height:
                r = hit.row(0, named=True)
                rows.append(
                    {
                        "threshold": cand,
                        "source_pair": pair,
                        "true_precision": r["precision"],
                        "true_recall": r["recall"],
                        "meets_targets": bool(
                            r["precision"] >= TARGETS["precision"]
                            and r["recall"] >= TARGETS["recall"]
                        ),
                    }
                )
    return pl.DataFrame(rows) if rows else None


def _false_links_against_truth(ctx: ReportContext) -> str:
    """The model's expected false links beside the true ones, by where they arise."""
    labelled, t = ctx.labelled_predictions, ctx.threshold
    if labelled is None or ctx.members is None or t is None:
        return ""
    origins = operational.false_link_origins(labelled, ctx.members, t)
    scored, refused, exact, splink, transitive, everything = origins.iter_rows(named=True)

    def fig(row: dict[str, Any], column: str) -> str:
        return figure(f"threshold/false_links/{row['origin']}/{column}", row[column])

    return (
        "<h3>Expected false links beside the true ones, by where they arise</h3>"
        f"<p>Among the scored pairs at or above the threshold the model expects "
        f"{fig(scored, 'expected_false')} false ones; the truth finds {fig(scored, 'true_false')}"
        f". Clustering refused {fig(refused, 'true_false')} of those (the model expected "
        f"{fig(refused, 'expected_false')} among the pairs it refused): the model scores each "
        "pair on its own and cannot see that a record already has a better partner (a "
        "second census record or a second person number would join the cluster), which "
        "clustering can. Among the links clustering accepted the model expects "
        f"{fig(splink, 'expected_false')} false ones; the truth finds "
        f"{fig(splink, 'true_false')}: a link that survived that competition is likelier "
        "right than its pairwise probability says, since the model's m and u are fitted to "
        "every scored pair. The deterministic pass made "
        f"{fig(exact, 'true_false')} false links (it counts them as certain). Records "
        "joined only through other records add "
        f"{fig(transitive, 'true_false')} false pairs the model never weighed as pairs, "
        f"so it has no expectation for them; in all, clusters hold "
        f"{fig(everything, 'true_false')} false pairs.</p>"
        + figure_table(origins, key="threshold/false_links/table", row_key=["origin"])
    )


def _add_threshold_curve(section: Section, ctx: ReportContext) -> None:
    """The pairwise precision-recall curve against the threshold, or why it is absent."""
    t = ctx.threshold
    curve = threshold_curve(ctx)
    if curve is None:
        section.missing(
            "linkage/predictions.parquet or truth/record_map.parquet",
            "the precision-recall curve against the threshold cannot be drawn.",
        )
        return
    section.add(
        "<p>Pairwise precision and recall of the scored pairs as the threshold moves "
        "(before clustering); dashed lines are the targets, the black line the threshold "
        "chosen. This recall is <em>not</em> the recall the targets apply to: it counts "
        "every true pair of every source pair (deduplication pairs within GP and DWP "
        "included), pairs of wholly imputed census records, which are unlinkable by "
        "design, and true pairs no blocking rule brought together, and it is measured "
        "before clustering adds links by transitivity. It shows how the trade-off moves "
        "with the threshold; the targets are judged in the verdict on census pairs of "
        "linkable records after clustering.</p>",
        charts.precision_recall_threshold(
            curve,
            threshold=weight_of(t) if t is not None and 0 < t < 1 else None,
            targets=TARGETS,
            element_id="precision-recall-threshold",
        ),
    )
