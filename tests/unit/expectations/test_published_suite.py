import polars as pl
import pytest

from expectations.config import ExpectationsConfig
from expectations.runner import run_suite
from expectations.suites import published_other_suite, published_rates_suite
from tests.unit.expectations import tiny_world as w
from tests.unit.expectations.helpers import failed

CONFIG = ExpectationsConfig()


def _run(frame):
    return run_suite(published_rates_suite(CONFIG), {"published": frame})


def _first_row(column, value):
    return w.published_rates().with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )


def test_published_suite_passes_on_contract_data():
    assert failed(_run(w.published_rates())) == set()


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("asr_pct", 101.0, {"asr_pct_in_0_100", "asr_pct_not_above_asr_upper"}),
        ("asr_lower", 14.5, {"asr_lower_not_above_asr_pct"}),
        ("recipients", 5, {"recipients_at_least_10"}),
        ("people", 1002, {"people_multiple_of_5"}),
        ("status", "draft", {"status_code"}),
    ],
)
def test_range_and_disclosure_rules(column, value, expected):
    assert failed(_run(_first_row(column, value))) == expected


def test_suppressed_row_must_not_show_numerator_and_should_not_show_denominator():
    frame = w.published_rates().with_columns(
        pl.when(pl.col("status") == "[c]").then(15).otherwise(pl.col(c)).alias(c)
        for c in ("people", "recipients")
    )
    result = _run(frame)
    assert failed(result, "critical") == {"recipients_null_when_suppressed"}
    assert failed(result, "warning") == {"people_null_when_suppressed"}


def test_schema_extra_column():
    frame = w.published_rates().with_columns(pl.lit(1).alias("extra"))
    assert failed(_run(frame)) == {"published_columns"}


def test_other_tables_get_count_and_interval_rules():
    frame = pl.DataFrame(
        {
            "group": ["a", "b"],
            "people": [10, 7],
            "change_pct": [1.0, 2.0],
            "change_pct_lower": [0.5, 2.5],
            "change_pct_upper": [1.5, 3.0],
        }
    )
    suite = published_other_suite(frame.schema, CONFIG)
    assert failed(run_suite(suite, {"published": frame})) == {
        "people_at_least_10",
        "people_multiple_of_5",
        "change_pct_lower_not_above_change_pct",
    }


def test_other_table_rules_follow_column_names():
    schema = {
        "estimate": pl.String,
        "step": pl.Int32,
        "people": pl.Int64,
        "linked_pct": pl.Float64,
        "linked_lower": pl.Float64,
        "linked_upper": pl.Float64,
        "value": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "bias_pp": pl.Float64,
    }
    names = {c.name for c in published_other_suite(schema, CONFIG).parts[0].checks}
    assert names == {
        "people_at_least_10",
        "people_multiple_of_5",
        "linked_pct_in_0_100",
        "linked_lower_not_above_linked_pct",
        "linked_pct_not_above_linked_upper",
        "lower_not_above_value",
        "value_not_above_upper",
    }


def test_flow_zero_removed_passes_but_a_small_removal_fails():
    frame = pl.DataFrame(
        {"step": [1, 2, 3], "people": [100, 100, 95], "removed": [0, 0, 5]},
        schema_overrides={"step": pl.Int32},  # an ordinal, not a count
    )
    suite = published_other_suite(frame.schema, CONFIG)
    # 0 ("nobody removed") is published; 5 is below 10 and fails; people stay strict.
    assert failed(run_suite(suite, {"published": frame})) == {"removed_at_least_10"}
    clean = frame.with_columns(pl.Series("removed", [0, 0, 10]))
    assert failed(run_suite(suite, {"published": clean})) == set()
