"""What a finished run tells its user: log lines, the Prefect artifacts and the closing
message. Only counts and rates: no personal data leaves the run folder through here."""

from __future__ import annotations

import json
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
    return f"Stage {stage} finished: " + (", ".join(figures) or "no figures")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


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
        for row in pl.read_parquet(pairwise).iter_rows(named=True):
            lines.append(
                f"| {row['pair']} | {row['precision']:.4%} | {row['recall']:.4%} | "
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
        frame = pl.read_parquet(by_group)
        for dimension in ("ethnic_group", "imd_quintile"):
            rows = frame.filter(pl.col("dimension") == dimension)
            if rows.height:
                tables[f"linkage-by-{dimension.replace('_', '-')}"] = (
                    f"Linkage quality by {dimension.replace('_', ' ')}",
                    rows.to_dicts(),
                )
    headline = run_dir / "analysis" / "published" / "headline.parquet"
    if headline.exists():
        tables["headline-table"] = (
            "Headline: age-standardised % receiving a benefit, by month",
            pl.read_parquet(headline).with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts(),
        )
    return tables


def run_report_links(run_dir: Path) -> dict[str, tuple[str, Path]]:
    """Link artifacts to the HTML reports of a run."""
    candidates = {
        "linkage-quality-report": ("Linkage quality report", run_dir / "report" / "index.html"),
        "validation-reports": ("Validation reports", run_dir / "validation" / "index.html"),
        "study-charts": ("Study charts", run_dir / "analysis" / "charts.html"),
    }
    return {key: value for key, value in candidates.items() if value[1].exists()}
