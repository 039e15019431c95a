"""Stage entry points on the tiny contract world: reports, summaries, errors, quarantine."""

import datetime as dt

import polars as pl
import pytest

from expectations import ValidationFailed, validate_linkage, validate_published, validate_sources
from expectations.config import ExpectationsConfig
from reporting import remote_references
from tests.unit.expectations import tiny_world as w

CONFIG = ExpectationsConfig(min_group_records=1)


@pytest.fixture
def run(tmp_path):
    return w.write_run(tmp_path / "run")


def test_every_stage_passes_and_writes_offline_reports(run):
    out = run / "validation"
    sources = validate_sources(run / "sources", out, CONFIG, people=w.PEOPLE)
    linkage = validate_linkage(run / "linkage", run / "sources", out, CONFIG)
    published = validate_published(run / "analysis", out, CONFIG)
    for summary in (sources, linkage, published):
        assert summary["failed_critical"] == 0 and summary["evaluated"] > 10
        assert summary["report"] == str(out / "index.html")
    assert set(sources["suites"]) == set(w.SOURCES)
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == sorted(
        [
            "index.html",
            *(f"{s}.html" for s in w.SOURCES),
            "linkage.html",
            "published.rates.html",
            "published_substance.html",
        ]
    )
    for page in out.glob("*.html"):
        assert remote_references(page.read_text(encoding="utf-8")) == []
    linkage_page = (out / "linkage.html").read_text(encoding="utf-8")
    assert "Linkage rates of census records" in linkage_page


def test_critical_failure_raises_with_ids_not_identifiers(run):
    frame = w.gp_registrations()
    good = frame["nhs_number"][1]
    bad = good[:9] + str((int(good[9]) + 3) % 10)
    frame.with_columns(
        pl.when(pl.col("gp_record_id") == "G000000002")
        .then(pl.lit(bad))
        .otherwise(pl.col("nhs_number"))
        .alias("nhs_number"),
        # Two births after the extract: one alone is tolerated as a mistyped year.
        pl.when(pl.col("gp_record_id").is_in(["G000000004", "G000000005"]))
        .then(dt.date(2030, 5, 17))
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth"),
    ).write_parquet(run / "sources" / "gp_registrations.parquet")
    with pytest.raises(ValidationFailed) as info:
        validate_sources(run / "sources", run / "validation", CONFIG, people=w.PEOPLE)
    message = str(info.value)
    assert "nhs_number_mod11" in message and "date_of_birth_not_in_future" in message
    assert "G000000002" in message and "G000000004" in message
    assert bad not in message and "2030-05-17" not in message
    assert len(info.value.failures) == 2
    # The report is written before the error is raised.
    page = (run / "validation" / "gp_registrations.html").read_text(encoding="utf-8")
    assert "nhs_number_mod11" in page and bad not in page


def test_warnings_do_not_stop_the_run(run):
    w.census().with_columns(pl.lit("XX").alias("postcode")).write_parquet(
        run / "sources" / "census.parquet"
    )
    summary = validate_sources(run / "sources", run / "validation", CONFIG, people=w.PEOPLE)
    assert summary["failed_critical"] == 0
    assert summary["failed_warning"] == 1
    assert summary["suites"]["census"]["failed_warning"] == 1


def test_quarantine_writes_failing_rows_with_reasons(run):
    spells = w.dwp_benefit_spells()
    spells.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("D999999999"))
        .otherwise(pl.col("dwp_master_key"))
        .alias("dwp_master_key"),
        pl.when(pl.int_range(pl.len()).is_in([2, 5]))
        .then(pl.lit("XYZ"))
        .otherwise(pl.col("benefit"))
        .alias("benefit"),
    ).write_parquet(run / "sources" / "dwp_benefit_spells.parquet")
    config = CONFIG.model_copy(update={"quarantine": True})
    with pytest.raises(ValidationFailed):
        validate_sources(run / "sources", run / "validation", config, people=w.PEOPLE)
    quarantined = pl.read_parquet(run / "validation" / "quarantine" / "dwp_benefit_spells.parquet")
    assert quarantined.height == 2
    reasons = dict(zip(quarantined["dwp_master_key"], quarantined["reason"], strict=True))
    assert reasons["D999999999"] == "benefit_code; dwp_master_key_in_dwp_customers"
    assert set(reasons.values()) == {
        "benefit_code; dwp_master_key_in_dwp_customers",
        "benefit_code",
    }
    assert not (run / "validation" / "quarantine" / "census.parquet").exists()


def test_linkage_stage_reports_a_missing_column_as_a_failure(run):
    w.census().drop("ethnic_group").write_parquet(run / "sources" / "census.parquet")
    with pytest.raises(ValidationFailed) as info:
        validate_linkage(run / "linkage", run / "sources", run / "validation", CONFIG)
    assert "rates_inputs" in str(info.value)
    assert "ethnic_group" in str(info.value)


def test_published_rate_tables_validated_together_and_others_by_columns(run):
    published = run / "analysis" / "published"
    w.published_rates().with_columns(
        pl.lit("by_age_band").alias("table"),
        pl.when(pl.int_range(pl.len()) == 2)
        .then(7)
        .otherwise(pl.col("recipients"))
        .alias("recipients"),
    ).write_parquet(published / "by_age_band.parquet")
    pl.DataFrame(
        {"step": [1, 2], "criterion": ["a", "b"], "people": [1000, 995]},
        schema={"step": pl.Int32, "criterion": pl.String, "people": pl.Int64},
    ).write_parquet(published / "sample_flow.parquet")
    with pytest.raises(ValidationFailed) as info:
        validate_published(run / "analysis", run / "validation", CONFIG)
    # Row 2 is Male, December 2019 (rows alternate Male / Female by month); 7 is both below
    # 10 and not a multiple of 5.
    assert len(info.value.failures) == 2
    message = str(info.value)
    assert "recipients_at_least_10" in message and "recipients_multiple_of_5" in message
    assert message.count("by_age_band/sex/Male/2019-12-01") == 2
    index = (run / "validation" / "index.html").read_text(encoding="utf-8")
    assert "published.rates" in index and "published.sample_flow" in index
    assert "by_age_band.parquet, by_sex.parquet" in index
