"""Charts of every breakdown and the run's front page, drawn in headless Chromium offline."""

import json
from datetime import date

import polars as pl
import pytest

import reporting
from analysis.breakdowns import breakdown
from analysis.charts import ESTIMATES, SERIES, altair_series, write_png
from analysis.front_page import write_front_page
from analysis.publication import _charts_page

MONTHS = [date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)]


def _published(table: str) -> pl.DataFrame:
    """Two groups of a breakdown, three months, linked, truth, weighted and a threshold."""
    rows = []
    for group in breakdown(table).labels[:2]:
        for estimate, shift in (
            ("linked", 0.0),
            ("truth", 1.0),
            ("ipw", 0.5),
            ("threshold_0.5", 0.2),
        ):
            for k, month in enumerate(MONTHS):
                value = 13.0 + 4 * (k == 2) + shift
                rows.append(
                    {
                        "table": table,
                        "group": group,
                        "month": month,
                        "estimate": estimate,
                        "asr_pct": value,
                        "asr_lower": value - 1.2,
                        "asr_upper": value + 1.2,
                        "status": "published",
                    }
                )
    return pl.DataFrame(rows)


def test_chart_spec_has_bands_distinct_labelled_colours_and_a_zero_axis():
    spec = altair_series(_published("by_sex"), "by_sex").to_dict()
    layers = spec["spec"]["layer"]
    assert [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in layers
    ] == ["area", "line"]
    band = layers[0]["encoding"]
    assert band["y"]["field"] == "asr_lower" and band["y2"]["field"] == "asr_upper"
    colour = layers[0]["encoding"]["color"]["scale"]
    assert len(set(colour["range"])) == len(ESTIMATES) == len(set(colour["domain"]))
    assert all(layer["encoding"]["y"]["scale"]["zero"] is True for layer in layers)
    assert any("Synthetic data" in line for line in spec["title"]["subtitle"])
    data = next(iter(spec["datasets"].values()))
    # The threshold sensitivity estimate is not drawn: it has its own table.
    assert {row["estimate_label"] for row in data} == {label for label, _ in ESTIMATES.values()}


def test_every_breakdown_gets_a_png(tmp_path):
    for table in SERIES:
        path = write_png(tmp_path / f"{table}.png", _published(table), table)
        assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    run = tmp_path_factory.mktemp("front") / "run"
    published = run / "analysis" / "published"
    published.mkdir(parents=True)
    tables = {table: _published(table) for table in SERIES}
    for table, frame in tables.items():
        frame.write_parquet(published / f"{table}.parquet")
    points = ["The percentage rose from 13.0% to 17.0% (hand-made test point)."]
    (run / "analysis" / "manifest.json").write_text(
        json.dumps({"main_points": points, "standard_population": "esp2013"})
    )
    reporting.write_page(run / "analysis" / "charts.html", _charts_page(tables, points))
    (run / "analysis" / "benefit_recipients_2019_2021.xlsx").write_bytes(b"workbook")
    (run / "report").mkdir()
    (run / "report" / "index.html").write_text("<html></html>")
    return run


@pytest.mark.browser
def test_charts_page_draws_every_breakdown_offline(run_folder, chromium):
    page = (run_folder / "analysis" / "charts.html").read_text(encoding="utf-8")
    assert reporting.remote_references(page) == []
    dom = chromium.dom((run_folder / "analysis" / "charts.html").as_uri())
    assert dom.count('class="marks"') == len(SERIES)
    # Vega drew the bands: one area per group and drawn estimate (overall has one group).
    groups = sum(min(2, len(breakdown(table).labels)) for table in SERIES)
    assert dom.count('aria-roledescription="area mark"') == groups * len(ESTIMATES)


@pytest.mark.browser
def test_front_page_is_a_bulletin_that_opens_offline(run_folder, chromium):
    path = write_front_page(run_folder)
    assert path == run_folder / "index.html"
    page = path.read_text(encoding="utf-8")
    assert reporting.remote_references(page) == []
    dom = chromium.dom(path.as_uri())
    for heading in ("Main points", "Headline charts", "Things you need to know about this release"):
        assert f">{heading}</h2>" in dom
    assert "hand-made test point" in dom
    assert dom.count('class="marks"') == 3  # overall, IMD quintile and ethnic group drew
    assert 'href="analysis/benefit_recipients_2019_2021.xlsx"' in dom
    assert 'href="report/index.html"' in dom
    assert 'href="analysis/charts.html"' in dom
    # Validation reports were not written in this folder: said, not linked.
    assert 'href="validation/index.html"' not in dom
    assert "Validation reports (data quality gates): not produced in this run" in dom
