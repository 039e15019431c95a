import polars as pl
from typer.testing import CliRunner

from reporting import remote_references
from tests.unit.expectations import tiny_world as w
from triangulate.cli import app

runner = CliRunner()


def test_list_suites():
    result = runner.invoke(app, ["validate", "--list-suites"])
    assert result.exit_code == 0
    assert result.output.split() == [
        "census",
        "gp_registrations",
        "gp_conditions",
        "dwp_customers",
        "dwp_benefit_spells",
        "linkage",
        "published",
    ]


def test_valid_parquet_passes_and_writes_report(tmp_path):
    path = tmp_path / "customers.parquet"
    w.dwp_customers().write_parquet(path)
    result = runner.invoke(
        app, ["validate", str(path), "--suite", "dwp_customers", "--out", str(tmp_path / "v")]
    )
    assert result.exit_code == 0, result.output
    assert "passed" in result.output
    index = (tmp_path / "v" / "index.html").read_text(encoding="utf-8")
    assert "dwp_customers" in index and remote_references(index) == []


def test_csv_with_contract_types_passes(tmp_path):
    path = tmp_path / "census.csv"
    w.census().write_csv(path)
    result = runner.invoke(app, ["validate", str(path), "--suite", "census"])
    assert result.exit_code == 0, result.output


def test_critical_failure_exits_non_zero_listing_the_expectation(tmp_path):
    path = tmp_path / "census.csv"
    frame = w.census().with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("99"))
        .otherwise(pl.col("ethnic_group"))
        .alias("ethnic_group"),
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("not a date"))
        .otherwise(pl.col("date_of_birth").cast(pl.String))
        .alias("date_of_birth"),
    )
    frame.write_csv(path)
    result = runner.invoke(app, ["validate", str(path), "--suite", "census"])
    assert result.exit_code == 1
    assert "ethnic_group_code" in result.output and "C000000004" in result.output
    # An unparseable date keeps the column as text, so the type expectation reports it.
    assert "date_of_birth_type" in result.output


def test_unknown_suite_and_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "x.csv"), "--suite", "nope"])
    assert result.exit_code == 2 and "valid suites are" in result.output
    result = runner.invoke(app, ["validate", str(tmp_path / "x.csv"), "--suite", "census"])
    assert result.exit_code == 2 and "File not found" in result.output
