"""What a finished run tells its user: log lines, the Prefect artifacts and the closing
message. Only counts and rates: no personal data leaves the run folder through here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

_LOGGABLE = (int, float, str, bool)


def stage_log_line(stage: str, summary: dict[str, Any]) -> str:
    """One log line of a stage's scalar figures (counts, timings, thresholds)."""
    figures = []
    for key, value in summary.items():
        if key in {"key", "out_dir", "report"} or not isinstance(value, _LOGGABLE):
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        figures.append(f"{key}={shown}")
    if "report" in summary:
        # A page is the stage's product: name it inside the run folder, not its full path.
        figures.append("wrote " + "/".join(Path(str(summary["report"])).parts[-2:]))
    return f"Stage {stage} finished: " + (", ".join(figures) or "nothing to report")


def run_summary_markdown(run_dir: Path, summaries: dict[str, dict[str, Any]]) -> str:
    """The markdown run summary: records per source, linkage quality, the main points."""
    lines = [f"# Run `{run_dir.name}`", "", f"Outputs: `{run_dir}`", "", "## Records per source"]
    records = summaries.get("generate", {}).get("records", {})
    lines += ["", "| extract | records |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in records.items()]
    pairwise = run_dir / "linkage" / "evaluation" / "pairwise.parquet"
    if pairwise.exists():
        lines += ["", "## Linkage quality against the truth", ""]
        lines += ["| source pair | precision | recall | F1 |", "|---|---:|---:|---:|"]
        # "all" scores every true pair, the measure; "linkable" leaves out records
        # that carry too little to link (described in the quality report).
        rows = pl.read_parquet(pairwise).filter(pl.col("scope") == "all")
        for row in rows.iter_rows(named=True):
            lines.append(
                f"| {row['source_pair']} | {row['precision']:.4%} | {row['recall']:.4%} | "
                f"{row['f1']:.4%} |"
            )
    main_points = summaries.get("analyse", {}).get("main_points", [])
    if main_points:
        lines += ["", "## Main points", ""] + [f"- {point}" for point in main_points]
    return "\n".join(lines) + "\n"


def run_summary_tables(run_dir: Path) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Table artifacts: linkage rate by ethnic group and IMD quintile, the headline table."""
    tables: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    by_group = run_dir / "linkage" / "evaluation" / "by_group.parquet"
    if by_group.exists():
        frame = pl.read_parquet(by_group).filter(
            (pl.col("scope") == "all") & pl.col("source_pair").is_in(["census-gp", "census-dwp"])
        )
        for dimension in ("ethnic_group", "imd_quintile"):
            rows = frame.filter(pl.col("dimension") == dimension).select(
                "group", "source_pair", "true_pairs", "precision", "recall"
            )
            if rows.height:
                tables[f"linkage-by-{dimension.replace('_', '-')}"] = (
                    f"Linkage precision and recall by {dimension.replace('_', ' ')}",
                    rows.fill_nan(None).to_dicts(),
                )
    overall = run_dir / "analysis" / "published" / "overall.parquet"
    if overall.exists():
        headline = (
            pl.read_parquet(overall)
            .filter(pl.col("estimate").is_in(["linked", "truth"]))
            .select(
                "month", "estimate", "people", "recipients", "asr_pct", "asr_lower", "asr_upper"
            )
            .with_columns(pl.col("month").cast(pl.String))
        )
        tables["headline-table"] = (
            "Headline: age-standardised % of people aged 16-64 receiving a benefit, by month",
            headline.to_dicts(),
        )
    return tables


def run_report_links(run_dir: Path) -> dict[str, tuple[str, Path]]:
    """Link artifacts to the HTML reports of a run."""
    candidates = {
        "front-page": ("Front page (start here)", run_dir / "index.html"),
        "linkage-quality-report": ("Linkage quality report", run_dir / "report" / "index.html"),
        "validation-reports": ("Validation reports", run_dir / "validation" / "index.html"),
        "study-charts": ("Study charts", run_dir / "analysis" / "charts.html"),
    }
    return {key: value for key, value in candidates.items() if value[1].exists()}
