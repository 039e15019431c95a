"""Write a publication to disk: tidy tables, audit log, spreadsheet, charts, main points."""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

import reporting
from analysis.charts import CAPTION, SERIES, altair_series, write_png
from analysis.config import AnalysisConfig
from analysis.outputs import write_table
from analysis.results import Estimates, Publication
from analysis.spreadsheet import write_spreadsheet
from analysis.summary import main_points, main_points_markdown
from common.files import atomic_write, write_text

SPREADSHEET = "benefit_recipients_2019_2021.xlsx"


def _chart_sections(tables: dict[str, pl.DataFrame], names: tuple[str, ...]) -> list[str]:
    body = []
    for table in names:
        if table in tables:
            body.append(f"<h2>{html.escape(SERIES[table])}</h2>")
            body.append(
                reporting.altair_chart(altair_series(tables[table], table), f"chart-{table}")
            )
    return body


def _charts_page(tables: dict[str, pl.DataFrame], points: list[str]) -> str:
    body = [
        "<h1>Benefit receipt by month, every published breakdown</h1>",
        f'<p class="note">{html.escape(CAPTION)} The axis starts at zero so that the size of '
        "a change reads against the whole percentage.</p>",
        "<h2>Main points</h2>",
        "<ul>",
    ]
    body += [f"<li>{html.escape(p)}</li>" for p in points]
    body.append("</ul>")
    body += _chart_sections(tables, tuple(SERIES))
    return reporting.page(
        "Benefit recipients during the pandemic (synthetic data)",
        "\n".join(body),
        charts=True,
        subtitle="Published (disclosure-controlled) monthly age-standardised percentages",
    )


def write_publication(
    publication: Publication, estimates: Estimates, out_dir: Path, config: AnalysisConfig
) -> list[str]:
    """Write every output of the analysis stage under ``out_dir``; return the main points."""
    out_dir = Path(out_dir)
    for name, frame in publication.tables.items():
        write_table(frame, out_dir / "published", name)
    write_table(publication.audit, out_dir / "audit", "disclosure_audit")
    write_spreadsheet(
        out_dir / SPREADSHEET, publication.tables, monthly_tables=publication.monthly_tables
    )
    for table in SERIES:
        if table in publication.tables:
            write_png(out_dir / "charts" / f"{table}.png", publication.tables[table], table)
    points = main_points(publication.tables)
    flow = publication.tables["sample_flow"].filter(pl.col("estimate") == "linked")
    people = flow["people"][-1] if flow.height else None
    write_text(
        out_dir / "main_points.md",
        main_points_markdown(points, people=people, person_months=estimates.person_months),
    )
    reporting.write_page(out_dir / "charts.html", _charts_page(publication.tables, points))
    manifest = {
        "tables": sorted(publication.tables),
        "monthly_tables": list(publication.monthly_tables),
        "standard_population": config.standard_population,
        "main_points": points,
    }
    atomic_write(
        out_dir / "manifest.json",
        lambda tmp: tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8"),
    )
    return points
