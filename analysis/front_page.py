"""The run folder's front page (``index.html``): a bulletin in the style of an ONS release.

Main points, the headline charts, the things a reader needs to know about this release and
links to the spreadsheet, every chart, the linkage quality report and the validation reports.
Self-contained (inline styles and Vega scripts), so it opens offline. The publish step calls
:func:`write_front_page` once every other output of the run exists.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

import reporting
from analysis.charts import CAPTION, HEADLINE_SERIES, SERIES, altair_series
from analysis.spreadsheet import STATUS

FRONT_PAGE = "index.html"
TITLE = (
    "Benefit recipients during the coronavirus (COVID-19) pandemic, England: "
    "November 2019 to March 2021 (synthetic data)"
)
#: What the page links to, relative to the run folder, in reading order.
LINKS = (
    ("analysis/benefit_recipients_2019_2021.xlsx", "Spreadsheet of every published table"),
    ("analysis/charts.html", "Charts of every breakdown, with 95% confidence intervals"),
    ("report/index.html", "Linkage quality report"),
    ("validation/index.html", "Validation reports (data quality gates)"),
    ("analysis/main_points.md", "Main points as text"),
    ("analysis/audit/disclosure_audit.csv", "Disclosure control audit: the rule for every cell"),
)
NEED_TO_KNOW = (
    f"Statistics status: {STATUS.lower()}. Every figure comes from a simulated population of "
    "England, built to test the methods; none describes real people.",
    "The figures reproduce the design of the ONS release of 6 December 2023 from linked "
    "synthetic 2011 Census, GP and DWP records, linked with Splink.",
    "Percentages are of people aged 16 to 64 receiving a working-age benefit in the month, "
    "age-standardised so that groups with different age structures can be compared.",
    "Each estimate is shown with its 95% confidence interval; a difference is called a change "
    "only when its interval excludes zero.",
    "Counts are rounded to the nearest 5; [c] marks values suppressed to protect "
    "confidentiality, [u] estimates of low reliability and [x] values not available.",
    "Because the data are synthetic, the linked estimates can be set beside the truth (perfect "
    "linkage); the linkage quality report says which figures linkage error could bias.",
)


def _main_points(run_dir: Path) -> tuple[list[str], str | None]:
    manifest = run_dir / "analysis" / "manifest.json"
    if not manifest.is_file():
        return [], None
    content = json.loads(manifest.read_text(encoding="utf-8"))
    return list(content.get("main_points", [])), content.get("standard_population")


def _headline_charts(run_dir: Path) -> list[str]:
    body = []
    for table in HEADLINE_SERIES:
        path = run_dir / "analysis" / "published" / f"{table}.parquet"
        if not path.is_file():
            continue
        body.append(f"<h3>{html.escape(SERIES[table])}</h3>")
        chart = altair_series(pl.read_parquet(path), table)
        body.append(reporting.altair_chart(chart, f"headline-{table}"))
    return body


def _links(run_dir: Path) -> list[str]:
    items = []
    for relative, description in LINKS:
        if (run_dir / relative).is_file():
            items.append(
                f'<li><a href="{html.escape(relative)}">{html.escape(description)}</a></li>'
            )
        else:
            items.append(f"<li>{html.escape(description)}: not produced in this run</li>")
    return ["<ul>", *items, "</ul>"]


def front_page(run_dir: Path) -> str:
    """The bulletin page of a run folder, as one self-contained HTML document."""
    run_dir = Path(run_dir)
    points, standard = _main_points(run_dir)
    body = [f"<p><strong>{html.escape(STATUS)}.</strong> Run {html.escape(run_dir.name)}.</p>"]
    body.append("<h2>Main points</h2>")
    if points:
        body += ["<ul>", *(f"<li>{html.escape(p)}</li>" for p in points), "</ul>"]
    else:
        body.append(
            "<p>The analysis was not produced in this run, so there are no main points.</p>"
        )
    if standard:
        body.append(f'<p class="note">Standard population: {html.escape(str(standard))}.</p>')
    body.append("<h2>Headline charts</h2>")
    body.append(f'<p class="note">{html.escape(CAPTION)}</p>')
    body += _headline_charts(run_dir)
    body.append("<h2>Things you need to know about this release</h2>")
    body += ["<ul>", *(f"<li>{html.escape(t)}</li>" for t in NEED_TO_KNOW), "</ul>"]
    body.append("<h2>Data, charts and reports</h2>")
    body += _links(run_dir)
    return reporting.page(TITLE, "\n".join(body), charts=True, subtitle=STATUS)


def write_front_page(run_dir: Path) -> Path:
    """Write ``run_dir/index.html`` (atomically) and return its path."""
    run_dir = Path(run_dir)
    return reporting.write_page(run_dir / FRONT_PAGE, front_page(run_dir))
