"""Sections 13 and 14: explaining individual decisions, and cluster quality assurance."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from quality_report import cluster_graph
from quality_report.context import ReportContext, weight_of
from quality_report.document import Section, escape, figure, figure_table, pct
from reporting import altair_chart

logger = logging.getLogger(__name__)

SHOWN_CLUSTERS = 10
"""Clusters listed in each cluster-QA table."""


def _closest(frame: pl.DataFrame, weight: float) -> pl.DataFrame:
    return (
        frame.with_columns((pl.col("match_weight") - weight).abs().alias("_d"))
        .sort("_d", "record_id_l", "record_id_r")
        .head(1)
        .drop("_d")
    )


def explained_pairs(ctx: ReportContext) -> pl.DataFrame | None:
    """One typical accepted pair, one typical rejected pair and the pair nearest the
    threshold, from the scored (non-deterministic) predictions."""
    pred, t = ctx.predictions, ctx.threshold
    if pred is None or t is None:
        return None
    scored = pred.filter(pl.col("match_weight").is_finite())
    w = weight_of(t)
    parts = []
    accepted = scored.filter(pl.col("match_probability") >= t)
    rejected = scored.filter(pl.col("match_probability") < t)
    if accepted.height:
        parts.append(
            _closest(accepted, accepted.get_column("match_weight").median()).with_columns(
                pl.lit("accepted").alias("kind")
            )
        )
    if rejected.height:
        parts.append(
            _closest(rejected, rejected.get_column("match_weight").median()).with_columns(
                pl.lit("rejected").alias("kind")
            )
        )
    if scored.height:
        parts.append(_closest(scored, w).with_columns(pl.lit("borderline").alias("kind")))
    return pl.concat(parts) if parts else None


def _qa_tables(ctx: ReportContext) -> dict[str, pl.DataFrame] | None:
    if "cluster_qa" in ctx.notes:
        return ctx.notes["cluster_qa"]
    out = None
    if ctx.composition is not None and ctx.predictions is not None and ctx.threshold is not None:
        edges = cluster_graph.cluster_edges(ctx.predictions, ctx.members, ctx.threshold)
        density = cluster_graph.cluster_density(edges, ctx.composition)
        bridges = cluster_graph.bridge_edges(edges)
        keep = [c for c in density.columns if c != "true_people" or ctx.has_truth]
        out = {
            "largest": density.select(keep)
            .sort(["size", "cluster_id"], descending=[True, False])
            .head(SHOWN_CLUSTERS),
            "sparsest": density.select(keep)
            .filter(pl.col("size") >= 3)
            .sort(["density", "size", "cluster_id"], descending=[False, True, False])
            .head(SHOWN_CLUSTERS),
            "bridges": bridges,
            "actionable": cluster_graph.actionable_bridges(bridges, edges, ctx.record_attributes),
            "refused": cluster_graph.refused_links(edges),
            "census_clash": ctx.composition.filter(pl.col("n_census") > 1)
            if "n_census" in ctx.composition.columns
            else ctx.composition.head(0),
        }
    ctx.notes["cluster_qa"] = out
    return out


def _per_source_items(ctx: ReportContext) -> str:
    """Clusters holding several records of a source with duplicates, and any beyond the
    linkage's per-source limit (which its clustering should make impossible)."""
    composition = ctx.composition
    limit = ((ctx.summary or {}).get("config") or {}).get("max_records_per_source")
    items = []
    for source in ("gp", "dwp"):
        column = f"n_{source}"
        if composition is None or column not in composition.columns:
            continue
        several = composition.filter(pl.col(column) > 1).height
        items.append(
            f"<li>Clusters holding more than one {source.upper()} record (duplicates resolved "
            f"into one person): {figure(f'clusters/duplicates/{source}', several)}</li>"
        )
        if limit is not None:
            over = composition.filter(pl.col(column) > int(limit)).height
            items.append(
                f"<li>Clusters over the limit of {int(limit)} {source.upper()} records per "
                f"person: {figure(f'clusters/over_limit/{source}', over)}</li>"
            )
    return "".join(items)


