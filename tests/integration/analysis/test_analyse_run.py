"""The analysis stage end to end on the tiny run folder: every output, the published schema,
disclosure control, and the CLI."""

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

import reporting
from analysis import AnalysisConfig, analyse_run
from analysis.charts import SERIES
from tests.unit.analysis.conftest import write_run
from triangulate.cli import app

MONTHLY_SCHEMA = {
    "table": pl.String,
    "breakdown": pl.String,
    "group": pl.String,
    "month": pl.Date,
    "estimate": pl.String,
    "people": pl.Int64,
    "recipients": pl.Int64,
    "crude_pct": pl.Float64,
    "asr_pct": pl.Float64,
    "asr_lower": pl.Float64,
    "asr_upper": pl.Float64,
    "low_reliability": pl.Boolean,
    "status": pl.String,
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    run = write_run(tmp_path_factory.mktemp("analyse") / "run")
    spine = run / "linkage" / "spine.parquet"
    summary = analyse_run(
        run, run / "analysis", AnalysisConfig(), threshold_spines={0.5: spine, 0.9: spine}
    )
    return run / "analysis", summary


def test_monthly_tables_follow_the_contract(analysed):
    out, summary = analysed
    assert summary["people"] == 3 and summary["person_months"] == 38
    monthly = [
        "overall",
        "by_imd_quintile",
        "by_imd_decile",
        "by_ethnic_group",
        "by_ethnic_group_5",
        "by_sex",
        "by_age_band",
        "by_region",
        "by_disability",
        "by_condition",
        "by_benefit",
    ]
    for name in monthly:
        frame = pl.read_parquet(out / "published" / f"{name}.parquet")
        assert dict(frame.schema) == MONTHLY_SCHEMA, name
        assert (out / "published" / f"{name}.csv").is_file()
        assert set(frame["table"]) == {name}
    overall = pl.read_parquet(out / "published" / "overall.parquet")
    assert set(overall["estimate"]) == {"linked", "truth", "ipw", "threshold_0.5", "threshold_0.9"}
    assert overall["month"].min().isoformat() == "2019-11-01"
    assert overall["month"].max().isoformat() == "2021-03-01"


def test_three_people_are_never_published(analysed):
    out, _ = analysed
    for path in (out / "published").glob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in ("people", "recipients", "removed", "linked"):
            if column in frame.columns:
                values = frame[column].drop_nulls().to_list()
                # A flow table's zero ("nobody removed") is published: it reveals nobody.
                allowed_zero = column == "removed"
                assert all((v >= 10 and v % 5 == 0) or (allowed_zero and v == 0) for v in values), (
                    path.name,
                    column,
                )
    overall = pl.read_parquet(out / "published" / "overall.parquet")
    assert set(overall["status"]) == {"[c]"}
    assert overall["asr_pct"].null_count() == overall.height


def test_audit_log_names_a_rule_for_every_cell(analysed):
    out, _ = analysed
    audit = pl.read_parquet(out / "audit" / "disclosure_audit.parquet")
    overall = pl.read_parquet(out / "published" / "overall.parquet")
    people = audit.filter((pl.col("table") == "overall") & (pl.col("measure") == "people"))
    assert people.height == overall.height
    assert set(people["rule"]) == {"count_below_min"}
    assert audit["rule"].null_count() == 0


def test_spreadsheet_charts_and_main_points(analysed):
    out, summary = analysed
    workbook = openpyxl.load_workbook(out / "benefit_recipients_2019_2021.xlsx", read_only=True)
    assert workbook.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    assert len(workbook.sheetnames) > 10
    for name in SERIES:
        assert (out / "charts" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "charts.html").read_text(encoding="utf-8")
    assert reporting.remote_references(page) == []
    assert "vegaEmbed" in page
    assert (out / "main_points.md").read_text(encoding="utf-8").count("\n- ") == len(
        summary["main_points"]
    )


def test_cli_analyses_an_existing_run(tmp_path):
    run = write_run(tmp_path / "run")
    result = CliRunner().invoke(
        app,
        ["analyse", str(run), "--demo", "--spine-at", f"0.8={run / 'linkage' / 'spine.parquet'}"],
    )
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    assert (run / "analysis_inputs" / "spines" / "threshold_0.8.parquet").is_file()
    overall = pl.read_parquet(run / "analysis" / "published" / "overall.parquet")
    assert "threshold_0.8" in set(overall["estimate"])


def test_cli_reports_a_broken_spine(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "linkage" / "spine.parquet").unlink()
    result = CliRunner().invoke(app, ["analyse", str(run), "--demo"])
    assert result.exit_code == 2
    assert "spine.parquet: file not found" in result.output
    assert not (run / "analysis_inputs").exists() and not (run / "analysis").exists()


def test_same_inputs_give_identical_tables(analysed, tmp_path):
    out, _ = analysed
    run = out.parent
    again = tmp_path / "again"
    spine = run / "linkage" / "spine.parquet"
    analyse_run(run, again, AnalysisConfig(), threshold_spines={0.5: spine, 0.9: spine})
    for path in sorted((out / "published").glob("*.csv")):
        assert (again / "published" / path.name).read_bytes() == path.read_bytes(), path.name
    audit = "audit/disclosure_audit.csv"
    assert (again / audit).read_bytes() == (out / audit).read_bytes()


def test_run_without_truth_publishes_linked_estimates_only(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "truth" / "record_map.parquet").unlink()
    summary = analyse_run(run, run / "analysis", AnalysisConfig())
    assert "bias" not in summary["tables"]
    overall = pl.read_parquet(run / "analysis" / "published" / "overall.parquet")
    assert set(overall["estimate"]) == {"linked", "ipw"}


@pytest.mark.browser
def test_charts_page_draws_offline(analysed, chromium):
    out, _ = analysed
    dom = chromium.dom((out / "charts.html").as_uri())
    # A chart for every published breakdown drew from the inlined Vega scripts, offline.
    assert dom.count('class="marks"') == len(SERIES)