def explain_section(ctx: ReportContext, out_dir: Path) -> Section:
    """Checklist item 13: waterfall charts for accepted, rejected and borderline pairs,
    and Splink's comparison viewer."""
    section = Section("explain", "13. Explaining individual decisions", (13,))
    pairs = explained_pairs(ctx)
    if pairs is None or not ctx.run.has("linkage/records.parquet") or ctx.model is None:
        section.missing(
            "linkage/predictions.parquet, records.parquet or model.json",
            "waterfall charts and the comparison viewer need the scored pairs and the model.",
        )
        return section
    qa = _qa_tables(ctx) or {}
    clusters = []
    for name in ("largest", "sparsest"):
        if name in qa:
            clusters += qa[name].get_column("cluster_id").head(5).to_list()
    try:
        from quality_report.splink_views import build_views

        views = build_views(
            ctx.run.path("linkage"),
            out_dir,
            pairs=pairs,
            cluster_ids=list(dict.fromkeys(clusters)),
            spine=ctx.spine,
            redact=ctx.redact,
        )
    except ImportError as exc:
        section.missing("linkage package", f"Splink views cannot be drawn ({exc}).")
        return section
    ctx.notes["views"] = views
    section.add(
        "<p>Each bar is one comparison's contribution (log2 Bayes factor) to the pair's match "
        "weight, starting from the prior."
        + (" Record values are removed from these redacted charts." if ctx.redact else "")
        + "</p>",
        figure_table(
            pairs.select(
                "kind",
                "source_l",
                "record_id_l",
                "source_r",
                "record_id_r",
                "match_weight",
                "match_probability",
            ),
            key="explain/pairs",
            row_key=["kind"],
        ),
    )
    for kind, spec in views.waterfalls:
        section.add(
            f"<h3>{escape(kind.capitalize())} pair</h3>", altair_chart(spec, f"waterfall-{kind}")
        )
    if views.comparison_viewer:
        section.add(
            f'<p><a href="{views.comparison_viewer}">Splink comparison viewer</a>: every '
            "comparison pattern among the shown records, with examples.</p>"
        )
    elif ctx.redact:
        section.add(
            '<p class="note">The comparison viewer is not written for a redacted '
            "report: it shows record values.</p>"
        )
    return section


def clusters_section(ctx: ReportContext) -> Section:
    """Checklist item 14: largest and lowest-density clusters, bridges, one-per-source
    violations; Splink's cluster studio."""
    section = Section("clusters", "14. Cluster quality assurance", (14,))
    qa = _qa_tables(ctx)
    if qa is None:
        section.missing(
            "linkage/spine.parquet, predictions.parquet or linkage_summary.json",
            "cluster QA needs the spine, the scored pairs and the threshold.",
        )
        return section
    bridges, refused, clash = qa["bridges"], qa["refused"], qa["census_clash"]
    actionable = qa["actionable"]
    section.add(
        "<p>Edges are scored pairs at or above the threshold. Density is edges over possible "
        "pairs in the cluster; a bridge is an edge whose removal would split its cluster. "
        "Most bridges chain one person's own records and need no action; a bridge is listed "
        "for review when the two parts it holds together share no date of birth or no sex "
        "(as the records give them), so that it may join two people.</p>",
        "<ul>"
        "<li>Bridges to review (the parts they join disagree on date of birth or sex): "
        f"{figure('clusters/actionable_bridges', actionable.height)} in "
        f"{figure('clusters/actionable_clusters', actionable.select('cluster_id').n_unique())}"
        f" clusters, of {figure('clusters/bridges', bridges.height)} bridges in clusters of "
        "three or more records</li>"
        f"<li>Links at or above the threshold refused by clustering (they would have joined two "
        f"census records): {figure('clusters/refused', refused.height)}</li>"
        f"<li>One-per-source violations (clusters with more than one census record): "
        f"{figure('clusters/census_clash', clash.height)}</li>" + _per_source_items(ctx) + "</ul>",
        "<h3>Largest clusters</h3>",
        figure_table(
            qa["largest"], key="clusters/largest", row_key=["cluster_id"], formats={"density": pct}
        ),
        "<h3>Lowest-density clusters (three or more records)</h3>",
        figure_table(
            qa["sparsest"],
            key="clusters/sparsest",
            row_key=["cluster_id"],
            formats={"density": pct},
        ),
        "<h3>Bridges to review, weakest first</h3>",
        figure_table(
            actionable.head(SHOWN_CLUSTERS),
            key="clusters/bridge_edges",
            row_key=["record_l", "record_r"],
        ),
    )
    views = ctx.notes.get("views")
    if views is not None and views.cluster_studio:
        section.add(
            f'<p><a href="{views.cluster_studio}">Splink cluster studio</a>: the largest and '
            "lowest-density clusters drawn as graphs.</p>"
        )
    elif ctx.redact:
        section.add(
            '<p class="note">Cluster studio is not written for a redacted report: it '
            "shows record values.</p>"
        )
    return section
